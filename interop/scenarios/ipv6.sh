# about: IKE and ESP over IPv6: a route-based tunnel through vti6 devices (ip6_vti), IPv4 or IPv6 inside
#
#   host-a 10.1.0.10 | fd00:1::10                                  10.2.0.10 | fd00:2::10 host-b
#      | 10.1.0.0/24 | fd00:1::/64 (Net A)          (Net B) 10.2.0.0/24 | fd00:2::/64 |
#   [router a] vti-b (vti6) ======= ESP over IPv6, key 12 ======= (vti6) vti-a [router b]
#      | eth0 2001:db8:a::1 (192.0.2.1)              (198.51.100.1) 2001:db8:b::1 eth0 |
#      |                                                                             |
#      +-- eth-a 2001:db8:a::fe ------[ inet, forwards IPv6 ]------ 2001:db8:b::fe eth-b --+
#                     (capture here: transport-a.pcap)
#
# Both routers get IPv6 on their transport links (lab_wan6) and inet forwards IPv6 between them
# (lab_inet6_forward). The connections name the routers' IPv6 transport addresses (local_addrs,
# remote_addrs) and identities (ID_IPV6_ADDR); the VTIs are vti6 devices between those addresses
# (lab_vti6, key 12 = the mark of the SAs and policies). INNER picks what goes through them:
#   INNER=6  IPv6 inside IPv6: ::/0 selectors both sides, fd00:1::/64 and fd00:2::/64 on the
#            local networks (lab_lan6), routed into the vti6; host-a and host-b ping6 each other
#   INNER=4  IPv4 inside IPv6: 0.0.0.0/0 selectors, the 10.x local networks routed into the vti6
#            (a vti6 transmits and receives IPv4 as well as IPv6; both disable_policy sysctls)
# IPv6 inside IPv4 is no row (CI time), though it works route-based too: a plain IPv4 `vti`
# carries IPv6 (fd00:2::/64 routed into vti-b, net.ipv6.conf.vti-b.disable_policy=1, ::/0
# selectors over the IPv4 addresses; charon<->charon and minivpnd in both roles passed these
# checks with equal kernel state, tried by hand 2026-12-07). IPv6 selectors over IPv4 are what
# the dual-stack rows prove (policy-based), and INNER=4 mixes the families with marks the other
# way round.
# Checked: the tunnel up on both, pings both ways through the vti6 (its packet counters), on the
# wire between a and inet only IKE and ESP over IPv6 (ESP = next header 50), nothing over IPv4,
# no plaintext ICMP or ICMPv6 of the local networks; both routers' kernel state = REFERENCE.
# Needs LAB_EXTRA_MODULES=esp6,ip6_vti.
# Parameters: ROLE_A, ROLE_B (charon | minivpnd), INITIATOR (a | b), INNER (4 | 6), REFERENCE.
# shellcheck disable=SC2034 # LAB_* variables are read by the lab's libraries

inner=${INNER:-6}
[[ $inner == 4 || $inner == 6 ]] || lab_fail "INNER='$inner': 4 or 6"
initiator=${INITIATOR:-a}
responder=$([[ $initiator == a ]] && echo b || echo a)

lab_topology_two_sites
lab_wan6 a
lab_wan6 b
lab_inet6_forward
if [[ $inner == 6 ]]; then
  lab_lan6 a
  lab_lan6 b
  ts=::/0 dst_b=${LAB_HOST6[b]} dst_a=${LAB_HOST6[a]}
else
  ts=0.0.0.0/0 dst_b=${LAB_HOST[b]} dst_a=${LAB_HOST[a]}
fi
lab_vti6 a b "$inner"
lab_vti6 b a "$inner"
for x in a b; do
  y=$([[ $x == a ]] && echo b || echo a)
  lab_conn "$x" "$y" local_addrs="${LAB_WAN6[$x]}" remote_addrs="${LAB_WAN6[$y]}" \
    local_id="${LAB_WAN6[$x]}" remote_id="${LAB_WAN6[$y]}" local_ts="$ts" remote_ts="$ts"
done
lab_start a b
# IPv6 forwarding (inet; a and b for their local networks) works once the link-local addresses
# have passed DAD: waited for here, after the daemons' start, when it is over or nearly.
lab_wait_ll6 inet a b
expect "IPv6 transport a -> b reachable through inet" lab_ping a "${LAB_WAN6[b]}" 1
lab_capture inet eth-a transport-a

expect "tunnel up: initiate from $initiator" lab_initiate "$initiator" "to-$responder"
expect "tunnel up on a" lab_wait_sa a to-b
expect "tunnel up on b" lab_wait_sa b to-a

# vti_counts: "TX RX" packets of a's vti-b.
vti_counts() {
  ip -n a -s link show vti-b |
    awk '/RX:/ { getline; rx = $2 } /TX:/ { getline; tx = $2 } END { print tx + 0, rx + 0 }'
}
read -r tx0_a rx0_a <<<"$(vti_counts)"
expect "ping Net A -> Net B through the vti6 (IPv$inner: $dst_b)" lab_ping host-a "$dst_b" 5
expect "ping Net B -> Net A through the vti6 (IPv$inner: $dst_a)" lab_ping host-b "$dst_a" 5

# shellcheck disable=SC2317 # called through expect
vti_carried() {
  local tx rx
  read -r tx rx <<<"$(vti_counts)"
  note "a's vti-b ($(ip -n a -d link show vti-b | grep -Eo 'vti6 remote [^ ]+ local [^ ]+')): $((tx - tx0_a)) packets out, $((rx - rx0_a)) in during the pings"
  ((tx - tx0_a >= 10 && rx - rx0_a >= 10)) && return 0
  LAB_WHY="a's vti-b sent $((tx - tx0_a)) and received $((rx - rx0_a)) packets during 10 pings each way"
  return 1
}
expect "the pings went through a's vti6 (10 requests and 10 replies each way)" vti_carried
expect "IKE and ESP over IPv6 between a and inet, none over IPv4, no plaintext" lab_esp6_seen transport-a 20
lab_expect_reference tunnel
