// Header and payload-chain framing (codec.cc): decode of valid messages, every truncated
// prefix, unknown payloads, limits, and the text forms used in logs.
#include "ike/wire/codec.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <vector>

#include "ike/wire/format.h"
#include "tests/ike/wire/codec_test_util.h"

namespace minivpn::ike {
namespace {

using testing::Gp;
using testing::Make;
using testing::Raw;
using testing::Repeat;

Message AuthRequestOuter() {
  return Message{testing::ProtectedHeader(ExchangeType::kIkeAuth, false),
                 {Make(PayloadType::kSk, SkPayload{PayloadType::kIdi, Repeat(0x77, 64)})}};
}

TEST(Codec, DecodesWhatItEncodes) {
  const Message m = testing::InitRequest();
  const Bytes wire = Encode(m);
  EXPECT_EQ(wire.size(), 28u + (4 + 36) + (4 + 4 + 32) + (4 + 32) + 2 * (8 + 20) + 8);
  auto decoded = Decode(wire);
  ASSERT_TRUE(decoded.has_value()) << Describe(decoded.error());
  EXPECT_EQ(decoded->payloads, m.payloads);
  EXPECT_EQ(decoded->header.length, wire.size());
  EXPECT_EQ(decoded->header.next_payload, PayloadType::kSa);
  EXPECT_EQ(decoded->header.spi_i, m.header.spi_i);
  EXPECT_TRUE(decoded->header.is_initiator());
  EXPECT_FALSE(decoded->header.is_response());
  EXPECT_EQ(Encode(*decoded), wire);
}

TEST(Codec, HeaderFieldsAtTheirOffsets) {
  Header h = testing::ProtectedHeader(ExchangeType::kInformational, true, 0x01020304);
  const Bytes wire = Encode(Message{h, {}});
  EXPECT_EQ(ToHex(wire), "0102030405060708" "1112131415161718" "00" "20" "25" "20" "01020304" "0000001c");
  auto header = DecodeHeader(wire);
  ASSERT_TRUE(header.has_value());
  EXPECT_EQ(header->message_id, 0x01020304u);
  EXPECT_EQ(header->exchange, ExchangeType::kInformational);
  EXPECT_TRUE(header->is_response());
}

// Offsets of each payload's generic header in an encoded message.
std::vector<std::size_t> PayloadOffsets(const Message& m) {
  std::vector<std::size_t> out;
  std::size_t at = kHeaderSize;
  for (const Payload& p : m.payloads) {
    out.push_back(at);
    at += kGenericPayloadHeaderSize + EncodePayloadBody(p).size();
  }
  out.push_back(at);
  return out;
}

void CheckEveryPrefix(const Message& m) {
  const Bytes wire = Encode(m);
  const std::vector<std::size_t> offsets = PayloadOffsets(m);
  for (std::size_t n = 0; n < wire.size(); ++n) {
    SCOPED_TRACE(n);
    const ByteView prefix = ByteView(wire).first(n);
    auto as_is = Decode(prefix);
    ASSERT_FALSE(as_is.has_value());
    EXPECT_EQ(as_is.error().notify, NotifyType::kInvalidSyntax);
    EXPECT_EQ(as_is.error().payload, PayloadType::kNone);
    if (n < kHeaderSize) {
      EXPECT_EQ(as_is.error().code, ParseErrorCode::kTruncatedHeader);
      EXPECT_EQ(as_is.error().offset, 0u);
      continue;
    }
    EXPECT_EQ(as_is.error().code, ParseErrorCode::kLengthMismatch);
    EXPECT_EQ(as_is.error().offset, 24u);
    // The same prefix with a header Length that agrees: the payload that was cut is named.
    Bytes patched(prefix.begin(), prefix.end());
    testing::FixLength(patched);
    auto cut = Decode(patched);
    ASSERT_FALSE(cut.has_value());
    std::size_t k = 0;
    while (offsets[k + 1] <= n) ++k;
    EXPECT_EQ(cut.error().code, ParseErrorCode::kBadPayloadLength) << Describe(cut.error());
    EXPECT_EQ(cut.error().notify, NotifyType::kInvalidSyntax);
    EXPECT_EQ(cut.error().payload, m.payloads[k].type);
    EXPECT_EQ(cut.error().offset, offsets[k]);
  }
}

TEST(Codec, EveryTruncatedPrefixOfIkeSaInitFails) { CheckEveryPrefix(testing::InitRequest()); }
TEST(Codec, EveryTruncatedPrefixOfProtectedMessageFails) { CheckEveryPrefix(AuthRequestOuter()); }

TEST(Codec, EveryTruncatedPrefixOfInnerChainFails) {
  const std::vector<Payload> inner{testing::Id(PayloadType::kIdi), testing::Auth(), testing::ChildSa(),
                                   testing::Ts(PayloadType::kTsi), testing::Ts(PayloadType::kTsr)};
  const Bytes chain = EncodePayloads(inner);
  std::vector<std::size_t> offsets{100};
  for (const Payload& p : inner) offsets.push_back(offsets.back() + 4 + EncodePayloadBody(p).size());
  for (std::size_t n = 0; n < chain.size(); ++n) {
    SCOPED_TRACE(n);
    auto cut = DecodePayloads(PayloadType::kIdi, ByteView(chain).first(n), 100);
    ASSERT_FALSE(cut.has_value());
    std::size_t k = 0;
    while (offsets[k + 1] <= 100 + n) ++k;
    EXPECT_EQ(cut.error().code, ParseErrorCode::kBadPayloadLength);
    EXPECT_EQ(cut.error().payload, inner[k].type);
    EXPECT_EQ(cut.error().offset, offsets[k]);
  }
}

TEST(Codec, UnknownNonCriticalPayloadIsKeptAndReencoded) {
  const Bytes unknown = Gp(PayloadType::kNonce, {0xca, 0xfe});  // type 49, then No
  Bytes payloads = unknown;
  Append(payloads, Gp(PayloadType::kNone, Repeat(7, 16)));
  const Bytes wire = Raw(testing::InitHeader(), static_cast<PayloadType>(49), payloads);
  auto m = Decode(wire);
  ASSERT_TRUE(m.has_value()) << Describe(m.error());
  ASSERT_EQ(m->payloads.size(), 2u);
  EXPECT_EQ(m->payloads[0].type, static_cast<PayloadType>(49));
  EXPECT_EQ(m->payloads[0].body, PayloadBody(UnknownPayload{49, {0xca, 0xfe}}));
  EXPECT_EQ(m->payloads[1].type, PayloadType::kNonce);
  EXPECT_EQ(Encode(*m), wire);
  EXPECT_EQ(Summary(m->header, m->payloads), "IKE_SA_INIT request 0 [ UNKNOWN(49) No ]");
}

TEST(Codec, SixtyFourPayloadsPassAndTheSixtyFifthIsRejected) {
  Message m{testing::InitHeader(), {}};
  for (int i = 0; i < 64; ++i) m.payloads.push_back(Make(PayloadType::kVendorId, VendorIdPayload{{1}}));
  EXPECT_TRUE(Decode(Encode(m)).has_value());
  m.payloads.push_back(Make(PayloadType::kVendorId, VendorIdPayload{{1}}));
  auto r = Decode(Encode(m));
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, ParseErrorCode::kTooManyPayloads);
  EXPECT_EQ(r.error().payload, PayloadType::kVendorId);
  EXPECT_EQ(r.error().offset, 28u + 64 * 5);
}

TEST(Codec, EmptyMessageIsValidFraming) {
  const Bytes wire = Encode(Message{testing::InitHeader(), {}});
  auto m = Decode(wire);
  ASSERT_TRUE(m.has_value());
  EXPECT_TRUE(m->payloads.empty());
}

TEST(Codec, SkMustBeLastAndMayNotNest) {
  Bytes payloads = Gp(PayloadType::kIdi, Repeat(0, 40));     // SK, first inner IDi
  Append(payloads, Gp(PayloadType::kNone, Repeat(1, 4)));  // a payload after SK
  auto r = Decode(Raw(testing::ProtectedHeader(ExchangeType::kIkeAuth, false), PayloadType::kSk,
                      payloads));
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, ParseErrorCode::kSkNotLast);
  EXPECT_EQ(r.error().payload, PayloadType::kSk);
  EXPECT_EQ(r.error().offset, 28u + 44);

