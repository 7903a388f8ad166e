# about: BGP over three VTI tunnels: the A-B path is cut, BGP moves Net A <-> Net B onto A-C-B, DPD clears, it comes back
#
#                    host-c 10.3.0.10 (Net C)        AS 65003, minivpnd (ROLE_C)
#                              |
#                          [router c] vti-a 169.254.13.2   vti-b 169.254.23.2
#                     key 13 //  | 203.0.113.1               \\ key 23
#                 eBGP a-c  //   |                            \\  eBGP b-c
#   AS 65001              //     |                             \\             AS 65002
#   minivpnd (ROLE_A) [router a] ====[ inet: drops a<->b when cut ]==== [router b] charon (ROLE_B)
#   vti-b 169.254.12.1, vti-c 169.254.13.1      key 12, eBGP a-b      vti-a 169.254.12.2
#   eth0 192.0.2.1                                                    vti-c 169.254.23.1
#      |                                                              eth0 198.51.100.1 |
#   host-a 10.1.0.10 (Net A)                                       (Net B) host-b 10.2.0.10
#
# Each router runs BIRD 2 (interop/lib/bgp.sh): one eBGP session per VTI, to the far end's inner
# address, announcing its own local network; BIRD writes the learned routes into the kernel. No
# static route points into a tunnel: what enters which VTI is BGP's decision alone.
#
#  1. All three tunnels up, BGP established on all six sessions; Net A -> Net B goes a -> b
#     directly (traceroute: 10.1.0.1, 169.254.12.2, host-b).
#  2. Continuous ping Net A -> Net B every 0.1 s; inet starts dropping everything between a's and
#     b's transport addresses (IKE and ESP). The a-b BGP session times out (hold 3 s), the routes
#     through vti-b are withdrawn and a's kernel routes Net B into vti-c: traceroute shows c.
#     The lost pings x 0.1 s = the measured outage.
#  3. a's DPD (2 s, 3 retransmits) declares b dead and removes the A-B SAs; dpd_action = restart
#     with keyingtries = 0 keeps trying.
#  4. The path heals: a's next attempt gets through, the tunnel is back by itself, BGP re-forms
#     over it and Net A -> Net B returns to the direct path. Time until the tunnel is back and
#     until the traffic is back on A-B are printed.
#
# LINK=xfrmi: the same on XFRM interfaces (xfrm-a, xfrm-b, xfrm-c on eth0) instead of VTIs, each
# pair's if_id = its key (if_id_in = if_id_out, no marks). A minivpnd router makes its own
# interfaces (minivpn's xfrmi section, no routes: BGP decides); a charon router's are the lab's
# (`ip link add ... type xfrm`). Needs the xfrm_interface module: BACKEND=qemu
# LAB_EXTRA_MODULES=xfrm_interface.
#
# BFD=on: BFD on every BGP session (interop/lib/bgp.sh: 100 ms, multiplier 3), so the A-B session
# dies 0.3 s after the cut instead of after the 3 s hold time; the row fails when the outage is
# MAX_OUTAGE seconds (default 1.0) or more.
#
# BGP=off is the negative control (the row in scenarios.list must fail): BIRD is not started and
# static routes into the direct tunnels stand in for what BGP would have announced, so steps 1
# passes and the failover of step 2 fails.
# shellcheck disable=SC2034 # LAB_WHY is read by expect (lib/lab.sh)
# Parameters: ROLE_A, ROLE_B, ROLE_C (charon | minivpnd), BGP (on | off), LINK (vti | xfrmi),
# BFD (on | off), MAX_OUTAGE (seconds, with BFD).

BGP=${BGP:-on}
LAB_BFD=${BFD:-off}
MAX_OUTAGE=${MAX_OUTAGE:-1.0}
LINK=${LINK:-vti}
dev=$([[ $LINK == xfrmi ]] && echo xfrm- || echo vti-)   # dev<router>: the link towards it
PING_INTERVAL=0.1
# secs T0 T1: the time between two ${EPOCHREALTIME/./} stamps (microseconds), as "12.3".
secs() { echo "$((($2 - $1) / 1000000)).$((($2 - $1) / 100000 % 10))"; }

# link X Y: X's link towards Y, and the lab_conn options that go with it (in LINK_OPTS).
link() {
  local x=$1 y=$2
  LINK_OPTS=()
  if [[ $LINK == vti ]]; then
    lab_vti "$x" "$y" noroute
    return
  fi
  LINK_OPTS=("if_id=$(pair_key "$x" "$y")")
  if [[ $(role_of "$x") == minivpnd ]]; then
    LINK_OPTS+=("xfrmi=xfrm-$y" link_routes=no)
  else
    lab_xfrmi "$x" "$y" "$(pair_key "$x" "$y")" noroute
  fi
}

