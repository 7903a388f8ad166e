// libFuzzer target for the ipsec.secrets reader (cli/config/ipsec_secrets.cc: entries,
// continuation lines, quoting, 0x/0s secrets, identities, include) and the PSK lookup of
// config.cc's Validate.
//
// The input is a file set (config_fuzz_util.h): the main file is ipsec.secrets; the ipsec.conf
// loaded with it is a file of that name if the input has one, else the seed lab's (conn A-B,
// routerA/routerB). Checked for every input:
//   - LoadConfig does not crash, and a second load gives the same configuration and diagnostics;
//   - every diagnostic names a file of the set (or none) and a line and column inside it;
//   - no diagnostic contains the secret marker ("s3cr3t") when every occurrence of it is after
//     the ':' of an entry (a quoted word where the type belongs counts: `peerA : "s3cr3t"` is a
//     PSK whose keyword was forgotten, issue 18) and nothing includes the file as another format;
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

constexpr const char* kName = "ipsec_secrets_fuzzer";

constexpr std::string_view kSeedIpsecConf =
    "conn %default\n"
    "    keyexchange=ikev2\n"
    "\n"
    "conn A-B\n"
    "    left=192.0.2.1\n"
    "    right=198.51.100.1\n"
    "    leftid=routerA\n"
    "    rightid=routerB\n"
    "    leftsubnet=0.0.0.0/0\n"
    "    rightsubnet=0.0.0.0/0\n"
    "    mark=12\n"
    "    auto=start\n"
    "\n"
    "conn any\n"
    "    left=192.0.2.3\n"
    "    right=%any\n"
    "    auto=add\n";

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  std::vector<FuzzFile> files = SplitFiles(input, "ipsec.secrets");
  if (FindFile(files, "ipsec.conf") == nullptr) {
    files.push_back(FuzzFile{"ipsec.conf", std::string(kSeedIpsecConf)});
  }
  WriteFiles(files);

  config::ConfigPaths paths;
  paths.ipsec_conf = PathOf("ipsec.conf");
  paths.ipsec_secrets = PathOf("ipsec.secrets");
  const config::LoadResult first = LoadTwiceAndCheck(kName, paths, files);

  std::vector<std::pair<std::string, std::vector<Range>>> ranges;
  if (!WasIncluded("ipsec.secrets")) {
    ranges.emplace_back("ipsec.secrets", IpsecSecretsRanges(files.front().text));
  }
  CheckNoSecretLeak(kName, first.diagnostics, files, ranges);
  return 0;
}
