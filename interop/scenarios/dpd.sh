# about: DPD: router b crashes; a notices within its bound, clears its state, and reconnects alone
#
#   host-a 10.1.0.10                                                      host-b 10.2.0.10
#      |                                                                       |
#   [router a] vti-b ====== ESP, key 12; a probes b every 2 s when idle ===== vti-a [router b]
#      | eth0 192.0.2.1       (b: daemon SIGKILLed, kernel flushed,  198.51.100.1 eth0 |
#      |                        then started again)                            |
#      +-- eth-a 192.0.2.254 ---------[ inet ]--------- 198.51.100.254 eth-b --+
#
# RFC 7296 2.4: a peer that answers nothing is dead once the retransmissions are exhausted.
# a: dpd_delay = 2s, dpd_action = restart, keyingtries = 0 (forever); the lab's strongswan.conf
# gives up after 3 retransmits (about 7 s), so the bound is 2 + 7 + margin = 15 s.
# With DPD_ACTION=trap a installs the child's trap policies instead of retrying, and the first
# packet from Net A after b is back (the kernel's ACQUIRE) brings the tunnel up again.
# Parameters: ROLE_A (the side that must notice is a), DPD_ACTION (restart | trap).

lab_topology_two_sites
lab_tunnel a b
DPD_ACTION=${DPD_ACTION:-restart}
lab_conn a b dpd=2s dpd_action="$DPD_ACTION" keyingtries=0
lab_conn b a
lab_start a b
expect "tunnel up: initiate from a" lab_initiate a to-b
expect "tunnel up on a" lab_wait_sa a to-b
expect "tunnel up on b" lab_wait_sa b to-a
expect "ping Net A -> Net B through the VTIs" lab_ping host-a "${LAB_HOST[b]}" 2

step "b crashes: daemon killed, kernel state flushed"
lab_kill b
must ip -n b xfrm state flush
must ip -n b xfrm policy flush
t0=$EPOCHSECONDS
expect "a notices the dead peer within 15 s" lab_wait_no_sa a to-b 15
note "a noticed after $((EPOCHSECONDS - t0)) s"
expect "a removed its SAs" lab_wait_sa_count a 0 5
if [[ $DPD_ACTION == trap ]]; then
  expect "a holds the child's trap policies, no SA" trap_installed a
fi

# A daemon answers before its configuration is loaded (NO_PROPOSAL_CHOSEN, which ends a's retries
# for good); so b's transport path stays cut until b is fully up again.
step "b comes back"
lab_cut a b
lab_start b
lab_heal a b
t0=$EPOCHSECONDS
if [[ $DPD_ACTION == trap ]]; then
  expect "still no SA on a before any traffic" lab_no_sa a to-b 2
  step "ping from Net A into the VTI (the trigger)"
  lab_ping host-a "${LAB_HOST[b]}" 3 0.5
fi
expect "tunnel back by itself on a within 40 s" lab_wait_sa a to-b 40
note "tunnel back after $((EPOCHSECONDS - t0)) s"
expect "tunnel back on b" lab_wait_sa b to-a 5
expect "ping Net A -> Net B through the new SAs" lab_ping host-a "${LAB_HOST[b]}" 3