# outage_below LOST MAX: LOST pings every PING_INTERVAL are less than MAX seconds.
outage_below() {
  awk -v n="$1" -v i="$PING_INTERVAL" -v max="$2" 'BEGIN { exit !(n * i < max) }' && return 0
  LAB_WHY="outage $(awk -v n="$1" -v i="$PING_INTERVAL" 'BEGIN { printf "%.1f", n * i }') s, bound $2 s"
  return 1
}

# xfrmi_is X Y: X's xfrm-Y is an XFRM interface with the pair's if_id, up, with its inner address.
xfrmi_is() {
  local x=$1 y=$2 id details
  id=$(printf '0x%x' "$(pair_key "$x" "$y")")
  details=$(ip -n "$x" -d addr show "xfrm-$y" 2>&1)
  note "$x/xfrm-$y: $(tr -s ' \n' ' ' <<<"$details")"
  grep -q "xfrm if_id $id" <<<"$details" && grep -q ",UP" <<<"$details" &&
    grep -q "inet $(tunnel_addr "$x" "$y")/30" <<<"$details" && return 0
  LAB_WHY="$x/xfrm-$y is not an XFRM interface with if_id $id, up, with $(tunnel_addr "$x" "$y")/30"
  return 1
}

lab_topology_triangle
[[ $LINK == vti ]] || expect "xfrm_interface loaded" test -d /sys/module/xfrm_interface
# a watches b (the link that will fail) and keeps reconnecting; b forgets a dead a by itself.
link a b
lab_conn a b dpd=2s dpd_action=restart keyingtries=0 "${LINK_OPTS[@]}"
link b a
lab_conn b a dpd=2s dpd_action=clear "${LINK_OPTS[@]}"
link a c
lab_conn a c dpd=2s dpd_action=restart keyingtries=0 "${LINK_OPTS[@]}"
link c a
lab_conn c a "${LINK_OPTS[@]}"
link b c
lab_conn b c "${LINK_OPTS[@]}"
link c b
lab_conn c b "${LINK_OPTS[@]}"
lab_start a b c
lab_triangle_up
if [[ $LINK == xfrmi ]]; then
  for x in a b c; do
    [[ $(role_of "$x") == minivpnd ]] || continue
    for y in a b c; do
      [[ $x == "$y" ]] && continue
      expect "$x: minivpnd made xfrm-$y itself (if_id $(pair_key "$x" "$y"))" lab_wait_log "$x" \
        "created XFRM interface xfrm-$y \\(if_id $(pair_key "$x" "$y"), dev eth0\\)"
      expect "$x: xfrm-$y is up, with the pair's if_id and (the tunnel being up) its inner address" \
        wait_until 5 xfrmi_is "$x" "$y"
    done
  done
fi

if [[ $BGP == on ]]; then
  lab_bird_config a b c
  lab_bird_config b a c
  lab_bird_config c a b
  lab_bird_start a b c
  for pair in "a b" "a c" "b a" "b c" "c a" "c b"; do
    # shellcheck disable=SC2086
    expect "BGP session ${pair/ / -> } established over its ${LINK/vti/VTI}" lab_wait_bgp $pair 30
  done
  if [[ $LAB_BFD == on ]]; then
    for pair in "a b" "a c" "b a" "b c" "c a" "c b"; do
      # shellcheck disable=SC2086
      expect "BFD session ${pair/ / -> } up" wait_until 10 bfd_up $pair
    done
  fi
else
  step "BGP=off: no BIRD; static routes into the direct tunnels instead"
  for x in a b c; do
    for y in a b c; do
      [[ $x == "$y" ]] || must ip -n "$x" route add "${LAB_NET[$y]}" dev "$dev$y"
    done
  done
fi

# 1. The direct path.
expect "a routes Net B into ${dev}b" lab_wait_route a "${LAB_HOST[b]}" "${dev}b" 20
expect "b routes Net A into ${dev}a" lab_wait_route b "${LAB_HOST[a]}" "${dev}a" 20
expect "ping Net A -> Net B" lab_ping host-a "${LAB_HOST[b]}" 3
expect "traceroute Net A -> Net B: the A-B tunnel, no C" \
  path_is host-a "${LAB_HOST[b]}" direct-before "${LAB_LAN_GW[a]}" "$(tunnel_addr b a)" "${LAB_HOST[b]}"

