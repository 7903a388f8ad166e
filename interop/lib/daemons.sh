# daemons.sh: the IKE daemons of the routers: their configuration (one swanctl.conf and one
# strongswan.conf per router, used by charon and minivpnd alike), starting and stopping them,
# driving them (initiate, terminate, rekey) and reading their SA state and logs.
# ROLE_<ROUTER> picks the daemon; see "The minivpnd hook" in interop/README.md for minivpnd's side.
# shellcheck disable=SC2034 # LAB_* variables are shared between these files and the scenarios

# ---- IKE configuration ---------------------------------------------------------------------------

role_of() {
  local var="ROLE_${1^^}"
  echo "${!var:-charon}"
}

# lab_conn X Y [key=value...]: connection "to-Y" on router X (IKE SA and CHILD SA both named
# "to-Y"), route-based: 0.0.0.0/0 <-> 0.0.0.0/0 marked with the pair's VTI key. Keys:
#   ike=<proposals>  esp=<proposals>  psk=<secret>  start=<start_action>
#   dpd=<dpd_delay>  dpd_action=<clear|trap|restart>  keyingtries=<n, 0 = forever>
#   rekey=<child rekey_time>  life=<child life_time>  rand=<child rand_time>
#   ike_rekey=<IKE rekey_time>  ike_over=<IKE over_time>  ike_rand=<IKE rand_time>
#   ike_reauth=<IKE reauth_time> (reauthentication, RFC 7296 2.8.3)
#   close=<close_action>  if_id=<n>: XFRM interface id (if_id_in/if_id_out = n) instead of the
#   VTI mark (mark_in/mark_out = pair key); see lab_xfrmi
#   remote_addrs=<addresses>: instead of Y's address (e.g. %any: a road-warrior style responder
#   that answers IKE_SA_INIT from any source)
#   local_addrs=<addresses>: instead of X's address (e.g. %any: answers on every local address,
#   IPv6 ones included; see lab_wan6)
#   local_id=<id> remote_id=<id>: the identities (and the PSK's) instead of X's and Y's IPv4
#   address (e.g. their IPv6 transport addresses, LAB_WAN6)
#   local_ts=<subnets> remote_ts=<subnets>: the child's selectors instead of 0.0.0.0/0
#   mark=no: no mark_in/mark_out (a policy-based tunnel)  inactivity=<child inactivity>
#   child2=<local_ts>,<remote_ts>: a second child "to-Y-2" with these selectors
#   mode=transport: transport-mode children (selectors with [proto/port] pass as written)
#   encap=yes: UDP encapsulation of ESP even without a NAT (swanctl's encap)
#   fragmentation=<yes|accept|force|no>: IKE fragmentation (RFC 7383; swanctl's fragmentation;
#   the fragments' size is strongswan.conf's fragment_size, see LAB_CHARON_SETTINGS)
#   vti=<name>: minivpnd makes the child's VTI itself (minivpn's children.<child>.vti section,
#   docs/config.md): name, the route to Y's local network, the inner address as lab_vti's; its
#   local and remote are the IKE SA's
#   xfrmi=<name>: minivpnd makes the child's XFRM interface itself (the xfrmi section, on eth0,
#   with if_id's id; route and inner address as lab_xfrmi's)
#   link_routes=no: the vti or xfrmi section names no route (BGP decides)
#   follow_sa=no: the vti or xfrmi section keeps its link up whatever its CHILD_SAs do
# Defaults come from the variables IKE_<X>, IKE, ESP_<X>, ESP, PSK_<X> (X = router, uppercase)
# and LAB_PSK_DEFAULT.
lab_conn() {
  local x=$1 y=$2
  shift 2
  local psk_var="PSK_${x^^}" ike_var="IKE_${x^^}" esp_var="ESP_${x^^}"
  local -A o=([ike]="${!ike_var:-${IKE:-aes256gcm16-prfsha256-x25519}}"
    [esp]="${!esp_var:-${ESP:-aes256gcm16}}" [psk]="${!psk_var:-$LAB_PSK_DEFAULT}" [start]=none
    [dpd]="" [dpd_action]="" [keyingtries]="" [rekey]="" [life]="" [rand]="" [ike_rekey]=""
    [ike_over]="" [ike_rand]="" [ike_reauth]="" [close]="" [wireshark]="" [if_id]="" [remote_addrs]="" [local_addrs]=""
    [updown]="" [local_ts]="" [remote_ts]="" [mark]="" [child2]="" [inactivity]="" [mode]=tunnel
    [encap]="" [vti]="" [xfrmi]="" [link_routes]=yes [follow_sa]="" [fragmentation]="" [local_id]="${LAB_WAN[$x]}" [remote_id]="${LAB_WAN[$y]}")
  local kv
  for kv in "$@"; do o[${kv%%=*}]=${kv#*=}; done
  local key name="to-$y" dir="$LAB_RUN/$x"
  key=$(pair_key "$x" "$y")
  mkdir -p "$dir"
  {
    echo "  $name {"
    echo "    version = 2"
    echo "    local_addrs = ${o[local_addrs]:-${LAB_WAN[$x]}}"
    echo "    remote_addrs = ${o[remote_addrs]:-${LAB_WAN[$y]}}"
    echo "    proposals = ${o[ike]}"
    [[ -n ${o[dpd]} ]] && echo "    dpd_delay = ${o[dpd]}"
    [[ -n ${o[keyingtries]} ]] && echo "    keyingtries = ${o[keyingtries]}"
    [[ -n ${o[ike_rekey]} ]] && echo "    rekey_time = ${o[ike_rekey]}"
    [[ -n ${o[ike_over]} ]] && echo "    over_time = ${o[ike_over]}"
    [[ -n ${o[ike_rand]} ]] && echo "    rand_time = ${o[ike_rand]}"
    [[ -n ${o[ike_reauth]} ]] && echo "    reauth_time = ${o[ike_reauth]}"
    [[ -n ${o[encap]} ]] && echo "    encap = ${o[encap]}"
    [[ -n ${o[fragmentation]} ]] && echo "    fragmentation = ${o[fragmentation]}"
    # minivpn's per-connection Wireshark export (charon has it as the save-keys plugin instead)
    [[ -n ${o[wireshark]} ]] && echo "    wireshark_keys = ${o[wireshark]}"
    echo "    local {"
    echo "      auth = psk"
    echo "      id = ${o[local_id]}"
    echo "    }"
    echo "    remote {"
    echo "      auth = psk"
    echo "      id = ${o[remote_id]}"
    echo "    }"
    echo "    children {"
    conn_child "$name" "${o[local_ts]:-0.0.0.0/0}" "${o[remote_ts]:-0.0.0.0/0}" "${o[vti]}"
    [[ -n ${o[child2]} ]] && conn_child "$name-2" "${o[child2]%%,*}" "${o[child2]#*,}"
    echo "    }"
    echo "  }"
  } >>"$dir/connections"
  {
    echo "  ike-$name {"
    echo "    id-local = ${o[local_id]}"
    echo "    id-remote = ${o[remote_id]}"
    echo "    secret = \"${o[psk]}\""
    echo "  }"
  } >>"$dir/secrets"
  note "$x: connection $name (${o[if_id]:+if_id ${o[if_id]}}${o[if_id]:-key $key}, ike ${o[ike]}, esp ${o[esp]}, start_action ${o[start]})"
}

# conn_child NAME LOCAL_TS REMOTE_TS [VTI]: one child section of lab_conn's connection, from
# lab_conn's options (its local `o`, `key`, `x`, `y`); VTI: the name of a VTI the daemon makes.
conn_child() {
  local name=$1 lts=$2 rts=$3 vti=${4:-}
  echo "      $name {"
  echo "        mode = ${o[mode]}"
  echo "        local_ts = $lts"
  echo "        remote_ts = $rts"
  if [[ -n ${o[if_id]} ]]; then
    echo "        if_id_in = ${o[if_id]}"
    echo "        if_id_out = ${o[if_id]}"
  elif [[ ${o[mark]} != no ]]; then
    echo "        mark_in = $key"
    echo "        mark_out = $key"
  fi
  echo "        esp_proposals = ${o[esp]}"
  echo "        start_action = ${o[start]}"
  [[ -n ${o[rekey]} ]] && echo "        rekey_time = ${o[rekey]}"
  [[ -n ${o[life]} ]] && echo "        life_time = ${o[life]}"
  [[ -n ${o[rand]} ]] && echo "        rand_time = ${o[rand]}"
  [[ -n ${o[close]} ]] && echo "        close_action = ${o[close]}"
  [[ -n ${o[dpd_action]} ]] && echo "        dpd_action = ${o[dpd_action]}"
  [[ -n ${o[updown]} ]] && echo "        updown = ${o[updown]}"
  [[ -n ${o[inactivity]} ]] && echo "        inactivity = ${o[inactivity]}"
  if [[ -n $vti ]]; then
    echo "        vti {"
    echo "          name = $vti"
    [[ -z ${o[follow_sa]} ]] || echo "          follow_sa = ${o[follow_sa]}"
    [[ ${o[link_routes]} == no ]] || echo "          routes = ${LAB_NET[$y]}"
    echo "          addrs = $(tunnel_addr "$x" "$y")/30"
    echo "        }"
  fi
  if [[ -n ${o[xfrmi]} && $name == "to-$y" ]]; then
    echo "        xfrmi {"
    echo "          name = ${o[xfrmi]}"
    echo "          dev = eth0"
    [[ -z ${o[follow_sa]} ]] || echo "          follow_sa = ${o[follow_sa]}"
    [[ ${o[link_routes]} == no ]] || echo "          routes = ${LAB_NET[$y]}"
    echo "          addrs = $(tunnel_addr "$x" "$y")/30"
    echo "        }"
  fi
  # CHILD_OPTS: extra child settings for every connection, ';'-separated swanctl.conf lines
  # without spaces (a scenarios.list parameter): "mark_in_sa=yes;replay_window=1024"
  if [[ -n ${CHILD_OPTS:-} ]]; then
    local opt opts
    IFS=';' read -ra opts <<<"$CHILD_OPTS"
    for opt in "${opts[@]}"; do echo "        $opt"; done
  fi
  echo "      }"
}

# lab_pair X Y [key=value...]: the VTIs and both connections of a pair.
lab_pair() {
  local x=$1 y=$2
  shift 2
  lab_tunnel "$x" "$y"
  lab_conn "$x" "$y" "$@"
  lab_conn "$y" "$x" "$@"
}

# Writes <results>/<X>/strongswan.conf and swanctl.conf. minivpnd reads the same two files.
write_configs() {
  local x=$1
  local out="$LAB_OUT/$x"
  mkdir -p "$out"
  cat >"$out/strongswan.conf" <<EOF
# generated by interop/lib/daemons.sh for router $x (scenario $LAB_SCENARIO)
charon-systemd {
  load = random nonce openssl aes sha1 sha2 hmac gcm gmp kdf kernel-netlink socket-default vici updown
  # route-based VPN: the VTI routes carry the traffic; the daemon must not add routes
  install_routes = no
  # reauthentication: new IKE_SA and CHILD_SAs before the old ones go (MAKE_BEFORE_BREAK=yes)
  make_before_break = ${MAKE_BEFORE_BREAK:-no}
  install_virtual_ip = no
  # lab timing: give up on a silent peer after about 10 s instead of minutes
  # (LAB_RETRANSMIT_TRIES raises it for lossy links)
  retransmit_tries = ${LAB_RETRANSMIT_TRIES:-3}
  retransmit_timeout = 1.0
  retransmit_base = 1.4
  journal {
    default = -1
  }
  syslog {
    daemon {
      default = -1
    }
  }
  filelog {
    lab {
      path = $out/$(role_of "$x").log
      time_format = %T
      ike_name = yes
      append = no
      flush_line = yes
      default = ${LAB_LOG_LEVEL:-1}
      ike = ${LAB_LOG_LEVEL:-2}
      knl = ${LAB_LOG_LEVEL:-2}
      cfg = ${LAB_LOG_LEVEL:-2}
    }
  }
  plugins {
    vici {
      socket = unix://$LAB_RUN/$x/vici
    }
  }
}

swanctl {
  load = random nonce openssl pem pkcs1 x509 pubkey
}
EOF
  charon_section "$x" >>"$out/strongswan.conf"
  {
    echo "# generated by interop/lib/daemons.sh for router $x (scenario $LAB_SCENARIO)"
    echo "connections {"
    cat "$LAB_RUN/$x/connections"
    echo "}"
    echo "secrets {"
    cat "$LAB_RUN/$x/secrets"
    echo "}"
  } >"$out/swanctl.conf"
  chmod 600 "$out/swanctl.conf"  # it holds the PSK (minivpnd warns about readable secrets)
}

# charon_section X: one `charon { }` section with what the scenario sets for router X, if anything:
#   LAB_KEEP_ALIVE           keep_alive (the NAT-T keepalive interval, RFC 3948; charon's default
#                            is 20s), every router
#   LAB_CHARON_SETTINGS      more settings for every router: ';'-separated strongswan.conf lines,
#                            e.g. "fragment_size = 200;cookie_threshold = 1"
#   LAB_CHARON_SETTINGS_<X>  the same for router X only (X uppercase), after those
# charon-systemd falls back to the charon section for what its own does not set, and minivpnd
# reads both, so both daemons take them.
charon_section() {
  local var="LAB_CHARON_SETTINGS_${1^^}" line more lines=()
  [[ -n ${LAB_KEEP_ALIVE:-} ]] &&
    lines+=("# NAT-T keepalives (scenario: LAB_KEEP_ALIVE)" "keep_alive = $LAB_KEEP_ALIVE")
  if [[ -n ${LAB_CHARON_SETTINGS:-}${!var:-} ]]; then
    lines+=("# scenario: LAB_CHARON_SETTINGS, $var")
    IFS=';' read -ra more <<<"${LAB_CHARON_SETTINGS:-};${!var:-}"
    for line in "${more[@]}"; do [[ -n $line ]] && lines+=("$line"); done
  fi
  ((${#lines[@]})) || return 0
  printf '\ncharon {\n'
  printf '  %s\n' "${lines[@]}"
  printf '}\n'
}

# ---- starting and stopping daemons ---------------------------------------------------------------

swan() {
  local x=$1
  shift
  STRONGSWAN_CONF="$LAB_OUT/$x/strongswan.conf" \
    swanctl "$@" --uri "unix://$LAB_RUN/$x/vici"
}

ctl() {
  local x=$1
  shift
  "$MINIVPNCTL" --socket "$LAB_RUN/$x/vici" "$@"
}

# lab_start X [Y...]: writes each router's configs and starts its daemon (ROLE_X) in its
# namespace; the daemons start side by side, then each must answer on its vici socket.
lab_start() {
  local x
  for x in "$@"; do launch_daemon "$x"; done
  for x in "$@"; do daemon_ready "$x"; done
}

launch_daemon() {
  local x=$1 role
  role=$(role_of "$x")
  write_configs "$x"
  step "start $role on $x"
  # A restarted daemon keeps the earlier logs as <name>.1.log, .2.log, ...
  local f i
  for f in "$LAB_OUT/$x/$role".{log,stdout}; do
    [[ -s $f ]] || continue
    for ((i = 1; ; i++)); do [[ -e ${f%.*}.$i.${f##*.} ]] || break; done
    mv "$f" "${f%.*}.$i.${f##*.}"
  done
  case $role in
    charon)
      ip netns exec "$x" env STRONGSWAN_CONF="$LAB_OUT/$x/strongswan.conf" \
        /usr/sbin/charon-systemd >"$LAB_OUT/$x/charon.stdout" 2>&1 &
      ;;
    minivpnd)
      [[ -x ${MINIVPND:-} ]] || lab_fail "ROLE_${x^^}=minivpnd but no minivpnd binary (MINIVPND='${MINIVPND:-}')"
      [[ -x ${MINIVPNCTL:-} ]] || lab_fail "ROLE_${x^^}=minivpnd but no minivpnctl binary (MINIVPNCTL='${MINIVPNCTL:-}')"
      # A scenario that put the legacy ipsec.conf + ipsec.secrets into the router's folder runs
      # minivpnd on those (the seed's files); otherwise on the generated swanctl.conf.
      local conf=(--config "$LAB_OUT/$x/swanctl.conf")
      [[ -f $LAB_OUT/$x/ipsec.conf ]] &&
        conf=(--ipsec-conf "$LAB_OUT/$x/ipsec.conf" --ipsec-secrets "$LAB_OUT/$x/ipsec.secrets")
      # LAB_MINIVPND_ARGS: extra options for every minivpnd (e.g. --trace=verbose --retain-keys)
      # shellcheck disable=SC2086
      ip netns exec "$x" "$MINIVPND" "${conf[@]}" ${LAB_MINIVPND_ARGS:-} \
        --strongswan-conf "$LAB_OUT/$x/strongswan.conf" \
        --journal "$LAB_RUN/$x/kernel.journal" >"$LAB_OUT/$x/minivpnd.stdout" 2>&1 &
      ;;
    *) lab_fail "unknown role '$role' for router $x" ;;
  esac
  echo $! >"$LAB_RUN/$x/pid"
}

daemon_ready() {
  local x=$1 out
  case $(role_of "$x") in
    charon)
      wait_until 15 swan "$x" --stats ||
        lab_fail "charon on $x did not open its vici socket (see $x/charon.log)"
      out=$(swan "$x" --load-all --noprompt --file "$LAB_OUT/$x/swanctl.conf" 2>&1) ||
        lab_fail "swanctl --load-all on $x: ${out//$'\n'/ }"
      echo "$out" >>"$LAB_OUT/$x/swanctl.out"
      ;;
    minivpnd)
      # minivpnd loads its --config itself; it is ready once its vici socket (strongswan.conf's,
      # as charon's) answers.
      wait_until 15 ctl "$x" list-sas ||
        lab_fail "minivpnd on $x did not answer on its vici socket (see $x/minivpnd.stdout)"
      ;;
  esac
}

# lab_stop X: graceful stop (the daemon may send DELETEs); lab_kill X: SIGKILL (a crash).
lab_stop() { stop_pid "$LAB_RUN/$1/pid" TERM; }

lab_kill() { stop_pid "$LAB_RUN/$1/pid" KILL; }

stop_pid() {
  local file=$1 sig=$2 pid
  [[ -f $file ]] || return 0
  pid=$(<"$file")
  kill -"$sig" "$pid" 2>/dev/null
  local i
  for ((i = 0; i < 50; i++)); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  kill -KILL "$pid" 2>/dev/null
  rm -f "$file"
}

# ---- driving daemons -----------------------------------------------------------------------------

# lab_initiate X NAME: asks X's daemon to bring up CHILD_SA NAME (and its IKE_SA). swanctl and
# minivpnctl both wait for the outcome (at most 30 s); scenarios still follow with lab_wait_sa.
lab_initiate() {
  local x=$1 name=$2 out rc
  step "initiate $name on $x ($(role_of "$x"))"
  case $(role_of "$x") in
    charon) out=$(swan "$x" --initiate --ike "$name" --child "$name" --timeout 30 2>&1) ;;
    minivpnd) out=$(ctl "$x" initiate "$name" --timeout 30 2>&1) ;;
  esac
  rc=$?
  echo "$out" >>"$LAB_OUT/$x/initiate.out"
  ((rc == 0)) || LAB_WHY="initiate $name on $x failed: $(tail -n 1 <<<"$out")"
  return $rc
}

