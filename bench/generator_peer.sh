# shellcheck shell=bash
# generator_peer.sh: the connection a `minivpn-bench load` generator meets, for charon and
# minivpnd alike (sourced by bench/daemon_bench.sh and interop/scenarios/scale.sh).
#
# The generator brings tunnel i as identity t<i>.bench.test with one PSK (bench_common.cc), so
# the responder has one %any PSK connection for all of them; no rekeying unless the caller asks.

GENERATOR_PSK="minivpn-bench-preshared-key"

# generator_peer NAME LOCAL_ADDR IKE_PROPOSALS SELECTORS: connection NAME's section (inside
# `connections { }`), SELECTORS the child's selector lines (local_ts, remote_ts, marks or if_ids,
# written as given). The child's rekey_time and life_time lines are "        rekey_time = 0" and
# "        life_time = 0" (8 spaces), for a caller that turns rekeying on with sed.
generator_peer() {
  cat <<CONF
  $1 {
    version = 2
    local_addrs = $2
    proposals = $3
    rekey_time = 0
    local {
      auth = psk
      id = responder.bench.test
    }
    remote {
      auth = psk
    }
    children {
      net {
        $4
        esp_proposals = aes256gcm16
        rekey_time = 0
        life_time = 0
      }
    }
  }
CONF
}

# generator_secret NAME: the PSK's section (inside `secrets { }`).
generator_secret() {
  cat <<CONF
  ike-$1 {
    secret = "$GENERATOR_PSK"
  }
CONF
}
