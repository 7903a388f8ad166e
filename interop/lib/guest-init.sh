# guest-init.sh: what the two lab guests' PID 1 share, sourced by lib/uml-init.sh (user-mode
# Linux) and lib/qemu-init.sh (QEMU, Debian's stock kernel). The calling script does its backend's
# own preparation between these steps:
#
#   guest_begin NAME    environment, LAB_ENV, /proc, /sys, /run; writes $LAB_OUT/boot
#   guest_load_modules MODPROBE-COMMAND...
#                       every module the lab needs (plus LAB_EXTRA_MODULES), each a FAIL if missing
#   guest_run_scenario  runs lib/scenario-main.sh, makes sure a result exists, powers off
#
# The root file system is the host's (hostfs in UML, 9p in QEMU), so the checkout is visible (and
# writable!) here wherever it is, /tmp included (a CI clone may live there); /run is a private
# tmpfs of the guest (sockets, netns). These scripts never decide PASS: the scenario writes
# <results>/<scenario>/result; when that file is missing after the guest exits, interop/run
# reports a FAIL.
# shellcheck shell=bash

export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export HOME=/root LANG=C.UTF-8

GUEST_NAME=guest-init

# Everything the scenarios may need. A missing module is a FAIL, never a skip.
GUEST_MODULES=(
  veth sch_netem                                              # topology, delay/loss/reorder
  sch_ingress cls_flower act_gact                             # drop rules (tc; see lab_drop)
  xfrm_user esp4 ip_vti                                       # xfrm netlink, ESP, VTI
  gcm ghash_generic seqiv ctr                                 # AES-GCM
  authenc cbc hmac sha512_generic echainiv                    # AES-CBC + HMAC-SHA2
  chacha20poly1305 chacha_generic poly1305_generic            # ChaCha20-Poly1305
)

# boot_fail "why": the scenario's verdict is this FAIL; the guest powers off.
boot_fail() {
  echo "FAIL: $*" >"$LAB_OUT/result"
  echo "$GUEST_NAME: FAIL: $*"
  sync
  poweroff -f
}

guest_begin() {
  GUEST_NAME=$1
  # shellcheck source=/dev/null
  source "${LAB_ENV:?LAB_ENV not passed on the kernel command line}"
  : "${LAB_OUT:?}" "${LAB_DIR:?}" "${LAB_SCENARIO:?}" "${LAB_SCRIPT:?}"
  mount -t proc proc /proc
  mount -t sysfs sysfs /sys
  mount -t tmpfs -o mode=755 tmpfs /run
  mkdir -p /run/netns /run/lab /run/lock
  echo "booted $(uname -r) at $(date -u +%T), $(cut -d ' ' -f 1 /proc/uptime) s since boot" >"$LAB_OUT/boot" ||
    boot_fail "cannot write $LAB_OUT"
}

# guest_missing_module NAME: the FAIL text for a module this kernel does not have. The backend's
# init may define its own (uml-init.sh names the backend that has it).
guest_missing_module() { echo "kernel module $1 missing: kernel $(uname -r) has no such module"; }

# guest_load_modules MODPROBE-COMMAND...: loads GUEST_MODULES and LAB_EXTRA_MODULES (a scenario
# parameter, "mod1,mod2": a scenarios.list value holds no space; "mod1 mod2" works too) with
# that command (plain `modprobe`, or `modprobe -d DIR`), except those
# named in LAB_SKIP_MODULES ("esp4": a guest that lacks a module until the scenario loads it). A
# module that does not exist and one that exists but does not load are told apart in the FAIL.
guest_load_modules() {
  local m err
  local -a all=()
  for m in "${GUEST_MODULES[@]}"; do
    [[ " ${LAB_SKIP_MODULES:-} " == *" $m "* ]] || all+=("$m")
  done
  # shellcheck disable=SC2206
  all+=(${LAB_EXTRA_MODULES//,/ })
  [[ -n ${LAB_SKIP_MODULES:-} ]] && echo "modules left out (LAB_SKIP_MODULES): $LAB_SKIP_MODULES" >>"$LAB_OUT/boot"
  # One modprobe for all (each process start is slow in a guest); one by one only to find the
  # culprit when that fails.
  if err=$("$@" -a "${all[@]}" 2>&1); then
    all=()
  elif [[ -n $err ]]; then
    echo "$err" >>"$LAB_OUT/boot"
  fi
  for m in "${all[@]}"; do
    err=$("$@" "$m" 2>&1) && continue
    [[ -n $err ]] && echo "$err" >>"$LAB_OUT/boot"
    if ! "$@" -n -q "$m" 2>/dev/null; then
      boot_fail "$(guest_missing_module "$m")"
    fi
    boot_fail "kernel module $m failed to load: $(tail -n 1 <<<"${err:-modprobe $m failed}")"
  done
  echo "modules loaded at $(cut -d ' ' -f 1 /proc/uptime) s since boot" >>"$LAB_OUT/boot"
  lsmod >>"$LAB_OUT/boot"
}

guest_run_scenario() {
  local rc last
  # A fresh bash sources lab.sh and the scenario; an inner timeout leaves time to write a result.
  timeout -k 5 "${LAB_INNER_TIMEOUT:-100}" bash "$LAB_DIR/lib/scenario-main.sh"
  rc=$?
  if [[ ! -s $LAB_OUT/result ]]; then
    last=$(tail -n 1 "$LAB_OUT/steps.log" 2>/dev/null)
    if ((rc == 124 || rc == 137)); then
      echo "FAIL: timed out after ${LAB_INNER_TIMEOUT:-100} s (last step: ${last:-none})" >"$LAB_OUT/result"
    else
      echo "FAIL: scenario ended (status $rc) without a verdict (last step: ${last:-none})" >"$LAB_OUT/result"
    fi
  fi
  sync
  poweroff -f
}
