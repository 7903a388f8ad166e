# about: IKE fragmentation (RFC 7383) on 576-octet links that drop IP fragments: IKE_AUTH and two rekeys as SKF fragments both ways, no datagram over fragment_size, tunnel up
#
#   host-a 10.1.0.10                                                      host-b 10.2.0.10
#      | 10.1.0.0/24 (Net A)                                (Net B) 10.2.0.0/24 |
#   [router a] vti-b ================== ESP, key 12 ================== vti-a [router b]
#      | eth0 192.0.2.1, MTU 576                        198.51.100.1, MTU 576 eth0 |
#      |                                                                       |
#      +-- eth-a MTU 576 --[ inet: drops every IP fragment (tc flower) ]-- eth-b MTU 576 --+
#                                                         capture here: transport-b
#
# Both transport links have MTU 576 (the datagram size every IPv4 host must accept, RFC 791) at
# both ends, and inet drops every IP fragment that arrives on eth-a or eth-b (lab_drop: tc flower
# `ip_flags frag`); first checked: a 1000-octet ping a -> b and one b -> a (sent in IP fragments,
# -M dont) get no answer and the filters count their fragments. So what the tunnel needs must
# cross in datagrams of at most 576 octets that the sender built itself.
# Both daemons: `fragmentation = force` on the connection and `fragment_size = FRAG_SIZE` (charon
# section of strongswan.conf: the largest IP datagram of an IKE fragment): a protected message
# whose datagram would be larger is sent as SKF payloads (Encrypted and Authenticated Fragment,
# payload type 53), and the peer must reassemble it. The default, 160 octets, is below every
# protected message of this row except the DELETEs (IP datagrams measured with charon: IKE_AUTH
# 301/257, the rekeys about 200): so each daemon's IKE_AUTH and rekey messages go in fragments
# (and are reassembled by the other). INITIATOR brings the tunnel up (both ways pinged), then the
# responder rekeys the IKE SA and the initiator the CHILD SA on the new IKE SA (which must keep
# fragmenting). Checked between inet and b (tshark, transport-b.ike):
#   - IKE_AUTH and CREATE_CHILD_SA, from a and from b: only SKF (never SK), and each side's
#     IKE_AUTH in 2 fragments or more; printed per direction and exchange: the messages and their
#     fragments ("2 messages in 2,2 fragments"), the SKF datagrams (retransmissions included) and
#     their sizes, the SK datagrams (unfragmented: the DELETEs of INFORMATIONAL)
#   - every IKE datagram of a protected exchange at most FRAG_SIZE octets (RFC 7383 fragments
#     only messages with an Encrypted payload: never IKE_SA_INIT, 260-268 octets here), every
#     datagram at most 576, no IP fragment
#   - the filters dropped nothing after their check (the tunnel needed no IP fragment)
# Parameters: ROLE_A, ROLE_B, INITIATOR (a | b), FRAG_SIZE (default 160).
# shellcheck disable=SC2034 # LAB_* variables are read by the lab's libraries

frag_size=${FRAG_SIZE:-160}
mtu=576
LAB_CHARON_SETTINGS="fragment_size = $frag_size"
initiator=${INITIATOR:-a}
responder=$([[ $initiator == a ]] && echo b || echo a)

lab_topology_two_sites
lab_mtu a $mtu
lab_mtu b $mtu
step "inet drops IP fragments arriving from a and from b (tc flower ip_flags frag)"
lab_drop inet eth-a 20 ip_flags frag
lab_drop inet eth-b 20 ip_flags frag

