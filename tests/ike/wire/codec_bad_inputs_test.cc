// docs/bad-inputs.md groups A (header), B (payload chain), C (proposals),
// E (nonce), H (traffic selectors) and I (delete/INFORMATIONAL), one TEST per line item, as far
// as the codec is concerned. Items that need state (SPI lookup, what was offered) are decided
// by the engine: for those the test pins down that the codec keeps the input intact for it.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "ike/wire/codec.h"
#include "tests/ike/wire/codec_test_util.h"

namespace minivpn::ike {
namespace {

using testing::Gp;
using testing::Make;
using testing::Raw;
using testing::Repeat;
using P = PayloadType;
using C = ParseErrorCode;

// Asserts that `r` failed with code/payload/offset and the INVALID_SYNTAX notify.
template <typename T>
void ExpectSyntaxError(const std::expected<T, ParseError>& r, C code, P payload,
                       std::size_t offset) {
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, code) << Describe(r.error());
  EXPECT_EQ(r.error().notify, NotifyType::kInvalidSyntax);
  EXPECT_EQ(r.error().payload, payload) << Describe(r.error());
  EXPECT_EQ(r.error().offset, offset) << Describe(r.error());
}

Bytes ValidInit() { return Encode(testing::InitRequest()); }

// ---------------------------------------------------------------- A. Header

TEST(BadInputsA, EmptyDatagram) {
  ExpectSyntaxError(Decode({}), C::kTruncatedHeader, P::kNone, 0);
}

TEST(BadInputsA, DatagramShorterThanHeader) {
  const Bytes wire = ValidInit();
  ExpectSyntaxError(Decode(ByteView(wire).first(27)), C::kTruncatedHeader, P::kNone, 0);
  ExpectSyntaxError(DecodeHeader(ByteView(wire).first(1)), C::kTruncatedHeader, P::kNone, 0);
}

TEST(BadInputsA, LengthFieldLargerThanDatagram) {
  Bytes wire = ValidInit();
  testing::PutU32(wire, 24, static_cast<std::uint32_t>(wire.size() + 1));
  ExpectSyntaxError(Decode(wire), C::kLengthMismatch, P::kNone, 24);
  testing::PutU32(wire, 24, 0xffffffff);
  ExpectSyntaxError(Decode(wire), C::kLengthMismatch, P::kNone, 24);
}

TEST(BadInputsA, LengthFieldSmallerThanDatagram) {
  Bytes wire = ValidInit();
  testing::PutU32(wire, 24, static_cast<std::uint32_t>(wire.size() - 1));
  ExpectSyntaxError(Decode(wire), C::kLengthMismatch, P::kNone, 24);
  testing::PutU32(wire, 24, 0);
  ExpectSyntaxError(Decode(wire), C::kLengthMismatch, P::kNone, 24);
}

TEST(BadInputsA, TrailingBytes) {
  // After the datagram's IKE message (UDP payload longer than Length)...
  Bytes wire = ValidInit();
  const std::size_t size = wire.size();
  wire.push_back(0);
  ExpectSyntaxError(Decode(wire), C::kLengthMismatch, P::kNone, 24);
  // ...and inside Length after the payload whose Next Payload is 0.
  testing::FixLength(wire);
  ExpectSyntaxError(Decode(wire), C::kTrailingBytes, P::kNone, size);
}

TEST(BadInputsA, MajorVersionNotTwo) {
  Bytes wire = ValidInit();
  for (std::uint8_t version : {0x10, 0x30, 0x00, 0xf0}) {
    wire[17] = version;
    auto r = Decode(wire);
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().code, C::kInvalidMajorVersion);
    EXPECT_EQ(r.error().notify, NotifyType::kInvalidMajorVersion);
    EXPECT_EQ(r.error().offset, 17u);
  }
  wire[17] = 0x21;  // 2.5: a higher minor version is accepted (and kept)
  auto ok = Decode(wire);
  ASSERT_TRUE(ok.has_value());
  EXPECT_EQ(ok->header.version, 0x21);
}

TEST(BadInputsA, UnknownExchangeType) {
  Bytes wire = ValidInit();
  for (std::uint8_t exchange : {0, 33, 38, 43, 255}) {
    wire[18] = exchange;
    ExpectSyntaxError(Decode(wire), C::kUnknownExchange, P::kNone, 18);
  }
}

