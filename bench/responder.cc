#include "bench/responder.h"

#include <signal.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <optional>
#include <vector>

#include "bench/null_kernel.h"
#include "bench/udp_socket.h"
#include "crypto/random.h"
#include "ike/engine/engine.h"
#include "xfrm/fake_kernel.h"

namespace minivpn::bench {

namespace {

std::atomic<int> g_signal{0};  // set by the handler, read by the loop
extern "C" void OnSignal(int sig) { g_signal.store(sig); }

}  // namespace

int RunResponder(const RespondOptions& options) {
  std::string error;
  auto ike = UdpSocket::Bind(options.listen, options.port, &error);
  std::optional<UdpSocket> natt;
  if (ike) natt = UdpSocket::Bind(options.listen, options.natt_port, &error);
  if (!ike || !natt) {
    std::fprintf(stderr, "minivpn-bench respond: %s\n", error.c_str());
    return 1;
  }
  struct sigaction sa {};
  sa.sa_handler = OnSignal;
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
  sigaction(SIGUSR1, &sa, nullptr);

  ike::EngineConfig config;
  config.ike_port = options.port;
  config.nat_t_port = options.natt_port;
  // One generator address brings every handshake (see README: charon gets the same limits).
  config.cookie_threshold = 1u << 30;
  config.cookie_threshold_ip = 1u << 30;
  config.block_threshold_ip = 1u << 30;
  crypto::SystemRandom random;
  NullKernel null_kernel;
  xfrm::FakeKernel fake_kernel;
  xfrm::KernelIpsec& kernel = options.fake_kernel ? static_cast<xfrm::KernelIpsec&>(fake_kernel)
                                                  : static_cast<xfrm::KernelIpsec&>(null_kernel);
  ike::Engine engine(config, random, kernel);
  const SecretBytes psk = BenchPsk();
  if (auto added = engine.AddPeer(ResponderPeer(options.tunnel, psk), std::chrono::steady_clock::now());
      !added) {
    std::fprintf(stderr, "minivpn-bench respond: %s\n", added.error().c_str());
    return 1;
  }
  std::printf("respond: listening on %s[%u/%u]\n", options.listen.ToString().c_str(),
              options.port, options.natt_port);
  std::fflush(stdout);

  std::uint64_t ike_up = 0, failures = 0, received_count = 0;
  const std::uint64_t cpu0 = ProcessCpuNanos();
  auto status = [&] {
    const double cpu_ms = static_cast<double>(ProcessCpuNanos() - cpu0) / 1e6;
    std::printf("respond: ike_sas=%zu ike_up=%llu failures=%llu datagrams=%llu cpu_ms=%.1f "
                "cpu_us_per_ike_up=%.1f rss_bytes=%llu\n",
                engine.ike_sa_count(), static_cast<unsigned long long>(ike_up),
                static_cast<unsigned long long>(failures),
                static_cast<unsigned long long>(received_count), cpu_ms,
                ike_up ? cpu_ms * 1000.0 / static_cast<double>(ike_up) : 0.0,
                static_cast<unsigned long long>(RssBytes()));
    std::fflush(stdout);
  };
  std::vector<ike::Datagram> received;
  for (;;) {
    if (int sig = g_signal.exchange(0); sig != 0) {
      status();
      if (sig != SIGUSR1) break;
    }
    received_count += ReceiveForEngine(engine, *ike, *natt, 100, received);
    for (const auto& d : engine.TakeDatagrams()) {
      UdpSocket& s = d.local.port == options.natt_port ? *natt : *ike;
      (void)s.Send(d);
    }
    for (const ike::Event& e : engine.TakeEvents()) {
      if (e.kind == ike::EventKind::kIkeUp) ++ike_up;
      if (e.kind == ike::EventKind::kFailure) ++failures;
    }
    if (options.fake_kernel && fake_kernel.call_count() > 100000) fake_kernel.ClearLog();
  }
  if (!options.json_path.empty()) {
    (void)WriteFile(options.json_path,
                    Json()
                        .Add("bench", "respond")
                        .Add("ike_sas", static_cast<std::uint64_t>(engine.ike_sa_count()))
                        .Add("ike_up", ike_up)
                        .Add("failures", failures)
                        .Add("cpu_ns", ProcessCpuNanos() - cpu0)
                        .Add("rss_bytes", RssBytes())
                        .Render());
  }
  return 0;
}

}  // namespace minivpn::bench
