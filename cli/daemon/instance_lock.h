// One minivpnd per kernel journal: the daemon that holds the journal owns the xfrm state and
// VTIs it records, so a second one (an admin's `minivpnd -d ike=2` beside the service) must not
// replay that journal as leftovers, truncate it or bind beside the first. flock(2) on a lock file
// next to the journal; the kernel drops the lock when the process dies, however it dies, so a
// crashed daemon never blocks its successor.
#pragma once

#include <expected>
#include <string>

namespace minivpn::daemon {

class InstanceLock {
 public:
  // Takes the lock (creating the file and its folder) and writes our pid into it. If another
  // process holds it: "minivpnd is already running (pid N, lock PATH)".
  static std::expected<InstanceLock, std::string> Acquire(const std::string& path);

  InstanceLock(InstanceLock&& other) noexcept;
  InstanceLock& operator=(InstanceLock&& other) noexcept;
  InstanceLock(const InstanceLock&) = delete;
  InstanceLock& operator=(const InstanceLock&) = delete;
  ~InstanceLock();  // releases the lock; the file stays (unlinking it would race a successor)

  // The lock file beside a journal: <journal's folder>/minivpnd.lock.
  static std::string PathFor(const std::string& journal_path);

 private:
  explicit InstanceLock(int fd) : fd_(fd) {}
  int fd_ = -1;
};

}  // namespace minivpn::daemon
