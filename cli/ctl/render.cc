#include "cli/ctl/render.h"

#include <fmt/core.h>
#include <fmt/format.h>

namespace minivpn::ctl {

using nlohmann::json;

namespace {

std::string Str(const json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return "-";
  if (it->is_string()) return it->get<std::string>();
  return it->dump();
}

std::uint64_t Num(const json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_number_unsigned() ? it->get<std::uint64_t>() : 0;
}

std::string Algorithms(const json& j) {
  std::string out = Str(j, "encr_alg");
  if (j.contains("encr_keysize")) out += fmt::format("-{}", Num(j, "encr_keysize"));
  for (const char* key : {"integ_alg", "prf_alg", "dh_group"}) {
    if (j.contains(key) && !j.at(key).is_null()) out += "/" + Str(j, key);
  }
  return out;
}

std::string Selectors(const json& j, const char* key) {
  std::string out;
  if (auto it = j.find(key); it != j.end() && it->is_array()) {
    for (const auto& ts : *it) out += (out.empty() ? "" : " ") + ts.get<std::string>();
  }
  return out;
}

std::string Ago(const json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return "never used";
  return fmt::format("{}s ago", it->get<std::uint64_t>());
}

}  // namespace

std::string RenderSas(const json& result) {
  std::string out;
  for (const auto& ike : result.value("ike_sas", json::array())) {
    bool initiator = ike.value("initiator", false);
    out += fmt::format("{}: #{}, {}, IKEv2, {}_i{} {}_r{}\n", Str(ike, "name"),
                       Num(ike, "uniqueid"), Str(ike, "state"), Str(ike, "spi_i"),
                       initiator ? "*" : "", Str(ike, "spi_r"), initiator ? "" : "*");
    out += fmt::format("  local  '{}' @ {}[{}]\n", Str(ike, "local_id"), Str(ike, "local_host"),
                       Num(ike, "local_port"));
    out += fmt::format("  remote '{}' @ {}[{}]\n", Str(ike, "remote_id"), Str(ike, "remote_host"),
                       Num(ike, "remote_port"));
    out += fmt::format("  {}\n", Algorithms(ike));
    out += fmt::format("  established {}s ago, rekeying in {}s\n", Num(ike, "established"),
                       Num(ike, "rekey_time"));
    for (const auto& child : ike.value("child_sas", json::array())) {
      out += fmt::format("  {}: #{}, reqid {}, {}, TUNNEL, ESP:{}\n", Str(child, "name"),
                         Num(child, "uniqueid"), Num(child, "reqid"), Str(child, "state"),
                         Algorithms(child));
      out += fmt::format("    installed {}s ago, rekeying in {}s", Num(child, "install_time"),
                         Num(child, "rekey_time"));
      out += child.contains("life_time")
                 ? fmt::format(", expires in {}s\n", Num(child, "life_time"))
                 : std::string("\n");
      out += fmt::format("    in  {}, {:>10} bytes, {:>7} packets, {}\n", Str(child, "spi_in"),
                         Num(child, "bytes_in"), Num(child, "packets_in"), Ago(child, "use_in"));
      out += fmt::format("    out {}, {:>10} bytes, {:>7} packets, {}\n", Str(child, "spi_out"),
                         Num(child, "bytes_out"), Num(child, "packets_out"),
                         Ago(child, "use_out"));
      out += fmt::format("    local  {}\n", Selectors(child, "local_ts"));
      out += fmt::format("    remote {}\n", Selectors(child, "remote_ts"));
    }
  }
  if (out.empty()) out = "no IKE_SAs\n";
  return out;
}

std::string RenderConns(const json& result) {
  std::string out;
  for (const auto& conn : result.value("connections", json::array())) {
    out += fmt::format("{}: IKEv2, {} -> {}, reauthentication disabled, rekeying every {}s\n",
                       Str(conn, "name"), Str(conn, "local_addrs"), Str(conn, "remote_addrs"),
                       Num(conn, "rekey_time"));
    out += fmt::format("  local:  {} (pre-shared key)\n", Str(conn, "local_id"));
    out += fmt::format("  remote: {} (pre-shared key)\n", Str(conn, "remote_id"));
    for (const auto& child : conn.value("children", json::array())) {
      out += fmt::format("  {}: TUNNEL, rekeying every {}s, mark in {}, out {}, start {}\n",
                         Str(child, "name"), Num(child, "rekey_time"), Str(child, "mark_in"),
                         Str(child, "mark_out"), Str(child, "start_action"));
      out += fmt::format("    local:  {}\n", Selectors(child, "local_ts"));
      out += fmt::format("    remote: {}\n", Selectors(child, "remote_ts"));
    }
  }
  if (out.empty()) out = "no connections\n";
  return out;
}

std::string RenderStats(const json& result) {
  std::string out;
  for (const char* group : {"exchanges", "retransmits", "failures"}) {
    auto it = result.find(group);
    if (it == result.end() || !it->is_object()) continue;
    out += fmt::format("{}:\n", group);
    for (const auto& [key, value] : it->items()) {
      out += fmt::format("  {:<28} {}\n", key, value.dump());
    }
  }
  for (const char* key : {"ike_sas", "half_open", "child_sas", "uptime"}) {
    if (result.contains(key)) out += fmt::format("{:<30} {}\n", key, result.at(key).dump());
  }
  return out;
}

std::string RenderOutcome(const json& result) { return Str(result, "outcome") + "\n"; }

std::string RenderReload(const json& result) {
  std::string out = "reloaded:";
  const char* sep = " ";
  for (const char* key : {"added", "removed", "changed", "unchanged"}) {
    std::vector<std::string> names;
    if (auto it = result.find(key); it != result.end() && it->is_array()) {
      for (const auto& n : *it)
        if (n.is_string()) names.push_back(n.get<std::string>());
    }
    out += fmt::format("{}{} {}", sep, names.size(), key);
    if (!names.empty()) out += fmt::format(" ({})", fmt::join(names, ", "));
    sep = ", ";
  }
  return out + "\n";
}

std::string RenderExplain(const json& result) {
  std::string out = fmt::format("{}: IKE_SA #{} key derivation\n", Str(result, "name"),
                                Num(result, "uniqueid"));
  out += Str(result, "text");
  if (!out.ends_with('\n')) out += '\n';
  return out;
}

}  // namespace minivpn::ctl
