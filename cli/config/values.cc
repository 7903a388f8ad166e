#include "cli/config/values.h"

#include "base/if_id.h"

#include <arpa/inet.h>
#include <fmt/core.h>
#include <sys/socket.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstring>

namespace minivpn::config {
namespace {

bool IEquals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

int Base64Value(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}

// Hex into a SecretBytes without an intermediate unwiped buffer. Accepts ':' and ' ' separators.
std::optional<SecretBytes> DecodeHex(std::string_view hex) {
  std::size_t digits = 0;
  for (char c : hex) {
    if (c == ':' || c == ' ') continue;
    if (HexValue(c) < 0) return std::nullopt;
    ++digits;
  }
  if (digits == 0 || digits % 2 != 0) return std::nullopt;
  SecretBytes out(digits / 2);
  auto bytes = out.MutableReveal();
  std::size_t n = 0;
  int high = -1;
  for (char c : hex) {
    if (c == ':' || c == ' ') continue;
    if (high < 0) {
      high = HexValue(c);
    } else {
      bytes[n++] = static_cast<std::uint8_t>(high * 16 + HexValue(c));
      high = -1;
    }
  }
  return out;
}

std::optional<SecretBytes> DecodeBase64(std::string_view text) {
  std::size_t len = text.size();
  while (len > 0 && text[len - 1] == '=') --len;
  if (len == 0 || text.size() % 4 != 0 || text.size() - len > 2) return std::nullopt;
  for (std::size_t i = 0; i < len; ++i) {
    if (Base64Value(text[i]) < 0) return std::nullopt;
  }
  SecretBytes out(len * 3 / 4);
  auto bytes = out.MutableReveal();
  std::uint32_t acc = 0;
  int bits = 0;
  std::size_t n = 0;
  for (std::size_t i = 0; i < len; ++i) {
    acc = (acc << 6) | static_cast<std::uint32_t>(Base64Value(text[i]));
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      bytes[n++] = static_cast<std::uint8_t>((acc >> bits) & 0xff);
    }
  }
  acc = 0;
  return out;
}

}  // namespace

std::string_view Trim(std::string_view text) {
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front()))) {
    text.remove_prefix(1);
  }
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) {
    text.remove_suffix(1);
  }
  return text;
}

std::vector<std::string_view> SplitList(std::string_view text, char separator) {
  std::vector<std::string_view> out;
  if (Trim(text).empty()) return out;
  while (true) {
    std::size_t pos = text.find(separator);
    out.push_back(Trim(text.substr(0, pos)));
    if (pos == std::string_view::npos) break;
    text.remove_prefix(pos + 1);
  }
  return out;
}

std::optional<IpAddress> ParseAddress(std::string_view text) { return IpAddress::Parse(text); }

std::expected<Subnet, std::string> ParseSubnet(std::string_view text) {
  auto address = IpAddress::Parse(text.substr(0, text.find('/')));
  if (!address) {
    return std::unexpected(
        fmt::format("invalid subnet '{}' (expected <address>[/<prefix>])", text));
  }
  auto subnet = Subnet::Parse(text);
  if (!subnet) {
    return std::unexpected(fmt::format("invalid prefix length in '{}' (expected 0..{})", text,
                                       address->max_prefix()));
  }
  return subnet->Network();
}

std::expected<Selector, std::string> ParseTrafficSelector(std::string_view text) {
  Selector sel;
  const auto open = text.find('[');
  const auto net = Trim(text.substr(0, open));
  if (open != std::string_view::npos) {
    if (!text.ends_with(']'))
      return std::unexpected(fmt::format("selector '{}' lacks the closing ']'", text));
    const auto inner = text.substr(open + 1, text.size() - open - 2);
    if (auto why = base::ParseProtoPort(inner, sel))
      return std::unexpected(fmt::format("selector '{}': {}", text, *why));
  }
  if (net == "dynamic" || net == "%dynamic") return sel;
  if (net.find('-') != std::string_view::npos)
    return std::unexpected(fmt::format("address ranges ('{}') are not supported", net));
  auto subnet = ParseSubnet(net);
  if (!subnet) return std::unexpected(subnet.error());
  sel.net = *subnet;
  return sel;
}

std::expected<Subnet, std::string> ParseInterfaceAddress(std::string_view text) {
  const std::size_t slash = text.find('/');
  auto address = ParseAddress(text.substr(0, slash));
  if (!address || slash == std::string_view::npos) {
    return std::unexpected(
        fmt::format("invalid interface address '{}' (expected <address>/<prefix>)", text));
  }
  auto network = ParseSubnet(text);  // validates the prefix length
  if (!network) return std::unexpected(network.error());
  if (network->address == *address && network->prefix + 1u < address->max_prefix()) {
    return std::unexpected(fmt::format(
        "'{}' is the network address of its prefix, not an address on it", text));
  }
  return Subnet{*address, network->prefix};
}

