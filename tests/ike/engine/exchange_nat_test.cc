// NAT traversal beyond detection (RFC 7296 2.23, RFC 3948): NAT-T keepalives from the side
// behind the NAT, a new NAT mapping moving the IKE SA and the kernel SAs without a rekey, forced
// encapsulation (charon's encap) and fragmentation = force.
#include <gtest/gtest.h>

#include <map>
#include <utility>
#include <vector>

#include "tests/ike/engine/engine_test_util.h"

namespace minivpn::ike::test {
namespace {

using std::chrono::seconds;

// A (192.0.2.1) sits behind a NAT that shows it as 198.51.100.7, with one UDP port per inner
// port (a mapping); B (192.0.2.2) is public. Pump() moves datagrams both ways through the NAT
// and fires the timers in order, recording what crossed the wire.
class NatTest : public TwoPeers {
 protected:
  struct Wire {
    TimePoint at;
    Datagram datagram;  // as on the wire between the NAT and B
  };

  void EstablishThroughNat() {
    PeerConfig pb = PeerB();
    pb.remote_address = kPublic;
    AddPeers(PeerA(), std::move(pb));
    ASSERT_TRUE(a_.Initiate("to-b", "net", now_).has_value());
    Pump(now_ + seconds(1));
    ASSERT_EQ(EstablishedCount(a_), 1u);
    ASSERT_EQ(EstablishedCount(b_), 1u);
    from_a_.clear();
    from_b_.clear();
  }

  void Pump(TimePoint until) {
    for (;;) {
      bool moved = false;
      for (auto& d : a_.TakeDatagrams()) {
        moved = true;
        d.local = Endpoint{kPublic, mapping_.at(d.local.port)};
        from_a_.push_back({now_, d});
        b_.HandleDatagram(Datagram{.local = d.remote, .remote = d.local, .data = d.data}, now_);
      }
      for (auto& d : b_.TakeDatagrams()) {
        moved = true;
        from_b_.push_back({now_, d});
        for (const auto& [inner, outer] : mapping_) {
          if (d.remote.address != kPublic || d.remote.port != outer) continue;
          a_.HandleDatagram(Datagram{.local = Endpoint{Ip("192.0.2.1"), inner},
                                     .remote = d.local,
                                     .data = d.data},
                            now_);
        }
      }
      if (moved) continue;
      auto next = a_.NextDeadline();
      if (auto nb = b_.NextDeadline(); nb && (!next || *nb < *next)) next = nb;
      if (!next || *next > until) break;
      now_ = std::max(now_, *next);
      a_.HandleTimers(now_);
      b_.HandleTimers(now_);
    }
    now_ = until;
  }

  static std::vector<TimePoint> Keepalives(const std::vector<Wire>& wire) {
    std::vector<TimePoint> at;
    for (const auto& w : wire)
      if (w.datagram.data == std::vector<std::uint8_t>{0xFF}) at.push_back(w.at);
    return at;
  }

  const ChildSaInfo& ChildOf(const Engine& e) {
    children_ = Children(e);
    EXPECT_EQ(children_.size(), 1u);
    return children_.front();
  }

  // XFRM_MSG_MAPPING: ESP of the inbound SA `spi` (from `src` to `dst`) came from a new source.
  static xfrm::MappingEvent Mapping(const xfrm::IpAddress& src, const xfrm::IpAddress& dst,
                                    std::uint32_t spi, const xfrm::IpAddress& new_src,
                                    std::uint16_t new_sport) {
    return xfrm::MappingEvent{.sa = {.src = src, .dst = dst, .spi = spi, .proto = 50, .mark = {}},
                              .new_src = new_src,
                              .new_sport = new_sport};
  }

  static xfrm::PolicyId OutPolicy() {
    return xfrm::PolicyId{.src = Net("0.0.0.0/0"),
                          .dst = Net("0.0.0.0/0"),
                          .dir = xfrm::PolicyDir::kOut,
                          .mark = xfrm::Mark{12, 0xffffffff}};
  }

