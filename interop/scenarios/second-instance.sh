# about: a second minivpnd on the same router exits naming the running one's pid; the tunnel, every xfrm object and the ping survive
#
#   host-a 10.1.0.10                                                      host-b 10.2.0.10
#      |  ping every 0.1 s ---------------------------------------------------> |
#   [router a] minivpnd (the service)  ====== ESP, key 12 ======  charon [router b]
#              minivpnd #2 (an admin's `minivpnd -d ike=2`: same config, journal, sockets)
#
# Before issue 17, the second daemon replayed the first one's journal as leftovers (deleting its
# SAs and policies), bound UDP 500/4500 beside it and unlinked its control socket. Now it must
# stop at the instance lock: exit non-zero with "already running (pid N)" and touch nothing.

snapshot_xfrm() {
  { ip -n a xfrm state | grep -E '^src|proto esp'; ip -n a xfrm policy | grep -E '^src|dir|mark|tmpl'; } \
    >"$LAB_OUT/xfrm-a-$1.objects"
}

lab_topology_two_sites
lab_tunnel a b
lab_conn a b
lab_conn b a
lab_start b a
expect "initiate a -> b" lab_initiate a to-b
expect "tunnel up on a" lab_wait_sa a to-b
expect "ping Net A -> Net B" lab_ping host-a "${LAB_HOST[b]}" 3
snapshot_xfrm before
lab_ping_start host-a "${LAB_HOST[b]}" a-to-b
sleep 1

first=$(<"$LAB_RUN/a/pid")
step "start a second minivpnd on a (same config, journal and vici socket as pid $first)"
ip netns exec a timeout 10 "$MINIVPND" --config "$LAB_OUT/a/swanctl.conf" -d ike=2 \
  --strongswan-conf "$LAB_OUT/a/strongswan.conf" \
  --journal "$LAB_RUN/a/kernel.journal" >"$LAB_OUT/a/second-minivpnd.stdout" 2>&1
rc=$?
note "second minivpnd: exit status $rc: $(tail -n 1 "$LAB_OUT/a/second-minivpnd.stdout")"
second_refused() {
  LAB_WHY="exit status $rc (124 = still running after 10 s)"
  ((rc != 0 && rc != 124)) || return 1
  LAB_WHY="its output does not name pid $first: $(tail -n 1 "$LAB_OUT/a/second-minivpnd.stdout")"
  grep -q "already running (pid $first," "$LAB_OUT/a/second-minivpnd.stdout"
}
expect "the second minivpnd exits non-zero naming pid $first" second_refused
sleep 1
expect "the first minivpnd still answers on its vici socket" ctl a list-sas
expect "the tunnel is still up on a" lab_wait_sa a to-b 2
snapshot_xfrm after
objects_kept() {
  LAB_WHY="xfrm objects changed: $(diff "$LAB_OUT/xfrm-a-before.objects" "$LAB_OUT/xfrm-a-after.objects" | tr '\n' ' ')"
  [[ -s $LAB_OUT/xfrm-a-before.objects ]] && cmp -s "$LAB_OUT/xfrm-a-before.objects" "$LAB_OUT/xfrm-a-after.objects"
}
expect "every xfrm state and policy of a is still there" objects_kept
no_ping_lost() {
  lab_ping_stop a-to-b
  LAB_WHY="$LAB_PING_LOST of $LAB_PING_SENT pings lost"
  ((LAB_PING_SENT > 10 && LAB_PING_LOST == 0))
}
expect "no ping lost" no_ping_lost
