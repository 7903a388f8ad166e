// Issue 19: under systemd, minivpnd's records reach journald with charon-systemd's fields. No
// journald runs here, so the test plays it: in a private mount namespace a tmpfs covers /run,
// and a datagram socket at /run/systemd/journal/socket (where libsystemd's sd_journal_sendv
// sends) receives the records in journald's native protocol ("FIELD=value" lines). stderr is
// made the "journal stream" by pointing JOURNAL_STREAM at its device:inode, as systemd does.
// Root only (mount namespace).
#include <gtest/gtest.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>

#include "cli/daemon/log.h"

namespace minivpn::daemon {
namespace {

std::string Receive(int fd) {
  char buf[4096];
  const ssize_t n = ::recv(fd, buf, sizeof buf, MSG_DONTWAIT);
  return n > 0 ? std::string(buf, static_cast<std::size_t>(n)) : std::string();
}

TEST(JournalFields, RecordsReachJournaldWithCharonSystemdFields) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root for a private mount namespace";
  ASSERT_EQ(::unshare(CLONE_NEWNS), 0) << std::strerror(errno);
  ASSERT_EQ(::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr), 0);
  ASSERT_EQ(::mount("tmpfs", "/run", "tmpfs", 0, "mode=0755"), 0) << std::strerror(errno);
  std::filesystem::create_directories("/run/systemd/journal");
  int fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(fd, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strcpy(addr.sun_path, "/run/systemd/journal/socket");
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);

  struct stat st {};
  ASSERT_EQ(::fstat(STDERR_FILENO, &st), 0);
  const std::string stream = std::to_string(st.st_dev) + ":" + std::to_string(st.st_ino);
  ::setenv("JOURNAL_STREAM", stream.c_str(), 1);
  Logger log;  // the daemon's logger: stderr is "the journal"
  ::unsetenv("JOURNAL_STREAM");
  {
    Logger::SaScope sa(log, SaTag{"A-B", 3});
    log.Warn(Subsystem::kIke, "A-B[3] CREATE_CHILD_SA failed: NO_PROPOSAL_CHOSEN");
  }
  const std::string record = Receive(fd);
  ::close(fd);
  for (const char* field :
       {"MESSAGE=A-B[3] CREATE_CHILD_SA failed: NO_PROPOSAL_CHOSEN\n", "PRIORITY=4\n",
        "SYSLOG_IDENTIFIER=minivpnd\n", "GROUP=IKE\n", "LEVEL=0\n", "IKE_SA_NAME=A-B\n",
        "IKE_SA_UNIQUE_ID=3\n"}) {
    EXPECT_NE(record.find(field), std::string::npos) << field << " not in:\n" << record;
  }
}

}  // namespace
}  // namespace minivpn::daemon
