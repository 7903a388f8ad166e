# about: COOKIE (RFC 7296 2.6): a responder with cookie_threshold = 1 and one spoofed half-open IKE SA answers IKE_SA_INIT with N(COOKIE), the initiator comes back with it; without the half-open SA no COOKIE
#
#   host-a 10.1.0.10                                                      host-b 10.2.0.10
#      | 10.1.0.0/24 (Net A)                                (Net B) 10.2.0.0/24 |
#   [router a] vti-b ================== ESP, key 12 ================== vti-a [router b]
#      | eth0 192.0.2.1                                      198.51.100.1 eth0 |
#      +-- eth-a 192.0.2.254 ---------[ inet ]--------- 198.51.100.254 eth-b --+
#                                        |  capture on inet's link to the responder
#                  minivpn-ike-flood: one IKE_SA_INIT from 100.64.0.1 (spoofed) to the responder
#
# INITIATOR (a | b) initiates to-<responder>; the responder (the other router) has
# `cookie_threshold = 1` (charon section of strongswan.conf; cookie_threshold_ip and
# block_threshold keep their defaults, 3 and 5) and, besides the tunnel's connection, a
# road-warrior connection to-c (remote_addrs = %any) that an IKE_SA_INIT from anywhere matches.
# Both daemons demand a COOKIE (RFC 7296 2.6) when the half-open IKE SAs they answered number at
# least cookie_threshold (charon: receiver.c; charon keeps demanding them for 10 s after that).
#   1. No half-open SA: the initiator's IKE_SA_INIT is answered with SA, the tunnel comes up
#      without any COOKIE on the wire; it is terminated (so the row can fail: a responder that
#      demands a COOKIE with no half-open SA, or counts its own request, fails here)
#   2. minivpn-ike-flood in inet sends one IKE_SA_INIT (the lab's default proposal, a valid
#      X25519 value) from the spoofed 100.64.0.1: the responder answers it with SA, and that IKE
#      SA stays half-open (half_open_timeout, 30 s: nobody sends its IKE_AUTH)
#   3. The initiator again: its IKE_SA_INIT is answered with N(COOKIE) as the first payload; its
#      second IKE_SA_INIT starts with N(COOKIE) carrying those very octets (and the same SPI);
#      that one is answered with SA, the tunnel comes up, ping both ways
# Checked on the capture of inet's link to the responder (transport-<responder>.ike); the times
# of the COOKIE round trip are printed (first request, COOKIE, request with COOKIE, answer).
# With charon as the responder, step 3 waits until the guest has run 9 s past charon's start:
# charon rejects every COOKIE before (see below).
# Parameters: ROLE_A, ROLE_B, INITIATOR (a | b).
# shellcheck disable=SC2034 # LAB_* variables are read by the lab's libraries

initiator=${INITIATOR:-a}
responder=$([[ $initiator == a ]] && echo b || echo a)
spoofed=100.64.0.1
# the flood scenario's tool (tests/interop/ike_flood.cc), built next to minivpnd
flood=${IKE_FLOOD:-$(dirname "${MINIVPND:-/nonexistent/x}")/../tests/interop/minivpn-ike-flood}
[[ -x $flood ]] || lab_fail "no flood tool at $flood (ninja minivpn-ike-flood, or IKE_FLOOD=path)"
declare -g "LAB_CHARON_SETTINGS_${responder^^}=cookie_threshold = 1"
cap="transport-$responder"

lab_topology_two_sites
lab_pair a b
lab_conn "$responder" c remote_addrs=%any
lab_start a b
read -r started _ </proc/uptime  # the guest's clock (s since boot) once the daemons answer
lab_capture_text inet "eth-$responder" "$cap"

# ---- 1. no half-open IKE SA: no COOKIE -----------------------------------------------------------
expect "without a half-open IKE SA: tunnel up, initiated by $initiator" lab_initiate "$initiator" "to-$responder"
expect "tunnel up on $responder" lab_wait_sa "$responder" "to-$initiator"
expect "terminate the tunnel from $initiator" lab_terminate "$initiator" "to-$responder"
expect "tunnel down on $responder" lab_wait_no_sa "$responder" "to-$initiator" 5
t_spoof=$EPOCHREALTIME

