# about: a responder under an IKE flood for 60 s (IPv4 and one IPv6 /64, replays of the tunnel's own IKE messages): the tunnel keeps rekeying with 0 pings lost, a fresh initiator gets in through COOKIE, RSS stays bounded; CPU, RSS, replies and admitted handshakes printed
#
#   host-a ---- ping every 0.1 s -----------------------------------------------> host-b
#   [router a] charon ===== ESP, rekeyed every 4 s (CHILD, IKE) ===== ROLE_B [router b]
#                  |                                                    ^   ^   ^
#   [inet] minivpn-ike-flood: FLOOD_RATE/s                              |   |   |
#     (1) from spoofed 100.64.0.0/10 ------------------------------------+   |   |
#         IKE_SA_INIT with valid and all-zero KE, garbage, truncated,        |   |
#         forged SKF fragments, one replayed IKE_SA_INIT                     |   |
#     (2) from 2001:db8:f100::/64 (random host parts) to 2001:db8:b::1 ------+   |
#         IKE_SA_INIT with valid and all-zero KE; COOKIEs echoed (valid KE)      |
#     (3) a's protected IKE datagrams, captured on inet's eth-a (the path a -> b  |
#         crosses inet), replayed from a's address and port ----------------------+
#   [router c] charon: initiates to b 30 s into the flood (IPv4) ---------------> b
#
# Issue 18. The flood's valid IKE_SA_INIT requests push the responder past its half-open
# threshold, so c's IKE_SA_INIT is answered with COOKIE and must get in with it. Figures for the
# responder (ROLE_B, minivpnd or charon) go to flood-figures.txt: CPU seconds used during the
# flood, peak RSS, UDP datagrams sent, IKE_SA_INIT answers with SA (handshakes admitted) and with
# COOKIE, datagrams dropped unread (socket receive buffer full), seconds c's handshake took; then
# the IPv6 part and the replays.
#
# IPv6: b's transport link gets 2001:db8:b::1/64 (lab_wan6) and b's road-warrior connection
# (to-c, remote_addrs = %any) local_addrs = %any, so an IKE_SA_INIT to b's IPv6 address costs a
# half-open SA as one to its IPv4 address does. The attacker owns the /64 (it is routed to inet,
# where the tool reads the answers), so it sends each valid request again with the COOKIE it got.
# RFC 7296 2.6 (and minivpn's engine) count an IPv6 /64 as ONE source for the per-source
# thresholds (cookie_threshold_ip 3, block_threshold 5): minivpnd admits at most block_threshold
# half-open SAs from the whole /64 per half_open_timeout (30 s), then drops its requests unanswered
# (checked: the /64 got COOKIEs; answers with SA to it <= 5 in each 10 s of the flood and
# <= 5 x (1 + FLOOD_SECONDS / 30) in all). charon counts per address (/128): its figures are
# printed only.
#
# Replays: b gets a's CREATE_CHILD_SA/INFORMATIONAL (and IKE_AUTH) messages again, as captured.
# A replayed request that is the last one of its IKE SA gets the cached response; minivpnd sends
# it at most max_cached_resends (10) times per request (checked from b's log), anything else is
# dropped. The tunnel must not notice (0 pings lost). How often b answered from its cache, in
# total and at most for one request, is printed for both daemons.
#
# Parameters: ROLE_B, FLOOD_RATE (datagrams/s, default 1000, shared evenly by 8 slots: the six
# IPv4 kinds, IPv6 (valid and zero KE in turn), replays of captured datagrams),
# FLOOD_SECONDS (60), RSS_BOUND_KB (the peak RSS the responder must stay under, default 102400).

rate=${FLOOD_RATE:-1000}
seconds=${FLOOD_SECONDS:-60}
rss_bound=${RSS_BOUND_KB:-102400}
sources6=2001:db8:f100::/64  # the attacker's IPv6 /64
block_threshold=5            # charon's and minivpnd's defaults (strongswan.conf sets neither)
half_open_timeout=30
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

