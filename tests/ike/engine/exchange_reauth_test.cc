// Reauthentication (RFC 7296 2.8.3) as charon 5.9 does it: at reauth_time a new IKE SA from
// IKE_SA_INIT takes the CHILD_SAs over, made again on it. Break-before-make (charon's default):
// the old IKE SA is deleted first; make-before-break (charon.make_before_break): the new SA and
// its CHILD_SAs first, sharing the kernel policies with the old ones, then the old SA goes.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>

#include "tests/ike/engine/engine_test_util.h"

namespace minivpn::ike::test {
namespace {

using std::chrono::seconds;
using xfrm::FakeOpKind;

xfrm::PolicyId OutPolicy(std::uint32_t mark = 12) {
  return xfrm::PolicyId{.src = Net("0.0.0.0/0"),
                        .dst = Net("0.0.0.0/0"),
                        .dir = xfrm::PolicyDir::kOut,
                        .mark = xfrm::Mark{mark, 0xffffffff}};
}

class ReauthTest : public TwoPeers {
 protected:
  // A reauthenticates every 60 s (give or take 5), gives up at 70 s.
  PeerConfig Reauthing(PeerConfig p, bool make_before_break) {
    p.rekey_time = seconds(0);
    p.reauth_time = seconds(60);
    p.over_time = seconds(10);
    p.rand_time = seconds(5);
    p.make_before_break = make_before_break;
    return p;
  }
  void EstablishWith(PeerConfig pa, PeerConfig pb, const std::string& child = "net") {
    AddPeers(std::move(pa), std::move(pb));
    ASSERT_TRUE(a_.Initiate("to-b", child, net_.now()).has_value());
    net_.RunFor(seconds(1));
    ASSERT_EQ(EstablishedCount(a_), 1u);
    ASSERT_EQ(EstablishedCount(b_), 1u);
  }
  // One IKE SA per side, the same one, whose CHILD_SAs match pairwise and own the kernel state.
  void ExpectOneIkeSaWithChildren(std::size_t children) {
    const auto sas_a = a_.ListSas(net_.now());
    const auto sas_b = b_.ListSas(net_.now());
    ASSERT_EQ(sas_a.size(), 1u);
    ASSERT_EQ(sas_b.size(), 1u);
    EXPECT_EQ(sas_a[0].spi_i, sas_b[0].spi_i);
    EXPECT_EQ(sas_a[0].spi_r, sas_b[0].spi_r);
    ASSERT_EQ(sas_a[0].children.size(), children);
    ASSERT_EQ(sas_b[0].children.size(), children);
    for (std::size_t i = 0; i < children; ++i) {
      const auto& ca = sas_a[0].children[i];
      const auto it = std::find_if(sas_b[0].children.begin(), sas_b[0].children.end(),
                                   [&](const ChildSaInfo& c) { return c.spi_in == ca.spi_out; });
      ASSERT_NE(it, sas_b[0].children.end());
      EXPECT_EQ(it->spi_out, ca.spi_in);
      ASSERT_NE(kernel_a_.FindPolicy(OutPolicy(ca.mark_out.value)), nullptr);
      EXPECT_EQ(kernel_a_.FindPolicy(OutPolicy(ca.mark_out.value))->tmpl_spi, ca.spi_out);
      EXPECT_EQ(kernel_a_.PolicyRefCount(OutPolicy(ca.mark_out.value)), 1u);
      ASSERT_NE(kernel_b_.FindPolicy(OutPolicy(it->mark_out.value)), nullptr);
      EXPECT_EQ(kernel_b_.FindPolicy(OutPolicy(it->mark_out.value))->tmpl_spi, it->spi_out);
      EXPECT_EQ(kernel_b_.PolicyRefCount(OutPolicy(it->mark_out.value)), 1u);
    }
    EXPECT_EQ(kernel_a_.sa_count(), 2 * children);
    EXPECT_EQ(kernel_b_.sa_count(), 2 * children);
    EXPECT_EQ(kernel_a_.policy_count(), 3 * children);
    EXPECT_EQ(kernel_b_.policy_count(), 3 * children);
    EXPECT_EQ(kernel_a_.larval_count(), 0u);
    EXPECT_EQ(kernel_b_.larval_count(), 0u);
  }
  static std::size_t Count(const xfrm::FakeKernel& k, FakeOpKind kind) {
    return static_cast<std::size_t>(std::count_if(
        k.log().begin(), k.log().end(), [&](const xfrm::FakeOp& op) { return op.kind == kind; }));
  }
  // The OUT policy of mark 12 was missing from the kernel at some point of the log (deleted,
  // then added again).
  static bool OutPolicyWasRemoved(const xfrm::FakeKernel& k) {
    return std::any_of(k.log().begin(), k.log().end(), [](const xfrm::FakeOp& op) {
      return op.kind == FakeOpKind::kDelPolicy && op.policy.id == OutPolicy() && op.policy_deleted;
    });
  }
};

TEST_F(ReauthTest, ListSasShowsWhenTheReauthenticationIsDue) {
  EstablishWith(Reauthing(PeerA(), false), PeerB());
  const auto sa = a_.ListSas(net_.now()).at(0);
  ASSERT_TRUE(sa.reauth_in.has_value());
  EXPECT_GE(sa.reauth_in->count(), 54);
  EXPECT_LE(sa.reauth_in->count(), 60);
  EXPECT_FALSE(sa.rekey_in.has_value());
  EXPECT_FALSE(b_.ListSas(net_.now()).at(0).reauth_in.has_value());
}

TEST_F(ReauthTest, BreakBeforeMakeDeletesTheOldSaThenMakesANewOne) {
  EstablishWith(Reauthing(PeerA(), false), PeerB());
  const auto old_a = a_.ListSas(net_.now()).at(0);
  (void)a_.TakeEvents();
  kernel_a_.ClearLog();
  net_.RunFor(seconds(61));
  ExpectOneIkeSaWithChildren(1);
  const auto now_a = a_.ListSas(net_.now()).at(0);
  EXPECT_NE(now_a.spi_i, old_a.spi_i);
  EXPECT_NE(now_a.serial, old_a.serial);
  EXPECT_TRUE(now_a.initiator);
  EXPECT_NE(now_a.children.at(0).spi_in, old_a.children.at(0).spi_in);
  // The same reqid as before: the kernel sees the same CHILD_SA config.
  EXPECT_EQ(now_a.children.at(0).reqid, old_a.children.at(0).reqid);
  const auto events = a_.TakeEvents();
  ASSERT_EQ(OfKind(events, EventKind::kIkeReauth).size(), 1u);
  EXPECT_NE(OfKind(events, EventKind::kIkeReauth)[0].text.find("break-before-make"),
            std::string::npos);
  EXPECT_EQ(OfKind(events, EventKind::kIkeDown).size(), 1u);
  EXPECT_EQ(OfKind(events, EventKind::kIkeUp).size(), 1u);
  // Break-before-make: the old policies left the kernel before the new ones came.
  EXPECT_TRUE(OutPolicyWasRemoved(kernel_a_));
  // The next reauthentication is scheduled on the new SA.
  ASSERT_TRUE(now_a.reauth_in.has_value());
  EXPECT_GE(now_a.reauth_in->count(), 50);
}

TEST_F(ReauthTest, MakeBeforeBreakKeepsThePoliciesAndDeletesTheOldSaAfterwards) {
  EstablishWith(Reauthing(PeerA(), true), PeerB());
  const auto old_a = a_.ListSas(net_.now()).at(0);
  (void)a_.TakeEvents();
  kernel_a_.ClearLog();
  kernel_b_.ClearLog();
  net_.RunFor(seconds(61));
  ExpectOneIkeSaWithChildren(1);
  const auto now_a = a_.ListSas(net_.now()).at(0);
  EXPECT_NE(now_a.spi_i, old_a.spi_i);
  EXPECT_EQ(now_a.children.at(0).reqid, old_a.children.at(0).reqid);
  // No moment without the OUT policy on either side: the new CHILD_SA updated the shared policy
  // (UPDPOLICY), the old one dropped its reference without a DELPOLICY.
  EXPECT_FALSE(OutPolicyWasRemoved(kernel_a_));
  EXPECT_FALSE(OutPolicyWasRemoved(kernel_b_));
  const auto events = a_.TakeEvents();
  const auto reauth = OfKind(events, EventKind::kIkeReauth);
  ASSERT_EQ(reauth.size(), 2u);  // started, then the old SA deleted
  EXPECT_NE(reauth[0].text.find("make-before-break"), std::string::npos);
  EXPECT_EQ(reauth[1].ike_serial, old_a.serial);
  // The new IKE SA was up before the old one went down.
  const auto up = std::find_if(events.begin(), events.end(),
                               [](const Event& e) { return e.kind == EventKind::kIkeUp; });
  const auto down = std::find_if(events.begin(), events.end(),
                                 [](const Event& e) { return e.kind == EventKind::kIkeDown; });
  ASSERT_NE(up, events.end());
  ASSERT_NE(down, events.end());
  EXPECT_LT(up - events.begin(), down - events.begin());
}

TEST_F(ReauthTest, EveryChildIsMadeAgain) {
  for (bool mbb : {false, true}) {
    SCOPED_TRACE(mbb ? "make-before-break" : "break-before-make");
    crypto::SeededRandom ra(7), rb(8);
    xfrm::FakeKernel ka, kb;
    Engine a(EngineConfig{}, ra, ka), b(EngineConfig{}, rb, kb);
    SimNetwork net;
    net.Attach(Ip("192.0.2.1"), &a);
    net.Attach(Ip("192.0.2.2"), &b);
    PeerConfig pa = Reauthing(PeerA(), mbb);
    PeerConfig pb = PeerB();
    // A second child with its own selectors (a responder picks the child config by them).
    ChildConfig net2a = RouteChild("net2", 13), net2b = RouteChild("net2", 13);
    net2a.local_ts = net2b.remote_ts = Ts("10.1.0.0/16");
    net2a.remote_ts = net2b.local_ts = Ts("10.2.0.0/16");
    pa.children.push_back(net2a);
    pb.children.push_back(net2b);
    ASSERT_TRUE(a.AddPeer(pa, net.now()).has_value());
    ASSERT_TRUE(b.AddPeer(pb, net.now()).has_value());
    ASSERT_TRUE(a.Initiate("to-b", "net", net.now()).has_value());
    ASSERT_TRUE(a.Initiate("to-b", "net2", net.now()).has_value());
    net.RunFor(seconds(1));
    ASSERT_EQ(Children(a).size(), 2u);
    const auto old_serial = a.ListSas(net.now()).at(0).serial;
    net.RunFor(seconds(61));
    const auto sas = a.ListSas(net.now());
    ASSERT_EQ(sas.size(), 1u);
    EXPECT_NE(sas[0].serial, old_serial);
    ASSERT_EQ(sas[0].children.size(), 2u);
    EXPECT_EQ(b.ListSas(net.now()).size(), 1u);
    EXPECT_EQ(Children(b).size(), 2u);
    EXPECT_EQ(ka.sa_count(), 4u);
    EXPECT_EQ(ka.policy_count(), 6u);
    EXPECT_EQ(ka.PolicyRefCount(OutPolicy(12)), 1u);
    EXPECT_EQ(ka.PolicyRefCount(xfrm::PolicyId{.src = Net("10.1.0.0/16"),
                                               .dst = Net("10.2.0.0/16"),
                                               .dir = xfrm::PolicyDir::kOut,
                                               .mark = xfrm::Mark{13, 0xffffffff}}),
              1u);
    EXPECT_EQ(kb.sa_count(), 4u);
    EXPECT_EQ(kb.policy_count(), 6u);
  }
}

// charon reauthenticates actively as a PSK responder too: B sets up the new IKE SA toward A.
TEST_F(ReauthTest, TheResponderReauthenticatesToo) {
  for (bool mbb : {false, true}) {
    SCOPED_TRACE(mbb ? "make-before-break" : "break-before-make");
    crypto::SeededRandom ra(3), rb(4);
    xfrm::FakeKernel ka, kb;
    Engine a(EngineConfig{}, ra, ka), b(EngineConfig{}, rb, kb);
    SimNetwork net;
    net.Attach(Ip("192.0.2.1"), &a);
    net.Attach(Ip("192.0.2.2"), &b);
    ASSERT_TRUE(a.AddPeer(PeerA(), net.now()).has_value());
    ASSERT_TRUE(b.AddPeer(Reauthing(PeerB(), mbb), net.now()).has_value());
    ASSERT_TRUE(a.Initiate("to-b", "net", net.now()).has_value());
    net.RunFor(seconds(61));
    const auto sas_b = b.ListSas(net.now());
    ASSERT_EQ(sas_b.size(), 1u);
    EXPECT_TRUE(sas_b[0].initiator);
    ASSERT_EQ(a.ListSas(net.now()).size(), 1u);
    EXPECT_FALSE(a.ListSas(net.now())[0].initiator);
    EXPECT_EQ(Children(a).size(), 1u);
    EXPECT_EQ(ka.sa_count(), 2u);
    EXPECT_EQ(kb.sa_count(), 2u);
    EXPECT_EQ(ka.PolicyRefCount(OutPolicy()), 1u);
    EXPECT_EQ(kb.PolicyRefCount(OutPolicy()), 1u);
  }
}

// charon: a reauthentication whose DELETE is never answered sets up the new IKE SA anyway; the
// peer, told by INITIAL_CONTACT, drops what it still had.
TEST_F(ReauthTest, AnUnansweredDeleteStillLeadsToANewSa) {
  EstablishWith(Reauthing(PeerA(), false), PeerB());
  const auto old = a_.ListSas(net_.now()).at(0);
  // Everything B sends is lost while A still has its old IKE SA: the DELETE goes unanswered
  // through the whole retransmission schedule.
  net_.drop_if = [&](const Datagram& d) {
    if (d.local.address != Ip("192.0.2.2")) return false;
    const auto sas = a_.ListSas(net_.now());
    return std::any_of(sas.begin(), sas.end(),
                       [&](const IkeSaInfo& sa) { return sa.serial == old.serial; });
  };
  (void)a_.TakeEvents();
  net_.RunFor(std::chrono::minutes(5));
  const auto downs = OfKind(a_.TakeEvents(), EventKind::kIkeDown);
  ASSERT_FALSE(downs.empty());
  EXPECT_EQ(downs[0].ike_serial, old.serial);
  EXPECT_NE(downs[0].text.find("reauthentication's DELETE"), std::string::npos) << downs[0].text;
  ExpectOneIkeSaWithChildren(1);
  EXPECT_NE(a_.ListSas(net_.now()).at(0).spi_i, old.spi_i);
}

// charon's reestablish refuses an IKE_SA deleted meanwhile: a terminate during a
// break-before-make reauthentication ends the tunnel.
TEST_F(ReauthTest, TerminateDuringAReauthenticationEndsTheTunnel) {
  EstablishWith(Reauthing(PeerA(), false), PeerB());
  // A's first DELETE is lost, so that the reauthentication is still under way.
  bool lost = false;
  net_.drop_if = [&](const Datagram& d) {
    if (lost || d.local.address != Ip("192.0.2.1")) return false;
    return lost = true;
  };
  net_.RunUntil(net_.now() + seconds(60));
  ASSERT_TRUE(lost);
  ASSERT_EQ(a_.ListSas(net_.now()).at(0).state, IkeState::kDeleting);
  ASSERT_TRUE(a_.Terminate("to-b", "", net_.now()).has_value());
  net_.RunFor(std::chrono::minutes(5));
  EXPECT_EQ(a_.ike_sa_count(), 0u);
  EXPECT_EQ(b_.ike_sa_count(), 0u);
  EXPECT_TRUE(kernel_a_.empty());
  EXPECT_TRUE(kernel_b_.empty());
}

// Short retransmissions (1 s, 2 tries: a setup is given up after about 3 s).
class ReauthRetryTest : public ReauthTest {
 protected:
  static EngineConfig Fast() {
    EngineConfig c;
    c.retransmit_timeout = std::chrono::milliseconds(1000);
    c.retransmit_base = 1.0;
    c.retransmit_tries = 2;
    return c;
  }
  ReauthRetryTest() : fast_a_(Fast(), rand_a_, kernel_a_) {}
  Engine fast_a_;
};

// A make-before-break reauthentication whose new SA gets no answer is tried again while
// keyingtries allows, and replaces the old SA before that one's hard lifetime: the CHILD_SA never
// goes away. (Before: the retry joined the old SA, and the tunnel went down at the hard lifetime.)
TEST_F(ReauthRetryTest, AFailedMakeBeforeBreakSetupIsTriedAgain) {
  net_.Attach(Ip("192.0.2.1"), &fast_a_);
  PeerConfig pa = Reauthing(PeerA(), true);
  pa.keyingtries = 5;
  ASSERT_TRUE(fast_a_.AddPeer(pa, net_.now()).has_value());
  ASSERT_TRUE(b_.AddPeer(PeerB(), net_.now()).has_value());
  const TimePoint start = net_.now();
  ASSERT_TRUE(fast_a_.Initiate("to-b", "net", net_.now()).has_value());
  net_.RunFor(seconds(1));
  const auto old = fast_a_.ListSas(net_.now()).at(0);
  // B's answers to new IKE_SA_INITs are lost until 63 s: the first attempts give up.
  net_.drop_if = [&](const Datagram& d) {
    return net_.now() < start + seconds(63) && d.local.address == Ip("192.0.2.2") &&
           d.data.size() > 28 && d.data[18] == 34;  // IKE_SA_INIT (port 500, no marker)
  };
  net_.RunUntil(start + seconds(69));  // before the old SA's hard lifetime (>= 65 s)
  const auto sas = fast_a_.ListSas(net_.now());
  ASSERT_EQ(sas.size(), 1u);
  EXPECT_NE(sas[0].serial, old.serial);
  ASSERT_EQ(sas[0].children.size(), 1u);
  EXPECT_EQ(EstablishedCount(b_), 1u);  // (and half-open ones of the lost attempts, for now)
  EXPECT_EQ(kernel_a_.sa_count(), 2u);
  EXPECT_EQ(kernel_a_.PolicyRefCount(OutPolicy()), 1u);
}

// With nothing to make again, the SA is kept until its hard lifetime (charon does the same).
TEST_F(ReauthTest, AnSaWithoutChildrenIsNotReauthenticated) {
  const TimePoint start = net_.now();
  EstablishWith(Reauthing(PeerA(), false), PeerB());
  ASSERT_TRUE(a_.Terminate("to-b", "net", net_.now()).has_value());
  net_.RunFor(seconds(1));
  ASSERT_EQ(Children(a_).size(), 0u);
  const auto serial = a_.ListSas(net_.now()).at(0).serial;
  (void)a_.TakeEvents();
  net_.RunUntil(start + seconds(65));  // past reauth_time (55..60 s), before the hard 70 s
  const auto failures = OfKind(a_.TakeEvents(), EventKind::kFailure);
  ASSERT_EQ(failures.size(), 1u);
  EXPECT_NE(failures[0].text.find("no CHILD_SA"), std::string::npos);
  ASSERT_EQ(a_.ListSas(net_.now()).size(), 1u);
  EXPECT_EQ(a_.ListSas(net_.now())[0].serial, serial);
  // ... and deleted at reauth_time + over_time.
  net_.RunUntil(start + seconds(75));
  EXPECT_EQ(a_.ike_sa_count(), 0u);
  EXPECT_EQ(b_.ike_sa_count(), 0u);
}

}  // namespace
}  // namespace minivpn::ike::test

