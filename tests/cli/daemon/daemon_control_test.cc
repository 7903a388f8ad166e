// minivpnd's commands as minivpnctl sends them over the vici socket (cli/daemon/daemon_control.cc,
// daemon_vici.cc; the client is cli/ctl/vici_client.h) through a real Daemon: config files on
// disk, UDP sockets on loopback, the in-memory kernel (--fake-kernel). Root only (the vici
// socket is root-only).
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>
#include <set>
#include <thread>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <gtest/gtest.h>

#include "cli/ctl/vici_client.h"
#include "tests/cli/daemon/two_daemons.h"

namespace minivpn::daemon {
namespace {

namespace fs = std::filesystem;

using testing::FreePort;

class DaemonControlTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(::geteuid(), 0u) << "the vici socket is root-only; run the tests as root";
    dir_ = fs::temp_directory_path() / ("minivpn-daemon-test-" + std::to_string(::getpid()));
    fs::create_directories(dir_);
    const std::uint16_t dead_peer_port = FreePort();
    std::ofstream(dir_ / "strongswan.conf") << "charon {\n  port = " << FreePort()
                                            << "\n  port_nat_t = " << FreePort() << "\n}\n";
    std::ofstream(dir_ / "swanctl.conf")
        << "connections {\n"
           "  to-b {\n"
           "    local_addrs = 127.0.0.1\n"
           "    remote_addrs = 127.0.0.1\n"
           "    remote_port = " << dead_peer_port << "\n"
           "    proposals = aes256gcm16-prfsha256-x25519\n"
           "    local { auth = psk\n id = a }\n"
           "    remote { auth = psk\n id = b }\n"
           "    children { net { local_ts = 10.1.0.0/24\n remote_ts = 10.2.0.0/24\n"
           "      esp_proposals = aes256gcm16\n mark_in = 12\n mark_out = 12 } }\n"
           "  }\n"
           "}\n"
           "secrets { ike-1 { id-a = a\n id-b = b\n secret = test-only-psk } }\n";
    DaemonOptions& options = options_;
    options.config.swanctl_conf = dir_ / "swanctl.conf";
    options.config.strongswan_conf = dir_ / "strongswan.conf";
    options.vici_path = dir_ / "charon.vici";
    options.journal_path = dir_ / "kernel.journal";
    options.fake_kernel = true;
    options.log_levels_from_command_line = true;
    vici_ = options.vici_path;
    daemon_ = std::make_unique<Daemon>(io_, options, log_);
    auto started = daemon_->Start();
    ASSERT_TRUE(started) << started.error() << "\n" << log_text_;
    loop_ = std::thread([this] { io_.run(); });
  }
  void TearDown() override {
    io_.stop();
    if (loop_.joinable()) loop_.join();
    daemon_.reset();
    fs::remove_all(dir_);
  }

  // One command over the vici socket as minivpnctl sends it; `events` collects what it streams.
  vici::Message Call(const std::string& command, vici::Message args = {},
                     std::initializer_list<std::string_view> registered = {},
                     std::vector<vici::Message>* events = nullptr) {
    auto client = ctl::ViciClient::Connect(vici_, std::chrono::seconds(10));
    EXPECT_TRUE(client) << client.error();
    if (!client) return {};
    auto reply = client->Call(command, args, registered,
                              [&](std::string_view, const vici::Message& m) {
                                if (events) events->push_back(m);
                              });
    EXPECT_TRUE(reply) << reply.error();
    return reply ? *reply : vici::Message();
  }
  std::vector<vici::Message> ListSas(const std::string& ike = "") {
    std::vector<vici::Message> sas;
    vici::Message args;
    if (!ike.empty()) args.Add("ike", ike);
    Call("list-sas", args, {"list-sa"}, &sas);
    return sas;
  }
  static std::string Success(const vici::Message& m) { return m.ValueOr("success", "(none)"); }
  static std::string Error(const vici::Message& m) { return m.ValueOr("errmsg", ""); }

  fs::path dir_;
  DaemonOptions options_;
  std::string vici_;
  std::string log_text_;
  Logger log_{[this](std::string_view line) { log_text_.append(line).append("\n"); }};
  boost::asio::io_context io_;
  std::unique_ptr<Daemon> daemon_;
  std::thread loop_;
};

