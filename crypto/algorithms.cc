#include "crypto/algorithms.h"

namespace minivpn::crypto {

std::string_view Name(EncrId id) {
  switch (id) {
    case EncrId::k3Des: return "ENCR_3DES";
    case EncrId::kAesCbc: return "ENCR_AES_CBC";
    case EncrId::kAesCtr: return "ENCR_AES_CTR";
    case EncrId::kAesCcm8: return "ENCR_AES_CCM_8";
    case EncrId::kAesCcm12: return "ENCR_AES_CCM_12";
    case EncrId::kAesCcm16: return "ENCR_AES_CCM_16";
    case EncrId::kAesGcm8: return "ENCR_AES_GCM_8";
    case EncrId::kAesGcm12: return "ENCR_AES_GCM_12";
    case EncrId::kAesGcm16: return "ENCR_AES_GCM_16";
    case EncrId::kChaCha20Poly1305: return "ENCR_CHACHA20_POLY1305";
  }
  return "ENCR_UNKNOWN";
}

std::string_view Name(PrfId id) {
  switch (id) {
    case PrfId::kHmacMd5: return "PRF_HMAC_MD5";
    case PrfId::kHmacSha1: return "PRF_HMAC_SHA1";
    case PrfId::kHmacSha2_256: return "PRF_HMAC_SHA2_256";
    case PrfId::kHmacSha2_384: return "PRF_HMAC_SHA2_384";
    case PrfId::kHmacSha2_512: return "PRF_HMAC_SHA2_512";
  }
  return "PRF_UNKNOWN";
}

std::string_view Name(IntegId id) {
  switch (id) {
    case IntegId::kNone: return "NONE";
    case IntegId::kHmacMd5_96: return "AUTH_HMAC_MD5_96";
    case IntegId::kHmacSha1_96: return "AUTH_HMAC_SHA1_96";
    case IntegId::kHmacSha2_256_128: return "AUTH_HMAC_SHA2_256_128";
    case IntegId::kHmacSha2_384_192: return "AUTH_HMAC_SHA2_384_192";
    case IntegId::kHmacSha2_512_256: return "AUTH_HMAC_SHA2_512_256";
  }
  return "AUTH_UNKNOWN";
}

std::string_view Name(DhGroup id) {
  switch (id) {
    case DhGroup::kNone: return "NONE";
    case DhGroup::kModp1024: return "MODP_1024";
    case DhGroup::kModp1536: return "MODP_1536";
    case DhGroup::kModp2048: return "MODP_2048";
    case DhGroup::kModp3072: return "MODP_3072";
    case DhGroup::kModp4096: return "MODP_4096";
    case DhGroup::kModp6144: return "MODP_6144";
    case DhGroup::kModp8192: return "MODP_8192";
    case DhGroup::kEcp256: return "ECP_256";
    case DhGroup::kEcp384: return "ECP_384";
    case DhGroup::kEcp521: return "ECP_521";
    case DhGroup::kCurve25519: return "CURVE_25519";
  }
  return "GROUP_UNKNOWN";
}

bool IsAead(EncrId id) {
  return id == EncrId::kAesGcm8 || id == EncrId::kAesGcm12 || id == EncrId::kAesGcm16 ||
         id == EncrId::kChaCha20Poly1305 || IsCcm(id);
}

bool IsCcm(EncrId id) {
  return id == EncrId::kAesCcm8 || id == EncrId::kAesCcm12 || id == EncrId::kAesCcm16;
}

std::string_view WeaknessOf(EncrId id) {
  return id == EncrId::k3Des ? "3DES has a 64-bit block: past a few GB per key, collisions "
                               "leak plaintext (Sweet32); RFC 8221/8247 say SHOULD NOT"
                             : "";
}

std::string_view WeaknessOf(PrfId id) {
  switch (id) {
    case PrfId::kHmacMd5: return "MD5 is broken; RFC 8247 says MUST NOT";
    case PrfId::kHmacSha1: return "SHA-1 is deprecated; RFC 8247 says MUST- (to be phased out)";
    default: return "";
  }
}

std::string_view WeaknessOf(IntegId id) {
  switch (id) {
    case IntegId::kHmacMd5_96: return "MD5 is broken; RFC 8221/8247 say MUST NOT";
    case IntegId::kHmacSha1_96:
      return "SHA-1 is deprecated; RFC 8221/8247 say MUST- (to be phased out)";
    default: return "";
  }
}

std::string_view WeaknessOf(DhGroup id) {
  switch (id) {
    case DhGroup::kModp1024:
      return "a 1024-bit MODP group is within reach of a well-funded attacker (Logjam); RFC 8247 "
             "says SHOULD NOT";
    case DhGroup::kModp1536:
      return "a 1536-bit MODP group is below today's 2048-bit minimum; RFC 8247 says SHOULD NOT "
             "(about 90-bit security)";
    default: return "";
  }
}

bool IsSupported(EncrId id, std::uint16_t key_bits) {
  switch (id) {
    case EncrId::kAesCbc:
    case EncrId::kAesGcm8:
    case EncrId::kAesGcm12:
    case EncrId::kAesGcm16:
      return key_bits == 128 || key_bits == 192 || key_bits == 256;
    case EncrId::k3Des:  // fixed 192-bit key, no Key Length attribute (0)
      return key_bits == 192 || key_bits == 0;
    case EncrId::kAesCcm8:  // ESP only (the SK payload does not implement CCM)
    case EncrId::kAesCcm12:
    case EncrId::kAesCcm16:
      return false;
    case EncrId::kChaCha20Poly1305:
      // RFC 7634 2: the transform has a fixed 256-bit key and no Key Length attribute; 0 stands
      // for "attribute absent".
      return key_bits == 256 || key_bits == 0;
    case EncrId::kAesCtr:  // registered for parsing, not implemented for SK
      return false;
  }
  return false;
}

bool IsSupportedForEsp(EncrId id, std::uint16_t key_bits) {
  if (id == EncrId::kAesCtr || IsCcm(id)) {
    return key_bits == 128 || key_bits == 192 || key_bits == 256;
  }
  return IsSupported(id, key_bits);
}

bool HasFixedKey(EncrId id) { return id == EncrId::k3Des || id == EncrId::kChaCha20Poly1305; }

std::size_t EspKeyMaterialSize(EncrId id, std::uint16_t key_bits) {
  if (!IsSupportedForEsp(id, key_bits)) return 0;
  if (id == EncrId::kAesCtr) return key_bits / 8 + 4;  // RFC 3686 5.1: 4-octet nonce
  if (IsCcm(id)) return key_bits / 8 + 3;              // RFC 4309 7.1: 3-octet salt
  return EncrKeyMaterialSize(id, key_bits);
}

bool IsSupported(PrfId id) {
  switch (id) {
    case PrfId::kHmacMd5:
    case PrfId::kHmacSha1:
    case PrfId::kHmacSha2_256:
    case PrfId::kHmacSha2_384:
    case PrfId::kHmacSha2_512:
      return true;
  }
  return false;
}

bool IsSupported(IntegId id) {
  switch (id) {
    case IntegId::kNone:
    case IntegId::kHmacMd5_96:
    case IntegId::kHmacSha1_96:
    case IntegId::kHmacSha2_256_128:
    case IntegId::kHmacSha2_384_192:
    case IntegId::kHmacSha2_512_256:
      return true;
  }
  return false;
}

bool IsSupported(DhGroup id) { return KePublicSize(id) != 0; }

std::size_t EncrKeyMaterialSize(EncrId id, std::uint16_t key_bits) {
  if (!IsSupported(id, key_bits)) return 0;
  switch (id) {
    case EncrId::k3Des: return 24;
    case EncrId::kAesCbc: return key_bits / 8;
    case EncrId::kAesGcm8:
    case EncrId::kAesGcm12:
    case EncrId::kAesGcm16: return key_bits / 8 + 4;  // RFC 5282 7.1: 4-octet salt
    case EncrId::kChaCha20Poly1305: return 32 + 4;    // RFC 7634 2: 4-octet salt
    case EncrId::kAesCtr:
    case EncrId::kAesCcm8:
    case EncrId::kAesCcm12:
    case EncrId::kAesCcm16: return 0;  // not for IKE (ESP's sizes are in xfrm/)
  }
  return 0;
}

std::size_t IntegKeySize(IntegId id) {
  switch (id) {
    case IntegId::kNone: return 0;
    case IntegId::kHmacMd5_96: return 16;
    case IntegId::kHmacSha1_96: return 20;
    case IntegId::kHmacSha2_256_128: return 32;
    case IntegId::kHmacSha2_384_192: return 48;
    case IntegId::kHmacSha2_512_256: return 64;
  }
  return 0;
}

std::size_t IntegIcvSize(IntegId id) {
  switch (id) {
    case IntegId::kNone: return 0;
    case IntegId::kHmacMd5_96: return 12;
    case IntegId::kHmacSha1_96: return 12;
    case IntegId::kHmacSha2_256_128: return 16;
    case IntegId::kHmacSha2_384_192: return 24;
    case IntegId::kHmacSha2_512_256: return 32;
  }
  return 0;
}

std::size_t AeadIcvSize(EncrId id) {
  switch (id) {
    case EncrId::kAesGcm8:
    case EncrId::kAesCcm8: return 8;
    case EncrId::kAesGcm12:
    case EncrId::kAesCcm12: return 12;
    case EncrId::kAesGcm16:
    case EncrId::kAesCcm16: return 16;
    case EncrId::kChaCha20Poly1305: return 16;
    case EncrId::k3Des:
    case EncrId::kAesCbc:
    case EncrId::kAesCtr: return 0;
  }
  return 0;
}

std::size_t BlockSize(EncrId id) {
  switch (id) {
    case EncrId::k3Des: return 8;
    case EncrId::kAesCbc: return 16;
    default: return 1;  // AEAD and counter modes: no padding to a block
  }
}

std::size_t PrfOutputSize(PrfId id) {
  switch (id) {
    case PrfId::kHmacMd5: return 16;
    case PrfId::kHmacSha1: return 20;
    case PrfId::kHmacSha2_256: return 32;
    case PrfId::kHmacSha2_384: return 48;
    case PrfId::kHmacSha2_512: return 64;
  }
  return 0;
}

std::size_t KePublicSize(DhGroup id) {
  switch (id) {
    case DhGroup::kNone: return 0;
    case DhGroup::kModp1024: return 128;
    case DhGroup::kModp1536: return 192;
    case DhGroup::kModp2048: return 256;
    case DhGroup::kModp3072: return 384;
    case DhGroup::kModp4096: return 512;
    case DhGroup::kModp6144: return 768;
    case DhGroup::kModp8192: return 1024;
    case DhGroup::kEcp256: return 64;   // RFC 5903 7: x | y
    case DhGroup::kEcp384: return 96;
    case DhGroup::kEcp521: return 132;
    case DhGroup::kCurve25519: return 32;  // RFC 8031 2
  }
  return 0;
}

}  // namespace minivpn::crypto
