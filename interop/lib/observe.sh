# observe.sh: what the scenarios look at: pings through the tunnels, tcpdump captures on the
# transport links, and the kernel's xfrm state (dumped, normalised, compared, counted).
# shellcheck disable=SC2034 # LAB_* variables are shared between these files and the scenarios

# ---- traffic -------------------------------------------------------------------------------------

# lab_ping NS DST COUNT [INTERVAL]: true if every echo got its reply. Sets LAB_PING_SENT,
# LAB_PING_RECEIVED and LAB_PING_LOSS (percent). NS may be a router (a) or a host (host-a).
lab_ping() {
  local ns=$1 dst=$2 count=$3 interval=${4:-0.2} out
  out=$(ip netns exec "$ns" ping -n -q -c "$count" -i "$interval" -W 1 "$dst" 2>&1)
  LAB_PING_SENT=$(sed -nE 's/^([0-9]+) packets transmitted.*/\1/p' <<<"$out")
  LAB_PING_RECEIVED=$(sed -nE 's/.* ([0-9]+) (packets )?received.*/\1/p' <<<"$out")
  LAB_PING_SENT=${LAB_PING_SENT:-0} LAB_PING_RECEIVED=${LAB_PING_RECEIVED:-0}
  if ((LAB_PING_SENT > 0)); then
    LAB_PING_LOSS=$(((LAB_PING_SENT - LAB_PING_RECEIVED) * 100 / LAB_PING_SENT))
  else
    LAB_PING_LOSS=100
  fi
  note "ping $ns -> $dst: $LAB_PING_RECEIVED/$LAB_PING_SENT replies ($LAB_PING_LOSS% loss)"
  ((LAB_PING_SENT == count && LAB_PING_RECEIVED == count)) && return 0
  LAB_WHY="ping $ns -> $dst: $LAB_PING_RECEIVED of $count replies ($LAB_PING_LOSS% loss)"
  return 1
}

# lab_ping_start NS DST NAME [INTERVAL]: a continuous ping in the background (e.g. across rekeys);
# lab_ping_stop NAME then counts the echo requests that got no reply. The last request may still
# be in flight when ping is stopped, so it is not counted. Output kept in NAME.ping.
lab_ping_start() {
  local ns=$1 dst=$2 name=$3 interval=${4:-0.1}
  step "continuous ping $ns -> $dst every ${interval}s ($name)"
  ip netns exec "$ns" ping -n -i "$interval" -W 1 "$dst" >"$LAB_OUT/$name.ping" 2>&1 &
  echo $! >"$LAB_RUN/ping-$name.pid"
}