# ---- 2. one spoofed IKE_SA_INIT leaves a half-open IKE SA --------------------------------------
step "inet: one IKE_SA_INIT from the spoofed $spoofed to the responder $responder (${LAB_WAN[$responder]})"
must ip netns exec inet "$flood" --target "${LAB_WAN[$responder]}" --rate 1 --duration 0 \
  --sources "$spoofed/32" >"$LAB_OUT/spoof.out" 2>&1
note "$(tr '\n' ' ' <"$LAB_OUT/spoof.out")"
# shellcheck disable=SC2317 # called through wait_until
spoof_answered() {
  capture_lines "$cap" "$t_spoof" |
    grep -Eq " IP ${LAB_WAN[$responder]//./\\.}\.500 > ${spoofed//./\\.}\.500: .*ikev2_init\[R\]"
}
expect "the responder answered the spoofed IKE_SA_INIT (its IKE SA is half-open now)" wait_until 5 spoof_answered

# charon checks a COOKIE's age as `t < now - secret_offset - COOKIE_LIFETIME` in uint32_t
# (receiver.c; now: its monotonic clock in s, secret_offset: random() % that clock at its start,
# COOKIE_LIFETIME 10 s): while now - secret_offset < 10 the right side wraps around and every
# COOKIE is "expired", so the initiator gets COOKIEs again and again. A charon started long
# after boot rarely sees that (only when the random offset falls into its last 10 s); one started
# seconds after the guest booted does (measured: the initiator got in after 2 s of rejected
# COOKIEs; docs/lab.md). With charon as the responder the initiation waits until the guest's clock
# is 9 s past the daemons' start: secret_offset is at most charon's whole seconds at its start
# less 1, so now - secret_offset >= 10 from then on.
if [[ $(role_of "$responder") == charon ]]; then
  read -r now _ </proc/uptime
  wait_s=$(awk -v s="$started" -v n="$now" 'BEGIN { w = s + 9 - n; printf "%.1f", (w > 0 ? w : 0) }')
  step "charon on $responder: wait ${wait_s} s until the guest's clock is 9 s past charon's start (charon rejects every COOKIE before)"
  sleep "$wait_s"
fi
t_phase3=$EPOCHREALTIME

# ---- 3. the initiator again: COOKIE -------------------------------------------------------------
expect "with one half-open IKE SA: tunnel up, initiated by $initiator" lab_initiate "$initiator" "to-$responder"
expect "tunnel up on a" lab_wait_sa a to-b
expect "tunnel up on b" lab_wait_sa b to-a
expect "ping Net A -> Net B through the VTIs" lab_ping host-a "${LAB_HOST[b]}" 3
expect "ping Net B -> Net A through the VTIs" lab_ping host-b "${LAB_HOST[a]}" 3

lab_ike_table "$cap"
ike_file="$LAB_OUT/$cap.ike"
init_ip=${LAB_WAN[$initiator]} resp_ip=${LAB_WAN[$responder]}

# inits FROM TO: the IKE_SA_INIT messages between the initiator and the responder in that window
# (transport-X.ike columns: time, source, R flag, first payload, SPI, first notify, its data).
inits() {
  awk -v from="$1" -v to="${2:-}" -v i="$init_ip" -v r="$resp_ip" '
    $6 == 34 && $1 >= from + 0 && (to == "" || $1 < to + 0) &&
    (($2 == i && $3 == r) || ($2 == r && $3 == i)) { print $1, $2, $7, $8, $12, $13, $14, $4 }' "$ike_file"
}

# shellcheck disable=SC2317 # called through expect
no_cookie_before_spoof() {
  local lines n_req n_sa n_cookie
  lines=$(inits 0 "$t_spoof")
  n_req=$(awk -v i="$init_ip" '$2 == i && $3 == 0' <<<"$lines" | grep -c .)
  n_sa=$(awk -v r="$resp_ip" '$2 == r && $3 == 1 && $4 == 33' <<<"$lines" | grep -c .)
  n_cookie=$(awk '$6 == 16390' <<<"$lines" | grep -c .)
  note "before the spoofed request: $n_req IKE_SA_INIT requests, $n_sa answers with SA, $n_cookie with COOKIE"
  ((n_req >= 1 && n_sa >= 1 && n_cookie == 0)) && return 0
  LAB_WHY="before the spoofed request: $n_req IKE_SA_INIT requests from $initiator, $n_sa answers with SA, $n_cookie COOKIE notifies (expected >= 1, >= 1, 0)"
  return 1
}
expect "without a half-open IKE SA: IKE_SA_INIT answered with SA, no COOKIE on the wire" no_cookie_before_spoof

