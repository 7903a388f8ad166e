# about: two CHILD_SAs (two subnet pairs) in one IKE_SA, policy-based; ping through each
#
#   host-a 10.1.0.10 (first half of Net A)              (first half of Net B) 10.2.0.10 host-b
#          10.1.0.200 (second half)                          (second half) 10.2.0.200
#      |                                                                       |
#   [router a] == to-b: 10.1.0.0/25 <-> 10.2.0.0/25, to-b-2: the upper /25s == [router b]
#      | eth0 192.0.2.1                                      198.51.100.1 eth0 |
#      +-- eth-a 192.0.2.254 ---------[ inet ]--------- 198.51.100.254 eth-b --+
#
# No VTI and no mark: the kernel's policies pick the CHILD_SA by the packet's addresses, so each
# half of the nets is carried by its own SA pair. Both children have start_action = start on the
# INITIATOR's side, so both are negotiated on the one IKE_SA (IKE_AUTH, then CREATE_CHILD_SA).
# The responder picks each child's config by its selectors. Parameters: ROLE_A, INITIATOR (a | b),
# REFERENCE (the normalised xfrm dumps in expected/ both routers' state must equal).

initiator=${INITIATOR:-a}
responder=$([[ $initiator == a ]] && echo b || echo a)

lab_topology_two_sites
on host-a ip addr add 10.1.0.200/24 dev eth0
on host-b ip addr add 10.2.0.200/24 dev eth0
# lab_conn X Y START: X's side of the policy-based connection with both children.
policy_conn() {
  local x=$1 y=$2 start=$3 net_x=10.1.0 net_y=10.2.0
  [[ $x == b ]] && net_x=10.2.0 net_y=10.1.0
  lab_conn "$x" "$y" mark=no start="$start" local_ts="$net_x.0/25" remote_ts="$net_y.0/25" \
    child2="$net_x.128/25,$net_y.128/25"
}
policy_conn "$initiator" "$responder" start
policy_conn "$responder" "$initiator" none
# The responder first: the initiator's children start as soon as its config is loaded.
lab_start "$responder"
lab_start "$initiator"
lab_capture inet eth-a transport-a

expect "first child up on a" lab_wait_sa a to-b 30
expect "first child up on b" lab_wait_sa b to-a 30
expect "both CHILD_SAs on a: two SA pairs" lab_wait_sa_count a 4 30
expect "both CHILD_SAs on b: two SA pairs" lab_wait_sa_count b 4 30
expect "one IKE_SA on a" ike_sa_count_is a to-b 1
expect "one IKE_SA on b" ike_sa_count_is b to-a 1
expect "ping 10.1.0.10 -> 10.2.0.10 (first child)" lab_ping host-a 10.2.0.10 5
expect "ping 10.1.0.200 -> 10.2.0.200 (second child)" on host-a ping -n -q -c 5 -i 0.2 -W 1 -I 10.1.0.200 10.2.0.200
# Each pair carried its own traffic: the inbound SAs of both children counted packets.
# shellcheck disable=SC2317 # called through expect
both_used() {
  local used
  used=$(ip -n a -s xfrm state | awk -v me="${LAB_WAN[a]}" '/^src / { inbound = ($4 == me) }
    inbound && /^[ \t]+[0-9]+\(bytes\), / { if ($1 + 0 > 0) n++ } END { print n + 0 }')
  ((used >= 2)) && return 0
  LAB_WHY="only $used of a's inbound SAs carried packets"
  return 1
}
expect "each child's inbound SA on a carried packets" both_used
expect "ESP on the transport link, no plaintext" lab_esp_seen transport-a 20
lab_expect_reference tunnel
