// libFuzzer target for the IKE engine: arbitrary datagrams fed to
//   mode 0: a fresh responder engine (port 500 or 4500),
//   mode 1: an initiator engine that has sent IKE_SA_INIT (the SPI is patched in so that the
//           datagram reaches the SA),
//   mode 2: a responder after IKE_SA_INIT: the input is the *plaintext* of protected requests,
//           encrypted here with the right keys, so the IKE_AUTH processing sees arbitrary
//           payload chains,
//   mode 3: the same on an established IKE SA (CREATE_CHILD_SA / INFORMATIONAL / anything),
//   mode 4: an initiator engine whose IKE_SA_INIT was answered by hand: arbitrary plaintext in
//           validly protected responses reaches its IKE_AUTH processing,
//   mode 5: an initiator engine whose IKE SA and first CHILD_SA were established by hand: the
//           input interleaves commands (CHILD and IKE rekey, a second CHILD_SA, delete, time for
//           DPD and retransmissions, a kernel call that fails) with arbitrary plaintext in validly
//           protected responses to its requests and in requests of the peer (collisions).
// Modes 0-4 are data[0] % 5 (the corpus's seeds), modes 5+ are data[0] = 5, 6, ...
// After the datagrams the timers run for a while. Invariant checked: nothing crashes, and
// after deleting everything the fake kernel is empty (but for objects whose removal the fuzzer
// made fail).
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <vector>

#include "crypto/key_exchange.h"
#include "crypto/keymat.h"
#include "crypto/prf.h"
#include "crypto/random.h"
#include "crypto/sk_cipher.h"
#include "ike/wire/codec.h"
#include "ike/engine/engine.h"
#include "ike/engine/engine_payloads.h"
#include "ike/engine/negotiation.h"
#include "ike/wire/protect.h"
#include "tests/fuzz/engine_fuzz_config.h"
#include "xfrm/fake_kernel.h"

namespace {

using namespace minivpn;       // NOLINT
using namespace minivpn::ike;  // NOLINT

xfrm::IpAddress Ip(const char* s) { return fuzz::FuzzIp(s); }

const Endpoint kA{Ip("192.0.2.1"), 500};
const Endpoint kB{Ip("192.0.2.2"), 500};

PeerConfig Peer(const char* name, const char* local, const char* remote, const char* lid,
                const char* rid) {
  return fuzz::FuzzPeer(name, local, remote, lid, rid, "fuzz psk",
                        {fuzz::FuzzChild("net", "0.0.0.0/0", "0.0.0.0/0", 12)});
}

// Splits the input into datagrams: [len_hi len_lo flags] data...
struct Reader {
  const std::uint8_t* p;
  std::size_t n;
  bool Next(Bytes* out, std::uint8_t* flags) {
    if (n < 3) return false;
    std::size_t len = (static_cast<std::size_t>(p[0]) << 8 | p[1]) % 1500;
    *flags = p[2];
    p += 3;
    n -= 3;
    len = std::min(len, n);
    out->assign(p, p + len);
    p += len;
    n -= len;
    return true;
  }
};

// The initiator side of modes 2 and 3, driven by hand with known keys.
struct Manual {
  crypto::SeededRandom rng{99};
  std::uint64_t spi_i = 0x0123456789abcdefULL, spi_r = 0;
  Bytes nonce_i = Bytes(32, 0x11), nonce_r, init_request, init_response;
  std::optional<crypto::Prf> prf;
  SecretBytes sk_pi, sk_pr;
  std::optional<crypto::SkCipher> out;

