// ike::Engine: the IKEv2 state machine (RFC 7296, PSK), sans I/O.
//
// Inputs: datagrams with their endpoints, kernel events, commands, and the current time.
// Outputs: datagrams to send (TakeDatagrams), kernel operations through xfrm::KernelIpsec, the
// next deadline (NextDeadline) and typed events (TakeEvents). No sockets, threads, clock reads
// or globals: randomness, kernel and time are injected, so two engines can be stepped message by
// message in one process.
//
// Code map: engine.cc (API, timers, commands, queries), engine_io.cc (receive/send pipeline,
// retransmission, response cache), exchange_init.cc (IKE_SA_INIT, cookies, INVALID_KE, NAT-D),
// exchange_auth.cc (IKE_AUTH), exchange_child.cc (CREATE_CHILD_SA for CHILD_SAs and their
// rekeys), exchange_ike_rekey.cc (IKE rekey), exchange_info.cc (DELETE, liveness),
// child_kernel.cc (reqids, lifetimes, kernel install/remove), engine_observe.cc (trace and key
// sinks, explain).
#pragma once

#include <array>
#include <cstdint>
#include <expected>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <tuple>
#include <variant>
#include <vector>

#include "crypto/random.h"
#include "ike/engine/engine_config.h"
#include "ike/engine/engine_types.h"
#include "ike/engine/ike_sa.h"
#include "ike/engine/shared_ids.h"
#include "ike/observe/keymat_explain.h"
#include "xfrm/kernel_ipsec.h"

namespace minivpn::ike {

// Kernel events are xfrm's (expire, acquire, NAT mapping), handed in as the listener reads them.
using xfrm::KernelEvent;

class Engine {
 public:
  Engine(EngineConfig config, crypto::Random& random, xfrm::KernelIpsec& kernel);
  // A shard of a multi-core daemon (EngineConfig::shard_index): the reqids and %unique values
  // and the serials come from `ids`, shared by all shards (shared_ids.h).
  Engine(EngineConfig config, crypto::Random& random, xfrm::KernelIpsec& kernel, SharedIds& ids);
  ~Engine();
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  // Per-peer configuration, added and removed at run time. AddPeer starts the children with
  // start_action = start; RemovePeer deletes the peer's IKE SAs (with DELETE exchanges). Shards
  // share one read-only copy of each config (the shared_ptr form).
  std::expected<void, std::string> AddPeer(PeerConfig peer, TimePoint now);
  std::expected<void, std::string> AddPeer(std::shared_ptr<const PeerConfig> peer, TimePoint now);
  void RemovePeer(std::string_view name, TimePoint now);

  // Inputs.
  void HandleDatagram(const Datagram& datagram, TimePoint now);
  void HandleKernelEvent(const KernelEvent& event, TimePoint now);
  void HandleTimers(TimePoint now);

  // Commands. Initiate creates the IKE SA if there is none for the peer, else a CHILD_SA on the
  // existing one; an empty child name brings up the IKE SA alone... with the first child.
  // Returns the IKE SA serial.
  std::expected<std::uint64_t, std::string> Initiate(std::string_view peer, std::string_view child,
                                                     TimePoint now);
  // Empty child = the whole IKE SA (DELETE of the IKE SA); else that CHILD_SA.
  std::expected<void, std::string> Terminate(std::string_view peer, std::string_view child,
                                             TimePoint now);
  // Empty child = rekey the IKE SA; else the CHILD_SA of that name.
  std::expected<void, std::string> Rekey(std::string_view peer, std::string_view child,
                                         TimePoint now);
  // swanctl --install / --uninstall: the trap policies of one child of a peer (as its
  // start_action = trap would install them); uninstall fails when none is installed.
  std::expected<void, std::string> InstallTrap(std::string_view peer, std::string_view child,
                                               TimePoint now);
  std::expected<void, std::string> UninstallTrap(std::string_view peer, std::string_view child);

  // Outputs.
  std::vector<Datagram> TakeDatagrams();
  std::vector<Event> TakeEvents();
  std::optional<TimePoint> NextDeadline() const;

