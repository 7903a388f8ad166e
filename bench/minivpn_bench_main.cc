// minivpn-bench: benchmarks of issue 8 (not part of the test pass).
//
//   minivpn-bench engine  [--groups x25519,ecp256,modp2048] [--tunnels M] [--concurrency C]
//                         [--keep] [--null-kernel] [--segment K] [--floor-iterations I]
//                         [--ts route|host] [--json FILE]
//       (a) initiator + responder engines in one process: responder CPU per handshake next to
//           the crypto floor measured by this binary.
//   minivpn-bench shards  [--threads 1,2] [--tunnels M] [--concurrency C] [--json FILE]
//       (e) the engine as minivpnd --workers splits it: one thread per shard, handshakes/s.
//   minivpn-bench load    --local ADDR --remote ADDR [--port 500] [--natt-port 4500]
//                         [--tunnels N] [--concurrency C] [--duration T] [--delete|--keep]
//                         [--group x25519] [--ts route|host] [--first-index I]
//                         [--id-suffix .bench.test] [--initial-contact] [--timeout S] [--hold S]
//                         [--json FILE] [--quiet]
//       the load generator: N IKE+CHILD SAs with C in flight against a responder over UDP.
//   minivpn-bench respond --listen ADDR [--port 500] [--natt-port 4500] [--group x25519]
//                         [--ts route|host] [--fake-kernel] [--json FILE]
//       the engine as a UDP responder with a null kernel (stand-in for minivpnd --fake-kernel).
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "bench/engine_bench.h"
#include "bench/load_generator.h"
#include "bench/responder.h"

namespace minivpn::bench {
namespace {

constexpr const char* kUsage =
    "usage: minivpn-bench engine|shards|load|respond [options]  (see bench/README.md)\n";

// --key value pairs and bare --flags.
class Args {
 public:
  Args(int argc, char** argv, const std::set<std::string>& flags) {
    for (int i = 2; i < argc; ++i) {
      std::string a = argv[i];
      if (a.rfind("--", 0) != 0) Fail("unexpected argument '" + a + "'");
      a = a.substr(2);
      if (flags.count(a)) {
        values_[a] = "1";
      } else if (i + 1 < argc) {
        values_[a] = argv[++i];
      } else {
        Fail("--" + a + " needs a value");
      }
    }
  }
  bool Has(const std::string& key) const { return values_.count(key) != 0; }
  std::string Str(const std::string& key, std::string def) const {
    used_.insert(key);
    auto it = values_.find(key);
    return it == values_.end() ? def : it->second;
  }
  std::size_t Size(const std::string& key, std::size_t def) const {
    std::string v = Str(key, "");
    return v.empty() ? def : std::strtoull(v.c_str(), nullptr, 10);
  }
  // "a,b,c" -> {"a", "b", "c"} (an empty item stays, for the caller to refuse).
  std::vector<std::string> List(const std::string& key) const {
    const std::string list = Str(key, "");
    std::vector<std::string> items;
    for (std::size_t start = 0; start <= list.size();) {
      std::size_t end = std::min(list.find(',', start), list.size());
      items.push_back(list.substr(start, end - start));
      start = end + 1;
    }
    return items;
  }
  double Double(const std::string& key, double def) const {
    std::string v = Str(key, "");
    return v.empty() ? def : std::strtod(v.c_str(), nullptr);
  }
  bool Flag(const std::string& key) const {
    used_.insert(key);
    return Has(key);
  }
  xfrm::IpAddress Address(const std::string& key) const {
    auto a = xfrm::IpAddress::Parse(Str(key, ""));
    if (!a || !a->is_v4()) Fail("--" + key + " needs an IPv4 address");
    return *a;
  }
  // Every option given was read by the command (catches typos).
  void CheckAllUsed() const {
    for (const auto& [k, v] : values_)
      if (!used_.count(k)) Fail("unknown option --" + k);
  }
  [[noreturn]] static void Fail(const std::string& why) {
    std::fprintf(stderr, "minivpn-bench: %s\n%s", why.c_str(), kUsage);
    std::exit(64);
  }

