# about: `minivpnd --check-kernel` on a router whose guest lacks esp4 (not loaded, autoload blocked) names esp4 and exits 1, the daemon refuses to start the same way, both leave nothing behind; with esp4 loaded (and drbg, which it then names) the check passes, the tunnel comes up, and beside the running daemon the check names it as the owner of UDP 500
#
#   host-a 10.1.0.10                                                      host-b 10.2.0.10
#   [router a] minivpnd, vti-b (made by minivpnd) === ESP, key 12 === vti-a (lab) charon [router b]
#
# The row boots the guest with LAB_SKIP_MODULES=esp4 (lib/guest-init.sh leaves it out) and this
# scenario points the kernel's on-demand loader (/proc/sys/kernel/modprobe) at /bin/false, so the
# first ESP SA cannot pull esp4 in by itself. Router a's connection has a `vti { }` section, so
# the check also creates and deletes a scratch VTI and writes its disable_policy.

lab_topology_two_sites
lab_vti b a
mkdir -p "$LAB_RUN/a"
cat >"$LAB_RUN/a/connections" <<CONF
  to-b {
    version = 2
    local_addrs = ${LAB_WAN[a]}
    remote_addrs = ${LAB_WAN[b]}
    proposals = aes256gcm16-prfsha256-x25519
    local {
      auth = psk
      id = ${LAB_WAN[a]}
    }
    remote {
      auth = psk
      id = ${LAB_WAN[b]}
    }
    children {
      to-b {
        local_ts = 0.0.0.0/0
        remote_ts = 0.0.0.0/0
        mark_in = 12
        mark_out = 12
        esp_proposals = aes256gcm16
        vti {
          name = vti-b
          routes = ${LAB_NET[b]}
          addrs = $(tunnel_addr a b)/30
        }
      }
    }
  }
CONF
cat >"$LAB_RUN/a/secrets" <<CONF
  ike-to-b {
    id-local = ${LAB_WAN[a]}
    id-remote = ${LAB_WAN[b]}
    secret = "$LAB_PSK_DEFAULT"
  }
CONF
lab_conn b a
ROLE_A=minivpnd
write_configs a

# check_kernel LABEL: `minivpnd --check-kernel` in namespace a; output in a/check-kernel-LABEL.txt,
# exit status in $CHECK_RC.
check_kernel() {
  local out="$LAB_OUT/a/check-kernel-$1.txt"
  ip netns exec a "$MINIVPND" --check-kernel --config "$LAB_OUT/a/swanctl.conf" \
    --strongswan-conf "$LAB_OUT/a/strongswan.conf" >"$out" 2>&1
  CHECK_RC=$?
  note "minivpnd --check-kernel ($1): exit status $CHECK_RC"
  local line
  while IFS= read -r line; do note "  $line"; done <"$out"
}
esp4_loaded() { grep -q '^esp4 ' /proc/modules; }
# nothing_left: no xfrm state and no scratch VTI (mvchk<pid>) on router a.
nothing_left() {
  local states links
  states=$(ip -n a xfrm state)
  links=$(ip -n a -o link show)
  LAB_WHY="xfrm state: ${states:-none}; links: $(grep -o 'mvchk[0-9]*' <<<"$links" | tr '\n' ' ')"
  [[ -z $states ]] && ! grep -q 'mvchk' <<<"$links"
}

# ---- without esp4 ------------------------------------------------------------------------------
expect_not "esp4 is not loaded at boot (LAB_SKIP_MODULES=${LAB_SKIP_MODULES:-})" esp4_loaded
loader=$(</proc/sys/kernel/modprobe)
echo /bin/false >/proc/sys/kernel/modprobe
note "on-demand module loading blocked: /proc/sys/kernel/modprobe = /bin/false (was $loader)"

check_kernel no-esp4
fails_naming_esp4() {
  local out="$LAB_OUT/a/check-kernel-no-esp4.txt"
  LAB_WHY="exit status $CHECK_RC (must be 1)"
  ((CHECK_RC == 1)) || return 1
  LAB_WHY="no 'FAIL esp4: ... modprobe esp4' line: $(grep '^FAIL' "$out" | tr '\n' ' ')"
  grep -Eq '^FAIL esp4: .*\(fix: module esp4 .*modprobe esp4\)' "$out" || return 1
  LAB_WHY="failed lines other than esp4: $(grep '^FAIL' "$out" | grep -v '^FAIL esp4:' | tr '\n' ' ')"
  [[ $(grep -c '^FAIL' "$out") == 1 ]] || return 1
  LAB_WHY="the other checks did not all run and pass"
  grep -q '^ok   xfrm netlink: ' "$out" && grep -q '^ok   vti: ' "$out" &&
    grep -q '^ok   disable_policy: ' "$out" && grep -q '^ok   udp 500: ' "$out" &&
    grep -q '^ok   udp 4500: ' "$out"
}
expect "--check-kernel exits 1 and names esp4 (the only failure)" fails_naming_esp4
expect_not "the check did not load esp4 after all" esp4_loaded
expect "--check-kernel left nothing on a (no SA, no scratch VTI)" nothing_left

