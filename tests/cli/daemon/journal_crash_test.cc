// Crash injection (issue 17): minivpnd "dies" at every single kernel operation of an establish,
// a CHILD rekey, an IKE rekey and a delete, from either side, once just before the operation
// reaches the kernel and once just after. The kernel (a FakeKernel) survives the process; the
// next start replays the journal and removes the leftovers, which must leave the kernel exactly
// empty, and a new negotiation then leaves exactly one CHILD_SA pair and its three policies.
//
// The process death is an exception thrown from below the JournalingKernel, so every journal line
// written before it is on disk and nothing after it is, exactly as with kill -9.
#include <unistd.h>

#include <filesystem>
#include <type_traits>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "cli/daemon/kernel_journal.h"
#include "crypto/random.h"
#include "ike/engine/engine.h"
#include "tests/ike/engine/sim_network.h"
#include "xfrm/fake_kernel.h"

namespace minivpn::daemon {
namespace {

using ike::test::SimNetwork;
using std::chrono::seconds;

xfrm::IpAddress Ip(const char* text) { return *xfrm::IpAddress::Parse(text); }

struct ProcessDied {};

// Counts the calls that change the kernel; at call number `crash_at` the process dies, before the
// call reaches the kernel or right after it returned.
class CrashingKernel final : public xfrm::KernelIpsec {
 public:
  enum class When { kBefore, kAfter };
  CrashingKernel(xfrm::KernelIpsec& kernel, std::size_t crash_at, When when)
      : kernel_(kernel), crash_at_(crash_at), when_(when) {}

  std::expected<std::uint32_t, std::error_code> AllocSpi(const xfrm::IpAddress& src,
                                                         const xfrm::IpAddress& dst,
                                                         std::uint32_t reqid,
                                                         xfrm::SpiRange range) override {
    return Change([&] { return kernel_.AllocSpi(src, dst, reqid, range); });
  }
  std::error_code AddSa(const xfrm::SaSpec& spec) override {
    return Change([&] { return kernel_.AddSa(spec); });
  }
  std::error_code DelSa(const xfrm::SaId& id) override {
    return Change([&] { return kernel_.DelSa(id); });
  }
  std::expected<xfrm::SaCounters, std::error_code> QuerySa(const xfrm::SaId& id) override {
    return kernel_.QuerySa(id);
  }
  std::error_code UpdateSa(const xfrm::SaId& id, const xfrm::SaMove& to) override {
    return Change([&] { return kernel_.UpdateSa(id, to); });
  }
  std::error_code AddPolicy(const xfrm::PolicySpec& spec) override {
    return Change([&] { return kernel_.AddPolicy(spec); });
  }
  std::error_code UpdatePolicy(const xfrm::PolicySpec& spec) override {
    return Change([&] { return kernel_.UpdatePolicy(spec); });
  }
  std::error_code DelPolicy(const xfrm::PolicyId& id) override {
    return Change([&] { return kernel_.DelPolicy(id); });
  }

  std::size_t changes() const { return changes_; }
  bool died() const { return died_; }

 private:
  template <typename Call>
  auto Change(Call call) -> decltype(call()) {
    if (died_) {  // a dead process makes no calls (only reached while unwinding)
      const auto dead = std::make_error_code(std::errc::io_error);
      if constexpr (std::is_same_v<decltype(call()), std::error_code>) {
        return dead;
      } else {
        return std::unexpected(dead);
      }
    }
    if (++changes_ == crash_at_ && when_ == When::kBefore) Die();
    auto result = call();
    if (changes_ == crash_at_) Die();
    return result;
  }
  [[noreturn]] void Die() {
    died_ = true;
    throw ProcessDied{};
  }