 private:
  std::map<std::string, std::string> values_;
  mutable std::set<std::string> used_;
};

crypto::DhGroup Group(const Args& args, const std::string& key) {
  auto g = ParseGroup(args.Str(key, "x25519"));
  if (!g) Args::Fail("unknown group (x25519, ecp256, modp2048)");
  return *g;
}

TsMode Ts(const Args& args) {
  std::string ts = args.Str("ts", "route");
  if (ts == "route") return TsMode::kRoute;
  if (ts == "host") return TsMode::kHost;
  Args::Fail("--ts is route or host");
}

int Engine(int argc, char** argv) {
  Args args(argc, argv, {"keep", "null-kernel"});
  EngineBenchOptions o;
  if (args.Has("groups")) {
    o.groups.clear();
    for (const std::string& item : args.List("groups")) {
      auto g = ParseGroup(item);
      if (!g) Args::Fail("unknown group in --groups");
      o.groups.push_back(*g);
    }
  }
  o.tunnels = args.Size("tunnels", o.tunnels);
  o.concurrency = args.Size("concurrency", o.concurrency);
  o.delete_after = !args.Flag("keep");
  o.null_kernel = args.Flag("null-kernel");
  o.segment = args.Size("segment", o.segment);
  o.floor_iterations = args.Size("floor-iterations", o.floor_iterations);
  o.ts_mode = Ts(args);
  o.json_path = args.Str("json", "");
  args.CheckAllUsed();
  if (o.tunnels == 0 || o.concurrency == 0) Args::Fail("--tunnels and --concurrency must be > 0");
  return RunEngineBench(o);
}

int Shards(int argc, char** argv) {
  Args args(argc, argv, {});
  EngineBenchOptions o;
  o.tunnels = args.Size("tunnels", 4000);
  o.concurrency = args.Size("concurrency", o.concurrency);
  o.json_path = args.Str("json", "");
  if (args.Has("threads")) {
    o.threads.clear();
    for (const std::string& item : args.List("threads")) {
      o.threads.push_back(std::strtoul(item.c_str(), nullptr, 10));
      if (o.threads.back() == 0) Args::Fail("--threads: a list of counts > 0");
    }
  }
  args.CheckAllUsed();
  if (o.tunnels == 0 || o.concurrency == 0) Args::Fail("--tunnels and --concurrency must be > 0");
  return RunShardBench(o);
}

int Load(int argc, char** argv) {
  Args args(argc, argv, {"keep", "delete", "initial-contact", "quiet"});
  LoadOptions o;
  o.local = args.Address("local");
  o.remote = args.Address("remote");
  o.port = static_cast<std::uint16_t>(args.Size("port", 500));
  o.natt_port = static_cast<std::uint16_t>(args.Size("natt-port", 4500));
  o.tunnels = args.Size("tunnels", o.tunnels);
  o.concurrency = args.Size("concurrency", o.concurrency);
  o.duration_s = args.Double("duration", 0);
  const bool keep = args.Flag("keep"), del = args.Flag("delete");
  if (keep && del) Args::Fail("--keep or --delete, not both");
  o.keep = keep;
  o.first_index = args.Size("first-index", 0);
  o.timeout_s = args.Double("timeout", o.timeout_s);
  o.hold_s = args.Double("hold", o.hold_s);
  o.tunnel.group = Group(args, "group");
  o.tunnel.ts_mode = Ts(args);
  o.tunnel.id_suffix = args.Str("id-suffix", o.tunnel.id_suffix);
  o.tunnel.initial_contact = args.Flag("initial-contact");
  o.json_path = args.Str("json", "");
  o.quiet = args.Flag("quiet");
  args.CheckAllUsed();
  if (o.concurrency == 0) Args::Fail("--concurrency must be > 0");
  if (o.tunnels == 0 && o.duration_s <= 0) Args::Fail("give --tunnels N or --duration T");
  return RunLoadGenerator(o);
}

int Respond(int argc, char** argv) {
  Args args(argc, argv, {"fake-kernel"});
  RespondOptions o;
  o.listen = args.Address("listen");
  o.port = static_cast<std::uint16_t>(args.Size("port", 500));
  o.natt_port = static_cast<std::uint16_t>(args.Size("natt-port", 4500));
  o.fake_kernel = args.Flag("fake-kernel");
  o.tunnel.group = Group(args, "group");
  o.tunnel.ts_mode = Ts(args);
  o.tunnel.id_suffix = args.Str("id-suffix", o.tunnel.id_suffix);
  o.json_path = args.Str("json", "");
  args.CheckAllUsed();
  return RunResponder(o);
}

}  // namespace
}  // namespace minivpn::bench

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fputs(minivpn::bench::kUsage, stderr);
    return 64;
  }
  const std::string_view command = argv[1];
  if (command == "engine") return minivpn::bench::Engine(argc, argv);
  if (command == "shards") return minivpn::bench::Shards(argc, argv);
  if (command == "load") return minivpn::bench::Load(argc, argv);
  if (command == "respond") return minivpn::bench::Respond(argc, argv);
  std::fputs(minivpn::bench::kUsage, stderr);
  return 64;
}
