#!/bin/sh
# PID 1 of the user-mode-Linux kernel lab (the recipe in docs/lab.md). The host's / is the root
# (hostfs); /run is this kernel's own tmpfs (sockets, netns). /tmp stays the host's, so that a
# checkout or build under /tmp (a CI clone, say) and the results folder are visible in here.
# Parameters arrive as environment variables from the kernel command line (MVLAB_*), see run.sh.
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t tmpfs tmpfs /run
mkdir -p /run/netns
# Modules come from the UML package; /lib/modules may not exist on the host, and hostfs is the
# host's disk, so the module tree is linked from a tmpfs and modprobe is pointed at it (also for
# the crypto templates the kernel loads on demand).
kver=$(uname -r)
mkdir -p /run/mods/lib/modules
ln -s /usr/lib/uml/modules/$kver /run/mods/lib/modules/$kver
printf '#!/bin/sh\nexec /usr/sbin/modprobe -d /run/mods "$@"\n' > /run/modprobe.sh
chmod +x /run/modprobe.sh
echo /run/modprobe.sh > /proc/sys/kernel/modprobe
for m in veth esp4 esp6 ip_vti ip6_vti xfrm_user gcm authenc chacha20poly1305 aes_generic ghash-generic \
         cbc hmac sha1_generic sha256_generic sha512_generic seqiv echainiv; do
  /run/modprobe.sh $m || echo "uml_init: modprobe $m failed"
done
export PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/tmp
/bin/bash "$MVLAB_DIR/lab.sh"
echo "uml_init: lab.sh exited $?"
sync
poweroff -f
