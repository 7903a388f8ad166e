// Parsers for the value types of swanctl.conf / ipsec.conf / ipsec.secrets. Each returns the
// parsed value or a sentence saying what was expected (without the secret, for secrets).
#pragma once

#include <cstdint>
#include <expected>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cli/config/model.h"

namespace minivpn::config {

std::optional<IpAddress> ParseAddress(std::string_view text);
// "10.0.0.0/8", "2001:db8::/32", or a bare address (= /32, /128). Host bits are cleared.
std::expected<Subnet, std::string> ParseSubnet(std::string_view text);
// A traffic selector: a subnet or "dynamic"/"%dynamic" (an unset address: the IKE address),
// optionally followed by "[proto/port]" (swanctl.conf's local_ts, ipsec.conf's leftsubnet):
// "10.0.0.0/24", "dynamic[gre]", "10.1.0.0/16[tcp/80]", "0.0.0.0/0[udp/1000-2000]".
std::expected<Selector, std::string> ParseTrafficSelector(std::string_view text);
// An interface address with its on-link prefix, host bits kept: "169.254.12.1/30".
std::expected<Subnet, std::string> ParseInterfaceAddress(std::string_view text);
// %any, %any4, %any6, an address, a CIDR subnet or a DNS name.
std::expected<Host, std::string> ParseHost(std::string_view text);
// "3600", "60s", "10m", "4h", "1d"; ipsec.conf also allows decimals with m/h/d ("1.5h").
std::expected<Seconds, std::string> ParseDuration(std::string_view text, bool allow_fraction);
// yes/no, true/false, enabled/disabled, 1/0 (as charon's settings parser).
std::expected<bool, std::string> ParseBool(std::string_view text);
// Decimal or 0x hex, at most `max`.
std::expected<std::uint64_t, std::string> ParseUint(std::string_view text, std::uint64_t max);
// charon's if_id_in/if_id_out: an XFRM interface id, decimal or 0x hex (0 = none), or %unique /
// %unique-dir (base::kIfIdUnique, kIfIdUniqueDir; the engine gives the values).
std::expected<std::uint32_t, std::string> ParseIfId(std::string_view text);
// A byte count as charon's vici parse_bytes: a number (decimal or 0x hex) with an optional k, m
// or g (KiB, MiB, GiB), spaces allowed before it: "1000", "512k", "1 G".
std::expected<std::uint64_t, std::string> ParseBytes(std::string_view text);
// "<value>[/<mask>]", decimal or hex; the mask defaults to 0xffffffff.
std::expected<Mark, std::string> ParseMark(std::string_view text);
// charon's identity syntax: IP address, FQDN ("routerA", "@host"), user@host, "@#<hex>" key
// id, typed prefixes (fqdn:, email:, ipv4:, ipv6:, keyid:), %any.
std::expected<Identity, std::string> ParseIdentity(std::string_view text);
// A secret value: "0x<hex>", "0s<base64>", or the text itself.
std::expected<SecretBytes, std::string> DecodeSecret(std::string_view text);
// Comma-separated list, each element trimmed; empty elements are kept (and rejected by callers).
std::vector<std::string_view> SplitList(std::string_view text, char separator = ',');
std::string_view Trim(std::string_view text);

}  // namespace minivpn::config
