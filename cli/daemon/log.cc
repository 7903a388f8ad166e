#include "cli/daemon/log.h"

#include <sys/stat.h>
#include <sys/uio.h>
#include <systemd/sd-journal.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>

namespace minivpn::daemon {

namespace {
constexpr std::array<std::string_view, kSubsystemCount> kNames = {"ike", "cfg", "knl", "net",
                                                                   "enc"};

// systemd sets JOURNAL_STREAM to "device:inode" of the stream it connects to stderr; a child
// that inherited the variable but not the stream does not match (systemd.exec(5)).
bool StderrIsTheJournal() {
  const char* stream = std::getenv("JOURNAL_STREAM");
  if (stream == nullptr) return false;
  unsigned long long dev = 0, ino = 0;
  if (std::sscanf(stream, "%llu:%llu", &dev, &ino) != 2) return false;
  struct stat st {};
  if (fstat(STDERR_FILENO, &st) != 0) return false;
  return st.st_dev == dev && st.st_ino == ino;
}

bool SendToJournal(const std::vector<std::string>& fields) {
  std::vector<iovec> iov;
  iov.reserve(fields.size());
  for (const auto& f : fields) iov.push_back({const_cast<char*>(f.data()), f.size()});
  return sd_journal_sendv(iov.data(), static_cast<int>(iov.size())) >= 0;
}

std::string Tag(Subsystem s) {
  std::string tag(Name(s));
  for (char& c : tag) c = static_cast<char>(c - 'a' + 'A');  // charon style: IKE
  return tag;
}

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
  if (StderrIsTheJournal()) journal_ = SendToJournal;
}

Logger::Logger(Sink sink) : sink_(std::move(sink)) { levels_.fill(1); }

bool Logger::WriteToJournal(Subsystem s, Priority prio, std::string_view text, int level) {
  std::vector<std::string> fields{
      fmt::format("MESSAGE={}", text), fmt::format("PRIORITY={}", static_cast<int>(prio)),
      "SYSLOG_IDENTIFIER=minivpnd", fmt::format("GROUP={}", Tag(s)),
      fmt::format("LEVEL={}", level)};
  if (sa_ && !sa_->name.empty()) {
    fields.push_back(fmt::format("IKE_SA_NAME={}", sa_->name));
    fields.push_back(fmt::format("IKE_SA_UNIQUE_ID={}", sa_->unique_id));
  }
  return journal_(fields);
}

std::uint64_t Logger::AddObserver(Observer observer) {
  observers_.emplace_back(next_observer_, std::move(observer));
  return next_observer_++;
}

void Logger::RemoveObserver(std::uint64_t id) {
  std::erase_if(observers_, [id](const auto& o) { return o.first == id; });
}

void Logger::Write(Subsystem s, Priority prio, std::string_view text, int level) {
  for (const auto& [id, observer] : observers_) observer(s, level, sa_, text);
  if (journal_ && WriteToJournal(s, prio, text, level)) return;
  std::string line;
  if (journal_prefix_) line = fmt::format("<{}>", static_cast<int>(prio));
  fmt::format_to(std::back_inserter(line), "[{}] {}\n", Tag(s), text);
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
