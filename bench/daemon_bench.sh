#!/usr/bin/env bash
# daemon_bench.sh: benchmarks (b) and (c) of issue 8 for one responder daemon on this host.
#
#   (b) responder CPU per handshake: utime+stime of the daemon (/proc/<pid>/stat) before and
#       after `minivpn-bench load --delete` brings up and deletes H IKE+CHILD SAs;
#   (c) memory per tunnel: VmRSS of a freshly started daemon, then holding 1,000 and 10,000
#       established tunnels (`minivpn-bench load --keep`) -> bytes per tunnel.
#
# The daemon runs in the network namespace "mvbench" behind a veth pair (generator 10.99.0.2,
# responder 10.99.0.1), so it can own ports 500/4500 while the generator binds its own.
#   charon   : Debian's charon-systemd with the kernel-libipsec plugin (ESP in user space over
#              a TUN device; the host kernel has no xfrm/ESP). Its CHILD_SAs therefore live in
#              charon's own memory (libipsec), which (c) counts.
#   minivpnd : build/release/cli/minivpnd --fake-kernel (same CLI as interop/README.md). Skipped,
#              with a message, while the binary does not offer --fake-kernel.
#   standin  : `minivpn-bench respond` (the engine with a null kernel over UDP, no logging, no
#              vici socket): the engine's share of what minivpnd will spend.
#
# usage: bench/daemon_bench.sh --daemon charon|minivpnd|standin [--group x25519]
#          [--handshakes 3000] [--concurrency 16] [--keep 1000,10000] [--out DIR]
#          [--bench PATH] [--minivpnd PATH] [--minivpnctl PATH]
#          [--cpus LIST] [--workers N] [--rate-only] [--tag NAME]
# --cpus: the daemon runs under `taskset -c LIST` (the generator is not pinned); --workers: minivpnd's
# --workers; --rate-only: (b) alone; --tag: written as DIR/<daemon>-<group>-<tag>.json.
# Writes DIR/<daemon>-<group>.json and prints one summary line. Needs root (netns, veth).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
# shellcheck source=bench/generator_peer.sh
source "$here/generator_peer.sh"
daemon="" group=x25519 handshakes=3000 concurrency=16 keep=1000,10000
cpus="" workers=1 rate_only=0 tag=""
out="$root/build-bench/results"
bench="$root/build-bench/bench/minivpn-bench"
minivpnd="$root/build/release/cli/minivpnd"
minivpnctl="$root/build/release/cli/minivpnctl"
while (($#)); do
  case $1 in
    --daemon) daemon=$2; shift 2 ;;
    --group) group=$2; shift 2 ;;
    --handshakes) handshakes=$2; shift 2 ;;
    --concurrency) concurrency=$2; shift 2 ;;
    --keep) keep=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    --bench) bench=$2; shift 2 ;;
    --minivpnd) minivpnd=$2; shift 2 ;;
    --minivpnctl) minivpnctl=$2; shift 2 ;;
    --cpus) cpus=$2; shift 2 ;;
    --workers) workers=$2; shift 2 ;;
    --rate-only) rate_only=1; shift ;;
    --tag) tag=$2; shift 2 ;;
    *) echo "daemon_bench.sh: unknown argument $1" >&2; exit 64 ;;
  esac
done
[[ $daemon =~ ^(charon|minivpnd|standin)$ ]] || { echo "daemon_bench.sh: --daemon charon|minivpnd|standin" >&2; exit 64; }
[[ -x $bench ]] || { echo "daemon_bench.sh: no $bench (build minivpn-bench first)" >&2; exit 1; }
[[ $(id -u) == 0 ]] || { echo "daemon_bench.sh: needs root (network namespace)" >&2; exit 1; }

if [[ $daemon == minivpnd ]]; then
  if [[ ! -x $minivpnd ]] || ! "$minivpnd" --help 2>&1 | grep -q -- --fake-kernel; then
    echo "daemon_bench.sh: SKIP minivpnd: $minivpnd does not offer --fake-kernel yet" \
         "(run --daemon standin for the engine alone)"
    exit 3
  fi
fi

ns=mvbench
gen_ip=10.99.0.2 resp_ip=10.99.0.1
work=$(mktemp -d /tmp/mvbench.XXXXXX)
mkdir -p "$out"
pid=""
ticks=$(getconf CLK_TCK)