std::expected<Host, std::string> ParseHost(std::string_view text) {
  Host h;
  if (text == "%any" || text == "%any4" || text == "%any6" || text == "%defaultroute") {
    h.kind = Host::Kind::kAny;
    h.any_family = text == "%any4" ? AF_INET : text == "%any6" ? AF_INET6 : 0;
    return h;
  }
  if (text.find('-') != std::string_view::npos && ParseAddress(text.substr(0, text.find('-')))) {
    return std::unexpected(fmt::format("address ranges ('{}') are not supported", text));
  }
  if (auto a = ParseAddress(text)) {
    h.kind = Host::Kind::kAddress;
    h.subnet = Subnet{*a, static_cast<std::uint8_t>(a->is_v4() ? 32 : 128)};
    return h;
  }
  if (text.find('/') != std::string_view::npos) {
    auto s = ParseSubnet(text);
    if (!s) return std::unexpected(s.error());
    h.kind = Host::Kind::kSubnet;
    h.subnet = *s;
    return h;
  }
  bool dns_ok = !text.empty() && text.size() <= 253 && text.front() != '.' && text.front() != '-';
  for (char c : text) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '.') dns_ok = false;
  }
  if (!dns_ok) {
    return std::unexpected(fmt::format(
        "invalid address '{}' (expected an IP address, a subnet, a DNS name or %any)", text));
  }
  h.kind = Host::Kind::kHostname;
  h.hostname = std::string(text);
  return h;
}

std::expected<Seconds, std::string> ParseDuration(std::string_view text, bool allow_fraction) {
  auto fail = [&] {
    return std::unexpected(fmt::format(
        "invalid time '{}' (expected a number with an optional s, m, h or d suffix)", text));
  };
  if (text.empty()) return fail();
  std::uint64_t unit = 1;
  std::string_view number = text;
  switch (text.back()) {
    case 's':
      unit = 1;
      number.remove_suffix(1);
      break;
    case 'm':
      unit = 60;
      number.remove_suffix(1);
      break;
    case 'h':
      unit = 3600;
      number.remove_suffix(1);
      break;
    case 'd':
      unit = 86400;
      number.remove_suffix(1);
      break;
    default:
      break;
  }
  if (number.empty()) return fail();
  std::size_t dot = number.find('.');
  if (dot != std::string_view::npos) {
    // ipsec.conf: "a decimal number followed by m, h or d"; swanctl: whole numbers only.
    if (!allow_fraction) return fail();
    double value = 0;
    auto [end, ec] = std::from_chars(number.data(), number.data() + number.size(), value);
    if (ec != std::errc() || end != number.data() + number.size() || value < 0) return fail();
    double seconds = std::round(value * static_cast<double>(unit));
    if (seconds > 1e12) return fail();
    return Seconds(static_cast<std::int64_t>(seconds));
  }
  std::uint64_t value = 0;
  auto [end, ec] = std::from_chars(number.data(), number.data() + number.size(), value);
  if (ec != std::errc() || end != number.data() + number.size()) return fail();
  if (value > 1'000'000'000'000ull / unit) return fail();
  return Seconds(static_cast<std::int64_t>(value * unit));
}

std::expected<bool, std::string> ParseBool(std::string_view text) {
  for (std::string_view yes : {"yes", "true", "enabled", "1"}) {
    if (IEquals(text, yes)) return true;
  }
  for (std::string_view no : {"no", "false", "disabled", "0"}) {
    if (IEquals(text, no)) return false;
  }
  return std::unexpected(fmt::format("invalid boolean '{}' (expected yes or no)", text));
}

std::expected<std::uint64_t, std::string> ParseUint(std::string_view text, std::uint64_t max) {
  std::string_view digits = text;
  int base = 10;
  if (digits.size() > 2 && digits[0] == '0' && (digits[1] == 'x' || digits[1] == 'X')) {
    digits.remove_prefix(2);
    base = 16;
  }
  std::uint64_t value = 0;
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value, base);
  if (digits.empty() || ec != std::errc() || end != digits.data() + digits.size() || value > max) {
    return std::unexpected(fmt::format("invalid number '{}' (expected 0..{})", text, max));
  }
  return value;
}

std::expected<std::uint32_t, std::string> ParseIfId(std::string_view text) {
  if (text == "%unique") return base::kIfIdUnique;
  if (text == "%unique-dir") return base::kIfIdUniqueDir;
  auto value = ParseUint(text, 0xffffffff);
  if (!value) return std::unexpected(value.error());
  return static_cast<std::uint32_t>(*value);
}

