// CREATE_CHILD_SA: CHILD and IKE rekeys from each side, make-before-break kernel ordering,
// simultaneous rekeys decided by the nonce tie-break (2.8.1/2.8.2), rekey vs delete (2.25),
// kernel soft/hard expire events.
#include <functional>

#include "ike/engine/engine_payloads.h"
#include "ike/wire/protect.h"
#include "tests/ike/engine/engine_test_util.h"

namespace minivpn::ike::test {
namespace {

using std::chrono::seconds;

// The kernel's EXPIRE of the ESP SA `spi` from `src` to `dst` (reqid 1, as every test here has).
xfrm::ExpireEvent Expire(const char* src, const char* dst, std::uint32_t spi, bool hard,
                         xfrm::Mark mark = {}) {
  return xfrm::ExpireEvent{
      .sa = {.src = Ip(src), .dst = Ip(dst), .spi = spi, .proto = 50, .mark = mark},
      .reqid = 1,
      .hard = hard};
}
using xfrm::FakeOpKind;

class RekeyTest : public TwoPeers {
 protected:
  static xfrm::PolicyId OutPolicy() {
    return xfrm::PolicyId{.src = Net("0.0.0.0/0"),
                          .dst = Net("0.0.0.0/0"),
                          .dir = xfrm::PolicyDir::kOut,
                          .mark = xfrm::Mark{12, 0xffffffff}};
  }
  // Both ends hold exactly one CHILD_SA, the same pair, and the kernels match it.
  // A's "net" CHILD_SA up, with these time limits on A's side (no random part); B keeps the
  // defaults. The kernel sends no expire here: whatever rekeys or deletes it is the engine's.
  void EstablishWithLifetimes(seconds rekey, seconds life) {
    PeerConfig pa = PeerA();
    pa.children[0].rekey_time = rekey;
    pa.children[0].rand_time = seconds(0);
    pa.children[0].life_time = life;
    AddPeers(std::move(pa), PeerB());
    ASSERT_TRUE(a_.Initiate("to-b", "net", net_.now()).has_value());
    net_.RunFor(seconds(1));
    ASSERT_EQ(Children(a_).size(), 1u);
  }

