// Value types at the edge of the sans-I/O engine: datagrams in and out, events for logs and the
// control tool, and the snapshot returned by the query API. None of them carries key material.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "crypto/bytes.h"
#include "ike/engine_config.h"
#include "ike/registry.h"
#include "xfrm/kernel_ipsec.h"

namespace minivpn::ike {

using Clock = std::chrono::steady_clock;
using TimePoint = Clock::time_point;

struct Endpoint {
  xfrm::IpAddress address{};
  std::uint16_t port = 0;
  bool operator==(const Endpoint&) const = default;
  auto operator<=>(const Endpoint&) const = default;
  std::string ToString() const;  // "192.0.2.1[500]"
};

// One UDP datagram. `data` is the UDP payload as on the wire: on the NAT-T port it starts with
// the 4-octet non-ESP marker (RFC 3948 2.2); the engine strips and adds it.
struct Datagram {
  Endpoint local{};
  Endpoint remote{};
  Bytes data{};
  bool operator==(const Datagram&) const = default;
};

enum class EventKind : std::uint8_t {
  kExchangeSent,  // text = one-line summary ("IKE_AUTH request 1 [ IDi AUTH ... ]")
  kExchangeReceived,
  kRetransmit,  // text = summary of the retransmitted request
  kIkeUp,
  kIkeDown,
  kIkeRekeyed,  // ike_serial = the new SA, text names the old one
  kChildUp,
  kChildDown,
  kChildRekeyed,
  kTrapInstalled,     // start_action = trap: the child's trap policies are in the kernel
  kFailure,  // notify = the error notify sent/received, text = what happened
  kDropped,  // an input that was ignored, text = why
};
std::string_view Name(EventKind kind);

struct Event {
  EventKind kind = EventKind::kFailure;
  TimePoint time{};
  std::string peer{};  // PeerConfig name (empty when no SA/config matched)
  std::uint64_t ike_serial = 0;
  std::string child{};  // child config name, when the event concerns a CHILD_SA
  std::optional<NotifyType> notify{};
  std::string text{};
};

enum class IkeState : std::uint8_t {
  kConnecting,      // IKE_SA_INIT sent (initiator) or answered (responder)
  kAuthenticating,  // IKE_AUTH sent (initiator)
  kEstablished,
  kRekeying,  // our IKE rekey is outstanding
  kRekeyed,   // replaced by a new IKE SA, waiting for the DELETE exchange
  kDeleting,  // our DELETE is outstanding
};
std::string_view Name(IkeState state);

enum class ChildState : std::uint8_t {
  kInstalled,
  kRekeying,  // our rekey is outstanding
  kRekeyed,   // replaced, waiting for the DELETE of the old SA
  kDeleting,  // our DELETE is outstanding
};
std::string_view Name(ChildState state);

struct ChildSaInfo {
  std::uint64_t id = 0;  // engine-wide serial: a rekey gives the new CHILD_SA a higher one
  std::string name{};
  ChildState state = ChildState::kInstalled;
  std::uint32_t spi_in = 0;
  std::uint32_t spi_out = 0;
  std::uint32_t reqid = 0;
  xfrm::Mark mark_in{};
  xfrm::Mark mark_out{};
  xfrm::Subnet local_ts{};
  xfrm::Subnet remote_ts{};
  std::string algorithms{};  // "AES_GCM_16_256/NO_EXT_SEQ"
  bool encap = false;
  std::chrono::seconds age{0};
  std::chrono::seconds rekey_in{0};  // until the soft lifetime
};

struct IkeSaInfo {
  std::uint64_t serial = 0;
  std::string peer{};
  IkeState state = IkeState::kConnecting;
  bool initiator = false;  // original initiator (RFC 7296 2.2)
  std::uint64_t spi_i = 0;
  std::uint64_t spi_r = 0;
  Endpoint local{};
  Endpoint remote{};
  std::string algorithms{};  // "AES_GCM_16_256/PRF_HMAC_SHA2_256/CURVE_25519"
  bool nat_local = false;
  bool nat_remote = false;
  std::chrono::seconds age{0};
  std::optional<std::chrono::seconds> rekey_in{};
  std::vector<ChildSaInfo> children{};
};

}  // namespace minivpn::ike