  // Queries for the control tool.
  std::vector<IkeSaInfo> ListSas(TimePoint now) const;
  std::size_t ike_sa_count() const { return sas_.size(); }
  std::size_t child_sa_count() const;  // CHILD_SAs of all IKE SAs (walks them)
  bool has_ike_sa(std::uint64_t serial) const { return sas_.contains(serial); }
  // Multi-core: another shard authenticated the peer of IKE SA `serial` again (a DropRequest
  // from the shared table): the SA goes as DropOlderSa says. Unknown serials are ignored.
  void DropForDuplicate(const DropRequest& request, TimePoint now);
  std::size_t ike_sa_count(std::string_view peer) const {  // IKE SAs of one peer config
    auto it = sas_by_peer_.find(peer);
    return it == sas_by_peer_.end() ? 0 : it->second.size();
  }
  // Tests only: jump an IKE SA's message IDs (our next request, the peer's next request) close to
  // 2^32 to exercise RFC 7296 2.2's wrap rule without 4 billion exchanges.
  void SetMessageIdsForTesting(std::uint64_t serial, std::uint32_t next, std::uint32_t expected);
  std::size_t half_open_count() const { return half_open_ip_.size(); }
  const EngineConfig& config() const { return config_; }

  // Observability (issue 9, engine_observe.cc). The sinks are called synchronously from inside
  // the engine's calls; unset (the default) the engine does no extra work.
  // Every IKE message sent or received, with its decrypted inner payloads (TraceRecord).
  void SetTraceSink(TraceSink sink) { trace_sink_ = std::move(sink); }
  // Wireshark table lines of the IKE SAs / CHILD_SAs of peers with export_ike_keys /
  // export_esp_keys, when their keys are derived.
  void SetKeySink(KeySink sink) { key_sink_ = std::move(sink); }
  // The key-derivation walk-through inputs (ike/observe/keymat_explain.h) of the IKE SA with this serial
  // (IkeSaInfo::serial) and its CHILD_SAs. Without `with_secrets`, g^ir, SKEYSEED and every key
  // are zero-filled placeholders of the right length (ExplainKeymat without show_secrets prints
  // lengths only). With it, the values need EngineConfig::retain_keymat; otherwise an error.
  std::expected<KeymatExplainInput, std::string> ExplainInput(std::uint64_t serial,
                                                              bool with_secrets) const;

