// Small helpers the exchanges share to build and look up payloads of a decrypted message.
#pragma once

#include <cstdint>
#include <vector>

#include "crypto/algorithms.h"
#include "ike/wire/message.h"

namespace minivpn::ike {

inline Payload MakeNotify(NotifyType type, Bytes data = {}) {
  NotifyPayload n;
  n.type = type;
  n.data = std::move(data);
  Payload p;
  p.type = PayloadType::kNotify;
  p.body = std::move(n);
  return p;
}

// A notify about an SA (REKEY_SA carries the ESP SPI, 3.10).
inline Payload MakeSpiNotify(NotifyType type, ProtocolId protocol, Bytes spi) {
  NotifyPayload n;
  n.type = type;
  n.protocol = protocol;
  n.spi = std::move(spi);
  Payload p;
  p.type = PayloadType::kNotify;
  p.body = std::move(n);
  return p;
}

template <typename T>
Payload MakePayload(PayloadType type, T body) {
  Payload p;
  p.type = type;
  p.body = std::move(body);
  return p;
}

inline const Payload* FindPayload(const std::vector<Payload>& payloads, PayloadType type) {
  for (const auto& p : payloads)
    if (p.type == type) return &p;
  return nullptr;
}

template <typename T>
const T* FindBody(const std::vector<Payload>& payloads, PayloadType type) {
  const Payload* p = FindPayload(payloads, type);
  return p ? std::get_if<T>(&p->body) : nullptr;
}

inline const NotifyPayload* FindNotify(const std::vector<Payload>& payloads, NotifyType type) {
  for (const auto& p : payloads)
    if (const auto* n = std::get_if<NotifyPayload>(&p.body); n && n->type == type) return n;
  return nullptr;
}

inline const NotifyPayload* FirstError(const std::vector<Payload>& payloads) {
  for (const auto& p : payloads)
    if (const auto* n = std::get_if<NotifyPayload>(&p.body); n && IsError(n->type)) return n;
  return nullptr;
}

// INVALID_KE_PAYLOAD data: the 2-octet group (1.2).
inline Bytes GroupBytes(crypto::DhGroup g) {
  auto v = static_cast<std::uint16_t>(g);
  return Bytes{static_cast<std::uint8_t>(v >> 8), static_cast<std::uint8_t>(v)};
}

inline crypto::DhGroup GroupFromBytes(const Bytes& data) {
  if (data.size() != 2) return crypto::DhGroup::kNone;
  return static_cast<crypto::DhGroup>((data[0] << 8) | data[1]);
}

}  // namespace minivpn::ike
