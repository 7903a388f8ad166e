#include "xfrm/child_install.h"

#include <gtest/gtest.h>

#include "xfrm/fake_kernel.h"

namespace minivpn::xfrm {
namespace {

IpAddress Ip(std::string_view text) { return *IpAddress::Parse(text); }

// The seed tunnel of kernel-reference.md: 192.0.2.1 <-> 192.0.2.2, VTI key 12, 0/0 <-> 0/0.
ChildSaKernel SeedChild(std::uint32_t spi_in) {
  ChildSaKernel c;
  c.local = Ip("192.0.2.1");
  c.remote = Ip("192.0.2.2");
  c.local_ts = {xfrm::Selector::Of(*xfrm::Subnet::Parse("0.0.0.0/0"))};
  c.remote_ts = {xfrm::Selector::Of(*xfrm::Subnet::Parse("0.0.0.0/0"))};
  c.spi_in = spi_in;
  c.spi_out = 0xc7902371;
  c.reqid = 1;
  c.mark_in = {12, 0xffffffff};
  c.mark_out = {12, 0xffffffff};
  c.algorithms = {crypto::EncrId::kAesGcm16, 256, crypto::IntegId::kNone, false};
  c.encr_key_in = SecretBytes(36);
  c.encr_key_out = SecretBytes(36);
  c.lifetime.soft_add_seconds = 3500;
  c.lifetime.hard_add_seconds = 3960;
  return c;
}

TEST(ChildInstall, SpecsFollowCharon) {
  const ChildSaKernel c = SeedChild(0xc903137c);
  const SaSpec in = InboundSaSpec(c);
  EXPECT_TRUE(in.inbound);
  EXPECT_EQ(in.id.src, c.remote);
  EXPECT_EQ(in.id.dst, c.local);
  EXPECT_EQ(in.id.spi, 0xc903137cu);
  EXPECT_FALSE(in.id.mark.is_set());  // no mark on the inbound SA
  EXPECT_EQ(in.replay_window, 32u);
  const SaSpec out = OutboundSaSpec(c);
  EXPECT_FALSE(out.inbound);
  EXPECT_EQ(out.id.src, c.local);
  EXPECT_EQ(out.id.mark, (Mark{12, 0xffffffff}));
  EXPECT_EQ(out.replay_window, 0u);

  const auto p = ChildPolicies(c);
  EXPECT_EQ(p[0].id.dir, PolicyDir::kIn);
  EXPECT_EQ(p[1].id.dir, PolicyDir::kFwd);
  EXPECT_EQ(p[2].id.dir, PolicyDir::kOut);
  for (const auto& policy : p) {
    EXPECT_EQ(policy.priority, 399999u);
    EXPECT_EQ(policy.reqid, 1u);
    EXPECT_EQ(policy.id.mark, (Mark{12, 0xffffffff}));
  }
  EXPECT_EQ(p[0].tmpl_src, c.remote);
  EXPECT_EQ(p[0].tmpl_spi, 0u);
  EXPECT_EQ(p[1].tmpl_spi, 0u);
  EXPECT_EQ(p[2].tmpl_src, c.local);
  EXPECT_EQ(p[2].tmpl_spi, 0xc7902371u);
}

TEST(ChildInstall, EsnOutboundWindowOneAndMarkInSa) {
  ChildSaKernel c = SeedChild(0xc903137c);
  c.algorithms.esn = true;
  c.mark_in_sa = true;
  EXPECT_EQ(OutboundSaSpec(c).replay_window, 1u);
  EXPECT_EQ(InboundSaSpec(c).id.mark, (Mark{12, 0xffffffff}));
}

TEST(ChildInstall, NatTPortsSwapForInbound) {
  ChildSaKernel c = SeedChild(0xc903137c);
  c.encap = UdpEncap{4500, 31337};
  EXPECT_EQ(OutboundSaSpec(c).encap, (UdpEncap{4500, 31337}));
  EXPECT_EQ(InboundSaSpec(c).encap, (UdpEncap{31337, 4500}));
}

// charon's if_id_in/if_id_out: the inbound SA and IN/FWD policies carry if_id_in, the outbound
// SA and OUT policy if_id_out (here different, to tell them apart).
TEST(ChildInstall, IfIdsByDirection) {
  ChildSaKernel c = SeedChild(0xc903137c);
  c.if_id_in = 41;
  c.if_id_out = 42;
  EXPECT_EQ(InboundSaSpec(c).if_id, 41u);
  EXPECT_EQ(OutboundSaSpec(c).if_id, 42u);
  const auto p = ChildPolicies(c);
  ASSERT_EQ(p.size(), 3u);
  EXPECT_EQ(p[0].id.if_id, 41u);  // in
  EXPECT_EQ(p[1].id.if_id, 41u);  // fwd
  EXPECT_EQ(p[2].id.if_id, 42u);  // out
  EXPECT_EQ(p[2].priority, 399999u);  // an interface id does not change charon's priority
}

TEST(ChildInstall, InstallsInCharonOrderAndRemovesEverything) {
  FakeKernel k;
  const auto spi = k.AllocSpi(Ip("192.0.2.2"), Ip("192.0.2.1"), 1, kCharonSpiRange);
  ASSERT_TRUE(spi.has_value());
  const ChildSaKernel c = SeedChild(*spi);
  ASSERT_FALSE(InstallChildSa(k, c));
  ASSERT_EQ(k.log().size(), 6u);
  EXPECT_EQ(k.log()[1].kind, FakeOpKind::kAddSa);
  EXPECT_TRUE(k.log()[1].inbound);
  EXPECT_EQ(k.log()[2].kind, FakeOpKind::kAddSa);
  EXPECT_FALSE(k.log()[2].inbound);
  EXPECT_EQ(k.log()[3].policy.id.dir, PolicyDir::kIn);
  EXPECT_EQ(k.log()[4].policy.id.dir, PolicyDir::kFwd);
  EXPECT_EQ(k.log()[5].policy.id.dir, PolicyDir::kOut);
  EXPECT_EQ(k.sa_count(), 2u);
  EXPECT_EQ(k.policy_count(), 3u);
  ASSERT_FALSE(RemoveChildSa(k, c));
  EXPECT_TRUE(k.empty());
}

// bad-inputs.md N: each step failing in turn leaves nothing behind.
TEST(ChildInstall, EachStepFailingRollsBackCompletely) {
  for (std::size_t step = 1; step <= 5; ++step) {
    SCOPED_TRACE(step);
    FakeKernel k;
    const auto spi = k.AllocSpi(Ip("192.0.2.2"), Ip("192.0.2.1"), 1, kCharonSpiRange);
    ASSERT_TRUE(spi.has_value());
    k.FailNth(step, std::errc::no_buffer_space);
    EXPECT_EQ(InstallChildSa(k, SeedChild(*spi)), std::errc::no_buffer_space);
    EXPECT_TRUE(k.empty());
  }
}

TEST(ChildInstall, SharedPoliciesSurviveOneChildRemoval) {
  FakeKernel k;
  const auto spi1 = k.AllocSpi(Ip("192.0.2.2"), Ip("192.0.2.1"), 1, kCharonSpiRange);
  const auto spi2 = k.AllocSpi(Ip("192.0.2.2"), Ip("192.0.2.1"), 1, kCharonSpiRange);
  ASSERT_TRUE(spi1 && spi2);
  ChildSaKernel c1 = SeedChild(*spi1);
  ChildSaKernel c2 = SeedChild(*spi2);
  c2.spi_out = 0xc7902372;
  ASSERT_FALSE(InstallChildSa(k, c1));
  ASSERT_FALSE(InstallChildSa(k, c2));
  const PolicyId out = ChildPolicies(c1)[2].id;
  EXPECT_EQ(k.PolicyRefCount(out), 2u);
  EXPECT_EQ(k.FindPolicy(out)->tmpl_spi, 0xc7902372u);
  // A failing third child must not disturb the two installed ones.
  const auto spi3 = k.AllocSpi(Ip("192.0.2.2"), Ip("192.0.2.1"), 1, kCharonSpiRange);
  ASSERT_TRUE(spi3.has_value());
  ChildSaKernel c3 = SeedChild(*spi3);
  c3.spi_out = 0xc7902373;
  k.FailNth(5, std::errc::no_buffer_space);  // the OUT policy
  EXPECT_TRUE(InstallChildSa(k, c3));
  EXPECT_EQ(k.PolicyRefCount(out), 2u);
  EXPECT_EQ(k.FindPolicy(out)->tmpl_spi, 0xc7902372u);
  EXPECT_EQ(k.sa_count(), 4u);

  ASSERT_FALSE(RemoveChildSa(k, c2));
  EXPECT_EQ(k.PolicyRefCount(out), 1u);
  EXPECT_EQ(k.FindPolicy(out)->tmpl_spi, 0xc7902371u);
  ASSERT_FALSE(RemoveChildSa(k, c1));
  EXPECT_TRUE(k.empty());
}

TEST(ChildInstall, RemoveReportsFirstErrorButContinues) {
  FakeKernel k;
  const auto spi = k.AllocSpi(Ip("192.0.2.2"), Ip("192.0.2.1"), 1, kCharonSpiRange);
  ASSERT_TRUE(spi.has_value());
  const ChildSaKernel c = SeedChild(*spi);
  ASSERT_FALSE(InstallChildSa(k, c));
  k.FailNth(1, std::errc::no_buffer_space);
  EXPECT_EQ(RemoveChildSa(k, c), std::errc::no_buffer_space);
  EXPECT_EQ(k.sa_count(), 0u);
  EXPECT_EQ(k.policy_count(), 1u);  // only the OUT policy whose delete failed
}

TEST(PolicyPriority, CharonValues) {
  EXPECT_EQ(PolicyPriority(*Subnet::Parse("0.0.0.0/0"), *Subnet::Parse("0.0.0.0/0")), 399999u);
  EXPECT_EQ(PolicyPriority(*Subnet::Parse("10.1.0.0/16"), *Subnet::Parse("10.2.0.0/16")), 383615u);
  EXPECT_EQ(PolicyPriority(*Subnet::Parse("10.1.0.1/32"), *Subnet::Parse("10.2.0.1/32")), 367231u);
  EXPECT_EQ(PolicyPriority(*Subnet::Parse("0.0.0.0/0"), *Subnet::Parse("0.0.0.0/0"), true),
            400000u);
}

// Selectors with a protocol and ports (charon's ts2selector, ts2ports, get_priority).

Selector Sel(const char* net, std::uint8_t proto = 0, std::uint16_t from = 0,
             std::uint16_t to = 0xffff) {
  Selector s = Selector::Of(*Subnet::Parse(net));
  s.proto = proto;
  s.from_port = from;
  s.to_port = to;
  return s;
}

TEST(PortMatchOf, OnePortAnyPortAndRangesAsCharonsTs2ports) {
  EXPECT_EQ(PortMatchOf(80, 80), (PortMatch{80, 0xffff}));
  EXPECT_EQ(PortMatchOf(0, 0), (PortMatch{0, 0xffff}));  // port 0 exactly, not "any"
  EXPECT_EQ(PortMatchOf(0, 65535), (PortMatch{0, 0}));
  EXPECT_EQ(PortMatchOf(1024, 2047), (PortMatch{1024, 0xfc00}));
  EXPECT_EQ(PortMatchOf(80, 81), (PortMatch{80, 0xfffe}));
  // A range that is no prefix widens to the prefix both ends share.
  EXPECT_EQ(PortMatchOf(1000, 2000), (PortMatch{0, 0xf800}));
  EXPECT_EQ(PortMatchOf(81, 82), (PortMatch{80, 0xfffc}));
  EXPECT_EQ(PortMatchOf(32768, 65535), (PortMatch{32768, 0x8000}));
}

TEST(PolicyIdOf, TheMoreSpecificProtocolAndEachSidesPorts) {
  const Mark mark{12, 0xffffffff};
  const PolicyId out =
      PolicyIdOf(Sel("10.1.0.0/16", 6, 80, 80), Sel("10.2.0.0/16"), PolicyDir::kOut, mark);
  EXPECT_EQ(out.src, *Subnet::Parse("10.1.0.0/16"));
  EXPECT_EQ(out.dst, *Subnet::Parse("10.2.0.0/16"));
  EXPECT_EQ(out.dir, PolicyDir::kOut);
  EXPECT_EQ(out.mark, mark);
  EXPECT_EQ(out.proto, 6);
  EXPECT_EQ(out.sport, (PortMatch{80, 0xffff}));
  EXPECT_EQ(out.dport, (PortMatch{0, 0}));
  const PolicyId in =
      PolicyIdOf(Sel("10.2.0.0/16"), Sel("10.1.0.0/16", 6, 80, 80), PolicyDir::kIn, Mark{});
  EXPECT_EQ(in.proto, 6);  // the protocol of the destination side
  EXPECT_EQ(in.sport, (PortMatch{0, 0}));
  EXPECT_EQ(in.dport, (PortMatch{80, 0xffff}));
  const PolicyId both = PolicyIdOf(Sel("10.1.0.0/16", 17, 53, 53),
                                   Sel("10.2.0.0/16", 17, 1024, 2047), PolicyDir::kOut, Mark{});
  EXPECT_EQ(both.proto, 17);
  EXPECT_EQ(both.sport, (PortMatch{53, 0xffff}));
  EXPECT_EQ(both.dport, (PortMatch{1024, 0xfc00}));
  const PolicyId any = PolicyIdOf(Sel("0.0.0.0/0"), Sel("0.0.0.0/0"), PolicyDir::kFwd, Mark{});
  EXPECT_EQ(any.proto, 0);
  EXPECT_EQ(any.sport, PortMatch{});
  EXPECT_EQ(any.dport, PortMatch{});
}

TEST(PolicyPriority, CharonValuesWithProtocolAndPorts) {
  // GRE host to host: 400000 - 512*64 - 256 - 1.
  const PolicyId gre =
      PolicyIdOf(Sel("192.0.2.1/32", 47), Sel("192.0.2.2/32", 47), PolicyDir::kOut, Mark{});
  EXPECT_EQ(PolicyPriority(gre), 366975u);
  EXPECT_EQ(PolicyPriority(gre, /*trap=*/true), 366976u);
  // tcp/80 on one side of 10.1.0.0/16 <-> 10.2.0.0/16: 383615 - 256 - 4*16.
  const PolicyId tcp80 =
      PolicyIdOf(Sel("10.1.0.0/16", 6, 80, 80), Sel("10.2.0.0/16"), PolicyDir::kOut, Mark{});
  EXPECT_EQ(PolicyPriority(tcp80), 383295u);
  // Ports on both sides, one of them a range of 6 mask bits: 383615 - 256 - 4*(16+6).
  const PolicyId ports = PolicyIdOf(Sel("10.1.0.0/16", 6, 80, 80),
                                    Sel("10.2.0.0/16", 6, 1024, 2047), PolicyDir::kOut, Mark{});
  EXPECT_EQ(PolicyPriority(ports), 383615u - 256u - 88u);
  // The old signature is the no-protocol case.
  EXPECT_EQ(PolicyPriority(*Subnet::Parse("10.1.0.0/16"), *Subnet::Parse("10.2.0.0/16")),
            PolicyPriority(PolicyIdOf(Sel("10.1.0.0/16"), Sel("10.2.0.0/16"), PolicyDir::kIn,
                                      Mark{})));
}

ChildSaKernel DualStackChild(std::uint32_t spi_in) {
  ChildSaKernel c = SeedChild(spi_in);
  c.local_ts = {Sel("0.0.0.0/0"), Sel("::/0")};
  c.remote_ts = {Sel("0.0.0.0/0"), Sel("::/0")};
  return c;
}

TEST(ChildInstall, DualStackGivesThreePoliciesPerFamily) {
  const auto p = ChildPolicies(DualStackChild(0xc903137c));
  ASSERT_EQ(p.size(), 6u);
  const PolicyDir dirs[] = {PolicyDir::kIn, PolicyDir::kFwd, PolicyDir::kOut};
  for (std::size_t i = 0; i < p.size(); ++i) {
    SCOPED_TRACE(i);
    EXPECT_EQ(p[i].id.dir, dirs[i % 3]);
    EXPECT_EQ(p[i].id.src.address.family, p[i].id.dst.address.family) << "families mixed";
    EXPECT_EQ(p[i].id.src, *Subnet::Parse(i < 3 ? "0.0.0.0/0" : "::/0"));
    EXPECT_EQ(p[i].id.dst, *Subnet::Parse(i < 3 ? "0.0.0.0/0" : "::/0"));
    EXPECT_EQ(p[i].priority, 399999u);
    EXPECT_EQ(p[i].reqid, 1u);
    EXPECT_FALSE(p[i].transport);
    // The templates carry the IKE (IPv4) endpoints for both families.
    EXPECT_EQ(p[i].tmpl_src, Ip(dirs[i % 3] == PolicyDir::kOut ? "192.0.2.1" : "192.0.2.2"));
    EXPECT_EQ(p[i].tmpl_spi, dirs[i % 3] == PolicyDir::kOut ? 0xc7902371u : 0u);
  }
}

TEST(ChildInstall, PairsOfTwoFamiliesOrTwoProtocolsGetNoPolicy) {
  ChildSaKernel c = SeedChild(0xc903137c);
  c.local_ts = {Sel("10.1.0.0/16", 6)};
  c.remote_ts = {Sel("10.2.0.0/16", 17)};
  EXPECT_TRUE(ChildPolicies(c).empty());
  c.remote_ts = {Sel("fd02::/64")};
  EXPECT_TRUE(ChildPolicies(c).empty());
  // One protocol and any: the pair is kept with that protocol in both directions.
  c.remote_ts = {Sel("fd02::/64"), Sel("10.2.0.0/16")};
  const auto p = ChildPolicies(c);
  ASSERT_EQ(p.size(), 3u);
  for (const auto& policy : p) {
    EXPECT_EQ(policy.id.proto, 6);
    EXPECT_EQ(policy.priority, 383615u - 256u);
  }
  EXPECT_EQ(p[0].id.src, *Subnet::Parse("10.2.0.0/16"));  // IN: remote -> local
  EXPECT_EQ(p[2].id.src, *Subnet::Parse("10.1.0.0/16"));  // OUT: local -> remote
}

TEST(ChildInstall, PortsGoToTheSideThatNamesThem) {
  ChildSaKernel c = SeedChild(0xc903137c);
  c.local_ts = {Sel("10.1.0.0/16", 6, 80, 80)};
  c.remote_ts = {Sel("10.2.0.0/16")};
  const auto p = ChildPolicies(c);
  ASSERT_EQ(p.size(), 3u);
  EXPECT_EQ(p[0].id.dport, (PortMatch{80, 0xffff}));  // IN: to our port 80
  EXPECT_EQ(p[0].id.sport, PortMatch{});
  EXPECT_EQ(p[1].id, (PolicyId{p[0].id.src, p[0].id.dst, PolicyDir::kFwd, p[0].id.mark, 6,
                               p[0].id.sport, p[0].id.dport}));
  EXPECT_EQ(p[2].id.sport, (PortMatch{80, 0xffff}));  // OUT: from our port 80
  EXPECT_EQ(p[2].id.dport, PortMatch{});
  for (const auto& policy : p) EXPECT_EQ(policy.priority, 383295u);
}

ChildSaKernel TransportGreChild(std::uint32_t spi_in) {
  ChildSaKernel c = SeedChild(spi_in);
  c.local_ts = {Sel("192.0.2.1/32", 47)};
  c.remote_ts = {Sel("192.0.2.2/32", 47)};
  c.mark_in = c.mark_out = Mark{};
  c.transport = true;
  return c;
}

TEST(ChildInstall, TransportModeHasNoFwdPolicyAndTransportSpecs) {
  const ChildSaKernel c = TransportGreChild(0xc903137c);
  const auto p = ChildPolicies(c);
  ASSERT_EQ(p.size(), 2u);
  EXPECT_EQ(p[0].id.dir, PolicyDir::kIn);
  EXPECT_EQ(p[1].id.dir, PolicyDir::kOut);
  for (const auto& policy : p) {
    EXPECT_TRUE(policy.transport);
    EXPECT_EQ(policy.id.proto, 47);
    EXPECT_EQ(policy.priority, 366975u);
  }
  EXPECT_EQ(p[0].id.src, *Subnet::Parse("192.0.2.2/32"));
  EXPECT_EQ(p[0].id.dst, *Subnet::Parse("192.0.2.1/32"));
  EXPECT_EQ(p[1].tmpl_spi, 0xc7902371u);

  const SaSpec in = InboundSaSpec(c);
  EXPECT_TRUE(in.transport);
  EXPECT_EQ(in.selector_src, *Subnet::Parse("192.0.2.2/32"));  // remote -> local
  EXPECT_EQ(in.selector_dst, *Subnet::Parse("192.0.2.1/32"));
  const SaSpec out = OutboundSaSpec(c);
  EXPECT_TRUE(out.transport);
  EXPECT_EQ(out.selector_src, *Subnet::Parse("192.0.2.1/32"));
  EXPECT_EQ(out.selector_dst, *Subnet::Parse("192.0.2.2/32"));

  // The SA selector is the first pair's, without protocol and ports.
  ChildSaKernel two = TransportGreChild(0xc903137c);
  two.local_ts = {Sel("10.0.0.1/32", 6, 80, 80), Sel("10.0.0.2/32")};
  two.remote_ts = {Sel("10.0.1.1/32"), Sel("10.0.1.2/32")};
  EXPECT_EQ(InboundSaSpec(two).selector_src, *Subnet::Parse("10.0.1.1/32"));
  EXPECT_EQ(InboundSaSpec(two).selector_dst, *Subnet::Parse("10.0.0.1/32"));
  EXPECT_EQ(OutboundSaSpec(two).selector_src, *Subnet::Parse("10.0.0.1/32"));
  EXPECT_EQ(ChildPolicies(two).size(), 8u);  // 4 pairs, IN and OUT each

  // Tunnel mode: no SA selector.
  const SaSpec tunnel = InboundSaSpec(SeedChild(0xc903137c));
  EXPECT_FALSE(tunnel.transport);
  EXPECT_EQ(tunnel.selector_src, Subnet{});
  EXPECT_EQ(tunnel.selector_dst, Subnet{});
}

TEST(ChildInstall, TransportInstallsTwoSasAndTwoPolicies) {
  FakeKernel k;
  const auto spi = k.AllocSpi(Ip("192.0.2.2"), Ip("192.0.2.1"), 1, kCharonSpiRange);
  ASSERT_TRUE(spi.has_value());
  const ChildSaKernel c = TransportGreChild(*spi);
  k.ClearLog();
  ASSERT_FALSE(InstallChildSa(k, c));
  EXPECT_EQ(k.sa_count(), 2u);
  EXPECT_EQ(k.policy_count(), 2u);
  ASSERT_EQ(k.log().size(), 4u);
  for (std::size_t i : {0u, 1u}) {
    EXPECT_EQ(k.log()[i].kind, FakeOpKind::kAddSa);
    EXPECT_TRUE(k.log()[i].transport);
  }
  EXPECT_EQ(k.log()[0].selector_src, *Subnet::Parse("192.0.2.2/32"));  // inbound first
  EXPECT_EQ(k.log()[0].selector_dst, *Subnet::Parse("192.0.2.1/32"));
  EXPECT_EQ(k.log()[1].selector_src, *Subnet::Parse("192.0.2.1/32"));
  EXPECT_NE(k.log()[1].ToString().find("transport 192.0.2.1/32->192.0.2.2/32"), std::string::npos)
      << k.log()[1].ToString();
  for (const auto& p : ChildPolicies(c)) {
    ASSERT_NE(k.FindPolicy(p.id), nullptr);
    EXPECT_TRUE(k.FindPolicy(p.id)->transport);
  }
  const SaSpec* in = k.FindSa(InboundSaSpec(c).id);
  ASSERT_NE(in, nullptr);
  EXPECT_EQ(in->selector_src, *Subnet::Parse("192.0.2.2/32"));
  ASSERT_FALSE(RemoveChildSa(k, c));
  EXPECT_TRUE(k.empty());
}

TEST(ChildInstall, FakeKernelFindSaKeepsTransportMode) {
  FakeKernel k;
  const auto spi = k.AllocSpi(Ip("192.0.2.2"), Ip("192.0.2.1"), 1, kCharonSpiRange);
  ASSERT_TRUE(spi.has_value());
  const ChildSaKernel c = TransportGreChild(*spi);
  ASSERT_FALSE(InstallChildSa(k, c));
  const SaSpec* in = k.FindSa(InboundSaSpec(c).id);
  const SaSpec* out = k.FindSa(OutboundSaSpec(c).id);
  ASSERT_NE(in, nullptr);
  ASSERT_NE(out, nullptr);
  EXPECT_TRUE(in->transport);
  EXPECT_TRUE(out->transport);
}

TEST(ChildInstall, DualStackInstallsSixPoliciesAndRemovesEverything) {
  FakeKernel k;
  const auto spi = k.AllocSpi(Ip("192.0.2.2"), Ip("192.0.2.1"), 1, kCharonSpiRange);
  ASSERT_TRUE(spi.has_value());
  const ChildSaKernel c = DualStackChild(*spi);
  ASSERT_FALSE(InstallChildSa(k, c));
  EXPECT_EQ(k.sa_count(), 2u);
  EXPECT_EQ(k.policy_count(), 6u);
  for (const auto& p : ChildPolicies(c)) {
    ASSERT_NE(k.FindPolicy(p.id), nullptr) << p.id.src.ToString();
    EXPECT_EQ(k.PolicyRefCount(p.id), 1u);
  }
  ASSERT_FALSE(RemoveChildSa(k, c));
  EXPECT_TRUE(k.empty());
}

// bad-inputs.md N for a dual-stack child: each of the 8 steps (2 SAs, 6 policies) failing in
// turn leaves nothing behind; step 7 is the 5th policy (the IPv6 FWD one).
TEST(ChildInstall, DualStackEachStepFailingRollsBackCompletely) {
  for (std::size_t step = 1; step <= 8; ++step) {
    SCOPED_TRACE(step);
    FakeKernel k;
    const auto spi = k.AllocSpi(Ip("192.0.2.2"), Ip("192.0.2.1"), 1, kCharonSpiRange);
    ASSERT_TRUE(spi.has_value());
    k.FailNth(step, std::errc::no_buffer_space);
    EXPECT_EQ(InstallChildSa(k, DualStackChild(*spi)), std::errc::no_buffer_space);
    EXPECT_TRUE(k.empty()) << k.sa_count() << " SAs, " << k.policy_count() << " policies";
  }
  FakeKernel k;
  const auto spi = k.AllocSpi(Ip("192.0.2.2"), Ip("192.0.2.1"), 1, kCharonSpiRange);
  ASSERT_TRUE(spi.has_value());
  k.ClearLog();
  k.FailNth(2 + 5, std::errc::no_buffer_space);
  EXPECT_EQ(InstallChildSa(k, DualStackChild(*spi)), std::errc::no_buffer_space);
  ASSERT_GE(k.log().size(), 7u);
  EXPECT_EQ(k.log()[6].kind, FakeOpKind::kAddPolicy);
  EXPECT_EQ(k.log()[6].policy.id.dir, PolicyDir::kFwd);
  EXPECT_EQ(k.log()[6].policy.id.src, *Subnet::Parse("::/0"));
  EXPECT_TRUE(k.empty());
}

TEST(IpAddress, ParseAndPrint) {
  EXPECT_EQ(Ip("192.0.2.1"), IpAddress::V4(0xc0000201));
  EXPECT_EQ(Ip("2001:db8::1").ToString(), "2001:db8::1");
  EXPECT_FALSE(IpAddress::Parse("192.0.2.256").has_value());
  EXPECT_FALSE(IpAddress::Parse("").has_value());
  EXPECT_EQ(Subnet::Parse("10.0.0.0/8")->prefix, 8);
  EXPECT_EQ(Subnet::Parse("10.0.0.1")->prefix, 32);
  EXPECT_FALSE(Subnet::Parse("10.0.0.0/33").has_value());
  EXPECT_FALSE(Subnet::Parse("10.0.0.0/").has_value());
  EXPECT_FALSE(Subnet::Parse("10.0.0.0/8x").has_value());
  EXPECT_EQ(Subnet::Parse("2001:db8::/32")->ToString(), "2001:db8::/32");
}

}  // namespace
}  // namespace minivpn::xfrm
