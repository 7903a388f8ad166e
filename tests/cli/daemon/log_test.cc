#include "cli/daemon/log.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace minivpn::daemon {
namespace {

TEST(Logger, WritesOneTaggedLinePerRecord) {
  std::vector<std::string> lines;
  Logger log([&](std::string_view line) { lines.emplace_back(line); });
  log.Info(Subsystem::kIke, 1, "IKE_SA {} established", "A-B[1]");
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0], "[IKE] IKE_SA A-B[1] established\n");
}

TEST(Logger, LevelsArePerSubsystem) {
  std::vector<std::string> lines;
  Logger log([&](std::string_view line) { lines.emplace_back(line); });
  log.SetLevel(Subsystem::kKnl, 2);
  log.SetLevel(Subsystem::kNet, 0);
  log.Info(Subsystem::kKnl, 2, "knl detail");
  log.Info(Subsystem::kNet, 1, "net audit");  // above the net level: dropped
  log.Info(Subsystem::kIke, 2, "ike detail");  // default level 1: dropped
  log.Error(Subsystem::kNet, "net error");     // level 0 always passes
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0], "[KNL] knl detail\n");
  EXPECT_EQ(lines[1], "[NET] net error\n");
}

// Issue 19: under systemd, records go to journald with charon-systemd's fields, so that
// `journalctl IKE_SA_NAME=a-b` finds an IKE SA's lines.
TEST(Logger, JournalRecordsCarryCharonSystemdFields) {
  std::vector<std::string> lines;
  std::vector<std::vector<std::string>> records;
  Logger log([&](std::string_view line) { lines.emplace_back(line); });
  log.UseJournal([&](const std::vector<std::string>& fields) {
    records.push_back(fields);
    return true;
  });
  log.Warn(Subsystem::kCfg, "reload refused");
  {
    Logger::SaScope sa(log, SaTag{"a-b", 7});
    log.Info(Subsystem::kIke, 1, "a-b[7] IKE_SA established");
  }
  log.Info(Subsystem::kKnl, 0, "after the scope");
  EXPECT_TRUE(lines.empty());
  ASSERT_EQ(records.size(), 3u);
  EXPECT_EQ(records[0], (std::vector<std::string>{"MESSAGE=reload refused", "PRIORITY=4",
                                                  "SYSLOG_IDENTIFIER=minivpnd", "GROUP=CFG",
                                                  "LEVEL=0"}));
  EXPECT_EQ(records[1], (std::vector<std::string>{
                            "MESSAGE=a-b[7] IKE_SA established", "PRIORITY=6",
                            "SYSLOG_IDENTIFIER=minivpnd", "GROUP=IKE", "LEVEL=1",
                            "IKE_SA_NAME=a-b", "IKE_SA_UNIQUE_ID=7"}));
  EXPECT_EQ(records[2].size(), 5u) << "no IKE SA fields outside the scope";
}

TEST(Logger, ARecordJournaldRefusesBecomesALine) {
  std::vector<std::string> lines;
  Logger log([&](std::string_view line) { lines.emplace_back(line); });
  log.UseJournal([](const std::vector<std::string>&) { return false; });
  log.Error(Subsystem::kNet, "sending failed");
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0], "[NET] sending failed\n");
}

TEST(Logger, SubsystemNamesRoundTrip) {
  for (auto s : {Subsystem::kIke, Subsystem::kCfg, Subsystem::kKnl, Subsystem::kNet,
                 Subsystem::kEnc}) {
    EXPECT_EQ(ParseSubsystem(Name(s)), s);
  }
  EXPECT_EQ(ParseSubsystem("chd"), std::nullopt);
}

}  // namespace
}  // namespace minivpn::daemon
