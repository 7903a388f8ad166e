# about: a negotiation that must fail (bad PSK, no common proposal): no SA, no kernel state
#
#   host-a 10.1.0.10                                                      host-b 10.2.0.10
#      |                                                                       |
#   [router a] vti-b ============ IKE fails with $EXPECT_NOTIFY ========== vti-a [router b]
#      | eth0 192.0.2.1                                      198.51.100.1 eth0 |
#      +-- eth-a 192.0.2.254 ---------[ inet ]--------- 198.51.100.254 eth-b --+
#
# Same topology and configuration as two-site-tunnel.sh, with one thing broken by a parameter:
#   PSK_B=<other secret>  -> AUTHENTICATION_FAILED (RFC 7296 2.21.2: the responder answers an
#                            IKE_AUTH whose AUTH payload does not verify with it)
#   IKE_B=<proposals>     -> NO_PROPOSAL_CHOSEN in IKE_SA_INIT (RFC 7296 2.21.1)
#   ESP_B=<proposals>     -> NO_PROPOSAL_CHOSEN for the CHILD_SA inside IKE_AUTH (RFC 7296 2.21.2)
# It passes only if the failure is detected: the initiation fails, the tunnel stays down on both
# sides, the initiator's log names EXPECT_NOTIFY, neither kernel holds an SA or policy, and no ping
# gets through. Parameters: ROLE_A, INITIATOR (a | b), EXPECT_NOTIFY, and the broken one.

lab_topology_two_sites
lab_pair a b
lab_start a b

initiator=${INITIATOR:-a}
responder=$([[ $initiator == a ]] && echo b || echo a)
# swanctl and minivpnctl report the failure (both wait for the outcome); the checks below are the
# proof.
lab_initiate "$initiator" "to-$responder" || note "initiate reported: $LAB_WHY"
expect "$EXPECT_NOTIFY logged by the initiator ($initiator)" \
  lab_wait_log "$initiator" "$EXPECT_NOTIFY" 15
expect "tunnel stays down on a" lab_no_sa a to-b 3
expect "tunnel stays down on b" lab_no_sa b to-a 1
expect "no xfrm state on a" lab_xfrm_empty a
expect "no xfrm state on b" lab_xfrm_empty b
expect_not "no ping Net A -> Net B" lab_ping host-a "${LAB_HOST[b]}" 2