  xfrm::KernelIpsec& kernel_;
  std::size_t changes_ = 0;
  std::size_t crash_at_;
  When when_;
  bool died_ = false;
};

enum class Phase { kEstablish, kChildRekey, kIkeRekey, kDeleteChild, kDeleteIke };

std::string PhaseName(Phase p) {
  switch (p) {
    case Phase::kEstablish: return "establish";
    case Phase::kChildRekey: return "CHILD rekey";
    case Phase::kIkeRekey: return "IKE rekey";
    case Phase::kDeleteChild: return "CHILD delete";
    case Phase::kDeleteIke: return "IKE delete";
  }
  return "?";
}

ike::PeerConfig Peer(const char* name, const char* local, const char* remote, const char* id,
                     const char* remote_id) {
  ike::PeerConfig p;
  p.name = name;
  p.local_address = Ip(local);
  p.remote_address = Ip(remote);
  p.proposals = {ike::IkeProposal{.encr = {{crypto::EncrId::kAesGcm16, 256}},
                                  .integ = {},
                                  .prf = {crypto::PrfId::kHmacSha2_256},
                                  .dh = {crypto::DhGroup::kCurve25519}}};
  p.local_id = ike::Identity{ike::IdType::kFqdn, id};
  p.remote_id = ike::Identity{ike::IdType::kFqdn, remote_id};
  p.psk = SecretBytes::FromString("crash test psk, not a secret");
  ike::ChildConfig c;
  c.name = "net";
  c.local_ts = {xfrm::Selector::Of(*xfrm::Subnet::Parse("0.0.0.0/0"))};
  c.remote_ts = {xfrm::Selector::Of(*xfrm::Subnet::Parse("0.0.0.0/0"))};
  c.mark_in = xfrm::Mark::Exact(12);
  c.mark_out = xfrm::Mark::Exact(12);
  c.proposals = {ike::EspProposal{.encr = {{crypto::EncrId::kAesGcm16, 256}},
                                  .integ = {},
                                  .dh = {},
                                  .esn = {ike::EsnId::kNoEsn}}};
  p.children = {c};
  return p;
}

// One life of router A's minivpnd (journal + engine) against a peer B, on A's surviving kernel.
struct World {
  World(xfrm::FakeKernel& kernel_a, const std::string& journal_path, std::size_t crash_at,
        CrashingKernel::When when, std::uint64_t seed)
      : crashing(kernel_a, crash_at, when),
        journal(*KernelJournal::Open(journal_path)),
        journaled(crashing, journal),
        rand_a(seed),
        rand_b(seed + 1000),
        a(ike::EngineConfig{}, rand_a, journaled),
        b(ike::EngineConfig{}, rand_b, kernel_b) {
    net.Attach(Ip("192.0.2.1"), &a);
    net.Attach(Ip("192.0.2.2"), &b);
    EXPECT_TRUE(a.AddPeer(Peer("to-b", "192.0.2.1", "192.0.2.2", "a.test", "b.test"), net.now()));
    EXPECT_TRUE(b.AddPeer(Peer("to-a", "192.0.2.2", "192.0.2.1", "b.test", "a.test"), net.now()));
  }

  void Establish(bool a_starts) {
    if (a_starts) {
      ASSERT_TRUE(a.Initiate("to-b", "net", net.now()));
    } else {
      ASSERT_TRUE(b.Initiate("to-a", "net", net.now()));
    }
    net.RunFor(seconds(1));
  }

  // The phase under test, started by A or by B.
  void Run(Phase phase, bool a_starts) {
    ike::Engine& e = a_starts ? a : b;
    const char* peer = a_starts ? "to-b" : "to-a";
    switch (phase) {
      case Phase::kEstablish: return Establish(a_starts);
      case Phase::kChildRekey: ASSERT_TRUE(e.Rekey(peer, "net", net.now())); break;
      case Phase::kIkeRekey: ASSERT_TRUE(e.Rekey(peer, "", net.now())); break;
      case Phase::kDeleteChild: ASSERT_TRUE(e.Terminate(peer, "net", net.now())); break;
      case Phase::kDeleteIke: ASSERT_TRUE(e.Terminate(peer, "", net.now())); break;
    }
    net.RunFor(seconds(1));
  }

