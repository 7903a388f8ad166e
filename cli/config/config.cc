#include "cli/config/config.h"

#include "base/if_id.h"
#include "base/vti_rules.h"

#include <fmt/core.h>
#include <fmt/format.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <map>
#include <optional>
#include <set>

#include "cli/config/loaders.h"
#include "cli/config/settings.h"

namespace minivpn::config {
namespace {

Identity AddressIdentity(const IpAddress& a) {
  return Identity{a.is_v4() ? IdType::kIpv4Addr : IdType::kIpv6Addr,
                  std::string(reinterpret_cast<const char*>(a.bytes.data()), a.is_v4() ? 4 : 16)};
}

const IpAddress* SingleAddress(const std::vector<Host>& hosts) {
  if (hosts.size() == 1 && hosts[0].kind == Host::Kind::kAddress) return &hosts[0].subnet.address;
  return nullptr;
}

void ValidateVti(ConnectionConfig& conn, ChildConfig& child, Diagnostics& d) {
  VtiConfig& vti = *child.vti;
  if (!base::IsValidInterfaceName(vti.name)) {
    d.Error(child.where, fmt::format("child '{}': invalid VTI name '{}' (1 to 15 characters, "
                                     "no '/', ':', spaces or control characters)",
                                     child.name, vti.name));
  }
  if (!child.mark_in.is_set() && !child.mark_out.is_set()) {
    if (vti.key == 0) {
      d.Error(child.where, fmt::format("child '{}': the VTI needs a key; set mark_in = mark_out "
                                       "(ipsec.conf: mark=) or the vti key",
                                       child.name));
      return;
    }
    child.mark_in = child.mark_out = base::VtiMark(vti.key);
    return;
  }
  if (child.mark_in.is_unique() || child.mark_out.is_unique()) {
    d.Error(child.where, fmt::format("child '{}': a VTI needs a fixed mark (its key), but %unique "
                                     "gives every CHILD_SA a different one",
                                     child.name));
    return;
  }
  if (child.mark_in != child.mark_out || child.mark_in.value == 0 ||
      !base::MarkFitsVti(child.mark_in, child.mark_in.value)) {
    d.Error(child.where, fmt::format("child '{}': a VTI uses its key for both directions, so "
                                     "mark_in and mark_out must be the same non-zero value with "
                                     "mask 0xffffffff",
                                     child.name));
    return;
  }
  if (vti.key != 0 && vti.key != child.mark_in.value) {
    d.Error(child.where, fmt::format("child '{}': vti key {} differs from the mark {}; the VTI "
                                     "key is the mark",
                                     child.name, vti.key, child.mark_in.value));
    return;
  }
  vti.key = child.mark_in.value;
  (void)conn;
}

// An XFRM interface's id is the child's if_id_in = if_id_out (or the connection's, which the
// child then uses): one fixed, non-zero number. Without any, `id` sets the child's.
void ValidateXfrmi(const ConnectionConfig& conn, ChildConfig& child, Diagnostics& d) {
  XfrmInterfaceConfig& xfrmi = *child.xfrmi;
  if (!base::IsValidInterfaceName(xfrmi.name)) {
    d.Error(child.where, fmt::format("child '{}': invalid XFRM interface name '{}' (1 to 15 "
                                     "characters, no '/', ':', spaces or control characters)",
                                     child.name, xfrmi.name));
  }
  if (child.vti) {
    d.Error(child.where, fmt::format("child '{}' has both a vti and an xfrmi section; a child's "
                                     "traffic goes through one of them",
                                     child.name));
  }
  const std::uint32_t in = child.if_id_in != 0 ? child.if_id_in : conn.if_id_in;
  const std::uint32_t out = child.if_id_out != 0 ? child.if_id_out : conn.if_id_out;
  if (in == 0 && out == 0) {
    if (xfrmi.id == 0) {
      d.Error(child.where, fmt::format("child '{}': the XFRM interface needs an id; set "
                                       "if_id_in = if_id_out or the xfrmi id",
                                       child.name));
      return;
    }
    child.if_id_in = child.if_id_out = xfrmi.id;
    return;
  }
  if (base::IsUniqueIfId(in) || base::IsUniqueIfId(out)) {
    d.Error(child.where, fmt::format("child '{}': an XFRM interface needs a fixed if_id, but "
                                     "%unique gives every SA a different one",
                                     child.name));
    return;
  }
  if (in != out || in == 0) {
    d.Error(child.where, fmt::format("child '{}': an XFRM interface carries both directions, so "
                                     "if_id_in and if_id_out must be the same non-zero number",
                                     child.name));
    return;
  }
  if (xfrmi.id != 0 && xfrmi.id != in) {
    d.Error(child.where, fmt::format("child '{}': xfrmi id {} differs from the if_id {}; the "
                                     "interface's id is the if_id",
                                     child.name, xfrmi.id, in));
    return;
  }
  xfrmi.id = in;
}

void ValidateTimes(const std::string& what, const Location& where, Seconds rekey, Seconds life,
                   Seconds rand, Diagnostics& d) {
  if (life.count() > 0 && rekey.count() > 0 && life <= rekey) {
    d.Error(where, fmt::format("{}: life_time ({}s) must be greater than rekey_time ({}s)", what,
                               life.count(), rekey.count()));
  }
  if (rekey.count() > 0 && rand >= rekey) {
    d.Error(where, fmt::format("{}: rand_time ({}s) must be smaller than rekey_time ({}s)", what,
                               rand.count(), rekey.count()));
  }
}

// Keys the loaders read whose effect minivpnd does not have (yet): said once per connection,
// never silently dropped.
void WarnNotActedOn(const ConnectionConfig& conn, const GlobalSettings& global, Diagnostics& d) {
  if (conn.local_port != base::charon::kPort && conn.local_port != global.port &&
      conn.local_port != global.port_nat_t) {
    d.Warning(conn.where, fmt::format("connection '{}': local_port = {} has no effect: minivpnd "
                                      "sends IKE from strongswan.conf's port {} (port_nat_t {} "
                                      "after a NAT), as charon's socket-default does",
                                      conn.name, conn.local_port, global.port, global.port_nat_t));
  }
}

}  // namespace

void Validate(Config& config, Diagnostics& d) {
  std::set<std::string> names;
  // Link name -> its key (VTI) or id (XFRM interface, marked "xfrmi"), and the first child.
  struct Link {
    bool xfrmi = false;
    std::uint32_t number = 0;
    std::string child;
  };
  std::map<std::string, Link> links;
  std::map<std::uint32_t, std::string> marks;                             // out mark -> child
  for (auto& conn : config.connections) {
    if (!names.insert(conn.name).second) {
      d.Error(conn.where, fmt::format("connection '{}' is defined more than once", conn.name));
    }
    // charon: the local identity defaults to the local IKE address.
    if (conn.local_id.type == IdType::kAny) {
      if (const IpAddress* a = SingleAddress(conn.local_addrs)) conn.local_id = AddressIdentity(*a);
    }
    const IpAddress* local = SingleAddress(conn.local_addrs);
    const IpAddress* remote = SingleAddress(conn.remote_addrs);
    if (local != nullptr && remote != nullptr && local->family != remote->family) {
      d.Error(conn.where, fmt::format("connection '{}': local address {} and remote address {} "
                                      "are of different families",
                                      conn.name, local->ToString(), remote->ToString()));
    }
    ValidateTimes(fmt::format("connection '{}'", conn.name), conn.where, conn.rekey_time,
                  Seconds(0), conn.rand_time, d);
    WarnNotActedOn(conn, config.global, d);
    for (auto& child : conn.children) {
      ValidateTimes(fmt::format("child '{}'", child.name), child.where, child.rekey_time,
                    child.life_time, child.rand_time, d);
      bool initiates = child.start_action == StartAction::kStart ||
                       child.start_action == StartAction::kTrapAndStart ||
                       child.start_action == StartAction::kTrap;
      bool concrete_remote =
          std::any_of(conn.remote_addrs.begin(), conn.remote_addrs.end(), [](const Host& h) {
            return h.kind == Host::Kind::kAddress || h.kind == Host::Kind::kHostname;
          });
      if (initiates && !concrete_remote) {
        d.Error(child.where, fmt::format("child '{}' is started or trapped but connection '{}' "
                                         "has no remote address to initiate to",
                                         child.name, conn.name));
      }
      if (child.vti) ValidateVti(conn, child, d);
      if (child.xfrmi) ValidateXfrmi(conn, child, d);
      for (const bool xfrmi : {false, true}) {
        if (xfrmi ? !child.xfrmi : !child.vti) continue;
        const std::string& name = xfrmi ? child.xfrmi->name : child.vti->name;
        const std::uint32_t number = xfrmi ? child.xfrmi->id : child.vti->key;
        auto [it, inserted] = links.emplace(name, Link{xfrmi, number, child.name});
        if (inserted) continue;
        if (it->second.xfrmi != xfrmi) {
          d.Error(child.where, fmt::format("'{}' is a VTI for child '{}' and an XFRM interface "
                                           "for child '{}'",
                                           name, xfrmi ? it->second.child : child.name,
                                           xfrmi ? child.name : it->second.child));
        } else if (it->second.number != number) {
          d.Error(child.where, fmt::format("{} '{}' is used by children '{}' and '{}' with "
                                           "different {}",
                                           xfrmi ? "XFRM interface" : "VTI", name,
                                           it->second.child, child.name,
                                           xfrmi ? "ids" : "keys"));
        }
      }
      if (child.mark_out.is_set()) {
        auto [it, inserted] = marks.emplace(child.mark_out.value, child.name);
        if (!inserted) {
          d.Warning(child.where, fmt::format("children '{}' and '{}' use the same mark {}; their "
                                             "policies and VTI overlap",
                                             it->second, child.name, child.mark_out.value));
        }
      }
    }
    // A PSK for (local id, remote id) (remote id %any: the remote address, as charon looks up
    // the peer's ID at run time, which for site-to-site is usually its address).
    Identity remote_lookup = conn.remote_id;
    if (remote_lookup.type == IdType::kAny && remote != nullptr) {
      remote_lookup = AddressIdentity(*remote);
    }
    const SharedSecret* s = FindSharedSecret(config.secrets, conn.local_id, remote_lookup);
    if (s == nullptr && remote_lookup != conn.remote_id) {
      s = FindSharedSecret(config.secrets, conn.local_id, conn.remote_id);
    }
    if (s == nullptr && conn.remote_id.type == IdType::kAny && !config.secrets.empty()) {
      // charon picks the PSK by the identity the peer sends; that may match at run time.
      d.Warning(conn.where, fmt::format("no pre-shared key matches connection '{}' (local id "
                                        "'{}', remote id %any); the peer's identity must match "
                                        "one at run time",
                                        conn.name, conn.local_id.ToString()));
    } else if (s == nullptr) {
      d.Error(conn.where,
              fmt::format("no pre-shared key for connection '{}' (local id '{}', "
                          "remote id '{}')",
                          conn.name, conn.local_id.ToString(), conn.remote_id.ToString()));
    } else {
      conn.psk = s->secret;
    }
  }
}

bool LoadResult::ok() const {
  return std::none_of(diagnostics.begin(), diagnostics.end(),
                      [](const Diagnostic& x) { return x.severity == Severity::kError; });
}

bool IsLocalAddress(const IpAddress& address) {
  ifaddrs* list = nullptr;
  if (getifaddrs(&list) != 0) return false;
  bool found = false;
  for (ifaddrs* i = list; i != nullptr && !found; i = i->ifa_next) {
    if (i->ifa_addr == nullptr || i->ifa_addr->sa_family != address.family) continue;
    if (address.family == AF_INET) {
      sockaddr_in sin{};
      std::memcpy(&sin, i->ifa_addr, sizeof(sin));
      found = std::memcmp(&sin.sin_addr, address.bytes.data(), 4) == 0;
    } else {
      sockaddr_in6 sin6{};
      std::memcpy(&sin6, i->ifa_addr, sizeof(sin6));
      found = std::memcmp(&sin6.sin6_addr, address.bytes.data(), 16) == 0;
    }
  }
  freeifaddrs(list);
  return found;
}

LoadResult LoadConfig(const ConfigPaths& paths, const LoadOptions& options) {
  LoadResult result;
  Diagnostics d;
  if (paths.swanctl_conf.empty() && paths.ipsec_conf.empty() && options.extra_swanctl.empty()) {
    d.Error(Location{}, "no configuration file given (swanctl.conf or ipsec.conf)");
  }
  if (!paths.strongswan_conf.empty()) {
    SettingsDocument doc = ParseSettingsFile(paths.strongswan_conf, d);
    LoadStrongswanConf(doc, result.config.global, d);
  }
  if (!paths.swanctl_conf.empty()) {
    SettingsDocument doc = ParseSettingsFile(paths.swanctl_conf, d);
    std::size_t first_secret = result.config.secrets.size();
    LoadSwanctl(doc, result.config, d);
    std::set<std::string> secret_files;
    for (std::size_t i = first_secret; i < result.config.secrets.size(); ++i) {
      secret_files.insert(result.config.secrets[i].where.file);
    }
    for (const auto& f : secret_files) CheckSecretFilePermissions(f, d);
  }
  if (!paths.ipsec_conf.empty()) {
    auto is_local = options.is_local_address ? options.is_local_address : IsLocalAddress;
    LoadIpsecConf(paths.ipsec_conf, result.config, d, is_local);
    if (!paths.ipsec_secrets.empty()) LoadIpsecSecrets(paths.ipsec_secrets, result.config, d);
  } else if (!paths.ipsec_secrets.empty()) {
    LoadIpsecSecrets(paths.ipsec_secrets, result.config, d);
  }
  if (!options.extra_swanctl.empty()) {
    SettingsDocument doc = ParseSettingsText(options.extra_swanctl, options.extra_swanctl_name, d);
    LoadSwanctl(doc, result.config, d);
  }
  Validate(result.config, d);
  if (result.config.connections.empty() && !d.HasErrors() && options.extra_swanctl.empty()) {
    d.Warning(Location{paths.swanctl_conf.empty() ? paths.ipsec_conf : paths.swanctl_conf, 0, 0},
              "no connections are defined (or none has auto=add|route|start)");
  }
  result.diagnostics = d.Take();
  return result;
}

std::string ViciSocketOf(const std::string& strongswan_conf) {
  GlobalSettings global;
  std::error_code ec;
  if (strongswan_conf.empty() || !std::filesystem::exists(strongswan_conf, ec)) {
    return global.vici_socket;
  }
  Diagnostics d;
  SettingsDocument doc = ParseSettingsFile(strongswan_conf, d);
  LoadStrongswanConf(doc, global, d);
  return global.vici_socket;
}

std::expected<ConfigPaths, std::string> ChooseConfigPaths(ConfigPaths given,
                                                          const DefaultLocations& where,
                                                          const LoadOptions& options) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (given.strongswan_conf.empty() && fs::exists(where.strongswan_conf, ec))
    given.strongswan_conf = where.strongswan_conf;
  if (given.swanctl_conf.empty() && given.ipsec_conf.empty()) {
    // Connections each file defines on its own (nullopt: the file does not exist).
    auto defines = [&](ConfigPaths alone) -> std::optional<std::size_t> {
      if (!fs::exists(alone.swanctl_conf.empty() ? alone.ipsec_conf : alone.swanctl_conf, ec))
        return std::nullopt;
      if (!alone.ipsec_secrets.empty() && !fs::exists(alone.ipsec_secrets, ec))
        alone.ipsec_secrets.clear();
      alone.strongswan_conf = given.strongswan_conf;
      return LoadConfig(alone, options).config.connections.size();
    };
    const auto swanctl = defines(ConfigPaths{.swanctl_conf = where.swanctl_conf});
    const auto ipsec = defines(
        ConfigPaths{.ipsec_conf = where.ipsec_conf, .ipsec_secrets = where.ipsec_secrets});
    if (swanctl.value_or(0) > 0 && ipsec.value_or(0) > 0) {
      return std::unexpected(fmt::format(
          "both {} and {} define connections: choose one with --config {} or --ipsec-conf {} "
          "(minivpnd loads one of them)",
          where.swanctl_conf, where.ipsec_conf, where.swanctl_conf, where.ipsec_conf));
    }
    if (ipsec.value_or(0) > 0 || (!swanctl && ipsec)) {
      given.ipsec_conf = where.ipsec_conf;
      if (given.ipsec_secrets.empty()) given.ipsec_secrets = where.ipsec_secrets;
    } else if (swanctl) {
      given.swanctl_conf = where.swanctl_conf;
    } else {
      given.ipsec_conf = where.ipsec_conf;  // neither exists: "cannot read" names ipsec.conf
      if (given.ipsec_secrets.empty()) given.ipsec_secrets = where.ipsec_secrets;
    }
  }
  if (!given.ipsec_conf.empty() && given.ipsec_secrets.empty())
    given.ipsec_secrets = (fs::path(given.ipsec_conf).parent_path() / "ipsec.secrets").string();
  return given;
}

std::string Describe(const ConfigPaths& paths) {
  std::vector<std::string> parts;
  if (!paths.swanctl_conf.empty()) parts.push_back("swanctl.conf " + paths.swanctl_conf);
  if (!paths.ipsec_conf.empty()) parts.push_back("ipsec.conf " + paths.ipsec_conf);
  if (!paths.ipsec_secrets.empty()) parts.push_back("ipsec.secrets " + paths.ipsec_secrets);
  if (!paths.strongswan_conf.empty()) parts.push_back("strongswan.conf " + paths.strongswan_conf);
  return fmt::format("{}", fmt::join(parts, ", "));
}

std::vector<Diagnostic> CheckConfig(const ConfigPaths& paths, const LoadOptions& options) {
  return LoadConfig(paths, options).diagnostics;
}

}  // namespace minivpn::config