# lab_terminate X NAME: deletes IKE_SA NAME (and its children) from X's side.
lab_terminate() {
  local x=$1 name=$2 out rc
  step "terminate $name on $x"
  case $(role_of "$x") in
    charon) out=$(swan "$x" --terminate --ike "$name" --timeout 10 2>&1) ;;
    minivpnd) out=$(ctl "$x" terminate "$name" --timeout 10 2>&1) ;;
  esac
  rc=$?
  echo "$out" >>"$LAB_OUT/$x/terminate.out"
  ((rc == 0)) || LAB_WHY="terminate $name on $x failed: $(tail -n 1 <<<"$out")"
  return $rc
}

# lab_triangle_up: the three tunnels of lab_topology_triangle (a initiates to b and c, b to c),
# each checked up on both ends.
lab_triangle_up() {
  expect "initiate a -> b" lab_initiate a to-b
  expect "initiate a -> c" lab_initiate a to-c
  expect "initiate b -> c" lab_initiate b to-c
  local pair
  for pair in "a to-b" "a to-c" "b to-a" "b to-c" "c to-a" "c to-b"; do
    # shellcheck disable=SC2086 # "$pair" is two words: router and connection
    expect "tunnel $pair up" lab_wait_sa $pair
  done
}

# lab_rekey X NAME [child|ike]: asks X's daemon to rekey CHILD_SA (or IKE_SA) NAME now.
lab_rekey() {
  local x=$1 name=$2 kind=${3:-child} out rc
  case $(role_of "$x") in
    charon) out=$(swan "$x" --rekey "--$kind" "$name" 2>&1) ;;
    minivpnd)
      # --no-wait: as swanctl --rekey, which returns once the rekey is started (scenarios
      # start rekeys on both ends back to back to make them collide).
      if [[ $kind == ike ]]; then
        out=$(ctl "$x" rekey "$name" --no-wait 2>&1)
      else
        out=$(ctl "$x" rekey "$name" --child "$name" --no-wait 2>&1)
      fi
      ;;
  esac
  rc=$?
  echo "$out" >>"$LAB_OUT/$x/rekey.out"
  ((rc == 0)) || LAB_WHY="rekey $kind $name on $x failed: $(tail -n 1 <<<"$out")"
  return $rc
}

