# about: a behind a NAT with random ports, b public: ESP in UDP 4500, NAT-T keepalives, a flushed mapping, a rebinding (or encap = yes without a NAT)
#
#   host-a 10.1.0.10                                                      host-b 10.2.0.10
#      | 10.1.0.0/24 (Net A)                                (Net B) 10.2.0.0/24 |
#   [router a] vti-b ========= ESP in UDP 4500, key 12 ========= vti-a [router b]
#      | eth0 192.0.2.1                                      198.51.100.1 eth0 |
#      |                                                                       |
#      +-- eth-a 192.0.2.254 --[ inet: SNAT 192.0.2.1 -> 198.51.100.254 ]-- eth-b --+
#                               random port per mapping     198.51.100.254 (.253 after the
#                               (iptables --random-fully)   rebinding); capture here: transport-b
#
# NAT=yes (default): inet translates what a sends towards b to 198.51.100.254 and a random source
# port (lib/topology.sh lab_nat_a), so b sees a at 198.51.100.254:<random>. b names that address
# as its remote (remote_addrs; vti-a's remote when the lab makes it: a VTI takes incoming ESP by
# its outer source address); a initiates (behind a NAT only the inside can). Both daemons detect
# the NAT (RFC 7296 2.23) and put ESP into UDP 4500 (RFC 3948). Both have keep_alive = 2s
# (strongswan.conf charon { }). After the tunnel is up (both ways pinged, only ESP in UDP on the
# wire, every SA of both routers `encap type espinudp`, kernel state = REFERENCE, the NAT's random
# port masked), the CHECKS, in this order:
#   keepalive  no traffic: a, behind the NAT, sends NAT-T keepalives (RFC 3948 2.3: UDP to port
#              4500, payload the one octet 0xff; tcpdump prints isakmp-nat-keep-alive) every 2 s:
#              at least 3 seen between inet and b within 9 s of idling (charon: 4.4-5.8 s), 1.5
#              to 3 s apart, their times printed; none from b
#   flush      under a ping every 0.1 s from host-a, inet forgets every mapping (conntrack -F):
#              a's next packet gets a new random port, b must follow it (the kernel reports the
#              new port as XFRM_MSG_MAPPING; charon updates the SAs and the IKE SA in place):
#              traffic resumes, no rekey (the SPIs stay), the outage (lost pings x 0.1 s) at
#              most MAX_LOST pings
#   rebind     as flush, but the NAT's new mappings use 198.51.100.253: b's SAs, policies and
#              VTI must move to the new address (traffic resumes, vti-a's remote and b's inbound
#              SA name it; the remote before and after printed). Only for VTI_OWNED=b: a VTI of
#              the lab would keep the old remote and drop everything
# NAT=no ENCAP=yes: no NAT; a's connection has encap = yes (UDP encapsulation forced without a
# NAT, charon fakes its NAT-D hash): the same tunnel checks, no CHECKS.
# Parameters: ROLE_A, ROLE_B (charon | minivpnd), NAT (yes | no), ENCAP (yes: on a's connection),
# CHECKS (comma-separated; default keepalive,flush with the NAT, none without), VTI_OWNED=b
# (minivpnd on b makes vti-a from its children.to-a.vti section, docs/config.md), MAX_LOST,
# REFERENCE.
# shellcheck disable=SC2034 # LAB_* variables are read by the lab's libraries

nat=${NAT:-yes}
if [[ $nat == yes ]]; then checks=${CHECKS-keepalive,flush}; else checks=${CHECKS-}; fi
# The bound on lost pings after a flush or rebinding (0.1 s each). charon<->charon lost exactly 1
# in each of 9 runs (UML, 2026-12-07, one beside stress-ng --cpu 2): the answer to a's first ping
# after the flush, which b still sends to the old port (inet answers it with ICMP port
# unreachable), until charon on b has taken the kernel's XFRM_MSG_MAPPING (the ESP from the new
# port) and moved the SAs and the IKE SA to it.
# 5 (0.5 s) leaves room for a loaded host and still fails a daemon that recovers only through IKE
# (DPD, a rekey: seconds) or not at all.
max_lost=${MAX_LOST:-5}
LAB_KEEP_ALIVE=2s
has_check() { [[ ,$checks, == *",$1,"* ]]; }

