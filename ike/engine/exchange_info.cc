// INFORMATIONAL (RFC 7296 1.4): DELETE of IKE and CHILD SAs both ways (1.4.1), liveness checks
// (2.4, an empty INFORMATIONAL) and what happens when the peer stops answering (2.4: give up
// after the retransmission schedule, then dpd_action).
#include <algorithm>
#include <utility>

#include "ike/engine/engine.h"
#include "ike/engine/engine_payloads.h"

namespace minivpn::ike {

void Engine::StartDelete(IkeSa& sa, bool ike, std::vector<std::uint64_t> children, TimePoint now) {
  Outstanding out;
  DeletePayload d;
  if (ike) {
    d.protocol = ProtocolId::kIke;
    d.spi_size = 0;
    sa.state = IkeState::kDeleting;
    out.delete_ike = true;
  } else {
    d.protocol = ProtocolId::kEsp;
    d.spi_size = 4;
    for (auto id : children) {
      ChildSa* c = sa.FindChild(id);
      if (!c) continue;
      c->state = ChildState::kDeleting;
      // 1.4.1: a CHILD_SA is named by the SPI the sender expects in inbound packets.
      d.spis.push_back(SpiBytes32(c->params.spi_in));
      out.delete_children.push_back(id);
    }
    if (d.spis.empty()) return;
  }
  SendRequest(sa, ExchangeKind::kDelete, ExchangeType::kInformational,
              {MakePayload(PayloadType::kDelete, std::move(d))}, now, std::move(out));
}

void Engine::DeleteRefused(IkeSa& sa, std::uint32_t spi_in, TimePoint now) {
  if (sa.outstanding || sa.destroyed) return;
  DeletePayload d;
  d.protocol = ProtocolId::kEsp;
  d.spi_size = 4;
  d.spis.push_back(SpiBytes32(spi_in));
  SendRequest(sa, ExchangeKind::kDelete, ExchangeType::kInformational,
              {MakePayload(PayloadType::kDelete, std::move(d))}, now);
}

void Engine::StartDpd(IkeSa& sa, TimePoint now) {
  SendRequest(sa, ExchangeKind::kDpd, ExchangeType::kInformational, {}, now);
}

void Engine::ProcessInfoRequest(IkeSa& sa, const Header& header, const std::vector<Payload>& inner,
                                const std::vector<Bytes>& hashes, TimePoint now) {
  std::vector<Payload> reply;
  bool delete_ike = false;
  std::vector<std::string> restart;
  std::vector<const ChildConfig*> trap;
  const PeerConfig* peer = FindPeer(sa.peer);
  auto close_action = [&](const std::string& child) {
    const ChildConfig* cfg = peer ? FindChildConfig(*peer, child) : nullptr;
    if (cfg && cfg->close_action == CloseAction::kRestart) restart.push_back(child);
    if (cfg && cfg->close_action == CloseAction::kTrap) trap.push_back(cfg);
  };
  DeletePayload answer{.protocol = ProtocolId::kEsp, .spi_size = 4, .spis = {}};
  for (const auto& p : inner) {
    const auto* d = std::get_if<DeletePayload>(&p.body);
    if (!d) continue;
    if (d->protocol == ProtocolId::kIke) {
      delete_ike = true;
      continue;
    }
    if (d->protocol != ProtocolId::kEsp || d->spi_size != 4) continue;  // AH unused; bad size: I
    for (const auto& spi_bytes : d->spis) {
      auto spi = SpiFromBytes32(spi_bytes);
      ChildSa* c = spi ? sa.FindChildByOutbound(*spi) : nullptr;
      if (!c) continue;  // unknown or already deleted (bad-inputs I)
      std::uint64_t id = c->id;
      if (c->state == ChildState::kDeleting) {
        // 1.4.1: both ends deleted at once; the response leaves it out.
        RemoveChild(sa, id, now, "deleted by both peers");
        continue;
      }
      bool rekeyed = c->state == ChildState::kRekeyed;
      if (c->state == ChildState::kRekeying && c->peer_successor) {
        c->successor = c->peer_successor;
        rekeyed = true;
      }
      // Make-before-break, responder: OUT moves to the new SA when the old one is deleted
      // (RemoveChild hands the policies to the successor).
      answer.spis.push_back(SpiBytes32(c->params.spi_in));
      std::string name = c->name;
      bool redundant = c->redundant;
      RemoveChild(sa, id, now, rekeyed ? "rekeyed" : "deleted by the peer");
      if (!rekeyed && !redundant) close_action(name);
    }
  }
  if (!answer.spis.empty()) reply.push_back(MakePayload(PayloadType::kDelete, std::move(answer)));
  // An empty request is a liveness check (2.4) and gets an empty response.
  SendResponse(sa, header, std::move(reply), hashes, now);
  if (delete_ike) {
    // Our reauthentication's DELETE crossed the peer's: the new IKE SA starts all the same.
    if (!sa.reestablish.empty()) return ReestablishAndDestroy(sa, "reauthenticated", now);
    if (IkeSa* next = FindSa(sa.successor); next && !sa.children.empty()) MoveChildren(sa, *next);
    for (const auto& c : sa.children) close_action(c.name);
    std::string peer_name = sa.peer;
    DestroySa(sa, now, sa.state == IkeState::kRekeyed ? "rekeyed" : "deleted by the peer");
    for (const ChildConfig* cfg : trap) InstallTrap(*peer, *cfg, now);
    ApplyAction(peer_name, restart, now);
    return;
  }
  for (const ChildConfig* cfg : trap) InstallTrap(*peer, *cfg, now);
  if (!restart.empty()) {
    for (const auto& name : restart)
      sa.tasks.push_back(Task{.kind = Task::Kind::kCreateChild, .child_name = name});
    StartNextTask(sa, now);
  }
}

void Engine::ProcessInfoResponse(IkeSa& sa, Outstanding& out, const std::vector<Payload>& /*inner*/,
                                 TimePoint now) {
  if (out.kind == ExchangeKind::kDpd) return;  // the peer is alive
  if (out.delete_ike) {
    if (!sa.reestablish.empty()) return ReestablishAndDestroy(sa, "reauthenticated", now);
    DestroySa(sa, now, sa.successor ? "rekeyed" : "deleted");
    return;
  }
  for (auto id : out.delete_children) RemoveChild(sa, id, now, "deleted");
}

// 2.4: no answer after the whole retransmission schedule: the peer is considered dead.
void Engine::GiveUp(IkeSa& sa, TimePoint now) {
  const Outstanding& o = *sa.outstanding;
  Emit(EventKind::kFailure, &sa, now,
       "giving up after " + std::to_string(o.retransmits) + " retransmits of " + o.summary,
       sa.init_hint);
  std::vector<std::string> restart;
  std::vector<const ChildConfig*> trap;
  const PeerConfig* peer = FindPeer(sa.peer);
  if (peer && sa.state != IkeState::kConnecting && sa.state != IkeState::kAuthenticating &&
      !o.delete_ike) {
    for (const auto& c : sa.children) {
      const ChildConfig* cfg = FindChildConfig(*peer, c.name);
      if (cfg && cfg->dpd_action == DpdAction::kRestart &&
          std::find(restart.begin(), restart.end(), c.name) == restart.end())
        restart.push_back(c.name);
      if (cfg && cfg->dpd_action == DpdAction::kTrap) trap.push_back(cfg);
    }
  }
  // An establishment that timed out is tried again while keyingtries allows (0 = forever).
  std::uint32_t next_try = 1;
  if (peer && sa.initiator && !sa.auth_child.empty() &&
      (sa.state == IkeState::kConnecting || sa.state == IkeState::kAuthenticating) &&
      (peer->keyingtries == 0 || sa.keying_try < peer->keyingtries)) {
    restart.push_back(sa.auth_child);
    next_try = sa.keying_try + 1;
  }
  // charon: a reauthentication whose DELETE got no answer makes the new IKE SA anyway.
  if (o.delete_ike && !sa.reestablish.empty())
    return ReestablishAndDestroy(sa, "peer not responding to the reauthentication's DELETE", now);
  // A reauthentication's new SA that could not be set up is tried again while keyingtries
  // allows, with all its CHILD_SAs, its held reqids and the SA it replaces (charon resets and
  // re-initiates the same IKE_SA).
  const bool reauthenticating = sa.reauth_of != 0 || !sa.held_reqids.empty();
  if (reauthenticating && peer && (sa.state == IkeState::kConnecting ||
                                   sa.state == IkeState::kAuthenticating)) {
    if (peer->keyingtries == 0 || sa.keying_try < peer->keyingtries) {
      std::vector<std::string> children{sa.auth_child};
      for (const auto& t : sa.tasks)
        if (t.kind == Task::Kind::kCreateChild) children.push_back(t.child_name);
      if (IkeSa* next = Reestablish(sa, children, false, now)) {
        next->reauth_of = sa.reauth_of;
        next->held_reqids = std::exchange(sa.held_reqids, {});
        next->keying_try = sa.keying_try + 1;
      }
    }
    DestroySa(sa, now, "peer not responding");
    return;
  }
  std::string peer_name = sa.peer;
  DestroySa(sa, now, "peer not responding");
  // dpd_action = trap: the next packet for the tunnel starts a new negotiation (RFC 7296 2.4
  // leaves the action to policy; charon installs the child's trap policies).
  for (const ChildConfig* cfg : trap) InstallTrap(*peer, *cfg, now);
  for (const auto& child : restart) {
    auto serial = Initiate(peer_name, child, now);
    if (IkeSa* next = serial ? FindSa(*serial) : nullptr) next->keying_try = next_try;
  }
}

}  // namespace minivpn::ike