TEST(BadInputsA, Ikev1ExchangeType) {
  Bytes wire = ValidInit();
  wire[18] = 2;  // IKEv1 Identity Protection (Main Mode) with a v2 version field
  ExpectSyntaxError(Decode(wire), C::kUnknownExchange, P::kNone, 18);
  wire[17] = 0x10;  // a real IKEv1 header: the version is checked first
  EXPECT_EQ(Decode(wire).error().code, C::kInvalidMajorVersion);
}

TEST(BadInputsA, ResponseFlagWrong) {
  // Whether R is right depends on what we sent: the codec keeps the flags as they are, and the
  // exchange table of the direction the flag claims is applied.
  Message m = testing::InitRequest();
  m.header.flags = kFlagInitiator | kFlagResponse;
  auto r = Decode(Encode(m));
  ASSERT_TRUE(r.has_value());
  EXPECT_TRUE(r->header.is_response());
  EXPECT_TRUE(r->header.is_initiator());
  m.payloads.push_back(Make(P::kCertReq, CertPayload{4, {}}));  // allowed only in a response
  EXPECT_TRUE(CheckExchangeRules(m.header, m.payloads).has_value());
  m.header.flags = kFlagInitiator;
  ExpectSyntaxError(CheckExchangeRules(m.header, m.payloads), C::kUnexpectedPayload, P::kCertReq, 6);
}

TEST(BadInputsA, InitiatorSpiZero) {
  Bytes wire = ValidInit();
  for (std::size_t i = 0; i < 8; ++i) wire[i] = 0;
  ExpectSyntaxError(Decode(wire), C::kZeroInitiatorSpi, P::kNone, 0);
}

TEST(BadInputsA, IkeSaInitWithResponderSpiOrMessageId) {
  Message m = testing::InitRequest();
  m.header.spi_r = 1;
  auto decoded = Decode(Encode(m));  // framing is fine...
  ASSERT_TRUE(decoded.has_value());
  // ...the exchange rules are not (3.1: responder SPI 0 in the first message, message ID 0).
  ExpectSyntaxError(CheckExchangeRules(decoded->header, decoded->payloads), C::kBadHeaderField,
                    P::kNone, 8);
  m.header.spi_r = 0;
  m.header.message_id = 1;
  ExpectSyntaxError(CheckExchangeRules(m.header, m.payloads), C::kBadHeaderField, P::kNone, 20);
  m.header.flags = kFlagResponse;
  m.header.spi_r = 7;
  ExpectSyntaxError(CheckExchangeRules(m.header, m.payloads), C::kBadHeaderField, P::kNone, 20);
  m.header.message_id = 0;
  EXPECT_TRUE(CheckExchangeRules(m.header, m.payloads).has_value());
}

TEST(BadInputsA, UnknownSpiPairDecodesWithoutState) {
  // The codec has no SA table: any SPI pair decodes, DecodeHeader gives the SPIs to look up.
  Message m{testing::ProtectedHeader(ExchangeType::kInformational, false, 9),
            {Make(P::kSk, SkPayload{P::kNone, Repeat(0, 32)})}};
  m.header.spi_i = 0xdeadbeefdeadbeefULL;
  m.header.spi_r = 0x0badc0de0badc0deULL;
  auto h = DecodeHeader(Encode(m));
  ASSERT_TRUE(h.has_value());
  EXPECT_EQ(h->spi_i, 0xdeadbeefdeadbeefULL);
  EXPECT_EQ(h->spi_r, 0x0badc0de0badc0deULL);
}

TEST(BadInputsA, Port4500MarkerAndKeepalive) {
  // The socket layer strips the 4-octet non-ESP marker and drops the 1-octet 0xFF keepalive;
  // if either reached Decode it is rejected, never misread.
  const Bytes keepalive{0xff};
  ExpectSyntaxError(Decode(keepalive), C::kTruncatedHeader, P::kNone, 0);
  Message m{testing::ProtectedHeader(ExchangeType::kIkeAuth, false, 1),
            {Make(P::kSk, SkPayload{P::kIdi, Repeat(0, 48)})}};
  Bytes with_marker{0, 0, 0, 0};
  Append(with_marker, Encode(m));
  // Shifted by 4 octets, a responder SPI octet lands in the version field.
  auto r = Decode(with_marker);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, C::kInvalidMajorVersion);
  EXPECT_EQ(r.error().offset, 17u);
}

