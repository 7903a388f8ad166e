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
#include "ike/wire/codec.h"

namespace minivpn::ike {

// Builds header | SK{inner}: encodes `inner`, seals it with `cipher`, returns the datagram.
Bytes Protect(const Header& header, const std::vector<Payload>& inner, crypto::SkCipher& cipher,
              crypto::Random& random);

// RFC 7383: if Protect() would exceed `max_datagram` octets (IKE payload size, not counting
// IP/UDP headers or the non-ESP marker), splits into SKF fragments, each sealed on its own and
// carrying the same message ID: numbered 1..total, fragment 1 naming the first inner payload,
// each fragment's AAD its own IKE header + 8-octet SKF header. Returns one (SK) datagram when no
// fragmentation is needed, or when `max_datagram` leaves no room for a fragment's overhead.
std::vector<Bytes> ProtectFragmented(const Header& header, const std::vector<Payload>& inner,
                                     crypto::SkCipher& cipher, crypto::Random& random,
                                     std::size_t max_datagram);

// Decrypts the SK payload of a decoded message (its last payload) and decodes the inner chain.
// `message` must be Decode(datagram). An ICV failure (or any other SkCipher::Open error) returns
// ParseErrorCode::kNotAuthentic for kSk at the offset of the SK body, with SkCipher's sentence
// ("ICV mismatch", ...) as detail, and the caller drops the message silently (RFC 7296 2.21.1 /
// bad-inputs J). No SK payload: kMissingPayload. Errors in the inner chain are those of
// DecodePayloads, with offsets counted in the datagram as if the plaintext sat after the IV.
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
  // nullopt while fragments are missing (and for duplicates, which are ignored); error for
  // invalid fragments (a total smaller than the buffer's, more than kMaxFragments, ICV failure:
  // kBadPayloadBody for kSkf), which are dropped without disturbing the buffer. An authentic
  // fragment with a greater total restarts the buffer with it (RFC 7383 2.6). Number 0 or >
  // total never gets here:
  // Decode rejects it. `message` must be Decode(datagram). A fragment with another message ID
  // than the buffer's starts a new buffer: the caller passes only fragments of the message it
  // expects (RFC 7383 2.6.2). Offsets of errors in the reassembled inner chain count from the
  // start of the reassembled plaintext. After completion the buffer is empty again.
  std::expected<std::optional<Result>, ParseError> Add(ByteView datagram, const Message& message,
                                                      const crypto::SkCipher& cipher);
  std::uint32_t message_id() const { return message_id_; }
  // Whether the last Add authenticated and kept its fragment. A duplicate is ignored before any
  // check, so only a stored fragment may stand for the message (e.g. as the hash that makes a
  // retransmission get the cached response): a forged copy of fragment 1 must not.
  bool last_stored() const { return last_stored_; }
  // Plaintext octets held for the message being reassembled (for the engine's budgets).
  std::size_t buffered_bytes() const { return buffered_; }
  void Reset();

 private:
  bool last_stored_ = false;
  std::size_t buffered_ = 0;
  std::uint32_t message_id_ = 0;
  std::uint16_t total_ = 0;
  PayloadType first_inner_ = PayloadType::kNone;
  std::vector<std::optional<Bytes>> plaintexts_;
};

inline constexpr std::uint16_t kMaxFragments = 64;

}  // namespace minivpn::ike
