#include "cli/daemon/kernel_journal.h"

#include <fcntl.h>
#include <fmt/core.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <fstream>
#include <sstream>
#include <utility>

#include <sys/random.h>

namespace minivpn::daemon {

namespace {

std::string_view DirName(xfrm::PolicyDir dir) {
  switch (dir) {
    case xfrm::PolicyDir::kIn: return "in";
    case xfrm::PolicyDir::kOut: return "out";
    case xfrm::PolicyDir::kFwd: return "fwd";
  }
  return "?";
}

std::optional<xfrm::PolicyDir> ParseDir(std::string_view text) {
  if (text == "in") return xfrm::PolicyDir::kIn;
  if (text == "out") return xfrm::PolicyDir::kOut;
  if (text == "fwd") return xfrm::PolicyDir::kFwd;
  return std::nullopt;
}

template <typename T>
std::optional<T> ParseNumber(std::string_view text, int base = 10) {
  T value{};
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value, base);
  if (ec != std::errc{} || end != text.data() + text.size()) return std::nullopt;
  return value;
}

std::optional<xfrm::Mark> ParseMark(std::string_view text) {
  auto slash = text.find('/');
  if (slash == std::string_view::npos) return std::nullopt;
  auto value = ParseNumber<std::uint32_t>(text.substr(0, slash), 16);
  auto mask = ParseNumber<std::uint32_t>(text.substr(slash + 1), 16);
  if (!value || !mask) return std::nullopt;
  return xfrm::Mark{*value, *mask};
}

std::vector<std::string_view> Words(std::string_view line) {
  std::vector<std::string_view> words;
  while (!line.empty()) {
    auto start = line.find_first_not_of(' ');
    if (start == std::string_view::npos) break;
    line.remove_prefix(start);
    auto end = line.find(' ');
    words.push_back(line.substr(0, end));
    if (end == std::string_view::npos) break;
    line.remove_prefix(end);
  }
  return words;
}

std::optional<xfrm::SaId> ParseSa(const std::vector<std::string_view>& w) {
  if (w.size() != 6) return std::nullopt;
  auto src = xfrm::IpAddress::Parse(w[1]);
  auto dst = xfrm::IpAddress::Parse(w[2]);
  auto spi = ParseNumber<std::uint32_t>(w[3], 16);
  auto proto = ParseNumber<std::uint8_t>(w[4]);
  auto mark = ParseMark(w[5]);
  if (!src || !dst || !spi || !proto || !mark) return std::nullopt;
  return xfrm::SaId{*src, *dst, *spi, *proto, *mark};
}

// A policy with a protocol or ports has a sixth word, "proto:sport/smask:dport/dmask" (hex ports).
bool ParseProtoPorts(std::string_view w, xfrm::PolicyId& id) {
  const auto c1 = w.find(':');
  const auto c2 = w.find(':', c1 == std::string_view::npos ? c1 : c1 + 1);
  if (c1 == std::string_view::npos || c2 == std::string_view::npos) return false;
  const auto port = [](std::string_view t) -> std::optional<xfrm::PortMatch> {
    const auto slash = t.find('/');
    if (slash == std::string_view::npos) return std::nullopt;
    auto p = ParseNumber<std::uint16_t>(t.substr(0, slash), 16);
    auto m = ParseNumber<std::uint16_t>(t.substr(slash + 1), 16);
    if (!p || !m) return std::nullopt;
    return xfrm::PortMatch{*p, *m};
  };
  auto proto = ParseNumber<std::uint8_t>(w.substr(0, c1));
  auto sport = port(w.substr(c1 + 1, c2 - c1 - 1));
  auto dport = port(w.substr(c2 + 1));
  if (!proto || !sport || !dport) return false;
  id.proto = *proto;
  id.sport = *sport;
  id.dport = *dport;
  return true;
}

// After the mark: the protocol and ports word (if any), then "if_id=<hex>" (if any).
std::optional<xfrm::PolicyId> ParsePolicy(const std::vector<std::string_view>& w) {
  if (w.size() < 5 || w.size() > 7) return std::nullopt;
  auto src = xfrm::Subnet::Parse(w[1]);
  auto dst = xfrm::Subnet::Parse(w[2]);
  auto dir = ParseDir(w[3]);
  auto mark = ParseMark(w[4]);
  if (!src || !dst || !dir || !mark) return std::nullopt;
  xfrm::PolicyId id{*src, *dst, *dir, *mark, 0, {}, {}, 0};
  std::size_t next = 5;
  if (next < w.size() && !w[next].starts_with("if_id=")) {
    if (!ParseProtoPorts(w[next], id)) return std::nullopt;
    ++next;
  }
  if (next < w.size()) {
    auto if_id = w[next].starts_with("if_id=")
                     ? ParseNumber<std::uint32_t>(w[next].substr(6), 16)
                     : std::nullopt;
    if (!if_id || *if_id == 0) return std::nullopt;
    id.if_id = *if_id;
    ++next;
  }
  if (next != w.size()) return std::nullopt;
  return id;
}

std::string_view KindName(JournalKind kind) {
  switch (kind) {
    case JournalKind::kSa: return "sa";
    case JournalKind::kPolicy: return "pol";
    case JournalKind::kVti: return "vti";
  }
  return "?";
}

// One line, split: the operation's effect on the object's count and the key (kind + body).
struct LineStep {
  int delta = 0;
  std::string_view key;  // "sa 192.0.2.1 ..." (points into the line)
};

// "+?" intent to add: +1 (may exist from now)   "+=" added: 0   "+!" add failed: -1
// "-?" intent to remove: 0   "-=" removed: -1   "-!" removal failed: 0
// "+" / "-": plain facts (compaction, and the format before the write-ahead protocol): +1 / -1.
std::optional<LineStep> SplitLine(std::string_view line) {
  if (line.size() < 2 || (line[0] != '+' && line[0] != '-')) return std::nullopt;
  const bool add = line[0] == '+';
  int delta = add ? 1 : -1;
  std::size_t op = 1;
  if (line[1] == '?' || line[1] == '=' || line[1] == '!') {
    op = 2;
    switch (line[1]) {
      case '?': delta = add ? 1 : 0; break;
      case '=': delta = add ? 0 : -1; break;
      case '!': delta = add ? -1 : 0; break;
    }
  }
  std::string_view key = line.substr(op);
  const auto space = key.find(' ');
  if (space == std::string_view::npos || space + 1 == key.size()) return std::nullopt;
  const std::string_view kind = key.substr(0, space);
  if (kind != "sa" && kind != "pol" && kind != "vti") return std::nullopt;
  return LineStep{delta, key};
}

// Parses one surviving key into `state`, `count` times. False if its body is unreadable.
bool AddToState(std::string_view key, std::size_t count, JournalState& state) {
  const auto space = key.find(' ');
  const std::string_view kind = key.substr(0, space);
  const std::string_view body = key.substr(space + 1);
  auto w = Words(body);
  w.insert(w.begin(), kind);  // the parsers count the kind as word 0
  if (kind == "sa") {
    auto id = ParseSa(w);
    if (!id) return false;
    state.sas.insert(state.sas.end(), count, *id);
  } else if (kind == "pol") {
    auto id = ParsePolicy(w);
    if (!id) return false;
    state.policies.insert(state.policies.end(), count, *id);
  } else {
    if (w.size() != 2) return false;
    state.vtis.insert(state.vtis.end(), count, std::string(w[1]));
  }
  return true;
}

std::string FormatSa(const xfrm::SaId& id) {
  return fmt::format("{} {} {:08x} {} {:x}/{:x}", id.src.ToString(), id.dst.ToString(), id.spi,
                     id.proto, id.mark.value, id.mark.mask);
}

std::string FormatPolicy(const xfrm::PolicyId& id) {
  std::string line = fmt::format("{} {} {} {:x}/{:x}", id.src.ToString(), id.dst.ToString(),
                                 DirName(id.dir), id.mark.value, id.mark.mask);
  if (id.proto != 0 || id.sport != xfrm::PortMatch{} || id.dport != xfrm::PortMatch{}) {
    line += fmt::format(" {}:{:x}/{:x}:{:x}/{:x}", id.proto, id.sport.port, id.sport.mask,
                        id.dport.port, id.dport.mask);
  }
  if (id.if_id != 0) line += fmt::format(" if_id={:x}", id.if_id);
  return line;
}

bool IsGone(std::error_code ec) {
  return !ec || ec == std::errc::no_such_process || ec == std::errc::no_such_file_or_directory;
}

std::uint32_t RandomSpi(xfrm::SpiRange range) {
  std::uint32_t r = 0;
  while (::getrandom(&r, sizeof r, 0) != static_cast<ssize_t>(sizeof r)) {
  }
  const std::uint64_t span = std::uint64_t{range.max} - range.min + 1;
  return range.min + static_cast<std::uint32_t>(r % span);
}

}  // namespace