std::expected<std::uint64_t, std::string> ParseBytes(std::string_view text) {
  std::uint64_t unit = 1;
  std::string_view number = text;
  if (!number.empty()) {
    switch (std::tolower(static_cast<unsigned char>(number.back()))) {
      case 'g': unit = 1ull << 30; break;
      case 'm': unit = 1ull << 20; break;
      case 'k': unit = 1ull << 10; break;
      default: break;
    }
  }
  if (unit != 1) number = Trim(number.substr(0, number.size() - 1));
  auto n = ParseUint(number, UINT64_MAX / unit);
  if (!n) {
    return std::unexpected(fmt::format("invalid byte count '{}' (expected a number, optionally "
                                       "with k, m or g)",
                                       text));
  }
  return *n * unit;
}

std::expected<Mark, std::string> ParseMark(std::string_view text) {
  std::size_t slash = text.find('/');
  // charon: %unique gives every CHILD_SA a mark value of its own, %unique-dir one per direction
  // (Mark::kUnique, Mark::kUniqueDir; the engine gives the values).
  const std::string_view head = text.substr(0, slash);
  std::expected<std::uint64_t, std::string> value =
      head == "%unique" ? Mark::kUnique : head == "%unique-dir" ? Mark::kUniqueDir
                                                                : ParseUint(head, 0xffffffff);
  if (!value) {
    return std::unexpected(fmt::format("invalid mark '{}' (expected <value>[/<mask>])", text));
  }
  Mark m{static_cast<std::uint32_t>(*value), 0xffffffff};
  if (slash != std::string_view::npos) {
    auto mask = ParseUint(text.substr(slash + 1), 0xffffffff);
    if (!mask) {
      return std::unexpected(
          fmt::format("invalid mark mask in '{}' (expected 0..0xffffffff)", text));
    }
    m.mask = static_cast<std::uint32_t>(*mask);
  }
  if (!m.is_unique() && (m.value & ~m.mask) != 0) {
    return std::unexpected(fmt::format("mark '{}' has value bits outside its mask", text));
  }
  if (m.value == 0 && m.mask == 0xffffffff && slash == std::string_view::npos) m.mask = 0;
  return m;
}

std::expected<Identity, std::string> ParseIdentity(std::string_view text) {
  Identity id;
  if (text.empty() || text == "%any" || text == "%any6") return id;
  auto typed = [&](std::string_view prefix) {
    if (text.size() > prefix.size() && text.substr(0, prefix.size()) == prefix) {
      text.remove_prefix(prefix.size());
      return true;
    }
    return false;
  };
  auto ip = [&](std::string_view t) -> std::optional<Identity> {
    auto a = ParseAddress(t);
    if (!a) return std::nullopt;
    std::size_t n = a->is_v4() ? 4 : 16;
    return Identity{a->is_v4() ? IdType::kIpv4Addr : IdType::kIpv6Addr,
                    std::string(reinterpret_cast<const char*>(a->bytes.data()), n)};
  };
  if (typed("ipv4:") || typed("ipv6:")) {
    if (auto r = ip(text)) return *r;
    return std::unexpected(fmt::format("invalid IP address identity '{}'", text));
  }
  if (typed("fqdn:") || typed("dns:")) return Identity{IdType::kFqdn, std::string(text)};
  if (typed("email:") || typed("rfc822:") || typed("userfqdn:")) {
    return Identity{IdType::kRfc822Addr, std::string(text)};
  }
  if (typed("keyid:#") || typed("@#")) {
    auto raw = DecodeHex(text);
    if (!raw) return std::unexpected(fmt::format("invalid hex key id '{}'", text));
    ByteView b = raw->Reveal();
    return Identity{IdType::kKeyId, std::string(b.begin(), b.end())};
  }
  if (typed("keyid:")) return Identity{IdType::kKeyId, std::string(text)};
  if (text.find('=') != std::string_view::npos) {
    return std::unexpected(fmt::format(
        "distinguished-name identity '{}' is not supported (PSK tunnels use FQDN, email or IP "
        "identities)",
        text));
  }
  if (text.front() == '@') return Identity{IdType::kFqdn, std::string(text.substr(1))};
  if (text.find('@') != std::string_view::npos) {
    return Identity{IdType::kRfc822Addr, std::string(text)};
  }
  if (auto r = ip(text)) return *r;
  return Identity{IdType::kFqdn, std::string(text)};
}

std::expected<SecretBytes, std::string> DecodeSecret(std::string_view text) {
  if (text.size() >= 2 && text[0] == '0' && (text[1] == 'x' || text[1] == 'X')) {
    auto s = DecodeHex(text.substr(2));
    if (!s) return std::unexpected(std::string("invalid hex secret (after 0x)"));
    return std::move(*s);
  }
  if (text.size() >= 2 && text[0] == '0' && text[1] == 's') {
    auto s = DecodeBase64(text.substr(2));
    if (!s) return std::unexpected(std::string("invalid base64 secret (after 0s)"));
    return std::move(*s);
  }
  if (text.empty()) return std::unexpected(std::string("empty secret"));
  return SecretBytes::FromString(text);
}

}  // namespace minivpn::config
