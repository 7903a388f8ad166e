// charon's %unique / %unique-dir XFRM interface ids (base::kIfIdUnique, kIfIdUniqueDir): a child's
// are given per CHILD_SA, a connection's per IKE SA (its children that name none share them); a
// rekey of either keeps them, and the reqids follow them (allocate_unique_if_ids, set_peer_cfg,
// inherit_pre, child_rekey's use_if_ids).
#include <gtest/gtest.h>

#include "base/if_id.h"
#include "tests/ike/engine/engine_test_util.h"

namespace minivpn::ike::test {
namespace {

using std::chrono::seconds;

class UniqueIfIdTest : public TwoPeers {
 protected:
  // A's children "net" and "net2" (the same policy-based 10.1.0.0/16 <-> 10.2.0.0/16) with the
  // given child ids, and the given connection ids, no marks; B's child without ids.
  void AddWithIfIds(std::uint32_t child_in, std::uint32_t child_out, std::uint32_t conn_in = 0,
                    std::uint32_t conn_out = 0) {
    PeerConfig pa = PeerA(), pb = PeerB();
    pa.if_id_in = conn_in;
    pa.if_id_out = conn_out;
    pa.children[0].if_id_in = child_in;
    pa.children[0].if_id_out = child_out;
    pa.children[0].mark_in = pa.children[0].mark_out = xfrm::Mark::None();
    pb.children[0].mark_in = pb.children[0].mark_out = xfrm::Mark::None();
    pa.children[0].local_ts = pb.children[0].remote_ts = Ts("10.1.0.0/16");
    pa.children[0].remote_ts = pb.children[0].local_ts = Ts("10.2.0.0/16");
    pa.children.push_back(pa.children[0]);
    pa.children[1].name = "net2";
    AddPeers(std::move(pa), std::move(pb));
  }
  void Initiate(const char* child) {
    ASSERT_TRUE(a_.Initiate("to-b", child, net_.now()).has_value());
    net_.RunFor(seconds(1));
  }
  // A's policy for the child's selectors in that direction with that interface id.
  const xfrm::PolicySpec* Policy(xfrm::PolicyDir dir, std::uint32_t if_id) {
    xfrm::PolicyId id;
    const bool out = dir == xfrm::PolicyDir::kOut;
    id.src = Net(out ? "10.1.0.0/16" : "10.2.0.0/16");
    id.dst = Net(out ? "10.2.0.0/16" : "10.1.0.0/16");
    id.dir = dir;
    id.if_id = if_id;
    return kernel_a_.FindPolicy(id);
  }
};

TEST_F(UniqueIfIdTest, EachChildSaGetsItsOwnIdAndReqid) {
  AddWithIfIds(base::kIfIdUnique, base::kIfIdUnique);
  Initiate("net");
  Initiate("net2");
  auto children = Children(a_);
  ASSERT_EQ(children.size(), 2u);
  EXPECT_EQ(children[0].if_id_in, 1u);
  EXPECT_EQ(children[0].if_id_out, 1u);
  EXPECT_EQ(children[1].if_id_in, 2u);
  EXPECT_EQ(children[1].if_id_out, 2u);
  EXPECT_NE(children[0].reqid, children[1].reqid);
  ASSERT_NE(Policy(xfrm::PolicyDir::kOut, 1), nullptr);
  ASSERT_NE(Policy(xfrm::PolicyDir::kOut, 2), nullptr);
  ASSERT_NE(Policy(xfrm::PolicyDir::kIn, 2), nullptr);
  EXPECT_EQ(Policy(xfrm::PolicyDir::kOut, 2)->tmpl_spi, children[1].spi_out);
  // The marker value never reaches the kernel.
  EXPECT_EQ(Policy(xfrm::PolicyDir::kOut, base::kIfIdUnique), nullptr);
  const auto sa = a_.ListSas(net_.now()).at(0);
  const xfrm::SaSpec* in = kernel_a_.FindSa(
      xfrm::SaId{.src = sa.remote.address, .dst = sa.local.address, .spi = children[1].spi_in});
  ASSERT_NE(in, nullptr);
  EXPECT_EQ(in->if_id, 2u);
}

TEST_F(UniqueIfIdTest, PerDirectionIds) {
  AddWithIfIds(base::kIfIdUniqueDir, base::kIfIdUniqueDir);
  Initiate("net");
  auto children = Children(a_);
  ASSERT_EQ(children.size(), 1u);
  EXPECT_EQ(children[0].if_id_in, 1u);
  EXPECT_EQ(children[0].if_id_out, 2u);
  ASSERT_NE(Policy(xfrm::PolicyDir::kIn, 1), nullptr);
  ASSERT_NE(Policy(xfrm::PolicyDir::kFwd, 1), nullptr);
  ASSERT_NE(Policy(xfrm::PolicyDir::kOut, 2), nullptr);
}

// %unique in one direction, a number in the other: only the first is drawn.
TEST_F(UniqueIfIdTest, AFixedIdBesideAUniqueOne) {
  AddWithIfIds(base::kIfIdUnique, 7);
  Initiate("net");
  const auto children = Children(a_);
  ASSERT_EQ(children.size(), 1u);
  EXPECT_EQ(children[0].if_id_in, 1u);
  EXPECT_EQ(children[0].if_id_out, 7u);
  ASSERT_NE(Policy(xfrm::PolicyDir::kOut, 7), nullptr);
}

TEST_F(UniqueIfIdTest, AChildRekeyKeepsTheIds) {
  AddWithIfIds(base::kIfIdUniqueDir, base::kIfIdUniqueDir);
  Initiate("net");
  auto before = Children(a_);
  ASSERT_EQ(before.size(), 1u);
  ASSERT_TRUE(a_.Rekey("to-b", "net", net_.now()).has_value());
  net_.RunFor(seconds(2));
  auto after = Children(a_);
  ASSERT_EQ(after.size(), 1u);
  EXPECT_GT(after[0].id, before[0].id);
  EXPECT_EQ(after[0].if_id_in, before[0].if_id_in);
  EXPECT_EQ(after[0].if_id_out, before[0].if_id_out);
  EXPECT_EQ(after[0].reqid, before[0].reqid);
  ASSERT_NE(Policy(xfrm::PolicyDir::kOut, before[0].if_id_out), nullptr);
  EXPECT_EQ(Policy(xfrm::PolicyDir::kOut, before[0].if_id_out)->tmpl_spi, after[0].spi_out);
}

// The connection's %unique is drawn once for the IKE SA: both children share it, an IKE rekey
// keeps it, and a child made over the rekeyed SA gets it too.
TEST_F(UniqueIfIdTest, AConnectionsIdIsTheIkeSasForAllItsChildren) {
  AddWithIfIds(0, 0, base::kIfIdUnique, base::kIfIdUnique);
  Initiate("net");
  auto sas = a_.ListSas(net_.now());
  ASSERT_EQ(sas.size(), 1u);
  const std::uint32_t id = sas[0].if_id_in;
  EXPECT_NE(id, 0u);
  EXPECT_FALSE(base::IsUniqueIfId(id));
  EXPECT_EQ(sas[0].if_id_out, id);
  ASSERT_TRUE(a_.Rekey("to-b", "", net_.now()).has_value());
  net_.RunFor(seconds(1));
  sas = a_.ListSas(net_.now());
  ASSERT_EQ(sas.size(), 1u);
  EXPECT_EQ(sas[0].if_id_in, id);
  EXPECT_EQ(sas[0].if_id_out, id);
  Initiate("net2");
  auto children = Children(a_);
  ASSERT_EQ(children.size(), 2u);
  for (const auto& c : children) {
    EXPECT_EQ(c.if_id_in, id) << c.name;
    EXPECT_EQ(c.if_id_out, id) << c.name;
  }
  // B's connection names no ids: its side has none.
  for (const auto& c : Children(b_)) EXPECT_EQ(c.if_id_in, 0u);
}

}  // namespace
}  // namespace minivpn::ike::test