lab_ping_stop() {
  local name=$1 out="$LAB_OUT/$1.ping" sent
  stop_pid "$LAB_RUN/ping-$name.pid" INT
  sent=$(sed -nE 's/^([0-9]+) packets transmitted.*/\1/p' "$out")
  LAB_PING_SENT=${sent:-0}
  LAB_PING_LOST=$(awk -v sent="$LAB_PING_SENT" '
    match($0, /icmp_seq=[0-9]+/) && !/DUP!/ { got[substr($0, RSTART + 9, RLENGTH - 9)] = 1 }
    END { for (i = 1; i < sent; i++) if (!(i in got)) n++; print n + 0 }' "$out")
  note "$name: $LAB_PING_SENT echo requests, $LAB_PING_LOST without reply"
  ((LAB_PING_SENT > 1 && LAB_PING_LOST == 0)) && return 0
  LAB_WHY="$name: $LAB_PING_LOST of $LAB_PING_SENT pings lost (see $name.ping)"
  return 1
}

# ---- captures ------------------------------------------------------------------------------------

# lab_capture NS IF NAME [SNAPLEN]: tcpdump on IF inside NS into <results>/NAME.pcap until
# lab_capture_stop; SNAPLEN (default 256 octets) 0 keeps whole packets (to decrypt them later).
lab_capture() {
  local ns=$1 dev=$2 name=$3 snaplen=${4:-256}
  step "capture $ns/$dev -> $name.pcap"
  ip netns exec "$ns" tcpdump -i "$dev" -nn -U --immediate-mode -Z root -s "$snaplen" -w "$LAB_OUT/$name.pcap" \
    2>"$LAB_RUN/capture-$name.err" &
  capture_started "$ns" "$dev" "$name" $!
}

# lab_capture_text NS IF NAME: as lab_capture, and tcpdump also prints each packet as it goes
# (-tt: epoch seconds, the clock of EPOCHREALTIME) into <results>/NAME.txt, which a scenario can
# read while the capture runs (capture_lines), without a tcpdump start per look (about 1 s in UML).
lab_capture_text() {
  local ns=$1 dev=$2 name=$3
  step "capture $ns/$dev -> $name.pcap, $name.txt"
  ip netns exec "$ns" tcpdump -i "$dev" -nn -tt -l -U --immediate-mode -Z root -s 256 \
    -w "$LAB_OUT/$name.pcap" --print >"$LAB_OUT/$name.txt" 2>"$LAB_RUN/capture-$name.err" &
  capture_started "$ns" "$dev" "$name" $!
}

# capture_started NS IF NAME PID: waits until that tcpdump listens.
capture_started() {
  local ns=$1 dev=$2 name=$3 i
  echo "$4" >"$LAB_RUN/capture-$name.pid"
  for ((i = 0; i < 50; i++)); do
    grep -q "listening on" "$LAB_RUN/capture-$name.err" && return 0
    sleep 0.1
  done
  lab_fail "tcpdump on $ns/$dev did not start: $(tr '\n' ' ' <"$LAB_RUN/capture-$name.err")"
}

lab_capture_stop() {
  local f
  for f in "$LAB_RUN"/capture-*.pid; do
    [[ -e $f ]] && stop_pid "$f" INT
  done
}

# pcap_count NAME FILTER: number of packets in NAME.pcap that match a tcpdump filter.
pcap_count() {
  tcpdump -nn -r "$LAB_OUT/$1.pcap" "$2" 2>/dev/null | wc -l
}

# lab_esp_seen NAME MIN: at least MIN ESP packets (plain or UDP-encapsulated) in NAME.pcap, and
# no plaintext ICMP between the local networks (what went through the tunnel stayed inside).
lab_esp_seen() {
  local name=$1 min=$2 esp natt plain counts
  lab_capture_stop
  # One pass over the capture (each tcpdump start costs about a second in UML).
  counts=$(tcpdump -nn -r "$LAB_OUT/$name.pcap" \
    'ip proto 50 or (udp port 4500 and udp[8:4] != 0) or (icmp and net 10.0.0.0/8)' 2>/dev/null |
    awk '/UDP-encap: ESP/ { n++; next } /ESP\(spi/ { e++; next } /ICMP/ { p++ }
         END { print e + 0, n + 0, p + 0 }')
  read -r esp natt plain <<<"$counts"
  note "$name.pcap: $esp ESP, $natt ESP-in-UDP, $plain plaintext ICMP of the local nets"
  if ((esp + natt < min)); then
    LAB_WHY="$name.pcap: $((esp + natt)) ESP packets, expected at least $min"
    return 1
  fi
  if ((plain > 0)); then
    LAB_WHY="$name.pcap: $plain plaintext ICMP packets of the local networks on the transport link"
    return 1
  fi
}

# lab_esp6_seen NAME MIN: IKE and ESP over IPv6 in NAME.pcap: at least MIN ESP packets over IPv6
# (next header 50) and at least 4 IKE messages (UDP 500 or 4500) over IPv6, neither ESP nor IKE
# over IPv4, and no plaintext ICMP or ICMPv6 of the local networks (10.0.0.0/8, fd00::/8).
lab_esp6_seen() {
  local name=$1 min=$2 esp6 esp4 ike6 ike4 plain natt counts
  lab_capture_stop
  # One pass over the capture (each tcpdump start costs about a second in UML); tcpdump prints
  # IPv6 packets as "IP6 src > dst: ...", IPv4 ones as "IP src > dst: ...".
  counts=$(tcpdump -nn -r "$LAB_OUT/$name.pcap" \
    'ip6 proto 50 or ip proto 50 or udp port 500 or udp port 4500 or (icmp and net 10.0.0.0/8) or (icmp6 and net fd00::/8)' \
    2>/dev/null | awk '
      /ICMP/ { p++; next }                # only ICMP of the local nets passes the filter
      /UDP-encap: ESP/ { n++; next }      # ESP in UDP (none without a NAT)
      / IP6 .*: ESP\(spi/ { e6++; next }
      / IP .*: ESP\(spi/ { e4++; next }
      / IP6 .*\.(500|4500)[ :]/ { i6++; next }
      / IP .*\.(500|4500)[ :]/ { i4++ }
      END { print e6 + 0, e4 + 0, i6 + 0, i4 + 0, p + 0, n + 0 }')
  read -r esp6 esp4 ike6 ike4 plain natt <<<"$counts"
  note "$name.pcap: $esp6 ESP over IPv6, $esp4 over IPv4, $natt ESP in UDP; $ike6 IKE over IPv6, $ike4 over IPv4; $plain plaintext ICMP of the local nets"
  if ((esp4 > 0 || ike4 > 0)); then
    LAB_WHY="$name.pcap: $esp4 ESP and $ike4 IKE packets over IPv4, expected none"
    return 1
  fi
  if ((plain > 0)); then
    LAB_WHY="$name.pcap: $plain plaintext ICMP packets of the local networks on the transport link"
    return 1
  fi
  if ((esp6 < min || ike6 < 4)); then
    LAB_WHY="$name.pcap: $esp6 ESP and $ike6 IKE packets over IPv6, expected at least $min and 4"
    return 1
  fi
}

# capture_lines NAME [FROM [TO]]: the lines of NAME.txt (lab_capture_text) stamped at or after
# FROM and before TO (epoch seconds, e.g. $EPOCHREALTIME), all without them.
capture_lines() {
  awk -v from="${2:-0}" -v to="${3:-}" '$1 >= from + 0 && (to == "" || $1 < to + 0)' "$LAB_OUT/$1.txt"
}

# lab_natt_only NAME MIN [FROM]: in NAME.txt (since FROM) at least MIN ESP-in-UDP packets (UDP
# 4500 carrying ESP), no plain ESP (IP protocol 50) and no plaintext ICMP of the local networks.
lab_natt_only() {
  local name=$1 min=$2 lines natt esp plain
  lines=$(capture_lines "$name" "${3:-0}")
  natt=$(grep -c 'UDP-encap: ESP(' <<<"$lines")
  esp=$(grep -Ec '[0-9]: ESP\(spi' <<<"$lines")  # UDP-encap lines read 'UDP-encap: ESP('
  plain=$(grep -Ec ' IP (10\.[0-9.]+ > [0-9.]+|[0-9.]+ > 10\.[0-9.]+): ICMP' <<<"$lines")
  note "$name: $natt ESP-in-UDP, $esp plain ESP, $plain plaintext ICMP of the local nets"
  if ((esp > 0 || plain > 0)); then
    LAB_WHY="$name: $esp plain ESP and $plain plaintext ICMP packets on the transport link, expected none"
    return 1
  fi
  ((natt >= min)) && return 0
  LAB_WHY="$name: $natt ESP-in-UDP packets, expected at least $min"
  return 1
}

# ike_count NAME EXCHANGE request|response [FIRST_PAYLOAD]: IKE messages in NAME.pcap, on port
# 500 or (after the 4-byte non-ESP marker) 4500. EXCHANGE: IKE_SA_INIT, IKE_AUTH,
# CREATE_CHILD_SA, INFORMATIONAL. FIRST_PAYLOAD: the IKE header's Next Payload, e.g. 41 = Notify.
# (RFC 7296 3.1: exchange type at octet 18, flags at 19 with R = 0x20, next payload at 16.)
ike_count() {
  local name=$1 exch dir=$3 first=${4:-} f500 f4500
  case $2 in
    IKE_SA_INIT) exch=34 ;; IKE_AUTH) exch=35 ;; CREATE_CHILD_SA) exch=36 ;; INFORMATIONAL) exch=37 ;;
    *) lab_fail "ike_count: unknown exchange $2" ;;
  esac
  local r=0
  [[ $dir == response ]] && r=32
  f500="udp port 500 and udp[26] = $exch and (udp[27] & 0x20) = $r"
  f4500="udp port 4500 and udp[8:4] = 0 and udp[30] = $exch and (udp[31] & 0x20) = $r"
  if [[ -n $first ]]; then
    f500+=" and udp[24] = $first"
    f4500+=" and udp[28] = $first"
  fi
  pcap_count "$name" "($f500) or ($f4500)"
}

