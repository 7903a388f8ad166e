#include "cli/daemon/updown.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fmt/core.h>

#include <boost/asio/post.hpp>
#include <boost/asio/read_until.hpp>

#include <cstring>
#include <istream>

namespace minivpn::daemon {

namespace asio = boost::asio;

namespace {

// charon's get_port: one port (or 0 for any), "from:to" for a range.
std::string PortText(const base::Selector& sel) {
  if (sel.from_port == sel.to_port || sel.any_port()) return std::to_string(sel.from_port);
  return fmt::format("{}:{}", sel.from_port, sel.to_port);
}

}  // namespace

std::vector<std::string> UpdownEnvironment(bool up, const UpdownInfo& info,
                                           const std::string& path) {
  // charon: "-host" when our selector is just our own address, "-v6" for an IPv6 selector.
  const base::Subnet& mine = info.my_client.net;
  const base::Subnet& theirs = info.peer_client.net;
  const bool host = mine.prefix == mine.address.max_prefix() && mine.address == info.me;
  const bool v6 = !mine.address.is_v4();
  std::vector<std::string> env = {
      "PATH=" + path,
      "PLUTO_VERSION=1.1",
      fmt::format("PLUTO_VERB={}{}{}", up ? "up" : "down", host ? "-host" : "-client",
                  v6 ? "-v6" : ""),
      "PLUTO_CONNECTION=" + info.connection,
      "PLUTO_INTERFACE=" + info.interface,
      fmt::format("PLUTO_REQID={}", info.reqid),
      "PLUTO_PROTO=esp",
      fmt::format("PLUTO_UNIQUEID={}", info.unique_id),
      "PLUTO_ME=" + info.me.ToString(),
      "PLUTO_MY_ID=" + info.my_id,
      "PLUTO_MY_CLIENT=" + mine.Network().ToString(),
      "PLUTO_MY_PORT=" + PortText(info.my_client),
      fmt::format("PLUTO_MY_PROTOCOL={}", info.my_client.proto),
      "PLUTO_PEER=" + info.peer.ToString(),
      "PLUTO_PEER_ID=" + info.peer_id,
      "PLUTO_PEER_CLIENT=" + theirs.Network().ToString(),
      "PLUTO_PEER_PORT=" + PortText(info.peer_client),
      fmt::format("PLUTO_PEER_PROTOCOL={}", info.peer_client.proto),
  };
  // charon prints the mark value in decimal and the mask in hex.
  if (info.mark_in.value != 0) {
    env.push_back(fmt::format("PLUTO_MARK_IN={}/0x{:08x}", info.mark_in.value, info.mark_in.mask));
  }
  if (info.mark_out.value != 0) {
    env.push_back(
        fmt::format("PLUTO_MARK_OUT={}/0x{:08x}", info.mark_out.value, info.mark_out.mask));
  }
  if (info.if_id_in != 0) env.push_back(fmt::format("PLUTO_IF_ID_IN={}", info.if_id_in));
  if (info.if_id_out != 0) env.push_back(fmt::format("PLUTO_IF_ID_OUT={}", info.if_id_out));
  if (info.udp_encap_port) env.push_back(fmt::format("PLUTO_UDP_ENC={}", *info.udp_encap_port));
  return env;
}

UpdownRunner::UpdownRunner(asio::io_context& io, std::chrono::milliseconds timeout,
                           std::function<void(const std::string& line)> log)
    : io_(io), timeout_(timeout), log_(std::move(log)), deadline_(io), poll_(io) {}

UpdownRunner::~UpdownRunner() { Stop(); }

void UpdownRunner::Run(std::string command, std::vector<std::string> environment,
                       std::string label) {
  queue_.push_back(Job{std::move(command), std::move(environment), std::move(label)});
  StartNext();
}

void UpdownRunner::Stop() {
  queue_.clear();
  deadline_.cancel();
  poll_.cancel();
  if (output_) {
    boost::system::error_code ignored;
    output_->close(ignored);
    output_.reset();
  }
  if (pid_ > 0) {
    ::kill(-pid_, SIGKILL);
    int status = 0;
    while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
    }
    pid_ = -1;
  }
}

