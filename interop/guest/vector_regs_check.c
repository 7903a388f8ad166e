/* vector_regs_check.c: do a guest's threads keep their vector registers across context switches?
 *
 * Runs inside a lab guest. Under user-mode Linux every guest thread of one process shares one
 * host process, and UML switches between them by saving and restoring the whole register state
 * with ptrace (the XSAVE area included): if any part of that state is lost on the way (a short
 * buffer, a SET the host refused), a thread finds another thread's values, or zeroes, in its
 * registers. Each of two threads fills every vector register with its own pattern, then makes
 * many sched_yield system calls (each a chance for the guest kernel to run the other thread)
 * with no function call in between (the C ABI lets a call clobber vector registers; the syscall
 * ABI does not), stores the registers and compares.
 *
 * Width: the widest the CPU and the guest kernel offer (AVX-512: zmm0-31 and k1-7; else AVX2:
 * ymm0-15; else SSE2: xmm0-15), or the one named. Prints one line per thread and a verdict;
 * exit 0 = kept, 1 = lost, 2 = usage or the named width is not available.
 *   vector_regs_check [yields per thread, default 20000] [avx512|avx2|sse2]
 */
#define _GNU_SOURCE
#include <cpuid.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>

enum width { kSse = 16, kAvx = 32, kAvx512 = 64 };

struct job {
  uint64_t seed;
  long yields;
  enum width width;
  int registers;
  uint8_t saved[32 * 64] __attribute__((aligned(64)));
  uint64_t masks[8];
  long switches;
  int bad_register;
};

static uint64_t xgetbv0(void) {
  uint32_t lo, hi;
  __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
  return ((uint64_t)hi << 32) | lo;
}

static enum width widest(void) {
  unsigned a, b, c, d;
  if (!__get_cpuid(1, &a, &b, &c, &d) || !(c & bit_OSXSAVE) || !(c & bit_AVX)) return kSse;
  uint64_t xcr0 = xgetbv0();
  if ((xcr0 & 0x6) != 0x6 || !__get_cpuid_count(7, 0, &a, &b, &c, &d) || !(b & bit_AVX2)) {
    return kSse;
  }
  if ((b & bit_AVX512F) && (xcr0 & 0xe0) == 0xe0) return kAvx512;
  return kAvx;
}

/* The voluntary + involuntary context switches of the calling thread, from the guest kernel. */
static long context_switches(void) {
  FILE *f = fopen("/proc/thread-self/status", "r");
  if (f == NULL) return -1;
  char line[256];
  long total = 0;
  while (fgets(line, sizeof line, f)) {
    long n;
    if (sscanf(line, "voluntary_ctxt_switches: %ld", &n) == 1 ||
        sscanf(line, "nonvoluntary_ctxt_switches: %ld", &n) == 1) {
      total += n;
    }
  }
  fclose(f);
  return total;
}

/* Register r of thread `seed` holds the qword seed * 0x100 + r in every lane. Broadcasting from
 * a general register is an AVX-512 instruction; AVX2 broadcasts from the xmm register. */
#define FILL(reg, r) "lea " #r "(%[base]), %%rax\n\tvpbroadcastq %%rax, %%" reg "\n\t"
#define FILL_AVX(x, y, r) \
  "lea " #r "(%[base]), %%rax\n\tvmovq %%rax, %%" x "\n\tvpbroadcastq %%" x ", %%" y "\n\t"
#define STORE(op, reg, r, size) op " %%" reg ", " #r "*" #size "(%[out])\n\t"
#define YIELD_LOOP                                                   \
  "1:\n\t"                                                           \
  "mov %[nr], %%eax\n\t"                                             \
  "syscall\n\t"                                                      \
  "dec %%rbx\n\t"                                                    \
  "jnz 1b\n\t"

