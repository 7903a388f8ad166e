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

std::optional<xfrm::PolicyId> ParsePolicy(const std::vector<std::string_view>& w) {
  if (w.size() != 5) return std::nullopt;
  auto src = xfrm::Subnet::Parse(w[1]);
  auto dst = xfrm::Subnet::Parse(w[2]);
  auto dir = ParseDir(w[3]);
  auto mark = ParseMark(w[4]);
  if (!src || !dst || !dir || !mark) return std::nullopt;
  return xfrm::PolicyId{*src, *dst, *dir, *mark};
}

template <typename T>
void EraseOne(std::vector<T>& items, const T& item) {
  auto it = std::find(items.begin(), items.end(), item);
  if (it != items.end()) items.erase(it);
}

}  // namespace

JournalState ReplayJournal(std::string_view text, std::size_t* bad_lines) {
  JournalState state;
  std::size_t bad = 0;
  while (!text.empty()) {
    auto eol = text.find('\n');
    std::string_view line = text.substr(0, eol);
    text.remove_prefix(eol == std::string_view::npos ? text.size() : eol + 1);
    if (line.empty()) continue;
    auto w = Words(line);
    if (w.empty() || w[0].size() < 2 || (w[0][0] != '+' && w[0][0] != '-')) {
      ++bad;
      continue;
    }
    bool add = w[0][0] == '+';
    std::string_view kind = w[0].substr(1);
    if (kind == "sa") {
      if (auto id = ParseSa(w)) {
        add ? state.sas.push_back(*id) : EraseOne(state.sas, *id);
        continue;
      }
    } else if (kind == "pol") {
      if (auto id = ParsePolicy(w)) {
        add ? state.policies.push_back(*id) : EraseOne(state.policies, *id);
        continue;
      }
    } else if (kind == "vti" && w.size() == 2) {
      std::string name(w[1]);
      add ? state.vtis.push_back(name) : EraseOne(state.vtis, name);
      continue;
    }
    ++bad;  // a torn last line after a crash lands here
  }
  if (bad_lines) *bad_lines = bad;
  return state;
}

std::expected<KernelJournal, std::string> KernelJournal::Open(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (fd < 0) {
    return std::unexpected(fmt::format("cannot open kernel journal {}: {}", path,
                                       std::strerror(errno)));
  }
  return KernelJournal(path, fd);
}

KernelJournal::KernelJournal(KernelJournal&& other) noexcept
    : path_(std::move(other.path_)), fd_(std::exchange(other.fd_, -1)) {}

KernelJournal& KernelJournal::operator=(KernelJournal&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    path_ = std::move(other.path_);
    fd_ = std::exchange(other.fd_, -1);
  }
  return *this;
}

KernelJournal::~KernelJournal() {
  if (fd_ >= 0) ::close(fd_);
}

std::expected<JournalState, std::string> KernelJournal::ReadLeftovers() const {
  std::ifstream in(path_);
  if (!in) return std::unexpected(fmt::format("cannot read kernel journal {}", path_));
  std::stringstream text;
  text << in.rdbuf();
  return ReplayJournal(text.str());
}

std::error_code KernelJournal::Truncate() {
  if (::ftruncate(fd_, 0) != 0) return {errno, std::generic_category()};
  return {};
}

std::string KernelJournal::Format(const xfrm::SaId& id) {
  return fmt::format("{} {} {:08x} {} {:x}/{:x}", id.src.ToString(), id.dst.ToString(), id.spi,
                     id.proto, id.mark.value, id.mark.mask);
}

std::string KernelJournal::Format(const xfrm::PolicyId& id) {
  return fmt::format("{} {} {} {:x}/{:x}", id.src.ToString(), id.dst.ToString(), DirName(id.dir),
                     id.mark.value, id.mark.mask);
}

void KernelJournal::Append(char op, std::string_view kind, std::string_view body) {
  std::string line = fmt::format("{}{} {}\n", op, kind, body);
  // O_APPEND: one write() per line, so lines of a crashed process are whole or torn at the end.
  [[maybe_unused]] auto n = ::write(fd_, line.data(), line.size());
}

std::expected<std::uint32_t, std::error_code> JournalingKernel::AllocSpi(
    const xfrm::IpAddress& src, const xfrm::IpAddress& dst, std::uint32_t reqid) {
  auto spi = inner_.AllocSpi(src, dst, reqid);
  // A larval SA exists from here on: journal it so a crash before AddSa still cleans it up.
  if (spi) journal_.SaAdded(xfrm::SaId{src, dst, *spi, 50, xfrm::Mark::None()});
  return spi;
}

std::error_code JournalingKernel::AddSa(const xfrm::SaSpec& spec) {
  auto ec = inner_.AddSa(spec);
  if (ec) return ec;
  // The inbound SA replaces its larval state (journaled by AllocSpi with no mark): with no mark
  // that entry already names it; with a mark (mark_in_sa) the entry is swapped for the marked
  // one, the new line first so that a crash between the two leaves both (replay removes both).
  if (!spec.inbound) {
    journal_.SaAdded(spec.id);
  } else if (spec.id.mark.is_set()) {
    journal_.SaAdded(spec.id);
    xfrm::SaId larval = spec.id;
    larval.mark = xfrm::Mark::None();
    journal_.SaRemoved(larval);
  }
  return ec;
}

std::error_code JournalingKernel::DelSa(const xfrm::SaId& id) {
  auto ec = inner_.DelSa(id);
  if (!ec || ec == std::errc::no_such_process || ec == std::errc::no_such_file_or_directory) {
    journal_.SaRemoved(id);
  }
  return ec;
}

std::expected<xfrm::SaCounters, std::error_code> JournalingKernel::QuerySa(const xfrm::SaId& id) {
  return inner_.QuerySa(id);
}

std::error_code JournalingKernel::AddPolicy(const xfrm::PolicySpec& spec) {
  auto ec = inner_.AddPolicy(spec);
  if (!ec) journal_.PolicyAdded(spec.id);
  return ec;
}

std::error_code JournalingKernel::UpdatePolicy(const xfrm::PolicySpec& spec) {
  return inner_.UpdatePolicy(spec);
}

std::error_code JournalingKernel::DelPolicy(const xfrm::PolicyId& id) {
  auto ec = inner_.DelPolicy(id);
  if (!ec || ec == std::errc::no_such_file_or_directory) journal_.PolicyRemoved(id);
  return ec;
}

}  // namespace minivpn::daemon
