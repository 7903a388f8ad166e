# about: Debian's stock swanctl drives minivpnd over vici: --version, --stats, --list-conns, --initiate, --list-sas (against charon's), --rekey seen by --log and --monitor-sa, --counters, --terminate, --install/--uninstall
#
#   host-a 10.1.0.10                                                      host-b 10.2.0.10
#      |                                                                       |
#   [router a] vti-b ============== tunnel to-b / to-a (key 1) ============== vti-a [router b]
#    minivpnd, driven only by swanctl                       charon, driven by swanctl
#      | eth0 192.0.2.1                                      198.51.100.1 eth0 |
#      +-- eth-a 192.0.2.254 ---------[ inet ]--------- 198.51.100.254 eth-b --+
#
# Issue 20: minivpnd serves strongSwan's vici on strongswan.conf's charon.plugins.vici.socket
# (here $LAB_RUN/a/vici, as for charon), so `swan a ...` (swanctl --uri unix://...) talks to it
# exactly as `swan b ...` talks to charon. The connections come from the configuration file
# (load-conn over vici is not served yet); everything else below is swanctl's.
# --list-sas is compared line by line with charon's for the same tunnel on b, normalised:
# numbers, SPIs, addresses and the connection names replaced, the '*' of the local SPI dropped.

lab_topology_two_sites
lab_pair a b
lab_start a b

swanctl_out() {  # swanctl_out X FILE ARGS...: swanctl's output into FILE; its status
  local x=$1 file=$2
  shift 2
  swan "$x" "$@" >"$LAB_OUT/$x/$file" 2>&1
}
has() { grep -Eq "$2" "$LAB_OUT/$1"; }  # has X/FILE REGEX

step "swanctl against minivpnd's vici socket on a"
expect "swanctl --version --daemon: minivpnd answers" swanctl_out a version.txt --version --daemon
expect "  it names the daemon" has a/version.txt ' minivpnd \(Linux'
expect "swanctl --stats" swanctl_out a stats.txt --stats
expect "  IKE_SAs: 0 total" has a/stats.txt 'IKE_SAs: 0 total, 0 half-open'
expect "swanctl --list-conns" swanctl_out a list-conns.txt --list-conns
expect "  shows to-b with its child and selectors" has a/list-conns.txt '^  to-b: TUNNEL'

step "swanctl --initiate --child to-b on a"
expect "swanctl --initiate exits 0" swanctl_out a initiate.txt --initiate --child to-b --timeout 30
expect "  it streamed minivpnd's log (control-log)" has a/initiate.txt \
  '^\[ENC\] generating IKE_SA_INIT request 0'
expect "  and reported success" has a/initiate.txt 'initiate completed successfully'
expect "tunnel up on a" lab_wait_sa a to-b
expect "tunnel up on b" lab_wait_sa b to-a
expect "ping Net A -> Net B" lab_ping host-a "${LAB_HOST[b]}" 3

step "swanctl --list-sas on a (minivpnd) and on b (charon)"
# Normalised so that the two routers' views of one tunnel read the same.
normalise() {
  sed -E -e 's/\*//g' -e 's/to-[ab]/NAME/g' -e 's/[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+(\/[0-9]+)?/ADDR/g' \
    -e 's/[0-9a-f]{8,16}_([ir])/SPI_\1/g' -e 's/(in|out) +[0-9a-f]{8}/\1 SPI/g' \
    -e 's/[0-9]+/N/g' -e 's/ +/ /g' "$1"
}
expect "swanctl --list-sas on a" swanctl_out a list-sas.txt --list-sas
expect "swanctl --list-sas on b" swanctl_out b list-sas.txt --list-sas
normalise "$LAB_OUT/a/list-sas.txt" >"$LAB_OUT/a/list-sas.normalised"
normalise "$LAB_OUT/b/list-sas.txt" >"$LAB_OUT/b/list-sas.normalised"
note "a: $(tr '\n' '|' <"$LAB_OUT/a/list-sas.normalised")"
expect "the same lines as charon's, normalised (a/list-sas.normalised, b/...)" \
  diff "$LAB_OUT/a/list-sas.normalised" "$LAB_OUT/b/list-sas.normalised"
expect "swanctl --list-sas --raw on a" swanctl_out a list-sas.raw --list-sas --raw
expect "swanctl --list-sas --raw on b" swanctl_out b list-sas.raw --list-sas --raw
# The keys of both list-sa events; `initiator` is only on the initiator's side.
same_keys() {
  local keys_a keys_b
  keys_a=$(grep -oE '[a-z-]+=' "$LAB_OUT/a/list-sas.raw" | grep -vx 'initiator=' | sort -u)
  keys_b=$(grep -oE '[a-z-]+=' "$LAB_OUT/b/list-sas.raw" | sort -u)
  [[ $keys_a == "$keys_b" ]] && return 0
  LAB_WHY="keys differ (< minivpnd, > charon): $(diff <(echo "$keys_a") <(echo "$keys_b") |
    grep '^[<>]' | tr '\n' ' ')"
  return 1
}
expect "list-sa carries the keys charon fills (a/list-sas.raw, b/list-sas.raw)" same_keys

