#include "tests/fuzz/config_fuzz_util.h"

#include <dlfcn.h>
#include <fcntl.h>
#include <glob.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "cli/config/values.h"

namespace minivpn::fuzz {
namespace {

std::string g_dir;
bool g_dir_ready = false;  // constant-initialised: open() may run before g_dir is constructed
std::vector<std::string> g_written;  // names written by the last WriteFiles
std::size_t g_included = 0;          // files of the set opened since ResetIncludeBudget
bool g_budget_exceeded = false;
std::vector<std::string> g_included_paths;  // what the includes of this load matched

void RemoveAll() {
  for (const auto& name : g_written) ::unlink((g_dir + "/" + name).c_str());
  g_written.clear();
}

void Cleanup() {
  if (g_dir.empty()) return;
  RemoveAll();
  ::rmdir(g_dir.c_str());
}

std::string SanitizeName(std::string_view raw, std::size_t index) {
  std::string name;
  for (char c : config::Trim(raw)) {
    if (name.size() == 40) break;
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '.' || c == '_' || c == '-';
    name += ok ? c : '_';
  }
  if (name.empty() || name == "." || name == "..") name = "f" + std::to_string(index);
  return name;
}

std::size_t CountLines(std::string_view text) {
  return static_cast<std::size_t>(std::count(text.begin(), text.end(), '\n')) + 1;
}

// The length of line `line` (1-based) of `text`, without its '\n'; npos if there is none.
std::size_t LineLength(std::string_view text, int line) {
  std::size_t pos = 0;
  for (int i = 1; i < line; ++i) {
    pos = text.find('\n', pos);
    if (pos == std::string_view::npos) return std::string_view::npos;
    ++pos;
  }
  const std::size_t end = text.find('\n', pos);
  return (end == std::string_view::npos ? text.size() : end) - pos;
}

bool SameSecrets(const std::vector<config::SharedSecret>& a,
                 const std::vector<config::SharedSecret>& b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (a[i].name != b[i].name || a[i].where != b[i].where || a[i].owners != b[i].owners ||
        !(a[i].secret == b[i].secret)) {
      return false;
    }
  }
  return true;
}

}  // namespace

std::vector<FuzzFile> SplitFiles(std::string_view input, std::string_view main_name) {
  std::vector<FuzzFile> files;
  std::string name(main_name);
  std::size_t start = 0;
  const bool strip_nul = Ignored("nul-hang");
  const bool break_hidden = Ignored("hide-loop");
  auto add = [&](std::string_view text) {
    for (const auto& f : files) {
      if (f.name == name) return;  // the first file of a name wins
    }
    files.push_back(FuzzFile{name, std::string(text)});
    std::string& t = files.back().text;
    if (strip_nul) std::replace(t.begin(), t.end(), '\0', ' ');
    if (break_hidden) {
      // Every 4-character piece of "<hidden>" holds one of these; change its middle letter.
      for (std::string_view piece : {"<hi", "hid", "idd", "dde", "den>"}) {
        for (auto at = t.find(piece); at != std::string::npos; at = t.find(piece, at + 1)) {
          t[at + 1] = 'X';
        }
      }
    }
  };
  std::size_t pos = 0;
  while (pos <= input.size()) {
    const bool at_line_start = pos == 0 || input[pos - 1] == '\n';
    if (at_line_start && input.substr(pos).starts_with(kFileMarker)) {
      add(input.substr(start, pos - start));
      std::size_t eol = input.find('\n', pos);
      if (eol == std::string_view::npos) eol = input.size();
      name = SanitizeName(input.substr(pos + kFileMarker.size(), eol - pos - kFileMarker.size()),
                          files.size());
      start = pos = std::min(eol + 1, input.size());
      if (files.size() >= kMaxFiles) return files;
      if (eol >= input.size()) break;
      continue;
    }
    const std::size_t eol = input.find('\n', pos);
    if (eol == std::string_view::npos) break;
    pos = eol + 1;
  }
  if (files.size() < kMaxFiles) add(input.substr(std::min(start, input.size())));
  return files;
}

const std::string& FuzzDir() {
  if (g_dir.empty()) {
    g_dir = MakePrivateDir("minivpn-fuzz");
    if (g_dir.empty()) {
      std::perror("config fuzzer: mkdtemp");
      std::abort();
    }
    g_dir_ready = true;
    std::atexit(Cleanup);
  }
  return g_dir;
}

