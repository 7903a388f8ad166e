// The crypto floor of one responder handshake (RFC 7296 IKE_SA_INIT + IKE_AUTH with one
// CHILD_SA, PSK, aes256gcm16-prfsha256-<group>): what any responder has to compute, measured
// through minivpn's crypto/ library with no engine around it:
//   one KE key pair + g^ir (with the cheap peer-value checks), SKEYSEED + SK_* (2.14), two
//   SkCiphers, AUTH verify + AUTH compute (2.15), CHILD_SA KEYMAT (2.17), and the SK payload
//   open/seal of `sk_messages` messages (2 = the IKE_AUTH exchange, 4 = plus the
//   INFORMATIONAL DELETE exchange).
#pragma once

#include <cstddef>
#include <functional>

#include "bench/bench_common.h"
#include "crypto/algorithms.h"

namespace minivpn::bench {

struct FloorResult {
  double cpu_us = 0;        // per handshake, thread CPU time
  double instructions = 0;  // per handshake, user space (0 without perf counters)
};

FloorResult MeasureCryptoFloor(crypto::DhGroup group, std::size_t sk_messages,
                               std::size_t iterations, const InstructionCounter& counter);

// The floor's timed phases run through here, for callgrind: --toggle-collect='*BenchFloorCall*'.
void BenchFloorCall(const std::function<void()>& fn);

}  // namespace minivpn::bench
