#!/bin/bash
# xfrm-normalise.sh < raw > normalised
#
# Turns the output of `ip -s -d xfrm state` + `ip -s -d xfrm policy` (as saved by lab_xfrm_dump,
# with its "# ip ..." headers) into text that is equal for two daemons that programmed the same
# kernel state, so that minivpnd's state can be diffed against charon's:
#   - SPIs become <spi-1>, <spi-2>... in order of appearance after sorting (the OUT policy's
#     template keeps pointing at the same label as the outbound SA); a zero SPI stays 0x00000000
#   - keys become <key N bits> (the length stays: it includes the GCM salt)
#   - packet/byte counters, replay counters (the ESN context's sequence numbers and replay
#     bitmap too), timestamps and policy indexes are masked
#   - the soft add-expiry is random by design (rekey_time - random(rand_time)): a value between 1
#     and the hard expiry becomes <jitter>; anything else is kept so that it shows in a diff
#   - per-socket bypass policies ("socket in/out", one pair per IKE socket) are left out: their
#     number depends on how many sockets a daemon opens (see the raw dump)
#   - SAs and policies are sorted (ignoring SPI values), so kernel hash order does not matter
#   - XFRM_NAT_PORTS="P..." (environment): UDP ports a NAT chose at random (lab_nat_mapping; the
#     lab passes LAB_NAT_PORTS): where one of them is an encap line's sport or dport it becomes
#     <nat-port>; no other port and no other line is touched
set -o pipefail
sep=$'\037'

nat_ports=()
for p in ${XFRM_NAT_PORTS:-}; do
  [[ $p =~ ^[0-9]+$ ]] || { echo "xfrm-normalise: XFRM_NAT_PORTS: '$p' is not a port" >&2; exit 2; }
  nat_ports+=(-e "s/^([[:space:]]+encap type [a-z-]+ sport )$p( dport )/\1<nat-port>\2/"
    -e "s/^([[:space:]]+encap type [a-z-]+ sport [^ ]+ dport )$p( |$)/\1<nat-port>\2/")
done

sed -E "${nat_ports[@]}" \
  -e 's/[[:space:]]+$//' \
  -e 's/(spi 0x[0-9a-f]+)\([0-9]+\)/\1/' \
  -e 's/ 0x[0-9a-f]+ \(([0-9]+) bits\)/ <key \1 bits>/' \
  -e 's/anti-replay context: .*/anti-replay context: <counters>/' \
  -e 's/^([[:space:]]+)seq-hi 0x[0-9a-f]+, seq 0x[0-9a-f]+, oseq-hi 0x[0-9a-f]+, oseq 0x[0-9a-f]+$/\1seq-hi <n>, seq <n>, oseq-hi <n>, oseq <n>/' \
  -e 's/^([[:space:]]+)[0-9a-f]{8}( [0-9a-f]{8})*$/\1<replay bitmap>/' \
  -e 's/^([[:space:]]+)[0-9]+\(bytes\), [0-9]+\(packets\)$/\1<n>(bytes), <n>(packets)/' \
  -e 's/^([[:space:]]+)add .* use .*/\1add <time> use <time>/' \
  -e 's/^([[:space:]]+)replay-window [0-9]+ replay [0-9]+ failed [0-9]+$/\1replay-window <n> replay <n> failed <n>/' \
  -e 's/ index [0-9]+ / index <n> /' |
  awk -v sep="$sep" '
    # soft add expiry: mask the jitter (see above)
    /expire add: soft [0-9]+\(sec\), hard [0-9]+\(sec\)/ {
      line = $0
      s = line; sub(/.*soft /, "", s); sub(/\(sec\).*/, "", s)
      h = line; sub(/.*hard /, "", h); sub(/\(sec\).*/, "", h)
      if (s + 0 > 0 && s + 0 < h + 0) sub(/soft [0-9]+\(sec\)/, "soft <jitter>(sec)", line)
      $0 = line
    }
    # one block per SA or policy, flattened into one line: "<section><sep><key><sep>line<sep>..."
    # where the sort key is the block with its SPIs hidden (their values are random)
    /^# ip .*xfrm state/  { flush(); section = "1 state"; next }
    /^# ip .*xfrm policy/ { flush(); section = "2 policy"; next }
    /^src / { flush(); block = $0; next }
    { block = block sep $0 }
    END { flush() }
    function flush() {
      if (block != "" && block !~ ("socket (in|out) ")) {
        key = block
        gsub(sep, "|", key)
        gsub(/spi 0x[0-9a-f]+/, "spi x", key)
        print section sep key sep block
      }
      block = ""
    }
  ' |
  LC_ALL=C sort |
  awk -v sep="$sep" '
    {
      n = split($0, f, sep)
      if (f[1] != last) { print "# " substr(f[1], 3); last = f[1] }
      for (i = 3; i <= n; i++) {
        line = f[i]
        if (match(line, /spi 0x[0-9a-f]+/)) {
          spi = substr(line, RSTART + 4, RLENGTH - 4)
          if (spi !~ /^0x0+$/) {
            if (!(spi in label)) label[spi] = "<spi-" (++count) ">"
            line = substr(line, 1, RSTART + 3) label[spi] substr(line, RSTART + RLENGTH)
          }
        }
        print line
      }
    }
  '
