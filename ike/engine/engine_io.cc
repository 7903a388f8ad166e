// The receive and send pipeline: non-ESP marker (RFC 3948 2.2), decode, SA lookup by SPI,
// message-ID window and response cache (RFC 7296 2.1, 2.2), SK/SKF opening (3.14, RFC 7383),
// the payload table (3.2), retransmission with exponential backoff, and the task queue.
#include <algorithm>
#include <cmath>

#include "crypto/prf.h"
#include "ike/wire/codec.h"
#include "ike/engine/engine.h"
#include "ike/engine/engine_payloads.h"
#include "ike/wire/format.h"

namespace minivpn::ike {

namespace {

Bytes Hash(ByteView data) { return crypto::Sha256(data); }

}  // namespace

void Engine::SendRaw(const Endpoint& local, const Endpoint& remote, const Bytes& ike_message) {
  Datagram d{.local = local, .remote = remote, .data = {}};
  if (local.port == config_.nat_t_port) d.data.assign(4, 0);  // non-ESP marker
  Append(d.data, ike_message);
  out_.push_back(std::move(d));
}

namespace {
// RFC 7296 2.2: message IDs must not wrap. We rekey the IKE SA when 256 IDs are left, and use
// 2^32-1 for nothing: reaching it closes the SA.
constexpr std::uint32_t kLastMessageId = 0xffffffff;
constexpr std::uint32_t kRekeyBeforeMessageId = kLastMessageId - 256;
}  // namespace

namespace {
std::size_t FragmentLimit(const EngineConfig& config, const IkeSa& sa) {
  std::size_t overhead = (sa.local.address.is_v4() ? 20 : 40) + 8;
  if (sa.local.port == config.nat_t_port) overhead += 4;
  return config.fragment_size > overhead + 64 ? config.fragment_size - overhead : 64;
}

std::vector<Bytes> Seal(const EngineConfig& config, IkeSa& sa, const Header& header,
                        const std::vector<Payload>& payloads, crypto::Random& random) {
  // RFC 7383 2.5: fragment only when the peer announced IKEV2_FRAGMENTATION_SUPPORTED (and we
  // are not configured to accept fragments only), or always with fragmentation = force (charon).
  if ((sa.peer_fragmentation || sa.fragment_force) && sa.fragment_own)
    return ProtectFragmented(header, payloads, *sa.cipher_out, random, FragmentLimit(config, sa));
  return {Protect(header, payloads, *sa.cipher_out, random)};
}
}  // namespace

void Engine::SendRequest(IkeSa& sa, ExchangeKind kind, ExchangeType exchange,
                         std::vector<Payload> payloads, TimePoint now, Outstanding pending) {
  if (sa.destroyed || !sa.cipher_out) return;
  if (sa.next_mid == kLastMessageId) {  // 2.2: no wrap; the rekey before this one failed
    Emit(EventKind::kFailure, &sa, now, "message IDs exhausted: closing the IKE SA");
    DestroySa(sa, now, "message IDs exhausted");
    return;
  }
  Header h{.spi_i = sa.spi_i,
           .spi_r = sa.spi_r,
           .exchange = exchange,
           .flags = static_cast<std::uint8_t>(sa.initiator ? kFlagInitiator : 0),
           .message_id = sa.next_mid++};
  pending.kind = kind;
  pending.exchange = exchange;
  pending.message_id = h.message_id;
  pending.datagrams = Seal(config_, sa, h, payloads, random_);
  pending.summary = Summary(h, payloads);
  pending.retransmits = 0;
  pending.sent_at = now;
  pending.next_send = now + config_.retransmit_timeout;
  for (const auto& d : pending.datagrams) SendRaw(sa.local, sa.remote, d);
  sa.last_sent = now;
  Emit(EventKind::kExchangeSent, &sa, now, pending.summary);
  if (trace_sink_) TraceSealed(sa, pending.datagrams, payloads, now);
  sa.outstanding = std::make_unique<Outstanding>(std::move(pending));
}

void Engine::SendResponse(IkeSa& sa, const Header& request, std::vector<Payload> payloads,
                          const std::vector<Bytes>& request_hashes, TimePoint now) {
  if (sa.destroyed || !sa.cipher_out) return;
  Header h{.spi_i = sa.spi_i,
           .spi_r = sa.spi_r,
           .exchange = request.exchange,
           .flags = static_cast<std::uint8_t>(kFlagResponse | (sa.initiator ? kFlagInitiator : 0)),
           .message_id = request.message_id};
  sa.cached_response = Seal(config_, sa, h, payloads, random_);
  sa.has_cached = true;
  sa.cached_resends = 0;
  sa.cached_mid = request.message_id;
  sa.cached_request_hashes = request_hashes;
  // 2.2: message IDs never wrap. After the peer's 2^32-1 it can send no request: the SA must go
  // (our IKE rekey replaces it).
  if (request.message_id == kLastMessageId) {
    sa.peer_mids_exhausted = true;
    sa.tasks.insert(sa.tasks.begin(), Task{.kind = Task::Kind::kRekeyIke});
  } else {
    sa.expected_mid = request.message_id + 1;
  }
  for (const auto& d : sa.cached_response) SendRaw(sa.local, sa.remote, d);
  sa.last_sent = now;
  Emit(EventKind::kExchangeSent, &sa, now, Summary(h, payloads));
  if (trace_sink_) TraceSealed(sa, sa.cached_response, payloads, now);
}

void Engine::SendUnprotectedResponse(const Header& request, std::vector<Payload> payloads,
                                     const Endpoint& local, const Endpoint& remote, TimePoint now) {
  Message m;
  m.header = Header{.spi_i = request.spi_i,
                    .spi_r = request.spi_r,
                    .exchange = request.exchange,
                    .flags = kFlagResponse,
                    .message_id = request.message_id};
  m.payloads = std::move(payloads);
  SendRaw(local, remote, Encode(m));
  Event e{.kind = EventKind::kExchangeSent, .time = now, .text = Summary(m.header, m.payloads)};
  events_.push_back(std::move(e));
  if (trace_sink_) TraceMessage(Direction::kSent, nullptr, local, remote, m, nullptr, 1, now);
}

void Engine::Retransmit(IkeSa& sa, TimePoint now) {
  Outstanding& o = *sa.outstanding;
  const PeerConfig* peer = FindPeer(sa.peer);
  bool dpd_expired = o.kind == ExchangeKind::kDpd && peer && peer->dpd_timeout.count() > 0 &&
                     now >= o.sent_at + peer->dpd_timeout;
  if (o.retransmits >= config_.retransmit_tries || dpd_expired) {
    GiveUp(sa, now);
    return;
  }
  ++o.retransmits;
  for (const auto& d : o.datagrams) SendRaw(sa.local, sa.remote, d);
  sa.last_sent = now;
  auto timeout = std::chrono::duration_cast<Millis>(
      config_.retransmit_timeout * std::pow(config_.retransmit_base, o.retransmits));
  o.next_send = now + timeout;
  Emit(EventKind::kRetransmit, &sa, now,
       o.summary + " (try " + std::to_string(o.retransmits) + ")");
}

void Engine::UpdateHosts(IkeSa& sa, const Endpoint& local, const Endpoint& remote, bool force,
                         TimePoint now) {
  const Endpoint old_local = sa.local, old_remote = sa.remote;
  if (force) sa.local = local;
  const bool follow_peer = sa.nat_remote && (!sa.nat_local || !sa.original_initiator);
  if (remote != sa.remote && (force || follow_peer)) sa.remote = remote;
  if (sa.local == old_local && sa.remote == old_remote) return;
  // Before IKE_AUTH (the float to 4500) there is no CHILD_SA to move and nothing to tell.
  if (sa.state == IkeState::kConnecting || sa.state == IkeState::kAuthenticating) return;
  const std::string moved = old_local.ToString() + " - " + old_remote.ToString() + " to " +
                            sa.local.ToString() + " - " + sa.remote.ToString();
  for (auto& c : sa.children) {
    std::optional<xfrm::UdpEncap> encap = c.params.encap;
    if (encap) encap = xfrm::UdpEncap{.sport = sa.local.port, .dport = sa.remote.port};
    if (c.params.local == sa.local.address && c.params.remote == sa.remote.address &&
        c.params.encap == encap)
      continue;
    if (auto ec = xfrm::MoveChildSa(kernel_, c.params, sa.local.address, sa.remote.address,
                                    encap, c.owns_policies)) {
      Emit(EventKind::kFailure, &sa, now,
           "CHILD_SA " + c.name + "{" + std::to_string(c.id) +
               "} not moved to the new endpoints: " + ec.message(),
           std::nullopt, c.name, c.id);
    }
  }
  Emit(EventKind::kIkeUpdated, &sa, now, "endpoints changed from " + moved);
}

void Engine::ScheduleKeepalive(IkeSa& sa, TimePoint now) {
  if (config_.keep_alive.count() > 0) sa.keepalive_at = now + config_.keep_alive;
}

void Engine::SendKeepalive(IkeSa& sa, TimePoint now) {
  sa.keepalive_at.reset();
  // charon: only while we are behind a NAT, and not for an SA that is on its way out.
  if (!sa.nat_local || config_.keep_alive.count() == 0 || sa.state == IkeState::kRekeyed ||
      sa.state == IkeState::kDeleting)
    return;
  // Outbound silence: since our last IKE message or the last packet out of a CHILD_SA (its OUT
  // policies' last use, as charon's get_use_time; an SA's own use time is only its first use).
  TimePoint last_out = sa.last_sent;
  for (const auto& c : sa.children) {
    if (!c.owns_policies) continue;
    for (const auto& policy : xfrm::ChildPolicies(c.params)) {
      if (policy.id.dir != xfrm::PolicyDir::kOut) continue;
      if (auto used = kernel_.QueryPolicyIdle(policy.id); used && *used)
        last_out = std::max(last_out, now - **used);
    }
  }
  if (now - last_out >= config_.keep_alive) {
    // RFC 3948 2.3: one octet 0xFF, without the non-ESP marker.
    out_.push_back(Datagram{.local = sa.local, .remote = sa.remote, .data = {0xFF}});
    sa.last_sent = last_out = now;
    Emit(EventKind::kKeepalive, &sa, now, "sending keep alive to " + sa.remote.ToString());
  }
  sa.keepalive_at = last_out + config_.keep_alive;
}

bool Engine::AllowInvalidSpi(TimePoint now) {
  if (now - invalid_spi_window_ >= Seconds(1)) {
    invalid_spi_window_ = now;
    invalid_spi_sent_ = 0;
  }
  if (invalid_spi_sent_ >= config_.invalid_spi_per_second) return false;
  ++invalid_spi_sent_;
  return true;
}

void Engine::HandleDatagram(const Datagram& datagram, TimePoint now) {
  Scope scope(*this);
  ByteView data = datagram.data;
  if (data.size() > config_.max_packet) {
    Emit(EventKind::kDropped, nullptr, now,
         "datagram of " + std::to_string(data.size()) + " octets from " +
             datagram.remote.ToString() + " (max_packet " + std::to_string(config_.max_packet) + ")");
    return;
  }
  if (datagram.local.port == config_.nat_t_port) {
    // RFC 3948 2.3 NAT keepalive: one 0xFF octet, ignored.
    if (data.size() == 1 && data[0] == 0xff) return;
    // RFC 3948 2.2: IKE on the NAT-T port starts with four zero octets; anything else is ESP.
    if (data.size() < 4 || data[0] || data[1] || data[2] || data[3]) {
      Emit(EventKind::kDropped, nullptr, now, "no non-ESP marker on the NAT-T port");
      return;
    }
    data = data.subspan(4);
  }
  auto decoded = Decode(data);
  if (!decoded) {
    Emit(EventKind::kDropped, nullptr, now,
         "from " + datagram.remote.ToString() + ": " + Describe(decoded.error()));
    return;
  }
  const Message& message = *decoded;
  const Header& h = message.header;
  Bytes raw(data.begin(), data.end());

  if (h.exchange == ExchangeType::kIkeSaInit) {
    if (!h.is_response()) {
      // A retransmitted IKE_SA_INIT gets the cached response (2.1); a different one is dropped.
      auto it = half_open_.find({h.spi_i, datagram.remote});
      if (it != half_open_.end()) {
        IkeSa* sa = FindSa(it->second);
        if (sa && sa->has_cached && sa->cached_mid == 0 && !sa->cached_request_hashes.empty() &&
            sa->cached_request_hashes.front() == Hash(raw)) {
          ResendCached(*sa, "IKE_SA_INIT response 0", now);
        } else {
          Emit(EventKind::kDropped, sa, now, "IKE_SA_INIT for an existing half-open SA");
        }
      } else {
        ProcessInitRequest(message, raw, datagram.local, datagram.remote, now);
      }
    } else {
      IkeSa* sa = FindSaBySpi(h.spi_i);
      if (!sa || !sa->initiator || h.is_initiator() || h.message_id != 0 || !sa->outstanding ||
          sa->outstanding->kind != ExchangeKind::kInit) {
        Emit(EventKind::kDropped, sa, now, "unexpected IKE_SA_INIT response");
      } else {
        ProcessInitResponse(*sa, message, raw, now);
      }
    }
    return;
  }

  // 2.2/3.1: the I flag says which of the two SPIs is ours.
  std::uint64_t our_spi = h.is_initiator() ? h.spi_r : h.spi_i;
  IkeSa* sa = FindSaBySpi(our_spi);
  if (!sa) {
    // 2.21.4: at most a rate-limited, unprotected INVALID_IKE_SPI, never state.
    if (!h.is_response() && our_spi != 0 && AllowInvalidSpi(now)) {
      SendUnprotectedResponse(Header{.spi_i = h.spi_i,
                                     .spi_r = h.spi_r,
                                     .exchange = ExchangeType::kInformational,
                                     .message_id = h.message_id},
                              {MakeNotify(NotifyType::kInvalidIkeSpi)}, datagram.local,
                              datagram.remote, now);
    }
    Emit(EventKind::kDropped, nullptr, now, "unknown IKE SPI from " + datagram.remote.ToString());
    return;
  }
  std::uint64_t peer_spi = h.is_initiator() ? h.spi_i : h.spi_r;
  std::uint64_t expected_peer_spi = sa->initiator ? sa->spi_r : sa->spi_i;
  if (h.is_initiator() == sa->initiator || peer_spi != expected_peer_spi || !sa->cipher_in ||
      message.payloads.empty() ||
      (message.payloads.back().type != PayloadType::kSk &&
       message.payloads.back().type != PayloadType::kSkf)) {
    Emit(EventKind::kDropped, sa, now, "unprotected or mismatched message for an IKE SA");
    return;
  }
  HandleProtected(*sa, message, raw, datagram.local, datagram.remote, now);
}

// 2.1: a retransmitted request gets the cached response, byte for byte, at most
// max_cached_resends times: beyond that it is a replay, not a retransmission.
void Engine::ResendCached(IkeSa& sa, std::string_view what, TimePoint now) {
  if (sa.cached_resends >= config_.max_cached_resends) {
    if (sa.cached_resends++ == config_.max_cached_resends) {
      Emit(EventKind::kDropped, &sa, now,
           "request " + std::to_string(sa.cached_mid) + " repeated more than " +
               std::to_string(config_.max_cached_resends) + " times: a replay, no longer answered");
    }
    return;
  }
  ++sa.cached_resends;
  for (const auto& d : sa.cached_response) SendRaw(sa.local, sa.remote, d);
  sa.last_sent = now;
  Emit(EventKind::kRetransmit, &sa, now, std::string(what) + " (cached)");
}

void Engine::HandleProtected(IkeSa& sa, const Message& message, const Bytes& raw,
                             const Endpoint& local, const Endpoint& remote, TimePoint now) {
  const Header& h = message.header;
  const bool response = h.is_response();
  const bool fragment = message.payloads.back().type == PayloadType::kSkf;
  if (!response) {
    if (h.message_id != sa.expected_mid || sa.peer_mids_exhausted) {
      // 2.1: a retransmitted request gets the cached response byte for byte; with fragments,
      // only fragment 1 triggers the resend (RFC 7383 2.6.2).
      if (sa.has_cached && h.message_id == sa.cached_mid &&
          std::find(sa.cached_request_hashes.begin(), sa.cached_request_hashes.end(), Hash(raw)) !=
              sa.cached_request_hashes.end()) {
        ResendCached(sa, "response " + std::to_string(h.message_id), now);
      } else {
        Emit(EventKind::kDropped, &sa, now,
             "request with message ID " + std::to_string(h.message_id) + " outside the window");
      }
      return;
    }
  } else if (!sa.outstanding || sa.outstanding->message_id != h.message_id ||
             sa.outstanding->exchange != h.exchange) {
    Emit(EventKind::kDropped, &sa, now, "unsolicited response " + std::to_string(h.message_id));
    return;
  }

  std::vector<Payload> inner;
  std::vector<Bytes> hashes;
  std::expected<std::vector<Payload>, ParseError> opened;
  if (fragment) {
    const auto& skf = std::get<SkfPayload>(message.payloads.back().body);
    Reassembler& r = response ? sa.response_fragments : sa.request_fragments;
    const std::size_t held_before = r.buffered_bytes();
    // Keeps fragment_bytes_ (all SAs) in step with what r holds, however this branch ends; each
    // call counts the change since the previous one.
    std::size_t counted = held_before;
    auto account = [&] {
      fragment_bytes_ = fragment_bytes_ - counted + r.buffered_bytes();
      counted = r.buffered_bytes();
    };
    if (r.message_id() != h.message_id) r.Reset();
    if (r.buffered_bytes() + raw.size() > config_.max_packet) {
      r.Reset();
      account();
      Emit(EventKind::kDropped, &sa, now,
           "fragmented message larger than max_packet (" + std::to_string(config_.max_packet) + ")");
      return;
    }
    if (fragment_bytes_ - held_before + r.buffered_bytes() + raw.size() >
        config_.fragment_bytes_limit) {
      account();
      Emit(EventKind::kDropped, &sa, now, "fragment buffers of all SAs full");
      return;
    }
    auto added = r.Add(raw, message, *sa.cipher_in);
    account();
    if (!added) {
      Emit(EventKind::kDropped, &sa, now, "fragment: " + Describe(added.error()));
      return;
    }
    // Only an authentic fragment 1 that was kept stands for the message (not a forged copy).
    if (skf.fragment_number == 1 && r.last_stored()) sa.cached_request_hashes_pending = Hash(raw);
    if (!added->has_value()) return;  // more fragments to come
    opened = std::move((*added)->inner);
    r.Reset();
    account();
    hashes.push_back(sa.cached_request_hashes_pending);
  } else {
    opened = Unprotect(raw, message, *sa.cipher_in);
    hashes.push_back(Hash(raw));
  }
  if (!opened) {
    const ParseError& e = opened.error();
    // Failures of the SK payload itself (ICV, lengths, padding) are not authenticated.
    if (e.code == ParseErrorCode::kNotAuthentic || e.payload == PayloadType::kSk ||
        e.payload == PayloadType::kSkf || e.code == ParseErrorCode::kMissingPayload) {
      // 2.21.1 / bad-inputs J: a bad ICV is dropped silently; the SA stays as it is.
      Emit(EventKind::kDropped, &sa, now, "ICV check failed");
      return;
    }
    // Authentic but malformed: a request is answered with the error (2.21.2).
    Emit(EventKind::kFailure, &sa, now, Describe(e), e.notify);
    if (!response) {
      NotifyPayload n;
      n.type = e.notify;
      if (e.code == ParseErrorCode::kUnsupportedCritical) n.data = {e.critical_type};
      SendResponse(sa, h, {MakePayload(PayloadType::kNotify, n)}, hashes, now);
      if (h.exchange == ExchangeType::kIkeAuth) DestroySa(sa, now, "malformed IKE_AUTH");
    } else if (sa.outstanding->kind == ExchangeKind::kAuth) {
      DestroySa(sa, now, "malformed IKE_AUTH response");
    }
    return;
  }
  inner = std::move(*opened);
  sa.last_received = now;
  Emit(EventKind::kExchangeReceived, &sa, now, Summary(h, inner));
  if (trace_sink_) {
    const std::size_t fragments =
        fragment ? std::get<SkfPayload>(message.payloads.back().body).total_fragments : 1;
    TraceMessage(Direction::kReceived, &sa, local, remote, message, &inner, fragments, now);
  }

  if (auto rules = CheckExchangeRules(h, inner); !rules) {
    Emit(EventKind::kFailure, &sa, now, Describe(rules.error()), rules.error().notify);
    if (!response) {
      SendResponse(sa, h, {MakeNotify(rules.error().notify)}, hashes, now);
      if (h.exchange == ExchangeType::kIkeAuth) DestroySa(sa, now, "invalid IKE_AUTH request");
    } else if (sa.outstanding->kind == ExchangeKind::kAuth ||
               sa.outstanding->kind == ExchangeKind::kInit) {
      DestroySa(sa, now, "invalid IKE_AUTH response");
    } else {
      // The exchange failed as if the peer had answered with that error: its handler undoes
      // what the request started (a new CHILD_SA's SPI, the rekey state of the SA).
      DispatchResponse(sa, h, {MakeNotify(rules.error().notify)}, now);
    }
    return;
  }

  // 2.23: follow the peer to a new address or port (the float to 4500 with IKE_AUTH, a NAT
  // mapping change) once its message is authenticated.
  UpdateHosts(sa, local, remote, !response && h.message_id == 1, now);
  if (sa.destroyed) return;
  if (!response) {
    DispatchRequest(sa, h, std::move(inner), hashes, local, remote, now);
    // A task the request queued (e.g. the IKE rekey after the peer's last message ID) starts
    // now if no request of ours is in flight.
    if (!sa.destroyed) StartNextTask(sa, now);
  } else {
    DispatchResponse(sa, h, std::move(inner), now);
  }
}

void Engine::DispatchRequest(IkeSa& sa, const Header& header, std::vector<Payload> inner,
                             const std::vector<Bytes>& hashes, const Endpoint& /*local*/,
                             const Endpoint& /*remote*/, TimePoint now) {
  switch (header.exchange) {
    case ExchangeType::kIkeAuth:
      if (sa.initiator || sa.state != IkeState::kConnecting) {
        Emit(EventKind::kDropped, &sa, now, "IKE_AUTH request in the wrong state");
        return;
      }
      ProcessAuthRequest(sa, header, inner, hashes, now);
      return;
    case ExchangeType::kCreateChildSa: {
      if (sa.state == IkeState::kConnecting || sa.state == IkeState::kAuthenticating) {
        Emit(EventKind::kDropped, &sa, now, "CREATE_CHILD_SA before IKE_AUTH completed");
        return;
      }
      const Payload* sa_payload = nullptr;
      for (const auto& p : inner)
        if (p.type == PayloadType::kSa) sa_payload = &p;
      const auto* body = sa_payload ? std::get_if<SaPayload>(&sa_payload->body) : nullptr;
      if (body && !body->proposals.empty() && body->proposals[0].protocol == ProtocolId::kIke) {
        ProcessIkeRekeyRequest(sa, header, inner, hashes, now);
      } else {
        ProcessChildRequest(sa, header, inner, hashes, now);
      }
      return;
    }
    case ExchangeType::kInformational:
      if (sa.state == IkeState::kConnecting || sa.state == IkeState::kAuthenticating) {
        Emit(EventKind::kDropped, &sa, now, "INFORMATIONAL before IKE_AUTH completed");
        return;
      }
      ProcessInfoRequest(sa, header, inner, hashes, now);
      return;
    default:
      Emit(EventKind::kDropped, &sa, now, "unexpected exchange");
      return;
  }
}

void Engine::DispatchResponse(IkeSa& sa, const Header& /*header*/, std::vector<Payload> inner,
                              TimePoint now) {
  Outstanding out = std::move(*sa.outstanding);
  sa.outstanding.reset();
  switch (out.kind) {
    case ExchangeKind::kAuth:
      ProcessAuthResponse(sa, inner, now);
      break;
    case ExchangeKind::kCreateChild:
    case ExchangeKind::kRekeyChild:
      ProcessChildResponse(sa, out, inner, now);
      break;
    case ExchangeKind::kRekeyIke:
      ProcessIkeRekeyResponse(sa, out, inner, now);
      break;
    case ExchangeKind::kDelete:
    case ExchangeKind::kDpd:
      ProcessInfoResponse(sa, out, inner, now);
      break;
    case ExchangeKind::kInit:
      break;
  }
  if (!sa.destroyed) StartNextTask(sa, now);
  if (out.kind == ExchangeKind::kAuth) ReleaseIdleCiphers(sa);
}

void Engine::StartNextTask(IkeSa& sa, TimePoint now) {
  // 2.2: before our message IDs would wrap, the IKE SA is rekeyed (the new one starts at 0).
  if (sa.next_mid >= kRekeyBeforeMessageId && !sa.tasks.empty() &&
      sa.tasks.front().kind != Task::Kind::kRekeyIke &&
      sa.tasks.front().kind != Task::Kind::kDeleteIke) {
    sa.tasks.insert(sa.tasks.begin(), Task{.kind = Task::Kind::kRekeyIke});
  }
  while (!sa.destroyed && !sa.outstanding && sa.state == IkeState::kEstablished &&
         !sa.tasks.empty()) {
    Task t = sa.tasks.front();
    if (t.not_before > now) return;
    sa.tasks.erase(sa.tasks.begin());
    switch (t.kind) {
      case Task::Kind::kCreateChild:
        StartCreateChild(sa, t.child_name, 0, now);
        break;
      case Task::Kind::kRekeyChild: {
        ChildSa* c = sa.FindChild(t.child_id);
        if (c && c->state == ChildState::kInstalled) StartCreateChild(sa, c->name, c->id, now);
        break;
      }
      case Task::Kind::kDeleteChild: {
        ChildSa* c = sa.FindChild(t.child_id);
        if (c && (c->state == ChildState::kInstalled || c->redundant))
          StartDelete(sa, false, {c->id}, now);
        break;
      }
      case Task::Kind::kRekeyIke:
        StartIkeRekey(sa, now);
        break;
      case Task::Kind::kDeleteIke:
        StartDelete(sa, true, {}, now);
        break;
      case Task::Kind::kReauthIke:
        StartReauth(sa, now);
        break;
      case Task::Kind::kDpd:
        StartDpd(sa, now);
        break;
    }
  }
  // A reauthentication's new SA with its CHILD_SAs made: the old SA (make-before-break) and the
  // reqids it held (break-before-make) go.
  const bool reauthenticating = sa.reauth_of != 0 || !sa.held_reqids.empty();
  if (reauthenticating && !sa.destroyed && !sa.outstanding && sa.state == IkeState::kEstablished &&
      std::none_of(sa.tasks.begin(), sa.tasks.end(),
                   [](const Task& t) { return t.kind == Task::Kind::kCreateChild; })) {
    FinishReauth(sa, now);
  }
}

}  // namespace minivpn::ike
