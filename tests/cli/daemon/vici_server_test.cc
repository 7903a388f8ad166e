// The vici socket's edge (cli/daemon/vici_server.cc) without a daemon: a handler that echoes,
// raw clients on a real Unix socket, the io_context run by the test.
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <string>

#include <boost/asio/io_context.hpp>
#include <gtest/gtest.h>

#include "cli/daemon/vici_server.h"
#include "vici/codec.h"

namespace minivpn::daemon {
namespace {

namespace fs = std::filesystem;

int Connect(const std::string& path) {
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  EXPECT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  return fd;
}

void SendPacket(int fd, const vici::Packet& packet) {
  auto frame = vici::EncodeFrame(packet);
  ASSERT_TRUE(frame.has_value());
  ASSERT_EQ(::send(fd, frame->data(), frame->size(), MSG_NOSIGNAL),
            static_cast<ssize_t>(frame->size()));
}

class ViciServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(::geteuid(), 0u) << "the vici socket is root-only; run the tests as root";
    path_ = (fs::temp_directory_path() / ("minivpn-vici-" + std::to_string(::getpid()))).string();
    server_ = std::make_unique<ViciServer>(
        io_, path_, std::set<std::string>{"log"},
        [](const std::string& command, const vici::Message&,
           std::shared_ptr<ViciResponder> responder) {
          if (command == "echo") {
            responder->Finish(vici::Message().Add("echo", "yes"));
          } else {
            responder->Unknown();
          }
        });
    ASSERT_FALSE(server_->Start());
  }
  void TearDown() override { server_.reset(); }
  // Runs the loop until `done` or 2 s.
  template <typename Done>
  bool RunUntil(Done done) {
    for (int i = 0; i < 2000 && !done(); ++i) {
      io_.poll();
      io_.restart();
      ::usleep(1000);
    }
    return done();
  }

  std::string path_;
  boost::asio::io_context io_;
  std::unique_ptr<ViciServer> server_;
};

// A client that registers for events and never reads is cut off once kMaxQueuedBytes wait for
// it, instead of growing the daemon's memory without end.
TEST_F(ViciServerTest, AClientThatStopsReadingIsDisconnected) {
  const int fd = Connect(path_);
  SendPacket(fd, vici::Packet::EventRegister("log"));
  ASSERT_TRUE(RunUntil([&] { return server_->HasListeners("log"); }));
  const vici::Message big = vici::Message().Add("msg", std::string(60000, 'x'));
  // (the kernel's socket buffers take some first; twice the limit is beyond them)
  for (std::size_t sent = 0; sent <= 2 * kMaxQueuedBytes; sent += 60000) {
    server_->Broadcast("log", big);
    io_.poll();
    io_.restart();
  }
  EXPECT_TRUE(RunUntil([&] { return !server_->HasListeners("log"); }))
      << "still registered after " << kMaxQueuedBytes << " octets queued";
  ::close(fd);

  // Others are served as before.
  const int other = Connect(path_);
  SendPacket(other, vici::Packet::CmdRequest("echo"));
  ASSERT_TRUE(RunUntil([&] {
    char c;
    return ::recv(other, &c, 1, MSG_PEEK | MSG_DONTWAIT) == 1;
  }));
  ::close(other);
}

}  // namespace
}  // namespace minivpn::daemon
