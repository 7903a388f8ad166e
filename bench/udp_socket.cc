#include "bench/udp_socket.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

namespace minivpn::bench {

namespace {

sockaddr_in ToSockaddr(const ike::Endpoint& e) {
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(e.port);
  std::memcpy(&sa.sin_addr, e.address.bytes.data(), 4);
  return sa;
}

}  // namespace

std::optional<UdpSocket> UdpSocket::Bind(const xfrm::IpAddress& address, std::uint16_t port,
                                         std::string* error) {
  if (!address.is_v4()) {
    *error = "only IPv4 addresses are supported";
    return std::nullopt;
  }
  int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    *error = std::string("socket: ") + std::strerror(errno);
    return std::nullopt;
  }
  int size = 4 << 20;  // room for bursts of C in flight
  setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
  setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof size);
  ike::Endpoint local{address, port};
  sockaddr_in sa = ToSockaddr(local);
  if (bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0) {
    *error = "bind " + local.ToString() + ": " + std::strerror(errno);
    close(fd);
    return std::nullopt;
  }
  return UdpSocket(fd, local);
}

UdpSocket::UdpSocket(UdpSocket&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)), local_(other.local_) {}

UdpSocket& UdpSocket::operator=(UdpSocket&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) close(fd_);
    fd_ = std::exchange(other.fd_, -1);
    local_ = other.local_;
  }
  return *this;
}

UdpSocket::~UdpSocket() {
  if (fd_ >= 0) close(fd_);
}

void UdpSocket::Drain(std::vector<ike::Datagram>& out, std::size_t max) {
  std::uint8_t buf[65536];
  for (std::size_t i = 0; i < max; ++i) {
    sockaddr_in from{};
    socklen_t len = sizeof from;
    ssize_t n = recvfrom(fd_, buf, sizeof buf, 0, reinterpret_cast<sockaddr*>(&from), &len);
    if (n < 0) return;  // EAGAIN or an error: nothing more now
    ike::Datagram d;
    d.local = local_;
    d.remote.address.family = AF_INET;
    std::memcpy(d.remote.address.bytes.data(), &from.sin_addr, 4);
    d.remote.port = ntohs(from.sin_port);
    d.data.assign(buf, buf + n);
    out.push_back(std::move(d));
  }
}

bool UdpSocket::Send(const ike::Datagram& datagram) {
  sockaddr_in to = ToSockaddr(datagram.remote);
  ssize_t n = sendto(fd_, datagram.data.data(), datagram.data.size(), 0,
                     reinterpret_cast<sockaddr*>(&to), sizeof to);
  return n == static_cast<ssize_t>(datagram.data.size());
}

void WaitReadable(const std::vector<UdpSocket*>& sockets, int timeout_ms) {
  std::vector<pollfd> fds;
  for (UdpSocket* s : sockets) fds.push_back(pollfd{.fd = s->fd(), .events = POLLIN, .revents = 0});
  poll(fds.data(), fds.size(), timeout_ms);
}

std::size_t ReceiveForEngine(ike::Engine& engine, UdpSocket& ike, UdpSocket& natt,
                             int max_wait_ms, std::vector<ike::Datagram>& scratch) {
  auto now = std::chrono::steady_clock::now();
  int wait_ms = max_wait_ms;
  if (auto deadline = engine.NextDeadline()) {
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(*deadline - now).count();
    if (ms < wait_ms) wait_ms = ms < 0 ? 0 : static_cast<int>(ms);
  }
  WaitReadable({&ike, &natt}, wait_ms);
  scratch.clear();
  ike.Drain(scratch, 256);
  natt.Drain(scratch, 256);
  now = std::chrono::steady_clock::now();
  for (const auto& d : scratch) engine.HandleDatagram(d, now);
  if (auto deadline = engine.NextDeadline(); deadline && *deadline <= now) engine.HandleTimers(now);
  return scratch.size();
}

}  // namespace minivpn::bench