# big_ping_dropped: a 1000-octet ping a -> b and b -> a over the transport links (IP fragments
# at the sender: -M dont) get no answer, and the filters on eth-a and eth-b count fragments.
# shellcheck disable=SC2317 # called through expect
big_ping_dropped() {
  local na nb pid
  on a ping -n -q -c 1 -W 1 -s 1000 -M dont "${LAB_WAN[b]}" >"$LAB_RUN/big-ping-a" 2>&1 &
  pid=$!
  on b ping -n -q -c 1 -W 1 -s 1000 -M dont "${LAB_WAN[a]}" >"$LAB_RUN/big-ping-b" 2>&1
  wait "$pid"
  na=$(lab_drop_count inet eth-a) nb=$(lab_drop_count inet eth-b)
  dropped_before=$((na + nb))
  step "measured: 1000-octet pings between the routers: inet dropped $na IP fragments from a, $nb from b"
  if grep -q ' 1 received' "$LAB_RUN/big-ping-a" "$LAB_RUN/big-ping-b"; then
    LAB_WHY="a 1000-octet ping got its answer through 576-octet links that drop IP fragments"
    return 1
  fi
  ((na >= 2 && nb >= 2)) && return 0
  LAB_WHY="the filters dropped $na fragments from a and $nb from b, expected at least 2 each"
  return 1
}
expect "IP fragments do not cross inet: 1000-octet pings a <-> b get no answer, the filters count them" big_ping_dropped

lab_pair a b fragmentation=force
lab_start a b
lab_capture inet eth-b transport-b

expect "tunnel up: initiate from $initiator" lab_initiate "$initiator" "to-$responder"
expect "tunnel up on a" lab_wait_sa a to-b
expect "tunnel up on b" lab_wait_sa b to-a
expect "ping Net A -> Net B through the VTIs" lab_ping host-a "${LAB_HOST[b]}" 3
expect "ping Net B -> Net A through the VTIs" lab_ping host-b "${LAB_HOST[a]}" 3

# The responder rekeys the IKE SA, then the initiator the CHILD SA (on the new IKE SA): each
# daemon sends a CREATE_CHILD_SA request and a response.
base=$(ike_id "$responder" "to-$initiator")
step "IKE rekey by $responder"
expect "IKE rekey started on $responder" lab_rekey "$responder" "to-$initiator" ike
expect "IKE SA rekeyed on $responder" lab_wait_rekeys "$responder" "to-$initiator" 1 10 ike "$base"
base=$(child_id "$initiator" "to-$responder")
step "CHILD rekey by $initiator"
expect "CHILD rekey started on $initiator" lab_rekey "$initiator" "to-$responder" child
expect "CHILD SA rekeyed on $initiator" lab_wait_rekeys "$initiator" "to-$responder" 1 10 child "$base"
expect "ping Net A -> Net B after the rekeys" lab_ping host-a "${LAB_HOST[b]}" 3

lab_ike_table transport-b

# One pass over transport-b.ike: per source and protected exchange (35 IKE_AUTH, 36
# CREATE_CHILD_SA, 37 INFORMATIONAL) "SRC EXCHANGE SKF SK MESSAGES TOTALS MIN MAX SPLIT": SKF and
# SK datagrams (retransmissions included), distinct fragmented messages (SPI, message ID, R
# flag), their fragment totals (comma-separated), the smallest and largest SKF datagram, and how
# many of those messages came in 2 fragments or more; then "all IKE_MAX ALL_MAX IP_FRAGMENTS".
declare -A skf sk msgs totals lo hi split
while read -r src ex n_skf n_sk n_msgs tot min max n_split; do
  [[ $src == all ]] && { ike_max=$ex all_max=$n_skf ip_frags=$n_sk; continue; }
  k="$src $ex"
  skf[$k]=$n_skf sk[$k]=$n_sk msgs[$k]=$n_msgs totals[$k]=$tot lo[$k]=$min hi[$k]=$max split[$k]=$n_split