TEST_F(DaemonControlTest, QueriesAnswerFromTheConfigAndTheEngine) {
  std::vector<vici::Message> conns;
  Call("list-conns", {}, {"list-conn"}, &conns);
  ASSERT_EQ(conns.size(), 1u);
  ASSERT_NE(conns[0].FindSection({"to-b"}), nullptr);
  EXPECT_EQ(conns[0].ValueOr("to-b.children.net.mark_in", ""), "0000000c");
  EXPECT_EQ(vici::Dump(conns[0]).find("test-only-psk"), std::string::npos)
      << "no secret in a reply";

  EXPECT_TRUE(ListSas().empty());
  auto stats = Call("minivpn-stats");
  EXPECT_EQ(Success(stats), "yes");
  EXPECT_EQ(stats.ValueOr("ike-sas", ""), "0");
}

TEST_F(DaemonControlTest, CommandsReachTheEngineAndReportItsAnswer) {
  auto initiated = Call("initiate", vici::Message().Add("ike", "to-b").Add("timeout", "-1"));
  ASSERT_EQ(Success(initiated), "yes") << Error(initiated);
  auto sas = ListSas("to-b");
  ASSERT_EQ(sas.size(), 1u);  // the peer is silent: still connecting
  EXPECT_EQ(sas[0].ValueOr("to-b.state", ""), "CONNECTING");
  EXPECT_EQ(sas[0].ValueOr("to-b.initiator", ""), "yes");

  auto terminated = Call("terminate", vici::Message().Add("ike", "to-b").Add("timeout", "-1"));
  EXPECT_EQ(Success(terminated), "yes") << Error(terminated);
  EXPECT_TRUE(ListSas().empty());
}

// Issue 19: `minivpnctl reload` (reload-settings, and so systemctl reload) reports the outcome
// and fails when the new configuration is refused; the running one stays.
TEST_F(DaemonControlTest, ReloadReportsItsOutcomeAndFailsOnARefusedConfig) {
  const fs::path conf = dir_ / "swanctl.conf";
  std::string text;
  {
    std::ifstream in(conf);
    text.assign(std::istreambuf_iterator<char>(in), {});
  }
  std::ofstream(conf) << "connections {\n  to-b {\n    proposals = no-such-algorithm\n";
  auto refused = Call("reload-settings");
  EXPECT_EQ(Success(refused), "no");
  EXPECT_NE(Error(refused).find("refused, the running configuration is kept"), std::string::npos)
      << Error(refused);
  EXPECT_NE(Error(refused).find("swanctl.conf:"), std::string::npos) << Error(refused);
  EXPECT_EQ(vici::Dump(refused).find("test-only-psk"), std::string::npos);
  std::vector<vici::Message> conns;
  Call("list-conns", {}, {"list-conn"}, &conns);
  ASSERT_EQ(conns.size(), 1u) << "the running configuration stays";

  // to-b changed (another ESP proposal), to-c added.
  std::string next = text;
  next.replace(next.find("esp_proposals = aes256gcm16"), 27, "esp_proposals = aes128gcm16");
  std::string to_c = next.substr(next.find("  to-b {"));
  to_c = to_c.substr(0, to_c.find("\n  }\n") + 5);
  to_c.replace(2, 4, "to-c");
  next.insert(next.find("  to-b {"), to_c);
  std::ofstream(conf) << next;
  auto applied = Call("reload-settings");
  ASSERT_EQ(Success(applied), "yes") << Error(applied) << "\n" << next;
  EXPECT_EQ(*applied.FindList("added"), vici::List{"to-c"});
  EXPECT_EQ(*applied.FindList("changed"), vici::List{"to-b"});
  EXPECT_EQ(*applied.FindList("removed"), vici::List{});
}

