// start_action = trap: trap policies wait for the first packet, an ACQUIRE starts the
// negotiation, the CHILD_SA's own policies take their place, and they come back afterwards.
// Also trap|start and policies = no.
#include <gtest/gtest.h>

#include "tests/ike/engine/engine_test_util.h"

namespace minivpn::ike::test {
namespace {

class TrapTest : public TwoPeers {
 protected:
  static xfrm::PolicyId OutPolicy() {
    return xfrm::PolicyId{Net("0.0.0.0/0"), Net("0.0.0.0/0"), xfrm::PolicyDir::kOut,
                          xfrm::Mark{12, 0xffffffff}};
  }
};

TEST_F(TrapTest, TrapPoliciesThenAcquireThenChildPoliciesThenTrapAgain) {
  PeerConfig pa = PeerA();
  pa.children[0].start_action = StartAction::kTrap;
  AddPeers(std::move(pa), PeerB());

  // Trap policies only: IN, FWD, OUT with the trap priority (no "-1"), no SPI, no SA, no packet.
  EXPECT_EQ(kernel_a_.policy_count(), 3u);
  EXPECT_EQ(kernel_a_.sa_count(), 0u);
  const xfrm::PolicySpec* trap = kernel_a_.FindPolicy(OutPolicy());
  ASSERT_NE(trap, nullptr);
  EXPECT_EQ(trap->priority, 400000u);
  EXPECT_EQ(trap->tmpl_spi, 0u);
  EXPECT_EQ(trap->reqid, 1u);
  EXPECT_EQ(OfKind(a_.TakeEvents(), EventKind::kTrapInstalled).size(), 1u);
  net_.RunFor(std::chrono::seconds(1));
  EXPECT_EQ(EstablishedCount(a_), 0u) << "nothing may start before traffic";

  // The kernel's ACQUIRE for that reqid starts IKE_SA_INIT.
  xfrm::AcquireEvent acquire;
  acquire.reqid = 1;
  a_.HandleKernelEvent(acquire, net_.now());
  net_.RunFor(std::chrono::seconds(1));
  ASSERT_EQ(EstablishedCount(a_), 1u);
  const xfrm::PolicySpec* live = kernel_a_.FindPolicy(OutPolicy());
  ASSERT_NE(live, nullptr);
  EXPECT_EQ(live->priority, 399999u);
  EXPECT_NE(live->tmpl_spi, 0u);
  EXPECT_EQ(live->reqid, 1u) << "the CHILD_SA reuses the trap's reqid";

  // Terminate: the CHILD_SA goes, the trap comes back for the next packet.
  ASSERT_TRUE(a_.Terminate("to-b", "", net_.now()).has_value());
  net_.RunFor(std::chrono::seconds(1));
  EXPECT_EQ(kernel_a_.sa_count(), 0u);
  trap = kernel_a_.FindPolicy(OutPolicy());
  ASSERT_NE(trap, nullptr);
  EXPECT_EQ(trap->priority, 400000u);
  EXPECT_EQ(trap->tmpl_spi, 0u);

  // Removing the config removes the trap: nothing is left.
  a_.RemovePeer("to-b", net_.now());
  EXPECT_TRUE(kernel_a_.empty());
}

TEST_F(TrapTest, AFailingTrapInstallLeavesNothing) {
  PeerConfig pa = PeerA();
  pa.children[0].start_action = StartAction::kTrap;
  kernel_a_.FailNth(3, std::errc::no_buffer_space);  // the OUT policy
  ASSERT_TRUE(a_.AddPeer(std::move(pa), net_.now()).has_value());
  EXPECT_TRUE(kernel_a_.empty());
  EXPECT_EQ(OfKind(a_.TakeEvents(), EventKind::kFailure).size(), 1u);
}

// charon's start_action = trap|start: the trap policies and the CHILD_SA at once; the trap stays
// under the CHILD_SA's policies and takes over when the CHILD_SA goes.
TEST_F(TrapTest, TrapAndStartInstallsTheTrapAndStartsTheChild) {
  PeerConfig pa = PeerA();
  pa.children[0].start_action = StartAction::kTrapAndStart;
  AddPeers(std::move(pa), PeerB());
  EXPECT_EQ(OfKind(a_.TakeEvents(), EventKind::kTrapInstalled).size(), 1u);
  net_.RunFor(std::chrono::seconds(1));
  ASSERT_EQ(Children(a_).size(), 1u);
  const auto child = Children(a_)[0];
  ASSERT_NE(kernel_a_.FindPolicy(OutPolicy()), nullptr);
  EXPECT_EQ(kernel_a_.FindPolicy(OutPolicy())->tmpl_spi, child.spi_out);
  EXPECT_EQ(kernel_a_.PolicyRefCount(OutPolicy()), 2u);  // the trap's and the CHILD_SA's
  ASSERT_TRUE(b_.Terminate("to-a", "net", net_.now()).has_value());
  net_.RunFor(std::chrono::seconds(1));
  EXPECT_EQ(Children(a_).size(), 0u);
  const xfrm::PolicySpec* trap = kernel_a_.FindPolicy(OutPolicy());
  ASSERT_NE(trap, nullptr);
  EXPECT_EQ(trap->priority, 400000u);
  EXPECT_EQ(trap->tmpl_spi, 0u);
  EXPECT_EQ(kernel_a_.sa_count(), 0u);
}

// charon's policies = no: the SAs only (someone else owns the policies), through a rekey too.
TEST_F(TrapTest, PoliciesNoInstallsTheSasOnly) {
  PeerConfig pa = PeerA();
  pa.children[0].policies = false;
  AddPeers(std::move(pa), PeerB());
  ASSERT_TRUE(a_.Initiate("to-b", "net", net_.now()).has_value());
  net_.RunFor(std::chrono::seconds(1));
  ASSERT_EQ(Children(a_).size(), 1u);
  EXPECT_EQ(kernel_a_.sa_count(), 2u);
  EXPECT_EQ(kernel_a_.policy_count(), 0u);
  EXPECT_EQ(kernel_b_.policy_count(), 3u);
  ASSERT_TRUE(a_.Rekey("to-b", "net", net_.now()).has_value());
  net_.RunFor(std::chrono::seconds(10));
  ASSERT_EQ(Children(a_).size(), 1u);
  EXPECT_EQ(kernel_a_.policy_count(), 0u);
  EXPECT_EQ(kernel_b_.policy_count(), 3u);
  ASSERT_TRUE(a_.Terminate("to-b", "", net_.now()).has_value());
  net_.RunFor(std::chrono::seconds(1));
  EXPECT_TRUE(kernel_a_.empty());
  EXPECT_TRUE(kernel_b_.empty());
}

}  // namespace
}  // namespace minivpn::ike::test
