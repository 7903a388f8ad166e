#include "cli/daemon/instance_lock.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include <gtest/gtest.h>

namespace minivpn::daemon {
namespace {

namespace fs = std::filesystem;

std::string TempLockPath(const char* name) {
  return (fs::temp_directory_path() / ("minivpn-lock-test-" + std::to_string(::getpid())) / name)
      .string();
}

TEST(InstanceLock, SecondHolderIsRefusedWithThePid) {
  const std::string path = TempLockPath("a.lock");
  auto first = InstanceLock::Acquire(path);
  ASSERT_TRUE(first) << first.error();
  std::string pid;
  std::getline(std::ifstream(path), pid);
  EXPECT_EQ(pid, std::to_string(::getpid()));
  auto second = InstanceLock::Acquire(path);
  ASSERT_FALSE(second);
  EXPECT_EQ(second.error(),
            "minivpnd is already running (pid " + pid + ", lock " + path + ")");
  fs::remove_all(fs::path(path).parent_path());
}

TEST(InstanceLock, AKilledHolderLeavesItFree) {
  const std::string path = TempLockPath("b.lock");
  int ready[2];
  ASSERT_EQ(::pipe(ready), 0);
  pid_t child = ::fork();
  if (child == 0) {
    auto lock = InstanceLock::Acquire(path);
    char c = lock ? 'y' : 'n';
    (void)::write(ready[1], &c, 1);
    ::pause();  // holds the lock until killed
    ::_exit(0);
  }
  char c = 0;
  ASSERT_EQ(::read(ready[0], &c, 1), 1);
  ASSERT_EQ(c, 'y');
  EXPECT_FALSE(InstanceLock::Acquire(path)) << "held by the child";
  ::kill(child, SIGKILL);  // kill -9: no cleanup runs
  ::waitpid(child, nullptr, 0);
  auto after = InstanceLock::Acquire(path);
  EXPECT_TRUE(after) << after.error();
  ::close(ready[0]);
  ::close(ready[1]);
  fs::remove_all(fs::path(path).parent_path());
}

TEST(InstanceLock, LivesBesideTheJournal) {
  EXPECT_EQ(InstanceLock::PathFor("/run/minivpn/kernel.journal"), "/run/minivpn/minivpnd.lock");
}

}  // namespace
}  // namespace minivpn::daemon
