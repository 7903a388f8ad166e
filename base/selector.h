// A traffic selector as charon's configs and its kernel policies know it (RFC 7296 3.13.1, with
// the address range a prefix): a subnet, an IP protocol and a port range. swanctl's
// "10.0.0.0/24[tcp/80]", ipsec.conf's leftsubnet + leftprotoport.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/ip.h"

namespace minivpn::base {

struct Selector {
  Subnet net;                     // address family 0 in a config = "dynamic" (the IKE address)
  std::uint8_t proto = 0;         // 0 = any protocol
  std::uint16_t from_port = 0;    // [from_port, to_port]; 0-65535 = any port
  std::uint16_t to_port = 0xffff;

  static Selector Of(const Subnet& net) { return Selector{net}; }
  bool any_port() const { return from_port == 0 && to_port == 0xffff; }
  bool any_proto_port() const { return proto == 0 && any_port(); }
  // charon's spelling: "10.0.0.0/24", "10.0.0.0/24[gre]", "10.0.0.0/24[tcp/80]",
  // "10.0.0.0/24[udp/1000-2000]", "10.0.0.0/24[/80]" (any protocol, one port).
  std::string ToString() const;
  // The "[proto/port]" part only ("" when any).
  std::string ProtoPortString() const;
  bool operator==(const Selector&) const = default;
  auto operator<=>(const Selector&) const = default;
};

// Whether a local and a remote selector make a policy pair (charon's policy enumerator): one
// address family, and not two different protocols.
bool SelectorsPair(const Selector& local, const Selector& remote);

// "10.1.0.0/16 fd01::/64" (charon's log spelling of a selector list), with `separator`.
std::string JoinSelectors(const std::vector<Selector>& list, std::string_view separator = " ");

// "tcp", "udp", "gre", "icmp", ... (the names charon prints) or a number 0-255; %any = 0.
std::optional<std::uint8_t> ParseIpProtocol(std::string_view text);
std::string IpProtocolName(std::uint8_t proto);

// The protocol/port part of a selector, "proto", "proto/port", "proto/from-to", "proto/%any",
// "/port" (ipsec.conf's leftprotoport, or what swanctl writes between brackets): sets proto and
// the port range of `sel`, or returns why it cannot.
std::optional<std::string> ParseProtoPort(std::string_view text, Selector& sel);

}  // namespace minivpn::base