__attribute__((target("avx512f"))) static void run_avx512(struct job *j) {
  uint64_t base = j->seed * 0x100;
  __asm__ volatile(
      FILL("zmm0", 0) FILL("zmm1", 1) FILL("zmm2", 2) FILL("zmm3", 3) FILL("zmm4", 4)
      FILL("zmm5", 5) FILL("zmm6", 6) FILL("zmm7", 7) FILL("zmm8", 8) FILL("zmm9", 9)
      FILL("zmm10", 10) FILL("zmm11", 11) FILL("zmm12", 12) FILL("zmm13", 13)
      FILL("zmm14", 14) FILL("zmm15", 15) FILL("zmm16", 16) FILL("zmm17", 17)
      FILL("zmm18", 18) FILL("zmm19", 19) FILL("zmm20", 20) FILL("zmm21", 21)
      FILL("zmm22", 22) FILL("zmm23", 23) FILL("zmm24", 24) FILL("zmm25", 25)
      FILL("zmm26", 26) FILL("zmm27", 27) FILL("zmm28", 28) FILL("zmm29", 29)
      FILL("zmm30", 30) FILL("zmm31", 31)
      /* opmask registers: k1..k7 = low 16 bits of the seed pattern + index */
      "lea 1(%[base]), %%rax\n\tkmovw %%eax, %%k1\n\t"
      "lea 2(%[base]), %%rax\n\tkmovw %%eax, %%k2\n\t"
      "lea 3(%[base]), %%rax\n\tkmovw %%eax, %%k3\n\t"
      "lea 4(%[base]), %%rax\n\tkmovw %%eax, %%k4\n\t"
      "lea 5(%[base]), %%rax\n\tkmovw %%eax, %%k5\n\t"
      "lea 6(%[base]), %%rax\n\tkmovw %%eax, %%k6\n\t"
      "lea 7(%[base]), %%rax\n\tkmovw %%eax, %%k7\n\t"
      "mov %[yields], %%rbx\n\t"
      YIELD_LOOP
      STORE("vmovdqu64", "zmm0", 0, 64) STORE("vmovdqu64", "zmm1", 1, 64)
      STORE("vmovdqu64", "zmm2", 2, 64) STORE("vmovdqu64", "zmm3", 3, 64)
      STORE("vmovdqu64", "zmm4", 4, 64) STORE("vmovdqu64", "zmm5", 5, 64)
      STORE("vmovdqu64", "zmm6", 6, 64) STORE("vmovdqu64", "zmm7", 7, 64)
      STORE("vmovdqu64", "zmm8", 8, 64) STORE("vmovdqu64", "zmm9", 9, 64)
      STORE("vmovdqu64", "zmm10", 10, 64) STORE("vmovdqu64", "zmm11", 11, 64)
      STORE("vmovdqu64", "zmm12", 12, 64) STORE("vmovdqu64", "zmm13", 13, 64)
      STORE("vmovdqu64", "zmm14", 14, 64) STORE("vmovdqu64", "zmm15", 15, 64)
      STORE("vmovdqu64", "zmm16", 16, 64) STORE("vmovdqu64", "zmm17", 17, 64)
      STORE("vmovdqu64", "zmm18", 18, 64) STORE("vmovdqu64", "zmm19", 19, 64)
      STORE("vmovdqu64", "zmm20", 20, 64) STORE("vmovdqu64", "zmm21", 21, 64)
      STORE("vmovdqu64", "zmm22", 22, 64) STORE("vmovdqu64", "zmm23", 23, 64)
      STORE("vmovdqu64", "zmm24", 24, 64) STORE("vmovdqu64", "zmm25", 25, 64)
      STORE("vmovdqu64", "zmm26", 26, 64) STORE("vmovdqu64", "zmm27", 27, 64)
      STORE("vmovdqu64", "zmm28", 28, 64) STORE("vmovdqu64", "zmm29", 29, 64)
      STORE("vmovdqu64", "zmm30", 30, 64) STORE("vmovdqu64", "zmm31", 31, 64)
      "kmovw %%k1, %%eax\n\tmov %%rax, 8(%[masks])\n\t"
      "kmovw %%k2, %%eax\n\tmov %%rax, 16(%[masks])\n\t"
      "kmovw %%k3, %%eax\n\tmov %%rax, 24(%[masks])\n\t"
      "kmovw %%k4, %%eax\n\tmov %%rax, 32(%[masks])\n\t"
      "kmovw %%k5, %%eax\n\tmov %%rax, 40(%[masks])\n\t"
      "kmovw %%k6, %%eax\n\tmov %%rax, 48(%[masks])\n\t"
      "kmovw %%k7, %%eax\n\tmov %%rax, 56(%[masks])\n\t"
      :
      : [base] "r"(base), [yields] "r"(j->yields), [nr] "i"(SYS_sched_yield),
        [out] "r"(j->saved), [masks] "r"(j->masks)
      : "rax", "rbx", "rcx", "r11", "memory", "cc", "xmm0", "xmm1", "xmm2", "xmm3", "xmm4",
        "xmm5", "xmm6", "xmm7", "xmm8", "xmm9", "xmm10", "xmm11", "xmm12", "xmm13", "xmm14",
        "xmm15", "xmm16", "xmm17", "xmm18", "xmm19", "xmm20", "xmm21", "xmm22", "xmm23",
        "xmm24", "xmm25", "xmm26", "xmm27", "xmm28", "xmm29", "xmm30", "xmm31", "k1", "k2",
        "k3", "k4", "k5", "k6", "k7");
  j->registers = 32;
}

