// The control socket's commands (docs/control-protocol.md), answered from the engine's query
// API and the kernel's counters.
#include <fmt/core.h>
#include <fmt/format.h>

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

namespace {

// The log line of an event, for the client waiting on its SA (as the log has it, at any level).
std::optional<std::string> ProgressLine(const ike::Event& e) {
  const std::string where = fmt::format("{}[{}] ", e.peer, e.ike_serial);
  switch (e.kind) {
    case ike::EventKind::kExchangeSent:
      return fmt::format("[ENC] {}generating {}", where, e.text);
    case ike::EventKind::kExchangeReceived:
      return fmt::format("[ENC] {}parsed {}", where, e.text);
    case ike::EventKind::kRetransmit:
      return fmt::format("[IKE] {}retransmit {}", where, e.text);
    case ike::EventKind::kDropped:
      return std::nullopt;
    case ike::EventKind::kFailure:
      return fmt::format("[IKE] {}{}{}", where, e.text,
                         e.notify ? fmt::format(" ({})", ike::Name(*e.notify)) : std::string());
    default:
      return fmt::format("[IKE] {}{}{}", where, e.text,
                         e.child.empty() ? std::string() : fmt::format(" (child {})", e.child));
  }
}

}  // namespace

void Daemon::OnControlRequest(const ControlRequest& request,
                              std::shared_ptr<ControlResponder> responder) {
  const std::string& cmd = request.command;
  const auto wait = request.args.is_object() ? request.args.find("wait") : request.args.end();
  if ((cmd == "initiate" || cmd == "terminate" || cmd == "rekey") && wait != request.args.end() &&
      wait->is_boolean() && wait->get<bool>()) {
    StartWaiting(request, std::move(responder));
    return;
  }
  responder->Finish(HandleControl(request));
}

void Daemon::StartWaiting(const ControlRequest& request,
                          std::shared_ptr<ControlResponder> responder) {
  const auto now = Now();
  const std::string& cmd = request.command;
  Waiter w{.id = next_waiter_id_++,
           .command = cmd,
           .peer = Arg(request, "name"),
           .child = Arg(request, "child"),
           .responder = std::move(responder)};
  if (config_.Find(w.peer) == nullptr) {
    w.responder->Finish(ControlReply::Fail(fmt::format("no connection named '{}'", w.peer)));
    return;
  }
  if (shutting_down_) {
    w.responder->Finish(ControlReply::Fail("minivpnd is shutting down"));
    return;
  }
  double timeout = 0;
  if (auto t = request.args.find("timeout"); t != request.args.end()) {
    if (!t->is_number() || t->get<double>() < 0) {
      w.responder->Finish(ControlReply::Fail("\"timeout\" must be a number of seconds >= 0"));
      return;
    }
    timeout = t->get<double>();
  }
  std::expected<void, std::string> started;
  if (cmd == "initiate") {
    w.kind = Waiter::Kind::kInitiate;
    auto serial = engine_->Initiate(w.peer, w.child, now);
    if (serial) {
      w.ike_serial = *serial;
    } else {
      started = std::unexpected(serial.error());
    }
  } else if (cmd == "terminate") {
    w.kind = w.child.empty() ? Waiter::Kind::kTerminate : Waiter::Kind::kTerminateChild;
    started = engine_->Terminate(w.peer, w.child, now);
  } else {
    w.kind = w.child.empty() ? Waiter::Kind::kRekeyIke : Waiter::Kind::kRekeyChild;
    started = engine_->Rekey(w.peer, w.child, now);
  }
  if (!started) {
    Pump();
    w.responder->Finish(ControlReply::Fail(started.error()));
    return;
  }
  if (timeout > 0) {
    w.timeout = std::make_shared<boost::asio::steady_timer>(io_);
    w.timeout->expires_after(std::chrono::duration_cast<std::chrono::milliseconds>(
        std::chrono::duration<double>(timeout)));
    w.timeout->async_wait([this, id = w.id, timeout, cmd](boost::system::error_code ec) {
      if (ec) return;
      auto it = std::find_if(waiters_.begin(), waiters_.end(),
                             [id](const Waiter& x) { return x.id == id; });
      if (it == waiters_.end()) return;
      auto waiting = std::move(it->responder);
      waiters_.erase(it);
      waiting->Finish(ControlReply::Fail(fmt::format(
          "{} timed out after {} s; it goes on in the background", cmd, timeout)));
    });
  }
  waiters_.push_back(std::move(w));
  Pump();  // its first messages go out; their lines reach the client
  AdvanceWaiters({});  // e.g. terminate of a connection without an SA: done at once
}