 private:
  // --- engine.cc
  void Init();  // the constructors' common part
  const PeerConfig* FindPeer(std::string_view name) const;
  const ChildConfig* FindChildConfig(const PeerConfig& peer, std::string_view child) const;
  IkeSa* FindSa(std::uint64_t serial);
  IkeSa* FindSaBySpi(std::uint64_t our_spi);
  IkeSa* EstablishedSaOf(std::string_view peer);
  // The IKE SAs of a peer config, oldest first (the order of sas_), from sas_by_peer_.
  std::vector<IkeSa*> SasOf(std::string_view peer);
  void SetPeer(IkeSa& sa, std::string_view peer);  // sa.peer, kept in sas_by_peer_
  // sa.remote_identity, kept in sas_by_identity_.
  void SetRemoteIdentity(IkeSa& sa, const IdPayload& id);
  // The IKE SAs of a peer config authenticated as `id` (a responder config open to many peers
  // serves thousands: a scan of SasOf would cost each IKE_AUTH a walk over all of them).
  // With shards, `elsewhere` gets the serials other shards hold with that identity.
  std::vector<IkeSa*> SasWithIdentity(std::string_view peer, const IdPayload& id,
                                      std::vector<std::uint64_t>* elsewhere = nullptr);
  // An older IKE SA of a peer that authenticated again: gone at once after INITIAL_CONTACT,
  // else (unique = replace) deleted with a DELETE exchange.
  void DropOlderSa(IkeSa& sa, bool initial_contact, TimePoint now);
  void UnindexPeer(const IkeSa& sa);  // from sas_by_peer_ and sas_by_identity_
  IkeSa& NewSa(std::string_view peer, bool initiator, TimePoint now);
  // A fresh SPI of ours; with shards, one that ShardOfSpi maps to this engine.
  std::uint64_t NewIkeSpi();
  // True if this engine is the home shard of the peer config (shard.h: HomeShard): the one that
  // acts on its start actions, its traps and their ACQUIREs.
  bool IsHome(std::string_view peer) const;
  void RegisterSpi(IkeSa& sa);
  // Removes the SA: its CHILD_SAs leave the kernel, events are emitted, the SA is erased.
  void DestroySa(IkeSa& sa, TimePoint now, std::string_view reason);
  void ReleasePending(IkeSa& sa, PendingChild& pending);
  void AbandonOutstanding(IkeSa& sa);
  void Emit(EventKind kind, const IkeSa* sa, TimePoint now, std::string text,
            std::optional<NotifyType> notify = std::nullopt, std::string_view child = {},
            std::uint64_t child_id = 0);
  void ScheduleIkeRekey(IkeSa& sa, TimePoint now);
  void SetHardLifetime(IkeSa& sa, Seconds over);
  static Seconds OverTime(const PeerConfig& peer);
  // 2.8.3 reauthentication of `sa` (its reauth_at passed): break-before-make or
  // make-before-break as PeerConfig::make_before_break says.
  void StartReauth(IkeSa& sa, TimePoint now);
  // A new IKE SA with `old`'s peer and addresses that makes `children` (the first with
  // IKE_AUTH). make-before-break: `old` is deleted once they are up (FinishReauth).
  IkeSa* Reestablish(const IkeSa& old, const std::vector<std::string>& children,
                     bool make_before_break, TimePoint now);
  // Break-before-make: the DELETE of `sa` is done (answered, crossed or given up): the new IKE SA
  // starts and `sa` goes.
  void ReestablishAndDestroy(IkeSa& sa, std::string_view reason, TimePoint now);
  // A reauthentication's new SA has made its CHILD_SAs: the reqids it held are released and
  // (make-before-break) the IKE SA it replaces is deleted.
  void FinishReauth(IkeSa& sa, TimePoint now);
  // One more reference to an allocated or configured reqid that is in use; false if unknown.
  bool HoldReqid(std::uint32_t reqid);
  void ApplyAction(const std::string& peer, const std::vector<std::string>& restart_children,
                   TimePoint now);
  void CheckSaTimers(IkeSa& sa, TimePoint now);
  // charon's inactivity job: closes `child` if neither of its SAs carried a packet for the
  // child's inactivity time, else looks again when that time would be up.
  void CheckInactivity(IkeSa& sa, ChildSa& child, TimePoint now);
  void CheckOverdueExpire(IkeSa& sa, ChildSa& child, TimePoint now);
  // 2.25: retry after TEMPORARY_FAILURE at retry_delay plus jitter, so that two peers that
  // collided do not collide again.
  TimePoint RetryAt(TimePoint now);

  // --- engine_io.cc
  // 2.23 as charon's update_hosts (no MOBIKE): a message from other endpoints moves the IKE SA
  // to them when `force` (the IKE_AUTH request: the float to port 4500), else only the remote
  // one and only while the peer is behind a NAT (unless we are too and started the SA). The
  // CHILD_SAs' kernel SAs (and policy templates) follow; kIkeUpdated tells.
  void UpdateHosts(IkeSa& sa, const Endpoint& local, const Endpoint& remote, bool force,
                   TimePoint now);
  void SendRaw(const Endpoint& local, const Endpoint& remote, const Bytes& ike_message);
  // Builds, protects (fragments if the peer supports it), sends and records our request.
  void SendRequest(IkeSa& sa, ExchangeKind kind, ExchangeType exchange,
                   std::vector<Payload> payloads, TimePoint now, Outstanding pending = {});
  void SendResponse(IkeSa& sa, const Header& request, std::vector<Payload> payloads,
                    const std::vector<Bytes>& request_hashes, TimePoint now);
  void SendUnprotectedResponse(const Header& request, std::vector<Payload> payloads,
                               const Endpoint& local, const Endpoint& remote, TimePoint now);
  void Retransmit(IkeSa& sa, TimePoint now);
  void ResendCached(IkeSa& sa, std::string_view what, TimePoint now);
  void StartNextTask(IkeSa& sa, TimePoint now);
  void HandleProtected(IkeSa& sa, const Message& message, const Bytes& raw, const Endpoint& local,
                       const Endpoint& remote, TimePoint now);
  void DispatchRequest(IkeSa& sa, const Header& header, std::vector<Payload> inner,
                       const std::vector<Bytes>& hashes, const Endpoint& local,
                       const Endpoint& remote, TimePoint now);
  void DispatchResponse(IkeSa& sa, const Header& header, std::vector<Payload> inner, TimePoint now);
  bool AllowInvalidSpi(TimePoint now);
  // RFC 3948 2.3 NAT-T keepalives (EngineConfig::keep_alive) of an IKE SA behind a NAT: the next
  // check, and the check itself (sends one if nothing went out for keep_alive, as charon's
  // send_keepalive counts the IKE SA's and its CHILD_SAs' outbound use).
  void ScheduleKeepalive(IkeSa& sa, TimePoint now);
  void SendKeepalive(IkeSa& sa, TimePoint now);

