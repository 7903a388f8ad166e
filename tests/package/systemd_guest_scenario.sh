#!/bin/bash
# The scenario of tests/package/systemd_boot_test.sh, run inside the QEMU guest whose PID 1 is
# systemd (Debian 12 with the minivpn package installed), by the unit minivpn-lab.service once
# multi-user.target is reached. It drives the packaged minivpnd.service the way an operator does
# (systemctl, minivpnctl, journalctl) and writes its steps to /lab-results/steps.log and its
# verdict (PASS, or FAIL: <first failed check>) to /lab-results/result, then powers off.
#
#   10.1.0.1 (dummy net-a)                                      10.2.0.1 (dummy net-b)
#   [router a: the guest's own namespace] vti-b ==== ESP, key 12 ==== vti-a [namespace b]
#    minivpnd.service, the seed's /etc/ipsec.conf                charon-b.service (charon-systemd)
#      | eth0 192.0.2.1 -------------------- veth -------------------- 198.51.100.1 eth0 |
#
# Router a's /etc/ipsec.conf, /etc/ipsec.secrets and /etc/strongswan.conf are the seed's
# (tests/cli/data/seed/) and /etc/swanctl/swanctl.conf is Debian's template without connections:
# the unit's plain `minivpnd` must pick ipsec.conf. The VTIs are made here, as the seed's admin
# did by hand; the modules come from /etc/modules-load.d (the unit cannot load modules).
set -u
out=/lab-results
mkdir -p "$out"
failed=""
t0=$(cut -d ' ' -f 1 /proc/uptime)

log() {
  local now
  now=$(cut -d ' ' -f 1 /proc/uptime)
  printf '[%6.1fs] %s\n' "$(awk -v a="$t0" -v b="$now" 'BEGIN { print b - a }')" "$*" |
    tee -a "$out/steps.log" >/dev/console
}
step() { log "== $*"; }
pass() { log "ok   $*"; }
fail() {
  log "FAIL $*"
  [[ -n $failed ]] || failed=$*
}
# expect WHAT COMMAND...: the command must succeed.
expect() {
  local what=$1
  shift
  if "$@" >>"$out/commands.log" 2>&1; then pass "$what"; else fail "$what"; fi
}
# must WHAT COMMAND...: as expect, but the scenario stops at a failure (what follows needs it).
must() {
  expect "$@"
  [[ -z $failed ]] || exit 1
}
# wait_until SECONDS COMMAND...: retries every 0.5 s.
wait_until() {
  local end=$((SECONDS + $1))
  shift
  while ! "$@" >/dev/null 2>&1; do
    ((SECONDS < end)) || return 1
    sleep 0.5
  done
}
finish() {
  step "collect"
  # (not `systemctl status`: in this guest it writes its output and then never exits)
  timeout 20 journalctl -b --no-pager -o short-monotonic >"$out/journal.txt" 2>&1
  cp /var/log/charon-b.log "$out/" 2>/dev/null
  if [[ -n $failed ]]; then
    log "minivpnd's last journal lines:"
    journalctl -b -u minivpnd.service --no-pager -n 25 -o short-monotonic 2>&1 |
      while read -r line; do log "     $line"; done
  fi
  if [[ -z $failed ]]; then echo PASS >"$out/result"; else echo "FAIL: $failed" >"$out/result"; fi
  log "result: $(cat "$out/result")"
  sync
  systemctl poweroff --no-block
}
trap finish EXIT

prop() { systemctl show -P "$1" minivpnd.service; }
sa_up() {
  local sas
  sas=$(minivpnctl list-sas 2>/dev/null)
  grep -Eq '^A-B: #[0-9]+, ESTABLISHED' <<<"$sas" && grep -Eq '^ +A-B: #[0-9]+, .*INSTALLED' <<<"$sas"
}
ping_b() { ping -c 3 -i 0.3 -W 2 -I 10.1.0.1 10.2.0.1; }
sa_spis() { ip xfrm state | awk '/^src/ { getline; print $4 }' | sort | tr '\n' ' '; }
sa_count() { ip xfrm state | grep -c '^src'; }

step "boot: $(uname -r), systemd $(systemctl --version | head -n 1 | cut -d ' ' -f 2)," \
  "system $(systemctl is-system-running)"
