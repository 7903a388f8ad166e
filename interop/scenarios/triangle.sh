# about: three sites A-B-C, a route-based tunnel between each pair; ping every pair of nets
#
#                           host-c 10.3.0.10
#                                 | (Net C 10.3.0.0/24)
#                           [router c] vti-a 169.254.13.2 / vti-b 169.254.23.2
#                          //     | eth0 203.0.113.1     \\
#            key 13 (A-C) //      |                       \\ key 23 (B-C)
#                        //       | eth-c 203.0.113.254    \\
#   [router a] ==========//==[ inet ]=======================\\== [router b]
#   vti-b 169.254.12.1      eth-a 192.0.2.254                  vti-a 169.254.12.2
#   vti-c 169.254.13.1      eth-b 198.51.100.254               vti-c 169.254.23.1
#   eth0 192.0.2.1 ---------------+--------------------------- eth0 198.51.100.1
#      |        \_______________ key 12 (A-B) _______________/        |
#   host-a 10.1.0.10 (Net A 10.1.0.0/24)           (Net B 10.2.0.0/24) host-b 10.2.0.10
#
# Every router has eth0 on its own transport link into "inet" (default route there) and eth1 on
# its local network. The VTI on router x towards y is vti-y; its key is the pair's xfrm mark.
# Static routes send each remote net into its direct tunnel (issue 7 replaces them with BGP).
# Parameters: ROLE_A, ROLE_B, ROLE_C (charon | minivpnd), IKE, ESP.

lab_topology_triangle
lab_pair a b
lab_pair a c
lab_pair b c
lab_start a b c
lab_capture inet eth-a transport-a

lab_triangle_up
expect "ping Net A -> Net B" lab_ping host-a "${LAB_HOST[b]}" 3
expect "ping Net A -> Net C" lab_ping host-a "${LAB_HOST[c]}" 3
expect "ping Net B -> Net C" lab_ping host-b "${LAB_HOST[c]}" 3
expect "ESP on a's transport link, no plaintext" lab_esp_seen transport-a 12
for x in a b c; do
  lab_xfrm_dump "$x" tunnels
done
expect "4 SAs (2 tunnels) on a" sa_count_is a 4
expect "4 SAs (2 tunnels) on b" sa_count_is b 4
expect "4 SAs (2 tunnels) on c" sa_count_is c 4

# The path cut that issue 7's failover needs: with the A-B transport path dropped in inet,
# nothing gets from Net A to Net B (static routes, no BGP yet); healed, the same SAs carry it again.
lab_cut a b
expect_not "Net A -> Net B blocked while the A-B path is cut" lab_ping host-a "${LAB_HOST[b]}" 2
expect "the cut dropped a's ESP in inet" lab_dropped inet eth-a
expect "Net A -> Net C unaffected by the cut" lab_ping host-a "${LAB_HOST[c]}" 2
lab_heal a b
expect "Net A -> Net B again once healed" lab_ping host-a "${LAB_HOST[b]}" 3
