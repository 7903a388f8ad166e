# about: transport mode with GRE over it: a GRE tunnel between the routers, protected by a
# transport-mode CHILD_SA whose selectors are the routers' addresses and protocol GRE
#
#   host-a 10.1.0.10                                                  10.2.0.10 host-b
#      |                                                                       |
#   [router a] gre1 10.99.0.1/30 ====== GRE (inside ESP, transport) ====== 10.99.0.2/30 gre1 [router b]
#      | eth0 192.0.2.1                                      198.51.100.1 eth0 |
#      +-- eth-a 192.0.2.254 ---------[ inet ]--------- 198.51.100.254 eth-b --+
#
# Both children: mode = transport, local_ts = remote_ts = dynamic[gre] (the IKE addresses, protocol
# GRE), no mark. The initiator sends USE_TRANSPORT_MODE; the responder grants it because its child
# is transport and every selector is one of the IKE hosts (RFC 7296 1.3.1, charon's check_mode).
# The kernel then holds transport SAs and IN/OUT policies for proto gre only (no FWD policy), so
# the GRE packets between the routers are encapsulated and everything else stays plain.
# Parameters: ROLE_A, INITIATOR (a | b), REFERENCE (expected/ dumps both routers must equal).
# Needs ip_gre in the guest (LAB_EXTRA_MODULES=ip_gre).

initiator=${INITIATOR:-a}
responder=$([[ $initiator == a ]] && echo b || echo a)

lab_topology_two_sites
# gre_link X Y: X's GRE tunnel to Y, with Y's site routed through it.
gre_link() {
  local x=$1 y=$2 addr=10.99.0.1 peer=10.99.0.2
  [[ $x == b ]] && addr=10.99.0.2 peer=10.99.0.1
  must ip -n "$x" -batch - <<EOF2
tunnel add gre1 mode gre local ${LAB_WAN[$x]} remote ${LAB_WAN[$y]} ttl 64
addr add $addr/30 dev gre1
link set gre1 up
route add ${LAB_NET[$y]} via $peer dev gre1
EOF2
}
gre_link a b
gre_link b a
transport_conn() {
  lab_conn "$1" "$2" mark=no mode=transport start="$3" local_ts='dynamic[gre]' \
    remote_ts='dynamic[gre]'
}
transport_conn "$initiator" "$responder" start
transport_conn "$responder" "$initiator" none
lab_start "$responder"
lab_start "$initiator"
lab_capture inet eth-a transport-a

expect "CHILD_SA up on a" lab_wait_sa a to-b 30
expect "CHILD_SA up on b" lab_wait_sa b to-a 30
expect "a lists the CHILD_SA as TRANSPORT" lab_list_has a "^ +to-b: #[0-9]+, .*TRANSPORT"
expect "b lists the CHILD_SA as TRANSPORT" lab_list_has b "^ +to-a: #[0-9]+, .*TRANSPORT"
expect "ping 10.1.0.10 -> 10.2.0.10 through GRE" lab_ping host-a 10.2.0.10 5
expect "ping a -> b outside GRE stays possible (not covered by the selectors)" \
  lab_ping a "${LAB_WAN[b]}" 2
# What left router a: ESP for GRE, and no GRE packet in the clear.
# shellcheck disable=SC2317 # called through expect
no_plain_gre() {
  local gre
  gre=$(pcap_count transport-a 'ip proto 47')
  note "transport-a.pcap: $gre GRE packets in the clear"
  ((gre == 0)) && return 0
  LAB_WHY="$gre GRE packets in the clear on the transport link"
  return 1
}
expect "ESP on the transport link" lab_esp_seen transport-a 10
expect "no GRE in the clear on the transport link" no_plain_gre
lab_expect_reference transport
