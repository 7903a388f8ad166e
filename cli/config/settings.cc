#include "cli/config/settings.h"

#include <fcntl.h>
#include <fmt/core.h>
#include <glob.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <set>

#include "crypto/secret.h"

namespace minivpn::config {
namespace {

// `set` holds c (a NUL is never in a set: std::strchr would match the terminator and make the
// scanning loops stop on a NUL byte without consuming it, forever).
constexpr bool IsAnyOf(char c, std::string_view set) { return set.find(c) != std::string_view::npos; }


constexpr int kMaxIncludeDepth = 10;
constexpr int kMaxNesting = 64;
constexpr std::string_view kUtf8Bom = "\xef\xbb\xbf";

bool IsNameChar(char c) {
  if (static_cast<unsigned char>(c) <= ' ' || c == 0x7f) return false;
  return std::strchr(".,:{}=\"#", c) == nullptr;
}

void WipeString(std::string& s) {
  if (!s.empty()) SecureWipe(s.data(), s.size());
  s.clear();
}

// Appends to a value that may be a secret. A std::string that outgrows its buffer frees the old
// one as it is, with the first part of the value in it; this grows it by hand and wipes the old
// buffer first (issue 18).
void AppendWiping(std::string& s, char c) {
  if (s.size() == s.capacity()) {
    std::string bigger;
    bigger.reserve(2 * s.capacity() + 16);
    bigger.append(s);
    WipeString(s);
    s = std::move(bigger);
  }
  s.push_back(c);
}

void WipeSection(SettingsSection& s) {
  for (auto& v : s.values) WipeString(v.value);
  for (auto& sub : s.sections) WipeSection(sub);
}

struct Cursor {
  std::string_view text;
  std::string file;
  std::size_t pos = 0;
  int line = 1;
  int column = 1;

  bool eof() const { return pos >= text.size(); }
  char peek() const { return eof() ? '\0' : text[pos]; }
  Location loc() const { return Location{file, line, column}; }
  void advance() {
    if (eof()) return;
    if (text[pos] == '\n') {
      ++line;
      column = 1;
    } else {
      ++column;
    }
    ++pos;
  }
  void SkipSpaces() {
    while (!eof() && (peek() == ' ' || peek() == '\t' || peek() == '\r')) advance();
  }
  void SkipComment() {
    while (!eof() && peek() != '\n') advance();
  }
  // Skips whitespace, newlines and comments.
  void SkipBlank() {
    while (!eof()) {
      char c = peek();
      if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
        advance();
      } else if (c == '#') {
        SkipComment();
      } else {
        break;
      }
    }
  }
  // Error recovery: skip the rest of the line, but stop before a '}' closing a section.
  void SkipLine() {
    while (!eof() && peek() != '\n' && peek() != '}') advance();
  }
};

class Parser {
 public:
  Parser(SettingsDocument& doc, Diagnostics& diags) : doc_(doc), diags_(diags) {}

  void ParseFile(const std::string& path, SettingsSection& target, int depth,
                 const Location& from) {
    const Location where = from.file.empty() ? Location{path, 0, 0} : from;
    if (auto refused = guard_.Enter(path)) {
      if (!refused->empty()) diags_.Error(where, *refused);
      return;
    }
    std::string text;
    std::string error;
    if (!ReadFile(path, text, error)) {
      diags_.Error(where, fmt::format("cannot read '{}': {}", path, error));
    } else {
      diags_.HideSecretsOf(text);
      ParseText(text, path, target, depth);
      WipeString(text);
    }
    guard_.Leave();
  }

  // Text read from elsewhere as if it were the file `name` (which therefore may not include itself).
  void ParseNamedText(std::string_view text, const std::string& name) {
    if (auto refused = guard_.Enter(name)) {
      if (!refused->empty()) diags_.Error(Location{name, 0, 0}, *refused);
      return;
    }
    ParseText(text, name, doc_.root, 0);
    guard_.Leave();
  }

  void ParseText(std::string_view text, const std::string& file, SettingsSection& target,
                 int depth) {
    doc_.files.push_back(file);
    Cursor c{text, file};
    if (text.starts_with(kUtf8Bom)) c.pos = kUtf8Bom.size();  // column counting stays 1-based
    ParseBody(c, target, true, depth);
  }

