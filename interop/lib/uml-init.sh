#!/bin/bash
# PID 1 of one user-mode-Linux (UML) instance: prepares the kernel, runs one scenario, powers off.
#
# interop/run boots `linux.uml ... init=<this file> LAB_ENV=<results>/<scenario>/env`; the kernel
# hands unknown `key=value` boot arguments to init as environment variables. The root file system
# is the host's, through hostfs. What both lab guests do alike (environment, mounts, the module
# list, running the scenario, the FAIL when it wrote no result) is in guest-init.sh; this file
# adds what is UML's own: Debian's UML modules live outside /lib/modules.
#
# This script never decides PASS: the scenario writes <results>/<scenario>/result. If that file
# is missing when linux.uml exits, interop/run reports a FAIL.

# shellcheck source=SCRIPTDIR/guest-init.sh
source "$(dirname "${BASH_SOURCE[0]}")/guest-init.sh" || {
  echo "uml-init: cannot load guest-init.sh"
  poweroff -f
}
guest_begin uml-init

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

# A module Debian's UML kernel lacks but the stock kernel of the QEMU backend has (e.g.
# xfrm_interface) means the scenario belongs on that backend.
guest_missing_module() {
  if grep -qsE "(^|/)$1\.ko(\.[a-z]+)?:" /lib/modules/*/modules.dep; then
    echo "needs the qemu backend: Debian's UML kernel has no $1 module"
  else
    echo "kernel module $1 missing: Debian's UML kernel $kver has no such module (nor has any kernel in /lib/modules)"
  fi
}
guest_load_modules modprobe -d /run/modroot

# --- the scenario --------------------------------------------------------------------------------
guest_run_scenario
