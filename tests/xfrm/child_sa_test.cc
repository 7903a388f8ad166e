// The step-by-step CHILD_SA operations of child_sa.h (used by the engine for rekeys) against
// the fake kernel: each step is all-or-nothing, and a rekey sequence ends with only the new SAs.
#include "xfrm/child_sa.h"

#include <gtest/gtest.h>

#include "xfrm/fake_kernel.h"

namespace minivpn::xfrm {
namespace {

IpAddress Ip(std::string_view text) { return *IpAddress::Parse(text); }

ChildSaKernel Child(std::uint32_t spi_in, std::uint32_t spi_out) {
  ChildSaKernel c;
  c.local = Ip("192.0.2.1");
  c.remote = Ip("192.0.2.2");
  c.local_ts = {xfrm::Selector::Of(*xfrm::Subnet::Parse("0.0.0.0/0"))};
  c.remote_ts = {xfrm::Selector::Of(*xfrm::Subnet::Parse("0.0.0.0/0"))};
  c.spi_in = spi_in;
  c.spi_out = spi_out;
  c.reqid = 1;
  c.mark_in = {12, 0xffffffff};
  c.mark_out = {12, 0xffffffff};
  c.encr_key_in = SecretBytes(36);
  c.encr_key_out = SecretBytes(36);
  return c;
}

TEST(ChildSa, InboundFailureReleasesTheAllocatedSpi) {
  FakeKernel k;
  const auto spi = k.AllocSpi(Ip("192.0.2.2"), Ip("192.0.2.1"), 1, kCharonSpiRange);
  ASSERT_TRUE(spi.has_value());
  k.FailNth(1, std::errc::no_buffer_space);
  EXPECT_EQ(InstallInboundSa(k, Child(*spi, 0xc7000001)), std::errc::no_buffer_space);
  EXPECT_TRUE(k.empty());
}

TEST(ChildSa, PolicyFailureRemovesTheEarlierPolicies) {
  FakeKernel k;
  k.FailNth(3, std::errc::no_buffer_space);  // OUT
  EXPECT_EQ(InstallPolicies(k, Child(1, 2)), std::errc::no_buffer_space);
  EXPECT_EQ(k.policy_count(), 0u);
}

TEST(ChildSa, RekeySequenceMakeBeforeBreak) {
  FakeKernel k;
  const auto old_in = k.AllocSpi(Ip("192.0.2.2"), Ip("192.0.2.1"), 1, kCharonSpiRange);
  ASSERT_TRUE(old_in.has_value());
  const ChildSaKernel old_child = Child(*old_in, 0xc7000001);
  ASSERT_FALSE(InstallChildSa(k, old_child));

  const auto new_in = k.AllocSpi(Ip("192.0.2.2"), Ip("192.0.2.1"), 1, kCharonSpiRange);
  ASSERT_TRUE(new_in.has_value());
  const ChildSaKernel new_child = Child(*new_in, 0xc7000002);
  ASSERT_FALSE(InstallInboundSa(k, new_child));
  ASSERT_FALSE(InstallOutboundSa(k, new_child));
  ASSERT_FALSE(SwitchOutbound(k, old_child, new_child));
  const PolicyId out = ChildPolicies(new_child)[2].id;
  EXPECT_EQ(k.FindPolicy(out)->tmpl_spi, 0xc7000002u);
  EXPECT_EQ(k.sa_count(), 4u);

  ASSERT_FALSE(RemoveSas(k, old_child));
  EXPECT_EQ(k.sa_count(), 2u);
  EXPECT_FALSE(k.HasSa(OutboundSaSpec(old_child).id));
  EXPECT_TRUE(k.HasSa(OutboundSaSpec(new_child).id));
  EXPECT_EQ(k.policy_count(), 3u);  // policies stay through the rekey

  ASSERT_FALSE(RemovePolicies(k, new_child));
  ASSERT_FALSE(RemoveSas(k, new_child));
  EXPECT_TRUE(k.empty());
}

TEST(ChildSa, RemoveCarriesOnAfterAFailure) {
  FakeKernel k;
  ASSERT_FALSE(InstallPolicies(k, Child(1, 2)));
  k.FailNth(1, std::errc::no_buffer_space);
  EXPECT_EQ(RemovePolicies(k, Child(1, 2)), std::errc::no_buffer_space);
  EXPECT_EQ(k.policy_count(), 1u);
  EXPECT_EQ(RemoveSas(k, Child(1, 2)), std::errc::no_such_process);  // none installed
}

// A dual-stack child has an OUT policy per family: a rekey moves both to the new outbound SPI,
// and the removal of the old SAs and then of the new child leaves nothing.
TEST(ChildSa, SwitchOutboundMovesEveryOutPolicyOfADualStackChild) {
  const auto dual = [](std::uint32_t spi_in, std::uint32_t spi_out) {
    ChildSaKernel c = Child(spi_in, spi_out);
    c.local_ts.push_back(Selector::Of(*Subnet::Parse("::/0")));
    c.remote_ts.push_back(Selector::Of(*Subnet::Parse("::/0")));
    return c;
  };
  FakeKernel k;
  const auto old_in = k.AllocSpi(Ip("192.0.2.2"), Ip("192.0.2.1"), 1, kCharonSpiRange);
  ASSERT_TRUE(old_in.has_value());
  const ChildSaKernel old_child = dual(*old_in, 0xc7000001);
  ASSERT_FALSE(InstallChildSa(k, old_child));
  std::vector<PolicyId> outs;
  for (const auto& p : ChildPolicies(old_child))
    if (p.id.dir == PolicyDir::kOut) outs.push_back(p.id);
  ASSERT_EQ(outs.size(), 2u);
  EXPECT_EQ(outs[0].src, *Subnet::Parse("0.0.0.0/0"));
  EXPECT_EQ(outs[1].src, *Subnet::Parse("::/0"));
  for (const auto& id : outs) EXPECT_EQ(k.FindPolicy(id)->tmpl_spi, 0xc7000001u);

  const auto new_in = k.AllocSpi(Ip("192.0.2.2"), Ip("192.0.2.1"), 1, kCharonSpiRange);
  ASSERT_TRUE(new_in.has_value());
  const ChildSaKernel new_child = dual(*new_in, 0xc7000002);
  ASSERT_FALSE(InstallInboundSa(k, new_child));
  ASSERT_FALSE(InstallOutboundSa(k, new_child));
  ASSERT_FALSE(SwitchOutbound(k, old_child, new_child));
  for (const auto& id : outs) {
    ASSERT_NE(k.FindPolicy(id), nullptr);
    EXPECT_EQ(k.FindPolicy(id)->tmpl_spi, 0xc7000002u) << id.src.ToString();
    EXPECT_EQ(k.PolicyRefCount(id), 1u);
  }
  ASSERT_FALSE(RemoveSas(k, old_child));
  EXPECT_EQ(k.policy_count(), 6u);
  ASSERT_FALSE(RemovePolicies(k, new_child));
  ASSERT_FALSE(RemoveSas(k, new_child));
  EXPECT_TRUE(k.empty());
}

// The second OUT switch fails: the first is moved back, both keep the old SPI.
TEST(ChildSa, AFailedSwitchOfTheSecondOutPolicyMovesTheFirstBack) {
  const auto dual = [](std::uint32_t spi_in, std::uint32_t spi_out) {
    ChildSaKernel c = Child(spi_in, spi_out);
    c.local_ts.push_back(Selector::Of(*Subnet::Parse("::/0")));
    c.remote_ts.push_back(Selector::Of(*Subnet::Parse("::/0")));
    return c;
  };
  FakeKernel k;
  const ChildSaKernel old_child = dual(1, 0xc7000001);
  const ChildSaKernel new_child = dual(2, 0xc7000002);
  ASSERT_FALSE(InstallPolicies(k, old_child));
  k.FailNth(2, std::errc::no_buffer_space);
  EXPECT_EQ(SwitchOutbound(k, old_child, new_child), std::errc::no_buffer_space);
  for (const auto& p : ChildPolicies(old_child)) {
    if (p.id.dir != PolicyDir::kOut) continue;
    ASSERT_NE(k.FindPolicy(p.id), nullptr);
    EXPECT_EQ(k.FindPolicy(p.id)->tmpl_spi, 0xc7000001u) << p.id.src.ToString();
    EXPECT_EQ(k.PolicyRefCount(p.id), 1u);
  }
  ASSERT_FALSE(RemovePolicies(k, old_child));
  EXPECT_EQ(k.policy_count(), 0u);
}

}  // namespace
}  // namespace minivpn::xfrm
