#!/usr/bin/env bash
# Runs every minivpn test and ends with ctest's summary:
#   unit tests built with ASan+UBSan, each libFuzzer target for its budget (tests/fuzz/fuzzers.cmake,
#   30-60 s; clang build), the
#   user-mode-Linux lab (interop/) against real strongSwan charon, using the release binaries, and
#   the Debian package (built, linted, installed into a fresh Debian 12 root: tests/package/).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

bash scripts/setup.sh

# The binaries the labs run: an optimised build without sanitizers (ASan's shadow memory does
# not fit the user-mode-Linux guest).
cmake -S . -B build/release -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
ninja -C build/release minivpnd minivpnctl minivpn-kernel-probe minivpn-ike-flood

# libFuzzer targets need clang.
CC=clang-16 CXX=clang++-16 cmake -S . -B build/fuzz -G Ninja -DMINIVPN_FUZZ=ON >/dev/null
ninja -C build/fuzz

# Unit tests under sanitizers; the fuzz and lab runs are registered in the same ctest run.
cmake -S . -B build/asan -G Ninja -DCMAKE_BUILD_TYPE=Debug -DMINIVPN_SANITIZE=ON \
  -DMINIVPN_FUZZ_BIN_DIR="$root/build/fuzz/tests/fuzz" \
  -DMINIVPN_LAB_BIN_DIR="$root/build/release" -DMINIVPN_PACKAGE_TEST=ON >/dev/null
ninja -C build/asan

cd build/asan
# Unit tests and fuzzers in parallel (their output only when they fail), then the two labs and
# the package test one after the other with their output shown: every lab check and scenario
# prints PASS or FAIL, the package test ok or FAIL per check.
status=0
ctest --output-on-failure -j2 -LE 'lab|package' "$@" || status=$?
ctest --verbose -L 'lab|package' "$@" || status=$?
exit $status
