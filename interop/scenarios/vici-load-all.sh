# about: minivpnd started with no connections, configured only by `swanctl --load-all` (charon-systemd's ExecStartPost); a second --load-all replaces the changed connection and leaves the other untouched under ping
#
#                           host-c 10.3.0.10
#                           [router c] charon
#                          //  (to-c, key 13)
#   [router a] minivpnd ==//======[ inet ]========= [router b] charon
#      |        \_____________ to-b, key 12 ______________________/      |
#   host-a 10.1.0.10                                               host-b 10.2.0.10
#
# Issue 20, the charon-systemd pattern: minivpnd on a starts from an empty swanctl.conf (no
# connections, no secrets); everything comes from Debian's swanctl over vici, as charon-systemd's
# unit does with `ExecStartPost=swanctl --load-all --noprompt`: get-shared, load-shared,
# get-conns, load-conn. Both connections have start_action = start. Then to-c's file section
# changes (its child's rekey_time) and --load-all runs again while host-a pings host-b every
# 0.1 s: to-c is replaced (a new CHILD_SA), to-b keeps its CHILD_SA and loses no ping. Removing
# to-c from the file and loading again unloads it (unload-conn).

lab_topology_triangle
lab_tunnel a b
lab_tunnel a c
lab_conn a b start=start
lab_conn a c start=start
lab_conn b a
lab_conn c a
# The file swanctl loads into a; minivpnd itself starts with an empty one.
write_configs a
must cp "$LAB_OUT/a/swanctl.conf" "$LAB_OUT/a/swanctl-vici.conf"
: >"$LAB_RUN/a/connections"
: >"$LAB_RUN/a/secrets"
lab_start b c a

load_all() {  # load_all OUT: swanctl --load-all of a's file into minivpnd, its output in a/OUT
  swan a --load-all --noprompt --file "$LAB_OUT/a/swanctl-vici.conf" >"$LAB_OUT/a/$1" 2>&1
}
has() { grep -Eq "$2" "$LAB_OUT/$1"; }  # has X/FILE REGEX

step "minivpnd on a: no connections until swanctl loads them"
expect "swanctl --list-conns on a: nothing" bash -c "[ -z \"\$(STRONGSWAN_CONF='$LAB_OUT/a/strongswan.conf' \
  swanctl --list-conns --uri 'unix://$LAB_RUN/a/vici')\" ]"
expect "swanctl --load-all --noprompt exits 0" load_all load-all-1.txt
expect "  loaded the IKE secrets" has a/load-all-1.txt "loaded ike secret 'ike-to-b'"
expect "  and both connections" has a/load-all-1.txt 'successfully loaded 2 connections, 0 unloaded'
expect "to-b comes up by itself (start_action = start)" lab_wait_sa a to-b 20
expect "to-c comes up by itself" lab_wait_sa a to-c 20
expect "ping Net A -> Net B" lab_ping host-a "${LAB_HOST[b]}" 3
expect "ping Net A -> Net C" lab_ping host-a "${LAB_HOST[c]}" 3

step "change to-c in the file, --load-all again under continuous ping A -> B"
child_of() { lab_list_sas a | grep -E "^  $1: #" | head -n 1 | cut -d, -f1; }
b_before=$(child_of to-b)
c_before=$(child_of to-c)
note "before: to-b ${b_before}, to-c ${c_before}"
lab_ping_start host-a "${LAB_HOST[b]}" a-to-b
must sed -i '/      to-c {/a\        rekey_time = 3000' "$LAB_OUT/a/swanctl-vici.conf"
expect "swanctl --load-all exits 0" load_all load-all-2.txt
expect "minivpnd: to-c changed, to-b unchanged" lab_wait_log a \
  "reloaded: 0 added, 0 removed, 1 changed" 5
replaced() { local now; now=$(child_of to-c); [[ -n $now && $now != "$c_before" ]]; }
expect "to-c replaced: a new CHILD_SA" wait_until 20 replaced
expect "ping Net A -> Net C across the new to-c" lab_ping host-a "${LAB_HOST[c]}" 3
sleep 1
expect "no ping A -> B lost across the load" lab_ping_stop a-to-b
expect "to-b kept its CHILD_SA (${b_before})" test "$(child_of to-b)" = "$b_before"

step "remove to-c from the file, --load-all: unloaded"
must python3 - "$LAB_OUT/a/swanctl-vici.conf" <<'PY'
import re, sys
p = sys.argv[1]
text = open(p).read()
start = text.index("  to-c {")
depth, i = 0, start
while True:
    if text[i] == "{": depth += 1
    if text[i] == "}":
        depth -= 1
        if depth == 0: break
    i += 1
open(p, "w").write(text[:start] + text[i + 2:])
PY
expect "swanctl --load-all exits 0" load_all load-all-3.txt
expect "  it unloaded to-c" has a/load-all-3.txt 'successfully loaded 1 connections, 1 unloaded'
expect "to-c is gone from a" lab_wait_no_sa a to-c 10
expect "to-b is still up" lab_wait_sa a to-b 5
