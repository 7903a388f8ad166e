// Sizes that key derivation depends on (RFC 4868, RFC 5282, RFC 7634, RFC 5903, RFC 8031).
#include "crypto/algorithms.h"

#include <gtest/gtest.h>

namespace minivpn::crypto {
namespace {

TEST(AlgorithmsTest, EncrKeyMaterialIncludesAeadSalt) {
  EXPECT_EQ(EncrKeyMaterialSize(EncrId::kAesCbc, 128), 16u);
  EXPECT_EQ(EncrKeyMaterialSize(EncrId::kAesCbc, 256), 32u);
  EXPECT_EQ(EncrKeyMaterialSize(EncrId::kAesGcm16, 256), 36u);  // RFC 5282 7.1
  EXPECT_EQ(EncrKeyMaterialSize(EncrId::kAesGcm8, 192), 28u);
  EXPECT_EQ(EncrKeyMaterialSize(EncrId::kChaCha20Poly1305, 256), 36u);  // RFC 7634 2
  EXPECT_EQ(EncrKeyMaterialSize(EncrId::kAesCbc, 100), 0u);
  EXPECT_EQ(EncrKeyMaterialSize(EncrId::kAesCtr, 128), 0u);
}

TEST(AlgorithmsTest, SupportRules) {
  EXPECT_TRUE(IsSupported(EncrId::kAesGcm12, 192));
  EXPECT_FALSE(IsSupported(EncrId::kAesGcm12, 0));   // AES needs a key length
  EXPECT_FALSE(IsSupported(EncrId::kAesCbc, 64));
  EXPECT_TRUE(IsSupported(EncrId::kChaCha20Poly1305, 0));  // no Key Length attribute
  EXPECT_FALSE(IsSupported(EncrId::kChaCha20Poly1305, 128));
  EXPECT_FALSE(IsSupported(static_cast<EncrId>(2), 64));   // DES
  EXPECT_TRUE(IsSupported(EncrId::k3Des, 0));              // no Key Length attribute
  EXPECT_FALSE(IsSupported(EncrId::k3Des, 128));
  EXPECT_TRUE(IsSupported(PrfId::kHmacMd5));
  EXPECT_TRUE(IsSupported(IntegId::kHmacMd5_96));
  EXPECT_TRUE(IsSupported(DhGroup::kModp1024));
  EXPECT_FALSE(IsSupported(static_cast<DhGroup>(1)));       // MODP-768
  EXPECT_FALSE(IsSupported(static_cast<DhGroup>(22)));      // MODP-1024 with 160-bit subgroup
  // AES-CTR and AES-CCM: ESP only.
  EXPECT_FALSE(IsSupported(EncrId::kAesCtr, 128));
  EXPECT_FALSE(IsSupported(EncrId::kAesCcm16, 128));
  EXPECT_TRUE(IsSupportedForEsp(EncrId::kAesCtr, 128));
  EXPECT_TRUE(IsSupportedForEsp(EncrId::kAesCcm8, 256));
  EXPECT_FALSE(IsSupportedForEsp(EncrId::kAesCcm8, 64));
  EXPECT_TRUE(IsAead(EncrId::kAesCcm12));
  EXPECT_TRUE(IsSupported(DhGroup::kCurve25519));
  EXPECT_FALSE(IsSupported(DhGroup::kNone));
  EXPECT_TRUE(IsAead(EncrId::kChaCha20Poly1305));
  EXPECT_FALSE(IsAead(EncrId::kAesCbc));
}

TEST(AlgorithmsTest, IntegrityAndPrfSizes) {
  EXPECT_EQ(IntegKeySize(IntegId::kHmacSha1_96), 20u);
  EXPECT_EQ(IntegIcvSize(IntegId::kHmacSha1_96), 12u);
  EXPECT_EQ(IntegKeySize(IntegId::kHmacSha2_256_128), 32u);
  EXPECT_EQ(IntegIcvSize(IntegId::kHmacSha2_256_128), 16u);
  EXPECT_EQ(IntegKeySize(IntegId::kHmacSha2_384_192), 48u);
  EXPECT_EQ(IntegIcvSize(IntegId::kHmacSha2_384_192), 24u);
  EXPECT_EQ(IntegKeySize(IntegId::kHmacSha2_512_256), 64u);
  EXPECT_EQ(IntegIcvSize(IntegId::kHmacSha2_512_256), 32u);
  EXPECT_EQ(AeadIcvSize(EncrId::kAesGcm8), 8u);
  EXPECT_EQ(AeadIcvSize(EncrId::kAesGcm12), 12u);
  EXPECT_EQ(AeadIcvSize(EncrId::kAesGcm16), 16u);
  EXPECT_EQ(PrfOutputSize(PrfId::kHmacSha2_384), 48u);
}

TEST(AlgorithmsTest, KePublicSizes) {
  EXPECT_EQ(KePublicSize(DhGroup::kModp2048), 256u);
  EXPECT_EQ(KePublicSize(DhGroup::kModp3072), 384u);
  EXPECT_EQ(KePublicSize(DhGroup::kEcp256), 64u);
  EXPECT_EQ(KePublicSize(DhGroup::kEcp384), 96u);
  EXPECT_EQ(KePublicSize(DhGroup::kEcp521), 132u);
  EXPECT_EQ(KePublicSize(DhGroup::kCurve25519), 32u);
}

TEST(AlgorithmsTest, NamesForLogs) {
  EXPECT_EQ(Name(EncrId::kAesGcm16), "ENCR_AES_GCM_16");
  EXPECT_EQ(Name(PrfId::kHmacSha2_256), "PRF_HMAC_SHA2_256");
  EXPECT_EQ(Name(IntegId::kHmacSha1_96), "AUTH_HMAC_SHA1_96");
  EXPECT_EQ(Name(DhGroup::kCurve25519), "CURVE_25519");
  EXPECT_EQ(Name(static_cast<DhGroup>(99)), "GROUP_UNKNOWN");
}

}  // namespace
}  // namespace minivpn::crypto
