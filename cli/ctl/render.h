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

}  // namespace minivpn::ctl
