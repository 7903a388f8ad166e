// The children's updown scripts (cli/daemon/updown.h): which CHILD_SA events run them and what
// the script is told. A rekey runs nothing (its successor joins the tunnel's CHILD_SAs, its
// predecessor leaves them), as charon; the last CHILD_SA of a tunnel to go runs "down".
#include <ifaddrs.h>
#include <netinet/in.h>

#include <cstdlib>
#include <cstring>

#include "cli/daemon/daemon.h"

namespace minivpn::daemon {

namespace {

// The interface that holds `address` ("unknown" if none does): charon asks the kernel for the
// route to the peer; the interface of our own address is the same for a gateway's tunnel.
std::string InterfaceOf(const base::IpAddress& address) {
  ifaddrs* list = nullptr;
  if (::getifaddrs(&list) != 0) return "unknown";
  std::string name = "unknown";
  for (ifaddrs* i = list; i != nullptr; i = i->ifa_next) {
    if (i->ifa_addr == nullptr || i->ifa_addr->sa_family != address.family) continue;
    const void* bytes = address.is_v4()
                            ? static_cast<const void*>(
                                  &reinterpret_cast<const sockaddr_in*>(i->ifa_addr)->sin_addr)
                            : static_cast<const void*>(
                                  &reinterpret_cast<const sockaddr_in6*>(i->ifa_addr)->sin6_addr);
    if (std::memcmp(bytes, address.bytes.data(), address.is_v4() ? 4 : 16) == 0) {
      name = i->ifa_name;
      break;
    }
  }
  ::freeifaddrs(list);
  return name;
}

}  // namespace

std::vector<UpdownInfo> Daemon::UpdownInfoOf(const ike::Event& e) const {
  UpdownInfo info;
  std::vector<base::Selector> local_ts, remote_ts;
  info.connection = e.child;
  const auto* conn = config_.Find(e.peer);
  if (conn) {
    info.my_id = conn->local_id.ToString();
    info.peer_id = conn->remote_id.ToString();
  }
  for (const auto& sa : shards_->ListSas(Now())) {
    if (sa.serial != e.ike_serial) continue;
    info.unique_id = sa.serial;
    info.me = sa.local.address;
    info.peer = sa.remote.address;
    if (!sa.remote_identity.empty()) info.peer_id = sa.remote_identity;
    if (sa.nat_local || sa.nat_remote || sa.nat_fake) info.udp_encap_port = sa.remote.port;
    for (const auto& c : sa.children) {
      if (c.id != e.child_id) continue;
      info.reqid = c.reqid;
      local_ts = c.local_ts;
      remote_ts = c.remote_ts;
      info.mark_in = c.mark_in;
      info.mark_out = c.mark_out;
      info.if_id_in = c.if_id_in;
      info.if_id_out = c.if_id_out;
    }
  }
  info.interface = InterfaceOf(info.me);
  std::vector<UpdownInfo> infos;
  for (const auto& mine : local_ts) {
    for (const auto& theirs : remote_ts) {
      if (!base::SelectorsPair(mine, theirs)) continue;
      infos.push_back(info);
      infos.back().my_client = mine;
      infos.back().peer_client = theirs;
    }
  }
  return infos;
}

void Daemon::RunUpdown(const std::vector<ike::Event>& events) {
  const char* env_path = std::getenv("PATH");
  const std::string path = env_path ? env_path : "/usr/sbin:/usr/bin:/sbin:/bin";
  for (const auto& e : events) {
    if (e.kind != ike::EventKind::kChildUp && e.kind != ike::EventKind::kChildDown) continue;
    const auto key = std::make_pair(e.peer, e.child);
    if (e.kind == ike::EventKind::kChildUp) {
      const auto* conn = config_.Find(e.peer);
      if (conn == nullptr) continue;
      const config::ChildConfig* child = nullptr;
      for (const auto& c : conn->children) {
        if (c.name == e.child) child = &c;
      }
      if (child == nullptr || child->updown.empty()) continue;
      UpdownState& state = updown_up_[key];
      const bool first = state.children.empty();
      state.children.insert(e.child_id);
      if (!first) continue;  // a rekey's successor: the tunnel was up already
      state.infos = UpdownInfoOf(e);
      state.command = child->updown;
      for (const auto& info : state.infos)
        updown_->Run(state.command, UpdownEnvironment(true, info, path), "up " + e.child);
    } else {
      auto it = updown_up_.find(key);
      if (it == updown_up_.end() || it->second.children.erase(e.child_id) == 0) continue;
      if (!it->second.children.empty()) continue;  // its successor stands for the tunnel
      for (const auto& info : it->second.infos)
        updown_->Run(it->second.command, UpdownEnvironment(false, info, path), "down " + e.child);
      updown_up_.erase(it);
    }
  }
}

}  // namespace minivpn::daemon
