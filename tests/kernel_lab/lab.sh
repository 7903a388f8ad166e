#!/bin/bash
# The kernel lab's checks, run inside user-mode Linux by uml_init.sh (see run.sh).
#
#        netns A                                     netns B
#   10.0.1.1/32 (lo)                             10.0.2.1/32 (lo)
#        |  route 10.0.2.0/24 dev vti0                |  route 10.0.1.0/24 dev vti0
#      vti0 (key 12) ---- ESP, mark 12 ----------- vti0 (key 12)
#      va 192.0.2.1/24 ========= veth ========== vb 192.0.2.2/24
#   CHILD_SA 0.0.0.0/0 <-> 0.0.0.0/0, mark_in = mark_out = 12
#
# (a) charon <-> charon for each ESP proposal: normalised dumps recorded, then torn down.
# (b) the same tunnel installed by minivpn-kernel-probe (xfrm/ + vti/): ping across the VTI,
#     ESP counters up, normalised dumps equal to charon's.
# (c) probe removal: both dumps empty, VTI gone.
# (d) fault injection: each install step failing in turn leaves the dumps exactly as before.
# (e) 10,000 CHILD_SAs with distinct marks installed and removed, per-operation cost printed.
# (f) soft and hard EXPIRE events arrive through XfrmEventListener and parse correctly.
# (g) without esp4 or ip_vti the install fails naming the module and leaves nothing behind.
# (h) the same over IPv6 (vti6, esp6), probe <-> probe.
# Results: $MVLAB_OUT/results.txt (PASS/FAIL lines, then DONE), artefacts next to it.
set -u
OUT=$MVLAB_OUT
PROBE=$MVLAB_PROBE
COUNT=${MVLAB_COUNT:-10000}
HERE=$MVLAB_DIR
RES=$OUT/results.txt
ESPS=${MVLAB_ESPS:-aes256gcm16,aes128-sha256}
ESPS=${ESPS//,/ }
PSK="minivpn-kernel-lab-psk-not-a-secret"
A=192.0.2.1
B=192.0.2.2
KEY=12
: > "$RES"

pass() { echo "PASS $*" | tee -a "$RES"; }
fail() { echo "FAIL $*" | tee -a "$RES"; }
note() { echo "NOTE $*" | tee -a "$RES"; }
check() {  # check <name> <command...>
  local name=$1; shift
  if "$@"; then pass "$name"; else fail "$name"; fi
}

setup_net() {
  ip netns add A; ip netns add B
  ip link add va type veth peer name vb
  ip link set va netns A; ip link set vb netns B
  ip -n A addr add $A/24 dev va; ip -n B addr add $B/24 dev vb
  for ns in A B; do ip -n $ns link set lo up; done
  ip -n A link set va up; ip -n B link set vb up
  ip -n A addr add 10.0.1.1/32 dev lo; ip -n B addr add 10.0.2.1/32 dev lo
}

# The system part of a route-based tunnel (docs/lab.md) as an admin does it for charon.
charon_vti() {
  ip -n A tunnel add vti0 local $A remote $B mode vti key $KEY
  ip -n B tunnel add vti0 local $B remote $A mode vti key $KEY
  for ns in A B; do
    ip -n $ns link set vti0 up
    ip netns exec $ns sysctl -qw net.ipv4.conf.vti0.disable_policy=1
  done
}

routes() {
  ip -n A route add 10.0.2.0/24 dev vti0 src 10.0.1.1
  ip -n B route add 10.0.1.0/24 dev vti0 src 10.0.2.1
}

ping_across() {
  ip netns exec A ping -c 3 -i 0.2 -W 2 -I 10.0.1.1 10.0.2.1 > "$OUT/$1.ping" 2>&1
}

# dump <ns> <prefix>: raw and normalised state/policy dumps plus the VTI link.
dump() {
  ip -n "$1" -s xfrm state > "$OUT/$2.state.raw"
  ip -n "$1" -s xfrm policy > "$OUT/$2.policy.raw"
  python3 "$HERE/normalise.py" state < "$OUT/$2.state.raw" > "$OUT/$2.state"
  python3 "$HERE/normalise.py" policy < "$OUT/$2.policy.raw" > "$OUT/$2.policy"
  ip -n "$1" -d link show vti0 2>/dev/null | sed -E 's/^[0-9]+: //' > "$OUT/$2.link"
}

# Exact (unnormalised) snapshot for the fault-injection comparisons.
snapshot() {
  { ip -n "$1" xfrm state; echo ===; ip -n "$1" xfrm policy; echo ===;
    ip -n "$1" -o link show | sed -E 's/^[0-9]+: //; s/ +link\/.*//'; } > "$2"
}

empty_dumps() {
  [[ -z $(ip -n "$1" xfrm state) && -z $(ip -n "$1" xfrm policy) ]] &&
    ! ip -n "$1" link show vti0 > /dev/null 2>&1
}

write_charon_conf() {  # dir local remote local_id remote_id esp
  mkdir -p "$1"
  cat > "$1/strongswan.conf" <<CONF
charon-systemd {
  load = random nonce openssl aes sha1 sha2 hmac gcm gmp curve25519 kdf kernel-netlink socket-default vici
  install_routes = no
  plugins { vici { socket = unix://$1/vici } }
  journal { default = -1 }
  filelog { charon { path = $1/charon.log
                     append = no
                     flush_line = yes
                     default = 1 } }
}
CONF
  cat > "$1/swanctl.conf" <<CONF
connections {
  lab {
    version = 2
    local_addrs = $2
    remote_addrs = $3
    proposals = aes256gcm16-prfsha256-x25519
    local { auth = psk
            id = $4 }
    remote { auth = psk
             id = $5 }
    children { lab { local_ts = 0.0.0.0/0
                     remote_ts = 0.0.0.0/0
                     esp_proposals = $6
                     mode = tunnel
                     mark_in = $KEY
                     mark_out = $KEY } }
  }
}
secrets { ike-lab { id-a = a.lab
                    id-b = b.lab
                    secret = "$PSK" } }
CONF
}

# (a) charon <-> charon.
run_charon() {
  local esp=$1 dir=/run/charon-$1 pids=()
  charon_vti; routes
  write_charon_conf $dir/A $A $B a.lab b.lab "$esp"
  write_charon_conf $dir/B $B $A b.lab a.lab "$esp"
  for ns in A B; do
    STRONGSWAN_CONF=$dir/$ns/strongswan.conf ip netns exec $ns /usr/sbin/charon-systemd \
      > $dir/$ns/stdout 2>&1 &
    pids+=($!)
  done
  for ns in A B; do
    for _ in $(seq 100); do [[ -S $dir/$ns/vici ]] && break; sleep 0.1; done
    swanctl --load-all --file $dir/$ns/swanctl.conf --uri unix://$dir/$ns/vici > /dev/null 2>&1
  done
  if timeout 30 swanctl --initiate --child lab --uri unix://$dir/A/vici > $OUT/charon-$esp.initiate 2>&1; then
    pass "(a) charon $esp: CHILD_SA established"
  else
    fail "(a) charon $esp: CHILD_SA established (see charon-$esp.initiate)"
  fi
  check "(a) charon $esp: ping 10.0.1.1 -> 10.0.2.1 across vti0" ping_across charon-$esp
  dump A charon-$esp-A; dump B charon-$esp-B
  # The normalised dumps recorded from charon 5.9.8 on Debian's 6.1 UML kernel (expected/):
  # a change here means strongSwan or the kernel moved, and minivpn must follow.
  for side in A B; do
    for kind in state policy; do
      [[ -f $HERE/expected/$esp-$side.$kind ]] || continue
      check "(a) charon $esp $side: ip xfrm $kind as recorded in expected/" \
        same $HERE/expected/$esp-$side.$kind $OUT/charon-$esp-$side.$kind $OUT/diff-expected-$esp-$side.$kind
    done
  done
  grep -c "socket " $OUT/charon-$esp-A.policy.raw > $OUT/charon-$esp-A.socket-policies || true
  swanctl --terminate --ike lab --uri unix://$dir/A/vici > /dev/null 2>&1
  sleep 0.5
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null; done
  cp $dir/A/charon.log $OUT/charon-$esp-A.log; cp $dir/B/charon.log $OUT/charon-$esp-B.log
  for ns in A B; do ip -n $ns tunnel del vti0; done
  check "(a) charon $esp: teardown leaves A and B empty" eval 'empty_dumps A && empty_dumps B'
}

hex() { od -An -tx1 -N"$1" /dev/urandom | tr -d ' \n'; }

# Key files (lab keys, in this kernel's /run tmpfs): A's outbound keys are B's inbound keys.
write_keys() {  # esp
  local encr=36 integ=0  # AEAD: key + 4-octet salt
  case ${1%-esn} in
    aes128gcm*) encr=20 ;;
    aes128-*) encr=16 ;;
    aes256-*) encr=32 ;;
  esac
  case ${1%-esn} in
    *-sha1) integ=20 ;;
    *-sha256) integ=32 ;;
    *-sha384) integ=48 ;;
    *-sha512) integ=64 ;;
  esac
  local eab eba iab="" iba=""
  eab=$(hex $encr); eba=$(hex $encr)
  if ((integ)); then iab=$(hex $integ); iba=$(hex $integ); fi
  { echo "encr_in $eba"; echo "encr_out $eab"; ((integ)) && { echo "integ_in $iba"; echo "integ_out $iab"; }; } > /run/keys-A
  { echo "encr_in $eab"; echo "encr_out $eba"; ((integ)) && { echo "integ_in $iab"; echo "integ_out $iba"; }; } > /run/keys-B
}

