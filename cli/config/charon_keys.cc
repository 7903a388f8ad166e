#include "cli/config/charon_keys.h"

#include <fmt/core.h>

#include <algorithm>
#include <string>

#include "cli/config/values.h"

namespace minivpn::config {
namespace {

using enum KeyStatus;

// Shared reasons (the same feature under the names of both formats).
constexpr std::string_view kIkev1Aggressive =
    "aggressive mode is IKEv1's; charon ignores it for IKEv2 too";
constexpr std::string_view kIkev1ModeConfig =
    "Mode Config push and pull are IKEv1's; charon ignores it for IKEv2 too";
constexpr std::string_view kNoCertWithPsk =
    "charon sends no certificate with PSK authentication either";
constexpr std::string_view kDscp = "minivpn sends its IKE packets with DSCP 0";
constexpr std::string_view kMediation =
    "IKEv2 mediation (charon's ME extension) is not implemented";
constexpr std::string_view kVirtualIp = "virtual IP addresses (Mode Config) are not implemented";
constexpr std::string_view kCerts = "minivpn authenticates with pre-shared keys only";
constexpr std::string_view kPubkeys = kCerts;
constexpr std::string_view kGroups =
    "group membership needs certificates or EAP; minivpn authenticates with pre-shared keys only";
constexpr std::string_view kCertPolicy =
    "certificate policies need certificates; minivpn authenticates with pre-shared keys only";
constexpr std::string_view kFirewall = "minivpn sets no firewall rules (its updown script may)";
constexpr std::string_view kAh = "AH is not implemented (ESP only)";
constexpr std::string_view kTfc = "TFC padding is not implemented";
constexpr std::string_view kIpcomp = "IPComp is not implemented";
constexpr std::string_view kSha256_96 =
    "minivpn truncates HMAC-SHA-256 to 128 bits, as RFC 4868 says";
constexpr std::string_view kEapOnly =
    "it only applies to EAP authentication; charon ignores it with PSK too";
constexpr std::string_view kXauthOnly = "XAuth is IKEv1's; charon ignores it for IKEv2 too";
constexpr std::string_view kPpk = "post-quantum preshared keys (RFC 8784) are not implemented";

// swanctl.opt of 5.9.8, connections.<conn>.
constexpr CharonKey kSwanctlConnection[] = {
    {"vips", kUnsupported, kVirtualIp},
    {"pools", kUnsupported, "virtual IP address pools are not implemented"},
    {"aggressive", kIgnored, kIkev1Aggressive, "no", "%bool"},
    {"pull", kIgnored, kIkev1ModeConfig, "yes", "%bool"},
    {"dscp", kIgnored, kDscp, "000000|0"},
    {"childless", kIgnored,
     "minivpn always creates a CHILD_SA with IKE_AUTH (childless IKE SAs, RFC 6023, are not "
     "implemented)",
     "allow", "allow|never|force"},
    {"send_cert", kIgnored, kNoCertWithPsk, "ifasked|never", "ifasked|always|never"},
    {"ppk_id", kUnsupported, kPpk},
    {"ppk_required", kUnsupported, kPpk, "no", "%bool"},
    {"mediation", kUnsupported, kMediation, "no", "%bool"},
    {"mediated_by", kUnsupported, kMediation},
    {"mediation_peer", kUnsupported, kMediation},
};

// connections.<conn>.local<suffix> / remote<suffix>.
constexpr CharonKey kSwanctlAuth[] = {
    {"round", kIgnored, "minivpn has one authentication round per side", "0"},
    {"certs", kUnsupported, kCerts},
    {"cert", kUnsupported, kCerts},
    {"pubkeys", kUnsupported, kPubkeys},
    {"cacerts", kUnsupported, kCerts},
    {"ca_id", kUnsupported, kCerts},
    {"groups", kUnsupported, kGroups},
    {"cert_policy", kUnsupported, kCertPolicy},
    {"revocation", kUnsupported,
     "revocation checks need certificates; minivpn authenticates with pre-shared keys only",
     "relaxed"},
    {"eap_id", kIgnored, kEapOnly},
    {"aaa_id", kIgnored, kEapOnly},
    {"xauth_id", kIgnored, kXauthOnly},
};

// connections.<conn>.children.<child>. (hw_offload has three outcomes: swanctl.cc.)
constexpr CharonKey kSwanctlChild[] = {
    {"ah_proposals", kUnsupported, kAh},
    {"hostaccess", kIgnored, kFirewall, "no", "%bool"},
    // Other values change the kernel state charon leaves: not something to ignore.
    {"policies_fwd_out", kUnsupported, "minivpn installs no outbound FWD policies", "no",
     "%bool"},
    {"priority", kUnsupported, "minivpn gives policies charon's automatic priorities", "0"},
    {"interface", kUnsupported, "minivpn does not bind policies to an interface"},
    {"set_mark_in", kUnsupported, "minivpn does not set marks on packets", "0|0/0|0/0x00000000"},
    {"set_mark_out", kUnsupported, "minivpn does not set marks on packets", "0|0/0|0/0x00000000"},
    {"label", kUnsupported, "minivpn does not negotiate security labels"},
    {"label_mode", kUnsupported, "minivpn does not negotiate security labels", "system"},
    {"per_cpu_sas", kUnsupported, "minivpn installs no per-CPU SAs (a key of charon 6)"},
    {"tfc_padding", kUnsupported, kTfc, "0"},
    {"ipcomp", kUnsupported, kIpcomp, "no", "%bool"},
    {"sha256_96", kUnsupported, kSha256_96, "no", "%bool"},
    // The kernel's defaults, which minivpn leaves as they are: DF and ECN copied, DSCP copied
    // when encapsulating only. charon sets SA flags for other values (kernel state).
    {"copy_df", kUnsupported, "minivpn leaves the kernel's default (the DF bit is copied)", "yes",
     "%bool"},
    {"copy_ecn", kUnsupported, "minivpn leaves the kernel's default (ECN is copied)", "yes",
     "%bool"},
    {"copy_dscp", kUnsupported,
     "minivpn leaves the kernel's default (DSCP is copied outbound only)", "out",
     "out|in|yes|no"},
};

// keywords.txt of 5.9.8, conn sections (and pluto's auth=, which 5.9.8 no longer knows).
constexpr CharonKey kIpsecConn[] = {
    {"aggressive", kIgnored, kIkev1Aggressive, "no", "%bool"},
    {"pfs", kIgnored,
     "charon ignores it too (deprecated); PFS follows the key exchange groups in esp=", "yes"},
    {"pfsgroup", kIgnored,
     "charon ignores it too (deprecated); put the group into esp= (esp=aes256gcm16-modp3072)"},
    {"eap", kIgnored, "charon ignores it too (deprecated); minivpn does not do EAP"},
    {"eap_identity", kIgnored, kEapOnly},
    {"aaa_identity", kIgnored, kEapOnly},
    {"xauth", kIgnored, kXauthOnly, "client", "client|server"},
    {"xauth_identity", kIgnored, kXauthOnly},
    {"modeconfig", kIgnored, kIkev1ModeConfig, "pull", "push|pull"},
    {"ikedscp", kIgnored, kDscp, "000000|0"},
    {"mediation", kUnsupported, kMediation, "no", "%bool"},
    {"mediated_by", kUnsupported, kMediation},
    {"me_peerid", kUnsupported, kMediation},
    {"tfc", kUnsupported, kTfc, "0"},
    {"sha256_96", kUnsupported, kSha256_96, "no", "%bool"},
    {"compress", kUnsupported, kIpcomp, "no", "%bool"},
    {"ah", kUnsupported, kAh},
    {"auth", kUnsupported, "it is pluto's (esp or ah), charon 5.9.8 does not know it; minivpn is "
                           "ESP only"},
};

// left<key> / right<key>.
constexpr CharonKey kIpsecSide[] = {
    {"sendcert", kIgnored, kNoCertWithPsk, "ifasked|never|no", "always|ifasked|never|yes|no"},
    {"nexthop", kIgnored, "charon ignores it too (deprecated); the kernel's routes decide"},
    {"firewall", kIgnored, kFirewall, "no", "%bool"},
    {"hostaccess", kIgnored, kFirewall, "no", "%bool"},
    {"cert", kUnsupported, kCerts},
    {"cert2", kUnsupported, kCerts},
    {"ca", kUnsupported, kCerts},
    {"ca2", kUnsupported, kCerts},
    {"certpolicy", kUnsupported, kCertPolicy},
    {"rsasigkey", kUnsupported, kPubkeys},
    {"sigkey", kUnsupported, kPubkeys},
    {"groups", kUnsupported, kGroups},
    {"groups2", kUnsupported, kGroups},
    {"sourceip", kUnsupported, kVirtualIp},
    {"dns", kUnsupported, "Mode Config DNS servers are not implemented"},
    {"auth2", kUnsupported, "minivpn has one authentication round per side"},
    {"id2", kUnsupported, "minivpn has one authentication round per side"},
};

bool Listed(std::string_view list, std::string_view value) {
  for (auto item : SplitList(list, '|')) {
    if (item == value) return true;
  }
  return false;
}

// "a, b or c"
std::string Alternatives(std::string_view list) {
  auto items = SplitList(list, '|');
  std::string out;
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (i > 0) out += i + 1 == items.size() ? " or " : ", ";
    out += items[i];
  }
  return out;
}

}  // namespace

