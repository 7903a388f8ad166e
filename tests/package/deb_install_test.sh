#!/usr/bin/env bash
# The Debian package, end to end (issue 19): builds minivpn_<version>_amd64.deb with
# scripts/build-deb.sh (from a clean copy of the source tree: release binaries, nothing reused
# from another build), runs lintian on it (no errors allowed), installs it with
# `apt install ./minivpn_<version>_amd64.deb` into a fresh Debian 12 root (so that apt resolves
# its dependencies from Debian's mirror) and checks there:
#   - minivpnd and minivpnctl run (--version, --help; --check-config of the packaged example;
#     minivpnctl without a daemon says so);
#   - the unit is in place, `systemd-analyze verify` accepts it, it is not enabled and the
#     postinst's way of starting it leaves it alone (debian/README.Debian);
#   - `man` finds minivpnd(8), minivpnctl(8) and minivpn.conf(5) and renders them without a
#     warning;
#   - the documents and examples are in /usr/share/doc/minivpn;
#   - `dpkg -L minivpn` lists exactly the files of tests/package/minivpn.files;
#   - `apt purge` removes it again.
#
#   deb_install_test.sh <source tree> <work dir> [--deb FILE]
#
# --deb tests FILE (and lintian's view of FILE's .changes beside it, if there is one) instead of
# building the package.
#
# The work dir keeps the .deb (deb/) and a tarball of the minimal Debian 12 root
# (bookworm-root.tar: mmdebstrap --variant=apt plus systemd and man-db to check with; made on the
# first run, remade when older than 30 days or deleted), which every run unpacks afresh into
# root/ (removed after a pass, kept after a failure). Needs root and Debian's mirror
# (MINIVPN_DEBIAN_MIRROR, default http://deb.debian.org/debian; MINIVPN_DEBIAN_SECURITY for the
# security suite). Exit 0 pass, 1 fail, 77 skipped (not root).
set -uo pipefail
usage="usage: deb_install_test.sh <source tree> <work dir> [--deb FILE]"
src=$(realpath "${1:?$usage}")
work=$(realpath -m "${2:?$usage}")
prebuilt=
if [[ ${3:-} == --deb ]]; then prebuilt=$(realpath "${4:?$usage}"); fi
# shellcheck source=SCRIPTDIR/package_lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/package_lib.sh"

[[ $(id -u) == 0 ]] || { echo "SKIP: needs root (chroot, mounts)"; exit 77; }
for tool in mmdebstrap lintian dpkg-buildpackage dh unshare chroot; do
  command -v "$tool" >/dev/null || die "$tool is missing: run scripts/setup.sh"
done
mkdir -p "$work"

package_need_mirror

# 1. The package, by the one command.
if [[ -n $prebuilt ]]; then
  say "test $prebuilt (--deb: not built here)"
  deb=$prebuilt
else
  say "build the package: scripts/build-deb.sh $work/deb"
  build_out=$("$src/scripts/build-deb.sh" "$work/deb" 2>&1) ||
    { echo "$build_out" | indent; die "build-deb.sh failed"; }
  echo "$build_out" | indent
  deb=$(tail -n 1 <<<"$build_out")
fi
[[ -f $deb ]] || die "no package $deb"
debname=$(basename "$deb")
version=$(dpkg-deb -f "$deb" Version)

# 2. lintian: errors fail the test; warnings and notes are shown.
lint=${deb%.deb}.changes
[[ -f $lint ]] || lint=$deb
say "lintian $(basename "$lint")"
lintian_out=$(lintian --info --display-info "$lint" 2>&1)
lintian_rc=$?
grep -E '^[EWIPXO]:' <<<"$lintian_out" | indent
if grep -q '^E:' <<<"$lintian_out" || ((lintian_rc > 1)); then
  fail "lintian reports errors (exit $lintian_rc)"
else
  ok "lintian: no errors ($(grep -c '^W:' <<<"$lintian_out") warnings, $(grep -c '^I:' <<<"$lintian_out") notes)"
fi

# 3. A fresh Debian 12 root from the cached tarball.
cache=$(package_cached_root bookworm-root systemd,man-db) || exit 1
root=$work/root
package_unpack_root "$cache" "$root"
cp -L /etc/resolv.conf "$root/etc/resolv.conf"
cp "$deb" "$root/tmp/"

# Checks one command's output: check <description> <expected exit> <pattern or ""> <command...>
check() {
  local what=$1 want=$2 pattern=$3 out rc
  shift 3
  out=$(in_root "$root" "$@" 2>&1)
  rc=$?
  if [[ $rc != "$want" ]]; then
    fail "$what: exit $rc, expected $want"; echo "$out" | head -n 20 | indent
  elif [[ -n $pattern ]] && ! grep -qE -- "$pattern" <<<"$out"; then
    fail "$what: no '$pattern' in:"; echo "$out" | head -n 20 | indent
  else
    ok "$what${pattern:+: $(grep -m1 -E -- "$pattern" <<<"$out" | sed 's/^ *//' | cut -c1-90)}"
  fi
}