lab_topology_two_sites
a_seen_as=${LAB_WAN[a]}   # the address b sees a's packets come from
if [[ $nat == yes ]]; then
  lab_nat_a
  expect "NAT: a's packets leave inet translated to $LAB_NAT_ADDR" lab_nat_translates
  a_seen_as=$LAB_NAT_ADDR
fi
lab_vti a b
b_opts=(remote_addrs="$a_seen_as")
if [[ ${VTI_OWNED:-} == b ]]; then
  b_opts+=(vti=vti-a)
else
  lab_vti b a remote="$a_seen_as"
fi
lab_conn a b ${ENCAP:+encap=$ENCAP}
lab_conn b a "${b_opts[@]}"
lab_capture_text inet eth-b transport-b
lab_start a b
[[ ${VTI_OWNED:-} == b ]] && expect "minivpnd on b made vti-a" on b ip link show vti-a

expect "tunnel up: initiate from a" lab_initiate a to-b
expect "tunnel up on a" lab_wait_sa a to-b
expect "tunnel up on b" lab_wait_sa b to-a
expect "ping Net A -> Net B through the VTIs" lab_ping host-a "${LAB_HOST[b]}" 3
expect "ping Net B -> Net A through the VTIs" lab_ping host-b "${LAB_HOST[a]}" 3

