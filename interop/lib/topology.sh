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
# IPv6 on a local network, opt-in (lab_lan6; unique local prefixes, as dual-stack.sh's).
declare -A LAB_NET6=([a]=fd00:1::/64 [b]=fd00:2::/64 [c]=fd00:3::/64)
declare -A LAB_LAN6_GW=([a]=fd00:1::1 [b]=fd00:2::1 [c]=fd00:3::1)
declare -A LAB_HOST6=([a]=fd00:1::10 [b]=fd00:2::10 [c]=fd00:3::10)

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

# lab_inet6_forward: inet forwards IPv6 between the transport links too, so that routers with
# lab_wan6 reach each other over IPv6 (IKE and ESP over IPv6), once `lab_wait_ll6 inet` says so.
# Opt-in and separate from lab_wan6: the flood scenario relies on inet keeping what it gets for
# IPv6 addresses behind it.
lab_inet6_forward() {
  step "topology: inet forwards IPv6 between the sites"
  must ip netns exec inet sysctl -q -w net.ipv6.conf.all.forwarding=1
}

# lab_wait_ll6 NS...: waits (5 s at most) until no IPv6 address in these namespaces is tentative.
# A namespace forwards IPv6 only once its interfaces' link-local addresses have passed duplicate
# address detection (2-3 s after the links came up in lab_site, measured): the kernel solicits
# the next hop of a forwarded packet from its link-local address, and sends nothing while that is
# tentative (its own packets go out at once, solicited from their global source address). Call it
# before the first forwarded IPv6 packet, as late as possible (the wait is then over or short).
lab_wait_ll6() {
  local ns
  for ns in "$@"; do
    wait_until 5 ll6_settled "$ns" || lab_fail "IPv6 addresses of $ns still tentative after 5 s: $(ip -n "$ns" -6 -o addr show tentative | tr '\n' ';')"
  done
}

ll6_settled() { [[ -z $(ip -n "$1" -6 addr show tentative) ]]; }

# lab_lan6 X: IPv6 on X's local network as well: ${LAB_LAN6_GW[X]}/64 on X's eth1,
# ${LAB_HOST6[X]}/64 on host-X with a default route via X, and X forwards IPv6 (after
# `lab_wait_ll6 X`).
lab_lan6() {
  local x=$1
  step "topology: IPv6 on site $x's local network (${LAB_NET6[$x]})"
  must ip netns exec "$x" sysctl -q -w net.ipv6.conf.all.forwarding=1
  must ip -n "$x" addr add "${LAB_LAN6_GW[$x]}/64" dev eth1 nodad
  must ip -n "host-$x" -batch - <<EOF
addr add ${LAB_HOST6[$x]}/64 dev eth0 nodad
route add ::/0 via ${LAB_LAN6_GW[$x]}
EOF
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

# lab_vti X Y [noroute] [remote=ADDR]: on router X the VTI "vti-Y" towards Y (key = pair key)
# with a /30 inner address, and (unless noroute, e.g. when BGP will decide) a route to Y's local
# network. remote=ADDR: the address Y's packets arrive from, if not Y's own (Y behind a NAT: a VTI
# takes incoming ESP by its outer source address).
lab_vti() {
  local x=$1 y=$2 key dev="vti-$2" route=yes remote=${LAB_WAN[$2]} opt
  for opt in "${@:3}"; do
    case $opt in
      noroute) route=no ;;
      remote=*) remote=${opt#remote=} ;;
    esac
  done
  key=$(pair_key "$x" "$y")
  step "vti: $x/$dev ${LAB_WAN[$x]} -> $remote key $key"
  must ip -n "$x" -batch - <<EOF
tunnel add $dev mode vti local ${LAB_WAN[$x]} remote $remote key $key
addr add $(tunnel_addr "$x" "$y")/30 dev $dev
link set $dev up
EOF
  # The VTI does the policy check itself (by mark); the plain per-interface check must not.
  must ip netns exec "$x" sysctl -q -w "net.ipv4.conf.$dev.disable_policy=1"
  [[ $route == no ]] || must ip -n "$x" route add "${LAB_NET[$y]}" dev "$dev"
}

