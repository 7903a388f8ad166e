// Registry names (registry.cc) as they appear in logs and summaries.
#include "ike/wire/registry.h"

#include <gtest/gtest.h>

namespace minivpn::ike {
namespace {

TEST(Registry, ExchangeAndPayloadNames) {
  EXPECT_EQ(Name(ExchangeType::kIkeSaInit), "IKE_SA_INIT");
  EXPECT_EQ(Name(ExchangeType::kCreateChildSa), "CREATE_CHILD_SA");
  EXPECT_EQ(Name(static_cast<ExchangeType>(2)), "UNKNOWN");
  EXPECT_EQ(Name(PayloadType::kNonce), "No");
  EXPECT_EQ(Name(PayloadType::kIdr), "IDr");
  EXPECT_EQ(Name(PayloadType::kSkf), "SKF");
  EXPECT_EQ(Name(static_cast<PayloadType>(49)), "UNKNOWN");
}

TEST(Registry, NotifyNamesLongAndShort) {
  EXPECT_EQ(Name(NotifyType::kNatDetectionSourceIp), "NAT_DETECTION_SOURCE_IP");
  EXPECT_EQ(ShortName(NotifyType::kNatDetectionSourceIp), "NATD_S_IP");
  EXPECT_EQ(ShortName(NotifyType::kIkev2FragmentationSupported), "FRAG_SUP");
  EXPECT_EQ(ShortName(NotifyType::kNoProposalChosen), "NO_PROP");
  EXPECT_EQ(Name(NotifyType::kUnsupportedCriticalPayload), "UNSUPPORTED_CRITICAL_PAYLOAD");
  EXPECT_EQ(Name(static_cast<NotifyType>(12345)), "UNKNOWN");
  EXPECT_EQ(ShortName(static_cast<NotifyType>(40000)), "UNKNOWN");
  EXPECT_TRUE(IsError(NotifyType::kTsUnacceptable));
  EXPECT_FALSE(IsError(NotifyType::kCookie));
}

TEST(Registry, EveryNamedNotifyHasAShortName) {
  for (unsigned v = 0; v < 65536; ++v) {
    const auto t = static_cast<NotifyType>(v);
    EXPECT_EQ(Name(t) == "UNKNOWN", ShortName(t) == "UNKNOWN") << v;
  }
}

TEST(Registry, OtherRegistries) {
  EXPECT_EQ(Name(ProtocolId::kEsp), "ESP");
  EXPECT_EQ(Name(TransformType::kDh), "KE");
  EXPECT_EQ(Name(IdType::kFqdn), "ID_FQDN");
  EXPECT_EQ(Name(AuthMethod::kSharedKeyMic), "SHARED_KEY_MIC");
  EXPECT_EQ(Name(static_cast<AuthMethod>(200)), "UNKNOWN");
}

TEST(Registry, TransformNames) {
  EXPECT_EQ(TransformName(TransformType::kEncr, 20), "AES_GCM_16");
  EXPECT_EQ(TransformName(TransformType::kEncr, 28), "CHACHA20_POLY1305");
  EXPECT_EQ(TransformName(TransformType::kPrf, 5), "PRF_HMAC_SHA2_256");
  EXPECT_EQ(TransformName(TransformType::kInteg, 12), "AUTH_HMAC_SHA2_256_128");
  EXPECT_EQ(TransformName(TransformType::kDh, 19), "ECP_256");
  EXPECT_EQ(TransformName(TransformType::kDh, 31), "CURVE_25519");
  EXPECT_EQ(TransformName(TransformType::kEsn, 0), "NO_ESN");
  EXPECT_EQ(TransformName(TransformType::kEncr, 9999), "UNKNOWN");
  EXPECT_EQ(TransformName(static_cast<TransformType>(9), 1), "UNKNOWN");
}

}  // namespace
}  // namespace minivpn::ike
