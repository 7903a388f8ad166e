// PRF known answers (RFC 2202 HMAC-SHA1, RFC 4231 HMAC-SHA2) and prf+ (RFC 7296 2.13).
#include "crypto/prf.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace minivpn::crypto {
namespace {

Prf MakePrf(PrfId id) {
  auto prf = Prf::Create(id);
  EXPECT_TRUE(prf.has_value());
  return *prf;
}

Bytes Repeat(std::uint8_t value, std::size_t n) { return Bytes(n, value); }

struct HmacVector {
  const char* name;
  Bytes key;
  Bytes data;
  const char* sha256;
  const char* sha384;
  const char* sha512;
};

// RFC 4231 section 4, test cases 1-4, 6 and 7 (case 5 is the truncation case below).
std::vector<HmacVector> Rfc4231() {
  Bytes key4;
  for (int i = 1; i <= 25; ++i) key4.push_back(static_cast<std::uint8_t>(i));
  return {
      {"case1", Repeat(0x0b, 20), Bytes(AsBytes("Hi There").begin(), AsBytes("Hi There").end()),
       "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7",
       "afd03944d84895626b0825f4ab46907f15f9dadbe4101ec682aa034c7cebc59cfaea9ea9076ede7f4af152e8"
       "b2fa9cb6",
       "87aa7cdea5ef619d4ff0b4241a1d6cb02379f4e2ce4ec2787ad0b30545e17cdedaa833b7d6b8a702038b274e"
       "aea3f4e4be9d914eeb61f1702e696c203a126854"},
      {"case2", FromHex("4a656665"),
       FromHex("7768617420646f2079612077616e7420666f72206e6f7468696e673f"),
       "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
       "af45d2e376484031617f78d2b58a6b1b9c7ef464f5a01b47e42ec3736322445e8e2240ca5e69e2c78b3239ec"
       "fab21649",
       "164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea2505549758bf75c05a994a6d034f65"
       "f8f0e6fdcaeab1a34d4a6b4b636e070a38bce737"},
      {"case3", Repeat(0xaa, 20), Repeat(0xdd, 50),
       "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe",
       "88062608d3e6ad8a0aa2ace014c8a86f0aa635d947ac9febe83ef4e55966144b2a5ab39dc13814b94e3ab6e1"
       "01a34f27",
       "fa73b0089d56a284efb0f0756c890be9b1b5dbdd8ee81a3655f83e33b2279d39bf3e848279a722c806b485a4"
       "7e67c807b946a337bee8942674278859e13292fb"},
      {"case4", key4, Repeat(0xcd, 50),
       "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b",
       "3e8a69b7783c25851933ab6290af6ca77a9981480850009cc5577c6e1f573b4e6801dd23c4a7d679ccf8a386"
       "c674cffb",
       "b0ba465637458c6990e5a8c5f61d4af7e576d97ff94b872de76f8050361ee3dba91ca5c11aa25eb4d679275c"
       "c5788063a5f19741120c4f2de2adebeb10a298dd"},
      {"case6", Repeat(0xaa, 131),
       FromHex("54657374205573696e67204c6172676572205468616e20426c6f636b2d53697a65204b6579202d20"
               "48617368204b6579204669727374"),
       "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54",
       "4ece084485813e9088d2c63a041bc5b44f9ef1012a2b588f3cd11f05033ac4c60c2ef6ab4030fe8296248df1"
       "63f44952",
       "80b24263c7c1a3ebb71493c1dd7be8b49b46d1f41b4aeec1121b013783f8f3526b56d037e05f2598bd0fd221"
       "5d6a1e5295e64f73f63f0aec8b915a985d786598"},
      {"case7", Repeat(0xaa, 131),
       FromHex("5468697320697320612074657374207573696e672061206c6172676572207468616e20626c6f636b"
               "2d73697a65206b657920616e642061206c6172676572207468616e20626c6f636b2d73697a652064"
               "6174612e20546865206b6579206e6565647320746f20626520686173686564206265666f72652062"
               "65696e6720757365642062792074686520484d414320616c676f726974686d2e"),
       "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2",
       "6617178e941f020d351e2f254e8fd32c602420feb0b8fb9adccebb82461e99c5a678cc31e799176d3860e611"
       "0c46523e",
       "e37b6a775dc87dbaa4dfa9f96e5e3ffddebd71f8867289865df5a32d20cdc944b6022cac3c4982b10d5eeb55"
       "c3e4de15134676fb6de0446065c97440fa8c6a58"},
  };
}

TEST(PrfTest, Rfc4231HmacSha2) {
  const Prf sha256 = MakePrf(PrfId::kHmacSha2_256);
  const Prf sha384 = MakePrf(PrfId::kHmacSha2_384);
  const Prf sha512 = MakePrf(PrfId::kHmacSha2_512);
  for (const HmacVector& v : Rfc4231()) {
    SCOPED_TRACE(v.name);
    EXPECT_EQ(ToHex(sha256.Compute(v.key, v.data).Reveal()), v.sha256);
    EXPECT_EQ(ToHex(sha384.Compute(v.key, v.data).Reveal()), v.sha384);
    EXPECT_EQ(ToHex(sha512.Compute(v.key, v.data).Reveal()), v.sha512);
  }
}

TEST(PrfTest, Rfc4231Case5TruncationPrefix) {
  // RFC 4231 4.6 gives only the leading 128 bits; the PRF returns the full output.
  const Bytes key = Repeat(0x0c, 20);
  const ByteView data = AsBytes("Test With Truncation");
  EXPECT_EQ(ToHex(MakePrf(PrfId::kHmacSha2_256).Compute(key, data).Reveal().first(16)),
            "a3b6167473100ee06e0c796c2955552b");
  EXPECT_EQ(ToHex(MakePrf(PrfId::kHmacSha2_512).Compute(key, data).Reveal().first(16)),
            "415fad6271580a531d4179bc891d87a6");
}

TEST(PrfTest, Rfc2202HmacSha1) {
  const Prf sha1 = MakePrf(PrfId::kHmacSha1);
  Bytes key4;
  for (int i = 1; i <= 25; ++i) key4.push_back(static_cast<std::uint8_t>(i));
  struct Case {
    Bytes key;
    Bytes data;
    const char* mac;
  };
  const Case cases[] = {
      {Repeat(0x0b, 20), Bytes{'H', 'i', ' ', 'T', 'h', 'e', 'r', 'e'},
       "b617318655057264e28bc0b6fb378c8ef146be00"},
      {FromHex("4a656665"), FromHex("7768617420646f2079612077616e7420666f72206e6f7468696e673f"),
       "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79"},
      {Repeat(0xaa, 20), Repeat(0xdd, 50), "125d7342b9ac11cd91a39af48aa17b4f63f175d3"},
      {key4, Repeat(0xcd, 50), "4c9007f4026250c6bc8414f9bf50c86c2d7235da"},
      {Repeat(0x0c, 20), Bytes(AsBytes("Test With Truncation").begin(),
                               AsBytes("Test With Truncation").end()),
       "4c1a03424b55e07fe7f27be1d58bb9324a9a5a04"},
      {Repeat(0xaa, 80),
       Bytes(AsBytes("Test Using Larger Than Block-Size Key - Hash Key First").begin(),
             AsBytes("Test Using Larger Than Block-Size Key - Hash Key First").end()),
       "aa4ae5e15272d00e95705637ce8a3b55ed402112"},
      {Repeat(0xaa, 80),
       Bytes(AsBytes("Test Using Larger Than Block-Size Key and Larger Than One Block-Size Data")
                 .begin(),
             AsBytes("Test Using Larger Than Block-Size Key and Larger Than One Block-Size Data")
                 .end()),
       "e8e99d0f45237d786d6bbaa7965c7808bbff1a91"},
  };
  int n = 1;
  for (const Case& c : cases) {
    SCOPED_TRACE("RFC 2202 test " + std::to_string(n++));
    EXPECT_EQ(ToHex(sha1.Compute(c.key, c.data).Reveal()), c.mac);
  }
}

TEST(PrfTest, Rfc2202HmacMd5) {
  const Prf md5 = MakePrf(PrfId::kHmacMd5);
  EXPECT_EQ(md5.output_size(), 16u);
  EXPECT_EQ(ToHex(md5.Compute(Repeat(0x0b, 16), Bytes{'H', 'i', ' ', 'T', 'h', 'e', 'r', 'e'})
                      .Reveal()),
            "9294727a3638bb1c13f48ef8158bfc9d");
  EXPECT_EQ(ToHex(md5.Compute(FromHex("4a656665"),
                              FromHex("7768617420646f2079612077616e7420666f72206e6f7468696e673f"))
                      .Reveal()),
            "750c783e6ab0b503eaa86e310a5db738");
  EXPECT_EQ(ToHex(md5.Compute(Repeat(0xaa, 16), Repeat(0xdd, 50)).Reveal()),
            "56be34521d144c88dbb8c733f0e8b3f6");
}

TEST(PrfTest, OutputSizesAndUnsupportedId) {
  EXPECT_EQ(MakePrf(PrfId::kHmacSha1).output_size(), 20u);
  EXPECT_EQ(MakePrf(PrfId::kHmacSha2_256).output_size(), 32u);
  EXPECT_EQ(MakePrf(PrfId::kHmacSha2_384).output_size(), 48u);
  EXPECT_EQ(MakePrf(PrfId::kHmacSha2_512).output_size(), 64u);
  EXPECT_FALSE(Prf::Create(static_cast<PrfId>(4)).has_value());  // PRF_AES128_XCBC
}

TEST(PrfTest, EmptyKeyIsAValidHmacKey) {
  // HMAC-SHA256 with an empty key and empty data (a well-known value).
  EXPECT_EQ(ToHex(MakePrf(PrfId::kHmacSha2_256).Compute({}, {}).Reveal()),
            "b613679a0814d9ec772f95d778c35fc5ff1697c493715653c6c712144292c5ad");
}

// RFC 7296 2.13: T1 = prf(K, S | 0x01), Tn = prf(K, Tn-1 | S | n), prf+ = T1 | T2 | ...
TEST(PrfTest, PlusIsTheRfcIteration) {
  for (PrfId id : {PrfId::kHmacSha1, PrfId::kHmacSha2_256, PrfId::kHmacSha2_512}) {
    const Prf prf = MakePrf(id);
    const Bytes key = FromHex("000102030405060708090a0b0c0d0e0f");
    const Bytes seed = FromHex("f0f1f2f3f4f5f6f7f8f9");
    Bytes expected;
    Bytes previous;
    for (std::uint8_t n = 1; n <= 4; ++n) {
      Bytes input = previous;
      Append(input, seed);
      input.push_back(n);
      const SecretBytes t = prf.Compute(key, input);
      previous.assign(t.Reveal().begin(), t.Reveal().end());
      Append(expected, previous);
    }
    const std::size_t length = 3 * prf.output_size() + 5;  // ends inside T4
    const SecretBytes plus = prf.Plus(key, seed, length);
    ASSERT_EQ(plus.size(), length);
    EXPECT_EQ(ToHex(plus.Reveal()), ToHex(ByteView(expected).first(length)));
    // A shorter request is a prefix of a longer one.
    EXPECT_EQ(ToHex(prf.Plus(key, seed, 7).Reveal()), ToHex(ByteView(expected).first(7)));
  }
}

TEST(PrfTest, PlusStopsAt255Blocks) {
  const Prf prf = MakePrf(PrfId::kHmacSha1);
  const Bytes key(20, 1);
  EXPECT_EQ(prf.Plus(key, {}, 255 * 20).size(), 255u * 20);
  EXPECT_TRUE(prf.Plus(key, {}, 255 * 20 + 1).empty());
  EXPECT_TRUE(prf.Plus(key, {}, 0).empty());
}

TEST(PrfTest, Sha1AndSha256Digests) {
  // FIPS 180 "abc" examples.
  EXPECT_EQ(ToHex(Sha1(AsBytes("abc"))), "a9993e364706816aba3e25717850c26c9cd0d89d");
  EXPECT_EQ(ToHex(Sha256(AsBytes("abc"))),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

}  // namespace
}  // namespace minivpn::crypto
