#!/usr/bin/env bash
# The packaged service under a real systemd (issue 19): a Debian 12 root with the minivpn package
# installed (dpkg -i of the .deb that deb_install_test.sh built) and charon, booted in QEMU with
# Debian's stock kernel (interop/lib/qemu.sh; the root is the guest's / over 9p) and systemd as
# PID 1. Inside, systemd_guest_scenario.sh (run by minivpn-lab.service after multi-user.target)
# starts minivpnd.service with the seed's ipsec.conf against charon-systemd in a network
# namespace, checks the tunnel and ping, a `systemctl reload` refused for a broken ipsec.conf
# that keeps the tunnel, `kill -9` of minivpnd answered by systemd's restart with exactly one
# CHILD_SA pair afterwards, `journalctl IKE_SA_NAME=A-B` holding the lines of both processes,
# and charon-systemd's unit pattern (minivpnd started without connections, `swanctl --load-all`
# as ExecStartPost loading them over vici).
#
#   systemd_boot_test.sh <source tree> <work dir> [--deb FILE]
#
# Without --deb it tests <work dir>/deb/minivpn_<version>_amd64.deb (deb_install_test.sh's
# output; ctest runs that test first). The root comes from a cached tarball in the work dir
# (made once by mmdebstrap with systemd, iproute2, charon-systemd, strongswan-swanctl and the
# package's dependencies, so later runs need no network) and is unpacked afresh into
# systemd-root/ (removed after a pass, kept after a failure with the guest's results in
# systemd-root/lab-results/). The kernel's modules for the guest are copied into the root
# (only those the scenario needs, with depmod). Needs root, qemu-system-x86_64 and the kernel
# that scripts/setup.sh installs. Exit 0 pass, 1 fail, 77 skipped (not root).
set -uo pipefail
usage="usage: systemd_boot_test.sh <source tree> <work dir> [--deb FILE]"
src=$(realpath "${1:?$usage}")
work=$(realpath -m "${2:?$usage}")
# shellcheck source=SCRIPTDIR/package_lib.sh
source "$src/tests/package/package_lib.sh"
# shellcheck source=SCRIPTDIR/../../interop/lib/qemu.sh
source "$src/interop/lib/qemu.sh"

[[ $(id -u) == 0 ]] || { echo "SKIP: needs root (chroot, QEMU sharing a root-owned tree)"; exit 77; }
if [[ ${3:-} == --deb ]]; then
  deb=$(realpath "${4:?$usage}")
else
  deb=$(compgen -G "$work/deb/minivpn_*_amd64.deb" | head -n 1)
  [[ -n $deb ]] || die "no $work/deb/minivpn_*_amd64.deb: run deb_install_test.sh (package.deb) first"
fi
[[ -f $deb ]] || die "no package $deb"
for tool in mmdebstrap unshare chroot depmod; do
  command -v "$tool" >/dev/null || die "$tool is missing: run scripts/setup.sh"
done

# The modules the scenario needs (minivpnd's unit cannot load any: /etc/modules-load.d does).
modules=(veth dummy xfrm_user esp4 ip_vti aes_generic gcm ghash_generic seqiv ctr drbg)

# 1. The kernel and the initramfs, the same as the lab's QEMU backend.
say "set up QEMU (interop/lib/qemu.sh)"
qemu_setup "$work/qemu" || die "the QEMU backend does not boot: $QEMU_PROBLEM"
ok "QEMU: $QEMU_MODE"

# 2. The root: cached tarball with what the package depends on, unpacked afresh.
depends=$(dpkg-deb -f "$deb" Depends | tr ',' '\n' | sed -E 's/\|.*//; s/\(.*\)//; s/ //g' |
  grep -v '^$' | sort -u | tr '\n' ',')
packages="systemd,kmod,iproute2,iputils-ping,procps,charon-systemd,strongswan-swanctl"
packages+=",libstrongswan-standard-plugins,${depends%,}"
cache=$(package_cached_root "bookworm-systemd-$(md5sum <<<"$packages" | cut -c1-8)" "$packages") ||
  exit 1
root=$work/systemd-root
package_unpack_root "$cache" "$root"
cp "$deb" "$root/tmp/"
say "dpkg -i $(basename "$deb")"
in_root "$root" dpkg -i "/tmp/$(basename "$deb")" >"$work/dpkg.log" 2>&1 ||
  { indent <"$work/dpkg.log"; die "dpkg -i failed"; }