# udp_out X: UDP datagrams sent by namespace X so far (/proc/net/snmp is per namespace; IPv4).
udp_out() { ip netns exec "$1" awk '/^Udp:/ { if (++n == 2) print $5 }' /proc/net/snmp; }
# udp6 X COUNTER: a UDP/IPv6 counter of namespace X (Udp6InDatagrams, Udp6OutDatagrams).
udp6() { ip netns exec "$1" awk -v c="$2" '$1 == c { print $2 }' /proc/net/snmp6; }
# udp_drops X: UDP datagrams (IPv4 and IPv6) namespace X dropped so far because a socket's
# receive buffer was full (the daemon did not read fast enough).
udp_drops() {
  ip netns exec "$1" awk '/^Udp:/ { if (++n == 2) d += $6 } $1 == "Udp6RcvbufErrors" { d += $2 }
    END { print d + 0 }' /proc/net/snmp /proc/net/snmp6
}
# log_time FILE REGEX: the time (seconds of the day) of the first line of a charon log (%T) that
# matches.
log_time() {
  awk -v re="$2" '$0 ~ re { split($1, t, ":"); print t[1] * 3600 + t[2] * 60 + t[3]; exit }' "$1"
}
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"; }
log_count() { grep -cE "$2" "$LAB_OUT/b/$1" 2>/dev/null || true; }
# cached_resends LOG: "TOTAL MAX REQUESTS": responses b sent again from its cache to repeated
# requests of the tunnel a-b (IKE SAs to-a), in total, at most for one request (IKE SA and
# message ID), and for how many requests. minivpnd: "to-a[N] retransmit response M (cached)";
# charon: "<to-a|N> received retransmit of request with ID M, retransmitting response".
cached_resends() {
  sed -nE -e 's/.*(to-a\[[0-9]+\]) retransmit response ([0-9]+) \(cached\).*/\1 \2/p' \
    -e 's/.*<(to-a\|[0-9]+)> received retransmit of request with ID ([0-9]+), retransmitting response.*/\1 \2/p' \
    "$LAB_OUT/b/$1" | sort | uniq -c | awk '{ n += $1; if ($1 > m) m = $1 } END { print n + 0, m + 0, NR }'
}
# flood_field LINE-PREFIX REGEX: the first group of REGEX on the line of flood.out that starts
# with LINE-PREFIX (0 if none).
flood_field() {
  local v
  v=$(sed -nE "s/^$1.*$2.*/\1/p" "$LAB_OUT/flood.out" | head -n 1)
  echo "${v:-0}"
}

lab_topology_triangle
lab_wan6 b
# The attacker's /64 is routed to inet: b's answers to it end there, silently (no ICMPv6 back).
must ip -n inet route add blackhole "$sources6"
expect "IPv6 transport inet -> b reachable" lab_ping inet "${LAB_WAN6[b]}" 1
lab_pair a b
# b answers c's connection from any address (remote_addrs = %any), as a gateway serving road
# warriors does, on any of its addresses (local_addrs = %any, IPv6 included): the flood's
# IKE_SA_INIT requests match it and cost b half-open SAs.
lab_tunnel c b
lab_conn c b
lab_conn b c remote_addrs=%any local_addrs=%any
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
drops0=$(udp_drops b)
udp6_in0=$(udp6 b Udp6InDatagrams)
udp6_out0=$(udp6 b Udp6OutDatagrams)
cpu0=$(cpu_ticks "$pid")
rss0=$(rss_kb "$pid")

step "flood b (${LAB_WAN[b]}, ${LAB_WAN6[b]}) from inet: $rate datagrams/s for $seconds s, replaying what a sends b"
ip netns exec inet "$flood" --target "${LAB_WAN[b]}" --rate "$rate" --duration "$seconds" \
  --sources 100.64.0.0/10 --target6 "${LAB_WAN6[b]}" --sources6 "$sources6" --capture eth-a \
  >"$LAB_OUT/flood.out" 2>&1 &
flooder=$!
peak=$rss0
# RSS sampled every second until the flood ends; c starts at its middle by the clock (a loaded
# guest makes each round of this loop take longer than a second).
flood_start=$SECONDS
initiated=0
while kill -0 "$flooder" 2>/dev/null; do
  sleep 1
  r=$(rss_kb "$pid")
  ((r > peak)) && peak=$r
  if ((!initiated && SECONDS - flood_start >= seconds / 2)); then
    initiated=1
    step "c initiates to b in the middle of the flood"
    lab_initiate c to-b
  fi
