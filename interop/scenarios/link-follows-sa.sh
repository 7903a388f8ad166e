# about: minivpnd's own VTIs follow their CHILD_SAs: dormant while none is installed, so BIRD drops the BGP session at once (no BFD, hold time 60 s) and traffic moves via C; up again when the tunnel returns
#
#                        host-c 10.3.0.10 (Net C)      charon (lab VTIs)
#                              [router c]
#                       key 13 //       \\ key 23
#   minivpnd [router a] ====== key 12 ====== [router b] minivpnd
#   vti-b, vti-c: made by minivpnd           vti-a, vti-c: made by minivpnd
#      |                                        |
#   host-a 10.1.0.10 (Net A)               host-b 10.2.0.10 (Net B)
#
# The triangle of bgp-failover.sh, but a and b run minivpnd and own their VTIs (a child's `vti`
# section, `follow_sa` at its default yes, no routes: BGP decides). BIRD runs without BFD and with
# a BGP hold time of 60 s, so the hold timer cannot be what moves the traffic.
#  1. Before any tunnel is up, minivpnd's VTIs exist and are dormant; once the tunnels are up
#     they are up, and Net A -> Net B goes a -> b directly.
#  2. Under a ping every 0.1 s, inet drops everything between a and b. DPD (2 s) gives up on
#     both; minivpnd removes the A-B CHILD_SA, its vti-b (a) and vti-a (b) go dormant and lose
#     their inner addresses, so BIRD's BGP sessions over them lose their neighbour at once,
#     the A-B routes are withdrawn and traffic goes through C. Printed: the time from the cut to
#     the VTI going down and to the route moving, and the outage; the row fails when the VTI
#     is seen dormant MAX_DOWN (default 1.0) seconds or more after the SA was seen gone.
#     minivpnctl list-sas says why the VTI is down.
#  3. The path heals: a's dpd_action = restart brings the tunnel back, the VTIs come up by
#     themselves, BGP re-forms and traffic returns to A-B with no ping lost.
# FOLLOW_SA=no is the negative control (its row must fail): the VTIs stay up without a CHILD_SA,
# so nothing withdraws the A-B routes before the 60 s hold time and the failover does not happen.
# Parameters: ROLE_C (charon | minivpnd), MAX_DOWN (seconds), FOLLOW_SA (yes | no).
# shellcheck disable=SC2034 # LAB_* variables are read by the lab's libraries

ROLE_A=minivpnd
ROLE_B=minivpnd
LAB_BGP_HOLD=60
MAX_DOWN=${MAX_DOWN:-1.0}
FOLLOW_SA=${FOLLOW_SA:-yes}
PING_INTERVAL=0.1
secs() { echo "$((($2 - $1) / 1000000)).$((($2 - $1) / 100000 % 10))"; }

# conn X Y OPTS...: X's connection to Y; on a minivpnd router with its own VTI (no route).
conn() {
  local x=$1 y=$2
  shift 2
  if [[ $(role_of "$x") == minivpnd ]]; then
    lab_conn "$x" "$y" vti="vti-$y" link_routes=no follow_sa="$FOLLOW_SA" "$@"
  else
    lab_vti "$x" "$y" noroute
    lab_conn "$x" "$y" "$@"
  fi
}

# operstate X DEV STATE: X's DEV is administratively up and in operational state STATE.
operstate() {
  local out
  out=$(ip -n "$1" link show "$2" 2>&1)
  [[ $out == *",UP"* && $out == *"state $3 "* ]] && return 0
  LAB_WHY="$1/$2: $(head -n 1 <<<"$out")"
  return 1
}

# within SECONDS T0 T1: T1 - T0 (microsecond stamps) is under SECONDS.
within() {
  awk -v d="$(($3 - $2))" -v max="$1" 'BEGIN { exit !(d / 1e6 < max) }' && return 0
  LAB_WHY="$(secs "$2" "$3") s, bound $1 s"
  return 1
}

lab_topology_triangle
conn a b dpd=2s dpd_action=restart keyingtries=0
conn b a dpd=2s dpd_action=clear
conn a c
conn c a
conn b c
conn c b
lab_start a b c
if [[ $FOLLOW_SA == yes ]]; then
  expect "before any tunnel: a's vti-b exists and is dormant" wait_until 5 operstate a vti-b DORMANT
  expect "before any tunnel: b's vti-a is dormant" operstate b vti-a DORMANT
fi
lab_triangle_up
if [[ $FOLLOW_SA == yes ]]; then
  expect "tunnel up: a's vti-b is up" wait_until 5 operstate a vti-b UP
  expect "tunnel up: b's vti-a is up" wait_until 5 operstate b vti-a UP
  expect "tunnel up: a's vti-c is up" wait_until 5 operstate a vti-c UP
fi

lab_bird_config a b c
lab_bird_config b a c
lab_bird_config c a b
lab_bird_start a b c
for pair in "a b" "a c" "b a" "b c" "c a" "c b"; do
  # shellcheck disable=SC2086
  expect "BGP session ${pair/ / -> } established" lab_wait_bgp $pair 30
