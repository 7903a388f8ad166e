// charon's %unique / %unique-dir marks (Mark::kUnique, Mark::kUniqueDir): every CHILD_SA gets a
// mark value of its own when it is made, a rekey keeps it, and reqids follow the marks.
#include <gtest/gtest.h>

#include "tests/ike/engine/engine_test_util.h"

namespace minivpn::ike::test {
namespace {

class UniqueMarkTest : public TwoPeers {
 protected:
  // A's child "net" with the given marks, policy-based 10.1.0.0/16 <-> 10.2.0.0/16; B's without.
  void AddWithMarks(xfrm::Mark in, xfrm::Mark out) {
    PeerConfig pa = PeerA(), pb = PeerB();
    pa.children[0].mark_in = in;
    pa.children[0].mark_out = out;
    pa.children[0].local_ts = pb.children[0].remote_ts = Ts("10.1.0.0/16");
    pa.children[0].remote_ts = pb.children[0].local_ts = Ts("10.2.0.0/16");
    pb.children[0].mark_in = pb.children[0].mark_out = xfrm::Mark::None();
    pa.children.push_back(pa.children[0]);  // "net2": the same child once more
    pa.children[1].name = "net2";
    AddPeers(std::move(pa), std::move(pb));
  }
  void InitiateNet(const char* child = "net") {
    ASSERT_TRUE(a_.Initiate("to-b", child, net_.now()).has_value());
    net_.RunFor(std::chrono::seconds(1));
  }
  // The OUT policy of A's kernel for the child's selectors with that mark.
  const xfrm::PolicySpec* OutPolicy(const xfrm::Mark& mark) {
    xfrm::PolicyId id;
    id.src = Net("10.1.0.0/16");
    id.dst = Net("10.2.0.0/16");
    id.dir = xfrm::PolicyDir::kOut;
    id.mark = mark;
    return kernel_a_.FindPolicy(id);
  }
};

TEST_F(UniqueMarkTest, EachChildSaGetsItsOwnMarkAndReqid) {
  const xfrm::Mark unique{xfrm::Mark::kUnique, 0xffffffff};
  AddWithMarks(unique, unique);
  InitiateNet();
  InitiateNet("net2");  // a second CHILD_SA with the same config
  auto children = Children(a_);
  ASSERT_EQ(children.size(), 2u);
  EXPECT_EQ(children[0].mark_in, xfrm::Mark::Exact(1));
  EXPECT_EQ(children[0].mark_out, xfrm::Mark::Exact(1));
  EXPECT_EQ(children[1].mark_in, xfrm::Mark::Exact(2));
  EXPECT_EQ(children[1].mark_out, xfrm::Mark::Exact(2));
  // charon's reqids follow the marks, and the initiator takes each once (1 and 2, as charon's
  // kernel state: the lab's unique-mark rows).
  EXPECT_EQ(children[0].reqid, 1u);
  EXPECT_EQ(children[1].reqid, 2u);
  ASSERT_NE(OutPolicy(xfrm::Mark::Exact(1)), nullptr);
  ASSERT_NE(OutPolicy(xfrm::Mark::Exact(2)), nullptr);
  EXPECT_EQ(OutPolicy(xfrm::Mark::Exact(1))->tmpl_spi, children[0].spi_out);
  EXPECT_EQ(OutPolicy(unique), nullptr);  // the marker value never reaches the kernel
}

TEST_F(UniqueMarkTest, PerDirectionValuesAndARekeyKeepsThem) {
  const xfrm::Mark dir{xfrm::Mark::kUniqueDir, 0xffffffff};
  AddWithMarks(dir, dir);
  InitiateNet();
  auto before = Children(a_);
  ASSERT_EQ(before.size(), 1u);
  EXPECT_EQ(before[0].mark_in, xfrm::Mark::Exact(1));
  EXPECT_EQ(before[0].mark_out, xfrm::Mark::Exact(2));
  ASSERT_TRUE(a_.Rekey("to-b", "net", net_.now()).has_value());
  net_.RunFor(std::chrono::seconds(2));
  auto after = Children(a_);
  ASSERT_EQ(after.size(), 1u);
  EXPECT_GT(after[0].id, before[0].id);  // a new CHILD_SA
  EXPECT_EQ(after[0].mark_in, before[0].mark_in);
  EXPECT_EQ(after[0].mark_out, before[0].mark_out);
  EXPECT_EQ(after[0].reqid, before[0].reqid);
  ASSERT_NE(OutPolicy(xfrm::Mark::Exact(2)), nullptr);
  EXPECT_EQ(OutPolicy(xfrm::Mark::Exact(2))->tmpl_spi, after[0].spi_out);
}

}  // namespace
}  // namespace minivpn::ike::test