void WriteFiles(const std::vector<FuzzFile>& files) {
  const std::string& dir = FuzzDir();
  RemoveAll();
  for (const auto& f : files) {
    const std::string path = dir + "/" + f.name;
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) {
      std::perror(path.c_str());
      std::abort();
    }
    std::size_t done = 0;
    while (done < f.text.size()) {
      const ssize_t n = ::write(fd, f.text.data() + done, f.text.size() - done);
      if (n <= 0) {
        std::perror(path.c_str());
        std::abort();
      }
      done += static_cast<std::size_t>(n);
    }
    ::close(fd);
    g_written.push_back(f.name);
  }
}

std::string PathOf(std::string_view name) { return FuzzDir() + "/" + std::string(name); }

const FuzzFile* FindFile(const std::vector<FuzzFile>& files, std::string_view name) {
  for (const auto& f : files) {
    if (f.name == name) return &f;
  }
  return nullptr;
}

void ResetIncludeBudget() {
  g_included = 0;
  g_budget_exceeded = false;
  g_included_paths.clear();
}

bool WasIncluded(std::string_view name) {
  const std::string path = PathOf(name);
  return std::find(g_included_paths.begin(), g_included_paths.end(), path) !=
         g_included_paths.end();
}

void CheckIncludeBudget(const char* fuzzer) {
  if (g_budget_exceeded && !Ignored("include-blowup")) {
    Fail(fuzzer, "include-blowup: one load read more than " + std::to_string(kIncludeBudget) +
                     " files (includes are not bounded in total)");
  }
}

void Fail(const char* fuzzer, const std::string& what) {
  std::fprintf(stderr, "%s: %s\n", fuzzer, what.c_str());
  std::abort();
}

void CheckSameResult(const char* fuzzer, const config::LoadResult& a,
                     const config::LoadResult& b) {
  if (a.diagnostics != b.diagnostics) Fail(fuzzer, "two loads gave different diagnostics");
  if (a.config.connections != b.config.connections) {
    Fail(fuzzer, "two loads gave different connections");
  }
  if (a.config.global != b.config.global) Fail(fuzzer, "two loads gave different global settings");
  if (!SameSecrets(a.config.secrets, b.config.secrets)) {
    Fail(fuzzer, "two loads gave different secrets");
  }
  if (a.ok() != b.ok()) Fail(fuzzer, "two loads disagree on ok()");
}

void CheckDiagnostics(const char* fuzzer, const std::vector<config::Diagnostic>& diagnostics,
                      const std::vector<FuzzFile>& files) {
  const bool positions = !Ignored("diag-position");
  for (const auto& d : diagnostics) {
    const std::string text = config::ToString(d);
    if (text.empty() || d.message.empty()) Fail(fuzzer, "empty diagnostic");
    if (d.where.line < 0 || d.where.column < 0) Fail(fuzzer, "negative position: " + text);
    if (d.where.file.empty()) continue;
    const std::string prefix = FuzzDir() + "/";
    if (!d.where.file.starts_with(prefix)) Fail(fuzzer, "diagnostic outside the file set: " + text);
    const FuzzFile* f = FindFile(files, std::string_view(d.where.file).substr(prefix.size()));
    if (f == nullptr) Fail(fuzzer, "diagnostic names a file not in the set: " + text);
    if (d.where.line == 0 || !positions) continue;
    if (static_cast<std::size_t>(d.where.line) > CountLines(f->text)) {
      Fail(fuzzer, "diagnostic line past the end of its file: " + text);
    }
    const std::size_t length = LineLength(f->text, d.where.line);
    if (d.where.column > 0 && static_cast<std::size_t>(d.where.column) > length + 1) {
      Fail(fuzzer, "diagnostic column past the end of its line: " + text);
    }
  }
}