__attribute__((target("avx2"))) static void run_avx(struct job *j) {
  uint64_t base = j->seed * 0x100;
  __asm__ volatile(
      FILL_AVX("xmm0", "ymm0", 0) FILL_AVX("xmm1", "ymm1", 1) FILL_AVX("xmm2", "ymm2", 2) FILL_AVX("xmm3", "ymm3", 3) FILL_AVX("xmm4", "ymm4", 4)
      FILL_AVX("xmm5", "ymm5", 5) FILL_AVX("xmm6", "ymm6", 6) FILL_AVX("xmm7", "ymm7", 7) FILL_AVX("xmm8", "ymm8", 8) FILL_AVX("xmm9", "ymm9", 9)
      FILL_AVX("xmm10", "ymm10", 10) FILL_AVX("xmm11", "ymm11", 11) FILL_AVX("xmm12", "ymm12", 12) FILL_AVX("xmm13", "ymm13", 13)
      FILL_AVX("xmm14", "ymm14", 14) FILL_AVX("xmm15", "ymm15", 15)
      "mov %[yields], %%rbx\n\t"
      YIELD_LOOP
      STORE("vmovdqu", "ymm0", 0, 32) STORE("vmovdqu", "ymm1", 1, 32)
      STORE("vmovdqu", "ymm2", 2, 32) STORE("vmovdqu", "ymm3", 3, 32)
      STORE("vmovdqu", "ymm4", 4, 32) STORE("vmovdqu", "ymm5", 5, 32)
      STORE("vmovdqu", "ymm6", 6, 32) STORE("vmovdqu", "ymm7", 7, 32)
      STORE("vmovdqu", "ymm8", 8, 32) STORE("vmovdqu", "ymm9", 9, 32)
      STORE("vmovdqu", "ymm10", 10, 32) STORE("vmovdqu", "ymm11", 11, 32)
      STORE("vmovdqu", "ymm12", 12, 32) STORE("vmovdqu", "ymm13", 13, 32)
      STORE("vmovdqu", "ymm14", 14, 32) STORE("vmovdqu", "ymm15", 15, 32)
      :
      : [base] "r"(base), [yields] "r"(j->yields), [nr] "i"(SYS_sched_yield),
        [out] "r"(j->saved)
      : "rax", "rbx", "rcx", "r11", "memory", "cc", "xmm0", "xmm1", "xmm2", "xmm3", "xmm4",
        "xmm5", "xmm6", "xmm7", "xmm8", "xmm9", "xmm10", "xmm11", "xmm12", "xmm13", "xmm14",
        "xmm15");
  j->registers = 16;
}

/* SSE without VEX: movq + punpcklqdq broadcast the qword to both lanes. */
#define FILL_SSE(reg, r) \
  "lea " #r "(%[base]), %%rax\n\tmovq %%rax, %%" reg "\n\tpunpcklqdq %%" reg ", %%" reg "\n\t"

static void run_sse(struct job *j) {
  uint64_t base = j->seed * 0x100;
  __asm__ volatile(
      FILL_SSE("xmm0", 0) FILL_SSE("xmm1", 1) FILL_SSE("xmm2", 2) FILL_SSE("xmm3", 3)
      FILL_SSE("xmm4", 4) FILL_SSE("xmm5", 5) FILL_SSE("xmm6", 6) FILL_SSE("xmm7", 7)
      FILL_SSE("xmm8", 8) FILL_SSE("xmm9", 9) FILL_SSE("xmm10", 10) FILL_SSE("xmm11", 11)
      FILL_SSE("xmm12", 12) FILL_SSE("xmm13", 13) FILL_SSE("xmm14", 14) FILL_SSE("xmm15", 15)
      "mov %[yields], %%rbx\n\t"
      YIELD_LOOP
      STORE("movdqu", "xmm0", 0, 16) STORE("movdqu", "xmm1", 1, 16)
      STORE("movdqu", "xmm2", 2, 16) STORE("movdqu", "xmm3", 3, 16)
      STORE("movdqu", "xmm4", 4, 16) STORE("movdqu", "xmm5", 5, 16)
      STORE("movdqu", "xmm6", 6, 16) STORE("movdqu", "xmm7", 7, 16)
      STORE("movdqu", "xmm8", 8, 16) STORE("movdqu", "xmm9", 9, 16)
      STORE("movdqu", "xmm10", 10, 16) STORE("movdqu", "xmm11", 11, 16)
      STORE("movdqu", "xmm12", 12, 16) STORE("movdqu", "xmm13", 13, 16)
      STORE("movdqu", "xmm14", 14, 16) STORE("movdqu", "xmm15", 15, 16)
      :
      : [base] "r"(base), [yields] "r"(j->yields), [nr] "i"(SYS_sched_yield),
        [out] "r"(j->saved)
      : "rax", "rbx", "rcx", "r11", "memory", "cc", "xmm0", "xmm1", "xmm2", "xmm3", "xmm4",
        "xmm5", "xmm6", "xmm7", "xmm8", "xmm9", "xmm10", "xmm11", "xmm12", "xmm13", "xmm14",
        "xmm15");
  j->registers = 16;
}

