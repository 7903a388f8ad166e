// Wireshark decryption tables (ike/observe/wireshark_keys.h): exact ikev2_decryption_table and esp_sa
// records for AES-GCM, AES-CBC + HMAC-SHA2-256 and ChaCha20-Poly1305; Append() creates 0600
// files; the IKE record parses back. When tshark is installed, the records written from charon's
// keys make tshark decrypt charon's captured IKE_AUTH (and tshark accepts our esp_sa records).
#include "ike/observe/wireshark_keys.h"

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>

#include "tests/ike/wire/charon_fixture_util.h"

namespace minivpn::ike {
namespace {

namespace fs = std::filesystem;
using crypto::EncrId;
using crypto::IntegId;

// Test keys: octets start, start+1, ...
SecretBytes Seq(std::size_t n, std::uint8_t start) {
  SecretBytes s(n);
  for (std::size_t i = 0; i < n; ++i) s.MutableReveal()[i] = static_cast<std::uint8_t>(start + i);
  return s;
}

std::string Text(const SecretBytes& s) {
  const ByteView b = s.Reveal();
  return std::string(b.begin(), b.end());
}

constexpr std::uint64_t kSpiI = 0x0102030405060708ULL;
constexpr std::uint64_t kSpiR = 0x1112131415161718ULL;
constexpr std::string_view kHex36a =
    "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f20212223";
constexpr std::string_view kHex36b =
    "404142434445464748494a4b4c4d4e4f505152535455565758595a5b5c5d5e5f60616263";
constexpr std::string_view kHex16a = "000102030405060708090a0b0c0d0e0f";
constexpr std::string_view kHex16b = "404142434445464748494a4b4c4d4e4f";
constexpr std::string_view kHex32c =
    "808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f";
constexpr std::string_view kHex32d =
    "c0c1c2c3c4c5c6c7c8c9cacbcccdcecfd0d1d2d3d4d5d6d7d8d9dadbdcdddedf";

crypto::IkeKeys IkeKeysFor(std::size_t encr, std::size_t integ) {
  crypto::IkeKeys k;
  k.sk_ei = Seq(encr, 0x00);
  k.sk_er = Seq(encr, 0x40);
  if (integ != 0) {
    k.sk_ai = Seq(integ, 0x80);
    k.sk_ar = Seq(integ, 0xc0);
  }
  return k;
}

crypto::ChildKeys ChildKeysFor(std::size_t encr, std::size_t integ) {
  crypto::ChildKeys k;
  k.encr_i = Seq(encr, 0x00);
  k.encr_r = Seq(encr, 0x40);
  if (integ != 0) {
    k.integ_i = Seq(integ, 0x80);
    k.integ_r = Seq(integ, 0xc0);
  }
  return k;
}

const EspSaEndpoints kV4{"192.0.2.1", "192.0.2.2", false, 0xcdbed37a, 0xc0ffee01};

TEST(WiresharkKeys, AesGcm16) {
  auto ike = IkeDecryptionTableLine(kSpiI, kSpiR, {EncrId::kAesGcm16, 256, IntegId::kNone},
                                    IkeKeysFor(36, 0));
  ASSERT_TRUE(ike.has_value()) << ike.error();
  EXPECT_EQ(Text(*ike), fmt::format("0102030405060708,1112131415161718,{},{},\"AES-GCM-256 with "
                                    "16 octet ICV [RFC5282]\",,,\"NONE [RFC4306]\"\n",
                                    kHex36a, kHex36b));
  auto esp = EspSaLines(kV4, {EncrId::kAesGcm16, 256, IntegId::kNone}, ChildKeysFor(36, 0));
  ASSERT_TRUE(esp.has_value()) << esp.error();
  EXPECT_EQ(Text(*esp),
            fmt::format("\"IPv4\",\"192.0.2.1\",\"192.0.2.2\",\"0xc0ffee01\",\"AES-GCM with 16 "
                        "octet ICV [RFC4106]\",\"0x{}\",\"NULL\",\"0x\"\n"
                        "\"IPv4\",\"192.0.2.2\",\"192.0.2.1\",\"0xcdbed37a\",\"AES-GCM with 16 "
                        "octet ICV [RFC4106]\",\"0x{}\",\"NULL\",\"0x\"\n",
                        kHex36a, kHex36b));
  // 128-bit keys with an 8-octet ICV.
  auto small = IkeDecryptionTableLine(kSpiI, kSpiR, {EncrId::kAesGcm8, 128, IntegId::kNone},
                                      IkeKeysFor(20, 0));
  ASSERT_TRUE(small.has_value());
  EXPECT_NE(Text(*small).find(",\"AES-GCM-128 with 8 octet ICV [RFC5282]\","), std::string::npos);
}

TEST(WiresharkKeys, AesCbcWithHmacSha256) {
  auto ike = IkeDecryptionTableLine(
      kSpiI, kSpiR, {EncrId::kAesCbc, 128, IntegId::kHmacSha2_256_128}, IkeKeysFor(16, 32));
  ASSERT_TRUE(ike.has_value()) << ike.error();
  EXPECT_EQ(Text(*ike),
            fmt::format("0102030405060708,1112131415161718,{},{},\"AES-CBC-128 [RFC3602]\",{},{},"
                        "\"HMAC_SHA2_256_128 [RFC4868]\"\n",
                        kHex16a, kHex16b, kHex32c, kHex32d));
  const EspSaEndpoints v6{"2001:db8::1", "2001:db8::2", true, 0x00000001, 0xffffffff};
  auto esp =
      EspSaLines(v6, {EncrId::kAesCbc, 128, IntegId::kHmacSha2_256_128}, ChildKeysFor(16, 32));
  ASSERT_TRUE(esp.has_value()) << esp.error();
  EXPECT_EQ(Text(*esp),
            fmt::format("\"IPv6\",\"2001:db8::1\",\"2001:db8::2\",\"0xffffffff\",\"AES-CBC "
                        "[RFC3602]\",\"0x{}\",\"HMAC-SHA-256-128 [RFC4868]\",\"0x{}\"\n"
                        "\"IPv6\",\"2001:db8::2\",\"2001:db8::1\",\"0x00000001\",\"AES-CBC "
                        "[RFC3602]\",\"0x{}\",\"HMAC-SHA-256-128 [RFC4868]\",\"0x{}\"\n",
                        kHex16a, kHex32c, kHex16b, kHex32d));
}

TEST(WiresharkKeys, ChaCha20Poly1305) {
  // Wireshark's IKEv2 table has no ChaCha20-Poly1305 entry: say so rather than write a record
  // Wireshark would reject.
  auto ike = IkeDecryptionTableLine(kSpiI, kSpiR, {EncrId::kChaCha20Poly1305, 256, IntegId::kNone},
                                    IkeKeysFor(36, 0));
  ASSERT_FALSE(ike.has_value());
  EXPECT_EQ(ike.error(),
            "Wireshark's IKEv2 decryption table has no entry for ENCR_CHACHA20_POLY1305/256");
  auto esp = EspSaLines(kV4, {EncrId::kChaCha20Poly1305, 256, IntegId::kNone}, ChildKeysFor(36, 0));
  ASSERT_TRUE(esp.has_value());
  EXPECT_EQ(Text(*esp),
            fmt::format("\"IPv4\",\"192.0.2.1\",\"192.0.2.2\",\"0xc0ffee01\",\"ChaCha20 with "
                        "Poly1305 [RFC7634]\",\"0x{}\",\"NULL\",\"0x\"\n"
                        "\"IPv4\",\"192.0.2.2\",\"192.0.2.1\",\"0xcdbed37a\",\"ChaCha20 with "
                        "Poly1305 [RFC7634]\",\"0x{}\",\"NULL\",\"0x\"\n",
                        kHex36a, kHex36b));
}

TEST(WiresharkKeys, NamesForEveryIntegrityAlgorithm) {
  EXPECT_EQ(*WiresharkIkeIntegName(IntegId::kHmacSha1_96), "HMAC_SHA1_96 [RFC2404]");
  EXPECT_EQ(*WiresharkIkeIntegName(IntegId::kHmacSha2_384_192), "HMAC_SHA2_384_192 [RFC4868]");
  EXPECT_EQ(*WiresharkIkeIntegName(IntegId::kHmacSha2_512_256), "HMAC_SHA2_512_256 [RFC4868]");
  EXPECT_EQ(*WiresharkEspAuthName(IntegId::kHmacSha1_96), "HMAC-SHA-1-96 [RFC2404]");
  EXPECT_EQ(*WiresharkEspAuthName(IntegId::kHmacSha2_512_256), "HMAC-SHA-512-256 [RFC4868]");
  EXPECT_EQ(*WiresharkIkeEncrName(EncrId::kAesCbc, 256), "AES-CBC-256 [RFC3602]");
  EXPECT_FALSE(WiresharkIkeEncrName(EncrId::kAesCbc, 64).has_value());
  EXPECT_FALSE(WiresharkIkeIntegName(static_cast<IntegId>(99)).has_value());
  EXPECT_FALSE(WiresharkEspEncrName(static_cast<EncrId>(99), 128).has_value());
}

// ---- Append ----

class TempDir {
 public:
  TempDir() {
    std::string templ = (fs::temp_directory_path() / "minivpn-wskeys-XXXXXX").string();
    path_ = ::mkdtemp(templ.data());
  }
  ~TempDir() { fs::remove_all(path_); }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

std::string ReadText(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

mode_t Mode(const fs::path& p) {
  struct stat st {};
  EXPECT_EQ(::stat(p.c_str(), &st), 0);
  return st.st_mode & 07777;
}

TEST(WiresharkKeysAppend, CreatesA0600FileAndAppends) {
  const TempDir dir;
  const fs::path file = dir.path() / std::string(kEspSaTableFile);
  ASSERT_TRUE(Append(file, SecretBytes::FromString("line 1\n")).has_value());
  EXPECT_EQ(Mode(file), 0600u);
  ASSERT_TRUE(Append(file, SecretBytes::FromString("line 2\n")).has_value());
  EXPECT_EQ(ReadText(file), "line 1\nline 2\n");
}

TEST(WiresharkKeysAppend, TightensAnExistingFileAndRefusesSymlinks) {
  const TempDir dir;
  const fs::path file = dir.path() / std::string(kIkeDecryptionTableFile);
  std::ofstream(file) << "old\n";
  ASSERT_EQ(::chmod(file.c_str(), 0644), 0);
  ASSERT_TRUE(Append(file, SecretBytes::FromString("new\n")).has_value());
  EXPECT_EQ(Mode(file), 0600u);
  EXPECT_EQ(ReadText(file), "old\nnew\n");

  const fs::path link = dir.path() / "link";
  fs::create_symlink(file, link);
  const auto refused = Append(link, SecretBytes::FromString("secret\n"));
  ASSERT_FALSE(refused.has_value());
  EXPECT_NE(refused.error().find(link.string()), std::string::npos);
  EXPECT_EQ(refused.error().find("secret"), std::string::npos);  // the content is never echoed
  EXPECT_EQ(ReadText(file), "old\nnew\n");

  const auto missing = Append((dir.path() / "no/such/dir").string(), SecretBytes());
  ASSERT_FALSE(missing.has_value());
  EXPECT_NE(missing.error().find("No such file or directory"), std::string::npos);
}

// ---- parsing ----

TEST(WiresharkKeysParse, RoundTripsOurRecordsAndStrongswansQuoting) {
  auto line = IkeDecryptionTableLine(
      kSpiI, kSpiR, {EncrId::kAesCbc, 128, IntegId::kHmacSha2_256_128}, IkeKeysFor(16, 32));
  ASSERT_TRUE(line.has_value());
  auto entry = ParseIkeDecryptionTableLine(Text(*line));
  ASSERT_TRUE(entry.has_value()) << entry.error();
  EXPECT_EQ(entry->spi_i, kSpiI);
  EXPECT_EQ(entry->spi_r, kSpiR);
  EXPECT_EQ(entry->suite.encr, EncrId::kAesCbc);
  EXPECT_EQ(entry->suite.key_bits, 128);
  EXPECT_EQ(entry->suite.integ, IntegId::kHmacSha2_256_128);
  EXPECT_TRUE(entry->sk_ei.Equals(Seq(16, 0x00).Reveal()));
  EXPECT_TRUE(entry->sk_er.Equals(Seq(16, 0x40).Reveal()));
  EXPECT_TRUE(entry->sk_ai.Equals(Seq(32, 0x80).Reveal()));
  EXPECT_TRUE(entry->sk_ar.Equals(Seq(32, 0xc0).Reveal()));

  auto gcm = ParseIkeDecryptionTableLine(
      fmt::format("0102030405060708,1112131415161718,{},{},\"AES-GCM-256 with 16 octet ICV "
                  "[RFC5282]\",,,\"NONE [RFC4306]\"",
                  kHex36a, kHex36b));
  ASSERT_TRUE(gcm.has_value()) << gcm.error();
  EXPECT_EQ(gcm->suite.encr, EncrId::kAesGcm16);
  EXPECT_EQ(gcm->suite.key_bits, 256);
  EXPECT_TRUE(gcm->sk_ai.empty());

  for (const std::string& bad : {
           std::string(""),
           std::string("0102030405060708,1112131415161718"),
           fmt::format("01020304,1112131415161718,{},{},\"AES-CBC-128 [RFC3602]\",,,\"NONE "
                       "[RFC4306]\"",
                       kHex16a, kHex16b),
           fmt::format("0102030405060708,1112131415161718,{},{},\"AES-XYZ\",,,\"NONE [RFC4306]\"",
                       kHex16a, kHex16b),
           fmt::format("0102030405060708,1112131415161718,zz,{},\"AES-CBC-128 [RFC3602]\",,,\"NONE "
                       "[RFC4306]\"",
                       kHex16b),
           std::string("0102030405060708,1112131415161718,00,00,\"AES-CBC-128 [RFC3602],,,x"),
       }) {
    EXPECT_FALSE(ParseIkeDecryptionTableLine(bad).has_value()) << bad;
  }
}

// ---- tshark against charon's capture ----

std::string RunCommand(const std::string& command) {
  std::string out;
  std::unique_ptr<FILE, int (*)(FILE*)> pipe(::popen(command.c_str(), "r"), ::pclose);
  if (!pipe) return out;
  char buffer[4096];
  for (std::size_t n; (n = std::fread(buffer, 1, sizeof buffer, pipe.get())) > 0;) {
    out.append(buffer, n);
  }
  return out;
}

struct TsharkCase {
  testing::CharonRun run;
};
void PrintTo(const TsharkCase& c, std::ostream* os) { *os << c.run.dir; }

class WiresharkKeysTshark : public ::testing::TestWithParam<TsharkCase> {};

// A Wireshark profile directory holding only our tables: tshark then decrypts the IKE_AUTH
// payloads of charon's capture (IDi/IDr are inside SK), which it cannot do without them.
TEST_P(WiresharkKeysTshark, TsharkDecryptsCharonsIkeAuthWithOurTable) {
  if (!fs::exists("/usr/bin/tshark")) GTEST_SKIP() << "tshark not installed";
  const testing::CharonRun& run = GetParam().run;
  const testing::CharonLog log = run.Log();
  const Message resp = run.Decoded("ike_sa_init_response.bin");
  crypto::IkeKeys keys;
  keys.sk_ei = log.Secret("Sk_ei secret");
  keys.sk_er = log.Secret("Sk_er secret");
  if (run.suite.integ != IntegId::kNone) {
    keys.sk_ai = log.Secret("Sk_ai secret");
    keys.sk_ar = log.Secret("Sk_ar secret");
  }
  auto ike = IkeDecryptionTableLine(resp.header.spi_i, resp.header.spi_r, run.suite, keys);
  ASSERT_TRUE(ike.has_value()) << ike.error();
  // ESP records of the same suite (the capture holds no ESP: tshark must only accept them).
  auto esp =
      EspSaLines(kV4, {run.suite.encr, run.suite.key_bits, run.suite.integ},
                 ChildKeysFor(crypto::EncrKeyMaterialSize(run.suite.encr, run.suite.key_bits),
                              crypto::IntegKeySize(run.suite.integ)));
  ASSERT_TRUE(esp.has_value()) << esp.error();

  const TempDir home;
  const fs::path profile = home.path() / "wireshark";
  fs::create_directories(profile);
  const std::string command =
      fmt::format("HOME='{0}' XDG_CONFIG_HOME='{0}' /usr/bin/tshark -n -r '{1}' -V 2>&1",
                  home.path().string(), run.Path("capture.pcap").string());
  const std::string without = RunCommand(command);
  EXPECT_NE(without.find("IKE_AUTH"), std::string::npos) << without;
  EXPECT_EQ(without.find("ID_FQDN: initiator.minivpn.test"), std::string::npos);

  ASSERT_TRUE(Append(profile / std::string(kIkeDecryptionTableFile), *ike).has_value());
  ASSERT_TRUE(Append(profile / std::string(kEspSaTableFile), *esp).has_value());
  const std::string with = RunCommand(command);
  EXPECT_EQ(with.find("Error loading table"), std::string::npos) << with;
  EXPECT_NE(with.find("ID_FQDN: initiator.minivpn.test"), std::string::npos) << with;
  EXPECT_NE(with.find("ID_FQDN: responder.minivpn.test"), std::string::npos);
  EXPECT_NE(with.find("Authentication Method: Shared Key Message Integrity Code (2)"),
            std::string::npos);
  EXPECT_NE(with.find("Traffic Selector Type: TS_IPV4_ADDR_RANGE (7)"), std::string::npos);
}

INSTANTIATE_TEST_SUITE_P(Charon598, WiresharkKeysTshark,
                         ::testing::Values(TsharkCase{testing::GcmRun()},
                                           TsharkCase{testing::CbcRun()}),
                         [](const auto& p) { return p.param.run.dir; });

}  // namespace
}  // namespace minivpn::ike
