// Internal state of the engine: one IkeSa per IKE SA with its CHILD_SAs, its outstanding request
// (window size 1, RFC 7296 2.3), its response cache and its queue of exchanges to start. Only
// the engine (engine*.cc, exchange_*.cc) touches these structs.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "crypto/key_exchange.h"
#include "crypto/keymat.h"
#include "crypto/prf.h"
#include "crypto/secret.h"
#include "crypto/sk_cipher.h"
#include "ike/engine/engine_types.h"
#include "ike/engine/negotiation.h"
#include "ike/wire/protect.h"
#include "xfrm/child_sa.h"

namespace minivpn::ike {

// EngineConfig::retain_keymat only (explain --show-secrets), behind a pointer so that the common
// case pays 8 bytes per SA: the PFS g^ir and KEYMAT (*_i = initiator->responder) of a CHILD_SA,
// and g^ir, SKEYSEED and SK_* of an IKE SA.
struct RetainedChildKeymat {
  SecretBytes g_ir{};
  crypto::ChildKeys keys{};
};
struct RetainedIkeKeymat {
  SecretBytes g_ir{}, skeyseed{};
  crypto::IkeKeys keys{};
};

struct ChildSa {
  std::uint64_t id = 0;  // engine-wide serial
  std::string name{};    // ChildConfig::name
  ChildState state = ChildState::kInstalled;
  // SPIs, reqid, TS, marks, algorithms. The keys are wiped once both SAs are in the kernel
  // (right after the exchange that created them, in both roles).
  xfrm::ChildSaParams params{};
  EspSuite suite{};
  bool owns_policies = false;  // the policies of a rekey lineage are installed once
  TimePoint installed_at{};
  TimePoint rekey_at{};   // soft lifetime (engine side; the kernel also sends a soft expire)
  TimePoint expire_at{};  // hard lifetime
  // When the kernel's soft (else hard) expire of this CHILD_SA is overdue: it was lost (the
  // netlink event socket overflows when thousands of SAs expire together) and the engine acts.
  std::optional<TimePoint> overdue_at{};
  std::optional<TimePoint> inactivity_at{};  // next idle check (ChildConfig::inactivity)
  // 2.8.1: when we answer the peer's rekey of this SA: the SA it created and the lowest nonce
  // of that exchange, to decide a simultaneous rekey.
  std::uint64_t peer_successor = 0;
  Bytes peer_rekey_min_nonce{};
  std::uint64_t successor = 0;  // the SA that replaces this one (our rekey or the peer's)
  bool redundant = false;       // lost a rekey collision: to be deleted by its creator
  bool hard_expired = false;    // the kernel dropped an SA of it while our rekey was in flight
  // 2.17 inputs for Engine::ExplainInput (public): the nonces of the exchange that created it
  // and whether we sent its request (then spi_in is the initiator's SPI).
  Bytes keymat_nonce_i{}, keymat_nonce_r{};
  bool keymat_we_initiated = false;
  std::unique_ptr<RetainedChildKeymat> retained{};  // EngineConfig::retain_keymat only
};

// A CHILD_SA being negotiated by us (IKE_AUTH or CREATE_CHILD_SA as initiator).
struct PendingChild {
  std::string name{};
  std::uint32_t spi_in = 0;
  std::uint64_t rekey_of = 0;  // child id being rekeyed, 0 for a new CHILD_SA
  xfrm::Mark mark_in{};        // the CHILD_SA's marks and XFRM interface ids (%unique resolved
  xfrm::Mark mark_out{};       // by AllocChildSpi)
  std::uint32_t if_id_in = 0;
  std::uint32_t if_id_out = 0;
  Bytes nonce_i{};
  std::unique_ptr<crypto::KeyExchange> ke{};  // PFS
  std::uint32_t ke_retries = 0;
};

struct PendingIkeRekey {
  std::uint64_t new_spi = 0;
  Bytes nonce_i{};
  std::unique_ptr<crypto::KeyExchange> ke{};
  std::uint32_t ke_retries = 0;
};

enum class ExchangeKind : std::uint8_t {
  kInit,
  kAuth,
  kCreateChild,
  kRekeyChild,
  kRekeyIke,
  kDelete,
  kDpd,
};

// Our request in flight (window size 1). Only the initiator of an exchange retransmits (2.1).
struct Outstanding {
  ExchangeKind kind = ExchangeKind::kInit;
  ExchangeType exchange = ExchangeType::kIkeSaInit;
  std::uint32_t message_id = 0;
  std::vector<Bytes> datagrams{};  // IKE messages (fragments) as sent, without non-ESP marker
  std::string summary{};
  std::uint32_t retransmits = 0;
  TimePoint sent_at{};
  TimePoint next_send{};
  PendingChild child{};
  PendingIkeRekey ike_rekey{};
  bool delete_ike = false;
  std::vector<std::uint64_t> delete_children{};
};

struct Task {
  enum class Kind : std::uint8_t {
    kCreateChild,
    kRekeyChild,
    kDeleteChild,
    kRekeyIke,
    kDeleteIke,
    kReauthIke,
    kDpd,
  };
  Kind kind = Kind::kDpd;
  std::string child_name{};    // kCreateChild
  std::uint64_t child_id = 0;  // kRekeyChild / kDeleteChild
  TimePoint not_before{};
};

struct IkeSa {
  std::uint64_t serial = 0;
  std::string peer{};
  Seconds dpd_delay{0};    // copied from the PeerConfig (hot in NextDeadline)
  bool initiator = false;  // original initiator (2.2); for a rekeyed SA: the rekey initiator
  bool original_initiator = false;  // we started the lineage's first IKE SA (rekeys keep it)
  std::uint64_t spi_i = 0;
  std::uint64_t spi_r = 0;
  IkeState state = IkeState::kConnecting;
  Endpoint local{};
  Endpoint remote{};
  // Responder, until IKE_AUTH: its key in Engine::half_open_ (the request's SPIi and source).
  std::optional<std::pair<std::uint64_t, Endpoint>> half_open_key{};
  TimePoint created{};
  TimePoint established_at{};
  TimePoint last_received{};

