// The key-derivation walk-through (ike/observe/keymat_explain.h) on charon's real runs: with
// show_secrets the printed SK_* are exactly the keys charon logged; without it, no secret of the
// run (g^ir, SKEYSEED, every SK_*, the PSK, its keypad PRF, both AUTH values, KEYMAT) appears
// anywhere in the output, not even its first 8 octets.
#include "ike/observe/keymat_explain.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <string>
#include <vector>

#include "tests/ike/wire/charon_fixture_util.h"
#include "ike/wire/message.h"

namespace minivpn::ike {
namespace {

using testing::CharonLog;
using testing::CharonRun;

constexpr std::string_view kPsk = "minivpn-test-psk-not-a-secret";

struct Scenario {
  CharonRun run;
  KeymatIkeSuite ike;
  KeymatChildSuite esp;
};
void PrintTo(const Scenario& s, std::ostream* os) { *os << s.run.dir; }

std::string Upper(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::toupper(c); });
  return s;
}

bool HasLine(const std::string& text, const std::string& line) {
  return text.find("\n" + line + "\n") != std::string::npos || text.starts_with(line + "\n");
}

class KeymatExplainCharon : public ::testing::TestWithParam<Scenario> {
 protected:
  void SetUp() override {
    const CharonRun& run = GetParam().run;
    init_request_ = run.Decoded("ike_sa_init_request.bin");
    init_response_ = run.Decoded("ike_sa_init_response.bin");
    const Message auth_request = run.Decoded("ike_auth_request.bin");
    ni_ = std::get<NoncePayload>(init_request_.Find(PayloadType::kNonce)->body).data;
    nr_ = std::get<NoncePayload>(init_response_.Find(PayloadType::kNonce)->body).data;
    auto in =
        DeriveIkeKeymat(GetParam().ike, init_response_.header.spi_i, init_response_.header.spi_r,
                        ni_, nr_, log_.Secret("shared Diffie Hellman secret"));
    ASSERT_TRUE(in.has_value()) << in.error();
    input_ = std::move(*in);
    // The ESP SPI the initiator offered in IKE_AUTH; charon's responder refused the CHILD_SA
    // (see the fixture README), so the responder's SPI here is made up.
    for (const Payload& p : run.Inner("ike_auth_request.bin")) {
      if (p.type != PayloadType::kSa) continue;
      const Bytes& spi = std::get<SaPayload>(p.body).proposals.at(0).spi;
      ASSERT_EQ(spi.size(), 4u);
      spi_i_ = std::uint32_t{spi[0]} << 24 | std::uint32_t{spi[1]} << 16 |
               std::uint32_t{spi[2]} << 8 | spi[3];
    }
    auto child = DeriveChildKeymat(input_, GetParam().esp, spi_i_, 0xc0ffee01, ni_, nr_);
    ASSERT_TRUE(child.has_value()) << child.error();
    input_.children.push_back(std::move(*child));
    // A second CHILD_SA with PFS (CREATE_CHILD_SA with KE): fresh nonces and a g^ir of its own.
    auto pfs = DeriveChildKeymat(input_, GetParam().esp, 0x0a0b0c0d, 0xc0ffee02, Bytes(32, 0x11),
                                 Bytes(32, 0x22), SecretBytes(Bytes(32, 0x5e)));
    ASSERT_TRUE(pfs.has_value()) << pfs.error();
    input_.children.push_back(std::move(*pfs));
  }

  // Every secret of the run: charon's logged values and the KEYMAT derived here.
  std::vector<std::string> Secrets() const {
    std::vector<std::string> out;
    for (const char* label :
         {"shared Diffie Hellman secret", "SKEYSEED", "Sk_d secret", "Sk_ai secret", "Sk_ar secret",
          "Sk_ei secret", "Sk_er secret", "Sk_pi secret", "Sk_pr secret", "SK_p", "secret",
          "prf(secret, keypad)", "AUTH = prf(prf(secret, keypad), octets)"}) {
      for (const Bytes& value : log_.All(label)) out.push_back(ToHex(value));
    }
    for (const ChildKeymat& c : input_.children) {
      for (const SecretBytes* k :
           {&c.keys.encr_i, &c.keys.integ_i, &c.keys.encr_r, &c.keys.integ_r, &c.g_ir}) {
        if (!k->empty()) out.push_back(ToHex(k->Reveal()));
      }
    }
    out.push_back(ToHex(AsBytes(kPsk)));
    return out;
  }

