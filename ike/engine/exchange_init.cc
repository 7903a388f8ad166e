// IKE_SA_INIT (RFC 7296 1.2), both roles: proposals, KE and INVALID_KE_PAYLOAD (1.2, 2.7),
// stateless COOKIEs (2.6), NAT detection and the float to port 4500 (2.23), RFC 7383
// fragmentation support, and the SK_* derivation (2.14).
#include <algorithm>
#include <array>
#include <cassert>

#include "crypto/keymat.h"
#include "ike/wire/codec.h"
#include "ike/engine/engine.h"
#include "ike/engine/engine_payloads.h"
#include "ike/wire/format.h"

namespace minivpn::ike {

namespace {

template <typename T>
const T* Body(const Message& m, PayloadType type) {
  const Payload* p = m.Find(type);
  return p ? std::get_if<T>(&p->body) : nullptr;
}

bool NonceSizeOk(const Bytes& nonce) { return nonce.size() >= 16 && nonce.size() <= 256; }

// 2.23: NAT_DETECTION_SOURCE_IP may appear several times; one match means no NAT.
bool AnySourceMatches(const Message& m, const Bytes& expected) {
  for (const auto& p : m.payloads) {
    const auto* n = std::get_if<NotifyPayload>(&p.body);
    if (n && n->type == NotifyType::kNatDetectionSourceIp && n->data == expected) return true;
  }
  return false;
}

bool NatdSizesOk(const Message& m) {
  for (const auto& p : m.payloads) {
    const auto* n = std::get_if<NotifyPayload>(&p.body);
    if (n &&
        (n->type == NotifyType::kNatDetectionSourceIp ||
         n->type == NotifyType::kNatDetectionDestinationIp) &&
        n->data.size() != 20)
      return false;
  }
  return true;
}

}  // namespace

bool SetIkeKeys(IkeSa& sa, const crypto::Prf& prf, const SecretBytes& skeyseed,
                crypto::IkeKeys* copy) {
  const IkeSuite& s = sa.suite;
  crypto::IkeKeySizes sizes{.encr = crypto::EncrKeyMaterialSize(s.encr.id, s.encr.key_bits),
                            .integ = crypto::IsAead(s.encr.id) ? 0 : crypto::IntegKeySize(s.integ)};
  crypto::IkeKeys keys =
      crypto::DeriveIkeKeys(prf, skeyseed, sa.nonce_i, sa.nonce_r, sa.spi_i, sa.spi_r, sizes);
  if (copy != nullptr) {
    *copy = crypto::IkeKeys{keys.sk_d.Clone(),  keys.sk_ai.Clone(), keys.sk_ar.Clone(),
                            keys.sk_ei.Clone(), keys.sk_er.Clone(), keys.sk_pi.Clone(),
                            keys.sk_pr.Clone()};
  }
  crypto::SkSuite suite{.encr = s.encr.id, .key_bits = s.encr.key_bits, .integ = s.integ};
  auto from_i = crypto::SkCipher::Create(suite, std::move(keys.sk_ei), std::move(keys.sk_ai));
  auto from_r = crypto::SkCipher::Create(suite, std::move(keys.sk_er), std::move(keys.sk_ar));
  if (!from_i || !from_r) return false;
  if (sa.initiator) {
    sa.cipher_out.emplace(std::move(*from_i));
    sa.cipher_in.emplace(std::move(*from_r));
  } else {
    sa.cipher_out.emplace(std::move(*from_r));
    sa.cipher_in.emplace(std::move(*from_i));
  }
  sa.prf.emplace(prf);
  sa.sk_d = std::move(keys.sk_d);
  sa.sk_pi = std::move(keys.sk_pi);
  sa.sk_pr = std::move(keys.sk_pr);
  return true;
}

bool Engine::DeriveInitKeys(IkeSa& sa, const SecretBytes& g_ir) {
  auto prf = crypto::Prf::Create(sa.suite.prf);
  if (!prf) return false;
  SecretBytes skeyseed = crypto::ComputeSkeyseed(*prf, sa.nonce_i, sa.nonce_r, g_ir);
  const bool observed = WantsIkeKeys(sa);
  crypto::IkeKeys keys;
  if (!SetIkeKeys(sa, *prf, skeyseed, observed ? &keys : nullptr)) return false;
  if (observed) OnIkeKeys(sa, g_ir, skeyseed, std::move(keys));
  return true;
}

const PeerConfig* Engine::PeerForAddresses(const Endpoint& local, const Endpoint& remote) const {
  const PeerConfig* wildcard = nullptr;
  for (const auto& shared : peers_) {
    const PeerConfig& p = *shared;
    if (!HostAccepted(p.local_match, p.local_address, local.address)) continue;
    if (p.remote_address == remote.address) return &p;
    if (!wildcard && HostAccepted(p.remote_match, p.remote_address, remote.address)) wildcard = &p;
  }
  return wildcard;
}

// 2.6: Cookie = <VersionIDofSecret> | Hash(Ni | IPi | SPIi | <secret>).
// 2.6: Cookie = <VersionIDofSecret> | Hash(Ni | IPi | SPIi | <secret>).
Bytes Engine::MakeCookie(const Message& request, const Endpoint& remote,
                         const CookieSecret& secret) const {
  SecretBytes input;
  if (const auto* n = Body<NoncePayload>(request, PayloadType::kNonce)) input.Append(n->data);
  const std::size_t len = remote.address.is_v4() ? 4 : 16;
  input.Append(ByteView(remote.address.bytes.data(), len));
  input.Append(SpiBytes64(request.header.spi_i));
  input.Append(secret.secret.Reveal());
  Bytes cookie = {static_cast<std::uint8_t>(secret.version >> 24),
                  static_cast<std::uint8_t>(secret.version >> 16),
                  static_cast<std::uint8_t>(secret.version >> 8),
                  static_cast<std::uint8_t>(secret.version)};
  Append(cookie, crypto::Sha1(input.Reveal()));
  return cookie;
}

bool Engine::CookieValid(ByteView cookie, const Message& request, const Endpoint& remote) const {
  if (cookie.size() < 4) return false;
  const std::uint32_t version = (std::uint32_t{cookie[0]} << 24) | (std::uint32_t{cookie[1]} << 16) |
                                (std::uint32_t{cookie[2]} << 8) | cookie[3];
  for (const CookieSecret* s : {&cookie_current_, &cookie_previous_}) {
    if (s->secret.empty() || s->version != version) continue;
    const Bytes expected = MakeCookie(request, remote, *s);
    if (expected.size() != cookie.size()) return false;
    std::uint8_t diff = 0;  // constant time
    for (std::size_t i = 0; i < cookie.size(); ++i) diff |= expected[i] ^ cookie[i];
    return diff == 0;
  }
  return false;
}

void Engine::RotateCookieSecret(TimePoint now) {
  if (cookie_rotate_at_ == TimePoint{}) cookie_rotate_at_ = now + config_.cookie_secret_lifetime;
  if (now < cookie_rotate_at_) return;
  cookie_previous_ = std::move(cookie_current_);
  cookie_current_.version = cookie_previous_.version + 1;
  cookie_current_.secret = SecretBytes(32);
  random_.Fill(cookie_current_.secret.MutableReveal());
  // Two lifetimes without a request: the previous secret is as stale as the one before it.
  if (now >= cookie_rotate_at_ + config_.cookie_secret_lifetime) cookie_previous_ = CookieSecret{};
  cookie_rotate_at_ = now + config_.cookie_secret_lifetime;
}

bool Engine::CookieRequired(std::size_t slot, bool reached, TimePoint now) {
  std::optional<TimePoint>& last = cookie_reached_[slot];
  if (reached) last = now;
  return reached || (last && now < *last + kCookieCalmdown);
}

std::size_t Engine::CalmdownBucket(const xfrm::IpAddress& address) const {
  // FNV-1a over the source (an IPv6 /64 as one), keyed with the engine's salt so that an
  // attacker cannot aim at a legitimate peer's bucket.
  const xfrm::IpAddress source = HalfOpenSource(address);
  std::uint64_t h = 0xcbf29ce484222325ull ^ calmdown_salt_;
  for (std::uint8_t octet : source.bytes) h = (h ^ octet) * 0x100000001b3ull;
  return static_cast<std::size_t>(h % kCalmdownBuckets);
}

std::size_t Engine::RecentInitFailures(TimePoint now) {
  while (!init_failures_.empty() && init_failures_.front() + config_.half_open_timeout <= now)
    init_failures_.pop_front();
  return init_failures_.size();
}

bool Engine::AllowInitError(TimePoint now) {
  if (now >= init_error_window_ + std::chrono::seconds(1)) {
    init_error_window_ = now;
    init_errors_sent_ = 0;
  }
  if (init_errors_sent_ >= config_.init_errors_per_second) return false;
  ++init_errors_sent_;
  return true;
}

void Engine::StartInit(IkeSa& sa, TimePoint now) {
  const PeerConfig* peer = FindPeer(sa.peer);
  // A reauthentication (Reestablish) has set the addresses in use already.
  if (!sa.remote.address.is_set()) {
    sa.local = Endpoint{peer->local_address, config_.ike_port};
    sa.remote = Endpoint{peer->remote_address, peer->remote_port};
  }
  sa.spi_i = NewIkeSpi();
  RegisterSpi(sa);
  sa.nonce_i.resize(config_.nonce_size);
  random_.Fill(sa.nonce_i);
  auto ke = crypto::KeyExchange::Generate(peer->proposals.front().dh.front());
  if (!ke) {
    Emit(EventKind::kFailure, &sa, now, "key exchange: " + ke.error());
    DestroySa(sa, now, "key exchange unavailable");
    return;
  }
  sa.ke = std::move(*ke);
  SendInitRequest(sa, now);
}

// 1.2 request: [N(COOKIE)] SA KE Ni N(NATD_S_IP) N(NATD_D_IP) [N(FRAG_SUP)].
void Engine::SendInitRequest(IkeSa& sa, TimePoint now) {
  const PeerConfig* peer = FindPeer(sa.peer);
  Message m;
  m.header = Header{.spi_i = sa.spi_i,
                    .exchange = ExchangeType::kIkeSaInit,
                    .flags = kFlagInitiator,
                    .message_id = 0};
  // 2.6: the COOKIE goes first, everything else unchanged.
  if (!sa.cookie.empty()) m.payloads.push_back(MakeNotify(NotifyType::kCookie, sa.cookie));
  m.payloads.push_back(MakePayload(PayloadType::kSa, OfferIke(peer->proposals, {})));
  m.payloads.push_back(MakePayload(
      PayloadType::kKe, KePayload{.group = sa.ke->group(), .data = sa.ke->public_value()}));
  m.payloads.push_back(MakePayload(PayloadType::kNonce, NoncePayload{.data = sa.nonce_i}));
  m.payloads.push_back(
      MakeNotify(NotifyType::kNatDetectionSourceIp, OurNatdSource(sa, 0, peer->encap)));
  m.payloads.push_back(
      MakeNotify(NotifyType::kNatDetectionDestinationIp, NatDetectionHash(sa.spi_i, 0, sa.remote)));
  if (peer->fragmentation)
    m.payloads.push_back(MakeNotify(NotifyType::kIkev2FragmentationSupported));
  sa.init_request = Encode(m);
  Outstanding o;
  o.kind = ExchangeKind::kInit;
  o.exchange = ExchangeType::kIkeSaInit;
  o.message_id = 0;
  o.datagrams = {sa.init_request};
  o.summary = Summary(m.header, m.payloads);
  o.sent_at = now;
  o.next_send = now + config_.retransmit_timeout;
  SendRaw(sa.local, sa.remote, sa.init_request);
  Emit(EventKind::kExchangeSent, &sa, now, o.summary);
  if (trace_sink_) TraceMessage(Direction::kSent, &sa, sa.local, sa.remote, m, nullptr, 1, now);
  sa.outstanding = std::make_unique<Outstanding>(std::move(o));
}

// 1.2 responder. Everything before the SA is created is stateless: COOKIE, INVALID_KE and
// error replies leave no trace (2.6, bad-inputs D/F/M).
void Engine::ProcessInitRequest(const Message& m, const Bytes& raw, const Endpoint& local,
                                const Endpoint& remote, TimePoint now) {
  const Header& h = m.header;
  // Traced here, before any decision, so that refused requests show up in a trace too.
  if (trace_sink_) TraceMessage(Direction::kReceived, nullptr, local, remote, m, nullptr, 1, now);
  auto reject = [&](NotifyType type, Bytes data, std::string why) {
    if (!AllowInitError(now)) {  // a flood of bad requests: neither an answer nor a log line
      Emit(EventKind::kDropped, nullptr, now, "IKE_SA_INIT error answers over their rate limit");
      return;
    }
    Event e{.kind = EventKind::kFailure,
            .time = now,
            .notify = type,
            .text = "IKE_SA_INIT from " + remote.ToString() + ": " + std::move(why)};
    events_.push_back(std::move(e));
    SendUnprotectedResponse(h, {MakeNotify(type, std::move(data))}, local, remote, now);
  };
  // Failures after the key exchange was computed cost as much as a half-open SA.
  auto costly = [&] {
    init_failures_.push_back(now);
    if (init_failures_.size() > config_.cookie_threshold) init_failures_.pop_front();
  };
  if (h.spi_r != 0 || h.message_id != 0 || !h.is_initiator()) {
    Emit(EventKind::kDropped, nullptr, now, "IKE_SA_INIT request with bad SPI/ID/flags");
    return;
  }
  if (auto rules = CheckExchangeRules(h, m.payloads); !rules) {
    reject(rules.error().notify, {}, Describe(rules.error()));
    return;
  }
  // 2.6 / bad-inputs M: per-IP block, then cookies above the half-open thresholds.
  // The counts are those of the previous calls (SyncHalfOpen); nothing before this point of
  // the current call changes an SA.
  RotateCookieSecret(now);
  const std::size_t total = half_open_ip_.size();
  const xfrm::IpAddress source = HalfOpenSource(remote.address);
  const auto per_ip = half_open_per_ip_.find(source);
  const std::size_t from_ip = per_ip == half_open_per_ip_.end() ? 0 : per_ip->second;
#ifndef NDEBUG
  {
    std::size_t scan_total = 0, scan_from_ip = 0;
    for (const auto& [serial, sa] : sas_) {
      if (sa->initiator || sa->state != IkeState::kConnecting) continue;
      ++scan_total;
      if (HalfOpenSource(sa->remote.address) == source) ++scan_from_ip;
    }
    assert(scan_total == total && scan_from_ip == from_ip);
  }
#endif
  if (config_.init_limit_half_open != 0 && total >= config_.init_limit_half_open) {
    Emit(EventKind::kDropped, nullptr, now,
         "half-open SA limit reached (" + std::to_string(total) + ")");
    return;
  }
  if (from_ip >= config_.block_threshold_ip) {
    Emit(EventKind::kDropped, nullptr, now,
         "too many half-open SAs from " + remote.address.ToString());
    return;
  }
  if (CookieRequired(0, total + RecentInitFailures(now) >= config_.cookie_threshold, now) ||
      CookieRequired(1 + CalmdownBucket(remote.address), from_ip >= config_.cookie_threshold_ip,
                     now)) {
    const auto* first =
        m.payloads.empty() ? nullptr : std::get_if<NotifyPayload>(&m.payloads[0].body);
    if (!first || first->type != NotifyType::kCookie || !CookieValid(first->data, m, remote)) {
      SendUnprotectedResponse(
          h, {MakeNotify(NotifyType::kCookie, MakeCookie(m, remote, cookie_current_))}, local,
          remote, now);
      return;
    }
  }
  const PeerConfig* peer = PeerForAddresses(local, remote);
  if (!peer) {
    reject(NotifyType::kNoProposalChosen, {}, "no peer config");
    return;
  }
  const auto* sa_body = Body<SaPayload>(m, PayloadType::kSa);
  const auto* ke = Body<KePayload>(m, PayloadType::kKe);
  const auto* nonce = Body<NoncePayload>(m, PayloadType::kNonce);
  if (!sa_body || !ke || !nonce) {
    reject(NotifyType::kInvalidSyntax, {}, "SA, KE or Ni missing");
    return;
  }
  if (!NonceSizeOk(nonce->data) || !NatdSizesOk(m)) {
    reject(NotifyType::kInvalidSyntax, {}, "bad nonce or NAT-D length");
    return;
  }
  auto choice = SelectIke(peer->proposals, *sa_body, ke->group, 0);
  if (!choice) {
    reject(NotifyType::kNoProposalChosen, {}, "no acceptable proposal");
    return;
  }
  // 1.2: the KE group must be the chosen one; INVALID_KE_PAYLOAD names a group the peer offered.
  if (choice->suite.dh != ke->group) {
    reject(NotifyType::kInvalidKePayload, GroupBytes(choice->suite.dh),
           "KE group " + std::string(crypto::Name(ke->group)) + " not the chosen one");
    return;
  }
  if (ke->data.size() != crypto::KePublicSize(ke->group)) {
    reject(NotifyType::kInvalidSyntax, {}, "KE data length wrong for the group");
    return;
  }
  // A reflection of one of our own IKE_SA_INIT requests (our SPI and nonce come back).
  if (const IkeSa* own = FindSaBySpi(h.spi_i);
      own && own->initiator && own->nonce_i == nonce->data) {
    Emit(EventKind::kDropped, nullptr, now, "IKE_SA_INIT request reflecting our own");
    return;
  }
  auto our_ke = crypto::KeyExchange::Generate(ke->group);
  if (!our_ke) {
    costly();
    reject(NotifyType::kNoProposalChosen, {}, "key exchange: " + our_ke.error());
    return;
  }
  auto shared = (*our_ke)->ComputeShared(ke->data);
  if (!shared) {
    costly();
    reject(NotifyType::kNoProposalChosen, {}, "peer KE rejected: " + shared.error());
    return;
  }

  IkeSa& sa = NewSa(peer->name, false, now);
  sa.spi_i = h.spi_i;
  sa.spi_r = NewIkeSpi();
  RegisterSpi(sa);
  sa.half_open_key = std::pair{sa.spi_i, remote};
  half_open_[*sa.half_open_key] = sa.serial;
  sa.local = local;
  sa.remote = remote;
  sa.suite = choice->suite;
  sa.nonce_i = nonce->data;
  sa.nonce_r.resize(config_.nonce_size);
  random_.Fill(sa.nonce_r);
  sa.init_request = raw;
  // 2.23: the hashes of the request cover SPIr = 0.
  DetectNat(sa, m, 0, peer->encap, now);
  sa.peer_fragmentation =
      peer->fragmentation && m.FindNotify(NotifyType::kIkev2FragmentationSupported);
  sa.fragment_own = peer->fragment_own;
  sa.fragment_force = peer->fragment_force;
  if (!DeriveInitKeys(sa, *shared)) {
    costly();
    DestroySa(sa, now, "key derivation failed");
    return;
  }

  Message resp;
  resp.header = Header{.spi_i = sa.spi_i,
                       .spi_r = sa.spi_r,
                       .exchange = ExchangeType::kIkeSaInit,
                       .flags = kFlagResponse,
                       .message_id = 0};
  resp.payloads.push_back(MakePayload(PayloadType::kSa, AnswerIke(sa.suite, choice->number, {})));
  resp.payloads.push_back(MakePayload(
      PayloadType::kKe, KePayload{.group = ke->group, .data = (*our_ke)->public_value()}));
  resp.payloads.push_back(MakePayload(PayloadType::kNonce, NoncePayload{.data = sa.nonce_r}));
  if (sa.peer_natd) {
    resp.payloads.push_back(MakeNotify(NotifyType::kNatDetectionSourceIp,
                                       OurNatdSource(sa, sa.spi_r, peer->encap)));
    resp.payloads.push_back(MakeNotify(NotifyType::kNatDetectionDestinationIp,
                                       NatDetectionHash(sa.spi_i, sa.spi_r, remote)));
  }
  if (sa.peer_fragmentation)
    resp.payloads.push_back(MakeNotify(NotifyType::kIkev2FragmentationSupported));
  sa.init_response = Encode(resp);
  sa.has_cached = true;
  sa.cached_mid = 0;
  sa.cached_response = {sa.init_response};
  sa.cached_request_hashes = {crypto::Sha256(raw)};
  sa.expected_mid = 1;
  sa.destroy_at = now + config_.half_open_timeout;
  Emit(EventKind::kExchangeReceived, &sa, now, Summary(h, m.payloads));
  SendRaw(local, remote, sa.init_response);
  Emit(EventKind::kExchangeSent, &sa, now, Summary(resp.header, resp.payloads));
  if (trace_sink_) TraceMessage(Direction::kSent, &sa, local, remote, resp, nullptr, 1, now);
}

// 1.2 initiator: COOKIE and INVALID_KE retries, otherwise keys and IKE_AUTH.
void Engine::ProcessInitResponse(IkeSa& sa, const Message& m, const Bytes& raw, TimePoint now) {
  const PeerConfig* peer = FindPeer(sa.peer);
  if (!peer) return;
  Emit(EventKind::kExchangeReceived, &sa, now, Summary(m.header, m.payloads));
  if (trace_sink_)
    TraceMessage(Direction::kReceived, &sa, sa.local, sa.remote, m, nullptr, 1, now);
  if (const auto* cookie = m.FindNotify(NotifyType::kCookie)) {
    // 2.6: retry with the cookie first; bad-inputs F: 1..64 octets, bounded retries.
    if (cookie->data.empty() || cookie->data.size() > 64 ||
        sa.init_retries >= config_.max_init_retries) {
      Emit(EventKind::kDropped, &sa, now, "unusable or repeated COOKIE");
      return;
    }
    ++sa.init_retries;
    sa.cookie = cookie->data;
    SendInitRequest(sa, now);
    return;
  }
  if (const auto* invalid_ke = m.FindNotify(NotifyType::kInvalidKePayload)) {
    auto group =
        invalid_ke->data.size() == 2
            ? static_cast<crypto::DhGroup>((invalid_ke->data[0] << 8) | invalid_ke->data[1])
            : crypto::DhGroup::kNone;
    // 1.2: retry only with a group we offered and do not use yet (bad-inputs D: capped).
    if (!OffersGroup(peer->proposals, group) || group == sa.ke->group() ||
        sa.init_retries >= config_.max_init_retries) {
      sa.init_hint = NotifyType::kInvalidKePayload;
      Emit(EventKind::kDropped, &sa, now, "INVALID_KE_PAYLOAD ignored",
           NotifyType::kInvalidKePayload);
      return;
    }
    auto ke = crypto::KeyExchange::Generate(group);
    if (!ke) return;
    ++sa.init_retries;
    sa.ke = std::move(*ke);
    SendInitRequest(sa, now);
    return;
  }
  const auto* sa_body = [&]() -> const SaPayload* {
    const Payload* p = m.Find(PayloadType::kSa);
    return p ? std::get_if<SaPayload>(&p->body) : nullptr;
  }();
  if (!sa_body) {
    // 2.21.1 / bad-inputs F: unauthenticated errors are hints; keep retransmitting.
    for (const auto& p : m.payloads)
      if (const auto* n = std::get_if<NotifyPayload>(&p.body); n && IsError(n->type)) {
        sa.init_hint = n->type;
        Emit(EventKind::kFailure, &sa, now, "unauthenticated error notify (hint)", n->type);
        return;
      }
    Emit(EventKind::kDropped, &sa, now, "IKE_SA_INIT response without SA");
    return;
  }
  if (auto rules = CheckExchangeRules(m.header, m.payloads);
      !rules || m.header.spi_r == 0 || !NatdSizesOk(m)) {
    Emit(EventKind::kDropped, &sa, now, "malformed IKE_SA_INIT response");
    return;
  }
  const auto* ke = Body<KePayload>(m, PayloadType::kKe);
  const auto* nonce = Body<NoncePayload>(m, PayloadType::kNonce);
  if (!ke || !nonce) {
    // Found by engine_fuzzer: an SA without KE or Nr. Unauthenticated, so only dropped.
    Emit(EventKind::kDropped, &sa, now, "IKE_SA_INIT response without KE or Nr");
    return;
  }
  auto choice = AcceptIke(peer->proposals, *sa_body, 0);
  if (!choice || !ke || !nonce || ke->group != sa.ke->group() || choice->suite.dh != ke->group ||
      !NonceSizeOk(nonce->data)) {
    Emit(EventKind::kFailure, &sa, now, "IKE_SA_INIT response not acceptable",
         NotifyType::kNoProposalChosen);
    DestroySa(sa, now, "IKE_SA_INIT failed");
    return;
  }
  if (nonce->data == sa.nonce_i) {
    // Nr == Ni: our own nonce reflected; unauthenticated, so only dropped (the real answer may
    // still come).
    Emit(EventKind::kDropped, &sa, now, "IKE_SA_INIT response with Nr equal to our Ni");
    return;
  }
  auto shared = sa.ke->ComputeShared(ke->data);
  if (!shared) {
    Emit(EventKind::kFailure, &sa, now, "peer KE rejected: " + shared.error());
    DestroySa(sa, now, "IKE_SA_INIT failed");
    return;
  }
  sa.spi_r = m.header.spi_r;
  sa.suite = choice->suite;
  sa.nonce_r = nonce->data;
  sa.init_response = raw;
  DetectNat(sa, m, sa.spi_r, peer->encap, now);
  sa.peer_fragmentation =
      peer->fragmentation && m.FindNotify(NotifyType::kIkev2FragmentationSupported);
  sa.fragment_own = peer->fragment_own;
  sa.fragment_force = peer->fragment_force;
  if (!DeriveInitKeys(sa, *shared)) {
    DestroySa(sa, now, "key derivation failed");
    return;
  }
  sa.ke.reset();
  sa.outstanding.reset();
  sa.next_mid = 1;
  // 2.23: with NAT-D on both sides move to port 4500 for IKE_AUTH, from then on with the
  // non-ESP marker: behind a NAT, and (as charon with mobike = yes, its default) even without
  // one. As charon's float_ports: the peer's port becomes 4500 only where port 500 was in use (a
  // peer on a custom port keeps it), ours becomes our NAT-T port.
  if (sa.peer_natd && (sa.udp_encap() || peer->mobike) &&
      sa.local.port == config_.ike_port) {
    namespace charon = base::charon;
    if (sa.remote.port == charon::kPort || sa.local.port == charon::kPort) {
      sa.remote.port = charon::kPortNatT;
    }
    sa.local.port = config_.nat_t_port;
  }
  sa.state = IkeState::kAuthenticating;
  SendAuthRequest(sa, now);
}

Bytes Engine::OurNatdSource(const IkeSa& sa, std::uint64_t spi_r, bool encap) {
  if (!encap) return NatDetectionHash(sa.spi_i, spi_r, sa.local);
  if (!fake_natd_source_) {
    std::array<std::uint8_t, 4> octets{};
    random_.Fill(octets);
    const std::uint32_t address = (std::uint32_t{octets[0]} << 24) | (octets[1] << 16) |
                                  (octets[2] << 8) | octets[3];
    fake_natd_source_ = Endpoint{.address = xfrm::IpAddress::V4(address), .port = 0};
  }
  return NatDetectionHash(sa.spi_i, spi_r, *fake_natd_source_);
}

void Engine::DetectNat(IkeSa& sa, const Message& m, std::uint64_t spi_r, bool encap,
                       TimePoint now) {
  const auto* natd_d = m.FindNotify(NotifyType::kNatDetectionDestinationIp);
  const auto* natd_s = m.FindNotify(NotifyType::kNatDetectionSourceIp);
  sa.peer_natd = natd_d || natd_s;
  sa.nat_local = natd_d && natd_d->data != NatDetectionHash(sa.spi_i, spi_r, sa.local);
  sa.nat_remote = natd_s && !AnySourceMatches(m, NatDetectionHash(sa.spi_i, spi_r, sa.remote));
  sa.nat_fake = encap && natd_d && natd_s && !sa.nat_local && !sa.nat_remote;
  if (sa.nat_local) ScheduleKeepalive(sa, now);
}

}  // namespace minivpn::ike
