#include "bench/engine_bench.h"

#include <chrono>
#include <cstdio>
#include <memory>
#include <string>
#include <thread>

#include "bench/crypto_floor.h"
#include "bench/null_kernel.h"
#include "cli/daemon/engine_shards.h"
#include "crypto/random.h"
#include "ike/engine/engine.h"
#include "xfrm/fake_kernel.h"

namespace minivpn::bench {

// Not inlined and not a tail call: callgrind must see it on the stack while fn runs.
__attribute__((noinline)) void BenchResponderCall(const std::function<void()>& fn) {
  fn();
  asm volatile("" ::: "memory");
}

namespace {

struct SegmentCost {
  std::size_t handshakes = 0;  // handshakes completed at the end of the segment
  double cpu_us = 0;           // per handshake within the segment
  double instructions = 0;
};

struct GroupResult {
  crypto::DhGroup group{};
  std::size_t established = 0;
  std::size_t failures = 0;
  std::size_t responder_sas_left = 0;
  double cpu_us = 0;  // responder, per handshake, whole run
  double instructions = 0;
  double wall_s = 0;
  std::uint64_t rss_growth = 0;  // process RSS growth over the run (both engines)
  std::vector<SegmentCost> segments;
  FloorResult floor;
};

ike::Datagram Arrive(ike::Datagram d) {
  return ike::Datagram{.local = d.remote, .remote = d.local, .data = std::move(d.data)};
}

// The responder shard a thread of RunShardBench drives (none: one engine alone).
struct ShardSlot {
  std::uint32_t index = 0;
  std::uint32_t count = 1;
  ike::SharedIds* ids = nullptr;
  std::size_t first_tunnel = 0;  // the thread's tunnels get names of their own
};

GroupResult RunGroup(crypto::DhGroup group, const EngineBenchOptions& options,
                     const InstructionCounter& counter, const ShardSlot& slot = {}) {
  ike::EngineConfig config;
  // One initiator address brings all handshakes: lift the per-IP half-open limits (2.6),
  // which would otherwise answer with COOKIEs or drop (charon's bench config does the same).
  config.cookie_threshold = 1u << 30;
  config.cookie_threshold_ip = 1u << 30;
  config.block_threshold_ip = 1u << 30;
  crypto::SeededRandom rand_i(1), rand_r(2);
  xfrm::FakeKernel fake_i, fake_r;
  NullKernel null_i, null_r;
  xfrm::KernelIpsec& kernel_i = options.null_kernel ? static_cast<xfrm::KernelIpsec&>(null_i)
                                                    : static_cast<xfrm::KernelIpsec&>(fake_i);
  xfrm::KernelIpsec& kernel_r = options.null_kernel ? static_cast<xfrm::KernelIpsec&>(null_r)
                                                    : static_cast<xfrm::KernelIpsec&>(fake_r);
  const std::uint64_t rss0 = RssBytes();
  ike::Engine initiator(config, rand_i, kernel_i);
  ike::EngineConfig shard_config = config;
  shard_config.shard_index = slot.index;
  shard_config.shard_count = slot.count;
  ike::SharedIdTable own_ids;
  ike::Engine responder(shard_config, rand_r, kernel_r, slot.ids ? *slot.ids : own_ids);
  const auto ip_i = *xfrm::IpAddress::Parse("192.0.2.1");
  const auto ip_r = *xfrm::IpAddress::Parse("192.0.2.2");
  TunnelOptions tunnel{.group = group, .ts_mode = options.ts_mode};
  const SecretBytes psk = BenchPsk();
  ike::TimePoint now = ike::TimePoint{} + std::chrono::hours(1);
  if (!responder.AddPeer(ResponderPeer(tunnel, psk), now)) {
    std::fprintf(stderr, "minivpn-bench: responder config rejected\n");
    std::exit(1);
  }

  GroupResult result;
  result.group = group;
  CostMeter meter, segment_start;
  std::size_t next = 0, in_flight = 0;
  const auto wall0 = std::chrono::steady_clock::now();
  std::size_t idle_rounds = 0;
  while (result.established + result.failures < options.tunnels) {
    while (in_flight < options.concurrency && next < options.tunnels) {
      const std::size_t t = slot.first_tunnel + next;
      auto added = initiator.AddPeer(InitiatorPeer(t, ip_i, ip_r, 500, tunnel, psk), now);
      auto started = added ? initiator.Initiate("t" + std::to_string(t), "net", now)
                           : std::expected<std::uint64_t, std::string>(std::unexpected("config"));
      ++next;
      if (!started) {
        ++result.failures;
        continue;
      }
      ++in_flight;
    }
    std::vector<ike::Datagram> to_responder = initiator.TakeDatagrams();
    std::vector<ike::Datagram> to_initiator;
    {
      CostScope scope(meter, counter);
      BenchResponderCall([&] {
        for (auto& d : to_responder) responder.HandleDatagram(Arrive(std::move(d)), now);
        responder.HandleTimers(now);
        to_initiator = responder.TakeDatagrams();
        (void)responder.TakeEvents();
      });
    }
    for (auto& d : to_initiator) initiator.HandleDatagram(Arrive(std::move(d)), now);
    initiator.HandleTimers(now);
    const std::size_t before = result.established + result.failures;
    for (const ike::Event& e : initiator.TakeEvents()) {
      const std::size_t done_before = result.established + result.failures;
      if (e.kind == ike::EventKind::kChildUp) {
        ++result.established;
        --in_flight;
        if (options.delete_after) initiator.RemovePeer(e.peer, now);  // sends the DELETE
      } else if (e.kind == ike::EventKind::kFailure) {
        ++result.failures;
        --in_flight;
        initiator.RemovePeer(e.peer, now);
      }
      const std::size_t done = result.established + result.failures;
      if (options.segment && done != done_before && done % options.segment == 0) {
        const double n = static_cast<double>(options.segment);
        result.segments.push_back(SegmentCost{
            .handshakes = done,
            .cpu_us = static_cast<double>(meter.cpu_ns - segment_start.cpu_ns) / 1000.0 / n,
            .instructions =
                static_cast<double>(meter.instructions - segment_start.instructions) / n});
        segment_start = meter;
      }
    }
    if (!options.null_kernel && fake_r.call_count() > 100000) {
      fake_r.ClearLog();  // the fake's call log is test machinery, not responder state
      fake_i.ClearLog();
    }
    now += std::chrono::milliseconds(1);
    if (result.established + result.failures == before && to_responder.empty() &&
        to_initiator.empty()) {
      if (++idle_rounds > 200000) {
        std::fprintf(stderr, "minivpn-bench: %s: stalled with %zu in flight\n",
                     std::string(GroupName(group)).c_str(), in_flight);
        result.failures += in_flight;
        break;
      }
    } else {
      idle_rounds = 0;
    }
  }
  // Let the last DELETE exchanges finish, still charging the responder.
  for (int round = 0; round < 4; ++round) {
    std::vector<ike::Datagram> to_responder = initiator.TakeDatagrams();
    std::vector<ike::Datagram> to_initiator;
    {
      CostScope scope(meter, counter);
      BenchResponderCall([&] {
        for (auto& d : to_responder) responder.HandleDatagram(Arrive(std::move(d)), now);
        to_initiator = responder.TakeDatagrams();
        (void)responder.TakeEvents();
      });
    }
    for (auto& d : to_initiator) initiator.HandleDatagram(Arrive(std::move(d)), now);
    (void)initiator.TakeEvents();
  }
  result.wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - wall0).count();
  result.responder_sas_left = responder.ike_sa_count();
  const std::uint64_t rss1 = RssBytes();
  result.rss_growth = rss1 > rss0 ? rss1 - rss0 : 0;
  const double n = static_cast<double>(result.established ? result.established : 1);
  result.cpu_us = static_cast<double>(meter.cpu_ns) / 1000.0 / n;
  result.instructions = static_cast<double>(meter.instructions) / n;
  return result;
}

}  // namespace

