# about: (d) of issue 8: tunnel-up latency, initiate on a -> first ping reply host-a -> host-b
#
#   host-a 10.1.0.10 -- [router a] vti-b ==== ESP, key 12 ==== vti-a [router b] -- host-b 10.2.0.10
#                        192.0.2.1 ------------ [ inet ] ------------ 198.51.100.1
#
# A lab scenario (interop/lib/lab.sh vocabulary), booted by bench/tunnel_latency.sh the way
# interop/run boots its own. ROLE_A picks router a's daemon (charon | minivpnd); router b runs
# charon. Each round: tunnel down, then t0 = the initiate command on a, t1 = the first echo reply
# host-a gets from host-b (pinging in a loop from t0 on). Writes
# $LAB_OUT/latency.txt (one value in ms per round).

rounds=${ROUNDS:-10}
lab_topology_two_sites
lab_pair a b
lab_start a b
: >"$LAB_OUT/latency.txt"
for ((round = 1; round <= rounds; round++)); do
  step "round $round"
  t0=$EPOCHREALTIME
  # Until the SA is there, a ping fails at once (no xfrm state: "unreachable"), and ping exits
  # at that first error even with -w; so one ping per try, in a tight loop, in the background.
  (
    end=$((${EPOCHREALTIME/./} + 20000000))
    while ((${EPOCHREALTIME/./} < end)); do
      if ip netns exec host-a ping -n -c 1 -W 1 "${LAB_HOST[b]}" >/dev/null 2>&1; then
        echo "$EPOCHREALTIME" >"$LAB_OUT/reply-$round.txt"
        break
      fi
    done
  ) &
  ping_pid=$!
  expect "initiate on a (round $round)" lab_initiate a to-b
  wait "$ping_pid"
  t1=$(cat "$LAB_OUT/reply-$round.txt" 2>/dev/null)
  [[ -n $t1 ]] || lab_fail "round $round: no ping reply within 20 s"
  awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f\n", (b - a) * 1000 }' >>"$LAB_OUT/latency.txt"
  note "round $round: $(tail -n 1 "$LAB_OUT/latency.txt") ms"
  expect "tunnel up on b (round $round)" lab_wait_sa b to-a
  expect "terminate on a (round $round)" lab_terminate a to-b
  expect "tunnel down on a (round $round)" lab_wait_no_sa a to-b
  expect "tunnel down on b (round $round)" lab_wait_no_sa b to-a
  sleep 0.5
done
