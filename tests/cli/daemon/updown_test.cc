// charon's updown plugin at minivpnd's edge (cli/daemon/updown.h, daemon_updown.cc): the PLUTO_*
// environment, the runner (one script at a time, output logged, timeout), and two real daemons
// where a child's updown script runs on up and on down but not on a rekey.
#include "cli/daemon/updown.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <gmock/gmock.h>
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

// One pair of the negotiated selectors with a protocol and ports: charon prints the protocol
// number and the first port of each side's range.
TEST(UpdownEnvironment, ProtocolAndPortOfTheSelectorPair) {
  UpdownInfo info = RouteBased();
  info.my_client = base::Selector::Of(*base::Subnet::Parse("10.1.0.0/16"));
  info.my_client.proto = 6;
  info.my_client.from_port = info.my_client.to_port = 80;
  info.peer_client = base::Selector::Of(*base::Subnet::Parse("10.2.0.0/16"));
  info.peer_client.proto = 17;
  info.peer_client.from_port = info.peer_client.to_port = 53;
  const auto env = UpdownEnvironment(true, info, "/bin");
  using ::testing::Contains;
  EXPECT_THAT(env, Contains("PLUTO_MY_CLIENT=10.1.0.0/16"));
  EXPECT_THAT(env, Contains("PLUTO_MY_PROTOCOL=6"));
  EXPECT_THAT(env, Contains("PLUTO_MY_PORT=80"));
  EXPECT_THAT(env, Contains("PLUTO_PEER_CLIENT=10.2.0.0/16"));
  EXPECT_THAT(env, Contains("PLUTO_PEER_PROTOCOL=17"));
  EXPECT_THAT(env, Contains("PLUTO_PEER_PORT=53"));
  EXPECT_THAT(env, Contains("PLUTO_VERB=up-client"));
  // In charon's order: MY_CLIENT, MY_PORT, MY_PROTOCOL.
  const auto at = [&](const std::string& var) { return std::find(env.begin(), env.end(), var); };
  EXPECT_LT(at("PLUTO_MY_CLIENT=10.1.0.0/16"), at("PLUTO_MY_PORT=80"));
  EXPECT_LT(at("PLUTO_MY_PORT=80"), at("PLUTO_MY_PROTOCOL=6"));

  // GRE between the hosts (transport): "-host", protocol 47, port 0.
  UpdownInfo gre = RouteBased();
  gre.my_client = base::Selector::Of(base::Subnet::Host(gre.me));
  gre.my_client.proto = 47;
  gre.peer_client = base::Selector::Of(base::Subnet::Host(gre.peer));
  gre.peer_client.proto = 47;
  const auto genv = UpdownEnvironment(false, gre, "/bin");
  EXPECT_EQ(genv[2], "PLUTO_VERB=down-host");
  EXPECT_THAT(genv, Contains("PLUTO_MY_CLIENT=192.0.2.1/32"));
  EXPECT_THAT(genv, Contains("PLUTO_MY_PROTOCOL=47"));
  EXPECT_THAT(genv, Contains("PLUTO_MY_PORT=0"));
  EXPECT_THAT(genv, Contains("PLUTO_PEER_PROTOCOL=47"));
  EXPECT_THAT(genv, Contains("PLUTO_PEER_PORT=0"));
}