expect "the modules from /etc/modules-load.d are loaded" \
  bash -c 'for m in xfrm_user esp4 ip_vti; do grep -q "^$m " /proc/modules || exit 1; done'

step "topology: router a here, router b in namespace b"
{
  set -e
  ip netns add b
  ip link add eth0 type veth peer name eth0 netns b
  ip addr add 192.0.2.1 peer 198.51.100.1 dev eth0
  ip link set eth0 up
  ip -n b addr add 198.51.100.1 peer 192.0.2.1 dev eth0
  ip -n b link set eth0 up
  ip -n b link set lo up
  ip link add net-a type dummy && ip addr add 10.1.0.1/24 dev net-a && ip link set net-a up
  ip -n b link add net-b type dummy && ip -n b addr add 10.2.0.1/24 dev net-b
  ip -n b link set net-b up
  ip link add vti-b type vti local 192.0.2.1 remote 198.51.100.1 key 12
  sysctl -qw net.ipv4.conf.vti-b.disable_policy=1
  ip link set vti-b up && ip route add 10.2.0.0/24 dev vti-b
  ip -n b link add vti-a type vti local 198.51.100.1 remote 192.0.2.1 key 12
  ip netns exec b sysctl -qw net.ipv4.conf.vti-a.disable_policy=1
  ip -n b link set vti-a up && ip -n b route add 10.1.0.0/24 dev vti-a
} >>"$out/commands.log" 2>&1 || { fail "the topology could not be made (commands.log)"; exit; }
pass "veth, dummies and VTIs (key 12) in place"

step "charon on router b (charon-b.service: charon-systemd in namespace b)"
must "systemctl start charon-b" systemctl start charon-b.service

step "systemctl start minivpnd (the packaged unit)"
must "systemctl start minivpnd returns once minivpnd says READY" systemctl start minivpnd.service
expect "the unit is active" systemctl is-active minivpnd.service
log "     $(systemctl show -p Type,NotifyAccess,WatchdogUSec,StatusText minivpnd.service | tr '\n' ' ')"
expect "minivpnd loaded /etc/ipsec.conf (the file that defines connections)" \
  bash -c 'journalctl -b -u minivpnd.service --no-pager | grep -F /etc/ipsec.conf'
must "the tunnel comes up by itself (auto=start)" wait_until 30 sa_up
status_counts() { [[ $(prop StatusText) == "1 IKE SA, 1 CHILD_SA, 1 connection" ]]; }
expect "STATUS= gives the SA counts" wait_until 10 status_counts
log "     StatusText=$(prop StatusText)"
expect "ping net-a -> net-b across the tunnel" ping_b
spis=$(sa_spis)
log "     SPIs on a: $spis"
must "two SAs on a" test "$(sa_count)" = 2
pid1=$(prop MainPID)
must "minivpnd has a MainPID" test "$pid1" -gt 1

step "break /etc/ipsec.conf, systemctl reload"
cp /etc/ipsec.conf /etc/ipsec.conf.good
printf 'conn broken\n    left=192.0.2.1\n    right=198.51.100.9\n    auto=start\n    ike=aes256-nosuchprf-x25519!\n' \
  >>/etc/ipsec.conf
if systemctl reload minivpnd.service >>"$out/commands.log" 2>&1; then
  fail "systemctl reload with a broken ipsec.conf succeeded"
else
  pass "systemctl reload with a broken ipsec.conf fails"
fi
expect "the unit stays active" systemctl is-active minivpnd.service
expect "same MainPID ($pid1)" test "$(prop MainPID)" = "$pid1"
broken_line() {
  journalctl -b --no-pager -o cat -u minivpnd.service _PID="$pid1" |
    grep -E '/etc/ipsec\.conf:2[0-9]:.*nosuchprf' | tail -n 1
}
expect "the journal names the broken line" test -n "$(broken_line)"
log "     $(broken_line)"
expect "the same SPIs: the tunnel was kept" test "$(sa_spis)" = "$spis"
expect "ping across the kept tunnel" ping_b
mv /etc/ipsec.conf.good /etc/ipsec.conf
expect "systemctl reload with the restored ipsec.conf succeeds" systemctl reload minivpnd.service
expect "still the same SPIs" test "$(sa_spis)" = "$spis"

