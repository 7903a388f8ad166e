// ipsec.secrets(5): one entry per "<selectors> : <TYPE> <secret>" where selectors are zero or
// more identities separated by whitespace (none = default secret for any peer), TYPE is PSK
// for minivpn (RSA, ECDSA, EAP, XAUTH, NTLM, PIN, P12 entries are skipped with a warning) and
// the secret is "quoted", 0x<hex> or 0s<base64>. An entry may continue on lines starting with
// whitespace; "include <glob>" pulls in other files relative to this one; '#' starts a comment.
#include <fmt/core.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstring>

#include "cli/config/loaders.h"
#include "cli/config/values.h"

namespace minivpn::config {
namespace {

// `set` holds c (a NUL is never in a set: std::strchr would match the terminator and make the
// scanning loops stop on a NUL byte without consuming it, forever).
constexpr bool IsAnyOf(char c, std::string_view set) { return set.find(c) != std::string_view::npos; }


constexpr int kMaxIncludeDepth = 10;

struct Token {
  std::string text;
  bool quoted = false;
  Location where;
};

// ':' separates identities from the secret when followed by whitespace or the end, so that
// IPv6 identities ("2001:db8::1 : PSK ..") keep their colons.
bool IsSeparatorColon(std::string_view text, std::size_t i) {
  return i + 1 >= text.size() || IsAnyOf(text[i + 1], " \t\r\n");
}

// Splits an entry's text into tokens; quoted strings keep spaces and '#'. Returns false on an
// unterminated quote.
bool Tokenize(std::string_view text, Location start, std::vector<Token>& out, Diagnostics& d) {
  std::size_t i = 0;
  int line = start.line;
  int col = start.column;
  auto adv = [&] {
    if (text[i] == '\n') {
      ++line;
      col = 1;
    } else {
      ++col;
    }
    ++i;
  };
  while (i < text.size()) {
    char c = text[i];
    if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
      adv();
    } else if (c == '#') {
      while (i < text.size() && text[i] != '\n') adv();
    } else if (c == '"' || c == '\'') {
      Token t{"", true, Location{start.file, line, col}};
      t.text.reserve(text.size() - i);  // no reallocation: no unwiped partial copy of a secret
      char quote = c;
      adv();
      while (i < text.size() && text[i] != quote) {
        t.text += text[i];
        adv();
      }
      if (i >= text.size()) {
        d.Error(t.where, "unterminated quoted string");
        SecureWipe(t.text.data(), t.text.size());
        return false;
      }
      adv();
      out.push_back(std::move(t));
    } else if (c == ':' && IsSeparatorColon(text, i)) {
      out.push_back(Token{":", false, Location{start.file, line, col}});
      adv();
    } else {
      Token t{"", false, Location{start.file, line, col}};
      t.text.reserve(text.size() - i);
      while (i < text.size() && !IsAnyOf(text[i], " \t\r\n#\"") &&
             !(text[i] == ':' && IsSeparatorColon(text, i))) {
        t.text += text[i];
        adv();
      }
      out.push_back(std::move(t));
    }
  }
  return true;
}

void WipeTokens(std::vector<Token>& tokens) {
  for (auto& t : tokens) {
    if (!t.text.empty()) SecureWipe(t.text.data(), t.text.size());
  }
}

void ParseEntry(std::string_view text, Location start, Config& config, Diagnostics& d) {
  std::vector<Token> tokens;
  if (!Tokenize(text, start, tokens, d)) {
    WipeTokens(tokens);
    return;
  }
  if (tokens.empty()) return;
  std::size_t colon = 0;
  while (colon < tokens.size() && !(tokens[colon].text == ":" && !tokens[colon].quoted)) ++colon;
  if (colon == tokens.size()) {
    d.Error(start,
            "expected ':' between the identities and the secret type (e.g. "
            "'idA idB : PSK \"secret\"')");
    WipeTokens(tokens);
    return;
  }
  if (colon + 1 >= tokens.size()) {
    d.Error(tokens[colon].where, "expected a secret type (PSK) after ':'");
    WipeTokens(tokens);
    return;
  }
  const Token& type = tokens[colon + 1];
  if (type.text != "PSK" || type.quoted) {
    if (!type.quoted &&
        (type.text == "RSA" || type.text == "ECDSA" || type.text == "BLISS" || type.text == "EAP" ||
         type.text == "XAUTH" || type.text == "NTLM" || type.text == "PIN" || type.text == "P12" ||
         type.text == "PKCS8" || type.text == "PKCS12")) {
      d.Warning(type.where,
                fmt::format("{} secret ignored: minivpn uses PSK entries only", type.text));
    } else {
      // Never echoed: with the keyword forgotten ('id : "secret"') this token is the secret.
      d.Error(type.where,
              "expected the secret type PSK after ':' (the text found there is not shown: it may "
              "be the secret; write 'ids : PSK \"secret\"')");
    }
    WipeTokens(tokens);
    return;
  }
  SharedSecret secret;
  secret.where = start;
  secret.name = fmt::format("{}:{}", start.file, start.line);
  bool ok = true;
  for (std::size_t i = 0; i < colon; ++i) {
    auto id = ParseIdentity(tokens[i].text);
    if (!id) {
      d.Error(tokens[i].where, id.error());
      ok = false;
    } else {
      secret.owners.push_back(*id);
    }
  }
  if (colon + 2 >= tokens.size()) {
    d.Error(type.where, "expected the secret after 'PSK' (\"quoted\", 0x<hex> or 0s<base64>)");
    WipeTokens(tokens);
    return;
  }
  const Token& value = tokens[colon + 2];
  if (colon + 3 < tokens.size()) {
    d.Error(tokens[colon + 3].where, "unexpected text after the secret");
    ok = false;
  }
  if (!value.quoted && !value.text.starts_with("0x") && !value.text.starts_with("0s")) {
    d.Error(value.where, "expected a \"quoted\" secret, 0x<hex> or 0s<base64> after 'PSK'");
    ok = false;
  } else {
    auto decoded = value.quoted
                       ? (value.text.empty() ? std::expected<SecretBytes, std::string>(
                                                   std::unexpected(std::string("empty secret")))
                                             : SecretBytes::FromString(value.text))
                       : DecodeSecret(value.text);
    if (!decoded) {
      d.Error(value.where, decoded.error());
      ok = false;
    } else {
      secret.secret = std::move(*decoded);
    }
  }
  WipeTokens(tokens);
  if (ok) config.secrets.push_back(std::move(secret));
}

void LoadLines(const std::string& path, Config& config, Diagnostics& d, int depth,
               const Location& from, IncludeGuard& guard);

void LoadFile(const std::string& path, Config& config, Diagnostics& d, int depth,
              const Location& from, IncludeGuard& guard) {
  const Location where = from.file.empty() ? Location{path, 0, 0} : from;
  if (auto refused = guard.Enter(path)) {
    if (!refused->empty()) d.Error(where, *refused);
    return;
  }
  LoadLines(path, config, d, depth, where, guard);
  guard.Leave();
}

void LoadLines(const std::string& path, Config& config, Diagnostics& d, int depth,
               const Location& from, IncludeGuard& guard) {
  std::string text;
  std::string error;
  if (!ReadFile(path, text, error)) {
    d.Error(from, fmt::format("cannot read '{}': {}", path, error));
    return;
  }
  d.HideSecretsOf(text);
  CheckSecretFilePermissions(path, d);
  // Entries: a line starting in column 1 begins one; indented lines continue it.
  std::size_t pos = text.starts_with("\xef\xbb\xbf") ? 3 : 0;  // UTF-8 BOM
  int line = 1;
  std::string entry;
  Location entry_start;
  auto flush = [&] {
    if (!entry.empty()) ParseEntry(entry, entry_start, config, d);
    if (!entry.empty()) SecureWipe(entry.data(), entry.size());
    entry.clear();
  };
  while (pos <= text.size()) {
    std::size_t end = text.find('\n', pos);
    if (end == std::string::npos) end = text.size();
    std::string_view l(text.data() + pos, end - pos);
    bool continuation = !l.empty() && (l[0] == ' ' || l[0] == '\t');
    std::string_view trimmed = Trim(l);
    if (trimmed.empty() || trimmed[0] == '#') {
      // blank or comment line: does not end an entry; inside one it keeps its line break so
      // that the tokens after it are reported on their own line
      if (!entry.empty()) entry += '\n';
    } else if (continuation && !entry.empty()) {
      entry += '\n';
      entry += l;
    } else if (!continuation &&
               (trimmed.starts_with("include ") || trimmed.starts_with("include\t"))) {
      flush();
      std::string pattern(Trim(trimmed.substr(8)));
      if (pattern.size() >= 2 && pattern.front() == '"' && pattern.back() == '"') {
        pattern = pattern.substr(1, pattern.size() - 2);
      }
      Location where{path, line, 1};
      if (depth >= kMaxIncludeDepth) {
        d.Error(where, fmt::format("includes nested more than {} deep at '{}' (a loop?)",
                                   kMaxIncludeDepth, pattern));
      } else {
        bool is_pattern = false;
        auto files = ExpandInclude(pattern, DirName(path), is_pattern);
        if (files.empty() && !is_pattern) {
          d.Error(where, fmt::format("cannot read included file '{}': {}", pattern,
                                     std::strerror(ENOENT)));
        }
        for (const auto& f : files) LoadFile(f, config, d, depth + 1, where, guard);
      }
    } else {
      flush();
      entry_start =
          Location{path, line, continuation ? static_cast<int>(l.size() - Trim(l).size()) + 1 : 1};
      entry = std::string(continuation ? Trim(l) : l);
    }
    pos = end + 1;
    ++line;
  }
  flush();
  SecureWipe(text.data(), text.size());
}

}  // namespace

void CheckSecretFilePermissions(const std::string& path, Diagnostics& d) {
  struct stat st {};
  if (stat(path.c_str(), &st) != 0) return;
  if ((st.st_mode & (S_IRGRP | S_IROTH)) != 0) {
    d.Warning(Location{path, 0, 0},
              fmt::format("'{}' holds secrets but is readable by {} (mode {:04o}); run "
                          "chmod 600",
                          path, (st.st_mode & S_IROTH) != 0 ? "others" : "its group",
                          st.st_mode & 07777));
  }
}

void LoadIpsecSecrets(const std::string& path, Config& config, Diagnostics& d) {
  IncludeGuard guard;
  LoadFile(path, config, d, 0, Location{}, guard);
}

}  // namespace minivpn::config