  void ResolveReferences() {
    std::set<std::string> stack;
    Resolve(doc_.root, "", stack, 0);
  }

 private:
  void ParseBody(Cursor& c, SettingsSection& section, bool top, int depth) {
    while (true) {
      c.SkipBlank();
      if (c.eof()) {
        if (!top && !aborted_) {
          diags_.Error(c.loc(), fmt::format("expected '}}' to close section '{}' opened at line {}",
                                            section.name, section.where.line));
        }
        return;
      }
      char ch = c.peek();
      if (ch == '}') {
        if (top) {
          diags_.Error(c.loc(), "unexpected '}' (no section is open)");
          c.advance();
          continue;
        }
        c.advance();
        return;
      }
      if (!IsNameChar(ch)) {
        diags_.Error(c.loc(), fmt::format("expected a key or section name, found '{}'", ch));
        c.SkipLine();
        continue;
      }
      Location name_loc = c.loc();
      std::string name;
      while (!c.eof() && IsNameChar(c.peek())) {
        name += c.peek();
        c.advance();
      }
      c.SkipSpaces();
      ch = c.peek();
      if (name == "include" && !c.eof() && ch != '=' && ch != '{' && ch != ':' && ch != '\n') {
        Include(c, section, depth, name_loc);
        continue;
      }
      if (ch == '=') {
        c.advance();
        ReadValue(c, section, name, name_loc);
      } else if (ch == '{' || ch == ':') {
        std::vector<std::string> refs;
        if (ch == ':' && !ReadRefs(c, refs, name) && c.peek() != '{') {
          c.SkipLine();
          continue;
        }
        c.advance();  // '{'
        if (nesting_ >= kMaxNesting) {
          diags_.Error(name_loc, fmt::format("sections nested more than {} deep; the rest of the "
                                             "file is skipped",
                                             kMaxNesting));
          while (!c.eof()) c.advance();
          aborted_ = true;
          return;
        }
        SettingsSection& sub = SubSection(section, name, name_loc);
        for (auto& r : refs) sub.refs.push_back(std::move(r));
        ++nesting_;
        ParseBody(c, sub, false, depth);
        --nesting_;
      } else {
        diags_.Error(name_loc, fmt::format("expected '=' or '{{' after '{}'", name));
        c.SkipLine();
      }
    }
  }

  static SettingsSection& SubSection(SettingsSection& parent, const std::string& name,
                                     const Location& where) {
    for (auto& s : parent.sections) {
      if (s.name == name) return s;
    }
    parent.sections.push_back(SettingsSection{name, where, {}, {}, {}});
    return parent.sections.back();
  }

  bool ReadRefs(Cursor& c, std::vector<std::string>& refs, const std::string& name) {
    c.advance();  // ':'
    while (true) {
      c.SkipSpaces();
      std::string ref;
      while (!c.eof() && (IsNameChar(c.peek()) || c.peek() == '.')) {
        ref += c.peek();
        c.advance();
      }
      if (ref.empty()) {
        diags_.Error(c.loc(), fmt::format("expected a section name after ':' in '{}'", name));
        return false;
      }
      refs.push_back(std::move(ref));
      c.SkipSpaces();
      if (c.peek() == ',') {
        c.advance();
        continue;
      }
      if (c.peek() == '{') return true;
      diags_.Error(c.loc(), fmt::format("expected ',' or '{{' after the references of '{}'", name));
      return false;
    }
  }

