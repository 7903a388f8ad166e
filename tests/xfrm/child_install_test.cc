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