JournalEntry JournalEntry::Sa(const xfrm::SaId& id) { return {JournalKind::kSa, FormatSa(id)}; }
JournalEntry JournalEntry::Policy(const xfrm::PolicyId& id) {
  return {JournalKind::kPolicy, FormatPolicy(id)};
}
JournalEntry JournalEntry::Vti(std::string_view name) {
  return {JournalKind::kVti, std::string(name)};
}

JournalState ReplayJournal(std::string_view text, ReplayStats* stats) {
  struct Count {
    std::size_t count = 0;
    std::size_t first_seen = 0;
  };
  std::unordered_map<std::string_view, Count> counts;
  ReplayStats local;
  while (!text.empty()) {
    const auto eol = text.find('\n');
    const std::string_view line = text.substr(0, eol);
    text.remove_prefix(eol == std::string_view::npos ? text.size() : eol + 1);
    if (line.empty()) continue;
    ++local.lines;
    const auto step = SplitLine(line);
    if (!step) {
      ++local.bad_lines;
      continue;
    }
    auto [it, inserted] = counts.try_emplace(step->key, Count{0, local.lines});
    if (step->delta > 0) {
      ++it->second.count;
    } else if (step->delta < 0 && it->second.count > 0) {
      --it->second.count;  // a removal of what was never recorded changes nothing
    }
  }
  std::vector<std::pair<std::size_t, std::string_view>> survivors;
  for (const auto& [key, c] : counts)
    if (c.count > 0) survivors.emplace_back(c.first_seen, key);
  std::sort(survivors.begin(), survivors.end());
  JournalState state;
  for (const auto& [first_seen, key] : survivors) {
    if (!AddToState(key, counts[key].count, state)) ++local.bad_lines;
  }
  if (stats) *stats = local;
  return state;
}