  // A value is a sequence of words and "quoted strings" up to the end of the line, '#' or '}';
  // the parts are joined with single spaces (as charon's settings lexer/parser do).
  void ReadValue(Cursor& c, SettingsSection& section, const std::string& key,
                 const Location& key_loc) {
    c.SkipSpaces();
    Location value_loc = c.loc();
    std::string value;
    bool first = true;
    while (true) {
      c.SkipSpaces();
      if (c.eof() || c.peek() == '\n' || c.peek() == '#' || c.peek() == '}') break;
      if (!first) AppendWiping(value, ' ');
      first = false;
      if (c.peek() != '"') {
        while (!c.eof() && !IsAnyOf(c.peek(), " \t\r\n#}\"")) {
          AppendWiping(value, c.peek());
          c.advance();
        }
        continue;
      }
      Location quote_loc = c.loc();
      c.advance();
      bool closed = false;
      while (!c.eof()) {
        char ch = c.peek();
        c.advance();
        if (ch == '"') {
          closed = true;
          break;
        }
        if (ch == '\r') continue;
        if (ch == '\\' && !c.eof()) {
          char e = c.peek();
          c.advance();
          switch (e) {
            case 'n':
              AppendWiping(value, '\n');
              break;
            case 'r':
              AppendWiping(value, '\r');
              break;
            case 't':
              AppendWiping(value, '\t');
              break;
            case '\n':
              break;  // an escaped end of line joins the lines
            default:
              AppendWiping(value, e);
              break;
          }
          continue;
        }
        AppendWiping(value, ch);
      }
      if (!closed) {
        diags_.Error(quote_loc, fmt::format("unterminated quoted value of '{}'", key));
        WipeString(value);
        return;
      }
    }
    for (auto& v : section.values) {
      if (v.key == key) {  // a later value replaces an earlier one
        WipeString(v.value);
        v.value = std::move(value);
        v.where = key_loc;
        v.value_where = value_loc;
        return;
      }
    }
    section.values.push_back(SettingsValue{key, std::move(value), key_loc, value_loc});
  }

  void Include(Cursor& c, SettingsSection& section, int depth, const Location& where) {
    std::string pattern;
    if (c.peek() == '"') {
      c.advance();
      while (!c.eof() && c.peek() != '"' && c.peek() != '\n') {
        pattern += c.peek();
        c.advance();
      }
      if (c.peek() == '"') c.advance();
    } else {
      while (!c.eof() && c.peek() != '\n' && c.peek() != '#') {
        pattern += c.peek();
        c.advance();
      }
      while (!pattern.empty() &&
             (pattern.back() == ' ' || pattern.back() == '\t' || pattern.back() == '\r')) {
        pattern.pop_back();
      }
    }
    if (depth >= kMaxIncludeDepth) {
      diags_.Error(where, fmt::format("includes nested more than {} deep at '{}' (a loop?)",
                                      kMaxIncludeDepth, pattern));
      return;
    }
    bool is_pattern = false;
    auto files = ExpandInclude(pattern, DirName(c.file), is_pattern);
    if (files.empty() && !is_pattern) {
      diags_.Error(
          where, fmt::format("cannot read included file '{}': {}", pattern, std::strerror(ENOENT)));
      return;
    }
    for (const auto& f : files) ParseFile(f, section, depth + 1, where);
  }

  static SettingsSection* FindPath(SettingsSection& root, std::string_view path) {
    SettingsSection* s = &root;
    while (!path.empty()) {
      std::size_t dot = path.find('.');
      std::string_view part = path.substr(0, dot);
      SettingsSection* next = nullptr;
      for (auto& sub : s->sections) {
        if (sub.name == part) next = &sub;
      }
      if (next == nullptr) return nullptr;
      s = next;
      path = dot == std::string_view::npos ? std::string_view() : path.substr(dot + 1);
    }
    return s;
  }

  static void MergeMissing(SettingsSection& into, const SettingsSection& from) {
    for (const auto& v : from.values) {
      if (into.FindValue(v.key) == nullptr) into.values.push_back(v);
    }
    for (const auto& sub : from.sections) {
      bool merged = false;
      for (auto& mine : into.sections) {
        if (mine.name == sub.name) {
          MergeMissing(mine, sub);
          merged = true;
        }
      }
      if (!merged) into.sections.push_back(sub);
    }
  }

  void Resolve(SettingsSection& s, const std::string& path, std::set<std::string>& stack,
               int depth) {
    if (depth > 32) return;
    if (stack.contains(path)) {
      diags_.Error(s.where, fmt::format("section '{}' references itself (a loop)", path));
      return;
    }
    if (!s.refs.empty()) {
      stack.insert(path);
      auto refs = std::move(s.refs);
      s.refs.clear();
      for (const auto& ref : refs) {
        if (path == ref || path.starts_with(ref + ".")) {
          diags_.Error(s.where, fmt::format("section '{}' cannot reference its enclosing "
                                            "section '{}'",
                                            s.name, ref));
          continue;
        }
        SettingsSection* target = FindPath(doc_.root, ref);
        if (target == nullptr) {
          diags_.Error(s.where, fmt::format("section '{}' references '{}', which does not exist",
                                            s.name, ref));
          continue;
        }
        Resolve(*target, ref, stack, depth + 1);
        MergeMissing(s, *target);
      }
      stack.erase(path);
    }
    for (std::size_t i = 0; i < s.sections.size(); ++i) {
      std::string child = path.empty() ? s.sections[i].name : path + "." + s.sections[i].name;
      Resolve(s.sections[i], child, stack, depth + 1);
    }
  }

