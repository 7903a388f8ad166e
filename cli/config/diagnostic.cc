#include "cli/config/diagnostic.h"

#include <fmt/core.h>

#include <algorithm>

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

bool Diagnostics::HasErrors() const { return ErrorCount() > 0; }

std::size_t Diagnostics::ErrorCount() const {
  return static_cast<std::size_t>(
      std::count_if(list_.begin(), list_.end(),
                    [](const Diagnostic& d) { return d.severity == Severity::kError; }));
}

}  // namespace minivpn::config