std::span<const CharonKey> SwanctlConnectionKeys() { return kSwanctlConnection; }
std::span<const CharonKey> SwanctlAuthKeys() { return kSwanctlAuth; }
std::span<const CharonKey> SwanctlChildKeys() { return kSwanctlChild; }
std::span<const CharonKey> IpsecConnKeys() { return kIpsecConn; }
std::span<const CharonKey> IpsecSideKeys() { return kIpsecSide; }

const CharonKey* FindCharonKey(std::span<const CharonKey> table, std::string_view key) {
  auto it = std::find_if(table.begin(), table.end(),
                         [key](const CharonKey& entry) { return entry.key == key; });
  return it == table.end() ? nullptr : &*it;
}

void ReportCharonKey(const CharonKey& entry, std::string_view key, std::string_view value,
                     std::string_view assign, const Location& where, Diagnostics& d) {
  bool silent = false;
  if (entry.values == "%bool") {
    auto b = ParseBool(value);
    if (!b) {
      d.Error(where, fmt::format("'{}': {}", key, b.error()));
      return;
    }
    for (auto s : SplitList(entry.silent, '|')) silent = silent || *ParseBool(s) == *b;
  } else if (!entry.values.empty() && !Listed(entry.values, value)) {
    d.Error(where, fmt::format("invalid value '{}' for '{}' (expected {})", value, key,
                               Alternatives(entry.values)));
    return;
  } else {
    silent = Listed(entry.silent, value);
  }
  if (silent) return;
  // Where some values are fine, the message names the one that is not.
  const std::string shown =
      entry.silent.empty() ? std::string(key) : fmt::format("{}{}{}", key, assign, value);
  if (entry.status == kIgnored) {
    d.Warning(where, fmt::format("'{}' is accepted and ignored by minivpn: {}", shown, entry.why));
  } else {
    d.Error(where, fmt::format("'{}' is not supported by minivpn: {}", shown, entry.why));
  }
}

}  // namespace minivpn::config
