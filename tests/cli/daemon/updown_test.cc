// charon's updown plugin at minivpnd's edge (cli/daemon/updown.h, daemon_updown.cc): the PLUTO_*
// environment, the runner (one script at a time, output logged, timeout), and two real daemons
// where a child's updown script runs on up and on down but not on a rekey.
#include "cli/daemon/updown.h"

#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <gtest/gtest.h>

#include "cli/ctl/vici_client.h"
#include "tests/cli/daemon/two_daemons.h"

namespace minivpn::daemon {
namespace {

namespace fs = std::filesystem;

UpdownInfo RouteBased() {
  UpdownInfo info;
  info.connection = "A-B";
  info.interface = "eth0";
  info.reqid = 3;
  info.unique_id = 7;
  info.me = *base::IpAddress::Parse("192.0.2.1");
  info.peer = *base::IpAddress::Parse("198.51.100.1");
  info.my_id = "routerA";
  info.peer_id = "routerB";
  info.my_client = base::Selector::Of(*base::Subnet::Parse("0.0.0.0/0"));
  info.peer_client = base::Selector::Of(*base::Subnet::Parse("0.0.0.0/0"));
  info.mark_in = base::Mark::Exact(12);
  info.mark_out = base::Mark::Exact(12);
  return info;
}

TEST(UpdownEnvironment, AsCharonsUpdownPluginSetsIt) {
  EXPECT_EQ(UpdownEnvironment(true, RouteBased(), "/usr/bin:/bin"),
            (std::vector<std::string>{
                "PATH=/usr/bin:/bin", "PLUTO_VERSION=1.1", "PLUTO_VERB=up-client",
                "PLUTO_CONNECTION=A-B", "PLUTO_INTERFACE=eth0", "PLUTO_REQID=3",
                "PLUTO_PROTO=esp", "PLUTO_UNIQUEID=7", "PLUTO_ME=192.0.2.1",
                "PLUTO_MY_ID=routerA", "PLUTO_MY_CLIENT=0.0.0.0/0", "PLUTO_MY_PORT=0",
                "PLUTO_MY_PROTOCOL=0", "PLUTO_PEER=198.51.100.1", "PLUTO_PEER_ID=routerB",
                "PLUTO_PEER_CLIENT=0.0.0.0/0", "PLUTO_PEER_PORT=0", "PLUTO_PEER_PROTOCOL=0",
                "PLUTO_MARK_IN=12/0xffffffff", "PLUTO_MARK_OUT=12/0xffffffff"}));
  // Host-to-host (our selector is our address), IPv6, a NAT: the verb and PLUTO_UDP_ENC.
  UpdownInfo host = RouteBased();
  host.me = *base::IpAddress::Parse("2001:db8::1");
  host.my_client = base::Selector::Of(base::Subnet::Host(host.me));
  host.mark_in = host.mark_out = base::Mark::None();
  host.udp_encap_port = 4500;
  const auto env = UpdownEnvironment(false, host, "/bin");
  EXPECT_EQ(env[2], "PLUTO_VERB=down-host-v6");
  EXPECT_EQ(env.back(), "PLUTO_UDP_ENC=4500");
  EXPECT_EQ(std::count_if(env.begin(), env.end(),
                          [](const std::string& e) { return e.starts_with("PLUTO_MARK"); }),
            0);
}

class UpdownRunnerTest : public ::testing::Test {
 protected:
  void RunUntilIdle(UpdownRunner& runner) {
    for (int i = 0; i < 500 && !runner.idle(); ++i) {
      io_.run_for(std::chrono::milliseconds(20));
      io_.restart();
    }
  }
  boost::asio::io_context io_;
  std::vector<std::string> lines_;
};

TEST_F(UpdownRunnerTest, OneAtATimeInOrderOutputAndStatusLogged) {
  UpdownRunner runner(io_, std::chrono::seconds(5),
                      [this](const std::string& line) { lines_.push_back(line); });
  runner.Run("echo first \"$PLUTO_VERB\"; echo to-stderr >&2", {"PATH=/usr/bin:/bin",
                                                                  "PLUTO_VERB=up-client"},
             "up A-B");
  runner.Run("sleep 0.1; echo second; exit 3", {"PATH=/usr/bin:/bin"}, "down A-B");
  // Only PATH and the PLUTO_* variables reach the script (charon's environment).
  runner.Run("env | grep -v -e '^PWD=' -e '^SHLVL=' -e '^_=' | sort", {"PATH=/bin", "PLUTO_X=1"},
             "env");
  RunUntilIdle(runner);
  EXPECT_EQ(lines_, (std::vector<std::string>{
                        "updown: first up-client", "updown: to-stderr", "updown: second",
                        "updown: down A-B exited with status 3", "updown: PATH=/bin",
                        "updown: PLUTO_X=1"}));
}

TEST_F(UpdownRunnerTest, AScriptPastItsTimeoutIsKilledWithWhatItStarted) {
  UpdownRunner runner(io_, std::chrono::milliseconds(300),
                      [this](const std::string& line) { lines_.push_back(line); });
  const fs::path marker = fs::temp_directory_path() / ("updown-" + std::to_string(::getpid()));
  fs::remove(marker);
  const auto started = std::chrono::steady_clock::now();
  // The background sleep is in the script's process group: it is killed too.
  runner.Run("echo waiting; (sleep 2; touch " + marker.string() + ") & sleep 5",
             {"PATH=/usr/bin:/bin"}, "up A-B");
  runner.Run("echo next", {"PATH=/usr/bin:/bin"}, "down A-B");
  RunUntilIdle(runner);
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(2));
  EXPECT_EQ(lines_, (std::vector<std::string>{
                        "updown: waiting", "updown: up A-B killed after 300 ms", "updown: next"}));
  std::this_thread::sleep_for(std::chrono::milliseconds(2300));
  EXPECT_FALSE(fs::exists(marker)) << "the script's background job survived the kill";
}

// Two daemons: a's child A-B has an updown script that appends what it was told to a file.
class UpdownDaemonTest : public testing::TwoDaemons {
 protected:
  void SetUp() override {
    record_ = fs::temp_directory_path() / ("updown-record-" + std::to_string(::getpid()));
    fs::remove(record_);
    a_.extra_child = "      updown = echo \"$PLUTO_VERB $PLUTO_CONNECTION $PLUTO_REQID "
                     "$PLUTO_MARK_IN $PLUTO_MY_CLIENT $PLUTO_PEER_CLIENT $PLUTO_PEER_ID\" >> " +
                     record_.string() + "\n";
    TwoDaemons::SetUp();
  }
  void TearDown() override {
    TwoDaemons::TearDown();
    fs::remove(record_);
  }
  vici::Message Call(const std::string& command, vici::Message args) {
    auto client = ctl::ViciClient::Connect(a_.options.vici_path, std::chrono::seconds(20));
    EXPECT_TRUE(client) << client.error();
    if (!client) return {};
    auto reply = client->Call(command, args);
    EXPECT_TRUE(reply) << reply.error();
    return reply ? *reply : vici::Message();
  }
  std::vector<std::string> Recorded(std::size_t want) {
    std::vector<std::string> lines;
    for (int i = 0; i < 200; ++i) {
      lines.clear();
      std::ifstream in(record_);
      for (std::string l; std::getline(in, l);) lines.push_back(l);
      if (lines.size() >= want) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return lines;
  }
  fs::path record_;
};

TEST_F(UpdownDaemonTest, RunsOnUpAndDownButNotOnARekey) {
  auto up = Call("initiate", vici::Message().Add("ike", "A-B").Add("timeout", "10000"));
  ASSERT_EQ(up.ValueOr("success", ""), "yes") << vici::Dump(up) << log_text_;
  EXPECT_EQ(Recorded(1), (std::vector<std::string>{
                             "up-client A-B 1 12/0xffffffff 10.1.0.0/24 10.2.0.0/24 routerB"}));
  auto rekey = Call("rekey", vici::Message().Add("ike", "A-B").Add("child", "A-B"));
  ASSERT_EQ(rekey.ValueOr("success", ""), "yes") << vici::Dump(rekey);
  auto down = Call("terminate", vici::Message().Add("ike", "A-B"));
  ASSERT_EQ(down.ValueOr("success", ""), "yes") << vici::Dump(down);
  EXPECT_EQ(Recorded(2),
            (std::vector<std::string>{
                "up-client A-B 1 12/0xffffffff 10.1.0.0/24 10.2.0.0/24 routerB",
                "down-client A-B 1 12/0xffffffff 10.1.0.0/24 10.2.0.0/24 routerB"}))
      << "one up, one down; the rekey in between runs nothing\n"
      << log_text_;
}

}  // namespace
}  // namespace minivpn::daemon
