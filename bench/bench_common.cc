#include "bench/bench_common.h"

#include <linux/perf_event.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <sstream>

namespace minivpn::bench {

std::optional<crypto::DhGroup> ParseGroup(std::string_view name) {
  if (name == "x25519" || name == "curve25519") return crypto::DhGroup::kCurve25519;
  if (name == "ecp256" || name == "ecp_256") return crypto::DhGroup::kEcp256;
  if (name == "modp2048" || name == "modp_2048") return crypto::DhGroup::kModp2048;
  return std::nullopt;
}

std::string_view GroupName(crypto::DhGroup group) {
  switch (group) {
    case crypto::DhGroup::kCurve25519: return "x25519";
    case crypto::DhGroup::kEcp256: return "ecp256";
    case crypto::DhGroup::kModp2048: return "modp2048";
    default: return crypto::Name(group);
  }
}

ike::IkeProposal BenchIkeProposal(crypto::DhGroup group) {
  return ike::IkeProposal{.encr = {{crypto::EncrId::kAesGcm16, 256}},
                          .integ = {},
                          .prf = {crypto::PrfId::kHmacSha2_256},
                          .dh = {group}};
}

ike::EspProposal BenchEspProposal() {
  return ike::EspProposal{.encr = {{crypto::EncrId::kAesGcm16, 256}}, .integ = {}, .dh = {},
                          .esn = {ike::EsnId::kNoEsn}};
}

namespace {

constexpr std::uint32_t kRouteMark = 42;

xfrm::Subnet Net(std::uint32_t host_order, std::uint8_t prefix) {
  return xfrm::Subnet{xfrm::IpAddress::V4(host_order), prefix};
}

ike::ChildConfig BenchChild(const TunnelOptions& options, std::size_t index, bool initiator) {
  ike::ChildConfig c;
  c.name = "net";
  c.proposals = {BenchEspProposal()};
  if (options.ts_mode == TsMode::kRoute) {
    c.local_ts = {xfrm::Selector::Of(Net(0, 0))};
    c.remote_ts = {xfrm::Selector::Of(Net(0, 0))};
    c.mark_in = xfrm::Mark{kRouteMark, 0xffffffff};
    c.mark_out = xfrm::Mark{kRouteMark, 0xffffffff};
    return c;
  }
  const xfrm::Subnet site = Net(0x0a000000, 24);                                   // 10.0.0.0/24
  const xfrm::Subnet host = Net(0x0a800000 + static_cast<std::uint32_t>(index), 32);  // 10.128/9
  if (initiator) {
    c.local_ts = {xfrm::Selector::Of(host)};
    c.remote_ts = {xfrm::Selector::Of(site)};
  } else {
    c.local_ts = {xfrm::Selector::Of(site)};
    c.remote_ts = {xfrm::Selector::Of(Net(0x0a800000, 9))};  // narrowed to the initiator's /32 (2.9)
  }
  return c;
}

}  // namespace

ike::PeerConfig InitiatorPeer(std::size_t index, const xfrm::IpAddress& local,
                              const xfrm::IpAddress& remote, std::uint16_t remote_port,
                              const TunnelOptions& options, const SecretBytes& psk) {
  ike::PeerConfig p;
  p.name = "t" + std::to_string(index);
  p.local_address = local;
  p.remote_address = remote;
  p.remote_port = remote_port;
  p.proposals = {BenchIkeProposal(options.group)};
  p.local_id = ike::Identity{ike::IdType::kFqdn, p.name + options.id_suffix};
  p.remote_id = ike::Identity{ike::IdType::kFqdn, ""};  // any
  p.psk = psk.Clone();
  p.rekey_time = ike::Seconds(0);
  p.send_initial_contact = options.initial_contact;
  p.children = {BenchChild(options, index, true)};
  p.children.front().rekey_time = ike::Seconds(0);
  p.children.front().rand_time = ike::Seconds(0);
  return p;
}

ike::PeerConfig ResponderPeer(const TunnelOptions& options, const SecretBytes& psk) {
  ike::PeerConfig p;
  p.name = "any";
  p.proposals = {BenchIkeProposal(options.group)};
  p.local_id = ike::Identity{ike::IdType::kFqdn, "responder" + options.id_suffix};
  p.remote_id = ike::Identity{ike::IdType::kFqdn, ""};
  p.psk = psk.Clone();
  p.rekey_time = ike::Seconds(0);
  p.children = {BenchChild(options, 0, false)};
  p.children.front().rekey_time = ike::Seconds(0);
  p.children.front().rand_time = ike::Seconds(0);
  return p;
}

SecretBytes BenchPsk() { return SecretBytes::FromString("minivpn-bench-preshared-key"); }

std::uint64_t ThreadCpuNanos() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<std::uint64_t>(ts.tv_sec) * 1000000000ull +
         static_cast<std::uint64_t>(ts.tv_nsec);
}

