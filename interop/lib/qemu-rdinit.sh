#!/bin/sh
# /init of the lab's QEMU initramfs (busybox sh; interop/lib/qemu.sh packs it with busybox and the
# modules listed in /modules.load). First stage only: it loads the virtio/9p modules, mounts the
# host's / (9p, mount tag "hostroot") and switch_roots into the second stage named by init= on
# the kernel command line (interop/lib/qemu-init.sh, or qemu-bootcheck.sh for the boot probe).
#
# The kernel hands `KEY=value` boot arguments it does not know to this script as environment
# variables; switch_root execs the second stage with this environment, and the KEY=value words of
# /proc/cmdline are exported again below so that they reach it even if the shell dropped one.
# On any error it prints "lab-initramfs: ERROR: <why>" on the console (interop/run quotes that
# line in the scenario's FAIL) and powers the guest off.
PATH=/bin
export PATH

mount -t devtmpfs devtmpfs /dev 2>/dev/null
# The cpio has no /dev/console node (it is built without privileges): reopen the console now.
exec </dev/console >/dev/console 2>&1

die() {
  echo "lab-initramfs: ERROR: $*"
  poweroff -f
  sleep 10
}

mount -t proc proc /proc || die "cannot mount /proc"
kver=$(uname -r)
while read -r ko; do
  [ -n "$ko" ] || continue
  insmod "/lib/modules/$kver/$ko" || die "insmod $ko failed (kernel $kver)"
done </modules.load

next=""
set -f
# shellcheck disable=SC2013 # words, not lines
for word in $(cat /proc/cmdline); do
  case $word in
    init=*) next=${word#init=} ;;
    [A-Z]*=*)
      key=${word%%=*}
      case $key in *[!A-Z0-9_]*) continue ;; esac
      export "${word?}"
      ;;
  esac
done
set +f
[ -n "$next" ] || die "no init=<second stage> on the kernel command line"

mkdir -p /newroot
# msize: 512 KiB per 9p message (the default 8 KiB makes every file read slow under TCG).
mount -t 9p -o trans=virtio,version=9p2000.L,msize=524288,cache="${LAB_9P_CACHE:-loose}" \
  hostroot /newroot || die "cannot mount the host's / over 9p (tag hostroot)"
[ -x "/newroot$next" ] || die "second stage $next not found or not executable on the 9p root"
mount --move /dev /newroot/dev || die "cannot move /dev into the 9p root"
umount /proc
exec switch_root /newroot "$next"
