// Engine API: configuration, commands, kernel events, timers and queries.
#include "ike/engine/engine.h"
#include "ike/engine/negotiation.h"

#include <algorithm>
#include <cassert>
#include <stdexcept>
#include <utility>

#include "ike/engine/engine_payloads.h"
#include "ike/engine/shard.h"

namespace minivpn::ike {

namespace {

// A configured mark against an installed one: %unique stands for whatever value it was given.
bool SameMark(const xfrm::Mark& configured, const xfrm::Mark& installed) {
  if (configured.is_unique()) return installed.mask == configured.mask;
  return configured == installed;
}

}  // namespace

Millis EngineConfig::RetransmitHorizon() const {
  double total = 0, timeout = static_cast<double>(retransmit_timeout.count());
  for (std::uint32_t i = 0; i <= retransmit_tries; ++i, timeout *= retransmit_base)
    total += timeout;
  return Millis(static_cast<std::int64_t>(total));
}

std::string_view Name(EventKind kind) {
  switch (kind) {
    case EventKind::kExchangeSent:
      return "sent";
    case EventKind::kExchangeReceived:
      return "received";
    case EventKind::kRetransmit:
      return "retransmit";
    case EventKind::kIkeUp:
      return "ike-up";
    case EventKind::kIkeDown:
      return "ike-down";
    case EventKind::kIkeRekeyed:
      return "ike-rekeyed";
    case EventKind::kIkeReauth:
      return "ike-reauth";
    case EventKind::kNotice:
      return "notice";
    case EventKind::kKeepalive:
      return "keepalive";
    case EventKind::kIkeUpdated:
      return "ike-updated";
    case EventKind::kChildUp:
      return "child-up";
    case EventKind::kChildDown:
      return "child-down";
    case EventKind::kChildRekeyed:
      return "child-rekeyed";
    case EventKind::kTrapInstalled:
      return "trap-installed";
    case EventKind::kFailure:
      return "failure";
    case EventKind::kDropped:
      return "dropped";
  }
  return "?";
}

std::string_view Name(IkeState state) {
  switch (state) {
    case IkeState::kConnecting:
      return "CONNECTING";
    case IkeState::kAuthenticating:
      return "AUTHENTICATING";
    case IkeState::kEstablished:
      return "ESTABLISHED";
    case IkeState::kRekeying:
      return "REKEYING";
    case IkeState::kRekeyed:
      return "REKEYED";
    case IkeState::kDeleting:
      return "DELETING";
  }
  return "?";
}

std::string_view Name(ChildState state) {
  switch (state) {
    case ChildState::kInstalled:
      return "INSTALLED";
    case ChildState::kRekeying:
      return "REKEYING";
    case ChildState::kRekeyed:
      return "REKEYED";
    case ChildState::kDeleting:
      return "DELETING";
  }
  return "?";
}

ChildSa* IkeSa::FindChild(std::uint64_t id) {
  for (auto& c : children)
    if (c.id == id) return &c;
  return nullptr;
}

ChildSa* IkeSa::FindChildByInbound(std::uint32_t spi) {
  for (auto& c : children)
    if (c.params.spi_in == spi) return &c;
  return nullptr;
}

ChildSa* IkeSa::FindChildByOutbound(std::uint32_t spi) {
  for (auto& c : children)
    if (c.params.spi_out == spi) return &c;
  return nullptr;
}

Engine::Engine(EngineConfig config, crypto::Random& random, xfrm::KernelIpsec& kernel)
    : config_(std::move(config)),
      random_(random),
      kernel_(kernel),
      own_ids_(std::make_unique<SharedIdTable>()),
      ids_(*own_ids_) {
  Init();
}

Engine::Engine(EngineConfig config, crypto::Random& random, xfrm::KernelIpsec& kernel,
               SharedIds& ids)
    : config_(std::move(config)), random_(random), kernel_(kernel), ids_(ids) {
  Init();
}

void Engine::Init() {
  if (config_.shard_count == 0 || config_.shard_index >= config_.shard_count)
    throw std::invalid_argument("engine shard index out of range");
  cookie_current_.secret = SecretBytes(32);
  random_.Fill(cookie_current_.secret.MutableReveal());
  for (std::size_t i = 0; i < sizeof(calmdown_salt_); ++i)
    calmdown_salt_ = (calmdown_salt_ << 8) | cookie_current_.secret.Reveal()[i];
}

Engine::~Engine() = default;

std::expected<void, std::string> Engine::AddPeer(PeerConfig peer, TimePoint now) {
  return AddPeer(std::make_shared<const PeerConfig>(std::move(peer)), now);
}

std::expected<void, std::string> Engine::AddPeer(std::shared_ptr<const PeerConfig> shared,
                                                 TimePoint now) {
  Scope scope(*this);
  const PeerConfig& peer = *shared;
  if (peer.name.empty()) return std::unexpected("peer config without a name");
  if (FindPeer(peer.name)) return std::unexpected("peer config '" + peer.name + "' exists");
  if (peer.proposals.empty()) return std::unexpected("peer '" + peer.name + "' has no proposals");
  for (const auto& p : peer.proposals)
    if (p.encr.empty() || p.prf.empty() || p.dh.empty())
      return std::unexpected("peer '" + peer.name + "': an IKE proposal lacks encr/prf/dh");
  std::vector<std::string> start;
  for (const auto& c : peer.children)
    if (c.start_action == StartAction::kStart || c.start_action == StartAction::kTrapAndStart)
      start.push_back(c.name);
  const std::string name = peer.name;
  peers_.push_back(std::move(shared));
  peer_index_[name] = peers_.size() - 1;
  if (!IsHome(name)) return {};  // the other shards only answer for it
  InstallTraps(*peers_.back(), now);
  for (const auto& c : start) (void)Initiate(name, c, now);
  return {};
}

void Engine::RemovePeer(std::string_view name, TimePoint now) {
  Scope scope(*this);
  for (IkeSa* sa : SasOf(name)) {
    if (sa->cipher_out && sa->state != IkeState::kConnecting) {
      // 1.4.1: tell the peer; we do not wait for the answer of a removed config.
      AbandonOutstanding(*sa);
      StartDelete(*sa, true, {}, now);
    }
    DestroySa(*sa, now, "peer config removed");
  }
  RemoveTraps(name);
  std::erase_if(peers_, [&](const auto& p) { return p->name == name; });
  peer_index_.clear();
  for (std::size_t i = 0; i < peers_.size(); ++i) peer_index_[peers_[i]->name] = i;
}

const PeerConfig* Engine::FindPeer(std::string_view name) const {
  auto it = peer_index_.find(name);
  return it == peer_index_.end() ? nullptr : peers_[it->second].get();
}

const ChildConfig* Engine::FindChildConfig(const PeerConfig& peer, std::string_view child) const {
  for (const auto& c : peer.children)
    if (c.name == child) return &c;
  return nullptr;
}

IkeSa* Engine::FindSa(std::uint64_t serial) {
  auto it = sas_.find(serial);
  if (it == sas_.end() || it->second->destroyed) return nullptr;
  Touch(*it->second);
  return it->second.get();
}

IkeSa* Engine::FindSaBySpi(std::uint64_t our_spi) {
  auto it = by_spi_.find(our_spi);
  return it == by_spi_.end() ? nullptr : FindSa(it->second);
}

std::vector<IkeSa*> Engine::SasOf(std::string_view peer) {
  std::vector<IkeSa*> out;
  if (auto it = sas_by_peer_.find(peer); it != sas_by_peer_.end()) {
    out.reserve(it->second.size());
    for (auto serial : it->second) out.push_back(sas_.at(serial).get());
  }
#ifndef NDEBUG
  std::vector<IkeSa*> scan;
  for (auto& [serial, sa] : sas_)
    if (sa->peer == peer) scan.push_back(sa.get());
  assert(scan == out);
#endif
  return out;
}

void Engine::SetPeer(IkeSa& sa, std::string_view peer) {
  if (sa.peer == peer) return;
  UnindexPeer(sa);
  sa.peer = std::string(peer);
  sas_by_peer_[sa.peer].insert(sa.serial);
  if (!sa.remote_identity.data.empty())
    sas_by_identity_[{sa.peer, sa.remote_identity.id_type, sa.remote_identity.data}].insert(
        sa.serial);
  TakeIfIds(sa);
}

void Engine::SetRemoteIdentity(IkeSa& sa, const IdPayload& id) {
  UnindexPeer(sa);
  sa.remote_identity = id;
  sas_by_peer_[sa.peer].insert(sa.serial);
  if (id.data.empty()) return;
  sas_by_identity_[{sa.peer, id.id_type, id.data}].insert(sa.serial);
  if (config_.shard_count > 1) ids_.AddIdentity({sa.peer, id.id_type, id.data}, sa.serial);
}

std::vector<IkeSa*> Engine::SasWithIdentity(std::string_view peer, const IdPayload& id,
                                            std::vector<std::uint64_t>* elsewhere) {
  std::vector<IkeSa*> out;
  const IdentityKey key{std::string(peer), id.id_type, id.data};
  auto it = sas_by_identity_.find(key);
  if (it != sas_by_identity_.end()) {
    for (auto serial : it->second) out.push_back(sas_.at(serial).get());
  }
  if (elsewhere && config_.shard_count > 1) {
    for (auto serial : ids_.SerialsWithIdentity(key))
      if (!sas_.contains(serial)) elsewhere->push_back(serial);
  }
#ifndef NDEBUG
  std::vector<IkeSa*> scan;
  for (IkeSa* sa : SasOf(peer))
    if (sa->remote_identity == id) scan.push_back(sa);
  assert(scan == out);
#endif
  return out;
}

void Engine::TakeIfIds(IkeSa& sa) {
  const PeerConfig* peer = FindPeer(sa.peer);
  sa.if_id_in = peer ? peer->if_id_in : 0;
  sa.if_id_out = peer ? peer->if_id_out : 0;
  AllocateUniqueIfIds(sa.if_id_in, sa.if_id_out);
}

void Engine::UnindexPeer(const IkeSa& sa) {
  if (!sa.remote_identity.data.empty()) {
    auto id = sas_by_identity_.find({sa.peer, sa.remote_identity.id_type, sa.remote_identity.data});
    if (id != sas_by_identity_.end()) {
      id->second.erase(sa.serial);
      if (id->second.empty()) sas_by_identity_.erase(id);
    }
    if (config_.shard_count > 1)
      ids_.RemoveIdentity({sa.peer, sa.remote_identity.id_type, sa.remote_identity.data},
                          sa.serial);
  }
  auto it = sas_by_peer_.find(sa.peer);
  if (it == sas_by_peer_.end()) return;
  it->second.erase(sa.serial);
  if (it->second.empty()) sas_by_peer_.erase(it);
}

IkeSa* Engine::EstablishedSaOf(std::string_view peer) {
  for (IkeSa* sa : SasOf(peer))
    if (!sa->destroyed &&
        (sa->state == IkeState::kEstablished || sa->state == IkeState::kRekeying)) {
      Touch(*sa);
      return sa;
    }
  return nullptr;
}

bool Engine::IsHome(std::string_view peer) const {
  return HomeShard(peer, config_.shard_count) == config_.shard_index;
}

std::uint64_t Engine::NewIkeSpi() {
  for (;;) {
    auto spi = SpiForShard(random_.Next<std::uint64_t>(), config_.shard_index, config_.shard_count);
    if (spi != 0 && !by_spi_.contains(spi)) return spi;
  }
}

IkeSa& Engine::NewSa(std::string_view peer, bool initiator, TimePoint now) {
  auto sa = std::make_unique<IkeSa>();
  sa->serial = ids_.NextIkeSerial();
  sa->peer = std::string(peer);
  sa->initiator = initiator;
  sa->original_initiator = initiator;
  sa->created = now;
  sa->last_received = now;
  IkeSa& ref = *sa;
  sas_[ref.serial] = std::move(sa);
  sas_by_peer_[ref.peer].insert(ref.serial);
  TakeIfIds(ref);
  Touch(ref);
  return ref;
}

void Engine::RegisterSpi(IkeSa& sa) { by_spi_[sa.our_spi()] = sa.serial; }

void Engine::Emit(EventKind kind, const IkeSa* sa, TimePoint now, std::string text,
                  std::optional<NotifyType> notify, std::string_view child,
                  std::uint64_t child_id) {
  Event e;
  e.kind = kind;
  e.time = now;
  if (sa) {
    e.peer = sa->peer;
    e.ike_serial = sa->serial;
  }
  e.child = std::string(child);
  e.child_id = child_id;
  e.notify = notify;
  e.text = std::move(text);
  events_.push_back(std::move(e));
}

// The SPI and reqid a CHILD_SA being negotiated holds (nothing is installed yet).
void Engine::ReleasePending(IkeSa& sa, PendingChild& p) {
  if (p.spi_in) ReleaseSpi(sa, p.spi_in);
  p.spi_in = 0;
}

// Forgets our request in flight without an answer, and what it holds.
void Engine::AbandonOutstanding(IkeSa& sa) {
  if (!sa.outstanding) return;
  ReleasePending(sa, sa.outstanding->child);
  sa.outstanding.reset();
}

void Engine::DestroySa(IkeSa& sa, TimePoint now, std::string_view reason) {
  if (sa.destroyed) return;
  Touch(sa);
  while (!sa.children.empty()) RemoveChild(sa, sa.children.back().id, now, reason);
  for (auto reqid : std::exchange(sa.held_reqids, {})) ReleaseReqid(reqid);
  AbandonOutstanding(sa);
  ReleasePending(sa, sa.auth_pending);
  if (auto it = by_spi_.find(sa.our_spi()); it != by_spi_.end() && it->second == sa.serial)
    by_spi_.erase(it);
  if (sa.half_open_key) half_open_.erase(*std::exchange(sa.half_open_key, std::nullopt));
  fragment_bytes_ -= sa.request_fragments.buffered_bytes() + sa.response_fragments.buffered_bytes();
  sa.request_fragments.Reset();
  sa.response_fragments.Reset();
  sa.destroyed = true;
  Emit(EventKind::kIkeDown, &sa, now, std::string(reason));
  auto it = sas_.find(sa.serial);
  if (it != sas_.end()) {
    UnindexPeer(sa);
    graveyard_.push_back(std::move(it->second));
    sas_.erase(it);
  }
}

// Charon's jitter: rekey at rekey_time - random(0..rand_time), reauthenticate at reauth_time -
// random(0..rand_time); give up at the longer of the two + over_time.
void Engine::ScheduleIkeRekey(IkeSa& sa, TimePoint now) {
  const PeerConfig* peer = FindPeer(sa.peer);
  if (peer) sa.dpd_delay = peer->dpd_delay;
  if (!peer) return;
  if (std::max(peer->rekey_time, peer->reauth_time).count() == 0) return;
  const Seconds over = OverTime(*peer);
  const Seconds rand = peer->rand_time.count() ? peer->rand_time : over;
  const auto jittered = [&](Seconds time) {
    const auto bound = static_cast<std::uint32_t>(std::min(rand, time - Seconds(1)).count());
    return now + time - Seconds(bound > 0 ? random_.Next<std::uint32_t>() % (bound + 1) : 0);
  };
  if (peer->rekey_time.count() > 0) sa.rekey_at = jittered(peer->rekey_time);
  if (peer->reauth_time.count() > 0) sa.reauth_at = jittered(peer->reauth_time);
  SetHardLifetime(sa, over);
}

// charon (ike_sa.c set_state): the IKE SA is given up over_time after the earlier of its rekey
// and its reauthentication, if neither has replaced it by then.
void Engine::SetHardLifetime(IkeSa& sa, Seconds over) {
  if (sa.rekey_at && sa.reauth_at) sa.hard_at = std::min(*sa.rekey_at, *sa.reauth_at) + over;
  else if (sa.rekey_at) sa.hard_at = *sa.rekey_at + over;
  else if (sa.reauth_at) sa.hard_at = *sa.reauth_at + over;
}

Seconds Engine::OverTime(const PeerConfig& peer) {
  return peer.over_time.count() ? peer.over_time
                                : std::max(peer.rekey_time, peer.reauth_time) / 10;
}

// 2.8.3: reauthentication is a new IKE SA from IKE_SA_INIT (authenticated again) that takes over
// the CHILD_SAs, made again on it. Either peer may start it (charon does as a PSK responder too).
void Engine::StartReauth(IkeSa& sa, TimePoint now) {
  const PeerConfig* peer = FindPeer(sa.peer);
  std::vector<std::string> children;
  const auto add = [&children](const std::string& name) {
    if (std::find(children.begin(), children.end(), name) == children.end())
      children.push_back(name);
  };
  for (const auto& c : sa.children)
    if (c.state != ChildState::kRekeyed && c.state != ChildState::kDeleting && !c.redundant)
      add(c.name);
  // CHILD_SAs still queued here are made on the new SA instead (charon migrates them).
  for (const auto& t : sa.tasks)
    if (t.kind == Task::Kind::kCreateChild) add(t.child_name);
  std::erase_if(sa.tasks, [](const Task& t) { return t.kind == Task::Kind::kCreateChild; });
  if (peer == nullptr || children.empty()) {
    // charon: the SA is kept until its hard lifetime (over_time after reauth_time).
    Emit(EventKind::kFailure, &sa, now, "unable to reauthenticate IKE SA: no CHILD_SA to make again");
    return;
  }
  if (peer->make_before_break) {
    Emit(EventKind::kIkeReauth, &sa, now,
         "reauthenticating IKE SA (make-before-break): a new IKE SA first, then this one deleted");
    Reestablish(sa, children, true, now);
    return;
  }
  Emit(EventKind::kIkeReauth, &sa, now,
       "reauthenticating IKE SA (break-before-make): deleting it, then a new IKE SA");
  sa.reestablish = std::move(children);
  sa.tasks.clear();
  StartDelete(sa, true, {}, now);
}

IkeSa* Engine::Reestablish(const IkeSa& old, const std::vector<std::string>& children,
                           bool make_before_break, TimePoint now) {
  const PeerConfig* peer = FindPeer(old.peer);
  if (children.empty() || peer == nullptr) return nullptr;
  IkeSa& sa = NewSa(old.peer, true, now);
  // The addresses in use; a config open to any address has no others.
  sa.local = Endpoint{peer->local_address.is_set() ? peer->local_address : old.local.address,
                      config_.ike_port};
  sa.remote = Endpoint{peer->remote_address.is_set() ? peer->remote_address : old.remote.address,
                       peer->remote_port};
  if (make_before_break) sa.reauth_of = old.serial;
  sa.auth_child = children.front();
  for (std::size_t i = 1; i < children.size(); ++i)
    sa.tasks.push_back(Task{.kind = Task::Kind::kCreateChild, .child_name = children[i]});
  StartInit(sa, now);
  return sa.destroyed ? nullptr : &sa;
}

void Engine::ReestablishAndDestroy(IkeSa& sa, std::string_view reason, TimePoint now) {
  const std::vector<std::string> children = std::exchange(sa.reestablish, {});
  // The new SA only sends IKE_SA_INIT now; the old one's CHILD_SAs leave the kernel below,
  // before the new ones are installed.
  if (IkeSa* next = Reestablish(sa, children, false, now)) {
    for (const auto& c : sa.children)
      if (HoldReqid(c.params.reqid)) next->held_reqids.push_back(c.params.reqid);
  }
  DestroySa(sa, now, reason);
}

void Engine::FinishReauth(IkeSa& sa, TimePoint now) {
  for (auto reqid : std::exchange(sa.held_reqids, {})) ReleaseReqid(reqid);
  IkeSa* old = FindSa(std::exchange(sa.reauth_of, 0));
  // The old SA may have been rekeyed meanwhile: its successor is the one to delete.
  while (old != nullptr && old->successor != 0 && !old->destroyed) old = FindSa(old->successor);
  if (old == nullptr || old->destroyed || old == &sa || old->state == IkeState::kDeleting) return;
  Emit(EventKind::kIkeReauth, old, now,
       "reauthenticated by IKE SA #" + std::to_string(sa.serial) + ": deleting this one");
  old->reauth_at.reset();
  old->tasks.clear();
  old->tasks.push_back(Task{.kind = Task::Kind::kDeleteIke});
  Touch(*old);
  StartNextTask(*old, now);
}

TimePoint Engine::RetryAt(TimePoint now) {
  auto delay = std::chrono::duration_cast<Millis>(config_.retry_delay);
  auto jitter =
      Millis(random_.Next<std::uint32_t>() % (static_cast<std::uint32_t>(delay.count()) + 1));
  return now + delay + jitter;
}

void Engine::ApplyAction(const std::string& peer, const std::vector<std::string>& restart_children,
                         TimePoint now) {
  for (const auto& child : restart_children) (void)Initiate(peer, child, now);
}

std::expected<std::uint64_t, std::string> Engine::Initiate(std::string_view peer_name,
                                                           std::string_view child, TimePoint now) {
  Scope scope(*this);
  const PeerConfig* peer = FindPeer(peer_name);
  if (!peer) return std::unexpected("no peer config '" + std::string(peer_name) + "'");
  std::string child_name(child);
  if (child_name.empty()) {
    if (peer->children.empty()) return std::unexpected("peer has no CHILD_SA configs");
    child_name = peer->children.front().name;
  }
  if (!FindChildConfig(*peer, child_name))
    return std::unexpected("no child config '" + child_name + "'");
  // An IKE SA of this peer that is up or coming up takes the CHILD_SA as a queued task.
  for (IkeSa* sa : SasOf(peer_name)) {
    if (sa->destroyed) continue;
    if (sa->state == IkeState::kDeleting || sa->state == IkeState::kRekeyed) continue;
    Touch(*sa);
    if (sa->auth_child == child_name && sa->state != IkeState::kEstablished &&
        sa->state != IkeState::kRekeying)
      return sa->serial;
    bool has = std::any_of(sa->children.begin(), sa->children.end(),
                           [&](const ChildSa& c) { return c.name == child_name; });
    bool queued = std::any_of(sa->tasks.begin(), sa->tasks.end(), [&](const Task& t) {
      return t.kind == Task::Kind::kCreateChild && t.child_name == child_name;
    });
    if (!has && !queued) {
      sa->tasks.push_back(Task{.kind = Task::Kind::kCreateChild, .child_name = child_name});
      StartNextTask(*sa, now);
    }
    auto serial_copy = sa->serial;
    return serial_copy;
  }
  IkeSa& sa = NewSa(peer_name, true, now);
  sa.auth_child = child_name;
  auto serial = sa.serial;
  StartInit(sa, now);
  return serial;
}

std::expected<void, std::string> Engine::Terminate(std::string_view peer, std::string_view child,
                                                   TimePoint now) {
  Scope scope(*this);
  bool found = false;
  std::vector<IkeSa*> list = SasOf(peer);
  std::erase_if(list, [](const IkeSa* sa) { return sa->destroyed; });
  for (IkeSa* sa : list) {
    Touch(*sa);
    if (child.empty()) {
      found = true;
      if (sa->state == IkeState::kConnecting || sa->state == IkeState::kAuthenticating ||
          !sa->cipher_out) {
        DestroySa(*sa, now, "terminated");
        continue;
      }
      // 1.4.1: the DELETE goes first; queued exchanges are dropped, and so is a
      // reauthentication under way (charon's reestablish refuses a deleted IKE_SA).
      sa->tasks.clear();
      sa->reestablish.clear();
      sa->tasks.insert(sa->tasks.begin(), Task{.kind = Task::Kind::kDeleteIke});
      StartNextTask(*sa, now);
      continue;
    }
    for (auto& c : sa->children) {
      if (c.name != child || c.state != ChildState::kInstalled) continue;
      found = true;
      sa->tasks.push_back(Task{.kind = Task::Kind::kDeleteChild, .child_id = c.id});
    }
    StartNextTask(*sa, now);
  }
  if (!found) return std::unexpected("nothing to terminate");
  return {};
}

std::expected<void, std::string> Engine::Rekey(std::string_view peer, std::string_view child,
                                               TimePoint now) {
  Scope scope(*this);
  IkeSa* sa = EstablishedSaOf(peer);
  if (!sa) return std::unexpected("no established IKE SA for '" + std::string(peer) + "'");
  if (child.empty()) {
    sa->tasks.push_back(Task{.kind = Task::Kind::kRekeyIke});
  } else {
    ChildSa* target = nullptr;
    for (auto& c : sa->children)
      if (c.name == child && c.state == ChildState::kInstalled) target = &c;
    if (!target) return std::unexpected("no installed CHILD_SA '" + std::string(child) + "'");
    sa->tasks.push_back(Task{.kind = Task::Kind::kRekeyChild, .child_id = target->id});
  }
  StartNextTask(*sa, now);
  return {};
}

void Engine::HandleKernelEvent(const KernelEvent& event, TimePoint now) {
  Scope scope(*this);
  if (const auto* expire = std::get_if<xfrm::ExpireEvent>(&event)) {
    for (auto& [serial, sa] : sas_) {
      if (sa->destroyed) continue;
      for (auto& c : sa->children) {
        if (c.params.spi_in != expire->sa.spi && c.params.spi_out != expire->sa.spi) continue;
        Touch(*sa);
        if (c.state != ChildState::kInstalled) {
          HandleExpireInRekey(*sa, c, expire->hard, now);
          return;
        }
        // Soft: make-before-break rekey (2.8); hard: the kernel dropped the SA, delete it.
        Task task{.kind = expire->hard ? Task::Kind::kDeleteChild : Task::Kind::kRekeyChild,
                  .child_id = c.id};
        sa->tasks.push_back(task);
        StartNextTask(*sa, now);
        return;
      }
    }
    // With shards every engine sees every kernel event; the one holding the SA acts.
    if (config_.shard_count == 1) Emit(EventKind::kDropped, nullptr, now, "expire for an unknown SA");
  } else if (const auto* acquire = std::get_if<xfrm::AcquireEvent>(&event)) {
    // The trap's peer config is started by its home shard (the other shards see the ACQUIRE
    // too). KeysOf gives a copy: Initiate may release reqids (a reauthentication finishing).
    for (const ReqidKey& key : ids_.KeysOf(acquire->reqid)) {
      for (const auto& shared : peers_)
        for (const PeerConfig& p = *shared; const auto& c : p.children)
          if (c.reqid == 0 && IsHome(p.name) &&
              ResolveDynamic(c.local_ts, p.local_address) == std::get<0>(key) &&
              ResolveDynamic(c.remote_ts, p.remote_address) == std::get<1>(key) &&
              SameMark(c.mark_in, std::get<2>(key)) && SameMark(c.mark_out, std::get<3>(key)) &&
              c.if_id_in == std::get<4>(key) && c.if_id_out == std::get<5>(key))
            (void)Initiate(p.name, c.name, now);
    }
    // A child with its own reqid (charon's reqid): its trap policies carry that one.
    for (const auto& shared : peers_)
      for (const PeerConfig& p = *shared; const auto& c : p.children)
        if (c.reqid != 0 && c.reqid == acquire->reqid && IsHome(p.name))
          (void)Initiate(p.name, c.name, now);
  } else if (const auto* mapping = std::get_if<xfrm::MappingEvent>(&event)) {
    // RFC 3948 / 7296 2.23 (charon's update_sa_job): the kernel saw ESP-in-UDP of one of our
    // inbound SAs from a new source, the peer's new NAT mapping. Its IKE SA and CHILD_SAs move
    // there, as UpdateHosts decides (only while the peer is behind a NAT).
    const Endpoint from{mapping->new_src, mapping->new_sport};
    for (auto& [serial, sa] : sas_) {
      if (sa->destroyed || sa->FindChildByInbound(mapping->sa.spi) == nullptr) continue;
      Touch(*sa);
      UpdateHosts(*sa, sa->local, from, false, now);
      return;
    }
    if (config_.shard_count > 1) return;
    Emit(EventKind::kDropped, nullptr, now,
         "NAT mapping change to " + from.ToString() + " of an unknown SA (SPI " +
             std::to_string(mapping->sa.spi) + ")");
  }
}

// An expire for a CHILD_SA that is already being replaced or deleted. A soft expire asks for
// what is under way. A hard one means the kernel dropped the SA: a rekeyed SA whose successor is
// ready hands the traffic over now instead of at the peer's DELETE; a rekey still in flight
// decides (replaced if it succeeds, deleted if it fails).
void Engine::HandleExpireInRekey(IkeSa& sa, ChildSa& c, bool hard, TimePoint now) {
  const std::string id = "CHILD_SA " + c.name + "{" + std::to_string(c.id) + "}";
  if (!hard || c.state == ChildState::kDeleting) {
    Emit(EventKind::kDropped, &sa, now,
         std::string(hard ? "hard" : "soft") + " expire of " + id +
             " ignored: it is being " +
             (c.state == ChildState::kDeleting ? "deleted" : "rekeyed"),
         std::nullopt, c.name);
    return;
  }
  if (c.state == ChildState::kRekeyed) {
    const bool moved = !c.owns_policies || SwitchToSuccessor(sa, c, now);
    Emit(EventKind::kDropped, &sa, now,
         "hard expire of rekeyed " + id +
             (moved ? ": traffic is on its successor" : ": waiting for the peer's DELETE"),
         std::nullopt, c.name);
    return;
  }
  c.hard_expired = true;  // kRekeying: see ProcessChildResponse
  Emit(EventKind::kDropped, &sa, now,
       "hard expire of " + id + " during its rekey: the rekey's outcome replaces or deletes it",
       std::nullopt, c.name);
}

void Engine::CheckSaTimers(IkeSa& sa, TimePoint now) {
  if (sa.outstanding && now >= sa.outstanding->next_send) {
    Retransmit(sa, now);
    if (sa.destroyed) return;
  }
  if (sa.destroy_at && now >= *sa.destroy_at) {
    DestroySa(
        sa, now,
        sa.state == IkeState::kRekeyed ? "rekeyed SA not deleted by peer" : "half-open timeout");
    return;
  }
  if (sa.hard_at && now >= *sa.hard_at) {
    sa.hard_at.reset();
    sa.tasks.clear();
    sa.tasks.insert(sa.tasks.begin(), Task{.kind = Task::Kind::kDeleteIke});
  }
  if (sa.rekey_at && now >= *sa.rekey_at) {
    sa.rekey_at.reset();
    sa.tasks.push_back(Task{.kind = Task::Kind::kRekeyIke});
  }
  if (sa.reauth_at && now >= *sa.reauth_at) {
    sa.reauth_at.reset();
    sa.tasks.push_back(Task{.kind = Task::Kind::kReauthIke});
  }
  for (auto& c : sa.children) {
    if (c.inactivity_at && now >= *c.inactivity_at) CheckInactivity(sa, c, now);
    if (c.overdue_at && now >= *c.overdue_at) CheckOverdueExpire(sa, c, now);
  }
  if (sa.keepalive_at && now >= *sa.keepalive_at) SendKeepalive(sa, now);
  if (sa.dpd_delay.count() > 0 && sa.state == IkeState::kEstablished && !sa.outstanding &&
      sa.tasks.empty() && now >= sa.last_received + sa.dpd_delay) {
    sa.tasks.push_back(Task{.kind = Task::Kind::kDpd});
  }
  StartNextTask(sa, now);
}

// The kernel's expire of `child` is overdue (ChildSa::overdue_at): what the lost event would have
// done. Soft: rekey (then wait for the hard one the same way); hard: the kernel dropped the SAs,
// delete the CHILD_SA. A CHILD_SA already being rekeyed or deleted needs neither.
void Engine::CheckOverdueExpire(IkeSa& sa, ChildSa& child, TimePoint now) {
  child.overdue_at.reset();
  if (child.state != ChildState::kInstalled) return;
  const xfrm::Lifetime& life = child.params.lifetime;
  const bool hard = life.hard_add_seconds > 0 && now >= child.expire_at;
  const TimePoint due = hard ? child.expire_at : child.rekey_at;
  Emit(EventKind::kNotice, &sa, now,
       std::string("no ") + (hard ? "hard" : "soft") + " expire from the kernel for CHILD_SA " +
           child.name + "{" + std::to_string(child.id) + "}, due " +
           std::to_string(std::chrono::duration_cast<Seconds>(now - due).count()) +
           "s ago (lost event?): " + (hard ? "deleting" : "rekeying") + " it",
       std::nullopt, child.name, child.id);
  if (hard) {
    sa.tasks.push_back(Task{.kind = Task::Kind::kDeleteChild, .child_id = child.id});
    return;
  }
  sa.tasks.push_back(Task{.kind = Task::Kind::kRekeyChild, .child_id = child.id});
  if (life.hard_add_seconds > 0) child.overdue_at = OverdueAt(life, {}, child.expire_at);
}

void Engine::CheckInactivity(IkeSa& sa, ChildSa& child, TimePoint now) {
  child.inactivity_at.reset();
  const PeerConfig* peer = FindPeer(sa.peer);
  const ChildConfig* cfg = peer ? FindChildConfig(*peer, child.name) : nullptr;
  if (cfg == nullptr || cfg->inactivity.count() == 0 || child.state != ChildState::kInstalled)
    return;
  // Idle since the last packet either way, or since the install if none crossed yet. As charon:
  // the policies' last use (IN, FWD, OUT; the kernel stamps them per packet, an SA only on its
  // first use). A CHILD_SA without policies of its own (policies = no, or while a rekey's
  // predecessor still holds them) has only its SAs' first use to go by.
  Seconds idle = std::chrono::duration_cast<Seconds>(now - child.installed_at);
  const auto take = [&idle](const std::optional<Seconds>& used) {
    if (used) idle = std::min(idle, *used);
  };
  if (child.owns_policies) {
    for (const auto& policy : xfrm::ChildPolicies(child.params))
      if (auto used = kernel_.QueryPolicyIdle(policy.id)) take(*used);
  } else {
    for (const auto& id :
         {xfrm::InboundSaSpec(child.params).id, xfrm::OutboundSaSpec(child.params).id})
      if (auto counters = kernel_.QuerySa(id)) take(counters->idle);
  }
  if (idle < cfg->inactivity) {
    child.inactivity_at = now + (cfg->inactivity - idle);
    return;
  }
  Emit(EventKind::kNotice, &sa, now,
       "closing CHILD_SA " + child.name + "{" + std::to_string(child.id) + "} after " +
           std::to_string(idle.count()) + "s of inactivity",
       std::nullopt, child.name, child.id);
  sa.tasks.push_back(Task{.kind = Task::Kind::kDeleteChild, .child_id = child.id});
}

void Engine::HandleTimers(TimePoint now) {
  Scope scope(*this);
  RefreshDeadlines();
  std::vector<std::uint64_t> due;
  for (const auto& [when, serial] : deadlines_) {
    if (when > now) break;
    due.push_back(serial);
  }
  for (auto serial : due)
    if (IkeSa* sa = FindSa(serial)) CheckSaTimers(*sa, now);
}

std::optional<TimePoint> Engine::SaDeadline(const IkeSa& sa) const {
  std::optional<TimePoint> next;
  auto consider = [&](TimePoint t) {
    if (!next || t < *next) next = t;
  };
  if (sa.outstanding) consider(sa.outstanding->next_send);
  if (sa.destroy_at) consider(*sa.destroy_at);
  if (sa.hard_at) consider(*sa.hard_at);
  if (sa.rekey_at) consider(*sa.rekey_at);
  if (sa.reauth_at) consider(*sa.reauth_at);
  if (sa.keepalive_at) consider(*sa.keepalive_at);
  for (const auto& c : sa.children) {
    if (c.inactivity_at) consider(*c.inactivity_at);
    if (c.overdue_at) consider(*c.overdue_at);
  }
  if (!sa.outstanding && sa.state == IkeState::kEstablished) {
    if (!sa.tasks.empty()) {
      consider(sa.tasks.front().not_before);
    } else if (sa.dpd_delay.count() > 0) {
      consider(sa.last_received + sa.dpd_delay);
    }
  }
  return next;
}

void Engine::RefreshDeadlines() {
  for (auto serial : touched_) {
    SyncHalfOpen(serial);
    if (auto it = deadline_of_.find(serial); it != deadline_of_.end()) {
      deadlines_.erase({it->second, serial});
      deadline_of_.erase(it);
    }
    auto sa = sas_.find(serial);
    if (sa == sas_.end() || sa->second->destroyed) continue;
    if (auto when = SaDeadline(*sa->second)) {
      deadlines_.insert({*when, serial});
      deadline_of_[serial] = *when;
    }
  }
  touched_.clear();
}

std::optional<TimePoint> Engine::NextDeadline() const {
  if (deadlines_.empty()) return std::nullopt;
  return deadlines_.begin()->first;
}

std::vector<Datagram> Engine::TakeDatagrams() { return std::exchange(out_, {}); }
std::vector<Event> Engine::TakeEvents() { return std::exchange(events_, {}); }

xfrm::IpAddress Engine::HalfOpenSource(xfrm::IpAddress address) {
  if (!address.is_v4()) std::fill(address.bytes.begin() + 8, address.bytes.end(), 0);
  return address;
}

void Engine::SyncHalfOpen(std::uint64_t serial) {
  auto it = sas_.find(serial);
  const IkeSa* sa = it == sas_.end() ? nullptr : it->second.get();
  const bool half_open =
      sa && !sa->destroyed && !sa->initiator && sa->state == IkeState::kConnecting;
  if (auto counted = half_open_ip_.find(serial); counted != half_open_ip_.end()) {
    if (half_open && counted->second == HalfOpenSource(sa->remote.address)) return;
    auto per_ip = half_open_per_ip_.find(counted->second);
    if (--per_ip->second == 0) half_open_per_ip_.erase(per_ip);
    half_open_ip_.erase(counted);
  }
  if (half_open) {
    half_open_ip_.emplace(serial, HalfOpenSource(sa->remote.address));
    ++half_open_per_ip_[HalfOpenSource(sa->remote.address)];
  }
}

void Engine::SetMessageIdsForTesting(std::uint64_t serial, std::uint32_t next,
                                     std::uint32_t expected) {
  if (IkeSa* sa = FindSa(serial)) {
    sa->next_mid = next;
    sa->expected_mid = expected;
  }
}

std::size_t Engine::child_sa_count() const {
  std::size_t n = 0;
  for (const auto& [serial, sa] : sas_) n += sa->children.size();
  return n;
}

std::vector<IkeSaInfo> Engine::ListSas(TimePoint now) const {
  using std::chrono::duration_cast;
  std::vector<IkeSaInfo> out;
  for (const auto& [serial, sa] : sas_) {
    IkeSaInfo info;
    info.serial = sa->serial;
    info.peer = sa->peer;
    info.state = sa->state;
    info.initiator = sa->initiator;
    info.spi_i = sa->spi_i;
    info.spi_r = sa->spi_r;
    info.local = sa->local;
    info.remote = sa->remote;
    if (sa->prf) {
      info.algorithms = Describe(sa->suite);
      info.suite = sa->suite;
    }
    if (!sa->remote_identity.data.empty()) info.remote_identity = DescribeId(sa->remote_identity);
    info.nat_local = sa->nat_local;
    info.nat_remote = sa->nat_remote;
    info.nat_fake = sa->nat_fake;
    info.if_id_in = sa->if_id_in;
    info.if_id_out = sa->if_id_out;
    info.age = duration_cast<Seconds>(now - sa->created);
    if (sa->rekey_at) info.rekey_in = duration_cast<Seconds>(*sa->rekey_at - now);
    if (sa->reauth_at) info.reauth_in = duration_cast<Seconds>(*sa->reauth_at - now);
    for (const auto& c : sa->children) {
      ChildSaInfo ci;
      ci.id = c.id;
      ci.name = c.name;
      ci.state = c.state;
      ci.spi_in = c.params.spi_in;
      ci.spi_out = c.params.spi_out;
      ci.reqid = c.params.reqid;
      ci.mark_in = c.params.mark_in;
      ci.mark_out = c.params.mark_out;
      ci.inbound_sa_mark = c.params.mark_in_sa ? c.params.mark_in : xfrm::Mark::None();
      ci.if_id_in = c.params.if_id_in;
      ci.if_id_out = c.params.if_id_out;
      ci.local_ts = c.params.local_ts;
      ci.remote_ts = c.params.remote_ts;
      ci.transport = c.params.transport;
      ci.algorithms = Describe(c.suite);
      ci.suite = c.suite;
      ci.encap = c.params.encap.has_value();
      ci.age = duration_cast<Seconds>(now - c.installed_at);
      ci.rekey_in = duration_cast<Seconds>(c.rekey_at - now);
      ci.life_in = duration_cast<Seconds>(c.expire_at - now);
      info.children.push_back(std::move(ci));
    }
    out.push_back(std::move(info));
  }
  return out;
}

}  // namespace minivpn::ike
