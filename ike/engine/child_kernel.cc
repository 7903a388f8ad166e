// CHILD_SA kernel state as charon programs it (kernel-reference.md): reqids per (local TS,
// remote TS, mark_in, mark_out) from 1, reused on rekey; soft lifetime = rekey_time -
// random(0..rand_time), hard = life_time; KEYMAT (RFC 7296 2.17); install through
// xfrm/child_sa.h; make-before-break switch of the OUT policy on rekeys.
#include <fmt/core.h>
#include <algorithm>
#include <cstdio>

#include "base/if_id.h"
#include "crypto/keymat.h"
#include "ike/engine/engine.h"
#include "ike/engine/negotiation.h"

namespace minivpn::ike {

std::uint32_t Engine::AcquireReqid(const ChildConfig& cfg, const ChildTs& traffic) {
  if (cfg.reqid != 0) {
    ids_.AcquireFixedReqid(cfg.reqid);
    return cfg.reqid;
  }
  const auto configured = [this](std::uint32_t r) {
    return std::any_of(peers_.begin(), peers_.end(), [r](const auto& p) {
      return std::any_of(p->children.begin(), p->children.end(),
                         [r](const ChildConfig& c) { return c.reqid == r; });
    });
  };
  return ids_.AcquireReqid(std::make_tuple(traffic.local, traffic.remote, traffic.mark_in,
                                           traffic.mark_out, traffic.if_id_in, traffic.if_id_out),
                           configured);
}

void Engine::AllocateUniqueIfIds(std::uint32_t& in, std::uint32_t& out) {
  if (!base::IsUniqueIfId(in) && !base::IsUniqueIfId(out)) return;
  const auto next = [this] { return ids_.NextUniqueIfId(); };
  const bool per_dir = in == base::kIfIdUniqueDir || out == base::kIfIdUniqueDir;
  const std::uint32_t shared = per_dir ? 0 : next();
  if (base::IsUniqueIfId(in)) in = per_dir ? next() : shared;
  if (base::IsUniqueIfId(out)) out = per_dir ? next() : shared;
}

ChildTs Engine::WithSharedIds(const ChildConfig& cfg, ChildTs traffic, const ChildSa* old,
                              std::uint32_t ike_if_id_in, std::uint32_t ike_if_id_out) {
  if (old) {
    traffic.mark_in = old->params.mark_in;
    traffic.mark_out = old->params.mark_out;
    traffic.if_id_in = old->params.if_id_in;
    traffic.if_id_out = old->params.if_id_out;
    return traffic;
  }
  traffic.if_id_in = cfg.if_id_in != 0 ? cfg.if_id_in : ike_if_id_in;
  traffic.if_id_out = cfg.if_id_out != 0 ? cfg.if_id_out : ike_if_id_out;
  AllocateUniqueIfIds(traffic.if_id_in, traffic.if_id_out);
  traffic.mark_in = cfg.mark_in;
  traffic.mark_out = cfg.mark_out;
  if (!traffic.mark_in.is_unique() && !traffic.mark_out.is_unique()) return traffic;
  const auto next = [this] { return ids_.NextUniqueMark(); };
  const bool per_dir = (traffic.mark_in.is_unique() && traffic.mark_in.value == xfrm::Mark::kUniqueDir) ||
                       (traffic.mark_out.is_unique() && traffic.mark_out.value == xfrm::Mark::kUniqueDir);
  const std::uint32_t shared = per_dir ? 0 : next();
  if (traffic.mark_in.is_unique()) traffic.mark_in.value = per_dir ? next() : shared;
  if (traffic.mark_out.is_unique()) traffic.mark_out.value = per_dir ? next() : shared;
  return traffic;
}

bool Engine::HoldReqid(std::uint32_t reqid) { return ids_.HoldReqid(reqid); }

void Engine::ReleaseReqid(std::uint32_t reqid) { ids_.ReleaseReqid(reqid); }

xfrm::Lifetime Engine::ChildLifetime(const ChildConfig& cfg) {
  xfrm::Lifetime l;
  auto rekey = static_cast<std::uint64_t>(cfg.rekey_time.count());
  auto rand = static_cast<std::uint64_t>(cfg.rand_time.count());
  rand = std::min(rand, rekey > 0 ? rekey - 1 : 0);
  std::uint64_t jitter = rand ? random_.Next<std::uint32_t>() % (rand + 1) : 0;
  l.soft_add_seconds = rekey - jitter;
  l.hard_add_seconds = static_cast<std::uint64_t>(cfg.life_time.count());
  // Bytes and packets as charon's get_lifetime() makes them (each with its own jitter, 64 bits
  // wide); 0 is no limit (XFRM_INF in the netlink layer), so a rekey of 0 sets no soft limit.
  const auto soft = [this](std::uint64_t rekey_at, std::uint64_t spread) -> std::uint64_t {
    spread = std::min(spread, rekey_at > 0 ? rekey_at - 1 : 0);
    return rekey_at - (spread ? random_.Next<std::uint64_t>() % (spread + 1) : 0);
  };
  l.soft_bytes = soft(cfg.rekey_bytes, cfg.rand_bytes);
  l.hard_bytes = cfg.life_bytes;
  l.soft_packets = soft(cfg.rekey_packets, cfg.rand_packets);
  l.hard_packets = cfg.life_packets;
  return l;
}

std::optional<TimePoint> Engine::OverdueAt(const xfrm::Lifetime& life,
                                          std::optional<TimePoint> soft, TimePoint hard) {
  constexpr std::uint64_t kMaxMargin = 30;
  if (soft && life.soft_add_seconds > 0) {
    std::uint64_t margin = kMaxMargin;
    if (life.hard_add_seconds > life.soft_add_seconds)
      margin = std::clamp<std::uint64_t>((life.hard_add_seconds - life.soft_add_seconds) / 2, 1,
                                         kMaxMargin);
    return *soft + Seconds(margin);
  }
  if (life.hard_add_seconds > 0) return hard + Seconds(kMaxMargin);
  return std::nullopt;
}

bool Engine::AllocChildSpi(IkeSa& sa, const ChildConfig& child, const ChildSa* old,
                           PendingChild& pending) {
  // The marks are the CHILD_SA's from here on (charon resolves %unique when the initiator creates
  // its child_sa). The reqid is taken at install, for the selectors the answer grants, and the
  // SPI is allocated without one, as charon's get_spi: a narrowed answer then gets the reqid
  // charon gives it.
  const ChildTs ids = WithSharedIds(child, ChildTs{}, old, sa.if_id_in, sa.if_id_out);
  pending.mark_in = ids.mark_in;
  pending.mark_out = ids.mark_out;
  pending.if_id_in = ids.if_id_in;
  pending.if_id_out = ids.if_id_out;
  auto spi = kernel_.AllocSpi(sa.remote.address, sa.local.address, 0, xfrm::kCharonSpiRange);
  if (!spi) return false;
  pending.spi_in = *spi;
  return true;
}

void Engine::ReleaseSpi(IkeSa& sa, std::uint32_t spi_in) {
  // A larval SA (ALLOCSPI never followed by UPDSA) carries no mark.
  (void)kernel_.DelSa(xfrm::SaId{.src = sa.remote.address,
                                 .dst = sa.local.address,
                                 .spi = spi_in,
                                 .proto = 50,
                                 .mark = xfrm::Mark::None()});
}

ChildSa* Engine::InstallChild(IkeSa& sa, const ChildConfig& cfg, const EspChoice& choice,
                              std::uint32_t spi_in, const ChildTs& ts,
                              ByteView nonce_i, ByteView nonce_r, const SecretBytes* g_ir,
                              bool we_initiated, bool install_policies, TimePoint now) {
  const EspSuite& s = choice.suite;
  crypto::ChildKeySizes sizes{
      .encr = crypto::EspKeyMaterialSize(s.encr.id, s.encr.key_bits),
      .integ = crypto::IsAead(s.encr.id) ? 0 : crypto::IntegKeySize(s.integ)};
  // 2.17: the keys for initiator -> responder come first.
  crypto::ChildKeys ck = crypto::DeriveChildKeys(*sa.prf, sa.sk_d, g_ir, nonce_i, nonce_r, sizes);
  xfrm::ChildSaParams p;
  p.local = sa.local.address;
  p.remote = sa.remote.address;
  if (we_initiated) {
    p.encr_key_out = std::move(ck.encr_i);
    p.integ_key_out = std::move(ck.integ_i);
    p.encr_key_in = std::move(ck.encr_r);
    p.integ_key_in = std::move(ck.integ_r);
  } else {
    p.encr_key_in = std::move(ck.encr_i);
    p.integ_key_in = std::move(ck.integ_i);
    p.encr_key_out = std::move(ck.encr_r);
    p.integ_key_out = std::move(ck.integ_r);
  }
  p.spi_in = spi_in;
  p.spi_out = choice.spi;
  p.reqid = AcquireReqid(cfg, ts);
  p.if_id_in = ts.if_id_in;
  p.if_id_out = ts.if_id_out;
  p.local_ts = ts.local;
  p.remote_ts = ts.remote;
  p.transport = ts.transport;
  p.mark_in = ts.mark_in;
  p.mark_out = ts.mark_out;
  p.mark_in_sa = cfg.mark_in_sa;
  p.replay_window = cfg.replay_window;
  p.algorithms = xfrm::EspAlgorithms{
      .encr = s.encr.id, .encr_key_bits = s.encr.key_bits, .integ = s.integ, .esn = s.esn};
  p.lifetime = ChildLifetime(cfg);
  // 2.23: NAT on either side -> ESP in UDP between the IKE ports.
  if (sa.udp_encap())
    p.encap = xfrm::UdpEncap{.sport = sa.local.port, .dport = sa.remote.port};
  // A new CHILD_SA goes in whole. A rekeyed one (make-before-break) gets both SAs now, in both
  // roles: the OUT policy's template names the old outbound SPI, so the kernel keeps sending on
  // the old SA until SwitchToSuccessor moves it. An install failure here is answered (responder)
  // or refused (initiator) while the old SA still carries the traffic.
  std::error_code ec;
  install_policies = install_policies && cfg.policies;
  if (install_policies) {
    ec = xfrm::InstallChildSa(kernel_, p);
  } else {
    ec = xfrm::InstallInboundSa(kernel_, p);
    if (!ec) {
      ec = xfrm::InstallOutboundSa(kernel_, p);
      if (ec) (void)kernel_.DelSa(xfrm::InboundSaSpec(p).id);
    }
  }
  if (ec) {
    ReleaseReqid(p.reqid);
    Emit(EventKind::kFailure, &sa, now, "installing CHILD_SA failed: " + ec.message(), std::nullopt,
         cfg.name);
    return nullptr;
  }
  ChildSa c;
  c.id = ids_.NextChildId();
  c.name = cfg.name;
  p.encr_key_in = SecretBytes();
  p.integ_key_in = SecretBytes();
  p.encr_key_out = SecretBytes();
  p.integ_key_out = SecretBytes();
  c.params = std::move(p);
  c.suite = s;
  c.owns_policies = install_policies;
  c.installed_at = now;
  c.rekey_at = now + Seconds(c.params.lifetime.soft_add_seconds);
  c.expire_at = now + Seconds(c.params.lifetime.hard_add_seconds);
  c.overdue_at = OverdueAt(c.params.lifetime, c.rekey_at, c.expire_at);
  if (cfg.inactivity.count() > 0) c.inactivity_at = now + cfg.inactivity;
  sa.children.push_back(std::move(c));
  ChildSa& ref = sa.children.back();
  char spis[40];
  std::snprintf(spis, sizeof spis, "%08x_i %08x_o", ref.params.spi_in, ref.params.spi_out);
  Emit(EventKind::kChildUp, &sa, now,
       "CHILD_SA " + cfg.name + "{" + std::to_string(ref.id) + "} SPIs " + spis + " reqid " +
           std::to_string(ref.params.reqid) + (ts.transport ? " transport " : " ") +
           base::JoinSelectors(ts.local) + " === " + base::JoinSelectors(ts.remote) + " " + Describe(s),
       std::nullopt, cfg.name, ref.id);
  return &ref;
}

// Make-before-break (kernel-reference.md): the OUT policy's template moves to the new SPI (both
// SAs of the successor are in the kernel since its CREATE_CHILD_SA). False if the kernel refused
// the UPDPOLICY: the OUT policy still names the old SA, which then keeps the policies.
bool Engine::SwitchToSuccessor(IkeSa& sa, ChildSa& old_child, TimePoint now) {
  ChildSa* next = sa.FindChild(old_child.successor);
  if (!next || next->redundant) return false;
  if (!old_child.owns_policies) return true;
  if (auto ec = xfrm::SwitchOutbound(kernel_, old_child.params, next->params)) {
    Emit(EventKind::kFailure, &sa, now,
         "moving the OUT policy to CHILD_SA {" + std::to_string(next->id) +
             "} failed: " + ec.message(),
         std::nullopt, next->name);
    return false;
  }
  old_child.owns_policies = false;
  next->owns_policies = true;
  return true;
}

void Engine::RemoveChild(IkeSa& sa, std::uint64_t child_id, TimePoint now,
                         std::string_view reason) {
  auto it = std::find_if(sa.children.begin(), sa.children.end(),
                         [&](const ChildSa& c) { return c.id == child_id; });
  if (it == sa.children.end()) return;
  if (it->owns_policies) {
    ChildSa* next = sa.FindChild(it->successor);
    if (next && !next->redundant && next->id != it->id) {
      if (!SwitchToSuccessor(sa, *it, now)) {
        // The old SA goes anyway (the peer deleted it, or it expired): the successor takes the
        // policies as they are and is rekeyed at once, which moves the OUT policy again.
        it->owns_policies = false;
        next->owns_policies = true;
        sa.tasks.push_back(Task{.kind = Task::Kind::kRekeyChild, .child_id = next->id});
      }
      it = std::find_if(sa.children.begin(), sa.children.end(),
                        [&](const ChildSa& c) { return c.id == child_id; });
    } else {
      (void)xfrm::RemovePolicies(kernel_, it->params);
    }
  }
  // Errors are expected after a hard expire (the kernel already dropped the SA).
  (void)xfrm::RemoveSas(kernel_, it->params);
  ReleaseReqid(it->params.reqid);
  std::string name = it->name;
  std::uint64_t id = it->id;
  sa.children.erase(it);
  // A successor deleted before its predecessor (the rekey's initiator could not move its OUT
  // policy and deletes the new SA): the predecessor is an ordinary installed SA again.
  for (auto& c : sa.children) {
    if (c.peer_successor == id) {
      c.peer_successor = 0;
      c.peer_rekey_min_nonce.clear();
    }
    if (c.successor == id) {
      c.successor = 0;
      if (c.state == ChildState::kRekeyed) c.state = ChildState::kInstalled;
    }
  }
  Emit(EventKind::kChildDown, &sa, now,
       "CHILD_SA " + name + "{" + std::to_string(id) + "} deleted: " + std::string(reason),
       std::nullopt, name, id);
}

void Engine::InstallTraps(const PeerConfig& peer, TimePoint now) {
  for (const auto& c : peer.children)
    if ((c.start_action == StartAction::kTrap || c.start_action == StartAction::kTrapAndStart) &&
        c.policies)
      InstallTrap(peer, c, now);
}

void Engine::InstallTrap(const PeerConfig& peer, const ChildConfig& c, TimePoint now) {
  bool present = std::any_of(traps_.begin(), traps_.end(), [&](const Trap& t) {
    return t.peer == peer.name && t.child == c.name;
  });
  if (present) return;
  xfrm::ChildSaKernel k;
  k.local = peer.local_address;
  k.remote = peer.remote_address;
  k.local_ts = ResolveDynamic(c.local_ts, peer.local_address);
  k.remote_ts = ResolveDynamic(c.remote_ts, peer.remote_address);
  k.transport = c.transport;
  const auto unresolved = [](const xfrm::Selector& s) { return !s.net.address.is_set(); };
  if (std::any_of(k.local_ts.begin(), k.local_ts.end(), unresolved) ||
      std::any_of(k.remote_ts.begin(), k.remote_ts.end(), unresolved)) {
    Emit(EventKind::kFailure, nullptr, now,
         peer.name + ": no trap policies for " + c.name + ": a dynamic selector needs an address");
    return;
  }
  // As charon's trap_manager: the connection's ids, %unique resolved for the trap.
  const ChildTs traffic = WithSharedIds(c, ChildTs{k.local_ts, k.remote_ts, c.transport}, nullptr,
                                        peer.if_id_in, peer.if_id_out);
  k.mark_in = traffic.mark_in;
  k.mark_out = traffic.mark_out;
  k.reqid = AcquireReqid(c, traffic);
  k.if_id_in = traffic.if_id_in;
  k.if_id_out = traffic.if_id_out;
  auto policies = xfrm::ChildPolicies(k);  // spi_out = 0: no SPI in the OUT template
  std::size_t done = 0;
  std::error_code ec;
  for (auto& p : policies) {
    p.priority = xfrm::PolicyPriority(p.id, /*trap=*/true);
    if ((ec = kernel_.AddPolicy(p))) break;
    ++done;
  }
  if (ec) {
    while (done-- > 0) (void)kernel_.ReleasePolicy(policies[done]);
    ReleaseReqid(k.reqid);
    Emit(EventKind::kFailure, nullptr, now,
         peer.name + ": installing the trap policies of " + c.name + " failed: " + ec.message());
    return;
  }
  traps_.push_back(Trap{peer.name, c.name, k.reqid, policies});
  Emit(EventKind::kTrapInstalled, nullptr, now,
       peer.name + ": trap policies for " + c.name + " installed (reqid " +
           std::to_string(k.reqid) + "), the first packet starts the negotiation");
}

std::expected<void, std::string> Engine::InstallTrap(std::string_view peer,
                                                    std::string_view child, TimePoint now) {
  const PeerConfig* p = FindPeer(peer);
  if (p == nullptr) return std::unexpected(fmt::format("no connection named '{}'", peer));
  for (const auto& c : p->children) {
    if (c.name != child) continue;
    InstallTrap(*p, c, now);
    return {};
  }
  return std::unexpected(fmt::format("connection '{}' has no child '{}'", peer, child));
}

std::expected<void, std::string> Engine::UninstallTrap(std::string_view peer,
                                                      std::string_view child) {
  if (RemoveTraps(peer, child)) return {};
  return std::unexpected(fmt::format("policy '{}' does not exist", child));
}

bool Engine::RemoveTraps(std::string_view peer, std::string_view child) {
  bool removed = false;
  for (auto it = traps_.begin(); it != traps_.end();) {
    if (it->peer != peer || (!child.empty() && it->child != child)) {
      ++it;
      continue;
    }
    for (auto p = it->policies.rbegin(); p != it->policies.rend(); ++p) (void)kernel_.ReleasePolicy(*p);
    ReleaseReqid(it->reqid);
    it = traps_.erase(it);
    removed = true;
  }
  return removed;
}

}  // namespace minivpn::ike