static void *thread_main(void *arg) {
  struct job *j = arg;
  long before = context_switches();
  switch (j->width) {
    case kAvx512: run_avx512(j); break;
    case kAvx: run_avx(j); break;
    case kSse: run_sse(j); break;
  }
  j->switches = context_switches() - before;
  j->bad_register = -1;
  for (int r = 0; r < j->registers && j->bad_register < 0; ++r) {
    for (int lane = 0; lane < (int)j->width / 8; ++lane) {
      uint64_t got;
      memcpy(&got, j->saved + r * (int)j->width + lane * 8, 8);
      if (got != j->seed * 0x100 + (uint64_t)r) {
        j->bad_register = r;
        break;
      }
    }
  }
  if (j->width == kAvx512 && j->bad_register < 0) {
    for (int k = 1; k < 8; ++k) {
      if ((j->masks[k] & 0xffff) != ((j->seed * 0x100 + (uint64_t)k) & 0xffff)) {
        j->bad_register = 100 + k;
      }
    }
  }
  return NULL;
}

int main(int argc, char **argv) {
  long yields = argc > 1 ? strtol(argv[1], NULL, 10) : 20000;
  enum width width = widest();
  if (argc > 2) {
    enum width asked = strcmp(argv[2], "avx512") == 0 ? kAvx512
                       : strcmp(argv[2], "avx2") == 0 ? kAvx
                       : strcmp(argv[2], "sse2") == 0 ? kSse
                                                      : 0;
    if (asked == 0 || asked > width) {
      fprintf(stderr, "vector_regs_check: width '%s' unknown or not offered here\n", argv[2]);
      return 2;
    }
    width = asked;
  }
  if (yields <= 0 || argc > 3) {
    fprintf(stderr, "usage: vector_regs_check [yields per thread > 0] [avx512|avx2|sse2]\n");
    return 2;
  }
  /* Line-buffered, so that a crash (SIGILL on a CPU that lies) leaves what was printed. */
  setvbuf(stdout, NULL, _IOLBF, 0);
  static const char *names[] = {[kSse] = "xmm (SSE2)", [kAvx] = "ymm (AVX2)",
                                [kAvx512] = "zmm + k (AVX-512)"};
  static struct job jobs[2];
  pthread_t threads[2];
  for (int i = 0; i < 2; ++i) {
    jobs[i].seed = 0x5eed0000u + (uint64_t)i * 0x1111;
    jobs[i].yields = yields;
    jobs[i].width = width;
    if (pthread_create(&threads[i], NULL, thread_main, &jobs[i]) != 0) {
      perror("pthread_create");
      return 2;
    }
  }
  int failed = 0;
  long switches = 0;
  for (int i = 0; i < 2; ++i) {
    pthread_join(threads[i], NULL);
    struct job *j = &jobs[i];
    switches += j->switches;
    if (j->bad_register >= 100) {
      printf("thread %d: %s: opmask k%d lost its value\n", i, names[width], j->bad_register - 100);
      failed = 1;
    } else if (j->bad_register >= 0) {
      printf("thread %d: %s: register %d lost its value over %ld yields\n", i, names[width],
             j->bad_register, j->yields);
      failed = 1;
    } else {
      printf("thread %d: %s: %d registers kept over %ld yields, %ld context switches\n", i,
             names[width], j->registers, j->yields, j->switches);
    }
  }
  /* Without switches between the two threads the check would prove nothing. */
  if (!failed && switches < 100) {
    printf("FAIL: only %ld context switches: the check did not exercise the save/restore\n",
           switches);
    return 1;
  }
  printf("%s: %s, 2 threads, %ld context switches\n", failed ? "FAIL" : "PASS", names[width],
         switches);
  return failed;
}