TEST(BadInputsA, DatagramsOver3000AndUpTo64KiB) {
  for (std::size_t vid : {3000u, 65535u - 28 - 4}) {
    Message m{testing::InitHeader(), {Make(P::kVendorId, VendorIdPayload{Repeat(0x42, vid)})}};
    const Bytes wire = Encode(m);
    auto r = Decode(wire);
    ASSERT_TRUE(r.has_value()) << Describe(r.error());
    EXPECT_EQ(r->header.length, wire.size());
  }
  // Two payloads of 64 KiB in total (beyond one UDP datagram over IPv4, still well-framed).
  Message big{testing::InitHeader(), {Make(P::kVendorId, VendorIdPayload{Repeat(1, 65531)}),
                                      Make(P::kVendorId, VendorIdPayload{Repeat(2, 65531)})}};
  auto r = Decode(Encode(big));
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->header.length, 28u + 2 * 65535);
}

// ---------------------------------------------------------------- B. Payload chain

TEST(BadInputsB, PayloadLengthZero) {
  const Bytes wire = Raw(testing::InitHeader(), P::kNonce, Bytes{0, 0, 0, 0});
  ExpectSyntaxError(Decode(wire), C::kBadPayloadLength, P::kNonce, 28);
}

TEST(BadInputsB, PayloadLengthBelowFourOrBelowFixedFields) {
  for (std::uint8_t length : {1, 3}) {
    const Bytes wire = Raw(testing::InitHeader(), P::kVendorId, Bytes{0, 0, 0, length});
    ExpectSyntaxError(Decode(wire), C::kBadPayloadLength, P::kVendorId, 28);
  }
  // A Notify needs 4 octets after the generic header.
  const Bytes wire = Raw(testing::InitHeader(), P::kNotify, Gp(P::kNone, {0, 0, 0x40}));
  ExpectSyntaxError(Decode(wire), C::kBadPayloadLength, P::kNotify, 28);
}

TEST(BadInputsB, PayloadLengthPastTheEnd) {
  Bytes payload = Gp(P::kNone, Repeat(1, 16));
  testing::PutU16(payload, 2, 21);
  ExpectSyntaxError(Decode(Raw(testing::InitHeader(), P::kNonce, payload)), C::kBadPayloadLength,
                    P::kNonce, 28);
  testing::PutU16(payload, 2, 0xffff);
  ExpectSyntaxError(Decode(Raw(testing::InitHeader(), P::kNonce, payload)), C::kBadPayloadLength,
                    P::kNonce, 28);
}

TEST(BadInputsB, NextPayloadLoop) {
  // Every payload pointing at another one: the chain advances by each Payload Length and
  // stops at the end of the message (a Length of 0 cannot hold it in place: see above).
  Bytes payloads;
  for (int i = 0; i < 3; ++i) Append(payloads, Gp(P::kVendorId, {1}));
  ExpectSyntaxError(Decode(Raw(testing::InitHeader(), P::kVendorId, payloads)), C::kBadPayloadLength,
                    P::kVendorId, 28 + 15);
}

TEST(BadInputsB, UnknownPayloadWithoutCriticalBitIsSkipped) {
  Bytes payloads = Gp(P::kNonce, Repeat(9, 8));  // type 200, not critical
  Append(payloads, Gp(P::kNone, Repeat(1, 16)));
  auto r = Decode(Raw(testing::InitHeader(), static_cast<P>(200), payloads));
  ASSERT_TRUE(r.has_value()) << Describe(r.error());
  ASSERT_EQ(r->payloads.size(), 2u);
  EXPECT_EQ(r->payloads[0].body, PayloadBody(UnknownPayload{200, Repeat(9, 8)}));
  EXPECT_FALSE(r->payloads[0].critical);
}

TEST(BadInputsB, UnknownPayloadWithCriticalBitIsRejectedWithItsType) {
  Bytes payloads = Gp(P::kNone, Repeat(1, 16));
  Append(payloads, Gp(P::kNone, {1, 2}, 0x80));  // type 54 (PS), critical
  payloads[0] = 54;
  auto r = Decode(Raw(testing::InitHeader(), P::kNonce, payloads));
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, C::kUnsupportedCritical);
  EXPECT_EQ(r.error().notify, NotifyType::kUnsupportedCriticalPayload);
  EXPECT_EQ(r.error().critical_type, 54);
  EXPECT_EQ(r.error().payload, static_cast<P>(54));
  EXPECT_EQ(r.error().offset, 28u + 20);
}

