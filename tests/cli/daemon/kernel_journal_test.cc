// The kernel journal (cli/daemon/kernel_journal.h): what JournalingKernel records over a real
// install and removal sequence (on the in-memory kernel), the write-ahead order, write errors,
// compaction, what replay makes of the lines and what the leftover removal does with them.
#include "cli/daemon/kernel_journal.h"

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
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
  c.local_ts = {xfrm::Selector::Of(*xfrm::Subnet::Parse("0.0.0.0/0"))};
  c.remote_ts = {xfrm::Selector::Of(*xfrm::Subnet::Parse("0.0.0.0/0"))};
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

// SPIs in order from the start of the range: deterministic tests.
JournalingKernel::SpiChooser Counter() {
  return [next = std::uint32_t{0}](xfrm::SpiRange range) mutable { return range.min + next++; };
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

class KernelJournalTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char dir[] = "/tmp/minivpn-journal-XXXXXX";
    ASSERT_NE(::mkdtemp(dir), nullptr);
    dir_ = dir;
    path_ = dir_ + "/kernel.journal";
    auto journal = KernelJournal::Open(path_, [this](const std::string& w) { warnings_.push_back(w); });
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
    auto spi = kernel.AllocSpi(Ip("192.0.2.2"), Ip("192.0.2.1"), 1, xfrm::kCharonSpiRange);
    EXPECT_TRUE(spi);
    auto child = SeedChild(spi.value_or(0), mark, mark_in_sa);
    EXPECT_FALSE(xfrm::InstallChildSa(kernel, child));
    return child;
  }

  std::string dir_;
  std::string path_;
  std::vector<std::string> warnings_;
  std::optional<KernelJournal> journal_;
  xfrm::FakeKernel fake_;
};

TEST_F(KernelJournalTest, OneChildSaIsTwoSasAndThreePolicies) {
  // The inbound SA replaces the larval SA its SPI was allocated as: one object, one entry.
  JournalingKernel kernel(fake_, *journal_, Counter());
  Install(kernel, Mark::Exact(12));
  const JournalState state = Leftovers();
  EXPECT_EQ(state.sas.size(), 2u);
  EXPECT_EQ(state.policies.size(), 3u);
  EXPECT_EQ(fake_.sa_count(), 2u);
  EXPECT_EQ(journal_->live_entries(), 5u);
}

TEST_F(KernelJournalTest, TheSpiIsChosenAndRecordedBeforeAllocSpi) {
  JournalingKernel kernel(fake_, *journal_, Counter());
  auto spi = kernel.AllocSpi(Ip("192.0.2.2"), Ip("192.0.2.1"), 1, xfrm::kCharonSpiRange);
  ASSERT_TRUE(spi);
  EXPECT_EQ(*spi, 0xc0000000u);  // the chooser's first value, asked for exactly
  EXPECT_TRUE(fake_.IsLarval(Ip("192.0.2.1"), 0xc0000000u));
  EXPECT_EQ(ReadFile(path_),
            "+?sa 192.0.2.2 192.0.2.1 c0000000 50 0/0\n"
            "+=sa 192.0.2.2 192.0.2.1 c0000000 50 0/0\n");
}

TEST_F(KernelJournalTest, ATakenSpiIsRetriedWithTheNextChoice) {
  JournalingKernel first(fake_, *journal_, Counter());
  ASSERT_TRUE(first.AllocSpi(Ip("192.0.2.2"), Ip("192.0.2.1"), 1, xfrm::kCharonSpiRange));
  JournalingKernel second(fake_, *journal_, Counter());  // chooses c0000000 again: taken
  auto spi = second.AllocSpi(Ip("192.0.2.2"), Ip("192.0.2.1"), 1, xfrm::kCharonSpiRange);
  ASSERT_TRUE(spi);
  EXPECT_EQ(*spi, 0xc0000001u);
  EXPECT_EQ(Leftovers().sas.size(), 2u);  // the failed attempt is retracted ("+!")
}

