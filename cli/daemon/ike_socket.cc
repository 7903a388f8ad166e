#include "cli/daemon/ike_socket.h"

#include <arpa/inet.h>
#include <fmt/core.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace minivpn::daemon {

namespace asio = boost::asio;

struct IkeSockets::Socket {
  Socket(asio::io_context& io, int fd_in, int family_in, std::uint16_t port_in)
      : stream(io, fd_in), family(family_in), port(port_in) {}
  asio::posix::stream_descriptor stream;  // owns the fd
  int family;
  std::uint16_t port;
};

namespace {

std::error_code Errno() { return {errno, std::generic_category()}; }

int OpenSocket(int family, std::uint16_t port, std::string* what) {
  const char* name = family == AF_INET ? "udp4" : "udp6";
  *what = fmt::format("{} :{}", name, port);
  int fd = ::socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_UDP);
  if (fd < 0) return -1;
  // No SO_REUSEADDR: a port another daemon holds (charon, a second minivpnd) must fail to bind
  // (EADDRINUSE) instead of splitting the peers' packets between two daemons. UDP has no
  // TIME_WAIT, so a restart does not need it either.
  int on = 1;
  bool ok = true;
  if (family == AF_INET) {
    ok = ok && ::setsockopt(fd, IPPROTO_IP, IP_PKTINFO, &on, sizeof on) == 0;
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    ok = ok && ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  } else {
    ok = ok && ::setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof on) == 0;
    ok = ok && ::setsockopt(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, &on, sizeof on) == 0;
    sockaddr_in6 addr{};
    addr.sin6_family = AF_INET6;
    addr.sin6_port = htons(port);
    ok = ok && ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  }
  if (!ok) {
    int err = errno;
    ::close(fd);
    errno = err;
    return -1;
  }
  return fd;
}

xfrm::IpAddress FromSockaddr(const sockaddr_storage& ss, std::uint16_t* port) {
  xfrm::IpAddress ip;
  if (ss.ss_family == AF_INET) {
    const auto& sin = reinterpret_cast<const sockaddr_in&>(ss);
    ip.family = AF_INET;
    std::memcpy(ip.bytes.data(), &sin.sin_addr, 4);
    *port = ntohs(sin.sin_port);
  } else {
    const auto& sin6 = reinterpret_cast<const sockaddr_in6&>(ss);
    ip.family = AF_INET6;
    std::memcpy(ip.bytes.data(), &sin6.sin6_addr, 16);
    *port = ntohs(sin6.sin6_port);
  }
  return ip;
}

}  // namespace

IkeSockets::IkeSockets(asio::io_context& io, Receiver receiver)
    : io_(io), receiver_(std::move(receiver)) {}

IkeSockets::~IkeSockets() = default;

std::error_code IkeSockets::Open(std::uint16_t port, std::uint16_t natt_port,
                                 const SocketSetup& setup, std::string* error) {
  for (int family : {AF_INET, AF_INET6}) {
    for (std::uint16_t p : {port, natt_port}) {
      std::string what;
      int fd = OpenSocket(family, p, &what);
      if (fd < 0) {
        auto ec = Errno();
        // A host without IPv6 is fine; anything else about IPv4 or a bound port is not.
        if (family == AF_INET6 && (ec == std::errc::address_family_not_supported ||
                                   ec == std::errc::address_not_available)) {
          break;
        }
        *error = fmt::format("{}: {}{}", what, ec.message(),
                             ec == std::errc::address_in_use ? " (is charon running?)" : "");
        sockets_.clear();
        return ec;
      }
      if (setup) {
        if (auto ec = setup(fd, family, p == natt_port)) {
          *error = fmt::format("{}: {}", what, ec.message());
          ::close(fd);
          sockets_.clear();
          return ec;
        }
      }
      sockets_.push_back(std::make_unique<Socket>(io_, fd, family, p));
      Arm(*sockets_.back());
    }
  }
  return {};
}

void IkeSockets::Arm(Socket& socket) {
  socket.stream.async_wait(asio::posix::descriptor_base::wait_read,
                           [this, &socket](boost::system::error_code ec) {
                             if (ec) return;  // closed at shutdown
                             Drain(socket);
                             Arm(socket);
                           });
}