# shellcheck disable=SC2317 # called through expect
a_always_translated() {
  local n
  n=$(grep -Ec " IP ${LAB_WAN[a]//./\\.}[.:]| > ${LAB_WAN[a]//./\\.}[.:]" "$LAB_OUT/transport-b.txt")
  ((n == 0)) && return 0
  LAB_WHY="$n packets between inet and b carry a's own address ${LAB_WAN[a]} (see transport-b.txt)"
  return 1
}
expect "between inet and b: only ESP in UDP 4500, no plain ESP, no plaintext" lab_natt_only transport-b 12
[[ $nat == yes ]] && expect "between inet and b: a only as $a_seen_as" a_always_translated
expect "a's SAs are ESP in UDP" sa_all_encap a
expect "b's SAs are ESP in UDP" sa_all_encap b
if [[ $nat == yes ]]; then
  mapping=$(lab_nat_mapping 4500)
  step "measured: a's UDP 4500 leaves the NAT as $mapping"
  # the NAT's random port is masked in the kernel-state comparison (xfrm-normalise.sh)
  LAB_NAT_PORTS=${mapping##*:}
fi
lab_expect_reference tunnel

# nat_port_runs FROM: a's source ports on the wire since FROM, one run per change of port, as
# "PORT xCOUNT, PORT xCOUNT".
nat_port_runs() {
  capture_lines transport-b "$1" |
    sed -nE "s/^[0-9.]+ IP ${a_seen_as//./\\.}\.([0-9]+) > ${LAB_WAN[b]//./\\.}\.4500: .*/\1/p" |
    awk '$1 != last { if (n) printf "%s%s x%d", (runs++ ? ", " : ""), last, n; last = $1; n = 0 } { n++ }
         END { if (n) printf "%s%s x%d", (runs++ ? ", " : ""), last, n }'
}

# shellcheck disable=SC2317 # called through expect
new_port_taken() {
  local old=${1##*:} new=${2##*:} wire=$3
  if [[ -z $old || -z $new || $old == "$new" ]]; then
    LAB_WHY="a's UDP 4500 was mapped to '$1', then to '$2': no new port"
    return 1
  fi
  [[ $wire =~ ^$old\ x[0-9]+,\ $new\ x[0-9]+$ ]] && return 0
  LAB_WHY="a's ports on the wire: '$wire', expected $old, then $new"
  return 1
}

# shellcheck disable=SC2317 # called through expect
lost_within() {
  ((LAB_PING_LOST <= $1)) && return 0
  LAB_WHY="$LAB_PING_LOST pings lost ($(awk -v n="$LAB_PING_LOST" 'BEGIN { printf "%.1f", n * 0.1 }') s), more than $1"
  return 1
}

# shellcheck disable=SC2317 # called through expect
same_spis() {
  local now
  now=$(lab_spis "$1")
  [[ $now == "$2" ]] && return 0
  LAB_WHY="$1's SPIs were '$2', now '$now' (a rekey or new SAs)"
  return 1
}

# keepalives_from_a FROM [TO]: the capture's lines of a's NAT-T keepalives to b in that window.
keepalives_from_a() {
  capture_lines transport-b "$1" "${2:-}" |
    grep -E " IP ${a_seen_as//./\\.}\.[0-9]+ > ${LAB_WAN[b]//./\\.}\.4500: isakmp-nat-keep-alive"
}

# shellcheck disable=SC2317 # called through wait_until
three_keepalives_since() { (($(keepalives_from_a "$1" | grep -c .) >= 3)); }

# shellcheck disable=SC2317 # called through expect
at_least() {
  (($1 >= $2)) && return 0
  LAB_WHY="$1 $3, expected at least $2"
  return 1
}

# shellcheck disable=SC2317 # called through expect
intervals_within() {
  local bad
  bad=$(awk -v lo="$2" -v hi="$3" '{ if ($1 < lo || $1 > hi) print $1 }' <<<"${1// /$'\n'}")
  [[ -z $bad ]] && return 0
  LAB_WHY="intervals $1 s, expected each between $2 and $3 s"
  return 1
}

if has_check keepalive; then
  # a sends its first keepalive at most 2 s after its last packet and then one every 2 s: three
  # within about 6 s of idling. The wait ends at the third, or after 9 s (room for a loaded host).
  step "idle: no traffic until a has sent 3 NAT-T keepalives (at most 9 s)"
  t0=$EPOCHREALTIME
  wait_until 9 three_keepalives_since "$t0"
  t1=$EPOCHREALTIME
  ka_a=$(keepalives_from_a "$t0" "$t1")
  ka_b=$(capture_lines transport-b "$t0" "$t1" | grep -Ec " IP ${LAB_WAN[b]//./\\.}\.4500 > .*: isakmp-nat-keep-alive")
  other=$(capture_lines transport-b "$t0" "$t1" | grep ' IP ' | grep -vc 'isakmp-nat-keep-alive')
  n_ka=$(grep -c . <<<"$ka_a")
  times=$(awk -v t0="$t0" 'NF { printf "%s+%.2f", (NR > 1 ? " " : ""), $1 - t0 }' <<<"$ka_a")
  gaps=$(awk 'NR > 1 { printf "%s%.2f", (NR > 2 ? " " : ""), $1 - last } { last = $1 }' <<<"$ka_a")
  step "measured: $n_ka NAT-T keepalives from a in $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }') s idle, at ${times:-no time} s, intervals ${gaps:-none} s; $ka_b from b; $other other IPv4 packets"
  expect "at least 3 NAT-T keepalives (UDP 4500, one octet 0xff) from a while idle" at_least "$n_ka" 3 "keepalives from a"
  expect "keepalives about 2 s apart (keep_alive = 2s)" intervals_within "$gaps" 1.5 3.0
  expect "no NAT-T keepalives from b (not behind a NAT)" test "$ka_b" -eq 0
fi

if has_check flush; then
  spis_a=$(lab_spis a) spis_b=$(lab_spis b)
  old_map=$(lab_nat_mapping 4500)
  t_ping=$EPOCHREALTIME
  lab_ping_start host-a "${LAB_HOST[b]}" flush-ping
  sleep 0.5
  lab_nat_flush
  sleep 2
  lab_ping_stop flush-ping || true
  new_map=$(lab_nat_mapping 4500)
  wire=$(nat_port_runs "$t_ping")
  step "measured: NAT mapping flushed: a's UDP 4500 was $old_map, then $new_map (inet's table); a's source ports between inet and b meanwhile: $wire"
  step "measured: flush outage: $LAB_PING_LOST of $LAB_PING_SENT pings lost = $(awk -v n="$LAB_PING_LOST" 'BEGIN { printf "%.1f", n * 0.1 }') s"
  note "b's SAs now: $(ip -n b xfrm state | grep -o 'encap type .*' | tr '\n' ';')"
  expect "the new mapping has a new source port, and a's packets came from the old, then from the new" \
    new_port_taken "$old_map" "$new_map" "$wire"
  expect "traffic resumes after the flush: ping Net A -> Net B" lab_ping host-a "${LAB_HOST[b]}" 3
  expect "flush outage at most $max_lost pings ($(awk -v n="$max_lost" 'BEGIN { printf "%.1f", n * 0.1 }') s)" lost_within "$max_lost"
  expect "no rekey: the same SPIs on a" same_spis a "$spis_a"
  expect "no rekey: the same SPIs on b" same_spis b "$spis_b"
fi

if has_check rebind; then
  to=198.51.100.253
  spis_a=$(lab_spis a) spis_b=$(lab_spis b)
  vti_before=$(ip -n b -d link show vti-a | grep -Eo 'remote [0-9.]+ local [0-9.]+')
  lab_ping_start host-a "${LAB_HOST[b]}" rebind-ping
  sleep 0.5
  lab_nat_rebind "$to"
  sleep 2
  lab_ping_stop rebind-ping || true
  vti_after=$(ip -n b -d link show vti-a | grep -Eo 'remote [0-9.]+ local [0-9.]+')
  step "measured: NAT rebinding: a's UDP 4500 now leaves the NAT as $(lab_nat_mapping 4500)"
  step "measured: rebinding outage: $LAB_PING_LOST of $LAB_PING_SENT pings lost = $(awk -v n="$LAB_PING_LOST" 'BEGIN { printf "%.1f", n * 0.1 }') s"
  step "measured: b's vti-a: before '$vti_before', after '$vti_after'"
  note "b's SAs now: $(ip -n b xfrm state | grep -E '^src|encap' | tr '\n' ';')"
  note "b's policy templates now: $(ip -n b xfrm policy | grep -E 'tmpl' | tr '\n' ';')"
  expect "traffic resumes after the rebinding: ping Net A -> Net B" lab_ping host-a "${LAB_HOST[b]}" 3
  # shellcheck disable=SC2317 # called through expect
  vti_remote_is() {
    [[ $vti_after == "remote $1 "* ]] && return 0
    LAB_WHY="b's vti-a has '$vti_after'"
    return 1
  }
  # shellcheck disable=SC2317 # called through expect
  b_sas_from() {
    grep -q "^src $1 dst ${LAB_WAN[b]}" <<<"$(ip -n b xfrm state)" && return 0
    LAB_WHY="b has no SA from $1: $(ip -n b xfrm state | grep '^src' | tr '\n' ';')"
    return 1
  }
  expect "b's vti-a follows a: remote $to" vti_remote_is "$to"
  expect "b's inbound SA follows a: from $to" b_sas_from "$to"
  expect "rebinding outage at most $max_lost pings" lost_within "$max_lost"
  expect "no rekey: the same SPIs on a" same_spis a "$spis_a"
  expect "no rekey: the same SPIs on b" same_spis b "$spis_b"
fi

if [[ -n $checks ]]; then
  expect "the whole row between inet and b: only ESP in UDP 4500, no plain ESP, no plaintext" lab_natt_only transport-b 12
  [[ $nat == yes ]] && expect "the whole row between inet and b: a only as its translated address" a_always_translated
fi