TEST(UpdownEnvironment, APortRangeIsPrintedAsCharonDoes) {
  UpdownInfo info = RouteBased();
  info.my_client = base::Selector::Of(*base::Subnet::Parse("10.1.0.0/16"));
  info.my_client.proto = 17;
  info.my_client.from_port = 1024;
  info.my_client.to_port = 2047;
  info.peer_client = base::Selector::Of(*base::Subnet::Parse("10.2.0.0/16"));
  info.peer_client.proto = 17;
  info.peer_client.from_port = 1000;
  info.peer_client.to_port = 2000;
  const auto env = UpdownEnvironment(true, info, "/bin");
  EXPECT_THAT(env, ::testing::Contains("PLUTO_MY_PORT=1024:2047"));
  EXPECT_THAT(env, ::testing::Contains("PLUTO_PEER_PORT=1000:2000"));
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
    a_.extra_child =
        a_extra_ + "      updown = echo \"" + fields_ + "\" >> " + record_.string() + "\n";
    b_.extra_child = b_extra_;
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
  // More settings of a's and b's child (swanctl.conf lines; a later local_ts replaces the
  // default one), and what a's script records.
  std::string a_extra_, b_extra_;
  std::string fields_ =
      "$PLUTO_VERB $PLUTO_CONNECTION $PLUTO_REQID $PLUTO_MARK_IN $PLUTO_MY_CLIENT "
      "$PLUTO_PEER_CLIENT $PLUTO_PEER_ID";
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

// A dual-stack child: the script runs once per selector pair of one family (charon's policy
// enumerator), on up and on down, with the IPv6 verb for the IPv6 pair.
class UpdownDualStackTest : public UpdownDaemonTest {
 protected:
  UpdownDualStackTest() {
    a_extra_ = "      local_ts = 10.1.0.0/24, fd01::/64\n"
               "      remote_ts = 10.2.0.0/24, fd02::/64\n";
    b_extra_ = "      local_ts = 10.2.0.0/24, fd02::/64\n"
               "      remote_ts = 10.1.0.0/24, fd01::/64\n";
  }
};

TEST_F(UpdownDualStackTest, RunsOncePerSelectorPairOfOneFamily) {
  auto up = Call("initiate", vici::Message().Add("ike", "A-B").Add("timeout", "10000"));
  ASSERT_EQ(up.ValueOr("success", ""), "yes") << vici::Dump(up) << log_text_;
  EXPECT_EQ(Recorded(2), (std::vector<std::string>{
                             "up-client A-B 1 12/0xffffffff 10.1.0.0/24 10.2.0.0/24 routerB",
                             "up-client-v6 A-B 1 12/0xffffffff fd01::/64 fd02::/64 routerB"}))
      << log_text_;
  auto down = Call("terminate", vici::Message().Add("ike", "A-B"));
  ASSERT_EQ(down.ValueOr("success", ""), "yes") << vici::Dump(down);
  EXPECT_EQ(Recorded(4),
            (std::vector<std::string>{
                "up-client A-B 1 12/0xffffffff 10.1.0.0/24 10.2.0.0/24 routerB",
                "up-client-v6 A-B 1 12/0xffffffff fd01::/64 fd02::/64 routerB",
                "down-client A-B 1 12/0xffffffff 10.1.0.0/24 10.2.0.0/24 routerB",
                "down-client-v6 A-B 1 12/0xffffffff fd01::/64 fd02::/64 routerB"}))
      << log_text_;
}

// Selectors with a protocol and ports reach the script as PLUTO_MY/PEER_PROTOCOL and _PORT.
class UpdownProtoPortTest : public UpdownDaemonTest {
 protected:
  UpdownProtoPortTest() {
    a_extra_ = "      local_ts = 10.1.0.0/24[tcp/80]\n      remote_ts = 10.2.0.0/24[tcp]\n";
    b_extra_ = "      local_ts = 10.2.0.0/24[tcp]\n      remote_ts = 10.1.0.0/24[tcp/80]\n";
    fields_ = "$PLUTO_VERB $PLUTO_MY_CLIENT $PLUTO_MY_PROTOCOL $PLUTO_MY_PORT "
              "$PLUTO_PEER_CLIENT $PLUTO_PEER_PROTOCOL $PLUTO_PEER_PORT";
  }
};

TEST_F(UpdownProtoPortTest, ProtocolAndPortsReachTheScript) {
  auto up = Call("initiate", vici::Message().Add("ike", "A-B").Add("timeout", "10000"));
  ASSERT_EQ(up.ValueOr("success", ""), "yes") << vici::Dump(up) << log_text_;
  EXPECT_EQ(Recorded(1),
            (std::vector<std::string>{"up-client 10.1.0.0/24 6 80 10.2.0.0/24 6 0"}))
      << log_text_;
}

}  // namespace
}  // namespace minivpn::daemon
