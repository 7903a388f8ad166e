// minivpn-kernel-probe: drives the xfrm/ and vti/ libraries by hand for the kernel lab
// (run.sh). It installs or removes one tunnel-mode CHILD_SA exactly as minivpnd would (the
// inbound SPI through ALLOCSPI, both SAs, IN/FWD/OUT policies, optionally the VTI), queries
// its counters, injects a failure into the Nth kernel request, and measures 10,000 CHILD_SAs.
//
//   install --local A --remote B --spi-in X --spi-out Y --esp aes256gcm16 --keys FILE
//           [--mark 12] [--reqid 1] [--vti vti0] [--fail-nth N] [--fail-vti-nth N]
//   remove  (same options)     query (same options)
//   bench   --local A --remote B [--count 10000] [--selectors32 1]
//   expire  --local A --remote B --spi-out Y [--mark 12]   (EXPIRE events via the listener)
//   bypass                       (IKE sockets with bypass policies; prints ip -s xfrm policy)
//
// The key file holds lines "encr_in HEX", "encr_out HEX" and, for CBC, "integ_in HEX",
// "integ_out HEX" (lab keys only: this tool is not for real secrets).
#include <libmnl/libmnl.h>
#include <linux/xfrm.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "base/vti_rules.h"
#include "crypto/bytes.h"
#include "vti/vti.h"
#include "xfrm/child_install.h"
#include "xfrm/netlink_kernel.h"