# 4. Install with apt, as the README says.
say "apt install ./$debname in the root"
in_root "$root" apt-get update -qq >"$work/apt.log" 2>&1 || {
  tail -n 20 "$work/apt.log" | indent
  die "apt-get update failed in the root (network? log: $work/apt.log)"
}
if in_root "$root" apt install -y --no-install-recommends "./$debname" >>"$work/apt.log" 2>&1; then
  ok "installed; apt also installed: $(sed -n 's/^Setting up \([^:( ]*\).*/\1/p' "$work/apt.log" |
    grep -vx minivpn | sort | tr '\n' ' ')"
else
  tail -n 30 "$work/apt.log" | indent
  die "apt install ./$debname failed (log: $work/apt.log)"
fi

say "check the programs"
check "minivpnd --version" 0 "^minivpnd $version\$" /usr/sbin/minivpnd --version
check "minivpnctl --version" 0 "^minivpnctl $version\$" /usr/sbin/minivpnctl --version
check "minivpnd --help" 0 "--check-kernel" /usr/sbin/minivpnd --help
check "minivpnctl --help" 0 "list-sas" /usr/sbin/minivpnctl --help
check "minivpnd --check-config of the two-site example" 0 "^configuration OK: 1 connection\$" \
  bash -c 'install -m 600 /usr/share/doc/minivpn/examples/two-site/a/swanctl.conf /tmp/a.conf &&
           minivpnd --check-config --config /tmp/a.conf'
check "minivpnctl without a daemon" 2 "nothing listens on /var/run/charon.vici" /usr/sbin/minivpnctl list-sas

say "check the unit"
unit=/lib/systemd/system/minivpnd.service
check "$unit is installed" 0 "" test -f "$unit"
out=$(in_root "$root" systemd-analyze verify "$unit" 2>&1)
rc=$?
if [[ $rc == 0 && -z $out ]]; then
  ok "systemd-analyze verify $unit: clean"
elif [[ $rc == 0 ]]; then
  ok "systemd-analyze verify $unit: exit 0, with these messages:"; echo "$out" | indent
else
  fail "systemd-analyze verify $unit: exit $rc"; echo "$out" | indent
fi
check "the unit is not enabled (README.Debian)" 1 "^disabled\$" systemctl is-enabled minivpnd.service
# There is no running systemd in the root, so nothing could start there; what the postinst does
# under systemd is `deb-systemd-invoke start minivpnd.service`, which must leave it alone.
check "deb-systemd-invoke start (the postinst's) does not start it" 0 \
  "disabled or a static unit, not starting it" deb-systemd-invoke start minivpnd.service

say "check the man pages"
for page in "8 minivpnd" "8 minivpnctl" "5 minivpn.conf"; do
  read -r section name <<<"$page"
  check "man -w $section $name" 0 "^/usr/share/man/man$section/$name\.$section\.gz\$" \
    man -w "$section" "$name"
  check "man $section $name renders without warnings" 0 "" bash -c \
    "out=\$(MANWIDTH=80 man --warnings -E UTF-8 -Tutf8 -Z $section $name 2>&1 >/dev/null) &&
     [ -z \"\$out\" ] || { echo \"\$out\"; exit 1; }"
done
check "man minivpnd shows its options" 0 "--check-config" bash -c 'MANWIDTH=80 man -P cat 8 minivpnd'

say "check the documents and examples"
for f in README.md.gz README.Debian copyright changelog.gz config.md.gz control-protocol.md.gz \
    examples/two-site/a/swanctl.conf examples/two-site/b/swanctl.conf \
    examples/bgp-failover/a/swanctl.conf examples/bgp-failover/b/strongswan.conf; do
  check "/usr/share/doc/minivpn/$f" 0 "" test -s "/usr/share/doc/minivpn/$f"
done

say "compare dpkg -L minivpn with tests/package/minivpn.files"
expected=$src/tests/package/minivpn.files
if ! listed=$(in_root "$root" dpkg -L minivpn | sort); then
  fail "dpkg -L minivpn failed"
elif diff_out=$(diff -u <(grep -v '^#' "$expected" | sort) <(echo "$listed")); then
  ok "dpkg -L minivpn: the $(wc -l <<<"$listed") expected paths"
else
  fail "dpkg -L minivpn differs from $expected (- expected, + installed):"
  echo "$diff_out" | tail -n +3 | indent
fi

say "apt purge minivpn"
if in_root "$root" apt-get purge -y minivpn >>"$work/apt.log" 2>&1; then
  check "the package is gone" 1 "" dpkg -s minivpn
  check "its files are gone" 0 "" bash -c \
    '! ls /usr/sbin/minivpnd /usr/sbin/minivpnctl /lib/systemd/system/minivpnd.service 2>/dev/null'
else
  fail "apt-get purge minivpn failed (log: $work/apt.log)"
fi

if ((failures)); then
  say "FAIL: $failures check(s) failed; the root is kept in $root"
  exit 1
fi
rm -rf --one-file-system "$root"
say "PASS"