  void ExpectOneConsistentChild() {
    auto ca = Children(a_);
    auto cb = Children(b_);
    ASSERT_EQ(ca.size(), 1u);
    ASSERT_EQ(cb.size(), 1u);
    EXPECT_EQ(ca[0].spi_in, cb[0].spi_out);
    EXPECT_EQ(ca[0].spi_out, cb[0].spi_in);
    EXPECT_EQ(ca[0].reqid, 1u);
    EXPECT_EQ(cb[0].reqid, 1u);
    EXPECT_EQ(kernel_a_.sa_count(), 2u);
    EXPECT_EQ(kernel_b_.sa_count(), 2u);
    EXPECT_EQ(kernel_a_.larval_count(), 0u);
    EXPECT_EQ(kernel_b_.larval_count(), 0u);
    EXPECT_EQ(kernel_a_.policy_count(), 3u);
    EXPECT_EQ(kernel_b_.policy_count(), 3u);
    EXPECT_EQ(kernel_a_.PolicyRefCount(OutPolicy()), 1u);
    ASSERT_NE(kernel_a_.FindPolicy(OutPolicy()), nullptr);
    EXPECT_EQ(kernel_a_.FindPolicy(OutPolicy())->tmpl_spi, ca[0].spi_out);
    ASSERT_NE(kernel_b_.FindPolicy(OutPolicy()), nullptr);
    EXPECT_EQ(kernel_b_.FindPolicy(OutPolicy())->tmpl_spi, cb[0].spi_out);
  }
  std::vector<FakeOpKind> Kinds(const xfrm::FakeKernel& k) {
    std::vector<FakeOpKind> out;
    for (const auto& op : k.log()) out.push_back(op.kind);
    return out;
  }
};

TEST_F(RekeyTest, ChildRekeyFromInitiatorMakeBeforeBreak) {
  Establish();
  auto before = Children(a_)[0];
  kernel_a_.ClearLog();
  kernel_b_.ClearLog();
  ASSERT_TRUE(a_.Rekey("to-b", "net", net_.now()).has_value());
  DeliverOnly();  // CREATE_CHILD_SA request [ N(REKEY_SA) SA No TSi TSr ]
  // Responder: both new SAs before it answers (an install failure is answered while the old SA
  // still carries everything); the OUT policy still names the old outbound SPI, so the kernel
  // keeps sending on the old SA.
  EXPECT_EQ(Kinds(kernel_b_),
            (std::vector{FakeOpKind::kAllocSpi, FakeOpKind::kAddSa, FakeOpKind::kAddSa}));
  EXPECT_TRUE(kernel_b_.log()[1].inbound);
  EXPECT_FALSE(kernel_b_.log()[2].inbound);
  EXPECT_EQ(kernel_b_.FindPolicy(OutPolicy())->tmpl_spi, Children(b_)[0].spi_out);
  DeliverOnly();  // response
  // Initiator: new inbound + outbound SA, OUT switched, then DELETE of the old one.
  EXPECT_EQ(Kinds(kernel_a_), (std::vector{FakeOpKind::kAllocSpi, FakeOpKind::kAddSa,
                                           FakeOpKind::kAddSa, FakeOpKind::kUpdatePolicy}));
  EXPECT_EQ(kernel_a_.sa_count(), 4u);
  DeliverOnly();  // INFORMATIONAL [ D ]
  // Responder: the OUT switch when the DELETE arrives, then the old SAs go.
  auto kb = Kinds(kernel_b_);
  ASSERT_GE(kb.size(), 6u);
  EXPECT_EQ(kb[3], FakeOpKind::kUpdatePolicy);
  EXPECT_EQ(kb[4], FakeOpKind::kDelSa);
  EXPECT_EQ(kb[5], FakeOpKind::kDelSa);
  DeliverOnly();  // response [ D ]
  ExpectOneConsistentChild();
  auto after = Children(a_)[0];
  EXPECT_NE(after.spi_in, before.spi_in);
  EXPECT_NE(after.spi_out, before.spi_out);
  EXPECT_EQ(OfKind(a_.TakeEvents(), EventKind::kChildRekeyed).size(), 1u);
}

// Issue 17: make-before-break never breaks first. The responder's new outbound SA cannot be
// installed: it answers with an error while the old SA still carries the traffic, and the
// initiator keeps the old SA. (Before: the responder installed the outbound SA only when the
// DELETE of the old one arrived, moved the OUT policy to it even though the install had failed,
// and deleted the old SA: a blackhole.)
TEST_F(RekeyTest, ResponderOutboundInstallFailureKeepsTrafficOnTheOldSa) {
  Establish();
  const auto before = Children(b_)[0];
  kernel_b_.FailNth(3, std::errc::no_buffer_space);  // AllocSpi, inbound AddSa, outbound AddSa
  ASSERT_TRUE(a_.Rekey("to-b", "net", net_.now()).has_value());
  net_.RunFor(seconds(2));
  ExpectOneConsistentChild();
  EXPECT_EQ(Children(b_)[0].spi_in, before.spi_in);
  EXPECT_EQ(Children(b_)[0].spi_out, before.spi_out);
  auto failures = OfKind(b_.TakeEvents(), EventKind::kFailure);
  ASSERT_FALSE(failures.empty());
  EXPECT_NE(failures[0].text.find("installing CHILD_SA failed"), std::string::npos)
      << failures[0].text;
}

// The initiator's kernel refuses to move the OUT policy: the old SA keeps the traffic, the new
// one is deleted, and the rekey is tried again later (and then succeeds).
TEST_F(RekeyTest, InitiatorOutPolicySwitchFailureKeepsTheOldSaAndRetries) {
  Establish();
  const auto before = Children(a_)[0];
  ASSERT_TRUE(a_.Rekey("to-b", "net", net_.now()).has_value());
  DeliverOnly();                                     // request (A allocated its SPI already)
  kernel_a_.FailNth(3, std::errc::no_buffer_space);  // inbound AddSa, outbound AddSa, UPDPOLICY
  DeliverOnly();                                     // response
  ASSERT_NE(kernel_a_.FindPolicy(OutPolicy()), nullptr);
  EXPECT_EQ(kernel_a_.FindPolicy(OutPolicy())->tmpl_spi, before.spi_out);
  net_.RunFor(seconds(1));  // the new SA is deleted on both sides
  ExpectOneConsistentChild();
  EXPECT_EQ(Children(a_)[0].spi_out, before.spi_out);
  net_.RunFor(seconds(120));  // the retry
  ExpectOneConsistentChild();
  EXPECT_NE(Children(a_)[0].spi_out, before.spi_out);
}

// Expires in mid-rekey (issue 17): a soft one is what is under way already; a hard one on the
// responder, after the exchange but before the peer's DELETE, moves the traffic at once.
TEST_F(RekeyTest, SoftExpireDuringARekeyIsIgnored) {
  Establish();
  const auto before = Children(a_)[0];
  ASSERT_TRUE(a_.Rekey("to-b", "net", net_.now()).has_value());
  DeliverOnly();  // request: A is rekeying
  a_.HandleKernelEvent(Expire("192.0.2.2", "192.0.2.1", before.spi_in, false), net_.now());
  net_.RunFor(seconds(2));
  ExpectOneConsistentChild();
  auto events = a_.TakeEvents();
  EXPECT_EQ(OfKind(events, EventKind::kChildRekeyed).size(), 1u) << "one rekey, not two";
  auto dropped = OfKind(events, EventKind::kDropped);
  ASSERT_FALSE(dropped.empty());
  EXPECT_NE(dropped.back().text.find("soft expire"), std::string::npos) << dropped.back().text;
}

TEST_F(RekeyTest, HardExpireOfTheRekeyedSaOnTheResponderMovesTrafficAtOnce) {
  Establish();
  const auto old_b = Children(b_)[0];
  ASSERT_TRUE(a_.Rekey("to-b", "net", net_.now()).has_value());
  DeliverOnly();  // request: B installs both new SAs
  DeliverOnly();  // response: A switched, its DELETE of the old SA is on its way
  net_.CollectReliable();
  ASSERT_EQ(net_.pending(), 1u);
  // The kernel drops B's old outbound SA before the DELETE arrives.
  b_.HandleKernelEvent(
      Expire("192.0.2.2", "192.0.2.1", old_b.spi_out, true, xfrm::Mark{12, 0xffffffff}),
      net_.now());
  ASSERT_NE(kernel_b_.FindPolicy(OutPolicy()), nullptr);
  EXPECT_NE(kernel_b_.FindPolicy(OutPolicy())->tmpl_spi, old_b.spi_out)
      << "the OUT policy still names the SA the kernel dropped";
  net_.RunFor(seconds(2));
  ExpectOneConsistentChild();
}

// A hard expire while our own rekey is in flight: a successful rekey replaces the SA; a failed
// one deletes it (the kernel dropped it), on both sides.
TEST_F(RekeyTest, HardExpireDuringOurRekeyThenTheRekeyDecides) {
  for (bool rekey_fails : {false, true}) {
    SCOPED_TRACE(rekey_fails ? "rekey fails" : "rekey succeeds");
    crypto::SeededRandom ra(5), rb(6);
    xfrm::FakeKernel ka, kb;
    Engine a(EngineConfig{}, ra, ka), b(EngineConfig{}, rb, kb);
    SimNetwork net;
    net.Attach(Ip("192.0.2.1"), &a);
    net.Attach(Ip("192.0.2.2"), &b);
    ASSERT_TRUE(a.AddPeer(PeerA(), net.now()).has_value());
    ASSERT_TRUE(b.AddPeer(PeerB(), net.now()).has_value());
    ASSERT_TRUE(a.Initiate("to-b", "net", net.now()).has_value());
    net.RunFor(seconds(1));
    const auto old_a = Children(a)[0];
    if (rekey_fails) kb.FailNth(1, std::errc::no_buffer_space);  // B's AllocSpi
    ASSERT_TRUE(a.Rekey("to-b", "net", net.now()).has_value());
    a.HandleKernelEvent(Expire("192.0.2.2", "192.0.2.1", old_a.spi_in, true), net.now());
    net.RunFor(seconds(2));
    auto ca = Children(a), cb = Children(b);
    if (rekey_fails) {
      EXPECT_TRUE(ca.empty());
      EXPECT_TRUE(cb.empty());
      EXPECT_TRUE(ka.empty());
      EXPECT_TRUE(kb.empty());
    } else {
      ASSERT_EQ(ca.size(), 1u);
      ASSERT_EQ(cb.size(), 1u);
      EXPECT_NE(ca[0].spi_in, old_a.spi_in);
      EXPECT_EQ(ca[0].spi_in, cb[0].spi_out);
      EXPECT_EQ(ka.sa_count(), 2u);
      EXPECT_EQ(ka.FindPolicy(OutPolicy())->tmpl_spi, ca[0].spi_out);
    }
  }
}

// Found by the engine fuzzer (mode 5): removing the peer's config while our CHILD rekey was in
// flight dropped the request with its allocated SPI: the larval SA stayed in the kernel.
TEST_F(RekeyTest, RemovingThePeerDuringOurRekeyReleasesTheNewSpi) {
  Establish();
  ASSERT_TRUE(a_.Rekey("to-b", "net", net_.now()).has_value());
  net_.CollectReliable();  // the CREATE_CHILD_SA request, never delivered
  EXPECT_EQ(kernel_a_.larval_count(), 1u);
  a_.RemovePeer("to-b", net_.now());
  EXPECT_TRUE(kernel_a_.empty()) << kernel_a_.sa_count() << " SAs, " << kernel_a_.larval_count()
                                 << " larval, " << kernel_a_.policy_count() << " policies";
}

// B's answers re-sealed with B's own keys after a test changed their payloads: authentic but
// malformed messages (B retains its keys for this, EngineConfig::retain_keymat).
class MalformedAnswerTest : public TwoPeers {
 protected:
  MalformedAnswerTest() : TwoPeers(EngineConfig{.retain_keymat = true}) {}

