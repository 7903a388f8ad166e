// Configuration of the IKE engine: global limits (EngineConfig) and one PeerConfig per
// connection, with structured proposals (the strongSwan proposal-string parser in cli/config/
// produces these). Defaults follow charon 5.9.8 (strongswan.conf / swanctl.conf defaults).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "base/charon_defaults.h"
#include "crypto/algorithms.h"
#include "crypto/secret.h"
#include "ike/wire/registry.h"
#include "xfrm/kernel_ipsec.h"

namespace minivpn::ike {

using Seconds = std::chrono::seconds;
using Millis = std::chrono::milliseconds;

// One encryption transform: id + key length in bits (128/192/256 for AES, 256 for ChaCha20).
struct EncrSpec {
  crypto::EncrId id = crypto::EncrId::kAesGcm16;
  std::uint16_t key_bits = 256;
  bool operator==(const EncrSpec&) const = default;
};

// One IKE proposal (RFC 7296 3.3): every listed transform is offered, in order of preference.
// "aes256gcm16-prfsha256-x25519" = {encr {{kAesGcm16, 256}}, integ {}, prf {kHmacSha2_256},
// dh {kCurve25519}}.
struct IkeProposal {
  std::vector<EncrSpec> encr{};
  std::vector<crypto::IntegId> integ{};  // empty for AEAD-only proposals
  std::vector<crypto::PrfId> prf{};
  std::vector<crypto::DhGroup> dh{};
  bool operator==(const IkeProposal&) const = default;
};

// One ESP proposal. dh non-empty = PFS groups for CREATE_CHILD_SA (not used in IKE_AUTH).
// esn lists the ESN transforms offered ({kNoEsn} = "noesn", {kEsn} = "esn").
struct EspProposal {
  std::vector<EncrSpec> encr{};
  std::vector<crypto::IntegId> integ{};
  std::vector<crypto::DhGroup> dh{};
  std::vector<EsnId> esn = {EsnId::kNoEsn};
  bool operator==(const EspProposal&) const = default;
};

// An IKE identity (RFC 7296 3.5). An empty `data` on the remote side means "%any" (accept
// any identity of that peer; IDr is then not sent).
struct Identity {
  IdType type = IdType::kFqdn;
  std::string data{};  // text for FQDN/RFC822/KEY_ID; 4 or 16 raw octets for IP addresses
  bool operator==(const Identity&) const = default;
};

// kTrapAndStart (charon's trap|start): the trap policies are installed and the child started.
enum class StartAction : std::uint8_t { kNone, kTrap, kStart, kTrapAndStart };
enum class DpdAction : std::uint8_t { kClear, kRestart, kTrap };
enum class CloseAction : std::uint8_t { kNone, kClear, kRestart, kTrap };
// Several IKE SAs with one peer identity (charon's `unique`): kNo keeps them unless the peer sends
// INITIAL_CONTACT, kNever keeps them even then, kReplace deletes the older ones when a new one
// is up, kKeep refuses the new one (AUTHENTICATION_FAILED).
enum class UniquePolicy : std::uint8_t { kNo, kNever, kReplace, kKeep };

// What the engine negotiates and installs for one child; built from the config's
// config::ChildConfig by cli/daemon/peer_mapping.cc (which resolves dynamic selectors and
// refuses what the engine cannot do).
struct ChildConfig {
  std::string name{};
  // Traffic selectors, offered in this order (route-based tunnels: 0.0.0.0/0 both; a dual-stack
  // child adds ::/0).
  std::vector<xfrm::Selector> local_ts{};
  std::vector<xfrm::Selector> remote_ts{};
  // charon's mode = transport: ask for (initiator) or grant (responder) transport mode, which
  // only host-to-host selectors get; tunnel otherwise.
  bool transport = false;
  xfrm::Mark mark_in{};      // IN/FWD policies; Mark{} = none
  xfrm::Mark mark_out{};     // OUT policy and outbound SA
  bool mark_in_sa = false;   // charon's mark_in_sa: mark_in on the inbound SA too
  // charon's if_id_in/if_id_out: the XFRM interface ids of the inbound SA and IN/FWD policies,
  // and of the outbound SA and OUT policy (an `ip link add ... type xfrm if_id N` device routes
  // into them); 0 = the IKE SA's (PeerConfig::if_id_in/out). base::kIfIdUnique and
  // kIfIdUniqueDir are charon's %unique and %unique-dir.
  std::uint32_t if_id_in = 0;
  std::uint32_t if_id_out = 0;
  // charon's policies: false installs the SAs only (policies are someone else's: an XFRM
  // interface's or the admin's); no traps then either.
  bool policies = true;
  // charon's reqid: fixed for this child (it must then be instantiated once at a time, as
  // charon requires); 0 = allocated, one per selector/mark combination.
  std::uint32_t reqid = 0;
  // The inbound SA's anti-replay window in packets (charon's replay_window; 0 = off). Beyond
  // 32, or with ESN, the kernel gets it as XFRMA_REPLAY_ESN_VAL, as charon programs it.
  std::uint32_t replay_window = base::charon::kReplayWindow;
  std::vector<EspProposal> proposals{};
  StartAction start_action = StartAction::kNone;
  DpdAction dpd_action = DpdAction::kClear;
  CloseAction close_action = CloseAction::kNone;
  Seconds rekey_time{base::charon::kChildRekeyTime};  // soft = rekey_time - random(0..rand_time)
  Seconds life_time{base::charon::kChildLifeTime};    // hard lifetime
  Seconds rand_time{base::charon::kChildRandTime};
  // charon's inactivity: a CHILD_SA that carried no packet in either direction for this long
  // (since it was installed, if never) is closed with a DELETE; 0 = never.
  Seconds inactivity{0};
  // The same for traffic volume (charon's rekey_bytes/life_bytes/rand_bytes and _packets): the
  // kernel's soft limit is rekey - random(0..rand), its hard limit life; 0 = no limit.
  std::uint64_t rekey_bytes = 0;
  std::uint64_t life_bytes = 0;
  std::uint64_t rand_bytes = 0;
  std::uint64_t rekey_packets = 0;
  std::uint64_t life_packets = 0;
  std::uint64_t rand_packets = 0;
};

struct PeerConfig {
  std::string name{};
  xfrm::IpAddress local_address{};   // where we send from; unset = any
  xfrm::IpAddress remote_address{};  // where we initiate to; unset = any (responder only)
  // Which addresses this config answers as a responder (charon's local_addrs/remote_addrs lists:
  // addresses, subnets, %any = 0.0.0.0/0 and ::/0); empty = local_address/remote_address alone
  // (unset = any).
  std::vector<xfrm::Subnet> local_match{};
  std::vector<xfrm::Subnet> remote_match{};
  std::uint16_t remote_port = 500;
  // The XFRM interface ids of the children that name none (charon: connections.<conn>.if_id_in/
  // if_id_out); %unique resolved once per IKE SA, so all its children share the id.
  std::uint32_t if_id_in = 0;
  std::uint32_t if_id_out = 0;
  std::vector<IkeProposal> proposals{};
  Identity local_id{};
  Identity remote_id{};  // empty data = any
  SharedSecretBytes psk{};  // the config's, shared (crypto/secret.h)
  Seconds dpd_delay{0};          // 0 = no liveness checks
  Seconds dpd_timeout{0};        // 0 = give up with the retransmission schedule (IKEv2 default)
  Seconds rekey_time{base::charon::kIkeRekeyTime};  // IKE rekey; 0 = never
  Seconds over_time{0};          // 0 = 10% of rekey_time (charon)
  Seconds rand_time{0};          // 0 = over_time (charon)
  // Reauthentication (RFC 7296 2.8.3; charon's reauth_time, ipsec.conf reauth = yes): every
  // reauth_time - random(0..rand_time) a new IKE SA from IKE_SA_INIT with the CHILD_SAs made
  // again replaces this one; 0 = never. Hard IKE lifetime: the longer of rekey/reauth_time +
  // over_time.
  Seconds reauth_time{0};
  // charon.make_before_break: the new IKE SA and its CHILD_SAs come up before the old IKE SA is
  // deleted (their policies shared meanwhile); otherwise (charon 5.9's default) the old one is
  // deleted first.
  bool make_before_break = false;
  bool fragmentation = true;     // announce and use RFC 7383 fragmentation
  // charon's fragmentation = accept: announce it (the peer may fragment) but send our own
  // messages whole.
  bool fragment_own = true;
  // charon's fragmentation = force: fragment protected messages above fragment_size even when
  // the peer did not announce RFC 7383 support.
  bool fragment_force = false;
  // charon's encap (ipsec.conf forceencaps): ESP in UDP even without a NAT. As charon, our
  // NAT_DETECTION_SOURCE_IP hashes a made-up address, so the peer sees us behind a NAT and
  // encapsulates too, and we encapsulate when both hashes match.
  bool encap = false;
  // mobike (charon's default yes): as charon, float to port 4500 after IKE_SA_INIT even without
  // a NAT; with mobike = no only a detected NAT moves IKE there. (MOBIKE itself, RFC 4555, is not
  // implemented: minivpnd does not send MOBIKE_SUPPORTED.)
  bool mobike = true;
  bool send_initial_contact = true;
  UniquePolicy unique = UniquePolicy::kNo;
  // Attempts to establish before giving up (charon's keyingtries); 0 = keep trying forever.
  std::uint32_t keyingtries = base::charon::kKeyingTries;
  std::vector<ChildConfig> children{};
  // Wireshark export (issue 9, strongSwan's save-keys): hand the ikev2_decryption_table line of
  // every IKE SA / the esp_sa lines of every CHILD_SA of this peer to the engine's KeySink.
  bool export_ike_keys = false;
  bool export_esp_keys = false;
};

// Global limits of one engine. Everything that is a timer or a limit lives here.
struct EngineConfig {
  // RFC 7296 2.1 retransmission (charon: 4 s x 1.8, 5 retransmits = give up after 165 s).
  Millis retransmit_timeout{static_cast<long>(base::charon::kRetransmitTimeout * 1000)};
  double retransmit_base = base::charon::kRetransmitBase;
  std::uint32_t retransmit_tries = base::charon::kRetransmitTries;
  // Half-open SAs and COOKIEs (RFC 7296 2.6; charon: 30 / 3 per IP, block at 5 per IP). 0 asks
  // every request for a cookie (or blocks every one); strongswan.conf's 0, which turns charon's
  // check off, arrives here as SIZE_MAX (cli/daemon/peer_mapping.cc).
  std::size_t cookie_threshold = base::charon::kCookieThreshold;
  std::size_t cookie_threshold_ip = base::charon::kCookieThresholdIp;
  std::size_t block_threshold_ip = base::charon::kBlockThreshold;
  Seconds half_open_timeout{base::charon::kHalfOpenTimeout};
  // Half-open SAs from all sources together (charon's init_limit_half_open; charon's default 0
  // means no limit; minivpn's 10,000 bounds the memory a flood that answers cookies can take;
  // 0 = no limit). Per source, half-open SAs are counted per IPv4 address and per IPv6 /64.
  std::size_t init_limit_half_open = 10000;
  // IKE_SA_INIT requests that fail after the key exchange was computed (a bad public value)
  // cost what a half-open SA costs: each counts toward cookie_threshold for half_open_timeout.
  // The COOKIE secret (RFC 7296 2.6) is replaced every cookie_secret_lifetime; a cookie made
  // with the previous secret is still accepted, so a cookie lives at most twice that long.
  Seconds cookie_secret_lifetime{60};
  // Unprotected error answers to IKE_SA_INIT (NO_PROPOSAL_CHOSEN, INVALID_KE_PAYLOAD,
  // INVALID_SYNTAX ...), per second, all sources together; COOKIE answers are not limited.
  std::uint32_t init_errors_per_second = 20;
  // CHILD_SAs one IKE SA may hold (an authenticated peer asking for more gets NO_ADDITIONAL_SAS;
  // rekeys do not count). charon has no such limit.
  std::size_t max_children_per_ike_sa = 256;
  // RFC 7383: fragment protected messages above this IP datagram size (charon fragment_size).
  std::size_t fragment_size = base::charon::kFragmentSize;
  // charon's max_packet: a larger datagram is dropped, and so is a fragmented message whose
  // reassembled plaintext would grow beyond it.
  std::size_t max_packet = base::charon::kMaxPacket;
  // Plaintext held for fragmented messages being reassembled, all IKE SAs together (charon has
  // no such budget; each SA holds at most 2 x max_packet): a fragment that would exceed it is
  // dropped, and its message is retransmitted by the peer later.
  std::size_t fragment_bytes_limit = 4u << 20;
  std::uint16_t nat_t_port = base::charon::kPortNatT;
  // charon's keep_alive: an IKE SA behind a NAT sends a NAT-T keepalive (RFC 3948 2.3, one 0xFF
  // octet to the peer's NAT-T port) after this long without an outbound IKE message or ESP
  // packet, so that the NAT keeps its mapping; 0 = never.
  Seconds keep_alive{base::charon::kKeepAlive};
  std::uint16_t ike_port = base::charon::kPort;
  // Bounded retries of IKE_SA_INIT after INVALID_KE_PAYLOAD / COOKIE.
  std::uint32_t max_init_retries = 3;
  // Delay before retrying a CHILD/IKE rekey that got TEMPORARY_FAILURE (RFC 7296 2.25).
  Seconds retry_delay{10};
  // Copies of one request answered with the cached response (RFC 7296 2.1 retransmissions):
  // an initiator retransmits a few times (charon: retransmit_tries, 5), a replay of a captured
  // request (from a spoofed source, for IKE_SA_INIT) thousands of times. Later copies are
  // dropped; the next request of the exchange gets a fresh budget. charon has no such bound.
  std::uint32_t max_cached_resends = 10;
  // Rate limit for unprotected INVALID_IKE_SPI replies (per second, all peers).
  std::uint32_t invalid_spi_per_second = 10;
  // Nonce length we send (RFC 7296 2.10: at least half the PRF key size, 16..256).
  std::size_t nonce_size = 32;
  // How long the old IKE SA waits for the DELETE of the peer that rekeyed it, on top of the
  // peer's whole retransmission schedule (it may still be retransmitting its rekey request).
  Seconds delete_timeout{30};
  // `explain --show-secrets`: keep g^ir, SKEYSEED, SK_* and KEYMAT of every IKE SA and CHILD_SA
  // in memory (SecretBytes) for their lifetime. Off by default: the engine then forgets them as
  // before (g^ir and SKEYSEED right after 2.14, KEYMAT once in the kernel) and Explain() gives
  // the walk-through with public inputs and key lengths only.
  bool retain_keymat = false;

  // Multi-core: a daemon with W worker threads runs W engines, shards of its IKE SAs (see
  // docs/architecture.md). This engine's IKE SPIs map to shard_index (shard.h: ShardOfSpi), so a
  // steering step delivers every message to the engine that holds its SA; only a peer config's
  // home shard acts on its start and trap actions (the shards share their ids: shared_ids.h). One engine alone: index 0 of 1.
  std::uint32_t shard_index = 0;
  std::uint32_t shard_count = 1;

  // The time a request is retransmitted before the initiator gives up (165 s by default).
  Millis RetransmitHorizon() const;
};

}  // namespace minivpn::ike
