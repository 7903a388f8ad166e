// The control socket's commands (docs/control-protocol.md), answered from the engine's query
// API and the kernel's counters.
#include <fmt/core.h>

#include <algorithm>

#include "cli/daemon/daemon.h"
#include "ike/observe/keymat_explain.h"
#include "ike/wire/registry.h"

namespace minivpn::daemon {

using nlohmann::json;

namespace {

std::string Hex64(std::uint64_t v) { return fmt::format("{:016x}", v); }
std::string Hex32(std::uint32_t v) { return fmt::format("{:08x}", v); }
std::string MarkText(const xfrm::Mark& m) {
  return fmt::format("0x{:08x}/0x{:08x}", m.value, m.mask);
}

std::string Arg(const ControlRequest& request, const char* key) {
  auto it = request.args.find(key);
  return it != request.args.end() && it->is_string() ? it->get<std::string>() : std::string();
}

// Counter fields of one direction from XFRM_MSG_GETSA.
void AddCounters(json& child, const char* dir, xfrm::KernelIpsec& kernel, const xfrm::SaId& id) {
  auto counters = kernel.QuerySa(id);
  if (!counters) return;  // the SA is gone (being deleted): leave the fields out
  child[fmt::format("bytes_{}", dir)] = counters->bytes;
  child[fmt::format("packets_{}", dir)] = counters->packets;
  if (counters->last_use) {
    auto now = std::chrono::duration_cast<std::chrono::seconds>(
        std::chrono::system_clock::now().time_since_epoch());
    child[fmt::format("use_{}", dir)] = (now - *counters->last_use).count();
  }
}

}  // namespace

ControlReply Daemon::HandleControl(const ControlRequest& request) {
  const auto now = Now();
  const std::string& cmd = request.command;
  if (cmd == "list-sas") return ListSas(request);
  if (cmd == "list-conns") return ListConns();
  if (cmd == "stats") return Stats();
  if (cmd == "explain") return Explain(request);
  if (cmd == "reload") {
    Reload();
    return ControlReply::Ok();
  }
  if (cmd == "log-level") {
    std::string subsystem = Arg(request, "subsystem");
    auto level = request.args.find("level");
    if (level == request.args.end() || !level->is_number_integer() || level->get<int>() < 0 ||
        level->get<int>() > 3) {
      return ControlReply::Fail("log-level needs \"level\" between 0 and 3");
    }
    if (subsystem == "all") {
      log_.SetAllLevels(level->get<int>());
    } else if (auto s = ParseSubsystem(subsystem)) {
      log_.SetLevel(*s, level->get<int>());
    } else {
      return ControlReply::Fail(fmt::format(
          "unknown subsystem '{}' (expected ike, cfg, knl, net, enc or all)", subsystem));
    }
    return ControlReply::Ok();
  }
  if (cmd == "initiate" || cmd == "terminate" || cmd == "rekey") {
    std::string name = Arg(request, "name");
    if (config_.Find(name) == nullptr) {
      return ControlReply::Fail(fmt::format("no connection named '{}'", name));
    }
    std::string child = Arg(request, "child");
    std::expected<void, std::string> result;
    if (cmd == "initiate") {
      auto serial = engine_->Initiate(name, child, now);
      if (!serial) result = std::unexpected(serial.error());
    } else if (cmd == "terminate") {
      result = engine_->Terminate(name, child, now);
    } else {
      result = engine_->Rekey(name, child, now);
    }
    Pump();
    if (!result) return ControlReply::Fail(result.error());
    return ControlReply::Ok();
  }
  return ControlReply::Fail(fmt::format(
      "unknown command '{}' (expected list-sas, list-conns, initiate, terminate, rekey, reload, "
      "stats, log-level or explain)",
      cmd));
}

ControlReply Daemon::ListSas(const ControlRequest& request) {
  std::string only = Arg(request, "name");
  json sas = json::array();
  for (const auto& ike : engine_->ListSas(Now())) {
    if (!only.empty() && ike.peer != only) continue;
    json j = {{"name", ike.peer},
              {"uniqueid", ike.serial},
              {"state", std::string(ike::Name(ike.state))},
              {"initiator", ike.initiator},
              {"spi_i", Hex64(ike.spi_i)},
              {"spi_r", Hex64(ike.spi_r)},
              {"local_host", ike.local.address.ToString()},
              {"local_port", ike.local.port},
              {"remote_host", ike.remote.address.ToString()},
              {"remote_port", ike.remote.port},
              {"encr_alg", ike.algorithms},
              {"established", ike.age.count()}};
    if (const auto* conn = config_.Find(ike.peer)) {
      j["local_id"] = conn->local_id.ToString();
      j["remote_id"] = conn->remote_id.ToString();
    }
    // Once authenticated, the identity the peer proved (with a %any config, the only way to tell
    // the tunnels apart).
    if (!ike.remote_identity.empty()) j["remote_id"] = ike.remote_identity;
    if (ike.rekey_in) j["rekey_time"] = ike.rekey_in->count();
    json children = json::array();
    for (const auto& child : ike.children) {
      json c = {{"name", child.name},
                {"uniqueid", child.id},
                {"reqid", child.reqid},
                {"state", std::string(ike::Name(child.state))},
                {"encr_alg", child.algorithms},
                {"spi_in", Hex32(child.spi_in)},
                {"spi_out", Hex32(child.spi_out)},
                {"install_time", child.age.count()},
                {"rekey_time", child.rekey_in.count()},
                {"mark_in", MarkText(child.mark_in)},
                {"mark_out", MarkText(child.mark_out)},
                {"encap", child.encap},
                {"local_ts", json::array({child.local_ts.ToString()})},
                {"remote_ts", json::array({child.remote_ts.ToString()})}};
      AddCounters(c, "in", *kernel_,
                  xfrm::SaId{ike.remote.address, ike.local.address, child.spi_in, 50,
                             child.inbound_sa_mark});
      AddCounters(c, "out", *kernel_,
                  xfrm::SaId{ike.local.address, ike.remote.address, child.spi_out, 50,
                             child.mark_out});
      children.push_back(std::move(c));
    }
    j["child_sas"] = std::move(children);
    sas.push_back(std::move(j));
  }
  return ControlReply::Ok({{"ike_sas", std::move(sas)}});
}

// The key-derivation walk-through of one IKE SA (ike/observe/keymat_explain.h). With show_secrets the
// reply carries key values: it goes to the root-only control socket and nowhere else.
ControlReply Daemon::Explain(const ControlRequest& request) {
  auto args = ParseExplainArgs(request.args);
  if (!args) return ControlReply::Fail(args.error());
  const auto sas = engine_->ListSas(Now());
  std::uint64_t serial = args->id;
  if (serial == 0) {
    if (config_.Find(args->name) == nullptr) {
      return ControlReply::Fail(fmt::format("no connection named '{}'", args->name));
    }
    // The newest established IKE SA of the connection, else its newest one.
    std::uint64_t newest = 0;
    for (const auto& ike : sas) {
      if (ike.peer != args->name) continue;
      newest = std::max(newest, ike.serial);
      if (ike.state == ike::IkeState::kEstablished || ike.state == ike::IkeState::kRekeying)
        serial = std::max(serial, ike.serial);
    }
    if (serial == 0) serial = newest;
    if (serial == 0) {
      return ControlReply::Fail(fmt::format("connection '{}' has no IKE SA", args->name));
    }
  }
  auto input = engine_->ExplainInput(serial, args->show_secrets);
  if (!input) return ControlReply::Fail(input.error());
  std::string name;
  for (const auto& ike : sas)
    if (ike.serial == serial) name = ike.peer;
  return ControlReply::Ok(
      {{"name", name},
       {"uniqueid", serial},
       {"show_secrets", args->show_secrets},
       {"text", ike::ExplainKeymat(*input, ike::ExplainOptions{.show_secrets = args->show_secrets})}});
}

ControlReply Daemon::ListConns() const {
  json conns = json::array();
  for (const auto& conn : config_.connections) {
    auto hosts = [](const std::vector<config::Host>& list) {
      std::string out;
      for (const auto& h : list) {
        if (!out.empty()) out += ",";
        out += h.kind == config::Host::Kind::kHostname ? h.hostname
               : h.kind == config::Host::Kind::kAny    ? std::string("%any")
                                                       : h.subnet.address.ToString();
      }
      return out.empty() ? std::string("%any") : out;
    };
    json children = json::array();
    for (const auto& child : conn.children) {
      json ts_l = json::array(), ts_r = json::array();
      for (const auto& ts : child.local_ts) ts_l.push_back(ts.ToString());
      for (const auto& ts : child.remote_ts) ts_r.push_back(ts.ToString());
      if (ts_l.empty()) ts_l.push_back("dynamic");
      if (ts_r.empty()) ts_r.push_back("dynamic");
      static constexpr const char* kStart[] = {"none", "trap", "start", "trap|start"};
      children.push_back({{"name", child.name},
                          {"rekey_time", child.rekey_time.count()},
                          {"mark_in", MarkText({child.mark_in.value, child.mark_in.mask})},
                          {"mark_out", MarkText({child.mark_out.value, child.mark_out.mask})},
                          {"start_action", kStart[static_cast<int>(child.start_action)]},
                          {"local_ts", ts_l},
                          {"remote_ts", ts_r}});
    }
    conns.push_back({{"name", conn.name},
                     {"local_addrs", hosts(conn.local_addrs)},
                     {"remote_addrs", hosts(conn.remote_addrs)},
                     {"local_id", conn.local_id.ToString()},
                     {"remote_id", conn.remote_id.ToString()},
                     {"rekey_time", conn.rekey_time.count()},
                     {"children", children}});
  }
  return ControlReply::Ok({{"connections", conns}});
}

ControlReply Daemon::Stats() const {
  std::size_t children = 0;
  for (const auto& ike : engine_->ListSas(Now())) children += ike.children.size();
  return ControlReply::Ok(
      {{"exchanges", exchanges_},
       {"retransmits", {{"total", retransmits_}}},
       {"failures", failures_},
       {"ike_sas", engine_->ike_sa_count()},
       {"half_open", engine_->half_open_count()},
       {"child_sas", children},
       {"uptime", std::chrono::duration_cast<std::chrono::seconds>(Now() - started_).count()}});
}

}  // namespace minivpn::daemon