probe_a() { ip netns exec A "$PROBE" "$@" --local $A --remote $B --spi-in 0xc1000001 --spi-out 0xc2000002 --keys /run/keys-A; }
probe_b() { ip netns exec B "$PROBE" "$@" --local $B --remote $A --spi-in 0xc2000002 --spi-out 0xc1000001 --keys /run/keys-B; }

counters_up() {  # esp: every SA on both sides has packets > 0
  local ok=0
  for side in a b; do
    probe_$side query --esp "$1" --mark $KEY > $OUT/minivpn-$1-$side.query 2>&1 || return 1
    cat $OUT/minivpn-$1-$side.query >> "$RES"
    awk '{ if ($5 + 0 <= 0 || $7 + 0 <= 0) bad = 1 } END { exit bad }' $OUT/minivpn-$1-$side.query || ok=1
  done
  return $ok
}

same() { diff -u "$1" "$2" > "$3" 2>&1; }

# The VTI as iproute2 makes it over rtnetlink, in a scratch namespace, for the link comparison.
iproute2_vti() {
  ip netns add D
  ip -n D link add vti0 type vti local $1 remote $2 key $KEY
  ip -n D link set vti0 up
  ip -n D -d link show vti0 | sed -E 's/^[0-9]+: //' > "$OUT/iproute2-vti-$3.link"
  ip netns del D
}

