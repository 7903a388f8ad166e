# about: the guest keeps every thread's vector registers (zmm/k on AVX-512 hosts) across its context switches
#
#   [guest kernel]  one process, two threads, one CPU
#      thread 0: zmm0-31, k1-7 = pattern 0 --+-- sched_yield x 20000 --> store, compare
#      thread 1: zmm0-31, k1-7 = pattern 1 --+
#
# Under user-mode Linux both threads live in one host process; every switch between them is a
# ptrace GET of one thread's XSAVE state and a SET of the other's. On a host whose XSAVE area is
# larger than UML's buffer that path goes through interop/uml-xstate/ (the shim); a row with
# UML_XSTATE_TEST=clamp=832 forces it on any host, and the must-fail row with
# UML_XSTATE_TEST=forget-vector-upper makes the shim lose the upper half of zmm0-15 (ymm0-15
# without AVX-512) on every switch, which this check must catch.

check_vector_registers() {
  "$LAB_TOOLS/vector-regs-check" 20000 >"$LAB_OUT/vector-regs.txt" 2>&1
  local rc=$?
  while read -r line; do note "$line"; done <"$LAB_OUT/vector-regs.txt"
  LAB_WHY=$(tail -n 1 "$LAB_OUT/vector-regs.txt")
  return $rc
}

expect "the check program was built for this run" test -x "$LAB_TOOLS/vector-regs-check"
expect "two threads keep their vector registers over 20000 yields" check_vector_registers