std::expected<KernelJournal, std::string> KernelJournal::Open(const std::string& path,
                                                              WarnFn warn) {
  // A compaction killed before its rename leaves <path>.new: the journal itself is intact.
  ::unlink((path + ".new").c_str());
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (fd < 0) {
    return std::unexpected(fmt::format("cannot open kernel journal {}: {}", path,
                                       std::strerror(errno)));
  }
  return KernelJournal(path, fd, std::move(warn));
}

KernelJournal::KernelJournal(KernelJournal&& other) noexcept
    : path_(std::move(other.path_)),
      fd_(std::exchange(other.fd_, -1)),
      warn_(std::move(other.warn_)),
      live_(std::move(other.live_)),
      sequence_(other.sequence_),
      live_total_(other.live_total_),
      lines_(other.lines_),
      write_errors_(other.write_errors_),
      compactions_(other.compactions_) {}

KernelJournal& KernelJournal::operator=(KernelJournal&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    path_ = std::move(other.path_);
    fd_ = std::exchange(other.fd_, -1);
    warn_ = std::move(other.warn_);
    live_ = std::move(other.live_);
    sequence_ = other.sequence_;
    live_total_ = other.live_total_;
    lines_ = other.lines_;
    write_errors_ = other.write_errors_;
    compactions_ = other.compactions_;
  }
  return *this;
}

KernelJournal::~KernelJournal() {
  if (fd_ >= 0) ::close(fd_);
}

std::expected<JournalState, std::string> KernelJournal::ReadLeftovers(ReplayStats* stats) const {
  std::ifstream in(path_);
  if (!in) return std::unexpected(fmt::format("cannot read kernel journal {}", path_));
  std::stringstream text;
  text << in.rdbuf();
  return ReplayJournal(text.str(), stats);
}

std::error_code KernelJournal::Reset(const JournalState& still_there) {
  live_.clear();
  live_total_ = 0;
  for (const auto& id : still_there.policies) Count(JournalEntry::Policy(id), 1);
  for (const auto& id : still_there.sas) Count(JournalEntry::Sa(id), 1);
  for (const auto& name : still_there.vtis) Count(JournalEntry::Vti(name), 1);
  return Compact();
}

std::error_code KernelJournal::IntendAdd(const JournalEntry& entry) {
  if (auto ec = Append("+?", entry)) return ec;
  Count(entry, 1);
  return {};
}

void KernelJournal::Added(const JournalEntry& entry, bool installed) {
  (void)Append(installed ? "+=" : "+!", entry);
  if (!installed) Count(entry, -1);
  MaybeCompact();
}

void KernelJournal::IntendRemove(const JournalEntry& entry) { (void)Append("-?", entry); }

void KernelJournal::Removed(const JournalEntry& entry, bool gone) {
  (void)Append(gone ? "-=" : "-!", entry);
  if (gone) Count(entry, -1);
  MaybeCompact();
}