void Daemon::AdvanceWaiters(const std::vector<ike::Event>& events) {
  using Kind = Waiter::Kind;
  std::vector<std::pair<std::shared_ptr<ControlResponder>, ControlReply>> done;
  std::erase_if(waiters_, [&](Waiter& w) {
    std::optional<ControlReply> outcome;
    for (const auto& e : events) {
      if (e.peer != w.peer) continue;
      if (auto line = ProgressLine(e)) w.responder->Progress(*line);
      if (e.kind == ike::EventKind::kFailure && e.notify) w.last_notify = ike::Name(*e.notify);
      const bool child_matches = w.child.empty() || e.child == w.child;
      switch (w.kind) {
        case Kind::kInitiate:
          if (e.kind == ike::EventKind::kChildUp && child_matches) {
            outcome = ControlReply::Ok(json{{"outcome", fmt::format("CHILD_SA {} established",
                                                                    e.child)}});
          } else if (e.kind == ike::EventKind::kIkeUp && e.ike_serial == w.ike_serial &&
                     config_.Find(w.peer)->children.empty()) {
            outcome = ControlReply::Ok(json{{"outcome", "IKE_SA established"}});
          } else if (e.kind == ike::EventKind::kIkeDown && e.ike_serial == w.ike_serial) {
            outcome = ControlReply::Fail(fmt::format(
                "IKE_SA {}[{}] failed: {}{}", e.peer, e.ike_serial, e.text,
                w.last_notify.empty() ? std::string() : fmt::format(" ({})", w.last_notify)));
          } else if (e.kind == ike::EventKind::kFailure && e.ike_serial == w.ike_serial &&
                     !e.child.empty() && child_matches && e.notify) {
            outcome = ControlReply::Fail(
                fmt::format("CHILD_SA {} failed: {} ({})", e.child, e.text, ike::Name(*e.notify)));
          }
          break;
        case Kind::kTerminateChild:
          if (e.kind == ike::EventKind::kChildDown && e.child == w.child)
            outcome = ControlReply::Ok(
                json{{"outcome", fmt::format("CHILD_SA {} deleted", e.child)}});
          break;
        case Kind::kRekeyChild:
          if (e.kind == ike::EventKind::kChildRekeyed && e.child == w.child) {
            outcome = ControlReply::Ok(
                json{{"outcome", fmt::format("CHILD_SA {} rekeyed", e.child)}});
          } else if (e.kind == ike::EventKind::kFailure && e.child == w.child && e.notify) {
            outcome = ControlReply::Fail(fmt::format("CHILD_SA {} rekey failed: {} ({})", e.child,
                                                     e.text, ike::Name(*e.notify)));
          }
          break;
        case Kind::kRekeyIke:
          if (e.kind == ike::EventKind::kIkeRekeyed) {
            outcome = ControlReply::Ok(json{{"outcome", "IKE_SA rekeyed"}});
          } else if (e.kind == ike::EventKind::kFailure &&
                     e.text.starts_with("IKE rekey failed")) {
            outcome = ControlReply::Fail(fmt::format(
                "IKE_SA rekey failed{}", e.notify ? fmt::format(" ({})", ike::Name(*e.notify))
                                                  : std::string()));
          }
          break;
        case Kind::kTerminate:
          break;
      }
      if (outcome) break;
    }
    if (!outcome && w.kind == Kind::kTerminate && engine_->ike_sa_count(w.peer) == 0)
      outcome = ControlReply::Ok(json{{"outcome", "IKE_SA deleted"}});
    if (!outcome && (w.kind == Kind::kRekeyIke || w.kind == Kind::kRekeyChild ||
                     w.kind == Kind::kTerminateChild) &&
        engine_->ike_sa_count(w.peer) == 0) {
      outcome = ControlReply::Fail(fmt::format("the IKE_SA of '{}' is gone", w.peer));
    }
    if (!outcome) return false;
    if (w.timeout) w.timeout->cancel();
    done.emplace_back(std::move(w.responder), std::move(*outcome));
    return true;
  });
  for (auto& [responder, reply] : done) responder->Finish(reply);
}

void Daemon::FinishWaiters(const ControlReply& reply) {
  auto waiters = std::move(waiters_);
  waiters_.clear();
  for (auto& w : waiters) {
    if (w.timeout) w.timeout->cancel();
    w.responder->Finish(reply);
  }
}

ControlReply Daemon::HandleControl(const ControlRequest& request) {
  const auto now = Now();
  const std::string& cmd = request.command;
  if (cmd == "list-sas") return ListSas(request);
  if (cmd == "list-conns") return ListConns();
  if (cmd == "stats") return Stats();
  if (cmd == "explain") return Explain(request);
  if (cmd == "reload") {
    const ReloadOutcome r = Reload();
    if (r.refused || !r.errors.empty()) {
      return ControlReply::Fail(
          fmt::format("{}: {}",
                      r.refused ? "refused, the running configuration is kept"
                                : "applied with errors",
                      fmt::join(r.errors, "; ")));
    }
    return ControlReply::Ok(
        json{{"added", r.added}, {"removed", r.removed}, {"changed", r.changed},
             {"unchanged", r.unchanged}});
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
                {"life_time", child.life_in.count()},
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
  return ControlReply::Ok(
      {{"exchanges", exchanges_},
       {"retransmits", {{"total", retransmits_}}},
       {"failures", failures_},
       {"ike_sas", engine_->ike_sa_count()},
       {"half_open", engine_->half_open_count()},
       {"child_sas", engine_->child_sa_count()},
       {"uptime", std::chrono::duration_cast<std::chrono::seconds>(Now() - started_).count()}});
}

}  // namespace minivpn::daemon
