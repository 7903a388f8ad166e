#include "cli/daemon/log.h"

#include <cstdio>
#include <cstdlib>

namespace minivpn::daemon {

namespace {
constexpr std::array<std::string_view, kSubsystemCount> kNames = {"ike", "cfg", "knl", "net",
                                                                   "enc"};
}  // namespace

std::string_view Name(Subsystem s) { return kNames[static_cast<std::size_t>(s)]; }

std::optional<Subsystem> ParseSubsystem(std::string_view name) {
  for (std::size_t i = 0; i < kNames.size(); ++i) {
    if (kNames[i] == name) return static_cast<Subsystem>(i);
  }
  return std::nullopt;
}

Logger::Logger()
    : Logger([](std::string_view line) {
        std::fwrite(line.data(), 1, line.size(), stderr);
        std::fflush(stderr);
      }) {
  journal_prefix_ = std::getenv("JOURNAL_STREAM") != nullptr;
  stderr_sink_ = true;
}

Logger::Logger(Sink sink) : sink_(std::move(sink)) { levels_.fill(1); }

void Logger::Write(Subsystem s, Priority prio, std::string_view text) {
  std::string line;
  if (journal_prefix_) line = fmt::format("<{}>", static_cast<int>(prio));
  std::string tag(Name(s));
  for (char& c : tag) c = static_cast<char>(c - 'a' + 'A');  // charon style: [IKE]
  fmt::format_to(std::back_inserter(line), "[{}] {}\n", tag, text);
  if (held_ && stderr_sink_) {
    pending_ += line;
    return;
  }
  sink_(line);
}

void Logger::Release() {
  held_ = false;
  if (pending_.empty()) return;
  sink_(pending_);
  pending_.clear();
}

}  // namespace minivpn::daemon
