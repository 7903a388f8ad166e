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
#include "ike/wire/message.h"

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
  // Unprotect / Reassembler: the SK or SKF payload failed its integrity check or did not decrypt
  // (ICV mismatch, bad padding): not authentic, dropped silently (2.21.1). Detail says which.
  kNotAuthentic,
  // Header fields that are well-formed but not allowed (2.6/3.1: IKE_SA_INIT with a message ID
  // other than 0, or a request with a responder SPI). Reported by CheckExchangeRules.
  kBadHeaderField,
  // Exchange rules (3.2 / the table in exchange_rules.cc). Decode itself reports
  // kMustBeEncrypted and kUnexpectedPayload for the outer chain (see Decode below).
  kMissingPayload,           // a payload the exchange requires is absent
  kDuplicatePayload,         // more of one type than the exchange allows
  kUnexpectedPayload,        // a payload the exchange (or this layer) may not carry
  kCookieNotFirst,           // 2.6: N(COOKIE) present but not the first payload
  kMustBeEncrypted,          // a payload outside SK in an exchange that is protected
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
//
// Errors, in the order they are checked (offsets are absolute in `datagram`):
//   < 28 octets                       kTruncatedHeader     offset 0
//   major version != 2                kInvalidMajorVersion offset 17, notify INVALID_MAJOR_VERSION
//   header length != datagram size    kLengthMismatch      offset 24
//   exchange type not 34..37          kUnknownExchange     offset 18
//   initiator SPI 0                   kZeroInitiatorSpi    offset 0
//   then, for each payload P starting at offset o (generic header at o):
//   fewer than 4 octets left for P's generic header, Payload Length < 4, past the end of the
//     message, or shorter than P's fixed fields   kBadPayloadLength  offset o, payload P
//   P unknown with the critical bit              kUnsupportedCritical offset o, payload P,
//                                    critical_type P, notify UNSUPPORTED_CRITICAL_PAYLOAD
//   the 65th payload                              kTooManyPayloads   offset o
//   a field inside P                              kBadPayloadBody    offset of that field
//   octets after SK/SKF                           kSkNotLast         offset after SK
//   octets after the payload with Next Payload 0  kTrailingBytes     offset of those octets
//   outer payload in the clear in IKE_AUTH/CREATE_CHILD_SA/INFORMATIONAL (INFORMATIONAL may be
//     unprotected and then carry Notify payloads only, 1.5)  kMustBeEncrypted offset o
//   SK/SKF in IKE_SA_INIT                         kUnexpectedPayload offset o
// Every error but kInvalidMajorVersion and kUnsupportedCritical carries INVALID_SYNTAX.
// Unknown payload types without the critical bit are kept as UnknownPayload (3.2). Proposals
// with unknown transform types/ids are kept; a proposal with an unknown transform attribute is
// dropped (3.3.6 says it MUST be rejected and Transform cannot carry the attribute), which can
// leave an SA payload with no proposals (the engine answers NO_PROPOSAL_CHOSEN).
std::expected<Message, ParseError> Decode(ByteView datagram);
// Decodes only the fixed header (used to route a datagram before the full decode).
std::expected<Header, ParseError> DecodeHeader(ByteView datagram);
// Decodes a chain of payloads starting with `first` (e.g. the plaintext of SK). Offsets in
// errors are relative to `data` plus `base_offset`. Same payload errors as Decode; an SK or SKF
// inside the chain (nested encryption) is kUnexpectedPayload.
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
// table for its exchange and direction. Pass the outer list for IKE_SA_INIT and unprotected
// INFORMATIONAL messages, and the decrypted inner list (from Unprotect or the Reassembler) for
// protected ones; an SK/SKF in the list is kUnexpectedPayload. Errors name the payload; their
// offset is the index of the offending payload in `payloads` (payloads.size() for a missing
// one; for kBadHeaderField the header field: 8 responder SPI, 20 message ID). Checked: header
// (kBadHeaderField), N(COOKIE) first (kCookieNotFirst), then counts
// per type (kUnexpectedPayload, kDuplicatePayload, kMissingPayload). In a response that
// carries an error notify (or N(COOKIE) in IKE_SA_INIT) nothing is required (2.21).
std::expected<void, ParseError> CheckExchangeRules(const Header& header,
                                                   const std::vector<Payload>& payloads);

inline constexpr std::size_t kMaxPayloads = 64;  // floods of N/V/D are cut here

}  // namespace minivpn::ike
