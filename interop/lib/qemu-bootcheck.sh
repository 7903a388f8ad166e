#!/bin/sh
# Second stage of the bare QEMU guest that interop/lib/qemu.sh boots to learn whether (and with
# which accelerator) the stock kernel starts here: if this runs, the kernel booted, the initramfs
# mounted the host's / over 9p and switch_root worked; the marker file proves writes reach the host.
PATH=/usr/sbin:/usr/bin:/sbin:/bin
export PATH
mount -t proc proc /proc
echo "booted $(uname -r) in $(cut -d ' ' -f 1 /proc/uptime) s" >"$BOOTCHECK_MARK"
sync
poweroff -f
