// Names for the IANA IKEv2 registries (registry.h). Unknown values give "UNKNOWN"; the fmt
// formatters (format.cc) print the number next to it.
#include "ike/wire/registry.h"

#include <cstdint>
#include <string>

namespace minivpn::ike {
namespace {

constexpr std::string_view kUnknown = "UNKNOWN";

struct IdName {
  std::uint16_t id;
  std::string_view name;
};

// Transform IDs per type (IANA "Transform Type 1..5" registries), the ones seen in practice.
constexpr IdName kEncrNames[] = {
    {1, "DES_IV64"}, {2, "DES"}, {3, "3DES"}, {11, "NULL"}, {12, "AES_CBC"}, {13, "AES_CTR"},
    {14, "AES_CCM_8"}, {15, "AES_CCM_12"}, {16, "AES_CCM_16"}, {18, "AES_GCM_8"},
    {19, "AES_GCM_12"}, {20, "AES_GCM_16"}, {21, "NULL_AUTH_AES_GMAC"}, {23, "CAMELLIA_CBC"},
    {24, "CAMELLIA_CTR"}, {28, "CHACHA20_POLY1305"},
};
constexpr IdName kPrfNames[] = {
    {1, "PRF_HMAC_MD5"}, {2, "PRF_HMAC_SHA1"}, {4, "PRF_AES128_XCBC"},
    {5, "PRF_HMAC_SHA2_256"}, {6, "PRF_HMAC_SHA2_384"}, {7, "PRF_HMAC_SHA2_512"},
    {8, "PRF_AES128_CMAC"},
};
constexpr IdName kIntegNames[] = {
    {0, "NONE"}, {1, "AUTH_HMAC_MD5_96"}, {2, "AUTH_HMAC_SHA1_96"}, {5, "AUTH_AES_XCBC_96"},
    {8, "AUTH_AES_CMAC_96"}, {12, "AUTH_HMAC_SHA2_256_128"}, {13, "AUTH_HMAC_SHA2_384_192"},
    {14, "AUTH_HMAC_SHA2_512_256"},
};
constexpr IdName kDhNames[] = {
    {0, "NONE"}, {1, "MODP_768"}, {2, "MODP_1024"}, {5, "MODP_1536"}, {14, "MODP_2048"},
    {15, "MODP_3072"}, {16, "MODP_4096"}, {17, "MODP_6144"}, {18, "MODP_8192"},
    {19, "ECP_256"}, {20, "ECP_384"}, {21, "ECP_521"}, {31, "CURVE_25519"}, {32, "CURVE_448"},
};
constexpr IdName kEsnNames[] = {{0, "NO_ESN"}, {1, "ESN"}};

template <std::size_t N>
std::string_view Lookup(const IdName (&table)[N], std::uint16_t id) {
  for (const IdName& entry : table) {
    if (entry.id == id) return entry.name;
  }
  return kUnknown;
}

}  // namespace

std::string_view Name(ExchangeType t) {
  switch (t) {
    case ExchangeType::kIkeSaInit: return "IKE_SA_INIT";
    case ExchangeType::kIkeAuth: return "IKE_AUTH";
    case ExchangeType::kCreateChildSa: return "CREATE_CHILD_SA";
    case ExchangeType::kInformational: return "INFORMATIONAL";
  }
  return kUnknown;
}

std::string_view Name(PayloadType t) {
  switch (t) {
    case PayloadType::kNone: return "NONE";
    case PayloadType::kSa: return "SA";
    case PayloadType::kKe: return "KE";
    case PayloadType::kIdi: return "IDi";
    case PayloadType::kIdr: return "IDr";
    case PayloadType::kCert: return "CERT";
    case PayloadType::kCertReq: return "CERTREQ";
    case PayloadType::kAuth: return "AUTH";
    case PayloadType::kNonce: return "No";
    case PayloadType::kNotify: return "N";
    case PayloadType::kDelete: return "D";
    case PayloadType::kVendorId: return "V";
    case PayloadType::kTsi: return "TSi";
    case PayloadType::kTsr: return "TSr";
    case PayloadType::kSk: return "SK";
    case PayloadType::kCp: return "CP";
    case PayloadType::kEap: return "EAP";
    case PayloadType::kSkf: return "SKF";
  }
  return kUnknown;
}

std::string_view Name(ProtocolId p) {
  switch (p) {
    case ProtocolId::kNone: return "NONE";
    case ProtocolId::kIke: return "IKE";
    case ProtocolId::kAh: return "AH";
    case ProtocolId::kEsp: return "ESP";
  }
  return kUnknown;
}

std::string_view Name(TransformType t) {
  switch (t) {
    case TransformType::kEncr: return "ENCR";
    case TransformType::kPrf: return "PRF";
    case TransformType::kInteg: return "INTEG";
    case TransformType::kDh: return "KE";
    case TransformType::kEsn: return "ESN";
  }
  return kUnknown;
}

std::string_view Name(IdType t) {
  switch (t) {
    case IdType::kIpv4Addr: return "ID_IPV4_ADDR";
    case IdType::kFqdn: return "ID_FQDN";
    case IdType::kRfc822Addr: return "ID_RFC822_ADDR";
    case IdType::kIpv6Addr: return "ID_IPV6_ADDR";
    case IdType::kDerAsn1Dn: return "ID_DER_ASN1_DN";
    case IdType::kDerAsn1Gn: return "ID_DER_ASN1_GN";
    case IdType::kKeyId: return "ID_KEY_ID";
  }
  return kUnknown;
}

std::string_view Name(AuthMethod m) {
  switch (m) {
    case AuthMethod::kRsaSig: return "RSA_SIG";
    case AuthMethod::kSharedKeyMic: return "SHARED_KEY_MIC";
    case AuthMethod::kDssSig: return "DSS_SIG";
    case AuthMethod::kEcdsa256: return "ECDSA_256";
    case AuthMethod::kEcdsa384: return "ECDSA_384";
    case AuthMethod::kEcdsa521: return "ECDSA_521";
    case AuthMethod::kDigitalSignature: return "DIGITAL_SIGNATURE";
  }
  return kUnknown;
}

std::string_view Name(NotifyType t) {
  switch (t) {
    case NotifyType::kUnsupportedCriticalPayload: return "UNSUPPORTED_CRITICAL_PAYLOAD";
    case NotifyType::kInvalidIkeSpi: return "INVALID_IKE_SPI";
    case NotifyType::kInvalidMajorVersion: return "INVALID_MAJOR_VERSION";
    case NotifyType::kInvalidSyntax: return "INVALID_SYNTAX";
    case NotifyType::kInvalidMessageId: return "INVALID_MESSAGE_ID";
    case NotifyType::kInvalidSpi: return "INVALID_SPI";
    case NotifyType::kNoProposalChosen: return "NO_PROPOSAL_CHOSEN";
    case NotifyType::kInvalidKePayload: return "INVALID_KE_PAYLOAD";
    case NotifyType::kAuthenticationFailed: return "AUTHENTICATION_FAILED";
    case NotifyType::kSinglePairRequired: return "SINGLE_PAIR_REQUIRED";
    case NotifyType::kNoAdditionalSas: return "NO_ADDITIONAL_SAS";
    case NotifyType::kInternalAddressFailure: return "INTERNAL_ADDRESS_FAILURE";
    case NotifyType::kFailedCpRequired: return "FAILED_CP_REQUIRED";
    case NotifyType::kTsUnacceptable: return "TS_UNACCEPTABLE";
    case NotifyType::kInvalidSelectors: return "INVALID_SELECTORS";
    case NotifyType::kTemporaryFailure: return "TEMPORARY_FAILURE";
    case NotifyType::kChildSaNotFound: return "CHILD_SA_NOT_FOUND";
    case NotifyType::kInitialContact: return "INITIAL_CONTACT";
    case NotifyType::kSetWindowSize: return "SET_WINDOW_SIZE";
    case NotifyType::kAdditionalTsPossible: return "ADDITIONAL_TS_POSSIBLE";
    case NotifyType::kIpcompSupported: return "IPCOMP_SUPPORTED";
    case NotifyType::kNatDetectionSourceIp: return "NAT_DETECTION_SOURCE_IP";
    case NotifyType::kNatDetectionDestinationIp: return "NAT_DETECTION_DESTINATION_IP";
    case NotifyType::kCookie: return "COOKIE";
    case NotifyType::kUseTransportMode: return "USE_TRANSPORT_MODE";
    case NotifyType::kHttpCertLookupSupported: return "HTTP_CERT_LOOKUP_SUPPORTED";
    case NotifyType::kRekeySa: return "REKEY_SA";
    case NotifyType::kEspTfcPaddingNotSupported: return "ESP_TFC_PADDING_NOT_SUPPORTED";
    case NotifyType::kNonFirstFragmentsAlso: return "NON_FIRST_FRAGMENTS_ALSO";
    case NotifyType::kMobikeSupported: return "MOBIKE_SUPPORTED";
    case NotifyType::kAdditionalIp4Address: return "ADDITIONAL_IP4_ADDRESS";
    case NotifyType::kAdditionalIp6Address: return "ADDITIONAL_IP6_ADDRESS";
    case NotifyType::kNoAdditionalAddresses: return "NO_ADDITIONAL_ADDRESSES";
    case NotifyType::kUpdateSaAddresses: return "UPDATE_SA_ADDRESSES";
    case NotifyType::kCookie2: return "COOKIE2";
    case NotifyType::kNoNatsAllowed: return "NO_NATS_ALLOWED";
    case NotifyType::kAuthLifetime: return "AUTH_LIFETIME";
    case NotifyType::kMultipleAuthSupported: return "MULTIPLE_AUTH_SUPPORTED";
    case NotifyType::kAnotherAuthFollows: return "ANOTHER_AUTH_FOLLOWS";
    case NotifyType::kRedirectSupported: return "REDIRECT_SUPPORTED";
    case NotifyType::kRedirect: return "REDIRECT";
    case NotifyType::kRedirectedFrom: return "REDIRECTED_FROM";
    case NotifyType::kTicketLtOpaque: return "TICKET_LT_OPAQUE";
    case NotifyType::kTicketRequest: return "TICKET_REQUEST";
    case NotifyType::kTicketAck: return "TICKET_ACK";
    case NotifyType::kTicketNack: return "TICKET_NACK";
    case NotifyType::kTicketOpaque: return "TICKET_OPAQUE";
    case NotifyType::kLinkId: return "LINK_ID";
    case NotifyType::kUseWespMode: return "USE_WESP_MODE";
    case NotifyType::kRohcSupported: return "ROHC_SUPPORTED";
    case NotifyType::kEapOnlyAuthentication: return "EAP_ONLY_AUTHENTICATION";
    case NotifyType::kChildlessIkev2Supported: return "CHILDLESS_IKEV2_SUPPORTED";
    case NotifyType::kQuickCrashDetection: return "QUICK_CRASH_DETECTION";
    case NotifyType::kIkev2MessageIdSyncSupported: return "IKEV2_MESSAGE_ID_SYNC_SUPPORTED";
    case NotifyType::kIpsecReplayCounterSyncSupported: return "IPSEC_REPLAY_COUNTER_SYNC_SUPPORTED";
    case NotifyType::kIkev2MessageIdSync: return "IKEV2_MESSAGE_ID_SYNC";
    case NotifyType::kIpsecReplayCounterSync: return "IPSEC_REPLAY_COUNTER_SYNC";
    case NotifyType::kSecurePasswordMethods: return "SECURE_PASSWORD_METHODS";
    case NotifyType::kPskPersist: return "PSK_PERSIST";
    case NotifyType::kPskConfirm: return "PSK_CONFIRM";
    case NotifyType::kErxSupported: return "ERX_SUPPORTED";
    case NotifyType::kIfomCapability: return "IFOM_CAPABILITY";
    case NotifyType::kSenderRequestId: return "SENDER_REQUEST_ID";
    case NotifyType::kIkev2FragmentationSupported: return "IKEV2_FRAGMENTATION_SUPPORTED";
    case NotifyType::kSignatureHashAlgorithms: return "SIGNATURE_HASH_ALGORITHMS";
  }
  return kUnknown;
}

std::string_view ShortName(NotifyType t) {
  switch (t) {
    case NotifyType::kUnsupportedCriticalPayload: return "CRIT";
    case NotifyType::kInvalidIkeSpi: return "INVAL_IKE_SPI";
    case NotifyType::kInvalidMajorVersion: return "INVAL_MAJOR";
    case NotifyType::kInvalidSyntax: return "INVAL_SYN";
    case NotifyType::kInvalidMessageId: return "INVAL_MID";
    case NotifyType::kInvalidSpi: return "INVAL_SPI";
    case NotifyType::kNoProposalChosen: return "NO_PROP";
    case NotifyType::kInvalidKePayload: return "INVAL_KE";
    case NotifyType::kAuthenticationFailed: return "AUTH_FAILED";
    case NotifyType::kSinglePairRequired: return "SINGLE_PAIR";
    case NotifyType::kNoAdditionalSas: return "NO_ADD_SAS";
    case NotifyType::kInternalAddressFailure: return "INT_ADDR_FAIL";
    case NotifyType::kFailedCpRequired: return "FAIL_CP_REQ";
    case NotifyType::kTsUnacceptable: return "TS_UNACCEPT";
    case NotifyType::kInvalidSelectors: return "INVAL_SEL";
    case NotifyType::kTemporaryFailure: return "TEMP_FAIL";
    case NotifyType::kChildSaNotFound: return "NO_CHILD_SA";
    case NotifyType::kInitialContact: return "INIT_CONTACT";
    case NotifyType::kSetWindowSize: return "SET_WINSIZE";
    case NotifyType::kAdditionalTsPossible: return "ADD_TS_POSS";
    case NotifyType::kIpcompSupported: return "IPCOMP_SUP";
    case NotifyType::kNatDetectionSourceIp: return "NATD_S_IP";
    case NotifyType::kNatDetectionDestinationIp: return "NATD_D_IP";
    case NotifyType::kCookie: return "COOKIE";
    case NotifyType::kUseTransportMode: return "USE_TRANSP";
    case NotifyType::kHttpCertLookupSupported: return "HTTP_CERT_LOOK";
    case NotifyType::kRekeySa: return "REKEY_SA";
    case NotifyType::kEspTfcPaddingNotSupported: return "ESP_TFC_PAD_N";
    case NotifyType::kNonFirstFragmentsAlso: return "NON_FIRST_FRAG";
    case NotifyType::kMobikeSupported: return "MOBIKE_SUP";
    case NotifyType::kAdditionalIp4Address: return "ADD_4_ADDR";
    case NotifyType::kAdditionalIp6Address: return "ADD_6_ADDR";
    case NotifyType::kNoAdditionalAddresses: return "NO_ADD_ADDR";
    case NotifyType::kUpdateSaAddresses: return "UPD_SA_ADDR";
    case NotifyType::kCookie2: return "COOKIE2";
    case NotifyType::kNoNatsAllowed: return "NO_NATS";
    case NotifyType::kAuthLifetime: return "AUTH_LFT";
    case NotifyType::kMultipleAuthSupported: return "MULT_AUTH";
    case NotifyType::kAnotherAuthFollows: return "AUTH_FOLLOWS";
    case NotifyType::kRedirectSupported: return "REDIR_SUP";
    case NotifyType::kRedirect: return "REDIR";
    case NotifyType::kRedirectedFrom: return "REDIR_FROM";
    case NotifyType::kTicketLtOpaque: return "TKT_LT_OPAK";
    case NotifyType::kTicketRequest: return "TKT_REQ";
    case NotifyType::kTicketAck: return "TKT_ACK";
    case NotifyType::kTicketNack: return "TKT_NACK";
    case NotifyType::kTicketOpaque: return "TKT_OPAK";
    case NotifyType::kLinkId: return "LINK_ID";
    case NotifyType::kUseWespMode: return "WESP_MODE";
    case NotifyType::kRohcSupported: return "ROHC_SUP";
    case NotifyType::kEapOnlyAuthentication: return "EAP_ONLY";
    case NotifyType::kChildlessIkev2Supported: return "CHDLESS_SUP";
    case NotifyType::kQuickCrashDetection: return "QUICK_CRASH_DET";
    case NotifyType::kIkev2MessageIdSyncSupported: return "MSG_ID_SYN_SUP";
    case NotifyType::kIpsecReplayCounterSyncSupported: return "RPL_CTR_SYN_SUP";
    case NotifyType::kIkev2MessageIdSync: return "MSG_ID_SYN";
    case NotifyType::kIpsecReplayCounterSync: return "RPL_CTR_SYN";
    case NotifyType::kSecurePasswordMethods: return "SEC_PASSWD";
    case NotifyType::kPskPersist: return "PSK_PST";
    case NotifyType::kPskConfirm: return "PSK_CFM";
    case NotifyType::kErxSupported: return "ERX_SUP";
    case NotifyType::kIfomCapability: return "IFOM_CAP";
    case NotifyType::kSenderRequestId: return "SENDER_REQ_ID";
    case NotifyType::kIkev2FragmentationSupported: return "FRAG_SUP";
    case NotifyType::kSignatureHashAlgorithms: return "HASH_ALG";
  }
  return kUnknown;
}

std::string TransformName(TransformType type, std::uint16_t id) {
  switch (type) {
    case TransformType::kEncr: return std::string(Lookup(kEncrNames, id));
    case TransformType::kPrf: return std::string(Lookup(kPrfNames, id));
    case TransformType::kInteg: return std::string(Lookup(kIntegNames, id));
    case TransformType::kDh: return std::string(Lookup(kDhNames, id));
    case TransformType::kEsn: return std::string(Lookup(kEsnNames, id));
  }
  return std::string(kUnknown);
}

}  // namespace minivpn::ike
