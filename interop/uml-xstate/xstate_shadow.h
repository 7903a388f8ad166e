/* xstate_shadow.h: whole-size shadows of user-mode Linux's XSAVE register buffers.
 *
 * The problem. User-mode Linux (UML) saves and restores the FPU/vector state of the host
 * processes that run its guest's programs with ptrace(PTRACE_GETREGSET / PTRACE_SETREGSET,
 * NT_X86_XSTATE) and a buffer of its own, fixed size. The host kernel truncates a GET to a short
 * buffer without complaint, but refuses a SET whose length is not the host's whole XSAVE size
 * with EFAULT. On a host whose XSAVE area is larger than UML's buffer (seen: Intel Xeon with
 * AVX-512 and AMX; Debian 12's UML 6.1um4 and Debian 13's 6.12um1), UML's first SET fails and it
 * panics at boot ("userspace - ptrace set fp regs failed, errno = 14").
 *
 * The fix. Between UML and the real ptrace, every NT_X86_XSTATE request whose buffer is shorter
 * than the host's XSAVE size goes through a shadow: one whole-size buffer per UML buffer address.
 *   GET: read the task's whole state into the shadow; hand UML the prefix it asked for.
 *   SET: lay UML's prefix over the shadow; set the whole shadow.
 *   SET of a buffer never read (a task's first SET): the shadow starts as the target task's
 *   current state.
 * The host size is what PTRACE_GETREGSET reports back in iov_len when handed a large buffer;
 * it is learned on the first NT_X86_XSTATE request. Requests whose buffer already has the whole
 * size, and every other request, pass through unchanged: on hosts that do not need it the shim
 * does nothing.
 *
 * What UML keeps in its prefix (x87/SSE, the XSAVE header, AVX) is UML's; what lies beyond it
 * (AVX-512, AMX tiles, PKRU ...) is kept in the shadow of the buffer it was read into, so a
 * thread's wide registers follow that thread's buffer across UML's context switches.
 *
 * The logic takes the real ptrace as a function pointer, so that tests run it against a fake.
 * No locking: UML issues these requests from one thread. Shadows are never freed (UML reuses its
 * buffers, one per guest thread); memory comes from the injected allocator.
 */
#ifndef MINIVPN_INTEROP_XSTATE_SHADOW_H
#define MINIVPN_INTEROP_XSTATE_SHADOW_H

#include <stddef.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The real ptrace: returns what glibc's ptrace returns, errno set on failure. */
typedef long (*xs_ptrace_fn)(void *ctx, int request, pid_t pid, void *addr, void *data);
/* Zero-filled memory of at least `size` bytes, or NULL. */
typedef void *(*xs_alloc_fn)(void *ctx, size_t size);

/* Test modes (MINIVPN_XSTATE_TEST in preload.c); production is XS_TEST_NONE. */
enum xs_test_mode {
  XS_TEST_NONE = 0,
  XS_TEST_CLAMP = 1,        /* treat UML's buffers as `clamp` bytes long: the shadow path runs
                               on a host that does not need it */
  XS_TEST_CLAMP_BROKEN = 2  /* as CLAMP, but every SET zeroes [forget_offset, +forget_len) of
                               the whole state: a shadow that loses one component (the lab's
                               negative control) */
};

struct xs_entry {
  const void *buffer; /* UML's register buffer (the key) */
  unsigned char *shadow;
};

struct xs_state {
  xs_ptrace_fn ptrace;
  xs_alloc_fn alloc;
  void *ctx;
  size_t host_size;         /* 0 until learned */
  size_t probe_size;        /* buffer size used to learn host_size */
  enum xs_test_mode test_mode;
  size_t clamp;             /* for the test modes */
  size_t forget_offset, forget_len; /* for XS_TEST_CLAMP_BROKEN */
  struct xs_entry *entries; /* open addressing by buffer address */
  size_t capacity;          /* a power of two, or 0 */
  size_t count;
  unsigned char *scratch;   /* probe_size bytes, for learning the size and XS_TEST_CLAMP_BROKEN */
  unsigned long shadowed_gets, shadowed_sets, first_sets, passed;
};

/* Sets up `st` (no allocation yet). probe_size: the largest XSAVE size to expect (64 KiB is
 * plenty: the architectural maximum today is below 12 KiB). */
void xs_init(struct xs_state *st, xs_ptrace_fn ptrace, xs_alloc_fn alloc, void *ctx,
             size_t probe_size);

/* ptrace(request, pid, addr, data) through the shadows; same return and errno contract. */
long xs_ptrace(struct xs_state *st, int request, pid_t pid, void *addr, void *data);

#ifdef __cplusplus
}
#endif

#endif
