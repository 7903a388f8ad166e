// libFuzzer target for strongSwan's settings syntax as minivpnd reads it: swanctl.conf
// (connections { } secrets { }) and strongswan.conf (charon { }), cli/config/settings.cc,
// swanctl.cc, strongswan_conf.cc, and the cross-checks of config.cc.
//
// The input is a file set (config_fuzz_util.h): the main file is swanctl.conf; a file named
// strongswan.conf is loaded as such, else the main file is loaded as strongswan.conf too, so
// both loaders see every input. Checked for every input:
//   - LoadConfig does not crash, and a second load gives the same configuration and diagnostics;
//   - every diagnostic names a file of the set (or none) and a line and column inside it;
//   - ParseSettingsText on the main file's text gives the same document and diagnostics as
//     ParseSettingsFile on the file;
//   - no diagnostic contains the secret marker ("s3cr3t") when every occurrence of it is inside
//     the value of a `secret` key of a section in secrets { };
//   - one load expands at most kIncludeBudget includes (includes stay inside the file set).
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "cli/config/config.h"
#include "cli/config/settings.h"
#include "tests/fuzz/config_fuzz_util.h"

namespace {

using namespace minivpn;        // NOLINT
using namespace minivpn::fuzz;  // NOLINT

constexpr const char* kName = "swanctl_fuzzer";
constexpr std::string_view kMain = "swanctl.conf";

bool SameSection(const config::SettingsSection& a, const config::SettingsSection& b) {
  if (a.name != b.name || a.where != b.where || a.refs != b.refs ||
      a.values.size() != b.values.size() || a.sections.size() != b.sections.size()) {
    return false;
  }
  for (std::size_t i = 0; i < a.values.size(); ++i) {
    const auto& x = a.values[i];
    const auto& y = b.values[i];
    if (x.key != y.key || x.value != y.value || x.where != y.where ||
        x.value_where != y.value_where) {
      return false;
    }
  }
  for (std::size_t i = 0; i < a.sections.size(); ++i) {
    if (!SameSection(a.sections[i], b.sections[i])) return false;
  }
  return true;
}

// The raw text of every secrets.<section>.secret value, by file.
std::vector<std::pair<std::string, std::vector<Range>>> SecretRanges(
    const config::SettingsDocument& doc, const std::vector<FuzzFile>& files) {
  std::vector<std::pair<std::string, std::vector<Range>>> out;
  for (const auto& f : files) out.emplace_back(f.name, std::vector<Range>{});
  const config::SettingsSection* secrets = doc.root.FindSection("secrets");
  if (secrets == nullptr) return out;
  const std::string prefix = FuzzDir() + "/";
  for (const auto& section : secrets->sections) {
    for (const auto& v : section.values) {
      if (v.key != "secret" || !v.value_where.file.starts_with(prefix)) continue;
      const std::string name = v.value_where.file.substr(prefix.size());
      for (auto& [file, ranges] : out) {
        if (file != name) continue;
        const FuzzFile* f = FindFile(files, name);
        ranges.push_back(SettingsValueRange(f->text, v.value_where.line, v.value_where.column));
      }
    }
  }
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const std::vector<FuzzFile> files = SplitFiles(input, kMain);
  WriteFiles(files);

  config::ConfigPaths paths;
  paths.swanctl_conf = PathOf(kMain);
  paths.strongswan_conf =
      PathOf(FindFile(files, "strongswan.conf") != nullptr ? "strongswan.conf" : kMain);
  const config::LoadResult first = LoadTwiceAndCheck(kName, paths, files);

  config::Diagnostics file_diags;
  config::Diagnostics text_diags;
  ResetIncludeBudget();
  const config::SettingsDocument from_file = config::ParseSettingsFile(paths.swanctl_conf, file_diags);
  ResetIncludeBudget();
  const config::SettingsDocument from_text =
      config::ParseSettingsText(files.front().text, paths.swanctl_conf, text_diags);
  if (!Ignored("text-vs-file")) {
    if (!SameSection(from_file.root, from_text.root) || from_file.files != from_text.files) {
      Fail(kName, "ParseSettingsText and ParseSettingsFile give different documents");
    }
    if (file_diags.list() != text_diags.list()) {
      Fail(kName, "ParseSettingsText and ParseSettingsFile give different diagnostics");
    }
  }
  CheckNoSecretLeak(kName, first.diagnostics, files, SecretRanges(from_file, files));
  return 0;
}