# (b) + (c) minivpn-kernel-probe on both sides.
run_minivpn() {
  local esp=$1
  write_keys "$esp"
  if probe_a install --esp "$esp" --mark $KEY --reqid 1 --vti vti0 > $OUT/minivpn-$esp.install 2>&1 &&
     probe_b install --esp "$esp" --mark $KEY --reqid 1 --vti vti0 >> $OUT/minivpn-$esp.install 2>&1; then
    pass "(b) minivpn $esp: CHILD_SA and VTI installed on A and B"
  else
    fail "(b) minivpn $esp: install (see minivpn-$esp.install)"
  fi
  routes
  check "(b) minivpn $esp: ping 10.0.1.1 -> 10.0.2.1 across vti0" ping_across minivpn-$esp
  check "(b) minivpn $esp: ESP packets and last use reported by QuerySa on all four SAs" counters_up "$esp"
  dump A minivpn-$esp-A; dump B minivpn-$esp-B
  for side in A B; do
    for kind in state policy; do
      check "(b) $esp $side: normalised ip xfrm $kind equal to charon's" \
        same $OUT/charon-$esp-$side.$kind $OUT/minivpn-$esp-$side.$kind $OUT/diff-$esp-$side.$kind
    done
    # charon's VTI comes from `ip tunnel add` (the SIOCADDTUNNEL ioctl), ours from RTM_NEWLINK
    # like `ip link add type vti`: compare with the latter, and note any difference to the former.
    check "(b) $esp $side: vti0 (ip -d link) equal to iproute2's 'ip link add type vti'" \
      same $OUT/iproute2-vti-$side.link $OUT/minivpn-$esp-$side.link $OUT/diff-iproute2-$esp-$side.link
    if ! same $OUT/charon-$esp-$side.link $OUT/minivpn-$esp-$side.link $OUT/diff-$esp-$side.link; then
      note "(b) $esp $side: vti0 differs from the ioctl-made one: $(grep -E '^[-+][^-+]' $OUT/diff-$esp-$side.link | grep -oE 'minmtu [0-9]+ maxmtu [0-9]+' | paste -sd' ' | sed 's/^/[ioctl | rtnetlink] /')"
    fi
    check "(b) $esp $side: net.ipv4.conf.vti0.disable_policy = 1" \
      test "$(ip netns exec $side sysctl -n net.ipv4.conf.vti0.disable_policy)" = 1
  done
  if probe_a remove --esp "$esp" --mark $KEY --vti vti0 > $OUT/minivpn-$esp.remove 2>&1 &&
     probe_b remove --esp "$esp" --mark $KEY --vti vti0 >> $OUT/minivpn-$esp.remove 2>&1; then
    pass "(c) minivpn $esp: remove succeeded"
  else
    fail "(c) minivpn $esp: remove (see minivpn-$esp.remove)"
  fi
  check "(c) minivpn $esp: xfrm state, xfrm policy empty and vti0 gone on A and B" \
    eval 'empty_dumps A && empty_dumps B'
}

