#include "cli/daemon/control_server.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <filesystem>
#include <thread>

namespace minivpn::daemon {
namespace {

std::string TempSocketPath() {
  return (std::filesystem::temp_directory_path() /
          ("minivpn-ctl-test-" + std::to_string(::getpid()) + ".sock"))
      .string();
}

TEST(ControlServer, AnswersARequestOverTheSocketWithMode0600) {
  ASSERT_EQ(::geteuid(), 0u) << "the control socket is root-only; run the tests as root";
  boost::asio::io_context io;
  const std::string path = TempSocketPath();
  ControlRequest seen;
  ControlServer server(io, path, [&](const ControlRequest& request) {
    seen = request;
    return request.command == "list-sas" ? ControlReply::Ok({{"ike_sas", 0}})
                                         : ControlReply::Fail("unknown command");
  });
  ASSERT_FALSE(server.Start());

  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);

  std::thread loop([&] { io.run(); });
  auto ok = SendControlRequest(path, ControlRequest{.command = "list-sas", .args = {{"name", "x"}}});
  auto fail = SendControlRequest(path, ControlRequest{.command = "bogus"});
  io.stop();
  loop.join();

  ASSERT_TRUE(ok.has_value()) << ok.error();
  EXPECT_TRUE(ok->ok);
  EXPECT_EQ(ok->result.at("ike_sas"), 0);
  EXPECT_EQ(seen.command, "bogus");
  ASSERT_TRUE(fail.has_value()) << fail.error();
  EXPECT_FALSE(fail->ok);
  EXPECT_EQ(fail->error, "unknown command");

  server.Stop();
  EXPECT_FALSE(std::filesystem::exists(path)) << "Stop() removes the socket file";
}

TEST(ControlServer, NeverTakesOverASocketALiveServerListensOn) {
  boost::asio::io_context io;
  const std::string path = TempSocketPath();
  auto answer = [](const ControlRequest&) { return ControlReply::Ok(); };
  ControlServer first(io, path, answer);
  ASSERT_FALSE(first.Start());
  ControlServer second(io, path, answer);
  EXPECT_EQ(second.Start(), std::errc::address_in_use);
  std::thread loop([&] { io.run(); });
  auto reply = SendControlRequest(path, ControlRequest{.command = "stats"});
  io.stop();
  loop.join();
  ASSERT_TRUE(reply.has_value()) << "the first server's socket was unlinked: " << reply.error();
  first.Stop();
  // A socket file nobody listens on (a daemon that died) is replaced.
  ASSERT_FALSE(first.Start());
  first.Stop();
}

TEST(ControlServer, ClientSaysWhenTheDaemonIsNotRunning) {
  auto reply = SendControlRequest("/nonexistent/minivpnd.ctl", ControlRequest{.command = "stats"});
  ASSERT_FALSE(reply.has_value());
  EXPECT_EQ(reply.error(),
            "minivpnd is not running: no control socket listening at /nonexistent/minivpnd.ctl");
}

TEST(ControlServer, StartReplacesAStaleSocketFile) {
  const std::string path = TempSocketPath() + ".stale";
  { std::FILE* f = std::fopen(path.c_str(), "w"); ASSERT_NE(f, nullptr); std::fclose(f); }
  boost::asio::io_context io;
  ControlServer server(io, path, [](const ControlRequest&) { return ControlReply::Ok(); });
  EXPECT_FALSE(server.Start());
  server.Stop();
}

}  // namespace
}  // namespace minivpn::daemon