  // The one datagram in flight (from B), its plaintext payloads edited and sealed again.
  void EditInFlight(const std::function<void(std::vector<Payload>&)>& edit) {
    auto input = b_.ExplainInput(b_.ListSas(net_.now())[0].serial, true);
    ASSERT_TRUE(input.has_value()) << input.error();
    auto cipher = crypto::SkCipher::Create({crypto::EncrId::kAesGcm16, 256, crypto::IntegId::kNone},
                                           input->keys.sk_er.Clone(), SecretBytes());
    ASSERT_TRUE(cipher.has_value());
    ASSERT_EQ(net_.pending(), 1u);
    Bytes& data = net_.in_flight()[0].datagram.data;
    const bool marker = net_.in_flight()[0].datagram.local.port == 4500;
    ByteView ike = marker ? ByteView(data).subspan(4) : ByteView(data);
    auto message = Decode(ike);
    ASSERT_TRUE(message.has_value());
    auto inner = Unprotect(ike, *message, *cipher);
    ASSERT_TRUE(inner.has_value());
    edit(*inner);
    crypto::SeededRandom rng(9);
    Bytes sealed = Protect(message->header, *inner, *cipher, rng);
    data = marker ? Bytes(4, 0) : Bytes();
    Append(data, sealed);
  }
};

// Found by the engine fuzzer (mode 5): a response that failed the exchange rules (here a second
// Nonce payload) was dropped together with our request: a CHILD rekey kept its new SPI in the
// kernel and its old SA in state rekeying for good; an IKE rekey left the IKE SA in state
// rekeying, so it never started another exchange (no DPD, no rekey, no delete).
TEST_F(MalformedAnswerTest, ARekeyAnsweredWithAMalformedResponseIsUndone) {
  Establish();
  const auto duplicate_nonce = [](std::vector<Payload>& inner) {
    const Payload* nonce = FindPayload(inner, PayloadType::kNonce);
    ASSERT_NE(nonce, nullptr);
    inner.push_back(*nonce);
  };
  for (const char* child : {"net", ""}) {
    SCOPED_TRACE(*child ? "CHILD rekey" : "IKE rekey");
    ASSERT_TRUE(a_.Rekey("to-b", child, net_.now()).has_value());
    DeliverOnly();  // CREATE_CHILD_SA request
    net_.CollectReliable();
    EditInFlight(duplicate_nonce);
    net_.Deliver(0);
    a_.TakeEvents();
    auto sas = a_.ListSas(net_.now());
    ASSERT_EQ(sas.size(), 1u);
    EXPECT_EQ(sas[0].state, IkeState::kEstablished);
    ASSERT_EQ(sas[0].children.size(), 1u);
    EXPECT_EQ(sas[0].children[0].state, ChildState::kInstalled);
    EXPECT_EQ(kernel_a_.larval_count(), 0u);
    EXPECT_EQ(kernel_a_.sa_count(), 2u);
  }
  // The IKE SA still works: a DELETE goes out and is answered.
  ASSERT_TRUE(a_.Terminate("to-b", "", net_.now()).has_value());
  net_.RunFor(std::chrono::seconds(1));
  EXPECT_TRUE(kernel_a_.empty());
}

TEST_F(RekeyTest, ChildRekeyFromResponder) {
  Establish();
  auto before = Children(b_)[0];
  ASSERT_TRUE(b_.Rekey("to-a", "net", net_.now()).has_value());
  net_.RunFor(seconds(1));
  ExpectOneConsistentChild();
  EXPECT_NE(Children(b_)[0].spi_in, before.spi_in);
}

TEST_F(RekeyTest, ChildRekeyWithPfs) {
  PeerConfig pa = PeerA(), pb = PeerB();
  pa.children[0].proposals[0].dh = {crypto::DhGroup::kCurve25519};
  pb.children[0].proposals[0].dh = {crypto::DhGroup::kCurve25519};
  AddPeers(std::move(pa), std::move(pb));
  ASSERT_TRUE(a_.Initiate("to-b", "net", net_.now()).has_value());
  net_.RunFor(seconds(1));
  ASSERT_TRUE(a_.Rekey("to-b", "net", net_.now()).has_value());
  net_.CollectReliable();
  ASSERT_EQ(net_.pending(), 1u);
  net_.Deliver(0);
  auto sent = OfKind(b_.TakeEvents(), EventKind::kExchangeSent);
  ASSERT_FALSE(sent.empty());
  EXPECT_NE(sent.back().text.find("KE"), std::string::npos) << sent.back().text;
  net_.RunFor(seconds(1));
  ExpectOneConsistentChild();
}

TEST_F(RekeyTest, SoftExpireRekeysHardExpireDeletes) {
  Establish();
  auto c = Children(a_)[0];
  const xfrm::ExpireEvent soft = Expire("192.0.2.2", "192.0.2.1", c.spi_in, false);
  a_.HandleKernelEvent(soft, net_.now());
  net_.RunFor(seconds(1));
  ExpectOneConsistentChild();
  EXPECT_NE(Children(a_)[0].spi_in, c.spi_in);
  auto c2 = Children(b_)[0];
  const xfrm::ExpireEvent hard = Expire("192.0.2.1", "192.0.2.2", c2.spi_in, true);
  b_.HandleKernelEvent(hard, net_.now());
  net_.RunFor(seconds(1));
  EXPECT_TRUE(Children(a_).empty());
  EXPECT_TRUE(Children(b_).empty());
  EXPECT_TRUE(kernel_a_.empty());
  EXPECT_TRUE(kernel_b_.empty());
}

// A soft expire the kernel never delivered (its netlink event socket overflowed when thousands
// of CHILD_SAs reached their soft lifetime together: ENOBUFS, events lost): the engine rekeys the
// CHILD_SA itself once the expire is overdue (half the soft-to-hard gap, at most 30 s).
TEST_F(RekeyTest, LostSoftExpireStillRekeys) {
  EstablishWithLifetimes(seconds(60), seconds(240));
  const auto before = Children(a_).at(0);
  const TimePoint installed = net_.now();
  net_.RunUntil(installed + seconds(85));  // soft at 60 s, overdue at 90 s: not yet
  net_.AdvanceTo(installed + seconds(85));
  EXPECT_EQ(Children(a_).at(0).spi_in, before.spi_in);
  a_.TakeEvents();
  net_.RunUntil(installed + seconds(95));
  ExpectOneConsistentChild();
  EXPECT_NE(Children(a_).at(0).spi_in, before.spi_in);
  const auto notices = OfKind(a_.TakeEvents(), EventKind::kNotice);
  ASSERT_FALSE(notices.empty());
  EXPECT_NE(notices[0].text.find("no soft expire from the kernel"), std::string::npos)
      << notices[0].text;
}

// A soft expire that arrives after the engine started the rekey itself is the rekey under way.
TEST_F(RekeyTest, LateSoftExpireAfterTheOverdueRekeyIsIgnored) {
  EstablishWithLifetimes(seconds(60), seconds(66));  // charon's 110%: overdue after 3 s
  const auto before = Children(a_).at(0);
  net_.RunUntil(net_.now() + seconds(64));
  ExpectOneConsistentChild();
  EXPECT_NE(Children(a_).at(0).spi_in, before.spi_in);
  a_.HandleKernelEvent(Expire("192.0.2.2", "192.0.2.1", before.spi_in, false), net_.now());
  net_.RunFor(seconds(1));
  ExpectOneConsistentChild();
}

// A hard expire the kernel never delivered (no rekeying configured): the CHILD_SA the kernel
// dropped at its hard lifetime leaves the engine and the peer too, instead of staying listed
// for ever.
TEST_F(RekeyTest, LostHardExpireStillDeletes) {
  EstablishWithLifetimes(seconds(0), seconds(120));
  const TimePoint installed = net_.now();
  net_.RunUntil(installed + seconds(140));  // hard at 120 s, overdue at 150 s
  net_.AdvanceTo(installed + seconds(140));
  EXPECT_EQ(Children(a_).size(), 1u);
  net_.RunUntil(installed + seconds(160));
  EXPECT_TRUE(Children(a_).empty());
  EXPECT_TRUE(Children(b_).empty());
  EXPECT_TRUE(kernel_a_.empty());
  EXPECT_TRUE(kernel_b_.empty());
  EXPECT_EQ(EstablishedCount(a_), 1u);  // the IKE SA stays
}

TEST_F(RekeyTest, SimultaneousChildRekeyNonceTieBreak) {
  Establish();
  ASSERT_TRUE(a_.Rekey("to-b", "net", net_.now()).has_value());
  ASSERT_TRUE(b_.Rekey("to-a", "net", net_.now()).has_value());
  net_.CollectReliable();
  ASSERT_EQ(net_.pending(), 2u);
  // Both requests cross: each side answers the other's before it sees its own response.
  net_.Deliver(0);
  net_.Deliver(0);
  net_.RunFor(seconds(2));
  ExpectOneConsistentChild();
  auto ev = a_.TakeEvents();
  auto evb = b_.TakeEvents();
  // Exactly one side lost the tie-break and deleted its own new SA.
  auto lost = [](const std::vector<Event>& events) {
    int n = 0;
    for (const auto& e : events)
      if (e.text.find("collision lost") != std::string::npos) ++n;
    return n;
  };
  EXPECT_EQ(lost(ev) + lost(evb), 1);
}

TEST_F(RekeyTest, SimultaneousChildRekeyManySeeds) {
  // Different seeds give different nonce orders; every ordering must converge.
  for (std::uint64_t seed = 1; seed <= 6; ++seed) {
    crypto::SeededRandom ra(seed * 10), rb(seed * 10 + 1);
    xfrm::FakeKernel ka, kb;
    Engine a(EngineConfig{}, ra, ka), b(EngineConfig{}, rb, kb);
    SimNetwork net(SimNetwork::Options{.loss = 0,
                                       .duplicate = 0,
                                       .reorder = 1.0,
                                       .delay = std::chrono::milliseconds(5),
                                       .max_jitter = std::chrono::milliseconds(20),
                                       .seed = seed});
    net.Attach(Ip("192.0.2.1"), &a);
    net.Attach(Ip("192.0.2.2"), &b);
    ASSERT_TRUE(a.AddPeer(PeerA(), net.now()).has_value());
    ASSERT_TRUE(b.AddPeer(PeerB(), net.now()).has_value());
    ASSERT_TRUE(a.Initiate("to-b", "net", net.now()).has_value());
    net.RunFor(seconds(1));
    ASSERT_TRUE(a.Rekey("to-b", "net", net.now()).has_value());
    ASSERT_TRUE(b.Rekey("to-a", "net", net.now()).has_value());
    net.RunFor(seconds(60));
    auto ca = Children(a), cb = Children(b);
    ASSERT_EQ(ca.size(), 1u) << "seed " << seed;
    ASSERT_EQ(cb.size(), 1u) << "seed " << seed;
    EXPECT_EQ(ca[0].spi_in, cb[0].spi_out);
    EXPECT_EQ(ka.sa_count(), 2u) << "seed " << seed;
    EXPECT_EQ(kb.sa_count(), 2u) << "seed " << seed;
    EXPECT_EQ(ka.larval_count() + kb.larval_count(), 0u);
    ASSERT_NE(ka.FindPolicy(OutPolicy()), nullptr);
    EXPECT_EQ(ka.FindPolicy(OutPolicy())->tmpl_spi, ca[0].spi_out);
    EXPECT_EQ(kb.FindPolicy(OutPolicy())->tmpl_spi, cb[0].spi_out);
  }
}

TEST_F(RekeyTest, RekeyVersusDelete) {
  Establish();
  ASSERT_TRUE(a_.Rekey("to-b", "net", net_.now()).has_value());
  ASSERT_TRUE(b_.Terminate("to-a", "net", net_.now()).has_value());
  net_.CollectReliable();
  ASSERT_EQ(net_.pending(), 2u);
  net_.Deliver(0);
  net_.Deliver(0);
  net_.RunFor(seconds(2));
  // The delete wins: nothing is left of the CHILD_SA, including the orphaned rekeyed one.
  EXPECT_TRUE(Children(a_).empty());
  EXPECT_TRUE(Children(b_).empty());
  EXPECT_TRUE(kernel_a_.empty());
  EXPECT_TRUE(kernel_b_.empty());
  EXPECT_EQ(EstablishedCount(a_), 1u);
  EXPECT_EQ(EstablishedCount(b_), 1u);
}

TEST_F(RekeyTest, IkeRekeyFromInitiator) {
  Establish();
  auto old_a = a_.ListSas(net_.now())[0];
  auto child_before = Children(a_)[0];
  ASSERT_TRUE(a_.Rekey("to-b", "", net_.now()).has_value());
  net_.RunFor(seconds(1));
  auto sas_a = a_.ListSas(net_.now());
  auto sas_b = b_.ListSas(net_.now());
  ASSERT_EQ(sas_a.size(), 1u);
  ASSERT_EQ(sas_b.size(), 1u);
  EXPECT_NE(sas_a[0].spi_i, old_a.spi_i);
  EXPECT_EQ(sas_a[0].spi_i, sas_b[0].spi_i);
  EXPECT_EQ(sas_a[0].spi_r, sas_b[0].spi_r);
  EXPECT_TRUE(sas_a[0].initiator);
  EXPECT_EQ(sas_a[0].state, IkeState::kEstablished);
  // The CHILD_SA moved over untouched.
  ASSERT_EQ(sas_a[0].children.size(), 1u);
  EXPECT_EQ(sas_a[0].children[0].spi_in, child_before.spi_in);
  ExpectOneConsistentChild();
  // The new SA works: rekey the CHILD_SA and delete everything over it.
  ASSERT_TRUE(a_.Rekey("to-b", "net", net_.now()).has_value());
  net_.RunFor(seconds(1));
  ExpectOneConsistentChild();
  ASSERT_TRUE(b_.Terminate("to-a", "", net_.now()).has_value());
  net_.RunFor(seconds(1));
  EXPECT_TRUE(kernel_a_.empty());
  EXPECT_TRUE(kernel_b_.empty());
  EXPECT_EQ(a_.ike_sa_count(), 0u);
}

TEST_F(RekeyTest, IkeRekeyFromResponder) {
  Establish();
  ASSERT_TRUE(b_.Rekey("to-a", "", net_.now()).has_value());
  net_.RunFor(seconds(1));
  auto sas_a = a_.ListSas(net_.now());
  auto sas_b = b_.ListSas(net_.now());
  ASSERT_EQ(sas_a.size(), 1u);
  ASSERT_EQ(sas_b.size(), 1u);
  EXPECT_TRUE(sas_b[0].initiator);  // 2.18: the rekey initiator is the new original initiator
  EXPECT_FALSE(sas_a[0].initiator);
  EXPECT_EQ(sas_a[0].spi_i, sas_b[0].spi_i);
  ExpectOneConsistentChild();
  ASSERT_TRUE(a_.Terminate("to-b", "", net_.now()).has_value());
  net_.RunFor(seconds(1));
  EXPECT_TRUE(kernel_a_.empty());
  EXPECT_TRUE(kernel_b_.empty());
}

TEST_F(RekeyTest, SimultaneousIkeRekeyNonceTieBreak) {
  for (std::uint64_t seed = 1; seed <= 6; ++seed) {
    crypto::SeededRandom ra(seed * 100), rb(seed * 100 + 1);
    xfrm::FakeKernel ka, kb;
    Engine a(EngineConfig{}, ra, ka), b(EngineConfig{}, rb, kb);
    SimNetwork net;
    net.Attach(Ip("192.0.2.1"), &a);
    net.Attach(Ip("192.0.2.2"), &b);
    ASSERT_TRUE(a.AddPeer(PeerA(), net.now()).has_value());
    ASSERT_TRUE(b.AddPeer(PeerB(), net.now()).has_value());
    ASSERT_TRUE(a.Initiate("to-b", "net", net.now()).has_value());
    net.RunFor(seconds(1));
    ASSERT_TRUE(a.Rekey("to-b", "", net.now()).has_value());
    ASSERT_TRUE(b.Rekey("to-a", "", net.now()).has_value());
    net.CollectReliable();
    ASSERT_EQ(net.pending(), 2u);
    net.Deliver(0);
    net.Deliver(0);
    net.RunFor(seconds(60));
    auto sas_a = a.ListSas(net.now());
    auto sas_b = b.ListSas(net.now());
    ASSERT_EQ(sas_a.size(), 1u) << "seed " << seed;
    ASSERT_EQ(sas_b.size(), 1u) << "seed " << seed;
    EXPECT_EQ(sas_a[0].spi_i, sas_b[0].spi_i);
    EXPECT_EQ(sas_a[0].spi_r, sas_b[0].spi_r);
    ASSERT_EQ(sas_a[0].children.size(), 1u);
    ASSERT_EQ(sas_b[0].children.size(), 1u);
    EXPECT_EQ(ka.sa_count(), 2u);
    EXPECT_EQ(kb.sa_count(), 2u);
  }
}

TEST_F(RekeyTest, ChildRequestDuringIkeRekeyGetsTemporaryFailure) {
  Establish();
  ASSERT_TRUE(a_.Rekey("to-b", "", net_.now()).has_value());
  ASSERT_TRUE(b_.Rekey("to-a", "net", net_.now()).has_value());
  net_.CollectReliable();
  ASSERT_EQ(net_.pending(), 2u);
  net_.Deliver(0);
  net_.Deliver(0);
  net_.RunFor(seconds(30));
  auto failures = OfKind(b_.TakeEvents(), EventKind::kFailure);
  bool temporary = false;
  for (const auto& f : failures) temporary |= f.notify == NotifyType::kTemporaryFailure;
  EXPECT_TRUE(temporary);
  // Everything converges: one IKE SA, one CHILD_SA (rekeyed after the retry delay).
  EXPECT_EQ(a_.ike_sa_count(), 1u);
  EXPECT_EQ(b_.ike_sa_count(), 1u);
  ExpectOneConsistentChild();
}

}  // namespace
}  // namespace minivpn::ike::test

