// Encrypted messages: building and opening SK payloads (RFC 7296 3.14) and RFC 7383
// fragmentation (SKF) with reassembly. Glue between the codec and crypto::SkCipher; no state
// beyond the reassembly buffer.
#pragma once

#include <cstddef>
#include <cstdint>
#include <expected>
#include <optional>
#include <vector>

#include "crypto/random.h"
#include "crypto/sk_cipher.h"
#include "ike/codec.h"

namespace minivpn::ike {

// Builds header | SK{inner}: encodes `inner`, seals it with `cipher`, returns the datagram.
Bytes Protect(const Header& header, const std::vector<Payload>& inner, crypto::SkCipher& cipher,
              crypto::Random& random);

// RFC 7383: if Protect() would exceed `max_datagram` octets (IKE payload size, not counting
// IP/UDP headers or the non-ESP marker), splits into SKF fragments, each sealed on its own and
// carrying the same message ID. Returns one datagram when no fragmentation is needed.
std::vector<Bytes> ProtectFragmented(const Header& header, const std::vector<Payload>& inner,
                                     crypto::SkCipher& cipher, crypto::Random& random,
                                     std::size_t max_datagram);

// Decrypts the SK payload of a decoded message (its last payload) and decodes the inner chain.
// An ICV failure returns ParseErrorCode::kBadPayloadBody with detail "ICV mismatch" and the
// caller drops the message silently (RFC 7296 2.21.1 / bad-inputs J).
std::expected<std::vector<Payload>, ParseError> Unprotect(ByteView datagram, const Message& message,
                                                          const crypto::SkCipher& cipher);

// Collects SKF fragments of one message (one message ID, one direction). Each fragment is
// verified and decrypted as it arrives (RFC 7383 2.6.2); when all are present the inner payloads
// of the whole message are returned.
class Reassembler {
 public:
  struct Result {
    std::vector<Payload> inner;
  };
  // nullopt while fragments are missing; error for invalid fragments (number 0 or > total,
  // total changed, ICV failure), which are dropped without disturbing the buffer.
  std::expected<std::optional<Result>, ParseError> Add(ByteView datagram, const Message& message,
                                                      const crypto::SkCipher& cipher);
  std::uint32_t message_id() const { return message_id_; }
  void Reset();

 private:
  std::uint32_t message_id_ = 0;
  std::uint16_t total_ = 0;
  PayloadType first_inner_ = PayloadType::kNone;
  std::vector<std::optional<Bytes>> plaintexts_;
};

inline constexpr std::uint16_t kMaxFragments = 64;

}  // namespace minivpn::ike
