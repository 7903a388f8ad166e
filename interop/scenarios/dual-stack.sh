# about: one CHILD_SA carrying IPv4 and IPv6 (a selector list of both families on each side),
# policy-based, over IPv4 transport
#
#   host-a 10.1.0.10, fd00:1::10                                  10.2.0.10, fd00:2::10 host-b
#      |                                                                       |
#   [router a] == to-b: 10.1.0.0/24,fd00:1::/64 <-> 10.2.0.0/24,fd00:2::/64 == [router b]
#      | eth0 192.0.2.1                                      198.51.100.1 eth0 |
#      +-- eth-a 192.0.2.254 ---------[ inet ]--------- 198.51.100.254 eth-b --+
#
# One child, no mark: the SA pair is IPv4 (the IKE addresses); the policies go to each pair of
# selectors of one family (IN, FWD, OUT for IPv4 and for IPv6), as charon's policy enumerator.
# IPv6 between the sites exists only inside ESP (inet does not forward IPv6).
# Parameters: ROLE_A, INITIATOR (a | b), REFERENCE (expected/ dumps both routers must equal).

initiator=${INITIATOR:-a}
responder=$([[ $initiator == a ]] && echo b || echo a)

lab_topology_two_sites
# site6 X N Y M: IPv6 on X's local network fd00:N::/64, and a route to Y's (fd00:M::/64) that
# leaves through the transport link, where the policy takes it into the tunnel.
site6() {
  local x=$1 n=$2 m=$4
  must ip netns exec "$x" sysctl -q -w net.ipv6.conf.all.forwarding=1
  must ip -n "$x" -batch - <<EOF2
addr add fd00:$n::1/64 dev eth1 nodad
route add fd00:$m::/64 dev eth0
EOF2
  must ip -n "host-$x" -batch - <<EOF2
addr add fd00:$n::10/64 dev eth0 nodad
route add ::/0 via fd00:$n::1
EOF2
}
site6 a 1 b 2
site6 b 2 a 1
dual_conn() {
  local x=$1 y=$2 start=$3 n=1 m=2
  [[ $x == b ]] && n=2 m=1
  lab_conn "$x" "$y" mark=no start="$start" local_ts="10.$n.0.0/24,fd00:$n::/64" \
    remote_ts="10.$m.0.0/24,fd00:$m::/64"
}
dual_conn "$initiator" "$responder" start
dual_conn "$responder" "$initiator" none
lab_start "$responder"
lab_start "$initiator"
lab_capture inet eth-a transport-a

expect "CHILD_SA up on a" lab_wait_sa a to-b 30
expect "CHILD_SA up on b" lab_wait_sa b to-a 30
expect "one SA pair on a" sa_count_is a 2
expect "one SA pair on b" sa_count_is b 2
expect "a lists both families in the CHILD_SA's selectors" \
  lab_list_has a "10\.1\.0\.0/24.*fd00:1::/64|fd00:1::/64.*10\.1\.0\.0/24"
expect "ping 10.1.0.10 -> 10.2.0.10" lab_ping host-a 10.2.0.10 5
expect "ping fd00:1::10 -> fd00:2::10" on host-a ping -6 -n -q -c 5 -i 0.2 -W 1 fd00:2::10
expect "ESP on the transport link, no plaintext" lab_esp_seen transport-a 20
# shellcheck disable=SC2317 # called through expect
no_plain_v6() {
  local v6
  v6=$(pcap_count transport-a 'ip6 and net fd00::/8')
  ((v6 == 0)) && return 0
  LAB_WHY="$v6 IPv6 packets in the clear on the transport link"
  return 1
}
expect "no IPv6 in the clear on the transport link" no_plain_v6
lab_expect_reference tunnel
