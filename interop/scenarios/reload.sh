# about: reload adds a tunnel (A-C) to a running minivpnd without disturbing A-B (continuous ping: no loss)
#
#                           host-c 10.3.0.10
#                           [router c] charon
#                          //  (A-C: added by the reload, key 13)
#   [router a] minivpnd ==//======[ inet ]========= [router b] charon
#      |        \_____________ A-B: up before the reload, key 12 _______/      |
#   host-a 10.1.0.10                                               host-b 10.2.0.10
#
# Router a starts with connection to-b only; while host-a pings host-b every 0.1 s, the test
# appends to-c to a's swanctl.conf and runs `minivpnctl reload`. The reload must load to-c and
# leave to-b's SAs untouched (same CHILD_SA, no lost ping); to-c then comes up and carries traffic.

lab_topology_triangle
lab_tunnel a b
lab_tunnel a c
lab_conn a b
lab_conn b a
lab_conn c a
lab_start b c a
expect "initiate a -> b" lab_initiate a to-b
expect "tunnel to-b up on a" lab_wait_sa a to-b
expect "ping Net A -> Net B" lab_ping host-a "${LAB_HOST[b]}" 3
before=$(lab_list_sas a | grep -E '^  to-b: #' | head -n 1)
note "before the reload: $before"
lab_ping_start host-a "${LAB_HOST[b]}" a-to-b

step "add to-c to a's swanctl.conf and reload"
lab_conn a c
write_configs a
expect "minivpnctl reload" ctl a reload
expect "a loaded to-c" lab_wait_log a "loaded connection 'to-c'" 5
expect "initiate a -> c" lab_initiate a to-c
expect "tunnel to-c up on a" lab_wait_sa a to-c
expect "ping Net A -> Net C through the new tunnel" lab_ping host-a "${LAB_HOST[c]}" 3
sleep 1
expect "no ping A -> B lost across the reload" lab_ping_stop a-to-b
after=$(lab_list_sas a | grep -E '^  to-b: #' | head -n 1)
note "after the reload:  $after"
expect "to-b kept its CHILD_SA (same #)" test "${before%%,*}" = "${after%%,*}"