void KernelJournal::Count(const JournalEntry& entry, int delta) {
  std::string key = fmt::format("{} {}", KindName(entry.kind), entry.body);
  if (delta > 0) {
    auto [it, inserted] = live_.try_emplace(std::move(key), Live{0, sequence_++});
    ++it->second.count;
    ++live_total_;
    return;
  }
  auto it = live_.find(key);
  if (it == live_.end()) return;
  --live_total_;
  if (--it->second.count == 0) live_.erase(it);
}

std::error_code KernelJournal::Append(std::string_view op, const JournalEntry& entry) {
  const std::string line = fmt::format("{}{} {}\n", op, KindName(entry.kind), entry.body);
  // O_APPEND, one write(2) per line: a killed process leaves whole lines, or a torn last one.
  const ssize_t n = ::write(fd_, line.data(), line.size());
  if (n == static_cast<ssize_t>(line.size())) {
    ++lines_;
    return {};
  }
  const std::error_code ec = n < 0 ? std::error_code(errno, std::generic_category())
                                   : std::make_error_code(std::errc::no_space_on_device);
  WriteFailed(fmt::format("{}{} line", op, KindName(entry.kind)), ec);
  return ec;
}

void KernelJournal::MaybeCompact() {
  if (lines_ <= 2 * live_total_ + kCompactFloor) return;
  (void)Compact();
}

std::error_code KernelJournal::Compact() {
  std::vector<std::pair<std::uint64_t, const std::string*>> order;
  order.reserve(live_.size());
  for (const auto& [key, live] : live_) order.emplace_back(live.first_seen, &key);
  std::sort(order.begin(), order.end());
  std::string text;
  for (const auto& [seen, key] : order) {
    for (std::size_t i = 0; i < live_.at(*key).count; ++i) text += fmt::format("+{}\n", *key);
  }
  const std::string next = path_ + ".new";
  int fd = ::open(next.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0600);
  std::error_code ec;
  if (fd < 0) ec = std::error_code(errno, std::generic_category());
  for (std::size_t done = 0; !ec && done < text.size();) {
    const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0) {
      if (errno != EINTR) ec = std::error_code(errno, std::generic_category());
      continue;
    }
    done += static_cast<std::size_t>(n);
  }
  // The rename is the commit point: killed before it, the old journal stays whole.
  if (!ec && ::rename(next.c_str(), path_.c_str()) != 0)
    ec = std::error_code(errno, std::generic_category());
  if (ec) {
    if (fd >= 0) ::close(fd);
    ::unlink(next.c_str());
    WriteFailed("compaction", ec);
    return ec;
  }
  ::close(fd_);
  fd_ = fd;
  lines_ = live_total_;
  ++compactions_;
  return {};
}

void KernelJournal::WriteFailed(std::string_view what, std::error_code ec) {
  ++write_errors_;
  // Every failure is counted; the first and then every power of two is reported.
  if (warn_ && (write_errors_ & (write_errors_ - 1)) == 0) {
    warn_(fmt::format("kernel journal {}: {} failed: {} ({} write error{} so far)", path_, what,
                      ec.message(), write_errors_, write_errors_ == 1 ? "" : "s"));
  }
}

JournalingKernel::JournalingKernel(xfrm::KernelIpsec& inner, KernelJournal& journal,
                                   SpiChooser choose)
    : inner_(inner), journal_(journal), choose_(choose ? std::move(choose) : RandomSpi) {}

std::expected<std::uint32_t, std::error_code> JournalingKernel::AllocSpi(
    const xfrm::IpAddress& src, const xfrm::IpAddress& dst, std::uint32_t reqid,
    xfrm::SpiRange range) {
  // The kernel would pick the SPI after the intent could be written: pick it here instead, record
  // the larval SA, then ask for exactly that SPI. A taken SPI (ENOENT) is retried a few times.
  std::expected<std::uint32_t, std::error_code> got;
  for (int attempt = 0; attempt < 8; ++attempt) {
    const std::uint32_t spi = choose_(range);
    const auto larval = JournalEntry::Sa({src, dst, spi, 50, xfrm::Mark::None()});
    if (auto ec = journal_.IntendAdd(larval)) return std::unexpected(ec);
    got = inner_.AllocSpi(src, dst, reqid, xfrm::SpiRange{spi, spi});
    journal_.Added(larval, got.has_value());
    if (got || got.error() != std::errc::no_such_file_or_directory) return got;
  }
  return got;
}

