#!/bin/bash
# PID 1 of one user-mode-Linux (UML) instance: prepares the kernel, runs one scenario, powers off.
#
# interop/run boots `linux.uml ... init=<this file> LAB_ENV=<results>/<scenario>/env`; the kernel
# hands unknown `key=value` boot arguments to init as environment variables. The root file system
# is the host's, through hostfs, so the checkout is visible (and writable!) here wherever it is,
# /tmp included (a CI clone may live there); /run is a private tmpfs of this UML (sockets, netns).
#
# This script never decides PASS: the scenario writes <results>/<scenario>/result. If that file
# is missing when linux.uml exits, interop/run reports a FAIL.
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export HOME=/root LANG=C.UTF-8

# shellcheck source=/dev/null
source "${LAB_ENV:?LAB_ENV not passed on the kernel command line}"
: "${LAB_OUT:?}" "${LAB_DIR:?}" "${LAB_SCENARIO:?}" "${LAB_SCRIPT:?}"

boot_fail() {
  echo "FAIL: $*" >"$LAB_OUT/result"
  echo "uml-init: FAIL: $*"
  sync
  poweroff -f
}

# --- file systems --------------------------------------------------------------------------------
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t tmpfs -o mode=755 tmpfs /run
mkdir -p /run/netns /run/lab /run/lock
echo "booted $(uname -r) at $(date -u +%T)" >"$LAB_OUT/boot" || boot_fail "cannot write $LAB_OUT"

# --- kernel modules ------------------------------------------------------------------------------
# Debian's UML modules live in /usr/lib/uml/modules/<version>; the host has no /lib/modules to
# mount over, so point modprobe at a private tree (-d) and make the kernel's own on-demand loads
# (crypto templates such as "rfc4106(gcm(aes))") use the same tree.
kver=$(uname -r)
mkdir -p /run/modroot/lib/modules
ln -s "/usr/lib/uml/modules/$kver" "/run/modroot/lib/modules/$kver"
[[ -d /usr/lib/uml/modules/$kver/kernel ]] || boot_fail "no UML modules for kernel $kver"
printf '#!/bin/sh\nexec /usr/sbin/modprobe -d /run/modroot "$@"\n' >/run/modprobe
chmod +x /run/modprobe
echo /run/modprobe >/proc/sys/kernel/modprobe

# Everything the scenarios may need. A missing module is a FAIL, never a skip.
modules=(
  veth sch_netem                                              # topology, delay/loss/reorder
  sch_ingress cls_flower act_gact                             # drop rules (tc; see lab_drop)
  xfrm_user esp4 ip_vti                                       # xfrm netlink, ESP, VTI
  gcm ghash_generic seqiv ctr                                 # AES-GCM
  authenc cbc hmac sha512_generic echainiv                    # AES-CBC + HMAC-SHA2
  chacha20poly1305 chacha_generic poly1305_generic            # ChaCha20-Poly1305
)
# A scenario may ask for more with LAB_EXTRA_MODULES="mod1 mod2".
# shellcheck disable=SC2206
modules+=(${LAB_EXTRA_MODULES:-})
for m in "${modules[@]}"; do
  modprobe -d /run/modroot "$m" 2>>"$LAB_OUT/boot" || boot_fail "kernel module $m missing or failed to load"
done
lsmod >>"$LAB_OUT/boot"

# --- the scenario --------------------------------------------------------------------------------
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
