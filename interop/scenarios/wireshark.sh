# about: see inside IKE: minivpnd's Wireshark key tables make Debian's tshark decrypt a capture of the tunnel; traces and explain never show secrets
#
#   host-a 10.1.0.10 --ping--> [router a] minivpnd --trace=verbose, wireshark_keys = a/wireshark
#      |                           | eth0 192.0.2.1
#      |                           +-- eth-a [ inet ] <- tcpdump -s 0 (whole packets): transport-a.pcap
#      |                                         |
#   [router a] vti-b ========== IKE + ESP ==================== vti-a [router b] charon
#
# minivpnd appends one ikev2_decryption_table line per IKE SA and two esp_sa lines per CHILD_SA
# (the files strongSwan's save-keys plugin writes). tshark, given only those two files as its
# profile, must show the payloads inside IKE_AUTH's SK payload (IDi, AUTH, SA, TSi, TSr) and the
# ICMP echo requests and replies inside ESP; without them it must not. minivpnd's verbose trace
# shows the same payloads decrypted; neither the trace, the log nor `minivpnctl explain` (without
# --show-secrets) may contain the PSK or any key from the tables.
# Parameters: ROLE_A (minivpnd), ROLE_B.

keys="$LAB_OUT/a/wireshark"
lab_topology_two_sites
lab_tunnel a b
lab_conn a b wireshark="$keys"
lab_conn b a
LAB_MINIVPND_ARGS="--trace=verbose"
lab_start a b
lab_capture inet eth-a transport-a 0
expect "tunnel up: initiate from a" lab_initiate a to-b
expect "tunnel up on a" lab_wait_sa a to-b
expect "tunnel up on b" lab_wait_sa b to-a
expect "ping Net A -> Net B through the VTIs" lab_ping host-a "${LAB_HOST[b]}" 4
expect "minivpnctl explain to-b walks through SKEYSEED" \
  eval 'ctl a explain to-b >"$LAB_OUT/a/explain.txt" 2>&1 && grep -q SKEYSEED "$LAB_OUT/a/explain.txt"'
# A CHILD rekey and a DELETE too, so that the capture holds every exchange type (it is the source
# of docs/ike-walkthrough.md: tests/fixtures/lab/README.md).
base=$(child_id a to-b)
expect "rekey the CHILD_SA from a" lab_rekey a to-b child
expect "CHILD_SA rekeyed" lab_wait_rekeys a to-b 1 15 child "$base"
expect "ping through the rekeyed CHILD_SA" lab_ping host-a "${LAB_HOST[b]}" 2
expect "terminate on a" lab_terminate a to-b
expect "tunnel down on b (it got the DELETE)" lab_wait_no_sa b to-a 5
lab_capture_stop

# ---- the key tables -----------------------------------------------------------------------------
table_ok() {
  local f=$1 lines=$2 mode n
  [[ -f $f ]] || { LAB_WHY="$f missing"; return 1; }
  mode=$(stat -c %a "$f")
  n=$(grep -c . "$f")
  note "$(basename "$f"): $n lines, mode $mode"
  [[ $mode == 600 ]] || { LAB_WHY="$f has mode $mode, not 600"; return 1; }
  ((n == lines)) || { LAB_WHY="$f has $n lines, not $lines"; return 1; }
}
expect "minivpnd wrote one ikev2_decryption_table line (mode 0600)" table_ok "$keys/ikev2_decryption_table" 1
expect "minivpnd wrote four esp_sa lines, two per CHILD_SA (mode 0600)" table_ok "$keys/esp_sa" 4

# ---- tshark -------------------------------------------------------------------------------------
# tshark_decode NAME [TABLE_DIR]: tshark -V of the capture into NAME.txt, with a profile holding
# only the tables of TABLE_DIR (none: an empty profile).
tshark_decode() {
  local name=$1 tables=${2:-} home="$LAB_RUN/tshark-$1"
  mkdir -p "$home/wireshark"
  [[ -n $tables ]] && cp "$tables/ikev2_decryption_table" "$tables/esp_sa" "$home/wireshark/"
  HOME=$home XDG_CONFIG_HOME=$home tshark -n -r "$LAB_OUT/transport-a.pcap" \
    -o esp.enable_encryption_decode:TRUE -V >"$LAB_OUT/$name.txt" 2>&1
}

