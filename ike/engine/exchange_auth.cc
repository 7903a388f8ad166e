// IKE_AUTH (RFC 7296 1.2) with PSK authentication (2.15), both roles, and the first CHILD_SA
// (1.2, 2.9 narrowing; errors per 1.2/2.21.2: the IKE SA stays up without the CHILD_SA).
#include <algorithm>

#include "crypto/keymat.h"
#include "ike/wire/codec.h"
#include "ike/engine/engine.h"
#include "ike/engine/engine_payloads.h"

namespace minivpn::ike {

namespace {}  // namespace

// 1.2: IDi [N(INITIAL_CONTACT)] [IDr] AUTH SA TSi TSr.
void Engine::SendAuthRequest(IkeSa& sa, TimePoint now) {
  const PeerConfig* peer = FindPeer(sa.peer);
  const ChildConfig* child = peer ? FindChildConfig(*peer, sa.auth_child) : nullptr;
  if (!child) {
    DestroySa(sa, now, "configuration vanished");
    return;
  }
  Payload idi{.type = PayloadType::kIdi, .body = ToIdPayload(peer->local_id)};
  SecretBytes auth = crypto::ComputePskAuth(*sa.prf, peer->psk, sa.init_request, sa.nonce_r,
                                            sa.sk_pi, EncodePayloadBody(idi));
  std::vector<Payload> payloads;
  payloads.push_back(std::move(idi));
  const std::vector<IkeSa*> of_peer = SasOf(sa.peer);
  bool other_sa = std::any_of(of_peer.begin(), of_peer.end(), [&](const IkeSa* other) {
    return other != &sa && !other->destroyed && other->state == IkeState::kEstablished;
  });
  // 2.4: INITIAL_CONTACT when this is the only IKE SA with the peer.
  if (peer->send_initial_contact && !other_sa)
    payloads.push_back(MakeNotify(NotifyType::kInitialContact));
  if (!peer->remote_id.data.empty())
    payloads.push_back(MakePayload(PayloadType::kIdr, ToIdPayload(peer->remote_id)));
  payloads.push_back(MakePayload(
      PayloadType::kAuth, AuthPayload{.method = AuthMethod::kSharedKeyMic,
                                      .data = Bytes(auth.Reveal().begin(), auth.Reveal().end())}));
  PendingChild pending{.name = child->name};
  if (!AllocChildSpi(sa, *child, nullptr, pending)) {
    Emit(EventKind::kFailure, &sa, now, "SPI allocation failed", std::nullopt, child->name);
    DestroySa(sa, now, "kernel failure");
    return;
  }
  const std::uint32_t spi = pending.spi_in;
  sa.auth_pending = std::move(pending);
  if (child->transport) payloads.push_back(MakeNotify(NotifyType::kUseTransportMode));  // 1.3.1
  payloads.push_back(MakePayload(PayloadType::kSa, OfferEsp(child->proposals, spi, false)));
  payloads.push_back(MakePayload(PayloadType::kTsi,
                                 ToTsPayload(ResolveDynamic(child->local_ts, sa.local.address))));
  payloads.push_back(MakePayload(PayloadType::kTsr,
                                 ToTsPayload(ResolveDynamic(child->remote_ts, sa.remote.address))));
  SendRequest(sa, ExchangeKind::kAuth, ExchangeType::kIkeAuth, std::move(payloads), now);
}

void Engine::EstablishIke(IkeSa& sa, TimePoint now) {
  sa.state = IkeState::kEstablished;
  sa.established_at = now;
  sa.destroy_at.reset();
  if (sa.half_open_key) half_open_.erase(*std::exchange(sa.half_open_key, std::nullopt));
  // Both AUTH payloads are computed and verified by now: the IKE_SA_INIT messages (2.15
  // RealMessage1/2) and SK_pi/SK_pr are needed no longer (an IKE rekey derives from SK_d, 2.18).
  Bytes().swap(sa.init_request);
  Bytes().swap(sa.init_response);
  sa.sk_pi = SecretBytes();  // SK_pi/SK_pr serve AUTH only (2.15); wiped on release
  sa.sk_pr = SecretBytes();
  ScheduleIkeRekey(sa, now);
  Emit(EventKind::kIkeUp, &sa, now,
       "IKE_SA established " + sa.local.ToString() + " <-> " + sa.remote.ToString() + " " +
           Describe(sa.suite));
}

// 1.2 / 2.15 responder.
void Engine::ProcessAuthRequest(IkeSa& sa, const Header& header, const std::vector<Payload>& inner,
                                const std::vector<Bytes>& hashes, TimePoint now) {
  const Payload* idi_payload = FindPayload(inner, PayloadType::kIdi);
  const auto* idi = idi_payload ? std::get_if<IdPayload>(&idi_payload->body) : nullptr;
  const auto* idr = FindBody<IdPayload>(inner, PayloadType::kIdr);
  const auto* auth = FindBody<AuthPayload>(inner, PayloadType::kAuth);
  auto fail = [&](std::string why) {
    Emit(EventKind::kFailure, &sa, now, "authentication failed: " + why,
         NotifyType::kAuthenticationFailed);
    SendResponse(sa, header, {MakeNotify(NotifyType::kAuthenticationFailed)}, hashes, now);
    DestroySa(sa, now, "authentication failed");
  };
  if (!idi || !auth) return fail("IDi or AUTH missing");
  // The peer config is the one for these addresses whose identities match (IDr is optional).
  const PeerConfig* peer = nullptr;
  for (const auto& shared : peers_) {
    const PeerConfig& p = *shared;
    bool addr_ok = HostAccepted(p.local_match, p.local_address, sa.local.address) &&
                   HostAccepted(p.remote_match, p.remote_address, sa.remote.address);
    if (addr_ok && IdMatches(p.remote_id, *idi) && (!idr || IdMatches(p.local_id, *idr))) {
      peer = &p;
      break;
    }
  }
  if (!peer) return fail("no config for identity '" + DescribeId(*idi) + "'");
  // bad-inputs G: a non-PSK method is rejected before any crypto.
  if (auth->method != AuthMethod::kSharedKeyMic) return fail("AUTH method is not PSK");
  if (peer->psk.empty()) return fail("no PSK for the peer");
  SecretBytes expected = crypto::ComputePskAuth(*sa.prf, peer->psk, sa.init_request, sa.nonce_r,
                                                sa.sk_pi, EncodePayloadBody(*idi_payload));
  if (auth->data.size() != expected.size() || !expected.Equals(auth->data))
    return fail("AUTH value of '" + DescribeId(*idi) + "' does not verify");
  // The other IKE SAs with this identity ("the peer": one responder config, say remote id
  // %any, may serve many); SAs still being set up (a simultaneous start) do not count.
  // With shards, the other shards' SAs with this identity count too (`elsewhere`).
  std::vector<IkeSa*> old;
  std::vector<std::uint64_t> elsewhere;
  for (IkeSa* other : SasWithIdentity(peer->name, *idi, &elsewhere))
    if (other != &sa && !other->destroyed && other->state != IkeState::kConnecting &&
        other->state != IkeState::kAuthenticating)
      old.push_back(other);
  if (peer->unique == UniquePolicy::kKeep && (!old.empty() || !elsewhere.empty()))
    return fail("an IKE SA with '" + DescribeId(*idi) + "' exists (unique = keep)");
  SetPeer(sa, peer->name);
  SetRemoteIdentity(sa, *idi);
  // 2.4: INITIAL_CONTACT: the peer lost its state; drop our older SAs with it (not with
  // unique = never). unique = replace: the older ones are deleted (DELETE sent) either way.
  const bool initial_contact = FindNotify(inner, NotifyType::kInitialContact) != nullptr;
  if ((initial_contact && peer->unique != UniquePolicy::kNever) ||
      peer->unique == UniquePolicy::kReplace) {
    for (IkeSa* o : old) DropOlderSa(*o, initial_contact, now);
    for (auto serial : elsewhere)
      ids_.RequestDrop(DropRequest{.serial = serial,
                                   .initial_contact = initial_contact,
                                   .from_shard = config_.shard_index});
  }

  Payload idr_out{.type = PayloadType::kIdr, .body = ToIdPayload(peer->local_id)};
  SecretBytes our_auth = crypto::ComputePskAuth(*sa.prf, peer->psk, sa.init_response, sa.nonce_i,
                                                sa.sk_pr, EncodePayloadBody(idr_out));
  std::vector<Payload> payloads;
  payloads.push_back(std::move(idr_out));
  payloads.push_back(
      MakePayload(PayloadType::kAuth,
                  AuthPayload{.method = AuthMethod::kSharedKeyMic,
                              .data = Bytes(our_auth.Reveal().begin(), our_auth.Reveal().end())}));
  EstablishIke(sa, now);

  const auto* sa_body = FindBody<SaPayload>(inner, PayloadType::kSa);
  const auto* tsi = FindBody<TsPayload>(inner, PayloadType::kTsi);
  const auto* tsr = FindBody<TsPayload>(inner, PayloadType::kTsr);
  if (sa_body && tsi && tsr) {
    // 2.9: the child config whose selectors fit best, then its proposals.
    const ChildConfig* cfg = nullptr;
    std::optional<ChildTs> ts;
    const bool transport_asked = FindNotify(inner, NotifyType::kUseTransportMode) != nullptr;
    if (auto picked = SelectChildConfig(peer->children, *tsi, *tsr, transport_asked,
                                        sa.local.address, sa.remote.address)) {
      cfg = picked->cfg;
      ts = std::move(picked->ts);
    }
    std::optional<EspChoice> choice;
    if (cfg) choice = SelectEsp(cfg->proposals, *sa_body, false, crypto::DhGroup::kNone);
    ChildSa* child = nullptr;
    if (!cfg) {
      payloads.push_back(MakeNotify(NotifyType::kTsUnacceptable));
      Emit(EventKind::kFailure, &sa, now, "traffic selectors unacceptable",
           NotifyType::kTsUnacceptable);
    } else if (!choice) {
      payloads.push_back(MakeNotify(NotifyType::kNoProposalChosen));
      Emit(EventKind::kFailure, &sa, now, "no acceptable ESP proposal",
           NotifyType::kNoProposalChosen, cfg->name);
    } else {
      ts = WithSharedIds(*cfg, *ts, nullptr, sa.if_id_in, sa.if_id_out);
      // As charon's get_spi, without a reqid: InstallChild takes it.
      auto spi = kernel_.AllocSpi(sa.remote.address, sa.local.address, 0, xfrm::kCharonSpiRange);
      if (spi) {
        child = InstallChild(sa, *cfg, *choice, *spi, *ts, sa.nonce_i,
                             sa.nonce_r, nullptr, false, true, now);
        if (!child) ReleaseSpi(sa, *spi);
        if (child) OnChildKeys(sa, *child, sa.nonce_i, sa.nonce_r, nullptr, false);
      }
      if (!child) {
        payloads.push_back(MakeNotify(NotifyType::kNoProposalChosen));
      } else {
        if (ts->transport) payloads.push_back(MakeNotify(NotifyType::kUseTransportMode));
        payloads.push_back(
            MakePayload(PayloadType::kSa, AnswerEsp(choice->suite, choice->number, *spi)));
        payloads.push_back(MakePayload(PayloadType::kTsi, ToTsPayload(ts->remote)));
        payloads.push_back(MakePayload(PayloadType::kTsr, ToTsPayload(ts->local)));
      }
    }
  }
  SendResponse(sa, header, std::move(payloads), hashes, now);
  ReleaseIdleCiphers(sa);
}

void Engine::ReleaseIdleCiphers(IkeSa& sa) {
  if (sa.destroyed || sa.outstanding) return;
  if (sa.cipher_out) sa.cipher_out->ReleaseContexts();
  if (sa.cipher_in) sa.cipher_in->ReleaseContexts();
}

// 1.2 / 2.15 initiator.
void Engine::ProcessAuthResponse(IkeSa& sa, const std::vector<Payload>& inner, TimePoint now) {
  PendingChild pending = std::move(sa.auth_pending);
  sa.auth_pending = PendingChild{};
  auto release = [&] {
    if (pending.spi_in) ReleaseSpi(sa, pending.spi_in);
    pending.spi_in = 0;
  };
  const PeerConfig* peer = FindPeer(sa.peer);
  const Payload* idr_payload = FindPayload(inner, PayloadType::kIdr);
  const auto* idr = idr_payload ? std::get_if<IdPayload>(&idr_payload->body) : nullptr;
  const auto* auth = FindBody<AuthPayload>(inner, PayloadType::kAuth);
  auto fail = [&](std::string why, std::optional<NotifyType> notify) {
    release();
    Emit(EventKind::kFailure, &sa, now, "IKE_AUTH failed: " + why, notify);
    DestroySa(sa, now, "IKE_AUTH failed");
  };
  if (!peer) return fail("configuration vanished", std::nullopt);
  if (!idr || !auth) {
    const NotifyPayload* error = FirstError(inner);
    return fail("peer refused", error ? std::optional(error->type) : std::nullopt);
  }
  if (!IdMatches(peer->remote_id, *idr))
    return fail("unexpected IDr '" + DescribeId(*idr) + "'", NotifyType::kAuthenticationFailed);
  if (auth->method != AuthMethod::kSharedKeyMic)
    return fail("AUTH method is not PSK", NotifyType::kAuthenticationFailed);
  SecretBytes expected = crypto::ComputePskAuth(*sa.prf, peer->psk, sa.init_response, sa.nonce_i,
                                                sa.sk_pr, EncodePayloadBody(*idr_payload));
  if (auth->data.size() != expected.size() || !expected.Equals(auth->data))
    return fail("AUTH of the responder does not verify", NotifyType::kAuthenticationFailed);
  SetRemoteIdentity(sa, *idr);
  EstablishIke(sa, now);

  const ChildConfig* cfg = FindChildConfig(*peer, pending.name);
  const auto* sa_body = FindBody<SaPayload>(inner, PayloadType::kSa);
  const auto* tsi = FindBody<TsPayload>(inner, PayloadType::kTsi);
  const auto* tsr = FindBody<TsPayload>(inner, PayloadType::kTsr);
  if (!cfg || !sa_body || !tsi || !tsr) {
    const NotifyPayload* error = FirstError(inner);
    Emit(EventKind::kFailure, &sa, now, "CHILD_SA not created by the peer",
         error ? std::optional(error->type) : std::nullopt, pending.name);
    release();
    return;
  }
  auto choice = AcceptEsp(cfg->proposals, *sa_body, false);
  const bool transport = FindNotify(inner, NotifyType::kUseTransportMode) != nullptr;
  auto ts = AcceptChildTs(ResolveDynamic(cfg->local_ts, sa.local.address),
                          ResolveDynamic(cfg->remote_ts, sa.remote.address), cfg->transport, *tsi,
                          *tsr, transport,
                          sa.local.address, sa.remote.address);
  if (ts) {
    ts->mark_in = pending.mark_in;
    ts->mark_out = pending.mark_out;
    ts->if_id_in = pending.if_id_in;
    ts->if_id_out = pending.if_id_out;
  }
  if (!choice || !ts) {
    Emit(EventKind::kFailure, &sa, now, "CHILD_SA answer not acceptable", std::nullopt, cfg->name);
    std::uint32_t spi = pending.spi_in;
    release();
    DeleteRefused(sa, spi, now);
    return;
  }
  ChildSa* child = InstallChild(sa, *cfg, *choice, pending.spi_in, *ts,
                                sa.nonce_i, sa.nonce_r, nullptr, true, true, now);
  if (child) OnChildKeys(sa, *child, sa.nonce_i, sa.nonce_r, nullptr, true);
  if (!child) {
    std::uint32_t spi = pending.spi_in;
    release();
    DeleteRefused(sa, spi, now);
  }
}

void Engine::DropOlderSa(IkeSa& sa, bool initial_contact, TimePoint now) {
  if (initial_contact) {
    DestroySa(sa, now, "INITIAL_CONTACT from the peer");
    return;
  }
  // The DELETE's retransmissions need the SA in the deadline index: without Touch an SA whose
  // peer is gone stayed in DELETING for ever (found by the shard tests).
  Touch(sa);
  Emit(EventKind::kDropped, &sa, now,
       "replaced by a new IKE SA with the same peer (unique = replace)");
  sa.tasks.insert(sa.tasks.begin(), Task{.kind = Task::Kind::kDeleteIke});
  StartNextTask(sa, now);
}

void Engine::DropForDuplicate(const DropRequest& request, TimePoint now) {
  Scope scope(*this);
  IkeSa* sa = FindSa(request.serial);
  if (sa == nullptr || sa->destroyed) return;
  DropOlderSa(*sa, request.initial_contact, now);
}

}  // namespace minivpn::ike
