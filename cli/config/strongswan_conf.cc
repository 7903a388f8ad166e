// strongswan.conf: only charon { } / charon-systemd { } keys that change minivpnd's behaviour
// are interpreted (strongswan.conf(5) defaults: install_routes [yes], retransmit_tries [5],
// retransmit_timeout [4.0], retransmit_base [1.8], cookie_threshold [30],
// cookie_threshold_ip [3], block_threshold [5], half_open_timeout [30], fragment_size [1280],
// port [500], port_nat_t [4500], make_before_break [no]) and charon.plugins.save-keys
// { load [no], wireshark_keys [], ike [no], esp [no] }. Everything else in the file (plugins,
// logging, other daemons' sections) is parsed and ignored: strongswan.conf is shared by many
// programs, so unknown keys there are not errors.
#include <fmt/core.h>

#include <charconv>

#include "cli/config/loaders.h"
#include "cli/config/values.h"

namespace minivpn::config {
namespace {

bool TakeDouble(const SettingsValue& v, double& out, Diagnostics& d) {
  double value = 0;
  auto [end, ec] = std::from_chars(v.value.data(), v.value.data() + v.value.size(), value);
  if (ec != std::errc() || end != v.value.data() + v.value.size() || value <= 0) {
    d.Error(v.value_where,
            fmt::format("'{}': invalid number '{}' (expected a positive decimal)", v.key, v.value));
    return false;
  }
  out = value;
  return true;
}

template <typename T>
void TakeUint(const SettingsValue& v, T& out, std::uint64_t max, Diagnostics& d) {
  auto r = ParseUint(v.value, max);
  if (!r) {
    d.Error(v.value_where, fmt::format("'{}': {}", v.key, r.error()));
    return;
  }
  out = static_cast<T>(*r);
}

void LoadCharonSection(const SettingsSection& s, GlobalSettings& g, Diagnostics& d) {
  for (const auto& v : s.values) {
    if (v.value.empty()) continue;
    const std::string& k = v.key;
    if (k == "install_routes" || k == "make_before_break") {
      auto b = ParseBool(v.value);
      if (!b) {
        d.Error(v.value_where, fmt::format("'{}': {}", k, b.error()));
        continue;
      }
      (k == "install_routes" ? g.install_routes : g.make_before_break) = *b;
      if (k == "install_routes" && *b) {
        d.Warning(v.where,
                  "install_routes = yes is ignored: minivpnd never installs routes into "
                  "routing table 220; route-based tunnels route through their VTI");
      }
    } else if (k == "retransmit_tries") {
      TakeUint(v, g.retransmit_tries, 100, d);
    } else if (k == "retransmit_timeout") {
      TakeDouble(v, g.retransmit_timeout, d);
    } else if (k == "retransmit_base") {
      TakeDouble(v, g.retransmit_base, d);
    } else if (k == "cookie_threshold") {
      TakeUint(v, g.cookie_threshold, 0xffffffff, d);
    } else if (k == "cookie_threshold_ip") {
      TakeUint(v, g.cookie_threshold_ip, 0xffffffff, d);
    } else if (k == "block_threshold") {
      TakeUint(v, g.block_threshold, 0xffffffff, d);
    } else if (k == "half_open_timeout") {
      auto t = ParseDuration(v.value, false);
      if (!t) {
        d.Error(v.value_where, fmt::format("'{}': {}", k, t.error()));
      } else {
        g.half_open_timeout = *t;
      }
    } else if (k == "fragment_size") {
      TakeUint(v, g.fragment_size, 65535, d);
    } else if (k == "port" || k == "port_nat_t") {
      TakeUint(v, k == "port" ? g.port : g.port_nat_t, 65535, d);
    }
    // Any other key is one of charon's many settings minivpn does not interpret.
  }
  // charon.plugins.save-keys (strongSwan's save-keys plugin, the Wireshark export).
  const SettingsSection* plugins = s.FindSection("plugins");
  const SettingsSection* save_keys = plugins ? plugins->FindSection("save-keys") : nullptr;
  if (save_keys == nullptr) return;
  for (const auto& v : save_keys->values) {
    if (v.value.empty()) continue;
    const std::string& k = v.key;
    if (k == "load" || k == "ike" || k == "esp") {
      auto b = ParseBool(v.value);
      if (!b) {
        d.Error(v.value_where, fmt::format("'save-keys.{}': {}", k, b.error()));
        continue;
      }
      (k == "load" ? g.save_keys_load : k == "ike" ? g.save_keys_ike : g.save_keys_esp) = *b;
    } else if (k == "wireshark_keys") {
      if (!v.value.starts_with("/")) {
        d.Error(v.value_where,
                fmt::format("'save-keys.wireshark_keys': '{}' is not an absolute directory",
                            v.value));
        continue;
      }
      g.save_keys_dir = v.value;
    }
  }
}

}  // namespace

void LoadStrongswanConf(const SettingsDocument& doc, GlobalSettings& global, Diagnostics& d) {
  // charon-systemd reads its own section with charon { } as fallback: charon first, then
  // charon-systemd overrides.
  if (const auto* s = doc.root.FindSection("charon")) LoadCharonSection(*s, global, d);
  if (const auto* s = doc.root.FindSection("charon-systemd")) LoadCharonSection(*s, global, d);
}

}  // namespace minivpn::config
