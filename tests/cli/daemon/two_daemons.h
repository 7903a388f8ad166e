// Two real minivpnd Daemons in one test process, on loopback, each with ports of its own and
// the in-memory kernel: router a has the tunnel A-B to router b (10.1.0.0/24 <-> 10.2.0.0/24,
// PSK), b answers. Their control and vici sockets are in a temporary directory. For tests
// that drive a daemon as minivpnctl or swanctl would (control_golden_test, daemon_vici_test).
#pragma once

#include <sys/socket.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <gtest/gtest.h>

#include "cli/daemon/daemon.h"

namespace minivpn::daemon::testing {

namespace fs = std::filesystem;

inline std::uint16_t FreePort() {
  int fd = ::socket(AF_INET, SOCK_DGRAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  ::close(fd);
  return ntohs(a.sin_port);
}

inline std::string ReadFile(const fs::path& path) {
  std::ifstream in(path);
  return {std::istreambuf_iterator<char>(in), {}};
}

// One router's files and options: swanctl.conf with the tunnel A-B, strongswan.conf with
// its ports.
struct Router {
  fs::path dir;
  std::string extra_child{};  // more settings of the child A-B, swanctl.conf lines
  std::uint16_t port = FreePort(), port_nat_t = FreePort();
  DaemonOptions options;

  void Write(std::string_view local_id, std::string_view remote_id, std::uint16_t remote_port,
             std::string_view local_ts, std::string_view remote_ts) {
    fs::create_directories(dir);
    std::ofstream(dir / "strongswan.conf")
        << "charon {\n  port = " << port << "\n  port_nat_t = " << port_nat_t << "\n}\n";
    std::ofstream(dir / "swanctl.conf")
        << "connections {\n  A-B {\n    local_addrs = 127.0.0.1\n"
           "    remote_addrs = 127.0.0.1\n    remote_port = " << remote_port << "\n"
           "    proposals = aes256gcm16-prfsha256-x25519\n"
           // two daemons on one host, each on ports of its own: without mobike neither floats
           // (with it, a's IKE_AUTH would leave its NAT-T port for b's IKE port, which takes no
           // non-ESP marker, as charon's would)
           "    mobike = no\n"
           "    local { auth = psk\n id = " << local_id << " }\n"
           "    remote { auth = psk\n id = " << remote_id << " }\n"
           "    children { A-B { local_ts = " << local_ts << "\n remote_ts = " << remote_ts << "\n"
           "      esp_proposals = aes256gcm16\n mark_in = 12\n mark_out = 12\n" << extra_child
        << " } }\n  }\n}\n"
        << "secrets { ike-1 { id-a = routerA\n id-b = routerB\n secret = golden-test-psk } }\n";
    options.config.swanctl_conf = dir / "swanctl.conf";
    options.config.strongswan_conf = dir / "strongswan.conf";
    options.journal_path = (dir / "kernel.journal").string();
    options.vici_path = (dir / "charon.vici").string();
    options.fake_kernel = true;
    options.log_levels_from_command_line = true;
  }
};

class TwoDaemons : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(::geteuid(), 0u) << "the vici socket is root-only; run the tests as root";
    const fs::path dir =
        fs::temp_directory_path() / ("minivpn-two-daemons-" + std::to_string(::getpid()));
    dir_ = dir;
    a_.dir = dir / "a";
    b_.dir = dir / "b";
    a_.Write("routerA", "routerB", b_.port, "10.1.0.0/24", "10.2.0.0/24");
    b_.Write("routerB", "routerA", a_.port, "10.2.0.0/24", "10.1.0.0/24");
    for (auto* r : {&a_, &b_}) {
      daemons_.push_back(std::make_unique<Daemon>(io_, r->options, log_));
      auto started = daemons_.back()->Start();
      ASSERT_TRUE(started) << started.error() << "\n" << log_text_;
    }
    loop_ = std::thread([this] { io_.run(); });
  }
  void TearDown() override {
    io_.stop();
    if (loop_.joinable()) loop_.join();
    daemons_.clear();
    fs::remove_all(dir_);
  }

  fs::path dir_;
  Router a_, b_;
  std::string log_text_;
  Logger log_{[this](std::string_view line) { log_text_.append(line).append("\n"); }};
  boost::asio::io_context io_;
  std::vector<std::unique_ptr<Daemon>> daemons_;
  std::thread loop_;
};

}  // namespace minivpn::daemon::testing