  // IKE_SA_INIT
  IkeSuite suite{};
  Bytes nonce_i{}, nonce_r{};
  std::unique_ptr<crypto::KeyExchange> ke{};
  std::uint32_t init_retries = 0;
  Bytes cookie{};
  // RealMessage1/2 for AUTH (2.15); released once IKE_AUTH is done (EstablishIke).
  Bytes init_request, init_response;
  std::optional<NotifyType> init_hint{};  // unauthenticated error seen (hint only, 2.21.1)
  bool peer_fragmentation = false;
  bool fragment_own = true;     // PeerConfig::fragment_own
  bool fragment_force = false;  // PeerConfig::fragment_force
  bool peer_natd = false;
  bool nat_local = false;    // we are behind a NAT
  bool nat_remote = false;   // the peer is behind a NAT
  // PeerConfig::encap without a NAT (charon's COND_NAT_FAKE): we encapsulate all the same.
  bool nat_fake = false;
  // PeerConfig::if_id_in/out, %unique resolved when the SA was made (kept by an IKE rekey): the
  // XFRM interface ids of the children that name none.
  std::uint32_t if_id_in = 0;
  std::uint32_t if_id_out = 0;
  // When we last sent an IKE message (NAT-T keepalives count outbound silence from it).
  TimePoint last_sent{};
  // The next NAT-T keepalive check (EngineConfig::keep_alive), while we are behind a NAT.
  std::optional<TimePoint> keepalive_at{};
  // The peer's authenticated identity (its IDi, or IDr when we initiated): INITIAL_CONTACT
  // (2.4) removes the older SAs of this identity only, not of every peer sharing the config.
  IdPayload remote_identity{};
  std::string auth_child{};  // initiator: the CHILD_SA to create with IKE_AUTH
  std::uint32_t keying_try = 1;  // initiator: which attempt of PeerConfig::keyingtries this is
  PendingChild auth_pending{};

