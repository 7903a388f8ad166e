// Entry points of the configuration library: load swanctl.conf, or the legacy ipsec.conf +
// ipsec.secrets, plus strongswan.conf, into one validated Config (model.h), collecting every
// diagnostic. `minivpnd --check-config` prints CheckConfig()'s list and exits non-zero when it
// holds an error. See docs/config.md for every accepted key.
#pragma once

#include <expected>
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
  // swanctl.conf text loaded after the files, as if read from a file of that name: what vici
  // clients loaded into minivpnd (load-conn, load-shared), "connections { } secrets { }". With
  // it, no configuration file is needed (a daemon configured over vici only).
  std::string extra_swanctl{};
  std::string extra_swanctl_name = "vici";
};

struct LoadResult {
  Config config{};
  std::vector<Diagnostic> diagnostics{};
  bool ok() const;  // no error (warnings and notes allowed)
};

LoadResult LoadConfig(const ConfigPaths& paths, const LoadOptions& options = {});

// Everything LoadConfig reports, without keeping the model (and its secrets).
std::vector<Diagnostic> CheckConfig(const ConfigPaths& paths, const LoadOptions& options = {});

// Where charon keeps its files (Debian): the defaults when minivpnd is given none.
struct DefaultLocations {
  std::string swanctl_conf = "/etc/swanctl/swanctl.conf";
  std::string ipsec_conf = "/etc/ipsec.conf";
  std::string ipsec_secrets = "/etc/ipsec.secrets";
  std::string strongswan_conf = "/etc/strongswan.conf";
};

// The files to load when the command line names none (issue 19): of swanctl.conf and
// ipsec.conf, the one that defines connections (Debian installs both as templates with every
// connection commented out). Both defining connections is an error naming both. Neither
// (templates, or files whose errors keep any connection from being read): swanctl.conf if it
// exists, else ipsec.conf (then "no connections are defined" names that file). ipsec.secrets
// goes with ipsec.conf, strongswan.conf is used if it exists. Given paths are kept as they are
// (an ipsec.conf without ipsec.secrets gets the ipsec.secrets beside it).
std::expected<ConfigPaths, std::string> ChooseConfigPaths(ConfigPaths given,
                                                          const DefaultLocations& where = {},
                                                          const LoadOptions& options = {});

// Where the vici socket is: strongswan.conf's charon.plugins.vici.socket, else charon's default
// /var/run/charon.vici (also when the file is missing or broken: minivpnctl, like swanctl,
// then tries the default).
std::string ViciSocketOf(const std::string& strongswan_conf);

// "swanctl.conf /etc/swanctl/swanctl.conf, strongswan.conf /etc/strongswan.conf": what a
// load reads, for the log.
std::string Describe(const ConfigPaths& paths);

// True if `address` is assigned to one of this host's interfaces.
bool IsLocalAddress(const IpAddress& address);

}  // namespace minivpn::config