// Every kernel call of an install and a removal happens while the journal already names the
// object (the intent is on disk before the call): a kill -9 at any call leaves nothing unnamed.
class WatchingKernel final : public xfrm::KernelIpsec {
 public:
  WatchingKernel(xfrm::KernelIpsec& inner, std::string path) : inner_(inner), path_(std::move(path)) {}
  std::expected<std::uint32_t, std::error_code> AllocSpi(const IpAddress& src, const IpAddress& dst,
                                                         std::uint32_t reqid,
                                                         xfrm::SpiRange range) override {
    Check(xfrm::SaId{src, dst, range.min, 50, Mark::None()});
    return inner_.AllocSpi(src, dst, reqid, range);
  }
  std::error_code AddSa(const xfrm::SaSpec& spec) override {
    Check(spec.id);
    return inner_.AddSa(spec);
  }
  std::error_code DelSa(const xfrm::SaId& id) override {
    Check(id);
    return inner_.DelSa(id);
  }
  std::expected<xfrm::SaCounters, std::error_code> QuerySa(const xfrm::SaId& id) override {
    return inner_.QuerySa(id);
  }
  std::error_code UpdateSa(const xfrm::SaId& id, const xfrm::SaMove& to) override {
    Check(id);
    Check(xfrm::SaId{to.src, to.dst, id.spi, id.proto, id.mark});
    return inner_.UpdateSa(id, to);
  }
  std::error_code AddPolicy(const xfrm::PolicySpec& spec) override {
    Check(spec.id);
    return inner_.AddPolicy(spec);
  }
  std::error_code UpdatePolicy(const xfrm::PolicySpec& spec) override {
    Check(spec.id);
    return inner_.UpdatePolicy(spec);
  }
  std::error_code DelPolicy(const xfrm::PolicyId& id) override {
    Check(id);
    return inner_.DelPolicy(id);
  }
  std::size_t checked = 0;

 private:
  void Check(const xfrm::SaId& id) {
    const auto state = ReplayJournal(ReadFile(path_));
    xfrm::SaId larval = id;
    larval.mark = Mark::None();  // an inbound SA is named by its larval entry until installed
    EXPECT_TRUE(std::count(state.sas.begin(), state.sas.end(), id) > 0 ||
                std::count(state.sas.begin(), state.sas.end(), larval) > 0)
        << "SA " << id.spi << " not in the journal before the call";
    ++checked;
  }
  void Check(const xfrm::PolicyId& id) {
    const auto state = ReplayJournal(ReadFile(path_));
    EXPECT_GT(std::count(state.policies.begin(), state.policies.end(), id), 0)
        << "policy not in the journal before the call";
    ++checked;
  }
  xfrm::KernelIpsec& inner_;
  std::string path_;
};

TEST_F(KernelJournalTest, EveryKernelCallIsPrecededByItsIntent) {
  for (bool mark_in_sa : {false, true}) {
    WatchingKernel watching(fake_, path_);
    JournalingKernel kernel(watching, *journal_, Counter());
    auto child = Install(kernel, Mark::Exact(12), mark_in_sa);
    // make-before-break: a second SA pair sharing the policies, then the first one goes
    auto spi = kernel.AllocSpi(Ip("192.0.2.2"), Ip("192.0.2.1"), 1, xfrm::kCharonSpiRange);
    ASSERT_TRUE(spi);
    auto next = SeedChild(*spi, Mark::Exact(12), mark_in_sa);
    next.spi_out = 0xc7902372;
    ASSERT_FALSE(xfrm::InstallChildSa(kernel, next));
    ASSERT_FALSE(xfrm::RemoveChildSa(kernel, child));
    ASSERT_FALSE(xfrm::RemoveChildSa(kernel, next));
    EXPECT_GE(watching.checked, 14u);
    EXPECT_TRUE(fake_.empty());
    EXPECT_EQ(Leftovers().size(), 0u) << "mark_in_sa=" << mark_in_sa;
  }
}

TEST_F(KernelJournalTest, RemovingTheChildLeavesNothingToReplay) {
  JournalingKernel kernel(fake_, *journal_, Counter());
  for (bool mark_in_sa : {false, true}) {
    auto child = Install(kernel, Mark::Exact(12), mark_in_sa);
    ASSERT_FALSE(xfrm::RemoveChildSa(kernel, child));
    const JournalState state = Leftovers();
    EXPECT_TRUE(state.sas.empty()) << "mark_in_sa=" << mark_in_sa;
    EXPECT_TRUE(state.policies.empty());
    EXPECT_TRUE(fake_.empty());
    EXPECT_EQ(journal_->live_entries(), 0u);
  }
}

