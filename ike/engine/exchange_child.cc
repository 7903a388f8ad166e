// CREATE_CHILD_SA for CHILD_SAs (RFC 7296 1.3.1) and their rekeys (1.3.3, 2.8), both roles:
// optional PFS with INVALID_KE_PAYLOAD (1.3), simultaneous rekeys decided by the lowest nonce
// (2.8.1), rekey vs delete and TEMPORARY_FAILURE / CHILD_SA_NOT_FOUND (2.25).
#include <algorithm>

#include "ike/engine/engine.h"
#include "ike/engine/engine_payloads.h"

namespace minivpn::ike {

namespace {

crypto::DhGroup PfsGroup(const ChildConfig& cfg) {
  for (const auto& p : cfg.proposals)
    if (!p.dh.empty()) return p.dh.front();
  return crypto::DhGroup::kNone;
}

const Bytes& MinNonce(const Bytes& a, const Bytes& b) { return NonceLess(a, b) ? a : b; }

// A rekey's selectors and mode equal its predecessor's (the policies it takes over).
bool SameTraffic(const ChildTs& ts, const xfrm::ChildSaParams& old) {
  return ts.local == old.local_ts && ts.remote == old.remote_ts && ts.transport == old.transport;
}

}  // namespace

// 1.3.1 / 1.3.3 request: [N(REKEY_SA)] SA Ni [KEi] TSi TSr.
void Engine::StartCreateChild(IkeSa& sa, const std::string& name, std::uint64_t rekey_of,
                              TimePoint now, crypto::DhGroup pfs_group, std::uint32_t ke_retries) {
  const PeerConfig* peer = FindPeer(sa.peer);
  const ChildConfig* cfg = peer ? FindChildConfig(*peer, name) : nullptr;
  ChildSa* old = rekey_of ? sa.FindChild(rekey_of) : nullptr;
  if (!cfg || (rekey_of && (!old || old->state != ChildState::kInstalled))) return;
  PendingChild pending;
  pending.name = name;
  pending.rekey_of = rekey_of;
  pending.ke_retries = ke_retries;
  if (!AllocChildSpi(sa, *cfg, old, pending)) {
    Emit(EventKind::kFailure, &sa, now, "SPI allocation failed", std::nullopt, name);
    return;
  }
  pending.nonce_i.resize(config_.nonce_size);
  random_.Fill(pending.nonce_i);
  crypto::DhGroup group = pfs_group != crypto::DhGroup::kNone ? pfs_group : PfsGroup(*cfg);
  if (group != crypto::DhGroup::kNone) {
    auto ke = crypto::KeyExchange::Generate(group);
    if (!ke) {
      ReleaseSpi(sa, pending.spi_in);
      return;
    }
    pending.ke = std::move(*ke);
  }
  std::vector<Payload> payloads;
  std::vector<xfrm::Selector> local_ts = ResolveDynamic(cfg->local_ts, sa.local.address);
  std::vector<xfrm::Selector> remote_ts = ResolveDynamic(cfg->remote_ts, sa.remote.address);
  if (old) {
    // 2.8: REKEY_SA carries the SPI we receive on (our inbound SPI).
    payloads.push_back(
        MakeSpiNotify(NotifyType::kRekeySa, ProtocolId::kEsp, SpiBytes32(old->params.spi_in)));
    local_ts = old->params.local_ts;
    remote_ts = old->params.remote_ts;
    old->state = ChildState::kRekeying;
  }
  // 1.3.1: only the initiator asks for transport mode (a rekey asks again, as charon).
  if (cfg->transport) payloads.push_back(MakeNotify(NotifyType::kUseTransportMode));
  payloads.push_back(MakePayload(PayloadType::kSa, OfferEsp(cfg->proposals, pending.spi_in, true)));
  payloads.push_back(MakePayload(PayloadType::kNonce, NoncePayload{.data = pending.nonce_i}));
  if (pending.ke)
    payloads.push_back(
        MakePayload(PayloadType::kKe,
                    KePayload{.group = pending.ke->group(), .data = pending.ke->public_value()}));
  payloads.push_back(MakePayload(PayloadType::kTsi, ToTsPayload(local_ts)));
  payloads.push_back(MakePayload(PayloadType::kTsr, ToTsPayload(remote_ts)));
  Outstanding out;
  out.child = std::move(pending);
  SendRequest(sa, rekey_of ? ExchangeKind::kRekeyChild : ExchangeKind::kCreateChild,
              ExchangeType::kCreateChildSa, std::move(payloads), now, std::move(out));
}

// Responder for a new CHILD_SA or a CHILD rekey.
void Engine::ProcessChildRequest(IkeSa& sa, const Header& header, const std::vector<Payload>& inner,
                                 const std::vector<Bytes>& hashes, TimePoint now) {
  auto reply_error = [&](NotifyType type, Bytes data, std::string why) {
    Emit(EventKind::kFailure, &sa, now, "CREATE_CHILD_SA refused: " + why, type);
    SendResponse(sa, header, {MakeNotify(type, std::move(data))}, hashes, now);
  };
  const PeerConfig* peer = FindPeer(sa.peer);
  // 2.25: no CHILD_SA work while the IKE SA is being rekeyed or deleted.
  if (!peer || sa.state != IkeState::kEstablished)
    return reply_error(NotifyType::kTemporaryFailure, {}, "IKE SA rekeying or deleting");
  std::uint64_t old_id = 0;
  const ChildConfig* cfg = nullptr;
  const auto* tsi = FindBody<TsPayload>(inner, PayloadType::kTsi);
  const auto* tsr = FindBody<TsPayload>(inner, PayloadType::kTsr);
  const auto* sa_body = FindBody<SaPayload>(inner, PayloadType::kSa);
  const auto* nonce = FindBody<NoncePayload>(inner, PayloadType::kNonce);
  const auto* ke = FindBody<KePayload>(inner, PayloadType::kKe);
  if (!tsi || !tsr || !sa_body || !nonce)
    return reply_error(NotifyType::kInvalidSyntax, {}, "payload missing");
  if (nonce->data.size() < 16 || nonce->data.size() > 256)
    return reply_error(NotifyType::kInvalidSyntax, {}, "bad nonce length");
  std::optional<ChildTs> ts;
  const bool transport_asked = FindNotify(inner, NotifyType::kUseTransportMode) != nullptr;
  const auto narrow = [&](const std::vector<xfrm::Selector>& local,
                          const std::vector<xfrm::Selector>& remote, bool cfg_transport) {
    return NarrowChildTs(local, remote, cfg_transport, *tsi, *tsr, transport_asked,
                         sa.local.address, sa.remote.address);
  };
  if (const auto* rekey = FindNotify(inner, NotifyType::kRekeySa)) {
    auto spi = SpiFromBytes32(rekey->spi);
    if (!spi || rekey->protocol != ProtocolId::kEsp)
      return reply_error(NotifyType::kInvalidSyntax, {}, "REKEY_SA with a bad SPI");
    ChildSa* old = sa.FindChildByOutbound(*spi);
    if (!old) return reply_error(NotifyType::kChildSaNotFound, {}, "rekey of an unknown CHILD_SA");
    if (old->state == ChildState::kDeleting || old->state == ChildState::kRekeyed ||
        old->peer_successor != 0 || old->redundant)
      return reply_error(NotifyType::kTemporaryFailure, {}, "CHILD_SA being rekeyed or deleted");
    old_id = old->id;
    cfg = FindChildConfig(*peer, old->name);
    if (cfg) ts = narrow(old->params.local_ts, old->params.remote_ts, cfg->transport);
    // A rekey takes over its predecessor's policies as they are: other selectors or another mode
    // would need policies of their own (charon installs them; refused here, the old CHILD_SA
    // stays until it expires and is then made anew).
    if (ts && !SameTraffic(*ts, old->params)) ts.reset();
  } else {
    // A rekey replaces a CHILD_SA; a new one adds to what this IKE SA holds (bounded).
    if (sa.children.size() >= config_.max_children_per_ike_sa)
      return reply_error(NotifyType::kNoAdditionalSas, {},
                         std::to_string(sa.children.size()) + " CHILD_SAs on this IKE SA already");
    if (auto picked = SelectChildConfig(peer->children, *tsi, *tsr, transport_asked,
                                        sa.local.address, sa.remote.address)) {
      cfg = picked->cfg;
      ts = std::move(picked->ts);
    }
  }
  if (!cfg || !ts)
    return reply_error(NotifyType::kTsUnacceptable, {}, "traffic selectors unacceptable");
  auto choice = SelectEsp(cfg->proposals, *sa_body, true, ke ? ke->group : crypto::DhGroup::kNone);
  if (!choice) return reply_error(NotifyType::kNoProposalChosen, {}, "no acceptable proposal");
  std::unique_ptr<crypto::KeyExchange> our_ke;
  std::optional<SecretBytes> g_ir;
  if (choice->suite.dh != crypto::DhGroup::kNone) {
    // 1.3 / bad-inputs D: INVALID_KE_PAYLOAD inside CREATE_CHILD_SA.
    if (!ke || ke->group != choice->suite.dh)
      return reply_error(NotifyType::kInvalidKePayload, GroupBytes(choice->suite.dh), "KE group");
    if (ke->data.size() != crypto::KePublicSize(ke->group))
      return reply_error(NotifyType::kInvalidSyntax, {}, "KE length");
    auto generated = crypto::KeyExchange::Generate(ke->group);
    if (!generated) return reply_error(NotifyType::kNoProposalChosen, {}, generated.error());
    our_ke = std::move(*generated);
    auto shared = our_ke->ComputeShared(ke->data);
    if (!shared) return reply_error(NotifyType::kNoProposalChosen, {}, shared.error());
    g_ir = std::move(*shared);
  }
  ts = WithSharedIds(*cfg, *ts, old_id ? sa.FindChild(old_id) : nullptr, sa.if_id_in,
                     sa.if_id_out);
  // As charon's get_spi, without a reqid: InstallChild takes it.
  auto spi = kernel_.AllocSpi(sa.remote.address, sa.local.address, 0, xfrm::kCharonSpiRange);
  if (!spi) return reply_error(NotifyType::kNoAdditionalSas, {}, "SPI allocation failed");
  Bytes nonce_r(config_.nonce_size);
  random_.Fill(nonce_r);
  ChildSa* child = InstallChild(sa, *cfg, *choice, *spi, *ts, nonce->data,
                                nonce_r, g_ir ? &*g_ir : nullptr, false, old_id == 0, now);
  if (child) OnChildKeys(sa, *child, nonce->data, nonce_r, g_ir ? &*g_ir : nullptr, false);
  if (!child) {
    ReleaseSpi(sa, *spi);
    return reply_error(NotifyType::kNoAdditionalSas, {}, "kernel refused the CHILD_SA");
  }
  std::uint64_t new_id = child->id;
  if (old_id) {
    ChildSa* old = sa.FindChild(old_id);
    old->peer_successor = new_id;
    old->peer_rekey_min_nonce = MinNonce(nonce->data, nonce_r);
    if (old->state == ChildState::kInstalled) {
      // Make-before-break, responder: the new inbound SA is in; OUT switches when the DELETE
      // of the old SA arrives.
      old->successor = new_id;
      old->state = ChildState::kRekeyed;
    }
    Emit(EventKind::kChildRekeyed, &sa, now,
         "CHILD_SA " + cfg->name + "{" + std::to_string(old_id) + "} rekeyed by the peer to {" +
             std::to_string(new_id) + "}",
         std::nullopt, cfg->name, new_id);
  }
  std::vector<Payload> payloads;
  if (ts->transport) payloads.push_back(MakeNotify(NotifyType::kUseTransportMode));
  payloads.push_back(MakePayload(PayloadType::kSa, AnswerEsp(choice->suite, choice->number, *spi)));
  payloads.push_back(MakePayload(PayloadType::kNonce, NoncePayload{.data = nonce_r}));
  if (our_ke)
    payloads.push_back(MakePayload(
        PayloadType::kKe, KePayload{.group = our_ke->group(), .data = our_ke->public_value()}));
  payloads.push_back(MakePayload(PayloadType::kTsi, ToTsPayload(ts->remote)));
  payloads.push_back(MakePayload(PayloadType::kTsr, ToTsPayload(ts->local)));
  SendResponse(sa, header, std::move(payloads), hashes, now);
}

// Initiator: the answer to our CREATE_CHILD_SA.
void Engine::ProcessChildResponse(IkeSa& sa, Outstanding& out, const std::vector<Payload>& inner,
                                  TimePoint now) {
  PendingChild& p = out.child;
  const std::uint64_t old_id = p.rekey_of;
  const PeerConfig* peer = FindPeer(sa.peer);
  const ChildConfig* cfg = peer ? FindChildConfig(*peer, p.name) : nullptr;
  auto abort = [&](std::string why, std::optional<NotifyType> notify) {
    ReleaseSpi(sa, p.spi_in);
    Emit(EventKind::kFailure, &sa, now, "CREATE_CHILD_SA failed: " + why, notify, p.name);
    if (ChildSa* old = sa.FindChild(old_id); old && old->state == ChildState::kRekeying) {
      if (old->peer_successor && sa.FindChild(old->peer_successor)) {
        // 2.8.1: the peer's rekey of this SA went through; it deletes the old SA.
        old->successor = old->peer_successor;
        old->state = ChildState::kRekeyed;
      } else {
        old->state = ChildState::kInstalled;
        // The kernel dropped it meanwhile (hard expire) and no successor came: it goes.
        if (old->hard_expired)
          sa.tasks.insert(sa.tasks.begin(), Task{.kind = Task::Kind::kDeleteChild, .child_id = old_id});
      }
    }
  };
  // The peer created its side already: refusing the answer means deleting it there too.
  auto refuse = [&](std::string why) {
    abort(std::move(why), std::nullopt);
    DeleteRefused(sa, p.spi_in, now);
  };
  const auto* sa_body = FindBody<SaPayload>(inner, PayloadType::kSa);
  if (!sa_body || !cfg) {
    const NotifyPayload* error = FirstError(inner);
    std::optional<NotifyType> type = error ? std::optional(error->type) : std::nullopt;
    if (type == NotifyType::kInvalidKePayload && cfg && p.ke && error->data.size() == 2 &&
        p.ke_retries < config_.max_init_retries) {
      auto group = static_cast<crypto::DhGroup>((error->data[0] << 8) | error->data[1]);
      if (OffersGroup(cfg->proposals, group) && group != p.ke->group()) {
        // 1.3: retry with the group the responder asked for (bounded).
        ReleaseSpi(sa, p.spi_in);
        if (ChildSa* old = sa.FindChild(old_id)) old->state = ChildState::kInstalled;
        StartCreateChild(sa, p.name, old_id, now, group, p.ke_retries + 1);
        return;
      }
    }
    abort("peer answered without SA", type);
    if (type == NotifyType::kChildSaNotFound && old_id) {
      RemoveChild(sa, old_id, now, "unknown to the peer");
    } else if (type == NotifyType::kTemporaryFailure) {
      // 2.25: try again later unless the peer's own rekey replaced the SA.
      ChildSa* old = sa.FindChild(old_id);
      if (!old_id || (old && old->state == ChildState::kInstalled)) {
        Task t{.kind = old_id ? Task::Kind::kRekeyChild : Task::Kind::kCreateChild,
               .child_name = p.name,
               .child_id = old_id,
               .not_before = RetryAt(now)};
        sa.tasks.push_back(t);
      }
    }
    return;
  }
  auto choice = AcceptEsp(cfg->proposals, *sa_body, true);
  const auto* nonce = FindBody<NoncePayload>(inner, PayloadType::kNonce);
  const auto* ke = FindBody<KePayload>(inner, PayloadType::kKe);
  const auto* tsi = FindBody<TsPayload>(inner, PayloadType::kTsi);
  const auto* tsr = FindBody<TsPayload>(inner, PayloadType::kTsr);
  ChildSa* old = sa.FindChild(old_id);
  const auto want_local =
      old ? old->params.local_ts : ResolveDynamic(cfg->local_ts, sa.local.address);
  const auto want_remote =
      old ? old->params.remote_ts : ResolveDynamic(cfg->remote_ts, sa.remote.address);
  const bool transport = FindNotify(inner, NotifyType::kUseTransportMode) != nullptr;
  auto ts = tsi && tsr ? AcceptChildTs(want_local, want_remote, cfg->transport, *tsi, *tsr,
                                       transport, sa.local.address, sa.remote.address)
                       : std::nullopt;
  if (!choice || !nonce || nonce->data.size() < 16 || nonce->data.size() > 256 || !ts ||
      (old && !SameTraffic(*ts, old->params)))
    return refuse("answer not acceptable");
  ts->mark_in = p.mark_in;
  ts->mark_out = p.mark_out;
  ts->if_id_in = p.if_id_in;
  ts->if_id_out = p.if_id_out;
  std::optional<SecretBytes> g_ir;
  if (choice->suite.dh != crypto::DhGroup::kNone) {
    if (!p.ke || !ke || ke->group != p.ke->group() || choice->suite.dh != ke->group)
      return refuse("KE answer does not match");
    auto shared = p.ke->ComputeShared(ke->data);
    if (!shared) return refuse("peer KE rejected: " + shared.error());
    g_ir = std::move(*shared);
  }
  ChildSa* child =
      InstallChild(sa, *cfg, *choice, p.spi_in, *ts, p.nonce_i,
                   nonce->data, g_ir ? &*g_ir : nullptr, true, old_id == 0, now);
  if (!child) return refuse("kernel refused the CHILD_SA");
  OnChildKeys(sa, *child, p.nonce_i, nonce->data, g_ir ? &*g_ir : nullptr, true);
  const std::uint64_t new_id = child->id;
  if (!old_id) return;
  old = sa.FindChild(old_id);
  if (!old) {
    // 2.25 rekey vs delete: the peer deleted the old SA meanwhile; the new one is orphaned.
    sa.FindChild(new_id)->redundant = true;
    sa.tasks.insert(sa.tasks.begin(), Task{.kind = Task::Kind::kDeleteChild, .child_id = new_id});
    return;
  }
  ChildSa* theirs = old->peer_successor ? sa.FindChild(old->peer_successor) : nullptr;
  if (theirs && !theirs->redundant) {
    // 2.8.1: simultaneous rekey. The SA created with the lowest of the four nonces is
    // redundant and deleted by whoever created it; the other side deletes the old SA.
    if (NonceLess(MinNonce(p.nonce_i, nonce->data), old->peer_rekey_min_nonce)) {
      sa.FindChild(new_id)->redundant = true;
      old->successor = theirs->id;
      old->state = ChildState::kRekeyed;
      Emit(EventKind::kChildRekeyed, &sa, now,
           "rekey collision lost: deleting our new CHILD_SA {" + std::to_string(new_id) + "}",
           std::nullopt, p.name);
      sa.tasks.insert(sa.tasks.begin(), Task{.kind = Task::Kind::kDeleteChild, .child_id = new_id});
      return;
    }
    theirs->redundant = true;
  }
  // Make-before-break, initiator: OUT moves to the new SA now, then the old one is deleted.
  old->successor = new_id;
  old->state = ChildState::kRekeyed;
  if (!SwitchToSuccessor(sa, *old, now)) {
    // The kernel kept the OUT policy on the old SA: traffic stays there. The new SA goes (we
    // created it, we delete it) and the rekey is tried again later.
    old->successor = 0;
    old->state = ChildState::kInstalled;
    sa.FindChild(new_id)->redundant = true;
    sa.tasks.insert(sa.tasks.begin(), Task{.kind = Task::Kind::kDeleteChild, .child_id = new_id});
    sa.tasks.push_back(Task{.kind = Task::Kind::kRekeyChild,
                            .child_name = p.name,
                            .child_id = old_id,
                            .not_before = RetryAt(now)});
    return;
  }
  Emit(EventKind::kChildRekeyed, &sa, now,
       "CHILD_SA " + p.name + "{" + std::to_string(old_id) + "} rekeyed to {" +
           std::to_string(new_id) + "}",
       std::nullopt, p.name, new_id);
  StartDelete(sa, false, {old_id}, now);
}

}  // namespace minivpn::ike