# (b) The IKE sockets' per-socket bypass policies (SetSocketBypass on UDP 500/4500, v4 and v6)
# against the ones charon's sockets had.
run_bypass() {
  local esp=$1
  python3 "$HERE/normalise.py" socket < $OUT/charon-$esp-A.policy.raw > $OUT/charon-bypass-A.sockets
  ip netns exec A "$PROBE" bypass > $OUT/minivpn-bypass-A.raw 2>&1
  python3 "$HERE/normalise.py" socket < $OUT/minivpn-bypass-A.raw > $OUT/minivpn-bypass-A.sockets
  check "(b) per-socket bypass policies ($(grep -c '^--' $OUT/charon-bypass-A.sockets) of them) equal to charon's" \
    eval "[[ -s $OUT/charon-bypass-A.sockets ]] && same $OUT/charon-bypass-A.sockets $OUT/minivpn-bypass-A.sockets $OUT/diff-bypass-A"
  check "(b) bypass policies go away with the sockets" empty_dumps A
}

# (d) Fault injection in A, with one CHILD_SA (mark 12, vti0) already installed so that
# "as before" is not just "empty".
run_faults() {
  local esp=aes256gcm16 names=(ALLOCSPI UPDSA-in NEWSA-out NEWPOLICY-in NEWPOLICY-fwd NEWPOLICY-out)
  write_keys $esp
  probe_a install --esp $esp --mark $KEY --reqid 1 --vti vti0 > $OUT/faults.log 2>&1 ||
    fail "(d) baseline child install"
  snapshot A $OUT/faults.before
  second() {
    # Another peer (192.0.2.3): one VTI per endpoint pair, the kernel refuses a second one.
    ip netns exec A "$PROBE" install --local $A --remote 192.0.2.3 --spi-in 0xc1000013 \
      --spi-out 0xc2000013 --keys /run/keys-A --esp $esp --mark 13 --reqid 2 --vti vti1 "$@"
  }
  for n in 1 2 3 4 5 6; do
    if second --fail-nth $n >> $OUT/faults.log 2>&1; then
      fail "(d) netlink request $n (${names[n-1]}) failing: install reported success"
    fi
    snapshot A $OUT/faults.after-$n
    check "(d) netlink request $n (${names[n-1]}) failing leaves the kernel exactly as before" \
      same $OUT/faults.before $OUT/faults.after-$n $OUT/faults.diff-$n
  done
  local vti_names=(RTM_NEWLINK disable_policy link-up)
  for n in 1 2 3; do
    second --fail-vti-nth $n >> $OUT/faults.log 2>&1 &&
      fail "(d) VTI step $n (${vti_names[n-1]}) failing: install reported success"
    snapshot A $OUT/faults.after-vti-$n
    check "(d) VTI step $n (${vti_names[n-1]}) failing leaves the kernel exactly as before" \
      same $OUT/faults.before $OUT/faults.after-vti-$n $OUT/faults.diff-vti-$n
  done
  # Request 7 does not exist: the install has exactly six kernel requests.
  if second --fail-nth 7 >> $OUT/faults.log 2>&1; then
    pass "(d) an install is exactly 6 netlink requests (a 7th failure never fires)"
    ip netns exec A "$PROBE" remove --local $A --remote 192.0.2.3 --spi-in 0xc1000013 \
      --spi-out 0xc2000013 --esp $esp --mark 13 --vti vti1 >> $OUT/faults.log 2>&1
  else
    fail "(d) install with --fail-nth 7 should succeed"
  fi
  snapshot A $OUT/faults.end
  check "(d) after all that the kernel is as before" same $OUT/faults.before $OUT/faults.end $OUT/faults.diff-end
  probe_a remove --esp $esp --mark $KEY --vti vti0 >> $OUT/faults.log 2>&1
  check "(d) cleanup leaves A empty" empty_dumps A
}

