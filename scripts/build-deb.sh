#!/usr/bin/env bash
# Builds the Debian package minivpn_<version>_amd64.deb (debian/, dpkg-buildpackage -us -uc -b)
# from a clean copy of the source tree: the files git tracks plus new files it does not ignore,
# as they are in the working tree. Nothing of an earlier build is reused and no build product
# lands in the tree.
#
#   scripts/build-deb.sh [OUTDIR]      OUTDIR defaults to build/deb in the repository
#
# OUTDIR then holds minivpn_<version>_amd64.deb, minivpn-dbgsym_<version>_amd64.deb (debug
# symbols), the .buildinfo and .changes files and build.log; the last line printed is the .deb's
# path. Needs the packages scripts/setup.sh installs (dpkg-buildpackage checks the
# Build-Depends of debian/control). DEB_BUILD_OPTIONS passes through (e.g. noddebs).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
out=$(realpath -m "${1:-$root/build/deb}")
started=$SECONDS

die() { echo "build-deb: $*" >&2; exit 1; }
for tool in dpkg-buildpackage dpkg-parsechangelog dh; do
  command -v "$tool" >/dev/null || die "$tool is missing: run scripts/setup.sh (dpkg-dev, debhelper)"
done

# One version: CMake's project() and debian/changelog must agree.
version=$(sed -n 's/^project(minivpn VERSION \([0-9][0-9.]*\).*/\1/p' "$root/CMakeLists.txt")
deb_version=$(dpkg-parsechangelog -l "$root/debian/changelog" -S Version)
[[ -n $version ]] || die "no 'project(minivpn VERSION x.y.z ...)' in CMakeLists.txt"
[[ $version == "$deb_version" ]] ||
  die "CMakeLists.txt says version $version, debian/changelog $deb_version: add a changelog entry"
arch=$(dpkg --print-architecture)
deb=minivpn_${version}_${arch}.deb

# The clean copy, out of the tree: OUTDIR/src/minivpn-<version>.
src=$out/src/minivpn-$version
rm -rf "$out/src"
mkdir -p "$src"
rm -f "$out"/minivpn*_*.deb "$out"/minivpn_*.buildinfo "$out"/minivpn_*.changes "$out/build.log"
if git -C "$root" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
  (cd "$root" && git ls-files -z --cached --others --exclude-standard |
    while IFS= read -r -d '' f; do
      [[ -e $f || -L $f ]] && printf '%s\0' "$f"  # a tracked file deleted in the work tree
    done | tar --null -T - -cf -) | tar -C "$src" -xf -
else
  tar -C "$root" --exclude=./.git --exclude='./build*' --exclude='./results*' -cf - . |
    tar -C "$src" -xf -
fi
echo "build-deb: minivpn $version from a copy of $root in $src"

log=$out/build.log
if ! (cd "$src" && dpkg-buildpackage -us -uc -b -Jauto) >"$log" 2>&1; then
  tail -n 40 "$log" >&2
  die "dpkg-buildpackage failed (the whole log: $log; the tree: $src)"
fi
mv "$out"/src/minivpn*_"$version"_* "$out"/
rm -rf "$out/src"
[[ -f $out/$deb ]] || die "dpkg-buildpackage made no $deb (see $log)"
echo "build-deb: $(du -h "$out/$deb" | cut -f1) in $((SECONDS - started)) s; also in $out:" \
  "$(cd "$out" && ls minivpn*_"$version"_* | grep -vx "$deb" | tr '\n' ' ')"
echo "$out/$deb"
