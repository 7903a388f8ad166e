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
