// Value types at the edge of the sans-I/O engine: datagrams in and out, events for logs and the
// control tool, the snapshot returned by the query API, and the records of the optional trace
// and key sinks (Engine::SetTraceSink / SetKeySink). Only KeyRecord carries key material, as
// SecretBytes.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "crypto/bytes.h"
#include "base/datagram.h"
#include "crypto/secret.h"
#include "ike/engine/engine_config.h"
#include "ike/wire/message.h"
#include "ike/wire/registry.h"
#include "xfrm/kernel_ipsec.h"

namespace minivpn::ike {

using Clock = std::chrono::steady_clock;
using TimePoint = Clock::time_point;

// Endpoints and datagrams are base's (base/datagram.h): the daemon's sockets hand them in and
// take them out unchanged.
using base::Datagram;
using base::Endpoint;

enum class EventKind : std::uint8_t {
  kExchangeSent,  // text = one-line summary ("IKE_AUTH request 1 [ IDi AUTH ... ]")
  kExchangeReceived,
  kRetransmit,  // text = summary of the retransmitted request
  kIkeUp,
  kIkeDown,
  kIkeRekeyed,  // ike_serial = the new SA, text names the old one
  kIkeReauth,   // reauthentication (2.8.3) of this IKE SA: started, finished or scheduled
  kChildUp,
  kChildDown,
  kChildRekeyed,
  kTrapInstalled,     // start_action = trap: the child's trap policies are in the kernel
  kFailure,  // notify = the error notify sent/received, text = what happened
  kDropped,  // an input that was ignored, text = why
  kNotice,   // a decision of ours the operator should see (e.g. an inactivity close), text = what
  kKeepalive,   // a NAT-T keepalive went out (RFC 3948 2.3)
  // The IKE SA's endpoints moved (2.23: the peer behind a NAT got a new mapping) and its
  // CHILD_SAs' kernel SAs and policies followed; text = old -> new. The SA's addresses are
  // ListSas' (the daemon moves the VTIs it owns to them).
  kIkeUpdated,
};
std::string_view Name(EventKind kind);

struct Event {
  EventKind kind = EventKind::kFailure;
  TimePoint time{};
  std::string peer{};  // PeerConfig name (empty when no SA/config matched)
  std::uint64_t ike_serial = 0;
  std::string child{};  // child config name, when the event concerns a CHILD_SA
  // The CHILD_SA's unique id (ChildSaInfo::id) for kChildUp/kChildDown, the new one for
  // kChildRekeyed; 0 otherwise.
  std::uint64_t child_id = 0;
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

// The transforms negotiated for an IKE SA.
struct IkeSuite {
  EncrSpec encr{};
  crypto::IntegId integ = crypto::IntegId::kNone;
  crypto::PrfId prf = crypto::PrfId::kHmacSha2_256;
  crypto::DhGroup dh = crypto::DhGroup::kNone;
  bool operator==(const IkeSuite&) const = default;
};

// The transforms chosen for a CHILD_SA (ESP).
struct EspSuite {
  EncrSpec encr{};
  crypto::IntegId integ = crypto::IntegId::kNone;
  crypto::DhGroup dh = crypto::DhGroup::kNone;  // PFS group, kNone without
  bool esn = false;
  bool operator==(const EspSuite&) const = default;
};

// What a CHILD_SA covers once negotiated (RFC 7296 2.9): the narrowed selectors of both sides
// and the mode (USE_TRANSPORT_MODE, 1.3.1); and the marks and XFRM interface ids its SAs and
// policies carry (the config's, %unique resolved: Engine::WithSharedIds).
struct ChildTs {
  std::vector<xfrm::Selector> local{};
  std::vector<xfrm::Selector> remote{};
  bool transport = false;
  xfrm::Mark mark_in{};
  xfrm::Mark mark_out{};
  std::uint32_t if_id_in = 0;  // XFRM interface ids, %unique resolved
  std::uint32_t if_id_out = 0;
  bool operator==(const ChildTs&) const = default;
};

struct ChildSaInfo {
  std::uint64_t id = 0;  // engine-wide serial: a rekey gives the new CHILD_SA a higher one
  std::string name{};
  ChildState state = ChildState::kInstalled;
  std::uint32_t spi_in = 0;
  std::uint32_t spi_out = 0;
  std::uint32_t reqid = 0;
  xfrm::Mark mark_in{};
  xfrm::Mark mark_out{};
  xfrm::Mark inbound_sa_mark{};  // the inbound SA's own mark: mark_in with mark_in_sa, else none
  std::uint32_t if_id_in = 0;    // XFRM interface ids (0 = none)
  std::uint32_t if_id_out = 0;
  std::vector<xfrm::Selector> local_ts{};
  std::vector<xfrm::Selector> remote_ts{};
  bool transport = false;
  std::string algorithms{};  // "AES_GCM_16_256/NO_EXT_SEQ"
  EspSuite suite{};
  bool encap = false;
  std::chrono::seconds age{0};
  std::chrono::seconds rekey_in{0};  // until the soft lifetime
  std::chrono::seconds life_in{0};   // until the hard lifetime
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
  std::optional<IkeSuite> suite{};  // once IKE_SA_INIT is done
  std::string remote_identity{};  // the peer's authenticated ID ("routerB"); empty before AUTH
  bool nat_local = false;
  bool nat_remote = false;
  bool nat_fake = false;  // encapsulation forced (PeerConfig::encap) without a NAT
  std::uint32_t if_id_in = 0;  // the XFRM interface ids of children that name none (0 = none)
  std::uint32_t if_id_out = 0;
  std::chrono::seconds age{0};
  std::optional<std::chrono::seconds> rekey_in{};
  std::optional<std::chrono::seconds> reauth_in{};  // until the reauthentication (2.8.3)
  std::vector<ChildSaInfo> children{};
};

// One IKE message sent or received, as the trace sink sees it (`minivpnd --trace`). Called where
// kExchangeSent / kExchangeReceived are emitted: received messages once they are authenticated
// and decrypted (a fragmented one once, when its last fragment completes it), sent ones once
// they are sealed. Retransmissions are not traced again. The references are valid only during
// the call.
struct TraceRecord {
  Direction direction = Direction::kSent;
  TimePoint time{};
  std::string_view peer{};     // PeerConfig name, empty when no SA matched
  std::uint64_t ike_serial = 0;  // 0 when no SA matched
  Endpoint local{};
  Endpoint remote{};
  // The message as on the wire: header and outer payloads, SK/SKF bodies still encrypted. For a
  // fragmented message (RFC 7383): its first fragment when sent, its last one when received.
  const Message* message = nullptr;
  // The decrypted inner payloads of SK/SKF; nullptr for an unprotected message (IKE_SA_INIT,
  // an unprotected error reply).
  const std::vector<Payload>* inner = nullptr;
  std::size_t fragments = 1;
  // SK layout of the IKE SA (crypto::SkCipher iv_size/icv_size), for the verbose tree.
  std::size_t sk_iv_size = 0;
  std::size_t sk_icv_size = 0;
};
using TraceSink = std::function<void(const TraceRecord&)>;

// Wireshark decryption-table lines (ike/observe/wireshark_keys.h) of one new IKE SA or CHILD_SA of a peer
// with PeerConfig::export_ike_keys / export_esp_keys. `table` is kIkeDecryptionTableFile or
// kEspSaTableFile; the receiver appends `lines` to that file (wireshark_keys.h Append) and never
// logs them.
struct KeyRecord {
  std::string_view peer{};
  std::uint64_t ike_serial = 0;
  std::string_view table{};
  const SecretBytes* lines = nullptr;
};
using KeySink = std::function<void(const KeyRecord&)>;

}  // namespace minivpn::ike
