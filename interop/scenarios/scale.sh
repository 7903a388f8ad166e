# about: N tunnels in the lab's kernel (issue 24): the load generator (minivpn-bench load, on router b, null kernel) brings up TUNNELS IKE+CHILD SAs into router a's daemon (charon or minivpnd) in segments of SEGMENT; per segment the daemon's CPU (user + system: the netlink installs are system time) per tunnel, the generator's handshakes/s and setup p50/p99; at the end the kernel's SAs and policies, the memory per tunnel (MemAvailable: kernel + daemon) and the daemon's share (RSS growth) and the kernel's (the rest of the MemAvailable drop; the generator exits after each segment)
#
#   [router b] minivpn-bench load 198.51.100.1 ==== N IKE SAs ====> 192.0.2.1 [router a] daemon
#                                                                            |  sample tunnel
#   host-a 10.1.0.10 ---- ping, during the rekey storm ----> [router c] charon ---- host-c 10.3.0.10
#
# MODE: vti   0/0 <-> 0/0 with mark_in = mark_out = %unique (what N VTIs look like: every policy has
#             the same selectors, told apart by the mark only, so each insert walks the others)
#       ifid  0/0 <-> 0/0 with if_id_in = if_id_out = %unique (XFRM interfaces: the if_id is hashed)
#       host  10.0.0.0/24 <-> 10.128.0.0+i/32 (policy-based: distinct selectors)
# scale.txt's user_us and system_us split the daemon's CPU per tunnel: system time is the kernel's
# work for it (the netlink installs, the policy and SA inserts).
# REKEY=S (0: none): then a rekey storm. The daemon restarts with the CHILD_SAs' rekey_time = S (no
# random part), one generator run brings all TUNNELS up again and stays (--hold) answering: every
# CHILD_SA is rekeyed by the daemon S seconds after it was made, all within the bring-up's span.
# Reported: the tunnels rekeyed, when the first and the last were (seconds from the start of that
# run; the generator stays REKEY + 60 s after its bring-up), failures, and handshakes that failed
# in the second bring-up. A sample tunnel carries traffic meanwhile: router c's charon (a real
# kernel, which the generator has not) and router a's daemon hold a policy-based CHILD_SA
# 10.1.0.0/24 <-> 10.3.0.0/24 (no mark: no policy of the generator's tunnels can take its
# packets), rekeyed by a after REKEY s as the others; host-a pings host-c every 0.2 s through the
# second bring-up and the storm, and the loss is reported.
# A benchmark, not a check: it passes when every tunnel came up and the figures were written to
# scale.txt in the row's results; tag `scale`, outside the default run
# (`interop/run --tag scale`).

lab_topology_triangle
mode=${MODE:-vti}
tunnels=${TUNNELS:-2000}
segment=${SEGMENT:-500}
bench=${LAB_BENCH:-$LAB_DIR/../build-bench/bench/minivpn-bench}
[[ -x $bench ]] || lab_fail "no load generator $bench (ninja -C build-bench minivpn-bench)"
# shellcheck source=bench/generator_peer.sh
source "$LAB_DIR/../bench/generator_peer.sh"
case $mode in
  vti) child_ts="local_ts = 0.0.0.0/0
        remote_ts = 0.0.0.0/0
        mark_in = %unique
        mark_out = %unique" gen_ts=route ;;
  ifid) child_ts="local_ts = 0.0.0.0/0
        remote_ts = 0.0.0.0/0
        if_id_in = %unique
        if_id_out = %unique" gen_ts=route ;;
  host) child_ts="local_ts = 10.0.0.0/24
        remote_ts = 10.128.0.0/9" gen_ts=host ;;
  *) lab_fail "MODE is vti, ifid or host, not '$mode'" ;;
esac
mkdir -p "$LAB_RUN/a"
# rekey_time long enough that nothing rekeys during the bring-up; the storm is asked for below.
generator_peer gen "${LAB_WAN[a]}" aes256gcm16-prfsha256-x25519 "$child_ts" >"$LAB_RUN/a/connections"
generator_secret gen >"$LAB_RUN/a/secrets"
# The sample tunnel a <-> c (the rekey storm's sed turns a's child rekeying on as the others').
lab_conn a c mark=no local_ts="${LAB_NET[a]}" remote_ts="${LAB_NET[c]}" rekey=0 life=0
lab_conn c a mark=no local_ts="${LAB_NET[c]}" remote_ts="${LAB_NET[a]}"
export LAB_CHARON_SETTINGS="cookie_threshold = 10000000;cookie_threshold_ip = 10000000;block_threshold = 10000000;init_limit_half_open = 0"
export LAB_LOG_LEVEL=0
mem_kb() { awk '/^MemAvailable:/ { print $2 }' /proc/meminfo; }
lab_start a c
pid=$(cat "$LAB_RUN/a/pid")
rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$pid/status"; }
rss0=$(rss_kb)
mem0=$(mem_kb)
ticks=$(getconf CLK_TCK)
# "utime stime" of the daemon, in clock ticks
cpu_ticks() { awk '{ sub(/^.*\) /, ""); print $12, $13 }' "/proc/$pid/stat"; }
# us_per N TICKS0 TICKS1: microseconds per tunnel between two readings
us_per() { awk -v n="$1" -v a="$2" -v b="$3" -v t="$ticks" 'BEGIN { printf "%.0f", n ? (b - a) * 1e6 / t / n : 0 }'; }
json_field() { sed -n "s/.*\"$2\": \\([^,}]*\\).*/\\1/p" "$1" | head -1; }