namespace minivpn {
namespace {

using xfrm::ChildSaKernel;
using xfrm::IpAddress;
using xfrm::Mark;
using xfrm::NetlinkKernel;
using xfrm::Subnet;

int Fail(const std::string& what) {
  std::fprintf(stderr, "minivpn-kernel-probe: %s\n", what.c_str());
  return 1;
}

std::optional<xfrm::EspAlgorithms> ParseEsp(const std::string& name) {
  using crypto::EncrId;
  using crypto::IntegId;
  static const std::map<std::string, xfrm::EspAlgorithms> kTable = {
      {"aes128gcm8", {EncrId::kAesGcm8, 128, IntegId::kNone, false}},
      {"aes128gcm12", {EncrId::kAesGcm12, 128, IntegId::kNone, false}},
      {"aes128gcm16", {EncrId::kAesGcm16, 128, IntegId::kNone, false}},
      {"aes256gcm16", {EncrId::kAesGcm16, 256, IntegId::kNone, false}},
      {"chacha20poly1305", {EncrId::kChaCha20Poly1305, 256, IntegId::kNone, false}},
      {"aes128-sha1", {EncrId::kAesCbc, 128, IntegId::kHmacSha1_96, false}},
      {"aes128-sha256", {EncrId::kAesCbc, 128, IntegId::kHmacSha2_256_128, false}},
      {"aes256-sha256", {EncrId::kAesCbc, 256, IntegId::kHmacSha2_256_128, false}},
      {"aes256-sha384", {EncrId::kAesCbc, 256, IntegId::kHmacSha2_384_192, false}},
      {"aes256-sha512", {EncrId::kAesCbc, 256, IntegId::kHmacSha2_512_256, false}},
  };
  std::string base = name;
  bool esn = false;
  if (base.ends_with("-esn")) {
    esn = true;
    base.resize(base.size() - 4);
  }
  const auto it = kTable.find(base);
  if (it == kTable.end()) return std::nullopt;
  auto algorithms = it->second;
  algorithms.esn = esn;
  return algorithms;
}

struct Options {
  std::string command;
  std::map<std::string, std::string> values;
  std::string Get(const std::string& key, const std::string& fallback = "") const {
    const auto it = values.find(key);
    return it == values.end() ? fallback : it->second;
  }
  bool Has(const std::string& key) const { return values.contains(key); }
  std::uint32_t Number(const std::string& key, std::uint32_t fallback) const {
    return Has(key) ? static_cast<std::uint32_t>(std::stoul(Get(key), nullptr, 0)) : fallback;
  }
};

std::optional<Options> ParseArgs(int argc, char** argv) {
  if (argc < 2) return std::nullopt;
  Options options;
  options.command = argv[1];
  for (int i = 2; i < argc; ++i) {
    const std::string arg = argv[i];
    if (!arg.starts_with("--") || i + 1 >= argc) return std::nullopt;
    options.values[arg.substr(2)] = argv[++i];
  }
  return options;
}

// Reads "name HEX" lines.
std::optional<std::map<std::string, SecretBytes>> ReadKeys(const std::string& path) {
  std::ifstream in(path);
  if (!in) return std::nullopt;
  std::map<std::string, SecretBytes> keys;
  std::string name;
  std::string hex;
  while (in >> name >> hex) {
    Bytes bytes = FromHex(hex);
    keys[name] = SecretBytes(bytes);
    SecureWipe(bytes.data(), bytes.size());
    SecureWipe(hex.data(), hex.size());
  }
  return keys;
}

std::optional<ChildSaKernel> ChildFromOptions(const Options& o, std::string& error) {
  ChildSaKernel c;
  const auto local = IpAddress::Parse(o.Get("local"));
  const auto remote = IpAddress::Parse(o.Get("remote"));
  const auto esp = ParseEsp(o.Get("esp", "aes256gcm16"));
  if (!local || !remote || !esp) {
    error = "need --local, --remote and a known --esp";
    return std::nullopt;
  }
  c.local = *local;
  c.remote = *remote;
  c.local_ts = {xfrm::Selector::Of(*xfrm::Subnet::Parse(o.Get("local-ts", "0.0.0.0/0")))};
  c.remote_ts = {xfrm::Selector::Of(*xfrm::Subnet::Parse(o.Get("remote-ts", "0.0.0.0/0")))};
  c.spi_in = o.Number("spi-in", 0);
  c.spi_out = o.Number("spi-out", 0);
  c.reqid = o.Number("reqid", 1);
  const std::uint32_t mark = o.Number("mark", 12);
  c.mark_in = Mark{mark, 0xffffffff};
  c.mark_out = Mark{mark, 0xffffffff};
  c.algorithms = *esp;
  // charon's defaults: rekey 3600 s minus up to 360 s of jitter, life 3960 s.
  std::random_device rd;
  c.lifetime.soft_add_seconds = 3600 - rd() % 361;
  c.lifetime.hard_add_seconds = 3960;
  if (o.Has("keys")) {
    auto keys = ReadKeys(o.Get("keys"));
    if (!keys) {
      error = "cannot read --keys";
      return std::nullopt;
    }
    c.encr_key_in = std::move((*keys)["encr_in"]);
    c.encr_key_out = std::move((*keys)["encr_out"]);
    c.integ_key_in = std::move((*keys)["integ_in"]);
    c.integ_key_out = std::move((*keys)["integ_out"]);
  }
  return c;
}

int Install(const Options& o) {
  std::string error;
  auto child = ChildFromOptions(o, error);
  if (!child) return Fail(error);
  auto kernel = NetlinkKernel::Open();
  if (!kernel) return Fail(kernel.error().message());
  if (o.Has("fail-nth")) (*kernel)->FailNth(o.Number("fail-nth", 0), std::errc::no_buffer_space);

  // The inbound SPI comes from ALLOCSPI as in minivpnd; the lab asks for a given value.
  const auto spi = (*kernel)->AllocSpi(child->remote, child->local, child->reqid,
                                       xfrm::SpiRange{child->spi_in, child->spi_in});
  if (!spi) return Fail("AllocSpi: " + spi.error().message());
  if (auto ec = xfrm::InstallChildSa(**kernel, *child)) return Fail(ec.message());

  if (o.Has("vti")) {
    vti::VtiConfig config{o.Get("vti"),          child->local, child->remote,
                          child->mark_out.value, std::nullopt, std::nullopt};
    if (!base::MarkFitsVti(child->mark_out, config.key)) {
      return Fail("the VTI key does not match the SA mark (the mark must be <key>/0xffffffff)");
    }
    std::error_code ec;
    auto manager = vti::VtiManager::Open();
    if (!ec && !manager) ec = manager.error();
    if (!ec) {
      if (o.Has("fail-vti-nth")) {
        (*manager)->FailNth(o.Number("fail-vti-nth", 0), std::errc::no_buffer_space);
      }
      ec = (*manager)->Create(config);
    }
    if (ec) {
      xfrm::RemoveChildSa(**kernel, *child);  // all or nothing
      return Fail(ec.message());
    }
  }
  std::printf("installed spi_in 0x%08x spi_out 0x%08x mark %u\n", child->spi_in, child->spi_out,
              child->mark_out.value);
  return 0;
}

int Remove(const Options& o) {
  std::string error;
  auto child = ChildFromOptions(o, error);
  if (!child) return Fail(error);
  auto kernel = NetlinkKernel::Open();
  if (!kernel) return Fail(kernel.error().message());
  int rc = 0;
  if (o.Has("vti")) {
    auto manager = vti::VtiManager::Open();
    const std::error_code ec = manager ? (*manager)->Delete(o.Get("vti")) : manager.error();
    if (ec) rc = Fail(ec.message());
  }
  if (auto ec = xfrm::RemoveChildSa(**kernel, *child)) rc = Fail(ec.message());
  return rc;
}

int Query(const Options& o) {
  std::string error;
  auto child = ChildFromOptions(o, error);
  if (!child) return Fail(error);
  auto kernel = NetlinkKernel::Open();
  if (!kernel) return Fail(kernel.error().message());
  for (const bool inbound : {true, false}) {
    const xfrm::SaSpec spec = inbound ? InboundSaSpec(*child) : OutboundSaSpec(*child);
    const auto counters = (*kernel)->QuerySa(spec.id);
    if (!counters) return Fail(counters.error().message());
    std::printf("%s bytes %llu packets %llu last_use %lld\n", inbound ? "in" : "out",
                static_cast<unsigned long long>(counters->bytes),
                static_cast<unsigned long long>(counters->packets),
                static_cast<long long>(counters->last_use ? counters->last_use->count() : 0));
  }
  return 0;
}

// Installs an outbound SA with a 1 s soft and 2 s hard lifetime and waits for the kernel's
// EXPIRE messages through XfrmEventListener: soft first, then hard, then the SA is gone.
int Expire(const Options& o) {
  std::string error;
  Options sa_options = o;
  sa_options.values["esp"] = "aes256gcm16";
  auto child = ChildFromOptions(sa_options, error);
  if (!child) return Fail(error);
  auto listener = xfrm::XfrmEventListener::Open();
  if (!listener) return Fail(listener.error().message());
  auto kernel = NetlinkKernel::Open();
  if (!kernel) return Fail(kernel.error().message());
  child->encr_key_out = SecretBytes(36);
  child->lifetime = {1, 2, 0, 0, 0, 0};
  child->reqid = 7;
  xfrm::SaSpec spec = OutboundSaSpec(*child);
  if (auto ec = (*kernel)->AddSa(spec)) return Fail(ec.message());

  const auto start = std::chrono::steady_clock::now();
  std::vector<xfrm::ExpireEvent> seen;
  while (seen.size() < 2 && std::chrono::steady_clock::now() - start < std::chrono::seconds(8)) {
    pollfd p{listener->fd(), POLLIN, 0};
    if (poll(&p, 1, 500) <= 0) continue;
    auto events = listener->ReadEvents();
    if (!events) return Fail(events.error().message());
    for (const auto& event : *events) {
      const auto* expire = std::get_if<xfrm::ExpireEvent>(&event);
      if (expire == nullptr) continue;
      const double at =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      std::printf("expire: %s spi 0x%08x mark %u reqid %u after %.1f s\n",
                  expire->hard ? "hard" : "soft", expire->sa.spi, expire->sa.mark.value,
                  expire->reqid, at);
      if (!(expire->sa == spec.id) || expire->reqid != 7) return Fail("expire for another SA");
      seen.push_back(*expire);
    }
  }
  if (seen.size() != 2 || seen[0].hard || !seen[1].hard) return Fail("expected soft then hard");
  const auto gone = (*kernel)->QuerySa(spec.id);
  if (gone || gone.error() != std::errc::no_such_process)
    return Fail("SA still there after hard expire");
  std::printf("expire: SA gone after the hard expire (%s)\n", gone.error().message().c_str());
  return 0;
}

// Opens the sockets an IKE daemon has (UDP 500 and 4500, IPv4 and IPv6), gives each the
// per-socket bypass policies and the 4500 ones UDP encapsulation, then prints
// `ip -s xfrm policy` while they are open.
int Bypass() {
  std::vector<int> fds;
  for (const int family : {AF_INET, AF_INET6}) {
    for (const std::uint16_t port : {500, 4500}) {
      const int fd = socket(family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
      if (fd < 0) return Fail("socket");
      sockaddr_storage addr{};
      socklen_t len = 0;
      if (family == AF_INET) {
        auto* in = reinterpret_cast<sockaddr_in*>(&addr);
        in->sin_family = AF_INET;
        in->sin_port = htons(port);
        len = sizeof(*in);
      } else {
        const int one = 1;
        setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
        auto* in6 = reinterpret_cast<sockaddr_in6*>(&addr);
        in6->sin6_family = AF_INET6;
        in6->sin6_port = htons(port);
        len = sizeof(*in6);
      }
      if (bind(fd, reinterpret_cast<sockaddr*>(&addr), len) != 0) return Fail("bind");
      if (auto ec = xfrm::SetSocketBypass(fd, family)) return Fail(ec.message());
      if (port == 4500) {
        if (auto ec = xfrm::EnableUdpEncap(fd)) return Fail(ec.message());
      }
      fds.push_back(fd);
    }
  }
  std::fflush(stdout);
  const int rc = std::system("ip -s xfrm policy");
  for (const int fd : fds) close(fd);
  return rc == 0 ? 0 : Fail("ip -s xfrm policy failed");
}

// Entries of an xfrm dump (GETSA or GETPOLICY), to check the kernel's totals.
std::size_t DumpCount(std::uint16_t type) {
  auto socket = xfrm::NetlinkSocket::Open(NETLINK_XFRM, 0, xfrm::KernelOp::kQuerySa);
  if (!socket) return 0;
  xfrm::NlMessage msg;
  nlmsghdr* nlh = mnl_nlmsg_put_header(msg.header());
  nlh->nlmsg_type = type;
  nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
  std::size_t count = 0;
  socket->Request(msg, xfrm::KernelOp::kQuerySa, [&count](const nlmsghdr*) {
    ++count;
    return std::error_code();
  });
  return count;
}

// Per-kind timings in microseconds, split into the first and the last 10 % of the run.
struct Timing {
  std::array<double, 10> tenths{};  // microseconds spent in each tenth of the run
  void Add(double us, std::size_t i, std::size_t n) { tenths[i * 10 / n] += us; }
  double Total() const {
    double t = 0;
    for (const double v : tenths) t += v;
    return t;
  }
  void Print(const char* name, std::size_t n, std::size_t per_child) const {
    const double ops = static_cast<double>(n * per_child);
    const double tenth = ops / 10;
    std::printf("bench: %-22s %9.1f us/op  (first 10%%: %8.1f, last 10%%: %8.1f)  total %7.3f s\n",
                name, Total() / ops, tenths[0] / tenth, tenths[9] / tenth, Total() / 1e6);
  }
  // The cost per operation in each tenth of the run: shows how it grows with the table size.
  void PrintTenths(const char* name, std::size_t n, std::size_t per_child) const {
    const double tenth = static_cast<double>(n * per_child) / 10;
    std::printf("bench: %-22s us/op by tenth:", name);
    for (const double v : tenths) std::printf(" %.0f", v / tenth);
    std::printf("\n");
  }
};

int Bench(const Options& o) {
  const std::size_t n = o.Number("count", 10000);
  const bool selectors32 = o.Number("selectors32", 0) != 0;
  if (n < 10) return Fail("--count must be at least 10");
  std::string error;
  Options child_options = o;
  child_options.values["esp"] = "aes256gcm16";
  auto base = ChildFromOptions(child_options, error);
  if (!base) return Fail(error);
  auto kernel = NetlinkKernel::Open();
  if (!kernel) return Fail(kernel.error().message());

  using Clock = std::chrono::steady_clock;
  const auto since = [](Clock::time_point start) {
    return std::chrono::duration<double, std::micro>(Clock::now() - start).count();
  };
  Timing alloc;
  Timing sa_in;
  Timing sa_out;
  Timing policy_add;
  Timing policy_del;
  Timing sa_del;
  std::vector<ChildSaKernel> children;
  children.reserve(n);
  const auto run_start = Clock::now();
  for (std::size_t i = 0; i < n; ++i) {
    ChildSaKernel c;
    c.local = base->local;
    c.remote = base->remote;
    c.local_ts = base->local_ts;
    c.remote_ts = base->remote_ts;
    if (selectors32) {  // 10.0.0.1/32 <-> 10.1.x.y/32: hashed by the kernel (contrast run)
      c.local_ts = {xfrm::Selector::Of(*xfrm::Subnet::Parse("10.0.0.1/32"))};
      c.remote_ts = {xfrm::Selector::Of(Subnet{IpAddress::V4(0x0a010000u + static_cast<std::uint32_t>(i)), 32})};
    }
    c.reqid = static_cast<std::uint32_t>(i + 1);
    const std::uint32_t mark = 0x1000 + static_cast<std::uint32_t>(i);
    c.mark_in = Mark{mark, 0xffffffff};
    c.mark_out = Mark{mark, 0xffffffff};
    c.algorithms = base->algorithms;
    c.encr_key_in = SecretBytes(36);
    c.encr_key_out = SecretBytes(36);
    c.lifetime = base->lifetime;
    c.spi_out = 0x10000000u + static_cast<std::uint32_t>(i);

    auto t = Clock::now();
    const auto spi = (*kernel)->AllocSpi(c.remote, c.local, c.reqid, xfrm::kCharonSpiRange);
    alloc.Add(since(t), i, n);
    if (!spi) return Fail("AllocSpi #" + std::to_string(i) + ": " + spi.error().message());
    c.spi_in = *spi;
    t = Clock::now();
    if (auto ec = (*kernel)->AddSa(InboundSaSpec(c))) return Fail("UPDSA: " + ec.message());
    sa_in.Add(since(t), i, n);
    t = Clock::now();
    if (auto ec = (*kernel)->AddSa(OutboundSaSpec(c))) return Fail("NEWSA: " + ec.message());
    sa_out.Add(since(t), i, n);
    t = Clock::now();
    for (const auto& p : ChildPolicies(c)) {
      if (auto ec = (*kernel)->AddPolicy(p)) return Fail("NEWPOLICY: " + ec.message());
    }
    policy_add.Add(since(t), i, n);
    children.push_back(std::move(c));
  }
  const double install_s = since(run_start) / 1e6;
  const std::size_t sas = DumpCount(XFRM_MSG_GETSA);
  const std::size_t policies = DumpCount(XFRM_MSG_GETPOLICY);

  const auto remove_start = Clock::now();
  for (std::size_t i = 0; i < n; ++i) {
    const ChildSaKernel& c = children[i];
    auto t = Clock::now();
    const auto policy_ids = ChildPolicies(c);
    for (std::size_t k = policy_ids.size(); k-- > 0;) {
      if (auto ec = (*kernel)->DelPolicy(policy_ids[k].id))
        return Fail("DELPOLICY: " + ec.message());
    }
    policy_del.Add(since(t), i, n);
    t = Clock::now();
    if (auto ec = (*kernel)->DelSa(OutboundSaSpec(c).id)) return Fail("DELSA: " + ec.message());
    if (auto ec = (*kernel)->DelSa(InboundSaSpec(c).id)) return Fail("DELSA: " + ec.message());
    sa_del.Add(since(t), i, n);
  }
  const double remove_s = since(remove_start) / 1e6;

  std::printf("bench: %zu CHILD_SAs, distinct marks 0x1000.., %s, rfc4106\n", n,
              selectors32 ? "10.0.0.1/32 <-> 10.1.x.y/32 (hashed selectors)"
                          : "0.0.0.0/0 <-> 0.0.0.0/0 (mark-only policies)");
  std::printf("bench: kernel held %zu SAs and %zu policies after the installs\n", sas, policies);
  alloc.Print("ALLOCSPI", n, 1);
  sa_in.Print("UPDSA (inbound)", n, 1);
  sa_out.Print("NEWSA (outbound)", n, 1);
  policy_add.Print("NEWPOLICY (in/fwd/out)", n, 3);
  policy_add.PrintTenths("NEWPOLICY", n, 3);
  policy_del.Print("DELPOLICY", n, 3);
  sa_del.Print("DELSA", n, 2);
  alloc.PrintTenths("ALLOCSPI", n, 1);
  std::printf(
      "bench: install %.3f s (%.1f us per CHILD_SA), remove %.3f s (%.1f us per CHILD_SA)\n",
      install_s, install_s * 1e6 / static_cast<double>(n), remove_s,
      remove_s * 1e6 / static_cast<double>(n));
  const std::size_t left_sas = DumpCount(XFRM_MSG_GETSA);
  const std::size_t left_policies = DumpCount(XFRM_MSG_GETPOLICY);
  std::printf("bench: left after removal: %zu SAs, %zu policies\n", left_sas, left_policies);
  return sas == 2 * n && policies == 3 * n && left_sas == 0 && left_policies == 0 ? 0 : 1;
}

}  // namespace
}  // namespace minivpn

int main(int argc, char** argv) {
  using namespace minivpn;
  const auto options = ParseArgs(argc, argv);
  if (!options) {
    std::fprintf(
        stderr,
        "usage: minivpn-kernel-probe install|remove|query|bench|expire|bypass --local A --remote B "
        "[--spi-in X --spi-out Y --esp NAME --keys FILE --mark K --reqid R --vti NAME "
        "--fail-nth N --fail-vti-nth N --count N]\n");
    return 2;
  }
  try {
    if (options->command == "install") return Install(*options);
    if (options->command == "remove") return Remove(*options);
    if (options->command == "query") return Query(*options);
    if (options->command == "bench") return Bench(*options);
    if (options->command == "expire") return Expire(*options);
    if (options->command == "bypass") return Bypass();
  } catch (const std::exception& e) {  // std::stoul on a bad number
    return Fail(std::string("bad option value: ") + e.what());
  }
  return Fail("unknown command " + options->command);
}
