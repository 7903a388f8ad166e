#include "cli/config/model.h"

#include <arpa/inet.h>
#include <fmt/core.h>
#include <sys/socket.h>

namespace minivpn::config {

std::string Identity::ToString() const {
  switch (type) {
    case IdType::kAny:
      return "%any";
    case IdType::kIpv4Addr:
    case IdType::kIpv6Addr: {
      IpAddress a;
      a.family = type == IdType::kIpv4Addr ? AF_INET : AF_INET6;
      for (std::size_t i = 0; i < data.size() && i < a.bytes.size(); ++i) {
        a.bytes[i] = static_cast<std::uint8_t>(data[i]);
      }
      return a.ToString();
    }
    case IdType::kKeyId: {
      std::string out = "@#";
      for (char c : data) out += fmt::format("{:02x}", static_cast<unsigned char>(c));
      return out;
    }
    case IdType::kFqdn:
    case IdType::kRfc822Addr:
      return data;
  }
  return data;
}

ConnectionConfig ConnectionConfig::Clone() const {
  ConnectionConfig c;
  c.name = name;
  c.where = where;
  c.version = version;
  c.local_addrs = local_addrs;
  c.remote_addrs = remote_addrs;
  c.local_port = local_port;
  c.remote_port = remote_port;
  c.proposals = proposals;
  c.local_id = local_id;
  c.remote_id = remote_id;
  c.psk = psk.Clone();
  c.dpd_delay = dpd_delay;
  c.dpd_timeout = dpd_timeout;
  c.rekey_time = rekey_time;
  c.over_time = over_time;
  c.rand_time = rand_time;
  c.reauth_time = reauth_time;
  c.keyingtries = keyingtries;
  c.mobike = mobike;
  c.encap = encap;
  c.fragmentation = fragmentation;
  c.wireshark_keys = wireshark_keys;
  c.children = children;
  return c;
}

bool ConnectionConfig::operator==(const ConnectionConfig& o) const {
  return name == o.name && where == o.where && version == o.version &&
         local_addrs == o.local_addrs && remote_addrs == o.remote_addrs &&
         local_port == o.local_port && remote_port == o.remote_port && proposals == o.proposals &&
         local_id == o.local_id && remote_id == o.remote_id && psk.size() == o.psk.size() &&
         psk.Equals(o.psk.Reveal()) && dpd_delay == o.dpd_delay && dpd_timeout == o.dpd_timeout &&
         rekey_time == o.rekey_time && over_time == o.over_time && rand_time == o.rand_time &&
         reauth_time == o.reauth_time && keyingtries == o.keyingtries && mobike == o.mobike &&
         encap == o.encap && fragmentation == o.fragmentation &&
         wireshark_keys == o.wireshark_keys && children == o.children;
}

SharedSecret SharedSecret::Clone() const {
  SharedSecret s;
  s.name = name;
  s.where = where;
  s.owners = owners;
  s.secret = secret.Clone();
  return s;
}

const ConnectionConfig* Config::Find(std::string_view name) const {
  for (const auto& c : connections) {
    if (c.name == name) return &c;
  }
  return nullptr;
}

namespace {

// charon's identification_t matches: 3 = perfect, 1 = %any owner / default secret, 0 = none.
int MatchScore(const std::vector<Identity>& owners, const Identity& id) {
  if (owners.empty()) return 1;
  int best = 0;
  for (const auto& owner : owners) {
    if (owner.type == IdType::kAny) {
      best = std::max(best, 1);
    } else if (id.type != IdType::kAny && owner == id) {
      best = 3;
    }
  }
  return best;
}

}  // namespace

const SharedSecret* FindSharedSecret(const std::vector<SharedSecret>& secrets,
                                     const Identity& local, const Identity& remote) {
  const SharedSecret* best = nullptr;
  int best_score = 0;
  for (const auto& s : secrets) {
    int local_score = MatchScore(s.owners, local);
    int remote_score = MatchScore(s.owners, remote);
    if (local_score == 0 && remote_score == 0) continue;
    int score = local_score + remote_score;
    if (score > best_score) {
      best = &s;
      best_score = score;
    }
  }
  return best;
}

}  // namespace minivpn::config
