# topology.sh: routers, hosts and the "internet" as network namespaces; VTIs; impairments.
# Sourced by lab.sh (see there for the names used everywhere).
# shellcheck disable=SC2034 # LAB_* variables are shared between these files and the scenarios

# ---- addressing plan (RFC 5737 documentation prefixes on the transport side) --------------------

declare -A LAB_WAN=([a]=192.0.2.1 [b]=198.51.100.1 [c]=203.0.113.1)
declare -A LAB_WAN_GW=([a]=192.0.2.254 [b]=198.51.100.254 [c]=203.0.113.254)
declare -A LAB_NET=([a]=10.1.0.0/24 [b]=10.2.0.0/24 [c]=10.3.0.0/24)
declare -A LAB_LAN_GW=([a]=10.1.0.1 [b]=10.2.0.1 [c]=10.3.0.1)
declare -A LAB_HOST=([a]=10.1.0.10 [b]=10.2.0.10 [c]=10.3.0.10)
# VTI key of each pair; it is also the xfrm mark of the pair's SAs and policies.
declare -A LAB_KEY=([ab]=12 [ac]=13 [bc]=23)
# IPv6 on a transport link, opt-in (lab_wan6; RFC 3849 documentation prefix 2001:db8::/32).
declare -A LAB_WAN6=([a]=2001:db8:a::1 [b]=2001:db8:b::1 [c]=2001:db8:c::1)
declare -A LAB_WAN6_GW=([a]=2001:db8:a::fe [b]=2001:db8:b::fe [c]=2001:db8:c::fe)

# ---- namespaces and links ------------------------------------------------------------------------

ns_add() {
  must ip netns add "$1"
  must ip -n "$1" link set lo up
}

# veth NS1 IF1 NS2 IF2: a cable between two namespaces.
veth() {
  must ip link add name "$2" netns "$1" type veth peer name "$4" netns "$3"
  must ip -n "$1" link set "$2" up
  must ip -n "$3" link set "$4" up
}

forwarding_on() { must ip netns exec "$1" sysctl -q -w net.ipv4.ip_forward=1; }

lab_internet() {
  step "topology: internet router"
  ns_add inet
  forwarding_on inet
}

# lab_site X: router X with its transport link into "inet" (eth0, default route) and its local
# network on eth1 with one host. (One `ip -batch` per namespace: every process start is slow in UML.)
lab_site() {
  local x=$1
  step "topology: site $x (router ${LAB_WAN[$x]}, net ${LAB_NET[$x]})"
  must ip -batch - <<EOF
netns add $x
netns add host-$x
link add name eth0 netns $x type veth peer name eth-$x netns inet
link add name eth1 netns $x type veth peer name eth0 netns host-$x
EOF
  must ip -n "$x" -batch - <<EOF
link set lo up
link set eth0 up
link set eth1 up
addr add ${LAB_WAN[$x]}/24 dev eth0
addr add ${LAB_LAN_GW[$x]}/24 dev eth1
route add default via ${LAB_WAN_GW[$x]}
EOF
  must ip -n "host-$x" -batch - <<EOF
link set lo up
link set eth0 up
addr add ${LAB_HOST[$x]}/24 dev eth0
route add default via ${LAB_LAN_GW[$x]}
EOF
  must ip -n inet -batch - <<EOF
link set eth-$x up
addr add ${LAB_WAN_GW[$x]}/24 dev eth-$x
EOF
  forwarding_on "$x"
}

# lab_wan6 X: IPv6 on the link between router X and "inet" as well: ${LAB_WAN6[X]}/64 on X's
# eth0, ${LAB_WAN6_GW[X]}/64 on inet's eth-X (no DAD: usable at once), and an IPv6 default route
# on X via inet. The links are IPv4 only without it. inet does not forward IPv6 (no IPv6 between
# the sites): what X sends to other IPv6 addresses ends in inet, where a packet socket sees it
# (the flood scenario's attacker owns an IPv6 /64 behind inet that way).
lab_wan6() {
  local x=$1
  step "topology: IPv6 on the link $x - inet (${LAB_WAN6[$x]}/64, gateway ${LAB_WAN6_GW[$x]})"
  must ip -n "$x" -batch - <<EOF
addr add ${LAB_WAN6[$x]}/64 dev eth0 nodad
route add ::/0 via ${LAB_WAN6_GW[$x]} dev eth0
EOF
  must ip -n inet addr add "${LAB_WAN6_GW[$x]}/64" dev "eth-$x" nodad
}

lab_topology_two_sites() {
  lab_internet
  lab_site a
  lab_site b
  expect "transport a -> b reachable" lab_ping a "${LAB_WAN[b]}" 1
}

lab_topology_triangle() {
  lab_internet
  lab_site a
  lab_site b
  lab_site c
  expect "transport a -> b reachable" lab_ping a "${LAB_WAN[b]}" 1
  expect "transport a -> c reachable" lab_ping a "${LAB_WAN[c]}" 1
  expect "transport b -> c reachable" lab_ping b "${LAB_WAN[c]}" 1
}

# ---- tunnels -------------------------------------------------------------------------------------

pair_key() { if [[ $1 < $2 ]]; then echo "${LAB_KEY[$1$2]}"; else echo "${LAB_KEY[$2$1]}"; fi; }

# Inner address of X on the X-Y tunnel: 169.254.<key>.1 on the lower name, .2 on the other.
tunnel_addr() {
  local k
  k=$(pair_key "$1" "$2")
  if [[ $1 < $2 ]]; then echo "169.254.$k.1"; else echo "169.254.$k.2"; fi
}

