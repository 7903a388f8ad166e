#!/usr/bin/env bash
# The main job, end to end: install what is missing, build, and show minivpn working.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup.sh
cmake -S . -B build/release -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DMINIVPN_TESTS=OFF >/dev/null
ninja -C build/release

echo
build/release/cli/minivpnd --version
