// minivpnctl's text rendering of control replies (cli/ctl/render.h): golden outputs.
#include "cli/ctl/render.h"

#include <gtest/gtest.h>

namespace minivpn::ctl {
namespace {

using nlohmann::json;

TEST(RenderReload, NamesWhatChanged) {
  EXPECT_EQ(RenderReload(json{{"added", {"to-c"}},
                              {"removed", json::array()},
                              {"changed", {"to-b"}},
                              {"unchanged", {"to-d", "to-e"}}}),
            "reloaded: 1 added (to-c), 0 removed, 1 changed (to-b), 2 unchanged (to-d, to-e)\n");
  EXPECT_EQ(RenderReload(json::object()),
            "reloaded: 0 added, 0 removed, 0 changed, 0 unchanged\n");
}

TEST(RenderStats, GroupsThenTotals) {
  EXPECT_EQ(RenderStats(json{{"exchanges", {{"IKE_AUTH", 2}}},
                             {"failures", {{"AUTHENTICATION_FAILED", 1}}},
                             {"ike_sas", 1},
                             {"uptime", 5}}),
            "exchanges:\n"
            "  IKE_AUTH                     2\n"
            "failures:\n"
            "  AUTHENTICATION_FAILED        1\n"
            "ike_sas                        1\n"
            "uptime                         5\n");
}

}  // namespace
}  // namespace minivpn::ctl
