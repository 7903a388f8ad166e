// The IKEv2 wire codec: pure functions from bytes to Message and back.
//
// Decode is strict (RFC 7296 section 3 and 2.5): every length is checked against its container,
// reserved/unknown values are kept or rejected as the RFC says, and the first problem found is
// returned as a ParseError that names the payload, the offset and the notify to answer with.
#pragma once

#include <cstddef>
#include <cstdint>
#include <expected>
#include <string>
#include <vector>

#include "crypto/bytes.h"
#include "ike/message.h"

namespace minivpn::ike {

enum class ParseErrorCode : std::uint8_t {
  kTruncatedHeader,          // fewer than 28 octets
  kLengthMismatch,           // header length != datagram length
  kInvalidMajorVersion,      // major version != 2
  kUnknownExchange,          // exchange type not 34..37 (IKEv1 included)
  kZeroInitiatorSpi,
  kBadPayloadLength,         // < 4, < the type's minimum, or past the end of the message
  kTrailingBytes,            // octets after the last payload
  kUnsupportedCritical,      // unknown payload type with the critical bit set
  kBadPayloadBody,           // a field inside a payload is inconsistent (counts, sizes, types)
  kSkNotLast,                // SK/SKF must be the last payload
  kTooManyPayloads,          // more than kMaxPayloads in one message
};

struct ParseError {
  ParseErrorCode code;
  NotifyType notify;         // what to answer with (INVALID_SYNTAX, INVALID_MAJOR_VERSION, ...)
  PayloadType payload;       // payload being parsed (kNone for the header)
  std::size_t offset;        // octet offset in the buffer being decoded
  std::uint8_t critical_type = 0;  // for kUnsupportedCritical: the type to put in the notify
  std::string detail;        // for logs only; never sent
};

std::string_view Name(ParseErrorCode code);
// "INVALID_SYNTAX at offset 40 in SA: proposal 1 transform count 3 but 2 present"
std::string Describe(const ParseError& error);

// Decodes the header and the outer payload chain. An SK/SKF payload stays opaque (its body
// is IV|ciphertext|ICV); decrypt it and call DecodePayloads on the plaintext.
std::expected<Message, ParseError> Decode(ByteView datagram);
// Decodes only the fixed header (used to route a datagram before the full decode).
std::expected<Header, ParseError> DecodeHeader(ByteView datagram);
// Decodes a chain of payloads starting with `first` (e.g. the plaintext of SK). Offsets in
// errors are relative to `data` plus `base_offset`.
std::expected<std::vector<Payload>, ParseError> DecodePayloads(PayloadType first, ByteView data,
                                                               std::size_t base_offset = 0);

// Encodes header and payloads, setting next_payload chaining and the header length.
Bytes Encode(const Message& message);
// Encodes a payload chain without header (the plaintext of an SK payload).
Bytes EncodePayloads(const std::vector<Payload>& payloads);
// Encodes the body of one payload, without the generic header (the ID payload body is the
// RestOfIDPayload that the AUTH computation signs).
Bytes EncodePayloadBody(const Payload& payload);

// 3.2 "which payloads each exchange may carry": one table, checked after decryption.
struct PayloadRule {
  PayloadType type;
  std::uint8_t min_count;
  std::uint8_t max_count;  // 255 = unbounded (up to kMaxPayloads)
};
// Checks the payload list of a decoded (and, if protected, decrypted) message against the
// table for its exchange and direction. Errors name the missing/duplicate/forbidden payload.
std::expected<void, ParseError> CheckExchangeRules(const Header& header,
                                                   const std::vector<Payload>& payloads);

inline constexpr std::size_t kMaxPayloads = 64;  // floods of N/V/D are cut here

}  // namespace minivpn::ike