  CharonLog log_ = GetParam().run.Log();
  Message init_request_, init_response_;
  Bytes ni_, nr_;
  std::uint32_t spi_i_ = 0;
  KeymatExplainInput input_;
};

TEST_P(KeymatExplainCharon, WithShowSecretsPrintsCharonsKeys) {
  const std::string text = ExplainKeymat(input_, {.show_secrets = true});
  EXPECT_TRUE(HasLine(text, "key values SHOWN (--show-secrets): do not paste this anywhere"));
  EXPECT_TRUE(HasLine(text, "  SKEYSEED = " + ToHex(log_.One("SKEYSEED"))));
  EXPECT_TRUE(HasLine(
      text, "  g^ir     = " + ToHex(log_.One("shared Diffie Hellman secret")) + " (" +
                (GetParam().ike.dh == crypto::DhGroup::kCurve25519 ? "CURVE_25519" : "MODP_2048") +
                " shared secret)"));
  int values = 0;
  for (const char* label : {"Sk_d secret", "Sk_ai secret", "Sk_ar secret", "Sk_ei secret",
                            "Sk_er secret", "Sk_pi secret", "Sk_pr secret"}) {
    for (const Bytes& key : log_.All(label)) {
      EXPECT_TRUE(HasLine(text, "        value " + ToHex(key))) << label;
      ++values;
    }
  }
  EXPECT_EQ(values, GetParam().ike.integ == crypto::IntegId::kNone ? 5 : 7);
  // KEYMAT as derived (and cut per direction) by crypto::DeriveChildKeys.
  const crypto::ChildKeys& k = input_.children[0].keys;
  EXPECT_TRUE(HasLine(text, "        value " + ToHex(k.encr_i.Reveal())));
  EXPECT_TRUE(HasLine(text, "        value " + ToHex(k.encr_r.Reveal())));
}

TEST_P(KeymatExplainCharon, WithoutShowSecretsNoSecretAppears) {
  const std::string text = ExplainKeymat(input_);
  const std::vector<std::string> secrets = Secrets();
  ASSERT_GE(secrets.size(), 15u);
  for (const std::string& hex : secrets) {
    ASSERT_GE(hex.size(), 16u);
    EXPECT_EQ(text.find(hex.substr(0, 16)), std::string::npos) << "secret prefix leaked";
    EXPECT_EQ(Upper(text).find(Upper(hex.substr(0, 16))), std::string::npos);
  }
  EXPECT_EQ(text.find(kPsk), std::string::npos);
  EXPECT_TRUE(HasLine(text, "key values hidden (use --show-secrets to print them)"));
  EXPECT_TRUE(HasLine(text, "  SKEYSEED = <32 octets, hidden>"));
  EXPECT_TRUE(HasLine(text, "        value <32 octets, hidden>"));
  // The public inputs are printed in full.
  EXPECT_TRUE(HasLine(text, "  Ni       = 32 octets " + ToHex(ni_)));
  EXPECT_TRUE(HasLine(text, "  Nr       = 32 octets " + ToHex(nr_)));
  EXPECT_TRUE(HasLine(text, fmt::format("  seed     = Ni | Nr | {:016x} | {:016x} (80 octets)",
                                        init_response_.header.spi_i, init_response_.header.spi_r)));
  EXPECT_TRUE(HasLine(text, "RFC 7296 2.14: SKEYSEED = prf(Ni | Nr, g^ir)"));
  EXPECT_TRUE(HasLine(text,
                      "RFC 7296 2.14: {SK_d | SK_ai | SK_ar | SK_ei | SK_er | SK_pi | "
                      "SK_pr} = prf+(SKEYSEED, Ni | Nr | SPIi | SPIr)"));
  EXPECT_TRUE(HasLine(text, "RFC 7296 2.17: KEYMAT = prf+(SK_d, Ni | Nr)"));
  EXPECT_TRUE(HasLine(text, "RFC 7296 2.17: KEYMAT = prf+(SK_d, g^ir (new) | Ni | Nr)"));
  EXPECT_TRUE(HasLine(text, "  g^ir (new) = <32 octets, hidden> (PFS)"));
}

