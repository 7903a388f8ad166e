// strongswan.conf: only charon { } / charon-systemd { } keys that change minivpnd's behaviour
// are interpreted (strongswan.conf(5) defaults: install_routes [yes], retransmit_tries [5],
// retransmit_timeout [4.0], retransmit_base [1.8], cookie_threshold [30],
// cookie_threshold_ip [3], block_threshold [5], init_limit_half_open [charon 0 = none, minivpn
// 10000], half_open_timeout [30], fragment_size [1280], max_packet [10000],
// port [500], port_nat_t [4500], make_before_break [no], keep_alive [20s]) and
// charon.plugins.save-keys
// { load [no], wireshark_keys [], ike [no], esp [no] }, and the log levels of charon's loggers
// (filelog, stderr, syslog, journal; GlobalSettings::log_levels). Everything else in the file
// (plugins, other daemons' sections) is parsed and ignored: strongswan.conf is shared by many
// programs, so unknown keys there are not errors.
#include <fmt/core.h>

#include <algorithm>
#include <array>
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

constexpr std::array<std::string_view, 5> kLogSubsystems = {"ike", "cfg", "knl", "net", "enc"};

// One charon logger's levels: `default` and per-subsystem keys. Keyed by the logger
// ("filelog.<name>", "stderr", ...) so that charon-systemd's section overrides charon's key by key.
using LoggerLevels = std::map<std::string, std::map<std::string, int>>;

void TakeLogger(const SettingsSection& logger, const std::string& id, LoggerLevels& loggers,
                Diagnostics& d) {
  auto& levels = loggers[id];
  for (const auto& v : logger.values) {
    const bool known = v.key == "default" ||
                       std::find(kLogSubsystems.begin(), kLogSubsystems.end(), v.key) !=
                           kLogSubsystems.end();
    if (!known || v.value.empty()) continue;  // other subsystems, path, time_format, ...
    int level = 0;
    auto [end, ec] = std::from_chars(v.value.data(), v.value.data() + v.value.size(), level);
    if (ec != std::errc() || end != v.value.data() + v.value.size() || level < -1) {
      d.Warning(v.value_where,
                fmt::format("log level '{}' = '{}' is not a level (-1 or more); ignored", v.key,
                            v.value));
      continue;
    }
    levels[v.key] = level;
  }
}

void CollectLoggers(const SettingsSection& s, LoggerLevels& loggers, Diagnostics& d) {
  for (std::string_view group : {"filelog", "syslog"}) {
    if (const auto* g = s.FindSection(group)) {
      for (const auto& logger : g->sections)
        TakeLogger(logger, std::string(group) + "." + logger.name, loggers, d);
    }
  }
  for (std::string_view single : {"stderr", "journal"}) {
    if (const auto* logger = s.FindSection(single))
      TakeLogger(*logger, std::string(single), loggers, d);
  }
}

void SetLogLevels(const LoggerLevels& loggers, GlobalSettings& g) {
  g.log_levels.clear();
  if (loggers.empty()) return;
  for (std::string_view subsystem : kLogSubsystems) {
    int level = -1;
    for (const auto& [id, levels] : loggers) {
      auto own = levels.find(std::string(subsystem));
      auto fallback = levels.find("default");
      const int l = own != levels.end()        ? own->second
                    : fallback != levels.end() ? fallback->second
                                               : 1;  // charon's default level
      level = std::max(level, l);
    }
    g.log_levels[std::string(subsystem)] = std::min(level, 3);
  }
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
    } else if (k == "init_limit_half_open") {
      TakeUint(v, g.init_limit_half_open, 0xffffffff, d);
    } else if (k == "half_open_timeout" || k == "keep_alive") {
      auto t = ParseDuration(v.value, false);
      if (!t) {
        d.Error(v.value_where, fmt::format("'{}': {}", k, t.error()));
      } else {
        (k == "keep_alive" ? g.keep_alive : g.half_open_timeout) = *t;
      }
    } else if (k == "fragment_size") {
      TakeUint(v, g.fragment_size, 65535, d);
    } else if (k == "max_packet") {
      TakeUint(v, g.max_packet, 65535, d);
    } else if (k == "port" || k == "port_nat_t") {
      TakeUint(v, k == "port" ? g.port : g.port_nat_t, 65535, d);
    }
    // Any other key is one of charon's many settings minivpn does not interpret.
  }
  // charon.plugins.vici.socket: where a running charon answers (minivpnd refuses to start then).
  const SettingsSection* plugins = s.FindSection("plugins");
  if (const SettingsSection* vici = plugins ? plugins->FindSection("vici") : nullptr) {
    if (const auto* v = vici->FindValue("socket"); v && !v->value.empty()) {
      std::string_view uri = v->value;
      if (uri.starts_with("unix://")) {
        g.vici_socket = std::string(uri.substr(7));
      } else {
        d.Warning(v->value_where,
                  fmt::format("'vici.socket' = '{}' is not a unix:// URI: minivpnd checks for a "
                              "running charon at {}",
                              v->value, g.vici_socket));
      }
    }
  }
  // charon.plugins.save-keys (strongSwan's save-keys plugin, the Wireshark export).
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
  LoggerLevels loggers;
  for (std::string_view name : {"charon", "charon-systemd"}) {
    if (const auto* s = doc.root.FindSection(name)) {
      LoadCharonSection(*s, global, d);
      CollectLoggers(*s, loggers, d);
    }
  }
  SetLogLevels(loggers, global);
}

}  // namespace minivpn::config