TEST_F(KernelJournalTest, AReleasedSpiLeavesNothingToReplay) {
  // A negotiation that fails after ALLOCSPI deletes the larval SA (no mark).
  JournalingKernel kernel(fake_, *journal_, Counter());
  auto spi = kernel.AllocSpi(Ip("192.0.2.2"), Ip("192.0.2.1"), 1, xfrm::kCharonSpiRange);
  ASSERT_TRUE(spi);
  EXPECT_EQ(Leftovers().sas.size(), 1u);
  EXPECT_FALSE(kernel.DelSa({Ip("192.0.2.2"), Ip("192.0.2.1"), *spi, 50, Mark::None()}));
  EXPECT_TRUE(Leftovers().sas.empty());
}

TEST_F(KernelJournalTest, FailedKernelCallsAreRetracted) {
  JournalingKernel kernel(fake_, *journal_, Counter());
  fake_.FailNth(3, std::errc::no_buffer_space);  // 1 AllocSpi, 2 inbound SA, 3 outbound SA
  auto spi = kernel.AllocSpi(Ip("192.0.2.2"), Ip("192.0.2.1"), 1, xfrm::kCharonSpiRange);
  ASSERT_TRUE(spi);
  EXPECT_TRUE(xfrm::InstallChildSa(kernel, SeedChild(*spi, Mark::Exact(12))));
  EXPECT_NE(ReadFile(path_).find("+!sa 192.0.2.1 192.0.2.2 c7902371"), std::string::npos);
  const JournalState state = Leftovers();  // the rollback removed the inbound SA as well
  EXPECT_TRUE(state.sas.empty());
  EXPECT_TRUE(state.policies.empty());
  EXPECT_TRUE(fake_.empty());
}

TEST(KernelJournal, AnUnwritableJournalRefusesInstallsButNotRemovals) {
  // /dev/full: every write fails with ENOSPC, as on a full /run.
  std::vector<std::string> warnings;
  auto journal = KernelJournal::Open("/dev/full", [&](const std::string& w) { warnings.push_back(w); });
  ASSERT_TRUE(journal) << journal.error();
  xfrm::FakeKernel fake;
  JournalingKernel kernel(fake, *journal, Counter());
  auto spi = kernel.AllocSpi(Ip("192.0.2.2"), Ip("192.0.2.1"), 1, xfrm::kCharonSpiRange);
  ASSERT_FALSE(spi);
  EXPECT_EQ(spi.error(), std::errc::no_space_on_device);
  const auto child = SeedChild(0xc0000001, Mark::Exact(12), /*mark_in_sa=*/true);
  EXPECT_EQ(kernel.AddSa(xfrm::InboundSaSpec(child)), std::errc::no_space_on_device);
  EXPECT_EQ(kernel.AddSa(xfrm::OutboundSaSpec(child)), std::errc::no_space_on_device);
  for (const auto& policy : xfrm::ChildPolicies(child))
    EXPECT_EQ(kernel.AddPolicy(policy), std::errc::no_space_on_device);
  EXPECT_TRUE(fake.empty()) << "nothing may be installed that the journal does not name";
  EXPECT_EQ(fake.call_count(), 0u);
  // Removing goes ahead: the kernel's state only gets smaller.
  xfrm::PolicySpec policy;
  policy.id = {*Subnet::Parse("10.0.0.0/8"), *Subnet::Parse("0.0.0.0/0"), xfrm::PolicyDir::kOut,
               Mark::Exact(12)};
  ASSERT_FALSE(fake.AddPolicy(policy));
  EXPECT_FALSE(kernel.DelPolicy(policy.id));
  EXPECT_TRUE(fake.empty());
  // Counted, and reported with the count (first, second, fourth ...).
  EXPECT_GE(journal->write_errors(), 5u);
  ASSERT_GE(warnings.size(), 2u);
  EXPECT_NE(warnings[0].find("/dev/full"), std::string::npos) << warnings[0];
  EXPECT_NE(warnings[0].find("No space left on device (1 write error so far)"), std::string::npos)
      << warnings[0];
  EXPECT_NE(warnings[1].find("(2 write errors so far)"), std::string::npos) << warnings[1];
}