# lab_ike_seen NAME MIN EXCHANGE request|response [FIRST_PAYLOAD]: at least MIN such messages.
lab_ike_seen() {
  local name=$1 min=$2 n
  shift 2
  lab_capture_stop
  n=$(ike_count "$name" "$@")
  note "$name.pcap: $n x $*"
  ((n >= min)) && return 0
  LAB_WHY="$name.pcap: $n x $*, expected at least $min"
  return 1
}

# lab_ike_table NAME: one pass over NAME.pcap (the captures are stopped first) into NAME.ike: one
# line per IPv4 packet, space-separated, "-" for what it lacks:
#    1 time (epoch s)  2 source  3 destination  4 IP total length  5 IP fragment (1: more
#    fragments follow or offset > 0, else 0)  and for IKE (UDP 500, or 4500 after the non-ESP
#    marker; RFC 7296 3.1-3.2, RFC 7383 2.5): 6 exchange type (34 IKE_SA_INIT, 35 IKE_AUTH,
#    36 CREATE_CHILD_SA, 37 INFORMATIONAL)  7 R flag (1: response)  8 the header's next payload
#    (33 SA, 41 N, 46 SK, 53 SKF: Encrypted and Authenticated Fragment)  9 message ID
#    10 SKF fragment number  11 SKF total fragments  12 initiator SPI (hex)  13 the first
#    payload's notify type if it is a notify (16390 COOKIE)  14 its notification data (hex)
# Read from tcpdump's hex dump (-x; one tcpdump start, about a second in UML, against four for
# tshark); `tshark -r NAME.pcap -Y isakmp -V` shows the same on the host. The capture's snap
# length (256) keeps every field above.
lab_ike_table() {
  local name=$1
  lab_capture_stop
  step "decode $name.pcap -> $name.ike"
  tcpdump -r "$LAB_OUT/$name.pcap" -nn -tt -x ip 2>"$LAB_RUN/ike-table-$name.err" | awk '
    BEGIN { for (i = 0; i < 16; i++) hexval[substr("0123456789abcdef", i + 1, 1)] = i }
    function byte(i) { return hexval[substr(hex[i], 1, 1)] * 16 + hexval[substr(hex[i], 2, 1)] }
    function u16(i) { return byte(i) * 256 + byte(i + 1) }
    function hexrun(from, n,   s, k) { s = ""; for (k = from; k < from + n && k < nb; k++) s = s hex[k]; return s }
    function flush(   ihl, len, fo, frag, proto, src, dst, l4, sport, dport, ike, np, out, plen) {
      if (t == "") return
      ihl = (byte(0) % 16) * 4; len = u16(2); fo = u16(6); proto = byte(9)
      frag = (int(fo / 8192) % 2 == 1 || fo % 8192 != 0) ? 1 : 0
      src = byte(12) "." byte(13) "." byte(14) "." byte(15)
      dst = byte(16) "." byte(17) "." byte(18) "." byte(19)
      out = t " " src " " dst " " len " " frag
      ike = -1
      if (proto == 17 && fo % 8192 == 0) {
        l4 = ihl; sport = u16(l4); dport = u16(l4 + 2)
        if (sport == 500 || dport == 500) ike = l4 + 8
        else if ((sport == 4500 || dport == 4500) && hexrun(l4 + 8, 4) == "00000000") ike = l4 + 12
      }
      if (ike >= 0 && nb >= ike + 28) {
        np = byte(ike + 16)
        out = out " " byte(ike + 18) " " (int(byte(ike + 19) / 32) % 2) " " np " " \
          (u16(ike + 20) * 65536 + u16(ike + 22))
        out = out " " (np == 53 && nb >= ike + 36 ? u16(ike + 32) " " u16(ike + 34) : "- -")
        out = out " " hexrun(ike, 8)
        if (np == 41 && nb >= ike + 36) {
          plen = u16(ike + 30)
          out = out " " u16(ike + 34) " " (plen > 8 ? hexrun(ike + 36 + byte(ike + 33), plen - 8 - byte(ike + 33)) : "-")
        } else out = out " - -"
      } else out = out " - - - - - - - - -"
      print out
      t = ""; nb = 0
    }
    /^[0-9]/ { flush(); t = $1; nb = 0; next }
    $1 ~ /^0x[0-9a-f]+:$/ { for (i = 2; i <= NF; i++) { hex[nb++] = substr($i, 1, 2); if (length($i) == 4) hex[nb++] = substr($i, 3, 2) } }
    END { flush() }' >"$LAB_OUT/$name.ike"
  [[ -s $LAB_OUT/$name.ike ]] ||
    lab_fail "nothing decoded from $name.pcap: $(tr '\n' ' ' <"$LAB_RUN/ike-table-$name.err")"
}

