#!/bin/bash
# The configuration examples in docs/examples/ must be what the tools accept: every swanctl.conf
# and every ipsec.conf (with the ipsec.secrets beside it) passes `minivpnd --check-config`, every
# bird.conf passes `bird -p` (BIRD's parse-only mode).
# Usage: check_examples.sh <minivpnd binary>
set -uo pipefail
minivpnd=$1
examples=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../docs/examples" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail=0
command -v bird >/dev/null || { echo "FAIL: bird (Debian's bird2) is not installed: run scripts/setup.sh"; exit 1; }
while IFS= read -r conf; do
  rel=${conf#"$examples"/}
  cp "$conf" "$work/swanctl.conf"
  chmod 600 "$work/swanctl.conf"  # examples are 0644 in git; a real one holds secrets
  if out=$("$minivpnd" --check-config --config "$work/swanctl.conf" 2>&1); then
    echo "ok   $rel: ${out##*$'\n'}"
  else
    echo "FAIL $rel:"; sed "s|$work/swanctl.conf|$rel|" <<<"$out"; fail=1
  fi
done < <(find "$examples" -name swanctl.conf | sort)
# ipsec.conf examples, each with the ipsec.secrets beside it.
while IFS= read -r conf; do
  rel=${conf#"$examples"/}
  cp "$conf" "$work/ipsec.conf"
  cp "$(dirname "$conf")/ipsec.secrets" "$work/ipsec.secrets"
  chmod 600 "$work/ipsec.secrets"
  if out=$("$minivpnd" --check-config --ipsec-conf "$work/ipsec.conf" \
             --ipsec-secrets "$work/ipsec.secrets" 2>&1); then
    echo "ok   $rel: ${out##*$'\n'}"
  else
    echo "FAIL $rel:"; sed "s|$work/||g" <<<"$out"; fail=1
  fi
done < <(find "$examples" -name ipsec.conf | sort)
while IFS= read -r conf; do
  rel=${conf#"$examples"/}
  if out=$(bird -p -c "$conf" 2>&1); then
    echo "ok   $rel: bird -p"
  else
    echo "FAIL $rel: $out"; fail=1
  fi
done < <(find "$examples" -name bird.conf | sort)
exit "$fail"