std::vector<Range> IpsecSecretsRanges(std::string_view text) {
  std::vector<Range> ranges;
  std::string entry;
  std::vector<std::size_t> offsets;  // the file offset of each character of `entry`
  auto tokenize = [&] {
    struct Tok {
      std::size_t begin, end;  // in entry
      bool quoted;
      bool separator;
    };
    std::vector<Tok> toks;
    auto separator_colon = [&](std::size_t i) {
      return i + 1 >= entry.size() ||
             std::string_view(" \t\r\n").find(entry[i + 1]) != std::string_view::npos;
    };
    std::size_t i = 0;
    while (i < entry.size()) {
      const char c = entry[i];
      if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
        ++i;
      } else if (c == '#') {
        while (i < entry.size() && entry[i] != '\n') ++i;
      } else if (c == '"' || c == '\'') {
        const std::size_t begin = i++;
        while (i < entry.size() && entry[i] != c) ++i;
        if (i >= entry.size()) return;  // unterminated: the entry is dropped, nothing printed
        toks.push_back(Tok{begin, ++i, true, false});
      } else if (c == ':' && separator_colon(i)) {
        toks.push_back(Tok{i, i + 1, false, true});
        ++i;
      } else {
        const std::size_t begin = i;
        while (i < entry.size() &&
               std::string_view(" \t\r\n#\"").find(entry[i]) == std::string_view::npos &&
               !(entry[i] == ':' && separator_colon(i))) {
          ++i;
        }
        toks.push_back(Tok{begin, i, false, false});
      }
    }
    std::size_t colon = 0;
    while (colon < toks.size() && !toks[colon].separator) ++colon;
    for (std::size_t t = colon + 1; t < toks.size(); ++t) {
      if (t == colon + 1 && !toks[t].quoted) continue;  // the type word
      ranges.push_back(Range{offsets[toks[t].begin], offsets[toks[t].end - 1] + 1});
    }
  };
  auto flush = [&] {
    if (!entry.empty()) tokenize();
    entry.clear();
    offsets.clear();
  };
  auto append = [&](std::string_view part) {
    entry += part;
    for (std::size_t k = 0; k < part.size(); ++k) {
      offsets.push_back(static_cast<std::size_t>(part.data() - text.data()) + k);
    }
  };
  std::size_t pos = text.starts_with("\xef\xbb\xbf") ? 3 : 0;
  while (pos <= text.size()) {
    std::size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    const std::string_view l = text.substr(pos, end - pos);
    const bool continuation = !l.empty() && (l[0] == ' ' || l[0] == '\t');
    const std::string_view trimmed = config::Trim(l);
    if (trimmed.empty() || trimmed[0] == '#') {
      // skipped, the entry goes on
    } else if (continuation && !entry.empty()) {
      entry += '\n';
      offsets.push_back(pos - 1);
      append(l);
    } else if (!continuation &&
               (trimmed.starts_with("include ") || trimmed.starts_with("include\t"))) {
      flush();
    } else {
      flush();
      append(continuation ? trimmed : l);
    }
    pos = end + 1;
  }
  flush();
  return ranges;
}

Range SettingsValueRange(std::string_view text, int line, int column) {
  std::size_t pos = 0;
  for (int i = 1; i < line; ++i) {
    pos = text.find('\n', pos);
    if (pos == std::string_view::npos) return Range{0, 0};
    ++pos;
  }
  if (line == 1 && text.starts_with("\xef\xbb\xbf")) pos += 3;
  pos += static_cast<std::size_t>(column > 0 ? column - 1 : 0);
  if (pos > text.size()) return Range{0, 0};
  const std::size_t begin = pos;
  // settings.cc ReadValue: words and "quoted" parts up to '\n', '#' or '}' outside quotes.
  while (pos < text.size()) {
    const char c = text[pos];
    if (c == ' ' || c == '\t' || c == '\r') {
      ++pos;
      continue;
    }
    if (c == '\n' || c == '#' || c == '}') break;
    if (c != '"') {
      while (pos < text.size() &&
             std::string_view(" \t\r\n#}\"").find(text[pos]) == std::string_view::npos)
        ++pos;
      continue;
    }
    ++pos;
    while (pos < text.size()) {
      const char q = text[pos++];
      if (q == '"') break;
      if (q == '\\' && pos < text.size()) ++pos;
    }
  }
  return Range{begin, pos};
}

