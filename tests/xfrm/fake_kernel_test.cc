#include "xfrm/fake_kernel.h"

#include <gtest/gtest.h>

#include <cerrno>

namespace minivpn::xfrm {
namespace {

IpAddress Ip(std::string_view text) { return *IpAddress::Parse(text); }

SaSpec OutboundSa(std::uint32_t spi, Mark mark = {12, 0xffffffff}) {
  SaSpec spec;
  spec.id = {Ip("192.0.2.1"), Ip("192.0.2.2"), spi, 50, mark};
  spec.reqid = 1;
  spec.encr_key = SecretBytes(36);
  spec.replay_window = 0;
  return spec;
}

PolicySpec OutPolicy(std::uint32_t spi) {
  PolicySpec p;
  p.id = {*Subnet::Parse("0.0.0.0/0"), *Subnet::Parse("0.0.0.0/0"), PolicyDir::kOut,
          Mark{12, 0xffffffff}};
  p.priority = 399999;
  p.reqid = 1;
  p.tmpl_src = Ip("192.0.2.1");
  p.tmpl_dst = Ip("192.0.2.2");
  p.tmpl_spi = spi;
  return p;
}

TEST(FakeKernel, AllocSpiIsDeterministicInCharonRange) {
  FakeKernel a;
  FakeKernel b;
  for (int i = 0; i < 3; ++i) {
    const auto spi_a = a.AllocSpi(Ip("192.0.2.2"), Ip("192.0.2.1"), 1, kCharonSpiRange);
    const auto spi_b = b.AllocSpi(Ip("192.0.2.2"), Ip("192.0.2.1"), 1, kCharonSpiRange);
    ASSERT_TRUE(spi_a.has_value());
    ASSERT_TRUE(spi_b.has_value());
    EXPECT_EQ(*spi_a, *spi_b);
    EXPECT_GE(*spi_a, 0xc0000000u);
    EXPECT_LE(*spi_a, 0xcfffffffu);
    EXPECT_TRUE(a.IsLarval(Ip("192.0.2.1"), *spi_a));
  }
  EXPECT_EQ(a.larval_count(), 3u);
  EXPECT_EQ(a.log()[1].sa.spi, 0xc0000002u);  // the log records the SPI handed out
}

TEST(FakeKernel, InboundNeedsAllocatedSpi) {
  FakeKernel k;
  SaSpec in = OutboundSa(0xc0000001, Mark::None());
  in.inbound = true;
  std::swap(in.id.src, in.id.dst);
  const auto ec = k.AddSa(in);
  EXPECT_EQ(ec, std::errc::no_such_process);
  EXPECT_TRUE(k.empty());

  const auto spi = k.AllocSpi(in.id.src, in.id.dst, 1, kCharonSpiRange);
  ASSERT_TRUE(spi.has_value());
  in.id.spi = *spi;
  EXPECT_FALSE(k.AddSa(in));
  EXPECT_FALSE(k.IsLarval(in.id.dst, *spi));
  EXPECT_TRUE(k.HasSa(in.id));
  EXPECT_EQ(k.log().back().result, std::error_code());
  EXPECT_EQ(k.log()[0].result, std::errc::no_such_process);
}

TEST(FakeKernel, AddSaTwiceIsEexistAndKeepsKeys) {
  FakeKernel k;
  SaSpec out = OutboundSa(0xc1000000);
  out.encr_key =
      SecretBytes(FromHex("000102030405060708090a0b0c0d0e0f1011121314151617"
                          "18191a1b1c1d1e1f20212223"));
  ASSERT_FALSE(k.AddSa(out));
  EXPECT_EQ(k.AddSa(OutboundSa(0xc1000000)), std::errc::file_exists);
  const SaSpec* stored = k.FindSa(out.id);
  ASSERT_NE(stored, nullptr);
  EXPECT_TRUE(stored->encr_key.Equals(out.encr_key.Reveal()));
  EXPECT_EQ(k.log()[0].encr_key_size, 36u);
  // Same SPI and destination with another mark is a different SA.
  EXPECT_FALSE(k.AddSa(OutboundSa(0xc1000000, Mark{13, 0xffffffff})));
  EXPECT_EQ(k.sa_count(), 2u);
}

TEST(FakeKernel, DelAndQuerySaMatchMark) {
  FakeKernel k;
  ASSERT_FALSE(k.AddSa(OutboundSa(0xc1000000)));
  SaId wrong_mark = OutboundSa(0xc1000000).id;
  wrong_mark.mark = Mark{13, 0xffffffff};
  EXPECT_EQ(k.DelSa(wrong_mark), std::errc::no_such_process);
  EXPECT_EQ(k.QuerySa(wrong_mark).error(), std::errc::no_such_process);

  const SaId id = OutboundSa(0xc1000000).id;
  k.SetCounters(id, {1234, 10, std::chrono::seconds(1700000000), std::nullopt});
  const auto counters = k.QuerySa(id);
  ASSERT_TRUE(counters.has_value());
  EXPECT_EQ(counters->bytes, 1234u);
  EXPECT_EQ(counters->packets, 10u);
  EXPECT_FALSE(k.DelSa(id));
  EXPECT_TRUE(k.empty());
}

TEST(FakeKernel, PoliciesAreReferenceCounted) {
  FakeKernel k;
  const PolicySpec first = OutPolicy(0xc1000001);
  const PolicySpec second = OutPolicy(0xc1000002);
  ASSERT_FALSE(k.AddPolicy(first));
  ASSERT_FALSE(k.AddPolicy(second));
  EXPECT_EQ(k.PolicyRefCount(first.id), 2u);
  EXPECT_EQ(k.policy_count(), 1u);
  EXPECT_EQ(k.FindPolicy(first.id)->tmpl_spi, 0xc1000002u);
  ASSERT_FALSE(k.DelPolicy(first.id));
  EXPECT_EQ(k.PolicyRefCount(first.id), 1u);
  // The kernel holds the earlier reference's template again.
  EXPECT_EQ(k.FindPolicy(first.id)->tmpl_spi, 0xc1000001u);
  ASSERT_FALSE(k.DelPolicy(first.id));
  EXPECT_EQ(k.PolicyRefCount(first.id), 0u);
  EXPECT_EQ(k.DelPolicy(first.id), std::errc::no_such_file_or_directory);
  EXPECT_TRUE(k.empty());
}

// Two CHILD_SAs share a policy (a reauthentication's new IKE SA beside the old one): the older
// one going must leave the kernel with the newer one's template, and the newer one going last
// removes the policy.
TEST(FakeKernel, ReleasePolicyDropsThatUsersReference) {
  FakeKernel k;
  const PolicySpec older = OutPolicy(0xc1000001);
  const PolicySpec newer = OutPolicy(0xc1000002);
  ASSERT_FALSE(k.AddPolicy(older));
  ASSERT_FALSE(k.AddPolicy(newer));
  ASSERT_FALSE(k.ReleasePolicy(older));
  EXPECT_EQ(k.PolicyRefCount(older.id), 1u);
  EXPECT_EQ(k.FindPolicy(older.id)->tmpl_spi, 0xc1000002u);
  ASSERT_FALSE(k.ReleasePolicy(newer));
  EXPECT_TRUE(k.empty());
  // The newer one going first gives the kernel the older template back.
  ASSERT_FALSE(k.AddPolicy(older));
  ASSERT_FALSE(k.AddPolicy(newer));
  ASSERT_FALSE(k.ReleasePolicy(newer));
  EXPECT_EQ(k.FindPolicy(older.id)->tmpl_spi, 0xc1000001u);
}

// A CHILD rekey of the older of two users of a policy (duplicate IKE SAs, a make-before-break
// overlap): its new SPI becomes the newest reference, the other user's entry stays, and when the
// rekeyed CHILD_SA goes the kernel gets the other user's template back, not a deleted SPI.
TEST(FakeKernel, ReplacePolicyMovesThatUsersReference) {
  FakeKernel k;
  const PolicySpec older = OutPolicy(0xc1000001), other = OutPolicy(0xc1000002);
  const PolicySpec rekeyed = OutPolicy(0xc1000003);
  ASSERT_FALSE(k.AddPolicy(older));
  ASSERT_FALSE(k.AddPolicy(other));
  ASSERT_FALSE(k.ReplacePolicy(older, rekeyed));
  EXPECT_EQ(k.log().back().kind, FakeOpKind::kUpdatePolicy);
  EXPECT_EQ(k.FindPolicy(older.id)->tmpl_spi, 0xc1000003u);
  EXPECT_EQ(k.PolicyRefCount(older.id), 2u);
  ASSERT_FALSE(k.ReleasePolicy(rekeyed));
  EXPECT_EQ(k.FindPolicy(older.id)->tmpl_spi, 0xc1000002u);
  ASSERT_FALSE(k.ReleasePolicy(other));
  EXPECT_TRUE(k.empty());
  EXPECT_EQ(k.ReplacePolicy(older, rekeyed), std::errc::no_such_file_or_directory);
}

TEST(PolicyRefs, TheKernelIsUpdatedOnlyWhenTheLatestReferenceGoes) {
  const PolicySpec a = OutPolicy(1), b = OutPolicy(2);
  const std::vector<PolicySpec> refs = {a, b, b};
  EXPECT_EQ(PolicyRefToDrop(refs, &a), 0u);
  EXPECT_EQ(PolicyRefToDrop(refs, &b), 2u);
  EXPECT_EQ(PolicyRefToDrop(refs, nullptr), 2u);
  const PolicySpec other = OutPolicy(3);
  EXPECT_EQ(PolicyRefToDrop(refs, &other), 2u);  // unknown spec: the latest, as DelPolicy
  EXPECT_FALSE(PolicyAfterDrop(refs, 0).has_value());
  EXPECT_FALSE(PolicyAfterDrop(refs, 2).has_value());  // the same spec stays below
  const std::vector<PolicySpec> two = {a, b};
  ASSERT_TRUE(PolicyAfterDrop(two, 1).has_value());
  EXPECT_EQ(PolicyAfterDrop(two, 1)->tmpl_spi, 1u);
  EXPECT_FALSE(PolicyAfterDrop({a}, 0).has_value());
}

// charon keeps the lowest priority value installed (the newest among equals): a trap (399999 + 1)
// added under a live CHILD_SA's policy waits below it and takes over when the CHILD_SA goes.
TEST(PolicyRefs, TheLowestPriorityValueIsInstalledTheNewestAmongEquals) {
  PolicySpec child = OutPolicy(0xc1000001), trap = OutPolicy(0);
  trap.priority = 400000;
  EXPECT_EQ(PolicyRefInsertAt({child}, trap), 0u);      // below the child
  EXPECT_EQ(PolicyRefInsertAt({trap}, child), 1u);      // on top of the trap
  EXPECT_EQ(PolicyRefInsertAt({trap, child}, child), 2u);  // newest among equals
  EXPECT_EQ(PolicyRefInsertAt({}, trap), 0u);
}

TEST(FakeKernel, ATrapAddedUnderALiveChildLeavesItInstalled) {
  FakeKernel k;
  PolicySpec child = OutPolicy(0xc1000001), trap = OutPolicy(0);
  trap.priority = 400000;
  ASSERT_FALSE(k.AddPolicy(child));
  ASSERT_FALSE(k.AddPolicy(trap));
  EXPECT_EQ(k.FindPolicy(child.id)->tmpl_spi, 0xc1000001u);
  EXPECT_EQ(k.FindPolicy(child.id)->priority, 399999u);
  // A rekey of the child moves its reference and stays on top.
  const PolicySpec rekeyed = OutPolicy(0xc1000002);
  ASSERT_FALSE(k.ReplacePolicy(child, rekeyed));
  EXPECT_EQ(k.FindPolicy(child.id)->tmpl_spi, 0xc1000002u);
  ASSERT_FALSE(k.ReleasePolicy(rekeyed));
  EXPECT_EQ(k.FindPolicy(child.id)->priority, 400000u);  // the trap takes over
  ASSERT_FALSE(k.ReleasePolicy(trap));
  EXPECT_TRUE(k.empty());
}

TEST(FakeKernel, UpdatePolicySwitchesSpiAndNeedsPolicy) {
  FakeKernel k;
  EXPECT_EQ(k.UpdatePolicy(OutPolicy(1)), std::errc::no_such_file_or_directory);
  ASSERT_FALSE(k.AddPolicy(OutPolicy(0xc1000001)));
  ASSERT_FALSE(k.UpdatePolicy(OutPolicy(0xc2000002)));
  EXPECT_EQ(k.FindPolicy(OutPolicy(0).id)->tmpl_spi, 0xc2000002u);
  EXPECT_EQ(k.PolicyRefCount(OutPolicy(0).id), 1u);
}

TEST(FakeKernel, FailNthFailsExactlyThatCallAndChangesNothing) {
  FakeKernel k;
  k.FailNth(2, std::errc::no_buffer_space);
  EXPECT_FALSE(k.AddSa(OutboundSa(0xc1000000)));
  const auto ec = k.AddPolicy(OutPolicy(0xc1000000));
  EXPECT_EQ(ec, std::errc::no_buffer_space);
  EXPECT_EQ(k.policy_count(), 0u);
  EXPECT_NE(ec.message().find("NEWPOLICY"), std::string::npos);
  EXPECT_FALSE(k.AddPolicy(OutPolicy(0xc1000000)));  // the failure fires once
  EXPECT_EQ(k.call_count(), 3u);
  EXPECT_EQ(k.log()[1].result, std::errc::no_buffer_space);

  k.FailNth(1, std::errc::no_buffer_space);
  EXPECT_FALSE(k.AllocSpi(Ip("192.0.2.2"), Ip("192.0.2.1"), 1, kCharonSpiRange).has_value());
  EXPECT_EQ(k.larval_count(), 0u);
  k.FailNth(1, std::errc::no_buffer_space);
  k.FailNth(0, std::errc::no_buffer_space);  // disarmed
  EXPECT_TRUE(k.AllocSpi(Ip("192.0.2.2"), Ip("192.0.2.1"), 1, kCharonSpiRange).has_value());
}

TEST(FakeKernel, LogRecordsOperationsInOrderWithoutKeys) {
  FakeKernel k;
  ASSERT_FALSE(k.AddSa(OutboundSa(0xc1000000)));
  ASSERT_FALSE(k.AddPolicy(OutPolicy(0xc1000000)));
  ASSERT_FALSE(k.DelPolicy(OutPolicy(0).id));
  ASSERT_EQ(k.log().size(), 3u);
  EXPECT_EQ(k.log()[0].kind, FakeOpKind::kAddSa);
  EXPECT_EQ(k.log()[0].sa, OutboundSa(0xc1000000).id);
  EXPECT_EQ(k.log()[1].kind, FakeOpKind::kAddPolicy);
  EXPECT_EQ(k.log()[1].policy, OutPolicy(0xc1000000));
  EXPECT_EQ(k.log()[2].kind, FakeOpKind::kDelPolicy);
  EXPECT_EQ(k.log()[2].policy.id, OutPolicy(0).id);
  EXPECT_EQ(k.log()[0].ToString(),
            "AddSa 192.0.2.1->192.0.2.2 spi 0xc1000000 mark 0x0000000c/0xffffffff out reqid 1 "
            "encr 20/256 integ 0 replay 0");
  k.ClearLog();
  EXPECT_TRUE(k.log().empty());
}

TEST(FakeKernel, WithoutCallLogStateAndFailuresStillWork) {
  FakeKernel k(/*record_calls=*/false);
  ASSERT_FALSE(k.AddSa(OutboundSa(0xc0000001)));
  k.FailNth(2, std::errc::no_buffer_space);
  EXPECT_FALSE(k.AddPolicy(OutPolicy(0xc0000001)));
  EXPECT_EQ(k.AddPolicy(OutPolicy(0xc0000002)), std::errc::no_buffer_space);
  EXPECT_EQ(k.call_count(), 3u);
  EXPECT_TRUE(k.log().empty());
  EXPECT_EQ(k.sa_count(), 1u);
  EXPECT_EQ(k.policy_count(), 1u);
}

// AllocSpi never hands out an SPI that an installed SA of that destination holds.
TEST(FakeKernel, AllocSpiSkipsInstalledSpis) {
  FakeKernel k;
  const SaSpec installed = OutboundSa(0xc0000001);
  ASSERT_FALSE(k.AddSa(installed));
  const auto spi = k.AllocSpi(Ip("192.0.2.1"), installed.id.dst, 1, kCharonSpiRange);
  ASSERT_TRUE(spi.has_value());
  EXPECT_NE(*spi, 0xc0000001u);
  const auto other = k.AllocSpi(Ip("192.0.2.1"), Ip("192.0.2.9"), 1, kCharonSpiRange);
  ASSERT_TRUE(other.has_value());
  EXPECT_EQ(*other, 0xc0000003u) << "the counter moves on; another destination is not affected";
}

TEST(FakeKernel, DelSaReleasesLarvalSpi) {
  FakeKernel k;
  const auto spi = k.AllocSpi(Ip("192.0.2.2"), Ip("192.0.2.1"), 1, kCharonSpiRange);
  ASSERT_TRUE(spi.has_value());
  EXPECT_FALSE(k.DelSa({Ip("192.0.2.2"), Ip("192.0.2.1"), *spi, 50, Mark::None()}));
  EXPECT_TRUE(k.empty());
}

}  // namespace
}  // namespace minivpn::xfrm
