/* preload.c: LD_PRELOAD=uml-xstate.so linux.uml ... routes UML's ptrace calls through
 * xstate_shadow.c. linux.uml is dynamically linked and imports glibc's ptrace, so defining
 * ptrace here takes its place; the real one is found with dlsym(RTLD_NEXT).
 *
 * MINIVPN_XSTATE_TEST (for the lab's own checks only):
 *   clamp=N         behave as if UML's buffers were N bytes long, so the shadow path runs on a
 *                   host that does not need it (N = 832 is UML's legacy x87/SSE + header + AVX)
 *   forget-vector-upper
 *                   shadow everything past the widest vector component's upper part (AVX-512's
 *                   ZMM_Hi256: bits 256-511 of zmm0-15; without AVX-512, AVX's upper halves of
 *                   ymm0-15) and zero that component on every SET: a shadow that loses state,
 *                   which the guest's vector-register check must catch (a negative control; a
 *                   narrow loss, so that the guest's other programs still run)
 * MINIVPN_XSTATE_STATS=path: at exit, append one line of counters (which path each call took).
 *
 * Memory comes from mmap: UML replaces malloc for its own code, and this library must not
 * depend on which malloc answers.
 */
#define _GNU_SOURCE
#include <cpuid.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <unistd.h>

#include "xstate_shadow.h"

typedef long (*glibc_ptrace_fn)(enum __ptrace_request, ...);

static struct xs_state state;
static glibc_ptrace_fn real_ptrace;
static int ready;

static long call_real(void *ctx, int request, pid_t pid, void *addr, void *data) {
  (void)ctx;
  return real_ptrace((enum __ptrace_request)request, pid, addr, data);
}

static void *map_zeroed(void *ctx, size_t size) {
  (void)ctx;
  void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  return p == MAP_FAILED ? NULL : p;
}

static void parse_test_mode(void) {
  const char *mode = getenv("MINIVPN_XSTATE_TEST");
  if (mode == NULL || *mode == '\0') return;
  long n = strncmp(mode, "clamp=", 6) == 0 ? strtol(mode + 6, NULL, 10) : 0;
  if (n > 0) {
    state.test_mode = XS_TEST_CLAMP;
    state.clamp = (size_t)n;
    return;
  }
  /* XSAVE components 6 (ZMM_Hi256) and 2 (AVX): size in EAX, standard-format offset in EBX. */
  unsigned size = 0, offset = 0, ecx, edx;
  if (strcmp(mode, "forget-vector-upper") == 0 &&
      (__get_cpuid_count(0xd, 6, &size, &offset, &ecx, &edx) && size != 0 ? 1
       : __get_cpuid_count(0xd, 2, &size, &offset, &ecx, &edx) && size != 0)) {
    state.test_mode = XS_TEST_CLAMP_BROKEN;
    state.clamp = offset;
    state.forget_offset = offset;
    state.forget_len = size;
    return;
  }
  static const char msg[] =
      "uml-xstate: MINIVPN_XSTATE_TEST must be clamp=N or forget-vector-upper (on a CPU with AVX)\n";
  ssize_t ignored = write(2, msg, sizeof msg - 1);
  (void)ignored;
  _exit(2);
}

static void write_stats(void) {
  const char *path = getenv("MINIVPN_XSTATE_STATS");
  if (path == NULL || !ready || state.host_size == 0) return;
  char line[256];
  int n = snprintf(line, sizeof line,
                   "pid %d host_size %zu shadowed_gets %lu shadowed_sets %lu first_sets %lu "
                   "passed %lu buffers %zu\n",
                   (int)getpid(), state.host_size, state.shadowed_gets, state.shadowed_sets,
                   state.first_sets, state.passed, state.count);
  int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return;
  ssize_t ignored = write(fd, line, (size_t)n);
  (void)ignored;
  close(fd);
}

__attribute__((constructor)) static void setup(void) {
  real_ptrace = (glibc_ptrace_fn)dlsym(RTLD_NEXT, "ptrace");
  if (real_ptrace == NULL) return;
  xs_init(&state, call_real, map_zeroed, NULL, 64 * 1024);
  parse_test_mode();
  ready = 1;
}

/* UML halts with poweroff, which ends in exit(): the counters are written then. */
__attribute__((destructor)) static void teardown(void) { write_stats(); }

long ptrace(enum __ptrace_request request, ...) {
  va_list ap;
  va_start(ap, request);
  pid_t pid = va_arg(ap, pid_t);
  void *addr = va_arg(ap, void *);
  void *data = va_arg(ap, void *);
  va_end(ap);
  if (!ready) {
    errno = ENOSYS;
    return -1;
  }
  return xs_ptrace(&state, (int)request, pid, addr, data);
}
