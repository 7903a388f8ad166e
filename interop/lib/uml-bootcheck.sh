#!/bin/sh
# PID 1 of the bare UML that interop/lib/uml.sh boots to learn whether linux.uml starts on this
# host: if this line runs, the kernel booted and ran a user process.
mount -t proc proc /proc
echo "booted $(uname -r)" >"$BOOTCHECK_MARK"
sync
poweroff -f
