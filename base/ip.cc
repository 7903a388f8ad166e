#include "base/ip.h"

#include <arpa/inet.h>
#include <sys/socket.h>

#include <charconv>
#include <cstring>

namespace minivpn::base {

IpAddress IpAddress::V4(std::uint32_t host_order) {
  IpAddress a;
  a.family = AF_INET;
  a.bytes[0] = static_cast<std::uint8_t>(host_order >> 24);
  a.bytes[1] = static_cast<std::uint8_t>(host_order >> 16);
  a.bytes[2] = static_cast<std::uint8_t>(host_order >> 8);
  a.bytes[3] = static_cast<std::uint8_t>(host_order);
  return a;
}

std::optional<IpAddress> IpAddress::Parse(std::string_view text) {
  if (text.empty() || text.size() >= INET6_ADDRSTRLEN) return std::nullopt;
  char buf[INET6_ADDRSTRLEN] = {};
  std::memcpy(buf, text.data(), text.size());
  IpAddress a;
  if (inet_pton(AF_INET, buf, a.bytes.data()) == 1) {
    a.family = AF_INET;
    return a;
  }
  if (inet_pton(AF_INET6, buf, a.bytes.data()) == 1) {
    a.family = AF_INET6;
    return a;
  }
  return std::nullopt;
}

std::string IpAddress::ToString() const {
  if (family != AF_INET && family != AF_INET6) return "%any";
  char buf[INET6_ADDRSTRLEN] = {};
  inet_ntop(family, bytes.data(), buf, sizeof(buf));
  return buf;
}

bool IpAddress::is_v4() const { return family == AF_INET; }

std::optional<Subnet> Subnet::Parse(std::string_view text) {
  const auto slash = text.find('/');
  auto address = IpAddress::Parse(text.substr(0, slash));
  if (!address) return std::nullopt;
  const unsigned max_prefix = address->max_prefix();
  unsigned prefix = max_prefix;
  if (slash != std::string_view::npos) {
    const auto digits = text.substr(slash + 1);
    const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), prefix);
    if (digits.empty() || ec != std::errc{} || end != digits.data() + digits.size() ||
        prefix > max_prefix) {
      return std::nullopt;
    }
  }
  return Subnet{*address, static_cast<std::uint8_t>(prefix)};
}

Subnet Subnet::Host(const IpAddress& address) {
  return {address, static_cast<std::uint8_t>(address.max_prefix())};
}

std::string Subnet::ToString() const { return address.ToString() + "/" + std::to_string(prefix); }

Subnet Subnet::Network() const {
  Subnet network = *this;
  for (unsigned bit = prefix; bit < address.max_prefix(); ++bit) {
    network.address.bytes[bit / 8] &= static_cast<std::uint8_t>(~(0x80u >> (bit % 8)));
  }
  return network;
}

}  // namespace minivpn::base