namespace minivpn::ike::test {
namespace {

// charon's inactivity: a CHILD_SA that carried no packet for `inactivity` is closed (DELETE);
// the IKE SA stays.
class InactivityTest : public TwoPeers {
 protected:
  void EstablishIdleClosing(std::chrono::seconds inactivity) {
    PeerConfig pa = PeerA();
    pa.children[0].inactivity = inactivity;
    AddPeers(std::move(pa), PeerB());
    ASSERT_TRUE(a_.Initiate("to-b", "net", net_.now()).has_value());
    net_.RunFor(std::chrono::seconds(1));
    ASSERT_EQ(Children(a_).size(), 1u);
  }
  // A's IN policy last matched a packet `idle` ago (the kernel's view; nullopt: never).
  void InboundUsed(std::optional<std::chrono::seconds> idle) {
    kernel_a_.SetPolicyIdle(xfrm::PolicyId{.src = Net("0.0.0.0/0"),
                                           .dst = Net("0.0.0.0/0"),
                                           .dir = xfrm::PolicyDir::kIn,
                                           .mark = xfrm::Mark{12, 0xffffffff}},
                            idle);
  }
};

TEST_F(InactivityTest, AnUnusedChildIsClosedAfterTheInactivityTime) {
  const TimePoint start = net_.now();
  EstablishIdleClosing(std::chrono::seconds(30));
  (void)a_.TakeEvents();
  net_.RunUntil(start + std::chrono::seconds(25));
  EXPECT_EQ(Children(a_).size(), 1u);
  net_.RunUntil(start + std::chrono::seconds(40));
  EXPECT_EQ(Children(a_).size(), 0u);
  EXPECT_EQ(Children(b_).size(), 0u);
  EXPECT_TRUE(kernel_a_.empty());
  EXPECT_TRUE(kernel_b_.empty());
  EXPECT_EQ(a_.ike_sa_count(), 1u);  // charon's inactivity_close_ike defaults to no
  const auto notices = OfKind(a_.TakeEvents(), EventKind::kNotice);
  ASSERT_EQ(notices.size(), 1u);
  EXPECT_NE(notices[0].text.find("after 30s of inactivity"), std::string::npos) << notices[0].text;
}

TEST_F(InactivityTest, TrafficPostponesTheClose) {
  const TimePoint start = net_.now();
  EstablishIdleClosing(std::chrono::seconds(30));
  InboundUsed(std::chrono::seconds(25));  // a packet arrived 25 s before each check
  net_.RunUntil(start + std::chrono::seconds(120));
  EXPECT_EQ(Children(a_).size(), 1u);
  InboundUsed(std::nullopt);  // as if never used: idle since the install, 2 minutes
  net_.RunUntil(start + std::chrono::seconds(130));
  EXPECT_EQ(Children(a_).size(), 0u);
  EXPECT_EQ(Children(b_).size(), 0u);
}

}  // namespace
}  // namespace minivpn::ike::test