expect "swanctl --list-sas --ike to-b: the same tunnel" swanctl_out a list-sas-ike.txt --list-sas --ike to-b
normalise "$LAB_OUT/a/list-sas-ike.txt" >"$LAB_OUT/a/list-sas-ike.normalised"
expect "  (compared with the unfiltered list)" cmp -s "$LAB_OUT/a/list-sas-ike.normalised" \
  "$LAB_OUT/a/list-sas.normalised"
expect "swanctl --list-sas --ike nope: nothing, exit 0" bash -c "[ -z \"\$(STRONGSWAN_CONF='$LAB_OUT/a/strongswan.conf' \
  swanctl --list-sas --ike nope --uri 'unix://$LAB_RUN/a/vici')\" ]"

step "swanctl --rekey on a, watched by swanctl --log and --monitor-sa"
# Both in the background for the length of the rekey (swanctl --log/--monitor-sa run until
# stopped); their output is what they printed.
STRONGSWAN_CONF="$LAB_OUT/a/strongswan.conf" timeout 20 swanctl --log \
  --uri "unix://$LAB_RUN/a/vici" >"$LAB_OUT/a/log.txt" 2>&1 &
log_pid=$!
STRONGSWAN_CONF="$LAB_OUT/a/strongswan.conf" timeout 20 swanctl --monitor-sa --raw \
  --uri "unix://$LAB_RUN/a/vici" >"$LAB_OUT/a/monitor-sa.txt" 2>&1 &
monitor_pid=$!
# Both clients must be connected (minivpnd's end of each connection, in a's namespace, carries
# the socket's path) before the rekey: swanctl takes a while to start in a loaded guest. They
# register for their events right after connecting.
clients_connected() {
  (($(ip netns exec a ss -xH state connected 2>/dev/null | grep -c "$LAB_RUN/a/vici") >= 2))
}
wait_until 5 clients_connected || note "swanctl --log/--monitor-sa not connected after 5 s"
sleep 0.5
spi_before=$(grep -oE 'in +[0-9a-f]{8}' "$LAB_OUT/a/list-sas.txt" | head -n 1)
expect "swanctl --rekey --child to-b exits 0" swanctl_out a rekey.txt --rekey --child to-b
expect "  rekey completed" has a/rekey.txt 'rekey completed successfully'
# The events of the rekey are out once it completed; stop both watchers (as Ctrl-C would).
sleep 1
kill -TERM "$log_pid" "$monitor_pid" 2>/dev/null
wait "$log_pid" "$monitor_pid"
expect "swanctl --log saw the rekey (CREATE_CHILD_SA)" has a/log.txt \
  '^[0-9]+\[ENC\] generating CREATE_CHILD_SA request'
expect "swanctl --monitor-sa saw the new CHILD_SA come up" has a/monitor-sa.txt \
  'child-updown event \{up=yes to-b \{'
new_child() {
  swan a --list-sas >"$LAB_OUT/a/list-sas-rekeyed.txt" 2>&1 &&
    ! grep -q "$spi_before" "$LAB_OUT/a/list-sas-rekeyed.txt" &&
    grep -q 'INSTALLED' "$LAB_OUT/a/list-sas-rekeyed.txt"
}
expect "  a new CHILD_SA (the old inbound SPI is gone)" wait_until 10 new_child
expect "ping across the rekeyed tunnel" lab_ping host-a "${LAB_HOST[b]}" 3
expect "swanctl --counters --name to-b" swanctl_out a counters.txt --counters --name to-b
expect "  counted the rekey's CREATE_CHILD_SA request" has a/counters.txt \
  'create-child-out-req +: 1'
expect "  and the IKE_SA_INIT request" has a/counters.txt 'ike-init-out-req +: 1'
expect "swanctl --counters --reset --all" swanctl_out a counters-reset.txt --counters --reset --all
expect "swanctl --uninstall of a child without traps: an error" \
  bash -c "! STRONGSWAN_CONF='$LAB_OUT/a/strongswan.conf' swanctl --uninstall --child to-b \
    --uri 'unix://$LAB_RUN/a/vici' >'$LAB_OUT/a/uninstall-none.txt' 2>&1"
expect "swanctl --terminate --ike to-b exits 0" swanctl_out a terminate.txt --terminate --ike to-b \
  --timeout 10
expect "  terminate completed" has a/terminate.txt 'terminate completed successfully'
expect "tunnel down on a" lab_wait_no_sa a to-b 5
expect "tunnel down on b" lab_wait_no_sa b to-a 5
expect_not "swanctl --initiate of an unknown child fails" swan a --initiate --child nope --timeout 5
expect "swanctl --install --child to-b: trap policies, no SA" swanctl_out a install.txt --install --child to-b
expect "  the kernel holds to-b's OUT policy and no SA" trap_installed a
expect "swanctl --uninstall --child to-b" swanctl_out a uninstall.txt --uninstall --child to-b
expect "  the trap policies are gone" lab_wait_xfrm_empty a 5
# A command minivpnd does not serve (list-certs): vici's "unknown command", which swanctl reports
# as a failure at once (no hang).
unserved_fails() {
  timeout 10 env STRONGSWAN_CONF="$LAB_OUT/a/strongswan.conf" swanctl --list-certs \
    --uri "unix://$LAB_RUN/a/vici" >"$LAB_OUT/a/list-certs.txt" 2>&1
  local rc=$?
  ((rc != 0 && rc != 124))
}
expect "swanctl --list-certs (not served): a failure at once, not a hang" unserved_fails
