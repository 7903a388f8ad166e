// Human-readable traces of IKE messages, for `minivpnd --trace` / `minivpnctl trace` and for the
// walk-through docs. Pure functions over the codec's value types: no I/O, no clock, no SA lookup.
//
// Two forms:
//   TraceSummary  one line per message:
//     +0.012s recv 198.51.100.1[500] IKE_SA_INIT response 0 (we are initiator) [ SA KE No ... ]
//   TraceVerbose  the same line followed by a payload tree with field names and values:
//     the header (SPIs, flags decoded), every payload (proposals and transforms with IANA names,
//     KE group and data, nonce, ID as text/IP, AUTH method, notify data decoded where the RFC
//     gives it a meaning, DELETE SPIs, TS ranges, CP attributes) and, for SK, the decrypted inner
//     payloads indented beneath "encrypted, N octets".
//
// Secrets: a message carries no key, only the AUTH value (derived from the PSK, RFC 7296 2.15),
// which is printed as "<32 octets, hidden>" unless TraceOptions::show_secrets is set.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "crypto/bytes.h"
#include "crypto/sk_cipher.h"
#include "ike/wire/message.h"

namespace minivpn::ike {

// What the caller knows about one message besides its bytes.
struct TraceEvent {
  std::chrono::milliseconds offset{0};  // since the trace (or the IKE SA) started
  Direction direction = Direction::kReceived;
  std::string peer_address;  // "198.51.100.1", "2001:db8::1"
  std::uint16_t peer_port = 500;
  // SK payload layout of the IKE SA (crypto::SkCipher::iv_size()/icv_size()); 0 = unknown, and
  // the tree then shows the encrypted length only.
  std::size_t sk_iv_size = 0;
  std::size_t sk_icv_size = 0;
  bool operator==(const TraceEvent&) const = default;
};

struct TraceOptions {
  // Print the AUTH payload's value. Off by default and never on in logs.
  bool show_secrets = false;
  bool operator==(const TraceOptions&) const = default;
};

// "initiator" when the IKE SA's original initiator is us. Derived from the header's Initiator
// flag (RFC 7296 3.1: set by the original initiator in every message it sends) and direction.
bool WeAreInitiator(const Header& header, Direction direction);

// One line. For a protected message pass the decrypted inner payloads as `inner` to list them;
// with nullptr the outer list ("[ SK ]") is shown.
std::string TraceSummary(const TraceEvent& event, const Message& message,
                         const std::vector<Payload>* inner = nullptr);

// The summary line, then the tree (two spaces per level), each line ending in '\n'.
std::string TraceVerbose(const TraceEvent& event, const Message& message,
                         const std::vector<Payload>* inner = nullptr,
                         const TraceOptions& options = {});

enum class TraceForm : std::uint8_t { kSummary, kVerbose };

// For the daemon's --trace on raw datagrams: decodes `datagram` (the IKE message, non-ESP marker
// removed), decrypts its SK payload with `cipher` when given (the cipher of the sender's
// direction), and renders it. An undecodable datagram gives one line naming the error
// ("+0.000s recv 192.0.2.2[500] undecodable (64 octets): INVALID_SYNTAX at offset 28 ..."), and
// one that fails to decrypt is traced with its outer payloads plus "(not decrypted: ICV
// mismatch)" in the verbose form.
std::string TraceDatagram(const TraceEvent& event, ByteView datagram,
                          const crypto::SkCipher* cipher, TraceForm form,
                          const TraceOptions& options = {});

// The tree of one payload chain alone (used for the inner payloads of SK/SKF), at `depth`.
std::string TracePayloads(const std::vector<Payload>& payloads, const TraceOptions& options,
                          int depth = 0);

// Names used by the tree, exposed for the docs and tests.
std::string_view HashAlgorithmName(std::uint16_t id);   // RFC 7427 / IANA "IKEv2 Hash Algorithms"
std::string_view CfgAttributeName(std::uint16_t type);  // RFC 7296 3.15.1
std::string_view CfgTypeName(CfgType type);

}  // namespace minivpn::ike
