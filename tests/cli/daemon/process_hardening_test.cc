// Issue 18: nothing disabled core dumps, so a crash could write the PSKs and keys to disk.
#include "cli/daemon/process_hardening.h"

#include <sys/prctl.h>
#include <sys/resource.h>

#include <gtest/gtest.h>

namespace minivpn::daemon {
namespace {

TEST(ProcessHardening, NoCoreDumpAfterwards) {
  ASSERT_EQ(::prctl(PR_SET_DUMPABLE, 1, 0, 0, 0), 0);  // as a process starts
  ASSERT_FALSE(KeepSecretsOutOfCoreDumps());
  EXPECT_EQ(::prctl(PR_GET_DUMPABLE, 0, 0, 0, 0), 0);
  rlimit core{};
  ASSERT_EQ(::getrlimit(RLIMIT_CORE, &core), 0);
  EXPECT_EQ(core.rlim_cur, 0u);
  EXPECT_EQ(core.rlim_max, 0u);
}

}  // namespace
}  // namespace minivpn::daemon
