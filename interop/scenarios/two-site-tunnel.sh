# about: two sites, one route-based tunnel (VTI key 12); ping Net A -> Net B through it
#
#   host-a 10.1.0.10                                                      host-b 10.2.0.10
#      | eth0                                                                  | eth0
#      | 10.1.0.0/24 (Net A)                                (Net B) 10.2.0.0/24 |
#      | eth1 10.1.0.1                                          10.2.0.1 eth1  |
#   [router a] vti-b 169.254.12.1 ====== ESP, key 12 ====== 169.254.12.2 vti-a [router b]
#      | eth0 192.0.2.1                                      198.51.100.1 eth0 |
#      |                                                                       |
#      +-- eth-a 192.0.2.254 ---------[ inet ]--------- 198.51.100.254 eth-b --+
#                     (capture here: transport-a.pcap)
#
# Parameters: ROLE_A, ROLE_B (charon | minivpnd, default charon), INITIATOR (a | b),
# IKE and ESP (proposals, both sides), PSK_A / PSK_B (to break it on purpose), REFERENCE (name of
# the normalised xfrm dump in interop/expected/ that both routers' state must equal).

lab_topology_two_sites
lab_pair a b
lab_start a b
lab_capture inet eth-a transport-a

initiator=${INITIATOR:-a}
responder=$([[ $initiator == a ]] && echo b || echo a)
expect "tunnel up: initiate from $initiator" lab_initiate "$initiator" "to-$responder"
expect "tunnel up on a" lab_wait_sa a to-b
expect "tunnel up on b" lab_wait_sa b to-a
expect "ping Net A -> Net B through the VTIs" lab_ping host-a "${LAB_HOST[b]}" 5
expect "ping Net B -> Net A through the VTIs" lab_ping host-b "${LAB_HOST[a]}" 5
expect "ESP on the transport link, no plaintext" lab_esp_seen transport-a 20

lab_expect_reference tunnel
