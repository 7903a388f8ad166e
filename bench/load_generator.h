// The load generator (issue 8): one initiator-side ike::Engine over real UDP sockets that brings
// up N IKE+CHILD SAs with C handshakes in flight against a responder (minivpnd, charon or
// `minivpn-bench respond`), each tunnel with its own PeerConfig and IDi "t<i><suffix>", one PSK.
// Kernel operations go to a NullKernel: the generator measures the responder, not itself.
//
// Closed loop: a finished handshake (CHILD_SA up, failure or timeout) frees its slot for the
// next one, until N handshakes were started or T seconds passed. --delete removes each IKE SA
// (INFORMATIONAL DELETE) once its CHILD_SA is up (rate runs); --keep leaves them established
// on the responder (memory runs).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "bench/bench_common.h"
#include "xfrm/kernel_ipsec.h"

namespace minivpn::bench {

struct LoadOptions {
  xfrm::IpAddress local;   // the generator binds local:port and local:natt_port
  xfrm::IpAddress remote;  // the responder (its port 500 / 4500 are `port` / `natt_port`)
  std::uint16_t port = 500;
  std::uint16_t natt_port = 4500;
  std::size_t tunnels = 1000;     // N; 0 = no limit (then duration must be set)
  std::size_t concurrency = 16;   // C
  double duration_s = 0;          // T; 0 = until N are done
  bool keep = false;              // false = --delete
  std::size_t first_index = 0;    // tunnel indexes (and IDs) start here
  double timeout_s = 20;          // a handshake not done after this is a failure
  TunnelOptions tunnel;
  std::string json_path;
  bool quiet = false;             // no progress lines
  // --hold S: with --keep, stay S seconds after the last handshake, answering the responder's
  // CHILD_SA rekeys (a rekey storm when its rekey_time comes for all of them); counts them.
  double hold_s = 0;
};

int RunLoadGenerator(const LoadOptions& options);

}  // namespace minivpn::bench
