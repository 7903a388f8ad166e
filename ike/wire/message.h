// IKEv2 messages as plain value structs (RFC 7296 section 3). The codec (codec.h) turns bytes
// into these and back; nothing here knows about SAs, keys, timers or sockets.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "crypto/bytes.h"
#include "ike/wire/registry.h"

namespace minivpn::ike {

// Which way a message went, seen from this end (traces, the engine's message records).
enum class Direction : std::uint8_t { kSent, kReceived };

// 3.1 IKE header flags.
inline constexpr std::uint8_t kFlagInitiator = 0x08;
inline constexpr std::uint8_t kFlagVersion = 0x10;
inline constexpr std::uint8_t kFlagResponse = 0x20;
inline constexpr std::uint8_t kIkeV2Version = 0x20;  // major 2, minor 0
inline constexpr std::size_t kHeaderSize = 28;
inline constexpr std::size_t kGenericPayloadHeaderSize = 4;

struct Header {
  std::uint64_t spi_i = 0;
  std::uint64_t spi_r = 0;
  PayloadType next_payload = PayloadType::kNone;  // filled by Encode
  std::uint8_t version = kIkeV2Version;
  ExchangeType exchange = ExchangeType::kIkeSaInit;
  std::uint8_t flags = 0;
  std::uint32_t message_id = 0;
  std::uint32_t length = 0;  // filled by Encode

  bool is_initiator() const { return flags & kFlagInitiator; }
  bool is_response() const { return flags & kFlagResponse; }
  bool operator==(const Header&) const = default;
};

// 3.3 Security Association payload.
struct Transform {
  TransformType type = TransformType::kEncr;
  std::uint16_t id = 0;
  std::optional<std::uint16_t> key_length;  // Key Length attribute (bits), TV format
  bool operator==(const Transform&) const = default;
};

struct Proposal {
  std::uint8_t number = 1;
  ProtocolId protocol = ProtocolId::kIke;
  Bytes spi;  // 0 octets (IKE_SA_INIT), 8 (IKE rekey) or 4 (ESP/AH)
  std::vector<Transform> transforms;
  bool operator==(const Proposal&) const = default;
};

struct SaPayload {
  std::vector<Proposal> proposals;
  bool operator==(const SaPayload&) const = default;
};

// 3.4
struct KePayload {
  DhGroup group = DhGroup::kNone;
  Bytes data;
  bool operator==(const KePayload&) const = default;
};

// 3.5 (IDi and IDr share the body; Payload::type tells which one).
struct IdPayload {
  IdType id_type = IdType::kFqdn;
  Bytes data;
  bool operator==(const IdPayload&) const = default;
};

// 3.6 / 3.7 carried opaque (minivpn authenticates with PSK only).
struct CertPayload {
  std::uint8_t encoding = 0;
  Bytes data;
  bool operator==(const CertPayload&) const = default;
};

// 3.8
struct AuthPayload {
  AuthMethod method = AuthMethod::kSharedKeyMic;
  Bytes data;
  bool operator==(const AuthPayload&) const = default;
};

// 3.9
struct NoncePayload {
  Bytes data;
  bool operator==(const NoncePayload&) const = default;
};

// 3.10
struct NotifyPayload {
  ProtocolId protocol = ProtocolId::kNone;
  Bytes spi;
  NotifyType type = NotifyType::kInitialContact;
  Bytes data;
  bool operator==(const NotifyPayload&) const = default;
};

// 3.11
struct DeletePayload {
  ProtocolId protocol = ProtocolId::kIke;
  std::uint8_t spi_size = 0;   // 0 for IKE, 4 for ESP/AH
  std::vector<Bytes> spis;     // each spi_size octets
  bool operator==(const DeletePayload&) const = default;
};

// 3.12
struct VendorIdPayload {
  Bytes data;
  bool operator==(const VendorIdPayload&) const = default;
};

// 3.13.1
struct TrafficSelector {
  TsType ts_type = TsType::kIpv4AddrRange;
  std::uint8_t ip_protocol = 0;  // 0 = any
  std::uint16_t start_port = 0;
  std::uint16_t end_port = 0xffff;
  Bytes start_address;  // 4 octets for IPv4, 16 for IPv6
  Bytes end_address;
  bool operator==(const TrafficSelector&) const = default;
};

// 3.13 (TSi and TSr share the body).
struct TsPayload {
  std::vector<TrafficSelector> selectors;
  bool operator==(const TsPayload&) const = default;
};

// 3.15
struct CpAttribute {
  std::uint16_t type = 0;  // 15 bits; the reserved bit is dropped
  Bytes value;
  bool operator==(const CpAttribute&) const = default;
};
struct CpPayload {
  CfgType cfg_type = CfgType::kRequest;
  std::vector<CpAttribute> attributes;
  bool operator==(const CpPayload&) const = default;
};

// 3.16 carried opaque.
struct EapPayload {
  Bytes data;
  bool operator==(const EapPayload&) const = default;
};

// 3.14: the body is IV | ciphertext | ICV; next_payload of the generic header names the first
// inner payload.
struct SkPayload {
  PayloadType first_inner = PayloadType::kNone;
  Bytes body;
  bool operator==(const SkPayload&) const = default;
};

// RFC 7383 2.5: first_inner is set in fragment 1 only (0 in the others).
struct SkfPayload {
  PayloadType first_inner = PayloadType::kNone;
  std::uint16_t fragment_number = 1;
  std::uint16_t total_fragments = 1;
  Bytes body;
  bool operator==(const SkfPayload&) const = default;
};

// A payload type the codec does not know and that is not critical: kept so it round-trips.
struct UnknownPayload {
  std::uint8_t raw_type = 0;
  Bytes body;
  bool operator==(const UnknownPayload&) const = default;
};

using PayloadBody =
    std::variant<SaPayload, KePayload, IdPayload, CertPayload, AuthPayload, NoncePayload,
                 NotifyPayload, DeletePayload, VendorIdPayload, TsPayload, CpPayload, EapPayload,
                 SkPayload, SkfPayload, UnknownPayload>;

struct Payload {
  PayloadType type = PayloadType::kNone;  // kIdi/kIdr, kTsi/kTsr, kCert/kCertReq disambiguate
  bool critical = false;
  PayloadBody body;
  bool operator==(const Payload&) const = default;
};

struct Message {
  Header header;
  std::vector<Payload> payloads;  // for protected messages: the SK/SKF payload last
  bool operator==(const Message&) const = default;

  // First payload of that type, or nullptr.
  const Payload* Find(PayloadType type) const;
  // First notify of that type, or nullptr.
  const NotifyPayload* FindNotify(NotifyType type) const;
};

}  // namespace minivpn::ike
