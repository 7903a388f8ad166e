// Benchmark (a) of issue 8: an initiator and a responder ike::Engine in one process, stepped
// over an in-memory wire with a virtual clock, establishing M IKE+CHILD SAs. The responder's
// calls (and only those) run inside BenchResponderCall, which charges thread CPU time and
// user-space instructions to it. Next to it, the crypto floor: the same binary timing the
// crypto a responder cannot avoid for one handshake (crypto_floor.h).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "bench/bench_common.h"
#include "crypto/algorithms.h"

namespace minivpn::bench {

struct EngineBenchOptions {
  std::vector<crypto::DhGroup> groups = {crypto::DhGroup::kCurve25519, crypto::DhGroup::kEcp256,
                                         crypto::DhGroup::kModp2048};
  std::size_t tunnels = 2000;     // M
  std::size_t concurrency = 16;   // handshakes in flight
  bool delete_after = true;       // INFORMATIONAL DELETE after each CHILD_SA is up
  bool null_kernel = false;       // NullKernel instead of xfrm::FakeKernel
  std::size_t segment = 1000;     // report per-handshake cost per this many handshakes
  std::size_t floor_iterations = 400;
  TsMode ts_mode = TsMode::kRoute;
  std::string json_path;          // empty = no file
  // shards: the thread counts to compare (each thread an initiator and a responder shard).
  std::vector<std::size_t> threads = {1, 2};
};

// Runs the benchmark for each group, prints a table, writes JSON; returns the exit status.
int RunEngineBench(const EngineBenchOptions& options);

// (e) the engine split into shards, one thread each, as minivpnd --workers runs it: thread i
// drives its own initiator against responder shard i of T (the shards share one locked table of
// reqids and serials, as in the daemon); M x25519 handshakes (DELETE after each, null kernel)
// spread over the threads. Prints handshakes/s (wall) for each thread count and the scaling.
int RunShardBench(const EngineBenchOptions& options);

// The responder's calls go through here (not inlined), so that callgrind can restrict its
// collection to them: valgrind --tool=callgrind --toggle-collect='*BenchResponderCall*'.
void BenchResponderCall(const std::function<void()>& fn);

}  // namespace minivpn::bench