std::error_code JournalingKernel::AddSa(const xfrm::SaSpec& spec) {
  // Without a mark the inbound SA is the larval SA AllocSpi recorded (UPDSA): nothing new.
  if (spec.inbound && !spec.id.mark.is_set()) return inner_.AddSa(spec);
  const auto entry = JournalEntry::Sa(spec.id);
  if (auto ec = journal_.IntendAdd(entry)) return ec;
  const auto ec = inner_.AddSa(spec);
  journal_.Added(entry, !ec);
  if (!ec && spec.inbound) {
    // With a mark (mark_in_sa) the marked SA takes the larval entry's place.
    xfrm::SaId larval = spec.id;
    larval.mark = xfrm::Mark::None();
    journal_.Removed(JournalEntry::Sa(larval), true);
  }
  return ec;
}

std::error_code JournalingKernel::DelSa(const xfrm::SaId& id) {
  const auto entry = JournalEntry::Sa(id);
  journal_.IntendRemove(entry);
  const auto ec = inner_.DelSa(id);
  journal_.Removed(entry, IsGone(ec));
  return ec;
}

std::error_code JournalingKernel::UpdateSa(const xfrm::SaId& id, const xfrm::SaMove& to) {
  xfrm::SaId moved = id;
  moved.src = to.src;
  moved.dst = to.dst;
  const JournalEntry before = JournalEntry::Sa(id);
  const JournalEntry after = JournalEntry::Sa(moved);
  if (before == after) return inner_.UpdateSa(id, to);
  if (auto ec = journal_.IntendAdd(after)) return ec;
  journal_.IntendRemove(before);
  const auto ec = inner_.UpdateSa(id, to);
  journal_.Removed(before, !ec);
  journal_.Added(after, !ec);
  return ec;
}

std::expected<xfrm::SaCounters, std::error_code> JournalingKernel::QuerySa(const xfrm::SaId& id) {
  return inner_.QuerySa(id);
}

std::error_code JournalingKernel::AddPolicy(const xfrm::PolicySpec& spec) {
  const auto entry = JournalEntry::Policy(spec.id);
  if (auto ec = journal_.IntendAdd(entry)) return ec;
  const auto ec = inner_.AddPolicy(spec);
  journal_.Added(entry, !ec);
  return ec;
}

std::error_code JournalingKernel::UpdatePolicy(const xfrm::PolicySpec& spec) {
  return inner_.UpdatePolicy(spec);  // the policy exists already: nothing new to record
}

std::error_code JournalingKernel::DelPolicy(const xfrm::PolicyId& id) {
  const auto entry = JournalEntry::Policy(id);
  journal_.IntendRemove(entry);
  const auto ec = inner_.DelPolicy(id);
  journal_.Removed(entry, IsGone(ec));
  return ec;
}

std::error_code JournalingKernel::ReleasePolicy(const xfrm::PolicySpec& spec) {
  const auto entry = JournalEntry::Policy(spec.id);
  journal_.IntendRemove(entry);
  const auto ec = inner_.ReleasePolicy(spec);
  journal_.Removed(entry, IsGone(ec));
  return ec;
}

LeftoverReport RemoveLeftovers(const JournalState& leftovers, xfrm::KernelIpsec& kernel,
                               const VtiDeleter& delete_vti) {
  LeftoverReport report;
  auto account = [&report](std::error_code ec, bool gone_if, std::string_view what) {
    if (!ec) {
      ++report.removed;
      return true;
    }
    if (gone_if) {
      ++report.already_gone;
      return true;
    }
    report.errors.push_back(fmt::format("{}: {}", what, ec.message()));
    return false;
  };
  // A policy is one kernel object however many references the dead process held: one removal.
  std::vector<xfrm::PolicyId> policies = leftovers.policies;
  std::sort(policies.begin(), policies.end());
  policies.erase(std::unique(policies.begin(), policies.end()), policies.end());
  for (const auto& id : policies) {
    const auto ec = kernel.DelPolicy(id);
    if (!account(ec, IsGone(ec), "policy " + FormatPolicy(id)))
      report.still_there.policies.push_back(id);
  }
  for (const auto& id : leftovers.sas) {
    const auto ec = kernel.DelSa(id);
    if (!account(ec, IsGone(ec), "SA " + FormatSa(id))) report.still_there.sas.push_back(id);
  }
  for (const auto& name : leftovers.vtis) {
    const auto ec = delete_vti(name);
    if (!account(ec, ec == std::errc::no_such_device, "VTI " + name))
      report.still_there.vtis.push_back(name);
  }
  return report;
}


}  // namespace minivpn::daemon