  auto nested = DecodePayloads(PayloadType::kNotify,
                               EncodePayloads({testing::Notify(NotifyType::kInitialContact),
                                               Make(PayloadType::kSk, SkPayload{})}),
                               10);
  ASSERT_FALSE(nested.has_value());
  EXPECT_EQ(nested.error().code, ParseErrorCode::kUnexpectedPayload);
  EXPECT_EQ(nested.error().payload, PayloadType::kSk);
  EXPECT_EQ(nested.error().offset, 10u + 8);
}

TEST(Codec, ProtectedExchangesCarryOnlySkOutside) {
  for (ExchangeType ex : {ExchangeType::kIkeAuth, ExchangeType::kCreateChildSa,
                          ExchangeType::kInformational}) {
    SCOPED_TRACE(Name(ex));
    Message m{testing::ProtectedHeader(ex, false),
              {Make(PayloadType::kVendorId, VendorIdPayload{{1, 2}}),
               Make(PayloadType::kSk, SkPayload{PayloadType::kNone, Repeat(0, 32)})}};
    auto r = Decode(Encode(m));
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().code, ParseErrorCode::kMustBeEncrypted);
    EXPECT_EQ(r.error().payload, PayloadType::kVendorId);
    EXPECT_EQ(r.error().offset, 28u);
  }
}