TEST(BadInputsB, Ikev1PayloadTypes) {
  // IKEv1 types 1..13 are unknown to IKEv2: skipped, or rejected when marked critical.
  const Bytes ikev1_sa = Gp(P::kNone, Repeat(0, 8));
  auto skipped = Decode(Raw(testing::InitHeader(), static_cast<P>(1), ikev1_sa));
  ASSERT_TRUE(skipped.has_value());
  EXPECT_EQ(skipped->payloads[0].body, PayloadBody(UnknownPayload{1, Repeat(0, 8)}));
  auto critical = Decode(Raw(testing::InitHeader(), static_cast<P>(13), Gp(P::kNone, {}, 0x80)));
  ASSERT_FALSE(critical.has_value());
  EXPECT_EQ(critical.error().critical_type, 13);
  EXPECT_EQ(critical.error().notify, NotifyType::kUnsupportedCriticalPayload);
}

TEST(BadInputsB, SkNotLast) {
  Bytes payloads = Gp(P::kIdi, Repeat(0, 32));  // SK
  Append(payloads, Gp(P::kNone, {1}));          // V after SK
  ExpectSyntaxError(Decode(Raw(testing::ProtectedHeader(ExchangeType::kIkeAuth, false), P::kSk,
                               payloads)),
                    C::kSkNotLast, P::kSk, 28 + 36);
}

TEST(BadInputsB, SkNested) {
  const Bytes inner = EncodePayloads({Make(P::kSkf, SkfPayload{P::kNone, 1, 1, Repeat(0, 16)})});
  ExpectSyntaxError(DecodePayloads(P::kSkf, inner, 48), C::kUnexpectedPayload, P::kSkf, 48);
}

TEST(BadInputsB, FloodsOfNotifiesVendorIdsDeletes) {
  for (P type : {P::kNotify, P::kVendorId, P::kDelete}) {
    std::vector<Payload> flood;
    for (int i = 0; i < 100; ++i) {
      if (type == P::kNotify) flood.push_back(testing::Notify(NotifyType::kInitialContact));
      if (type == P::kVendorId) flood.push_back(Make(P::kVendorId, VendorIdPayload{{1}}));
      if (type == P::kDelete) flood.push_back(Make(P::kDelete, DeletePayload{ProtocolId::kIke, 0, {}}));
    }
    const std::size_t size = EncodePayloadBody(flood[0]).size() + 4;
    ExpectSyntaxError(DecodePayloads(type, EncodePayloads(flood)), C::kTooManyPayloads, type,
                      kMaxPayloads * size);
  }
}

TEST(BadInputsB, DuplicateSaKeNiIdiAuthTsiTsr) {
  const Header init = testing::InitHeader();
  const Header auth = testing::ProtectedHeader(ExchangeType::kIkeAuth, false);
  const std::vector<Payload> init_payloads{testing::Sa(), testing::Ke(), testing::Nonce()};
  const std::vector<Payload> auth_payloads{testing::Id(P::kIdi), testing::Auth(), testing::ChildSa(),
                                           testing::Ts(P::kTsi), testing::Ts(P::kTsr)};
  ASSERT_TRUE(CheckExchangeRules(init, init_payloads).has_value());
  ASSERT_TRUE(CheckExchangeRules(auth, auth_payloads).has_value());
  for (std::size_t i = 0; i < init_payloads.size(); ++i) {
    auto twice = init_payloads;
    twice.push_back(init_payloads[i]);
    ExpectSyntaxError(CheckExchangeRules(init, twice), C::kDuplicatePayload, init_payloads[i].type, 3);
  }
  for (std::size_t i = 0; i < auth_payloads.size(); ++i) {
    auto twice = auth_payloads;
    twice.insert(twice.begin() + 1, auth_payloads[i]);
    const std::size_t at = i == 0 ? 1 : i + 1;
    ExpectSyntaxError(CheckExchangeRules(auth, twice), C::kDuplicatePayload, auth_payloads[i].type, at);
  }
}

TEST(BadInputsB, MissingSaKeNiIdiAuthTsiTsr) {
  const Header init = testing::InitHeader();
  const Header auth = testing::ProtectedHeader(ExchangeType::kIkeAuth, false);
  const std::vector<Payload> init_payloads{testing::Sa(), testing::Ke(), testing::Nonce()};
  const std::vector<Payload> auth_payloads{testing::Id(P::kIdi), testing::Auth(), testing::ChildSa(),
                                           testing::Ts(P::kTsi), testing::Ts(P::kTsr)};
  for (std::size_t i = 0; i < init_payloads.size(); ++i) {
    auto without = init_payloads;
    without.erase(without.begin() + static_cast<std::ptrdiff_t>(i));
    ExpectSyntaxError(CheckExchangeRules(init, without), C::kMissingPayload, init_payloads[i].type, 2);
  }
  for (std::size_t i = 0; i < auth_payloads.size(); ++i) {
    auto without = auth_payloads;
    without.erase(without.begin() + static_cast<std::ptrdiff_t>(i));
    ExpectSyntaxError(CheckExchangeRules(auth, without), C::kMissingPayload, auth_payloads[i].type, 4);
  }
}

