// minivpnd's control dispatcher (cli/daemon/daemon_control.cc) through a real Daemon: config
// files on disk, UDP sockets on loopback, the in-memory kernel (--fake-kernel), requests over
// the control socket as minivpnctl sends them. Root only (the control socket is root-only).
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

#include "tests/cli/daemon/two_daemons.h"

namespace minivpn::daemon {
namespace {

namespace fs = std::filesystem;

using testing::FreePort;

class DaemonControlTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(::geteuid(), 0u) << "the control socket is root-only; run the tests as root";
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
    options.control_path = dir_ / "minivpnd.ctl";
    options.vici_path = dir_ / "charon.vici";
    options.journal_path = dir_ / "kernel.journal";
    options.fake_kernel = true;
    options.log_levels_from_command_line = true;
    control_ = options.control_path;
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

  ControlReply Send(ControlRequest request) {
    auto reply = SendControlRequest(control_, request);
    EXPECT_TRUE(reply) << reply.error();
    return reply ? *reply : ControlReply::Fail("no reply");
  }

  fs::path dir_;
  DaemonOptions options_;
  std::string control_;
  std::string log_text_;
  Logger log_{[this](std::string_view line) { log_text_.append(line).append("\n"); }};
  boost::asio::io_context io_;
  std::unique_ptr<Daemon> daemon_;
  std::thread loop_;
};

TEST_F(DaemonControlTest, QueriesAnswerFromTheConfigAndTheEngine) {
  auto conns = Send({.command = "list-conns"});
  ASSERT_TRUE(conns.ok) << conns.error;
  ASSERT_EQ(conns.result.at("connections").size(), 1u);
  const auto& conn = conns.result.at("connections")[0];
  EXPECT_EQ(conn.at("name"), "to-b");
  EXPECT_EQ(conn.at("children")[0].at("mark_in"), "0x0000000c/0xffffffff");
  EXPECT_EQ(conn.dump().find("test-only-psk"), std::string::npos) << "no secret in a reply";

  auto sas = Send({.command = "list-sas"});
  ASSERT_TRUE(sas.ok);
  EXPECT_TRUE(sas.result.at("ike_sas").empty());
  auto stats = Send({.command = "stats"});
  ASSERT_TRUE(stats.ok);
  EXPECT_EQ(stats.result.at("ike_sas"), 0);
}

TEST_F(DaemonControlTest, CommandsReachTheEngineAndReportItsAnswer) {
  auto initiated = Send({.command = "initiate", .args = {{"name", "to-b"}}});
  ASSERT_TRUE(initiated.ok) << initiated.error;
  auto sas = Send({.command = "list-sas", .args = {{"name", "to-b"}}});
  ASSERT_EQ(sas.result.at("ike_sas").size(), 1u);  // the peer is silent: still connecting
  EXPECT_EQ(sas.result.at("ike_sas")[0].at("state"), "CONNECTING");
  EXPECT_EQ(sas.result.at("ike_sas")[0].at("initiator"), true);

  auto terminated = Send({.command = "terminate", .args = {{"name", "to-b"}}});
  EXPECT_TRUE(terminated.ok) << terminated.error;
  auto after = Send({.command = "list-sas"});
  EXPECT_TRUE(after.result.at("ike_sas").empty());
}

// Issue 19: `minivpnctl reload` (and so systemctl reload) reports the outcome and fails when
// the new configuration is refused; the running one stays.
TEST_F(DaemonControlTest, ReloadReportsItsOutcomeAndFailsOnARefusedConfig) {
  const fs::path conf = dir_ / "swanctl.conf";
  std::string text;
  {
    std::ifstream in(conf);
    text.assign(std::istreambuf_iterator<char>(in), {});
  }
  std::ofstream(conf) << "connections {\n  to-b {\n    proposals = no-such-algorithm\n";
  auto refused = Send({.command = "reload"});
  EXPECT_FALSE(refused.ok);
  EXPECT_NE(refused.error.find("refused, the running configuration is kept"), std::string::npos)
      << refused.error;
  EXPECT_NE(refused.error.find("swanctl.conf:"), std::string::npos) << refused.error;
  EXPECT_EQ(refused.error.find("test-only-psk"), std::string::npos);
  auto conns = Send({.command = "list-conns"});
  ASSERT_EQ(conns.result.at("connections").size(), 1u) << "the running configuration stays";

  // to-b changed (another ESP proposal), to-c added.
  std::string next = text;
  next.replace(next.find("esp_proposals = aes256gcm16"), 27, "esp_proposals = aes128gcm16");
  std::string to_c = next.substr(next.find("  to-b {"));
  to_c = to_c.substr(0, to_c.find("\n  }\n") + 5);
  to_c.replace(2, 4, "to-c");
  next.insert(next.find("  to-b {"), to_c);
  std::ofstream(conf) << next;
  auto applied = Send({.command = "reload"});
  ASSERT_TRUE(applied.ok) << applied.error << "\n" << next;
  EXPECT_EQ(applied.result.at("added"), nlohmann::json::array({"to-c"}));
  EXPECT_EQ(applied.result.at("changed"), nlohmann::json::array({"to-b"}));
  EXPECT_EQ(applied.result.at("removed"), nlohmann::json::array());
}

// Issue 19: initiate/terminate/rekey with "wait" answer with the outcome and stream the SA's
// log lines before it. The peer here never answers, so initiate times out; terminate of the
// connecting SA succeeds once it is gone.
TEST_F(DaemonControlTest, WaitingCommandsStreamProgressAndReportTheOutcome) {
  std::vector<std::string> progress;
  auto collect = [&](const std::string& line) { progress.push_back(line); };
  auto initiated = SendControlRequest(
      control_,
      {.command = "initiate", .args = {{"name", "to-b"}, {"wait", true}, {"timeout", 0.5}}},
      collect);
  ASSERT_TRUE(initiated) << initiated.error();
  EXPECT_FALSE(initiated->ok);
  EXPECT_EQ(initiated->error, "initiate timed out after 0.5 s; it goes on in the background");
  ASSERT_FALSE(progress.empty());
  EXPECT_NE(progress[0].find("to-b[1] generating IKE_SA_INIT request 0 [ SA KE No"),
            std::string::npos)
      << progress[0];

  progress.clear();
  auto terminated = SendControlRequest(
      control_, {.command = "terminate", .args = {{"name", "to-b"}, {"wait", true}}}, collect);
  ASSERT_TRUE(terminated) << terminated.error();
  EXPECT_TRUE(terminated->ok) << terminated->error;
  EXPECT_EQ(terminated->result.at("outcome"), "IKE_SA deleted");
  EXPECT_TRUE(Send({.command = "list-sas"}).result.at("ike_sas").empty());

  // Nothing to rekey: the engine's error at once; a bad timeout is refused.
  auto rekey = Send({.command = "rekey", .args = {{"name", "to-b"}, {"wait", true}}});
  EXPECT_FALSE(rekey.ok);
  auto bad = Send({.command = "initiate", .args = {{"name", "to-b"}, {"wait", true},
                                                   {"timeout", "soon"}}});
  EXPECT_FALSE(bad.ok);
  EXPECT_NE(bad.error.find("timeout"), std::string::npos) << bad.error;
}

// The top-level keys of the first JSON object in a docs/control-protocol.md table cell.
std::set<std::string> TopLevelKeys(std::string_view cell) {
  std::set<std::string> keys;
  int depth = 0;
  for (std::size_t i = 0; i < cell.size(); ++i) {
    const char c = cell[i];
    if (c == '{' || c == '[') {
      ++depth;
    } else if (c == '}' || c == ']') {
      if (--depth == 0) break;
    } else if (c == '"' && depth == 1) {
      const std::size_t end = cell.find('"', i + 1);
      if (end == std::string_view::npos) break;
      if (cell.substr(end + 1, 1) == ":") keys.insert(std::string(cell.substr(i + 1, end - i - 1)));
      i = end;
    }
  }
  return keys;
}

// The result column of a command's row in docs/control-protocol.md's command table.
std::string DocumentedResult(const std::string& command) {
  std::ifstream in(std::string(MINIVPN_FIXTURES) + "/../../docs/control-protocol.md");
  std::string line;
  const std::string row = "| `" + command + "` |";
  while (std::getline(in, line)) {
    if (!line.starts_with(row)) continue;
    const std::size_t last = line.rfind(" | ", line.size() - 3);
    return line.substr(last + 3);
  }
  return {};
}

// Issue 19: the replies have drifted from the protocol document before; now every reply this
// fixture can produce is checked against the keys the document shows for it.
TEST_F(DaemonControlTest, RepliesHaveTheKeysTheProtocolDocShows) {
  const std::vector<ControlRequest> requests = {
      {.command = "list-conns"}, {.command = "list-sas"}, {.command = "stats"},
      {.command = "reload"}};
  for (const auto& request : requests) {
    SCOPED_TRACE(request.command);
    const std::string documented = DocumentedResult(request.command);
    ASSERT_FALSE(documented.empty()) << "no row for " << request.command;
    auto reply = Send(request);
    ASSERT_TRUE(reply.ok) << reply.error;
    std::set<std::string> keys;
    for (const auto& [key, value] : reply.result.items()) keys.insert(key);
    EXPECT_EQ(keys, TopLevelKeys(documented)) << documented;
  }
  // A waiting command's success: {"outcome": ...}.
  EXPECT_EQ(TopLevelKeys(DocumentedResult("terminate")).count("outcome"), 1u);
  ASSERT_TRUE(Send({.command = "initiate", .args = {{"name", "to-b"}}}).ok);
  auto terminated = Send({.command = "terminate", .args = {{"name", "to-b"}, {"wait", true}}});
  ASSERT_TRUE(terminated.ok) << terminated.error;
  EXPECT_TRUE(terminated.result.contains("outcome"));
}

TEST_F(DaemonControlTest, BadRequestsGetASpecificError) {
  auto unknown = Send({.command = "frobnicate"});
  EXPECT_FALSE(unknown.ok);
  EXPECT_NE(unknown.error.find("unknown command 'frobnicate'"), std::string::npos) << unknown.error;
  auto no_conn = Send({.command = "initiate", .args = {{"name", "to-z"}}});
  EXPECT_FALSE(no_conn.ok);
  EXPECT_EQ(no_conn.error, "no connection named 'to-z'");
  auto bad_level = Send({.command = "log-level", .args = {{"subsystem", "ike"}, {"level", 9}}});
  EXPECT_FALSE(bad_level.ok);
  EXPECT_EQ(bad_level.error, "log-level needs \"level\" between 0 and 3");
  auto bad_subsystem = Send({.command = "log-level", .args = {{"subsystem", "xyz"}, {"level", 2}}});
  EXPECT_FALSE(bad_subsystem.ok);
  EXPECT_NE(bad_subsystem.error.find("unknown subsystem 'xyz'"), std::string::npos);
  auto good_level = Send({.command = "log-level", .args = {{"subsystem", "ike"}, {"level", 2}}});
  EXPECT_TRUE(good_level.ok);
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
  // The first one still answers on its control socket, which the second left alone.
  auto conns = Send({.command = "list-conns"});
  EXPECT_TRUE(conns.ok) << conns.error;
}

}  // namespace
}  // namespace minivpn::daemon
