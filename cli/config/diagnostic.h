// Diagnostics of the configuration loader: every problem found in a file is collected (never
// just the first) as "file:line:column: severity: message". Messages never contain secrets: the
// parsers say so in their wording, and as a second line of defence every file's text is scanned
// for what looks like a secret (the token after a `secret` or `PSK` keyword, 4 characters or
// more) before it is parsed, and any message quoting such a token shows "<hidden>" instead, even
// when a broken file makes the secret part of another value.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "crypto/secret.h"

namespace minivpn::config {

// A position in a configuration file; line and column are 1-based, 0 = unknown.
struct Location {
  std::string file{};
  int line = 0;
  int column = 0;
  bool operator==(const Location&) const = default;
};

enum class Severity : unsigned char { kError, kWarning, kNote };

struct Diagnostic {
  Severity severity = Severity::kError;
  Location where{};
  std::string message{};
  bool operator==(const Diagnostic&) const = default;
};

// "swanctl.conf:12:5: error: expected '=' or '{' after 'local_addrs'"
std::string ToString(const Diagnostic& diagnostic);
std::string_view Name(Severity severity);

// Collects diagnostics while a file set is loaded.
class Diagnostics {
 public:
  void Error(const Location& where, std::string message) {
    Add(Severity::kError, where, std::move(message));
  }
  void Warning(const Location& where, std::string message) {
    Add(Severity::kWarning, where, std::move(message));
  }
  void Note(const Location& where, std::string message) {
    Add(Severity::kNote, where, std::move(message));
  }
  void Add(Severity severity, const Location& where, std::string message) {
    list_.push_back(Diagnostic{severity, where, Hide(std::move(message))});
  }
  // Remembers the secret-looking tokens of a file's text (call before parsing it).
  void HideSecretsOf(std::string_view text);
  bool HasErrors() const;
  std::size_t ErrorCount() const;
  const std::vector<Diagnostic>& list() const { return list_; }
  std::vector<Diagnostic> Take() { return std::move(list_); }

 private:
  std::string Hide(std::string message) const;

  std::vector<Diagnostic> list_;
  std::vector<SecretBytes> hidden_;  // wiped when the diagnostics go
};

}  // namespace minivpn::config