  // --- exchange_init.cc (IKE_SA_INIT, 1.2, 2.6, 2.23)
  void StartInit(IkeSa& sa, TimePoint now);
  void SendInitRequest(IkeSa& sa, TimePoint now);
  void ProcessInitRequest(const Message& message, const Bytes& raw, const Endpoint& local,
                          const Endpoint& remote, TimePoint now);
  void ProcessInitResponse(IkeSa& sa, const Message& message, const Bytes& raw, TimePoint now);
  struct CookieSecret {
    std::uint32_t version = 0;
    SecretBytes secret;
  };
  Bytes MakeCookie(const Message& request, const Endpoint& remote,
                   const CookieSecret& secret) const;
  // True if `cookie` was made by MakeCookie for this request with the current or previous secret.
  bool CookieValid(ByteView cookie, const Message& request, const Endpoint& remote) const;
  void RotateCookieSecret(TimePoint now);
  // Costly IKE_SA_INIT failures within half_open_timeout (see EngineConfig).
  std::size_t RecentInitFailures(TimePoint now);
  // charon's cookie_required: COOKIE is demanded while a threshold is `reached`, and for
  // kCookieCalmdown after it last was (charon's COOKIE_CALMDOWN_DELAY), so that a flood's
  // half-open SAs timing out together do not switch cookies off and on again (a legitimate
  // initiator could get answers with and without COOKIE to one request). Slot 0 is the total,
  // 1 + CalmdownBucket(source) the per-source threshold (sources share kCalmdownBuckets slots).
  static constexpr Seconds kCookieCalmdown{10};
  static constexpr std::size_t kCalmdownBuckets = 32;
  bool CookieRequired(std::size_t slot, bool reached, TimePoint now);
  std::size_t CalmdownBucket(const xfrm::IpAddress& address) const;
  bool AllowInitError(TimePoint now);
  bool DeriveInitKeys(IkeSa& sa, const SecretBytes& g_ir);
  // 2.23: the NAT_DETECTION_SOURCE_IP we send (the hashes cover `spi_r`, 0 in the request). With
  // PeerConfig::encap it hashes a made-up address, as charon, so that the peer sees us behind a
  // NAT and encapsulates.
  Bytes OurNatdSource(const IkeSa& sa, std::uint64_t spi_r, bool encap);
  // 2.23: what the peer's NAT-D notifies in IKE_SA_INIT `m` say: peer_natd, nat_local,
  // nat_remote, nat_fake (both hashes match but `encap` forces encapsulation, charon's
  // COND_NAT_FAKE); keepalives start when we are behind a NAT.
  void DetectNat(IkeSa& sa, const Message& m, std::uint64_t spi_r, bool encap, TimePoint now);
  const PeerConfig* PeerForAddresses(const Endpoint& local, const Endpoint& remote) const;

