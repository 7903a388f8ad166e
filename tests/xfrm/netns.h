// Runs a test body in a forked child inside a fresh network namespace (unshare(CLONE_NEWNET), or
// with a user namespace too when not root),
// so tests can program the host kernel's xfrm tables without touching the host's, and the
// namespace (with everything the body left in it) disappears when the child exits.
#pragma once

#include <fcntl.h>
#include <sched.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <functional>
#include <string>

namespace minivpn::testing {

inline void WriteFile(const char* path, const std::string& text) {
  const int fd = open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0) return;
  if (write(fd, text.data(), text.size()) < 0) {
    // best effort: without the map the body still runs with the namespace's capabilities
  }
  close(fd);
}

// The body returns "" on success or a description of what failed. The result is the body's
// report, "SKIP: ..." when namespaces are not available, or a note about a crashed child.
inline std::string RunInFreshNetns(const std::function<std::string()>& body) {
  int fds[2];
  if (pipe(fds) != 0) return std::string("pipe: ") + std::strerror(errno);
  const pid_t pid = fork();
  if (pid < 0) return std::string("fork: ") + std::strerror(errno);
  if (pid == 0) {
    close(fds[0]);
    std::string report;
    // Unprivileged runs (CI without root) become root of a user namespace that owns the new
    // network namespace, which gives CAP_NET_ADMIN over it and its /proc/sys/net files.
    if (unshare(CLONE_NEWNET) == 0) {
      report = body();
    } else if (const uid_t uid = getuid(), gid = getgid();
               unshare(CLONE_NEWUSER | CLONE_NEWNET) == 0) {
      WriteFile("/proc/self/setgroups", "deny");
      WriteFile("/proc/self/uid_map", "0 " + std::to_string(uid) + " 1");
      WriteFile("/proc/self/gid_map", "0 " + std::to_string(gid) + " 1");
      report = body();
    } else {
      report = std::string("SKIP: unshare(CLONE_NEWNET): ") + std::strerror(errno);
    }
    std::size_t done = 0;
    while (done < report.size()) {
      const ssize_t n = write(fds[1], report.data() + done, report.size() - done);
      if (n <= 0) break;
      done += static_cast<std::size_t>(n);
    }
    _exit(0);
  }
  close(fds[1]);
  std::string report;
  char buf[4096];
  for (;;) {
    const ssize_t n = read(fds[0], buf, sizeof(buf));
    if (n <= 0) break;
    report.append(buf, static_cast<std::size_t>(n));
  }
  close(fds[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    report += " (child did not exit cleanly, status " + std::to_string(status) + ")";
  }
  return report;
}

}  // namespace minivpn::testing

// Runs `body` (a lambda returning std::string) in a fresh netns and fails/skips the test.
#define MINIVPN_IN_NETNS(...)                                                     \
  do {                                                                            \
    const std::string report_ = ::minivpn::testing::RunInFreshNetns(__VA_ARGS__); \
    if (report_.rfind("SKIP:", 0) == 0) GTEST_SKIP() << report_;                  \
    EXPECT_EQ(report_, "");                                                       \
  } while (false)