out="$LAB_OUT/scale.txt"
role=$(role_of a)
echo "# $role MODE=$mode TUNNELS=$tunnels SEGMENT=$segment kernel $(uname -r)" >"$out"
echo "# up_to daemon_us_per_tunnel handshakes_per_s p50_ms p99_ms failed user_us system_us" >>"$out"
done_n=0 up=0
while ((done_n < tunnels)); do
  add=$((tunnels - done_n < segment ? tunnels - done_n : segment))
  read -r u0 s0 <<<"$(cpu_ticks)"
  ip netns exec b "$bench" load --local "${LAB_WAN[b]}" --remote "${LAB_WAN[a]}" --group x25519 \
    --ts "$gen_ts" --concurrency 16 --tunnels "$add" --keep --first-index "$done_n" --timeout 600 \
    --json "$LAB_OUT/seg-$done_n.json" --quiet >>"$LAB_OUT/load.out" 2>&1 ||
    lab_fail "the generator failed (see load.out)"
  read -r u1 s1 <<<"$(cpu_ticks)"
  est=$(json_field "$LAB_OUT/seg-$done_n.json" established)
  up=$((up + est))
  done_n=$((done_n + add))
  seg="$LAB_OUT/seg-$((done_n - add)).json"
  echo "$done_n $(us_per "$est" $((u0 + s0)) $((u1 + s1))) $(json_field "$seg" handshakes_per_s) $(json_field "$seg" latency_p50_ms) $(json_field "$seg" latency_p99_ms) $(json_field "$seg" failed) $(us_per "$est" "$u0" "$u1") $(us_per "$est" "$s0" "$s1")" >>"$out"
done
expect "all $tunnels tunnels up" test "$up" -eq "$tunnels"
states=$(ip -n a xfrm state count 2>/dev/null | grep -o '[0-9]*' | head -1)
# "SPD IN  n OUT n FWD n (Sock: ...)": the three directions' policies
policies=$(ip -n a xfrm policy count 2>/dev/null |
  awk '/SPD IN/ { print $3 + $5 + $7; exit }')
mem1=$(mem_kb)
rss1=$(rss_kb)
daemon_b=$(((rss1 - rss0) * 1024 / tunnels))
{
  echo "kernel: $states SAs, $policies policies"
  echo "bytes per tunnel: daemon $daemon_b (RSS growth), kernel $(((mem0 - mem1 - (rss1 - rss0)) * 1024 / tunnels)) (MemAvailable drop less that)"
} >>"$out"

rekey=${REKEY:-0}
if ((rekey > 0)); then
  lab_stop a
  sed -i "s/^        rekey_time = 0\$/        rekey_time = ${rekey}s\n        rand_time = 0/; s/^        life_time = 0\$/        life_time = $((rekey * 4))s/" \
    "$LAB_RUN/a/connections"
  lab_start a
  pid=$(cat "$LAB_RUN/a/pid")
  expect "sample tunnel a -> c up" lab_initiate a to-c
  expect "sample tunnel up on c" lab_wait_sa c to-a
  expect "sample tunnel carries traffic" lab_ping host-a "${LAB_HOST[c]}" 3
  sample_child=$(child_id c to-a)
  ip netns exec host-a ping -n -q -i 0.2 -W 1 "${LAB_HOST[c]}" >"$LAB_OUT/sample-ping.txt" 2>&1 &
  ping_pid=$!
  # Exits non-zero when a handshake failed (an overloaded daemon): reported, not fatal.
  ip netns exec b "$bench" load --local "${LAB_WAN[b]}" --remote "${LAB_WAN[a]}" --group x25519 \
    --ts "$gen_ts" --concurrency 16 --tunnels "$tunnels" --keep --timeout 600 \
    --hold $((rekey + 60)) --json "$LAB_OUT/storm.json" --quiet >>"$LAB_OUT/load.out" 2>&1
  kill -INT "$ping_pid"
  wait "$ping_pid" || true
  [[ -f $LAB_OUT/storm.json ]] || lab_fail "the generator failed in the rekey storm (see load.out)"
  sent=$(sed -nE 's/^([0-9]+) packets transmitted.*/\1/p' "$LAB_OUT/sample-ping.txt")
  got=$(sed -nE 's/.* ([0-9]+) (packets )?received.*/\1/p' "$LAB_OUT/sample-ping.txt")
  sample_rekeys=$(($(child_id c to-a) - sample_child))
  storm_up=$(json_field "$LAB_OUT/storm.json" established)
  rekeys=$(json_field "$LAB_OUT/storm.json" rekeys)
  rekeyed=$(json_field "$LAB_OUT/storm.json" tunnels_rekeyed)
  first=$(json_field "$LAB_OUT/storm.json" rekey_first_s)
  last=$(json_field "$LAB_OUT/storm.json" rekey_last_s)
  echo "rekey storm (rekey_time ${rekey}s): $rekeyed of $tunnels tunnels' CHILD_SAs rekeyed, the first at $first s and the last at $last s of the run ($rekeys rekeys in all, the first ones again after ${rekey}s), $(json_field "$LAB_OUT/storm.json" hold_failures) rekey failures; $storm_up of $tunnels tunnels up in this bring-up, in $(json_field "$LAB_OUT/storm.json" elapsed_s) s" >>"$out"
  echo "sample tunnel a <-> c during the second bring-up and the storm: $got of $sent pings answered ($(((sent - got) * 100 / (sent ? sent : 1)))% loss, ping every 0.2 s); its CHILD_SA rekeyed $sample_rekeys times" >>"$out"
  expect "the sample tunnel's pings were sent" test "${sent:-0}" -gt 0
  expect "the sample tunnel's CHILD_SA was rekeyed in the storm" test "$sample_rekeys" -ge 1
  expect "every tunnel up in the storm's bring-up had its CHILD_SA rekeyed" test "$rekeyed" -eq "$storm_up"
fi
cat "$out"
