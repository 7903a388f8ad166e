// The commands that wait for their outcome (initiate, terminate, rekey: Waiter), and minivpnd's
// own vici commands, which charon has no counterpart of (docs/control-protocol.md):
// minivpn-stats, minivpn-explain, minivpn-log-level.
#include <fmt/core.h>
#include <fmt/format.h>

#include <algorithm>
#include <sstream>

#include "cli/daemon/daemon.h"
#include "ike/observe/keymat_explain.h"
#include "ike/wire/registry.h"

namespace minivpn::daemon {

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
    case ike::EventKind::kKeepalive:
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

void Daemon::StartWaiting(const WaitRequest& request,
                          std::shared_ptr<CommandResponder> responder) {
  const auto now = Now();
  using Command = WaitRequest::Command;
  const char* cmd = request.command == Command::kInitiate    ? "initiate"
                    : request.command == Command::kTerminate ? "terminate"
                                                             : "rekey";
  Waiter w{.id = next_waiter_id_++,
           .command = cmd,
           .peer = request.peer,
           .child = request.child,
           .responder = std::move(responder)};
  if (config_.Find(w.peer) == nullptr) {
    w.responder->Finish(CommandOutcome::Fail(fmt::format("no connection named '{}'", w.peer)));
    return;
  }
  if (shutting_down_) {
    w.responder->Finish(CommandOutcome::Fail("minivpnd is shutting down"));
    return;
  }
  std::expected<void, std::string> started;
  if (request.command == Command::kInitiate) {
    w.kind = Waiter::Kind::kInitiate;
    auto serial = shards_->Initiate(w.peer, w.child, now);
    if (serial) {
      w.ike_serial = *serial;
      // Already up: no event will come for it, so the answer is now.
      const auto* conn = config_.Find(w.peer);
      const std::string child = !w.child.empty()         ? w.child
                                : conn->children.empty() ? ""
                                                         : conn->children.front().name;
      for (const auto& sa : shards_->ListSas(now)) {
        if (sa.serial != *serial) continue;
        const bool up =
            child.empty() ? sa.state == ike::IkeState::kEstablished
                          : std::any_of(sa.children.begin(), sa.children.end(), [&](const auto& c) {
                              return c.name == child && c.state == ike::ChildState::kInstalled;
                            });
        if (up) {
          w.responder->Finish(
              CommandOutcome::Ok(child.empty() ? "IKE_SA established"
                                               : fmt::format("CHILD_SA {} established", child)));
          return;
        }
      }
    } else {
      started = std::unexpected(serial.error());
    }
  } else if (request.command == Command::kTerminate) {
    w.kind = w.child.empty() ? Waiter::Kind::kTerminate : Waiter::Kind::kTerminateChild;
    started = shards_->Terminate(w.peer, w.child, now);
  } else {
    w.kind = w.child.empty() ? Waiter::Kind::kRekeyIke : Waiter::Kind::kRekeyChild;
    started = shards_->Rekey(w.peer, w.child, now);
  }
  if (!started) {
    Pump();
    w.responder->Finish(CommandOutcome::Fail(started.error()));
    return;
  }
  if (request.timeout > 0) {
    w.timeout = std::make_shared<boost::asio::steady_timer>(io_);
    w.timeout->expires_after(std::chrono::duration_cast<std::chrono::milliseconds>(
        std::chrono::duration<double>(request.timeout)));
    w.timeout->async_wait([this, id = w.id, timeout = request.timeout,
                           cmd](boost::system::error_code ec) {
      if (ec) return;
      auto it = std::find_if(waiters_.begin(), waiters_.end(),
                             [id](const Waiter& x) { return x.id == id; });
      if (it == waiters_.end()) return;
      auto waiting = std::move(it->responder);
      waiters_.erase(it);
      waiting->Finish(CommandOutcome::Fail(fmt::format(
          "{} timed out after {} s; it goes on in the background", cmd, timeout)));
    });
  }
  waiters_.push_back(std::move(w));
  Pump();  // its first messages go out; their lines reach the client
  AdvanceWaiters({});  // e.g. terminate of a connection without an SA: done at once
}

std::expected<void, std::string> Daemon::StartWithoutWaiting(const WaitRequest& request) {
  if (config_.Find(request.peer) == nullptr) {
    return std::unexpected(fmt::format("no connection named '{}'", request.peer));
  }
  const auto now = Now();
  std::expected<void, std::string> result;
  switch (request.command) {
    case WaitRequest::Command::kInitiate:
      if (auto serial = shards_->Initiate(request.peer, request.child, now); !serial) {
        result = std::unexpected(serial.error());
      }
      break;
    case WaitRequest::Command::kTerminate:
      result = shards_->Terminate(request.peer, request.child, now);
      break;
    case WaitRequest::Command::kRekey:
      result = shards_->Rekey(request.peer, request.child, now);
      break;
  }
  Pump();
  return result;
}

void Daemon::AdvanceWaiters(const std::vector<ike::Event>& events) {
  using Kind = Waiter::Kind;
  std::vector<std::pair<std::shared_ptr<CommandResponder>, CommandOutcome>> done;
  std::erase_if(waiters_, [&](Waiter& w) {
    std::optional<CommandOutcome> outcome;
    for (const auto& e : events) {
      if (e.peer != w.peer) continue;
      if (auto line = ProgressLine(e)) w.responder->Progress(*line);
      if (e.kind == ike::EventKind::kFailure && e.notify) w.last_notify = ike::Name(*e.notify);
      const bool child_matches = w.child.empty() || e.child == w.child;
      switch (w.kind) {
        case Kind::kInitiate:
          if (e.kind == ike::EventKind::kChildUp && child_matches) {
            outcome = CommandOutcome::Ok(fmt::format("CHILD_SA {} established", e.child));
          } else if (e.kind == ike::EventKind::kIkeUp && e.ike_serial == w.ike_serial &&
                     config_.Find(w.peer)->children.empty()) {
            outcome = CommandOutcome::Ok("IKE_SA established");
          } else if (e.kind == ike::EventKind::kIkeDown && e.ike_serial == w.ike_serial) {
            outcome = CommandOutcome::Fail(fmt::format(
                "IKE_SA {}[{}] failed: {}{}", e.peer, e.ike_serial, e.text,
                w.last_notify.empty() ? std::string() : fmt::format(" ({})", w.last_notify)));
          } else if (e.kind == ike::EventKind::kFailure && e.ike_serial == w.ike_serial &&
                     !e.child.empty() && child_matches && e.notify) {
            outcome = CommandOutcome::Fail(
                fmt::format("CHILD_SA {} failed: {} ({})", e.child, e.text, ike::Name(*e.notify)));
          }
          break;
        case Kind::kTerminateChild:
          if (e.kind == ike::EventKind::kChildDown && e.child == w.child)
            outcome = CommandOutcome::Ok(fmt::format("CHILD_SA {} deleted", e.child));
          break;
        case Kind::kRekeyChild:
          if (e.kind == ike::EventKind::kChildRekeyed && e.child == w.child) {
            outcome = CommandOutcome::Ok(fmt::format("CHILD_SA {} rekeyed", e.child));
          } else if (e.kind == ike::EventKind::kFailure && e.child == w.child && e.notify) {
            outcome = CommandOutcome::Fail(fmt::format("CHILD_SA {} rekey failed: {} ({})", e.child,
                                                     e.text, ike::Name(*e.notify)));
          }
          break;
        case Kind::kRekeyIke:
          if (e.kind == ike::EventKind::kIkeRekeyed) {
            outcome = CommandOutcome::Ok("IKE_SA rekeyed");
          } else if (e.kind == ike::EventKind::kFailure &&
                     e.text.starts_with("IKE rekey failed")) {
            outcome = CommandOutcome::Fail(fmt::format(
                "IKE_SA rekey failed{}", e.notify ? fmt::format(" ({})", ike::Name(*e.notify))
                                                  : std::string()));
          }
          break;
        case Kind::kTerminate:
          break;
      }
      if (outcome) break;
    }
    if (!outcome && w.kind == Kind::kTerminate && shards_->ike_sa_count(w.peer) == 0)
      outcome = CommandOutcome::Ok("IKE_SA deleted");
    if (!outcome && (w.kind == Kind::kRekeyIke || w.kind == Kind::kRekeyChild ||
                     w.kind == Kind::kTerminateChild) &&
        shards_->ike_sa_count(w.peer) == 0) {
      outcome = CommandOutcome::Fail(fmt::format("the IKE_SA of '{}' is gone", w.peer));
    }
    if (!outcome) return false;
    if (w.timeout) w.timeout->cancel();
    done.emplace_back(std::move(w.responder), std::move(*outcome));
    return true;
  });
  for (auto& [responder, reply] : done) responder->Finish(reply);
}

void Daemon::FinishWaiters(const CommandOutcome& outcome) {
  auto waiters = std::move(waiters_);
  waiters_.clear();
  for (auto& w : waiters) {
    if (w.timeout) w.timeout->cancel();
    w.responder->Finish(outcome);
  }
}


namespace {

vici::Message Failed(std::string errmsg) {
  return vici::Message().Add("success", "no").Add("errmsg", std::move(errmsg));
}

std::string Count(std::uint64_t n) { return std::to_string(n); }

}  // namespace

// minivpn-stats: exchanges by type, retransmits, failures by notify, the SA counts.
vici::Message Daemon::ViciStats() const {
  vici::Section exchanges, failures;
  for (const auto& [name, n] : exchanges_) exchanges.Add(name, Count(n));
  for (const auto& [name, n] : failures_) failures.Add(name, Count(n));
  return vici::Message()
      .AddSection("exchanges", std::move(exchanges))
      .AddSection("retransmits", vici::Section().Add("total", Count(retransmits_)))
      .AddSection("failures", std::move(failures))
      .Add("ike-sas", Count(shards_->ike_sa_count()))
      .Add("half-open", Count(shards_->half_open_count()))
      .Add("child-sas", Count(shards_->child_sa_count()))
      .Add("uptime",
           Count(static_cast<std::uint64_t>(
               std::chrono::duration_cast<std::chrono::seconds>(Now() - started_).count())))
      .Add("success", "yes");
}

// minivpn-explain: the key-derivation walk-through of one IKE SA (ike/observe/keymat_explain.h),
// by connection name (`ike`: its newest established IKE SA) or uniqueid (`ike-id`), one line a
// list item. With show-secrets the reply carries key values: it goes to the root-only vici
// socket and nowhere else.
vici::Message Daemon::ViciExplain(const vici::Message& request) {
  const std::string name = request.ValueOr("ike", "");
  const std::string id_text = request.ValueOr("ike-id", "");
  const bool show_secrets = request.ValueOr("show-secrets", "no") == "yes";
  std::uint64_t serial = 0;
  if (!id_text.empty()) {
    char* end = nullptr;
    serial = std::strtoull(id_text.c_str(), &end, 10);
    if (*end != '\0' || serial == 0) {
      return Failed(fmt::format("ike-id '{}' is not an IKE SA uniqueid", id_text));
    }
  }
  if (name.empty() == id_text.empty()) {
    return Failed("minivpn-explain needs either ike (a connection) or ike-id (an IKE SA)");
  }
  const auto sas = shards_->ListSas(Now());
  if (serial == 0) {
    if (config_.Find(name) == nullptr) return Failed(fmt::format("no connection named '{}'", name));
    // The newest established IKE SA of the connection, else its newest one.
    std::uint64_t newest = 0;
    for (const auto& ike : sas) {
      if (ike.peer != name) continue;
      newest = std::max(newest, ike.serial);
      if (ike.state == ike::IkeState::kEstablished || ike.state == ike::IkeState::kRekeying)
        serial = std::max(serial, ike.serial);
    }
    if (serial == 0) serial = newest;
    if (serial == 0) return Failed(fmt::format("connection '{}' has no IKE SA", name));
  }
  auto input = shards_->ExplainInput(serial, show_secrets);
  if (!input) return Failed(input.error());
  std::string shown_name;
  for (const auto& ike : sas)
    if (ike.serial == serial) shown_name = ike.peer;
  vici::List lines;
  std::istringstream text(
      ike::ExplainKeymat(*input, ike::ExplainOptions{.show_secrets = show_secrets}));
  for (std::string line; std::getline(text, line);) lines.push_back(std::move(line));
  return vici::Message()
      .Add("name", shown_name)
      .Add("uniqueid", Count(serial))
      .Add("show-secrets", show_secrets ? "yes" : "no")
      .AddList("text", std::move(lines))
      .Add("success", "yes");
}

// minivpn-log-level: one subsystem's level (or all), as `-d` sets it at start.
vici::Message Daemon::ViciLogLevel(const vici::Message& request) {
  const std::string subsystem = request.ValueOr("subsystem", "");
  const std::string level_text = request.ValueOr("level", "");
  if (level_text.size() != 1 || level_text[0] < '0' || level_text[0] > '3') {
    return Failed(fmt::format("level '{}': expected 0 to 3", level_text));
  }
  const int level = level_text[0] - '0';
  if (subsystem == "all") {
    log_.SetAllLevels(level);
  } else if (auto s = ParseSubsystem(subsystem)) {
    log_.SetLevel(*s, level);
  } else {
    return Failed(fmt::format("unknown subsystem '{}' (expected ike, cfg, knl, net, enc or all)",
                              subsystem));
  }
  return vici::Message().Add("success", "yes");
}

}  // namespace minivpn::daemon
