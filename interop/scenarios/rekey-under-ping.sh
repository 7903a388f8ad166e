# about: 20 rekeys (CHILD or IKE, from either side) under a continuous ping: no ping lost
#
#   host-a 10.1.0.10 ---- ping every 0.1 s, for the whole test ----> host-b 10.2.0.10
#      |                                                                       |
#   [router a] vti-b ===== ESP, key 12; REKEYER rekeys 20 times in a row ==== vti-a [router b]
#      | eth0 192.0.2.1                                      198.51.100.1 eth0 |
#      +-- eth-a 192.0.2.254 ---------[ inet ]--------- 198.51.100.254 eth-b --+
#
# CHILD rekey (RFC 7296 1.3.3, 2.8): the new SA pair is installed before the old one is deleted,
# so no packet may fall between them. IKE rekey (1.3.2, 2.18): the CHILD_SAs move to the new
# IKE_SA and the kernel does not notice at all. Afterwards: one IKE_SA and one SA pair per side.
# The rekeys are requested through the vici socket (swanctl --rekey / minivpnctl rekey), one
# after the other, so that the end state can be checked; timer-driven rekeys: lossy-link.sh.
# Parameters: ROLE_A, REKEYER (a | b), KIND (child | ike), REKEYS (default 20).

rekeyer=${REKEYER:-a}
other=$([[ $rekeyer == a ]] && echo b || echo a)
kind=${KIND:-child}
rekeys=${REKEYS:-20}

# rekey_n_times X NAME KIND N: N rekeys, each one finished (its #id went up) before the next.
rekey_n_times() {
  local x=$1 name=$2 kind=$3 n=$4 i base
  for ((i = 1; i <= n; i++)); do
    base=$("${kind}_id" "$x" "$name")
    lab_rekey "$x" "$name" "$kind" || return 1
    lab_wait_rekeys "$x" "$name" 1 10 "$kind" "$base" || { LAB_WHY="rekey $i: $LAB_WHY"; return 1; }
  done
}

lab_topology_two_sites
lab_pair a b
lab_start a b
expect "tunnel up: initiate from a" lab_initiate a to-b
expect "tunnel up on a" lab_wait_sa a to-b
expect "tunnel up on b" lab_wait_sa b to-a

lab_ping_start host-a "${LAB_HOST[b]}" rekey-ping
expect "$rekeys $kind rekeys by $rekeyer" rekey_n_times "$rekeyer" "to-$other" "$kind" "$rekeys"
sleep 1
expect "no ping lost during the rekeys" lab_ping_stop rekey-ping
# charon keeps a replaced inbound SA for delete_rekeyed_delay (5 s) to catch late packets.
expect "no stale SAs on a (one pair left)" lab_wait_sa_count a 2 15
expect "no stale SAs on b (one pair left)" lab_wait_sa_count b 2 15
expect "one IKE_SA on a" ike_sa_count_is a to-b 1
expect "one IKE_SA on b" ike_sa_count_is b to-a 1
expect "still up on a" lab_wait_sa a to-b 5
expect "ping Net A -> Net B still through the VTIs" lab_ping host-a "${LAB_HOST[b]}" 3
