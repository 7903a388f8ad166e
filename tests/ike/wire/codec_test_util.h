// Builders shared by the codec tests: small valid messages and payloads, and byte patching.
#pragma once

#include <cstdint>
#include <utility>
#include <vector>

#include "crypto/bytes.h"
#include "ike/wire/codec.h"
#include "ike/wire/message.h"

namespace minivpn::ike::testing {

inline Bytes Repeat(std::uint8_t value, std::size_t n) { return Bytes(n, value); }

inline Payload Make(PayloadType type, PayloadBody body) { return Payload{type, false, std::move(body)}; }

inline Payload Notify(NotifyType type, Bytes data = {}) {
  return Make(PayloadType::kNotify, NotifyPayload{ProtocolId::kNone, {}, type, std::move(data)});
}

inline Payload Sa() {
  Proposal p{1, ProtocolId::kIke, {},
             {Transform{TransformType::kEncr, 20, 256}, Transform{TransformType::kPrf, 5, {}},
              Transform{TransformType::kDh, 31, {}}}};
  return Make(PayloadType::kSa, SaPayload{{p}});
}

inline Payload ChildSa() {
  Proposal p{1, ProtocolId::kEsp, {0x11, 0x22, 0x33, 0x44},
             {Transform{TransformType::kEncr, 20, 256}, Transform{TransformType::kEsn, 0, {}}}};
  return Make(PayloadType::kSa, SaPayload{{p}});
}

inline Payload Ke() { return Make(PayloadType::kKe, KePayload{DhGroup::kCurve25519, Repeat(0xab, 32)}); }
inline Payload Nonce(std::size_t n = 32) { return Make(PayloadType::kNonce, NoncePayload{Repeat(0x4e, n)}); }
inline Payload Id(PayloadType type) {
  return Make(type, IdPayload{IdType::kFqdn, Bytes{'p', 'e', 'e', 'r'}});
}
inline Payload Auth() { return Make(PayloadType::kAuth, AuthPayload{AuthMethod::kSharedKeyMic, Repeat(0xa5, 32)}); }
inline Payload Ts(PayloadType type) {
  TrafficSelector s{TsType::kIpv4AddrRange, 0, 0, 0xffff, {10, 0, 0, 0}, {10, 0, 0, 255}};
  return Make(type, TsPayload{{s}});
}

inline Header InitHeader(bool response = false) {
  Header h;
  h.spi_i = 0x0102030405060708ULL;
  h.spi_r = response ? 0x1112131415161718ULL : 0;
  h.exchange = ExchangeType::kIkeSaInit;
  h.flags = response ? kFlagResponse : kFlagInitiator;
  return h;
}

inline Header ProtectedHeader(ExchangeType exchange, bool response, std::uint32_t message_id = 1) {
  Header h;
  h.spi_i = 0x0102030405060708ULL;
  h.spi_r = 0x1112131415161718ULL;
  h.exchange = exchange;
  h.flags = response ? kFlagResponse : kFlagInitiator;
  h.message_id = message_id;
  return h;
}

// The IKE_SA_INIT request charon sends (SA KE No N(NATD_S_IP) N(NATD_D_IP) N(FRAG_SUP)).
inline Message InitRequest() {
  return Message{InitHeader(),
                 {Sa(), Ke(), Nonce(), Notify(NotifyType::kNatDetectionSourceIp, Repeat(1, 20)),
                  Notify(NotifyType::kNatDetectionDestinationIp, Repeat(2, 20)),
                  Notify(NotifyType::kIkev2FragmentationSupported)}};
}

// Encodes and decodes again so header.length / next_payload are filled in.
inline Message Normalized(const Message& m) { return *Decode(Encode(m)); }

inline void PutU16(Bytes& b, std::size_t at, std::uint16_t v) {
  b.at(at) = static_cast<std::uint8_t>(v >> 8);
  b.at(at + 1) = static_cast<std::uint8_t>(v);
}
inline void PutU32(Bytes& b, std::size_t at, std::uint32_t v) {
  for (std::size_t i = 0; i < 4; ++i) b.at(at + i) = static_cast<std::uint8_t>(v >> (24 - 8 * i));
}
// Sets the IKE header Length to the buffer's size.
inline void FixLength(Bytes& b) { PutU32(b, 24, static_cast<std::uint32_t>(b.size())); }

// A datagram: header for `h` followed by raw payload bytes (`first` is the first payload type).
inline Bytes Raw(Header h, PayloadType first, const Bytes& payloads) {
  Bytes out = Encode(Message{h, {}});
  out[16] = static_cast<std::uint8_t>(first);
  Append(out, payloads);
  FixLength(out);
  return out;
}

// A generic payload header followed by `body`.
inline Bytes Gp(PayloadType next, const Bytes& body, std::uint8_t flags = 0) {
  Bytes out{static_cast<std::uint8_t>(next), flags, 0, 0};
  PutU16(out, 2, static_cast<std::uint16_t>(body.size() + 4));
  Append(out, body);
  return out;
}

}  // namespace minivpn::ike::testing
