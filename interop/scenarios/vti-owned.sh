# about: minivpnd owns its VTI: a child's `vti { }` section makes it create vti-b (key = mark 12), disable_policy, MTU and the route; SIGTERM removes them
#
#   host-a 10.1.0.10                                                      host-b 10.2.0.10
#      | 10.1.0.0/24 (Net A)                                (Net B) 10.2.0.0/24 |
#   [router a] vti-b (made by minivpnd) ===== ESP, key 12 ===== vti-a (lab) [router b]
#    minivpnd: children.to-b.vti { name = vti-b  mtu = 1400  routes = 10.2.0.0/24
#                                  addrs = 169.254.12.1/30 }
#      | eth0 192.0.2.1                                      198.51.100.1 eth0 |
#      +-- eth-a 192.0.2.254 ---------[ inet ]--------- 198.51.100.254 eth-b --+
#
# Router a has no VTI before minivpnd starts: minivpnd creates it from its configuration
# (minivpn's addition to swanctl.conf, docs/config.md), with the child's mark as ikey/okey, the
# configured MTU, address and route, and net.ipv4.conf.vti-b.disable_policy=1; b's VTI is the
# lab's (169.254.12.2/30 inside).

lab_topology_two_sites
lab_vti b a
mkdir -p "$LAB_RUN/a"
cat >"$LAB_RUN/a/connections" <<CONF
  to-b {
    version = 2
    local_addrs = ${LAB_WAN[a]}
    remote_addrs = ${LAB_WAN[b]}
    proposals = aes256gcm16-prfsha256-x25519
    local {
      auth = psk
      id = ${LAB_WAN[a]}
    }
    remote {
      auth = psk
      id = ${LAB_WAN[b]}
    }
    children {
      to-b {
        local_ts = 0.0.0.0/0
        remote_ts = 0.0.0.0/0
        mark_in = 12
        mark_out = 12
        esp_proposals = aes256gcm16
        vti {
          name = vti-b
          mtu = 1400
          routes = ${LAB_NET[b]}
          addrs = $(tunnel_addr a b)/30
        }
      }
    }
  }
CONF
cat >"$LAB_RUN/a/secrets" <<CONF
  ike-to-b {
    id-local = ${LAB_WAN[a]}
    id-remote = ${LAB_WAN[b]}
    secret = "$LAB_PSK_DEFAULT"
  }
CONF
lab_conn b a

ROLE_A=minivpnd
expect_not "a has no VTI before minivpnd starts" on a ip link show vti-b
lab_start b a
expect "minivpnd created vti-b" on a ip link show vti-b
ip -n a -d link show vti-b >"$LAB_OUT/a/vti-b.txt"
expect "vti-b: ikey and okey 12, local and remote as the IKE SA" \
  grep -Eq 'vti remote 198\.51\.100\.1 local 192\.0\.2\.1 .*ikey 0\.0\.0\.12 okey 0\.0\.0\.12' "$LAB_OUT/a/vti-b.txt"
expect "vti-b: MTU 1400, administratively up, dormant until a CHILD_SA is installed" \
  grep -Eq '<[^>]*,UP[,>].* mtu 1400 .*state DORMANT .*mode DORMANT' "$LAB_OUT/a/vti-b.txt"
expect "vti-b: disable_policy = 1" test "$(on a sysctl -n net.ipv4.conf.vti-b.disable_policy)" = 1
expect "the configured route goes through vti-b" on a sh -c "ip route show ${LAB_NET[b]} | grep -q 'dev vti-b'"
expect_not "no inner address on vti-b before the tunnel is up" \
  on a sh -c "ip -4 addr show dev vti-b | grep -q 'inet $(tunnel_addr a b)/30'"
expect "initiate a -> b" lab_initiate a to-b
expect "tunnel up on a" lab_wait_sa a to-b
expect "tunnel up: vti-b is up (operationally)" \
  wait_until 5 on a sh -c "ip link show vti-b | grep -q 'state UP'"
expect "tunnel up: the configured address is on vti-b" \
  on a sh -c "ip -4 addr show dev vti-b | grep -q 'inet $(tunnel_addr a b)/30'"
expect "ping Net A -> Net B through minivpnd's VTI" lab_ping host-a "${LAB_HOST[b]}" 5
expect "ping b's inner address from a's (the address a routing protocol would use)" \
  on a ping -n -q -c 3 -i 0.2 -W 1 -I "$(tunnel_addr a b)" "$(tunnel_addr b a)"
step "SIGTERM minivpnd on a"
lab_stop a
expect "a's kernel is clean after SIGTERM" lab_wait_xfrm_empty a 5
expect_not "minivpnd removed vti-b" on a ip link show vti-b
