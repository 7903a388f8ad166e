#include "base/selector.h"

#include <array>
#include <charconv>
#include <utility>

namespace minivpn::base {
namespace {

// The protocols a site-to-site selector names, with the names charon prints (/etc/protocols).
constexpr std::array<std::pair<std::uint8_t, std::string_view>, 9> kProtocols{{
    {1, "icmp"}, {4, "ipencap"}, {6, "tcp"}, {17, "udp"}, {41, "ipv6"},
    {47, "gre"}, {50, "esp"}, {58, "ipv6-icmp"}, {132, "sctp"},
}};

template <typename T>
std::optional<T> Number(std::string_view text) {
  T v{};
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (text.empty() || ec != std::errc{} || end != text.data() + text.size()) return std::nullopt;
  return v;
}

}  // namespace

std::optional<std::uint8_t> ParseIpProtocol(std::string_view text) {
  if (text == "%any" || text.empty()) return 0;
  for (const auto& [number, name] : kProtocols)
    if (text == name) return number;
  if (text == "icmpv6") return 58;
  return Number<std::uint8_t>(text);
}

std::string IpProtocolName(std::uint8_t proto) {
  for (const auto& [number, name] : kProtocols)
    if (proto == number) return std::string(name);
  return std::to_string(proto);
}

std::optional<std::string> ParseProtoPort(std::string_view text, Selector& sel) {
  const auto slash = text.find('/');
  const auto proto_text = text.substr(0, slash);
  const auto proto = ParseIpProtocol(proto_text);
  if (!proto) return "unknown protocol '" + std::string(proto_text) + "'";
  sel.proto = *proto;
  sel.from_port = 0;
  sel.to_port = 0xffff;
  if (slash == std::string_view::npos) return std::nullopt;
  const auto port = text.substr(slash + 1);
  if (port == "%any" || port.empty()) return std::nullopt;
  if (port == "%opaque") return std::string("%opaque ports are not supported");
  if (sel.proto == 1 || sel.proto == 58)
    return std::string("ICMP type/code selectors are not supported");
  const auto dash = port.find('-');
  const auto from = Number<std::uint16_t>(port.substr(0, dash));
  const auto to = dash == std::string_view::npos ? from : Number<std::uint16_t>(port.substr(dash + 1));
  if (!from || !to)
    return "port '" + std::string(port) + "' is not a number or a range (service names are not read)";
  if (*from > *to) return "port range '" + std::string(port) + "' is empty";
  sel.from_port = *from;
  sel.to_port = *to;
  return std::nullopt;
}

std::string Selector::ProtoPortString() const {
  if (any_proto_port()) return "";
  std::string s = "[";
  if (proto != 0) s += IpProtocolName(proto);
  if (!any_port()) {
    s += "/" + std::to_string(from_port);
    if (to_port != from_port) s += "-" + std::to_string(to_port);
  }
  return s + "]";
}

std::string Selector::ToString() const {
  return (net.address.is_set() ? net.ToString() : std::string("dynamic")) + ProtoPortString();
}

bool SelectorsPair(const Selector& local, const Selector& remote) {
  if (local.net.address.family != remote.net.address.family) return false;
  return local.proto == 0 || remote.proto == 0 || local.proto == remote.proto;
}

std::string JoinSelectors(const std::vector<Selector>& list, std::string_view separator) {
  std::string out;
  for (const auto& sel : list) {
    if (!out.empty()) out += separator;
    out += sel.ToString();
  }
  return out;
}

}  // namespace minivpn::base