TEST_F(KernelJournalTest, CompactionKeepsTheFileProportionalToTheLiveObjects) {
  JournalingKernel kernel(fake_, *journal_, Counter());
  auto steady = Install(kernel, Mark::Exact(12));  // 5 live objects through all the churn
  std::size_t max_lines = 0;
  for (int i = 0; i < 2000; ++i) {  // 2000 make-before-break rekeys of a second child
    auto child = Install(kernel, Mark::Exact(13));
    ASSERT_FALSE(xfrm::RemoveChildSa(kernel, child));
    max_lines = std::max(max_lines, journal_->lines());
  }
  EXPECT_GT(journal_->compactions(), 10u);
  EXPECT_LE(max_lines, 2 * 10 + KernelJournal::kCompactFloor + 20);
  std::size_t lines_in_file = 0;
  for (char c : ReadFile(path_)) lines_in_file += c == '\n';
  EXPECT_EQ(lines_in_file, journal_->lines());
  const JournalState state = Leftovers();
  EXPECT_EQ(state.sas.size(), 2u);
  EXPECT_EQ(state.policies.size(), 3u);
  EXPECT_EQ(journal_->live_entries(), 5u);
  EXPECT_TRUE(warnings_.empty());
  ASSERT_FALSE(xfrm::RemoveChildSa(kernel, steady));
  EXPECT_EQ(Leftovers().size(), 0u);
}

TEST_F(KernelJournalTest, ResetWritesExactlyWhatIsStillThere) {
  JournalingKernel kernel(fake_, *journal_, Counter());
  Install(kernel, Mark::Exact(12));
  JournalState still;
  still.vtis = {"vti12"};
  still.sas = {xfrm::SaId{Ip("192.0.2.1"), Ip("192.0.2.2"), 0xc1, 50, Mark::Exact(12)}};
  ASSERT_FALSE(journal_->Reset(still));
  EXPECT_EQ(ReadFile(path_),
            "+sa 192.0.2.1 192.0.2.2 000000c1 50 c/ffffffff\n"
            "+vti vti12\n");
  EXPECT_EQ(journal_->lines(), 2u);
  EXPECT_EQ(journal_->live_entries(), 2u);
}

TEST(KernelJournal, OpenRemovesTheCopyOfAnInterruptedCompaction) {
  char dir[] = "/tmp/minivpn-journal-XXXXXX";
  ASSERT_NE(::mkdtemp(dir), nullptr);
  const std::string path = std::string(dir) + "/kernel.journal";
  std::ofstream(path) << "+vti vti1\n";
  std::ofstream(path + ".new") << "+vti half\n";  // killed before the rename
  auto journal = KernelJournal::Open(path);
  ASSERT_TRUE(journal);
  EXPECT_FALSE(std::filesystem::exists(path + ".new"));
  EXPECT_EQ(journal->ReadLeftovers()->vtis, std::vector<std::string>{"vti1"});
  std::filesystem::remove_all(dir);
}

TEST(ReplayJournal, WriteAheadStepsAndPlainFacts) {
  const std::string sa = "sa 192.0.2.1 192.0.2.2 c7902371 50 c/ffffffff";
  auto sas_after = [&](std::initializer_list<const char*> ops) {
    std::string text;
    for (const char* op : ops) text += std::string(op) + sa + "\n";
    return ReplayJournal(text).sas.size();
  };
  EXPECT_EQ(sas_after({"+?"}), 1u) << "killed during the install: it may exist";
  EXPECT_EQ(sas_after({"+?", "+="}), 1u);
  EXPECT_EQ(sas_after({"+?", "+!"}), 0u) << "the install failed";
  EXPECT_EQ(sas_after({"+?", "+=", "-?"}), 1u) << "killed during the removal: it may exist";
  EXPECT_EQ(sas_after({"+?", "+=", "-?", "-!"}), 1u) << "the removal failed";
  EXPECT_EQ(sas_after({"+?", "+=", "-?", "-="}), 0u);
  EXPECT_EQ(sas_after({"+", "-"}), 0u);
  EXPECT_EQ(sas_after({"-=", "+?"}), 1u) << "a removal of nothing does not cancel a later add";
  EXPECT_EQ(sas_after({"+", "+?", "-="}), 1u) << "two references, one removed";
}