TEST(BadInputsB, CookieNotFirst) {
  std::vector<Payload> payloads = testing::InitRequest().payloads;
  payloads.push_back(testing::Notify(NotifyType::kCookie, Repeat(3, 16)));
  ExpectSyntaxError(CheckExchangeRules(testing::InitHeader(), payloads), C::kCookieNotFirst,
                    P::kNotify, 6);
  payloads.insert(payloads.begin(), payloads.back());
  payloads.pop_back();
  EXPECT_TRUE(CheckExchangeRules(testing::InitHeader(), payloads).has_value());
}

TEST(BadInputsB, PayloadsThatMustBeEncryptedSentInClear) {
  const Message clear{testing::ProtectedHeader(ExchangeType::kIkeAuth, false),
                      {testing::Id(P::kIdi), testing::Auth(), testing::ChildSa(), testing::Ts(P::kTsi),
                       testing::Ts(P::kTsr)}};
  ExpectSyntaxError(Decode(Encode(clear)), C::kMustBeEncrypted, P::kIdi, 28);
  // IKE payloads of later exchanges in the clear of IKE_SA_INIT are not allowed either.
  std::vector<Payload> init = testing::InitRequest().payloads;
  init.push_back(testing::Auth());
  ExpectSyntaxError(CheckExchangeRules(testing::InitHeader(), init), C::kUnexpectedPayload, P::kAuth, 6);
}

// ---------------------------------------------------------------- C. Proposals

// Decodes an SA payload whose body is `hex`; the payload header is at offset 0, the body at 4.
std::expected<std::vector<Payload>, ParseError> DecodeSa(const std::string& hex) {
  return DecodePayloads(P::kSa, Gp(P::kNone, FromHex(hex)));
}

const SaPayload& SaOf(const std::vector<Payload>& payloads) {
  return std::get<SaPayload>(payloads.front().body);
}

TEST(BadInputsC, ZeroTransformsKeptForTheEngine) {
  auto r = DecodeSa("00000008 01010000");
  ASSERT_TRUE(r.has_value()) << Describe(r.error());
  ASSERT_EQ(SaOf(*r).proposals.size(), 1u);
  EXPECT_TRUE(SaOf(*r).proposals[0].transforms.empty());
}

TEST(BadInputsC, TransformCountMismatch) {
  // Count 3, two transforms present (both marked "more").
  auto r = DecodeSa("0000001c 01010003  0300000c 0100000c 800e0080  03000008 02000005");
  ExpectSyntaxError(r, C::kBadPayloadBody, P::kSa, 4 + 28);
  EXPECT_NE(r.error().detail.find("transform count 3 but 2 present"), std::string::npos);
  // Count 1, two present.
  r = DecodeSa("0000001c 01010001  0000000c 0100000c 800e0080  00000008 02000005");
  ExpectSyntaxError(r, C::kBadPayloadBody, P::kSa, 4 + 20);
  // Last-substructure of a transform says "more" but it is the last one counted.
  r = DecodeSa("00000014 01010001  0300000c 0100000c 800e0080");
  ExpectSyntaxError(r, C::kBadPayloadBody, P::kSa, 4 + 8);
}

TEST(BadInputsC, BadLengths) {
  ExpectSyntaxError(DecodeSa("00000007 010100"), C::kBadPayloadBody, P::kSa, 4);           // < 8
  ExpectSyntaxError(DecodeSa("00000020 01010001 00000008 01000014"), C::kBadPayloadBody, P::kSa,
                    4);                                                                      // past end
  ExpectSyntaxError(DecodeSa("00000010 01010001 00000007 01000014"), C::kBadPayloadBody, P::kSa,
                    12);                                                                     // transform < 8
  ExpectSyntaxError(DecodeSa("00000010 01010001 0000000c 01000014"), C::kBadPayloadBody, P::kSa,
                    12);                                                                     // transform past proposal
  ExpectSyntaxError(DecodeSa("02000010 01010001 00000008 01000014 800e"), C::kBadPayloadBody, P::kSa,
                    20);  // 2 octets after a proposal marked "more": next header truncated
  ExpectSyntaxError(DecodeSa("00000012 01010001 0000000a 01000014 800e"), C::kBadPayloadBody, P::kSa,
                    20);  // attribute truncated
  ExpectSyntaxError(DecodeSa("00000016 01010001 0000000e 01000014 000e0002 0080"), C::kBadPayloadBody,
                    P::kSa, 20);  // key length in TLV format
  ExpectSyntaxError(DecodeSa("00000018 01010001 00000010 01000014 800e0080 800e0100"),
                    C::kBadPayloadBody, P::kSa, 24);  // key length twice
  ExpectSyntaxError(DecodeSa("01000008 01010000"), C::kBadPayloadBody, P::kSa, 4);  // last = 1
  ExpectSyntaxError(DecodeSa("02000008 01010000"), C::kBadPayloadBody, P::kSa, 4);  // "more", none
  ExpectSyntaxError(DecodeSa("00000008 01010000 00000008 02010000"), C::kBadPayloadBody, P::kSa,
                    12);  // a proposal after the last
}