void IkeSockets::Drain(Socket& socket) {
  // 64 KiB: the largest UDP payload; the engine rejects what is too large for IKE.
  static thread_local std::uint8_t buffer[65536];
  for (;;) {
    sockaddr_storage from{};
    iovec iov{buffer, sizeof buffer};
    alignas(cmsghdr) char control[256];
    msghdr msg{};
    msg.msg_name = &from;
    msg.msg_namelen = sizeof from;
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
    ssize_t n = ::recvmsg(socket.stream.native_handle(), &msg, MSG_DONTWAIT);
    if (n < 0) return;  // EAGAIN: drained
    Datagram datagram;
    datagram.remote.address = FromSockaddr(from, &datagram.remote.port);
    datagram.local.port = socket.port;
    datagram.local.address.family = static_cast<std::uint8_t>(socket.family);
    for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr; c = CMSG_NXTHDR(&msg, c)) {
      if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO) {
        in_pktinfo info;
        std::memcpy(&info, CMSG_DATA(c), sizeof info);
        std::memcpy(datagram.local.address.bytes.data(), &info.ipi_addr, 4);
      } else if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_PKTINFO) {
        in6_pktinfo info;
        std::memcpy(&info, CMSG_DATA(c), sizeof info);
        std::memcpy(datagram.local.address.bytes.data(), &info.ipi6_addr, 16);
      }
    }
    datagram.data.assign(buffer, buffer + n);
    receiver_(std::move(datagram));
  }
}

std::error_code IkeSockets::Send(const Datagram& datagram) {
  int family = datagram.remote.address.family;
  Socket* socket = nullptr;
  for (auto& s : sockets_) {
    if (s->family == family && s->port == datagram.local.port) socket = s.get();
  }
  if (socket == nullptr) return std::make_error_code(std::errc::address_family_not_supported);

  sockaddr_storage to{};
  socklen_t to_len;
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(in6_pktinfo))] = {};
  msghdr msg{};
  iovec iov{const_cast<std::uint8_t*>(datagram.data.data()), datagram.data.size()};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  cmsghdr* c = reinterpret_cast<cmsghdr*>(control);
  if (family == AF_INET) {
    auto& sin = reinterpret_cast<sockaddr_in&>(to);
    sin.sin_family = AF_INET;
    sin.sin_port = htons(datagram.remote.port);
    std::memcpy(&sin.sin_addr, datagram.remote.address.bytes.data(), 4);
    to_len = sizeof sin;
    in_pktinfo info{};
    std::memcpy(&info.ipi_spec_dst, datagram.local.address.bytes.data(), 4);
    c->cmsg_level = IPPROTO_IP;
    c->cmsg_type = IP_PKTINFO;
    c->cmsg_len = CMSG_LEN(sizeof info);
    std::memcpy(CMSG_DATA(c), &info, sizeof info);
    msg.msg_controllen = CMSG_SPACE(sizeof info);
  } else {
    auto& sin6 = reinterpret_cast<sockaddr_in6&>(to);
    sin6.sin6_family = AF_INET6;
    sin6.sin6_port = htons(datagram.remote.port);
    std::memcpy(&sin6.sin6_addr, datagram.remote.address.bytes.data(), 16);
    to_len = sizeof sin6;
    in6_pktinfo info{};
    std::memcpy(&info.ipi6_addr, datagram.local.address.bytes.data(), 16);
    c->cmsg_level = IPPROTO_IPV6;
    c->cmsg_type = IPV6_PKTINFO;
    c->cmsg_len = CMSG_LEN(sizeof info);
    std::memcpy(CMSG_DATA(c), &info, sizeof info);
    msg.msg_controllen = CMSG_SPACE(sizeof info);
  }
  msg.msg_name = &to;
  msg.msg_namelen = to_len;
  if (::sendmsg(socket->stream.native_handle(), &msg, MSG_DONTWAIT) < 0) return Errno();
  return {};
}

}  // namespace minivpn::daemon
