# about: 20% loss and reordering on the transport link: the tunnel still comes up and rekeys
#
#   host-a 10.1.0.10                                                      host-b 10.2.0.10
#      |                                                                       |
#   [router a] vti-b ===== ESP, key 12, initiator rekeys CHILD every ~10 s ===== vti-a [router b]
#      | eth0 192.0.2.1                                      198.51.100.1 eth0 |
#      |  netem: delay 10ms 5ms, loss 20%, reorder 25%  (both directions)      |
#      +-- eth-a 192.0.2.254 ---------[ inet ]--------- 198.51.100.254 eth-b --+
#
# IKE retransmits (RFC 7296 2.1) must carry both daemons through lost requests and responses.
# Parameters: ROLE_A, INITIATOR (a | b), IKE, ESP.

# With 20% loss each way, some pings are lost: ask only that traffic flows.
# A round trip fails 36% of the time, so an exchange fails for good only if every try does:
# 0.36^10 with 9 retransmits (one in 27,000 exchanges; with 6 it was one in 1,300, which a CI run
# with four rows of about six exchanges each met once). 9 retransmits at 1 s x 1.4 take up to
# about 70 s, hence the longer waits.
pings_get_through() {
  lab_ping "$1" "$2" 20 0.1
  ((LAB_PING_RECEIVED > 0)) && return 0
  LAB_WHY="no reply to 20 pings $1 -> $2"
  return 1
}

export LAB_RETRANSMIT_TRIES=9
initiator=${INITIATOR:-a}
responder=$([[ $initiator == a ]] && echo b || echo a)

lab_topology_two_sites
lab_tunnel a b
# The initiator rekeys (CHILD every ~9-10 s, IKE after ~20 s); the responder's timers are long so
# that the two do not race each other (collisions are a scenario of their own).
lab_conn "$initiator" "$responder" rekey=10s life=40s rand=1s ike_rekey=20s ike_over=60s ike_rand=1s
lab_conn "$responder" "$initiator" rekey=300s ike_rekey=600s
lab_start a b
lab_netem a eth0 "delay 10ms 5ms loss 20% reorder 25%"
lab_netem inet eth-a "delay 10ms 5ms loss 20% reorder 25%"
expect "tunnel up: initiate from $initiator" lab_initiate "$initiator" "to-$responder"
expect "tunnel up on a" lab_wait_sa a to-b 30
expect "tunnel up on b" lab_wait_sa b to-a 30
expect "2 CHILD rekeys on a" lab_wait_rekeys a to-b 2 90
expect "1 IKE rekey on a" lab_wait_rekeys a to-b 1 90 ike
expect "tunnel still up on b" lab_wait_sa b to-a 10
expect "some pings Net A -> Net B get through" pings_get_through host-a "${LAB_HOST[b]}"
expect "no stale SAs: 2 on a once a rekey has settled" lab_wait_sa_count a 2 15
expect "no stale SAs: 2 on b once a rekey has settled" lab_wait_sa_count b 2 15
