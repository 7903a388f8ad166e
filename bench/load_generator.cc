#include "bench/load_generator.h"

#include <chrono>
#include <cstdio>
#include <map>
#include <set>
#include <optional>
#include <string>
#include <vector>

#include "bench/null_kernel.h"
#include "bench/udp_socket.h"
#include "crypto/random.h"
#include "ike/engine/engine.h"

namespace minivpn::bench {

namespace {

using SteadyClock = std::chrono::steady_clock;

double Seconds(SteadyClock::duration d) { return std::chrono::duration<double>(d).count(); }

std::optional<std::size_t> IndexOf(const std::string& peer) {
  if (peer.size() < 2 || peer[0] != 't') return std::nullopt;
  std::size_t v = 0;
  for (std::size_t i = 1; i < peer.size(); ++i) {
    if (peer[i] < '0' || peer[i] > '9') return std::nullopt;
    v = v * 10 + static_cast<std::size_t>(peer[i] - '0');
  }
  return v;
}

}  // namespace

int RunLoadGenerator(const LoadOptions& options) {
  std::string error;
  auto ike = UdpSocket::Bind(options.local, options.port, &error);
  std::optional<UdpSocket> natt;
  if (ike) natt = UdpSocket::Bind(options.local, options.natt_port, &error);
  if (!ike || !natt) {
    std::fprintf(stderr, "minivpn-bench load: %s\n", error.c_str());
    return 1;
  }
  ike::EngineConfig config;
  config.ike_port = options.port;
  config.nat_t_port = options.natt_port;
  crypto::SystemRandom random;
  NullKernel kernel(random.Next<std::uint32_t>());
  ike::Engine engine(config, random, kernel);
  const SecretBytes psk = BenchPsk();

  std::map<std::size_t, SteadyClock::time_point> in_flight;  // tunnel index -> started
  std::vector<double> latencies_ms;
  std::map<std::string, std::size_t> reasons;  // failure event text -> count
  std::size_t started = 0, established = 0, failed = 0, timeouts = 0, send_errors = 0;
  std::size_t next = options.first_index;
  const auto t0 = SteadyClock::now();
  auto last_done = t0;
  auto last_progress = t0;
  auto last_timeout_scan = t0;
  const std::uint64_t cpu0 = ProcessCpuNanos();
  std::vector<ike::Datagram> received;

  auto finish = [&](std::size_t index, bool ok, SteadyClock::time_point now) {
    auto it = in_flight.find(index);
    if (it == in_flight.end()) return;
    if (ok) {
      ++established;
      latencies_ms.push_back(Seconds(now - it->second) * 1000.0);
    } else {
      ++failed;
    }
    in_flight.erase(it);
    last_done = now;
    if (!ok || !options.keep) engine.RemovePeer("t" + std::to_string(index), now);
  };
  auto may_start = [&](SteadyClock::time_point now) {
    if (options.tunnels && started >= options.tunnels) return false;
    if (options.duration_s > 0 && Seconds(now - t0) >= options.duration_s) return false;
    return true;
  };

  // CHILD_SA rekeys the responder started (--hold: a rekey storm), counted over the whole run:
  // all of them, and the tunnels rekeyed at least once (first_/last_rekey_s: seconds from the
  // start to the first and to the last tunnel's first rekey).
  std::size_t rekeys = 0, hold_failures = 0;
  std::set<std::string> rekeyed;
  double first_rekey_s = 0, last_rekey_s = 0;
  auto count_rekey = [&](const ike::Event& e, SteadyClock::time_point now) {
    if (e.kind != ike::EventKind::kChildRekeyed) return;
    ++rekeys;
    if (!rekeyed.insert(e.peer).second) return;
    last_rekey_s = Seconds(now - t0);
    if (rekeyed.size() == 1) first_rekey_s = last_rekey_s;
  };
  auto send_all = [&] {
    for (const auto& d : engine.TakeDatagrams()) {
      UdpSocket& s = d.local.port == options.natt_port ? *natt : *ike;
      if (!s.Send(d)) ++send_errors;
    }
  };
  auto receive = [&] { ReceiveForEngine(engine, *ike, *natt, 10, received); };

  for (;;) {
    auto now = SteadyClock::now();
    while (in_flight.size() < options.concurrency && may_start(now)) {
      const std::size_t index = next++;
      ++started;
      auto added = engine.AddPeer(
          InitiatorPeer(index, options.local, options.remote, options.port, options.tunnel, psk),
          now);
      if (!added || !engine.Initiate("t" + std::to_string(index), "net", now)) {
        ++failed;
        continue;
      }
      in_flight[index] = now;
    }
    send_all();
    for (const ike::Event& e : engine.TakeEvents()) {
      count_rekey(e, now);
      auto index = IndexOf(e.peer);
      if (!index) continue;
      if (e.kind == ike::EventKind::kChildUp) {
        finish(*index, true, now);
      } else if (e.kind == ike::EventKind::kFailure || e.kind == ike::EventKind::kIkeDown) {
        if (in_flight.count(*index)) ++reasons[std::string(ike::Name(e.kind)) + ": " + e.text];
        finish(*index, false, now);
      }
    }
    send_all();  // DELETEs from RemovePeer
    if (in_flight.empty() && !may_start(now)) break;

    if (now - last_timeout_scan > std::chrono::milliseconds(200)) {
      last_timeout_scan = now;
      std::vector<std::size_t> late;
      for (const auto& [index, since] : in_flight)
        if (Seconds(now - since) > options.timeout_s) late.push_back(index);
      for (std::size_t index : late) {
        ++timeouts;
        finish(index, false, now);
      }
    }
    if (!options.quiet && now - last_progress > std::chrono::seconds(2)) {
      last_progress = now;
      std::fprintf(stderr, "  %.1f s: %zu up, %zu failed, %zu in flight\n", Seconds(now - t0),
                   established, failed, in_flight.size());
    }

    receive();
  }

  // The hold: answer what the responder starts (its CHILD_SA rekeys) and count it.
  if (options.keep && options.hold_s > 0) {
    const auto h0 = SteadyClock::now();
    for (auto now = h0; Seconds(now - h0) < options.hold_s; now = SteadyClock::now()) {
      send_all();
      for (const ike::Event& e : engine.TakeEvents()) {
        count_rekey(e, now);
        if (e.kind == ike::EventKind::kFailure || e.kind == ike::EventKind::kIkeDown)
          ++hold_failures;
      }
      receive();
    }
    std::printf("load: hold %.0f s: %zu CHILD_SA rekeys, %zu tunnels rekeyed from %.1f s to %.1f "
                "s of the run, %zu failures in the hold\n",
                options.hold_s, rekeys, rekeyed.size(), first_rekey_s, last_rekey_s,
                hold_failures);
  }

  for (const auto& [text, count] : reasons) std::printf("load: %zu x %s\n", count, text.c_str());
  const double elapsed = Seconds(last_done - t0);
  const double cpu_s = static_cast<double>(ProcessCpuNanos() - cpu0) / 1e9;
  const double rate = elapsed > 0 ? static_cast<double>(established) / elapsed : 0;
  const double p50 = Percentile(latencies_ms, 50), p99 = Percentile(latencies_ms, 99);
  const double pmax = Percentile(latencies_ms, 100);
  std::printf("load: %zu started, %zu established, %zu failed (%zu timeouts), %zu send errors\n",
              started, established, failed, timeouts, send_errors);
  std::printf("load: %.2f s, %.1f handshakes/s, setup latency p50 %.2f ms p99 %.2f ms max %.2f "
              "ms, generator CPU %.2f s, generator RSS %.1f MB (%s, %zu in flight, %s)\n",
              elapsed, rate, p50, p99, pmax, cpu_s, static_cast<double>(RssBytes()) / 1e6,
              std::string(GroupName(options.tunnel.group)).c_str(), options.concurrency,
              options.keep ? "kept" : "deleted");
  if (!options.json_path.empty()) {
    const std::string json =
        Json()
            .Add("bench", "load")
            .Add("group", GroupName(options.tunnel.group))
            .Add("concurrency", static_cast<std::uint64_t>(options.concurrency))
            .Add("keep", options.keep)
            .Add("started", static_cast<std::uint64_t>(started))
            .Add("established", static_cast<std::uint64_t>(established))
            .Add("failed", static_cast<std::uint64_t>(failed))
            .Add("timeouts", static_cast<std::uint64_t>(timeouts))
            .Add("send_errors", static_cast<std::uint64_t>(send_errors))
            .Add("elapsed_s", elapsed)
            .Add("handshakes_per_s", rate)
            .Add("hold_s", options.hold_s)
            .Add("rekeys", static_cast<std::uint64_t>(rekeys))
            .Add("tunnels_rekeyed", static_cast<std::uint64_t>(rekeyed.size()))
            .Add("rekey_first_s", first_rekey_s)
            .Add("rekey_last_s", last_rekey_s)
            .Add("hold_failures", static_cast<std::uint64_t>(hold_failures))
            .Add("latency_p50_ms", p50)
            .Add("latency_p99_ms", p99)
            .Add("latency_max_ms", pmax)
            .Add("generator_cpu_s", cpu_s)
            .Add("generator_rss_bytes", RssBytes())
            .Render();
    if (!WriteFile(options.json_path, json)) return 1;
  }
  return failed == 0 ? 0 : 2;
}

}  // namespace minivpn::bench
