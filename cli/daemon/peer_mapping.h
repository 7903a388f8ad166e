// From the configuration model (cli/config/model.h, what the user wrote) to the engine's
// per-peer configuration (ike/engine/engine_config.h, what the state machine needs).
#pragma once

#include <expected>
#include <string>

#include "cli/config/model.h"
#include "ike/engine/engine_config.h"

namespace minivpn::daemon {

// Fails (with a sentence naming the connection) for what the engine cannot run: a connection
// without a concrete remote address to initiate to while a child wants start/trap, or several
// traffic selectors per side (minivpn negotiates one pair per CHILD_SA).
std::expected<ike::PeerConfig, std::string> ToPeerConfig(const config::ConnectionConfig& conn);

ike::EngineConfig ToEngineConfig(const config::GlobalSettings& global);

// Where and what a connection exports for Wireshark (issue 9): its own `wireshark_keys`
// directory (IKE and ESP keys), else strongswan.conf's save-keys plugin settings. Empty dir =
// nothing exported.
struct WiresharkExport {
  std::string dir;
  bool ike = false;
  bool esp = false;
  bool operator==(const WiresharkExport&) const = default;
};
WiresharkExport ToWiresharkExport(const config::ConnectionConfig& conn,
                                  const config::GlobalSettings& global);

}  // namespace minivpn::daemon