TEST(BadInputsC, AesWithoutKeyLengthOrWithZeroOrOddSizes) {
  // Key-length checks need the transform semantics: kept as received for the engine.
  for (const char* attr : {"", "800e0000", "800e0081", "800e0101"}) {
    const std::string transform = std::string(attr).empty() ? "00000008 0100000c"
                                                            : std::string("0000000c 0100000c ") + attr;
    const std::string len = std::string(attr).empty() ? "00000010" : "00000014";
    auto r = DecodeSa(len + " 01010001 " + transform);
    ASSERT_TRUE(r.has_value()) << Describe(r.error());
    const Transform& t = SaOf(*r).proposals[0].transforms[0];
    EXPECT_EQ(t.id, 12);
    if (std::string(attr).empty()) {
      EXPECT_FALSE(t.key_length.has_value());
    } else {
      EXPECT_EQ(*t.key_length, FromHex(std::string(attr).substr(4))[0] * 256 +
                                   FromHex(std::string(attr).substr(4))[1]);
    }
  }
}

TEST(BadInputsC, UnknownTransformsAreKept) {
  // Unknown type 200, unknown ENCR id 1000, unknown protocol 9: the proposal is kept; the
  // engine skips it. An unknown attribute (type 1) drops the proposal (3.3.6).
  auto r = DecodeSa("02000018 01090002 03000008010003e8 00000008c8000001"
                    "00000014 02010001 0000000c 01000014 80010002");
  ASSERT_TRUE(r.has_value()) << Describe(r.error());
  ASSERT_EQ(SaOf(*r).proposals.size(), 1u);
  const Proposal& p = SaOf(*r).proposals[0];
  EXPECT_EQ(p.protocol, static_cast<ProtocolId>(9));
  EXPECT_EQ(p.transforms[0], (Transform{TransformType::kEncr, 1000, {}}));
  EXPECT_EQ(p.transforms[1], (Transform{static_cast<TransformType>(200), 1, {}}));
}

TEST(BadInputsC, MissingMandatoryTransformTypeKept) {
  auto r = DecodeSa("00000010 01010001 00000008 02000005");  // PRF only
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(SaOf(*r).proposals[0].transforms.size(), 1u);
}

TEST(BadInputsC, WrongSpiSize) {
  // Sizes 8 in IKE_SA_INIT, 0 or 8 for ESP: kept (the engine knows the context)...
  auto r = DecodeSa("02000010 01010800 0102030405060708 00000008 02030000");
  ASSERT_TRUE(r.has_value()) << Describe(r.error());
  EXPECT_EQ(SaOf(*r).proposals[0].spi.size(), 8u);
  EXPECT_TRUE(SaOf(*r).proposals[1].spi.empty());
  // ...but a size running past the proposal is a syntax error.
  ExpectSyntaxError(DecodeSa("0000000c 01030800 01020304"), C::kBadPayloadBody, P::kSa, 4);
}

TEST(BadInputsC, ResponseWithTwoProposalsOrOneNeverOffered) {
  // Whether a response may carry them is the initiator's decision (it knows its offer).
  Message m = testing::InitRequest();
  m.header = testing::InitHeader(true);
  auto& sa = std::get<SaPayload>(m.payloads[0].body);
  sa.proposals.push_back(sa.proposals[0]);
  sa.proposals[1].number = 7;
  auto r = Decode(Encode(m));
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(std::get<SaPayload>(r->payloads[0].body).proposals.size(), 2u);
  EXPECT_EQ(std::get<SaPayload>(r->payloads[0].body).proposals[1].number, 7);
  EXPECT_TRUE(CheckExchangeRules(r->header, r->payloads).has_value());
}

// ---------------------------------------------------------------- E. Nonce

