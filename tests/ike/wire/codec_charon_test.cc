// Decoding strongSwan charon's real messages (tests/fixtures/charon/<suite>/*.bin, see the
// README there): every message decodes, re-encodes byte for byte, passes the exchange table,
// and its one-line summary (after decryption with the SK_e/SK_a that charon logged) is the one
// charon itself logged for it.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <sstream>
#include <string>

#include "crypto/sk_cipher.h"
#include "ike/wire/codec.h"
#include "ike/wire/format.h"
#include "ike/wire/protect.h"
#include "tests/fixtures/charon_log.h"

namespace minivpn::ike {
namespace {

namespace fs = std::filesystem;

const fs::path& kFixtures = minivpn::testing::kCharonFixtures;
using minivpn::testing::ReadBinary;

std::string ReadText(const fs::path& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// "IKE_AUTH request 1" -> "IKE_AUTH request 1 [ IDi ... ]" from charon's "[ENC] generating|parsed"
// lines.
std::map<std::string, std::string> LoggedSummaries(const std::string& log) {
  std::map<std::string, std::string> out;
  const std::regex line(R"(\[ENC\] (?:generating|parsed) ((\w+ (?:request|response) \d+) \[[^\]]*\]))");
  for (auto it = std::sregex_iterator(log.begin(), log.end(), line); it != std::sregex_iterator(); ++it) {
    out.emplace((*it)[2].str(), (*it)[1].str());
  }
  return out;
}

// The hex dump charon prints after "<name> secret => N bytes".
SecretBytes LoggedSecret(const std::string& log, const std::string& name) {
  const std::regex head(name + R"( secret => (\d+) bytes)");
  std::smatch m;
  if (!std::regex_search(log, m, head)) return SecretBytes();
  const std::size_t size = std::stoul(m[1].str());
  std::string rest = m.suffix().str();
  const std::regex row(R"(\[IKE\]\s+\d+: ((?:[0-9A-F]{2} )+))");
  Bytes bytes;
  for (auto it = std::sregex_iterator(rest.begin(), rest.end(), row);
       it != std::sregex_iterator() && bytes.size() < size; ++it) {
    Append(bytes, FromHex((*it)[1].str()));
  }
  bytes.resize(size);
  return SecretBytes(bytes);
}

struct Suite {
  std::string dir;
  crypto::SkSuite sk;
};

class CharonMessages : public ::testing::TestWithParam<Suite> {};

TEST_P(CharonMessages, DecodeReencodeAndSummariseLikeCharon) {
  const fs::path dir = kFixtures / GetParam().dir;
  if (!fs::exists(dir / "ike_sa_init_request.bin")) GTEST_SKIP() << "no fixtures in " << dir;
  const std::string log = ReadText(dir / "charon-initiator.log");
  const auto summaries = LoggedSummaries(log);
  ASSERT_FALSE(summaries.empty());
  auto cipher_i = crypto::SkCipher::Create(GetParam().sk, LoggedSecret(log, "Sk_ei"),
                                           LoggedSecret(log, "Sk_ai"));
  auto cipher_r = crypto::SkCipher::Create(GetParam().sk, LoggedSecret(log, "Sk_er"),
                                           LoggedSecret(log, "Sk_ar"));
  ASSERT_TRUE(cipher_i.has_value()) << cipher_i.error();
  ASSERT_TRUE(cipher_r.has_value()) << cipher_r.error();

  int files = 0;
  for (const auto& entry : fs::directory_iterator(dir)) {
    if (entry.path().extension() != ".bin") continue;
    ++files;
    SCOPED_TRACE(entry.path().filename().string());
    const Bytes wire = ReadBinary(entry.path());
    auto m = Decode(wire);
    ASSERT_TRUE(m.has_value()) << Describe(m.error());
    EXPECT_EQ(Encode(*m), wire);
    std::vector<Payload> payloads = m->payloads;
    if (m->header.exchange != ExchangeType::kIkeSaInit) {
      ASSERT_EQ(m->payloads.size(), 1u);
      ASSERT_EQ(m->payloads[0].type, PayloadType::kSk);
      const crypto::SkCipher& cipher = m->header.is_initiator() ? *cipher_i : *cipher_r;
      auto inner = Unprotect(wire, *m, cipher);
      ASSERT_TRUE(inner.has_value()) << Describe(inner.error());
      payloads = *inner;
    }
    auto rules = CheckExchangeRules(m->header, payloads);
    EXPECT_TRUE(rules.has_value()) << Describe(rules.error());
    const std::string summary = Summary(m->header, payloads);
    const std::string key = summary.substr(0, summary.find(" ["));
    ASSERT_TRUE(summaries.contains(key)) << key;
    EXPECT_EQ(summary, summaries.at(key));
  }
  EXPECT_GE(files, 6);
}

TEST_P(CharonMessages, IkeSaInitContents) {
  const fs::path dir = kFixtures / GetParam().dir;
  if (!fs::exists(dir / "ike_sa_init_request.bin")) GTEST_SKIP() << "no fixtures in " << dir;
  auto req = Decode(ReadBinary(dir / "ike_sa_init_request.bin"));
  auto resp = Decode(ReadBinary(dir / "ike_sa_init_response.bin"));
  ASSERT_TRUE(req && resp);
  EXPECT_FALSE(req->header.is_response());
  EXPECT_TRUE(resp->header.is_response());
  EXPECT_EQ(req->header.spi_i, resp->header.spi_i);
  EXPECT_EQ(req->header.spi_r, 0u);
  EXPECT_NE(resp->header.spi_r, 0u);
  // The responder picked one proposal with the configured algorithms.
  const auto& sa = std::get<SaPayload>(resp->Find(PayloadType::kSa)->body);
  ASSERT_EQ(sa.proposals.size(), 1u);
  const Proposal& p = sa.proposals[0];
  EXPECT_EQ(p.protocol, ProtocolId::kIke);
  EXPECT_TRUE(p.spi.empty());
  EXPECT_EQ(p.transforms[0].type, TransformType::kEncr);
  EXPECT_EQ(p.transforms[0].id, static_cast<std::uint16_t>(GetParam().sk.encr));
  EXPECT_EQ(p.transforms[0].key_length, GetParam().sk.key_bits);
  const auto& ke = std::get<KePayload>(resp->Find(PayloadType::kKe)->body);
  EXPECT_EQ(ke.data.size(), crypto::KePublicSize(ke.group));
  EXPECT_NE(req->FindNotify(NotifyType::kNatDetectionSourceIp), nullptr);
  EXPECT_EQ(req->FindNotify(NotifyType::kNatDetectionSourceIp)->data.size(), 20u);
  EXPECT_NE(req->FindNotify(NotifyType::kIkev2FragmentationSupported), nullptr);
}

INSTANTIATE_TEST_SUITE_P(
    Fixtures, CharonMessages,
    ::testing::Values(Suite{"gcm", {crypto::EncrId::kAesGcm16, 256, crypto::IntegId::kNone}},
                      Suite{"cbc", {crypto::EncrId::kAesCbc, 128, crypto::IntegId::kHmacSha2_256_128}}),
    [](const auto& p) { return p.param.dir; });

}  // namespace
}  // namespace minivpn::ike
