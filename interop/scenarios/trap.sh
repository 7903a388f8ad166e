# about: start_action = trap: the first packet routed into the VTI starts the negotiation
#
#   host-a 10.1.0.10 --ping--> [router a] --route 10.2.0.0/24 dev vti-b--> OUT policy (mark 12)
#                                  |        no SA yet: the kernel sends XFRM_MSG_ACQUIRE to the
#                                  |        daemon, which negotiates; later packets go as ESP
#   [router a] vti-b ==================== ESP, key 12 ==================== vti-a [router b]
#      | eth0 192.0.2.1                                      198.51.100.1 eth0 |
#      +-- eth-a 192.0.2.254 ---------[ inet ]--------- 198.51.100.254 eth-b --+
#
# Router a's child has start_action = trap: after loading, a holds the policies but no SA. Nobody
# calls initiate. Parameters: ROLE_A (the trapping side is always a).

lab_topology_two_sites
lab_tunnel a b
lab_conn a b start=trap
lab_conn b a
lab_start a b

expect "a holds trap policies but no SA" trap_installed a
expect "tunnel still down before any traffic" lab_no_sa a to-b 2
step "ping from Net A into the VTI (the trigger)"
lab_ping host-a "${LAB_HOST[b]}" 3 0.5
expect "tunnel up on a after the trigger" lab_wait_sa a to-b 15
expect "tunnel up on b" lab_wait_sa b to-a 5
expect "ping Net A -> Net B through the VTIs" lab_ping host-a "${LAB_HOST[b]}" 3