# lab_vti X Y [noroute]: on router X the VTI "vti-Y" towards Y (key = pair key) with a /30 inner
# address, and (unless noroute, e.g. when BGP will decide) a route to Y's local network.
lab_vti() {
  local x=$1 y=$2 key dev="vti-$2"
  key=$(pair_key "$x" "$y")
  step "vti: $x/$dev ${LAB_WAN[$x]} -> ${LAB_WAN[$y]} key $key"
  must ip -n "$x" -batch - <<EOF
tunnel add $dev mode vti local ${LAB_WAN[$x]} remote ${LAB_WAN[$y]} key $key
addr add $(tunnel_addr "$x" "$y")/30 dev $dev
link set $dev up
EOF
  # The VTI does the policy check itself (by mark); the plain per-interface check must not.
  must ip netns exec "$x" sysctl -q -w "net.ipv4.conf.$dev.disable_policy=1"
  [[ ${3:-} == noroute ]] || must ip -n "$x" route add "${LAB_NET[$y]}" dev "$dev"
}

# lab_tunnel X Y: both VTIs of a pair.
lab_tunnel() {
  lab_vti "$1" "$2" "${3:-}"
  lab_vti "$2" "$1" "${3:-}"
}

# lab_xfrmi X Y IF_ID: on router X the XFRM interface "xfrm-Y" (on eth0, the transport link) for
# the SAs and policies carrying IF_ID (charon: if_id_in/if_id_out), with the pair's /30 inner
# address and a route to Y's local network. Needs the xfrm_interface module (the QEMU backend's
# stock kernel; Debian's UML kernel has none).
lab_xfrmi() {
  local x=$1 y=$2 id=$3 dev="xfrm-$2"
  step "xfrmi: $x/$dev on eth0, if_id $id"
  must ip -n "$x" -batch - <<EOF
link add $dev type xfrm dev eth0 if_id $id
addr add $(tunnel_addr "$x" "$y")/30 dev $dev
link set $dev up
route add ${LAB_NET[$y]} dev $dev
EOF
}

# ---- impairments ---------------------------------------------------------------------------------

# lab_netem NS IF "netem options": e.g. lab_netem inet eth-a "delay 10ms loss 20% reorder 25%".
lab_netem() {
  step "netem $1/$2: $3"
  # shellcheck disable=SC2086
  must ip netns exec "$1" tc qdisc replace dev "$2" root netem $3
}

lab_netem_clear() { ip netns exec "$1" tc qdisc del dev "$2" root 2>/dev/null; }

# ---- drop rules ----------------------------------------------------------------------------------

# Packet filters. Debian's UML kernel has nf_tables without its ip/inet families (and the host has
# no iptables), so drops are tc filters: a clsact qdisc on an interface and "flower" matches with
# a drop action, evaluated on packets arriving on that interface.
#
# lab_drop NS IF PREF MATCH...: drop packets arriving on IF (in NS) that match, e.g.
#   lab_drop inet eth-a 10 src_ip 192.0.2.1 ip_proto udp dst_port 500     (IKE from a)
#   lab_drop inet eth-a 11 src_ip 192.0.2.1 ip_proto 50                   (ESP from a)
# PREF identifies the rule for lab_undrop NS IF PREF.
lab_drop() {
  local ns=$1 dev=$2 pref=$3
  shift 3
  ip -n "$ns" link show "$dev" >/dev/null 2>&1 || lab_fail "lab_drop: no $dev in $ns"
  grep -q clsact <<<"$(tc -n "$ns" qdisc show dev "$dev")" ||
    must tc -n "$ns" qdisc add dev "$dev" clsact
  must tc -n "$ns" filter add dev "$dev" ingress pref "$pref" protocol ip flower "$@" action drop
}

lab_undrop() { must tc -n "$1" filter del dev "$2" ingress pref "$3"; }

# lab_drop_count NS IF: packets dropped so far by the filters on IF.
lab_drop_count() {
  tc -n "$1" -s filter show dev "$2" ingress | sed -nE 's/.*Sent [0-9]+ bytes ([0-9]+) pkt.*/\1/p' |
    awk '{ n += $1 } END { print n + 0 }'
}

# lab_dropped NS IF: true if the filters on IF dropped at least one packet.
lab_dropped() {
  local n
  n=$(lab_drop_count "$1" "$2")
  note "$1/$2: $n packets dropped by filters"
  ((n > 0)) && return 0
  LAB_WHY="no packet dropped on $1/$2"
  return 1
}

# lab_cut X Y: "inet" drops everything between the transport addresses of X and Y (IKE and ESP,
# both directions). lab_heal X Y lets it through again.
lab_cut() {
  local x=$1 y=$2 pref
  pref=$((100 + $(pair_key "$x" "$y")))
  step "cut transport path $x <-> $y (tc drop in inet)"
  lab_drop inet "eth-$x" "$pref" src_ip "${LAB_WAN[$x]}" dst_ip "${LAB_WAN[$y]}"
  lab_drop inet "eth-$y" "$pref" src_ip "${LAB_WAN[$y]}" dst_ip "${LAB_WAN[$x]}"
}

lab_heal() {
  local x=$1 y=$2 pref
  pref=$((100 + $(pair_key "$x" "$y")))
  step "heal transport path $x <-> $y"
  lab_undrop inet "eth-$x" "$pref"
  lab_undrop inet "eth-$y" "$pref"
}