# shellcheck disable=SC2317 # called through expect
spoof_half_open() {
  local req resp
  req=$(awk -v s="$spoofed" -v r="$resp_ip" '$2 == s && $3 == r && $6 == 34 && $7 == 0' "$ike_file" | grep -c .)
  resp=$(awk -v s="$spoofed" -v r="$resp_ip" '$2 == r && $3 == s && $6 == 34 && $7 == 1 && $8 == 33' "$ike_file" | grep -c .)
  note "spoofed: $req IKE_SA_INIT requests from $spoofed, $resp answers with SA"
  ((req == 1 && resp == 1)) && return 0
  LAB_WHY="$req IKE_SA_INIT requests from $spoofed and $resp answers with SA to it (expected 1 and 1)"
  return 1
}
expect "the spoofed IKE_SA_INIT was answered with SA (one half-open IKE SA on $responder)" spoof_half_open

# The COOKIE round trip of step 3, in wire order: request 1 (no COOKIE), the answer with
# N(COOKIE) only, request 2 starting with N(COOKIE), the answer with SA.
mapfile -t trip <<<"$(inits "$t_phase3" | head -n 4)"
# shellcheck disable=SC2317 # called through expect
cookie_round_trip() {
  local t1 s1 r1 p1 spi1 n1 d1 l1 t2 s2 r2 p2 spi2 n2 d2 l2 t3 s3 r3 p3 spi3 n3 d3 l3 t4 s4 r4 p4 spi4 n4 d4 l4
  read -r t1 s1 r1 p1 spi1 n1 d1 l1 <<<"${trip[0]:-}"
  read -r t2 s2 r2 p2 spi2 n2 d2 l2 <<<"${trip[1]:-}"
  read -r t3 s3 r3 p3 spi3 n3 d3 l3 <<<"${trip[2]:-}"
  read -r t4 s4 r4 p4 spi4 n4 d4 l4 <<<"${trip[3]:-}"
  note "IKE_SA_INIT after the spoofed request: $(printf '%s | ' "${trip[@]}")"
  if [[ $s1 != "$init_ip" || $r1 != 0 || $p1 != 33 ]]; then
    LAB_WHY="the first IKE_SA_INIT is not $initiator's request starting with SA: '${trip[0]:-none}'"
    return 1
  fi
  if [[ $s2 != "$resp_ip" || $r2 != 1 || $p2 != 41 || $n2 != 16390 || $d2 == - ]]; then
    LAB_WHY="the responder answered $initiator's IKE_SA_INIT with '${trip[1]:-nothing}', not N(COOKIE) first"
    return 1
  fi
  if [[ $s3 != "$init_ip" || $r3 != 0 || $p3 != 41 || $n3 != 16390 || $d3 != "$d2" || $spi3 != "$spi1" ]]; then
    LAB_WHY="$initiator's second IKE_SA_INIT '${trip[2]:-none}' does not start with N(COOKIE) $d2 (SPI $spi1)"
    return 1
  fi
  if [[ $s4 != "$resp_ip" || $r4 != 1 || $p4 != 33 ]]; then
    LAB_WHY="the IKE_SA_INIT with the COOKIE was answered with '${trip[3]:-nothing}', not SA"
    return 1
  fi
  step "measured: COOKIE round trip: $initiator's IKE_SA_INIT ($l1 octets, SPI $spi1) at +0 ms, N(COOKIE) ($(((${#d2}) / 2)) octets of cookie, $l2-octet datagram) at +$(awk -v a="$t1" -v b="$t2" 'BEGIN { printf "%.1f", (b - a) * 1000 }') ms, IKE_SA_INIT with the COOKIE ($l3 octets) at +$(awk -v a="$t1" -v b="$t3" 'BEGIN { printf "%.1f", (b - a) * 1000 }') ms, answer with SA at +$(awk -v a="$t1" -v b="$t4" 'BEGIN { printf "%.1f", (b - a) * 1000 }') ms"
}
expect "with one half-open IKE SA: N(COOKIE) answers $initiator's IKE_SA_INIT, the second starts with that COOKIE, then SA" cookie_round_trip
