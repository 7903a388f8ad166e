// IANA "IKEv2 Transform Attribute" registries for the algorithms minivpn implements, with the
// sizes that key derivation needs. The ike/ registry re-exports these enums.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

namespace minivpn::crypto {

// Transform Type 1 (ENCR). Key length comes from the Key Length attribute (bits).
enum class EncrId : std::uint16_t {
  k3Des = 3,       // RFC 2451, CBC; weak (64-bit block): accepted only when configured
  kAesCbc = 12,
  kAesCtr = 13,
  kAesCcm8 = 14,   // RFC 4309 (ESP only here), 8-octet ICV
  kAesCcm12 = 15,  // 12-octet ICV
  kAesCcm16 = 16,  // 16-octet ICV
  kAesGcm8 = 18,   // RFC 5282, 8-octet ICV
  kAesGcm12 = 19,  // 12-octet ICV
  kAesGcm16 = 20,  // 16-octet ICV
  kChaCha20Poly1305 = 28,  // RFC 7634
};

// Transform Type 2 (PRF).
enum class PrfId : std::uint16_t {
  kHmacMd5 = 1,  // weak: accepted only when configured
  kHmacSha1 = 2,
  kHmacSha2_256 = 5,
  kHmacSha2_384 = 6,
  kHmacSha2_512 = 7,
};

// Transform Type 3 (INTEG).
enum class IntegId : std::uint16_t {
  kNone = 0,
  kHmacMd5_96 = 1,  // RFC 2403; weak: accepted only when configured
  kHmacSha1_96 = 2,
  kHmacSha2_256_128 = 12,
  kHmacSha2_384_192 = 13,
  kHmacSha2_512_256 = 14,
};

// Transform Type 4 (Key Exchange Method / D-H group).
enum class DhGroup : std::uint16_t {
  kNone = 0,
  kModp1024 = 2,  // RFC 2409 6.2; weak: accepted only when configured
  kModp1536 = 5,  // RFC 3526 2; weak: accepted only when configured
  kModp2048 = 14,
  kModp3072 = 15,
  kModp4096 = 16,
  kModp6144 = 17,
  kModp8192 = 18,
  kEcp256 = 19,
  kEcp384 = 20,
  kEcp521 = 21,
  kCurve25519 = 31,
};

std::string_view Name(EncrId id);
std::string_view Name(PrfId id);
std::string_view Name(IntegId id);
std::string_view Name(DhGroup id);

bool IsAead(EncrId id);
// Algorithms an old configuration may still name but that RFC 8247 (IKE) and RFC 8221 (ESP)
// deprecate: 3DES (64-bit block), MD5, SHA-1, MODP groups under 2048 bits. minivpn offers them
// only when the configuration names them, and warns with this reason (empty: not weak).
std::string_view WeaknessOf(EncrId id);
std::string_view WeaknessOf(PrfId id);
std::string_view WeaknessOf(IntegId id);
std::string_view WeaknessOf(DhGroup id);
// AES-CCM (RFC 4309): an AEAD for ESP only; IKE's SK payload does not implement it.
bool IsCcm(EncrId id);
// For IKE's SK payload; false for unknown ids or sizes.
bool IsSupported(EncrId id, std::uint16_t key_bits);
// For ESP (the kernel runs the cipher): the IKE ciphers plus AES-CTR and AES-CCM.
bool IsSupportedForEsp(EncrId id, std::uint16_t key_bits);
// A cipher with one key size and no Key Length attribute (RFC 7296 3.3.5): 3DES,
// ChaCha20-Poly1305. Its EncrSpec carries that size.
bool HasFixedKey(EncrId id);
bool IsSupported(PrfId id);
bool IsSupported(IntegId id);
bool IsSupported(DhGroup id);

// Octets of keying material taken from prf+ for an encryption transform: key_bits/8 plus the
// salt for AEAD (4 for GCM per RFC 5282, 4 for ChaCha20-Poly1305 per RFC 7634, 3 for CCM per
// RFC 4309 7.1).
std::size_t EncrKeyMaterialSize(EncrId id, std::uint16_t key_bits);
// KEYMAT octets for an ESP cipher (RFC 7296 2.17): the key plus, by RFC, a salt or nonce: 4
// for GCM (RFC 4106), ChaCha20-Poly1305 (RFC 7634) and CTR (RFC 3686), 3 for CCM (RFC 4309).
std::size_t EspKeyMaterialSize(EncrId id, std::uint16_t key_bits);
std::size_t IntegKeySize(IntegId id);   // HMAC key = hash output size (RFC 4868)
std::size_t IntegIcvSize(IntegId id);   // truncated output: 12, 16, 24, 32
std::size_t AeadIcvSize(EncrId id);     // 8, 12 or 16
std::size_t BlockSize(EncrId id);       // CBC/CTR padding block: 16 (AES), 8 (3DES), 1 (AEAD)
std::size_t PrfOutputSize(PrfId id);    // 20, 32, 48, 64
std::size_t KePublicSize(DhGroup id);   // octets of the KE payload data for the group

}  // namespace minivpn::crypto