TEST(Codec, UnprotectedInformationalMayCarryNotifiesOnly) {
  // RFC 7296 1.5: N(INVALID_IKE_SPI) is sent outside of any IKE SA.
  Message m{testing::ProtectedHeader(ExchangeType::kInformational, true, 0),
            {testing::Notify(NotifyType::kInvalidIkeSpi)}};
  EXPECT_TRUE(Decode(Encode(m)).has_value());
  m.payloads.push_back(Make(PayloadType::kDelete, DeletePayload{ProtocolId::kIke, 0, {}}));
  auto r = Decode(Encode(m));
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, ParseErrorCode::kMustBeEncrypted);
  EXPECT_EQ(r.error().payload, PayloadType::kDelete);
  EXPECT_EQ(r.error().offset, 28u + 8);
}

TEST(Codec, SkInIkeSaInitIsRejected) {
  Message m{testing::InitHeader(), {Make(PayloadType::kSk, SkPayload{PayloadType::kNone, Repeat(0, 32)})}};
  auto r = Decode(Encode(m));
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, ParseErrorCode::kUnexpectedPayload);
  EXPECT_EQ(r.error().payload, PayloadType::kSk);
  EXPECT_EQ(r.error().offset, 28u);
}

TEST(Codec, DescribeNamesNotifyCodePayloadAndOffset) {
  const ParseError e{ParseErrorCode::kBadPayloadBody, NotifyType::kInvalidSyntax, PayloadType::kSa,
                     40, 0, "proposal 1 transform count 3 but 2 present"};
  EXPECT_EQ(Describe(e),
            "INVALID_SYNTAX (BAD_PAYLOAD_BODY) at offset 40 in SA: proposal 1 transform count 3 "
            "but 2 present");
  EXPECT_EQ(fmt::format("{}", e), Describe(e));
  const ParseError crit{ParseErrorCode::kUnsupportedCritical, NotifyType::kUnsupportedCriticalPayload,
                        static_cast<PayloadType>(99), 28, 99, "critical payload type 99"};
  EXPECT_EQ(Describe(crit),
            "UNSUPPORTED_CRITICAL_PAYLOAD (UNSUPPORTED_CRITICAL) at offset 28 in payload type 99: "
            "critical payload type 99");
}

TEST(Codec, SummaryListsPayloadsLikeCharon) {
  const Message m = testing::InitRequest();
  EXPECT_EQ(Summary(m.header, m.payloads),
            "IKE_SA_INIT request 0 [ SA KE No N(NATD_S_IP) N(NATD_D_IP) N(FRAG_SUP) ]");
  Message auth{testing::ProtectedHeader(ExchangeType::kIkeAuth, true, 1),
               {testing::Id(PayloadType::kIdr), testing::Auth(),
                testing::Notify(static_cast<NotifyType>(40000)), testing::Notify(NotifyType::kTsUnacceptable)}};
  EXPECT_EQ(fmt::format("{}", auth), "IKE_AUTH response 1 [ IDr AUTH N(UNKNOWN(40000)) N(TS_UNACCEPT) ]");
}

TEST(Codec, FormattersPrintValues) {
  const Message m = testing::InitRequest();
  EXPECT_EQ(fmt::format("{}", m.header), "IKE_SA_INIT request 0 [0102030405060708_i 0000000000000000_r]");
  EXPECT_EQ(fmt::format("{}", m.payloads[0]),
            "SA(1:IKE ENCR=AES_GCM_16/256 PRF=PRF_HMAC_SHA2_256 KE=CURVE_25519)");
  EXPECT_EQ(fmt::format("{}", m.payloads[3]), "N(NAT_DETECTION_SOURCE_IP 20 octets)");
  EXPECT_EQ(fmt::format("{}", m.payloads[5]), "N(FRAG_SUP)");
  EXPECT_EQ(fmt::format("{}", testing::Ts(PayloadType::kTsi)), "TSi(10.0.0.0..10.0.0.255)");
  EXPECT_EQ(fmt::format("{}", static_cast<ExchangeType>(33)), "UNKNOWN(33)");
  EXPECT_EQ(fmt::format("{}", Transform{TransformType::kEncr, 1234, {}}), "ENCR=UNKNOWN(1234)");
}

}  // namespace
}  // namespace minivpn::ike