void CheckNoSecretLeak(const char* fuzzer, const std::vector<config::Diagnostic>& diagnostics,
                       const std::vector<FuzzFile>& files,
                       const std::vector<std::pair<std::string, std::vector<Range>>>& ranges) {
  if (Ignored("secret-leak")) return;
  std::size_t occurrences = 0;
  for (const auto& f : files) {
    if (f.name.find(kSecretMarker) != std::string::npos) return;
    const std::vector<Range>* secret = nullptr;
    for (const auto& [name, r] : ranges) {
      if (name == f.name) secret = &r;
    }
    for (std::size_t at = f.text.find(kSecretMarker); at != std::string::npos;
         at = f.text.find(kSecretMarker, at + 1)) {
      ++occurrences;
      if (secret == nullptr) return;
      const bool inside = std::any_of(secret->begin(), secret->end(), [&](const Range& r) {
        return r.begin <= at && at + kSecretMarker.size() <= r.end;
      });
      if (!inside) return;  // the marker is (also) used as something else: no claim
    }
  }
  if (occurrences == 0) return;
  for (const auto& d : diagnostics) {
    if (d.message.find(kSecretMarker) != std::string::npos) {
      Fail(fuzzer, "secret-leak: a diagnostic shows (part of) a PSK: " + config::ToString(d));
    }
  }
}

bool FakeIsLocal(const config::IpAddress& address) {
  // 192.0.2.x, 203.0.113.x and 2001:db8::/32 addresses with an odd last octet are "ours".
  const bool doc_v4 = address.is_v4() && ((address.bytes[0] == 192 && address.bytes[1] == 0 &&
                                           address.bytes[2] == 2) ||
                                          (address.bytes[0] == 203 && address.bytes[1] == 0 &&
                                           address.bytes[2] == 113));
  const bool doc_v6 = !address.is_v4() && address.bytes[0] == 0x20 && address.bytes[1] == 0x01 &&
                      address.bytes[2] == 0x0d && address.bytes[3] == 0xb8;
  const std::uint8_t last = address.bytes[address.is_v4() ? 3 : 15];
  return (doc_v4 || doc_v6) && (last & 1) != 0;
}

config::LoadResult LoadTwiceAndCheck(const char* fuzzer, const config::ConfigPaths& paths,
                                     const std::vector<FuzzFile>& files) {
  config::LoadOptions options;
  options.is_local_address = FakeIsLocal;
  ResetIncludeBudget();
  config::LoadResult first = config::LoadConfig(paths, options);
  CheckIncludeBudget(fuzzer);
  ResetIncludeBudget();
  const config::LoadResult second = config::LoadConfig(paths, options);
  CheckSameResult(fuzzer, first, second);
  CheckDiagnostics(fuzzer, first.diagnostics, files);
  return first;
}

}  // namespace minivpn::fuzz

// Every `include` of the loaders is expanded here (see the header): only inside the private
// directory and never with "..".
extern "C" int glob(const char* __restrict pattern, int flags,
                    int (*errfunc)(const char*, int), glob_t* __restrict pglob) noexcept {
  using GlobFn = int (*)(const char*, int, int (*)(const char*, int), glob_t*);
  static const auto real = reinterpret_cast<GlobFn>(::dlsym(RTLD_NEXT, "glob"));
  using namespace minivpn::fuzz;  // NOLINT
  const std::string_view p(pattern);
  if (real == nullptr || !p.starts_with(FuzzDir() + "/") || p.find("..") != std::string_view::npos) {
    pglob->gl_pathc = 0;
    pglob->gl_pathv = nullptr;
    return GLOB_NOMATCH;
  }
  const int rc = real(pattern, flags, errfunc, pglob);
  if (rc == 0) {
    for (std::size_t i = 0; i < pglob->gl_pathc; ++i) g_included_paths.emplace_back(pglob->gl_pathv[i]);
  }
  return rc;
}

// Counts the files of the set the loaders open for reading (ReadFile uses open(2)); past the
// budget the open fails (ENOENT), so that a blowup stays fast even when it is not reported.
extern "C" int open(const char* path, int flags, ...) {
  using OpenFn = int (*)(const char*, int, ...);
  static const auto real = reinterpret_cast<OpenFn>(::dlsym(RTLD_NEXT, "open"));
  mode_t mode = 0;
  if ((flags & O_CREAT) != 0 || (flags & O_TMPFILE) == O_TMPFILE) {
    va_list args;
    va_start(args, flags);
    mode = static_cast<mode_t>(va_arg(args, unsigned));
    va_end(args);
  }
  using namespace minivpn::fuzz;  // NOLINT
  if ((flags & O_CREAT) == 0 && g_dir_ready && std::string_view(path).starts_with(g_dir + "/")) {
    if (++g_included > kIncludeBudget) {
      g_budget_exceeded = true;
      errno = ENOENT;
      return -1;
    }
  }
  return real(path, flags, mode);
}