int RunEngineBench(const EngineBenchOptions& options) {
  InstructionCounter counter;
  std::vector<GroupResult> results;
  const std::size_t sk_messages = options.delete_after ? 4 : 2;
  for (crypto::DhGroup group : options.groups) {
    GroupResult r = RunGroup(group, options, counter);
    // The floor after the engine run, with the same counters, in the same process.
    r.floor = MeasureCryptoFloor(group, sk_messages, options.floor_iterations, counter);
    results.push_back(std::move(r));
  }

  std::printf("bench (a): responder engine vs crypto floor, %zu tunnels, %zu in flight, %s, "
              "%s kernel%s\n",
              options.tunnels, options.concurrency,
              options.delete_after ? "DELETE after each" : "all kept",
              options.null_kernel ? "null" : "fake",
              counter.available() ? "" : " (no perf counters: instructions not measured)");
  std::printf("%-9s %6s %5s %12s %12s %7s %9s", "group", "ok", "fail", "resp_us/hs", "floor_us",
              "ratio", "hs/s(1c)");
  if (counter.available()) std::printf(" %12s %12s %7s", "resp_Minstr", "floor_Minstr", "ratio");
  std::printf("\n");
  std::vector<std::string> json_groups;
  for (const auto& r : results) {
    const double ratio = r.floor.cpu_us > 0 ? r.cpu_us / r.floor.cpu_us : 0;
    const double iratio = r.floor.instructions > 0 ? r.instructions / r.floor.instructions : 0;
    std::printf("%-9s %6zu %5zu %12.1f %12.1f %7.2f %9.0f", std::string(GroupName(r.group)).c_str(),
                r.established, r.failures, r.cpu_us, r.floor.cpu_us, ratio,
                r.cpu_us > 0 ? 1e6 / r.cpu_us : 0.0);
    if (counter.available())
      std::printf(" %12.3f %12.3f %7.2f", r.instructions / 1e6, r.floor.instructions / 1e6, iratio);
    std::printf("\n");
    std::vector<std::string> segs;
    for (const auto& s : r.segments)
      segs.push_back(Json()
                         .Add("handshakes", static_cast<std::uint64_t>(s.handshakes))
                         .Add("responder_cpu_us", s.cpu_us)
                         .Add("responder_instructions", s.instructions)
                         .Render());
    json_groups.push_back(
        Json()
            .Add("group", GroupName(r.group))
            .Add("established", static_cast<std::uint64_t>(r.established))
            .Add("failures", static_cast<std::uint64_t>(r.failures))
            .Add("responder_sas_left", static_cast<std::uint64_t>(r.responder_sas_left))
            .Add("responder_cpu_us_per_handshake", r.cpu_us)
            .Add("responder_instructions_per_handshake", r.instructions)
            .Add("floor_cpu_us", r.floor.cpu_us)
            .Add("floor_instructions", r.floor.instructions)
            .Add("ratio_cpu", ratio)
            .Add("ratio_instructions", iratio)
            .Add("wall_s", r.wall_s)
            .Add("rss_growth_bytes", r.rss_growth)
            .AddRaw("segments", Json::Array(segs))
            .Render());
    if (!r.segments.empty() && r.segments.size() > 1) {
      std::printf("          us per handshake, per %zu handshakes:", options.segment);
      for (const auto& s : r.segments) std::printf(" %.0f", s.cpu_us);
      std::printf("\n");
    }
  }
  if (!options.json_path.empty()) {
    const std::string json =
        Json()
            .Add("bench", "a-engine")
            .Add("tunnels", static_cast<std::uint64_t>(options.tunnels))
            .Add("concurrency", static_cast<std::uint64_t>(options.concurrency))
            .Add("delete_after", options.delete_after)
            .Add("kernel", options.null_kernel ? "null" : "fake")
            .Add("sk_messages_in_floor", static_cast<std::uint64_t>(sk_messages))
            .Add("perf_counters", counter.available())
            .AddRaw("groups", Json::Array(json_groups))
            .Render();
    if (!WriteFile(options.json_path, json)) return 1;
  }
  for (const auto& r : results)
    if (r.failures != 0 || r.established == 0) return 2;
  return 0;
}