# (f) EXPIRE events from the kernel through XfrmEventListener.
run_expire() {
  ip netns add E
  if ip netns exec E "$PROBE" expire --local $A --remote $B --spi-out 0xc3000003 --mark $KEY \
       > $OUT/expire.txt 2>&1; then
    pass "(f) soft then hard EXPIRE parsed for the right SA, SA gone after the hard one"
  else
    fail "(f) expire events (see expire.txt)"
  fi
  cat $OUT/expire.txt >> "$RES"
  ip netns del E
}

# (g) A kernel without esp4 / ip_vti (bad-inputs.md N): a clear error naming the module and no
# state left. On-demand module loading is switched off for the check.
run_missing_modules() {
  local esp=aes256gcm16
  write_keys $esp
  echo /bin/false > /proc/sys/kernel/modprobe
  /usr/sbin/modprobe -d /run/mods -r esp4 2>> $OUT/missing.log
  if probe_a install --esp $esp --mark $KEY --vti vti0 > $OUT/missing.log 2>&1; then
    fail "(g) install without esp4 reported success"
  fi
  cat $OUT/missing.log >> "$RES"
  check "(g) without esp4: error says 'load esp4', nothing left in A" \
    eval 'grep -q "load esp4" $OUT/missing.log && empty_dumps A'
  /usr/sbin/modprobe -d /run/mods esp4
  /usr/sbin/modprobe -d /run/mods -r ip_vti 2>> $OUT/missing.log
  if probe_a install --esp $esp --mark $KEY --vti vti0 > $OUT/missing-vti.log 2>&1; then
    fail "(g) install without ip_vti reported success"
  fi
  cat $OUT/missing-vti.log >> "$RES"
  check "(g) without ip_vti: error says 'load ip_vti', CHILD_SA rolled back, nothing left in A" \
    eval 'grep -q "load ip_vti" $OUT/missing-vti.log && empty_dumps A'
  echo /run/modprobe.sh > /proc/sys/kernel/modprobe
  /usr/sbin/modprobe -d /run/mods ip_vti
}