TEST(ReplayJournal, AddsAndRemovesByValueAndCountsBadLines) {
  const std::string text =
      "+sa 192.0.2.1 192.0.2.2 c7902371 50 c/ffffffff\n"
      "+?sa 192.0.2.2 192.0.2.1 c903137c 50 0/0\n"
      "+=sa 192.0.2.2 192.0.2.1 c903137c 50 0/0\n"
      "+?pol 0.0.0.0/0 0.0.0.0/0 out c/ffffffff\n"
      "+?pol 0.0.0.0/0 0.0.0.0/0 out c/ffffffff\n"  // a second reference
      "-=pol 0.0.0.0/0 0.0.0.0/0 out c/ffffffff\n"
      "-=sa 192.0.2.2 192.0.2.1 c903137c 50 0/0\n"
      "+?vti vti-b\n"
      "+sa not an sa line\n"
      "*sa 192.0.2.1 192.0.2.2 c7902371 50 c/ffffffff\n"
      "+pol 0.0.0.0/0 0.0.0.0/0 sideways c/ffffffff\n"
      "+?sa 192.0.2.1 192.0.2.2 c79023";  // torn by a crash mid-write
  ReplayStats stats;
  const JournalState state = ReplayJournal(text, &stats);
  ASSERT_EQ(state.sas.size(), 1u);
  EXPECT_EQ(state.sas[0].spi, 0xc7902371u);
  EXPECT_EQ(state.sas[0].mark, Mark::Exact(12));
  ASSERT_EQ(state.policies.size(), 1u);
  EXPECT_EQ(state.policies[0].dir, xfrm::PolicyDir::kOut);
  EXPECT_EQ(state.vtis, std::vector<std::string>{"vti-b"});
  EXPECT_EQ(stats.lines, 12u);
  EXPECT_EQ(stats.bad_lines, 4u);
}

// A policy with a protocol and ports has a sixth word ("proto:sport/smask:dport/dmask", ports in
// hex); it replays to the same PolicyId, so its removal matches its add.
TEST(ReplayJournal, PolicyWithProtocolAndPortsRoundTrips) {
  xfrm::PolicyId gre{*Subnet::Parse("192.0.2.1/32"), *Subnet::Parse("192.0.2.2/32"),
                     xfrm::PolicyDir::kOut, Mark::None()};
  gre.proto = 47;
  xfrm::PolicyId ports{*Subnet::Parse("10.1.0.0/16"), *Subnet::Parse("fd00::/8"),
                       xfrm::PolicyDir::kIn, Mark::Exact(12)};
  ports.proto = 6;
  ports.sport = xfrm::PortMatch{80, 0xffff};
  ports.dport = xfrm::PortMatch{1024, 0xfc00};
  xfrm::PolicyId any_proto = ports;  // "[/53]": a port without a protocol
  any_proto.proto = 0;
  any_proto.sport = xfrm::PortMatch{53, 0xffff};
  any_proto.dport = xfrm::PortMatch{};

  EXPECT_EQ(JournalEntry::Policy(gre).body, "192.0.2.1/32 192.0.2.2/32 out 0/0 47:0/0:0/0");
  EXPECT_EQ(JournalEntry::Policy(ports).body,
            "10.1.0.0/16 fd00::/8 in c/ffffffff 6:50/ffff:400/fc00");
  EXPECT_EQ(JournalEntry::Policy(any_proto).body,
            "10.1.0.0/16 fd00::/8 in c/ffffffff 0:35/ffff:0/0");
  for (const auto& id : {gre, ports, any_proto}) {
    SCOPED_TRACE(JournalEntry::Policy(id).body);
    ReplayStats stats;
    const JournalState state =
        ReplayJournal("+pol " + JournalEntry::Policy(id).body + "\n", &stats);
    EXPECT_EQ(stats.bad_lines, 0u);
    ASSERT_EQ(state.policies.size(), 1u);
    EXPECT_EQ(state.policies[0], id);
    // The removal cancels exactly that policy, not its twin without protocol and ports.
    xfrm::PolicyId plain{id.src, id.dst, id.dir, id.mark};
    const std::string both = "+pol " + JournalEntry::Policy(id).body + "\n+pol " +
                             JournalEntry::Policy(plain).body + "\n-pol " +
                             JournalEntry::Policy(id).body + "\n";
    const JournalState after = ReplayJournal(both);
    ASSERT_EQ(after.policies.size(), 1u);
    EXPECT_EQ(after.policies[0], plain);
  }
}