TEST(KeymatExplain, GcmKeyLinesNameTheirAlgorithmAndUse) {
  const CharonRun run = testing::GcmRun();
  const Message req = run.Decoded("ike_sa_init_request.bin");
  const Message resp = run.Decoded("ike_sa_init_response.bin");
  auto in = DeriveIkeKeymat(KeymatIkeSuite{}, resp.header.spi_i, resp.header.spi_r,
                            std::get<NoncePayload>(req.Find(PayloadType::kNonce)->body).data,
                            std::get<NoncePayload>(resp.Find(PayloadType::kNonce)->body).data,
                            run.Log().Secret("shared Diffie Hellman secret"));
  ASSERT_TRUE(in.has_value());
  auto child =
      DeriveChildKeymat(*in, KeymatChildSuite{}, 0xcdbed37a, 0xc0ffee01, Bytes(32, 1), Bytes(32, 2));
  ASSERT_TRUE(child.has_value());
  in->children.push_back(std::move(*child));
  const std::string text = ExplainKeymat(*in);
  const std::vector<std::string> expected = {
      "IKE SA 986823f7990d1763_i e75a3fe23e824306_r",
      "negotiated: ENCR AES-GCM-16-256, PRF HMAC-SHA2-256, INTEG none (AEAD), KE CURVE_25519",
      "  168 octets taken = 6 blocks of 32",
      "  SK_d  32 octets [0..32) = HMAC-SHA2-256 key for CHILD_SA KEYMAT (2.17) and IKE SA "
      "rekeying (2.18)",
      "  SK_ai  0 octets [32..32) = none: AES-GCM-16-256 is AEAD, SK carries its own ICV",
      "  SK_ei 36 octets [32..68) = AES-GCM-16-256 key (32) + salt (4), protects "
      "initiator->responder SK payloads",
      "        value <36 octets, hidden>",
      "  SK_er 36 octets [68..104) = AES-GCM-16-256 key (32) + salt (4), protects "
      "responder->initiator SK payloads",
      "  SK_pi 32 octets [104..136) = HMAC-SHA2-256 key for the initiator's AUTH: prf(SK_pi, "
      "IDi') (2.15)",
      "  SK_pr 32 octets [136..168) = HMAC-SHA2-256 key for the responder's AUTH: prf(SK_pr, "
      "IDr') (2.15)",
      "CHILD_SA #1 (ESP, AES-GCM-16-256)",
      "  KEYMAT 72 octets: the initiator->responder SA first, encryption key before integrity key",
      "  encr  36 octets [0..36) = AES-GCM-16-256 key (32) + salt (4), initiator->responder, ESP "
      "SPI 0xc0ffee01 (chosen by the responder)",
      "  encr  36 octets [36..72) = AES-GCM-16-256 key (32) + salt (4), responder->initiator, ESP "
      "SPI 0xcdbed37a (chosen by the initiator)",
      "  (no integrity keys: the AEAD cipher authenticates ESP itself)",
  };
  for (const std::string& line : expected) EXPECT_TRUE(HasLine(text, line)) << line << "\n" << text;
  // SK_ai/SK_ar are empty: no value line follows them.
  EXPECT_EQ(text.find("  SK_ai  0 octets [32..32) = none: AES-GCM-16-256 is AEAD, SK carries its "
                      "own ICV\n        value"),
            std::string::npos);
}

