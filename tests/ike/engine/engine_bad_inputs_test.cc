// Groups D, F, G, J, K and M of docs/bad-inputs.md against a responder engine
// (and, where the item is about the initiator, against an initiating engine). Each test asserts
// the reply (or the silence) and that no state was created.
#include <set>

#include "tests/ike/engine/manual_initiator.h"

namespace minivpn::ike::test {
namespace {

using std::chrono::seconds;

class BadInputTest : public TwoPeers {
 protected:
  void SetUp() override { AddPeers(); }
  void ExpectNoState() {
    EXPECT_EQ(b_.ike_sa_count(), 0u);
    EXPECT_EQ(b_.half_open_count(), 0u);
    EXPECT_TRUE(kernel_b_.empty());
  }
  // The single unprotected reply must be exactly one notify of `type` (with `data` if given).
  static void ExpectNotifyReply(const std::vector<Datagram>& replies, NotifyType type,
                                std::optional<Bytes> data = std::nullopt) {
    ASSERT_EQ(replies.size(), 1u);
    auto m = Decode(replies[0].data);
    ASSERT_TRUE(m.has_value());
    EXPECT_TRUE(m->header.is_response());
    ASSERT_EQ(m->payloads.size(), 1u);
    const auto* n = std::get_if<NotifyPayload>(&m->payloads[0].body);
    ASSERT_NE(n, nullptr);
    EXPECT_EQ(n->type, type) << ShortName(n->type);
    if (data) {
      EXPECT_EQ(n->data, *data);
    }
  }
  static void ExpectProtectedNotify(const std::vector<std::optional<std::vector<Payload>>>& replies,
                                    NotifyType type) {
    ASSERT_EQ(replies.size(), 1u);
    ASSERT_TRUE(replies[0].has_value());
    ASSERT_NE(FindNotify(*replies[0], type), nullptr) << "missing N(" << ShortName(type) << ")";
  }
  static void SetKe(Message& m, crypto::DhGroup group, Bytes data) {
    for (auto& p : m.payloads)
      if (auto* ke = std::get_if<KePayload>(&p.body)) {
        ke->group = group;
        ke->data = std::move(data);
      }
  }
  static void SetSa(Message& m, std::vector<IkeProposal> proposals) {
    for (auto& p : m.payloads)
      if (p.type == PayloadType::kSa) p.body = OfferIke(proposals, {});
  }
  static IkeProposal GcmWith(std::vector<crypto::DhGroup> groups) {
    IkeProposal p = GcmX25519();
    p.dh = std::move(groups);
    return p;
  }
  // A responder that accepts only `group` for IKE.
  std::unique_ptr<Engine> ResponderWithGroup(crypto::DhGroup group) {
    auto e = std::make_unique<Engine>(EngineConfig{}, rand_b_, kernel_b_);
    PeerConfig pb = PeerB();
    pb.proposals = {GcmWith({group})};
    EXPECT_TRUE(e->AddPeer(std::move(pb), TimePoint{}).has_value());
    return e;
  }
  ManualInitiator Peer(std::uint64_t seed = 5) { return ManualInitiator(b_, net_.now(), seed); }
};

// ---- D. KE ---------------------------------------------------------------------------------

TEST_F(BadInputTest, D_KeGroupDiffersFromChosenGetsInvalidKeWithGroup) {
  auto peer = Peer();
  Message m = peer.DefaultInit();
  SetSa(m, {GcmWith({crypto::DhGroup::kEcp256, crypto::DhGroup::kCurve25519})});
  SetKe(m, crypto::DhGroup::kEcp256, Bytes(64, 7));
  ExpectNotifyReply(peer.Send(m), NotifyType::kInvalidKePayload, Bytes{0, 31});
  ExpectNoState();
}

TEST_F(BadInputTest, D_NoInvalidKeForAGroupThePeerDidNotOffer) {
  auto peer = Peer();
  Message m = peer.DefaultInit();
  SetSa(m, {GcmWith({crypto::DhGroup::kEcp256})});
  SetKe(m, crypto::DhGroup::kEcp256, Bytes(64, 7));
  ExpectNotifyReply(peer.Send(m), NotifyType::kNoProposalChosen);
  ExpectNoState();
}

TEST_F(BadInputTest, D_UnknownGroupInKe) {
  auto peer = Peer();
  Message m = peer.DefaultInit();
  SetKe(m, static_cast<crypto::DhGroup>(999), Bytes(32, 7));
  ExpectNotifyReply(peer.Send(m), NotifyType::kInvalidKePayload, Bytes{0, 31});
  ExpectNoState();
}

TEST_F(BadInputTest, D_WrongLengthForTheGroup) {
  for (std::size_t len : {31u, 33u, 0u}) {
    auto peer = Peer();
    Message m = peer.DefaultInit();
    SetKe(m, crypto::DhGroup::kCurve25519, Bytes(len, 9));
    auto replies = peer.Send(m);
    // 0 octets is already a codec error (silently dropped); 31/33 get INVALID_SYNTAX.
    if (len == 0 && replies.empty()) continue;
    ExpectNotifyReply(replies, NotifyType::kInvalidSyntax);
    ExpectNoState();
  }
}

TEST_F(BadInputTest, D_X25519LowOrderPoints) {
  Bytes one(32, 0);
  one[0] = 1;
  for (const Bytes& point : {Bytes(32, 0), one}) {
    auto peer = Peer();
    Message m = peer.DefaultInit();
    SetKe(m, crypto::DhGroup::kCurve25519, point);
    ExpectNotifyReply(peer.Send(m), NotifyType::kNoProposalChosen);
    ExpectNoState();
  }
}

TEST_F(BadInputTest, D_EcpPointNotOnCurve) {
  auto responder = ResponderWithGroup(crypto::DhGroup::kEcp256);
  ManualInitiator peer(*responder, net_.now());
  Message m = peer.DefaultInit();
  SetSa(m, {GcmWith({crypto::DhGroup::kEcp256})});
  SetKe(m, crypto::DhGroup::kEcp256, Bytes(64, 1));
  ExpectNotifyReply(peer.Send(m), NotifyType::kNoProposalChosen);
  EXPECT_EQ(responder->ike_sa_count(), 0u);
}

TEST_F(BadInputTest, D_ModpPublicValuesZeroOneAndPMinusOne) {
  auto responder = ResponderWithGroup(crypto::DhGroup::kModp2048);
  Bytes p_minus_1 = FromHex(
      "FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD129024E088A67CC74020BBEA63B139B22"
      "514A08798E3404DDEF9519B3CD3A431B302B0A6DF25F14374FE1356D6D51C245E485B576625E7EC6"
      "F44C42E9A637ED6B0BFF5CB6F406B7EDEE386BFB5A899FA5AE9F24117C4B1FE649286651ECE45B3D"
      "C2007CB8A163BF0598DA48361C55D39A69163FA8FD24CF5F83655D23DCA3AD961C62F356208552BB"
      "9ED529077096966D670C354E4ABC9804F1746C08CA18217C32905E462E36CE3BE39E772C180E8603"
      "9B2783A2EC07A28FB5C55DF06F4C52C9DE2BCBF6955817183995497CEA956AE515D2261898FA0510"
      "15728E5A8AACAA68FFFFFFFFFFFFFFFE");
  ASSERT_EQ(p_minus_1.size(), 256u);
  Bytes one(256, 0);
  one.back() = 1;
  for (const Bytes& y : {Bytes(256, 0), one, p_minus_1}) {
    ManualInitiator peer(*responder, net_.now());
    Message m = peer.DefaultInit();
    SetSa(m, {GcmWith({crypto::DhGroup::kModp2048})});
    SetKe(m, crypto::DhGroup::kModp2048, y);
    ExpectNotifyReply(peer.Send(m), NotifyType::kNoProposalChosen);
    EXPECT_EQ(responder->ike_sa_count(), 0u);
  }
}

TEST_F(BadInputTest, D_InvalidKeLoopsAreCapped) {
  // Initiator side: a (forged) responder keeps answering INVALID_KE_PAYLOAD, alternating groups.
  PeerConfig pa = PeerA();
  pa.name = "loop";
  pa.proposals = {GcmWith({crypto::DhGroup::kCurve25519, crypto::DhGroup::kEcp256})};
  ASSERT_TRUE(a_.AddPeer(std::move(pa), net_.now()).has_value());
  ASSERT_TRUE(a_.Initiate("loop", "net", net_.now()).has_value());
  int retries = 0;
  for (int i = 0; i < 10; ++i) {
    auto sent = a_.TakeDatagrams();
    if (sent.empty()) break;
    auto req = Decode(sent.back().data);
    ASSERT_TRUE(req.has_value());
    if (i > 0) ++retries;
    auto group = std::get<KePayload>(req->Find(PayloadType::kKe)->body).group;
    Message reply;
    reply.header = Header{
        .spi_i = req->header.spi_i, .exchange = ExchangeType::kIkeSaInit, .flags = kFlagResponse};
    reply.payloads.push_back(
        MakeNotify(NotifyType::kInvalidKePayload,
                   GroupBytes(group == crypto::DhGroup::kEcp256 ? crypto::DhGroup::kCurve25519
                                                                : crypto::DhGroup::kEcp256)));
    a_.HandleDatagram(
        Datagram{.local = sent.back().local, .remote = sent.back().remote, .data = Encode(reply)},
        net_.now());
  }
  EXPECT_EQ(retries, static_cast<int>(a_.config().max_init_retries));
}

TEST_F(BadInputTest, D_InvalidKeInsideCreateChildSa) {
  // B insists on ECP_256 for PFS; A proposes CURVE_25519 first and retries with ECP_256.
  crypto::SeededRandom ra(31), rb(32);
  xfrm::FakeKernel ka, kb;
  Engine a(EngineConfig{}, ra, ka), b(EngineConfig{}, rb, kb);
  SimNetwork net;
  net.Attach(Ip("192.0.2.1"), &a);
  net.Attach(Ip("192.0.2.2"), &b);
  PeerConfig pa = PeerA(), pb = PeerB();
  pa.children[0].proposals[0].dh = {crypto::DhGroup::kCurve25519, crypto::DhGroup::kEcp256};
  pb.children[0].proposals[0].dh = {crypto::DhGroup::kEcp256};
  ASSERT_TRUE(a.AddPeer(std::move(pa), net.now()).has_value());
  ASSERT_TRUE(b.AddPeer(std::move(pb), net.now()).has_value());
  ASSERT_TRUE(a.Initiate("to-b", "net", net.now()).has_value());
  net.RunFor(seconds(1));
  ASSERT_EQ(Children(a).size(), 1u);
  a.TakeEvents();
  ASSERT_TRUE(a.Rekey("to-b", "net", net.now()).has_value());
  net.RunFor(seconds(1));
  auto failures = OfKind(a.TakeEvents(), EventKind::kFailure);
  EXPECT_TRUE(failures.empty());  // the retry is not a failure
  auto ca = Children(a);
  ASSERT_EQ(ca.size(), 1u);
  EXPECT_NE(ca[0].algorithms.find("ECP_256"), std::string::npos) << ca[0].algorithms;
  EXPECT_EQ(ka.sa_count(), 2u);
  EXPECT_EQ(kb.sa_count(), 2u);
}

// ---- F. Notify -----------------------------------------------------------------------------

TEST_F(BadInputTest, F_CookieEmptyOrTooLongIsIgnoredByTheInitiator) {
  ASSERT_TRUE(a_.Initiate("to-b", "net", net_.now()).has_value());
  auto sent = a_.TakeDatagrams();
  ASSERT_EQ(sent.size(), 1u);
  auto req = Decode(sent[0].data);
  for (std::size_t len : {0u, 65u}) {
    Message reply;
    reply.header = Header{
        .spi_i = req->header.spi_i, .exchange = ExchangeType::kIkeSaInit, .flags = kFlagResponse};
    reply.payloads.push_back(MakeNotify(NotifyType::kCookie, Bytes(len, 3)));
    a_.HandleDatagram(
        Datagram{.local = sent[0].local, .remote = sent[0].remote, .data = Encode(reply)},
        net_.now());
    EXPECT_TRUE(a_.TakeDatagrams().empty());
  }
  EXPECT_EQ(a_.ike_sa_count(), 1u);  // still waiting for the real answer
}

TEST_F(BadInputTest, F_UnrequestedCookieIsIgnored) {
  auto peer = Peer();
  Message m = peer.DefaultInit();
  m.payloads.insert(m.payloads.begin(), MakeNotify(NotifyType::kCookie, Bytes(16, 1)));
  auto replies = ManualInitiator::Unprotected(peer.Send(m));
  ASSERT_EQ(replies.size(), 1u);
  EXPECT_NE(replies[0].Find(PayloadType::kSa), nullptr);  // a normal answer
  EXPECT_EQ(b_.half_open_count(), 1u);
}

TEST_F(BadInputTest, F_MangledStaleOrWrongSourceCookieGetsAFreshCookie) {
  EngineConfig cfg;
  cfg.cookie_threshold = 0;
  crypto::SeededRandom r(3);
  xfrm::FakeKernel k;
  Engine b(cfg, r, k);
  ASSERT_TRUE(b.AddPeer(PeerB(), net_.now()).has_value());
  ManualInitiator peer(b, net_.now());
  Message m = peer.DefaultInit();
  auto first = ManualInitiator::Unprotected(peer.Send(m));
  ASSERT_EQ(first.size(), 1u);
  const NotifyPayload* c = first[0].FindNotify(NotifyType::kCookie);
  ASSERT_NE(c, nullptr);
  Bytes cookie = c->data;
  auto with_cookie = [&](Bytes value, Message base) {
    base.payloads.insert(base.payloads.begin(), MakeNotify(NotifyType::kCookie, std::move(value)));
    return base;
  };
  Bytes mangled = cookie;
  mangled.back() ^= 1;
  Message stale = m;  // another nonce: the cookie was made over the first one
  for (auto& p : stale.payloads)
    if (auto* n = std::get_if<NoncePayload>(&p.body)) n->data[0] ^= 0xff;
  ExpectNotifyReply(peer.Send(with_cookie(mangled, m)), NotifyType::kCookie, cookie);
  ExpectNotifyReply(peer.Send(with_cookie(cookie, stale)), NotifyType::kCookie);
  ExpectNotifyReply(peer.Send(with_cookie(cookie, m), Endpoint{Ip("192.0.2.9"), 500}),
                    NotifyType::kCookie);
  EXPECT_EQ(b.ike_sa_count(), 0u);
  // The right cookie from the right source gets through.
  auto ok = ManualInitiator::Unprotected(peer.Send(with_cookie(cookie, m)));
  ASSERT_EQ(ok.size(), 1u);
  EXPECT_NE(ok[0].Find(PayloadType::kSa), nullptr);
  EXPECT_EQ(b.ike_sa_count(), 1u);
}

TEST_F(BadInputTest, F_NatDetectionDataNot20Octets) {
  auto peer = Peer();
  Message m = peer.DefaultInit();
  for (auto& p : m.payloads)
    if (auto* n = std::get_if<NotifyPayload>(&p.body);
        n && n->type == NotifyType::kNatDetectionSourceIp)
      n->data.resize(19);
  ExpectNotifyReply(peer.Send(m), NotifyType::kInvalidSyntax);
  ExpectNoState();
}

TEST_F(BadInputTest, F_RekeySaWithWrongSpiSize) {
  auto peer = Peer();
  ASSERT_TRUE(peer.CompleteAuth());
  std::size_t sas = kernel_b_.sa_count();
  std::vector<Payload> req;
  req.push_back(MakeSpiNotify(NotifyType::kRekeySa, ProtocolId::kEsp, Bytes(8, 1)));
  req.push_back(MakePayload(PayloadType::kSa, OfferEsp({EspGcm()}, 0xc1000002, true)));
  req.push_back(MakePayload(PayloadType::kNonce, NoncePayload{.data = Bytes(32, 4)}));
  req.push_back(MakePayload(PayloadType::kTsi, ToTsPayload(Ts("0.0.0.0/0"))));
  req.push_back(MakePayload(PayloadType::kTsr, ToTsPayload(Ts("0.0.0.0/0"))));
  auto replies = peer.Open(peer.SendBytes(peer.Protected(ExchangeType::kCreateChildSa, 2, req)));
  ASSERT_EQ(replies.size(), 1u);
  // Either the codec (notify SPI size for ESP) or the engine rejects it as INVALID_SYNTAX.
  ASSERT_TRUE(replies[0].has_value());
  EXPECT_NE(FindNotify(*replies[0], NotifyType::kInvalidSyntax), nullptr);
  EXPECT_EQ(kernel_b_.sa_count(), sas);
  EXPECT_EQ(kernel_b_.larval_count(), 0u);
}

TEST_F(BadInputTest, F_UnauthenticatedErrorNotifyIsAHint) {
  ASSERT_TRUE(a_.Initiate("to-b", "net", net_.now()).has_value());
  auto sent = a_.TakeDatagrams();
  auto req = Decode(sent[0].data);
  Message reply;
  reply.header = Header{
      .spi_i = req->header.spi_i, .exchange = ExchangeType::kIkeSaInit, .flags = kFlagResponse};
  reply.payloads.push_back(MakeNotify(NotifyType::kNoProposalChosen));
  a_.HandleDatagram(
      Datagram{.local = sent[0].local, .remote = sent[0].remote, .data = Encode(reply)},
      net_.now());
  EXPECT_EQ(a_.ike_sa_count(), 1u);  // keeps waiting
  // ... and the real responder still completes the exchange.
  a_.HandleTimers(net_.now() + seconds(4));
  net_.Advance(std::chrono::milliseconds(4000));
  net_.RunFor(seconds(2));
  EXPECT_EQ(EstablishedCount(a_), 1u);
}

TEST_F(BadInputTest, F_InitResponseWithSaButWithoutKeIsDropped) {
  // Regression (engine_fuzzer): an unauthenticated response with SA but no KE/Nr.
  ASSERT_TRUE(a_.Initiate("to-b", "net", net_.now()).has_value());
  auto sent = a_.TakeDatagrams();
  auto req = Decode(sent[0].data);
  ASSERT_TRUE(req.has_value());
  Message reply;
  reply.header = Header{.spi_i = req->header.spi_i, .spi_r = 0x99,
                        .exchange = ExchangeType::kIkeSaInit, .flags = kFlagResponse};
  IkeSuite suite{.encr = {crypto::EncrId::kAesGcm16, 256}, .prf = crypto::PrfId::kHmacSha2_256,
                 .dh = crypto::DhGroup::kCurve25519};
  reply.payloads.push_back(MakePayload(PayloadType::kSa, AnswerIke(suite, 1, {})));
  a_.HandleDatagram(
      Datagram{.local = sent[0].local, .remote = sent[0].remote, .data = Encode(reply)},
      net_.now());
  EXPECT_TRUE(a_.TakeDatagrams().empty());
  EXPECT_EQ(a_.ike_sa_count(), 1u);  // still waiting for the real answer
}

// ---- G. ID / AUTH --------------------------------------------------------------------------

class AuthInputTest : public BadInputTest {
 protected:
  // Sends IKE_AUTH built from `payloads` and expects AUTHENTICATION_FAILED and no state.
  void ExpectAuthFailed(ManualInitiator& peer, const std::vector<Payload>& payloads) {
    auto replies = peer.Open(peer.SendBytes(peer.Protected(ExchangeType::kIkeAuth, 1, payloads)));
    ASSERT_EQ(replies.size(), 1u);
    ASSERT_TRUE(replies[0].has_value());
    EXPECT_NE(FindNotify(*replies[0], NotifyType::kAuthenticationFailed), nullptr);
    EXPECT_EQ(FindPayload(*replies[0], PayloadType::kAuth), nullptr);
    ExpectNoState();
  }
};

TEST_F(AuthInputTest, G_IdTypeZeroOrUnknown) {
  for (auto type : {0, 200}) {
    auto peer = Peer();
    ASSERT_TRUE(peer.CompleteInit());
    IdPayload id = ManualInitiator::DefaultId();
    id.id_type = static_cast<IdType>(type);
    auto replies =
        peer.Open(peer.SendBytes(peer.Protected(ExchangeType::kIkeAuth, 1, peer.AuthPayloads(id))));
    ASSERT_EQ(replies.size(), 1u);
    ASSERT_TRUE(replies[0].has_value());
    bool refused = FindNotify(*replies[0], NotifyType::kAuthenticationFailed) ||
                   FindNotify(*replies[0], NotifyType::kInvalidSyntax);
    EXPECT_TRUE(refused);
    ExpectNoState();
  }
}

TEST_F(AuthInputTest, G_IdEmptyLongOrWithNul) {
  for (Bytes data : {Bytes{}, Bytes(4000, 'x'), Bytes{'a', 0, '.', 't', 'e', 's', 't'}}) {
    auto peer = Peer();
    ASSERT_TRUE(peer.CompleteInit());
    IdPayload id{.id_type = IdType::kFqdn, .data = data};
    ExpectAuthFailed(peer, peer.AuthPayloads(id));
  }
}

TEST_F(AuthInputTest, G_AuthMethodOtherThanPsk) {
  auto peer = Peer();
  ASSERT_TRUE(peer.CompleteInit());
  auto payloads = peer.AuthPayloads(ManualInitiator::DefaultId());
  std::get<AuthPayload>(payloads[1].body).method = AuthMethod::kRsaSig;
  ExpectAuthFailed(peer, payloads);
}

TEST_F(AuthInputTest, G_WrongShortOrLongAuthData) {
  for (int variant = 0; variant < 3; ++variant) {
    auto peer = Peer();
    ASSERT_TRUE(peer.CompleteInit());
    auto payloads = peer.AuthPayloads(ManualInitiator::DefaultId());
    Bytes& data = std::get<AuthPayload>(payloads[1].body).data;
    if (variant == 0) data[0] ^= 1;
    if (variant == 1) data.resize(16);
    if (variant == 2) data.push_back(0);
    ExpectAuthFailed(peer, payloads);
  }
}

TEST_F(AuthInputTest, G_WrongPsk) {
  auto peer = Peer();
  ASSERT_TRUE(peer.CompleteInit());
  ExpectAuthFailed(peer, peer.AuthPayloads(ManualInitiator::DefaultId(), "guess"));
}

TEST_F(AuthInputTest, G_NoPskForThePeer) {
  crypto::SeededRandom r(3);
  xfrm::FakeKernel k;
  Engine b(EngineConfig{}, r, k);
  PeerConfig pb = PeerB();
  pb.psk = SecretBytes();
  ASSERT_TRUE(b.AddPeer(std::move(pb), net_.now()).has_value());
  ManualInitiator peer(b, net_.now());
  ASSERT_TRUE(peer.CompleteInit());
  auto replies = peer.Open(peer.SendBytes(peer.Protected(
      ExchangeType::kIkeAuth, 1, peer.AuthPayloads(ManualInitiator::DefaultId(), ""))));
  ASSERT_EQ(replies.size(), 1u);
  ASSERT_TRUE(replies[0].has_value());
  EXPECT_NE(FindNotify(*replies[0], NotifyType::kAuthenticationFailed), nullptr);
  EXPECT_EQ(b.ike_sa_count(), 0u);
  EXPECT_TRUE(k.empty());
}

TEST_F(AuthInputTest, G_CertAndCertReqAreIgnored) {
  auto peer = Peer();
  ASSERT_TRUE(peer.CompleteInit());
  auto payloads = peer.AuthPayloads(ManualInitiator::DefaultId());
  payloads.insert(
      payloads.begin() + 1,
      MakePayload(PayloadType::kCert, CertPayload{.encoding = 4, .data = Bytes(40, 1)}));
  payloads.insert(
      payloads.begin() + 1,
      MakePayload(PayloadType::kCertReq, CertPayload{.encoding = 4, .data = Bytes(20, 2)}));
  auto replies = peer.Open(peer.SendBytes(peer.Protected(ExchangeType::kIkeAuth, 1, payloads)));
  ASSERT_EQ(replies.size(), 1u);
  ASSERT_TRUE(replies[0].has_value());
  EXPECT_NE(FindPayload(*replies[0], PayloadType::kAuth), nullptr);
  EXPECT_EQ(EstablishedCount(b_), 1u);
}

// ---- J. SK payload -------------------------------------------------------------------------

TEST_F(BadInputTest, J_BadIcvDroppedSilentlySaKept) {
  auto peer = Peer();
  ASSERT_TRUE(peer.CompleteInit());
  Bytes good =
      peer.Protected(ExchangeType::kIkeAuth, 1, peer.AuthPayloads(ManualInitiator::DefaultId()));
  Bytes bad = good;
  bad.back() ^= 0x80;
  EXPECT_TRUE(peer.SendBytes(bad).empty());
  EXPECT_EQ(b_.half_open_count(), 1u);
  EXPECT_TRUE(kernel_b_.empty());
  // The same message ID still works afterwards, with the keys of the first exchange.
  auto replies = peer.Open(peer.SendBytes(good));
  ASSERT_EQ(replies.size(), 1u);
  ASSERT_TRUE(replies[0].has_value());
  EXPECT_EQ(EstablishedCount(b_), 1u);
}

TEST_F(BadInputTest, J_TruncatedOrEmptySkBody) {
  auto peer = Peer();
  ASSERT_TRUE(peer.CompleteInit());
  for (std::size_t body : {0u, 5u, 23u}) {
    Message m;
    m.header = Header{.spi_i = peer.spi_i,
                      .spi_r = peer.spi_r,
                      .exchange = ExchangeType::kIkeAuth,
                      .flags = kFlagInitiator,
                      .message_id = 1};
    SkPayload sk;
    sk.first_inner = PayloadType::kIdi;
    sk.body = Bytes(body, 0x5a);
    m.payloads.push_back(MakePayload(PayloadType::kSk, sk));
    EXPECT_TRUE(peer.Send(m).empty()) << body;
  }
  EXPECT_EQ(b_.half_open_count(), 1u);
  EXPECT_TRUE(kernel_b_.empty());
}

TEST_F(BadInputTest, J_EncryptedExchangeBeforeKeysExist) {
  auto peer = Peer();
  peer.spi_r = 0x1234;
  ASSERT_TRUE(peer.CompleteInit());  // gets keys for the real SA
  peer.spi_r = 0x1234;               // but talks to an SA that does not exist
  auto replies = peer.SendBytes(
      peer.Protected(ExchangeType::kIkeAuth, 1, peer.AuthPayloads(ManualInitiator::DefaultId())));
  ExpectNotifyReply(replies, NotifyType::kInvalidIkeSpi);
  EXPECT_EQ(b_.half_open_count(), 1u);  // only the real half-open SA
  EXPECT_TRUE(kernel_b_.empty());
}

// ---- K. Exchanges and message IDs ----------------------------------------------------------

TEST_F(BadInputTest, K_IkeAuthBeforeIkeSaInit) {
  Message m;
  m.header = Header{.spi_i = 0x77,
                    .spi_r = 0x88,
                    .exchange = ExchangeType::kIkeAuth,
                    .flags = kFlagInitiator,
                    .message_id = 1};
  SkPayload sk;
  sk.first_inner = PayloadType::kIdi;
  sk.body = Bytes(64, 1);
  m.payloads.push_back(MakePayload(PayloadType::kSk, sk));
  auto peer = Peer();
  ExpectNotifyReply(peer.Send(m), NotifyType::kInvalidIkeSpi);
  ExpectNoState();
}

TEST_F(BadInputTest, K_CreateChildSaBeforeIkeAuth) {
  auto peer = Peer();
  ASSERT_TRUE(peer.CompleteInit());
  std::vector<Payload> req;
  req.push_back(MakePayload(PayloadType::kSa, OfferEsp({EspGcm()}, 0xc1000002, true)));
  req.push_back(MakePayload(PayloadType::kNonce, NoncePayload{.data = Bytes(32, 4)}));
  req.push_back(MakePayload(PayloadType::kTsi, ToTsPayload(Ts("0.0.0.0/0"))));
  req.push_back(MakePayload(PayloadType::kTsr, ToTsPayload(Ts("0.0.0.0/0"))));
  EXPECT_TRUE(peer.SendBytes(peer.Protected(ExchangeType::kCreateChildSa, 1, req)).empty());
  EXPECT_EQ(EstablishedCount(b_), 0u);
  EXPECT_TRUE(kernel_b_.empty());
}

TEST_F(BadInputTest, K_RetransmittedRequestGetsCachedResponseAndCreatesNothing) {
  auto peer = Peer();
  ASSERT_TRUE(peer.CompleteAuth());
  Bytes dpd = peer.Protected(ExchangeType::kInformational, 2, {});
  auto first = peer.SendBytes(dpd);
  auto calls = kernel_b_.call_count();
  auto second = peer.SendBytes(dpd);
  ASSERT_EQ(first.size(), 1u);
  ASSERT_EQ(second.size(), 1u);
  EXPECT_EQ(first[0].data, second[0].data);
  EXPECT_EQ(kernel_b_.call_count(), calls);
}

TEST_F(BadInputTest, K_MessageIdsOutsideTheWindowAreIgnored) {
  auto peer = Peer();
  ASSERT_TRUE(peer.CompleteAuth());
  for (std::uint32_t mid : {0u, 5u, 0x7fffffffu, 0xffffffffu})
    EXPECT_TRUE(peer.SendBytes(peer.Protected(ExchangeType::kInformational, mid, {})).empty())
        << mid;
  // The window is intact: message ID 2 is still answered.
  EXPECT_EQ(peer.SendBytes(peer.Protected(ExchangeType::kInformational, 2, {})).size(), 1u);
}

// RFC 7296 2.2: message IDs never wrap. The peer's request with ID 2^32-1 is answered; after it
// the peer can send no request on this SA, so nothing more is accepted (not even a "wrapped"
// ID 0) and we replace the SA with an IKE rekey at once.
TEST_F(BadInputTest, K_AfterThePeersLastMessageIdWeRekeyAndAcceptNoRequest) {
  auto peer = Peer();
  ASSERT_TRUE(peer.CompleteAuth());
  b_.SetMessageIdsForTesting(b_.ListSas(TimePoint{})[0].serial, 0, 0xffffffffu);
  auto replies = peer.SendBytes(peer.Protected(ExchangeType::kInformational, 0xffffffffu, {}));
  ASSERT_EQ(replies.size(), 2u);
  auto answer = Decode(replies[0].data);
  auto rekey = Decode(replies[1].data);
  ASSERT_TRUE(answer && rekey);
  EXPECT_TRUE(answer->header.is_response());
  EXPECT_EQ(answer->header.message_id, 0xffffffffu);
  EXPECT_FALSE(rekey->header.is_response());
  EXPECT_EQ(rekey->header.exchange, ExchangeType::kCreateChildSa);
  auto inner = peer.Open({replies[1]});
  ASSERT_TRUE(inner[0].has_value());
  const auto* sa = FindBody<SaPayload>(*inner[0], PayloadType::kSa);
  ASSERT_NE(sa, nullptr);
  EXPECT_EQ(sa->proposals[0].protocol, ProtocolId::kIke) << "an IKE rekey";
  for (std::uint32_t mid : {0u, 1u, 0xffffffffu - 1}) {
    EXPECT_TRUE(peer.SendBytes(peer.Protected(ExchangeType::kInformational, mid, {})).empty())
        << "request " << mid;
  }
}

TEST_F(BadInputTest, K_UnsolicitedResponseIsIgnored) {
  auto peer = Peer();
  ASSERT_TRUE(peer.CompleteAuth());
  auto replies = peer.SendBytes(
      peer.Protected(ExchangeType::kInformational, 0, {}, kFlagInitiator | kFlagResponse));
  EXPECT_TRUE(replies.empty());
  EXPECT_EQ(EstablishedCount(b_), 1u);
}

TEST_F(BadInputTest, K_RekeyOfUnknownChildGetsChildSaNotFound) {
  auto peer = Peer();
  ASSERT_TRUE(peer.CompleteAuth());
  std::size_t sas = kernel_b_.sa_count();
  std::vector<Payload> req;
  req.push_back(
      MakeSpiNotify(NotifyType::kRekeySa, ProtocolId::kEsp, Bytes{0xde, 0xad, 0xbe, 0xef}));
  req.push_back(MakePayload(PayloadType::kSa, OfferEsp({EspGcm()}, 0xc1000002, true)));
  req.push_back(MakePayload(PayloadType::kNonce, NoncePayload{.data = Bytes(32, 4)}));
  req.push_back(MakePayload(PayloadType::kTsi, ToTsPayload(Ts("0.0.0.0/0"))));
  req.push_back(MakePayload(PayloadType::kTsr, ToTsPayload(Ts("0.0.0.0/0"))));
  ExpectProtectedNotify(
      peer.Open(peer.SendBytes(peer.Protected(ExchangeType::kCreateChildSa, 2, req))),
      NotifyType::kChildSaNotFound);
  EXPECT_EQ(kernel_b_.sa_count(), sas);
}

TEST_F(BadInputTest, K_RekeyOfChildBeingDeletedGetsTemporaryFailure) {
  auto peer = Peer();
  ASSERT_TRUE(peer.CompleteAuth());
  auto child = Children(b_).at(0);
  ASSERT_TRUE(b_.Terminate("to-a", "net", net_.now()).has_value());  // B's DELETE is in flight
  b_.TakeDatagrams();
  std::vector<Payload> req;
  req.push_back(MakeSpiNotify(NotifyType::kRekeySa, ProtocolId::kEsp, SpiBytes32(child.spi_out)));
  req.push_back(MakePayload(PayloadType::kSa, OfferEsp({EspGcm()}, 0xc1000002, true)));
  req.push_back(MakePayload(PayloadType::kNonce, NoncePayload{.data = Bytes(32, 4)}));
  req.push_back(MakePayload(PayloadType::kTsi, ToTsPayload(Ts("0.0.0.0/0"))));
  req.push_back(MakePayload(PayloadType::kTsr, ToTsPayload(Ts("0.0.0.0/0"))));
  ExpectProtectedNotify(
      peer.Open(peer.SendBytes(peer.Protected(ExchangeType::kCreateChildSa, 2, req))),
      NotifyType::kTemporaryFailure);
  EXPECT_EQ(kernel_b_.sa_count(), 2u);
}

// ---- M. Volume -----------------------------------------------------------------------------

// A responder whose config accepts any source, as a road-warrior gateway's does.
struct WildcardResponder {
  WildcardResponder(PeerConfig peer, TimePoint now) : engine(EngineConfig{}, random, kernel) {
    peer.remote_address = xfrm::IpAddress{};
    EXPECT_TRUE(engine.AddPeer(std::move(peer), now).has_value());
  }
  crypto::SeededRandom random{3};
  xfrm::FakeKernel kernel;
  Engine engine;
};

TEST_F(BadInputTest, M_SpoofedInitFloodSwitchesToCookies) {
  WildcardResponder any(PeerB(), net_.now());
  Engine& b = any.engine;
  std::size_t cookies = 0, answers = 0;
  for (std::uint32_t i = 0; i < 100; ++i) {
    Endpoint from{xfrm::IpAddress::V4(0x0a000000 + i), 500};
    ManualInitiator peer(b, net_.now(), 100 + i, from);
    auto replies = ManualInitiator::Unprotected(peer.Send(peer.DefaultInit(), from));
    ASSERT_EQ(replies.size(), 1u);  // never more than one answer per request
    if (replies[0].FindNotify(NotifyType::kCookie)) ++cookies;
    if (replies[0].Find(PayloadType::kSa)) ++answers;
  }
  EXPECT_EQ(answers, b.config().cookie_threshold);
  EXPECT_EQ(cookies, 100 - b.config().cookie_threshold);
  EXPECT_EQ(b.half_open_count(), b.config().cookie_threshold);
  EXPECT_TRUE(any.kernel.empty());
}

// Issue 22: once the threshold was reached, COOKIE stays on until it was not reached for 10 s
// (charon's COOKIE_CALMDOWN_DELAY). Without it, a flood whose half-open SAs all time out at once
// switches cookies off for a moment: a legitimate initiator then may get answers with and without
// COOKIE to retransmissions of one request, and the flood gets a fresh batch of half-open SAs.
TEST_F(BadInputTest, M_CookiesStayOnTenSecondsAfterTheThreshold) {
  WildcardResponder any(PeerB(), net_.now());
  Engine& b = any.engine;
  const auto init_from = [&b](std::uint32_t i, TimePoint at) {
    Endpoint from{xfrm::IpAddress::V4(0x0a000000 + i), 500};
    ManualInitiator peer(b, at, 100 + i, from);
    auto replies = ManualInitiator::Unprotected(peer.Send(peer.DefaultInit(), from));
    EXPECT_EQ(replies.size(), 1u);
    return !replies.empty() && replies[0].FindNotify(NotifyType::kCookie) != nullptr;
  };
  const TimePoint start = net_.now();
  for (std::uint32_t i = 0; i < b.config().cookie_threshold; ++i) (void)init_from(i, start);
  // The flood goes on: the threshold is reached with every request until the SAs time out.
  const TimePoint last = start + b.config().half_open_timeout - seconds(1);
  EXPECT_TRUE(init_from(500, last)) << "threshold reached";
  const TimePoint expired = start + b.config().half_open_timeout + seconds(1);
  b.HandleTimers(expired);
  EXPECT_EQ(b.half_open_count(), 0u);
  EXPECT_TRUE(init_from(501, expired)) << "cookies switched off the moment the SAs timed out";
  EXPECT_TRUE(init_from(502, last + seconds(9)));
  // 10 s after the threshold was last reached, a request gets an answer without a cookie.
  EXPECT_FALSE(init_from(503, last + seconds(10)));
}

// Issue 18 (M): IKE_SA_INIT requests that fail after the key exchange (here the all-zero X25519
// value, RFC 7748 6.1) cost a key generation each but created no half-open SA, so COOKIE never
// switched on. Now each counts toward cookie_threshold for half_open_timeout.
TEST_F(BadInputTest, M_InitFailuresAfterTheKeyExchangeSwitchOnCookies) {
  crypto::SeededRandom r(3);
  xfrm::FakeKernel k;
  EngineConfig config;
  config.init_errors_per_second = 1000;  // this test counts cookies, not the answer budget
  Engine b(config, r, k);
  PeerConfig any = PeerB();
  any.remote_address = xfrm::IpAddress{};
  ASSERT_TRUE(b.AddPeer(std::move(any), net_.now()).has_value());
  for (std::uint32_t i = 0; i < config.cookie_threshold; ++i) {
    Endpoint from{xfrm::IpAddress::V4(0x0a000000 + i), 500};
    ManualInitiator peer(b, net_.now(), 100 + i, from);
    Message m = peer.DefaultInit();
    std::get<KePayload>(m.payloads[1].body).data.assign(32, 0);  // the all-zero point
    auto replies = ManualInitiator::Unprotected(peer.Send(m, from));
    ASSERT_EQ(replies.size(), 1u);
    EXPECT_TRUE(replies[0].FindNotify(NotifyType::kNoProposalChosen)) << i;
  }
  EXPECT_EQ(b.half_open_count(), 0u);
  Endpoint fresh{xfrm::IpAddress::V4(0x0b000001), 500};
  ManualInitiator legit(b, net_.now(), 7, fresh);
  auto replies = ManualInitiator::Unprotected(legit.Send(legit.DefaultInit(), fresh));
  ASSERT_EQ(replies.size(), 1u);
  EXPECT_TRUE(replies[0].FindNotify(NotifyType::kCookie)) << "COOKIE must be on after the failures";
  // They age out with half_open_timeout: then a request is answered without a cookie again.
  ManualInitiator later(b, net_.now() + config.half_open_timeout, 8, fresh);
  replies = ManualInitiator::Unprotected(later.Send(later.DefaultInit(), fresh));
  ASSERT_EQ(replies.size(), 1u);
  EXPECT_TRUE(replies[0].Find(PayloadType::kSa));
}

// Issue 18 (M): unprotected error answers were sent for every bad IKE_SA_INIT.
TEST_F(BadInputTest, M_ErrorAnswersToInitAreRateLimited) {
  std::size_t answers = 0;
  for (std::uint32_t i = 0; i < 100; ++i) {
    Endpoint from{xfrm::IpAddress::V4(0x0a000000 + i), 500};
    ManualInitiator peer(b_, net_.now(), 300 + i, from);
    Message m = peer.DefaultInit();
    m.payloads.erase(m.payloads.begin() + 2);  // no nonce: INVALID_SYNTAX
    answers += peer.Send(m, from).size();
  }
  EXPECT_EQ(answers, b_.config().init_errors_per_second);
  ManualInitiator next(b_, net_.now() + seconds(1), 999, {xfrm::IpAddress::V4(0x0c000001), 500});
  Message m = next.DefaultInit();
  m.payloads.erase(m.payloads.begin() + 2);
  EXPECT_EQ(next.Send(m, Endpoint{xfrm::IpAddress::V4(0x0c000001), 500}).size(), 1u)
      << "a new second, a new budget";
}

// Issue 18 (M): half-open SAs were counted per /128, so one IPv6 /64 (one host) was unlimited.
TEST_F(BadInputTest, M_OneIpv6Slash64IsOneSource) {
  crypto::SeededRandom r(3);
  xfrm::FakeKernel k;
  Engine b(EngineConfig{}, r, k);
  PeerConfig any = PeerB();
  any.local_address = xfrm::IpAddress{};
  any.remote_address = xfrm::IpAddress{};
  ASSERT_TRUE(b.AddPeer(std::move(any), net_.now()).has_value());
  std::size_t created = 0, cookies = 0, silent = 0;
  for (int i = 1; i <= 8; ++i) {
    Endpoint from{*xfrm::IpAddress::Parse("2001:db8:0:1::" + std::to_string(i)), 500};
    ManualInitiator peer(b, net_.now(), 400 + static_cast<std::uint64_t>(i), from,
                         Endpoint{*xfrm::IpAddress::Parse("2001:db8::2"), 500});
    Message m = peer.DefaultInit();
    auto replies = ManualInitiator::Unprotected(peer.Send(m, from));
    if (replies.size() == 1 && replies[0].FindNotify(NotifyType::kCookie)) {
      ++cookies;
      m.payloads.insert(
          m.payloads.begin(),
          MakeNotify(NotifyType::kCookie, replies[0].FindNotify(NotifyType::kCookie)->data));
      replies = ManualInitiator::Unprotected(peer.Send(m, from));
    }
    if (replies.empty())
      ++silent;
    else if (replies[0].Find(PayloadType::kSa))
      ++created;
  }
  // The same as from one IPv4 address (M_PerSourceCookieThenBlock).
  EXPECT_EQ(created, 5u);
  EXPECT_EQ(cookies, 2u);
  EXPECT_EQ(silent, 3u);
}

// Issue 18 (M): no global cap on half-open SAs (charon's init_limit_half_open).
TEST_F(BadInputTest, M_GlobalHalfOpenLimit) {
  crypto::SeededRandom r(3);
  xfrm::FakeKernel k;
  EngineConfig config;
  config.init_limit_half_open = 40;
  Engine b(config, r, k);
  PeerConfig any = PeerB();
  any.remote_address = xfrm::IpAddress{};
  ASSERT_TRUE(b.AddPeer(std::move(any), net_.now()).has_value());
  std::size_t created = 0;
  for (std::uint32_t i = 0; i < 60; ++i) {  // each source answers its cookie
    Endpoint from{xfrm::IpAddress::V4(0x0a000000 + i), 500};
    ManualInitiator peer(b, net_.now(), 500 + i, from);
    Message m = peer.DefaultInit();
    auto replies = ManualInitiator::Unprotected(peer.Send(m, from));
    if (replies.size() == 1 && replies[0].FindNotify(NotifyType::kCookie)) {
      m.payloads.insert(
          m.payloads.begin(),
          MakeNotify(NotifyType::kCookie, replies[0].FindNotify(NotifyType::kCookie)->data));
      replies = ManualInitiator::Unprotected(peer.Send(m, from));
    }
    if (replies.size() == 1 && replies[0].Find(PayloadType::kSa)) ++created;
  }
  EXPECT_EQ(created, 40u);
  EXPECT_EQ(b.half_open_count(), 40u);
}

// Issue 18 (M): the COOKIE secret was made once and never changed (2.6 asks for a periodic
// change with a version). A cookie is good for the current and the previous secret only.
TEST_F(BadInputTest, M_CookieSecretRotatesWithAVersion) {
  crypto::SeededRandom r(3);
  xfrm::FakeKernel k;
  EngineConfig config;
  config.cookie_threshold = 0;  // every request needs a cookie
  Engine b(config, r, k);
  ASSERT_TRUE(b.AddPeer(PeerB(), net_.now()).has_value());
  // "SA" (accepted), "COOKIE" (+ the cookie in *cookie_out) or "" (dropped).
  auto send = [&](TimePoint at, std::uint64_t seed, const Bytes& cookie, Bytes* cookie_out) {
    b.HandleTimers(at);  // half-open SAs of earlier steps time out (30 s)
    ManualInitiator peer(b, at, seed);
    Message m = peer.DefaultInit();
    if (!cookie.empty())
      m.payloads.insert(m.payloads.begin(), MakeNotify(NotifyType::kCookie, cookie));
    auto replies = ManualInitiator::Unprotected(peer.Send(m));
    if (replies.empty()) return std::string();
    if (replies[0].Find(PayloadType::kSa)) return std::string("SA");
    const NotifyPayload* n = replies[0].FindNotify(NotifyType::kCookie);
    if (n && cookie_out) *cookie_out = n->data;
    return std::string(n ? "COOKIE" : "other");
  };
  const TimePoint t0 = net_.now();
  Bytes cookie, second, refused;
  ASSERT_EQ(send(t0, 11, {}, &cookie), "COOKIE");
  ASSERT_EQ(cookie.size(), 24u);  // 4-octet version + SHA-1
  EXPECT_EQ(send(t0 + seconds(29), 11, cookie, nullptr), "SA") << "the same secret";
  EXPECT_EQ(send(t0 + seconds(61), 12, {}, &second), "COOKIE");  // the secret changes here
  EXPECT_NE(Bytes(second.begin(), second.begin() + 4), Bytes(cookie.begin(), cookie.begin() + 4))
      << "a new secret, a new version";
  EXPECT_EQ(send(t0 + seconds(62), 11, cookie, nullptr), "SA") << "the previous secret";
  EXPECT_EQ(send(t0 + seconds(125), 11, cookie, &refused), "COOKIE")
      << "two changes later the old cookie is refused";
  EXPECT_NE(refused, cookie);
}

// Issue 18: Ni == Nr was never checked. A response carrying our own nonce back is dropped (it is
// unauthenticated), and the genuine response still completes the exchange; a reflected copy of
// our own IKE_SA_INIT request is not answered.
TEST_F(BadInputTest, ReflectedNoncesAndRequestsAreDropped) {
  ASSERT_TRUE(a_.Initiate("to-b", "net", net_.now()).has_value());
  net_.CollectReliable();
  ASSERT_EQ(net_.pending(), 1u);
  const Datagram request = net_.in_flight()[0].datagram;
  // The request reflected to its sender, as if B had sent it (A receives it on its own address).
  a_.HandleDatagram(Datagram{request.local, request.remote, request.data}, net_.now());
  EXPECT_TRUE(a_.TakeDatagrams().empty()) << "a reflected request must not be answered";
  EXPECT_EQ(a_.half_open_count(), 0u);
  net_.Deliver(0);  // to B
  net_.CollectReliable();
  ASSERT_EQ(net_.pending(), 1u);
  Datagram response = net_.in_flight()[0].datagram;
  auto decoded = Decode(response.data);
  ASSERT_TRUE(decoded);
  auto request_decoded = Decode(request.data);
  Message forged = *decoded;
  for (auto& p : forged.payloads)
    if (auto* n = std::get_if<NoncePayload>(&p.body))
      n->data = std::get<NoncePayload>(request_decoded->payloads[2].body).data;
  a_.HandleDatagram(Datagram{response.remote, response.local, Encode(forged)}, net_.now());
  EXPECT_TRUE(a_.TakeDatagrams().empty()) << "Nr == Ni: no IKE_AUTH on that";
  net_.Deliver(0);  // the genuine response
  net_.RunFor(seconds(1));
  EXPECT_EQ(EstablishedCount(a_), 1u);
}

// Issue 18 (L): datagrams up to 64 KiB were accepted and fragment buffers had no bound beyond
// 64 fragments per message and SA. Now max_packet bounds datagrams and reassembled messages, and
// fragment_bytes_limit the plaintext held for all SAs together.
TEST_F(BadInputTest, L_DatagramsAboveMaxPacketAreDropped) {
  Bytes big(b_.config().max_packet + 1, 0);
  b_.HandleDatagram(Datagram{{Ip("192.0.2.2"), 500}, {Ip("192.0.2.1"), 500}, big}, net_.now());
  EXPECT_TRUE(b_.TakeDatagrams().empty());
  auto dropped = OfKind(b_.TakeEvents(), EventKind::kDropped);
  ASSERT_EQ(dropped.size(), 1u);
  EXPECT_NE(dropped[0].text.find("max_packet"), std::string::npos) << dropped[0].text;
}

TEST_F(BadInputTest, L_FragmentBudgetsBoundWhatIsHeld) {
  struct Case {
    std::size_t max_packet, fragment_bytes_limit;
    bool establishes;
  };
  // IKE_SA_INIT travels in 208-octet datagrams, IKE_AUTH in three fragments of 122, 122 and 111
  // octets (about 70 octets of plaintext each).
  for (const Case c :
       {Case{10000, 4u << 20, true}, Case{10000, 200, false}, Case{220, 4u << 20, false}}) {
    SCOPED_TRACE(std::to_string(c.max_packet) + "/" + std::to_string(c.fragment_bytes_limit));
    crypto::SeededRandom ra(1), rb(2);
    xfrm::FakeKernel ka, kb;
    EngineConfig small;
    small.fragment_size = 150;  // IKE_AUTH goes in several fragments
    EngineConfig bounded;
    bounded.max_packet = c.max_packet;
    bounded.fragment_bytes_limit = c.fragment_bytes_limit;
    Engine a(small, ra, ka), b(bounded, rb, kb);
    SimNetwork net;
    net.Attach(Ip("192.0.2.1"), &a);
    net.Attach(Ip("192.0.2.2"), &b);
    ASSERT_TRUE(a.AddPeer(PeerA(), net.now()).has_value());
    ASSERT_TRUE(b.AddPeer(PeerB(), net.now()).has_value());
    ASSERT_TRUE(a.Initiate("to-b", "net", net.now()).has_value());
    net.RunFor(seconds(30));
    EXPECT_EQ(EstablishedCount(b), c.establishes ? 1u : 0u);
    if (!c.establishes) {
      bool budget_named = false;
      for (const auto& e : OfKind(b.TakeEvents(), EventKind::kDropped))
        budget_named = budget_named || e.text.find("fragment buffers of all SAs full") != std::string::npos ||
                       e.text.find("larger than max_packet") != std::string::npos;
      EXPECT_TRUE(budget_named);
    }
  }
}

TEST_F(BadInputTest, M_PerSourceCookieThenBlock) {
  std::size_t created = 0, cookies = 0, silent = 0;
  for (int i = 0; i < 8; ++i) {
    ManualInitiator peer(b_, net_.now(), 200 + static_cast<std::uint64_t>(i));
    Message m = peer.DefaultInit();
    auto replies = ManualInitiator::Unprotected(peer.Send(m));
    if (replies.size() == 1 && replies[0].FindNotify(NotifyType::kCookie)) {
      ++cookies;
      m.payloads.insert(
          m.payloads.begin(),
          MakeNotify(NotifyType::kCookie, replies[0].FindNotify(NotifyType::kCookie)->data));
      replies = ManualInitiator::Unprotected(peer.Send(m));
    }
    if (replies.empty())
      ++silent;
    else if (replies[0].Find(PayloadType::kSa))
      ++created;
  }
  // 3 half-open SAs freely, then with cookies up to 5, then silence (charon's limits).
  EXPECT_EQ(created, 5u);
  EXPECT_EQ(cookies, 2u);
  EXPECT_EQ(silent, 3u);
  EXPECT_EQ(b_.half_open_count(), 5u);
}

// The per-IP half-open count is per source address and drops when half-open SAs time out.
TEST_F(BadInputTest, M_HalfOpenBlockIsPerSourceAndFreedOnTimeout) {
  crypto::SeededRandom r(5);
  xfrm::FakeKernel k;
  EngineConfig config;
  config.cookie_threshold_ip = 100;  // no cookies: the per-IP block alone
  Engine b(config, r, k);
  PeerConfig any = PeerB();
  any.remote_address = xfrm::IpAddress{};
  ASSERT_TRUE(b.AddPeer(std::move(any), net_.now()).has_value());
  auto init_from = [&](std::uint32_t ip, std::uint64_t seed, TimePoint now) {
    Endpoint from{xfrm::IpAddress::V4(ip), 500};
    ManualInitiator peer(b, now, seed, from);
    auto replies = ManualInitiator::Unprotected(peer.Send(peer.DefaultInit(), from));
    return !replies.empty() && replies[0].Find(PayloadType::kSa) != nullptr;
  };
  const TimePoint t0 = net_.now();
  const std::size_t block = b.config().block_threshold_ip;
  for (std::size_t i = 0; i < block; ++i) EXPECT_TRUE(init_from(0x0a000001, 300 + i, t0)) << i;
  EXPECT_FALSE(init_from(0x0a000001, 400, t0));  // blocked: no answer, no state
  EXPECT_TRUE(init_from(0x0a000002, 401, t0));   // another source is not blocked
  EXPECT_EQ(b.half_open_count(), block + 1);
  const TimePoint t1 = t0 + b.config().half_open_timeout + std::chrono::seconds(1);
  b.HandleTimers(t1);
  EXPECT_EQ(b.half_open_count(), 0u);
  EXPECT_TRUE(init_from(0x0a000001, 402, t1));  // the source may start again
  EXPECT_EQ(b.half_open_count(), 1u);
}

TEST_F(BadInputTest, M_BogusIkeAuthFloodIsNotAnswered) {
  auto peer = Peer();
  ASSERT_TRUE(peer.CompleteInit());
  crypto::SeededRandom junk(77);
  std::size_t replies = 0;
  for (int i = 0; i < 200; ++i) {
    Message m;
    m.header = Header{.spi_i = peer.spi_i,
                      .spi_r = peer.spi_r,
                      .exchange = ExchangeType::kIkeAuth,
                      .flags = kFlagInitiator,
                      .message_id = 1};
    SkPayload sk;
    sk.first_inner = PayloadType::kIdi;
    sk.body.resize(80 + static_cast<std::size_t>(i));
    junk.Fill(sk.body);
    m.payloads.push_back(MakePayload(PayloadType::kSk, sk));
    replies += peer.Send(m).size();
  }
  EXPECT_EQ(replies, 0u);
  EXPECT_EQ(b_.half_open_count(), 1u);
  // The real IKE_AUTH still goes through afterwards.
  auto ok = peer.Open(peer.SendBytes(
      peer.Protected(ExchangeType::kIkeAuth, 1, peer.AuthPayloads(ManualInitiator::DefaultId()))));
  ASSERT_EQ(ok.size(), 1u);
  EXPECT_EQ(EstablishedCount(b_), 1u);
}

TEST_F(BadInputTest, M_OneResponsePerRequest) {
  auto peer = Peer();
  Bytes init = Encode(peer.DefaultInit());
  std::set<Bytes> distinct;
  for (int i = 0; i < 10; ++i) {
    auto replies = peer.SendBytes(init);
    ASSERT_EQ(replies.size(), 1u);
    distinct.insert(replies[0].data);
  }
  EXPECT_EQ(distinct.size(), 1u);  // the cached response, byte for byte
  EXPECT_EQ(b_.half_open_count(), 1u);
}

// The lab's flood (interop/scenarios/flood.sh) replays one captured IKE_SA_INIT 1,000 times a
// second from one spoofed source: each copy matched the half-open SA it had made and got the
// cached 160-octet response, 10,000 reflected datagrams in 60 s. A real initiator retransmits a
// few times (charon: 5); copies beyond max_cached_resends are dropped, and so are replays of a
// captured protected request (the SA's peer would otherwise receive one response per copy).
TEST_F(BadInputTest, M_ReplayedRequestsGetABoundedNumberOfCachedResponses) {
  auto peer = Peer();
  ASSERT_TRUE(peer.CompleteInit());  // the first answer
  std::size_t replies = 1;
  for (int i = 0; i < 1000; ++i) replies += peer.SendBytes(peer.init_request).size();
  EXPECT_EQ(replies, 1u + b_.config().max_cached_resends);
  EXPECT_EQ(b_.half_open_count(), 1u);

  // The same bound for a protected request of an established SA (IKE_AUTH here).
  Bytes auth =
      peer.Protected(ExchangeType::kIkeAuth, 1, peer.AuthPayloads(ManualInitiator::DefaultId()));
  replies = 0;
  for (int i = 0; i < 1000; ++i) replies += peer.SendBytes(auth).size();
  EXPECT_EQ(replies, 1u + b_.config().max_cached_resends);
  EXPECT_EQ(EstablishedCount(b_), 1u);
  // A new request still gets its answer (a fresh budget per cached response).
  auto dpd = peer.SendBytes(peer.Protected(ExchangeType::kInformational, 2, {}));
  EXPECT_EQ(dpd.size(), 1u);
}

}  // namespace
}  // namespace minivpn::ike::test
