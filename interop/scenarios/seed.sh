# about: the seed's tunnel: its ipsec.conf + ipsec.secrets unchanged on router a (minivpnd), charon on b; SIGTERM, kill -9, restart
#
#   host-a 10.1.0.10                                                      host-b 10.2.0.10
#      | 10.1.0.0/24 (Net A)                                (Net B) 10.2.0.0/24 |
#   [router a] vti-b ================= ESP, mark/key 12 ================== vti-a [router b]
#    minivpnd, ipsec.conf "conn A-B"                    charon, swanctl.conf "A-B"
#    leftid=routerA, PSK "supersecret"                  id routerB, PSK "supersecret"
#      | eth0 192.0.2.1                                      198.51.100.1 eth0 |
#      +-- eth-a 192.0.2.254 ---------[ inet ]--------- 198.51.100.254 eth-b --+
#
# Router a's files are tests/cli/data/seed/{ipsec.conf,ipsec.secrets} byte for byte (auto=start,
# mark=12, ike=aes256gcm16-prfsha256-x25519!, esp=aes256gcm16!); strongswan.conf has
# install_routes = no. The VTIs (key 12) are made by the lab, as the seed's admin did by hand.
# Checks (issue 6): the tunnel comes up by itself and carries traffic; minivpnctl list-sas shows it;
# SIGTERM sends a DELETE and leaves both kernels clean; after kill -9 the restarted minivpnd
# removes the dead one's kernel state (its journal) and the tunnel comes back by itself.

seed=$LAB_DIR/../tests/cli/data/seed
lab_topology_two_sites
lab_tunnel a b
mkdir -p "$LAB_OUT/a" "$LAB_RUN/a" "$LAB_RUN/b"
must install -m 600 "$seed/ipsec.conf" "$LAB_OUT/a/ipsec.conf"
must install -m 600 "$seed/ipsec.secrets" "$LAB_OUT/a/ipsec.secrets"
: >"$LAB_RUN/a/connections"
: >"$LAB_RUN/a/secrets"
# Router b's side: tests/cli/data/seed/router-b.swanctl.conf, its sections as the lab's
# connections and secrets pieces.
section_body() { sed -n "/^$1 {/,/^}/p" "$seed/router-b.swanctl.conf" | sed '1d;$d'; }
section_body connections >"$LAB_RUN/b/connections"
section_body secrets >"$LAB_RUN/b/secrets"

ROLE_A=minivpnd
lab_start b a
lab_capture inet eth-a transport-a
expect "tunnel up on a by itself (auto=start)" lab_wait_sa a A-B 20
expect "tunnel up on b" lab_wait_sa b A-B
expect "ping Net A -> Net B across the seed tunnel" lab_ping host-a "${LAB_HOST[b]}" 5
expect "ESP on the transport link, no plaintext" lab_esp_seen transport-a 10
ctl a list-sas >"$LAB_OUT/a/list-sas.txt" 2>&1
note "minivpnctl list-sas on a:"
sed 's/^/           /' "$LAB_OUT/a/list-sas.txt" >>"$LAB_OUT/steps.log"
expect "list-sas shows the CHILD_SA with traffic" grep -Eq 'in  [0-9a-f]{8}( \(0x[0-9a-f/x]+\))?, +[1-9][0-9]* bytes' "$LAB_OUT/a/list-sas.txt"
# No comparison with expected/: those dumps come from swanctl.conf (life_time 3960 s), while an
# ipsec.conf conn gets lifetime=1h as its hard limit, for charon and minivpnd alike.
lab_xfrm_dump a tunnel

step "SIGTERM minivpnd on a"
lab_stop a
expect "a's kernel is clean after SIGTERM" lab_wait_xfrm_empty a 5
expect "b deleted its SAs on a's DELETE" lab_wait_xfrm_empty b 10

step "restart minivpnd on a, then kill -9 it"
lab_start a
expect "tunnel up again on a" lab_wait_sa a A-B 20
lab_kill a
expect_not "the killed minivpnd left its SAs in a's kernel" lab_xfrm_empty a
lab_start a
expect "the new minivpnd removed what the dead one left" \
  lab_wait_log a "removed [0-9]+ kernel objects left by an earlier minivpnd" 10
expect "tunnel back by itself on a" lab_wait_sa a A-B 20
expect "ping across the tunnel again" lab_ping host-a "${LAB_HOST[b]}" 5
expect "a holds exactly one CHILD_SA pair" lab_wait_sa_count a 2 10