say "configure the root"
etc=$root/etc
# Router a: the seed's files, as a charon user has them. Debian's template swanctl.conf (no
# connections) stays, so the unit's plain `minivpnd` has to choose ipsec.conf by itself.
install -m 600 "$src/tests/cli/data/seed/ipsec.conf" "$src/tests/cli/data/seed/ipsec.secrets" "$etc/"
install -m 644 "$src/tests/cli/data/seed/strongswan.conf" "$etc/"
[[ -f $etc/swanctl/swanctl.conf ]] || die "the root has no Debian template /etc/swanctl/swanctl.conf"
# Router b: charon-systemd with its own strongswan.conf and swanctl.conf, its vici socket in
# /run/lab-b, logging to a file (not the journal, where IKE_SA_NAME=A-B would mix the daemons).
mkdir -p "$etc/lab-b"
cat >"$etc/lab-b/strongswan.conf" <<'EOF'
charon-systemd {
  load = random nonce openssl aes sha1 sha2 hmac gcm gmp kdf kernel-netlink socket-default vici
  install_routes = no
  journal {
    default = -1
  }
  filelog {
    b {
      path = /var/log/charon-b.log
      time_format = %T
      ike_name = yes
      default = 1
      ike = 2
      knl = 2
    }
  }
  plugins {
    vici {
      socket = unix:///run/lab-b/charon.vici
    }
  }
}
swanctl {
  load = random nonce openssl pem pkcs1 x509 pubkey
}
EOF
install -m 600 "$src/tests/cli/data/seed/router-b.swanctl.conf" "$etc/lab-b/swanctl.conf"
# Router a's connection in swanctl.conf form, for the scenario's charon-systemd pattern (loaded
# over vici by `swanctl --load-all` in the unit's ExecStartPost).
mkdir -p "$etc/minivpn-lab"
install -m 600 "$src/tests/cli/data/seed/router-a.swanctl.conf" "$etc/minivpn-lab/swanctl.conf"
cat >"$etc/systemd/system/charon-b.service" <<'EOF'
[Unit]
Description=charon on the lab's router b (network namespace b)
[Service]
Type=notify
NetworkNamespacePath=/run/netns/b
Environment=STRONGSWAN_CONF=/etc/lab-b/strongswan.conf
RuntimeDirectory=lab-b
ExecStart=/usr/sbin/charon-systemd
ExecStartPost=/usr/sbin/swanctl --load-all --noprompt --file /etc/lab-b/swanctl.conf --uri unix:///run/lab-b/charon.vici
EOF
install -m 755 "$src/tests/package/systemd_guest_scenario.sh" "$root/usr/local/sbin/minivpn-lab-scenario"
cat >"$etc/systemd/system/minivpn-lab.service" <<'EOF'
[Unit]
Description=minivpn's systemd test scenario (tests/package/systemd_guest_scenario.sh)
After=multi-user.target
[Service]
Type=exec
ExecStart=/usr/local/sbin/minivpn-lab-scenario
StandardOutput=journal+console
StandardError=journal+console
[Install]
WantedBy=multi-user.target
EOF
in_root "$root" systemctl enable minivpn-lab.service >>"$work/dpkg.log" 2>&1 ||
  die "systemctl enable minivpn-lab.service failed in the root"
# The switch from charon: its own service stays off (minivpnd's unit conflicts with it anyway).
in_root "$root" systemctl disable strongswan.service >>"$work/dpkg.log" 2>&1
# No login prompt on the console; a machine id so that the journal has a boot.
ln -sf /dev/null "$etc/systemd/system/getty.target"
ln -sf /dev/null "$etc/systemd/system/serial-getty@ttyS0.service"
in_root "$root" systemd-machine-id-setup >>"$work/dpkg.log" 2>&1 || die "systemd-machine-id-setup failed"
echo router-a >"$etc/hostname"
printf '%s\n' "${modules[@]}" >"$etc/modules-load.d/minivpn-lab.conf"
mkdir -p "$root/lab-results"

# The booted kernel's modules: the scenario's and their dependencies, then depmod.
kmods=$root/lib/modules/$QEMU_KVER
mkdir -p "$kmods"
list=$(qemu_module_closure "$QEMU_KVER" "${modules[@]}")
grep -q '^MISSING' <<<"$list" && die "kernel $QEMU_KVER lacks $(sed -n 's/^MISSING //p' <<<"$list")"
while read -r ko; do
  [[ -z $ko ]] || install -D -m 644 "/lib/modules/$QEMU_KVER/$ko" "$kmods/$ko" || die "cannot copy $ko"
done <<<"$list"
cp /lib/modules/"$QEMU_KVER"/modules.{builtin,builtin.modinfo,order} "$kmods/" 2>/dev/null
depmod -b "$root" "$QEMU_KVER" || die "depmod -b $root $QEMU_KVER failed"

# 3. Boot: systemd as PID 1 on the 9p root; the scenario powers the guest off.
say "boot the root in QEMU ($QEMU_ACCEL) with systemd as PID 1 and run the scenario"
console=$work/systemd-console.log
QEMU_SHARE_DIR=$root qemu_boot "minivpn-systemd-$$" 300 "$console" \
  init=/lib/systemd/systemd systemd.firstboot=off systemd.show_status=error
rc=$?
results=$root/lab-results
if [[ -s $results/steps.log ]]; then
  indent <"$results/steps.log"
else
  tail -n 40 "$console" | indent
fi
verdict=$(cat "$results/result" 2>/dev/null)
if [[ $verdict == PASS ]]; then
  rm -rf --one-file-system "$root"
  say "PASS (guest status $rc)"
  exit 0
fi
say "FAIL: ${verdict:-no verdict from the guest (QEMU status $rc; console: $console)}"
say "the root and the guest's results are kept: $results"
exit 1