cleanup() {
  [[ -n $pid ]] && kill "$pid" 2>/dev/null && sleep 0.5
  [[ -n $pid ]] && kill -9 "$pid" 2>/dev/null
  ip link del mvb-g 2>/dev/null || true
  ip netns del "$ns" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
[[ -n ${MVBENCH_DEBUG:-} ]] && set -x

ip netns del "$ns" 2>/dev/null || true
ip link del mvb-g 2>/dev/null || true
ip netns add "$ns"
ip link add mvb-g type veth peer name mvb-r
ip link set mvb-r netns "$ns"
ip addr add "$gen_ip/24" dev mvb-g
ip link set mvb-g up
ip netns exec "$ns" ip addr add "$resp_ip/24" dev mvb-r
ip netns exec "$ns" ip link set mvb-r up
ip netns exec "$ns" ip link set lo up
# kernel-libipsec routes each policy through its TUN device from a local address inside
# local_ts, so the responder owns one.
ip netns exec "$ns" ip addr add 10.0.0.1/24 dev lo

ike="aes256gcm16-prfsha256-$group"

write_configs() {
  cat >"$work/strongswan.conf" <<EOF
charon-systemd {
  load = random nonce openssl aes sha1 sha2 hmac gcm kdf kernel-libipsec kernel-netlink socket-default vici
  install_routes = no
  install_virtual_ip = no
  # one generator address brings every handshake: no COOKIEs, no per-IP blocking (RFC 7296 2.6)
  cookie_threshold = 10000000
  cookie_threshold_ip = 10000000
  block_threshold = 10000000
  init_limit_half_open = 0
  journal { default = -1 }
  syslog { daemon { default = -1 } }
  filelog {
    bench {
      path = $work/daemon.log
      default = ${MVBENCH_LOGLEVEL:-0}
      append = no
    }
  }
  plugins {
    vici { socket = unix://$work/vici }
  }
}
swanctl {
  load = random nonce openssl pem pkcs1 x509 pubkey
}
EOF
  {
    echo "connections {"
    generator_peer bench "$resp_ip" "$ike" "local_ts = 10.0.0.0/24
        remote_ts = 10.128.0.0/9"
    echo "}"
    echo "secrets {"
    generator_secret bench
    echo "}"
  } >"$work/swanctl.conf"
}

pin=()
[[ -n $cpus ]] && pin=(taskset -c "$cpus")

start_daemon() {
  write_configs
  ip netns exec "$ns" ip route flush table 220 2>/dev/null || true
  case $daemon in
    charon)
      ip netns exec "$ns" env STRONGSWAN_CONF="$work/strongswan.conf" \
        "${pin[@]}" /usr/sbin/charon-systemd >"$work/daemon.stdout" 2>&1 &
      pid=$!
      local i
      for ((i = 0; i < 100; i++)); do
        STRONGSWAN_CONF="$work/strongswan.conf" swanctl --stats --uri "unix://$work/vici" \
          >/dev/null 2>&1 && break
        sleep 0.1
      done
      STRONGSWAN_CONF="$work/strongswan.conf" swanctl --load-all --noprompt \
        --file "$work/swanctl.conf" --uri "unix://$work/vici" >"$work/swanctl.out" 2>&1 || {
        echo "daemon_bench.sh: swanctl --load-all failed:" >&2; cat "$work/swanctl.out" >&2; exit 1; }
      ;;
    minivpnd)
      ip netns exec "$ns" "${pin[@]}" "$minivpnd" --fake-kernel --workers "$workers" \
        --config "$work/swanctl.conf" \
        --strongswan-conf "$work/strongswan.conf" --vici "$work/vici" \
        >"$work/daemon.stdout" 2>&1 &
      pid=$!
      local i
      for ((i = 0; i < 100; i++)); do
        "$minivpnctl" --socket "$work/vici" list-sas >/dev/null 2>&1 && break
        sleep 0.1
      done
      ;;
    standin)
      ip netns exec "$ns" "$bench" respond --listen "$resp_ip" --group "$group" --ts host \
        >"$work/daemon.stdout" 2>&1 &
      pid=$!
      local i
      for ((i = 0; i < 100; i++)); do
        grep -q listening "$work/daemon.stdout" 2>/dev/null && break
        sleep 0.1
      done
      ;;
  esac
  sleep 0.5
  kill -0 "$pid" 2>/dev/null || { echo "daemon_bench.sh: $daemon did not start:" >&2; cat "$work/daemon.stdout" >&2; exit 1; }
}

stop_daemon() {
  kill "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  pid=""
}

