#!/usr/bin/env bash
# The main job, end to end: install what is missing, build, and bring up the seed's tunnel in
# the user-mode-Linux lab: minivpnd on router A with the seed's ipsec.conf + ipsec.secrets
# unchanged, strongSwan's charon on router B, ping from Net A to Net B across the VTIs.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup.sh
cmake -S . -B build/release -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
ninja -C build/release minivpnd minivpnctl

echo
build/release/cli/minivpnd --version
echo "minivpnd --check-config on the seed's files:"
build/release/cli/minivpnd --check-config --ipsec-conf tests/cli/data/seed/ipsec.conf \
  --strongswan-conf tests/cli/data/seed/strongswan.conf
echo
echo "Booting the lab (user-mode Linux): minivpnd on router A, charon on router B ..."
results=$PWD/results/demo
status=0
interop/run --results "$results" --minivpnd "$PWD/build/release/cli/minivpnd" \
  seed-minivpnd-charon || status=$?
echo
echo "What happened (from $results/seed-minivpnd-charon/steps.log):"
sed -n '/start charon on b/,$p' "$results/seed-minivpnd-charon/steps.log"
exit $status
