// Helpers for the config tests: a temporary directory to write files into (with modes), and
// matchers over diagnostics.
#pragma once

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "cli/config/diagnostic.h"

namespace minivpn::config::testing {

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "mvcfg-XXXXXX").string();
    char* made = mkdtemp(tmpl.data());
    EXPECT_NE(made, nullptr);
    path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  // Writes `content` to dir/name (creating subfolders) with `mode`; returns the full path.
  std::string Write(const std::string& name, const std::string& content, mode_t mode = 0600) {
    std::filesystem::path p = std::filesystem::path(path_) / name;
    std::filesystem::create_directories(p.parent_path());
    {
      std::ofstream out(p, std::ios::binary | std::ios::trunc);
      out << content;
    }
    chmod(p.c_str(), mode);
    return p.string();
  }
  // Copies a file of tests/cli/data into the directory (mode 0600).
  std::string CopyData(const std::string& relative, const std::string& as) {
    std::ifstream in(std::string(MINIVPN_CONFIG_TESTDATA) + "/" + relative, std::ios::binary);
    EXPECT_TRUE(in.good()) << relative;
    std::string content((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    return Write(as, content);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

inline std::string Dump(const std::vector<Diagnostic>& diags) {
  std::string out;
  for (const auto& d : diags) out += ToString(d) + "\n";
  return out;
}

inline std::size_t Count(const std::vector<Diagnostic>& diags, Severity severity) {
  std::size_t n = 0;
  for (const auto& d : diags) n += d.severity == severity ? 1 : 0;
  return n;
}

// Finds a diagnostic of `severity` whose message contains `text` (and at line/column if > 0).
inline const Diagnostic* Find(const std::vector<Diagnostic>& diags, Severity severity,
                              const std::string& text, int line = 0, int column = 0) {
  for (const auto& d : diags) {
    if (d.severity != severity || d.message.find(text) == std::string::npos) continue;
    if (line > 0 && d.where.line != line) continue;
    if (column > 0 && d.where.column != column) continue;
    return &d;
  }
  return nullptr;
}

#define EXPECT_DIAG(diags, severity, text, ...)                                                 \
  EXPECT_NE(::minivpn::config::testing::Find(diags, severity, text __VA_OPT__(, ) __VA_ARGS__), \
            nullptr)                                                                            \
      << "missing: " << text << "\nhave:\n"                                                     \
      << ::minivpn::config::testing::Dump(diags)

}  // namespace minivpn::config::testing