  // Keys (2.14).
  bool rekey_skeyseed = false;  // SKEYSEED by 2.18 (an IKE rekey), not 2.14
  std::optional<crypto::Prf> prf{};
  SecretBytes sk_d{}, sk_pi{}, sk_pr{};
  std::optional<crypto::SkCipher> cipher_out{};
  std::optional<crypto::SkCipher> cipher_in{};
  std::unique_ptr<RetainedIkeKeymat> retained{};  // EngineConfig::retain_keymat only

  // Message IDs (2.2) and the exchange in flight.
  std::uint32_t next_mid = 0;      // our next request
  std::uint32_t expected_mid = 0;  // the peer's next request
  bool peer_mids_exhausted = false;  // the peer used message ID 2^32-1: no request after it
  std::unique_ptr<Outstanding> outstanding{};  // on the heap: null while the SA idles

  // Response cache (2.1): the last response, resent byte for byte for a retransmission.
  bool has_cached = false;
  std::uint32_t cached_mid = 0;
  std::vector<Bytes> cached_response{};
  std::uint32_t cached_resends = 0;  // times cached_response was sent again (max_cached_resends)
  std::vector<Bytes> cached_request_hashes{};
  Bytes cached_request_hashes_pending{};  // hash of fragment 1 of the request being reassembled
  Reassembler request_fragments{};
  Reassembler response_fragments{};

  // Exchanges to start, front first. A vector: it is empty nearly always and holds a few tasks
  // at most, and an empty std::deque allocates a 512-byte node per SA.
  std::vector<Task> tasks{};
  std::vector<ChildSa> children{};

  std::optional<TimePoint> rekey_at{};    // IKE rekey
  std::optional<TimePoint> reauth_at{};   // reauthentication (2.8.3), PeerConfig::reauth_time
  // Break-before-make reauthentication: the CHILD_SAs to make again on a new IKE SA once this
  // one's DELETE is answered (or not answered at all).
  std::vector<std::string> reestablish{};
  // Make-before-break reauthentication: the IKE SA this one replaces, deleted once this one's
  // CHILD_SAs are up.
  std::uint64_t reauth_of = 0;
  // Break-before-make: the reqids of the deleted SA's CHILD_SAs, held until this SA has made
  // them again so that they get the same ones (charon's use_reqid).
  std::vector<std::uint32_t> held_reqids{};
  std::optional<TimePoint> hard_at{};     // rekey_time + over_time: give up the SA
  std::optional<TimePoint> destroy_at{};  // half-open timeout / waiting for the peer's DELETE

  // 2.8.2: the SA we created answering the peer's IKE rekey while ours was outstanding.
  std::uint64_t peer_rekey_successor = 0;
  Bytes peer_rekey_min_nonce{};
  std::uint64_t successor = 0;
  bool redundant = false;  // lost an IKE rekey collision; we delete it
  bool destroyed = false;  // removed from the tables; freed at the end of the engine call

  std::uint64_t our_spi() const { return initiator ? spi_i : spi_r; }
  // 2.23: ESP goes in UDP when either side is behind a NAT, or encapsulation is forced.
  bool udp_encap() const { return nat_local || nat_remote || nat_fake; }
  ChildSa* FindChild(std::uint64_t id);
  ChildSa* FindChildByInbound(std::uint32_t spi);
  ChildSa* FindChildByOutbound(std::uint32_t spi);
};

// 2.14: SK_* from SKEYSEED with the SA's suite, nonces and SPIs; creates both SK ciphers
// (SK_ei/SK_ai protect what the original initiator sends). False if the suite is unusable.
// With `copy`, a clone of every SK_* is left there (for the explain and Wireshark hooks).
bool SetIkeKeys(IkeSa& sa, const crypto::Prf& prf, const SecretBytes& skeyseed,
                crypto::IkeKeys* copy = nullptr);

}  // namespace minivpn::ike
