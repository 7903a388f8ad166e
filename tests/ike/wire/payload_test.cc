// Round trip and exact encoding of every payload body (payload_*.cc).
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "ike/wire/codec.h"
#include "tests/ike/wire/codec_test_util.h"

namespace minivpn::ike {
namespace {

using testing::Make;
using testing::Repeat;

struct Case {
  std::string name;
  Payload payload;
  std::string body_hex;  // expected EncodePayloadBody
};

std::vector<Case> Cases() {
  Proposal ike{1, ProtocolId::kIke, {},
               {Transform{TransformType::kEncr, 12, 128}, Transform{TransformType::kInteg, 12, {}}}};
  Proposal esp{2, ProtocolId::kEsp, {0xc0, 0x01, 0xd0, 0x0d}, {Transform{TransformType::kEsn, 0, {}}}};
  TrafficSelector v4{TsType::kIpv4AddrRange, 6, 80, 443, {10, 0, 0, 1}, {10, 0, 0, 9}};
  TrafficSelector v6{TsType::kIpv6AddrRange, 0, 0, 0xffff, Repeat(0, 16), Repeat(0xff, 16)};
  return {
      {"Sa", Make(PayloadType::kSa, SaPayload{{ike, esp}}),
       // proposal 1: more(2), len 28, #1 IKE spi0 2 transforms
       "0200001c" "01010002"
       "0300000c" "0100000c" "800e0080"  // ENCR AES_CBC keylen 128
       "00000008" "0300000c"             // INTEG 12
       // proposal 2: last, len 20, #2 ESP spi4 1 transform
       "00000014" "02030401" "c001d00d" "00000008" "05000000"},
      {"Ke", Make(PayloadType::kKe, KePayload{DhGroup::kEcp256, {1, 2, 3}}), "00130000010203"},
      {"Idi", Make(PayloadType::kIdi, IdPayload{IdType::kIpv4Addr, {192, 0, 2, 1}}), "01000000c0000201"},
      {"Idr", Make(PayloadType::kIdr, IdPayload{IdType::kFqdn, {'a', '.', 'b'}}), "02000000612e62"},
      {"Cert", Make(PayloadType::kCert, CertPayload{4, {0xde, 0xad}}), "04dead"},
      {"CertReq", Make(PayloadType::kCertReq, CertPayload{4, {}}), "04"},
      {"Auth", Make(PayloadType::kAuth, AuthPayload{AuthMethod::kSharedKeyMic, {9, 8}}), "020000000908"},
      {"Nonce", Make(PayloadType::kNonce, NoncePayload{Repeat(0x11, 16)}), std::string(32, '1')},
      {"Notify", Make(PayloadType::kNotify,
                      NotifyPayload{ProtocolId::kEsp, {1, 2, 3, 4}, NotifyType::kRekeySa, {7}}),
       "0304400901020304" "07"},
      {"DeleteIke", Make(PayloadType::kDelete, DeletePayload{ProtocolId::kIke, 0, {}}), "01000000"},
      {"DeleteEsp", Make(PayloadType::kDelete,
                         DeletePayload{ProtocolId::kEsp, 4, {{1, 2, 3, 4}, {5, 6, 7, 8}}}),
       "03040002" "01020304" "05060708"},
      {"VendorId", Make(PayloadType::kVendorId, VendorIdPayload{{0x88, 0x2f}}), "882f"},
      {"TsiIpv4", Make(PayloadType::kTsi, TsPayload{{v4}}),
       "01000000" "07060010" "005001bb" "0a000001" "0a000009"},
      {"TsrIpv6", Make(PayloadType::kTsr, TsPayload{{v6, v4}}),
       "02000000" "08000028" "0000ffff" + std::string(32, '0') + std::string(32, 'f') +
           "07060010" "005001bb" "0a000001" "0a000009"},
      {"Cp", Make(PayloadType::kCp, CpPayload{CfgType::kRequest, {{1, {}}, {3, {8, 8, 8, 8}}}}),
       "01000000" "00010000" "00030004" "08080808"},
      {"Eap", Make(PayloadType::kEap, EapPayload{{1, 7, 0, 4}}), "01070004"},
      {"Unknown", Payload{static_cast<PayloadType>(49), false, UnknownPayload{49, {0xee}}}, "ee"},
  };
}

TEST(PayloadCodec, EveryPayloadEncodesAsSpecifiedAndRoundTrips) {
  for (const Case& c : Cases()) {
    SCOPED_TRACE(c.name);
    EXPECT_EQ(ToHex(EncodePayloadBody(c.payload)), c.body_hex);
    const Bytes chain = EncodePayloads({c.payload});
    ASSERT_EQ(chain.size(), 4 + c.body_hex.size() / 2);
    EXPECT_EQ(chain[0], 0);  // Next Payload of the last payload
    EXPECT_EQ((chain[2] << 8) | chain[3], static_cast<int>(chain.size()));
    auto decoded = DecodePayloads(c.payload.type, chain);
    ASSERT_TRUE(decoded.has_value()) << Describe(decoded.error());
    ASSERT_EQ(decoded->size(), 1u);
    EXPECT_EQ(decoded->front(), c.payload);
  }
}

TEST(PayloadCodec, AllPayloadsChainedRoundTrip) {
  std::vector<Payload> all;
  for (const Case& c : Cases()) all.push_back(c.payload);
  const Bytes chain = EncodePayloads(all);
  auto decoded = DecodePayloads(all.front().type, chain);
  ASSERT_TRUE(decoded.has_value()) << Describe(decoded.error());
  EXPECT_EQ(*decoded, all);
  EXPECT_EQ(EncodePayloads(*decoded), chain);
}

TEST(PayloadCodec, CriticalBitOfKnownPayloadIsKept) {
  Payload nonce = testing::Nonce();
  nonce.critical = true;
  const Bytes chain = EncodePayloads({nonce});
  EXPECT_EQ(chain[1], 0x80);
  auto decoded = DecodePayloads(PayloadType::kNonce, chain);
  ASSERT_TRUE(decoded.has_value());
  EXPECT_TRUE(decoded->front().critical);
}

TEST(PayloadCodec, ReservedBitsAreIgnoredOnReceipt) {
  // 3.2: RESERVED is sent as zero and ignored; the ID payload's 3 reserved octets too.
  Bytes chain = EncodePayloads({testing::Id(PayloadType::kIdi)});
  chain[1] = 0x7f;
  chain[5] = 0xff;
  auto decoded = DecodePayloads(PayloadType::kIdi, chain);
  ASSERT_TRUE(decoded.has_value());
  EXPECT_EQ(decoded->front(), testing::Id(PayloadType::kIdi));
}

TEST(PayloadCodec, SkAndSkfRoundTripInAMessage) {
  Message sk{testing::ProtectedHeader(ExchangeType::kIkeAuth, false),
             {Make(PayloadType::kSk, SkPayload{PayloadType::kIdi, Repeat(0x5c, 40)})}};
  Bytes wire = Encode(sk);
  EXPECT_EQ(wire[16], static_cast<std::uint8_t>(PayloadType::kSk));
  EXPECT_EQ(wire[28], static_cast<std::uint8_t>(PayloadType::kIdi));  // first inner type
  auto decoded = Decode(wire);
  ASSERT_TRUE(decoded.has_value()) << Describe(decoded.error());
  EXPECT_EQ(decoded->payloads, sk.payloads);
  EXPECT_EQ(decoded->header.length, wire.size());

  Message skf{testing::ProtectedHeader(ExchangeType::kIkeAuth, false),
              {Make(PayloadType::kSkf, SkfPayload{PayloadType::kNone, 2, 3, Repeat(0x5d, 40)})}};
  wire = Encode(skf);
  EXPECT_EQ(ToHex(ByteView(wire).subspan(28, 8)), "0000003000020003");
  decoded = Decode(wire);
  ASSERT_TRUE(decoded.has_value()) << Describe(decoded.error());
  EXPECT_EQ(decoded->payloads, skf.payloads);
}

TEST(PayloadCodec, EmptyKeAndIdDataAreKeptForTheEngineToJudge) {
  const Payload ke = Make(PayloadType::kKe, KePayload{DhGroup::kCurve25519, {}});
  const Payload id = Make(PayloadType::kIdi, IdPayload{static_cast<IdType>(0), {}});
  auto decoded = DecodePayloads(PayloadType::kKe, EncodePayloads({ke, id}));
  ASSERT_TRUE(decoded.has_value());
  EXPECT_EQ(*decoded, (std::vector<Payload>{ke, id}));
}

}  // namespace
}  // namespace minivpn::ike