// Issue 19: initiate/terminate/rekey wait for the outcome (timeout 0 or a number of ms) and
// stream the SA's log lines before it (control-log). The peer here never answers, so initiate
// times out; terminate of the connecting SA succeeds once it is gone.
TEST_F(DaemonControlTest, WaitingCommandsStreamProgressAndReportTheOutcome) {
  std::vector<vici::Message> progress;
  auto initiated = Call("initiate", vici::Message().Add("ike", "to-b").Add("timeout", "500"),
                        {"control-log"}, &progress);
  EXPECT_EQ(Success(initiated), "no");
  EXPECT_EQ(Error(initiated), "initiate timed out after 0.5 s; it goes on in the background");
  ASSERT_FALSE(progress.empty());
  EXPECT_EQ(progress[0].ValueOr("ikesa-name", ""), "to-b");
  EXPECT_TRUE(progress[0].ValueOr("msg", "").starts_with("generating IKE_SA_INIT request 0 [ SA KE No"))
      << vici::Dump(progress[0]);

  progress.clear();
  auto terminated = Call("terminate", vici::Message().Add("ike", "to-b"), {"control-log"}, &progress);
  EXPECT_EQ(Success(terminated), "yes") << Error(terminated);
  EXPECT_EQ(terminated.ValueOr("terminated", ""), "1");
  EXPECT_TRUE(ListSas().empty());

  // Nothing to rekey: the engine's error at once.
  auto rekey = Call("rekey", vici::Message().Add("ike", "to-b"));
  EXPECT_EQ(Success(rekey), "no");
  EXPECT_FALSE(Error(rekey).empty());
}

TEST_F(DaemonControlTest, BadRequestsGetASpecificError) {
  auto client = ctl::ViciClient::Connect(vici_, std::chrono::seconds(10));
  ASSERT_TRUE(client) << client.error();
  auto unknown = client->Call("frobnicate", {});
  ASSERT_FALSE(unknown);
  EXPECT_EQ(unknown.error(), "minivpnd does not know the vici command 'frobnicate'");
  auto no_conn = Call("initiate", vici::Message().Add("ike", "to-z"));
  EXPECT_EQ(Success(no_conn), "no");
  EXPECT_EQ(Error(no_conn), "no connection named 'to-z'");
  auto bad_level =
      Call("minivpn-log-level", vici::Message().Add("subsystem", "ike").Add("level", "9"));
  EXPECT_EQ(Success(bad_level), "no");
  EXPECT_EQ(Error(bad_level), "level '9': expected 0 to 3");
  auto bad_subsystem =
      Call("minivpn-log-level", vici::Message().Add("subsystem", "xyz").Add("level", "2"));
  EXPECT_EQ(Success(bad_subsystem), "no");
  EXPECT_NE(Error(bad_subsystem).find("unknown subsystem 'xyz'"), std::string::npos);
  EXPECT_EQ(Success(Call("minivpn-log-level",
                         vici::Message().Add("subsystem", "ike").Add("level", "2"))),
            "yes");
  auto explain_nothing = Call("minivpn-explain");
  EXPECT_EQ(Error(explain_nothing),
            "minivpn-explain needs either ike (a connection) or ike-id (an IKE SA)");
  EXPECT_EQ(Error(Call("minivpn-explain", vici::Message().Add("ike", "to-b"))),
            "connection 'to-b' has no IKE SA");
  EXPECT_EQ(Error(Call("minivpn-explain", vici::Message().Add("ike-id", "x1"))),
            "ike-id 'x1' is not an IKE SA uniqueid");
}

TEST_F(DaemonControlTest, ASecondInstanceRefusesAndLeavesTheFirstAlone) {
  // An admin starts `minivpnd -d ike=2` while the service runs: same journal, same sockets.
  boost::asio::io_context io2;
  std::string log2;
  Logger logger2([&](std::string_view line) { log2.append(line).append("\n"); });
  Daemon second(io2, options_, logger2);
  auto started = second.Start();
  ASSERT_FALSE(started) << "a second minivpnd must not start beside a running one";
  EXPECT_EQ(started.error(), "minivpnd is already running (pid " + std::to_string(::getpid()) +
                                 ", lock " + (dir_ / "minivpnd.lock").string() + ")");
  // The first one still answers on its vici socket, which the second left alone.
  EXPECT_EQ(Success(Call("minivpn-stats")), "yes");
}

}  // namespace
}  // namespace minivpn::daemon
