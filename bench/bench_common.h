// Shared pieces of minivpn-bench: the suites and configurations the benchmarks use, CPU and
// instruction counters, percentiles and a small JSON writer. Not part of the daemon.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "crypto/algorithms.h"
#include "crypto/secret.h"
#include "ike/engine/engine_config.h"
#include "xfrm/kernel_ipsec.h"

namespace minivpn::bench {

// "x25519" / "ecp256" / "modp2048" (also "curve25519", "ecp_256", "modp_2048").
std::optional<crypto::DhGroup> ParseGroup(std::string_view name);
std::string_view GroupName(crypto::DhGroup group);  // "x25519" ...

// aes256gcm16-prfsha256-<group>: the IKE proposal of every benchmark.
ike::IkeProposal BenchIkeProposal(crypto::DhGroup group);
// esp = aes256gcm16 (noesn).
ike::EspProposal BenchEspProposal();

// How the CHILD_SAs' traffic selectors are chosen.
//   kRoute: 0.0.0.0/0 <-> 0.0.0.0/0 with mark 42 (route-based, what minivpn is for);
//   kHost:  tunnel i asks for 10.128.0.0 + i /32 <-> 10.0.0.0/24, so that a responder that
//           installs policies in user space (charon + kernel-libipsec) gets distinct ones.
enum class TsMode : std::uint8_t { kRoute, kHost };

struct TunnelOptions {
  crypto::DhGroup group = crypto::DhGroup::kCurve25519;
  TsMode ts_mode = TsMode::kRoute;
  std::string id_suffix = ".bench.test";  // IDi of tunnel i = "t<i><suffix>" (FQDN)
  bool initial_contact = false;  // see README: a single %any responder config and 2.4
};

// The initiator's config of tunnel `index` (name "t<index>", IDi unique, IDr = any).
ike::PeerConfig InitiatorPeer(std::size_t index, const xfrm::IpAddress& local,
                              const xfrm::IpAddress& remote, std::uint16_t remote_port,
                              const TunnelOptions& options, const SecretBytes& psk);
// The responder's single config: any address, any IDi, IDr "responder<suffix>".
ike::PeerConfig ResponderPeer(const TunnelOptions& options, const SecretBytes& psk);

// The PSK all benchmarks use (not a secret: a benchmark constant).
SecretBytes BenchPsk();

// CPU time of the calling thread (CLOCK_THREAD_CPUTIME_ID), nanoseconds.
std::uint64_t ThreadCpuNanos();
// utime + stime of this process (getrusage), nanoseconds.
std::uint64_t ProcessCpuNanos();
// VmRSS of this process in bytes (0 if /proc is unavailable).
std::uint64_t RssBytes();

// User-space instructions retired by the calling thread (perf_event_open). Unavailable (and
// every read 0) when the kernel refuses the counter; `available()` says which.
class InstructionCounter {
 public:
  InstructionCounter();
  ~InstructionCounter();
  InstructionCounter(const InstructionCounter&) = delete;
  InstructionCounter& operator=(const InstructionCounter&) = delete;
  bool available() const { return fd_ >= 0; }
  std::uint64_t Read() const;

 private:
  int fd_ = -1;
};

// Accumulates CPU nanoseconds and instructions over the calls it wraps.
struct CostMeter {
  std::uint64_t cpu_ns = 0;
  std::uint64_t instructions = 0;
};
class CostScope {
 public:
  CostScope(CostMeter& meter, const InstructionCounter& counter)
      : meter_(meter), counter_(counter), cpu0_(ThreadCpuNanos()), ins0_(counter.Read()) {}
  ~CostScope() {
    meter_.instructions += counter_.Read() - ins0_;
    meter_.cpu_ns += ThreadCpuNanos() - cpu0_;
  }
  CostScope(const CostScope&) = delete;
  CostScope& operator=(const CostScope&) = delete;

 private:
  CostMeter& meter_;
  const InstructionCounter& counter_;
  std::uint64_t cpu0_;
  std::uint64_t ins0_;
};

// p in [0, 100]; nearest-rank on a copy. 0 for an empty sample.
double Percentile(std::vector<double> values, double p);

// Minimal JSON object builder: Add(...) keeps insertion order; values are numbers, strings,
// booleans or nested objects/arrays already rendered with Render().
class Json {
 public:
  Json& Add(std::string_view key, double value);
  Json& Add(std::string_view key, std::uint64_t value);
  Json& Add(std::string_view key, std::string_view value);
  Json& Add(std::string_view key, const char* value) { return Add(key, std::string_view(value)); }
  Json& Add(std::string_view key, bool value);
  Json& AddRaw(std::string_view key, std::string raw);  // an already rendered value
  std::string Render() const;
  static std::string Array(const std::vector<std::string>& rendered);
  static std::string Quote(std::string_view text);

 private:
  std::vector<std::pair<std::string, std::string>> fields_;
};

// Writes `text` to `path`; false (with a message on stderr) on failure.
bool WriteFile(const std::string& path, const std::string& text);

}  // namespace minivpn::bench