TEST(BadInputsE, NonceLengths0_15_257_65535) {
  for (std::size_t n : {0u, 15u, 257u, 65531u}) {
    SCOPED_TRACE(n);
    const Bytes wire = Raw(testing::InitHeader(), P::kNonce, Gp(P::kNone, Repeat(1, n)));
    ExpectSyntaxError(Decode(wire), C::kBadPayloadBody, P::kNonce, 32);
  }
  for (std::size_t n : {16u, 256u}) {
    const Bytes wire = Raw(testing::InitHeader(), P::kNonce, Gp(P::kNone, Repeat(1, n)));
    EXPECT_TRUE(Decode(wire).has_value());
  }
}

TEST(BadInputsE, EqualNoncesAreTheEnginesCheck) {
  // Ni == Nr can only be seen with both messages: each decodes, and the nonces compare equal.
  Message req = testing::InitRequest();
  Message resp = testing::InitRequest();
  resp.header = testing::InitHeader(true);
  auto a = Decode(Encode(req));
  auto b = Decode(Encode(resp));
  ASSERT_TRUE(a && b);
  EXPECT_EQ(*a->Find(P::kNonce), *b->Find(P::kNonce));
}

// ---------------------------------------------------------------- H. Traffic selectors

std::string V4Selector(const std::string& ports = "0000ffff", const std::string& addrs = "0a0000000a0000ff") {
  return "07000010" + ports + addrs;
}

std::expected<std::vector<Payload>, ParseError> DecodeTs(const std::string& hex) {
  return DecodePayloads(P::kTsi, Gp(P::kNone, FromHex(hex)));
}

TEST(BadInputsH, SelectorCount0) {
  ExpectSyntaxError(DecodeTs("00000000"), C::kBadPayloadBody, P::kTsi, 4);
}

TEST(BadInputsH, SelectorCount17And255) {
  for (unsigned count : {17u, 255u}) {
    std::string hex = fmt::format("{:02x}000000", count);
    for (unsigned i = 0; i < count; ++i) hex += V4Selector();
    auto r = DecodeTs(hex);
    ASSERT_TRUE(r.has_value()) << Describe(r.error());
    EXPECT_EQ(std::get<TsPayload>(r->front().body).selectors.size(), count);
  }
  // 255 claimed, one present.
  ExpectSyntaxError(DecodeTs("ff000000" + V4Selector()), C::kBadPayloadBody, P::kTsi, 8 + 16);
  // 1 claimed, two present.
  ExpectSyntaxError(DecodeTs("01000000" + V4Selector() + V4Selector()), C::kBadPayloadBody, P::kTsi,
                    8 + 16);
}

TEST(BadInputsH, SelectorLengthNot16Or40OrInconsistent) {
  ExpectSyntaxError(DecodeTs("01000000 07000011 0000ffff 0a000000 0a0000ff 00"), C::kBadPayloadBody,
                    P::kTsi, 10);
  ExpectSyntaxError(DecodeTs("01000000 07000028 0000ffff" + std::string(64, '0')), C::kBadPayloadBody,
                    P::kTsi, 10);  // IPv4 type with the IPv6 length
  ExpectSyntaxError(DecodeTs("01000000 08000010 0000ffff 0a000000 0a0000ff"), C::kBadPayloadBody,
                    P::kTsi, 10);  // IPv6 type with the IPv4 length
  ExpectSyntaxError(DecodeTs("01000000 07000010 0000ffff 0a000000"), C::kBadPayloadBody, P::kTsi,
                    8);  // length 16 but the payload ends
}

TEST(BadInputsH, UnknownTsType) {
  ExpectSyntaxError(DecodeTs("01000000 0a000010 0000ffff 0a000000 0a0000ff"), C::kBadPayloadBody,
                    P::kTsi, 8);  // type 10 (TS_SECLABEL) is not supported
}

TEST(BadInputsH, StartGreaterThanEnd) {
  ExpectSyntaxError(DecodeTs("01000000" + V4Selector("00500040")), C::kBadPayloadBody, P::kTsi, 12);
  ExpectSyntaxError(DecodeTs("01000000" + V4Selector("0000ffff", "0a0000020a000001")),
                    C::kBadPayloadBody, P::kTsi, 16);
  // 3.13.1 OPAQUE ports: start 65535, end 0.
  EXPECT_TRUE(DecodeTs("01000000" + V4Selector("ffff0000")).has_value());
}