# ---- kernel state --------------------------------------------------------------------------------

# lab_xfrm_dump X LABEL: saves X's xfrm SAs and policies as xfrm-X-LABEL.raw (exactly what
# `ip -s -d xfrm` prints) and xfrm-X-LABEL.txt (normalised: SPIs, keys, counters, times and the
# soft lifetime jitter masked, blocks sorted; see xfrm-normalise.sh).
lab_xfrm_dump() {
  local x=$1 label=$2 raw="$LAB_OUT/xfrm-$1-$2.raw"
  {
    echo "# ip -s -d xfrm state"
    ip -n "$x" -s -d xfrm state
    echo "# ip -s -d xfrm policy"
    ip -n "$x" -s -d xfrm policy
  } >"$raw"
  XFRM_NAT_PORTS=${LAB_NAT_PORTS:-} "$LAB_DIR/lib/xfrm-normalise.sh" <"$raw" >"$LAB_OUT/xfrm-$x-$label.txt"
}

# lab_xfrm_matches X LABEL EXPECTED: the normalised dump equals a reference file (a diff is kept).
lab_xfrm_matches() {
  local x=$1 label=$2 expected=$3
  [[ -f $expected ]] || { LAB_WHY="reference $expected missing"; return 1; }
  if diff -u "$expected" "$LAB_OUT/xfrm-$x-$label.txt" >"$LAB_OUT/xfrm-$x-$label.diff"; then
    rm -f "$LAB_OUT/xfrm-$x-$label.diff"
    return 0
  fi
  LAB_WHY="xfrm state of $x differs from $(basename "$expected") (see xfrm-$x-$label.diff)"
  return 1
}

