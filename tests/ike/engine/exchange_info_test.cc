// INFORMATIONAL exchanges: DELETE of IKE and CHILD SAs from each side, liveness checks (DPD)
// on a silent and on a live peer, retransmission schedule and give-up, response cache.
#include "ike/wire/codec.h"
#include "tests/ike/engine/engine_test_util.h"

namespace minivpn::ike::test {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

class InfoTest : public TwoPeers {};

TEST_F(InfoTest, TerminateIkeFromInitiator) {
  Establish();
  ASSERT_TRUE(a_.Terminate("to-b", "", net_.now()).has_value());
  DeliverOnly();  // INFORMATIONAL request [ D ]
  EXPECT_EQ(b_.ike_sa_count(), 0u);
  EXPECT_TRUE(kernel_b_.empty());
  DeliverOnly();  // empty response
  EXPECT_EQ(a_.ike_sa_count(), 0u);
  EXPECT_TRUE(kernel_a_.empty());
  auto down = OfKind(a_.TakeEvents(), EventKind::kIkeDown);
  ASSERT_EQ(down.size(), 1u);
}

TEST_F(InfoTest, TerminateIkeFromResponder) {
  Establish();
  ASSERT_TRUE(b_.Terminate("to-a", "", net_.now()).has_value());
  net_.RunFor(seconds(1));
  EXPECT_EQ(a_.ike_sa_count(), 0u);
  EXPECT_EQ(b_.ike_sa_count(), 0u);
  EXPECT_TRUE(kernel_a_.empty());
  EXPECT_TRUE(kernel_b_.empty());
}

TEST_F(InfoTest, TerminateChildFromEachSide) {
  Establish();
  ASSERT_TRUE(a_.Terminate("to-b", "net", net_.now()).has_value());
  net_.RunFor(seconds(1));
  EXPECT_TRUE(Children(a_).empty());
  EXPECT_TRUE(Children(b_).empty());
  EXPECT_TRUE(kernel_a_.empty());
  EXPECT_TRUE(kernel_b_.empty());
  EXPECT_EQ(EstablishedCount(a_), 1u);
  // A new CHILD_SA on the same IKE SA, then deleted by B.
  ASSERT_TRUE(a_.Initiate("to-b", "net", net_.now()).has_value());
  net_.RunFor(seconds(1));
  ASSERT_EQ(Children(b_).size(), 1u);
  // The first reqid was released with its last CHILD_SA; like charon, reqids are not recycled.
  EXPECT_EQ(Children(b_)[0].reqid, 2u);
  ASSERT_TRUE(b_.Terminate("to-a", "net", net_.now()).has_value());
  net_.RunFor(seconds(1));
  EXPECT_TRUE(Children(a_).empty());
  EXPECT_TRUE(kernel_a_.empty());
  EXPECT_TRUE(kernel_b_.empty());
}

TEST_F(InfoTest, RetransmissionScheduleAndGiveUp) {
  AddPeers();
  net_.drop_if = [](const Datagram&) { return true; };  // B never hears anything
  TimePoint start = net_.now();
  ASSERT_TRUE(a_.Initiate("to-b", "net", start).has_value());
  std::vector<double> sends;
  for (int i = 0; i < 10; ++i) {
    auto deadline = a_.NextDeadline();
    if (!deadline) break;
    net_.AdvanceTo(*deadline);
    a_.HandleTimers(net_.now());
    for (const auto& e : a_.TakeEvents())
      if (e.kind == EventKind::kRetransmit)
        sends.push_back(std::chrono::duration<double>(e.time - start).count());
    if (a_.ike_sa_count() == 0) break;
  }
  // charon's defaults: 4 s x 1.8^n, 5 retransmits, give up after ~165 s.
  ASSERT_EQ(sends.size(), 5u);
  EXPECT_NEAR(sends[0], 4.0, 0.01);
  EXPECT_NEAR(sends[1], 11.2, 0.01);
  EXPECT_NEAR(sends[2], 24.16, 0.01);
  EXPECT_NEAR(sends[3], 47.49, 0.01);
  EXPECT_NEAR(sends[4], 89.48, 0.01);
  EXPECT_EQ(a_.ike_sa_count(), 0u);
  EXPECT_NEAR(std::chrono::duration<double>(net_.now() - start).count(), 165.06, 0.01);
  EXPECT_TRUE(kernel_a_.empty());
}

TEST_F(InfoTest, DpdOnSilentPeerGivesUpAndClears) {
  PeerConfig pa = PeerA();
  pa.dpd_delay = seconds(30);
  AddPeers(std::move(pa), PeerB());
  ASSERT_TRUE(a_.Initiate("to-b", "net", net_.now()).has_value());
  net_.RunFor(seconds(1));
  ASSERT_EQ(EstablishedCount(a_), 1u);
  a_.TakeEvents();
  net_.drop_if = [](const Datagram&) { return true; };  // B goes silent
  TimePoint silent_from = net_.now();
  net_.RunFor(seconds(300));
  EXPECT_EQ(a_.ike_sa_count(), 0u);
  EXPECT_TRUE(kernel_a_.empty());
  auto events = a_.TakeEvents();
  auto sent = OfKind(events, EventKind::kExchangeSent);
  ASSERT_FALSE(sent.empty());
  EXPECT_EQ(sent[0].text, "INFORMATIONAL request 2 [ ]");
  EXPECT_NEAR(std::chrono::duration<double>(sent[0].time - silent_from).count(), 30.0, 1.0);
  auto down = OfKind(events, EventKind::kIkeDown);
  ASSERT_EQ(down.size(), 1u);
  EXPECT_NEAR(std::chrono::duration<double>(down[0].time - silent_from).count(), 195.0, 1.5);
}

TEST_F(InfoTest, DpdRestartReinitiates) {
  PeerConfig pa = PeerA();
  pa.dpd_delay = seconds(30);
  pa.children[0].dpd_action = DpdAction::kRestart;
  AddPeers(std::move(pa), PeerB());
  ASSERT_TRUE(a_.Initiate("to-b", "net", net_.now()).has_value());
  net_.RunFor(seconds(1));
  net_.drop_if = [](const Datagram&) { return true; };
  net_.RunUntil(net_.now() + seconds(200));
  // The dead SA is gone and a new IKE_SA_INIT is on its way.
  auto sas = a_.ListSas(net_.now());
  ASSERT_EQ(sas.size(), 1u);
  EXPECT_EQ(sas[0].state, IkeState::kConnecting);
  net_.drop_if = nullptr;
  net_.RunFor(seconds(60));
  EXPECT_EQ(EstablishedCount(a_), 1u);
  EXPECT_EQ(Children(a_).size(), 1u);
}

TEST_F(InfoTest, DpdOnLivePeerKeepsSa) {
  PeerConfig pa = PeerA();
  pa.dpd_delay = seconds(30);
  AddPeers(std::move(pa), PeerB());
  ASSERT_TRUE(a_.Initiate("to-b", "net", net_.now()).has_value());
  net_.RunFor(seconds(1));
  a_.TakeEvents();
  net_.RunUntil(net_.now() + seconds(100));
  EXPECT_EQ(EstablishedCount(a_), 1u);
  EXPECT_EQ(EstablishedCount(b_), 1u);
  auto sent = OfKind(a_.TakeEvents(), EventKind::kExchangeSent);
  EXPECT_GE(sent.size(), 3u);  // one liveness check every 30 s
}

TEST_F(InfoTest, RetransmittedRequestGetsCachedResponse) {
  Establish();
  ASSERT_TRUE(a_.Terminate("to-b", "net", net_.now()).has_value());
  net_.CollectReliable();
  ASSERT_EQ(net_.pending(), 1u);
  Datagram request = net_.in_flight()[0].datagram;
  net_.Deliver(0);
  net_.CollectReliable();
  ASSERT_EQ(net_.pending(), 1u);
  Bytes first_response = net_.in_flight()[0].datagram.data;
  net_.Drop(0);  // the response is lost
  auto b_log = kernel_b_.call_count();
  // A retransmits (here: the same request again): B answers byte for byte, changes nothing.
  b_.HandleDatagram(
      Datagram{.local = request.remote, .remote = request.local, .data = request.data}, net_.now());
  net_.CollectReliable();
  ASSERT_EQ(net_.pending(), 1u);
  EXPECT_EQ(net_.in_flight()[0].datagram.data, first_response);
  EXPECT_EQ(kernel_b_.call_count(), b_log);
  net_.Deliver(0);
  EXPECT_TRUE(Children(a_).empty());
  EXPECT_TRUE(kernel_a_.empty());
}

TEST_F(InfoTest, RetransmittedInitGetsCachedResponse) {
  AddPeers();
  ASSERT_TRUE(a_.Initiate("to-b", "net", net_.now()).has_value());
  net_.CollectReliable();
  Datagram init = net_.in_flight()[0].datagram;
  net_.Deliver(0);
  net_.CollectReliable();
  Bytes response = net_.in_flight()[0].datagram.data;
  net_.Drop(0);
  b_.HandleDatagram(Datagram{.local = init.remote, .remote = init.local, .data = init.data},
                    net_.now());
  net_.CollectReliable();
  ASSERT_EQ(net_.pending(), 1u);
  EXPECT_EQ(net_.in_flight()[0].datagram.data, response);
  EXPECT_EQ(b_.ike_sa_count(), 1u);
}

TEST_F(InfoTest, LossAndDuplicationStillEstablish) {
  net_.options().loss = 0.3;
  net_.options().duplicate = 0.3;
  net_.options().reorder = 0.5;
  AddPeers();
  ASSERT_TRUE(a_.Initiate("to-b", "net", net_.now()).has_value());
  net_.RunFor(seconds(400));
  EXPECT_EQ(EstablishedCount(a_), 1u);
  EXPECT_EQ(EstablishedCount(b_), 1u);
  EXPECT_EQ(Children(a_).size(), 1u);
  EXPECT_EQ(Children(b_).size(), 1u);
}

TEST_F(InfoTest, KeepaliveAndEspOnNatPortIgnored) {
  Establish();
  a_.TakeEvents();
  b_.TakeEvents();
  Endpoint a{Ip("192.0.2.1"), 4500}, b{Ip("192.0.2.2"), 4500};
  b_.HandleDatagram(Datagram{.local = b, .remote = a, .data = {0xff}}, net_.now());
  b_.HandleDatagram(Datagram{.local = b, .remote = a, .data = {0xc0, 1, 2, 3, 0, 0, 0, 1, 9, 9}},
                    net_.now());
  EXPECT_TRUE(b_.TakeDatagrams().empty());
  auto events = b_.TakeEvents();
  EXPECT_EQ(OfKind(events, EventKind::kDropped).size(), 1u);  // only the ESP one is noted
  EXPECT_EQ(EstablishedCount(b_), 1u);
}

TEST_F(InfoTest, UnknownSpiGetsRateLimitedInvalidIkeSpi) {
  AddPeers();
  Message m;
  m.header = Header{.spi_i = 0x1111,
                    .spi_r = 0x2222,
                    .exchange = ExchangeType::kInformational,
                    .flags = kFlagInitiator,
                    .message_id = 5};
  SkPayload sk;
  sk.first_inner = PayloadType::kNone;
  sk.body = Bytes(48, 0xab);
  Payload p;
  p.type = PayloadType::kSk;
  p.body = sk;
  m.payloads.push_back(p);
  Bytes raw = Encode(m);
  Endpoint a{Ip("192.0.2.1"), 500}, b{Ip("192.0.2.2"), 500};
  for (int i = 0; i < 50; ++i)
    b_.HandleDatagram(Datagram{.local = b, .remote = a, .data = raw}, net_.now());
  auto out = b_.TakeDatagrams();
  EXPECT_EQ(out.size(), b_.config().invalid_spi_per_second);
  auto reply = Decode(out[0].data);
  ASSERT_TRUE(reply.has_value());
  EXPECT_TRUE(reply->header.is_response());
  EXPECT_NE(reply->FindNotify(NotifyType::kInvalidIkeSpi), nullptr);
  EXPECT_EQ(b_.ike_sa_count(), 0u);
  net_.Advance(milliseconds(1500));
  b_.HandleDatagram(Datagram{.local = b, .remote = a, .data = raw}, net_.now());
  EXPECT_EQ(b_.TakeDatagrams().size(), 1u);
}

TEST_F(InfoTest, CloseActionRestartRecreatesChildDeletedByPeer) {
  PeerConfig pa = PeerA();
  pa.children[0].close_action = CloseAction::kRestart;
  AddPeers(std::move(pa), PeerB());
  ASSERT_TRUE(a_.Initiate("to-b", "net", net_.now()).has_value());
  net_.RunFor(seconds(1));
  auto first = Children(a_);
  ASSERT_EQ(first.size(), 1u);
  ASSERT_TRUE(b_.Terminate("to-a", "net", net_.now()).has_value());
  net_.RunFor(seconds(1));
  auto again = Children(a_);
  ASSERT_EQ(again.size(), 1u);
  EXPECT_NE(again[0].spi_in, first[0].spi_in);
  EXPECT_EQ(Children(b_).size(), 1u);
  EXPECT_EQ(kernel_a_.sa_count(), 2u);
}

// dpd_action = trap: the dead SA goes, and the child's trap policies (trap priority, no SPI) wait
// for the next packet; its ACQUIRE brings the tunnel back once the peer answers again.
TEST_F(InfoTest, DpdTrapInstallsTrapPoliciesAndAcquireReconnects) {
  PeerConfig pa = PeerA();
  pa.dpd_delay = seconds(30);
  pa.children[0].dpd_action = DpdAction::kTrap;
  AddPeers(std::move(pa), PeerB());
  ASSERT_TRUE(a_.Initiate("to-b", "net", net_.now()).has_value());
  net_.RunFor(seconds(1));
  ASSERT_EQ(EstablishedCount(a_), 1u);
  a_.TakeEvents();
  net_.drop_if = [](const Datagram&) { return true; };
  net_.RunFor(seconds(300));
  EXPECT_EQ(a_.ike_sa_count(), 0u) << "no restart: a trap waits for traffic";
  EXPECT_EQ(kernel_a_.sa_count(), 0u);
  EXPECT_EQ(kernel_a_.policy_count(), 3u);
  const xfrm::PolicySpec* trap = kernel_a_.FindPolicy(xfrm::PolicyId{
      Net("0.0.0.0/0"), Net("0.0.0.0/0"), xfrm::PolicyDir::kOut, xfrm::Mark{12, 0xffffffff}});
  ASSERT_NE(trap, nullptr);
  EXPECT_EQ(trap->priority, 400000u);
  EXPECT_EQ(trap->tmpl_spi, 0u);
  EXPECT_EQ(OfKind(a_.TakeEvents(), EventKind::kTrapInstalled).size(), 1u);

  net_.drop_if = nullptr;
  xfrm::AcquireEvent acquire;
  acquire.reqid = trap->reqid;
  a_.HandleKernelEvent(acquire, net_.now());
  net_.RunFor(seconds(5));
  EXPECT_EQ(EstablishedCount(a_), 1u);
  EXPECT_EQ(Children(a_).size(), 1u);
  a_.RemovePeer("to-b", net_.now());
  EXPECT_TRUE(kernel_a_.empty()) << "removing the peer removes its trap";
}

// close_action = trap: the peer deletes the CHILD_SA (or the whole IKE SA); the child's trap
// takes its place.
class CloseTrapTest : public InfoTest, public ::testing::WithParamInterface<bool> {};

TEST_P(CloseTrapTest, InstallsTrapWhenPeerDeletes) {
  bool whole_ike = GetParam();
  PeerConfig pa = PeerA();
  pa.children[0].close_action = CloseAction::kTrap;
  AddPeers(std::move(pa), PeerB());
  ASSERT_TRUE(a_.Initiate("to-b", "net", net_.now()).has_value());
  net_.RunFor(seconds(1));
  ASSERT_EQ(Children(a_).size(), 1u);
  a_.TakeEvents();
  ASSERT_TRUE(b_.Terminate("to-a", whole_ike ? "" : "net", net_.now()).has_value());
  net_.RunFor(seconds(1));
  EXPECT_EQ(Children(a_).size(), 0u);
  EXPECT_EQ(a_.ike_sa_count(), whole_ike ? 0u : 1u);
  EXPECT_EQ(kernel_a_.sa_count(), 0u);
  EXPECT_EQ(kernel_a_.policy_count(), 3u);
  EXPECT_EQ(OfKind(a_.TakeEvents(), EventKind::kTrapInstalled).size(), 1u);
  a_.RemovePeer("to-b", net_.now());
  EXPECT_TRUE(kernel_a_.empty());
}

INSTANTIATE_TEST_SUITE_P(ChildOrIke, CloseTrapTest, ::testing::Bool());

TEST_F(InfoTest, HalfOpenSaTimesOut) {
  AddPeers();
  ASSERT_TRUE(a_.Initiate("to-b", "net", net_.now()).has_value());
  DeliverOnly();  // B answers IKE_SA_INIT; A never hears back
  net_.CollectReliable();
  net_.Drop(0);
  EXPECT_EQ(b_.half_open_count(), 1u);
  net_.Advance(seconds(29));
  b_.HandleTimers(net_.now());
  EXPECT_EQ(b_.half_open_count(), 1u);
  net_.Advance(seconds(2));
  b_.HandleTimers(net_.now());
  EXPECT_EQ(b_.half_open_count(), 0u);
  EXPECT_EQ(b_.ike_sa_count(), 0u);
  EXPECT_TRUE(b_.TakeDatagrams().empty());  // a responder never retransmits
}

}  // namespace
}  // namespace minivpn::ike::test