# ---- SA state ------------------------------------------------------------------------------------

# lab_list_sas X: the daemon's SA listing. Contract for both daemons (swanctl's text format):
#   "<ike-name>: #<n>, ESTABLISHED, ..."        one line per IKE SA
#   "  <child-name>: #<n>, reqid <r>, INSTALLED, ..." one indented line per CHILD SA
lab_list_sas() {
  case $(role_of "$1") in
    charon) swan "$1" --list-sas 2>/dev/null ;;
    minivpnd) ctl "$1" list-sas 2>/dev/null ;;
  esac
}

# sa_up X NAME: IKE_SA NAME established and its CHILD_SA NAME installed, right now.
sa_up() {
  local sas
  sas=$(lab_list_sas "$1")
  grep -Eq "^$2: #[0-9]+, ESTABLISHED" <<<"$sas" && grep -Eq "^ +$2: #[0-9]+, .*INSTALLED" <<<"$sas"
}

# lab_wait_sa X NAME [SECONDS]: waits until sa_up; default 15 s.
lab_wait_sa() {
  local x=$1 name=$2 t=${3:-15}
  if wait_until "$t" sa_up "$x" "$name"; then
    lab_list_sas "$x" >"$LAB_OUT/$x/sas-$name.txt"
    return 0
  fi
  lab_list_sas "$x" >"$LAB_OUT/$x/sas-$name.txt"
  LAB_WHY="$name not ESTABLISHED+INSTALLED on $x after ${t}s (see $x/$(role_of "$x").log)"
  return 1
}

