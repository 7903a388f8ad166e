#include "cli/daemon/peer_mapping.h"

#include <fmt/core.h>
#include <netdb.h>
#include <sys/socket.h>

#include <cstring>
#include <limits>

namespace minivpn::daemon {

namespace {

std::vector<ike::EncrSpec> ToEncr(const std::vector<config::EncrSpec>& in) {
  std::vector<ike::EncrSpec> out;
  for (const auto& e : in) out.push_back({e.id, e.key_bits});
  return out;
}

// The first concrete address of local_addrs/remote_addrs; hostnames are resolved here, once,
// when the config is loaded (as charon does for remote_addrs at initiation time).
std::expected<xfrm::IpAddress, std::string> Resolve(const std::string& hostname) {
  addrinfo hints{};
  hints.ai_socktype = SOCK_DGRAM;
  addrinfo* result = nullptr;
  if (int rc = ::getaddrinfo(hostname.c_str(), nullptr, &hints, &result); rc != 0) {
    return std::unexpected(fmt::format("cannot resolve '{}': {}", hostname, gai_strerror(rc)));
  }
  xfrm::IpAddress ip;
  ip.family = static_cast<std::uint8_t>(result->ai_family);
  if (result->ai_family == AF_INET) {
    std::memcpy(ip.bytes.data(), &reinterpret_cast<sockaddr_in*>(result->ai_addr)->sin_addr, 4);
  } else {
    std::memcpy(ip.bytes.data(), &reinterpret_cast<sockaddr_in6*>(result->ai_addr)->sin6_addr, 16);
  }
  ::freeaddrinfo(result);
  return ip;
}

// The first address or DNS name of a list: where we initiate to (or send from); %any if none.
std::expected<xfrm::IpAddress, std::string> FirstAddress(const std::vector<config::Host>& hosts) {
  for (const auto& host : hosts) {
    if (host.kind == config::Host::Kind::kAddress) return host.subnet.address;
    if (host.kind == config::Host::Kind::kHostname) return Resolve(host.hostname);
  }
  return xfrm::IpAddress{};  // %any
}

// Every entry of the list as what a responder accepts (charon matches each of local_addrs and
// remote_addrs): an address as a host, a subnet as itself, %any as 0.0.0.0/0 and ::/0, %any4 and
// %any6 as one of them, a DNS name as the address it resolves to. Empty for an empty list (any).
std::expected<std::vector<xfrm::Subnet>, std::string> MatchList(
    const std::vector<config::Host>& hosts) {
  std::vector<xfrm::Subnet> out;
  const auto any = [&out](std::uint8_t family) {
    if (family != AF_INET6) out.push_back(*xfrm::Subnet::Parse("0.0.0.0/0"));
    if (family != AF_INET) out.push_back(*xfrm::Subnet::Parse("::/0"));
  };
  for (const auto& host : hosts) {
    switch (host.kind) {
      case config::Host::Kind::kAny: any(host.any_family); break;
      case config::Host::Kind::kAddress:
      case config::Host::Kind::kSubnet: out.push_back(host.subnet); break;
      case config::Host::Kind::kHostname: {
        auto ip = Resolve(host.hostname);
        if (!ip) return std::unexpected(ip.error());
        out.push_back(xfrm::Subnet::Host(*ip));
        break;
      }
    }
  }
  return out;
}

ike::Identity ToIdentity(const config::Identity& id, const xfrm::IpAddress& fallback) {
  if (id.type == config::IdType::kAny) {
    // charon's default identity is the IKE address; for the remote side "%any" = accept any.
    if (fallback.family == 0) return ike::Identity{ike::IdType::kFqdn, ""};
    bool v4 = fallback.is_v4();
    return ike::Identity{v4 ? ike::IdType::kIpv4Addr : ike::IdType::kIpv6Addr,
                         std::string(fallback.bytes.begin(), fallback.bytes.begin() + (v4 ? 4 : 16))};
  }
  return ike::Identity{static_cast<ike::IdType>(id.type), id.data};
}

ike::DpdAction ToDpdAction(config::Action a) {
  switch (a) {
    case config::Action::kTrap: return ike::DpdAction::kTrap;
    case config::Action::kStart: return ike::DpdAction::kRestart;
    case config::Action::kNone: break;
  }
  return ike::DpdAction::kClear;
}

ike::CloseAction ToCloseAction(config::Action a) {
  switch (a) {
    case config::Action::kTrap: return ike::CloseAction::kTrap;
    case config::Action::kStart: return ike::CloseAction::kRestart;
    case config::Action::kNone: break;
  }
  return ike::CloseAction::kNone;
}

ike::StartAction ToStartAction(config::StartAction a) {
  switch (a) {
    case config::StartAction::kTrap: return ike::StartAction::kTrap;
    case config::StartAction::kStart: return ike::StartAction::kStart;
    case config::StartAction::kTrapAndStart: return ike::StartAction::kTrapAndStart;
    case config::StartAction::kNone: break;
  }
  return ike::StartAction::kNone;
}

// The selectors of one side; an empty list is "dynamic": one entry without an address, which the
// engine resolves to that side's IKE address per IKE SA (ike::ResolveDynamic). Dynamic needs an
// address to start or trap from.
std::expected<std::vector<xfrm::Selector>, std::string> ResolveSelectors(
    const std::vector<config::Selector>& ts, const xfrm::IpAddress& dynamic, const char* what,
    bool initiates) {
  std::vector<xfrm::Selector> out = ts.empty() ? std::vector<xfrm::Selector>{{}} : ts;
  const bool is_dynamic = std::any_of(out.begin(), out.end(), [](const xfrm::Selector& s) {
    return !s.net.address.is_set();
  });
  if (is_dynamic && initiates && !dynamic.is_set())
    return std::unexpected(fmt::format("{} is dynamic but the address is %any", what));
  return out;
}

}  // namespace

std::expected<ike::PeerConfig, std::string> ToPeerConfig(const config::ConnectionConfig& conn) {
  ike::PeerConfig peer;
  peer.name = conn.name;
  auto local = FirstAddress(conn.local_addrs);
  if (!local) return std::unexpected(fmt::format("connection '{}': local_addrs: {}", conn.name, local.error()));
  auto remote = FirstAddress(conn.remote_addrs);
  if (!remote) return std::unexpected(fmt::format("connection '{}': remote_addrs: {}", conn.name, remote.error()));
  peer.local_address = *local;
  peer.remote_address = *remote;
  auto local_match = MatchList(conn.local_addrs);
  auto remote_match = MatchList(conn.remote_addrs);
  if (!local_match) return std::unexpected(fmt::format("connection '{}': local_addrs: {}", conn.name, local_match.error()));
  if (!remote_match) return std::unexpected(fmt::format("connection '{}': remote_addrs: {}", conn.name, remote_match.error()));
  peer.local_match = std::move(*local_match);
  peer.remote_match = std::move(*remote_match);
  peer.remote_port = conn.remote_port;
  peer.if_id_in = conn.if_id_in;
  peer.if_id_out = conn.if_id_out;
  for (const auto& p : conn.proposals) {
    peer.proposals.push_back(ike::IkeProposal{ToEncr(p.encr), p.integ, p.prf, p.dh});
  }
  peer.local_id = ToIdentity(conn.local_id, peer.local_address);
  peer.remote_id = ToIdentity(conn.remote_id, xfrm::IpAddress{});
  if (conn.remote_id.type == config::IdType::kAny) peer.remote_id.data.clear();
  peer.psk = conn.psk;
  peer.dpd_delay = conn.dpd_delay;
  peer.dpd_timeout = conn.dpd_timeout;
  peer.rekey_time = conn.rekey_time;
  peer.over_time = conn.over_time;
  peer.rand_time = conn.rand_time;
  peer.reauth_time = conn.reauth_time;
  peer.fragmentation = conn.fragmentation != config::Fragmentation::kNo;
  peer.fragment_own = conn.fragmentation != config::Fragmentation::kAccept;
  peer.fragment_force = conn.fragmentation == config::Fragmentation::kForce;
  peer.encap = conn.encap;
  peer.mobike = conn.mobike;
  peer.keyingtries = conn.keyingtries;
  switch (conn.unique) {
    case config::UniquePolicy::kNo: peer.unique = ike::UniquePolicy::kNo; break;
    case config::UniquePolicy::kNever: peer.unique = ike::UniquePolicy::kNever; break;
    case config::UniquePolicy::kReplace: peer.unique = ike::UniquePolicy::kReplace; break;
    case config::UniquePolicy::kKeep: peer.unique = ike::UniquePolicy::kKeep; break;
  }
  for (const auto& c : conn.children) {
    ike::ChildConfig child;
    child.name = c.name;
    // Trap policies are installed from the config, so their dynamic selectors need addresses.
    const ike::StartAction start = ToStartAction(c.start_action);
    const bool traps =
        start == ike::StartAction::kTrap || start == ike::StartAction::kTrapAndStart;
    auto local_ts = ResolveSelectors(c.local_ts, peer.local_address, "local_ts", traps);
    auto remote_ts = ResolveSelectors(c.remote_ts, peer.remote_address, "remote_ts", traps);
    if (!local_ts) return std::unexpected(fmt::format("child '{}': {}", c.name, local_ts.error()));
    if (!remote_ts) return std::unexpected(fmt::format("child '{}': {}", c.name, remote_ts.error()));
    child.local_ts = *local_ts;
    child.remote_ts = *remote_ts;
    child.transport = c.transport;
    child.mark_in = c.mark_in;
    child.mark_out = c.mark_out;
    child.mark_in_sa = c.mark_in_sa;
    child.if_id_in = c.if_id_in;  // 0: the IKE SA's (PeerConfig::if_id_in/out)
    child.if_id_out = c.if_id_out;
    child.reqid = c.reqid;
    child.replay_window = c.replay_window;
    for (const auto& p : c.esp_proposals) {
      std::vector<ike::EsnId> esn;
      for (auto e : p.esn) esn.push_back(static_cast<ike::EsnId>(e));
      child.proposals.push_back(ike::EspProposal{ToEncr(p.encr), p.integ, p.dh, esn});
    }
    child.start_action = ToStartAction(c.start_action);
    child.dpd_action = ToDpdAction(c.dpd_action);
    child.close_action = ToCloseAction(c.close_action);
    child.rekey_time = c.rekey_time;
    child.life_time = c.life_time;
    child.rand_time = c.rand_time;
    child.inactivity = c.inactivity;
    child.policies = c.policies;
    child.rekey_bytes = c.rekey_bytes;
    child.life_bytes = c.life_bytes;
    child.rand_bytes = c.rand_bytes;
    child.rekey_packets = c.rekey_packets;
    child.life_packets = c.life_packets;
    child.rand_packets = c.rand_packets;
    if (child.start_action != ike::StartAction::kNone && peer.remote_address.family == 0) {
      return std::unexpected(fmt::format(
          "connection '{}': child '{}' has start_action {} but remote_addrs has no address to "
          "initiate to",
          conn.name, c.name, child.start_action == ike::StartAction::kTrap ? "trap" : "start"));
    }
    peer.children.push_back(std::move(child));
  }
  return peer;
}

ike::EngineConfig ToEngineConfig(const config::GlobalSettings& global) {
  ike::EngineConfig engine;
  engine.retransmit_timeout = ike::Millis(static_cast<long>(global.retransmit_timeout * 1000));
  engine.retransmit_base = global.retransmit_base;
  engine.retransmit_tries = global.retransmit_tries;
  // charon's 0 turns a threshold off; the engine's 0 would apply it to every request.
  const auto threshold = [](std::uint32_t value) -> std::size_t {
    return value == 0 ? std::numeric_limits<std::size_t>::max() : value;
  };
  engine.cookie_threshold = threshold(global.cookie_threshold);
  engine.cookie_threshold_ip = threshold(global.cookie_threshold_ip);
  engine.block_threshold_ip = threshold(global.block_threshold);
  engine.init_limit_half_open = global.init_limit_half_open;
  engine.half_open_timeout = global.half_open_timeout;
  engine.fragment_size = global.fragment_size;
  engine.keep_alive = global.keep_alive;
  engine.max_packet = global.max_packet;
  engine.ike_port = global.port;
  engine.nat_t_port = global.port_nat_t;
  return engine;
}

WiresharkExport ToWiresharkExport(const config::ConnectionConfig& conn,
                                  const config::GlobalSettings& global) {
  if (!conn.wireshark_keys.empty()) return {conn.wireshark_keys, true, true};
  if (global.save_keys_load && !global.save_keys_dir.empty() &&
      (global.save_keys_ike || global.save_keys_esp)) {
    return {global.save_keys_dir, global.save_keys_ike, global.save_keys_esp};
  }
  return {};
}

}  // namespace minivpn::daemon
