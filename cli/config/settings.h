// strongSwan's settings syntax (strongswan.conf(5), also used by swanctl.conf):
//
//   settings   := (section | keyvalue | include)*
//   section    := name [':' absname (',' absname)*] '{' settings '}'
//   keyvalue   := key '=' value            value ends at newline, '#' or '}'; may be "quoted"
//   include    := 'include' path           relative to the including file, shell globs allowed
//
// Names may not contain . , : { } = " # or whitespace. Sections with the same name are merged
// and a later value replaces an earlier one (as charon does with includes). Section references
// inherit keys and subsections of the referenced sections (own settings take precedence).
// Every syntax error is collected with its file:line:column; parsing resumes at the next line.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cli/config/diagnostic.h"

namespace minivpn::config {

struct SettingsValue {
  std::string key;
  std::string value;
  Location where;        // of the key
  Location value_where;  // of the value
};

struct SettingsSection {
  std::string name;
  Location where;
  std::vector<std::string> refs;
  std::vector<SettingsValue> values;
  std::vector<SettingsSection> sections;

  const SettingsValue* FindValue(std::string_view key) const;
  const SettingsSection* FindSection(std::string_view name) const;
};

// A parsed file tree. Values are wiped on destruction (swanctl.conf holds PSKs).
class SettingsDocument {
 public:
  SettingsDocument() = default;
  ~SettingsDocument();
  SettingsDocument(SettingsDocument&&) = default;
  SettingsDocument& operator=(SettingsDocument&&) = default;

  SettingsSection root;
  std::vector<std::string> files;  // every file read, in order (for permission checks)
};

// Parses `path` (and its includes). I/O and syntax problems go to `diags`.
SettingsDocument ParseSettingsFile(const std::string& path, Diagnostics& diags);
// Parses text as if read from `name` (includes are resolved relative to `base_dir`).
SettingsDocument ParseSettingsText(std::string_view text, const std::string& name,
                                   Diagnostics& diags);

// One load's include bookkeeping, shared by the three formats: a file that includes itself
// (directly or through others) is refused, naming the chain, and one load reads at most
// kMaxFiles files (a file including another k times at each of 10 levels would otherwise make a
// SIGHUP reload parse k^10 files on the daemon's event thread).
class IncludeGuard {
 public:
  static constexpr std::size_t kMaxFiles = 1000;
  // Before reading `path`: nullopt if it may be read; else the error to report (empty: already
  // reported, skip quietly). Every successful Enter is paired with a Leave after the file.
  std::optional<std::string> Enter(const std::string& path);
  void Leave() { stack_.pop_back(); }

 private:
  std::vector<std::string> stack_;  // canonical paths of the files being read
  std::size_t files_ = 0;
  bool budget_reported_ = false;
};

// Helpers shared with the ipsec.conf reader.
bool ReadFile(const std::string& path, std::string& out, std::string& error);
std::string DirName(const std::string& path);
// Expands a glob relative to `base_dir`; `is_pattern` tells whether it had wildcards.
std::vector<std::string> ExpandInclude(const std::string& pattern, const std::string& base_dir,
                                       bool& is_pattern);

}  // namespace minivpn::config
