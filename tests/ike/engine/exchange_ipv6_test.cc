// IKE over IPv6 (RFC 7296 is address-family neutral): IKE_SA_INIT, IKE_AUTH and a CHILD rekey
// between 2001:db8::1 and 2001:db8::2, with IPv4 inside (a VTI-style 0.0.0.0/0 child) and IPv6
// inside (::/0), and the kernel SAs and policy templates naming the IPv6 endpoints; NAT-D over
// IPv6 and a NAT66 seen as one.
#include <gtest/gtest.h>

#include "tests/ike/engine/engine_test_util.h"

namespace minivpn::ike::test {
namespace {

using std::chrono::seconds;

class Ipv6Test : public ::testing::Test {
 protected:
  Ipv6Test() : rand_a_(11), rand_b_(12), a_({}, rand_a_, kernel_a_), b_({}, rand_b_, kernel_b_) {
    net_.Attach(Ip("2001:db8::1"), &a_);
    net_.Attach(Ip("2001:db8::2"), &b_);
  }

  void Establish(const char* inner) {
    PeerConfig pa = MakePeer("to-b", "2001:db8::1", "2001:db8::2", "a.test", "b.test");
    PeerConfig pb = MakePeer("to-a", "2001:db8::2", "2001:db8::1", "b.test", "a.test");
    for (auto* p : {&pa, &pb}) {
      p->children[0].local_ts = Ts(inner);
      p->children[0].remote_ts = Ts(inner);
    }
    ASSERT_TRUE(a_.AddPeer(pa, net_.now()).has_value());
    ASSERT_TRUE(b_.AddPeer(pb, net_.now()).has_value());
    ASSERT_TRUE(a_.Initiate("to-b", "net", net_.now()).has_value());
    net_.RunFor(seconds(1));
  }

  crypto::SeededRandom rand_a_, rand_b_;
  xfrm::FakeKernel kernel_a_, kernel_b_;
  Engine a_, b_;
  SimNetwork net_;
};

TEST_F(Ipv6Test, Ipv4InsideIpv6) {
  Establish("0.0.0.0/0");
  const auto sas = a_.ListSas(net_.now());
  ASSERT_EQ(sas.size(), 1u);
  EXPECT_EQ(sas[0].state, IkeState::kEstablished);
  EXPECT_EQ(sas[0].local, (Endpoint{Ip("2001:db8::1"), 4500}));  // the float (charon's mobike)
  EXPECT_EQ(sas[0].remote, (Endpoint{Ip("2001:db8::2"), 4500}));
  EXPECT_FALSE(sas[0].nat_local || sas[0].nat_remote);
  ASSERT_EQ(sas[0].children.size(), 1u);
  const ChildSaInfo& c = sas[0].children[0];
  EXPECT_FALSE(c.encap);
  const xfrm::Mark mark{12, 0xffffffff};
  EXPECT_NE(kernel_a_.FindSa({Ip("2001:db8::1"), Ip("2001:db8::2"), c.spi_out, 50, mark}), nullptr);
  EXPECT_NE(kernel_a_.FindSa({Ip("2001:db8::2"), Ip("2001:db8::1"), c.spi_in, 50, {}}), nullptr);
  const auto* out = kernel_a_.FindPolicy(xfrm::PolicyId{.src = Net("0.0.0.0/0"),
                                                        .dst = Net("0.0.0.0/0"),
                                                        .dir = xfrm::PolicyDir::kOut,
                                                        .mark = mark});
  ASSERT_NE(out, nullptr);
  EXPECT_EQ(out->tmpl_src, Ip("2001:db8::1"));  // an IPv6 template on IPv4 selectors
  EXPECT_EQ(out->tmpl_dst, Ip("2001:db8::2"));
  // A CHILD rekey over IPv6 replaces the pair.
  ASSERT_TRUE(b_.Rekey("to-a", "net", net_.now()).has_value());
  net_.RunFor(seconds(2));
  ASSERT_EQ(Children(a_).size(), 1u);
  EXPECT_NE(Children(a_)[0].spi_out, c.spi_out);
  EXPECT_EQ(kernel_a_.sa_count(), 2u);
  EXPECT_EQ(kernel_b_.sa_count(), 2u);
}

TEST_F(Ipv6Test, Ipv6InsideIpv6) {
  Establish("::/0");
  ASSERT_EQ(Children(b_).size(), 1u);
  const ChildSaInfo c = Children(b_)[0];
  ASSERT_EQ(c.local_ts.size(), 1u);
  EXPECT_EQ(c.local_ts[0].net, Net("::/0"));
  const auto* in = kernel_b_.FindPolicy(xfrm::PolicyId{.src = Net("::/0"),
                                                       .dst = Net("::/0"),
                                                       .dir = xfrm::PolicyDir::kIn,
                                                       .mark = xfrm::Mark{12, 0xffffffff}});
  ASSERT_NE(in, nullptr);
  EXPECT_EQ(in->tmpl_src, Ip("2001:db8::1"));
  EXPECT_EQ(in->priority, 399999u);  // ::/0 <-> ::/0, as 0.0.0.0/0: charon's formula
}

// A NAT66 (or NPTv6) between the peers: NAT-D over IPv6 detects it and ESP goes in UDP.
TEST_F(Ipv6Test, NatDetectionOverIpv6) {
  PeerConfig pa = MakePeer("to-b", "2001:db8::1", "2001:db8::2", "a.test", "b.test");
  PeerConfig pb = MakePeer("to-a", "2001:db8::2", "2001:db8:ffff::7", "b.test", "a.test");
  ASSERT_TRUE(a_.AddPeer(pa, net_.now()).has_value());
  ASSERT_TRUE(b_.AddPeer(pb, net_.now()).has_value());
  ASSERT_TRUE(a_.Initiate("to-b", "net", net_.now()).has_value());
  for (int step = 0; step < 4; ++step) {
    for (auto& d : a_.TakeDatagrams()) {
      d.local.address = Ip("2001:db8:ffff::7");  // the NAT's address, the same ports
      b_.HandleDatagram(Datagram{.local = d.remote, .remote = d.local, .data = d.data}, net_.now());
    }
    for (auto& d : b_.TakeDatagrams()) {
      ASSERT_EQ(d.remote.address, Ip("2001:db8:ffff::7"));
      a_.HandleDatagram(Datagram{.local = Endpoint{Ip("2001:db8::1"), d.remote.port},
                                 .remote = d.local,
                                 .data = d.data},
                        net_.now());
    }
  }
  const auto sa_a = a_.ListSas(net_.now());
  const auto sa_b = b_.ListSas(net_.now());
  ASSERT_EQ(sa_a.size(), 1u);
  ASSERT_EQ(sa_b.size(), 1u);
  EXPECT_EQ(sa_b[0].state, IkeState::kEstablished);
  EXPECT_TRUE(sa_a[0].nat_local);
  EXPECT_TRUE(sa_b[0].nat_remote);
  ASSERT_EQ(sa_b[0].children.size(), 1u);
  EXPECT_TRUE(sa_b[0].children[0].encap);
}

}  // namespace
}  // namespace minivpn::ike::test
