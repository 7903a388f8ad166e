// Logging for minivpnd: per-subsystem levels, one line per record on stderr.
//
// Subsystems follow charon's names so its users can read the logs: ike (exchanges and SA
// state), cfg (configuration), knl (kernel: xfrm, VTI), net (sockets), enc (message encoding).
// Levels: 0 basic, 1 audit (default), 2 control (one line per exchange, decisions), 3 raw
// (public packet bytes). There is no level that prints keys: secrets never reach a log.
//
// When stderr is the journal (systemd sets JOURNAL_STREAM to its device:inode), each record goes
// to journald natively with charon-systemd's fields: MESSAGE, PRIORITY (error 3, warning 4,
// notice 5, info 6), GROUP (IKE, CFG, ...), LEVEL, and for a record about an IKE SA its
// IKE_SA_NAME and IKE_SA_UNIQUE_ID (`journalctl IKE_SA_NAME=a-b`). Should journald refuse a
// record, it goes to stderr as a line with a "<N>" syslog priority prefix.
#pragma once

#include <fmt/core.h>

#include <array>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace minivpn::daemon {

enum class Subsystem : std::uint8_t { kIke, kCfg, kKnl, kNet, kEnc };
inline constexpr std::size_t kSubsystemCount = 5;

std::string_view Name(Subsystem s);
std::optional<Subsystem> ParseSubsystem(std::string_view name);

enum class Priority : std::uint8_t { kError = 3, kWarning = 4, kNotice = 5, kInfo = 6, kDebug = 7 };

// The IKE SA a record is about (the connection name and the SA's unique id).
struct SaTag {
  std::string_view name;
  std::uint64_t unique_id = 0;
};

class Logger {
 public:
  using Sink = std::function<void(std::string_view line)>;
  // One journal entry, as "FIELD=value" strings; false if journald did not take it.
  using JournalSend = std::function<bool(const std::vector<std::string>& fields)>;

  Logger();  // stderr sink (or the journal, see above), level 1 everywhere
  explicit Logger(Sink sink);
  Logger(const Logger&) = delete;
  Logger& operator=(const Logger&) = delete;

  // Records go to `send` (tests; the default constructor picks sd_journal_sendv when stderr is
  // the journal); `send` = nullptr: lines again.
  void UseJournal(JournalSend send) { journal_ = std::move(send); }

  // Records written while a SaScope lives are tagged with that IKE SA.
  class SaScope {
   public:
    SaScope(Logger& log, SaTag sa) : log_(log), previous_(log.sa_) { log_.sa_ = sa; }
    ~SaScope() { log_.sa_ = previous_; }
    SaScope(const SaScope&) = delete;
    SaScope& operator=(const SaScope&) = delete;

   private:
    Logger& log_;
    std::optional<SaTag> previous_;
  };

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
    Write(s, prio, fmt::format(format, std::forward<Args>(args)...), level);
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

  void Write(Subsystem s, Priority prio, std::string_view text, int level = 0);

  // Observers see every record written (after the level filter), with the IKE SA it is about:
  // vici's "log" event. Remove an observer before it goes away.
  using Observer = std::function<void(Subsystem s, int level, const std::optional<SaTag>& sa,
                                      std::string_view text)>;
  std::uint64_t AddObserver(Observer observer);
  void RemoveObserver(std::uint64_t id);

 private:
  bool WriteToJournal(Subsystem s, Priority prio, std::string_view text, int level);

  Sink sink_;
  JournalSend journal_;
  std::optional<SaTag> sa_;
  bool journal_prefix_ = false;
  bool stderr_sink_ = false;
  bool held_ = false;
  std::string pending_;
  std::array<int, kSubsystemCount> levels_;
  std::vector<std::pair<std::uint64_t, Observer>> observers_;
  std::uint64_t next_observer_ = 1;
};

}  // namespace minivpn::daemon