  bool Init(Engine& b, TimePoint now) {
    auto ke = crypto::KeyExchange::Generate(crypto::DhGroup::kCurve25519);
    if (!ke) return false;
    Message m;
    m.header =
        Header{.spi_i = spi_i, .exchange = ExchangeType::kIkeSaInit, .flags = kFlagInitiator};
    m.payloads.push_back(MakePayload(
        PayloadType::kSa, OfferIke(Peer("x", "0.0.0.0", "0.0.0.0", "", "").proposals, {})));
    m.payloads.push_back(MakePayload(
        PayloadType::kKe, KePayload{.group = (*ke)->group(), .data = (*ke)->public_value()}));
    m.payloads.push_back(MakePayload(PayloadType::kNonce, NoncePayload{.data = nonce_i}));
    init_request = Encode(m);
    b.HandleDatagram(Datagram{.local = kB, .remote = kA, .data = init_request}, now);
    auto replies = b.TakeDatagrams();
    if (replies.size() != 1) return false;
    auto r = Decode(replies[0].data);
    if (!r || !r->Find(PayloadType::kKe) || !r->Find(PayloadType::kNonce)) return false;
    spi_r = r->header.spi_r;
    nonce_r = std::get<NoncePayload>(r->Find(PayloadType::kNonce)->body).data;
    auto shared = (*ke)->ComputeShared(std::get<KePayload>(r->Find(PayloadType::kKe)->body).data);
    if (!shared) return false;
    prf.emplace(*crypto::Prf::Create(crypto::PrfId::kHmacSha2_256));
    auto seed = crypto::ComputeSkeyseed(*prf, nonce_i, nonce_r, *shared);
    auto keys = crypto::DeriveIkeKeys(*prf, seed, nonce_i, nonce_r, spi_i, spi_r, {36, 0});
    auto cipher = crypto::SkCipher::Create({crypto::EncrId::kAesGcm16, 256, crypto::IntegId::kNone},
                                           std::move(keys.sk_ei), SecretBytes());
    if (!cipher) return false;
    out.emplace(std::move(*cipher));
    sk_pi = std::move(keys.sk_pi);
    return true;
  }

  // Header | SK{plaintext} with a valid ICV, whatever the plaintext is.
  Bytes Seal(ExchangeType exchange, std::uint32_t mid, PayloadType first, ByteView plaintext,
             std::uint8_t flags = kFlagInitiator) {
    std::size_t body = out->SealedSize(plaintext.size());
    std::uint32_t length = static_cast<std::uint32_t>(kHeaderSize + 4 + body);
    Bytes aad;
    auto put64 = [&](std::uint64_t v) {
      for (int i = 7; i >= 0; --i) aad.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
    };
    auto put32 = [&](std::uint32_t v) {
      for (int i = 3; i >= 0; --i) aad.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
    };
    put64(spi_i);
    put64(spi_r);
    aad.push_back(static_cast<std::uint8_t>(PayloadType::kSk));
    aad.push_back(kIkeV2Version);
    aad.push_back(static_cast<std::uint8_t>(exchange));
    aad.push_back(flags);
    put32(mid);
    put32(length);
    aad.push_back(static_cast<std::uint8_t>(first));
    aad.push_back(0);
    aad.push_back(static_cast<std::uint8_t>((4 + body) >> 8));
    aad.push_back(static_cast<std::uint8_t>(4 + body));
    Bytes sealed = out->Seal(aad, plaintext, rng);
    Bytes msg = aad;
    Append(msg, sealed);
    return msg;
  }