// An XFRM interface id (charon's if_id_in/out) tells policies apart as the mark does: it is a
// last word "if_id=<hex>", after the protocol word if there is one.
TEST(ReplayJournal, PolicyWithIfIdRoundTrips) {
  xfrm::PolicyId xfrmi{*Subnet::Parse("0.0.0.0/0"), *Subnet::Parse("0.0.0.0/0"),
                       xfrm::PolicyDir::kIn, Mark::None()};
  xfrmi.if_id = 42;
  xfrm::PolicyId gre = xfrmi;
  gre.proto = 47;
  EXPECT_EQ(JournalEntry::Policy(xfrmi).body, "0.0.0.0/0 0.0.0.0/0 in 0/0 if_id=2a");
  EXPECT_EQ(JournalEntry::Policy(gre).body, "0.0.0.0/0 0.0.0.0/0 in 0/0 47:0/0:0/0 if_id=2a");
  for (const auto& id : {xfrmi, gre}) {
    ReplayStats stats;
    const JournalState state = ReplayJournal("+pol " + JournalEntry::Policy(id).body + "\n" +
                                             "+pol 0.0.0.0/0 0.0.0.0/0 in 0/0 if_id=0\n" +
                                             "+pol 0.0.0.0/0 0.0.0.0/0 in 0/0 if_id=2a x\n",
                                             &stats);
    EXPECT_EQ(stats.bad_lines, 2u);
    ASSERT_EQ(state.policies.size(), 1u);
    EXPECT_EQ(state.policies[0], id);
  }
}

TEST(ReplayJournal, PolicyLinesOfFiveWordsAndBadSixthWords) {
  ReplayStats stats;
  const JournalState state = ReplayJournal(
      "+pol 0.0.0.0/0 0.0.0.0/0 fwd c/ffffffff\n"    // the format before protocols: still read
      "+pol 0.0.0.0/0 0.0.0.0/0 out c/ffffffff 47\n"  // no ports
      "+pol 0.0.0.0/0 0.0.0.0/0 out c/ffffffff 47:0/0\n"
      "+pol 0.0.0.0/0 0.0.0.0/0 out c/ffffffff 999:0/0:0/0\n"
      "+pol 0.0.0.0/0 0.0.0.0/0 out c/ffffffff 6:50:0/0\n"
      "+pol 0.0.0.0/0 0.0.0.0/0 out c/ffffffff 6:50/ffff:0/0 extra\n",
      &stats);
  ASSERT_EQ(state.policies.size(), 1u);
  EXPECT_EQ(state.policies[0], (xfrm::PolicyId{*Subnet::Parse("0.0.0.0/0"),
                                              *Subnet::Parse("0.0.0.0/0"), xfrm::PolicyDir::kFwd,
                                              Mark::Exact(12)}));
  EXPECT_EQ(state.policies[0].proto, 0);
  EXPECT_EQ(stats.bad_lines, 5u);
  // A policy without protocol and ports is still written in five words.
  EXPECT_EQ(JournalEntry::Policy(state.policies[0]).body, "0.0.0.0/0 0.0.0.0/0 fwd c/ffffffff");
}

// A dual-stack GRE child through the journaling kernel: every policy (with its protocol) is
// journaled and its removal leaves nothing to replay.
TEST_F(KernelJournalTest, ProtocolPoliciesOfADualStackChildAreJournaledAndRemoved) {
  JournalingKernel kernel(fake_, *journal_, Counter());
  auto spi = kernel.AllocSpi(Ip("192.0.2.2"), Ip("192.0.2.1"), 1, xfrm::kCharonSpiRange);
  ASSERT_TRUE(spi);
  auto child = SeedChild(*spi, Mark::Exact(12));
  xfrm::Selector v4 = xfrm::Selector::Of(*Subnet::Parse("10.1.0.0/16"));
  xfrm::Selector v6 = xfrm::Selector::Of(*Subnet::Parse("fd01::/64"));
  v4.proto = v6.proto = 47;
  child.local_ts = {v4, v6};
  child.remote_ts = {xfrm::Selector::Of(*Subnet::Parse("0.0.0.0/0")),
                     xfrm::Selector::Of(*Subnet::Parse("::/0"))};
  ASSERT_FALSE(xfrm::InstallChildSa(kernel, child));
  const JournalState state = Leftovers();
  EXPECT_EQ(state.sas.size(), 2u);
  ASSERT_EQ(state.policies.size(), 6u);
  for (const auto& id : state.policies) EXPECT_EQ(id.proto, 47);
  EXPECT_EQ(state.policies, [&] {
    std::vector<xfrm::PolicyId> ids;
    for (const auto& p : xfrm::ChildPolicies(child)) ids.push_back(p.id);
    return ids;
  }());
  ASSERT_FALSE(xfrm::RemoveChildSa(kernel, child));
  EXPECT_EQ(Leftovers().size(), 0u);
  EXPECT_TRUE(fake_.empty());
}

