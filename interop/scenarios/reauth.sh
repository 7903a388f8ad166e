# about: REAUTHS reauthentications (RFC 7296 2.8.3) by one side under a continuous ping: loss counted
#
#   host-a 10.1.0.10 ---- ping every 0.1 s, for the whole test ----> host-b 10.2.0.10
#      |                                                                       |
#   [router a] vti-b ===== ESP, key 12; REAUTHER's reauth_time = 3 s ======= vti-a [router b]
#      | eth0 192.0.2.1                                      198.51.100.1 eth0 |
#      +-- eth-a 192.0.2.254 ---------[ inet ]--------- 198.51.100.254 eth-b --+
#
# Reauthentication replaces the IKE_SA by a new one from IKE_SA_INIT (authenticated again) and
# makes its CHILD_SAs again there. a initiates the tunnel; REAUTHER (a, or b: charon reauthenticates
# as a PSK responder too) has reauth_time = 3s, rand_time = 1s, no rekeying, so it reauthenticates
# every 2 to 3 s. MAKE_BEFORE_BREAK (strongswan.conf charon.make_before_break, read by both daemons):
# no = charon 5.9's default, the old IKE_SA is deleted before the new one is set up, so pings in
# that gap are lost; yes = the new IKE_SA and CHILD_SAs come first, then the old IKE_SA goes.
# The lost pings are printed (the figure to compare with charon<->charon's row) and bounded:
# MAX_LOST in all (default: 3 per reauthentication for break-before-make, 1 per 2 for
# make-before-break: a reply already sealed with the old SA can still meet its deletion; measured
# for charon<->charon as for minivpnd, 0 to 2 in 10; break-before-make charon<->charon: 4 to 21).
# Afterwards, between two reauthentications: one IKE_SA and one SA pair per side.
# Parameters: ROLE_A, REAUTHER (a | b), MAKE_BEFORE_BREAK (yes | no), REAUTHS (default 10), MAX_LOST.

reauther=${REAUTHER:-a}
other=$([[ $reauther == a ]] && echo b || echo a)
reauths=${REAUTHS:-10}
if [[ ${MAKE_BEFORE_BREAK:-no} == yes ]]; then
  how=make-before-break max_lost=${MAX_LOST:-$((reauths / 2))}
else
  how=break-before-make max_lost=${MAX_LOST:-$((3 * reauths))}
fi

lab_topology_two_sites
lab_tunnel a b
lab_conn "$reauther" "$other" ike_rekey=0s ike_reauth=3s ike_over=2s ike_rand=1s
lab_conn "$other" "$reauther"
lab_start a b
expect "tunnel up: initiate from a" lab_initiate a to-b
expect "tunnel up on a" lab_wait_sa a to-b
expect "tunnel up on b" lab_wait_sa b to-a

lab_ping_start host-a "${LAB_HOST[b]}" reauth-ping
expect "$reauths reauthentications ($how) by $reauther" \
  lab_wait_rekeys "$reauther" "to-$other" "$reauths" $((reauths * 5 + 10)) ike
sleep 1
lab_ping_stop reauth-ping || true
step "measured: $LAB_PING_LOST of $LAB_PING_SENT pings lost over $reauths reauthentications ($how by $(role_of "$reauther"))"
# shellcheck disable=SC2317 # called through expect
lost_within() {
  ((LAB_PING_LOST <= $1)) && return 0
  LAB_WHY="$LAB_PING_LOST pings lost, more than $1"
  return 1
}
expect "at most $max_lost pings lost" lost_within "$max_lost"
# Reauthentication goes on every few seconds: at some moment between two of them each side holds
# exactly one IKE_SA and one SA pair (nothing left behind by the earlier ones). charon keeps a
# replaced inbound SA for delete_rekeyed_delay (5 s) to catch late packets.
# shellcheck disable=SC2317 # called through wait_until
settled() {
  sa_count_is a 2 && sa_count_is b 2 && ike_sa_count_is a to-b 1 && ike_sa_count_is b to-a 1
}
expect "one IKE_SA and one SA pair per side between two reauthentications" wait_until 20 settled