void UpdownRunner::StartNext() {
  if (pid_ > 0 || queue_.empty()) return;
  Job job = std::move(queue_.front());
  queue_.pop_front();
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) {
    log_(fmt::format("updown: {}: pipe: {}", job.label, std::strerror(errno)));
    return StartNext();
  }
  posix_spawn_file_actions_t actions;
  posix_spawnattr_t attr;
  ::posix_spawn_file_actions_init(&actions);
  ::posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  ::posix_spawn_file_actions_adddup2(&actions, fds[1], 1);
  ::posix_spawn_file_actions_adddup2(&actions, fds[1], 2);  // all its output to the log
  ::posix_spawnattr_init(&attr);
  // Its own process group (the timeout kills the script and what it started), default signal
  // dispositions and no blocked signals.
  sigset_t none, all;
  sigemptyset(&none);
  sigfillset(&all);
  ::posix_spawnattr_setpgroup(&attr, 0);
  ::posix_spawnattr_setsigmask(&attr, &none);
  ::posix_spawnattr_setsigdefault(&attr, &all);
  ::posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK |
                                        POSIX_SPAWN_SETSIGDEF);
  const std::string shell_command = "2>&1 " + job.command;
  char* argv[] = {const_cast<char*>("/bin/sh"), const_cast<char*>("-c"),
                  const_cast<char*>(shell_command.c_str()), nullptr};
  std::vector<char*> envp;
  for (auto& e : job.environment) envp.push_back(e.data());
  envp.push_back(nullptr);
  pid_t pid = -1;
  const int rc = ::posix_spawn(&pid, "/bin/sh", &actions, &attr, argv, envp.data());
  ::posix_spawn_file_actions_destroy(&actions);
  ::posix_spawnattr_destroy(&attr);
  ::close(fds[1]);
  if (rc != 0) {
    ::close(fds[0]);
    log_(fmt::format("updown: {}: cannot start /bin/sh: {}", job.label, std::strerror(rc)));
    return StartNext();
  }
  pid_ = pid;
  label_ = std::move(job.label);
  timed_out_ = false;
  output_.emplace(io_, fds[0]);
  deadline_.expires_after(timeout_);
  deadline_.async_wait([this, pid](boost::system::error_code ec) {
    if (ec || pid_ != pid) return;
    timed_out_ = true;
    ::kill(-pid, SIGKILL);
  });
  ReadLine();
}

void UpdownRunner::ReadLine() {
  asio::async_read_until(*output_, buffer_, '\n', [this, pid = pid_](
                                                      boost::system::error_code ec, std::size_t) {
    if (pid_ != pid || !output_) return;  // stopped meanwhile
    std::istream in(&buffer_);
    std::string line;
    if (!ec) {
      std::getline(in, line);
      log_("updown: " + line);
      ReadLine();
      return;
    }
    // End of its output (or an error): a last line without a newline, then wait for the exit.
    if (std::getline(in, line) && !line.empty()) log_("updown: " + line);
    buffer_.consume(buffer_.size());
    boost::system::error_code ignored;
    output_->close(ignored);
    output_.reset();
    PollExit();
  });
}

// The script closed its output; it exits now (or the deadline kills it).
void UpdownRunner::PollExit() {
  int status = 0;
  const pid_t done = ::waitpid(pid_, &status, WNOHANG);
  if (done == 0) {
    poll_.expires_after(std::chrono::milliseconds(20));
    poll_.async_wait([this, pid = pid_](boost::system::error_code ec) {
      if (!ec && pid_ == pid) PollExit();
    });
    return;
  }
  deadline_.cancel();
  if (timed_out_) {
    log_(fmt::format("updown: {} killed after {} ms", label_, timeout_.count()));
  } else if (done > 0 && WIFEXITED(status) && WEXITSTATUS(status) != 0) {
    log_(fmt::format("updown: {} exited with status {}", label_, WEXITSTATUS(status)));
  } else if (done > 0 && WIFSIGNALED(status)) {
    log_(fmt::format("updown: {} ended by signal {}", label_, WTERMSIG(status)));
  }
  pid_ = -1;
  asio::post(io_, [this] { StartNext(); });
}

}  // namespace minivpn::daemon
