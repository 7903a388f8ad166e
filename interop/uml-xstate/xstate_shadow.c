/* xstate_shadow.c: see xstate_shadow.h. */
#include "xstate_shadow.h"

#include <elf.h>
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/uio.h>

void xs_init(struct xs_state *st, xs_ptrace_fn ptrace, xs_alloc_fn alloc, void *ctx,
             size_t probe_size) {
  memset(st, 0, sizeof *st);
  st->ptrace = ptrace;
  st->alloc = alloc;
  st->ctx = ctx;
  st->probe_size = probe_size;
}

static size_t slot_of(const struct xs_state *st, const void *buffer) {
  uintptr_t h = (uintptr_t)buffer;
  h ^= h >> 17;
  h *= (uintptr_t)0x9e3779b97f4a7c15ull;
  return (size_t)(h >> 7) & (st->capacity - 1);
}

static struct xs_entry *find(const struct xs_state *st, const void *buffer) {
  if (st->capacity == 0) return NULL;
  for (size_t i = slot_of(st, buffer);; i = (i + 1) & (st->capacity - 1)) {
    if (st->entries[i].buffer == buffer) return &st->entries[i];
    if (st->entries[i].buffer == NULL) return NULL;
  }
}

/* Keeps the table at most half full. Returns 0, or -1 with errno = ENOMEM. */
static int reserve(struct xs_state *st) {
  if (2 * (st->count + 1) <= st->capacity) return 0;
  size_t capacity = st->capacity ? 2 * st->capacity : 64;
  struct xs_entry *entries = st->alloc(st->ctx, capacity * sizeof *entries);
  if (entries == NULL) {
    errno = ENOMEM;
    return -1;
  }
  struct xs_entry *old = st->entries;
  size_t old_capacity = st->capacity;
  st->entries = entries;
  st->capacity = capacity;
  for (size_t i = 0; i < old_capacity; ++i) {
    if (old[i].buffer == NULL) continue;
    size_t j = slot_of(st, old[i].buffer);
    while (entries[j].buffer != NULL) j = (j + 1) & (capacity - 1);
    entries[j] = old[i];
  }
  /* The old table is not returned: the allocator has no free, and the table only grows
   * (to a few KiB for a guest's few hundred threads). */
  return 0;
}

static struct xs_entry *insert(struct xs_state *st, const void *buffer) {
  if (reserve(st) != 0) return NULL;
  unsigned char *shadow = st->alloc(st->ctx, st->host_size);
  if (shadow == NULL) {
    errno = ENOMEM;
    return NULL;
  }
  size_t i = slot_of(st, buffer);
  while (st->entries[i].buffer != NULL) i = (i + 1) & (st->capacity - 1);
  st->entries[i].buffer = buffer;
  st->entries[i].shadow = shadow;
  ++st->count;
  return &st->entries[i];
}

static long get_whole(struct xs_state *st, pid_t pid, void *into) {
  struct iovec iov = {.iov_base = into, .iov_len = st->host_size};
  return st->ptrace(st->ctx, PTRACE_GETREGSET, pid, (void *)(uintptr_t)NT_X86_XSTATE, &iov);
}

/* Learns the host's whole XSAVE size from a GET into a large buffer. */
static long learn_host_size(struct xs_state *st, pid_t pid) {
  if (st->scratch == NULL) {
    st->scratch = st->alloc(st->ctx, st->probe_size);
    if (st->scratch == NULL) {
      errno = ENOMEM;
      return -1;
    }
  }
  struct iovec iov = {.iov_base = st->scratch, .iov_len = st->probe_size};
  long r = st->ptrace(st->ctx, PTRACE_GETREGSET, pid, (void *)(uintptr_t)NT_X86_XSTATE, &iov);
  if (r < 0) return r;
  st->host_size = iov.iov_len;
  return 0;
}

static long shadowed_get(struct xs_state *st, pid_t pid, struct iovec *iov, size_t len) {
  struct xs_entry *e = find(st, iov->iov_base);
  if (e == NULL && (e = insert(st, iov->iov_base)) == NULL) return -1;
  long r = get_whole(st, pid, e->shadow);
  if (r < 0) return r;
  memcpy(iov->iov_base, e->shadow, len);
  iov->iov_len = len; /* as the kernel reports a truncated GET */
  ++st->shadowed_gets;
  return r;
}

static long shadowed_set(struct xs_state *st, pid_t pid, struct iovec *iov, size_t len) {
  struct xs_entry *e = find(st, iov->iov_base);
  if (e == NULL) {
    /* A task's first SET: start from the target task's current whole state. */
    if ((e = insert(st, iov->iov_base)) == NULL) return -1;
    long r = get_whole(st, pid, e->shadow);
    if (r < 0) return r;
    ++st->first_sets;
  }
  unsigned char *whole = e->shadow;
  memcpy(whole, iov->iov_base, len);
  if (st->test_mode == XS_TEST_CLAMP_BROKEN && st->forget_offset + st->forget_len <= st->host_size) {
    whole = st->scratch;
    memcpy(whole, e->shadow, st->host_size);
    memset(whole + st->forget_offset, 0, st->forget_len);
  }
  struct iovec full = {.iov_base = whole, .iov_len = st->host_size};
  long r = st->ptrace(st->ctx, PTRACE_SETREGSET, pid, (void *)(uintptr_t)NT_X86_XSTATE, &full);
  if (r < 0) return r;
  iov->iov_len = len;
  ++st->shadowed_sets;
  return r;
}

long xs_ptrace(struct xs_state *st, int request, pid_t pid, void *addr, void *data) {
  int regset = request == PTRACE_GETREGSET || request == PTRACE_SETREGSET;
  if (!regset || (uintptr_t)addr != NT_X86_XSTATE || data == NULL) {
    return st->ptrace(st->ctx, request, pid, addr, data);
  }
  struct iovec *iov = data;
  if (st->host_size == 0) {
    long r = learn_host_size(st, pid);
    if (r < 0) return r;
  }
  size_t len = iov->iov_len;
  if (st->test_mode != XS_TEST_NONE && st->clamp < len) len = st->clamp;
  if (len >= st->host_size) {
    ++st->passed;
    return st->ptrace(st->ctx, request, pid, addr, data);
  }
  return request == PTRACE_GETREGSET ? shadowed_get(st, pid, iov, len)
                                     : shadowed_set(st, pid, iov, len);
}
