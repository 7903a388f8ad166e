# about: two sites, one route-based tunnel over XFRM interfaces (if_id 42) instead of VTIs; ping Net A -> Net B
#
#   host-a 10.1.0.10                                                      host-b 10.2.0.10
#      | eth0                                                                  | eth0
#      | 10.1.0.0/24 (Net A)                                (Net B) 10.2.0.0/24 |
#      | eth1 10.1.0.1                                          10.2.0.1 eth1  |
#   [router a] xfrm-b 169.254.12.1 ==== ESP, if_id 42 ==== 169.254.12.2 xfrm-a [router b]
#      | eth0 192.0.2.1          (xfrm-b/xfrm-a: dev eth0)   198.51.100.1 eth0 |
#      |                                                                       |
#      +-- eth-a 192.0.2.254 ---------[ inet ]--------- 198.51.100.254 eth-b --+
#                     (capture here: transport-a.pcap)
#
# The connections carry `if_id_in = if_id_out = 42` instead of marks: the SAs and policies the
# daemons install hold that interface id, and only traffic routed into an XFRM interface with it
# meets them. Needs the xfrm_interface module: row parameters BACKEND=qemu
# LAB_EXTRA_MODULES=xfrm_interface (on the UML backend the row FAILs: its kernel has no such module).
#
# UNIQUE=yes: a's child asks for `if_id_in = if_id_out = %unique` instead. Its first CHILD_SA
# then gets if_id 1 (charon's allocate_unique_if_ids counts from 1, and so does minivpnd), so a's
# interface is made with if_id 1 beforehand and b uses a fixed 1; the reference shows which ids
# charon gave.
#
# Parameters: ROLE_A, ROLE_B (charon | minivpnd, default charon), INITIATOR (a | b), IF_ID
# (default 42), UNIQUE (yes | no), IKE and ESP (proposals, both sides), REFERENCE (charon's
# normalised kernel state, interop/expected/, that both routers' state must equal).
# shellcheck disable=SC2034 # LAB_WHY is read by expect (lib/lab.sh)

if_id=${IF_ID:-42}
if_id_a=$if_id
if [[ ${UNIQUE:-no} == yes ]]; then
  if_id=1 if_id_a=%unique
fi
if_id_hex=$(printf '0x%x' "$if_id")

# sas_carry_if_id X: X has SAs, each with "if_id <hex>", and OUT/FWD/IN policies with it too.
sas_carry_if_id() {
  local x=$1 states pols n with
  states=$(ip -n "$x" xfrm state)
  n=$(grep -c '^src' <<<"$states")
  with=$(grep -c "if_id $if_id_hex" <<<"$states")
  note "$x: $n xfrm SAs, $with with if_id $if_id_hex"
  if ((n < 2 || with != n)); then
    LAB_WHY="$x has $n xfrm SAs, $with of them with if_id $if_id_hex (want 2 or more, all)"
    return 1
  fi
  pols=$(ip -n "$x" xfrm policy)
  with=$(grep -c "if_id $if_id_hex" <<<"$pols")
  note "$x: $with xfrm policies with if_id $if_id_hex"
  ((with >= 3)) && return 0
  LAB_WHY="$x has $with xfrm policies with if_id $if_id_hex (want out, in and fwd)"
  return 1
}

# tx_packets_at_least NS DEV N: the interface sent at least N packets (the route used it).
tx_packets_at_least() {
  local n
  n=$(ip -n "$1" -s link show "$2" | awk '/TX:/ { getline; print $2; exit }')
  note "$1/$2: ${n:-?} packets sent"
  [[ -n $n ]] && ((n >= $3)) && return 0
  LAB_WHY="$1/$2 sent ${n:-no} packets, expected at least $3"
  return 1
}

lab_topology_two_sites
expect "xfrm_interface loaded" test -d /sys/module/xfrm_interface
lab_xfrmi a b "$if_id"
lab_xfrmi b a "$if_id"
lab_conn a b if_id="$if_id_a"
lab_conn b a if_id="$if_id"
lab_start a b
lab_capture inet eth-a transport-a

initiator=${INITIATOR:-a}
responder=$([[ $initiator == a ]] && echo b || echo a)
expect "tunnel up: initiate from $initiator" lab_initiate "$initiator" "to-$responder"
expect "tunnel up on a" lab_wait_sa a to-b
expect "tunnel up on b" lab_wait_sa b to-a
expect "SAs and policies of a carry if_id $if_id" sas_carry_if_id a
expect "SAs and policies of b carry if_id $if_id" sas_carry_if_id b
expect "ping Net A -> Net B through the XFRM interfaces" lab_ping host-a "${LAB_HOST[b]}" 5
expect "ping Net B -> Net A through the XFRM interfaces" lab_ping host-b "${LAB_HOST[a]}" 5
expect "a sent Net B's traffic into xfrm-b" tx_packets_at_least a xfrm-b 5
expect "b sent Net A's traffic into xfrm-a" tx_packets_at_least b xfrm-a 5
expect "ESP on the transport link, no plaintext" lab_esp_seen transport-a 20

lab_expect_reference tunnel
