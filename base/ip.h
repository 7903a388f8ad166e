// IP addresses and subnets: the one definition every layer uses (config, engine, xfrm, vti).
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace minivpn::base {

// An IPv4 or IPv6 address in network byte order; family 0 = unset (charon's %any).
struct IpAddress {
  std::uint8_t family = 0;  // AF_INET or AF_INET6; 0 = unset
  std::array<std::uint8_t, 16> bytes{};

  static IpAddress V4(std::uint32_t host_order);
  // "192.0.2.1", "2001:db8::1"; nothing else (no prefix, no brackets, no port).
  static std::optional<IpAddress> Parse(std::string_view text);
  std::string ToString() const;  // "%any" (charon's spelling) for family 0
  bool is_v4() const;
  bool is_set() const { return family != 0; }
  unsigned max_prefix() const { return is_v4() ? 32 : 128; }
  bool operator==(const IpAddress&) const = default;
  auto operator<=>(const IpAddress&) const = default;
};

// A prefix; host bits are kept as given (an interface address such as 169.254.12.1/30).
struct Subnet {
  IpAddress address;
  std::uint8_t prefix = 0;

  // "10.0.0.0/24", "0.0.0.0/0"; a bare address is a host route (/32, /128).
  static std::optional<Subnet> Parse(std::string_view text);
  static Subnet Host(const IpAddress& address);
  std::string ToString() const;  // "10.0.0.0/24"
  Subnet Network() const;        // the same prefix with the host bits cleared
  bool operator==(const Subnet&) const = default;
  auto operator<=>(const Subnet&) const = default;
};

}  // namespace minivpn::base