# lab_vti6 X Y [FAMILY...]: on router X the IPv6 VTI (ip6_vti, type vti6) "vti-Y" towards Y,
# from ${LAB_WAN6[X]} to ${LAB_WAN6[Y]} (lab_wan6 on both), key = pair key; FAMILY 4 routes Y's
# local network (LAB_NET) into it, 6 Y's IPv6 one (LAB_NET6, lab_lan6): a vti6 carries either.
# The IPv4 inner address of lab_vti too. Needs LAB_EXTRA_MODULES=esp6,ip6_vti.
lab_vti6() {
  local x=$1 y=$2 key dev="vti-$2" fam
  key=$(pair_key "$x" "$y")
  step "vti6: $x/$dev ${LAB_WAN6[$x]} -> ${LAB_WAN6[$y]} key $key (routes: IPv${*:3})"
  must ip -n "$x" -batch - <<EOF
link add $dev type vti6 local ${LAB_WAN6[$x]} remote ${LAB_WAN6[$y]} key $key
addr add $(tunnel_addr "$x" "$y")/30 dev $dev
link set $dev up
EOF
  # The VTI does the policy check itself (by mark), for both inner families.
  must ip netns exec "$x" sysctl -q -w "net.ipv4.conf.$dev.disable_policy=1" \
    "net.ipv6.conf.$dev.disable_policy=1"
  for fam in "${@:3}"; do
    case $fam in
      4) must ip -n "$x" route add "${LAB_NET[$y]}" dev "$dev" ;;
      6) must ip -n "$x" -6 route add "${LAB_NET6[$y]}" dev "$dev" ;;
      *) lab_fail "lab_vti6: family '$fam' (4 or 6)" ;;
    esac
  done
}

# lab_tunnel X Y: both VTIs of a pair.
lab_tunnel() {
  lab_vti "$1" "$2" "${3:-}"
  lab_vti "$2" "$1" "${3:-}"
}

# lab_xfrmi X Y IF_ID [noroute]: on router X the XFRM interface "xfrm-Y" (on eth0, the transport
# link) for the SAs and policies carrying IF_ID (charon: if_id_in/if_id_out), with the pair's /30
# inner address and (unless noroute, e.g. when BGP will decide) a route to Y's local network.
# Needs the xfrm_interface module (the QEMU backend's stock kernel; Debian's UML kernel has none).
lab_xfrmi() {
  local x=$1 y=$2 id=$3 dev="xfrm-$2"
  step "xfrmi: $x/$dev on eth0, if_id $id"
  must ip -n "$x" -batch - <<EOF
link add $dev type xfrm dev eth0 if_id $id
addr add $(tunnel_addr "$x" "$y")/30 dev $dev
link set $dev up
EOF
  [[ ${4:-} == noroute ]] || must ip -n "$x" route add "${LAB_NET[$y]}" dev "$dev"
}

# ---- a NAT on the transport path -----------------------------------------------------------------

# Router a behind a source NAT in "inet": what a sends out of inet's eth-b (towards b) leaves with
# inet's address on that link (198.51.100.254 unless told otherwise) and, for every new mapping, a
# source port drawn at random (--random-fully), as a carrier-grade NAT does; b's answers reach
# inet and are translated back by its connection tracking. Legacy iptables (iptables-legacy,
# Debian package iptables) and conntrack(8) (package conntrack): Debian's UML kernel has
# iptable_nat but no nftables ip family. Rows that use it load
# LAB_EXTRA_MODULES=iptable_nat,xt_nat,nf_conntrack_netlink (conntrack(8) speaks ctnetlink).
LAB_NAT_ADDR=""   # a's translated address right now (lab_nat_a, lab_nat_rebind)

# nat_snat_rule ADDR: the NAT's one rule (from a, out of eth-b, translated to ADDR), as words.
nat_snat_rule() {
  echo "-o eth-b -s ${LAB_WAN[a]} -j SNAT --to-source $1 --random-fully"
}

# nat_inet_owns ADDR: ADDR on inet's eth-b (a /24 next to b's address; b must reach it).
nat_inet_owns() {
  grep -q " $1/" <<<"$(ip -n inet -4 addr show dev eth-b)" ||
    must ip -n inet addr add "$1/24" dev eth-b
}