std::uint64_t ProcessCpuNanos() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  auto ns = [](const timeval& tv) {
    return static_cast<std::uint64_t>(tv.tv_sec) * 1000000000ull +
           static_cast<std::uint64_t>(tv.tv_usec) * 1000ull;
  };
  return ns(ru.ru_utime) + ns(ru.ru_stime);
}

std::uint64_t RssBytes() {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("VmRSS:", 0) == 0) return std::stoull(line.substr(6)) * 1024;
  return 0;
}

InstructionCounter::InstructionCounter() {
  perf_event_attr attr{};
  attr.type = PERF_TYPE_HARDWARE;
  attr.size = sizeof attr;
  attr.config = PERF_COUNT_HW_INSTRUCTIONS;
  attr.exclude_kernel = 1;
  attr.exclude_hv = 1;
  fd_ = static_cast<int>(syscall(SYS_perf_event_open, &attr, 0, -1, -1, 0));
}

InstructionCounter::~InstructionCounter() {
  if (fd_ >= 0) close(fd_);
}

std::uint64_t InstructionCounter::Read() const {
  if (fd_ < 0) return 0;
  std::uint64_t value = 0;
  if (read(fd_, &value, sizeof value) != static_cast<ssize_t>(sizeof value)) return 0;
  return value;
}

double Percentile(std::vector<double> values, double p) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  double rank = std::ceil(p / 100.0 * static_cast<double>(values.size()));
  std::size_t i = rank < 1 ? 0 : static_cast<std::size_t>(rank) - 1;
  return values[std::min(i, values.size() - 1)];
}

Json& Json::Add(std::string_view key, double value) {
  char buf[64];
  if (!std::isfinite(value)) value = 0;
  std::snprintf(buf, sizeof buf, "%.6g", value);
  fields_.emplace_back(std::string(key), buf);
  return *this;
}

Json& Json::Add(std::string_view key, std::uint64_t value) {
  fields_.emplace_back(std::string(key), std::to_string(value));
  return *this;
}

Json& Json::Add(std::string_view key, std::string_view value) {
  fields_.emplace_back(std::string(key), Quote(value));
  return *this;
}

Json& Json::Add(std::string_view key, bool value) {
  fields_.emplace_back(std::string(key), value ? "true" : "false");
  return *this;
}

Json& Json::AddRaw(std::string_view key, std::string raw) {
  fields_.emplace_back(std::string(key), std::move(raw));
  return *this;
}

std::string Json::Render() const {
  std::string out = "{";
  for (std::size_t i = 0; i < fields_.size(); ++i) {
    if (i) out += ", ";
    out += Quote(fields_[i].first) + ": " + fields_[i].second;
  }
  return out + "}";
}

std::string Json::Array(const std::vector<std::string>& rendered) {
  std::string out = "[";
  for (std::size_t i = 0; i < rendered.size(); ++i) out += (i ? ", " : "") + rendered[i];
  return out + "]";
}

std::string Json::Quote(std::string_view text) {
  std::string out = "\"";
  for (char c : text) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", c);
      out += buf;
    } else {
      out += c;
    }
  }
  return out + "\"";
}

bool WriteFile(const std::string& path, const std::string& text) {
  std::ofstream out(path);
  out << text << "\n";
  if (!out) {
    std::fprintf(stderr, "minivpn-bench: cannot write %s\n", path.c_str());
    return false;
  }
  return true;
}

}  // namespace minivpn::bench