  CrashingKernel crashing;
  KernelJournal journal;
  JournalingKernel journaled;
  crypto::SeededRandom rand_a, rand_b;
  xfrm::FakeKernel kernel_b;
  ike::Engine a, b;
  SimNetwork net;
};

class JournalCrashTest : public ::testing::TestWithParam<std::tuple<Phase, bool>> {
 protected:
  void SetUp() override {
    char dir[] = "/tmp/minivpn-crash-XXXXXX";
    ASSERT_NE(::mkdtemp(dir), nullptr);
    dir_ = dir;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  // Kernel changes made by A up to the phase, and by the end of it (no crash).
  std::pair<std::size_t, std::size_t> CountChanges(Phase phase, bool a_starts) {
    xfrm::FakeKernel kernel;
    World w(kernel, dir_ + "/count.journal", 0, CrashingKernel::When::kAfter, 1);
    std::size_t before = 0;
    if (phase != Phase::kEstablish) {
      w.Establish(true);
      before = w.crashing.changes();
    }
    w.Run(phase, a_starts);
    return {before, w.crashing.changes()};
  }

  // The next start: replay, remove the leftovers; then negotiate again.
  void RestartAndCheck(xfrm::FakeKernel& kernel, const std::string& path, const std::string& what) {
    kernel.ForgetReferences();  // the policy reference counts died with the process
    auto journal = KernelJournal::Open(path);
    ASSERT_TRUE(journal) << journal.error();
    ReplayStats stats;
    auto leftovers = journal->ReadLeftovers(&stats);
    ASSERT_TRUE(leftovers) << leftovers.error();
    EXPECT_EQ(stats.bad_lines, 0u) << what;
    auto report = RemoveLeftovers(*leftovers, kernel, [](const std::string&) {
      return std::error_code();
    });
    EXPECT_TRUE(report.errors.empty()) << what << ": " << report.errors.front();
    EXPECT_TRUE(kernel.empty()) << what << ": after the restart's cleanup the kernel holds "
                                << kernel.sa_count() << " SAs, " << kernel.larval_count()
                                << " larval SAs, " << kernel.policy_count() << " policies";
    ASSERT_FALSE(journal->Reset(report.still_there));
    // The restarted daemon brings the tunnel back: exactly one CHILD_SA pair.
    World again(kernel, path, 0, CrashingKernel::When::kAfter, 77);
    again.Establish(true);
    EXPECT_EQ(kernel.sa_count(), 2u) << what;
    EXPECT_EQ(kernel.larval_count(), 0u) << what;
    EXPECT_EQ(kernel.policy_count(), 3u) << what;
    auto replayed = again.journal.ReadLeftovers();
    ASSERT_TRUE(replayed);
    EXPECT_EQ(replayed->sas.size(), 2u) << what;
    EXPECT_EQ(replayed->policies.size(), 3u) << what;
  }

  std::string dir_;
};

TEST_P(JournalCrashTest, EveryKernelOperationIsACrashPoint) {
  const auto [phase, a_starts] = GetParam();
  const auto [before, after] = CountChanges(phase, a_starts);
  const std::string side = a_starts ? " started by A" : " started by B";
  if (phase == Phase::kIkeRekey) {
    // An IKE rekey moves the CHILD_SAs to the new IKE SA without a kernel call (charon neither):
    // its crash points are the messages of the exchange instead, A dying after each delivery.
    ASSERT_EQ(after, before) << "an IKE rekey changed the kernel";
    std::size_t deliveries = 0;
    for (std::size_t stop_after = 1;; ++stop_after) {
      const std::string what = PhaseName(phase) + side + ", killed after delivery " +
                               std::to_string(stop_after);
      const std::string path = dir_ + "/kernel.journal.ike" + std::to_string(stop_after);
      xfrm::FakeKernel kernel;
      bool finished = false;
      {
        World w(kernel, path, 0, CrashingKernel::When::kAfter, 1);
        w.Establish(true);
        ike::Engine& e = a_starts ? w.a : w.b;
        ASSERT_TRUE(e.Rekey(a_starts ? "to-b" : "to-a", "", w.net.now()));
        std::size_t done = 0;
        w.net.Collect();
        while (done < stop_after && w.net.Step()) {
          ++done;
          w.net.Collect();
        }
        finished = done < stop_after;
        deliveries = done;
      }
      if (finished) break;
      RestartAndCheck(kernel, path, what);
      if (HasFatalFailure()) return;
    }
    EXPECT_GE(deliveries, 4u) << "an IKE rekey and the DELETE of the old IKE SA: 4 messages";
    return;
  }
  ASSERT_GT(after, before) << PhaseName(phase) << " makes no kernel change on A: nothing tested";
  std::size_t crashes = 0;
  for (std::size_t at = before + 1; at <= after; ++at) {
    for (auto when : {CrashingKernel::When::kBefore, CrashingKernel::When::kAfter}) {
      const std::string what = PhaseName(phase) + side + ", killed " +
                               (when == CrashingKernel::When::kBefore ? "before" : "after") +
                               " kernel change " + std::to_string(at);
      const std::string path = dir_ + "/kernel.journal." + std::to_string(at) +
                                (when == CrashingKernel::When::kBefore ? "b" : "a");
      xfrm::FakeKernel kernel;  // survives the process
      bool died = false;
      {
        World w(kernel, path, at, when, 1);
        try {
          if (phase != Phase::kEstablish) w.Establish(true);
          w.Run(phase, a_starts);
        } catch (const ProcessDied&) {
          died = true;
        }
      }
      ASSERT_TRUE(died) << what << ": the crash point was never reached";
      ++crashes;
      RestartAndCheck(kernel, path, what);
      if (HasFatalFailure()) return;
    }
  }
  EXPECT_EQ(crashes, 2 * (after - before));
  std::printf("%s: %zu crash points\n", (PhaseName(phase) + side).c_str(), crashes);
}

INSTANTIATE_TEST_SUITE_P(
    PhasesAndSides, JournalCrashTest,
    ::testing::Combine(::testing::Values(Phase::kEstablish, Phase::kChildRekey, Phase::kIkeRekey,
                                         Phase::kDeleteChild, Phase::kDeleteIke),
                       ::testing::Bool()),
    [](const auto& test) {
      std::string name = PhaseName(std::get<0>(test.param)) +
                         (std::get<1>(test.param) ? "ByA" : "ByB");
      std::erase(name, ' ');
      return name;
    });

}  // namespace
}  // namespace minivpn::daemon
