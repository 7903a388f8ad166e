// The validated, in-memory configuration of minivpnd, produced from swanctl.conf or from the
// legacy ipsec.conf + ipsec.secrets (+ strongswan.conf for global settings) by config.h.
//
// Shape (plain structs, std types and enums only; every default already applied):
//
//   Config
//   +- GlobalSettings global          strongswan.conf charon{} keys we honour
//   +- vector<ConnectionConfig>       one per swanctl connection / loaded ipsec.conf conn
//   |   +- addresses, ports, IKE proposals, identities, PSK (resolved), timers
//   |   +- vector<ChildConfig>        one per swanctl child; exactly one for an ipsec.conf conn
//   |       +- traffic selectors, marks, ESP proposals, actions, lifetimes
//   |       +- optional<VtiConfig>    minivpn addition: the route-based VTI to create
//   |       +- optional<XfrmInterfaceConfig>  minivpn addition: or the XFRM interface
//   +- vector<SharedSecret>           every IKE PSK with its owner identities
//
// Mapping onto the engine (ike/engine/engine_config.h): IkeProposal/EspProposal/EncrSpec have the same
// fields as ike::IkeProposal/EspProposal/EncrSpec; IdType values are RFC 7296 3.5 ID types
// (kAny = 0 is "%any": match any peer identity / use the IKE address locally); Mark is
// base::Mark, {value, mask} with mask 0 = no mark; Action kNone/kTrap/kStart are charon's none (= clear),
// trap (= hold, route) and start (= restart). Times are seconds, 0 = disabled.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "base/charon_defaults.h"
#include "base/ip.h"
#include "base/mark.h"
#include "base/selector.h"
#include "cli/config/diagnostic.h"
#include "crypto/algorithms.h"
#include "crypto/secret.h"