# lab_wait_no_sa X NAME [SECONDS]: waits until NAME is no longer up on X; default 15 s.
lab_wait_no_sa() {
  local x=$1 name=$2 t=${3:-15}
  wait_until "$t" sa_down "$x" "$name" && return 0
  LAB_WHY="$name still up on $x after ${t}s"
  return 1
}

sa_down() { ! sa_up "$1" "$2"; }

# lab_no_sa X NAME [SECONDS]: true if NAME is not up on X during the whole period.
lab_no_sa() {
  local x=$1 name=$2 t=${3:-5} end
  end=$(($(date +%s) + t))
  while (($(date +%s) < end)); do
    if sa_up "$x" "$name"; then
      LAB_WHY="$name is up on $x"
      return 1
    fi
    sleep 0.3
  done
  return 0
}

# lab_list_has X REGEX: X's SA listing matches REGEX.
lab_list_has() {
  grep -Eq -- "$2" <<<"$(lab_list_sas "$1")" && return 0
  LAB_WHY="'$2' not in the SA listing of $1"
  return 1
}

# child_id X NAME / ike_id X NAME: the highest "#<n>" of the CHILD_SAs (IKE_SAs) NAME in X's SA
# listing, whatever their state. Both daemons number their SAs upwards, so a rekey raises it.
child_id() {
  lab_list_sas "$1" | sed -nE "s/^ +$2: #([0-9]+), .*/\1/p" | sort -n | tail -n 1
}

