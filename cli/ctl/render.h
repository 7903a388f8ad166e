// minivpnctl's output, from what minivpnd answers on its vici socket (pure functions, tested).
// The SA and connection listings have swanctl's layout (swanctl --list-sas, --list-conns), so
// that a script written for swanctl's output reads minivpnctl's; docs/control-protocol.md shows
// each command's messages.
#pragma once

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

#include "vici/message.h"

namespace minivpn::ctl {

// list-sas: the list-sa events, one block per IKE SA with its CHILD_SAs indented below.
std::string RenderSas(const std::vector<vici::Message>& list_sa_events);
// minivpnd's list-link events (owned links that follow their CHILD_SAs), one line each.
std::string RenderLinks(const std::vector<vici::Message>& list_link_events);
// list-conns: the list-conn events, one block per connection with its children.
std::string RenderConns(const std::vector<vici::Message>& list_conn_events);
// minivpn-stats: exchanges, retransmits, failures by notify, then the totals.
std::string RenderStats(const vici::Message& reply);
// minivpn-explain: a header naming the IKE SA, then the walk-through's lines.
std::string RenderExplain(const vici::Message& reply);
// reload-settings with minivpnd's outcome: "reloaded: 1 added (c), 0 removed, 1 changed (b),
// 2 unchanged (d, e)".
std::string RenderReload(const vici::Message& reply);

// A vici message as JSON (minivpnctl --json): a section is an object, a list an array of
// strings, a value a string (vici carries numbers as text). Of two elements with one name, the
// later wins.
nlohmann::json ToJson(const vici::Section& section);

}  // namespace minivpn::ctl