namespace minivpn::ike::test {
namespace {

// Issue 18: message IDs wrapped at 2^32 silently (RFC 7296 2.2: the IKE SA must be rekeyed or
// closed first). With 256 IDs left, the next request is preceded by an IKE rekey; at 2^32-1
// nothing more is sent and the SA is closed.
class MessageIdTest : public RekeyTest {};

TEST_F(MessageIdTest, AnIkeRekeyComesBeforeTheIdsRunOut) {
  Establish();
  const auto before = a_.ListSas(net_.now())[0];
  a_.SetMessageIdsForTesting(before.serial, 0xffffffffu - 200, 1);
  b_.SetMessageIdsForTesting(b_.ListSas(net_.now())[0].serial, 1, 0xffffffffu - 200);
  ASSERT_TRUE(a_.Rekey("to-b", "net", net_.now()).has_value());
  net_.RunFor(seconds(2));
  const auto sas = a_.ListSas(net_.now());
  ASSERT_EQ(sas.size(), 1u);
  EXPECT_NE(sas[0].spi_i, before.spi_i) << "the IKE SA was rekeyed";
  ExpectOneConsistentChild();
  EXPECT_NE(Children(a_)[0].spi_in, before.children[0].spi_in) << "and the CHILD rekey ran";
}

TEST_F(MessageIdTest, TheLastIdIsNeverSent) {
  Establish();
  const auto sa = a_.ListSas(net_.now())[0];
  a_.SetMessageIdsForTesting(sa.serial, 0xffffffffu, 1);
  ASSERT_TRUE(a_.Rekey("to-b", "net", net_.now()).has_value());
  EXPECT_TRUE(a_.TakeDatagrams().empty());
  EXPECT_EQ(a_.ike_sa_count(), 0u);
  auto failures = OfKind(a_.TakeEvents(), EventKind::kFailure);
  ASSERT_FALSE(failures.empty());
  EXPECT_NE(failures.back().text.find("message IDs exhausted"), std::string::npos);
}

}  // namespace
}  // namespace minivpn::ike::test
