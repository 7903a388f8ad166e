// Diffie-Hellman / ECDH key exchange for the IKE KE payload.
//
// Peer public values are validated before use, per RFC 7296 3.4, RFC 6989 and RFC 8031:
//   MODP: length == modulus length, 1 < y < p-1 (no full subgroup-order check: RFC 6989 2.2
//         says the range check suffices for these safe-prime groups);
//   ECP:  length == 2*coordinate size (x | y, no point-format octet, RFC 5903), point on the
//         curve (the cheap check; the curves have cofactor 1);
//   X25519: length 32, an all-zero shared secret is rejected (RFC 8031 2.3).
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

}  // namespace minivpn::crypto
