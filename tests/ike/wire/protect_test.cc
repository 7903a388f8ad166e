// SK and SKF protection (protect.cc): round trips for every SK suite, RFC 7383 fragmentation
// and reassembly under loss, duplication and reordering, and bad-inputs group L (fragments).
#include "ike/wire/protect.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "crypto/algorithms.h"
#include "tests/ike/wire/codec_test_util.h"

namespace minivpn::ike {
namespace {

using crypto::EncrId;
using crypto::IntegId;
using crypto::SkSuite;
using testing::Make;
using testing::Repeat;

crypto::SkCipher MakeCipher(const SkSuite& suite, std::uint8_t seed = 1) {
  SecretBytes encr(Repeat(seed, crypto::EncrKeyMaterialSize(suite.encr, suite.key_bits)));
  SecretBytes integ(Repeat(static_cast<std::uint8_t>(seed + 1),
                           suite.integ == IntegId::kNone ? 0 : crypto::IntegKeySize(suite.integ)));
  auto cipher = crypto::SkCipher::Create(suite, std::move(encr), std::move(integ));
  EXPECT_TRUE(cipher.has_value()) << cipher.error();
  return std::move(*cipher);
}

std::vector<SkSuite> AllSuites() {
  std::vector<SkSuite> out;
  for (std::uint16_t bits : {128, 192, 256}) {
    for (IntegId integ : {IntegId::kHmacSha1_96, IntegId::kHmacSha2_256_128,
                          IntegId::kHmacSha2_384_192, IntegId::kHmacSha2_512_256}) {
      out.push_back({EncrId::kAesCbc, bits, integ});
    }
    for (EncrId gcm : {EncrId::kAesGcm8, EncrId::kAesGcm12, EncrId::kAesGcm16}) {
      out.push_back({gcm, bits, IntegId::kNone});
    }
  }
  out.push_back({EncrId::kChaCha20Poly1305, 256, IntegId::kNone});
  return out;
}

std::string SuiteName(const SkSuite& s) {
  return std::string(crypto::Name(s.encr)) + "_" + std::to_string(s.key_bits) + "_" +
         std::string(crypto::Name(s.integ));
}

std::vector<Payload> AuthInner() {
  return {testing::Id(PayloadType::kIdi), testing::Notify(NotifyType::kInitialContact),
          testing::Auth(), testing::ChildSa(), testing::Ts(PayloadType::kTsi),
          testing::Ts(PayloadType::kTsr)};
}

// An IKE_AUTH with enough inside to need several fragments at small sizes.
std::vector<Payload> BigInner() {
  std::vector<Payload> inner = AuthInner();
  inner.push_back(Make(PayloadType::kCert, CertPayload{4, Repeat(0xce, 2500)}));
  return inner;
}

class ProtectSuites : public ::testing::TestWithParam<SkSuite> {};

TEST_P(ProtectSuites, ProtectThenUnprotect) {
  crypto::SkCipher cipher = MakeCipher(GetParam());
  crypto::SeededRandom random(7);
  const Header h = testing::ProtectedHeader(ExchangeType::kIkeAuth, false, 1);
  const Bytes wire = Protect(h, AuthInner(), cipher, random);
  auto m = Decode(wire);
  ASSERT_TRUE(m.has_value()) << Describe(m.error());
  EXPECT_EQ(m->header.length, wire.size());
  EXPECT_EQ(m->header.message_id, 1u);
  ASSERT_EQ(m->payloads.size(), 1u);
  const auto& sk = std::get<SkPayload>(m->payloads[0].body);
  EXPECT_EQ(sk.first_inner, PayloadType::kIdi);
  EXPECT_EQ(sk.body.size(), cipher.SealedSize(EncodePayloads(AuthInner()).size()));
  auto inner = Unprotect(wire, *m, cipher);
  ASSERT_TRUE(inner.has_value()) << Describe(inner.error());
  EXPECT_EQ(*inner, AuthInner());
}

TEST_P(ProtectSuites, TamperedCiphertextOrHeaderFailsTheIcv) {
  crypto::SkCipher cipher = MakeCipher(GetParam());
  crypto::SeededRandom random(8);
  const Bytes wire =
      Protect(testing::ProtectedHeader(ExchangeType::kInformational, true, 4), {}, cipher, random);
  for (std::size_t at : {std::size_t{20}, std::size_t{29}, wire.size() - 20, wire.size() - 1}) {
    SCOPED_TRACE(at);
    Bytes bad = wire;
    bad[at] ^= 0x01;
    auto m = Decode(bad);
    ASSERT_TRUE(m.has_value());
    auto inner = Unprotect(bad, *m, cipher);
    ASSERT_FALSE(inner.has_value());
    EXPECT_EQ(inner.error().code, ParseErrorCode::kNotAuthentic);
    EXPECT_EQ(inner.error().payload, PayloadType::kSk);
    EXPECT_EQ(inner.error().offset, 32u);
  }
  // The wrong key fails the same way.
  crypto::SkCipher other = MakeCipher(GetParam(), 9);
  auto m = Decode(wire);
  ASSERT_TRUE(m.has_value());
  EXPECT_FALSE(Unprotect(wire, *m, other).has_value());
  auto good = Unprotect(wire, *m, cipher);
  ASSERT_TRUE(good.has_value());
  EXPECT_TRUE(good->empty());
}

TEST_P(ProtectSuites, FragmentsReassembleInAnyOrderWithDuplicates) {
  crypto::SkCipher cipher = MakeCipher(GetParam());
  crypto::SeededRandom random(9);
  const Header h = testing::ProtectedHeader(ExchangeType::kIkeAuth, false, 1);
  const std::vector<Bytes> fragments = ProtectFragmented(h, BigInner(), cipher, random, 576);
  ASSERT_GE(fragments.size(), 5u);
  for (std::size_t i = 0; i < fragments.size(); ++i) {
    SCOPED_TRACE(i);
    EXPECT_LE(fragments[i].size(), 576u);
    auto m = Decode(fragments[i]);
    ASSERT_TRUE(m.has_value()) << Describe(m.error());
    const auto& skf = std::get<SkfPayload>(m->payloads.back().body);
    EXPECT_EQ(skf.fragment_number, i + 1);
    EXPECT_EQ(skf.total_fragments, fragments.size());
    EXPECT_EQ(skf.first_inner, i == 0 ? PayloadType::kIdi : PayloadType::kNone);
    EXPECT_EQ(m->header.message_id, 1u);
  }
  // Reverse order, every fragment twice, one lost then retransmitted at the end.
  std::vector<std::size_t> order;
  for (std::size_t i = fragments.size(); i-- > 0;) {
    if (i == 2) continue;
    order.push_back(i);
    order.push_back(i);
  }
  order.push_back(2);
  Reassembler reassembler;
  for (std::size_t k = 0; k < order.size(); ++k) {
    const Bytes& f = fragments[order[k]];
    auto m = Decode(f);
    ASSERT_TRUE(m.has_value());
    auto r = reassembler.Add(f, *m, cipher);
    ASSERT_TRUE(r.has_value()) << Describe(r.error());
    if (k + 1 < order.size()) {
      EXPECT_FALSE(r->has_value()) << "complete too early at step " << k;
      continue;
    }
    ASSERT_TRUE(r->has_value());
    EXPECT_EQ((*r)->inner, BigInner());
  }
}

TEST_P(ProtectSuites, NoFragmentationWhenItFits) {
  crypto::SkCipher cipher = MakeCipher(GetParam());
  crypto::SeededRandom random(10);
  const Header h = testing::ProtectedHeader(ExchangeType::kIkeAuth, true, 1);
  const auto out = ProtectFragmented(h, AuthInner(), cipher, random, 1280);
  ASSERT_EQ(out.size(), 1u);
  auto m = Decode(out[0]);
  ASSERT_TRUE(m.has_value());
  EXPECT_EQ(m->payloads[0].type, PayloadType::kSk);
  auto inner = Unprotect(out[0], *m, cipher);
  ASSERT_TRUE(inner.has_value());
  EXPECT_EQ(*inner, AuthInner());
}

INSTANTIATE_TEST_SUITE_P(AllSkSuites, ProtectSuites, ::testing::ValuesIn(AllSuites()),
                         [](const auto& p) { return SuiteName(p.param); });

// ---------------------------------------------------------------- L. Fragments (RFC 7383)

const SkSuite kGcm{EncrId::kAesGcm16, 256, IntegId::kNone};

std::vector<Bytes> Fragments(crypto::SkCipher& cipher, std::uint32_t message_id = 1) {
  crypto::SeededRandom random(message_id);
  return ProtectFragmented(testing::ProtectedHeader(ExchangeType::kIkeAuth, false, message_id),
                           BigInner(), cipher, random, 1000);
}

// Rewrites the SKF Fragment Number / Total Fragments fields of an encoded fragment.
Bytes WithNumbers(Bytes f, std::uint16_t number, std::uint16_t total) {
  testing::PutU16(f, 32, number);
  testing::PutU16(f, 34, total);
  return f;
}

std::expected<std::optional<Reassembler::Result>, ParseError> Add(Reassembler& r, const Bytes& f,
                                                                  const crypto::SkCipher& c) {
  auto m = Decode(f);
  EXPECT_TRUE(m.has_value());
  return r.Add(f, *m, c);
}

TEST(BadInputsL, FragmentNumberZeroOrAboveTotal) {
  crypto::SkCipher cipher = MakeCipher(kGcm);
  const std::vector<Bytes> f = Fragments(cipher);
  const auto total = static_cast<std::uint16_t>(f.size());
  for (const Bytes& bad : {WithNumbers(f[1], 0, total), WithNumbers(f[1], total + 1, total),
                           WithNumbers(f[1], 2, 0)}) {
    auto m = Decode(bad);
    ASSERT_FALSE(m.has_value());
    EXPECT_EQ(m.error().code, ParseErrorCode::kBadPayloadBody);
    EXPECT_EQ(m.error().notify, NotifyType::kInvalidSyntax);
    EXPECT_EQ(m.error().payload, PayloadType::kSkf);
    EXPECT_EQ(m.error().offset, 32u);
  }
}

TEST(BadInputsL, TotalChanging) {
  // RFC 7383 2.6: a greater total restarts the reassembly with that fragment; a smaller one is
  // dropped without disturbing the buffer.
  crypto::SkCipher cipher = MakeCipher(kGcm);
  const std::vector<Bytes> three = Fragments(cipher);
  ASSERT_EQ(three.size(), 3u);
  crypto::SeededRandom random(3);
  const std::vector<Bytes> four = ProtectFragmented(
      testing::ProtectedHeader(ExchangeType::kIkeAuth, false, 1), BigInner(), cipher, random, 800);
  ASSERT_EQ(four.size(), 4u);
  Reassembler r;
  ASSERT_TRUE(Add(r, three[0], cipher).has_value());
  ASSERT_TRUE(Add(r, three[1], cipher).has_value());
  auto restarted = Add(r, four[1], cipher);
  ASSERT_TRUE(restarted.has_value());
  EXPECT_FALSE(restarted->has_value());
  auto smaller = Add(r, three[2], cipher);
  ASSERT_FALSE(smaller.has_value());
  EXPECT_EQ(smaller.error().code, ParseErrorCode::kBadPayloadBody);
  EXPECT_EQ(smaller.error().notify, NotifyType::kInvalidSyntax);
  EXPECT_EQ(smaller.error().payload, PayloadType::kSkf);
  EXPECT_EQ(smaller.error().offset, 34u);
  // A forged fragment with a greater total does not restart anything.
  Bytes forged = WithNumbers(four[0], 1, 9);
  ASSERT_FALSE(Add(r, forged, cipher).has_value());
  for (const std::size_t i : {3u, 0u}) {
    auto step = Add(r, four[i], cipher);
    ASSERT_TRUE(step.has_value());
    EXPECT_FALSE(step->has_value());
  }
  auto done = Add(r, four[2], cipher);
  ASSERT_TRUE(done.has_value() && done->has_value());
  EXPECT_EQ((*done)->inner, BigInner());
}

TEST(BadInputsL, DuplicatesAreIgnored) {
  crypto::SkCipher cipher = MakeCipher(kGcm);
  const std::vector<Bytes> f = Fragments(cipher);
  Reassembler r;
  for (int i = 0; i < 5; ++i) {
    auto res = Add(r, f[0], cipher);
    ASSERT_TRUE(res.has_value());
    EXPECT_FALSE(res->has_value());
  }
  EXPECT_EQ(r.message_id(), 1u);
  ASSERT_TRUE(Add(r, f[1], cipher).has_value());
  auto done = Add(r, f[2], cipher);
  ASSERT_TRUE(done.has_value() && done->has_value());
  // After completion the buffer is empty: a late duplicate starts a new, incomplete one.
  auto late = Add(r, f[0], cipher);
  ASSERT_TRUE(late.has_value());
  EXPECT_FALSE(late->has_value());
}

TEST(BadInputsL, FragmentPayloadShorterThanEight) {
  Bytes payload = testing::Gp(PayloadType::kNone, {0, 1, 0});  // 7 octets
  const Bytes wire =
      testing::Raw(testing::ProtectedHeader(ExchangeType::kIkeAuth, false), PayloadType::kSkf, payload);
  auto m = Decode(wire);
  ASSERT_FALSE(m.has_value());
  EXPECT_EQ(m.error().code, ParseErrorCode::kBadPayloadLength);
  EXPECT_EQ(m.error().payload, PayloadType::kSkf);
  EXPECT_EQ(m.error().offset, 28u);
}

TEST(BadInputsL, NonFirstFragmentNamingAnInnerPayload) {
  crypto::SkCipher cipher = MakeCipher(kGcm);
  Bytes f = Fragments(cipher)[1];
  f[28] = static_cast<std::uint8_t>(PayloadType::kIdi);
  auto m = Decode(f);
  ASSERT_FALSE(m.has_value());
  EXPECT_EQ(m.error().code, ParseErrorCode::kBadPayloadBody);
  EXPECT_EQ(m.error().offset, 28u);
}

// Issue 18: a duplicate is ignored before it is authenticated, so the engine must not take it
// for the message: only a fragment the reassembler authenticated and kept says last_stored().
TEST(BadInputsL, OnlyAStoredFragmentStandsForTheMessage) {
  crypto::SkCipher cipher = MakeCipher(kGcm);
  const std::vector<Bytes> f = Fragments(cipher);
  Reassembler r;
  ASSERT_TRUE(Add(r, f[0], cipher).has_value());
  EXPECT_TRUE(r.last_stored());
  const std::size_t held = r.buffered_bytes();
  EXPECT_GT(held, 0u);
  Bytes forged = f[0];
  forged.back() ^= 0x01;  // a forged copy of fragment 1
  auto dup = Add(r, forged, cipher);
  ASSERT_TRUE(dup.has_value());  // ignored as a duplicate ...
  EXPECT_FALSE(r.last_stored()) << "... and not taken for fragment 1";
  EXPECT_EQ(r.buffered_bytes(), held);
  ASSERT_TRUE(Add(r, f[1], cipher).has_value());
  EXPECT_TRUE(r.last_stored());
  EXPECT_GT(r.buffered_bytes(), held);
  r.Reset();
  EXPECT_EQ(r.buffered_bytes(), 0u);
}

TEST(BadInputsL, ForgedFragmentIsDroppedAndTheRestStillCompletes) {
  crypto::SkCipher cipher = MakeCipher(kGcm);
  const std::vector<Bytes> f = Fragments(cipher);
  Reassembler r;
  Bytes forged = f[1];
  forged.back() ^= 0x80;
  auto bad = Add(r, forged, cipher);
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(bad.error().code, ParseErrorCode::kNotAuthentic);
  for (const Bytes& good : {f[2], f[1], f[0]}) ASSERT_TRUE(Add(r, good, cipher).has_value());
}

TEST(BadInputsL, TooManyFragmentsAndNewMessageIds) {
  crypto::SkCipher cipher = MakeCipher(kGcm);
  Reassembler r;
  crypto::SeededRandom random(4);
  Message huge{testing::ProtectedHeader(ExchangeType::kIkeAuth, false, 1),
               {Make(PayloadType::kSkf, SkfPayload{PayloadType::kIdi, 1, kMaxFragments + 1, {}})}};
  const Bytes wire = Encode(huge);
  auto m = Decode(wire);
  ASSERT_TRUE(m.has_value());
  auto res = r.Add(wire, *m, cipher);
  ASSERT_FALSE(res.has_value());
  EXPECT_EQ(res.error().offset, 32u);
  // Fragments of message 1, then of message 2: the buffer follows the newer message.
  const std::vector<Bytes> one = Fragments(cipher, 1);
  const std::vector<Bytes> two = Fragments(cipher, 2);
  ASSERT_TRUE(Add(r, one[0], cipher).has_value());
  ASSERT_TRUE(Add(r, two[0], cipher).has_value());
  EXPECT_EQ(r.message_id(), 2u);
  ASSERT_TRUE(Add(r, two[1], cipher).has_value());
  auto done = Add(r, two[2], cipher);
  ASSERT_TRUE(done.has_value() && done->has_value());
  EXPECT_EQ((*done)->inner, BigInner());
}

}  // namespace
}  // namespace minivpn::ike
