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
  local ns=$1 dev=$2 name=$3 snaplen=${4:-256} i
  step "capture $ns/$dev -> $name.pcap"
  ip netns exec "$ns" tcpdump -i "$dev" -nn -U --immediate-mode -Z root -s "$snaplen" -w "$LAB_OUT/$name.pcap" \
    2>"$LAB_RUN/capture-$name.err" &
  echo $! >"$LAB_RUN/capture-$name.pid"
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
  "$LAB_DIR/lib/xfrm-normalise.sh" <"$raw" >"$LAB_OUT/xfrm-$x-$label.txt"
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