  std::vector<Payload> Auth() {
    Payload id =
        MakePayload(PayloadType::kIdi, IdPayload{.id_type = IdType::kFqdn, .data = Bytes{'a'}});
    SecretBytes psk = SecretBytes::FromString("fuzz psk");
    SecretBytes auth =
        crypto::ComputePskAuth(*prf, psk, init_request, nonce_r, sk_pi, EncodePayloadBody(id));
    std::vector<Payload> p{id};
    p.push_back(MakePayload(PayloadType::kAuth, AuthPayload{.method = AuthMethod::kSharedKeyMic,
                                                            .data = Bytes(auth.Reveal().begin(),
                                                                          auth.Reveal().end())}));
    p.push_back(MakePayload(PayloadType::kSa,
                            OfferEsp(Peer("x", "0.0.0.0", "0.0.0.0", "", "").children[0].proposals,
                                     0xc1000001, false)));
    p.push_back(MakePayload(PayloadType::kTsi, ToTsPayload({xfrm::Selector::Of(*xfrm::Subnet::Parse("0.0.0.0/0"))})));
    p.push_back(MakePayload(PayloadType::kTsr, ToTsPayload({xfrm::Selector::Of(*xfrm::Subnet::Parse("0.0.0.0/0"))})));
    return p;
  }
};

// Mode 4: answers the engine's IKE_SA_INIT by hand (known keys), so that protected responses
// with arbitrary plaintext reach the initiator's IKE_AUTH processing.
bool RespondToInit(Manual& m, Engine& a, const Datagram& init, TimePoint now) {
  auto req = Decode(init.data);
  if (!req || !req->Find(PayloadType::kKe) || !req->Find(PayloadType::kNonce)) return false;
  auto ke = crypto::KeyExchange::Generate(crypto::DhGroup::kCurve25519);
  if (!ke) return false;
  m.spi_i = req->header.spi_i;
  m.spi_r = 0x0fedcba987654321ULL;
  m.nonce_i = std::get<NoncePayload>(req->Find(PayloadType::kNonce)->body).data;
  const Bytes& nonce_i = m.nonce_i;
  m.nonce_r = Bytes(32, 0x22);
  auto shared = (*ke)->ComputeShared(std::get<KePayload>(req->Find(PayloadType::kKe)->body).data);
  if (!shared) return false;
  Message r;
  r.header = Header{.spi_i = m.spi_i,
                    .spi_r = m.spi_r,
                    .exchange = ExchangeType::kIkeSaInit,
                    .flags = kFlagResponse};
  IkeSuite suite{.encr = {crypto::EncrId::kAesGcm16, 256},
                 .prf = crypto::PrfId::kHmacSha2_256,
                 .dh = crypto::DhGroup::kCurve25519};
  r.payloads.push_back(MakePayload(PayloadType::kSa, AnswerIke(suite, 1, {})));
  r.payloads.push_back(MakePayload(
      PayloadType::kKe, KePayload{.group = (*ke)->group(), .data = (*ke)->public_value()}));
  r.payloads.push_back(MakePayload(PayloadType::kNonce, NoncePayload{.data = m.nonce_r}));
  r.payloads.push_back(
      MakeNotify(NotifyType::kNatDetectionSourceIp, NatDetectionHash(m.spi_i, m.spi_r, kB)));
  r.payloads.push_back(
      MakeNotify(NotifyType::kNatDetectionDestinationIp, NatDetectionHash(m.spi_i, m.spi_r, kA)));
  r.payloads.push_back(MakeNotify(NotifyType::kIkev2FragmentationSupported));
  m.prf.emplace(*crypto::Prf::Create(crypto::PrfId::kHmacSha2_256));
  auto seed = crypto::ComputeSkeyseed(*m.prf, nonce_i, m.nonce_r, *shared);
  auto keys = crypto::DeriveIkeKeys(*m.prf, seed, nonce_i, m.nonce_r, m.spi_i, m.spi_r, {36, 0});
  auto cipher = crypto::SkCipher::Create({crypto::EncrId::kAesGcm16, 256, crypto::IntegId::kNone},
                                         std::move(keys.sk_er), SecretBytes());
  if (!cipher) return false;
  m.out.emplace(std::move(*cipher));
  m.sk_pr = std::move(keys.sk_pr);
  m.init_response = Encode(r);
  a.HandleDatagram(Datagram{.local = kA, .remote = kB, .data = m.init_response}, now);
  return !a.TakeDatagrams().empty();  // the IKE_AUTH request went out
}

constexpr ExchangeType kExchanges[] = {ExchangeType::kIkeAuth, ExchangeType::kCreateChildSa,
                                       ExchangeType::kInformational, ExchangeType::kIkeSaInit};

void RunTimers(Engine& e, TimePoint& now) {
  for (int i = 0; i < 8; ++i) {
    auto d = e.NextDeadline();
    if (!d) break;
    now = std::max(now, *d);
    e.HandleTimers(now);
    e.TakeDatagrams();
    e.TakeEvents();
  }
}

// Mode 5: completes the IKE_AUTH that RespondToInit's engine sent: IDr AUTH SA TSi TSr.
bool CompleteAuth(Manual& m, Engine& a, TimePoint now) {
  Payload id = MakePayload(PayloadType::kIdr,
                           IdPayload{.id_type = IdType::kFqdn, .data = Bytes{'b'}});
  SecretBytes psk = SecretBytes::FromString("fuzz psk");
  SecretBytes auth =
      crypto::ComputePskAuth(*m.prf, psk, m.init_response, m.nonce_i, m.sk_pr,
                             EncodePayloadBody(id));
  const EspSuite suite{.encr = {crypto::EncrId::kAesGcm16, 256}};
  std::vector<Payload> p{id};
  p.push_back(MakePayload(PayloadType::kAuth,
                          AuthPayload{.method = AuthMethod::kSharedKeyMic,
                                      .data = Bytes(auth.Reveal().begin(), auth.Reveal().end())}));
  p.push_back(MakePayload(PayloadType::kSa, AnswerEsp(suite, 1, 0xc2000001)));
  p.push_back(MakePayload(PayloadType::kTsi, ToTsPayload({xfrm::Selector::Of(*xfrm::Subnet::Parse("0.0.0.0/0"))})));
  p.push_back(MakePayload(PayloadType::kTsr, ToTsPayload({xfrm::Selector::Of(*xfrm::Subnet::Parse("0.0.0.0/0"))})));
  Bytes msg(4, 0);
  Append(msg, m.Seal(ExchangeType::kIkeAuth, 1, PayloadType::kIdr, EncodePayloads(p),
                     kFlagResponse));
  a.HandleDatagram(Datagram{.local = {kA.address, 4500}, .remote = {kB.address, 4500}, .data = msg},
                   now);
  a.TakeDatagrams();
  for (const auto& e : a.TakeEvents())
    if (e.kind == EventKind::kChildUp) return true;
  return false;
}

// The header of the last request among `sent` (the engine's datagrams), if any.
std::optional<Header> LastRequest(const std::vector<Datagram>& sent) {
  std::optional<Header> last;
  for (const auto& d : sent) {
    ByteView data = d.data;
    if (d.local.port == 4500) {
      if (data.size() < 4) continue;
      data = data.subspan(4);
    }
    auto m = Decode(data);
    if (m && !m->header.is_response()) last = m->header;
  }
  return last;
}

// The invariant broke: the kernel's call log says how.
[[noreturn]] void LeftBehind(const xfrm::FakeKernel& kernel) {
  std::fprintf(stderr, "kernel objects left behind: %zu SAs, %zu larval, %zu policies\n",
               kernel.sa_count(), kernel.larval_count(), kernel.policy_count());
  for (const auto& op : kernel.log()) std::fprintf(stderr, "  %s\n", op.ToString().c_str());
  std::abort();
}

// Objects the fuzzer made the kernel keep: removals it failed on purpose.
std::size_t FailedRemovals(const xfrm::FakeKernel& kernel) {
  std::size_t n = 0;
  for (const auto& op : kernel.log()) {
    if ((op.kind == xfrm::FakeOpKind::kDelSa || op.kind == xfrm::FakeOpKind::kDelPolicy) &&
        op.result)
      ++n;
  }
  return n;
}

constexpr std::errc kKernelErrors[] = {std::errc::io_error, std::errc::file_exists,
                                       std::errc::no_such_file_or_directory,
                                       std::errc::no_buffer_space};

// Mode 5. Each input record is [len_hi len_lo flags] data; flags & 7 is the step:
//   0 answer the engine's latest request (its exchange and message ID) with `data` as plaintext
//   1 send a request of the peer: exchange (flags >> 3) & 3, the peer's next message ID;
//     flags & 0x20 moves that ID on
//   2 rekey the CHILD_SA   3 rekey the IKE SA   4 delete the CHILD_SA   5 a second CHILD_SA
//   6 time passes: (flags >> 3) x 3 s, timers run (DPD every 30 s, retransmissions)
//   7 the ((flags >> 3) % 4 + 1)-th kernel call from now fails
void RunEstablishedInitiator(Reader in, Engine& engine, xfrm::FakeKernel& kernel, TimePoint now) {
  if (!engine.AddPeer(Peer("to-b", "192.0.2.1", "192.0.2.2", "a", "b"), now)) return;
  if (!engine.Initiate("to-b", "net", now)) return;
  auto sent = engine.TakeDatagrams();
  Manual peer;
  if (sent.empty() || !RespondToInit(peer, engine, sent[0], now)) return;
  if (!CompleteAuth(peer, engine, now)) std::abort();  // a valid answer must establish
  std::optional<Header> outstanding;
  std::uint32_t peer_mid = 0;
  Bytes d;
  std::uint8_t flags;
  while (in.Next(&d, &flags)) {
    PayloadType first = d.empty() ? PayloadType::kNone : static_cast<PayloadType>(d[0]);
    ByteView plaintext = d.empty() ? ByteView{} : ByteView(d).subspan(1);
    auto deliver = [&](Bytes message) {
      Bytes datagram(4, 0);
      Append(datagram, message);
      engine.HandleDatagram(
          Datagram{.local = {kA.address, 4500}, .remote = {kB.address, 4500}, .data = datagram},
          now);
    };
    switch (flags & 7) {
      case 0:
        if (outstanding)
          deliver(peer.Seal(outstanding->exchange, outstanding->message_id, first, plaintext,
                            kFlagResponse));
        break;
      case 1:
        deliver(peer.Seal(kExchanges[(flags >> 3) & 3], peer_mid, first, plaintext, 0));
        if (flags & 0x20) ++peer_mid;
        break;
      case 2: (void)engine.Rekey("to-b", "net", now); break;
      case 3: (void)engine.Rekey("to-b", "", now); break;
      case 4: (void)engine.Terminate("to-b", "net", now); break;
      case 5: (void)engine.Initiate("to-b", "net", now); break;
      case 6:
        now += std::chrono::seconds(3 * (flags >> 3));
        engine.HandleTimers(now);
        break;
      case 7: kernel.FailNth((flags >> 3) % 4 + 1, kKernelErrors[(flags >> 5) & 3]); break;
    }
    if (auto last = LastRequest(engine.TakeDatagrams())) outstanding = last;
    engine.TakeEvents();
  }
  kernel.FailNth(0, std::errc::io_error);
  RunTimers(engine, now);
  (void)engine.Terminate("to-b", "", now);
  engine.RemovePeer("to-b", now);
  if (kernel.sa_count() + kernel.larval_count() + kernel.policy_count() > FailedRemovals(kernel))
    LeftBehind(kernel);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  const int mode = data[0] == 5 ? 5 : data[0] % 5;
  Reader in{data + 1, size - 1};
  TimePoint now{std::chrono::hours(1)};
  crypto::SeededRandom rand(1);
  xfrm::FakeKernel kernel;
  Engine engine(EngineConfig{}, rand, kernel);

  if (mode == 5) {
    RunEstablishedInitiator(in, engine, kernel, now);
    return 0;
  }

  if (mode == 4) {
    if (!engine.AddPeer(Peer("to-b", "192.0.2.1", "192.0.2.2", "a", "b"), now)) return 0;
    if (!engine.Initiate("to-b", "net", now)) return 0;
    auto sent = engine.TakeDatagrams();
    Manual peer;
    if (sent.empty() || !RespondToInit(peer, engine, sent[0], now)) return 0;
    Bytes d;
    std::uint8_t flags;
    while (in.Next(&d, &flags)) {
      PayloadType first = d.empty() ? PayloadType::kNone : static_cast<PayloadType>(d[0]);
      ByteView plaintext = d.empty() ? ByteView{} : ByteView(d).subspan(1);
      Bytes msg(4, 0);  // non-ESP marker: IKE_AUTH runs on port 4500
      Append(msg,
             peer.Seal(kExchanges[flags & 3], (flags >> 2) & 3, first, plaintext, kFlagResponse));
      engine.HandleDatagram(
          Datagram{.local = {kA.address, 4500}, .remote = {kB.address, 4500}, .data = msg}, now);
      engine.TakeDatagrams();
      engine.TakeEvents();
    }
    RunTimers(engine, now);
    (void)engine.Terminate("to-b", "", now);
    engine.RemovePeer("to-b", now);
    if (!kernel.empty()) LeftBehind(kernel);
    return 0;
  }

  if (mode == 1) {
    if (!engine.AddPeer(Peer("to-b", "192.0.2.1", "192.0.2.2", "a", "b"), now)) return 0;
    if (!engine.Initiate("to-b", "net", now)) return 0;
    auto sent = engine.TakeDatagrams();
    if (sent.empty()) return 0;
    Bytes spi_i(sent[0].data.begin(), sent[0].data.begin() + 8);
    Bytes d;
    std::uint8_t flags;
    while (in.Next(&d, &flags)) {
      if ((flags & 1) && d.size() >= 8) std::copy(spi_i.begin(), spi_i.end(), d.begin());
      Endpoint local = kA;
      if (flags & 2) local.port = 4500;
      engine.HandleDatagram(Datagram{.local = local, .remote = kB, .data = d}, now);
      engine.TakeDatagrams();
      engine.TakeEvents();
    }
    RunTimers(engine, now);
    return 0;
  }

  if (!engine.AddPeer(Peer("to-a", "192.0.2.2", "192.0.2.1", "b", "a"), now)) return 0;
  if (mode == 0) {
    Bytes d;
    std::uint8_t flags;
    while (in.Next(&d, &flags)) {
      Endpoint local = kB;
      if (flags & 1) local.port = 4500;
      engine.HandleDatagram(Datagram{.local = local, .remote = kA, .data = d}, now);
      engine.TakeDatagrams();
      engine.TakeEvents();
      if (flags & 2) now += std::chrono::seconds(flags >> 2);
    }
    RunTimers(engine, now);
    return 0;
  }

  Manual peer;
  if (!peer.Init(engine, now)) return 0;
  std::uint32_t mid = 1;
  if (mode == 3) {
    Bytes auth =
        peer.Seal(ExchangeType::kIkeAuth, 1, PayloadType::kIdi, EncodePayloads(peer.Auth()));
    engine.HandleDatagram(Datagram{.local = kB, .remote = kA, .data = auth}, now);
    engine.TakeDatagrams();
    mid = 2;
  }
  Bytes d;
  std::uint8_t flags;
  while (in.Next(&d, &flags)) {
    // flags: exchange (2 bits), message ID step (1 bit), first payload type (from the data).
    ExchangeType exchange = kExchanges[flags & 3];
    PayloadType first = d.empty() ? PayloadType::kNone : static_cast<PayloadType>(d[0]);
    ByteView plaintext = d.empty() ? ByteView{} : ByteView(d).subspan(1);
    engine.HandleDatagram(
        Datagram{.local = kB, .remote = kA, .data = peer.Seal(exchange, mid, first, plaintext)},
        now);
    engine.TakeDatagrams();
    engine.TakeEvents();
    if (flags & 4) ++mid;
    if (flags & 8) now += std::chrono::seconds(flags >> 4);
  }
  RunTimers(engine, now);
  // Whatever happened, deleting everything must leave the kernel empty.
  (void)engine.Terminate("to-a", "", now);
  engine.RemovePeer("to-a", now);
  if (!kernel.empty()) LeftBehind(kernel);
  return 0;
}
