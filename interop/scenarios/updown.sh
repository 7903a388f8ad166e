# about: the seed's route-based tunnel with router a's VTI made by an updown script (up-client creates it, down-client removes it), as strongSwan's route-based docs do it; the script's PLUTO_* environment checked
#
#   host-a ---- ping ----------------------------------------------------------> host-b
#   [router a] ROLE_A: its vti-b exists only while the CHILD_SA is up   [router b] charon, vti-a
#              updown = <run>/a/updown.sh (generated below)
#
# Issue 21. The script is the one strongSwan's route-based VPN guide shows (ip tunnel add ...
# mode vti key ${PLUTO_MARK_OUT%%/*}, disable_policy, address, route; ip tunnel del on down),
# plus a line per call with what it was told, in <results>/a/updown.calls. Run with ROLE_A=charon
# and ROLE_A=minivpnd: the same VTI, the same calls, the same tunnel.

script="$LAB_RUN/a/updown.sh"
calls="$LAB_OUT/a/updown.calls"
mkdir -p "$LAB_RUN/a" "$LAB_OUT/a"
cat >"$script" <<SCRIPT
#!/bin/sh
# strongSwan's route-based VPN example, for router a's tunnel to b
set -e
echo "\$PLUTO_VERB \$PLUTO_CONNECTION reqid=\$PLUTO_REQID mark_in=\$PLUTO_MARK_IN mark_out=\$PLUTO_MARK_OUT me=\$PLUTO_ME peer=\$PLUTO_PEER my_client=\$PLUTO_MY_CLIENT peer_client=\$PLUTO_PEER_CLIENT peer_id=\$PLUTO_PEER_ID proto=\$PLUTO_PROTO" >>"$calls"
case "\$PLUTO_VERB" in
  up-client)
    ip tunnel add vti-b local "\$PLUTO_ME" remote "\$PLUTO_PEER" mode vti key "\${PLUTO_MARK_OUT%%/*}"
    sysctl -q -w net.ipv4.conf.vti-b.disable_policy=1
    ip addr add $(tunnel_addr a b)/30 dev vti-b
    ip link set vti-b up
    ip route add ${LAB_NET[b]} dev vti-b
    ;;
  down-client)
    ip tunnel del vti-b
    ;;
esac
SCRIPT
chmod 755 "$script"

lab_topology_two_sites
lab_vti b a
lab_conn a b updown="$script"
lab_conn b a
lab_start a b
expect_not "no vti-b on a before the tunnel" on a ip link show vti-b
expect "tunnel up: initiate from a" lab_initiate a to-b
expect "tunnel up on a" lab_wait_sa a to-b
expect "tunnel up on b" lab_wait_sa b to-a
expect "a's up-client made vti-b (ikey/okey 12)" \
  wait_until 10 bash -c "ip -n a -d link show vti-b | grep -Eq 'ikey 0\\.0\\.0\\.12 okey 0\\.0\\.0\\.12'"
expect "ping Net A -> Net B through the script's VTI" lab_ping host-a "${LAB_HOST[b]}" 5
while read -r line; do note "updown: $line"; done <"$calls"
told_up() {
  LAB_WHY="$(cat "$calls" 2>/dev/null)"
  grep -qx "up-client to-b reqid=1 mark_in=12/0xffffffff mark_out=12/0xffffffff me=${LAB_WAN[a]} peer=${LAB_WAN[b]} my_client=0.0.0.0/0 peer_client=0.0.0.0/0 peer_id=${LAB_WAN[b]} proto=esp" "$calls"
}
expect "the script was called once with charon's PLUTO_* values" told_up
expect "  (once)" test "$(grep -c . "$calls")" = 1
expect "terminate from a" lab_terminate a to-b
expect "a's down-client removed vti-b" wait_until 10 bash -c "! ip -n a link show vti-b"
told_down() {
  LAB_WHY="$(cat "$calls" 2>/dev/null)"
  [[ $(grep -c . "$calls") == 2 ]] && tail -n 1 "$calls" | grep -q '^down-client to-b reqid=1 mark_in=12/0xffffffff'
}
expect "the script was called for the down, with the same values" told_down