TEST(BadInputsH, TsNotAcceptableForConfigIsKept) {
  // A valid selector outside the configuration decodes; TS_UNACCEPTABLE is the engine's answer.
  auto r = DecodeTs("01000000 07110010 01bb01bb 08080808 08080808");
  ASSERT_TRUE(r.has_value());
  const TrafficSelector& s = std::get<TsPayload>(r->front().body).selectors[0];
  EXPECT_EQ(s.ip_protocol, 17);
  EXPECT_EQ(s.start_port, 443);
  EXPECT_EQ(s.start_address, (Bytes{8, 8, 8, 8}));
}

// ---------------------------------------------------------------- I. Delete / INFORMATIONAL

std::expected<std::vector<Payload>, ParseError> DecodeD(const std::string& hex) {
  return DecodePayloads(P::kDelete, Gp(P::kNone, FromHex(hex)));
}

TEST(BadInputsI, BadProtocolId) {
  for (const char* hex : {"00000000", "04040001 01020304", "ff000000"}) {
    ExpectSyntaxError(DecodeD(hex), C::kBadPayloadBody, P::kDelete, 4);
  }
}

TEST(BadInputsI, SpiSizeNotMatchingProtocol) {
  ExpectSyntaxError(DecodeD("01080001 0102030405060708"), C::kBadPayloadBody, P::kDelete, 5);
  ExpectSyntaxError(DecodeD("03080001 0102030405060708"), C::kBadPayloadBody, P::kDelete, 5);
  ExpectSyntaxError(DecodeD("02000000"), C::kBadPayloadBody, P::kDelete, 5);
}

TEST(BadInputsI, CountTimesSizeNotRemainingLength) {
  ExpectSyntaxError(DecodeD("03040002 01020304"), C::kBadPayloadBody, P::kDelete, 6);
  ExpectSyntaxError(DecodeD("03040001 0102030405"), C::kBadPayloadBody, P::kDelete, 6);
  ExpectSyntaxError(DecodeD("0304ffff 01020304"), C::kBadPayloadBody, P::kDelete, 6);
  ExpectSyntaxError(DecodeD("01000001"), C::kBadPayloadBody, P::kDelete, 6);  // IKE with a count
}

TEST(BadInputsI, UnknownSpisAreKept) {
  auto r = DecodeD("03040002 0badf00d 0badf00e");
  ASSERT_TRUE(r.has_value());
  const auto& d = std::get<DeletePayload>(r->front().body);
  EXPECT_EQ(d.spis, (std::vector<Bytes>{{0x0b, 0xad, 0xf0, 0x0d}, {0x0b, 0xad, 0xf0, 0x0e}}));
}

TEST(BadInputsI, DeletingTwiceIsAllowedByTheTable) {
  // Two D payloads (or the same SPI twice) are well-formed; the engine ignores the second.
  const Header info = testing::ProtectedHeader(ExchangeType::kInformational, false, 3);
  const Payload d = Make(P::kDelete, DeletePayload{ProtocolId::kEsp, 4, {{1, 2, 3, 4}}});
  auto r = DecodePayloads(P::kDelete, EncodePayloads({d, d}));
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->size(), 2u);
  EXPECT_TRUE(CheckExchangeRules(info, *r).has_value());
}

TEST(BadInputsI, DeleteMidRekeyDecodesOldAndNewSpis) {
  // During a CHILD_SA rekey the peer may delete the old and the new SA in one payload.
  const Header info = testing::ProtectedHeader(ExchangeType::kInformational, false, 4);
  const Payload d =
      Make(P::kDelete, DeletePayload{ProtocolId::kEsp, 4, {{1, 1, 1, 1}, {2, 2, 2, 2}}});
  auto r = DecodePayloads(P::kDelete, EncodePayloads({d}));
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(std::get<DeletePayload>(r->front().body).spis.size(), 2u);
  EXPECT_TRUE(CheckExchangeRules(info, *r).has_value());
}

TEST(BadInputsI, EmptyInformationalIsValid) {
  // A liveness check: HDR, SK {} with nothing inside; the table requires nothing.
  Message m{testing::ProtectedHeader(ExchangeType::kInformational, false, 5),
            {Make(P::kSk, SkPayload{P::kNone, Repeat(0, 32)})}};
  auto r = Decode(Encode(m));
  ASSERT_TRUE(r.has_value());
  auto inner = DecodePayloads(P::kNone, {});
  ASSERT_TRUE(inner.has_value());
  EXPECT_TRUE(inner->empty());
  EXPECT_TRUE(CheckExchangeRules(r->header, *inner).has_value());
  EXPECT_TRUE(CheckExchangeRules(testing::ProtectedHeader(ExchangeType::kInformational, true, 5), *inner)
                  .has_value());
}

}  // namespace
}  // namespace minivpn::ike
