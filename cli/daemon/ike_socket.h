// The IKE sockets: UDP 500 and 4500 on IPv4 and IPv6 (RFC 7296 2.11, RFC 3948).
//
// - 4500 is a UDP encapsulation socket (UDP_ENCAP_ESPINUDP): the kernel takes ESP-in-UDP
//   packets off it and hands IKE packets (with their 4-octet non-ESP marker) up to us. The
//   engine adds and strips the marker; this layer moves bytes only.
// - Each socket carries per-socket bypass policies (IN and OUT), so IKE itself is never
//   caught by the 0.0.0.0/0 policies of a route-based tunnel.
// - IP_PKTINFO / IPV6_RECVPKTINFO tell us which local address a datagram reached, and replies
//   leave from that address.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <system_error>
#include <vector>

#include "base/datagram.h"
#include "crypto/bytes.h"
#include "xfrm/kernel_ipsec.h"

namespace minivpn::daemon {

using base::Datagram;
using base::Endpoint;

class IkeSockets {
 public:
  using Receiver = std::function<void(Datagram)>;
  // Called on each bound socket: per-socket bypass policies, and UDP_ENCAP_ESPINUDP on the
  // NAT-T socket (xfrm::SetSocketBypass, xfrm::EnableUdpEncap).
  using SocketSetup = std::function<std::error_code(int fd, int family, bool natt)>;

  IkeSockets(boost::asio::io_context& io, Receiver receiver);
  ~IkeSockets();

  // Opens 500 and 4500 for IPv4 and (when the host has IPv6) IPv6. A failure names the socket
  // and the errno, e.g. "bind udp4 :500: Address already in use (is charon running?)".
  std::error_code Open(std::uint16_t port, std::uint16_t natt_port, const SocketSetup& setup,
                       std::string* error);
  // Sends from the socket bound to datagram.local.port, with datagram.local.address as source.
  std::error_code Send(const Datagram& datagram);

 private:
  struct Socket;
  void Arm(Socket& socket);
  void Drain(Socket& socket);

  boost::asio::io_context& io_;
  Receiver receiver_;
  std::vector<std::unique_ptr<Socket>> sockets_;
};

}  // namespace minivpn::daemon
