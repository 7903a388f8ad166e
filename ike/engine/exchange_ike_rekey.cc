// IKE SA rekey with CREATE_CHILD_SA (RFC 7296 1.3.2, 2.18), both roles, and simultaneous IKE
// rekeys (2.8.2): the new SA created with the lowest of the four nonces is deleted by its
// creator; the other side deletes the old SA. CHILD_SAs move to the surviving new SA.
#include <algorithm>

#include "crypto/keymat.h"
#include "ike/engine/engine.h"
#include "ike/engine/engine_payloads.h"

namespace minivpn::ike {

namespace {

const Bytes& MinNonce(const Bytes& a, const Bytes& b) { return NonceLess(a, b) ? a : b; }

}  // namespace

// 1.3.2 request: SA (SPI = our new SPI) Ni KEi.
void Engine::StartIkeRekey(IkeSa& sa, TimePoint now) {
  const PeerConfig* peer = FindPeer(sa.peer);
  if (!peer) return;
  PendingIkeRekey p;
  // The group in use goes first; the responder may still ask for another one.
  crypto::DhGroup group = sa.suite.dh;
  auto ke = crypto::KeyExchange::Generate(group);
  if (!ke) return;
  p.ke = std::move(*ke);
  p.new_spi = NewIkeSpi();
  p.nonce_i.resize(config_.nonce_size);
  random_.Fill(p.nonce_i);
  std::vector<Payload> payloads;
  payloads.push_back(
      MakePayload(PayloadType::kSa, OfferIke(peer->proposals, SpiBytes64(p.new_spi))));
  payloads.push_back(MakePayload(PayloadType::kNonce, NoncePayload{.data = p.nonce_i}));
  payloads.push_back(MakePayload(PayloadType::kKe,
                                 KePayload{.group = p.ke->group(), .data = p.ke->public_value()}));
  sa.state = IkeState::kRekeying;
  Outstanding out;
  out.ike_rekey = std::move(p);
  SendRequest(sa, ExchangeKind::kRekeyIke, ExchangeType::kCreateChildSa, std::move(payloads), now,
              std::move(out));
}

IkeSa* Engine::CreateRekeyedSa(IkeSa& old, bool we_initiated, const IkeChoice& choice,
                               std::uint64_t spi_i, std::uint64_t spi_r, ByteView nonce_i,
                               ByteView nonce_r, const SecretBytes& g_ir, TimePoint now) {
  auto new_prf = crypto::Prf::Create(choice.suite.prf);
  if (!new_prf) return nullptr;
  // 2.18: SKEYSEED = prf(SK_d (old), g^ir (new) | Ni | Nr) with the old SA's PRF, since the
  // exchange belongs to the old SA; prf+ then uses the new PRF.
  SecretBytes skeyseed = crypto::ComputeRekeySkeyseed(*old.prf, old.sk_d, g_ir, nonce_i, nonce_r);
  IkeSa& n = NewSa(old.peer, we_initiated, now);
  n.spi_i = spi_i;
  n.spi_r = spi_r;
  n.original_initiator = old.original_initiator;
  n.local = old.local;
  n.remote = old.remote;
  n.suite = choice.suite;
  n.nonce_i.assign(nonce_i.begin(), nonce_i.end());
  n.nonce_r.assign(nonce_r.begin(), nonce_r.end());
  n.peer_fragmentation = old.peer_fragmentation;
  n.fragment_own = old.fragment_own;
  n.fragment_force = old.fragment_force;
  SetRemoteIdentity(n, old.remote_identity);
  n.peer_natd = old.peer_natd;
  n.nat_local = old.nat_local;
  n.nat_remote = old.nat_remote;
  n.nat_fake = old.nat_fake;
  n.if_id_in = old.if_id_in;
  n.if_id_out = old.if_id_out;
  n.last_received = now;
  n.last_sent = old.last_sent;
  if (n.nat_local) ScheduleKeepalive(n, now);
  n.rekey_skeyseed = true;
  const bool observed = WantsIkeKeys(n);
  crypto::IkeKeys keys;
  if (!SetIkeKeys(n, *new_prf, skeyseed, observed ? &keys : nullptr)) {
    n.destroyed = true;
    UnindexPeer(n);
    graveyard_.push_back(std::move(sas_[n.serial]));
    sas_.erase(n.serial);
    return nullptr;
  }
  if (observed) OnIkeKeys(n, g_ir, skeyseed, std::move(keys));
  RegisterSpi(n);
  n.state = IkeState::kEstablished;
  n.established_at = now;
  ScheduleIkeRekey(n, now);
  // A rekey does not authenticate again: the reauthentication stays due when it was (charon's
  // inherit_post), and a make-before-break one in progress still replaces its old SA.
  if (old.reauth_at) n.reauth_at = old.reauth_at;
  if (const PeerConfig* peer = FindPeer(n.peer); peer && n.reauth_at)
    SetHardLifetime(n, OverTime(*peer));
  n.reauth_of = old.reauth_of;
  Emit(EventKind::kIkeRekeyed, &n, now,
       "IKE_SA #" + std::to_string(old.serial) + " rekeyed to #" + std::to_string(n.serial) + " " +
           Describe(n.suite));
  return &n;
}

void Engine::MoveChildren(IkeSa& from, IkeSa& to) {
  for (auto& c : from.children) to.children.push_back(std::move(c));
  from.children.clear();
  for (auto& t : from.tasks)
    if (t.kind != Task::Kind::kRekeyIke && t.kind != Task::Kind::kDpd) to.tasks.push_back(t);
  from.tasks.clear();
}

// 1.3.2 / 2.18 responder.
void Engine::ProcessIkeRekeyRequest(IkeSa& sa, const Header& header,
                                    const std::vector<Payload>& inner,
                                    const std::vector<Bytes>& hashes, TimePoint now) {
  auto reply_error = [&](NotifyType type, Bytes data, std::string why) {
    Emit(EventKind::kFailure, &sa, now, "IKE rekey refused: " + why, type);
    SendResponse(sa, header, {MakeNotify(type, std::move(data))}, hashes, now);
  };
  const PeerConfig* peer = FindPeer(sa.peer);
  // 2.25: not while the SA is going away or one of our CHILD exchanges is in flight.
  bool busy = sa.outstanding && sa.outstanding->kind != ExchangeKind::kRekeyIke &&
              sa.outstanding->kind != ExchangeKind::kDpd;
  if (!peer || busy || sa.peer_rekey_successor ||
      (sa.state != IkeState::kEstablished && sa.state != IkeState::kRekeying))
    return reply_error(NotifyType::kTemporaryFailure, {}, "busy");
  const auto* sa_body = FindBody<SaPayload>(inner, PayloadType::kSa);
  const auto* nonce = FindBody<NoncePayload>(inner, PayloadType::kNonce);
  const auto* ke = FindBody<KePayload>(inner, PayloadType::kKe);
  if (!sa_body || !nonce || !ke || nonce->data.size() < 16 || nonce->data.size() > 256)
    return reply_error(NotifyType::kInvalidSyntax, {}, "SA, Ni or KE missing or bad");
  auto choice = SelectIke(peer->proposals, *sa_body, ke->group, 8);
  if (!choice) return reply_error(NotifyType::kNoProposalChosen, {}, "no acceptable proposal");
  if (choice->suite.dh != ke->group) {
    auto v = static_cast<std::uint16_t>(choice->suite.dh);
    return reply_error(NotifyType::kInvalidKePayload,
                       Bytes{static_cast<std::uint8_t>(v >> 8), static_cast<std::uint8_t>(v)},
                       "KE group");
  }
  auto spi_i = SpiFromBytes64(choice->spi);
  if (!spi_i || *spi_i == 0 || ke->data.size() != crypto::KePublicSize(ke->group))
    return reply_error(NotifyType::kInvalidSyntax, {}, "bad SPI or KE length");
  auto our_ke = crypto::KeyExchange::Generate(ke->group);
  if (!our_ke) return reply_error(NotifyType::kNoProposalChosen, {}, our_ke.error());
  auto shared = (*our_ke)->ComputeShared(ke->data);
  if (!shared) return reply_error(NotifyType::kNoProposalChosen, {}, shared.error());
  Bytes nonce_r(config_.nonce_size);
  random_.Fill(nonce_r);
  std::uint64_t spi_r = NewIkeSpi();
  IkeSa* n = CreateRekeyedSa(sa, false, *choice, *spi_i, spi_r, nonce->data, nonce_r, *shared, now);
  if (!n) return reply_error(NotifyType::kNoProposalChosen, {}, "key derivation failed");
  if (sa.state == IkeState::kRekeying) {
    // 2.8.2: our own rekey is in flight; decide when its response arrives.
    sa.peer_rekey_successor = n->serial;
    sa.peer_rekey_min_nonce = MinNonce(nonce->data, nonce_r);
  } else {
    MoveChildren(sa, *n);
    sa.successor = n->serial;
    sa.state = IkeState::kRekeyed;
    sa.destroy_at = now + config_.RetransmitHorizon() +
                    config_.delete_timeout;  // the initiator deletes the old SA
  }
  std::vector<Payload> payloads;
  payloads.push_back(
      MakePayload(PayloadType::kSa, AnswerIke(choice->suite, choice->number, SpiBytes64(spi_r))));
  payloads.push_back(MakePayload(PayloadType::kNonce, NoncePayload{.data = nonce_r}));
  payloads.push_back(MakePayload(PayloadType::kKe,
                                 KePayload{.group = ke->group, .data = (*our_ke)->public_value()}));
  SendResponse(sa, header, std::move(payloads), hashes, now);
}

// 1.3.2 / 2.18 initiator.
void Engine::ProcessIkeRekeyResponse(IkeSa& sa, Outstanding& out, const std::vector<Payload>& inner,
                                     TimePoint now) {
  PendingIkeRekey& p = out.ike_rekey;
  const PeerConfig* peer = FindPeer(sa.peer);
  sa.state = IkeState::kEstablished;
  IkeSa* theirs = FindSa(sa.peer_rekey_successor);
  auto adopt_theirs = [&] {
    // The peer's rekey replaced this SA; it will delete the old one.
    MoveChildren(sa, *theirs);
    sa.successor = theirs->serial;
    sa.state = IkeState::kRekeyed;
    sa.destroy_at = now + config_.RetransmitHorizon() + config_.delete_timeout;
  };
  const auto* sa_body = FindBody<SaPayload>(inner, PayloadType::kSa);
  if (!sa_body || !peer) {
    const NotifyPayload* error = FirstError(inner);
    std::optional<NotifyType> type = error ? std::optional(error->type) : std::nullopt;
    Emit(EventKind::kFailure, &sa, now, "IKE rekey failed", type);
    if (theirs) return adopt_theirs();
    if (type == NotifyType::kInvalidKePayload && error->data.size() == 2 && peer &&
        p.ke_retries < config_.max_init_retries) {
      auto group = static_cast<crypto::DhGroup>((error->data[0] << 8) | error->data[1]);
      if (OffersGroup(peer->proposals, group) && group != p.ke->group()) {
        sa.suite.dh = group;  // StartIkeRekey offers the KE of the SA's group
        StartIkeRekey(sa, now);
        if (sa.outstanding) sa.outstanding->ike_rekey.ke_retries = p.ke_retries + 1;
        return;
      }
    }
    // 2.25: TEMPORARY_FAILURE and friends: try again later.
    sa.tasks.push_back(Task{.kind = Task::Kind::kRekeyIke, .not_before = RetryAt(now)});
    return;
  }
  auto choice = AcceptIke(peer->proposals, *sa_body, 8);
  const auto* nonce = FindBody<NoncePayload>(inner, PayloadType::kNonce);
  const auto* ke = FindBody<KePayload>(inner, PayloadType::kKe);
  std::optional<std::uint64_t> spi_r = choice ? SpiFromBytes64(choice->spi) : std::nullopt;
  if (!choice || !nonce || !ke || ke->group != p.ke->group() || choice->suite.dh != ke->group ||
      !spi_r || *spi_r == 0 || nonce->data.size() < 16 || nonce->data.size() > 256) {
    Emit(EventKind::kFailure, &sa, now, "IKE rekey answer not acceptable");
    if (theirs) adopt_theirs();
    return;
  }
  auto shared = p.ke->ComputeShared(ke->data);
  if (!shared) {
    Emit(EventKind::kFailure, &sa, now, "IKE rekey: peer KE rejected");
    if (theirs) adopt_theirs();
    return;
  }
  IkeSa* n =
      CreateRekeyedSa(sa, true, *choice, p.new_spi, *spi_r, p.nonce_i, nonce->data, *shared, now);
  if (!n) return;
  if (theirs) {
    // 2.8.2: the SA created with the lowest nonce is redundant and deleted by its creator.
    if (NonceLess(MinNonce(p.nonce_i, nonce->data), sa.peer_rekey_min_nonce)) {
      n->redundant = true;
      adopt_theirs();
      StartDelete(*n, true, {}, now);
      return;
    }
    theirs->redundant = true;  // the peer deletes it
  }
  MoveChildren(sa, *n);
  sa.successor = n->serial;
  StartDelete(sa, true, {}, now);  // on the old SA; it is destroyed with the answer
  StartNextTask(*n, now);
}

}  // namespace minivpn::ike
