# about: 20 times: kill -9 minivpnd at a random moment of back-to-back CHILD and IKE rekeys, restart it; each time one CHILD_SA pair and three policies, the tunnel back, the journal bounded
#
#   host-a 10.1.0.10 ------------------ ping after each restart ------------------> host-b
#   [router a] minivpnd  ====== ESP, key 12 ======  charon [router b]
#      rekeys from both ends, back to back (CHILD and IKE, not waiting for each other)
#      kill -9 minivpnd at a random moment (0.2 - 2.0 s into the rekeys), start it again
#
# Issue 17: the kernel journal is write-ahead, so a minivpnd killed at any instant leaves every
# object it may have created named in /run/minivpn/kernel.journal; the next start removes exactly
# those. After each restart router a must hold exactly one SA pair (the new tunnel's) and the
# child's three policies, with no EEXIST on start and no leftover from the killed process, and
# the journal must stay bounded (compaction). Parameters: KILLS (default 20).

kills=${KILLS:-20}

# The rekey storm: a and b each rekey the CHILD_SA and the IKE_SA in turn, without waiting.
rekey_storm() {
  while :; do
    lab_rekey a to-b child
    lab_rekey b to-a child
    sleep 0.1
    lab_rekey a to-b ike
    lab_rekey b to-a ike
    sleep 0.1
  done >/dev/null 2>&1
}

# xfrm policies of the SPD (the IKE sockets' per-socket policies say "socket in/out", not "dir")
spd_policies() { ip -n "$1" xfrm policy | grep -cE '^\s+dir (in|out|fwd) '; }

policy_count_is() {
  local n
  n=$(spd_policies "$1")
  ((n == $2)) && return 0
  LAB_WHY="$1 holds $n xfrm policies, expected $2: $(ip -n "$1" xfrm policy | grep -E '^src|dir' | tr '\n' ' ')"
  return 1
}

# The restarted daemon removed its predecessor's objects (each one: none left that it could not
# remove) and no kernel call failed with EEXIST.
started_clean() {
  local log=$LAB_OUT/a/minivpnd.stdout
  LAB_WHY=$(grep -E 'File exists|leftover (SA|policy|VTI)|kernel journal' "$log" | head -n 3 | tr '\n' ' ')
  [[ -z $LAB_WHY ]] || return 1
  LAB_WHY="no 'removed N kernel objects' line in a/minivpnd.stdout"
  grep -q 'removed [0-9]* kernel objects left by an earlier minivpnd' "$log"
}

# one pair, three policies, the tunnel carries traffic
one_clean_tunnel() {
  lab_wait_sa a to-b 20 || return 1
  lab_wait_sa_count a 2 15 || { LAB_WHY="a: $LAB_WHY"; return 1; }
  policy_count_is a 3 || return 1
  lab_ping host-a "${LAB_HOST[b]}" 2
}

lab_topology_two_sites
lab_pair a b
lab_start a b
expect "tunnel up: initiate from a" lab_initiate a to-b
expect "tunnel up on a" lab_wait_sa a to-b

max_lines=0
max_bytes=0
for ((i = 1; i <= kills; i++)); do
  rekey_storm &
  storm=$!
  delay=$(printf '%d.%d' $((RANDOM % 2)) $((2 + RANDOM % 8)))
  sleep "$delay"
  step "kill $i/$kills: kill -9 minivpnd on a after ${delay}s of rekeys"
  lab_kill a
  kill "$storm" 2>/dev/null
  wait "$storm" 2>/dev/null
  lines=$(wc -l <"$LAB_RUN/a/kernel.journal")
  bytes=$(wc -c <"$LAB_RUN/a/kernel.journal")
  note "journal after kill $i: $lines lines, $bytes bytes; kernel: $(lab_xfrm_sa_count a) SAs, $(spd_policies a) policies"
  ((lines > max_lines)) && max_lines=$lines
  ((bytes > max_bytes)) && max_bytes=$bytes
  lab_start a
  expect "restart $i: minivpnd started without a kernel error" started_clean
  lab_initiate a to-b
  expect "restart $i: one SA pair and three policies on a, the tunnel carries traffic" one_clean_tunnel
done
note "largest journal seen: $max_lines lines, $max_bytes bytes (compaction at 2 x live + 1024 lines)"
journal_bounded() {
  LAB_WHY="the journal reached $max_lines lines"
  ((max_lines > 0 && max_lines <= 2 * 16 + 1024))
}
expect "the journal stayed bounded ($max_lines lines, $max_bytes bytes at most)" journal_bounded