namespace minivpn::config {

using Seconds = std::chrono::seconds;

// Addresses, subnets and marks are base's, the same types the engine and xfrm use
// (base/ip.h, base/mark.h): the config hands them on without conversion.
using base::IpAddress;
using base::Mark;
using base::Selector;
using base::Subnet;

// One entry of local_addrs/remote_addrs (or left=/right=).
struct Host {
  enum class Kind : std::uint8_t { kAny, kAddress, kSubnet, kHostname };
  Kind kind = Kind::kAny;
  std::uint8_t any_family = 0;  // kAny: 0 = %any, AF_INET = %any4, AF_INET6 = %any6
  Subnet subnet{};              // kAddress: prefix = 32/128; kSubnet: responder match range
  std::string hostname{};       // kHostname: resolved by the daemon
  bool operator==(const Host&) const = default;
};

// RFC 7296 3.5 ID types, plus kAny for "%any".
enum class IdType : std::uint8_t {
  kAny = 0,
  kIpv4Addr = 1,
  kFqdn = 2,
  kRfc822Addr = 3,
  kIpv6Addr = 5,
  kKeyId = 11,
};

// An identity as the file wrote it, in charon's syntax: kAny is "%any" and ToString prints what
// charon prints. The engine's ike::Identity is the ID payload itself (RFC 7296 3.5), where "%any"
// has no type: cli/daemon/peer_mapping.cc resolves one into the other (the IKE address locally,
// "accept any" remotely), which is why the two are separate types.
struct Identity {
  IdType type = IdType::kAny;
  std::string data{};            // text for FQDN/RFC822, raw octets for IP addresses and KEY_ID
  std::string ToString() const;  // as charon prints it: "routerA", "192.0.2.1", "@#0a0b"
  bool operator==(const Identity&) const = default;
};

struct EncrSpec {
  crypto::EncrId id = crypto::EncrId::kAesGcm16;
  std::uint16_t key_bits = 256;
  bool operator==(const EncrSpec&) const = default;
};

enum class Esn : std::uint16_t { kNoEsn = 0, kEsn = 1 };  // Transform Type 5 ids

struct IkeProposal {
  std::vector<EncrSpec> encr{};
  std::vector<crypto::IntegId> integ{};  // empty for AEAD proposals
  std::vector<crypto::PrfId> prf{};
  std::vector<crypto::DhGroup> dh{};
  bool operator==(const IkeProposal&) const = default;
};

struct EspProposal {
  std::vector<EncrSpec> encr{};
  std::vector<crypto::IntegId> integ{};  // empty for AEAD proposals
  std::vector<crypto::DhGroup> dh{};     // PFS groups for CREATE_CHILD_SA
  std::vector<Esn> esn = {Esn::kNoEsn};
  bool operator==(const EspProposal&) const = default;
};

enum class StartAction : std::uint8_t { kNone, kTrap, kStart, kTrapAndStart };
enum class Action : std::uint8_t { kNone, kTrap, kStart };  // dpd_action, close_action
enum class Fragmentation : std::uint8_t { kYes, kAccept, kForce, kNo };

// minivpn addition: the VTI of a route-based child. minivpnd creates it as
// `ip tunnel add <name> local <local> remote <remote> mode vti key <key>` (ikey = okey = key,
// which is also the child's mark), sets its MTU, brings it up, sets
// net.ipv4.conf.<name>.disable_policy=1, puts `addrs` on it and adds `routes` through it.
// (A separate type from vti::VtiConfig: this is what the file asks for, with the endpoints
// optional until the IKE SA's addresses are known, plus routes and interface addresses; that one
// is a single link request with both endpoints resolved.)
struct VtiConfig {
  std::string name{};
  std::optional<IpAddress> local{};   // unset: the IKE SA's local address
  std::optional<IpAddress> remote{};  // unset: the IKE SA's remote address
  std::uint32_t key = 0;            // = mark_in.value = mark_out.value
  std::uint32_t mtu = 0;            // 0: kernel default
  std::vector<Subnet> routes{};
  std::vector<Subnet> addrs{};  // interface addresses, host bits kept (169.254.12.1/30)
  bool disable_policy = true;
  // The link is operationally up only while a CHILD_SA of a child using it is installed
  // (dormant otherwise), so routing daemons see a dead tunnel at once; false: always up.
  bool follow_sa = true;
  bool operator==(const VtiConfig&) const = default;
};

// minivpn addition: the XFRM interface of a route-based child, instead of a VTI. minivpnd creates
// it as `ip link add <name> type xfrm [dev <dev>] if_id <id>` (the id is also the child's
// if_id_in = if_id_out), sets its MTU, brings it up, puts `addrs` on it and adds `routes`.
struct XfrmInterfaceConfig {
  std::string name{};
  std::uint32_t id = 0;   // = the child's if_id_in = if_id_out (or the connection's)
  std::string dev{};      // the underlying device; empty: none
  std::uint32_t mtu = 0;  // 0: kernel default
  std::vector<Subnet> routes{};
  std::vector<Subnet> addrs{};
  bool follow_sa = true;  // as VtiConfig's
  bool operator==(const XfrmInterfaceConfig&) const = default;
};

// A child as the file wrote it (lists of selectors, dynamic ones unresolved, its file position).
// The engine's ike::ChildConfig is what it negotiates with: the selectors resolved.
struct ChildConfig {
  std::string name{};
  Location where{};
  // Empty = dynamic; a selector with an unset address is dynamic too, with a protocol/port
  // ("dynamic[gre]"): the IKE address of that side as a host.
  std::vector<Selector> local_ts{};
  std::vector<Selector> remote_ts{};
  bool transport = false;  // swanctl mode = transport, ipsec.conf type = transport
  Mark mark_in{};
  Mark mark_out{};
  bool mark_in_sa = false;  // charon: inbound mark on the policy only unless set
  // XFRM interface ids (charon's if_id_in/if_id_out); 0 = the connection's (0 there = none).
  std::uint32_t if_id_in = 0;
  std::uint32_t if_id_out = 0;
  std::vector<EspProposal> esp_proposals{};
  StartAction start_action = StartAction::kNone;
  Action dpd_action = Action::kNone;
  Action close_action = Action::kNone;
  Seconds rekey_time{base::charon::kChildRekeyTime};
  Seconds life_time{base::charon::kChildLifeTime};
  Seconds rand_time{base::charon::kChildRandTime};
  // Volume lifetimes (swanctl rekey_/life_/rand_bytes and _packets; ipsec.conf lifebytes,
  // marginbytes, lifepackets, marginpackets): 0 = no limit, as in charon.
  std::uint64_t rekey_bytes = 0;
  std::uint64_t life_bytes = 0;
  std::uint64_t rand_bytes = 0;
  std::uint64_t rekey_packets = 0;
  std::uint64_t life_packets = 0;
  std::uint64_t rand_packets = 0;
  Seconds inactivity{0};
  std::uint32_t reqid = 0;  // 0 = allocated
  std::uint32_t replay_window = base::charon::kReplayWindow;
  bool policies = true;
  std::string updown{};  // a shell command run on up and down, as charon's updown plugin
  std::optional<VtiConfig> vti{};
  std::optional<XfrmInterfaceConfig> xfrmi{};
  bool operator==(const ChildConfig&) const = default;
};

// Several IKE SAs with the same peer identity (swanctl.conf(5) `unique`): kNo keeps them unless
// the peer sends INITIAL_CONTACT, kNever keeps them even then, kReplace deletes the older ones
// once a new one is up, kKeep refuses the new one.
enum class UniquePolicy : std::uint8_t { kNo, kNever, kReplace, kKeep };

struct ConnectionConfig {
  std::string name{};
  Location where{};
  int version = 2;                   // 0 (any, we speak IKEv2) or 2
  std::vector<Host> local_addrs{};   // empty = %any
  std::vector<Host> remote_addrs{};  // empty = %any (responder only)
  std::uint16_t local_port = 500;
  std::uint16_t remote_port = 500;
  std::vector<IkeProposal> proposals{};
  // XFRM interface ids for the children that name none (charon: connections.<conn>.if_id_in/out).
  std::uint32_t if_id_in = 0;
  std::uint32_t if_id_out = 0;
  Identity local_id{};
  Identity remote_id{};
  SharedSecretBytes psk{};  // resolved from the secrets for (local_id, remote_id); copies share it
  Seconds dpd_delay{0};
  Seconds dpd_timeout{0};
  Seconds rekey_time{base::charon::kIkeRekeyTime};
  Seconds over_time{base::charon::kIkeOverTime};
  Seconds rand_time{base::charon::kIkeRandTime};
  Seconds reauth_time{0};         // reauthentication interval (RFC 7296 2.8.3); 0 = none
  std::uint32_t keyingtries = base::charon::kKeyingTries;  // 0 = forever
  // swanctl `unique` (ipsec.conf: config setup `uniqueids`, default yes = replace).
  UniquePolicy unique = UniquePolicy::kNo;
  bool mobike = true;
  bool encap = false;
  Fragmentation fragmentation = Fragmentation::kYes;
  // minivpn addition (issue 9): directory to append this connection's Wireshark decryption
  // tables to (ikev2_decryption_table, esp_sa; ike/observe/wireshark_keys.h). Empty = not exported,
  // unless strongswan.conf's save-keys plugin asks for it for every connection.
  std::string wireshark_keys{};
  std::vector<ChildConfig> children{};

