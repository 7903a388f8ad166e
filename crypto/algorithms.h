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
  kAesCbc = 12,
  kAesCtr = 13,
  kAesGcm8 = 18,   // RFC 5282, 8-octet ICV
  kAesGcm12 = 19,  // 12-octet ICV
  kAesGcm16 = 20,  // 16-octet ICV
  kChaCha20Poly1305 = 28,  // RFC 7634
};

// Transform Type 2 (PRF).
enum class PrfId : std::uint16_t {
  kHmacSha1 = 2,
  kHmacSha2_256 = 5,
  kHmacSha2_384 = 6,
  kHmacSha2_512 = 7,
};

// Transform Type 3 (INTEG).
enum class IntegId : std::uint16_t {
  kNone = 0,
  kHmacSha1_96 = 2,
  kHmacSha2_256_128 = 12,
  kHmacSha2_384_192 = 13,
  kHmacSha2_512_256 = 14,
};

// Transform Type 4 (Key Exchange Method / D-H group).
enum class DhGroup : std::uint16_t {
  kNone = 0,
  kModp2048 = 14,
  kModp3072 = 15,
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
bool IsSupported(EncrId id, std::uint16_t key_bits);  // false for unknown ids or sizes
bool IsSupported(PrfId id);
bool IsSupported(IntegId id);
bool IsSupported(DhGroup id);

// Octets of keying material taken from prf+ for an encryption transform: key_bits/8 plus the
// salt for AEAD (4 for GCM per RFC 5282, 4 for ChaCha20-Poly1305 per RFC 7634).
std::size_t EncrKeyMaterialSize(EncrId id, std::uint16_t key_bits);
std::size_t IntegKeySize(IntegId id);   // HMAC key = hash output size (RFC 4868)
std::size_t IntegIcvSize(IntegId id);   // truncated output: 12, 16, 24, 32
std::size_t AeadIcvSize(EncrId id);     // 8, 12 or 16
std::size_t PrfOutputSize(PrfId id);    // 20, 32, 48, 64
std::size_t KePublicSize(DhGroup id);   // octets of the KE payload data for the group

}  // namespace minivpn::crypto