# has_payloads FILE PAYLOAD...: the IKE_AUTH request's decrypted payloads as tshark names them.
has_payloads() {
  local f="$LAB_OUT/$1.txt" p missing=()
  shift
  for p in "$@"; do grep -q "Payload: $p" "$f" || missing+=("$p"); done
  ((${#missing[@]} == 0)) && return 0
  LAB_WHY="tshark ($1.txt) shows no: ${missing[*]}"
  return 1
}
auth_payloads=("Identification - Initiator (35)" "Authentication (39)"
  "Security Association (33)" "Traffic Selector - Initiator (44)"
  "Traffic Selector - Responder (45)")

step "tshark without the tables"
tshark_decode tshark-without
expect "tshark sees IKE_AUTH but (without keys) none of its inner payloads" \
  eval '! has_payloads tshark-without "Identification - Initiator (35)" && grep -q "IKE_AUTH" "$LAB_OUT/tshark-without.txt"'
step "tshark with minivpnd's ikev2_decryption_table and esp_sa"
tshark_decode tshark-with "$keys"
expect "no table error in tshark" eval '! grep -qi "error loading\|invalid\|UAT" "$LAB_OUT/tshark-with.txt"'
expect "tshark decrypts IKE_AUTH: IDi, AUTH, SA, TSi, TSr" has_payloads tshark-with "${auth_payloads[@]}"
expect "tshark shows the initiator's ID (IDi = 192.0.2.1)" grep -q "ID_IPV4_ADDR: ${LAB_WAN[a]}" "$LAB_OUT/tshark-with.txt"

# icmp_in_esp TYPE MIN: at least MIN ICMP packets of TYPE (8 request, 0 reply) inside ESP between
# the two local networks.
icmp_in_esp() {
  local home="$LAB_RUN/tshark-tshark-with" n
  n=$(HOME=$home XDG_CONFIG_HOME=$home tshark -n -r "$LAB_OUT/transport-a.pcap" \
    -o esp.enable_encryption_decode:TRUE -Y "esp && icmp.type == $1" -T fields -e ip.src -e ip.dst \
    2>/dev/null | tee -a "$LAB_OUT/icmp-in-esp.txt" | grep -c "10\.[12]\.0\.10.*10\.[12]\.0\.10")
  note "ICMP type $1 inside ESP: $n packets"
  ((n >= $2)) && return 0
  LAB_WHY="only $n ICMP type $1 packets inside ESP (want $2, see icmp-in-esp.txt)"
  return 1
}
expect "tshark decrypts the ESP of both CHILD_SAs: 6 echo requests Net A -> Net B inside" icmp_in_esp 8 6
expect "tshark decrypts the ESP of both CHILD_SAs: 6 echo replies inside" icmp_in_esp 0 6

# ---- trace and explain, and no secret anywhere --------------------------------------------------
log="$LAB_OUT/a/minivpnd.stdout"
expect "minivpnd's trace shows the IKE_AUTH request it sent" \
  grep -Eq "trace to-b\[[0-9]+\] \+[0-9.]+s sent .* IKE_AUTH request 1" "$log"
expect "the verbose trace shows the decrypted TSr of IKE_AUTH" grep -Eq "TSr" "$log"
# no_secret FILE...: neither the PSK nor any key of the tables (hex, 20+ digits: SPIs, 16 at most, are public) in the files.
no_secret() {
  local secrets=() s f
  # (no process substitution inside the UML: see lib/lab.sh)
  mapfile -t secrets <<<"$(grep -Eoh '[0-9a-fA-F]{20,}' "$keys/ikev2_decryption_table" "$keys/esp_sa" |
    sed 's/^0x//' | sort -u)"
  # AES-GCM: SK_ei and SK_er, and one encryption key per esp_sa line (2 CHILD_SAs)
  ((${#secrets[@]} >= 6)) || { LAB_WHY="only ${#secrets[@]} keys found in the tables"; return 1; }
  secrets+=("$LAB_PSK_DEFAULT")
  for f in "$@"; do
    for s in "${secrets[@]}"; do
      if grep -qiF -- "$s" "$f"; then
        LAB_WHY="$(basename "$f") contains a secret (${#s} characters)"
        return 1
      fi
    done
  done
  note "${#secrets[@]} secrets checked in $(basename -a "$@" | tr '\n' ' ')"
}
expect "no PSK or key in minivpnd's log/trace or in explain" no_secret "$log" "$LAB_OUT/a/explain.txt"
