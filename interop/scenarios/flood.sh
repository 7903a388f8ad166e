# about: a responder under an IKE flood for 60 s: the tunnel keeps rekeying with 0 pings lost, a fresh initiator gets in through COOKIE, RSS stays bounded; CPU, RSS, replies and admitted handshakes printed
#
#   host-a ---- ping every 0.1 s -----------------------------------------------> host-b
#   [router a] charon ===== ESP, rekeyed every 4 s (CHILD, IKE) ===== ROLE_B [router b]
#                                                                       ^   ^
#   [inet] minivpn-ike-flood: FLOOD_RATE/s from spoofed 100.64.0.0/10 --+   |
#          (IKE_SA_INIT with valid and all-zero KE, garbage, truncated,     |
#           forged SKF fragments, one replayed request)                     |
#   [router c] charon: initiates to b 30 s into the flood ------------------+
#
# Issue 18. The flood's valid IKE_SA_INIT requests push the responder past its half-open
# threshold, so c's IKE_SA_INIT is answered with COOKIE and must get in with it. Figures for the
# responder (ROLE_B, minivpnd or charon) go to flood-figures.txt: CPU seconds used during the
# flood, peak RSS, UDP datagrams sent, IKE_SA_INIT answers with SA (handshakes admitted) and with
# COOKIE. Parameters: ROLE_B, FLOOD_RATE (datagrams/s, default 1000), FLOOD_SECONDS (60),
# RSS_BOUND_KB (the peak RSS the responder must stay under, default 102400).

rate=${FLOOD_RATE:-1000}
seconds=${FLOOD_SECONDS:-60}
rss_bound=${RSS_BOUND_KB:-102400}
flood=${IKE_FLOOD:-$(dirname "${MINIVPND:-/nonexistent/x}")/../tests/interop/minivpn-ike-flood}
[[ -x $flood ]] || lab_fail "no flood tool at $flood (ninja minivpn-ike-flood, or IKE_FLOOD=path)"

rekey_loop() {
  while :; do
    sleep 4
    lab_rekey a to-b child
    sleep 4
    lab_rekey a to-b ike
  done >/dev/null 2>&1
}

# udp_out X: UDP datagrams sent by namespace X so far (/proc/net/snmp is per namespace).
udp_out() { ip netns exec "$1" awk '/^Udp:/ { if (++n == 2) print $5 }' /proc/net/snmp; }
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"; }
log_count() { grep -cE "$2" "$LAB_OUT/b/$1" 2>/dev/null || true; }

lab_topology_triangle
lab_pair a b
# b answers c's connection from any address (remote_addrs = %any), as a gateway serving road
# warriors does: the flood's IKE_SA_INIT requests match it and cost b half-open SAs.
lab_tunnel c b
lab_conn c b
lab_conn b c remote_addrs=%any
lab_start a b c
expect "tunnel up: initiate from a" lab_initiate a to-b
expect "tunnel up on a" lab_wait_sa a to-b
expect "tunnel up on b" lab_wait_sa b to-a
expect "ping Net A -> Net B" lab_ping host-a "${LAB_HOST[b]}" 3

role=$(role_of b)
log=$([[ $role == minivpnd ]] && echo minivpnd.stdout || echo charon.log)
pid=$(<"$LAB_RUN/b/pid")  # `ip netns exec` execs the daemon: this is its pid
lab_ping_start host-a "${LAB_HOST[b]}" flood-ping
rekey_loop &
rekeys=$!
admitted0=$(log_count "$log" 'generating IKE_SA_INIT response 0 \[ SA')
cookies0=$(log_count "$log" 'generating IKE_SA_INIT response 0 \[ N\(COOKIE\) \]')
udp0=$(udp_out b)
cpu0=$(cpu_ticks "$pid")
rss0=$(rss_kb "$pid")

step "flood b (${LAB_WAN[b]}) from inet: $rate datagrams/s for $seconds s"
ip netns exec inet "$flood" --target "${LAB_WAN[b]}" --rate "$rate" --duration "$seconds" \
  --sources 100.64.0.0/10 >"$LAB_OUT/flood.out" 2>&1 &
flooder=$!
peak=$rss0
for ((t = 1; t <= seconds; t++)); do
  sleep 1
  r=$(rss_kb "$pid")
  ((r > peak)) && peak=$r
  if ((t == seconds / 2)); then
    step "c initiates to b in the middle of the flood"
    lab_initiate c to-b
  fi
done
wait "$flooder"
note "$(tail -n 1 "$LAB_OUT/flood.out")"
expect "the fresh initiator c got in during the flood" lab_wait_sa c to-b 30
through_cookie() {
  LAB_WHY="c's log shows no COOKIE from b (the flood did not switch cookies on?)"
  grep -qE 'parsed IKE_SA_INIT response 0 \[ N\(COOKIE\) \]' "$LAB_OUT/c/charon.log"
}
expect "c got in through COOKIE" through_cookie
cpu=$(($(cpu_ticks "$pid") - cpu0))
udp=$(($(udp_out b) - udp0))
admitted=$(($(log_count "$log" 'generating IKE_SA_INIT response 0 \[ SA') - admitted0))
cookies=$(($(log_count "$log" 'generating IKE_SA_INIT response 0 \[ N\(COOKIE\) \]') - cookies0))
kill "$rekeys" 2>/dev/null
wait "$rekeys" 2>/dev/null
sleep 1
expect "no ping lost during the flood and the rekeys" lab_ping_stop flood-ping
expect "the tunnel a-b is still up" lab_wait_sa a to-b 10
expect "ping Net A -> Net B after the flood" lab_ping host-a "${LAB_HOST[b]}" 3
figures=$(printf '%s responder under %s datagrams/s for %s s: CPU %s.%02d s, RSS %s kB at start, peak %s kB, UDP datagrams sent %s, IKE_SA_INIT answered with SA %s, with COOKIE %s' \
  "$role" "$rate" "$seconds" $((cpu / 100)) $((cpu % 100)) "$rss0" "$peak" "$udp" "$admitted" "$cookies")
echo "$figures" >"$LAB_OUT/flood-figures.txt"
note "$figures"
rss_bounded() {
  LAB_WHY="peak RSS $peak kB, bound $rss_bound kB"
  ((peak < rss_bound))
}
expect "the responder's RSS stayed under $rss_bound kB (peak $peak kB)" rss_bounded
