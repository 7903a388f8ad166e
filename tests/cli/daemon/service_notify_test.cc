// The sd_notify(3) states minivpnd sends to systemd (cli/daemon/service_notify.h).
#include "cli/daemon/service_notify.h"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace minivpn::daemon {
namespace {

TEST(ServiceNotifier, StatesOfALifetime) {
  std::vector<std::string> sent;
  ServiceNotifier n([&](const std::string& s) { sent.push_back(s); },
                    std::chrono::seconds(30));
  EXPECT_TRUE(n.active());
  EXPECT_EQ(n.watchdog_interval(), std::chrono::seconds(30));
  n.Ready(ServiceStatus(0, 0, 2));
  n.Status(ServiceStatus(0, 0, 2));  // unchanged: not sent again
  n.Status(ServiceStatus(1, 1, 2));
  n.Watchdog();
  n.Reloading();
  n.Ready(ServiceStatus(1, 1, 3));
  n.Stopping();
  EXPECT_EQ(sent, (std::vector<std::string>{
                      "READY=1\nSTATUS=0 IKE SAs, 0 CHILD_SAs, 2 connections",
                      "STATUS=1 IKE SA, 1 CHILD_SA, 2 connections",
                      "WATCHDOG=1",
                      "RELOADING=1\nSTATUS=reloading the configuration",
                      "READY=1\nSTATUS=1 IKE SA, 1 CHILD_SA, 3 connections",
                      "STOPPING=1\nSTATUS=stopping: deleting all SAs",
                  }));
}

TEST(ServiceNotifier, WithoutASocketNothingIsSent) {
  ServiceNotifier n(nullptr, std::nullopt);
  EXPECT_FALSE(n.active());
  n.Ready("x");  // no crash, nothing to send to
  n.Watchdog();
}

// The default notifier speaks the real protocol (libsystemd's sd_notify) to $NOTIFY_SOCKET, a
// datagram socket here standing in for systemd, and takes WatchdogSec= from WATCHDOG_USEC.
TEST(ServiceNotifier, TalksToNotifySocketAsSystemdSetsIt) {
  const std::string path = "/tmp/minivpn-notify-" + std::to_string(::getpid());
  ::unlink(path.c_str());
  int fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(fd, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ::setenv("NOTIFY_SOCKET", path.c_str(), 1);
  ::setenv("WATCHDOG_USEC", "30000000", 1);
  ::setenv("WATCHDOG_PID", std::to_string(::getpid()).c_str(), 1);

  ServiceNotifier n;
  n.Ready(ServiceStatus(1, 2, 3));
  ::unsetenv("NOTIFY_SOCKET");
  ::unsetenv("WATCHDOG_USEC");
  ::unsetenv("WATCHDOG_PID");
  EXPECT_TRUE(n.active());
  EXPECT_EQ(n.watchdog_interval(), std::chrono::seconds(30));
  char buf[256] = {};
  const ssize_t got = ::recv(fd, buf, sizeof buf - 1, MSG_DONTWAIT);
  ::close(fd);
  ::unlink(path.c_str());
  ASSERT_GT(got, 0);
  EXPECT_EQ(std::string(buf, static_cast<std::size_t>(got)),
            "READY=1\nSTATUS=1 IKE SA, 2 CHILD_SAs, 3 connections");
}

TEST(ServiceNotifier, NotUnderSystemdWithoutNotifySocket) {
  ::unsetenv("NOTIFY_SOCKET");
  ServiceNotifier n;
  EXPECT_FALSE(n.active());
  EXPECT_EQ(n.watchdog_interval(), std::nullopt);
}

}  // namespace
}  // namespace minivpn::daemon