done
expect "a routes Net B into vti-b" lab_wait_route a "${LAB_HOST[b]}" vti-b 20
expect "b routes Net A into vti-a" lab_wait_route b "${LAB_HOST[a]}" vti-a 20
expect "ping Net A -> Net B" lab_ping host-a "${LAB_HOST[b]}" 3

# 2. Cut A-B: DPD gives up, the VTIs go dormant, BGP drops, traffic moves via C.
lab_ping_start host-a "${LAB_HOST[b]}" failover "$PING_INTERVAL"
sleep 1
lab_cut a b
t_cut=${EPOCHREALTIME/./}
expect "a's DPD clears the dead A-B SA" lab_wait_no_sa a to-b 30
t_cleared=${EPOCHREALTIME/./}
t_down=$t_cleared
if [[ $FOLLOW_SA == yes ]]; then
  expect "a's vti-b goes dormant" wait_until 5 operstate a vti-b DORMANT
  t_down=${EPOCHREALTIME/./}
  expect "vti-b was dormant less than ${MAX_DOWN} s after the SA was seen gone" \
    within "$MAX_DOWN" "$t_cleared" "$t_down"
  expect "b's vti-a goes dormant (b's DPD)" wait_until 15 operstate b vti-a DORMANT
fi
expect "a routes Net B into vti-c (BGP dropped the session over the dormant vti-b)" \
  lab_wait_route a "${LAB_HOST[b]}" vti-c 5
t_route=${EPOCHREALTIME/./}
expect "b routes Net A into vti-c" lab_wait_route b "${LAB_HOST[a]}" vti-c 5
expect "traceroute Net A -> Net B goes through C" \
  path_is host-a "${LAB_HOST[b]}" via-c "${LAB_LAN_GW[a]}" "$(tunnel_addr c a)" \
  "$(tunnel_addr b c)" "${LAB_HOST[b]}"
sleep 1
lab_ping_stop failover
failover_lost=$LAB_PING_LOST failover_sent=$LAB_PING_SENT
expect "traffic flows again through C" lab_ping host-a "${LAB_HOST[b]}" 5
expect "a logged why vti-b went down" \
  lab_log_has a "VTI vti-b is down \(dormant, inner addresses withdrawn\): no CHILD_SA of 'to-b' installed: "
expect_not "a's vti-b has no inner address while down" \
  on a sh -c "ip -4 addr show dev vti-b | grep -q 'inet $(tunnel_addr a b)/30'"
step "measured: SA gone -> vti-b dormant $(secs "$t_cleared" "$t_down") s (polled every 0.2 s);" \
  "cut -> vti-b dormant $(secs "$t_cut" "$t_down") s, route via vti-c" \
  "$(secs "$t_cut" "$t_route") s (DPD 2 s; BGP hold 60 s); outage" \
  "$(awk -v n="$failover_lost" -v i="$PING_INTERVAL" 'BEGIN { printf "%.1f", n * i }') s" \
  "($failover_lost of $failover_sent pings)"
ctl a list-sas >"$LAB_OUT/a/list-sas-down.txt" 2>&1
expect "minivpnctl list-sas on a says why vti-b is down" \
  grep -Eq "^vti-b \(vti, for to-b/to-b\): down for [0-9]+s: no CHILD_SA of 'to-b' installed: " \
  "$LAB_OUT/a/list-sas-down.txt"

# 3. Heal: the tunnel returns by itself, the VTIs come up, traffic returns to A-B.
lab_ping_start host-a "${LAB_HOST[b]}" recovery "$PING_INTERVAL"
lab_heal a b
t_heal=${EPOCHREALTIME/./}
expect "the A-B tunnel is back by itself" lab_wait_sa a to-b 40
expect "a's vti-b is up again" wait_until 5 operstate a vti-b UP
expect "a's vti-b has its inner address again" \
  on a sh -c "ip -4 addr show dev vti-b | grep -q 'inet $(tunnel_addr a b)/30'"
t_up=${EPOCHREALTIME/./}
expect "b's vti-a is up again" wait_until 5 operstate b vti-a UP
expect "BGP a -> b established again" lab_wait_bgp a b 30
expect "a routes Net B into vti-b again" lab_wait_route a "${LAB_HOST[b]}" vti-b 20
t_back=${EPOCHREALTIME/./}
expect "b routes Net A into vti-a again" lab_wait_route b "${LAB_HOST[a]}" vti-a 10
sleep 1
expect "no ping lost while moving back" lab_ping_stop recovery
expect "a logged vti-b up again" lab_log_has a "VTI vti-b is up: a CHILD_SA using it is installed"
step "measured: heal -> vti-b up $(secs "$t_heal" "$t_up") s, traffic back on A-B" \
  "$(secs "$t_heal" "$t_back") s; $LAB_PING_LOST of $LAB_PING_SENT pings lost moving back"
