// Plain POSIX UDP sockets for the load generator and the stand-in responder: one non-blocking
// socket per (address, port), IPv4 only, polled by the caller. Like the daemon's IkeSockets
// (cli/daemon/ike_socket.h) this layer moves bytes only; the engine adds and strips the
// non-ESP marker on the NAT-T port.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "ike/engine/engine.h"

namespace minivpn::bench {

class UdpSocket {
 public:
  // Binds address:port (address must be IPv4). nullopt + *error on failure.
  static std::optional<UdpSocket> Bind(const xfrm::IpAddress& address, std::uint16_t port,
                                       std::string* error);
  UdpSocket(UdpSocket&& other) noexcept;
  UdpSocket& operator=(UdpSocket&& other) noexcept;
  ~UdpSocket();
  UdpSocket(const UdpSocket&) = delete;
  UdpSocket& operator=(const UdpSocket&) = delete;

  int fd() const { return fd_; }
  const ike::Endpoint& local() const { return local_; }
  // Reads what is queued (at most `max`) into `out`, as the engine expects them.
  void Drain(std::vector<ike::Datagram>& out, std::size_t max);
  // Sends datagram.data to datagram.remote. False on failure (counted by the caller).
  bool Send(const ike::Datagram& datagram);

 private:
  UdpSocket(int fd, ike::Endpoint local) : fd_(fd), local_(local) {}
  int fd_ = -1;
  ike::Endpoint local_;
};

// Waits until one of the sockets is readable or `timeout_ms` passed (poll(2)).
void WaitReadable(const std::vector<UdpSocket*>& sockets, int timeout_ms);

// One turn of a bench's event loop: waits at most `max_wait_ms` (less if the engine's next
// deadline is sooner) for the IKE and NAT-T sockets, hands what arrived to the engine, and runs
// its timers when due. Returns the datagrams received; `scratch` is reused between turns.
std::size_t ReceiveForEngine(ike::Engine& engine, UdpSocket& ike, UdpSocket& natt,
                             int max_wait_ms, std::vector<ike::Datagram>& scratch);

}  // namespace minivpn::bench
