#include "cli/config/diagnostic.h"

#include <fmt/core.h>

#include <algorithm>
#include <cctype>
#include <cstring>

namespace minivpn::config {

std::string_view Name(Severity severity) {
  switch (severity) {
    case Severity::kError:
      return "error";
    case Severity::kWarning:
      return "warning";
    case Severity::kNote:
      return "note";
  }
  return "error";
}

std::string ToString(const Diagnostic& d) {
  std::string where = d.where.file;
  if (d.where.line > 0) {
    where += fmt::format(":{}", d.where.line);
    if (d.where.column > 0) where += fmt::format(":{}", d.where.column);
  }
  if (where.empty()) return fmt::format("{}: {}", Name(d.severity), d.message);
  return fmt::format("{}: {}: {}", where, Name(d.severity), d.message);
}

namespace {

// `set` holds c (a NUL is never in a set: std::strchr would match the terminator and make the
// scanning loops stop on a NUL byte without consuming it, forever).
constexpr bool IsAnyOf(char c, std::string_view set) { return set.find(c) != std::string_view::npos; }


bool StartsWithNoCase(std::string_view text, std::string_view word) {
  if (text.size() < word.size()) return false;
  for (std::size_t i = 0; i < word.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(text[i])) != word[i]) return false;
  return true;
}

}  // namespace

void Diagnostics::HideSecretsOf(std::string_view text) {
  constexpr std::size_t kMinLength = 4;
  constexpr const char* kAround = " \t\r\n=:{}\"'#";
  auto remember = [this](std::string_view token) {
    if (token.size() < kMinLength) return;
    for (const auto& h : hidden_)
      if (h.Equals(AsBytes(token))) return;
    hidden_.push_back(SecretBytes::FromString(token));
  };
  auto remember_words = [&](std::size_t from, std::size_t to) {
    for (std::size_t q = from; q < to;) {
      while (q < to && IsAnyOf(text[q], kAround)) ++q;
      std::size_t end = q;
      while (end < to && !IsAnyOf(text[end], kAround)) ++end;
      const std::string_view word = text.substr(q, end - q);
      remember(word);
      if (word.size() > 2 && word[0] == '0' && IsAnyOf(word[1], "xXs")) remember(word.substr(2));
      q = end;
    }
  };
  auto line_end = [&](std::size_t from) {
    const auto nl = text.find('\n', from);
    return nl == std::string_view::npos ? text.size() : nl;
  };
  auto is_word_char = [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.';
  };
  // A line that reads as an ordinary statement (not the rest of a broken value): empty, a
  // comment, a closing brace, a section or include line, or '=', ':' or '{' before any quote.
  auto ordinary = [&](std::size_t from, std::size_t to) {
    std::size_t q = from;
    while (q < to && (text[q] == ' ' || text[q] == '\t')) ++q;
    const std::string_view line = text.substr(q, to - q);
    if (line.empty() || line[0] == '#' || line[0] == '}') return true;
    for (std::string_view word : {"include ", "conn ", "config ", "ca "})
      if (line.starts_with(word)) return true;
    const auto mark = line.find_first_of("=:{\"'");
    return mark != std::string_view::npos && line[mark] != '"' && line[mark] != '\'';
  };
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (i > 0 && is_word_char(text[i - 1])) continue;
    // `secret =` / `secret:` (swanctl.conf, a pasted line), `: PSK value` (ipsec.secrets) and
    // `psk=` (a pasted line); not `auth = psk` or `secrets {`.
    const bool secret = StartsWithNoCase(text.substr(i), "secret");
    const bool psk = !secret && StartsWithNoCase(text.substr(i), "psk");
    if (!secret && !psk) continue;
    const std::size_t after = i + (secret ? 6 : 3);
    if (after < text.size() && is_word_char(text[after])) continue;
    std::size_t p = after;
    while (p < text.size() && (text[p] == ' ' || text[p] == '\t')) ++p;
    const bool assigned = p < text.size() && (text[p] == '=' || text[p] == ':');
    std::size_t before = i;
    while (before > 0 && (text[before - 1] == ' ' || text[before - 1] == '\t')) --before;
    const bool after_colon = before > 0 && text[before - 1] == ':';
    if (!(assigned || (psk && after_colon))) continue;
    if (assigned) ++p;
    while (p < text.size() && (text[p] == ' ' || text[p] == '\t')) ++p;
    // The value as written: a quoted string (spaces included) ...
    bool open_quote = false;
    if (p < text.size() && (text[p] == '"' || text[p] == '\'')) {
      std::size_t end = p + 1;
      while (end < text.size() && text[end] != text[p] && text[end] != '\n') ++end;
      remember(text.substr(p + 1, end - p - 1));
      open_quote = end >= text.size() || text[end] == '\n';
    }
    // ... and every word of the rest of the line, and of the next line too when the value may
    // have been broken onto it (an open quote, nothing on this line, or a next line that is not
    // an ordinary statement).
    const std::size_t end = line_end(p);
    remember_words(p, end);
    if (end < text.size()) {
      const std::size_t next_end = line_end(end + 1);
      bool empty = true;
      for (std::size_t q = p; q < end; ++q) empty = empty && IsAnyOf(text[q], kAround);
      if (open_quote || empty || !ordinary(end + 1, next_end)) remember_words(end + 1, next_end);
    }
  }
}

std::string Diagnostics::Hide(std::string message) const {
  for (const auto& h : hidden_) {
    const auto bytes = h.Reveal();
    const std::string_view secret(reinterpret_cast<const char*>(bytes.data()), bytes.size());
    constexpr std::string_view kHidden = "<hidden>";
    // The search goes on after the replacement: a secret such as "hidden" must not be found
    // inside the "<hidden>" just written (found by the ipsec_conf fuzzer: an endless loop).
    for (auto pos = message.find(secret); pos != std::string::npos;
         pos = message.find(secret, pos + kHidden.size())) {
      message.replace(pos, secret.size(), kHidden);
    }
  }
  return message;
}

bool Diagnostics::HasErrors() const { return ErrorCount() > 0; }

std::size_t Diagnostics::ErrorCount() const {
  return static_cast<std::size_t>(
      std::count_if(list_.begin(), list_.end(),
                    [](const Diagnostic& d) { return d.severity == Severity::kError; }));
}

}  // namespace minivpn::config