TEST(KeymatExplain, CbcSha256KeyLines) {
  const CharonRun run = testing::CbcRun();
  const Message req = run.Decoded("ike_sa_init_request.bin");
  const Message resp = run.Decoded("ike_sa_init_response.bin");
  const KeymatIkeSuite suite{crypto::EncrId::kAesCbc, 128, crypto::PrfId::kHmacSha2_256,
                       crypto::IntegId::kHmacSha2_256_128, crypto::DhGroup::kModp2048};
  auto in = DeriveIkeKeymat(suite, resp.header.spi_i, resp.header.spi_r,
                            std::get<NoncePayload>(req.Find(PayloadType::kNonce)->body).data,
                            std::get<NoncePayload>(resp.Find(PayloadType::kNonce)->body).data,
                            run.Log().Secret("shared Diffie Hellman secret"));
  ASSERT_TRUE(in.has_value());
  const KeymatChildSuite esp{crypto::EncrId::kAesCbc, 128, crypto::IntegId::kHmacSha2_256_128};
  auto child = DeriveChildKeymat(*in, esp, 0x01020304, 0x05060708, Bytes(32, 1), Bytes(32, 2));
  ASSERT_TRUE(child.has_value());
  in->children.push_back(std::move(*child));
  const std::string text = ExplainKeymat(*in);
  for (const char* line : {
           "negotiated: ENCR AES-CBC-128, PRF HMAC-SHA2-256, INTEG HMAC-SHA2-256-128, KE "
           "MODP_2048",
           "  g^ir     = <256 octets, hidden> (MODP_2048 shared secret)",
           "  SK_ai 32 octets [32..64) = HMAC-SHA2-256-128 key, checks initiator->responder SK "
           "payloads",
           "  SK_ar 32 octets [64..96) = HMAC-SHA2-256-128 key, checks responder->initiator SK "
           "payloads",
           "  SK_ei 16 octets [96..112) = AES-CBC-128 key (16), protects initiator->responder SK "
           "payloads",
           "  SK_pr 32 octets [160..192) = HMAC-SHA2-256 key for the responder's AUTH: "
           "prf(SK_pr, IDr') (2.15)",
           "CHILD_SA #1 (ESP, AES-CBC-128, HMAC-SHA2-256-128)",
           "  integ 32 octets [16..48) = HMAC-SHA2-256-128 key, initiator->responder, ESP SPI "
           "0x05060708 (chosen by the responder)",
           "  encr  16 octets [48..64) = AES-CBC-128 key (16), responder->initiator, ESP SPI "
           "0x01020304 (chosen by the initiator)",
       }) {
    EXPECT_TRUE(HasLine(text, line)) << line << "\n" << text;
  }
}

TEST(KeymatExplain, UnsupportedSuitesAreErrors) {
  KeymatIkeSuite bad;
  bad.encr = crypto::EncrId::kAesCtr;
  EXPECT_FALSE(DeriveIkeKeymat(bad, 1, 2, Bytes(32, 1), Bytes(32, 2), SecretBytes(Bytes(32, 3))));
  KeymatIkeSuite bad_prf;
  bad_prf.prf = static_cast<crypto::PrfId>(99);
  EXPECT_FALSE(
      DeriveIkeKeymat(bad_prf, 1, 2, Bytes(32, 1), Bytes(32, 2), SecretBytes(Bytes(32, 3))));
  EXPECT_EQ(EncrLabel(crypto::EncrId::kChaCha20Poly1305, 0), "ChaCha20-Poly1305");
  EXPECT_EQ(IntegLabel(crypto::IntegId::kHmacSha1_96), "HMAC-SHA1-96");
  EXPECT_EQ(PrfLabel(crypto::PrfId::kHmacSha2_512), "HMAC-SHA2-512");
}

INSTANTIATE_TEST_SUITE_P(
    Charon598, KeymatExplainCharon,
    ::testing::Values(
        Scenario{testing::GcmRun(), KeymatIkeSuite{},
                 KeymatChildSuite{crypto::EncrId::kAesGcm16, 256, crypto::IntegId::kNone}},
        Scenario{testing::CbcRun(),
                 KeymatIkeSuite{crypto::EncrId::kAesCbc, 128, crypto::PrfId::kHmacSha2_256,
                          crypto::IntegId::kHmacSha2_256_128, crypto::DhGroup::kModp2048},
                 KeymatChildSuite{crypto::EncrId::kAesCbc, 128, crypto::IntegId::kHmacSha2_256_128}}),
    [](const auto& p) { return p.param.run.dir; });

}  // namespace
}  // namespace minivpn::ike
