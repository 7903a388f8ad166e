// The exchange table (exchange_rules.cc): what each exchange and direction may carry.
#include <gtest/gtest.h>

#include <vector>

#include "ike/wire/codec.h"
#include "tests/ike/wire/codec_test_util.h"

namespace minivpn::ike {
namespace {

using testing::Make;
using testing::Notify;
using testing::ProtectedHeader;
using testing::Repeat;
using P = PayloadType;
using E = ExchangeType;
using C = ParseErrorCode;

void ExpectRuleError(const Header& h, const std::vector<Payload>& payloads, C code, P payload,
                     std::size_t index) {
  auto r = CheckExchangeRules(h, payloads);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, code) << Describe(r.error());
  EXPECT_EQ(r.error().notify, NotifyType::kInvalidSyntax);
  EXPECT_EQ(r.error().payload, payload) << Describe(r.error());
  EXPECT_EQ(r.error().offset, index);
}

std::vector<Payload> AuthRequest() {
  return {testing::Id(P::kIdi), Notify(NotifyType::kInitialContact), testing::Id(P::kIdr),
          testing::Auth(), testing::ChildSa(), testing::Ts(P::kTsi), testing::Ts(P::kTsr),
          Notify(NotifyType::kMobikeSupported)};
}

std::vector<Payload> AuthResponse() {
  return {testing::Id(P::kIdr), testing::Auth(), testing::ChildSa(), testing::Ts(P::kTsi),
          testing::Ts(P::kTsr)};
}

TEST(ExchangeRulesCodec, IkeSaInitRequestAndResponse) {
  EXPECT_TRUE(CheckExchangeRules(testing::InitHeader(), testing::InitRequest().payloads).has_value());
  std::vector<Payload> resp = testing::InitRequest().payloads;
  resp.push_back(Make(P::kCertReq, CertPayload{4, {}}));
  resp.push_back(Make(P::kVendorId, VendorIdPayload{{1}}));
  EXPECT_TRUE(CheckExchangeRules(testing::InitHeader(true), resp).has_value());
}

TEST(ExchangeRulesCodec, IkeSaInitErrorAndCookieResponsesNeedNothingElse) {
  Header h = testing::InitHeader(true);
  h.spi_r = 0;  // 2.6: cookie and error responses may carry a zero responder SPI
  EXPECT_TRUE(CheckExchangeRules(h, {Notify(NotifyType::kCookie, Repeat(1, 16))}).has_value());
  EXPECT_TRUE(CheckExchangeRules(h, {Notify(NotifyType::kInvalidKePayload, {0, 19})}).has_value());
  EXPECT_TRUE(CheckExchangeRules(h, {Notify(NotifyType::kNoProposalChosen)}).has_value());
  // A status notify alone is not a complete response.
  ExpectRuleError(h, {Notify(NotifyType::kIkev2FragmentationSupported)}, C::kMissingPayload, P::kSa, 1);
  // A request is never excused.
  ExpectRuleError(testing::InitHeader(), {Notify(NotifyType::kNoProposalChosen)}, C::kMissingPayload,
                  P::kSa, 1);
}

TEST(ExchangeRulesCodec, IkeSaInitRequestWithCookieFirst) {
  std::vector<Payload> p = testing::InitRequest().payloads;
  p.insert(p.begin(), Notify(NotifyType::kCookie, Repeat(9, 32)));
  EXPECT_TRUE(CheckExchangeRules(testing::InitHeader(), p).has_value());
}

TEST(ExchangeRulesCodec, IkeAuthRequestAndResponse) {
  EXPECT_TRUE(CheckExchangeRules(ProtectedHeader(E::kIkeAuth, false), AuthRequest()).has_value());
  EXPECT_TRUE(CheckExchangeRules(ProtectedHeader(E::kIkeAuth, true), AuthResponse()).has_value());
}

TEST(ExchangeRulesCodec, IkeAuthDirectionSpecificPayloads) {
  std::vector<Payload> resp = AuthResponse();
  resp.push_back(testing::Id(P::kIdi));
  ExpectRuleError(ProtectedHeader(E::kIkeAuth, true), resp, C::kUnexpectedPayload, P::kIdi, 5);
  std::vector<Payload> req = AuthRequest();
  req.push_back(testing::Id(P::kIdr));
  ExpectRuleError(ProtectedHeader(E::kIkeAuth, false), req, C::kDuplicatePayload, P::kIdr, 8);
}

TEST(ExchangeRulesCodec, IkeAuthChildlessOrFailedChildIsFine) {
  // RFC 6023 childless, or the responder refused the CHILD_SA (charon's fixture response).
  EXPECT_TRUE(CheckExchangeRules(ProtectedHeader(E::kIkeAuth, false),
                                 {testing::Id(P::kIdi), testing::Auth()})
                  .has_value());
  EXPECT_TRUE(CheckExchangeRules(ProtectedHeader(E::kIkeAuth, true),
                                 {testing::Id(P::kIdr), testing::Auth(),
                                  Notify(NotifyType::kNoProposalChosen)})
                  .has_value());
}

TEST(ExchangeRulesCodec, IkeAuthSaAndSelectorsComeTogether) {
  ExpectRuleError(ProtectedHeader(E::kIkeAuth, false),
                  {testing::Id(P::kIdi), testing::Auth(), testing::ChildSa(), testing::Ts(P::kTsi)},
                  C::kMissingPayload, P::kTsr, 4);
  ExpectRuleError(ProtectedHeader(E::kIkeAuth, false),
                  {testing::Id(P::kIdi), testing::Auth(), testing::Ts(P::kTsi), testing::Ts(P::kTsr)},
                  C::kMissingPayload, P::kSa, 4);
}

TEST(ExchangeRulesCodec, IkeAuthFailureResponseCarriesOnlyTheNotify) {
  EXPECT_TRUE(CheckExchangeRules(ProtectedHeader(E::kIkeAuth, true),
                                 {Notify(NotifyType::kAuthenticationFailed)})
                  .has_value());
  ExpectRuleError(ProtectedHeader(E::kIkeAuth, true), {}, C::kMissingPayload, P::kIdr, 0);
}

TEST(ExchangeRulesCodec, CreateChildSaForChildAndIkeRekey) {
  const Header req = ProtectedHeader(E::kCreateChildSa, false, 2);
  EXPECT_TRUE(CheckExchangeRules(req, {Notify(NotifyType::kRekeySa), testing::ChildSa(), testing::Nonce(),
                                       testing::Ke(), testing::Ts(P::kTsi), testing::Ts(P::kTsr)})
                  .has_value());
  EXPECT_TRUE(CheckExchangeRules(req, {testing::Sa(), testing::Nonce(), testing::Ke()}).has_value());
  ExpectRuleError(req, {testing::ChildSa(), testing::Nonce(), testing::Ts(P::kTsr)}, C::kMissingPayload,
                  P::kTsi, 3);
  ExpectRuleError(req, {testing::ChildSa(), testing::Ke()}, C::kMissingPayload, P::kNonce, 2);
  ExpectRuleError(req, {testing::ChildSa(), testing::Nonce(), testing::Id(P::kIdi)},
                  C::kUnexpectedPayload, P::kIdi, 2);
  EXPECT_TRUE(CheckExchangeRules(ProtectedHeader(E::kCreateChildSa, true, 2),
                                 {Notify(NotifyType::kTemporaryFailure)})
                  .has_value());
}

TEST(ExchangeRulesCodec, InformationalCarriesNotifiesDeletesAndOneCp) {
  const Header h = ProtectedHeader(E::kInformational, false, 3);
  const Payload cp = Make(P::kCp, CpPayload{CfgType::kRequest, {}});
  EXPECT_TRUE(CheckExchangeRules(h, {Notify(NotifyType::kUpdateSaAddresses),
                                     Make(P::kDelete, DeletePayload{ProtocolId::kIke, 0, {}}), cp})
                  .has_value());
  ExpectRuleError(h, {cp, cp}, C::kDuplicatePayload, P::kCp, 1);
  ExpectRuleError(h, {testing::Sa()}, C::kUnexpectedPayload, P::kSa, 0);
}

TEST(ExchangeRulesCodec, UnknownPayloadsAreIgnoredEncryptedOnesRejected) {
  std::vector<Payload> p = testing::InitRequest().payloads;
  p.push_back(Payload{static_cast<P>(49), false, UnknownPayload{49, {1}}});
  EXPECT_TRUE(CheckExchangeRules(testing::InitHeader(), p).has_value());
  ExpectRuleError(ProtectedHeader(E::kIkeAuth, false),
                  {Make(P::kSk, SkPayload{P::kIdi, Repeat(0, 32)})}, C::kUnexpectedPayload, P::kSk, 0);
}

TEST(ExchangeRulesCodec, AuthIsRequiredInIkeAuth) {
  ExpectRuleError(ProtectedHeader(E::kIkeAuth, false),
                  {testing::Id(P::kIdi), Make(P::kEap, EapPayload{{2, 0, 0, 4}})}, C::kMissingPayload,
                  P::kAuth, 2);
}

}  // namespace
}  // namespace minivpn::ike
