// swanctl.conf (swanctl.conf(5) of strongSwan 5.9.8) into the model. Defaults are charon's,
// as documented in swanctl.conf(5):
//   connections.<conn>.rekey_time [4h]; over_time [10% of rekey_time/reauth_time];
//   rand_time [over_time]; dpd_delay [0s]; dpd_timeout [0s] (no effect with IKEv2);
//   mobike [yes]; fragmentation [yes]; version [0]; keyingtries [1];
//   children.<child>.rekey_time [1h]; life_time [rekey_time + 10%];
//   rand_time [life_time - rekey_time]; rekey_bytes [0], life_bytes [rekey_bytes + 10%],
//   rand_bytes [life_bytes - rekey_bytes], the same for _packets; mode [tunnel];
//   start_action [none];
//   dpd_action [clear]; close_action [none]; mark_in/mark_out [0/0x00000000], default mask
//   0xffffffff when only a value is given; local_ts/remote_ts [dynamic].
#include <fmt/core.h>

#include <algorithm>
#include <optional>
#include <string_view>

#include "base/vti_rules.h"
#include "cli/config/charon_keys.h"
#include "cli/config/loaders.h"
#include "cli/config/proposal.h"
#include "cli/config/values.h"

namespace minivpn::config {
namespace {

// Reports a key this section does not act on: a key of charon's that minivpn ignores or cannot
// honour (charon_keys.h: silent with charon's default, else a warning or an error), or a key
// nobody knows (an error).
void ReportKey(Diagnostics& d, const SettingsValue& v, std::string_view where,
               std::span<const CharonKey> charon_keys = {}) {
  if (const CharonKey* known = FindCharonKey(charon_keys, v.key)) {
    ReportCharonKey(*known, v.key, v.value, " = ", v.where, d);
  } else {
    d.Error(v.where, fmt::format("unknown key '{}' in {}", v.key, where));
  }
}

template <typename T>
bool Take(std::expected<T, std::string> r, T& out, const SettingsValue& v, Diagnostics& d) {
  if (!r) {
    d.Error(v.value_where, fmt::format("'{}': {}", v.key, r.error()));
    return false;
  }
  out = std::move(*r);
  return true;
}

template <typename T>
bool Take(std::expected<T, std::string> r, std::optional<T>& out, const SettingsValue& v,
          Diagnostics& d) {
  T value{};
  if (!Take(std::move(r), value, v, d)) return false;
  out = value;
  return true;
}

bool TakeTime(const SettingsValue& v, Seconds& out, Diagnostics& d) {
  return Take(ParseDuration(v.value, false), out, v, d);
}

bool TakeTime(const SettingsValue& v, std::optional<Seconds>& out, Diagnostics& d) {
  Seconds s{0};
  if (!TakeTime(v, s, d)) return false;
  out = s;
  return true;
}

std::vector<Host> TakeHosts(const SettingsValue& v, Diagnostics& d) {
  std::vector<Host> out;
  for (auto item : SplitList(v.value)) {
    Host h;
    if (Take(ParseHost(item), h, v, d)) {
      if (h.kind != Host::Kind::kAny || h.any_family != 0) out.push_back(h);
    }
  }
  return out;
}

// Subnets (a VTI's routes).
std::vector<Subnet> TakeSubnets(const SettingsValue& v, Diagnostics& d) {
  std::vector<Subnet> out;
  for (auto item : SplitList(v.value)) {
    Subnet s;
    if (Take(ParseSubnet(item), s, v, d)) out.push_back(s);
  }
  return out;
}

// local_ts/remote_ts: subnets, "dynamic", each with an optional [proto/port].
std::vector<Selector> TakeTrafficSelectors(const SettingsValue& v, Diagnostics& d) {
  std::vector<Selector> out;
  for (auto item : SplitList(v.value)) {
    Selector s;
    if (Take(ParseTrafficSelector(item), s, v, d)) out.push_back(s);
  }
  return out;
}

template <typename E>
bool TakeEnum(const SettingsValue& v, E& out, Diagnostics& d,
              const std::vector<std::pair<std::string_view, E>>& map, std::string_view expected) {
  for (const auto& [name, value] : map) {
    if (v.value == name) {
      out = value;
      return true;
    }
  }
  d.Error(v.value_where,
          fmt::format("invalid value '{}' for '{}' (expected {})", v.value, v.key, expected));
  return false;
}

// vici's action names: start/restart, trap/route, none/clear.
std::vector<std::pair<std::string_view, Action>> Actions() {
  return {{"none", Action::kNone},    {"clear", Action::kNone}, {"trap", Action::kTrap},
          {"route", Action::kTrap},   {"hold", Action::kTrap},  {"start", Action::kStart},
          {"restart", Action::kStart}};
}

// The keys a VTI section and an xfrmi section share: mtu (at least IPv4's 68), routes, addrs
// and follow_sa. False if `v` is none of them.
bool TakeLinkKey(const SettingsValue& v, std::uint32_t& mtu, std::vector<Subnet>& routes,
                 std::vector<Subnet>& addrs, bool& follow_sa, Diagnostics& d) {
  if (v.key == "mtu") {
    std::uint64_t value = 0;
    if (Take(ParseUint(v.value, 65535), value, v, d)) {
      if (value < 68) {
        d.Error(v.value_where, fmt::format("'mtu': {} is below the IPv4 minimum of 68", value));
      }
      mtu = static_cast<std::uint32_t>(value);
    }
  } else if (v.key == "routes") {
    routes = TakeSubnets(v, d);
  } else if (v.key == "addrs") {
    for (auto item : SplitList(v.value)) {
      Subnet a;
      if (Take(ParseInterfaceAddress(item), a, v, d)) addrs.push_back(a);
    }
  } else if (v.key == "follow_sa") {
    Take(ParseBool(v.value), follow_sa, v, d);
  } else {
    return false;
  }
  return true;
}

void LoadVti(const SettingsSection& s, ChildConfig& child, Diagnostics& d) {
  VtiConfig vti;
  for (const auto& v : s.values) {
    if (v.value.empty()) continue;
    if (v.key == "name") {
      vti.name = v.value;
    } else if (v.key == "local" || v.key == "remote") {
      auto a = ParseAddress(v.value);
      if (!a) {
        d.Error(v.value_where, fmt::format("'{}': invalid address '{}'", v.key, v.value));
      } else {
        (v.key == "local" ? vti.local : vti.remote) = *a;
      }
    } else if (v.key == "key") {
      std::uint64_t key = 0;
      if (Take(ParseUint(v.value, 0xffffffff), key, v, d))
        vti.key = static_cast<std::uint32_t>(key);
    } else if (v.key == "disable_policy") {
      Take(ParseBool(v.value), vti.disable_policy, v, d);
    } else if (!TakeLinkKey(v, vti.mtu, vti.routes, vti.addrs, vti.follow_sa, d)) {
      ReportKey(d, v, fmt::format("vti section of child '{}'", child.name));
    }
  }
  for (const auto& sub : s.sections) {
    d.Error(sub.where, fmt::format("unknown section '{}' in the vti section of child '{}'",
                                   sub.name, child.name));
  }
  if (vti.name.empty()) {
    d.Error(s.where, fmt::format("vti section of child '{}' needs a 'name'", child.name));
  }
  child.vti = std::move(vti);
}

void LoadXfrmi(const SettingsSection& s, ChildConfig& child, Diagnostics& d) {
  XfrmInterfaceConfig xfrmi;
  const std::string where = fmt::format("xfrmi section of child '{}'", child.name);
  for (const auto& v : s.values) {
    if (v.value.empty()) continue;
    if (v.key == "name") {
      xfrmi.name = v.value;
    } else if (v.key == "id") {
      std::uint64_t id = 0;
      if (Take(ParseUint(v.value, 0xffffffff), id, v, d)) xfrmi.id = static_cast<std::uint32_t>(id);
    } else if (v.key == "dev") {
      if (base::IsValidInterfaceName(v.value)) {
        xfrmi.dev = v.value;
      } else {
        d.Error(v.value_where, fmt::format("'dev': invalid interface name '{}'", v.value));
      }
    } else if (!TakeLinkKey(v, xfrmi.mtu, xfrmi.routes, xfrmi.addrs, xfrmi.follow_sa, d)) {
      ReportKey(d, v, where);
    }
  }
  for (const auto& sub : s.sections) {
    d.Error(sub.where, fmt::format("unknown section '{}' in the {}", sub.name, where));
  }
  if (xfrmi.name.empty()) d.Error(s.where, fmt::format("{} needs a 'name'", where));
  child.xfrmi = std::move(xfrmi);
}

// A child's byte or packet lifetime as written (unset: charon's default applies).
struct Volume {
  std::optional<std::uint64_t> rekey, life, rand;
};

// v * 110 / 100 without wrapping around.
std::uint64_t TenPercentMore(std::uint64_t v) {
  return v > UINT64_MAX / 110 ? (v > UINT64_MAX - v / 10 ? UINT64_MAX : v + v / 10)
                              : v * 110 / 100;
}

// vici_config.c check_lifetimes(): rekey [0], life [rekey + 10%], rand [life - rekey]. The
// hard limit may not come before the soft one and the random part must stay below the soft
// one (as for the times, Validate()); a hard limit with no earlier rekey loads as in charon,
// with a warning, as the SA then expires (traffic stops) instead of being rekeyed.
void SetVolume(const ChildConfig& child, std::string_view unit, const Volume& v,
               std::uint64_t& rekey, std::uint64_t& life, std::uint64_t& rand, Diagnostics& d) {
  rekey = v.rekey.value_or(0);
  life = v.life.value_or(TenPercentMore(rekey));
  rand = v.rand.value_or(life - std::min(life, rekey));
  if (life != 0 && rekey > life) {
    d.Error(child.where, fmt::format("child '{}': life_{} ({}) is below rekey_{} ({}): the SA "
                                     "would expire before it is rekeyed",
                                     child.name, unit, life, unit, rekey));
  } else if (rekey != 0 && rand >= rekey) {
    d.Error(child.where,
            fmt::format("child '{}': rand_{} ({}) must be smaller than rekey_{} ({})", child.name,
                        unit, rand, unit, rekey));
  } else if (life != 0 && (rekey == 0 || (rekey == life && rand == 0))) {
    d.Warning(child.where, fmt::format("child '{}': no rekey_{} below life_{} ({}): the SA "
                                       "expires after {} {} without a rekey (as in charon)",
                                       child.name, unit, unit, life, life, unit));
  }
}

// hw_offload: no (the default) is what minivpn does; auto falls back to no offload where the NIC
// cannot, so it is only ignored; yes fails in charon where the NIC cannot, minivpn always would.
void HwOffload(const SettingsValue& v, Diagnostics& d) {
  if (v.value == "auto") {
    d.Warning(v.where, "'hw_offload = auto' is accepted and ignored by minivpn: minivpn never "
                       "offloads (as charon where the NIC cannot)");
    return;
  }
  bool on = false;
  if (Take(ParseBool(v.value), on, v, d) && on) {
    d.Error(v.where, "'hw_offload = yes' is not supported by minivpn: ESP hardware offload is "
                     "not implemented");
  }
}

void LoadChild(const SettingsSection& s, ConnectionConfig& conn, Diagnostics& d) {
  ChildConfig child;
  child.name = s.name;
  child.where = s.where;
  std::optional<Seconds> rekey, life, rand;
  Volume bytes, packets;
  bool have_esp = false;
  for (const auto& v : s.values) {
    const std::string& k = v.key;
    if (v.value.empty()) continue;  // an empty assignment restores the default
    if (k == "local_ts") {
      child.local_ts = TakeTrafficSelectors(v, d);
    } else if (k == "remote_ts") {
      child.remote_ts = TakeTrafficSelectors(v, d);
    } else if (k == "mark_in") {
      Take(ParseMark(v.value), child.mark_in, v, d);
    } else if (k == "mark_out") {
      Take(ParseMark(v.value), child.mark_out, v, d);
    } else if (k == "mark_in_sa") {
      Take(ParseBool(v.value), child.mark_in_sa, v, d);
    } else if (k == "if_id_in" || k == "if_id_out") {
      Take(ParseIfId(v.value), k == "if_id_in" ? child.if_id_in : child.if_id_out, v, d);
    } else if (k == "esp_proposals") {
      ProposalList<EspProposal> list;
      if (Take(ParseEspProposals(v.value), list, v, d)) {
        for (const auto& w : list.warnings) {
          d.Warning(v.value_where, fmt::format("'{}': {}", v.key, w));
        }
        child.esp_proposals = std::move(list.proposals);
        have_esp = true;
      }
    } else if (k == "start_action") {
      TakeEnum(v, child.start_action, d,
               {{"none", StartAction::kNone},
                {"trap", StartAction::kTrap},
                {"route", StartAction::kTrap},
                {"start", StartAction::kStart},
                {"trap|start", StartAction::kTrapAndStart},
                {"start|trap", StartAction::kTrapAndStart}},
               "none, trap, start or trap|start");
    } else if (k == "dpd_action") {
      TakeEnum(v, child.dpd_action, d, Actions(), "clear, trap or restart");
    } else if (k == "close_action") {
      TakeEnum(v, child.close_action, d, Actions(), "none, trap or start");
    } else if (k == "rekey_time") {
      TakeTime(v, rekey, d);
    } else if (k == "life_time") {
      TakeTime(v, life, d);
    } else if (k == "rand_time") {
      TakeTime(v, rand, d);
    } else if (k == "inactivity") {
      TakeTime(v, child.inactivity, d);
    } else if (k == "mode") {
      if (v.value == "transport") {
        child.transport = true;
      } else if (v.value != "tunnel") {
        d.Error(v.value_where, fmt::format("mode '{}' is not supported (tunnel or transport; "
                                           "minivpn builds no BEET, pass or drop CHILD_SAs)",
                                           v.value));
      }
    } else if (k == "updown") {
      child.updown = v.value;  // run by /bin/sh on up and down (cli/daemon/updown.h)
    } else if (k == "reqid") {
      std::uint64_t reqid = 0;
      if (Take(ParseUint(v.value, 0xffffffff), reqid, v, d)) {
        child.reqid = static_cast<std::uint32_t>(reqid);
      }
    } else if (k == "replay_window") {
      // The kernel keeps at most 4096 packets of replay state (XFRMA_REPLAY_ESN_MAX).
      std::uint64_t w = 0;
      if (Take(ParseUint(v.value, 4096), w, v, d)) {
        child.replay_window = static_cast<std::uint32_t>(w);
      }
    } else if (k == "policies") {
      Take(ParseBool(v.value), child.policies, v, d);
    } else if (k == "hw_offload") {
      HwOffload(v, d);
    } else if (k == "rekey_bytes" || k == "life_bytes" || k == "rand_bytes") {
      Take(ParseBytes(v.value), k == "rekey_bytes" ? bytes.rekey
                                : k == "life_bytes" ? bytes.life
                                                    : bytes.rand,
           v, d);
    } else if (k == "rekey_packets" || k == "life_packets" || k == "rand_packets") {
      Take(ParseUint(v.value, UINT64_MAX), k == "rekey_packets" ? packets.rekey
                                           : k == "life_packets" ? packets.life
                                                                 : packets.rand,
           v, d);
    } else {
      ReportKey(d, v, fmt::format("child '{}'", child.name), SwanctlChildKeys());
    }
  }
  for (const auto& sub : s.sections) {
    if (sub.name == "vti") {
      LoadVti(sub, child, d);
    } else if (sub.name == "xfrmi") {
      LoadXfrmi(sub, child, d);
    } else {
      d.Error(sub.where, fmt::format("unknown section '{}' in child '{}'", sub.name, child.name));
    }
  }
  // swanctl.conf(5): rekey_time [1h], life_time [rekey_time + 10%],
  // rand_time [life_time - rekey_time].
  child.rekey_time = rekey.value_or(Seconds(3600));
  child.life_time = life.value_or(child.rekey_time * 110 / 100);
  child.rand_time = rand.value_or(
      child.life_time > child.rekey_time ? child.life_time - child.rekey_time : Seconds(0));
  SetVolume(child, "bytes", bytes, child.rekey_bytes, child.life_bytes, child.rand_bytes, d);
  SetVolume(child, "packets", packets, child.rekey_packets, child.life_packets,
            child.rand_packets, d);
  if (!have_esp) child.esp_proposals = DefaultEspProposals();
  conn.children.push_back(std::move(child));
}

void LoadAuth(const SettingsSection& s, bool local, ConnectionConfig& conn, Diagnostics& d) {
  bool have_auth = false;
  for (const auto& v : s.values) {
    if (v.value.empty()) continue;
    if (v.key == "auth") {
      have_auth = true;
      if (v.value != "psk") {
        d.Error(v.value_where, fmt::format("auth = {} is not supported (minivpn authenticates "
                                           "with pre-shared keys only: auth = psk)",
                                           v.value));
      }
    } else if (v.key == "id") {
      Take(ParseIdentity(v.value), local ? conn.local_id : conn.remote_id, v, d);
    } else {
      ReportKey(d, v, fmt::format("the {} section of connection '{}'", s.name, conn.name),
                SwanctlAuthKeys());
    }
  }
  for (const auto& sub : s.sections) {
    d.Error(sub.where,
            fmt::format("'{}' sections are not supported in '{}' (PSK only)", sub.name, s.name));
  }
  if (!have_auth) {
    d.Error(s.where, fmt::format("the {} section of connection '{}' needs 'auth = psk' (charon's "
                                 "default is pubkey)",
                                 s.name, conn.name));
  }
}

void LoadConnection(const SettingsSection& s, Config& config, Diagnostics& d) {
  ConnectionConfig conn;
  conn.name = s.name;
  conn.where = s.where;
  std::optional<Seconds> rekey, over, rand;
  bool have_proposals = false;
  for (const auto& v : s.values) {
    const std::string& k = v.key;
    if (v.value.empty()) continue;
    if (k == "version") {
      std::uint64_t version = 0;
      if (Take(ParseUint(v.value, 2), version, v, d)) {
        if (version == 1) {
          d.Error(v.value_where, "IKEv1 (version = 1) is not supported; use version = 2");
        }
        conn.version = static_cast<int>(version);
      }
    } else if (k == "local_addrs") {
      conn.local_addrs = TakeHosts(v, d);
    } else if (k == "remote_addrs") {
      conn.remote_addrs = TakeHosts(v, d);
    } else if (k == "local_port" || k == "remote_port") {
      std::uint64_t port = 0;
      if (Take(ParseUint(v.value, 65535), port, v, d)) {
        (k == "local_port" ? conn.local_port : conn.remote_port) = static_cast<std::uint16_t>(port);
      }
    } else if (k == "proposals") {
      ProposalList<IkeProposal> list;
      if (Take(ParseIkeProposals(v.value), list, v, d)) {
        for (const auto& w : list.warnings) {
          d.Warning(v.value_where, fmt::format("'{}': {}", v.key, w));
        }
        conn.proposals = std::move(list.proposals);
        have_proposals = true;
      }
    } else if (k == "dpd_delay") {
      TakeTime(v, conn.dpd_delay, d);
    } else if (k == "dpd_timeout") {
      TakeTime(v, conn.dpd_timeout, d);
    } else if (k == "rekey_time") {
      TakeTime(v, rekey, d);
    } else if (k == "over_time") {
      TakeTime(v, over, d);
    } else if (k == "rand_time") {
      TakeTime(v, rand, d);
    } else if (k == "reauth_time") {
      TakeTime(v, conn.reauth_time, d);
    } else if (k == "mobike") {
      Take(ParseBool(v.value), conn.mobike, v, d);
    } else if (k == "encap") {
      Take(ParseBool(v.value), conn.encap, v, d);
    } else if (k == "if_id_in" || k == "if_id_out") {
      Take(ParseIfId(v.value), k == "if_id_in" ? conn.if_id_in : conn.if_id_out, v, d);
    } else if (k == "fragmentation") {
      TakeEnum(v, conn.fragmentation, d,
               {{"yes", Fragmentation::kYes},
                {"accept", Fragmentation::kAccept},
                {"force", Fragmentation::kForce},
                {"no", Fragmentation::kNo}},
               "yes, accept, force or no");
    } else if (k == "unique") {
      TakeEnum(v, conn.unique, d,
               {{"no", UniquePolicy::kNo},
                {"never", UniquePolicy::kNever},
                {"replace", UniquePolicy::kReplace},
                {"keep", UniquePolicy::kKeep}},
               "no, never, replace or keep");
    } else if (k == "keyingtries") {
      std::uint64_t tries = 0;
      if (Take(ParseUint(v.value, 0xffffffff), tries, v, d)) {
        conn.keyingtries = static_cast<std::uint32_t>(tries);
      }
    } else if (k == "send_certreq") {
      // Either value does what minivpn does with PSK: charon sends a CERTREQ only for the CA
      // certificates it holds, minivpn holds none and sends none.
      bool send = true;
      Take(ParseBool(v.value), send, v, d);
    } else if (k == "wireshark_keys") {
      // minivpn addition: per-connection Wireshark export (docs/config.md).
      if (!v.value.starts_with("/")) {
        d.Error(v.value_where, fmt::format("'wireshark_keys': '{}' is not an absolute directory",
                                           v.value));
      } else {
        conn.wireshark_keys = v.value;
      }
    } else {
      ReportKey(d, v, fmt::format("connection '{}'", conn.name), SwanctlConnectionKeys());
    }
  }
  int local_rounds = 0;
  int remote_rounds = 0;
  for (const auto& sub : s.sections) {
    bool is_local = sub.name.starts_with("local");
    bool is_remote = sub.name.starts_with("remote");
    if (is_local || is_remote) {
      int& rounds = is_local ? local_rounds : remote_rounds;
      if (++rounds > 1) {
        d.Error(sub.where, fmt::format("connection '{}' has more than one {} authentication "
                                       "round; minivpn supports exactly one",
                                       conn.name, is_local ? "local" : "remote"));
        continue;
      }
      LoadAuth(sub, is_local, conn, d);
    } else if (sub.name == "children") {
      for (const auto& child : sub.sections) LoadChild(child, conn, d);
      for (const auto& v : sub.values) {
        d.Error(v.where,
                fmt::format("unexpected key '{}' in children (expected child sections)", v.key));
      }
    } else {
      d.Error(sub.where,
              fmt::format("unknown section '{}' in connection '{}'", sub.name, conn.name));
    }
  }
  if (local_rounds == 0) {
    d.Error(s.where,
            fmt::format("connection '{}' has no 'local' section (auth = psk, id)", conn.name));
  }
  if (remote_rounds == 0) {
    d.Error(s.where,
            fmt::format("connection '{}' has no 'remote' section (auth = psk, id)", conn.name));
  }
  if (conn.children.empty()) {
    d.Error(s.where, fmt::format("connection '{}' has no children", conn.name));
  }
  // swanctl.conf(5): rekey_time [4h] (0 if only reauth_time is set), over_time [10% of the
  // longer of rekey_time and reauth_time], rand_time [over_time].
  conn.rekey_time = rekey.value_or(conn.reauth_time.count() > 0 ? Seconds(0) : Seconds(4 * 3600));
  conn.over_time = over.value_or(std::max(conn.rekey_time, conn.reauth_time) / 10);
  conn.rand_time = rand.value_or(conn.over_time);
  if (!have_proposals) conn.proposals = DefaultIkeProposals();
  config.connections.push_back(std::move(conn));
}

void LoadSecret(const SettingsSection& s, Config& config, Diagnostics& d) {
  SharedSecret secret;
  secret.name = s.name;
  secret.where = s.where;
  bool have_secret = false;
  for (const auto& v : s.values) {
    if (v.key == "secret") {
      auto decoded = DecodeSecret(v.value);
      if (!decoded) {
        d.Error(v.value_where, fmt::format("'secret' of '{}': {}", s.name, decoded.error()));
      } else {
        secret.secret = std::move(*decoded);
        have_secret = true;
      }
    } else if (v.key.starts_with("id")) {
      Identity id;
      if (Take(ParseIdentity(v.value), id, v, d)) secret.owners.push_back(id);
    } else {
      ReportKey(d, v, fmt::format("secret '{}'", s.name));
    }
  }
  for (const auto& sub : s.sections) {
    d.Error(sub.where, fmt::format("unknown section '{}' in secret '{}'", sub.name, s.name));
  }
  if (!have_secret) {
    d.Error(s.where, fmt::format("secret '{}' has no 'secret' value", s.name));
    return;
  }
  config.secrets.push_back(std::move(secret));
}

}  // namespace

void LoadSwanctl(const SettingsDocument& doc, Config& config, Diagnostics& d) {
  for (const auto& v : doc.root.values) {
    d.Error(v.where, fmt::format("unknown top-level key '{}' (expected connections {{ }} or "
                                 "secrets {{ }})",
                                 v.key));
  }
  for (const auto& top : doc.root.sections) {
    if (top.name == "connections") {
      for (const auto& v : top.values) {
        d.Error(v.where, fmt::format("unexpected key '{}' in connections (expected connection "
                                     "sections)",
                                     v.key));
      }
      for (const auto& conn : top.sections) LoadConnection(conn, config, d);
    } else if (top.name == "secrets") {
      for (const auto& v : top.values) {
        d.Error(v.where,
                fmt::format("unexpected key '{}' in secrets (expected ike sections)", v.key));
      }
      for (const auto& s : top.sections) {
        if (s.name.starts_with("ike")) {
          LoadSecret(s, config, d);
        } else if (s.name.starts_with("eap") || s.name.starts_with("xauth") ||
                   s.name.starts_with("ntlm") || s.name.starts_with("private") ||
                   s.name.starts_with("rsa") || s.name.starts_with("ecdsa") ||
                   s.name.starts_with("pkcs") || s.name.starts_with("token") ||
                   s.name.starts_with("ppk")) {
          d.Warning(s.where, fmt::format("secret '{}' is ignored: minivpn uses IKE pre-shared "
                                         "keys (ike sections) only",
                                         s.name));
        } else {
          d.Error(s.where, fmt::format("unknown secret type '{}' (expected ike<suffix>)", s.name));
        }
      }
    } else if (top.name == "pools" || top.name == "authorities") {
      d.Warning(top.where, fmt::format("'{}' is accepted and ignored by minivpn", top.name));
    } else {
      d.Error(top.where, fmt::format("unknown top-level section '{}' (expected connections or "
                                     "secrets)",
                                     top.name));
    }
  }
}

}  // namespace minivpn::config