# (h) IPv6 outer and inner addresses, probe <-> probe (vti6, esp6): ping across, counters up,
# removal leaves nothing.
run_ipv6() {
  local esp=aes256gcm16 a6=2001:db8::1 b6=2001:db8::2
  write_keys $esp
  ip -n A addr add $a6/64 dev va nodad; ip -n B addr add $b6/64 dev vb nodad
  ip -n A addr add fd00:1::1/128 dev lo; ip -n B addr add fd00:2::1/128 dev lo
  v6() {  # side local remote spi_in spi_out keys command...
    local ns=$1 l=$2 r=$3 si=$4 so=$5 k=$6; shift 6
    ip netns exec $ns "$PROBE" "$@" --local $l --remote $r --spi-in $si --spi-out $so --keys $k \
      --esp $esp --mark 16 --local-ts ::/0 --remote-ts ::/0
  }
  if v6 A $a6 $b6 0xc1000061 0xc2000062 /run/keys-A install --vti vti6a > $OUT/ipv6.log 2>&1 &&
     v6 B $b6 $a6 0xc2000062 0xc1000061 /run/keys-B install --vti vti6b >> $OUT/ipv6.log 2>&1; then
    pass "(h) IPv6: CHILD_SA and vti6 installed on A and B"
  else
    fail "(h) IPv6: install (see ipv6.log)"
  fi
  ip -n A -6 route add fd00:2::/64 dev vti6a src fd00:1::1
  ip -n B -6 route add fd00:1::/64 dev vti6b src fd00:2::1
  check "(h) IPv6: ping fd00:1::1 -> fd00:2::1 across vti6" \
    eval "ip netns exec A ping -6 -c 3 -i 0.2 -W 2 -I fd00:1::1 fd00:2::1 > $OUT/ipv6.ping 2>&1"
  v6 A $a6 $b6 0xc1000061 0xc2000062 /run/keys-A query > $OUT/ipv6.query 2>&1
  cat $OUT/ipv6.query >> "$RES"
  check "(h) IPv6: ESP packet counters went up" \
    eval "awk '{ if (\$5 + 0 <= 0) bad = 1 } END { exit bad }' $OUT/ipv6.query"
  ip -n A -s xfrm state > $OUT/ipv6-A.state.raw; ip -n A -s xfrm policy > $OUT/ipv6-A.policy.raw
  ip -n A -d link show vti6a > $OUT/ipv6-A.link 2>&1
  v6 A $a6 $b6 0xc1000061 0xc2000062 /run/keys-A remove --vti vti6a >> $OUT/ipv6.log 2>&1
  v6 B $b6 $a6 0xc2000062 0xc1000061 /run/keys-B remove --vti vti6b >> $OUT/ipv6.log 2>&1
  check "(h) IPv6: removal leaves A and B without xfrm state or policy" \
    eval '[[ -z $(ip -n A xfrm state; ip -n A xfrm policy; ip -n B xfrm state; ip -n B xfrm policy) ]]'
}

# (e) 10,000 CHILD_SAs in a namespace of their own.
run_bench() {
  ip netns add C
  if ip netns exec C "$PROBE" bench --local $A --remote $B --count "$COUNT" > $OUT/bench.txt 2>&1; then
    pass "(e) $COUNT CHILD_SAs installed and removed (counts checked by dump)"
  else
    fail "(e) bench (see bench.txt)"
  fi
  cat $OUT/bench.txt >> "$RES"
  ip netns del C
  # Contrast: /32 <-> /32 selectors go into the kernel's policy hash table.
  ip netns add C
  if ip netns exec C "$PROBE" bench --local $A --remote $B --count "$COUNT" --selectors32 1 \
       > $OUT/bench32.txt 2>&1; then
    pass "(e) $COUNT CHILD_SAs with /32 selectors installed and removed"
  else
    fail "(e) bench with /32 selectors (see bench32.txt)"
  fi
  cat $OUT/bench32.txt >> "$RES"
  ip netns del C
}

echo "kernel $(uname -r); probe $PROBE" > "$OUT/env.txt"
dpkg-query -W charon-systemd iproute2 user-mode-linux >> "$OUT/env.txt" 2>&1 || true
setup_net
iproute2_vti $A $B A; iproute2_vti $B $A B
for esp in $ESPS; do run_charon "$esp"; done
for esp in $ESPS; do run_minivpn "$esp"; done
run_bypass ${ESPS%% *}
run_faults
run_expire
run_missing_modules
run_ipv6
[[ $COUNT -gt 0 ]] && run_bench
ip netns del A; ip netns del B
echo DONE >> "$RES"