TEST(RemoveLeftovers, OneRemovalPerObjectAndWhatStaysIsKept) {
  xfrm::FakeKernel fake;
  auto spi = fake.AllocSpi(Ip("192.0.2.2"), Ip("192.0.2.1"), 1, xfrm::kCharonSpiRange);
  ASSERT_TRUE(spi);
  auto child = SeedChild(*spi, Mark::Exact(12));
  ASSERT_FALSE(xfrm::InstallChildSa(fake, child));
  ASSERT_FALSE(xfrm::InstallChildSa(fake, [&] {  // a second reference to each policy
    auto spi2 = fake.AllocSpi(Ip("192.0.2.2"), Ip("192.0.2.1"), 1, xfrm::kCharonSpiRange);
    auto c = SeedChild(*spi2, Mark::Exact(12));
    c.spi_out = 0xc7902372;
    return c;
  }()));
  fake.ForgetReferences();  // the daemon died: a new process sees each policy once
  JournalState leftovers;
  leftovers.sas.push_back({Ip("192.0.2.2"), Ip("192.0.2.1"), *spi, 50, Mark::None()});
  leftovers.sas.push_back({Ip("192.0.2.2"), Ip("192.0.2.1"), *spi + 1, 50, Mark::None()});
  leftovers.sas.push_back({Ip("192.0.2.1"), Ip("192.0.2.2"), 0xc7902371, 50, Mark::Exact(12)});
  leftovers.sas.push_back({Ip("192.0.2.1"), Ip("192.0.2.2"), 0xc7902372, 50, Mark::Exact(12)});
  leftovers.sas.push_back({Ip("192.0.2.1"), Ip("192.0.2.2"), 0xc7902373, 50, Mark::Exact(12)});
  for (auto dir : {xfrm::PolicyDir::kOut, xfrm::PolicyDir::kIn, xfrm::PolicyDir::kFwd}) {
    xfrm::PolicyId id{*Subnet::Parse("0.0.0.0/0"), *Subnet::Parse("0.0.0.0/0"), dir, Mark::Exact(12)};
    leftovers.policies.push_back(id);
    leftovers.policies.push_back(id);  // two references: one kernel object
  }
  leftovers.vtis = {"vti12", "gone0"};
  std::vector<std::string> vti_calls;
  fake.FailNth(2, std::errc::operation_not_permitted);  // the second policy removal is refused
  auto report = RemoveLeftovers(leftovers, fake, [&](const std::string& name) {
    vti_calls.push_back(name);
    return name == "gone0" ? std::make_error_code(std::errc::no_such_device) : std::error_code();
  });
  EXPECT_EQ(report.removed, 2u + 4u + 1u);  // 2 policies, 4 SAs, vti12
  EXPECT_EQ(report.already_gone, 1u + 1u);  // SA c7902373, gone0
  ASSERT_EQ(report.still_there.policies.size(), 1u);
  EXPECT_EQ(report.still_there.size(), 1u);
  ASSERT_EQ(report.errors.size(), 1u);
  EXPECT_NE(report.errors[0].find("policy 0.0.0.0/0 0.0.0.0/0"), std::string::npos) << report.errors[0];
  EXPECT_EQ(vti_calls, (std::vector<std::string>{"vti12", "gone0"}));
  EXPECT_EQ(fake.sa_count(), 0u);
  EXPECT_EQ(fake.larval_count(), 0u);
  EXPECT_EQ(fake.policy_count(), 1u);  // the refused one
}

}  // namespace
}  // namespace minivpn::daemon