# lab_expect_reference LABEL: dumps both routers' xfrm state under LABEL and, when the row names a
# REFERENCE, expects each to equal expected/<REFERENCE>-a.txt and -b.txt (charon's own state for
# the same config: "kernel identity").
lab_expect_reference() {
  local label=$1 x
  for x in a b; do lab_xfrm_dump "$x" "$label"; done
  [[ -n ${REFERENCE:-} ]] || return 0
  for x in a b; do
    expect "kernel state of $x equals expected/$REFERENCE-$x.txt" \
      lab_xfrm_matches "$x" "$label" "$LAB_DIR/expected/$REFERENCE-$x.txt"
  done
}

# lab_xfrm_empty X: no SA and no policy other than the IKE sockets' own bypass policies.
lab_xfrm_empty() {
  local sas pols
  sas=$(ip -n "$1" xfrm state | grep -c '^src')
  pols=$(ip -n "$1" xfrm policy | grep -E '^src|^[[:space:]]*dir' | grep -c 'dir ')
  if ((sas == 0 && pols == 0)); then return 0; fi
  LAB_WHY="$1 still has $sas xfrm SAs and $pols policies"
  return 1
}

# lab_wait_xfrm_empty X [SECONDS]: waits until lab_xfrm_empty X.
lab_wait_xfrm_empty() {
  wait_until "${2:-5}" lab_xfrm_empty "$1" && return 0
  lab_xfrm_empty "$1"
}

# lab_xfrm_sa_count X: number of xfrm SAs on X.
lab_xfrm_sa_count() { ip -n "$1" xfrm state | grep -c '^src'; }

# sa_count_is X N: exactly N xfrm SAs on X.
sa_count_is() {
  local n
  n=$(lab_xfrm_sa_count "$1")
  ((n == $2)) && return 0
  LAB_WHY="$1 has $n xfrm SAs, expected $2"
  return 1
}

# lab_wait_sa_count X N [SECONDS]: waits until X has exactly N xfrm SAs (e.g. after a rekey).
lab_wait_sa_count() {
  wait_until "${3:-10}" sa_count_is "$1" "$2" && return 0
  sa_count_is "$1" "$2"
}

# sa_all_encap X: X has SAs, and every one is UDP-encapsulated (ESP in UDP, RFC 3948).
sa_all_encap() {
  local state sas encap
  state=$(ip -n "$1" xfrm state)
  sas=$(grep -c '^src' <<<"$state")
  encap=$(grep -c 'encap type espinudp ' <<<"$state")
  note "$1: $sas SAs, $encap with encap: $(grep -o 'encap type .*' <<<"$state" | sort -u | tr '\n' ';')"
  ((sas > 0 && encap == sas)) && return 0
  LAB_WHY="$1 has $sas SAs, $encap of them with 'encap type espinudp'"
  return 1
}

# lab_spis X: X's SPIs, sorted, on one line (the same line before and after = no rekey).
lab_spis() {
  ip -n "$1" xfrm state | sed -nE 's/.* spi (0x[0-9a-f]+) .*/\1/p' | sort | tr '\n' ' '
}

# trap_installed X: X has an OUT policy (so traffic can trigger an ACQUIRE) and no SA at all.
trap_installed() {
  local sas out
  sas=$(lab_xfrm_sa_count "$1")
  out=$(ip -n "$1" xfrm policy | grep -c 'dir out')
  lab_xfrm_dump "$1" trap
  ((sas == 0 && out >= 1)) && return 0
  LAB_WHY="$1 has $sas SAs and $out OUT policies (want 0 and at least 1, see xfrm-$1-trap.txt)"
  return 1
}
