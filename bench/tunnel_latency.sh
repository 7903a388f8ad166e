#!/usr/bin/env bash
# tunnel_latency.sh: benchmark (d) of issue 8 in the user-mode-Linux lab of interop/: tunnel-up
# latency (initiate on router a -> first ping reply host-a -> host-b across the VTIs), for
# charon<->charon and minivpnd<->charon (minivpnd on router a, initiating). Boots one UML per
# pairing exactly as interop/run does (interop/lib/uml-init.sh + scenario-main.sh) with the
# scenario bench/lab/tunnel-latency.sh.
#
# usage: bench/tunnel_latency.sh [--rounds 10] [--results DIR] [--minivpnd PATH] [--minivpnctl PATH]
# Prints one line per pairing (median, p90, min, max in ms) and writes DIR/latency.json.
# A pairing whose daemon is missing or not ready (minivpnd without --vici) is reported as
# SKIP with the reason; a pairing that boots and fails is FAIL with the scenario's reason.
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
lab="$root/interop"
rounds=10
results="$root/build-bench/results/latency"
minivpnd="$root/build/release/cli/minivpnd"
minivpnctl="$root/build/release/cli/minivpnctl"
while (($#)); do
  case $1 in
    --rounds) rounds=$2; shift 2 ;;
    --results) results=$2; shift 2 ;;
    --minivpnd) minivpnd=$2; shift 2 ;;
    --minivpnctl) minivpnctl=$2; shift 2 ;;
    *) echo "tunnel_latency.sh: unknown argument $1" >&2; exit 64 ;;
  esac
done
results=$(realpath -m "$results")
case $results/ in
  /tmp/* | /run/*) echo "tunnel_latency.sh: results must be visible inside UML (not /tmp, /run)" >&2; exit 64 ;;
esac
mkdir -p "$results"

uml=$(command -v linux.uml || true)
preflight=""
[[ -n $uml ]] || preflight="linux.uml not found (user-mode-linux)"
[[ -r $lab/lib/uml-init.sh && -r $lab/lib/lab.sh ]] || preflight="interop/lib is missing"

stats() {  # file -> "median p90 min max n"
  sort -n "$1" | awk '{ v[NR] = $1 } END {
    if (!NR) { print "0 0 0 0 0"; exit }
    m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
    p = v[int(0.9 * NR + 0.999)]; print m, p, v[1], v[NR], NR }'
}

json=""
for pairing in charon-charon minivpnd-charon; do
  role_a=${pairing%%-*}
  out="$results/$pairing"
  rm -rf "$out"
  mkdir -p "$out"
  why=""
  if [[ -n $preflight ]]; then
    why="SKIP: $preflight"
  elif [[ $role_a == minivpnd ]] && { [[ ! -x $minivpnd ]] || ! "$minivpnd" --help 2>&1 | grep -q -- --vici; }; then
    why="SKIP: $minivpnd does not take --vici yet"
  fi
  if [[ -z $why ]]; then
    {
      printf 'LAB_DIR=%q\nLAB_OUT=%q\nLAB_SCENARIO=%q\n' "$lab" "$out" "latency-$pairing"
      printf 'LAB_SCRIPT=%q\n' "$here/lab/tunnel-latency.sh"
      printf 'LAB_INNER_TIMEOUT=%q\n' "$((60 + rounds * 30))"
      printf 'LAB_VARIANT_DESC=%q\n' "ROLE_A=$role_a ROUNDS=$rounds"
      printf 'MINIVPND=%q\nMINIVPNCTL=%q\n' "$minivpnd" "$minivpnctl"
      printf 'export ROLE_A=%q\nexport ROLE_B=charon\nexport ROUNDS=%q\n' "$role_a" "$rounds"
    } >"$out/env"
    umid="bench-latency-$pairing-$$"
    timeout -k 5 "$((75 + rounds * 30))" "$uml" quiet mem=512M "umid=$umid" rootfstype=hostfs rw \
      "init=$lab/lib/uml-init.sh" "LAB_ENV=$out/env" con=null con0=null,fd:1 \
      </dev/null >"$out/console.log" 2>&1
    rm -rf "${HOME:-/root}/.uml/$umid"
    verdict=$(head -n 1 "$out/result" 2>/dev/null)
    [[ $verdict == PASS* ]] || why="FAIL: ${verdict:-no result (see $out/console.log)}"
  fi
  if [[ -n $why ]]; then
    echo "$pairing: $why"
    json+="${json:+, }{\"pairing\": \"$pairing\", \"status\": \"${why%%:*}\", \"why\": \"${why#*: }\"}"
    continue
  fi
  read -r med p90 min max n < <(stats "$out/latency.txt")
  echo "$pairing: tunnel-up latency median $med ms, p90 $p90 ms, min $min ms, max $max ms ($n rounds)"
  json+="${json:+, }{\"pairing\": \"$pairing\", \"status\": \"PASS\", \"rounds\": $n, \"median_ms\": $med, \"p90_ms\": $p90, \"min_ms\": $min, \"max_ms\": $max}"
done
echo "{\"bench\": \"d-latency\", \"results\": [$json]}" >"$results/latency.json"
