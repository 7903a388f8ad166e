// libFuzzer target for the legacy ipsec.conf reader (cli/config/ipsec_conf.cc: sections, also=,
// %default, include, the stroke defaults and conversions) and the cross-checks of config.cc.
//
// The input is a file set (config_fuzz_util.h): the main file is ipsec.conf; files named
// ipsec.secrets and strongswan.conf are loaded as such when present. Which side is local is
// decided by FakeIsLocal, not by the host's interfaces. Checked for every input:
//   - LoadConfig does not crash, and a second load gives the same configuration and diagnostics;
//   - every diagnostic names a file of the set (or none) and a line and column inside it;
//   - no diagnostic contains the secret marker ("s3cr3t") when every occurrence of it is in a
//     secret of ipsec.secrets (and nothing includes that file as another format);
//   - one load expands at most kIncludeBudget includes (includes stay inside the file set).
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "cli/config/config.h"
#include "tests/fuzz/config_fuzz_util.h"

namespace {

using namespace minivpn;        // NOLINT
using namespace minivpn::fuzz;  // NOLINT

constexpr const char* kName = "ipsec_conf_fuzzer";

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const std::vector<FuzzFile> files = SplitFiles(input, "ipsec.conf");
  WriteFiles(files);

  config::ConfigPaths paths;
  paths.ipsec_conf = PathOf("ipsec.conf");
  if (FindFile(files, "ipsec.secrets") != nullptr) paths.ipsec_secrets = PathOf("ipsec.secrets");
  if (FindFile(files, "strongswan.conf") != nullptr) {
    paths.strongswan_conf = PathOf("strongswan.conf");
  }
  const config::LoadResult first = LoadTwiceAndCheck(kName, paths, files);

  std::vector<std::pair<std::string, std::vector<Range>>> ranges;
  const FuzzFile* secrets = FindFile(files, "ipsec.secrets");
  if (secrets != nullptr && !WasIncluded("ipsec.secrets")) {
    ranges.emplace_back(secrets->name, IpsecSecretsRanges(secrets->text));
  }
  CheckNoSecretLeak(kName, first.diagnostics, files, ranges);
  return 0;
}
