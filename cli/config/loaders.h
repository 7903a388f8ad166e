// The format-specific loaders behind config.h. Each adds what it finds to a Config and reports
// problems to a Diagnostics; cross-checks (PSK per connection, VTI/mark agreement, lifetimes)
// run afterwards in Validate(), the same for both formats.
#pragma once

#include <functional>
#include <string>

#include "cli/config/diagnostic.h"
#include "cli/config/model.h"
#include "cli/config/settings.h"

namespace minivpn::config {

// swanctl.conf: connections { } and secrets { }.
void LoadSwanctl(const SettingsDocument& doc, Config& config, Diagnostics& diags);

// strongswan.conf: the charon { } / charon-systemd { } keys minivpn honours; the rest of the
// file is parsed (syntax errors are reported) and otherwise ignored.
void LoadStrongswanConf(const SettingsDocument& doc, GlobalSettings& global, Diagnostics& diags);

// ipsec.conf. `is_local` decides which of left/right is this host (charon's starter: left if
// left's address is local, else right if right's is, else left).
void LoadIpsecConf(const std::string& path, Config& config, Diagnostics& diags,
                   const std::function<bool(const IpAddress&)>& is_local);

// ipsec.secrets: `[ids] : PSK "secret"` lines, `include`.
void LoadIpsecSecrets(const std::string& path, Config& config, Diagnostics& diags);

// Warns when a file holding secrets is readable by group or others.
void CheckSecretFilePermissions(const std::string& path, Diagnostics& diags);

// Cross-checks and PSK resolution, after all files are loaded.
void Validate(Config& config, Diagnostics& diags);

}  // namespace minivpn::config