  SettingsDocument& doc_;
  IncludeGuard guard_;
  Diagnostics& diags_;
  int nesting_ = 0;
  bool aborted_ = false;
};

}  // namespace

const SettingsValue* SettingsSection::FindValue(std::string_view key) const {
  for (const auto& v : values) {
    if (v.key == key) return &v;
  }
  return nullptr;
}

const SettingsSection* SettingsSection::FindSection(std::string_view section_name) const {
  for (const auto& s : sections) {
    if (s.name == section_name) return &s;
  }
  return nullptr;
}

SettingsDocument::~SettingsDocument() { WipeSection(root); }

// Reads straight into `out` with read(2): no stream buffers keep copies of files that hold
// PSKs (callers wipe `out` after parsing).
std::optional<std::string> IncludeGuard::Enter(const std::string& path) {
  if (files_ >= kMaxFiles) {
    if (budget_reported_) return std::string();
    budget_reported_ = true;
    return fmt::format("more than {} files read for one configuration: stopped at '{}' (a file "
                       "included over and over?)",
                       kMaxFiles, path);
  }
  std::error_code ec;
  std::string canonical = std::filesystem::weakly_canonical(path, ec).string();
  if (ec) canonical = path;
  const auto seen = std::find(stack_.begin(), stack_.end(), canonical);
  if (seen != stack_.end()) {
    std::string chain;
    for (auto it = seen; it != stack_.end(); ++it) chain += *it + " -> ";
    return fmt::format("'{}' includes itself ({}{}): not read again", path, chain, canonical);
  }
  ++files_;
  stack_.push_back(std::move(canonical));
  return std::nullopt;
}

bool ReadFile(const std::string& path, std::string& out, std::string& error) {
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    error = std::strerror(errno);
    return false;
  }
  struct stat st {};
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    error = S_ISDIR(st.st_mode) ? "is a directory" : "not a regular file";
    close(fd);
    return false;
  }
  constexpr off_t kMaxSize = 16 * 1024 * 1024;
  if (st.st_size > kMaxSize) {
    error = "larger than 16 MiB";
    close(fd);
    return false;
  }
  out.assign(static_cast<std::size_t>(st.st_size), '\0');
  std::size_t done = 0;
  while (done < out.size()) {
    ssize_t n = read(fd, out.data() + done, out.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      error = std::strerror(errno);
      close(fd);
      return false;
    }
    if (n == 0) break;
    done += static_cast<std::size_t>(n);
  }
  out.resize(done);
  close(fd);
  return true;
}

std::string DirName(const std::string& path) {
  std::size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

std::vector<std::string> ExpandInclude(const std::string& pattern, const std::string& base_dir,
                                       bool& is_pattern) {
  std::string full = pattern.starts_with('/') ? pattern : base_dir + "/" + pattern;
  is_pattern = pattern.find_first_of("*?[") != std::string::npos;
  std::vector<std::string> out;
  glob_t g{};
  if (glob(full.c_str(), GLOB_ERR, nullptr, &g) == 0) {
    for (std::size_t i = 0; i < g.gl_pathc; ++i) out.emplace_back(g.gl_pathv[i]);
  }
  globfree(&g);
  return out;  // glob() sorts the names
}

SettingsDocument ParseSettingsFile(const std::string& path, Diagnostics& diags) {
  SettingsDocument doc;
  Parser parser(doc, diags);
  parser.ParseFile(path, doc.root, 0, Location{});
  parser.ResolveReferences();
  return doc;
}

SettingsDocument ParseSettingsText(std::string_view text, const std::string& name,
                                   Diagnostics& diags) {
  SettingsDocument doc;
  Parser parser(doc, diags);
  diags.HideSecretsOf(text);
  parser.ParseNamedText(text, name);
  parser.ResolveReferences();
  return doc;
}

}  // namespace minivpn::config
