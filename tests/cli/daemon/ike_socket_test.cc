// The UDP edge (cli/daemon/ike_socket.h) on loopback: what arrives is one base::Datagram with
// both endpoints as the engine needs them (the local address from IP_PKTINFO), and what is sent
// leaves from the socket of the datagram's local port.
#include "cli/daemon/ike_socket.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <gtest/gtest.h>

namespace minivpn::daemon {
namespace {

using base::IpAddress;
using std::chrono::milliseconds;

IpAddress Loopback() { return *IpAddress::Parse("127.0.0.1"); }

// A plain UDP socket on loopback that plays the peer.
struct Peer {
  int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  std::uint16_t port = 0;
  Peer() {
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
    socklen_t len = sizeof a;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
    port = ntohs(a.sin_port);
    timeval tv{2, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  }
  ~Peer() { ::close(fd); }
  void SendTo(std::uint16_t to, const std::vector<std::uint8_t>& data) {
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons(to);
    ASSERT_EQ(::sendto(fd, data.data(), data.size(), 0, reinterpret_cast<sockaddr*>(&a), sizeof a),
              static_cast<ssize_t>(data.size()));
  }
  std::vector<std::uint8_t> Receive(std::uint16_t* from_port) {
    std::vector<std::uint8_t> buffer(2048);
    sockaddr_in a{};
    socklen_t len = sizeof a;
    ssize_t n = ::recvfrom(fd, buffer.data(), buffer.size(), 0, reinterpret_cast<sockaddr*>(&a), &len);
    if (n < 0) return {};
    *from_port = ntohs(a.sin_port);
    buffer.resize(static_cast<std::size_t>(n));
    return buffer;
  }
};

// Two free UDP ports (bound and released; the kernel does not hand them out again at once).
std::pair<std::uint16_t, std::uint16_t> FreePorts() {
  Peer a, b;
  return {a.port, b.port};
}

class IkeSocketTest : public ::testing::Test {
 protected:
  void OpenSockets() {
    std::tie(port_, natt_port_) = FreePorts();
    std::string error;
    auto setup = [this](int, int family, bool natt) {
      setups_.push_back({family, natt});
      return std::error_code{};
    };
    ASSERT_FALSE(sockets_.Open(port_, natt_port_, setup, &error)) << error;
  }
  void RunUntil(const std::function<bool()>& done) {
    for (int i = 0; i < 200 && !done(); ++i) io_.run_for(milliseconds(10));
  }

  boost::asio::io_context io_;
  std::vector<Datagram> received_;
  IkeSockets sockets_{io_, [this](Datagram d) { received_.push_back(std::move(d)); }};
  std::uint16_t port_ = 0, natt_port_ = 0;
  std::vector<std::pair<int, bool>> setups_;
};

TEST_F(IkeSocketTest, ReceivesOneDatagramWithBothEndpoints) {
  OpenSockets();
  EXPECT_GE(setups_.size(), 2u);  // 500 and 4500 for IPv4 (and IPv6 where the host has it)
  EXPECT_FALSE(setups_[0].second);
  EXPECT_TRUE(setups_[1].second);
  Peer peer;
  peer.SendTo(port_, {1, 2, 3});
  peer.SendTo(natt_port_, {0, 0, 0, 0, 9});
  RunUntil([&] { return received_.size() == 2; });
  ASSERT_EQ(received_.size(), 2u);
  EXPECT_EQ(received_[0].local, (Endpoint{Loopback(), port_}));  // IP_PKTINFO: the address used
  EXPECT_EQ(received_[0].remote, (Endpoint{Loopback(), peer.port}));
  EXPECT_EQ(received_[0].data, (std::vector<std::uint8_t>{1, 2, 3}));
  EXPECT_EQ(received_[1].local.port, natt_port_);
  EXPECT_EQ(received_[1].data.size(), 5u);  // the non-ESP marker is the engine's to strip
}

TEST_F(IkeSocketTest, SendsFromTheSocketOfTheLocalPort) {
  OpenSockets();
  Peer peer;
  for (std::uint16_t from : {port_, natt_port_}) {
    Datagram out{{Loopback(), from}, {Loopback(), peer.port}, {7, 7, 7}};
    ASSERT_FALSE(sockets_.Send(out));
    std::uint16_t seen_port = 0;
    EXPECT_EQ(peer.Receive(&seen_port), (std::vector<std::uint8_t>{7, 7, 7}));
    EXPECT_EQ(seen_port, from);
  }
  Datagram nowhere{{Loopback(), 1}, {Loopback(), peer.port}, {1}};  // no socket on port 1
  EXPECT_TRUE(sockets_.Send(nowhere));
}

TEST_F(IkeSocketTest, APortInUseIsNamedWithAHint) {
  Peer taken;  // holds a loopback port; the sockets bind the wildcard address on it
  IkeSockets other(io_, [](Datagram) {});
  std::string error;
  auto ec = other.Open(taken.port, FreePorts().first, nullptr, &error);
  ASSERT_TRUE(ec);
  EXPECT_NE(error.find("udp4 :" + std::to_string(taken.port)), std::string::npos) << error;
}

TEST_F(IkeSocketTest, APortAnotherDaemonHoldsIsRefused) {
  // charon (or another minivpnd) bound to the port with SO_REUSEADDR, as charon does: binding
  // beside it would split the peer's packets between two daemons.
  int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  int on = 1;
  ASSERT_EQ(::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on), 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  const std::uint16_t port = FreePorts().first;
  a.sin_port = htons(port);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  std::string error;
  auto ec = sockets_.Open(port, FreePorts().first, nullptr, &error);
  ::close(fd);
  ASSERT_TRUE(ec) << "bound beside another daemon";
  EXPECT_EQ(ec, std::errc::address_in_use);
  EXPECT_NE(error.find("is charon running?"), std::string::npos) << error;
}

}  // namespace
}  // namespace minivpn::daemon
