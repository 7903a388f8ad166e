#!/usr/bin/env bash
# Installs every Debian 12 package minivpn's build, tests, fuzzers and lab need.
# Idempotent: packages already present are not touched; apt runs only when something is missing.
set -euo pipefail

packages=(
  # build
  build-essential cmake pkg-config ninja-build python3
  libssl-dev libmnl-dev libboost-dev libboost-system-dev libfmt-dev
  libgtest-dev libgmock-dev libcli11-dev nlohmann-json3-dev libsystemd-dev
  # fuzzing (libFuzzer, sanitizers)
  clang-16 libclang-rt-16-dev
  # the user-mode-Linux lab
  user-mode-linux kmod iproute2 iputils-ping procps psmisc
  charon-systemd strongswan-swanctl libcharon-extra-plugins libstrongswan-standard-plugins
  tcpdump tshark nftables bird2 traceroute
  # the lab's NAT (interop/scenarios/nat.sh): iptables-legacy and conntrack(8) inside the guests
  # (Debian's UML kernel has iptable_nat and conntrack but no nftables ip family)
  iptables conntrack
  stress-ng   # interop/README: the lab under load
  # the QEMU lab backend: Debian's stock kernel under QEMU, an initramfs of busybox + 9p modules
  # (cpio packs it, xz-utils unpacks the kernel for a direct PVH boot)
  qemu-system-x86 linux-image-amd64 busybox-static cpio xz-utils
  # the Debian package (scripts/build-deb.sh) and its test (tests/package/: lintian, a fresh
  # Debian 12 root made by mmdebstrap); man-db renders the man pages (tests/docs/)
  debhelper dpkg-dev lintian mmdebstrap man-db groff-base
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done

if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  # tshark asks whether non-root users may capture; answer no without a prompt.
  echo "wireshark-common wireshark-common/install-setuid boolean false" | debconf-set-selections
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
# charon-systemd's package starts a system charon on hosts with systemd; the lab runs its own.
if command -v systemctl >/dev/null && systemctl is-active --quiet strongswan 2>/dev/null; then
  systemctl stop strongswan || true
fi
echo "setup: all packages present"
