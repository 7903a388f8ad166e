// Diffie-Hellman / ECDH key exchange for the IKE KE payload.
//
// Peer public values are validated before use, per RFC 7296 3.4, RFC 6989 and RFC 8031:
//   MODP: length == modulus length, 1 < y < p-1 (no full subgroup-order check: RFC 6989 2.1
//         says the range check suffices for these safe-prime groups);
//   ECP:  length == 2*coordinate size (x | y, no point-format octet, RFC 5903), point on the
//         curve (the cheap check; the curves have cofactor 1);
//   X25519: length 32, an all-zero shared secret is rejected (RFC 8031 2.3).
// Our own MODP exponents are 512 random bits (RFC 3526 8: twice the group strength).
#pragma once

#include <expected>
#include <memory>
#include <string>

#include "crypto/algorithms.h"
#include "crypto/bytes.h"
#include "crypto/secret.h"

namespace minivpn::crypto {

class KeyExchange {
 public:
  virtual ~KeyExchange() = default;

  // A fresh key pair from OpenSSL's DRBG.
  static std::expected<std::unique_ptr<KeyExchange>, std::string> Generate(DhGroup group);
  // A fixed private key, for known-answer tests (RFC 5903 / RFC 7748 vectors).
  static std::expected<std::unique_ptr<KeyExchange>, std::string> FromPrivate(DhGroup group,
                                                                              ByteView private_key);

  virtual DhGroup group() const = 0;
  // The KE payload data (RFC 7296 3.4 / RFC 5903 7 / RFC 8031 2).
  virtual const Bytes& public_value() const = 0;
  // g^ir. Fails with a message naming the check that the peer value did not pass.
  virtual std::expected<SecretBytes, std::string> ComputeShared(ByteView peer_public) const = 0;
};

// The RFC 6989 / RFC 8031 checks above on a peer's KE data, without computing anything. This is
// what ComputeShared() runs first. Empty error = acceptable.
std::expected<void, std::string> ValidatePeerPublic(DhGroup group, ByteView peer_public);
// The same checks plus OpenSSL's full public-key validation (EVP_PKEY_public_check: for MODP
// y^q mod p == 1, for ECP n*Q == O). Not used on the protocol path; kept for the benchmark and
// for tests showing that the cheap checks reject the same values.
std::expected<void, std::string> ValidatePeerPublicFull(DhGroup group, ByteView peer_public);

// The RFC 3526 prime of a MODP group (big-endian), empty for other groups.
ByteView ModpPrime(DhGroup group);

}  // namespace minivpn::crypto
