// Logging for minivpnd: per-subsystem levels, one line per record on stderr.
//
// Subsystems follow charon's names so its users can read the logs: ike (exchanges and SA
// state), cfg (configuration), knl (kernel: xfrm, VTI), net (sockets), enc (message encoding).
// Levels: 0 basic, 1 audit (default), 2 control (one line per exchange, decisions), 3 raw
// (public packet bytes). There is no level that prints keys: secrets never reach a log.
//
// When stderr is the journal (systemd sets JOURNAL_STREAM), each line carries a "<N>" syslog
// priority prefix so journald files it at the right priority.
#pragma once

#include <fmt/core.h>

#include <array>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace minivpn::daemon {

enum class Subsystem : std::uint8_t { kIke, kCfg, kKnl, kNet, kEnc };
inline constexpr std::size_t kSubsystemCount = 5;

std::string_view Name(Subsystem s);
std::optional<Subsystem> ParseSubsystem(std::string_view name);

enum class Priority : std::uint8_t { kError = 3, kWarning = 4, kNotice = 5, kInfo = 6, kDebug = 7 };

class Logger {
 public:
  using Sink = std::function<void(std::string_view line)>;

  Logger();  // stderr sink, level 1 everywhere
  explicit Logger(Sink sink);
  Logger(const Logger&) = delete;
  Logger& operator=(const Logger&) = delete;

  // Lines logged between Hold() and Release() reach stderr together at Release(): one write(2)
  // for the lines of one engine step instead of one per line. A custom sink gets every line as
  // it comes.
  void Hold() { held_ = true; }
  void Release();

  void SetLevel(Subsystem s, int level) { levels_[static_cast<std::size_t>(s)] = level; }
  void SetAllLevels(int level) { levels_.fill(level); }
  int level(Subsystem s) const { return levels_[static_cast<std::size_t>(s)]; }
  bool Enabled(Subsystem s, int level) const { return level <= this->level(s); }

  template <typename... Args>
  void Log(Subsystem s, int level, Priority prio, fmt::format_string<Args...> format,
           Args&&... args) {
    if (!Enabled(s, level)) return;
    Write(s, prio, fmt::format(format, std::forward<Args>(args)...));
  }
  template <typename... Args>
  void Info(Subsystem s, int level, fmt::format_string<Args...> format, Args&&... args) {
    Log(s, level, Priority::kInfo, format, std::forward<Args>(args)...);
  }
  template <typename... Args>
  void Error(Subsystem s, fmt::format_string<Args...> format, Args&&... args) {
    Log(s, 0, Priority::kError, format, std::forward<Args>(args)...);
  }
  template <typename... Args>
  void Warn(Subsystem s, fmt::format_string<Args...> format, Args&&... args) {
    Log(s, 0, Priority::kWarning, format, std::forward<Args>(args)...);
  }

  void Write(Subsystem s, Priority prio, std::string_view text);

 private:
  Sink sink_;
  bool journal_prefix_ = false;
  bool stderr_sink_ = false;
  bool held_ = false;
  std::string pending_;
  std::array<int, kSubsystemCount> levels_;
};

}  // namespace minivpn::daemon
