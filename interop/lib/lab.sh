# lab.sh: the vocabulary of the interop scenarios (sourced inside the UML, never on the host).
#
# A scenario builds a topology out of network namespaces, starts one IKE daemon per router
# (strongSwan's charon, or minivpnd), lets them negotiate, and checks what happened on the wire
# and in each router's kernel. Every helper returns non-zero and sets LAB_WHY when something is
# wrong; `expect "what" helper args...` turns that into the scenario's FAIL line.
#
# Names used everywhere:
#   a, b, c            router namespaces (one IKE daemon each); eth0 = transport, eth1 = local net
#   host-a, host-b...  one host on each router's local network
#   inet               the "internet" router that joins the transport links
#   vti-b (on a)       the VTI on router a that leads to router b; its key (= xfrm mark) is pair-wide
#
# The helpers live in five files, all sourced here:
#   lab.sh       logging, verdicts (expect, must), polling, cleanup
#   topology.sh  addressing plan, namespaces, veths, VTIs, netem, drop rules
#   daemons.sh   swanctl.conf/strongswan.conf, starting and driving charon or minivpnd, SA state
#   observe.sh   ping, tcpdump captures, xfrm dumps and kernel-state checks
#   bgp.sh       BIRD 2 over the VTIs: configs, sessions, routes, traceroute
# (bash process substitution `<(...)` does not work inside the UML: use `$(...)`.)
#
# Environment from interop/run (through the env file): LAB_OUT (results folder of this scenario,
# on the host), LAB_DIR (interop/), LAB_SCENARIO, ROLE_A/ROLE_B/ROLE_C (charon | minivpnd),
# MINIVPND and MINIVPNCTL (binaries), plus any scenario parameter (IKE, ESP, PSK_B, ...).
# shellcheck disable=SC2034 # LAB_* variables are shared between these files and the scenarios

LAB_RUN=/run/lab             # sockets and pid files (UML tmpfs)
LAB_PSK_DEFAULT="interop-lab-psk-0123456789"
LAB_WHY=""
LAB_LAST_STEP="start"
LAB_T0=""

# ---- logging and verdicts ------------------------------------------------------------------------

# Scenarios run with `set -o pipefail`: never end a pipeline in `grep -q` (it may exit before the
# writer is done, which then fails with SIGPIPE); grep a file or a here-string instead.

# step "text": one line in steps.log (and on the UML console) with the time since boot.
step() {
  LAB_LAST_STEP="$*"
  local now=${EPOCHREALTIME/./} line
  printf -v line '[%4d.%01ds] %s' $(((now - ${LAB_T0:-$now}) / 1000000)) \
    $(((now - ${LAB_T0:-$now}) / 100000 % 10)) "$*"
  echo "$line"
  echo "$line" >>"$LAB_OUT/steps.log"
}

# note "text": extra detail for steps.log only.
note() { printf '         %s\n' "$*" >>"$LAB_OUT/steps.log"; }

lab_begin() {
  LAB_T0=${EPOCHREALTIME/./}
  mkdir -p "$LAB_RUN"
  : >"$LAB_OUT/steps.log"
  step "scenario $LAB_SCENARIO (${LAB_VARIANT_DESC:-no parameters})"
}

# The verdict: the first line of $LAB_OUT/result, read by interop/run after the UML powered off.
lab_pass() {
  step "PASS"
  lab_cleanup
  echo "PASS" >"$LAB_OUT/result"
  exit 0
}

lab_fail() {
  trap - TERM
  step "FAIL: $*"
  echo "FAIL: $*" >"$LAB_OUT/result"
  lab_cleanup
  exit 1
}

# expect "what is checked" command args...: the scenario fails unless the command succeeds.
expect() {
  local what=$1
  shift
  LAB_WHY=""
  step "expect: $what"
  "$@" || lab_fail "$what: ${LAB_WHY:-'$*' failed}"
}

# expect_not "what is checked" command args...: the scenario fails if the command succeeds.
expect_not() {
  local what=$1
  shift
  LAB_WHY=""
  step "expect: $what"
  if "$@"; then lab_fail "$what: '$*' succeeded but must not"; fi
  note "as expected: ${LAB_WHY:-'$*' failed}"
}

# must command args...: a setup step that cannot legitimately fail (ip link add, ...).
must() {
  "$@" 2>"$LAB_RUN/must.err" && return 0
  lab_fail "setup step failed: $* -> $(tr '\n' ' ' <"$LAB_RUN/must.err")"
}

# on NS command args...: run a command inside a namespace (a router, a host or inet).
on() {
  local ns=$1
  shift
  ip netns exec "$ns" "$@"
}

# ---- polling -------------------------------------------------------------------------------------

# wait_until SECONDS command args...: polls every 0.2 s.
wait_until() {
  local t=$1 end
  shift
  end=$(($(date +%s%N) + t * 1000000000))
  while (($(date +%s%N) < end)); do
    "$@" >/dev/null 2>&1 && return 0
    sleep 0.2
  done
  "$@" >/dev/null 2>&1
}

# ---- end of scenario -----------------------------------------------------------------------------

# Stops captures and daemons and saves the final kernel state of every router.
lab_cleanup() {
  lab_capture_stop
  local x
  for x in a b c; do
    [[ -e /run/netns/$x ]] || continue
    lab_bird_stop "$x"
    {
      echo "# ip -s -d xfrm state"
      ip -n "$x" -s -d xfrm state
      echo "# ip -s -d xfrm policy"
      ip -n "$x" -s -d xfrm policy
    } >"$LAB_OUT/xfrm-$x-final.raw" 2>&1
    lab_stop "$x"
  done
  sync
}

# shellcheck source=topology.sh
source "$LAB_DIR/lib/topology.sh" || return 1
# shellcheck source=daemons.sh
source "$LAB_DIR/lib/daemons.sh" || return 1
# shellcheck source=observe.sh
source "$LAB_DIR/lib/observe.sh" || return 1
# shellcheck source=bgp.sh
source "$LAB_DIR/lib/bgp.sh" || return 1
