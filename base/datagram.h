// One UDP datagram between two endpoints: what the sockets receive and what the engine sends.
// One type from the socket edge (cli/daemon/ike_socket) through the engine (ike/), so a
// datagram is moved, never converted or copied, on its way.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "base/ip.h"

namespace minivpn::base {

struct Endpoint {
  IpAddress address{};
  std::uint16_t port = 0;
  bool operator==(const Endpoint&) const = default;
  auto operator<=>(const Endpoint&) const = default;
  std::string ToString() const;  // "192.0.2.1[500]", as charon prints it
};

// `data` is the UDP payload as on the wire: on the NAT-T port it starts with the 4-octet
// non-ESP marker (RFC 3948 2.2); the engine strips and adds it.
struct Datagram {
  Endpoint local{};
  Endpoint remote{};
  std::vector<std::uint8_t> data{};
  bool operator==(const Datagram&) const = default;
};

}  // namespace minivpn::base