  // --- exchange_auth.cc (IKE_AUTH, 1.2, 2.15)
  void SendAuthRequest(IkeSa& sa, TimePoint now);
  void ProcessAuthRequest(IkeSa& sa, const Header& header, const std::vector<Payload>& inner,
                          const std::vector<Bytes>& hashes, TimePoint now);
  void ProcessAuthResponse(IkeSa& sa, const std::vector<Payload>& inner, TimePoint now);
  void EstablishIke(IkeSa& sa, TimePoint now);
  // Once IKE_AUTH is done and nothing is in flight, the SA idles: its SK ciphers free their
  // keyed OpenSSL contexts (keyed again on the next message).
  void ReleaseIdleCiphers(IkeSa& sa);

  // --- exchange_child.cc (CREATE_CHILD_SA for CHILD_SAs, 1.3.1, 1.3.3, 2.8, 2.25)
  // Initiator: the marks (%unique resolved, or `old`'s for a rekey), the reqid and the inbound
  // SPI of a CHILD_SA about to be proposed, into `pending`; false if the kernel refused the SPI.
  bool AllocChildSpi(IkeSa& sa, const ChildConfig& child, const ChildSa* old,
                     PendingChild& pending);
  // `pfs_group`/`ke_retries`: a retry after INVALID_KE_PAYLOAD with the group asked for.
  void StartCreateChild(IkeSa& sa, const std::string& name, std::uint64_t rekey_of, TimePoint now,
                        crypto::DhGroup pfs_group = crypto::DhGroup::kNone,
                        std::uint32_t ke_retries = 0);
  void ProcessChildRequest(IkeSa& sa, const Header& header, const std::vector<Payload>& inner,
                           const std::vector<Bytes>& hashes, TimePoint now);
  void ProcessChildResponse(IkeSa& sa, Outstanding& out, const std::vector<Payload>& inner,
                            TimePoint now);
  // Builds the CHILD_SA from negotiated values, derives KEYMAT (2.17) and installs it.
  // `we_initiated`: we sent the request of this exchange.
  ChildSa* InstallChild(IkeSa& sa, const ChildConfig& cfg, const EspChoice& choice,
                        std::uint32_t spi_in, const ChildTs& ts,
                        ByteView nonce_i, ByteView nonce_r,
                        const SecretBytes* g_ir, bool we_initiated, bool install_policies,
                        TimePoint now);
  void ReleaseSpi(IkeSa& sa, std::uint32_t spi_in);

  // --- exchange_ike_rekey.cc (2.18, 2.8.2)
  void StartIkeRekey(IkeSa& sa, TimePoint now);
  void ProcessIkeRekeyRequest(IkeSa& sa, const Header& header, const std::vector<Payload>& inner,
                              const std::vector<Bytes>& hashes, TimePoint now);
  void ProcessIkeRekeyResponse(IkeSa& sa, Outstanding& out, const std::vector<Payload>& inner,
                               TimePoint now);
  IkeSa* CreateRekeyedSa(IkeSa& old, bool we_initiated, const IkeChoice& choice,
                         std::uint64_t spi_i, std::uint64_t spi_r, ByteView nonce_i,
                         ByteView nonce_r, const SecretBytes& g_ir, TimePoint now);
  void MoveChildren(IkeSa& from, IkeSa& to);

  // --- exchange_info.cc (INFORMATIONAL: DELETE 1.4, liveness 2.4)
  void StartDelete(IkeSa& sa, bool ike, std::vector<std::uint64_t> children, TimePoint now);
  void StartDpd(IkeSa& sa, TimePoint now);
  // A CHILD_SA the peer created but we refuse (answer not acceptable, kernel failure) is
  // deleted on its side by our inbound SPI (1.4.1).
  void DeleteRefused(IkeSa& sa, std::uint32_t spi_in, TimePoint now);
  void ProcessInfoRequest(IkeSa& sa, const Header& header, const std::vector<Payload>& inner,
                          const std::vector<Bytes>& hashes, TimePoint now);
  void ProcessInfoResponse(IkeSa& sa, Outstanding& out, const std::vector<Payload>& inner,
                           TimePoint now);
  void GiveUp(IkeSa& sa, TimePoint now);

