#include <gtest/gtest.h>

#include "cli/config/proposal.h"

namespace minivpn::config {
namespace {

using crypto::DhGroup;
using crypto::EncrId;
using crypto::IntegId;
using crypto::PrfId;

TEST(IkeProposal, AeadWithExplicitPrf) {
  auto list = ParseIkeProposals("aes256gcm16-prfsha256-x25519").value();
  EXPECT_FALSE(list.strict);
  ASSERT_EQ(list.proposals.size(), 1u);
  EXPECT_EQ(list.proposals[0],
            (IkeProposal{
                {{EncrId::kAesGcm16, 256}}, {}, {PrfId::kHmacSha2_256}, {DhGroup::kCurve25519}}));
}

TEST(IkeProposal, CbcDerivesPrfFromIntegrity) {
  auto p = ParseIkeProposals("aes128-sha256-modp2048").value().proposals.at(0);
  EXPECT_EQ(p, (IkeProposal{{{EncrId::kAesCbc, 128}},
                            {IntegId::kHmacSha2_256_128},
                            {PrfId::kHmacSha2_256},
                            {DhGroup::kModp2048}}));
  auto q = ParseIkeProposals("aes256-sha384-ecp384").value().proposals.at(0);
  EXPECT_EQ(q, (IkeProposal{{{EncrId::kAesCbc, 256}},
                            {IntegId::kHmacSha2_384_192},
                            {PrfId::kHmacSha2_384},
                            {DhGroup::kEcp384}}));
}

TEST(IkeProposal, ChaChaAndAeadIntegrityMeansPrf) {
  auto p = ParseIkeProposals("chacha20poly1305-prfsha256-x25519").value().proposals.at(0);
  EXPECT_EQ(p.encr, (std::vector<EncrSpec>{{EncrId::kChaCha20Poly1305, 256}}));
  // charon accepts "aes256gcm16-sha256-ecp256": the integrity keyword gives the PRF.
  auto q = ParseIkeProposals("aes256gcm16-sha384-ecp256").value().proposals.at(0);
  EXPECT_TRUE(q.integ.empty());
  EXPECT_EQ(q.prf, (std::vector<PrfId>{PrfId::kHmacSha2_384}));
}

TEST(IkeProposal, StrictListAndSeveralProposals) {
  auto list = ParseIkeProposals("aes256gcm16-prfsha256-x25519, aes128-sha256-modp2048!").value();
  EXPECT_TRUE(list.strict);
  ASSERT_EQ(list.proposals.size(), 2u);
  EXPECT_EQ(list.proposals[1].dh, (std::vector<DhGroup>{DhGroup::kModp2048}));
}

TEST(IkeProposal, SeveralAlgorithmsPerKindKeepOrderWithoutDuplicates) {
  auto p =
      ParseIkeProposals("aes128-aes256-sha256-sha512-x25519-ecp256-x25519").value().proposals.at(0);
  EXPECT_EQ(p.encr, (std::vector<EncrSpec>{{EncrId::kAesCbc, 128}, {EncrId::kAesCbc, 256}}));
  EXPECT_EQ(p.integ,
            (std::vector<IntegId>{IntegId::kHmacSha2_256_128, IntegId::kHmacSha2_512_256}));
  EXPECT_EQ(p.prf, (std::vector<PrfId>{PrfId::kHmacSha2_256, PrfId::kHmacSha2_512}));
  EXPECT_EQ(p.dh, (std::vector<DhGroup>{DhGroup::kCurve25519, DhGroup::kEcp256}));
}

TEST(IkeProposal, MixedAeadAndCbcIsSplit) {
  auto list = ParseIkeProposals("aes256gcm16-aes256-sha256-x25519").value();
  ASSERT_EQ(list.proposals.size(), 2u);
  EXPECT_EQ(list.proposals[0].encr, (std::vector<EncrSpec>{{EncrId::kAesGcm16, 256}}));
  EXPECT_TRUE(list.proposals[0].integ.empty());
  EXPECT_EQ(list.proposals[1].encr, (std::vector<EncrSpec>{{EncrId::kAesCbc, 256}}));
  EXPECT_EQ(list.proposals[1].integ, (std::vector<IntegId>{IntegId::kHmacSha2_256_128}));
}

TEST(IkeProposal, GcmAliasesAndKeySizes) {
  auto p = ParseIkeProposals("aes128gcm8-aes192gcm96-aes256gcm128-prfsha512-ecp521")
               .value()
               .proposals.at(0);
  EXPECT_EQ(p.encr,
            (std::vector<EncrSpec>{
                {EncrId::kAesGcm8, 128}, {EncrId::kAesGcm12, 192}, {EncrId::kAesGcm16, 256}}));
  // AES-CTR is ESP only here: dropped from an IKE proposal with a warning, an error if it was
  // the proposal's only cipher.
  auto ctr = ParseIkeProposals("aes192ctr-aes128-sha1-modp3072").value();
  EXPECT_EQ(ctr.proposals.at(0).encr, (std::vector<EncrSpec>{{EncrId::kAesCbc, 128}}));
  EXPECT_EQ(ctr.proposals.at(0).prf, (std::vector<PrfId>{PrfId::kHmacSha1}));
  ASSERT_FALSE(ctr.warnings.empty());
  EXPECT_NE(ctr.warnings[0].find("'aes192ctr' in IKE proposal 'aes192ctr-aes128-sha1-modp3072' "
                                 "is not offered: minivpn implements AES-CTR and AES-CCM for ESP "
                                 "only"),
            std::string::npos)
      << ctr.warnings[0];
  EXPECT_NE(ParseIkeProposals("aes128ccm16-prfsha256-x25519").error().find(
                "no IKE proposal in 'aes128ccm16-prfsha256-x25519' has a cipher minivpn "
                "implements for IKE"),
            std::string::npos);
  // A CTR-only proposal beside a usable one: the config loads, without it.
  auto mixed = ParseIkeProposals("aes128ctr-sha256-modp2048,aes256-sha256-modp2048").value();
  ASSERT_EQ(mixed.proposals.size(), 1u);
  EXPECT_EQ(mixed.proposals[0].encr, (std::vector<EncrSpec>{{EncrId::kAesCbc, 256}}));
  EXPECT_EQ(mixed.warnings.size(), 2u);  // the cipher dropped, then its proposal
  auto esp = ParseEspProposals("aes128ctr-sha256,aes256ccm12-aes192ccm8").value();
  EXPECT_EQ(esp.proposals.at(0).encr, (std::vector<EncrSpec>{{EncrId::kAesCtr, 128}}));
  EXPECT_EQ(esp.proposals.at(1).encr,
            (std::vector<EncrSpec>{{EncrId::kAesCcm12, 256}, {EncrId::kAesCcm8, 192}}));
  EXPECT_TRUE(esp.warnings.empty());
}

TEST(IkeProposal, Errors) {
  struct Case {
    const char* text;
    const char* message;
  } cases[] = {
      {"aes257-sha256-modp2048", "unknown algorithm 'aes257'"},
      {"des-sha1-modp2048", "'des' in proposal 'des-sha1-modp2048' is not supported"},
      {"aes128-sha256-modp768", "'modp768'"},
      {"aes256gcm16-x25519", "has no PRF"},
      {"aes128-prfsha256-x25519", "has no integrity algorithm"},
      {"aes128-sha256", "has no key exchange group"},
      {"sha256-modp2048", "has no encryption algorithm"},
      {"aes128-sha256-modp2048-esn", "esn/noesn is not allowed"},
      {"", "empty proposal list"},
      {"aes128-sha256-modp2048,,aes256-sha256-modp2048", "empty proposal"},
      {"aes128-sha256-modp2048!,aes256-sha256-modp2048", "'!' is only allowed at the end"},
      {"aes128--sha256-modp2048", "unknown algorithm ''"},
  };
  for (const auto& c : cases) {
    auto r = ParseIkeProposals(c.text);
    ASSERT_FALSE(r.has_value()) << c.text;
    EXPECT_NE(r.error().find(c.message), std::string::npos) << c.text << " -> " << r.error();
  }
}

TEST(EspProposal, AeadDefaultsToNoEsn) {
  auto p = ParseEspProposals("aes256gcm16").value().proposals.at(0);
  EXPECT_EQ(p, (EspProposal{{{EncrId::kAesGcm16, 256}}, {}, {}, {Esn::kNoEsn}}));
}

TEST(EspProposal, IntegrityInAnAeadProposalIsDropped) {
  auto p = ParseEspProposals("aes256gcm16-sha256").value().proposals;
  ASSERT_EQ(p.size(), 1u);
  EXPECT_TRUE(p[0].integ.empty());
  auto mixed = ParseEspProposals("aes256gcm16-aes128-sha256").value().proposals;
  ASSERT_EQ(mixed.size(), 2u);
  EXPECT_TRUE(mixed[0].integ.empty());
  EXPECT_EQ(mixed[1].integ, (std::vector<IntegId>{IntegId::kHmacSha2_256_128}));
}

TEST(EspProposal, PfsGroupAndEsn) {
  auto p = ParseEspProposals("aes256gcm16-ecp384").value().proposals.at(0);
  EXPECT_EQ(p.dh, (std::vector<DhGroup>{DhGroup::kEcp384}));
  auto q = ParseEspProposals("aes128-sha256-esn").value().proposals.at(0);
  EXPECT_EQ(q,
            (EspProposal{{{EncrId::kAesCbc, 128}}, {IntegId::kHmacSha2_256_128}, {}, {Esn::kEsn}}));
  auto both = ParseEspProposals("aes128-sha256-esn-noesn").value().proposals.at(0);
  EXPECT_EQ(both.esn, (std::vector<Esn>{Esn::kEsn, Esn::kNoEsn}));
}

TEST(EspProposal, StrictAndListsAndErrors) {
  auto list = ParseEspProposals("aes256gcm16,aes128-sha256!").value();
  EXPECT_TRUE(list.strict);
  EXPECT_EQ(list.proposals.size(), 2u);
  EXPECT_NE(ParseEspProposals("aes128").error().find("no integrity algorithm"), std::string::npos);
  EXPECT_NE(ParseEspProposals("aes128-prfsha256").error().find("PRF is not allowed"),
            std::string::npos);
  EXPECT_NE(ParseEspProposals("aes128-md5_128").error().find("not supported"), std::string::npos);
}

TEST(Proposal, DefaultKeywordExpands) {
  EXPECT_EQ(ParseIkeProposals("default").value().proposals, DefaultIkeProposals());
  EXPECT_EQ(ParseEspProposals("default").value().proposals, DefaultEspProposals());
  auto list = ParseIkeProposals("aes256gcm16-prfsha256-x25519,default").value();
  EXPECT_EQ(list.proposals.size(), 1 + DefaultIkeProposals().size());
}

TEST(Proposal, DefaultsUseOnlySupportedAlgorithms) {
  for (const auto& p : DefaultIkeProposals()) {
    for (auto e : p.encr) EXPECT_TRUE(crypto::IsSupported(e.id, e.key_bits)) << ToString(p);
    for (auto i : p.integ) EXPECT_TRUE(crypto::IsSupported(i));
    for (auto f : p.prf) EXPECT_TRUE(crypto::IsSupported(f));
    for (auto g : p.dh) EXPECT_TRUE(crypto::IsSupported(g));
  }
  for (const auto& p : DefaultEspProposals()) {
    for (auto e : p.encr) EXPECT_TRUE(crypto::IsSupported(e.id, e.key_bits)) << ToString(p);
  }
}

TEST(Proposal, ToStringRoundTrips) {
  for (const char* text : {"aes256gcm16-prfsha256-x25519", "aes128-sha256-prfsha256-modp2048",
                           "chacha20poly1305-prfsha512-ecp521"}) {
    auto p = ParseIkeProposals(text).value().proposals.at(0);
    EXPECT_EQ(ToString(p), text);
    EXPECT_EQ(ParseIkeProposals(ToString(p)).value().proposals.at(0), p);
  }
  for (const char* text : {"aes256gcm16", "aes128-sha256-esn", "aes256gcm16-ecp384"}) {
    auto p = ParseEspProposals(text).value().proposals.at(0);
    EXPECT_EQ(ToString(p), text);
  }
}

}  // namespace
}  // namespace minivpn::config
