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

TEST(Logger, SubsystemNamesRoundTrip) {
  for (auto s : {Subsystem::kIke, Subsystem::kCfg, Subsystem::kKnl, Subsystem::kNet,
                 Subsystem::kEnc}) {
    EXPECT_EQ(ParseSubsystem(Name(s)), s);
  }
  EXPECT_EQ(ParseSubsystem("chd"), std::nullopt);
}

}  // namespace
}  // namespace minivpn::daemon
