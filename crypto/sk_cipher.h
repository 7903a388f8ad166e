// Protection of the SK / SKF payload body (RFC 7296 3.14, RFC 5282, RFC 7634, RFC 7383).
//
// Body layout: IV | ciphertext(plaintext | padding | pad length) | ICV.
//   AES-CBC + HMAC: IV = 16 random octets; ICV = truncated HMAC over everything from the IKE
//                   header up to the end of the ciphertext (aad | IV | ciphertext).
//   AES-GCM / ChaCha20-Poly1305: IV = 8 octets (a per-SA counter, never reused with the key),
//                   nonce = salt(4) | IV(8); AAD = IKE header through the SK/SKF generic
//                   header (and the SKF fragment fields); padding to 1 octet is allowed but we
//                   use none beyond the pad length octet (0).
// `aad` passed to Seal/Open is always "every octet of the message before the IV".
// An SkCipher keys its OpenSSL contexts once and reuses them, so one instance (one direction of
// one IKE SA) must be used by one thread at a time, Open() included.
#pragma once

#include <cstddef>
#include <cstdint>
#include <expected>
#include <memory>
#include <string>

#include "crypto/algorithms.h"
#include "crypto/bytes.h"
#include "crypto/random.h"
#include "crypto/secret.h"

namespace minivpn::crypto {

struct SkSuite {
  EncrId encr;
  std::uint16_t key_bits;  // 128/192/256 for AES, 256 for ChaCha20-Poly1305
  IntegId integ;           // kNone for AEAD
};

class SkCipher {
 public:
  // encr_key includes the salt for AEAD (EncrKeyMaterialSize octets); integ_key is empty for
  // AEAD. Fails for unsupported suites or wrong key sizes.
  static std::expected<SkCipher, std::string> Create(const SkSuite& suite, SecretBytes encr_key,
                                                     SecretBytes integ_key);
  SkCipher(SkCipher&&) noexcept;
  SkCipher& operator=(SkCipher&&) noexcept;
  ~SkCipher();

  std::size_t iv_size() const;
  std::size_t icv_size() const;
  // Size of the body that Seal() returns for `plaintext_size` octets of inner payloads, so the
  // caller can put the final length into the IKE header (which is part of the aad) first.
  std::size_t SealedSize(std::size_t plaintext_size) const;
  // The largest plaintext that fits a body of at most `body_size` octets (for fragmentation).
  std::size_t MaxPlaintext(std::size_t body_size) const;

  // Returns IV | ciphertext | ICV for `plaintext` (inner payloads, padding added here).
  Bytes Seal(ByteView aad, ByteView plaintext, Random& random);
  // Verifies the ICV and decrypts; returns the inner payloads with padding removed.
  // Errors: "ICV mismatch", "body too short", "ciphertext not a block multiple",
  // "pad length exceeds plaintext".
  std::expected<Bytes, std::string> Open(ByteView aad, ByteView body) const;

  // Frees the keyed cipher contexts (about 1.1 kB of OpenSSL state per direction for AES-GCM);
  // the next Seal/Open keys them again from the kept key. For an SA that goes idle (an
  // established IKE SA exchanges a message now and then), not for one in the middle of an
  // exchange.
  void ReleaseContexts();

 private:
  struct Impl;
  explicit SkCipher(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace minivpn::crypto