  const xfrm::IpAddress kPublic = Ip("198.51.100.7");
  std::map<std::uint16_t, std::uint16_t> mapping_{{500, 31000}, {4500, 31001}};
  TimePoint now_{};
  std::vector<Wire> from_a_, from_b_;
  std::vector<ChildSaInfo> children_;
};

TEST_F(NatTest, TheSideBehindTheNatSendsKeepalivesWhileIdle) {
  EstablishThroughNat();
  const TimePoint start = now_;
  Pump(start + seconds(65));
  // charon's keep_alive (20 s): one octet 0xFF from A's NAT-T port, none from B.
  const auto sent = Keepalives(from_a_);
  ASSERT_EQ(sent.size(), 3u);
  // 20 s after A's last IKE message (its IKE_AUTH request, just before `start`).
  EXPECT_LE(sent[0], start + seconds(20));
  EXPECT_GE(sent[0], start + seconds(19));
  EXPECT_EQ(sent[1] - sent[0], seconds(20));
  EXPECT_EQ(sent[2] - sent[1], seconds(20));
  for (const auto& w : from_a_) {
    EXPECT_EQ(w.datagram.local.port, 31001);  // A's 4500 through the NAT
    EXPECT_EQ(w.datagram.remote.port, 4500);
  }
  EXPECT_TRUE(Keepalives(from_b_).empty());
  EXPECT_FALSE(OfKind(a_.TakeEvents(), EventKind::kKeepalive).empty());
}

TEST_F(NatTest, OutboundEspPostponesKeepalives) {
  EstablishThroughNat();
  // ESP went out a moment ago, every time the OUT policy is asked (traffic flowing).
  kernel_a_.SetPolicyIdle(OutPolicy(), seconds(0));
  Pump(now_ + seconds(65));
  EXPECT_TRUE(Keepalives(from_a_).empty());
  // The traffic stops: keepalives again within one interval.
  kernel_a_.SetPolicyIdle(OutPolicy(), std::nullopt);
  const TimePoint quiet = now_;
  Pump(now_ + seconds(21));
  ASSERT_EQ(Keepalives(from_a_).size(), 1u);
  EXPECT_LE(Keepalives(from_a_)[0], quiet + seconds(20));
}

TEST_F(NatTest, NoKeepalivesWhenDisabled) {
  EngineConfig cfg;
  cfg.keep_alive = seconds(0);
  crypto::SeededRandom ra(7);
  xfrm::FakeKernel ka;
  Engine a(cfg, ra, ka);
  ASSERT_TRUE(a.AddPeer(PeerA(), now_).has_value());
  ASSERT_TRUE(a.Initiate("to-b", "net", now_).has_value());
  EXPECT_EQ(a.TakeDatagrams().size(), 1u);  // IKE_SA_INIT only; nothing keeps a timer for NAT
}

TEST_F(NatTest, ANewMappingMovesTheSasWithoutARekey) {
  EstablishThroughNat();
  const ChildSaInfo before = ChildOf(b_);
  // The NAT forgot A's mapping; A's next ESP packet leaves from a new port, and B's kernel says
  // so (XFRM_MSG_MAPPING for B's inbound SA).
  mapping_[4500] = 40000;
  (void)b_.TakeEvents();
  b_.HandleKernelEvent(Mapping(kPublic, Ip("192.0.2.2"), before.spi_in, kPublic, 40000), now_);
  EXPECT_EQ(OfKind(b_.TakeEvents(), EventKind::kIkeUpdated).size(), 1u);
  EXPECT_EQ(b_.ListSas(now_)[0].remote, (Endpoint{kPublic, 40000}));
  const ChildSaInfo after = ChildOf(b_);
  EXPECT_EQ(after.spi_in, before.spi_in);  // no rekey: the same SAs
  EXPECT_EQ(after.spi_out, before.spi_out);
  const auto* out = kernel_b_.FindSa({Ip("192.0.2.2"), kPublic, before.spi_out, 50,
                                      xfrm::Mark{12, 0xffffffff}});
  const auto* in = kernel_b_.FindSa({kPublic, Ip("192.0.2.2"), before.spi_in, 50, {}});
  ASSERT_NE(out, nullptr);
  ASSERT_NE(in, nullptr);
  EXPECT_EQ(out->encap, (xfrm::UdpEncap{.sport = 4500, .dport = 40000}));
  EXPECT_EQ(in->encap, (xfrm::UdpEncap{.sport = 40000, .dport = 4500}));
  // IKE follows: B's next request (a CHILD rekey) reaches A through the new mapping.
  ASSERT_TRUE(b_.Rekey("to-a", "net", now_).has_value());
  Pump(now_ + seconds(2));
  ASSERT_FALSE(from_b_.empty());
  EXPECT_EQ(from_b_.front().datagram.remote.port, 40000);
  EXPECT_EQ(kernel_b_.sa_count(), 2u);
  EXPECT_EQ(kernel_a_.sa_count(), 2u);
}

TEST_F(NatTest, ANewTranslatedAddressMovesSasAndPolicyTemplates) {
  EstablishThroughNat();
  const ChildSaInfo before = ChildOf(b_);
  const xfrm::IpAddress rebound = Ip("198.51.100.8");
  b_.HandleKernelEvent(Mapping(kPublic, Ip("192.0.2.2"), before.spi_in, rebound, 40001), now_);
  const xfrm::Mark mark{12, 0xffffffff};
  EXPECT_EQ(kernel_b_.FindSa({Ip("192.0.2.2"), kPublic, before.spi_out, 50, mark}), nullptr);
  const auto* out = kernel_b_.FindSa({Ip("192.0.2.2"), rebound, before.spi_out, 50, mark});
  ASSERT_NE(out, nullptr);
  EXPECT_EQ(out->encap, (xfrm::UdpEncap{.sport = 4500, .dport = 40001}));
  ASSERT_NE(kernel_b_.FindSa({rebound, Ip("192.0.2.2"), before.spi_in, 50, {}}), nullptr);
  // The tunnel-mode templates name the new address, in every direction.
  for (auto dir : {xfrm::PolicyDir::kIn, xfrm::PolicyDir::kFwd, xfrm::PolicyDir::kOut}) {
    xfrm::PolicyId id = OutPolicy();
    id.dir = dir;
    const auto* p = kernel_b_.FindPolicy(id);
    ASSERT_NE(p, nullptr);
    EXPECT_EQ(dir == xfrm::PolicyDir::kOut ? p->tmpl_dst : p->tmpl_src, rebound);
  }
  EXPECT_EQ(b_.ListSas(now_)[0].remote, (Endpoint{rebound, 40001}));
  // Removing the IKE SA removes what is in the kernel now (A never answers: the DELETE goes to
  // a mapping A's NAT does not have, so B gives up after its retransmissions).
  ASSERT_TRUE(b_.Terminate("to-a", "", now_).has_value());
  Pump(now_ + seconds(200));
  EXPECT_TRUE(b_.ListSas(now_).empty());
  EXPECT_TRUE(kernel_b_.empty());
}

TEST_F(NatTest, TheSideBehindTheNatDoesNotFollowItsPeer) {
  EstablishThroughNat();
  const ChildSaInfo before = ChildOf(a_);
  // A started the SA from behind its NAT: a mapping event (or a message from elsewhere) does not
  // move its peer (charon's update_hosts: only while the peer is behind a NAT).
  a_.HandleKernelEvent(
      Mapping(Ip("192.0.2.2"), Ip("192.0.2.1"), before.spi_in, Ip("192.0.2.9"), 4501), now_);
  EXPECT_EQ(a_.ListSas(now_)[0].remote, (Endpoint{Ip("192.0.2.2"), 4500}));
  EXPECT_TRUE(OfKind(a_.TakeEvents(), EventKind::kIkeUpdated).empty());
}

TEST_F(NatTest, AnUnknownSpiIsDropped) {
  EstablishThroughNat();
  (void)b_.TakeEvents();
  b_.HandleKernelEvent(Mapping(kPublic, Ip("192.0.2.2"), 0xdeadbeef, kPublic, 1), now_);
  EXPECT_EQ(OfKind(b_.TakeEvents(), EventKind::kDropped).size(), 1u);
  EXPECT_EQ(b_.ListSas(now_)[0].remote, (Endpoint{kPublic, 31001}));
}

// A kernel move that fails leaves the CHILD_SA where it was (and says so).
TEST_F(NatTest, AFailedMoveLeavesTheChildSaAsItWas) {
  EstablishThroughNat();
  const ChildSaInfo before = ChildOf(b_);
  kernel_b_.FailNth(2, std::errc::no_buffer_space);  // the outbound SA's move
  (void)b_.TakeEvents();
  b_.HandleKernelEvent(
      Mapping(kPublic, Ip("192.0.2.2"), before.spi_in, Ip("198.51.100.8"), 40001), now_);
  EXPECT_EQ(OfKind(b_.TakeEvents(), EventKind::kFailure).size(), 1u);
  const xfrm::Mark mark{12, 0xffffffff};
  ASSERT_NE(kernel_b_.FindSa({Ip("192.0.2.2"), kPublic, before.spi_out, 50, mark}), nullptr);
  const auto* in = kernel_b_.FindSa({kPublic, Ip("192.0.2.2"), before.spi_in, 50, {}});
  ASSERT_NE(in, nullptr);  // moved back
  EXPECT_EQ(in->encap, (xfrm::UdpEncap{.sport = 31001, .dport = 4500}));
}

// charon's encap = yes without a NAT: A's NAT-D source names a made-up address, so B sees A
// behind a NAT; A sees both hashes match and encapsulates anyway (COND_NAT_FAKE). Nobody is
// behind a NAT, so nobody sends keepalives.
TEST_F(NatTest, ForcedEncapsulationWithoutANat) {
  PeerConfig pa = PeerA();
  pa.encap = true;
  AddPeers(std::move(pa), PeerB());
  std::size_t keepalives = 0;
  net_.drop_if = [&keepalives](const Datagram& d) {
    if (d.data == std::vector<std::uint8_t>{0xFF}) ++keepalives;
    return false;
  };
  ASSERT_TRUE(a_.Initiate("to-b", "net", net_.now()).has_value());
  net_.RunFor(seconds(1));
  ASSERT_EQ(EstablishedCount(a_), 1u);
  const auto sa_a = a_.ListSas(net_.now())[0];
  const auto sa_b = b_.ListSas(net_.now())[0];
  EXPECT_TRUE(sa_a.nat_fake);
  EXPECT_FALSE(sa_a.nat_local || sa_a.nat_remote);
  EXPECT_TRUE(sa_b.nat_remote);
  EXPECT_FALSE(sa_b.nat_local || sa_b.nat_fake);
  ASSERT_EQ(sa_a.children.size(), 1u);
  EXPECT_TRUE(sa_a.children[0].encap);
  EXPECT_TRUE(sa_b.children[0].encap);
  const auto* out = kernel_a_.FindSa({Ip("192.0.2.1"), Ip("192.0.2.2"),
                                      sa_a.children[0].spi_out, 50, xfrm::Mark{12, 0xffffffff}});
  ASSERT_NE(out, nullptr);
  EXPECT_EQ(out->encap, (xfrm::UdpEncap{.sport = 4500, .dport = 4500}));
  net_.RunFor(seconds(65));
  EXPECT_EQ(keepalives, 0u);
}

// fragmentation = force: A fragments IKE_AUTH above fragment_size although B did not announce
// RFC 7383 support; B reassembles. Returns the datagrams A sent and whether B got established.
std::pair<std::size_t, bool> HandshakeToAPeerWithoutFragmentation(bool force) {
  EngineConfig small;
  small.fragment_size = 200;
  crypto::SeededRandom ra(1), rb(2);
  xfrm::FakeKernel ka, kb;
  Engine a(small, ra, ka), b(EngineConfig{}, rb, kb);
  SimNetwork net;
  net.Attach(Ip("192.0.2.1"), &a);
  net.Attach(Ip("192.0.2.2"), &b);
  PeerConfig pa = MakePeer("to-b", "192.0.2.1", "192.0.2.2", "a.test", "b.test");
  PeerConfig pb = MakePeer("to-a", "192.0.2.2", "192.0.2.1", "b.test", "a.test");
  pa.fragment_force = force;
  pb.fragmentation = false;
  EXPECT_TRUE(a.AddPeer(pa, net.now()).has_value());
  EXPECT_TRUE(b.AddPeer(pb, net.now()).has_value());
  std::size_t from_a = 0;
  net.drop_if = [&from_a](const Datagram& d) {
    if (d.local.address == Ip("192.0.2.1")) ++from_a;
    return false;
  };
  EXPECT_TRUE(a.Initiate("to-b", "net", net.now()).has_value());
  net.RunFor(seconds(1));
  const auto sas = b.ListSas(net.now());
  return {from_a, sas.size() == 1 && sas[0].state == IkeState::kEstablished};
}

TEST(FragmentationForce, FragmentsForAPeerThatDidNotAnnounce) {
  const auto [forced, forced_up] = HandshakeToAPeerWithoutFragmentation(true);
  EXPECT_GT(forced, 2u);  // IKE_SA_INIT, then IKE_AUTH in several fragments
  EXPECT_TRUE(forced_up);
  // Without force, IKE_AUTH goes whole to a peer that did not announce support.
  const auto [whole, whole_up] = HandshakeToAPeerWithoutFragmentation(false);
  EXPECT_EQ(whole, 2u);
  EXPECT_TRUE(whole_up);
}

}  // namespace
}  // namespace minivpn::ike::test
