# about: router a's child has inactivity = 6s: traffic keeps the CHILD_SA, silence closes it
#
#   host-a 10.1.0.10 ---- ping for 12 s, then nothing ----> host-b 10.2.0.10
#      |                                                                  |
#   [router a] vti-b ===== ESP, key 12; a: inactivity = 6s ======== vti-a [router b]
#
# charon's inactivity: a CHILD_SA whose SAs carried no packet for the inactivity time is closed
# (DELETE); the IKE_SA stays (charon.inactivity_close_ike = no). While pings cross (12 s, twice the
# inactivity time) the CHILD_SA must stay; after the last one it must be gone from both kernels
# within inactivity + 3 s, the IKE_SA still up on both sides.
# Parameters: ROLE_A, INITIATOR (a | b).

initiator=${INITIATOR:-a}
responder=$([[ $initiator == a ]] && echo b || echo a)

lab_topology_two_sites
lab_tunnel a b
lab_conn a b inactivity=6s
lab_conn b a
lab_start a b
expect "tunnel up: initiate from $initiator" lab_initiate "$initiator" "to-$responder"
expect "tunnel up on a" lab_wait_sa a to-b
expect "tunnel up on b" lab_wait_sa b to-a
first=$(child_id a to-b)
expect "12 s of pings keep the CHILD_SA (no ping lost)" lab_ping host-a "${LAB_HOST[b]}" 60 0.2
# shellcheck disable=SC2317 # called through expect
same_child() {
  [[ $(child_id a to-b) == "$first" ]] && sa_count_is a 2 && return 0
  LAB_WHY="a's CHILD_SA #$first is gone or was replaced (now #$(child_id a to-b))"
  return 1
}
expect "the same CHILD_SA after the pings" same_child
quiet_from=$EPOCHSECONDS
expect "no SA left on a within 9 s of silence" lab_wait_sa_count a 0 9
step "measured: a's CHILD_SA closed $((EPOCHSECONDS - quiet_from)) s after the last ping"
expect "no SA left on b" lab_wait_sa_count b 0 3
expect "IKE_SA still up on a" ike_sa_count_is a to-b 1
expect "IKE_SA still up on b" ike_sa_count_is b to-a 1