# 2. Cut the A-B transport path under a continuous ping.
lab_ping_start host-a "${LAB_HOST[b]}" failover "$PING_INTERVAL"
sleep 1
lab_cut a b
t_cut=${EPOCHREALTIME/./}
expect "failover: a routes Net B into ${dev}c (BGP withdrew the A-B routes)" \
  lab_wait_route a "${LAB_HOST[b]}" "${dev}c" 20
t_route=${EPOCHREALTIME/./}
expect "failover: b routes Net A into ${dev}c" lab_wait_route b "${LAB_HOST[a]}" "${dev}c" 10
expect "failover: traceroute Net A -> Net B goes through C" \
  path_is host-a "${LAB_HOST[b]}" via-c "${LAB_LAN_GW[a]}" "$(tunnel_addr c a)" \
  "$(tunnel_addr b c)" "${LAB_HOST[b]}"
sleep 2
lab_ping_stop failover
failover_sent=$LAB_PING_SENT failover_lost=$LAB_PING_LOST
expect "failover: traffic flows again through C" lab_ping host-a "${LAB_HOST[b]}" 5
step "measured: outage $(awk -v n="$failover_lost" -v i="$PING_INTERVAL" 'BEGIN { printf "%.1f", n * i }') s" \
  "($failover_lost of $failover_sent pings every ${PING_INTERVAL}s lost);" \
  "a's route to Net B moved to ${dev}c $(secs "$t_cut" "$t_route") s after the cut"
if [[ $LAB_BFD == on ]]; then
  expect "with BFD the outage is under ${MAX_OUTAGE} s" outage_below "$failover_lost" "$MAX_OUTAGE"
fi
expect "the cut dropped a's IKE/ESP towards b in inet" lab_dropped inet eth-a

# 3. DPD on a clears the dead SA (a keeps trying: dpd_action = restart, keyingtries = 0).
expect "a's DPD clears the dead A-B SA within 20 s of the cut" lab_wait_no_sa a to-b 20
step "measured: DPD on a cleared the dead A-B SA $(secs "$t_cut" "${EPOCHREALTIME/./}") s after the cut"
expect "Net A -> Net C unaffected" lab_ping host-a "${LAB_HOST[c]}" 2

# 4. The path returns: the tunnel comes back by itself, then BGP moves the traffic back.
lab_ping_start host-a "${LAB_HOST[b]}" recovery "$PING_INTERVAL"
lab_heal a b
t_heal=${EPOCHREALTIME/./}
expect "recovery: the A-B tunnel is back by itself within 40 s" lab_wait_sa a to-b 40
t_sa=${EPOCHREALTIME/./}
expect "recovery: b has the new A-B SA" lab_wait_sa b to-a 5
expect "recovery: BGP a -> b established again" lab_wait_bgp a b 30
expect "recovery: a routes Net B into ${dev}b again" lab_wait_route a "${LAB_HOST[b]}" "${dev}b" 20
t_back=${EPOCHREALTIME/./}
expect "recovery: b routes Net A into ${dev}a again" lab_wait_route b "${LAB_HOST[a]}" "${dev}a" 10
sleep 1
if [[ $LAB_BFD == on ]]; then
  expect "recovery: no ping lost while moving back to A-B" lab_ping_stop recovery
else
  lab_ping_stop recovery
fi
recovery_sent=$LAB_PING_SENT recovery_lost=$LAB_PING_LOST
expect "recovery: traceroute Net A -> Net B is the A-B tunnel again" \
  path_is host-a "${LAB_HOST[b]}" direct-after "${LAB_LAN_GW[a]}" "$(tunnel_addr b a)" "${LAB_HOST[b]}"
expect "recovery: ping Net A -> Net B" lab_ping host-a "${LAB_HOST[b]}" 3
step "measured: tunnel A-B back $(secs "$t_heal" "$t_sa") s after the path returned," \
  "traffic back on A-B after $(secs "$t_heal" "$t_back") s;" \
  "$recovery_lost of $recovery_sent pings lost while moving back"
for x in a b c; do lab_xfrm_dump "$x" final-tunnels; done
if [[ $LINK == xfrmi && $(role_of c) == minivpnd ]]; then
  step "SIGTERM minivpnd on c: the XFRM interfaces it made go with it"
  lab_stop c
  expect "c's kernel is clean after SIGTERM" lab_wait_xfrm_empty c 5
  expect_not "minivpnd removed xfrm-a" on c ip link show xfrm-a
  expect_not "minivpnd removed xfrm-b" on c ip link show xfrm-b
fi