# utime + stime of the daemon in nanoseconds (fields 14 and 15 after the "(comm)" field).
cpu_ns() { awk -v t="$ticks" '{ sub(/^.*\) /, ""); print ($12 + $13) * 1000000000 / t }' "/proc/$pid/stat"; }
rss_bytes() { awk '/^VmRSS:/ { print $2 * 1024 }' "/proc/$pid/status"; }
json_field() { sed -n "s/.*\"$2\": \\([^,}]*\\).*/\\1/p" "$1" | head -1; }

load() {  # load <json> <args...>
  local json=$1
  shift
  "$bench" load --local "$gen_ip" --remote "$resp_ip" --group "$group" --ts host \
    --concurrency "$concurrency" --json "$json" --quiet "$@" >>"$work/load.out" 2>&1 || true
  [[ -f $json ]] || { echo "daemon_bench.sh: the generator failed:" >&2; cat "$work/load.out" >&2; exit 1; }
}

# ---- (b) CPU per handshake
start_daemon
load "$work/warm.json" --tunnels 50 --delete --first-index 200000
sleep 0.5
c0=$(cpu_ns)
load "$work/rate.json" --tunnels "$handshakes" --delete --first-index 100000
sleep 1  # the last DELETEs
c1=$(cpu_ns)
est=$(json_field "$work/rate.json" established)
failed=$(json_field "$work/rate.json" failed)
rate=$(json_field "$work/rate.json" handshakes_per_s)
p50=$(json_field "$work/rate.json" latency_p50_ms)
p99=$(json_field "$work/rate.json" latency_p99_ms)
cpu_us=$(awk -v a="$c0" -v b="$c1" -v n="$est" 'BEGIN { printf "%.1f", n ? (b - a) / 1000 / n : 0 }')
stop_daemon

if ((rate_only)); then
  cat >"$out/$daemon-$group-$tag.json" <<EOF
{"bench": "e-cores", "daemon": "$daemon", "tag": "$tag", "cpus": "${cpus:-all}", "workers": $workers, "background": "${MVBENCH_BACKGROUND:-none}", "handshakes": $est, "failed": $failed, "responder_cpu_us_per_handshake": $cpu_us, "handshakes_per_s": $rate, "latency_p50_ms": $p50, "latency_p99_ms": $p99, "concurrency": $concurrency}
EOF
  echo "$daemon $tag: $rate handshakes/s, p50 $p50 ms, p99 $p99 ms, $cpu_us us CPU per handshake, $failed failed"
  exit 0
fi

# ---- (c) RSS per established tunnel
start_daemon
sleep 1
rss0=$(rss_bytes)
mem_json="" mem_line="" done_n=0 mem_fail=0 up=0
IFS=, read -r -a counts <<<"$keep"
for n in "${counts[@]}"; do
  add=$((n - done_n))
  ((add > 0)) || continue
  load "$work/keep-$n.json" --tunnels "$add" --keep --first-index "$done_n" --timeout 60
  done_n=$n
  mem_fail=$((mem_fail + $(json_field "$work/keep-$n.json" failed)))
  up=$((up + $(json_field "$work/keep-$n.json" established)))
  sleep 2
  rss=$(rss_bytes)
  # per tunnel actually held (a failed handshake leaves nothing behind)
  per=$(awk -v a="$rss0" -v b="$rss" -v n="$up" 'BEGIN { printf "%.0f", n ? (b - a) / n : 0 }')
  mem_json+="${mem_json:+, }{\"tunnels_asked\": $n, \"tunnels_up\": $up, \"rss_bytes\": $rss, \"bytes_per_tunnel\": $per}"
  mem_line+=" ${up}:${per}B"
done
stop_daemon

result="$out/$daemon-$group.json"
cat >"$result" <<EOF
{"bench": "b-c-daemon", "daemon": "$daemon", "group": "$group", "handshakes": $est, "failed": $failed, "responder_cpu_us_per_handshake": $cpu_us, "handshakes_per_s": $rate, "latency_p50_ms": $p50, "latency_p99_ms": $p99, "concurrency": $concurrency, "rss_fresh_bytes": $rss0, "keep_failed": $mem_fail, "memory": [$mem_json]}
EOF
cp "$work/load.out" "$out/$daemon-$group.load.log"
[[ -f $work/daemon.log ]] && grep -v -E "ENC|NET" "$work/daemon.log" | tail -"${MVBENCH_LOGLINES:-3000}" >"$out/$daemon-$group.daemon.log"
echo "$daemon $group: ${cpu_us} us CPU/handshake over $est handshakes ($failed failed, $rate hs/s, p50 $p50 ms, p99 $p99 ms); fresh RSS $rss0 B; bytes/tunnel${mem_line} (keep failures $mem_fail)"
