# about: mark = %unique on router a: each CHILD_SA gets a mark value of its own (charon's
# MARK_UNIQUE); router b has no marks. Kernel identity only: unmarked traffic matches no policy.
#
#   [router a] == to-b: 10.1.0.0/25 <-> 10.2.0.0/25 (mark 1), to-b-2: the upper /25s (mark 2) == [router b]
#      | eth0 192.0.2.1                                      198.51.100.1 eth0 |
#      +-- eth-a 192.0.2.254 ---------[ inet ]--------- 198.51.100.254 eth-b --+
#
# Both children of router a have mark_in = mark_out = %unique: the first CHILD_SA made gets 1, the
# second 2, on its SAs' outbound side and its policies, and a reqid of its own (reqids follow the
# marks). The children come up in a fixed order (IKE_AUTH, then CREATE_CHILD_SA), so the values
# are the same for charon and minivpnd. Parameters: ROLE_A, INITIATOR (a | b), REFERENCE.

initiator=${INITIATOR:-a}
responder=$([[ $initiator == a ]] && echo b || echo a)

lab_topology_two_sites
unique_conn() {
  local x=$1 y=$2 start=$3 net_x=10.1.0 net_y=10.2.0 opts=""
  [[ $x == b ]] && net_x=10.2.0 net_y=10.1.0
  [[ $x == a ]] && opts="mark_in=%unique;mark_out=%unique"
  CHILD_OPTS=$opts lab_conn "$x" "$y" mark=no start="$start" local_ts="$net_x.0/25" \
    remote_ts="$net_y.0/25" child2="$net_x.128/25,$net_y.128/25"
}
unique_conn "$initiator" "$responder" start
unique_conn "$responder" "$initiator" none
lab_start "$responder"
lab_start "$initiator"

expect "both CHILD_SAs on a: two SA pairs" lab_wait_sa_count a 4 30
expect "both CHILD_SAs on b: two SA pairs" lab_wait_sa_count b 4 30
# shellcheck disable=SC2317 # called through expect
marks_on_a() {
  local marks
  marks=$(ip -n a xfrm policy | sed -nE 's/.*mark (0x[0-9a-f]+)\/0xffffffff.*/\1/p' | sort -u |
    tr '\n' ' ')
  [[ $marks == "0x1 0x2 " ]] && return 0
  LAB_WHY="a's policies carry the marks '$marks', expected 0x1 and 0x2"
  return 1
}
expect "a's policies carry marks 1 and 2" marks_on_a
lab_expect_reference tunnel