done <<<"$(awk '
  $4 > all_max { all_max = $4 }
  $5 == 1 { ip_frags++ }
  $6 >= 35 && $6 <= 37 {
    k = $2 " " $6; seen[k] = 1
    if ($4 > ike_max) ike_max = $4
    if ($8 == 46) sk[k]++
    if ($8 != 53) next
    skf[k]++
    if (!(k in lo) || $4 < lo[k]) lo[k] = $4
    if ($4 > hi[k]) hi[k] = $4
    m = k " " $12 " " $9 " " $7
    if (!(m in total)) { total[m] = $11; order[k] = order[k] (order[k] == "" ? "" : ",") $11; msgs[k]++; if ($11 >= 2) split2[k]++ }
  }
  END {
    for (k in seen) print k, skf[k] + 0, sk[k] + 0, msgs[k] + 0, (order[k] == "" ? "-" : order[k]), lo[k] + 0, hi[k] + 0, split2[k] + 0
    print "all", ike_max + 0, all_max + 0, ip_frags + 0
  }' "$LAB_OUT/transport-b.ike")"

declare -A exch_name=([35]=IKE_AUTH [36]=CREATE_CHILD_SA [37]=INFORMATIONAL)
for x in a b; do
  figures=""
  for ex in 35 36 37; do
    k="${LAB_WAN[$x]} $ex"
    if ((${msgs[$k]:-0} > 0)); then
      figures+="${figures:+; }${exch_name[$ex]}: ${msgs[$k]} messages in ${totals[$k]} fragments, ${skf[$k]} SKF datagrams (${lo[$k]}-${hi[$k]} octets), ${sk[$k]} SK"
    else
      figures+="${figures:+; }${exch_name[$ex]}: 0 SKF, ${sk[$k]:-0} SK"
    fi
  done
  step "measured: $x -> $([[ $x == a ]] && echo b || echo a): $figures"
done

# shellcheck disable=SC2317 # called through expect
only_fragments() {
  local x=$1 ex=$2 min_msgs=$3 k="${LAB_WAN[$1]} $2"
  if ((${sk[$k]:-0} > 0)); then
    LAB_WHY="$x sent ${exch_name[$ex]} whole (${sk[$k]} SK datagrams), expected only fragments (SKF)"
    return 1
  fi
  ((${msgs[$k]:-0} >= min_msgs)) && return 0
  LAB_WHY="$x sent ${msgs[$k]:-0} fragmented ${exch_name[$ex]} messages (${skf[$k]:-0} SKF datagrams), expected at least $min_msgs"
  return 1
}
# shellcheck disable=SC2317 # called through expect
auth_split() {
  ((${split["${LAB_WAN[$1]} 35"]:-0} >= 1)) && return 0
  LAB_WHY="no IKE_AUTH message of $1 came in 2 fragments or more"
  return 1
}
expect "IKE_AUTH from a: only SKF fragments" only_fragments a 35 1
expect "IKE_AUTH from b: only SKF fragments" only_fragments b 35 1
expect "IKE_AUTH from a split into 2 fragments or more" auth_split a
expect "IKE_AUTH from b split into 2 fragments or more" auth_split b
expect "CREATE_CHILD_SA from a (a request and a response): only SKF fragments" only_fragments a 36 2
expect "CREATE_CHILD_SA from b (a request and a response): only SKF fragments" only_fragments b 36 2

step "measured: between inet and b: largest protected IKE datagram $ike_max octets (fragment_size $frag_size), largest datagram $all_max, $ip_frags IP fragments"
# shellcheck disable=SC2317 # called through expect
sizes_within() {
  ((ike_max <= frag_size && all_max <= mtu && ip_frags == 0)) && return 0
  LAB_WHY="largest protected IKE datagram $ike_max (bound $frag_size), largest datagram $all_max (bound $mtu), $ip_frags IP fragments (expected none)"
  return 1
}
expect "every protected IKE datagram <= $frag_size octets, every datagram <= $mtu, no IP fragment" sizes_within
# shellcheck disable=SC2317 # called through expect
nothing_dropped_since() {
  local now
  now=$(($(lab_drop_count inet eth-a) + $(lab_drop_count inet eth-b)))
  ((now == $1)) && return 0
  LAB_WHY="inet dropped $((now - $1)) IP fragments while the tunnel ran"
  return 1
}
expect "inet dropped no IP fragment while the tunnel ran" nothing_dropped_since "$dropped_before"