  // --- engine_observe.cc (trace and key sinks, retained key material)
  void TraceMessage(Direction direction, const IkeSa* sa, const Endpoint& local,
                    const Endpoint& remote, const Message& message,
                    const std::vector<Payload>* inner, std::size_t fragments, TimePoint now);
  // A protected message we sent: the outer view is decoded from its first sealed datagram.
  void TraceSealed(const IkeSa& sa, const std::vector<Bytes>& datagrams,
                   const std::vector<Payload>& inner, TimePoint now);
  // True when SetIkeKeys should leave a copy of SK_* for OnIkeKeys (retain_keymat, or the peer
  // exports IKE keys to a key sink).
  bool WantsIkeKeys(const IkeSa& sa) const;
  void OnIkeKeys(IkeSa& sa, const SecretBytes& g_ir, const SecretBytes& skeyseed,
                 crypto::IkeKeys keys);
  // After InstallChild: records the public 2.17 inputs; re-derives KEYMAT for retain_keymat or
  // the ESP export only.
  void OnChildKeys(IkeSa& sa, ChildSa& child, ByteView nonce_i, ByteView nonce_r,
                   const SecretBytes* g_ir, bool we_initiated);

  // --- child_kernel.cc
  // A reqid per selectors and marks (`traffic`), or the child's configured one.
  std::uint32_t AcquireReqid(const ChildConfig& cfg, const ChildTs& traffic);
  // `traffic` with the marks and XFRM interface ids of a new CHILD_SA: `old`'s when it replaces
  // one (a rekey), else the config's with %unique / %unique-dir given fresh values (charon's
  // child_sa_create). A child that names no if_id takes the IKE SA's (`ike_if_id_in/out`).
  ChildTs WithSharedIds(const ChildConfig& cfg, ChildTs traffic, const ChildSa* old,
                        std::uint32_t ike_if_id_in, std::uint32_t ike_if_id_out);
  // charon's allocate_unique_if_ids: %unique gives both directions one fresh id, %unique-dir
  // each its own; other values stay.
  void AllocateUniqueIfIds(std::uint32_t& in, std::uint32_t& out);
  // The IKE SA's XFRM interface ids from its config (charon's set_peer_cfg).
  void TakeIfIds(IkeSa& sa);
  void ReleaseReqid(std::uint32_t reqid);
  xfrm::Lifetime ChildLifetime(const ChildConfig& cfg);
  // When the kernel's expire of a CHILD_SA is overdue: its soft one (`soft` given and a soft
  // time limit set), else its hard one; none without a time limit. The margin is half the
  // soft-to-hard gap, 1 to 30 s (30 s for a hard one), so a lost soft expire still rekeys
  // before the hard limit.
  static std::optional<TimePoint> OverdueAt(const xfrm::Lifetime& life,
                                            std::optional<TimePoint> soft, TimePoint hard);
  // Removes a CHILD_SA from the kernel (its policies too if it owns them and nothing replaces
  // it) and from the SA, emitting kChildDown.
  void RemoveChild(IkeSa& sa, std::uint64_t child_id, TimePoint now, std::string_view reason);
  bool SwitchToSuccessor(IkeSa& sa, ChildSa& old_child, TimePoint now);
  void HandleExpireInRekey(IkeSa& sa, ChildSa& child, bool hard, TimePoint now);
  // start_action = trap: IN/FWD/OUT policies with trap priority and no SPI, so the first packet
  // that matches makes the kernel send an ACQUIRE for the child's reqid. They stay while the peer
  // config exists; a CHILD_SA's own policies take their place while it is installed.
  // dpd_action = trap and close_action = trap install the same for one child (InstallTrap, a no-op
  // when that child's trap is already there).
  void InstallTraps(const PeerConfig& peer, TimePoint now);
  void InstallTrap(const PeerConfig& peer, const ChildConfig& child, TimePoint now);
  // The traps of a peer, or of one of its children (`child` non-empty); true if any was there.
  bool RemoveTraps(std::string_view peer, std::string_view child = {});

