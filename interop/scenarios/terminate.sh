# about: terminate from one side: DELETE goes out, the peer follows at once, both kernels empty
#
#   host-a 10.1.0.10                                                      host-b 10.2.0.10
#      |                                                                       |
#   [router a] vti-b ====== tunnel up, then INFORMATIONAL { D(IKE) } ====== vti-a [router b]
#      | eth0 192.0.2.1                                      198.51.100.1 eth0 |
#      +-- eth-a 192.0.2.254 ---------[ inet ]--------- 198.51.100.254 eth-b --+
#
# RFC 7296 1.4.1: deleting the IKE_SA deletes its CHILD_SAs; the peer answers the DELETE and
# removes its own state. DPD is off, so a peer that drops its SAs within a few seconds can only
# have done so because of the DELETE. Parameters: ROLE_A, INITIATOR (a | b: who brings the tunnel
# up), TERMINATOR (a | b: who tears it down).

initiator=${INITIATOR:-a}
terminator=${TERMINATOR:-a}
other=$([[ $terminator == a ]] && echo b || echo a)

lab_topology_two_sites
lab_pair a b
lab_start a b
expect "tunnel up: initiate from $initiator" lab_initiate "$initiator" \
  "to-$([[ $initiator == a ]] && echo b || echo a)"
expect "tunnel up on a" lab_wait_sa a to-b
expect "tunnel up on b" lab_wait_sa b to-a
expect "ping Net A -> Net B through the VTIs" lab_ping host-a "${LAB_HOST[b]}" 2

expect "terminate on $terminator" lab_terminate "$terminator" "to-$other"
expect "tunnel down on $terminator" lab_wait_no_sa "$terminator" "to-$other" 5
expect "tunnel down on $other (it got the DELETE)" lab_wait_no_sa "$other" "to-$terminator" 5
if [[ $(role_of "$other") == charon ]]; then
  expect "$other (charon) logged the DELETE" lab_log_has "$other" "received DELETE for IKE_SA"
fi
expect "no xfrm state on a" lab_wait_xfrm_empty a 5
expect "no xfrm state on b" lab_wait_xfrm_empty b 5
expect_not "no ping Net A -> Net B any more" lab_ping host-a "${LAB_HOST[b]}" 2