done
wait "$flooder"
((initiated)) || lab_fail "the flood tool ended after $((SECONDS - flood_start)) s: $(tail -n 1 "$LAB_OUT/flood.out")"
while read -r line; do note "$line"; done <"$LAB_OUT/flood.out"
expect "the fresh initiator c got in during the flood" lab_wait_sa c to-b 30
through_cookie() {
  LAB_WHY="c's log shows no COOKIE from b (the flood did not switch cookies on?)"
  grep -qE 'parsed IKE_SA_INIT response 0 \[ N\(COOKIE\) \]' "$LAB_OUT/c/charon.log"
}
expect "c got in through COOKIE" through_cookie
# How long c's handshake took, from its first IKE_SA_INIT to the IKE SA established (c's log).
c_up=$(log_time "$LAB_OUT/c/charon.log" 'IKE_SA to-b.[0-9]+. established')
c_init=$(log_time "$LAB_OUT/c/charon.log" 'initiating IKE_SA to-b.')
c_setup=$((${c_up:-0} - ${c_init:-0}))
cpu=$(($(cpu_ticks "$pid") - cpu0))
udp=$(($(udp_out b) - udp0))
drops=$(($(udp_drops b) - drops0))
admitted=$(($(log_count "$log" 'generating IKE_SA_INIT response 0 \[ SA') - admitted0))
cookies=$(($(log_count "$log" 'generating IKE_SA_INIT response 0 \[ N\(COOKIE\) \]') - cookies0))
udp6_in=$(($(udp6 b Udp6InDatagrams) - udp6_in0))
udp6_out=$(($(udp6 b Udp6OutDatagrams) - udp6_out0))
kill "$rekeys" 2>/dev/null
wait "$rekeys" 2>/dev/null
sleep 1
expect "no ping lost during the flood and the rekeys" lab_ping_stop flood-ping
expect "the tunnel a-b is still up" lab_wait_sa a to-b 10
expect "ping Net A -> Net B after the flood" lab_ping host-a "${LAB_HOST[b]}" 3
# The IPv6 part, as the attacker saw it (flood.out) and as b counted it (UDP/IPv6 datagrams).
requests6=$(flood_field 'ipv6:' ' ([0-9]+) IKE_SA_INIT requests')
sa6=$(flood_field 'ipv6:' 'answers seen: with SA ([0-9]+),')
cookie6=$(flood_field 'ipv6:' 'with COOKIE ([0-9]+),')
other6=$(flood_field 'ipv6:' 'other ([0-9]+);')
per10s6=$(sed -nE 's/^ipv6:.*with SA per 10 s: (.*)/\1/p' "$LAB_OUT/flood.out")
# The replays: how many captured datagrams went to b, and how b answered from its cache.
captured=$(flood_field 'capture:' ' ([0-9]+) distinct')
replayed=$(flood_field 'capture:' 'replayed ([0-9]+) times')
read -r resent resent_max resent_requests <<<"$(cached_resends "$log")"
figures=$(printf '%s responder under %s datagrams/s for %s s: CPU %s.%02d s, RSS %s kB at start, peak %s kB, UDP datagrams sent %s, IKE_SA_INIT answered with SA %s, with COOKIE %s; dropped unread (receive buffer full) %s; c in after %s s; IPv6 /64: %s requests, %s UDP/IPv6 received, %s sent, answers with SA %s (per 10 s: %s), with COOKIE %s, other %s; replays: %s captured datagrams of a replayed %s times, answered from the cache %s times (%s requests, at most %s each)' \
  "$role" "$rate" "$seconds" $((cpu / 100)) $((cpu % 100)) "$rss0" "$peak" "$udp" "$admitted" "$cookies" "$drops" "$c_setup" \
  "$requests6" "$udp6_in" "$udp6_out" "$sa6" "$per10s6" "$cookie6" "$other6" \
  "$captured" "$replayed" "$resent" "$resent_requests" "$resent_max")
echo "$figures" >"$LAB_OUT/flood-figures.txt"
note "$figures"
rss_bounded() {
  LAB_WHY="peak RSS $peak kB, bound $rss_bound kB"
  ((peak < rss_bound))
}
expect "the responder's RSS stayed under $rss_bound kB (peak $peak kB)" rss_bounded
ipv6_reached_b() {
  LAB_WHY="b received $udp6_in UDP/IPv6 datagrams and the attacker saw $((sa6 + cookie6 + other6)) answers (IPv6 flood not delivered?)"
  ((udp6_in > 0 && sa6 + cookie6 + other6 > 0))
}
expect "the IPv6 flood reached b and b answered some of it" ipv6_reached_b
replays_sent() {
  LAB_WHY="nothing captured on inet/eth-a ($captured datagrams) or replayed ($replayed)"
  ((captured > 0 && replayed > 0))
}
expect "a's IKE messages were captured and replayed at b" replays_sent
if [[ $role == minivpnd ]]; then
  # The /64's half-open SAs live half_open_timeout: block_threshold of them at a time means at
  # most that many answers with SA in each 10 s, and block_threshold per half_open_timeout in all.
  sa6_bound=$((block_threshold * (1 + seconds / half_open_timeout)))
  sa6_max10=0
  for c in $per10s6; do ((c > sa6_max10)) && sa6_max10=$c; done
  one_source() {
    LAB_WHY="$sa6 IKE_SA_INIT answers with SA to $sources6 (bound $sa6_bound), per 10 s: $per10s6 (bound $block_threshold): the /64 is not one source"
    ((sa6 <= sa6_bound && sa6_max10 <= block_threshold))
  }
  expect "the IPv6 /64 is one source: answers with SA $sa6 <= $sa6_bound, at most $sa6_max10 <= $block_threshold in 10 s" one_source
  cookie_for_the_64() {
    LAB_WHY="no COOKIE to $sources6 ($cookie6)"
    ((cookie6 > 0))
  }
  expect "the /64 was asked for COOKIEs before it was blocked ($cookie6)" cookie_for_the_64
  cache_bounded() {
    LAB_WHY="a request of the tunnel got $resent_max responses from the cache (max_cached_resends 10)"
    ((resent_max <= 10))
  }
  expect "replayed requests got at most 10 cached responses each (at most $resent_max)" cache_bounded
fi
