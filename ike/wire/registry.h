// IANA IKEv2 registries (https://www.iana.org/assignments/ikev2-parameters) as enums, each with
// a Name() for logs and traces. Values the codec does not know still round-trip: enums are
// opened with static_cast, Name() returns "UNKNOWN" and the fmt formatters (format.h) print
// "UNKNOWN(n)".
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "crypto/algorithms.h"

namespace minivpn::ike {

using crypto::DhGroup;
using crypto::EncrId;
using crypto::IntegId;
using crypto::PrfId;

enum class ExchangeType : std::uint8_t {
  kIkeSaInit = 34,
  kIkeAuth = 35,
  kCreateChildSa = 36,
  kInformational = 37,
};

enum class PayloadType : std::uint8_t {
  kNone = 0,
  kSa = 33,
  kKe = 34,
  kIdi = 35,
  kIdr = 36,
  kCert = 37,
  kCertReq = 38,
  kAuth = 39,
  kNonce = 40,
  kNotify = 41,
  kDelete = 42,
  kVendorId = 43,
  kTsi = 44,
  kTsr = 45,
  kSk = 46,
  kCp = 47,
  kEap = 48,
  kSkf = 53,  // RFC 7383
};

enum class ProtocolId : std::uint8_t { kNone = 0, kIke = 1, kAh = 2, kEsp = 3 };

enum class TransformType : std::uint8_t { kEncr = 1, kPrf = 2, kInteg = 3, kDh = 4, kEsn = 5 };

enum class EsnId : std::uint16_t { kNoEsn = 0, kEsn = 1 };

enum class TransformAttribute : std::uint16_t { kKeyLength = 14 };

enum class IdType : std::uint8_t {
  kIpv4Addr = 1,
  kFqdn = 2,
  kRfc822Addr = 3,
  kIpv6Addr = 5,
  kDerAsn1Dn = 9,
  kDerAsn1Gn = 10,
  kKeyId = 11,
};

enum class AuthMethod : std::uint8_t {
  kRsaSig = 1,
  kSharedKeyMic = 2,
  kDssSig = 3,
  kEcdsa256 = 9,
  kEcdsa384 = 10,
  kEcdsa521 = 11,
  kDigitalSignature = 14,
};

enum class TsType : std::uint8_t { kIpv4AddrRange = 7, kIpv6AddrRange = 8 };

enum class CfgType : std::uint8_t { kRequest = 1, kReply = 2, kSet = 3, kAck = 4 };

enum class NotifyType : std::uint16_t {
  // errors (< 16384)
  kUnsupportedCriticalPayload = 1,
  kInvalidIkeSpi = 4,
  kInvalidMajorVersion = 5,
  kInvalidSyntax = 7,
  kInvalidMessageId = 9,
  kInvalidSpi = 11,
  kNoProposalChosen = 14,
  kInvalidKePayload = 17,
  kAuthenticationFailed = 24,
  kSinglePairRequired = 34,
  kNoAdditionalSas = 35,
  kInternalAddressFailure = 36,
  kFailedCpRequired = 37,
  kTsUnacceptable = 38,
  kInvalidSelectors = 39,
  kTemporaryFailure = 43,
  kChildSaNotFound = 44,
  // status (>= 16384)
  kInitialContact = 16384,
  kSetWindowSize = 16385,
  kAdditionalTsPossible = 16386,
  kIpcompSupported = 16387,
  kNatDetectionSourceIp = 16388,
  kNatDetectionDestinationIp = 16389,
  kCookie = 16390,
  kUseTransportMode = 16391,
  kHttpCertLookupSupported = 16392,
  kRekeySa = 16393,
  kEspTfcPaddingNotSupported = 16394,
  kNonFirstFragmentsAlso = 16395,
  kMobikeSupported = 16396,
  kAdditionalIp4Address = 16397,
  kAdditionalIp6Address = 16398,
  kNoAdditionalAddresses = 16399,
  kUpdateSaAddresses = 16400,
  kCookie2 = 16401,
  kNoNatsAllowed = 16402,
  kAuthLifetime = 16403,
  kMultipleAuthSupported = 16404,
  kAnotherAuthFollows = 16405,
  kRedirectSupported = 16406,
  kRedirect = 16407,
  kRedirectedFrom = 16408,
  kTicketLtOpaque = 16409,
  kTicketRequest = 16410,
  kTicketAck = 16411,
  kTicketNack = 16412,
  kTicketOpaque = 16413,
  kLinkId = 16414,
  kUseWespMode = 16415,
  kRohcSupported = 16416,
  kEapOnlyAuthentication = 16417,
  kChildlessIkev2Supported = 16418,
  kQuickCrashDetection = 16419,
  kIkev2MessageIdSyncSupported = 16420,
  kIpsecReplayCounterSyncSupported = 16421,
  kIkev2MessageIdSync = 16422,
  kIpsecReplayCounterSync = 16423,
  kSecurePasswordMethods = 16424,
  kPskPersist = 16425,
  kPskConfirm = 16426,
  kErxSupported = 16427,
  kIfomCapability = 16428,
  kSenderRequestId = 16429,
  kIkev2FragmentationSupported = 16430,  // RFC 7383
  kSignatureHashAlgorithms = 16431,      // RFC 7427
};

inline bool IsError(NotifyType t) { return static_cast<std::uint16_t>(t) < 16384; }

// Short names as used in one-line exchange summaries, in strongSwan's spelling where one
// exists (SA, KE, No, IDi, N(NATD_S_IP), N(FRAG_SUP), ...).
std::string_view Name(ExchangeType t);
std::string_view Name(PayloadType t);
std::string_view Name(ProtocolId p);
std::string_view Name(TransformType t);
std::string_view Name(IdType t);
std::string_view Name(AuthMethod m);
std::string_view Name(NotifyType t);       // RFC name, e.g. "NAT_DETECTION_SOURCE_IP"
std::string_view ShortName(NotifyType t);  // summary name, e.g. "NATD_S_IP"
// Transform id name given its type ("AES_GCM_16", "PRF_HMAC_SHA2_256", "ECP_256", "ESN").
std::string TransformName(TransformType type, std::uint16_t id);

}  // namespace minivpn::ike
