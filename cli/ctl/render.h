// Text rendering of control-protocol results for minivpnctl (pure functions, tested).
// The JSON shapes are documented in docs/control-protocol.md.
#pragma once

#include <nlohmann/json.hpp>

#include <string>

namespace minivpn::ctl {

// `swanctl --list-sas` style: one block per IKE_SA with its CHILD_SAs indented below.
std::string RenderSas(const nlohmann::json& result);
// One block per configured connection with its children.
std::string RenderConns(const nlohmann::json& result);
// Counters: exchanges, retransmits, failures by notify.
std::string RenderStats(const nlohmann::json& result);
// `explain`: a header naming the IKE SA, then the daemon's walk-through text.
std::string RenderExplain(const nlohmann::json& result);
// initiate, terminate, rekey: the outcome the command waited for ("CHILD_SA to-b established").
std::string RenderOutcome(const nlohmann::json& result);
// `reload`: "reloaded: 1 added (c), 0 removed, 1 changed (b), 2 unchanged (d, e)".
std::string RenderReload(const nlohmann::json& result);

}  // namespace minivpn::ctl
