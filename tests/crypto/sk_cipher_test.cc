// SK payload protection: NIST GCM (McGrew-Viega test cases as published with SP 800-38D),
// SP 800-38A CBC and RFC 8439 2.8.2 ChaCha20-Poly1305 vectors pushed through SkCipher::Open in
// the RFC 5282 / RFC 7634 / RFC 7296 3.14 layout, then round trips and every rejection path.
#include "crypto/sk_cipher.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "crypto/prf.h"

namespace minivpn::crypto {
namespace {

SkCipher MakeCipher(const SkSuite& suite, const Bytes& encr, const Bytes& integ = {}) {
  auto c = SkCipher::Create(suite, SecretBytes(encr), SecretBytes(integ));
  EXPECT_TRUE(c.has_value()) << (c ? "" : c.error());
  return std::move(*c);
}

Bytes Cat(std::initializer_list<ByteView> parts) {
  Bytes out;
  for (ByteView p : parts) Append(out, p);
  return out;
}

// ---- AES-GCM (RFC 5282): key material = key | 4-octet salt; nonce = salt | 8-octet IV. The
// GCM test vectors' 12-octet IV splits exactly that way. ----
struct GcmVector {
  const char* name;
  std::uint16_t key_bits;
  const char* key;
  const char* iv;  // 12 octets = salt | explicit IV
  const char* aad;
  const char* plaintext;
  const char* ciphertext;
  const char* tag;
};

constexpr const char* kGcmP =
    "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a721c3c0c95956809532fcf0e24"
    "49a6b525b16aedf5aa0de657ba637b39";
constexpr const char* kGcmA = "feedfacedeadbeeffeedfacedeadbeefabaddad2";

const GcmVector kGcmVectors[] = {
    {"TestCase2_128", 128, "00000000000000000000000000000000", "000000000000000000000000", "",
     "00000000000000000000000000000000", "0388dace60b6a392f328c2b971b2fe78",
     "ab6e47d42cec13bdf53a67b21257bddf"},
    {"TestCase4_128", 128, "feffe9928665731c6d6a8f9467308308", "cafebabefacedbaddecaf888", kGcmA,
     kGcmP,
     "42831ec2217774244b7221b784d0d49ce3aa212f2c02a4e035c17e2329aca12e21d514b25466931c7d8f6a5a"
     "ac84aa051ba30b396a0aac973d58e091",
     "5bc94fbc3221a5db94fae95ae7121a47"},
    {"TestCase10_192", 192, "feffe9928665731c6d6a8f9467308308feffe9928665731c",
     "cafebabefacedbaddecaf888", kGcmA, kGcmP,
     "3980ca0b3c00e841eb06fac4872a2757859e1ceaa6efd984628593b40ca1e19c7d773d00c144c525ac619d18"
     "c84a3f4718e2448b2fe324d9ccda2710",
     "2519498e80f1478f37ba55bd6d27618c"},
    {"TestCase16_256", 256, "feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308",
     "cafebabefacedbaddecaf888", kGcmA, kGcmP,
     "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa8cb08e48590dbb3da7b08b10"
     "56828838c5f61e6393ba7a0abcc9f662",
     "76fc6ece0f4e1768cddf8853bb2d551b"},
};

TEST(SkCipherGcmTest, NistVectorsThroughOpenForEveryIcvLength) {
  for (const GcmVector& v : kGcmVectors) {
    for (EncrId encr : {EncrId::kAesGcm8, EncrId::kAesGcm12, EncrId::kAesGcm16}) {
      SCOPED_TRACE(std::string(v.name) + " " + std::string(Name(encr)));
      const Bytes iv12 = FromHex(v.iv);
      const Bytes material = Cat({FromHex(v.key), ByteView(iv12).first(4)});
      SkCipher cipher = MakeCipher({encr, v.key_bits, IntegId::kNone}, material);
      EXPECT_EQ(cipher.iv_size(), 8u);
      EXPECT_EQ(cipher.icv_size(), AeadIcvSize(encr));
      const Bytes tag = FromHex(v.tag);
      const Bytes body = Cat({ByteView(iv12).subspan(4), FromHex(v.ciphertext),
                              ByteView(tag).first(cipher.icv_size())});
      auto plain = cipher.Open(FromHex(v.aad), body);
      ASSERT_TRUE(plain.has_value()) << plain.error();
      // The last plaintext octet is read as the Pad Length (RFC 7296 3.14).
      const Bytes p = FromHex(v.plaintext);
      EXPECT_EQ(ToHex(*plain), ToHex(ByteView(p).first(p.size() - 1 - p.back())));
      // One flipped bit anywhere, in the AAD or the body, fails the ICV.
      Bytes bad_body = body;
      bad_body[body.size() / 2] ^= 0x01;
      EXPECT_EQ(cipher.Open(FromHex(v.aad), bad_body).error(), "ICV mismatch");
      Bytes bad_aad = FromHex(v.aad);
      bad_aad.push_back(0);
      EXPECT_EQ(cipher.Open(bad_aad, body).error(), "ICV mismatch");
    }
  }
}

TEST(SkCipherGcmTest, PadLengthBeyondPlaintextIsRejectedAfterTheIcv) {
  // GCM spec test case 3: 64-octet plaintext ending in 0x55 (85 > 63).
  const Bytes iv12 = FromHex("cafebabefacedbaddecaf888");
  SkCipher cipher = MakeCipher({EncrId::kAesGcm16, 128, IntegId::kNone},
                               Cat({FromHex("feffe9928665731c6d6a8f9467308308"),
                                    ByteView(iv12).first(4)}));
  const Bytes body = Cat(
      {ByteView(iv12).subspan(4),
       FromHex("42831ec2217774244b7221b784d0d49ce3aa212f2c02a4e035c17e2329aca12e21d514b254669"
               "31c7d8f6a5aac84aa051ba30b396a0aac973d58e091473f5985"),
       FromHex("4d5c2af327cd64a62cf35abd2ba6fab4")});
  EXPECT_EQ(cipher.Open({}, body).error(), "pad length exceeds plaintext");
}

// ---- ChaCha20-Poly1305 (RFC 7634): key material = key | salt; nonce = salt | IV. RFC 8439
// 2.8.2's nonce 07000000 | 4041424344454647 is salt | IV. ----
TEST(SkCipherChaChaTest, Rfc8439Section282ThroughOpen) {
  Bytes key;
  for (int i = 0x80; i <= 0x9f; ++i) key.push_back(static_cast<std::uint8_t>(i));
  SkCipher cipher = MakeCipher({EncrId::kChaCha20Poly1305, 256, IntegId::kNone},
                               Cat({key, FromHex("07000000")}));
  const std::string_view sunscreen =
      "Ladies and Gentlemen of the class of '99: If I could offer you only one tip for the "
      "future, sunscreen would be it.";
  const Bytes body = Cat(
      {FromHex("4041424344454647"),
       FromHex("d31a8d34648e60db7b86afbc53ef7ec2a4aded51296e08fea9e2b5a736ee62d63dbea45e8ca96712"
               "82fafb69da92728b1a71de0a9e060b2905d6a5b67ecd3b3692ddbd7f2d778b8c9803aee328091b58"
               "fab324e4fad675945585808b4831d7bc3ff4def08e4b7a9de576d26586cec64b6116"),
       FromHex("1ae10b594f09e26a7e902ecbd0600691")});
  const Bytes aad = FromHex("50515253c0c1c2c3c4c5c6c7");
  auto plain = cipher.Open(aad, body);
  ASSERT_TRUE(plain.has_value()) << plain.error();
  // Last octet '.' = 46 is taken as the Pad Length.
  EXPECT_EQ(std::string(plain->begin(), plain->end()),
            std::string(sunscreen.substr(0, sunscreen.size() - 1 - '.')));
  Bytes bad = body;
  bad.back() ^= 0x80;
  EXPECT_EQ(cipher.Open(aad, bad).error(), "ICV mismatch");
}

// ---- AES-CBC + HMAC (RFC 7296 3.14): SP 800-38A F.2.1/F.2.3/F.2.5 ciphertext, ICV over
// aad | IV | ciphertext computed here with the (RFC 4231-tested) PRF. ----
constexpr const char* kCbcIv = "000102030405060708090a0b0c0d0e0f";
constexpr const char* kCbcPlain =
    "6bc1bee22e409f96e93d7e117393172aae2d8a571e03ac9c9eb76fac45af8e5130c81c46a35ce411e5fbc1191a0a"
    "52eff69f2445df4f9b17ad2b417be66c3710";

struct CbcVector {
  std::uint16_t key_bits;
  const char* key;
  const char* ciphertext;
};
const CbcVector kCbcVectors[] = {
    {128, "2b7e151628aed2a6abf7158809cf4f3c",
     "7649abac8119b246cee98e9b12e9197d5086cb9b507219ee95db113a917678b273bed6b8e3c1743b7116e69e"
     "222295163ff1caa1681fac09120eca307586e1a7"},
    {192, "8e73b0f7da0e6452c810f32b809079e562f8ead2522c6b7b",
     "4f021db243bc633d7178183a9fa071e8b4d9ada9ad7dedf4e5e738763f69145a571b242012fb7ae07fa9baac"
     "3df102e008b0e27988598881d920a9e64f5615cd"},
    {256, "603deb1015ca71be2b73aef0857d77811f352c073b6108d72d9810a30914dff4",
     "f58c4c04d6e5f1ba779eabfb5f7bfbd69cfc4e967edb808d679f777bc6702c7d39f23369a9d9bacfa530e263"
     "04231461b2eb05e2c39be9fcda6c19078c6a9d1b"},
};

PrfId HmacOf(IntegId id) {
  switch (id) {
    case IntegId::kHmacMd5_96: return PrfId::kHmacMd5;
    case IntegId::kHmacSha1_96: return PrfId::kHmacSha1;
    case IntegId::kHmacSha2_256_128: return PrfId::kHmacSha2_256;
    case IntegId::kHmacSha2_384_192: return PrfId::kHmacSha2_384;
    default: return PrfId::kHmacSha2_512;
  }
}

Bytes Icv(IntegId integ, const Bytes& key, ByteView covered) {
  const SecretBytes full = Prf::Create(HmacOf(integ))->Compute(key, covered);
  const ByteView t = full.Reveal().first(IntegIcvSize(integ));
  return Bytes(t.begin(), t.end());
}

constexpr IntegId kIntegs[] = {IntegId::kHmacSha1_96, IntegId::kHmacSha2_256_128,
                               IntegId::kHmacSha2_384_192, IntegId::kHmacSha2_512_256};

TEST(SkCipherCbcTest, Sp80038aVectorsThroughOpenWithEveryIntegrity) {
  const Bytes aad = FromHex("0102030405060708090a0b0c0d0e0f10111213142e20250800000001");
  for (const CbcVector& v : kCbcVectors) {
    for (IntegId integ : kIntegs) {
      SCOPED_TRACE(std::to_string(v.key_bits) + " " + std::string(Name(integ)));
      const Bytes integ_key(IntegKeySize(integ), 0x5c);
      SkCipher cipher =
          MakeCipher({EncrId::kAesCbc, v.key_bits, integ}, FromHex(v.key), integ_key);
      EXPECT_EQ(cipher.iv_size(), 16u);
      EXPECT_EQ(cipher.icv_size(), IntegIcvSize(integ));
      const Bytes iv_ct = Cat({FromHex(kCbcIv), FromHex(v.ciphertext)});
      const Bytes body = Cat({iv_ct, Icv(integ, integ_key, Cat({aad, iv_ct}))});
      auto plain = cipher.Open(aad, body);
      ASSERT_TRUE(plain.has_value()) << plain.error();
      const Bytes p = FromHex(kCbcPlain);  // ends in 0x10: 16 octets of padding + Pad Length
      EXPECT_EQ(ToHex(*plain), ToHex(ByteView(p).first(p.size() - 17)));
      Bytes bad_icv = body;
      bad_icv.back() ^= 1;
      EXPECT_EQ(cipher.Open(aad, bad_icv).error(), "ICV mismatch");
      Bytes bad_ct = body;
      bad_ct[20] ^= 1;
      EXPECT_EQ(cipher.Open(aad, bad_ct).error(), "ICV mismatch");
    }
  }
}

TEST(SkCipherCbcTest, SealedIcvIsTheTruncatedHmacOverHeaderIvAndCiphertext) {
  for (IntegId integ : kIntegs) {
    SCOPED_TRACE(std::string(Name(integ)));
    const Bytes integ_key(IntegKeySize(integ), 0x33);
    SkCipher cipher = MakeCipher({EncrId::kAesCbc, 128, integ}, Bytes(16, 0x44), integ_key);
    SeededRandom random(7);
    const Bytes aad(32, 0xab);
    const Bytes body = cipher.Seal(aad, AsBytes("inner payloads"), random);
    const std::size_t icv = cipher.icv_size();
    const ByteView covered = ByteView(body).first(body.size() - icv);
    EXPECT_EQ(ToHex(ByteView(body).last(icv)), ToHex(Icv(integ, integ_key, Cat({aad, covered}))));
  }
}

TEST(SkCipherCbcTest, CraftedPadLengthAndBadSizes) {
  const IntegId integ = IntegId::kHmacSha2_256_128;
  const Bytes integ_key(32, 0x01);
  SkCipher cipher = MakeCipher({EncrId::kAesCbc, 128, integ}, Bytes(16, 0x02), integ_key);
  SeededRandom random(1);
  const Bytes aad(28, 0x03);
  Bytes body = cipher.Seal(aad, {}, random);  // IV | one block (15 pad + Pad Length 15) | ICV
  ASSERT_EQ(body.size(), 16u + 16u + 16u);
  // Flipping IV bits flips the same plaintext bits in CBC: Pad Length becomes 0xff. Re-MAC it.
  body[15] ^= 0xf0;
  Bytes covered(body.begin(), body.end() - 16);
  const Bytes icv = Icv(integ, integ_key, Cat({aad, covered}));
  std::copy(icv.begin(), icv.end(), body.end() - 16);
  EXPECT_EQ(cipher.Open(aad, body).error(), "pad length exceeds plaintext");
  // Ciphertext that is not a whole number of blocks.
  Bytes ragged = Cat({Bytes(16, 0), Bytes(17, 0), Bytes(16, 0)});
  EXPECT_EQ(cipher.Open(aad, ragged).error(), "ciphertext not a block multiple");
  EXPECT_EQ(cipher.Open(aad, Bytes(32, 0)).error(), "body too short");
  EXPECT_EQ(cipher.Open(aad, {}).error(), "body too short");
}

// ---- every suite: round trips, sizes, IVs ----
std::vector<SkSuite> AllSuites() {
  std::vector<SkSuite> suites;
  for (std::uint16_t bits : {128, 192, 256}) {
    for (IntegId integ : kIntegs) suites.push_back({EncrId::kAesCbc, bits, integ});
    for (EncrId encr : {EncrId::kAesGcm8, EncrId::kAesGcm12, EncrId::kAesGcm16}) {
      suites.push_back({encr, bits, IntegId::kNone});
    }
  }
  suites.push_back({EncrId::kChaCha20Poly1305, 256, IntegId::kNone});
  for (IntegId integ : kIntegs) suites.push_back({EncrId::k3Des, 192, integ});
  suites.push_back({EncrId::k3Des, 192, IntegId::kHmacMd5_96});
  suites.push_back({EncrId::kAesCbc, 128, IntegId::kHmacMd5_96});
  return suites;
}

std::string SuiteName(const SkSuite& s) {
  return std::string(Name(s.encr)) + "_" + std::to_string(s.key_bits) + "_" +
         std::string(Name(s.integ));
}

TEST(SkCipherTest, RoundTripEverySuiteAndSize) {
  for (const SkSuite& suite : AllSuites()) {
    SCOPED_TRACE(SuiteName(suite));
    const Bytes encr(EncrKeyMaterialSize(suite.encr, suite.key_bits), 0x61);
    const Bytes integ(IntegKeySize(suite.integ), 0x62);
    SkCipher sender = MakeCipher(suite, encr, integ);
    SkCipher receiver = MakeCipher(suite, encr, integ);
    SeededRandom random(3);
    for (std::size_t n : {0u, 1u, 15u, 16u, 17u, 100u, 1200u}) {
      Bytes plain(n);
      for (std::size_t i = 0; i < n; ++i) plain[i] = static_cast<std::uint8_t>(i * 7);
      const Bytes aad(28 + 4, static_cast<std::uint8_t>(n));
      const Bytes body = sender.Seal(aad, plain, random);
      EXPECT_EQ(body.size(), sender.SealedSize(n));
      auto opened = receiver.Open(aad, body);
      ASSERT_TRUE(opened.has_value()) << opened.error();
      EXPECT_EQ(*opened, plain);
      // Another AEAD key (the other direction's SK_e) must not open it. (With CBC the ICV
      // depends only on SK_a.)
      if (IsAead(suite.encr)) {
        Bytes other_key = encr;
        other_key[0] ^= 1;
        EXPECT_FALSE(MakeCipher(suite, other_key, integ).Open(aad, body).has_value());
      }
    }
  }
}

TEST(SkCipherTest, AeadIvIsAFreshCounterCbcIvComesFromRandom) {
  SkCipher gcm = MakeCipher({EncrId::kAesGcm16, 128, IntegId::kNone}, Bytes(20, 1));
  SeededRandom random(9);
  const Bytes b1 = gcm.Seal({}, AsBytes("x"), random);
  const Bytes b2 = gcm.Seal({}, AsBytes("x"), random);
  EXPECT_NE(ToHex(ByteView(b1).first(8)), ToHex(ByteView(b2).first(8)));
  EXPECT_NE(b1, b2);  // same plaintext, different IV -> different ciphertext

  const IntegId integ = IntegId::kHmacSha1_96;
  SkCipher cbc = MakeCipher({EncrId::kAesCbc, 128, integ}, Bytes(16, 1), Bytes(20, 2));
  SeededRandom r1(5), r2(5);
  std::array<std::uint8_t, 16> expected_iv{};
  r2.Fill(expected_iv);
  const Bytes c1 = cbc.Seal({}, AsBytes("x"), r1);
  EXPECT_EQ(ToHex(ByteView(c1).first(16)), ToHex(expected_iv));
}

// 3DES (RFC 2451): an 8-octet block, so an 8-octet IV and padding to 8 (RFC 7296 3.14).
TEST(SkCipherTest, TripleDesUsesItsEightOctetBlock) {
  const IntegId integ = IntegId::kHmacSha1_96;
  SkCipher des = MakeCipher({EncrId::k3Des, 192, integ}, Bytes(24, 0x31), Bytes(20, 2));
  EXPECT_EQ(des.iv_size(), 8u);
  EXPECT_EQ(des.SealedSize(0), 8u + 8u + 12u);    // IV, one block (Pad Length), ICV
  EXPECT_EQ(des.SealedSize(7), 8u + 8u + 12u);
  EXPECT_EQ(des.SealedSize(8), 8u + 16u + 12u);
  EXPECT_EQ(des.MaxPlaintext(8 + 16 + 12), 15u);
  SeededRandom r1(5), r2(5);
  std::array<std::uint8_t, 8> expected_iv{};
  r2.Fill(expected_iv);
  const Bytes body = des.Seal({}, AsBytes("x"), r1);
  EXPECT_EQ(ToHex(ByteView(body).first(8)), ToHex(expected_iv));
  Bytes cut = body;
  cut.erase(cut.begin() + 8);  // ciphertext no longer a multiple of 8
  auto opened = MakeCipher({EncrId::k3Des, 192, integ}, Bytes(24, 0x31), Bytes(20, 2)).Open({}, cut);
  ASSERT_FALSE(opened.has_value());
  EXPECT_EQ(opened.error(), "ciphertext not a block multiple");
}

TEST(SkCipherTest, SealedSizeAndMaxPlaintextAgree) {
  for (const SkSuite& suite : AllSuites()) {
    SCOPED_TRACE(SuiteName(suite));
    SkCipher c = MakeCipher(suite, Bytes(EncrKeyMaterialSize(suite.encr, suite.key_bits), 1),
                            Bytes(IntegKeySize(suite.integ), 2));
    for (std::size_t body = 0; body < 200; ++body) {
      const std::size_t max = c.MaxPlaintext(body);
      if (c.SealedSize(0) > body) {
        EXPECT_EQ(max, 0u);
        continue;
      }
      EXPECT_LE(c.SealedSize(max), body);
      EXPECT_GT(c.SealedSize(max + 1), body);
    }
  }
}

TEST(SkCipherTest, CreateRejectsBadKeysAndSuites) {
  const Bytes k16(16, 1), k20(20, 1), k32(32, 1);
  // AES-CBC-128 needs a 16-octet key and an HMAC key of the digest size.
  EXPECT_FALSE(SkCipher::Create({EncrId::kAesCbc, 128, IntegId::kHmacSha1_96}, SecretBytes(k20),
                                SecretBytes(k20))
                   .has_value());
  EXPECT_FALSE(SkCipher::Create({EncrId::kAesCbc, 128, IntegId::kHmacSha1_96}, SecretBytes(k16),
                                SecretBytes(k16))
                   .has_value());
  EXPECT_FALSE(SkCipher::Create({EncrId::kAesCbc, 128, IntegId::kNone}, SecretBytes(k16),
                                SecretBytes())
                   .has_value());
  // GCM key material must include the salt; no integrity transform with an AEAD (RFC 5282 8).
  EXPECT_FALSE(SkCipher::Create({EncrId::kAesGcm16, 128, IntegId::kNone}, SecretBytes(k16),
                                SecretBytes())
                   .has_value());
  EXPECT_FALSE(SkCipher::Create({EncrId::kAesGcm16, 128, IntegId::kHmacSha1_96},
                                SecretBytes(k20), SecretBytes(k20))
                   .has_value());
  EXPECT_FALSE(SkCipher::Create({EncrId::kChaCha20Poly1305, 256, IntegId::kNone},
                                SecretBytes(k32), SecretBytes())
                   .has_value());
  EXPECT_FALSE(SkCipher::Create({EncrId::kAesCtr, 128, IntegId::kHmacSha1_96}, SecretBytes(k16),
                                SecretBytes(k20))
                   .has_value());
  EXPECT_FALSE(SkCipher::Create({EncrId::kAesCbc, 64, IntegId::kHmacSha1_96},
                                SecretBytes(Bytes(8, 1)), SecretBytes(k20))
                   .has_value());
}

TEST(SkCipherTest, ChaChaWithoutKeyLengthAttribute) {
  // RFC 7634 2: no Key Length attribute; a proposal parsed without one carries key_bits 0.
  SkCipher c = MakeCipher({EncrId::kChaCha20Poly1305, 0, IntegId::kNone}, Bytes(36, 9));
  SeededRandom random(2);
  const Bytes body = c.Seal({}, AsBytes("abc"), random);
  EXPECT_EQ(body.size(), 8u + 3u + 1u + 16u);
  EXPECT_TRUE(c.Open({}, body).has_value());
}

// An idle SA releases its keyed contexts; the next Seal/Open keys them again from the kept key,
// and the AEAD IV counter carries on (an IV is never reused under one key).
TEST(SkCipherTest, ReleasedContextsAreKeyedAgainOnNextUse) {
  for (const SkSuite& suite : AllSuites()) {
    SCOPED_TRACE(SuiteName(suite));
    const Bytes encr(EncrKeyMaterialSize(suite.encr, suite.key_bits), 0x71);
    const Bytes integ(IntegKeySize(suite.integ), 0x72);
    SkCipher sender = MakeCipher(suite, encr, integ);
    SkCipher receiver = MakeCipher(suite, encr, integ);
    SeededRandom random(4);
    const Bytes aad(32, 0x5a);
    const Bytes b1 = sender.Seal(aad, AsBytes("first message"), random);
    ASSERT_TRUE(receiver.Open(aad, b1).has_value());
    sender.ReleaseContexts();
    receiver.ReleaseContexts();
    receiver.ReleaseContexts();  // twice is harmless
    const Bytes b2 = sender.Seal(aad, AsBytes("second message"), random);
    if (IsAead(suite.encr)) {
      EXPECT_NE(ToHex(ByteView(b1).first(8)), ToHex(ByteView(b2).first(8)));
    }
    auto opened = receiver.Open(aad, b2);
    ASSERT_TRUE(opened.has_value()) << opened.error();
    EXPECT_EQ(std::string(opened->begin(), opened->end()), "second message");
    // A released receiver still rejects a tampered body.
    receiver.ReleaseContexts();
    Bytes bad = b2;
    bad.back() ^= 1;
    EXPECT_FALSE(receiver.Open(aad, bad).has_value());
  }
}

TEST(SkCipherTest, MovedCipherStillWorks) {
  SkCipher a = MakeCipher({EncrId::kAesGcm12, 256, IntegId::kNone}, Bytes(36, 4));
  SkCipher b = std::move(a);
  SeededRandom random(1);
  const Bytes body = b.Seal(AsBytes("hdr"), AsBytes("payload"), random);
  auto plain = b.Open(AsBytes("hdr"), body);
  ASSERT_TRUE(plain.has_value());
  EXPECT_EQ(std::string(plain->begin(), plain->end()), "payload");
}

}  // namespace
}  // namespace minivpn::crypto