step "kill -9 minivpnd (MainPID $pid1)"
n0=$(prop NRestarts)
kill -9 "$pid1"
restarted() { [[ $(prop NRestarts) == $((n0 + 1)) && $(prop ActiveState) == active ]]; }
expect "systemd restarts it: NRestarts $n0 -> $((n0 + 1)), active" wait_until 20 restarted
pid2=$(prop MainPID)
log "     new MainPID $pid2"
expect "a new process" test -n "$pid2" -a "$pid2" != "$pid1" -a "$pid2" != 0
expect "the new minivpnd removed what the killed one left (kernel journal in /run/minivpn)" \
  wait_until 10 bash -c 'journalctl -b -u minivpnd.service _PID='"$pid2"' --no-pager |
    grep -E "removed [0-9]+ kernel objects left by an earlier minivpnd"'
expect "the tunnel comes back by itself" wait_until 30 sa_up
one_pair() { [[ $(sa_count) == 2 ]]; }
expect "router a holds exactly one CHILD_SA pair" wait_until 10 one_pair
log "     SPIs on a: $(sa_spis)"
expect "ping across the new tunnel" ping_b

step "journalctl IKE_SA_NAME=A-B"
journalctl -b --no-pager IKE_SA_NAME=A-B -o verbose >"$out/journal-A-B.txt" 2>&1
journalctl -b --no-pager IKE_SA_NAME=A-B -o short >"$out/journal-A-B-short.txt" 2>&1
log "     $(grep -c '^ *MESSAGE=' "$out/journal-A-B.txt") lines; first and last:"
{ head -n 2 "$out/journal-A-B-short.txt"; tail -n 1 "$out/journal-A-B-short.txt"; } |
  while read -r line; do log "     $line"; done
for pid in "$pid1" "$pid2"; do
  expect "lines of minivpnd $pid carry IKE_SA_NAME=A-B" grep -q "^ *_PID=$pid\$" "$out/journal-A-B.txt"
done
expect "with IKE_SA_UNIQUE_ID" grep -Eq '^ *IKE_SA_UNIQUE_ID=[0-9]+$' "$out/journal-A-B.txt"
expect "and a syslog priority" grep -Eq '^ *PRIORITY=[0-7]$' "$out/journal-A-B.txt"

step "systemctl stop minivpnd"
expect "systemctl stop" systemctl stop minivpnd.service
expect "router a's kernel holds no SA and no policy" bash -c \
  '[ -z "$(ip xfrm state)" ] && [ -z "$(ip xfrm policy)" ]'
expect "the kernel journal survives the stop (RuntimeDirectoryPreserve)" test -d /run/minivpn

step "charon-systemd's pattern: minivpnd with no connections, then swanctl --load-all (ExecStartPost)"
mkdir -p /run/systemd/system/minivpnd.service.d
cat >/run/systemd/system/minivpnd.service.d/vici.conf <<'UNIT'
[Service]
ExecStartPre=
ExecStartPre=/usr/sbin/minivpnd --check-config --config /etc/swanctl/swanctl.conf
ExecStart=
ExecStart=/usr/sbin/minivpnd --config /etc/swanctl/swanctl.conf
ExecStartPost=/usr/sbin/swanctl --load-all --noprompt --file /etc/minivpn-lab/swanctl.conf
UNIT
systemctl daemon-reload
must "systemctl start minivpnd (Debian's template swanctl.conf: no connections)" \
  systemctl start minivpnd.service
expect "its ExecStartPost loaded the connection over vici" bash -c \
  'journalctl -b -u minivpnd.service --no-pager | grep -F "loaded connection '"'"'A-B'"'"'"'
must "the tunnel comes up by itself (start_action = start)" wait_until 30 sa_up
expect "ping across the tunnel swanctl loaded" ping_b
expect "swanctl --list-sas (minivpnd's vici socket) shows it" bash -c \
  'swanctl --list-sas | grep -E "^A-B: #[0-9]+, ESTABLISHED"'
swanctl --list-sas 2>/dev/null | head -n 6 | while read -r line; do log "     $line"; done
expect "systemctl stop" systemctl stop minivpnd.service
rm -r /run/systemd/system/minivpnd.service.d
systemctl daemon-reload
