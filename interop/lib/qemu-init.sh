#!/bin/bash
# PID 1 of one QEMU guest (Debian's stock kernel, interop/lib/qemu.sh), second stage: the
# initramfs (lib/qemu-rdinit.sh) mounted the host's / over 9p, moved its devtmpfs to /dev and
# switch_rooted here, carrying the kernel's `KEY=value` boot arguments (LAB_ENV=...) as
# environment variables. What both lab guests do alike is in guest-init.sh; this file adds what
# is QEMU's own: /dev/pts and /dev/shm, and modules straight from /lib/modules/<version>, which is
# the very kernel booted here.
#
# This script never decides PASS: the scenario writes <results>/<scenario>/result. If that file
# is missing when QEMU exits, interop/run reports a FAIL.

# shellcheck source=SCRIPTDIR/guest-init.sh
source "$(dirname "${BASH_SOURCE[0]}")/guest-init.sh" || {
  echo "qemu-init: cannot load guest-init.sh"
  poweroff -f
}
guest_begin qemu-init

mkdir -p /dev/pts /dev/shm
mount -t devpts -o gid=5,mode=620 devpts /dev/pts
mount -t tmpfs -o mode=1777 tmpfs /dev/shm

# --- kernel modules ------------------------------------------------------------------------------
kver=$(uname -r)
[[ -f /lib/modules/$kver/modules.dep ]] ||
  boot_fail "no /lib/modules/$kver on the host for the booted kernel (reinstall linux-image-amd64)"
guest_load_modules modprobe

# --- the scenario --------------------------------------------------------------------------------
guest_run_scenario