int RunShardBench(const EngineBenchOptions& options) {
  std::printf("bench (e): engine shards, one thread each; %zu x25519 handshakes (DELETE after "
              "each, null kernel) spread over the threads; %u CPUs here\n",
              options.tunnels, std::thread::hardware_concurrency());
  std::printf("%-8s %8s %6s %10s %8s %12s\n", "threads", "ok", "fail", "hs/s", "scaling",
              "resp_us/hs");
  std::vector<std::string> rows;
  double base = 0;
  bool ok = true;
  for (const std::size_t threads : options.threads) {
    auto ids = daemon::MakeLockedSharedIds();
    std::vector<GroupResult> results(threads);
    EngineBenchOptions per = options;
    per.tunnels = options.tunnels / threads;
    per.null_kernel = true;
    per.delete_after = true;
    per.segment = 0;
    const auto wall0 = std::chrono::steady_clock::now();
    std::vector<std::thread> workers;
    for (std::size_t i = 0; i < threads; ++i) {
      workers.emplace_back([&, i] {
        InstructionCounter counter;
        results[i] = RunGroup(crypto::DhGroup::kCurve25519, per, counter,
                              ShardSlot{.index = static_cast<std::uint32_t>(i),
                                        .count = static_cast<std::uint32_t>(threads),
                                        .ids = ids.get(),
                                        .first_tunnel = i * per.tunnels});
      });
    }
    for (auto& w : workers) w.join();
    const double wall =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - wall0).count();
    std::size_t established = 0, failures = 0;
    double cpu_us = 0;
    for (const auto& r : results) {
      established += r.established;
      failures += r.failures;
      cpu_us += r.cpu_us * static_cast<double>(r.established);
    }
    cpu_us /= static_cast<double>(established ? established : 1);
    const double rate = wall > 0 ? static_cast<double>(established) / wall : 0;
    if (base == 0) base = rate;
    const double scaling = base > 0 ? rate / base : 0;
    std::printf("%-8zu %8zu %6zu %10.0f %8.2f %12.1f\n", threads, established, failures, rate,
                scaling, cpu_us);
    rows.push_back(Json()
                       .Add("threads", static_cast<std::uint64_t>(threads))
                       .Add("established", static_cast<std::uint64_t>(established))
                       .Add("failures", static_cast<std::uint64_t>(failures))
                       .Add("handshakes_per_s", rate)
                       .Add("scaling", scaling)
                       .Add("responder_cpu_us_per_handshake", cpu_us)
                       .Render());
    ok = ok && failures == 0 && established > 0;
  }
  if (!options.json_path.empty() &&
      !WriteFile(options.json_path, Json()
                                        .Add("bench", "e-shards")
                                        .Add("tunnels", static_cast<std::uint64_t>(options.tunnels))
                                        .Add("cpus", static_cast<std::uint64_t>(
                                                         std::thread::hardware_concurrency()))
                                        .AddRaw("rows", Json::Array(rows))
                                        .Render()))
    return 1;
  return ok ? 0 : 2;
}

}  // namespace minivpn::bench
