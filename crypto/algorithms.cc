#include "crypto/algorithms.h"

namespace minivpn::crypto {

std::string_view Name(EncrId id) {
  switch (id) {
    case EncrId::kAesCbc: return "ENCR_AES_CBC";
    case EncrId::kAesCtr: return "ENCR_AES_CTR";
    case EncrId::kAesGcm8: return "ENCR_AES_GCM_8";
    case EncrId::kAesGcm12: return "ENCR_AES_GCM_12";
    case EncrId::kAesGcm16: return "ENCR_AES_GCM_16";
    case EncrId::kChaCha20Poly1305: return "ENCR_CHACHA20_POLY1305";
  }
  return "ENCR_UNKNOWN";
}

std::string_view Name(PrfId id) {
  switch (id) {
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
    case DhGroup::kModp2048: return "MODP_2048";
    case DhGroup::kModp3072: return "MODP_3072";
    case DhGroup::kEcp256: return "ECP_256";
    case DhGroup::kEcp384: return "ECP_384";
    case DhGroup::kEcp521: return "ECP_521";
    case DhGroup::kCurve25519: return "CURVE_25519";
  }
  return "GROUP_UNKNOWN";
}

bool IsAead(EncrId id) {
  return id == EncrId::kAesGcm8 || id == EncrId::kAesGcm12 || id == EncrId::kAesGcm16 ||
         id == EncrId::kChaCha20Poly1305;
}

bool IsSupported(EncrId id, std::uint16_t key_bits) {
  switch (id) {
    case EncrId::kAesCbc:
    case EncrId::kAesGcm8:
    case EncrId::kAesGcm12:
    case EncrId::kAesGcm16:
      return key_bits == 128 || key_bits == 192 || key_bits == 256;
    case EncrId::kChaCha20Poly1305:
      // RFC 7634 2: the transform has a fixed 256-bit key and no Key Length attribute; 0 stands
      // for "attribute absent".
      return key_bits == 256 || key_bits == 0;
    case EncrId::kAesCtr:  // registered for parsing, not implemented for SK
      return false;
  }
  return false;
}

bool IsSupported(PrfId id) {
  switch (id) {
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
    case EncrId::kAesCbc: return key_bits / 8;
    case EncrId::kAesGcm8:
    case EncrId::kAesGcm12:
    case EncrId::kAesGcm16: return key_bits / 8 + 4;  // RFC 5282 7.1: 4-octet salt
    case EncrId::kChaCha20Poly1305: return 32 + 4;    // RFC 7634 2: 4-octet salt
    case EncrId::kAesCtr: return 0;
  }
  return 0;
}

std::size_t IntegKeySize(IntegId id) {
  switch (id) {
    case IntegId::kNone: return 0;
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
    case IntegId::kHmacSha1_96: return 12;
    case IntegId::kHmacSha2_256_128: return 16;
    case IntegId::kHmacSha2_384_192: return 24;
    case IntegId::kHmacSha2_512_256: return 32;
  }
  return 0;
}

std::size_t AeadIcvSize(EncrId id) {
  switch (id) {
    case EncrId::kAesGcm8: return 8;
    case EncrId::kAesGcm12: return 12;
    case EncrId::kAesGcm16: return 16;
    case EncrId::kChaCha20Poly1305: return 16;
    case EncrId::kAesCbc:
    case EncrId::kAesCtr: return 0;
  }
  return 0;
}

std::size_t PrfOutputSize(PrfId id) {
  switch (id) {
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
    case DhGroup::kModp2048: return 256;
    case DhGroup::kModp3072: return 384;
    case DhGroup::kEcp256: return 64;   // RFC 5903 7: x | y
    case DhGroup::kEcp384: return 96;
    case DhGroup::kEcp521: return 132;
    case DhGroup::kCurve25519: return 32;  // RFC 8031 2
  }
  return 0;
}

}  // namespace minivpn::crypto