ike_id() {
  lab_list_sas "$1" | sed -nE "s/^$2: #([0-9]+), .*/\1/p" | sort -n | tail -n 1
}

# lab_wait_rekeys X NAME N [SECONDS] [child|ike] [BASE]: waits until X's CHILD_SA (or IKE_SA)
# NAME was replaced N times by rekeying, counted from its #id BASE (default: the #id right now).
lab_wait_rekeys() {
  local x=$1 name=$2 n=$3 t=${4:-60} kind=${5:-child} base=${6:-} now end
  [[ -n $base ]] || base=$("${kind}_id" "$x" "$name")
  [[ -n $base ]] || { LAB_WHY="$kind SA $name not up on $x"; return 1; }
  end=$((EPOCHSECONDS + t))
  while ((EPOCHSECONDS < end)); do
    now=$("${kind}_id" "$x" "$name")
    if [[ -n $now ]] && ((now >= base + n)); then
      note "$x: $kind SA $name #$base -> #$now"
      return 0
    fi
    sleep 0.2
  done
  LAB_WHY="$x: $kind SA $name went from #$base to #${now:-none} in ${t}s, expected $n rekeys"
  return 1
}

# lab_ike_sa_count X NAME: number of IKE_SAs NAME in X's listing (any state).
lab_ike_sa_count() { lab_list_sas "$1" | grep -Ec "^$2: #[0-9]+, "; }

# ike_sa_count_is X NAME N
ike_sa_count_is() {
  local n
  n=$(lab_ike_sa_count "$1" "$2")
  ((n == $3)) && return 0
  LAB_WHY="$1 lists $n IKE_SAs $2, expected $3"
  return 1
}

# ---- daemon logs ---------------------------------------------------------------------------------

# lab_log_has X REGEX: X's daemon log contains REGEX (e.g. AUTHENTICATION_FAILED).
lab_log_has() {
  local role
  role=$(role_of "$1")
  grep -Eqs -- "$2" "$LAB_OUT/$1/$role".{log,stdout} && return 0
  LAB_WHY="'$2' not found in $1/$role.log or $1/$role.stdout"
  return 1
}

# lab_wait_log X REGEX [SECONDS]: waits until lab_log_has X REGEX; default 10 s.
lab_wait_log() {
  wait_until "${3:-10}" lab_log_has "$1" "$2" && return 0
  lab_log_has "$1" "$2"
}
