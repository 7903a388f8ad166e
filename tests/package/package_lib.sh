# shellcheck shell=bash
# What the package tests (deb_install_test.sh, systemd_boot_test.sh) share: their output lines,
# the mirror check, the cached Debian 12 roots made by mmdebstrap, and running a command inside
# such a root. Sourced; the sourcing script sets `work` (its work dir) first.
#
#   say TEXT / ok TEXT / fail TEXT / die TEXT   a timed step, a passed check, a failed check
#                                               (counted in $failures), a fatal stop (exit 1)
#   indent                                      quotes a command's output under a check
#   package_need_mirror                         dies unless Debian's mirror answers
#   package_cached_root NAME PACKAGES           the tarball $work/NAME.tar of a Debian 12 root
#                                               (mmdebstrap --variant=apt --include=PACKAGES, a
#                                               comma-separated list); made when missing or older
#                                               than 30 days; prints its path
#   package_unpack_root TARBALL DIR             a fresh copy of the root in DIR
#   in_root DIR COMMAND...                      COMMAND in the root DIR (see below)
#
# MINIVPN_DEBIAN_MIRROR (default http://deb.debian.org/debian) and MINIVPN_DEBIAN_SECURITY name
# the mirrors.

mirror=${MINIVPN_DEBIAN_MIRROR:-http://deb.debian.org/debian}
security=${MINIVPN_DEBIAN_SECURITY:-http://deb.debian.org/debian-security}
t0=$(date +%s%N)
failures=0

say() {
  local tenths=$((($(date +%s%N) - t0) / 100000000))
  printf '[%5d.%ds] %s\n' $((tenths / 10)) $((tenths % 10)) "$*"
}
ok() { echo "         ok   $*"; }
fail() { echo "         FAIL $*"; failures=$((failures + 1)); }
die() { say "FAIL: $*"; exit 1; }
indent() { sed 's/^/           /'; }

# Network first: without the mirror neither a root nor apt's dependency resolution can work.
package_need_mirror() {
  local host port
  host=$(sed -E 's|^[a-z]+://([^/:]+).*|\1|' <<<"$mirror")
  port=$(sed -nE 's|^[a-z]+://[^/:]+:([0-9]+).*|\1|p' <<<"$mirror")
  [[ $mirror == https://* ]] && port=${port:-443}
  port=${port:-80}
  timeout 15 bash -c "exec 3<>/dev/tcp/$host/$port" 2>/dev/null && return 0
  die "no network: cannot reach $mirror ($host port $port). This test needs Debian's mirror" \
    "to make a Debian 12 root; set MINIVPN_DEBIAN_MIRROR to a reachable mirror"
}

package_cached_root() {
  local name=$1 packages=$2 cache=${work:?}/$1.tar
  if [[ -f $cache ]] && [[ -n $(find "$cache" -mtime +30) ]]; then
    say "the cached root $name is older than 30 days: making it again" >&2
    rm -f "$cache"
  fi
  if [[ ! -f $cache ]]; then
    package_need_mirror
    say "make the cached Debian 12 root: mmdebstrap --variant=apt --include=$packages bookworm" >&2
    # A mirror has bad moments (a CI run failed on one "apt download failed" that the next
    # minute did not repeat): three tries, 20 s apart, each failure shown.
    local try
    for try in 1 2 3; do
      if mmdebstrap --quiet --format=tar --variant=apt --include="$packages" bookworm \
          "$cache.part" "deb $mirror bookworm main" "deb $mirror bookworm-updates main" \
          "deb $security bookworm-security main" >"$work/mmdebstrap-$name.log" 2>&1; then
        mv "$cache.part" "$cache"
        break
      fi
      tail -n 20 "$work/mmdebstrap-$name.log" | indent >&2
      rm -f "$cache.part"
      ((try == 3)) && die "mmdebstrap failed 3 times (log: $work/mmdebstrap-$name.log)"
      say "mmdebstrap failed (try $try of 3); again in 20 s" >&2
      sleep 20
    done
  fi
  echo "$cache"
}

package_unpack_root() {
  local cache=$1 root=$2
  if findmnt -rn -o TARGET | grep -q "^$root"; then die "something is mounted under $root"; fi
  rm -rf --one-file-system "$root"
  mkdir -p "$root"
  say "unpack the root ($(du -h "$cache" | cut -f1 | tail -n 1)) into $root"
  tar -C "$root" -xf "$cache" || die "cannot unpack $cache"
}

# Runs a command in the root, in /tmp there: in private mount and PID namespaces with /proc,
# /sys and /dev mounted, which end with the command (nothing stays mounted or running). bash
# stays PID 1 of the namespace (no exec): systemd tools running as PID 1 log to the kernel, not
# to stderr.
in_root() {
  local root=$1
  shift
  unshare --mount --propagation private --pid --fork -- bash -c '
    r=$1; shift
    mount -t proc proc "$r/proc" && mount -t sysfs -o ro sysfs "$r/sys" &&
      mount --rbind /dev "$r/dev" || exit 125
    chroot "$r" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root \
      LC_ALL=C.UTF-8 DEBIAN_FRONTEND=noninteractive TERM=dumb \
      /bin/sh -c '"'"'cd /tmp && exec "$@"'"'"' sh "$@"' bash "$root" "$@"
}
