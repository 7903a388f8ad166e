// `minivpn-bench respond`: the engine as a responder over real UDP sockets, with a NullKernel
// (or the FakeKernel), one %any PeerConfig, no vici socket and no logging. It stands in for
// `minivpnd --fake-kernel` in benchmarks (b) and (c) until the daemon has that option, so the
// scripts can measure the engine's CPU per handshake and RSS per tunnel from outside
// (/proc/<pid>/stat and /proc/<pid>/status), exactly as they do for charon.
//
// SIGUSR1 prints one status line (IKE SAs, CPU, RSS); SIGINT/SIGTERM print it and exit.
#pragma once

#include <cstdint>
#include <string>

#include "bench/bench_common.h"
#include "xfrm/kernel_ipsec.h"

namespace minivpn::bench {

struct RespondOptions {
  xfrm::IpAddress listen;
  std::uint16_t port = 500;
  std::uint16_t natt_port = 4500;
  bool fake_kernel = false;
  TunnelOptions tunnel;
  std::string json_path;  // written at exit
};

int RunResponder(const RespondOptions& options);

}  // namespace minivpn::bench