# lab_nat_a [ADDR]: a behind the NAT, translated to ADDR (default inet's 198.51.100.254 on eth-b).
lab_nat_a() {
  local to=${1:-${LAB_WAN_GW[b]}}
  step "NAT: inet translates a (${LAB_WAN[a]}) to $to towards b (SNAT --random-fully)"
  nat_inet_owns "$to"
  # shellcheck disable=SC2046 # the rule is words
  must ip netns exec inet iptables-legacy -w -t nat -A POSTROUTING $(nat_snat_rule "$to")
  LAB_NAT_ADDR=$to
}

# lab_nat_flush: the NAT forgets every mapping (as after a NAT restart or an idle timeout); a's
# next packet gets a new one, with a new random source port.
lab_nat_flush() {
  step "NAT: flush every mapping (conntrack -F in inet)"
  must ip netns exec inet conntrack -F
}

# lab_nat_rebind ADDR: new mappings get another translated address, ADDR (put on inet's eth-b),
# and the existing ones are flushed: a's next packet reaches b from ADDR and a new port.
lab_nat_rebind() {
  local to=$1
  step "NAT: rebind a to $to (rule replaced, mappings flushed)"
  nat_inet_owns "$to"
  # shellcheck disable=SC2046 # the rule is words
  must ip netns exec inet iptables-legacy -w -t nat -R POSTROUTING 1 $(nat_snat_rule "$to")
  must ip netns exec inet conntrack -F
  LAB_NAT_ADDR=$to
}

# lab_nat_mapping [PORT]: "ADDR:PORT" that a's UDP port PORT (default 4500) is translated to
# right now, read from inet's connection tracking table (not from either daemon); empty if none.
lab_nat_mapping() {
  ip netns exec inet conntrack -L -p udp --orig-src "${LAB_WAN[a]}" --orig-port-src "${1:-4500}" 2>/dev/null |
    sed -nE 's/.* src=[0-9.]+ dst=([0-9.]+) sport=[0-9]+ dport=([0-9]+) .*/\1:\2/p' | head -n 1
}

# lab_nat_translates: a's packets really leave inet translated: a transport ping a -> b gets its
# answer, and inet's connection tracking holds its mapping, b answering to LAB_NAT_ADDR.
lab_nat_translates() {
  local ct
  lab_ping a "${LAB_WAN[b]}" 1 || return 1
  ct=$(ip netns exec inet conntrack -L -p icmp --orig-src "${LAB_WAN[a]}" 2>/dev/null)
  note "inet conntrack: ${ct//$'\n'/ | }"
  grep -Eq "src=${LAB_WAN[b]} dst=$LAB_NAT_ADDR " <<<"$ct" && return 0
  LAB_WHY="no mapping of a's ping to $LAB_NAT_ADDR in inet's connection tracking table"
  return 1
}

# ---- impairments ---------------------------------------------------------------------------------

# lab_netem NS IF "netem options": e.g. lab_netem inet eth-a "delay 10ms loss 20% reorder 25%".
lab_netem() {
  step "netem $1/$2: $3"
  # shellcheck disable=SC2086
  must ip netns exec "$1" tc qdisc replace dev "$2" root netem $3
}

lab_netem_clear() { ip netns exec "$1" tc qdisc del dev "$2" root 2>/dev/null; }

# lab_mtu X MTU: the MTU of X's transport link, both ends (X's eth0 and inet's eth-X): what is
# larger leaves X or inet in IP fragments (or not at all with DF set).
lab_mtu() {
  local x=$1 mtu=$2
  step "MTU $mtu on the link $x - inet ($x/eth0, inet/eth-$x)"
  must ip -n "$x" link set eth0 mtu "$mtu"
  must ip -n inet link set "eth-$x" mtu "$mtu"
}

# ---- drop rules ----------------------------------------------------------------------------------

# Packet filters. Debian's UML kernel has nf_tables without its ip/inet families (legacy iptables
# serves only the NAT above), so drops are tc filters: a clsact qdisc on an interface and "flower"
# matches with a drop action, evaluated on packets arriving on that interface.
#
# lab_drop NS IF PREF MATCH...: drop packets arriving on IF (in NS) that match, e.g.
#   lab_drop inet eth-a 10 src_ip 192.0.2.1 ip_proto udp dst_port 500     (IKE from a)
#   lab_drop inet eth-a 11 src_ip 192.0.2.1 ip_proto 50                   (ESP from a)
#   lab_drop inet eth-a 20 ip_flags frag                                   (every IP fragment)
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
