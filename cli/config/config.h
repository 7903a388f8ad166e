// Entry points of the configuration library: load swanctl.conf, or the legacy ipsec.conf +
// ipsec.secrets, plus strongswan.conf, into one validated Config (model.h), collecting every
// diagnostic. `minivpnd --check-config` prints CheckConfig()'s list and exits non-zero when it
// holds an error. See docs/config.md for every accepted key.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "cli/config/diagnostic.h"
#include "cli/config/model.h"

namespace minivpn::config {

struct ConfigPaths {
  std::string swanctl_conf{};     // connections { } secrets { } (swanctl.conf syntax)
  std::string ipsec_conf{};       // legacy conn sections
  std::string ipsec_secrets{};    // legacy secrets (used with ipsec_conf)
  std::string strongswan_conf{};  // charon { } global settings; optional
};

struct LoadOptions {
  // Which ipsec.conf side is this host. Unset: the host's interface addresses (getifaddrs).
  std::function<bool(const IpAddress&)> is_local_address{};
};

struct LoadResult {
  Config config{};
  std::vector<Diagnostic> diagnostics{};
  bool ok() const;  // no error (warnings and notes allowed)
};

LoadResult LoadConfig(const ConfigPaths& paths, const LoadOptions& options = {});

// Everything LoadConfig reports, without keeping the model (and its secrets).
std::vector<Diagnostic> CheckConfig(const ConfigPaths& paths, const LoadOptions& options = {});

// True if `address` is assigned to one of this host's interfaces.
bool IsLocalAddress(const IpAddress& address);

}  // namespace minivpn::config
