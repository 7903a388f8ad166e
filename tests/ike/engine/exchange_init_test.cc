// IKE_SA_INIT round trips: INVALID_KE_PAYLOAD, COOKIE, COOKIE then INVALID_KE, NAT detection,
// and RFC 7383 fragmentation of IKE_AUTH.
#include "ike/wire/codec.h"
#include "tests/ike/engine/engine_test_util.h"

namespace minivpn::ike::test {
namespace {

using std::chrono::seconds;

class InitTest : public TwoPeers {
 protected:
  Message DecodeInFlight(std::size_t i) {
    const Datagram& d = net_.in_flight().at(i).datagram;
    ByteView data = d.data;
    if (d.local.port == 4500) data = data.subspan(4);
    auto m = Decode(data);
    EXPECT_TRUE(m.has_value());
    return m ? *m : Message{};
  }
};

TEST_F(InitTest, InvalidKeRoundTrip) {
  PeerConfig pa = PeerA(), pb = PeerB();
  pa.proposals = {IkeProposal{.encr = {{crypto::EncrId::kAesGcm16, 256}},
                              .integ = {},
                              .prf = {crypto::PrfId::kHmacSha2_256},
                              .dh = {crypto::DhGroup::kCurve25519, crypto::DhGroup::kEcp256}}};
  pb.proposals = {IkeProposal{.encr = {{crypto::EncrId::kAesGcm16, 256}},
                              .integ = {},
                              .prf = {crypto::PrfId::kHmacSha2_256},
                              .dh = {crypto::DhGroup::kEcp256}}};
  AddPeers(std::move(pa), std::move(pb));
  ASSERT_TRUE(a_.Initiate("to-b", "net", net_.now()).has_value());
  DeliverOnly();
  // B answers statelessly with INVALID_KE_PAYLOAD naming ECP_256.
  EXPECT_EQ(b_.ike_sa_count(), 0u);
  net_.CollectReliable();
  ASSERT_EQ(net_.pending(), 1u);
  Message reply = DecodeInFlight(0);
  const NotifyPayload* n = reply.FindNotify(NotifyType::kInvalidKePayload);
  ASSERT_NE(n, nullptr);
  EXPECT_EQ(n->data, (Bytes{0, 19}));
  net_.Deliver(0);
  // A retries with a KE of group 19 and the same SPI.
  net_.CollectReliable();
  ASSERT_EQ(net_.pending(), 1u);
  Message retry = DecodeInFlight(0);
  const Payload* ke = retry.Find(PayloadType::kKe);
  ASSERT_NE(ke, nullptr);
  EXPECT_EQ(std::get<KePayload>(ke->body).group, crypto::DhGroup::kEcp256);
  net_.RunFor(seconds(1));
  EXPECT_EQ(EstablishedCount(a_), 1u);
  EXPECT_EQ(EstablishedCount(b_), 1u);
  EXPECT_NE(a_.ListSas(net_.now())[0].algorithms.find("ECP_256"), std::string::npos);
}

TEST_F(InitTest, InvalidKeForUnofferedGroupIsIgnored) {
  AddPeers();
  ASSERT_TRUE(a_.Initiate("to-b", "net", net_.now()).has_value());
  net_.CollectReliable();
  Message init = DecodeInFlight(0);
  net_.Drop(0);
  // A forged INVALID_KE_PAYLOAD asking for MODP_2048, which A never offered.
  Message fake;
  fake.header = Header{.spi_i = init.header.spi_i,
                       .exchange = ExchangeType::kIkeSaInit,
                       .flags = kFlagResponse,
                       .message_id = 0};
  NotifyPayload n;
  n.type = NotifyType::kInvalidKePayload;
  n.data = {0, 14};
  Payload p;
  p.type = PayloadType::kNotify;
  p.body = n;
  fake.payloads.push_back(p);
  a_.HandleDatagram(
      Datagram{
          .local = {Ip("192.0.2.1"), 500}, .remote = {Ip("192.0.2.2"), 500}, .data = Encode(fake)},
      net_.now());
  EXPECT_TRUE(a_.TakeDatagrams().empty());  // no retry with an unoffered group
  EXPECT_EQ(a_.ike_sa_count(), 1u);         // still waiting (hint only)
}

TEST_F(InitTest, CookieRoundTrip) {
  EngineConfig cfg;
  cfg.cookie_threshold = 0;  // B demands cookies from everybody
  crypto::SeededRandom r(9);
  xfrm::FakeKernel k;
  Engine b(cfg, r, k);
  net_.Attach(Ip("192.0.2.2"), &b);
  ASSERT_TRUE(a_.AddPeer(PeerA(), net_.now()).has_value());
  ASSERT_TRUE(b.AddPeer(PeerB(), net_.now()).has_value());
  ASSERT_TRUE(a_.Initiate("to-b", "net", net_.now()).has_value());
  DeliverOnly();
  EXPECT_EQ(b.ike_sa_count(), 0u);  // stateless
  net_.CollectReliable();
  ASSERT_EQ(net_.pending(), 1u);
  Message reply = DecodeInFlight(0);
  const NotifyPayload* cookie = reply.FindNotify(NotifyType::kCookie);
  ASSERT_NE(cookie, nullptr);
  EXPECT_GE(cookie->data.size(), 1u);
  EXPECT_LE(cookie->data.size(), 64u);
  net_.Deliver(0);
  net_.CollectReliable();
  ASSERT_EQ(net_.pending(), 1u);
  Message retry = DecodeInFlight(0);
  ASSERT_FALSE(retry.payloads.empty());
  const auto* first = std::get_if<NotifyPayload>(&retry.payloads[0].body);
  ASSERT_NE(first, nullptr);
  EXPECT_EQ(first->type, NotifyType::kCookie);
  EXPECT_EQ(first->data, cookie->data);
  net_.RunFor(seconds(1));
  EXPECT_EQ(EstablishedCount(a_), 1u);
  EXPECT_EQ(EstablishedCount(b), 1u);
}

TEST_F(InitTest, CookieThenInvalidKeThirdRequestCarriesBoth) {
  EngineConfig cfg;
  cfg.cookie_threshold = 0;
  crypto::SeededRandom r(9);
  xfrm::FakeKernel k;
  Engine b(cfg, r, k);
  net_.Attach(Ip("192.0.2.2"), &b);
  PeerConfig pa = PeerA(), pb = PeerB();
  pa.proposals[0].dh = {crypto::DhGroup::kCurve25519, crypto::DhGroup::kEcp256};
  pb.proposals[0].dh = {crypto::DhGroup::kEcp256};
  ASSERT_TRUE(a_.AddPeer(std::move(pa), net_.now()).has_value());
  ASSERT_TRUE(b.AddPeer(std::move(pb), net_.now()).has_value());
  ASSERT_TRUE(a_.Initiate("to-b", "net", net_.now()).has_value());
  DeliverOnly();  // request 1 -> COOKIE
  DeliverOnly();
  DeliverOnly();  // request 2 (cookie) -> INVALID_KE
  net_.CollectReliable();
  ASSERT_NE(DecodeInFlight(0).FindNotify(NotifyType::kInvalidKePayload), nullptr);
  net_.Deliver(0);
  net_.CollectReliable();
  Message third = DecodeInFlight(0);
  ASSERT_NE(third.FindNotify(NotifyType::kCookie), nullptr);
  EXPECT_EQ(std::get<KePayload>(third.Find(PayloadType::kKe)->body).group,
            crypto::DhGroup::kEcp256);
  net_.RunFor(seconds(1));
  EXPECT_EQ(EstablishedCount(a_), 1u);
  EXPECT_EQ(EstablishedCount(b), 1u);
}

TEST_F(InitTest, FragmentedIkeAuth) {
  EngineConfig cfg;
  cfg.fragment_size = 200;  // forces IKE_AUTH into several SKF fragments
  crypto::SeededRandom ra(3), rb(4);
  xfrm::FakeKernel ka, kb;
  Engine a(cfg, ra, ka), b(cfg, rb, kb);
  SimNetwork net;
  net.Attach(Ip("192.0.2.1"), &a);
  net.Attach(Ip("192.0.2.2"), &b);
  ASSERT_TRUE(a.AddPeer(PeerA(), net.now()).has_value());
  ASSERT_TRUE(b.AddPeer(PeerB(), net.now()).has_value());
  ASSERT_TRUE(a.Initiate("to-b", "net", net.now()).has_value());
  net.CollectReliable();
  net.Deliver(0);
  net.CollectReliable();
  net.Deliver(0);
  net.CollectReliable();
  ASSERT_GT(net.pending(), 1u);  // IKE_AUTH request in fragments
  for (const auto& f : net.in_flight()) EXPECT_LE(f.datagram.data.size(), 200u - 28u);
  // Deliver the fragments in reverse order, with one duplicate.
  net.in_flight().push_back(net.in_flight().front());
  while (net.pending()) net.Deliver(net.pending() - 1);
  EXPECT_EQ(EstablishedCount(b), 1u);
  net.RunFor(seconds(1));
  EXPECT_EQ(EstablishedCount(a), 1u);
  EXPECT_EQ(ka.sa_count(), 2u);
}

// Issue 22 (found by the lab's fragments rows against charon): after the first fragmented
// message was reassembled, the count of buffered fragment bytes of all SAs wrapped around, and
// every later fragment was dropped as "fragment buffers of all SAs full". With every protected
// message in fragments, the IKE SA must survive rekeys in both directions.
class TinyFragments : public TwoPeers {
 protected:
  TinyFragments() : TwoPeers(Config()) {}
  static EngineConfig Config() {
    EngineConfig cfg;
    cfg.fragment_size = 100;
    return cfg;
  }
};

TEST_F(TinyFragments, EveryMessageInFragmentsThroughRekeys) {
  Establish();
  for (int round = 0; round < 2; ++round) {
    ASSERT_TRUE(b_.Rekey("to-a", "", net_.now()).has_value());
    net_.RunFor(seconds(2));
    ASSERT_TRUE(a_.Rekey("to-b", "net", net_.now()).has_value());
    net_.RunFor(seconds(2));
  }
  EXPECT_EQ(EstablishedCount(a_), 1u);
  EXPECT_EQ(EstablishedCount(b_), 1u);
  EXPECT_EQ(kernel_a_.sa_count(), 2u);
  EXPECT_EQ(kernel_b_.sa_count(), 2u);
  const auto dropped = OfKind(b_.TakeEvents(), EventKind::kDropped);
  for (const auto& e : dropped) EXPECT_EQ(e.text.find("buffers"), std::string::npos) << e.text;
}

// charon's fragmentation = accept: A announces fragmentation (B may fragment to it) but sends its
// own IKE_AUTH whole; B's answer, above the fragment size too, comes in fragments.
TEST_F(InitTest, FragmentationAcceptAnnouncesButSendsWhole) {
  EngineConfig cfg;
  cfg.fragment_size = 200;
  crypto::SeededRandom ra(3), rb(4);
  xfrm::FakeKernel ka, kb;
  Engine a(cfg, ra, ka), b(cfg, rb, kb);
  SimNetwork net;
  net.Attach(Ip("192.0.2.1"), &a);
  net.Attach(Ip("192.0.2.2"), &b);
  PeerConfig pa = PeerA();
  pa.fragment_own = false;
  ASSERT_TRUE(a.AddPeer(std::move(pa), net.now()).has_value());
  ASSERT_TRUE(b.AddPeer(PeerB(), net.now()).has_value());
  ASSERT_TRUE(a.Initiate("to-b", "net", net.now()).has_value());
  net.CollectReliable();
  net.Deliver(0);  // IKE_SA_INIT request, with IKEV2_FRAGMENTATION_SUPPORTED
  net.CollectReliable();
  net.Deliver(0);  // its answer
  net.CollectReliable();
  ASSERT_EQ(net.pending(), 1u);  // A's IKE_AUTH request: whole
  EXPECT_GT(net.in_flight().front().datagram.data.size(), 200u - 28u);
  net.Deliver(0);
  net.CollectReliable();
  EXPECT_GT(net.pending(), 1u);  // B's IKE_AUTH response: in fragments
  while (net.pending()) net.Deliver(0);
  net.RunFor(seconds(1));
  EXPECT_EQ(EstablishedCount(a), 1u);
  EXPECT_EQ(EstablishedCount(b), 1u);
}

TEST_F(InitTest, FragmentsUnderLossAndDuplication) {
  EngineConfig cfg;
  cfg.fragment_size = 200;
  for (std::uint64_t seed = 1; seed <= 5; ++seed) {
    crypto::SeededRandom ra(seed), rb(seed + 100);
    xfrm::FakeKernel ka, kb;
    Engine a(cfg, ra, ka), b(cfg, rb, kb);
    SimNetwork net(SimNetwork::Options{.loss = 0.2,
                                       .duplicate = 0.2,
                                       .reorder = 0.5,
                                       .delay = std::chrono::milliseconds(5),
                                       .max_jitter = std::chrono::milliseconds(30),
                                       .seed = seed});
    net.Attach(Ip("192.0.2.1"), &a);
    net.Attach(Ip("192.0.2.2"), &b);
    ASSERT_TRUE(a.AddPeer(PeerA(), net.now()).has_value());
    ASSERT_TRUE(b.AddPeer(PeerB(), net.now()).has_value());
    ASSERT_TRUE(a.Initiate("to-b", "net", net.now()).has_value());
    net.RunFor(seconds(600));
    ASSERT_TRUE(a.Rekey("to-b", "net", net.now()).has_value());
    net.RunFor(seconds(600));
    EXPECT_EQ(EstablishedCount(a), 1u) << "seed " << seed;
    EXPECT_EQ(EstablishedCount(b), 1u) << "seed " << seed;
    EXPECT_EQ(ka.sa_count(), 2u) << "seed " << seed;
    EXPECT_EQ(kb.sa_count(), 2u) << "seed " << seed;
  }
}

TEST_F(InitTest, NatDetectedEnablesUdpEncapsulation) {
  // B sees A behind a NAT: A's packets arrive from 198.51.100.7:31000 instead of 192.0.2.1:500.
  PeerConfig pb = PeerB();
  pb.remote_address = Ip("198.51.100.7");
  AddPeers(PeerA(), std::move(pb));
  net_.Attach(Ip("198.51.100.7"), &a_);
  ASSERT_TRUE(a_.Initiate("to-b", "net", net_.now()).has_value());
  // Rewrite A's source (the NAT) and B's destination (the reverse mapping) in flight.
  for (int step = 0; step < 4; ++step) {
    net_.CollectReliable();
    ASSERT_EQ(net_.pending(), 1u) << step;
    Datagram& d = net_.in_flight()[0].datagram;
    if (d.local.address == Ip("192.0.2.1")) {
      d.local = Endpoint{Ip("198.51.100.7"),
                         static_cast<std::uint16_t>(d.local.port == 500 ? 31000 : 31001)};
      net_.Deliver(0);
    } else {
      Datagram back = d;
      net_.Drop(0);
      back.remote = Endpoint{Ip("192.0.2.1"),
                             static_cast<std::uint16_t>(back.remote.port == 31000 ? 500 : 4500)};
      a_.HandleDatagram(Datagram{.local = back.remote, .remote = back.local, .data = back.data},
                        net_.now());
    }
  }
  ASSERT_EQ(EstablishedCount(a_), 1u);
  ASSERT_EQ(EstablishedCount(b_), 1u);
  auto sa_a = a_.ListSas(net_.now())[0];
  auto sa_b = b_.ListSas(net_.now())[0];
  EXPECT_TRUE(sa_a.nat_local);
  EXPECT_TRUE(sa_b.nat_remote);
  EXPECT_EQ(sa_b.remote.port, 31001);
  ASSERT_EQ(sa_b.children.size(), 1u);
  EXPECT_TRUE(sa_b.children[0].encap);
  EXPECT_TRUE(sa_a.children[0].encap);
  const auto* out = kernel_b_.FindSa(xfrm::SaId{.src = Ip("192.0.2.2"),
                                                .dst = Ip("198.51.100.7"),
                                                .spi = sa_b.children[0].spi_out,
                                                .proto = 50,
                                                .mark = xfrm::Mark{12, 0xffffffff}});
  ASSERT_NE(out, nullptr);
  ASSERT_TRUE(out->encap.has_value());
  EXPECT_EQ(out->encap->sport, 4500);
  EXPECT_EQ(out->encap->dport, 31001);
}

}  // namespace
}  // namespace minivpn::ike::test
