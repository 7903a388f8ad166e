// The kernel journal (cli/daemon/kernel_journal.h): what JournalingKernel records over a real
// install and removal sequence (on the in-memory kernel), and what replay makes of the lines.
#include "cli/daemon/kernel_journal.h"

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <string>

#include <gtest/gtest.h>

#include "xfrm/child_install.h"
#include "xfrm/fake_kernel.h"

namespace minivpn::daemon {
namespace {

using xfrm::IpAddress;
using xfrm::Mark;
using xfrm::Subnet;

IpAddress Ip(std::string_view text) { return *IpAddress::Parse(text); }

xfrm::ChildSaKernel SeedChild(std::uint32_t spi_in, Mark mark, bool mark_in_sa = false) {
  xfrm::ChildSaKernel c;
  c.local = Ip("192.0.2.1");
  c.remote = Ip("192.0.2.2");
  c.local_ts = *Subnet::Parse("0.0.0.0/0");
  c.remote_ts = *Subnet::Parse("0.0.0.0/0");
  c.spi_in = spi_in;
  c.spi_out = 0xc7902371;
  c.reqid = 1;
  c.mark_in = mark;
  c.mark_out = mark;
  c.mark_in_sa = mark_in_sa;
  c.algorithms = {crypto::EncrId::kAesGcm16, 256, crypto::IntegId::kNone, false};
  c.encr_key_in = SecretBytes(36);
  c.encr_key_out = SecretBytes(36);
  return c;
}

class KernelJournalTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char dir[] = "/tmp/minivpn-journal-XXXXXX";
    ASSERT_NE(::mkdtemp(dir), nullptr);
    dir_ = dir;
    auto journal = KernelJournal::Open(dir_ + "/kernel.journal");
    ASSERT_TRUE(journal) << journal.error();
    journal_.emplace(std::move(*journal));
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  JournalState Leftovers() {
    auto state = journal_->ReadLeftovers();
    EXPECT_TRUE(state) << state.error();
    return state ? *state : JournalState{};
  }

  // What minivpnd does for one CHILD_SA: allocate the inbound SPI, install, later remove.
  xfrm::ChildSaKernel Install(JournalingKernel& kernel, Mark mark, bool mark_in_sa = false) {
    auto spi = kernel.AllocSpi(Ip("192.0.2.2"), Ip("192.0.2.1"), 1);
    EXPECT_TRUE(spi);
    auto child = SeedChild(spi.value_or(0), mark, mark_in_sa);
    EXPECT_FALSE(xfrm::InstallChildSa(kernel, child));
    return child;
  }

  std::string dir_;
  std::optional<KernelJournal> journal_;
  xfrm::FakeKernel fake_;
};

TEST_F(KernelJournalTest, OneChildSaIsTwoSasAndThreePolicies) {
  // The inbound SA replaces the larval SA its SPI was allocated as: one object, one entry.
  // (Before base::Mark, the larval entry said "no mark" as 0/0 and the installed inbound SA as
  // 0/ffffffff: two entries for one SA, and one of them was never removed.)
  JournalingKernel kernel(fake_, *journal_);
  Install(kernel, Mark::Exact(12));
  const JournalState state = Leftovers();
  EXPECT_EQ(state.sas.size(), 2u);
  EXPECT_EQ(state.policies.size(), 3u);
  EXPECT_EQ(fake_.sa_count(), 2u);
}

TEST_F(KernelJournalTest, RemovingTheChildLeavesNothingToReplay) {
  JournalingKernel kernel(fake_, *journal_);
  for (bool mark_in_sa : {false, true}) {
    auto child = Install(kernel, Mark::Exact(12), mark_in_sa);
    ASSERT_FALSE(xfrm::RemoveChildSa(kernel, child));
    const JournalState state = Leftovers();
    EXPECT_TRUE(state.sas.empty()) << "mark_in_sa=" << mark_in_sa << ": "
                                   << KernelJournal::Format(state.sas.front());
    EXPECT_TRUE(state.policies.empty());
    EXPECT_TRUE(fake_.empty());
  }
}

TEST_F(KernelJournalTest, AReleasedSpiLeavesNothingToReplay) {
  // A negotiation that fails after ALLOCSPI deletes the larval SA (no mark).
  JournalingKernel kernel(fake_, *journal_);
  auto spi = kernel.AllocSpi(Ip("192.0.2.2"), Ip("192.0.2.1"), 1);
  ASSERT_TRUE(spi);
  EXPECT_EQ(Leftovers().sas.size(), 1u);
  EXPECT_FALSE(kernel.DelSa({Ip("192.0.2.2"), Ip("192.0.2.1"), *spi, 50, Mark::None()}));
  EXPECT_TRUE(Leftovers().sas.empty());
}

TEST_F(KernelJournalTest, FailedKernelCallsAreNotJournaled) {
  JournalingKernel kernel(fake_, *journal_);
  fake_.FailNth(3, std::errc::no_buffer_space);  // 1 AllocSpi, 2 inbound SA, 3 outbound SA
  auto spi = kernel.AllocSpi(Ip("192.0.2.2"), Ip("192.0.2.1"), 1);
  ASSERT_TRUE(spi);
  EXPECT_TRUE(xfrm::InstallChildSa(kernel, SeedChild(*spi, Mark::Exact(12))));
  const JournalState state = Leftovers();  // the rollback removed the inbound SA as well
  EXPECT_TRUE(state.sas.empty());
  EXPECT_TRUE(state.policies.empty());
  EXPECT_TRUE(fake_.empty());
}

TEST(ReplayJournal, AddsAndRemovesByValueAndCountsBadLines) {
  const std::string text =
      "+sa 192.0.2.1 192.0.2.2 c7902371 50 c/ffffffff\n"
      "+sa 192.0.2.2 192.0.2.1 c903137c 50 0/0\n"
      "+pol 0.0.0.0/0 0.0.0.0/0 out c/ffffffff\n"
      "+pol 0.0.0.0/0 0.0.0.0/0 out c/ffffffff\n"  // a second reference
      "-pol 0.0.0.0/0 0.0.0.0/0 out c/ffffffff\n"
      "-sa 192.0.2.2 192.0.2.1 c903137c 50 0/0\n"
      "+vti vti-b\n"
      "+sa not an sa line\n"
      "+pol 0.0.0.0/0 0.0.0.0/0 sideways c/ffffffff\n"
      "+sa 192.0.2.1 192.0.2.2 c79023";  // torn by a crash mid-write
  std::size_t bad = 0;
  const JournalState state = ReplayJournal(text, &bad);
  ASSERT_EQ(state.sas.size(), 1u);
  EXPECT_EQ(state.sas[0].spi, 0xc7902371u);
  EXPECT_EQ(state.sas[0].mark, Mark::Exact(12));
  ASSERT_EQ(state.policies.size(), 1u);
  EXPECT_EQ(state.policies[0].dir, xfrm::PolicyDir::kOut);
  EXPECT_EQ(state.vtis, std::vector<std::string>{"vti-b"});
  EXPECT_EQ(bad, 3u);
}

}  // namespace
}  // namespace minivpn::daemon