  EngineConfig config_;
  crypto::Random& random_;
  xfrm::KernelIpsec& kernel_;
  // In configuration order (address lookups take the first); the daemon's shards share them.
  std::vector<std::shared_ptr<const PeerConfig>> peers_;
  std::map<std::string, std::size_t, std::less<>> peer_index_;  // name -> position in peers_
  std::map<std::uint64_t, std::unique_ptr<IkeSa>> sas_;         // by serial
  std::map<std::uint64_t, std::uint64_t> by_spi_;               // our SPI -> serial
  std::map<std::string, std::set<std::uint64_t>, std::less<>> sas_by_peer_;  // peer -> serials
  // (peer, remote identity type, remote identity) -> serials of the SAs authenticated so.
  std::map<IdentityKey, std::set<std::uint64_t>> sas_by_identity_;
  std::map<std::pair<std::uint64_t, Endpoint>, std::uint64_t> half_open_;  // (SPIi, peer) -> serial
  std::unique_ptr<SharedIdTable> own_ids_;  // when no shared table is given
  SharedIds& ids_;
  CookieSecret cookie_current_, cookie_previous_;
  TimePoint cookie_rotate_at_{};
  std::deque<TimePoint> init_failures_;  // at most cookie_threshold entries
  std::size_t fragment_bytes_ = 0;  // held by the Reassemblers of all SAs
  TimePoint init_error_window_{};
  std::uint32_t init_errors_sent_ = 0;
  TimePoint invalid_spi_window_{};
  std::uint32_t invalid_spi_sent_ = 0;
  // SAs destroyed during the current top-level call; freed when it returns (Scope), so that
  // references held further up the call stack stay valid.
  struct Trap {
    std::string peer;
    std::string child;
    std::uint32_t reqid;
    std::vector<xfrm::PolicySpec> policies;
  };
  std::vector<Trap> traps_;
  std::vector<std::unique_ptr<IkeSa>> graveyard_;
  int depth_ = 0;
  // Deadline index: each SA's next timer, refreshed at the end of every top-level call for the
  // SAs that call touched (FindSa/NewSa/DestroySa and the command loops mark them).
  std::set<std::pair<TimePoint, std::uint64_t>> deadlines_;
  std::map<std::uint64_t, TimePoint> deadline_of_;
  std::set<std::uint64_t> touched_;
  void Touch(const IkeSa& sa) { touched_.insert(sa.serial); }
  std::optional<TimePoint> SaDeadline(const IkeSa& sa) const;
  void RefreshDeadlines();
  // 2.6 half-open SAs (responder SAs still in kConnecting), counted per remote IP so that
  // IKE_SA_INIT checks its thresholds in O(log n). Brought up to date with the deadline index at
  // the end of every top-level call, for the SAs that call touched.
  std::map<std::uint64_t, xfrm::IpAddress> half_open_ip_;  // serial -> the source it counts for
  std::array<std::optional<TimePoint>, 1 + kCalmdownBuckets> cookie_reached_{};
  std::uint64_t calmdown_salt_ = 0;  // from the first cookie secret (no extra random draw)
  // The made-up source of OurNatdSource, drawn once when first needed (charon: a random IPv4
  // address that stays the same until a restart).
  std::optional<Endpoint> fake_natd_source_;
  std::map<xfrm::IpAddress, std::size_t> half_open_per_ip_;  // IPv4 address or IPv6 /64 -> count
  void SyncHalfOpen(std::uint64_t serial);
  // The unit half-open SAs are counted per: an IPv4 address, or an IPv6 /64 (one host's prefix:
  // a host holds a whole /64 and can send from any address in it).
  static xfrm::IpAddress HalfOpenSource(xfrm::IpAddress address);
  struct Scope {
    explicit Scope(Engine& e) : engine(e) { ++engine.depth_; }
    ~Scope() {
      if (--engine.depth_ == 0) {
        engine.RefreshDeadlines();
        engine.graveyard_.clear();
      }
    }
    Scope(const Scope&) = delete;
    Scope& operator=(const Scope&) = delete;
    Engine& engine;
  };
  std::vector<Datagram> out_;
  std::vector<Event> events_;
  TraceSink trace_sink_;
  KeySink key_sink_;
};

}  // namespace minivpn::ike
