// Issue 18: no diagnostic of any config format ever shows a secret, whatever is wrong with the
// file. Valid swanctl.conf, ipsec.conf + ipsec.secrets and strongswan.conf files holding marker
// secrets (quoted, 0x hex, 0s base64) are mutated at every position (a character deleted, the
// text cut there, a character that means something to the grammars inserted there); every
// diagnostic of every variant is checked for any 6-character piece of any marker.
#include <gtest/gtest.h>

#include <array>
#include <string>
#include <vector>

#include "cli/config/config.h"
#include "tests/cli/config_test_util.h"

namespace minivpn::config {
namespace {

using testing::TempDir;

// The secrets as written in the files (a piece of the hex or base64 text shows the secret too).
constexpr std::array<std::string_view, 3> kMarkers = {"Zq7Xw9Kp3Vb2", "5a71375877394b7033566232",
                                                      "TXY4UnQ0WWM2SG4x"};

const char kSwanctl[] =
    "connections {\n"
    "  c {\n"
    "    local_addrs = 192.0.2.1\n"
    "    remote_addrs = 198.51.100.1\n"
    "    local { auth = psk\n id = a.test }\n"
    "    remote { auth = psk\n id = b.test }\n"
    "    children { net { local_ts = 0.0.0.0/0\n mark_in = 12 } }\n"
    "  }\n"
    "}\n"
    "secrets {\n"
    "  ike-b { id = b.test\n secret = \"Zq7Xw9Kp3Vb2\" }\n"
    "  ike-c { id-1 = c.test\n secret = 0x5a71375877394b7033566232 }\n"
    "  ike-d { id = d.test\n secret = 0sTXY4UnQ0WWM2SG4x }\n"
    "}\n";

const char kIpsecConf[] =
    "conn a\n"
    "  left=192.0.2.1\n"
    "  right=198.51.100.1\n"
    "  leftid=a.test\n"
    "  rightid=b.test\n"
    "  auto=add\n";

const char kIpsecSecrets[] =
    "a.test b.test : PSK \"Zq7Xw9Kp3Vb2\"\n"
    "c.test : PSK 0x5a71375877394b7033566232\n"
    "d.test : PSK 0sTXY4UnQ0WWM2SG4x\n"
    ": PSK 'Zq7Xw9Kp3Vb2'\n";

// Every variant of `text`: each character deleted, the text cut after each character, and each
// of a few grammar characters inserted before each character.
std::vector<std::string> Variants(const std::string& text) {
  std::vector<std::string> out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    out.push_back(text.substr(0, i) + text.substr(i + 1));
    out.push_back(text.substr(0, i));
    for (char c : {'"', '\'', '{', '}', ':', '=', '\n', '#', ' ', '\\'})
      out.push_back(text.substr(0, i) + c + text.substr(i));
  }
  return out;
}

// The first diagnostic that shows a 6-character piece of a marker, or "".
std::string Leak(const std::vector<Diagnostic>& diagnostics) {
  for (const auto& d : diagnostics) {
    const std::string text = ToString(d);
    for (auto marker : kMarkers)
      for (std::size_t i = 0; i + 6 <= marker.size(); ++i)
        if (text.find(marker.substr(i, 6)) != std::string::npos) return text;
  }
  return "";
}

bool NotLocal(const IpAddress& a) { return a.ToString() == "192.0.2.1"; }

TEST(SecretLeak, NoDiagnosticOfAnyBrokenSwanctlConfShowsASecret) {
  TempDir dir;
  std::size_t variants = 0, with_errors = 0;
  for (const auto& text : Variants(kSwanctl)) {
    ConfigPaths paths;
    paths.swanctl_conf = dir.Write("swanctl.conf", text);
    auto r = LoadConfig(paths, LoadOptions{NotLocal});
    ++variants;
    with_errors += !r.ok();
    ASSERT_EQ(Leak(r.diagnostics), "") << "variant:\n" << text;
  }
  EXPECT_GT(with_errors, variants / 4) << "the mutations hardly ever reach a diagnostic";
}

TEST(SecretLeak, NoDiagnosticOfAnyBrokenIpsecSecretsShowsASecret) {
  TempDir dir;
  std::size_t variants = 0, with_errors = 0;
  for (const auto& text : Variants(kIpsecSecrets)) {
    ConfigPaths paths;
    paths.ipsec_conf = dir.Write("ipsec.conf", kIpsecConf);
    paths.ipsec_secrets = dir.Write("ipsec.secrets", text);
    auto r = LoadConfig(paths, LoadOptions{NotLocal});
    ++variants;
    with_errors += !r.diagnostics.empty();
    ASSERT_EQ(Leak(r.diagnostics), "") << "variant:\n" << text;
  }
  EXPECT_GT(with_errors, variants / 4);
}

// ipsec.conf and strongswan.conf hold no secret, but an admin may paste one in the wrong place:
// it must not be echoed either (ipsec.conf parameters, strongswan.conf values).
TEST(SecretLeak, NoDiagnosticOfIpsecConfOrStrongswanConfShowsAPastedSecret) {
  TempDir dir;
  const std::string conf = std::string(kIpsecConf) + "  psk=\"Zq7Xw9Kp3Vb2\"\n";
  const std::string strongswan = "charon {\n  port = 500\n  secret = Zq7Xw9Kp3Vb2\n}\n";
  std::size_t variants = 0;
  for (const auto& text : Variants(conf)) {
    ConfigPaths paths;
    paths.ipsec_conf = dir.Write("ipsec.conf", text);
    paths.ipsec_secrets = dir.Write("ipsec.secrets", ": PSK \"x\"\n");
    auto r = LoadConfig(paths, LoadOptions{NotLocal});
    ++variants;
    ASSERT_EQ(Leak(r.diagnostics), "") << "ipsec.conf variant:\n" << text;
  }
  for (const auto& text : Variants(strongswan)) {
    ConfigPaths paths;
    paths.swanctl_conf = dir.Write("swanctl.conf", "connections { }\n");
    paths.strongswan_conf = dir.Write("strongswan.conf", text);
    auto r = LoadConfig(paths, LoadOptions{NotLocal});
    ++variants;
    ASSERT_EQ(Leak(r.diagnostics), "") << "strongswan.conf variant:\n" << text;
  }
  EXPECT_GT(variants, 1000u);
}

// The case the issue names: the PSK keyword forgotten.
TEST(SecretLeak, AForgottenPskKeywordDoesNotEchoTheSecret) {
  TempDir dir;
  ConfigPaths paths;
  paths.ipsec_conf = dir.Write("ipsec.conf", kIpsecConf);
  paths.ipsec_secrets = dir.Write("ipsec.secrets", "a.test : \"Zq7Xw9Kp3Vb2\"\n");
  auto r = LoadConfig(paths, LoadOptions{NotLocal});
  EXPECT_DIAG(r.diagnostics, Severity::kError, "expected the secret type PSK after ':'", 1, 10);
  EXPECT_EQ(Leak(r.diagnostics), "");
}

}  // namespace
}  // namespace minivpn::config

