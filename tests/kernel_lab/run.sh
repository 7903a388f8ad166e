#!/usr/bin/env bash
# The kernel lab: boots user-mode Linux (a stock Debian 6.1 kernel with esp4, ip_vti, GCM ...,
# see docs/lab.md) and runs lab.sh in it: charon <-> charon, the same tunnel
# programmed by minivpn's xfrm/ and vti/ libraries (minivpn-kernel-probe), dump comparison,
# removal, fault injection and the 10,000-CHILD_SA measurement. Needs root on the host.
#
# usage: run.sh [probe-binary] ; environment: OUT (results folder, a host path outside /tmp),
#        COUNT (bench size, default 10000; 0 skips it), ESPS (default "aes256gcm16 aes128-sha256"),
#        TIMEOUT (seconds, default 1500).
# The probe must be built without sanitizers (ASan cannot map its shadow memory under UML):
#   cmake -S . -B build-kernel-lab -G Ninja -DCMAKE_BUILD_TYPE=Release -DMINIVPN_SANITIZE=OFF
#   ninja -C build-kernel-lab minivpn-kernel-probe
# Prints PASS/FAIL per check; exits 0 only if every check passed and the lab finished.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
probe=$(realpath "${1:-$repo/build-kernel-lab/tests/kernel_lab/minivpn-kernel-probe}")
out=${OUT:-$repo/build-kernel-lab/kernel_lab-results}
count=${COUNT:-10000}
esps=${ESPS:-aes256gcm16 aes128-sha256}

[[ -x $probe ]] || { echo "run.sh: no probe at $probe (see the build lines in this script)"; exit 2; }
case $out in /run/*) echo "run.sh: OUT must be outside /run (UML has its own)"; exit 2;; esac
rm -rf "$out"; mkdir -p "$out"; out=$(realpath "$out")

# How linux.uml starts on this host (with the XSAVE shim where it needs it): interop/lib/uml.sh.
# shellcheck source=../../interop/lib/uml.sh
source "$repo/interop/lib/uml.sh"
if ! uml_setup "$out/.uml"; then
  echo "FAIL the UML kernel cannot start: $UML_PROBLEM"; exit 1
fi
echo "run.sh: uml: $UML_MODE"
start=$(date +%s)
# Kernel command line words of the form KEY=VALUE reach init as environment variables.
uml_boot "minivpn-kernel-lab-$$" "${TIMEOUT:-1500}" "$out/console.log" mem=768M \
  init="$here/uml_init.sh" \
  MVLAB_OUT="$out" MVLAB_PROBE="$probe" MVLAB_COUNT="$count" MVLAB_DIR="$here" \
  MVLAB_ESPS="${esps// /,}" || true
echo "run.sh: UML ran $(( $(date +%s) - start )) s; results in $out"

if [[ ! -f $out/results.txt ]]; then
  echo "FAIL lab did not start (see $out/console.log)"; exit 1
fi
grep -E '^(PASS|FAIL|NOTE|bench:|expire:|minivpn-kernel-probe:)' "$out/results.txt" || true
if ! grep -q '^DONE' "$out/results.txt"; then
  echo "FAIL lab did not finish (timeout or crash, see $out/console.log)"; exit 1
fi
if grep -q '^FAIL' "$out/results.txt"; then exit 1; fi
echo "run.sh: all checks passed"