step "start minivpnd on a without esp4"
ip netns exec a timeout 10 "$MINIVPND" --config "$LAB_OUT/a/swanctl.conf" \
  --strongswan-conf "$LAB_OUT/a/strongswan.conf" \
  --journal "$LAB_RUN/a/kernel.journal" >"$LAB_OUT/a/minivpnd-no-esp4.stdout" 2>&1
rc=$?
note "minivpnd without esp4: exit status $rc: $(grep -E 'FAIL|cannot' "$LAB_OUT/a/minivpnd-no-esp4.stdout" | tr '\n' ' ')"
daemon_refused() {
  LAB_WHY="exit status $rc (124 = still running after 10 s)"
  ((rc != 0 && rc != 124)) || return 1
  LAB_WHY="its output does not name esp4: $(tail -n 2 "$LAB_OUT/a/minivpnd-no-esp4.stdout" | tr '\n' ' ')"
  grep -q 'FAIL esp4: .*modprobe esp4' "$LAB_OUT/a/minivpnd-no-esp4.stdout" &&
    grep -q 'this kernel cannot run the configuration' "$LAB_OUT/a/minivpnd-no-esp4.stdout"
}
expect "minivpnd refuses to start, naming esp4" daemon_refused
expect_not "the refused minivpnd created no VTI" on a ip link show vti-b
expect "the refused minivpnd left nothing on a" nothing_left

# ---- with esp4 (loaded as lib/guest-init.sh loads modules; autoload still blocked) ---------------
step "load esp4 with the guest's module loader ($loader esp4)"
must "$loader" esp4
expect "esp4 is loaded" esp4_loaded
# seqiv/echainiv take their salt from the default RNG (drbg), which the kernel otherwise loads on
# demand: with on-demand loading blocked, the check must name it (ENOENT from esp4).
if ! grep -q '^drbg ' /proc/modules; then
  check_kernel esp4-no-drbg
  names_drbg() {
    local out="$LAB_OUT/a/check-kernel-esp4-no-drbg.txt"
    LAB_WHY="exit status $CHECK_RC, failed: $(grep '^FAIL' "$out" | tr '
' ' ')"
    ((CHECK_RC == 1)) && [[ $(grep -c '^FAIL' "$out") == 1 ]] &&
      grep -Eq '^FAIL esp4 aes256gcm16: .*ENOENT.*modprobe .*drbg' "$out"
  }
  expect "esp4 loaded, drbg not: --check-kernel exits 1 naming drbg" names_drbg
  must "$loader" drbg
fi
check_kernel with-esp4
passes() {
  LAB_WHY="exit status $CHECK_RC, failed: $(grep '^FAIL' "$LAB_OUT/a/check-kernel-with-esp4.txt" | tr '\n' ' ')"
  ((CHECK_RC == 0)) && grep -q '^ok   esp4 aes256gcm16: ' "$LAB_OUT/a/check-kernel-with-esp4.txt" &&
    grep -Eq '^kernel check: all [0-9]+ passed$' "$LAB_OUT/a/check-kernel-with-esp4.txt"
}
expect "--check-kernel exits 0 with esp4 (and what it named) loaded" passes
expect "--check-kernel left nothing on a" nothing_left
echo "$loader" >/proc/sys/kernel/modprobe

# ---- beside the running daemon -------------------------------------------------------------------
lab_start b a
expect "minivpnd created vti-b" on a ip link show vti-b
expect "initiate a -> b" lab_initiate a to-b
expect "tunnel up on a" lab_wait_sa a to-b
expect "ping Net A -> Net B" lab_ping host-a "${LAB_HOST[b]}" 3
pid=$(<"$LAB_RUN/a/pid")
check_kernel beside-minivpnd
names_the_daemon() {
  local out="$LAB_OUT/a/check-kernel-beside-minivpnd.txt"
  LAB_WHY="exit status $CHECK_RC (must be 1: the ports are the daemon's)"
  ((CHECK_RC == 1)) || return 1
  LAB_WHY="no 'UDP 500 is in use by minivpnd (pid $pid)': $(grep '^FAIL' "$out" | tr '\n' ' ')"
  grep -q "^FAIL udp 500: UDP 500 is in use by minivpnd (pid $pid)" "$out" &&
    grep -q "^FAIL udp 4500: UDP 4500 is in use by minivpnd (pid $pid)" "$out" || return 1
  LAB_WHY="a check other than the ports failed: $(grep '^FAIL' "$out" | grep -v '^FAIL udp ' | tr '\n' ' ')"
  [[ $(grep -c '^FAIL' "$out") == 2 ]]
}
expect "beside the daemon: exit 1, UDP 500 and 4500 in use by minivpnd (pid $pid), all else ok" names_the_daemon
expect "the tunnel is still up" lab_wait_sa a to-b 2
expect "ping Net A -> Net B after the check" lab_ping host-a "${LAB_HOST[b]}" 3
one_pair() {
  local n
  n=$(ip -n a xfrm state | grep -c '^src')
  LAB_WHY="$n xfrm states on a (the tunnel's pair only, no scratch SA)"
  ((n == 2))
}
expect "a holds the tunnel's two SAs and no scratch SA" one_pair