namespace minivpn::config {
namespace {

// Found by the config fuzzers (issue 18).
TEST(FuzzFindings, ASecretThatIsPartOfTheMarkerDoesNotLoopForever) {
  TempDir dir;
  ConfigPaths paths;
  paths.ipsec_conf = dir.Write("ipsec.conf", kIpsecConf);
  paths.ipsec_secrets = dir.Write("ipsec.secrets", "C=hidden : PSK \"hidden\"\n");
  auto r = LoadConfig(paths, LoadOptions{NotLocal});  // returned at all: the loop is gone
  EXPECT_FALSE(r.diagnostics.empty());
  for (const auto& d : r.diagnostics)
    EXPECT_EQ(ToString(d).find("'C=hidden"), std::string::npos) << ToString(d);
}

TEST(FuzzFindings, ANulByteEndsNoScanningLoop) {
  TempDir dir;
  const std::string nul(1, '\0');
  ConfigPaths swanctl;
  swanctl.swanctl_conf =
      dir.Write("swanctl.conf", "connections {\n  c {\n    local_addrs = 192.0.2.1" + nul + "\n  }\n}\n");
  auto r = LoadConfig(swanctl, LoadOptions{NotLocal});
  EXPECT_FALSE(r.ok());
  ConfigPaths legacy;
  legacy.ipsec_conf = dir.Write("ipsec.conf", kIpsecConf);
  legacy.ipsec_secrets = dir.Write("ipsec.secrets", "a.test" + nul + " : PSK \"x\"\n");
  r = LoadConfig(legacy, LoadOptions{NotLocal});
  EXPECT_FALSE(r.diagnostics.empty());
}

TEST(FuzzFindings, IpsecSecretsLinesAfterABlankOrCommentLineInsideAnEntry) {
  TempDir dir;
  ConfigPaths paths;
  paths.ipsec_conf = dir.Write("ipsec.conf", kIpsecConf);
  paths.ipsec_secrets = dir.Write("ipsec.secrets",
                                  "a.test b.test : PSK\n"
                                  "# a comment inside the entry\n"
                                  "\n"
                                  "  \"s3cr3t-line4\" extra\n");
  auto r = LoadConfig(paths, LoadOptions{NotLocal});
  EXPECT_DIAG(r.diagnostics, Severity::kError, "unexpected text after the secret", 4, 18);
}

}  // namespace
}  // namespace minivpn::config