  bool operator==(const ConnectionConfig&) const = default;  // the PSK in constant time
};

// An IKE pre-shared key with the identities it belongs to (empty = default secret).
struct SharedSecret {
  std::string name{};  // "ike-x" (swanctl) or "ipsec.secrets:3"
  Location where{};
  std::vector<Identity> owners{};
  SharedSecretBytes secret{};
};

// strongswan.conf charon { } (and charon-systemd { }) keys minivpn honours; charon defaults.
struct GlobalSettings {
  bool install_routes = true;
  std::uint32_t retransmit_tries = base::charon::kRetransmitTries;
  double retransmit_timeout = base::charon::kRetransmitTimeout;  // seconds
  double retransmit_base = base::charon::kRetransmitBase;
  std::uint32_t cookie_threshold = base::charon::kCookieThreshold;
  std::uint32_t cookie_threshold_ip = base::charon::kCookieThresholdIp;
  std::uint32_t block_threshold = base::charon::kBlockThreshold;
  // charon's init_limit_half_open (charon: 0 = no limit); minivpn's default caps it, see
  // ike::EngineConfig::init_limit_half_open.
  std::uint32_t init_limit_half_open = 10000;
  Seconds half_open_timeout{base::charon::kHalfOpenTimeout};
  std::uint32_t fragment_size = base::charon::kFragmentSize;
  Seconds keep_alive{base::charon::kKeepAlive};  // charon.keep_alive; 0 = no NAT-T keepalives
  std::uint32_t max_packet = base::charon::kMaxPacket;
  // charon.plugins.vici.socket (unix://...): if it answers, charon runs on this host.
  std::string vici_socket = "/var/run/charon.vici";
  std::uint16_t port = base::charon::kPort;
  std::uint16_t port_nat_t = base::charon::kPortNatT;
  bool make_before_break = false;
  // charon.plugins.save-keys { load, wireshark_keys, ike, esp } (strongSwan's save-keys
  // plugin): the Wireshark export for every connection. Active when load = yes, the directory
  // is set and ike or esp is yes (all default to off, as in charon).
  bool save_keys_load = false;
  std::string save_keys_dir{};
  bool save_keys_ike = false;
  bool save_keys_esp = false;
  // charon's loggers (filelog.<name>, stderr, syslog.<facility>, journal sections): minivpnd has
  // one log, on stderr, so each subsystem (ike, cfg, knl, net, enc) gets the highest level any
  // configured logger has for it (its own key, else its `default`, charon's default 1), clamped
  // to -1 (silent) .. 3. Empty when no logger is configured (minivpnd's default then).
  std::map<std::string, int, std::less<>> log_levels{};
  bool operator==(const GlobalSettings&) const = default;
};

struct Config {
  GlobalSettings global{};
  std::vector<ConnectionConfig> connections{};
  std::vector<SharedSecret> secrets{};

  const ConnectionConfig* Find(std::string_view name) const;
};

// Best PSK for a (local, remote) identity pair, charon's rules: an owner equal to an identity
// scores best, "%any" owners and owner-less (default) secrets match anything with a lower
// score; secrets matching neither identity are skipped. nullptr if none matches.
const SharedSecret* FindSharedSecret(const std::vector<SharedSecret>& secrets,
                                     const Identity& local, const Identity& remote);

}  // namespace minivpn::config
