// Key exchange: RFC 5903 ECDH vectors (groups 19-21), RFC 7748 X25519 (group 31), RFC 3526 MODP
// primes (groups 14, 15), and the peer-value checks of RFC 6989 / RFC 8031.
#include "crypto/key_exchange.h"

#include <gtest/gtest.h>

#include <string>

namespace minivpn::crypto {
namespace {

std::unique_ptr<KeyExchange> FromPrivateOrDie(DhGroup group, const Bytes& priv) {
  auto ke = KeyExchange::FromPrivate(group, priv);
  EXPECT_TRUE(ke.has_value()) << (ke ? "" : ke.error());
  return ke ? std::move(*ke) : nullptr;
}

std::unique_ptr<KeyExchange> GenerateOrDie(DhGroup group) {
  auto ke = KeyExchange::Generate(group);
  EXPECT_TRUE(ke.has_value()) << (ke ? "" : ke.error());
  return ke ? std::move(*ke) : nullptr;
}

Bytes Concat(const Bytes& a, const Bytes& b) {
  Bytes out = a;
  Append(out, b);
  return out;
}

// ---- RFC 5903 section 8: i, g^i = (gix, giy), r, g^r = (grx, gry), g^ir x coordinate. ----
struct EcpVector {
  DhGroup group;
  const char* i;
  const char* gix;
  const char* giy;
  const char* r;
  const char* grx;
  const char* gry;
  const char* girx;
};

const EcpVector kRfc5903[] = {
    {DhGroup::kEcp256,
     "C88F01F5 10D9AC3F 70A292DA A2316DE5 44E9AAB8 AFE84049 C62A9C57 862D1433",
     "DAD0B653 94221CF9 B051E1FE CA5787D0 98DFE637 FC90B9EF 945D0C37 72581180",
     "5271A046 1CDB8252 D61F1C45 6FA3E59A B1F45B33 ACCF5F58 389E0577 B8990BB3",
     "C6EF9C5D 78AE012A 011164AC B397CE20 88685D8F 06BF9BE0 B283AB46 476BEE53",
     "D12DFB52 89C8D4F8 1208B702 70398C34 2296970A 0BCCB74C 736FC755 4494BF63",
     "56FBF3CA 366CC23E 8157854C 13C58D6A AC23F046 ADA30F83 53E74F33 039872AB",
     "D6840F6B 42F6EDAF D13116E0 E1256520 2FEF8E9E CE7DCE03 812464D0 4B9442DE"},
    {DhGroup::kEcp384,
     "099F3C70 34D4A2C6 99884D73 A375A67F 7624EF7C 6B3C0F16 0647B674 14DCE655 E35B5380 41E649EE"
     "3FAEF896 783AB194",
     "667842D7 D180AC2C DE6F74F3 7551F557 55C7645C 20EF73E3 1634FE72 B4C55EE6 DE3AC808 ACB4BDB4"
     "C88732AE E95F41AA",
     "9482ED1F C0EEB9CA FC498462 5CCFC23F 65032149 E0E144AD A0241815 35A0F38E EB9FCFF3 C2C947DA"
     "E69B4C63 4573A81C",
     "41CB0779 B4BDB85D 47846725 FBEC3C94 30FAB46C C8DC5060 855CC9BD A0AA2942 E0308312 916B8ED2"
     "960E4BD5 5A7448FC",
     "E558DBEF 53EECDE3 D3FCCFC1 AEA08A89 A987475D 12FD950D 83CFA417 32BC509D 0D1AC43A 0336DEF9"
     "6FDA41D0 774A3571",
     "DCFBEC7A ACF31964 72169E83 8430367F 66EEBE3C 6E70C416 DD5F0C68 759DD1FF F83FA401 42209DFF"
     "5EAAD96D B9E6386C",
     "11187331 C279962D 93D60424 3FD592CB 9D0A926F 422E4718 7521287E 7156C5C4 D6031355 69B9E9D0"
     "9CF5D4A2 70F59746"},
    {DhGroup::kEcp521,
     "0037ADE9 319A89F4 DABDB3EF 411AACCC A5123C61 ACAB57B5 393DCE47 608172A0 95AA85A3 0FE1C295"
     "2C6771D9 37BA9777 F5957B26 39BAB072 462F68C2 7A57382D 4A52",
     "0015417E 84DBF28C 0AD3C278 713349DC 7DF153C8 97A1891B D98BAB43 57C9ECBE E1E3BF42 E00B8E38"
     "0AEAE57C 2D107564 94188594 2AF5A7F4 601723C4 195D176C ED3E",
     "017CAE20 B6641D2E EB695786 D8C94614 6239D099 E18E1D5A 514C739D 7CB4A10A D8A78801 5AC405D7"
     "799DC75E 7B7D5B6C F2261A6A 7F150743 8BF01BEB 6CA3926F 9582",
     "0145BA99 A847AF43 793FDD0E 872E7CDF A16BE30F DC780F97 BCCC3F07 8380201E 9C677D60 0B343757"
     "A3BDBF2A 3163E4C2 F869CCA7 458AA4A4 EFFC311F 5CB15168 5EB9",
     "00D0B397 5AC4B799 F5BEA16D 5E13E9AF 971D5E9B 984C9F39 728B5E57 39735A21 9B97C356 436ADC6E"
     "95BB0352 F6BE64A6 C2912D4E F2D0433C ED2B6171 640012D9 460F",
     "015C6822 6383956E 3BD066E7 97B623C2 7CE0EAC2 F551A10C 2C724D98 52077B87 220B6536 C5C408A1"
     "D2AEBB8E 86D678AE 49CB5709 1F473229 6579AB44 FCD17F0F C56A",
     "01144C7D 79AE6956 BC8EDB8E 7C787C45 21CB086F A64407F9 7894E5E6 B2D79B04 D1427E73 CA4BAA24"
     "0A347868 59810C06 B3C715A3 A8CC3151 F2BEE417 996D19F3 DDEA"},
};

class Rfc5903Test : public ::testing::TestWithParam<EcpVector> {};

TEST_P(Rfc5903Test, KePayloadAndSharedSecret) {
  const EcpVector& v = GetParam();
  const Bytes gi = Concat(FromHex(v.gix), FromHex(v.giy));
  const Bytes gr = Concat(FromHex(v.grx), FromHex(v.gry));
  auto initiator = FromPrivateOrDie(v.group, FromHex(v.i));
  auto responder = FromPrivateOrDie(v.group, FromHex(v.r));
  ASSERT_TRUE(initiator && responder);
  // RFC 5903 7: the KE data is x | y, no point-format octet.
  EXPECT_EQ(ToHex(initiator->public_value()), ToHex(gi));
  EXPECT_EQ(ToHex(responder->public_value()), ToHex(gr));
  EXPECT_EQ(initiator->public_value().size(), KePublicSize(v.group));
  // The shared secret is the x coordinate of g^ir only.
  auto s_i = initiator->ComputeShared(gr);
  auto s_r = responder->ComputeShared(gi);
  ASSERT_TRUE(s_i.has_value()) << s_i.error();
  ASSERT_TRUE(s_r.has_value()) << s_r.error();
  EXPECT_EQ(ToHex(s_i->Reveal()), ToHex(FromHex(v.girx)));
  EXPECT_TRUE(s_r->Equals(s_i->Reveal()));
}

TEST_P(Rfc5903Test, RejectsBadPeerValues) {
  const EcpVector& v = GetParam();
  auto ke = FromPrivateOrDie(v.group, FromHex(v.i));
  ASSERT_TRUE(ke);
  const Bytes gr = Concat(FromHex(v.grx), FromHex(v.gry));
  // Length: +-1, empty, and the SEC 1 form with the 0x04 octet.
  Bytes longer = gr;
  longer.push_back(0);
  EXPECT_FALSE(ke->ComputeShared(longer).has_value());
  EXPECT_FALSE(ke->ComputeShared(ByteView(gr).first(gr.size() - 1)).has_value());
  EXPECT_FALSE(ke->ComputeShared({}).has_value());
  Bytes sec1 = {0x04};
  Append(sec1, gr);
  EXPECT_FALSE(ke->ComputeShared(sec1).has_value());
  // Off the curve: y changed by one bit; all zero (no curve here has b = 0); all 0xff
  // (coordinates above the field prime).
  Bytes off = gr;
  off.back() ^= 1;
  auto result = ke->ComputeShared(off);
  ASSERT_FALSE(result.has_value());
  EXPECT_NE(result.error().find("not on the curve"), std::string::npos) << result.error();
  EXPECT_FALSE(ke->ComputeShared(Bytes(gr.size(), 0)).has_value());
  EXPECT_FALSE(ke->ComputeShared(Bytes(gr.size(), 0xff)).has_value());
  // The full (n*Q) check agrees with the cheap one on every value (cofactor 1).
  for (const Bytes& bad : {off, Bytes(gr.size(), 0), longer}) {
    EXPECT_FALSE(ValidatePeerPublic(v.group, bad).has_value());
    EXPECT_FALSE(ValidatePeerPublicFull(v.group, bad).has_value());
  }
  EXPECT_TRUE(ValidatePeerPublic(v.group, gr).has_value());
  EXPECT_TRUE(ValidatePeerPublicFull(v.group, gr).has_value());
}

INSTANTIATE_TEST_SUITE_P(Groups19To21, Rfc5903Test, ::testing::ValuesIn(kRfc5903),
                         [](const auto& param_info) {
                           return std::string(Name(param_info.param.group));
                         });

// ---- RFC 7748 (group 31, RFC 8031) ----
TEST(X25519Test, Rfc7748Section61) {
  auto alice = FromPrivateOrDie(
      DhGroup::kCurve25519,
      FromHex("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a"));
  auto bob = FromPrivateOrDie(
      DhGroup::kCurve25519,
      FromHex("5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb"));
  ASSERT_TRUE(alice && bob);
  EXPECT_EQ(ToHex(alice->public_value()),
            "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a");
  EXPECT_EQ(ToHex(bob->public_value()),
            "de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f");
  auto k_a = alice->ComputeShared(bob->public_value());
  auto k_b = bob->ComputeShared(alice->public_value());
  ASSERT_TRUE(k_a && k_b);
  EXPECT_EQ(ToHex(k_a->Reveal()),
            "4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742");
  EXPECT_TRUE(k_b->Equals(k_a->Reveal()));
}

TEST(X25519Test, Rfc7748Section52FirstVector) {
  auto ke = FromPrivateOrDie(
      DhGroup::kCurve25519,
      FromHex("a546e36bf0527c9d3b16154b82465edd62144c0ac1fc5a18506a2244ba449ac4"));
  ASSERT_TRUE(ke);
  const Bytes u = FromHex("e6db6867583030db3594c1a424b15f7c726624ec26b3353b10a903a6d0ab1c4c");
  auto out = ke->ComputeShared(u);
  ASSERT_TRUE(out.has_value()) << out.error();
  EXPECT_EQ(ToHex(out->Reveal()),
            "c3da55379de9c6908e94ea4df28d084f32eccf03491c71f754b4075577a28552");
}

TEST(X25519Test, LowOrderPointsGiveAllZeroAndAreRejected) {
  // RFC 8031 2.3 / RFC 7748 6.1: points of small order (0, 1, the two points of order 8, and the
  // non-canonical encodings of p-1, p and p+1) make the result all zero for any private key.
  const char* kLowOrder[] = {
      "0000000000000000000000000000000000000000000000000000000000000000",
      "0100000000000000000000000000000000000000000000000000000000000000",
      "e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800",
      "5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157",
      "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
      "edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
      "eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
  };
  auto ke = GenerateOrDie(DhGroup::kCurve25519);
  ASSERT_TRUE(ke);
  for (const char* point : kLowOrder) {
    SCOPED_TRACE(point);
    auto result = ke->ComputeShared(FromHex(point));
    ASSERT_FALSE(result.has_value());
    EXPECT_NE(result.error().find("all zero"), std::string::npos) << result.error();
  }
}

TEST(X25519Test, RejectsWrongLength) {
  auto ke = GenerateOrDie(DhGroup::kCurve25519);
  ASSERT_TRUE(ke);
  const Bytes peer = GenerateOrDie(DhGroup::kCurve25519)->public_value();
  EXPECT_TRUE(ke->ComputeShared(peer).has_value());
  EXPECT_FALSE(ke->ComputeShared(ByteView(peer).first(31)).has_value());
  Bytes longer = peer;
  longer.push_back(0);
  EXPECT_FALSE(ke->ComputeShared(longer).has_value());
  EXPECT_FALSE(ke->ComputeShared({}).has_value());
  EXPECT_FALSE(KeyExchange::FromPrivate(DhGroup::kCurve25519, Bytes(31, 1)).has_value());
}

// ---- RFC 3526 MODP groups 14 and 15 ----
// The primes as printed in RFC 3526 sections 3 and 4 (copied from the RFC text, independently
// of the copy in key_exchange.cc).
constexpr const char* kRfc3526Group14 =
    "FFFFFFFF FFFFFFFF C90FDAA2 2168C234 C4C6628B 80DC1CD1"
    "29024E08 8A67CC74 020BBEA6 3B139B22 514A0879 8E3404DD"
    "EF9519B3 CD3A431B 302B0A6D F25F1437 4FE1356D 6D51C245"
    "E485B576 625E7EC6 F44C42E9 A637ED6B 0BFF5CB6 F406B7ED"
    "EE386BFB 5A899FA5 AE9F2411 7C4B1FE6 49286651 ECE45B3D"
    "C2007CB8 A163BF05 98DA4836 1C55D39A 69163FA8 FD24CF5F"
    "83655D23 DCA3AD96 1C62F356 208552BB 9ED52907 7096966D"
    "670C354E 4ABC9804 F1746C08 CA18217C 32905E46 2E36CE3B"
    "E39E772C 180E8603 9B2783A2 EC07A28F B5C55DF0 6F4C52C9"
    "DE2BCBF6 95581718 3995497C EA956AE5 15D22618 98FA0510"
    "15728E5A 8AACAA68 FFFFFFFF FFFFFFFF";
constexpr const char* kRfc3526Group15 =
    "FFFFFFFF FFFFFFFF C90FDAA2 2168C234 C4C6628B 80DC1CD1"
    "29024E08 8A67CC74 020BBEA6 3B139B22 514A0879 8E3404DD"
    "EF9519B3 CD3A431B 302B0A6D F25F1437 4FE1356D 6D51C245"
    "E485B576 625E7EC6 F44C42E9 A637ED6B 0BFF5CB6 F406B7ED"
    "EE386BFB 5A899FA5 AE9F2411 7C4B1FE6 49286651 ECE45B3D"
    "C2007CB8 A163BF05 98DA4836 1C55D39A 69163FA8 FD24CF5F"
    "83655D23 DCA3AD96 1C62F356 208552BB 9ED52907 7096966D"
    "670C354E 4ABC9804 F1746C08 CA18217C 32905E46 2E36CE3B"
    "E39E772C 180E8603 9B2783A2 EC07A28F B5C55DF0 6F4C52C9"
    "DE2BCBF6 95581718 3995497C EA956AE5 15D22618 98FA0510"
    "15728E5A 8AAAC42D AD33170D 04507A33 A85521AB DF1CBA64"
    "ECFB8504 58DBEF0A 8AEA7157 5D060C7D B3970F85 A6E1E4C7"
    "ABF5AE8C DB0933D7 1E8C94E0 4A25619D CEE3D226 1AD2EE6B"
    "F12FFA06 D98A0864 D8760273 3EC86A64 521F2B18 177B200C"
    "BBE11757 7A615D6C 770988C0 BAD946E2 08E24FA0 74E5AB31"
    "43DB5BFC E0FD108E 4B82D120 A93AD2CA FFFFFFFF FFFFFFFF";

// RFC 2409 6.2 (group 2) and RFC 3526 2 (group 5), as the RFCs print them.
constexpr std::string_view kRfc2409Group2 =
    "FFFFFFFF FFFFFFFF C90FDAA2 2168C234 C4C6628B 80DC1CD1 29024E08 8A67CC74 020BBEA6 3B139B22"
    "514A0879 8E3404DD EF9519B3 CD3A431B 302B0A6D F25F1437 4FE1356D 6D51C245 E485B576 625E7EC6"
    "F44C42E9 A637ED6B 0BFF5CB6 F406B7ED EE386BFB 5A899FA5 AE9F2411 7C4B1FE6 49286651 ECE65381"
    "FFFFFFFF FFFFFFFF";
constexpr std::string_view kRfc3526Group5 =
    "FFFFFFFF FFFFFFFF C90FDAA2 2168C234 C4C6628B 80DC1CD1 29024E08 8A67CC74 020BBEA6 3B139B22"
    "514A0879 8E3404DD EF9519B3 CD3A431B 302B0A6D F25F1437 4FE1356D 6D51C245 E485B576 625E7EC6"
    "F44C42E9 A637ED6B 0BFF5CB6 F406B7ED EE386BFB 5A899FA5 AE9F2411 7C4B1FE6 49286651 ECE45B3D"
    "C2007CB8 A163BF05 98DA4836 1C55D39A 69163FA8 FD24CF5F 83655D23 DCA3AD96 1C62F356 208552BB"
    "9ED52907 7096966D 670C354E 4ABC9804 F1746C08 CA237327 FFFFFFFF FFFFFFFF";

TEST(ModpTest, PrimesMatchRfc2409AndRfc3526) {
  EXPECT_EQ(ToHex(ModpPrime(DhGroup::kModp1024)), ToHex(FromHex(kRfc2409Group2)));
  EXPECT_EQ(ToHex(ModpPrime(DhGroup::kModp1536)), ToHex(FromHex(kRfc3526Group5)));
  // Groups 14 to 18 share their leading digits (pi) and the trailing 64 one bits.
  for (DhGroup g : {DhGroup::kModp4096, DhGroup::kModp6144, DhGroup::kModp8192}) {
    SCOPED_TRACE(std::string(Name(g)));
    const ByteView p = ModpPrime(g);
    EXPECT_EQ(p.size(), KePublicSize(g));
    EXPECT_EQ(ToHex(p.first(16)), ToHex(ByteView(FromHex(kRfc3526Group14)).first(16)));
    EXPECT_EQ(ToHex(p.last(8)), "ffffffffffffffff");
  }
}

TEST(ModpTest, PrimesMatchRfc3526) {
  EXPECT_EQ(ToHex(ModpPrime(DhGroup::kModp2048)), ToHex(FromHex(kRfc3526Group14)));
  EXPECT_EQ(ToHex(ModpPrime(DhGroup::kModp3072)), ToHex(FromHex(kRfc3526Group15)));
  EXPECT_EQ(ModpPrime(DhGroup::kModp2048).size(), 256u);
  EXPECT_EQ(ModpPrime(DhGroup::kModp3072).size(), 384u);
  EXPECT_TRUE(ModpPrime(DhGroup::kEcp256).empty());
}

// Our public values are computed as 2^x mod (our prime), the shared secrets by OpenSSL with its
// built-in modp_2048/modp_3072 group: the two agree only if both use the same prime. Full-size
// exponents make every reduction non-trivial.
TEST(ModpTest, OurPrimeIsTheGroupOpenSslComputesIn) {
  for (DhGroup group : {DhGroup::kModp2048, DhGroup::kModp3072}) {
    SCOPED_TRACE(std::string(Name(group)));
    Bytes x(KePublicSize(group), 0);
    x[0] = 0x01;  // x ~ 2^(8*size - 8): below p, and 2^x wraps around p many times
    x.back() = 0x35;
    Bytes y = x;
    y.back() = 0x77;
    auto a = FromPrivateOrDie(group, x);
    auto b = FromPrivateOrDie(group, y);
    ASSERT_TRUE(a && b);
    auto s_a = a->ComputeShared(b->public_value());
    auto s_b = b->ComputeShared(a->public_value());
    ASSERT_TRUE(s_a.has_value()) << s_a.error();
    ASSERT_TRUE(s_b.has_value()) << s_b.error();
    EXPECT_TRUE(s_a->Equals(s_b->Reveal()));
  }
}

TEST(ModpTest, SmallExponentKnownAnswerAndPadding) {
  // x = 3 -> g^x = 8; with the peer's g^5 = 32, g^15 = 32768, padded to the modulus length
  // (RFC 7296 2.14 / 3.4).
  auto ke = FromPrivateOrDie(DhGroup::kModp2048, {0x03});
  ASSERT_TRUE(ke);
  Bytes eight(256, 0);
  eight.back() = 8;
  EXPECT_EQ(ke->public_value(), eight);
  Bytes peer(256, 0);
  peer.back() = 32;
  auto shared = ke->ComputeShared(peer);
  ASSERT_TRUE(shared.has_value()) << shared.error();
  Bytes expected(256, 0);
  expected[254] = 0x80;
  EXPECT_EQ(shared->size(), 256u);
  EXPECT_TRUE(shared->Equals(expected));
}

TEST(ModpTest, AgreementAndRangeChecks) {
  for (DhGroup group : {DhGroup::kModp2048, DhGroup::kModp3072}) {
    SCOPED_TRACE(std::string(Name(group)));
    const std::size_t size = KePublicSize(group);
    auto a = GenerateOrDie(group);
    auto b = GenerateOrDie(group);
    ASSERT_TRUE(a && b);
    EXPECT_EQ(a->public_value().size(), size);
    auto s_a = a->ComputeShared(b->public_value());
    auto s_b = b->ComputeShared(a->public_value());
    ASSERT_TRUE(s_a && s_b);
    EXPECT_EQ(s_a->size(), size);
    EXPECT_TRUE(s_a->Equals(s_b->Reveal()));

    // RFC 6989 2.1: 1 < y < p-1.
    const Bytes p(ModpPrime(group).begin(), ModpPrime(group).end());
    Bytes p_minus_1 = p;
    p_minus_1.back() -= 1;  // p ends in 0xff
    Bytes p_minus_2 = p;
    p_minus_2.back() -= 2;
    Bytes zero(size, 0), one(size, 0), two(size, 0);
    one.back() = 1;
    two.back() = 2;
    for (const Bytes& bad : {zero, one, p_minus_1, p, Bytes(size, 0xff)}) {
      auto r = a->ComputeShared(bad);
      ASSERT_FALSE(r.has_value());
      EXPECT_NE(r.error().find("1 < y < p-1"), std::string::npos) << r.error();
      EXPECT_FALSE(ValidatePeerPublicFull(group, bad).has_value());
    }
    EXPECT_TRUE(a->ComputeShared(two).has_value());
    EXPECT_TRUE(a->ComputeShared(p_minus_2).has_value());
    // Length +-1 (a leading zero octet does not make a 257-octet value acceptable).
    Bytes longer = {0};
    Append(longer, b->public_value());
    EXPECT_FALSE(a->ComputeShared(longer).has_value());
    EXPECT_FALSE(a->ComputeShared(ByteView(b->public_value()).first(size - 1)).has_value());
    EXPECT_FALSE(a->ComputeShared({}).has_value());
    // p-2 = -2 is outside the order-q subgroup (-1 is a non-residue, 2 a residue): only the
    // full check (y^q mod p == 1) rejects it. RFC 6989 2.1 does not require that check for
    // these safe-prime groups: such a value leaks at most one bit of our exponent.
    EXPECT_TRUE(ValidatePeerPublic(group, p_minus_2).has_value());
    EXPECT_FALSE(ValidatePeerPublicFull(group, p_minus_2).has_value());
  }
}

TEST(KeyExchangeTest, AgreementForEveryGroup) {
  for (DhGroup group : {DhGroup::kModp1024, DhGroup::kModp1536, DhGroup::kModp2048,
                        DhGroup::kModp3072, DhGroup::kModp4096, DhGroup::kModp6144,
                        DhGroup::kModp8192, DhGroup::kEcp256, DhGroup::kEcp384, DhGroup::kEcp521,
                        DhGroup::kCurve25519}) {
    SCOPED_TRACE(std::string(Name(group)));
    auto a = GenerateOrDie(group);
    auto b = GenerateOrDie(group);
    ASSERT_TRUE(a && b);
    EXPECT_EQ(a->group(), group);
    EXPECT_EQ(a->public_value().size(), KePublicSize(group));
    EXPECT_NE(a->public_value(), b->public_value());
    auto s_a = a->ComputeShared(b->public_value());
    auto s_b = b->ComputeShared(a->public_value());
    ASSERT_TRUE(s_a && s_b);
    EXPECT_TRUE(s_a->Equals(s_b->Reveal()));
  }
}

TEST(KeyExchangeTest, UnsupportedGroups) {
  EXPECT_FALSE(KeyExchange::Generate(DhGroup::kNone).has_value());
  EXPECT_FALSE(KeyExchange::Generate(static_cast<DhGroup>(1)).has_value());   // MODP-768
  EXPECT_FALSE(KeyExchange::Generate(static_cast<DhGroup>(22)).has_value());  // RFC 5114
  EXPECT_FALSE(ValidatePeerPublic(static_cast<DhGroup>(24), Bytes(256, 1)).has_value());
}

}  // namespace
}  // namespace minivpn::crypto
