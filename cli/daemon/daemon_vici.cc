// The vici socket's commands (strongSwan's versioned interface, what swanctl speaks), answered
// with the keys charon fills, from the engine's query API and the kernel's counters. The
// waiting commands (initiate, terminate, rekey) run through the daemon's waiters
// (daemon_control.cc): their log lines become control-log events, their outcome the reply.
#include <sys/utsname.h>

#include <fmt/core.h>
#include <fmt/format.h>

#include <algorithm>
#include <cctype>

#include "cli/daemon/daemon.h"
#include "cli/version.h"
#include "ike/wire/registry.h"

namespace minivpn::daemon {

namespace {

using vici::Message;
using vici::Section;

std::string Num(std::int64_t n) { return std::to_string(n); }

// charon's algorithm names in vici: its enum names, which are ours without the IKEv2 registry
// prefix ("ENCR_AES_GCM_16" -> "AES_GCM_16", "AUTH_HMAC_SHA2_256_128" -> "HMAC_SHA2_256_128").
std::string Unprefixed(std::string_view name, std::string_view prefix) {
  if (name.starts_with(prefix)) name.remove_prefix(prefix.size());
  return std::string(name);
}

void AddEncr(Section& s, const ike::EncrSpec& encr) {
  s.Add("encr-alg", Unprefixed(crypto::Name(encr.id), "ENCR_"));
  if (!crypto::HasFixedKey(encr.id)) s.Add("encr-keysize", Num(encr.key_bits));
}

void AddInteg(Section& s, crypto::IntegId integ) {
  if (integ == crypto::IntegId::kNone) return;
  s.Add("integ-alg", Unprefixed(crypto::Name(integ), "AUTH_"));
}

vici::List SelectorList(const std::vector<base::Selector>& list) {
  vici::List out;
  for (const auto& ts : list) out.push_back(ts.ToString());
  return out;
}

// A CHILD_SA as list-sa's child-sas entries have it; `cfg` is its configuration, if known.
Section ChildSection(const ike::IkeSaInfo& ike, const ike::ChildSaInfo& child,
                     const config::ChildConfig* cfg, xfrm::KernelIpsec& kernel) {
  Section c;
  c.Add("name", child.name)
      .Add("uniqueid", Num(static_cast<std::int64_t>(child.id)))
      .Add("reqid", Num(child.reqid))
      .Add("state", std::string(ike::Name(child.state)))
      .Add("mode", child.transport ? "TRANSPORT" : "TUNNEL")
      .Add("protocol", "ESP");
  if (child.encap) c.Add("encap", "yes");
  c.Add("spi-in", fmt::format("{:08x}", child.spi_in))
      .Add("spi-out", fmt::format("{:08x}", child.spi_out));
  // As charon: the value when set, the mask only when it is not all ones.
  auto mark = [&c](const char* dir, const xfrm::Mark& m) {
    if (m.value == 0) return;
    c.Add(fmt::format("mark-{}", dir), fmt::format("{:08x}", m.value));
    if (m.mask != 0xffffffff)
      c.Add(fmt::format("mark-mask-{}", dir), fmt::format("{:08x}", m.mask));
  };
  mark("in", child.mark_in);
  mark("out", child.mark_out);
  if (child.if_id_in != 0) c.Add("if-id-in", fmt::format("{:08x}", child.if_id_in));
  if (child.if_id_out != 0) c.Add("if-id-out", fmt::format("{:08x}", child.if_id_out));
  AddEncr(c, child.suite.encr);
  AddInteg(c, child.suite.integ);
  if (child.suite.dh != crypto::DhGroup::kNone) {
    c.Add("dh-group", std::string(crypto::Name(child.suite.dh)));
  }
  if (child.suite.esn) c.Add("esn", "1");
  auto counters = [&](const char* dir, const xfrm::SaId& id) {
    auto n = kernel.QuerySa(id);
    if (!n) return;
    c.Add(fmt::format("bytes-{}", dir), Num(static_cast<std::int64_t>(n->bytes)))
        .Add(fmt::format("packets-{}", dir), Num(static_cast<std::int64_t>(n->packets)));
    if (n->last_use) {
      const auto now = std::chrono::duration_cast<std::chrono::seconds>(
          std::chrono::system_clock::now().time_since_epoch());
      c.Add(fmt::format("use-{}", dir), Num((now - *n->last_use).count()));
    }
  };
  counters("in", xfrm::SaId{ike.remote.address, ike.local.address, child.spi_in, 50,
                            child.inbound_sa_mark});
  counters("out", xfrm::SaId{ike.local.address, ike.remote.address, child.spi_out, 50,
                             child.mark_out});
  // As charon's list_child_stats: no rekey-time or life-time for a CHILD_SA without one (a
  // volume-only lifetime, rekey=no), instead of a time counting down from its installation.
  if (!cfg || cfg->rekey_time.count() > 0) c.Add("rekey-time", Num(child.rekey_in.count()));
  if (!cfg || cfg->life_time.count() > 0) c.Add("life-time", Num(child.life_in.count()));
  c.Add("install-time", Num(child.age.count()))
      .AddList("local-ts", SelectorList(child.local_ts))
      .AddList("remote-ts", SelectorList(child.remote_ts));
  return c;
}

// charon's action_names (5.9: "none", "trap", "start") and unique_policy_names, as list-conn
// shows them.
std::string ActionName(config::Action a) {
  switch (a) {
    case config::Action::kNone: return "none";
    case config::Action::kTrap: return "trap";
    case config::Action::kStart: return "start";
  }
  return "none";
}

std::string UniqueName(config::UniquePolicy u) {
  switch (u) {
    case config::UniquePolicy::kNo: return "UNIQUE_NO";
    case config::UniquePolicy::kNever: return "UNIQUE_NEVER";
    case config::UniquePolicy::kReplace: return "UNIQUE_REPLACE";
    case config::UniquePolicy::kKeep: return "UNIQUE_KEEP";
  }
  return "UNIQUE_NO";
}

}  // namespace

// An IKE SA as list-sa (and the updown events) have it; the child-sas section only when asked.
Section Daemon::ViciIkeSection(const ike::IkeSaInfo& ike, std::string_view only_child,
                               std::uint64_t only_child_id, bool with_children) const {
  Section s;
  s.Add("uniqueid", Num(static_cast<std::int64_t>(ike.serial)))
      .Add("version", "2")
      .Add("state", std::string(ike::Name(ike.state)))
      .Add("local-host", ike.local.address.ToString())
      .Add("local-port", Num(ike.local.port));
  const auto* conn = config_.Find(ike.peer);
  if (conn) s.Add("local-id", conn->local_id.ToString());
  s.Add("remote-host", ike.remote.address.ToString()).Add("remote-port", Num(ike.remote.port));
  if (!ike.remote_identity.empty()) {
    s.Add("remote-id", ike.remote_identity);
  } else if (conn) {
    s.Add("remote-id", conn->remote_id.ToString());
  }
  if (ike.initiator) s.Add("initiator", "yes");
  s.Add("initiator-spi", fmt::format("{:016x}", ike.spi_i))
      .Add("responder-spi", fmt::format("{:016x}", ike.spi_r));
  if (ike.nat_local) s.Add("nat-local", "yes");
  if (ike.nat_remote) s.Add("nat-remote", "yes");
  if (ike.nat_fake) s.Add("nat-fake", "yes");
  if (ike.nat_local || ike.nat_remote || ike.nat_fake) s.Add("nat-any", "yes");
  if (ike.if_id_in != 0) s.Add("if-id-in", fmt::format("{:08x}", ike.if_id_in));
  if (ike.if_id_out != 0) s.Add("if-id-out", fmt::format("{:08x}", ike.if_id_out));
  if (ike.suite) {
    AddEncr(s, ike.suite->encr);
    AddInteg(s, ike.suite->integ);
    s.Add("prf-alg", std::string(crypto::Name(ike.suite->prf)))
        .Add("dh-group", std::string(crypto::Name(ike.suite->dh)));
  }
  if (ike.state == ike::IkeState::kEstablished || ike.state == ike::IkeState::kRekeying) {
    s.Add("established", Num(ike.age.count()));
  }
  if (ike.rekey_in) s.Add("rekey-time", Num(ike.rekey_in->count()));
  if (ike.reauth_in) s.Add("reauth-time", Num(ike.reauth_in->count()));
  if (!with_children) return s;
  Section children;
  for (const auto& child : ike.children) {
    if (!only_child.empty() && child.name != only_child) continue;
    if (only_child_id != 0 && child.id != only_child_id) continue;
    // charon names each entry <child name>-<unique id>
    const config::ChildConfig* cfg = nullptr;
    for (std::size_t i = 0; conn && i < conn->children.size(); ++i) {
      if (conn->children[i].name == child.name) cfg = &conn->children[i];
    }
    children.AddSection(fmt::format("{}-{}", child.name, child.id),
                        ChildSection(ike, child, cfg, *kernel_));
  }
  s.AddSection("child-sas", std::move(children));
  return s;
}

namespace {

// A waiting command, answered on the vici socket: progress lines become control-log events,
// the outcome {success, errmsg} (and the counts terminate reports).
class ViciWaiterReply : public CommandResponder {
 public:
  ViciWaiterReply(std::shared_ptr<ViciResponder> vici, std::string command, std::size_t matches)
      : vici_(std::move(vici)), command_(std::move(command)), matches_(matches) {}

  // "[ENC] A-B[1] generating ..." -> group ENC, ikesa-name A-B, ikesa-uniqueid 1, the text.
  void Progress(std::string_view line) override {
    if (!vici_->Wants("control-log")) return;
    Section e;
    std::string_view rest = line;
    std::string group = "IKE";
    if (rest.starts_with('[') && rest.find("] ") != std::string_view::npos) {
      group = std::string(rest.substr(1, rest.find(']') - 1));
      rest.remove_prefix(rest.find("] ") + 2);
    }
    e.Add("group", group).Add("level", "1");
    const std::size_t open = rest.find('['), close = rest.find("] ");
    if (open != std::string_view::npos && close != std::string_view::npos && open < close &&
        rest.find(' ') > open) {
      e.Add("ikesa-name", std::string(rest.substr(0, open)))
          .Add("ikesa-uniqueid", std::string(rest.substr(open + 1, close - open - 1)));
      rest.remove_prefix(close + 2);
    }
    e.Add("msg", std::string(rest));
    vici_->Event("control-log", e);
  }

  void Finish(const CommandOutcome& outcome) override {
    Message m;
    m.Add("success", outcome.ok ? "yes" : "no");
    if (command_ == "terminate" || command_ == "rekey") {
      m.Add("matches", Num(static_cast<std::int64_t>(matches_)));
      if (command_ == "terminate") m.Add("terminated", Num(outcome.ok ? matches_ : 0));
    }
    if (!outcome.ok) m.Add("errmsg", outcome.text);
    vici_->Finish(m);
  }

 private:
  std::shared_ptr<ViciResponder> vici_;
  std::string command_;
  std::size_t matches_;
};

// charon's counters plugin, in its order.
constexpr const char* kCounterNames[] = {
    "ike-rekey-init",       "ike-rekey-resp",        "child-rekey",         "invalid",
    "invalid-spi",          "ike-init-in-req",       "ike-init-in-resp",    "ike-init-out-req",
    "ike-init-out-resp",    "ike-auth-in-req",       "ike-auth-in-resp",    "ike-auth-out-req",
    "ike-auth-out-resp",    "create-child-in-req",   "create-child-in-resp",
    "create-child-out-req", "create-child-out-resp", "info-in-req",         "info-in-resp",
    "info-out-req",         "info-out-resp"};

// The first connection with a child of that name (vici commands may name only the child);
// empty if none has one.
std::string ConnectionOfChild(const config::Config& config, std::string_view child) {
  for (const auto& conn : config.connections) {
    for (const auto& c : conn.children) {
      if (!child.empty() && c.name == child) return conn.name;
    }
  }
  return {};
}

Message Failure(std::string errmsg) {
  return Message().Add("success", "no").Add("errmsg", std::move(errmsg));
}

}  // namespace

void Daemon::OnViciCommand(const std::string& command, const vici::Message& request,
                           std::shared_ptr<ViciResponder> responder) {
  const auto now = Now();
  if (shutting_down_) return responder->Finish(Failure("minivpnd is shutting down"));
  if (command == "version") {
    utsname u{};
    ::uname(&u);
    responder->Finish(Message()
                          .Add("daemon", "minivpnd")
                          .Add("version", MINIVPN_VERSION)
                          .Add("sysname", u.sysname)
                          .Add("release", u.release)
                          .Add("machine", u.machine));
  } else if (command == "stats") {
    const auto up = std::chrono::duration_cast<std::chrono::seconds>(now - started_).count();
    const auto since = std::chrono::system_clock::now() - std::chrono::seconds(up);
    const std::time_t since_t = std::chrono::system_clock::to_time_t(since);
    char since_text[32] = {};
    std::tm tm{};
    ::localtime_r(&since_t, &tm);
    std::strftime(since_text, sizeof since_text, "%b %d %H:%M:%S %Y", &tm);
    // One event thread: charon's worker and queue figures, as they are for it.
    const Section priorities =
        Section().Add("critical", "0").Add("high", "0").Add("medium", "0").Add("low", "0");
    responder->Finish(
        Message()
            .AddSection("uptime", Section()
                                      .Add("running", fmt::format("{} seconds", up))
                                      .Add("since", since_text))
            .AddSection("workers", Section()
                                       .Add("total", "1")
                                       .Add("idle", "1")
                                       .AddSection("active", priorities))
            .AddSection("queues", priorities)
            .Add("scheduled", "0")
            .AddSection("ikesas",
                        Section()
                            .Add("total", Num(static_cast<std::int64_t>(shards_->ike_sa_count())))
                            .Add("half-open",
                                 Num(static_cast<std::int64_t>(shards_->half_open_count()))))
            .AddList("plugins", {}));
  } else if (command == "list-sas") {
    const std::string ike = request.ValueOr("ike", "");
    const std::uint64_t ike_id = std::strtoull(request.ValueOr("ike-id", "0").c_str(), nullptr, 10);
    const std::string child = request.ValueOr("child", "");
    const std::uint64_t child_id =
        std::strtoull(request.ValueOr("child-id", "0").c_str(), nullptr, 10);
    if (responder->Wants("list-sa")) {
      for (const auto& sa : shards_->ListSas(now)) {
        if ((!ike.empty() && sa.peer != ike) || (ike_id != 0 && sa.serial != ike_id)) continue;
        responder->Event("list-sa",
                         Message().AddSection(sa.peer, ViciIkeSection(sa, child, child_id)));
      }
    }
    // minivpnd's own event (swanctl does not register for it): the links it owns that follow
    // their CHILD_SAs, and why one is down.
    if (responder->Wants("list-link")) {
      for (const auto& [name, link] : link_states_) {
        vici::List users;
        bool shown = ike.empty();
        for (const auto& [conn, child_name] : link.users) {
          users.push_back(conn + "/" + child_name);
          shown = shown || conn == ike;
        }
        if (!shown) continue;
        Section s;
        s.Add("kind", link.kind == LinkState::Kind::kVti ? "vti" : "xfrm")
            .Add("state", link.up ? "up" : "down")
            .Add("since", Num(std::chrono::duration_cast<std::chrono::seconds>(now - link.since)
                                  .count()))
            .AddList("children", std::move(users));
        if (!link.up) s.Add("reason", link.reason);
        responder->Event("list-link", Message().AddSection(name, std::move(s)));
      }
    }
    responder->Finish(Message());
  } else if (command == "list-conns") {
    const std::string only = request.ValueOr("ike", "");
    if (responder->Wants("list-conn")) {
      for (const auto& conn : config_.connections) {
        if (!only.empty() && conn.name != only) continue;
        responder->Event("list-conn", Message().AddSection(conn.name, ViciConnSection(conn)));
      }
    }
    responder->Finish(Message());
  } else if (command == "get-conns") {
    // Connections loaded over vici only (the files' are another backend's, as for charon).
    vici::List names;
    for (const auto& [name, text] : vici_conns_) names.push_back(name);
    responder->Finish(Message().AddList("conns", std::move(names)));
  } else if (command == "get-shared") {
    vici::List ids;
    for (const auto& [id, text] : vici_secrets_) ids.push_back(id);
    responder->Finish(Message().AddList("keys", std::move(ids)));
  } else if (command == "get-keys") {  // private keys: none, minivpnd authenticates with PSKs
    responder->Finish(Message().AddList("keys", {}));
  } else if (command == "get-authorities") {
    responder->Finish(Message().AddList("authorities", {}));
  } else if (command == "get-pools") {
    responder->Finish(Message());
  } else if (command == "load-conn" || command == "unload-conn" || command == "load-shared" ||
             command == "unload-shared" || command == "clear-creds") {
    ViciLoad(command, request, *responder);
  } else if (command == "load-cert" || command == "load-key" || command == "load-token" ||
             command == "load-authority" || command == "load-pool") {
    responder->Finish(Failure(fmt::format(
        "{}: minivpnd authenticates with pre-shared keys only (no certificates, keys, "
        "authorities or pools)",
        command)));
  } else if (command == "reload-settings") {
    // strongswan.conf and the configuration files (charon reloads strongswan.conf only; its
    // connections come from swanctl). The reply says what changed, as minivpnctl shows it.
    const ReloadOutcome r = Reload();
    Message m;
    for (const auto& [key, names] : {std::pair{"added", &r.added}, std::pair{"removed", &r.removed},
                                     std::pair{"changed", &r.changed},
                                     std::pair{"unchanged", &r.unchanged}}) {
      m.AddList(key, vici::List(names->begin(), names->end()));
    }
    if (r.refused || !r.errors.empty()) {
      m.Add("success", "no")
          .Add("errmsg", fmt::format("{}: {}",
                                     r.refused ? "refused, the running configuration is kept"
                                               : "applied with errors",
                                     fmt::join(r.errors, "; ")));
    } else {
      m.Add("success", "yes");
    }
    responder->Finish(m);
  } else if (command == "minivpn-stats") {
    responder->Finish(ViciStats());
  } else if (command == "minivpn-explain") {
    responder->Finish(ViciExplain(request));
  } else if (command == "minivpn-log-level") {
    responder->Finish(ViciLogLevel(request));
  } else if (command == "get-counters") {
    // charon's counters plugin: the global counters under "" (or one connection's), or all.
    const std::string name = request.ValueOr("name", "");
    const bool all = request.ValueOr("all", "no") == "yes";
    Section counters;
    for (const auto& [conn, values] : counters_) {
      if (!all && conn != name) continue;
      Section c;
      for (const auto& [key, n] : values) c.Add(key, Num(static_cast<std::int64_t>(n)));
      counters.AddSection(conn, std::move(c));
    }
    if (counters.empty()) {
      Section zero;
      for (const char* key : kCounterNames) zero.Add(key, "0");
      counters.AddSection(name, std::move(zero));
    }
    responder->Finish(Message().AddSection("counters", std::move(counters)).Add("success", "yes"));
  } else if (command == "reset-counters") {
    const std::string name = request.ValueOr("name", "");
    if (request.ValueOr("all", "no") == "yes") {
      counters_.clear();
    } else {
      counters_.erase(name);
    }
    responder->Finish(Message().Add("success", "yes"));
  } else if (command == "install" || command == "uninstall") {
    // A CHILD_SA config's trap policies (start_action = trap without waiting for a reload).
    const std::string child = request.ValueOr("child", "");
    std::string ike = request.ValueOr("ike", "");
    if (ike.empty()) ike = ConnectionOfChild(config_, child);
    auto done = ike.empty() ? std::unexpected(fmt::format("configuration '{}' not found", child))
                : command == "install" ? shards_->InstallTrap(ike, child, now)
                                       : shards_->UninstallTrap(ike, child);
    Pump();
    responder->Finish(done ? Message().Add("success", "yes") : Failure(done.error()));
  } else if (command == "initiate" || command == "terminate" || command == "rekey") {
    ViciControl(command, request, std::move(responder));
  } else {
    responder->Unknown();
  }
}

void Daemon::ViciControl(const std::string& command, const vici::Message& request,
                         std::shared_ptr<ViciResponder> responder) {
  std::string ike = request.ValueOr("ike", "");
  const std::string child = request.ValueOr("child", "");
  if (request.Find("ike-id") || request.Find("child-id")) {
    responder->Finish(Failure(fmt::format(
        "{} by ike-id or child-id is not supported by minivpnd; name the connection (ike, child)",
        command)));
    return;
  }
  if (ike.empty()) ike = ConnectionOfChild(config_, child);
  if (ike.empty()) {
    responder->Finish(Failure(child.empty()
                                  ? "missing configuration name"
                                  : fmt::format("CHILD_SA config '{}' not found", child)));
    return;
  }
  // timeout in ms: 0 (default) waits for the outcome, -1 answers once started; at most a day
  // (a larger one would overflow the timer's clock).
  const long timeout_ms = std::min(std::strtol(request.ValueOr("timeout", "0").c_str(), nullptr, 10),
                                   86'400'000L);
  const WaitRequest wait{.command = command == "initiate"    ? WaitRequest::Command::kInitiate
                                    : command == "terminate" ? WaitRequest::Command::kTerminate
                                                             : WaitRequest::Command::kRekey,
                         .peer = ike,
                         .child = child,
                         .timeout = timeout_ms > 0 ? static_cast<double>(timeout_ms) / 1000.0 : 0};
  // charon's `matches`: the IKE SAs of the connection, or with `child` its CHILD_SAs of that
  // name (installed ones).
  std::size_t matches = 0;
  if (child.empty()) {
    matches = shards_->ike_sa_count(ike);
  } else {
    for (const auto& sa : shards_->ListSas(Now())) {
      if (sa.peer != ike) continue;
      for (const auto& c : sa.children) {
        if (c.name == child && c.state == ike::ChildState::kInstalled) ++matches;
      }
    }
  }
  auto reply = std::make_shared<ViciWaiterReply>(std::move(responder), command,
                                                 command == "initiate" ? 0 : matches);
  if (timeout_ms < 0) {
    auto started = StartWithoutWaiting(wait);
    reply->Finish(started ? CommandOutcome::Ok("started") : CommandOutcome::Fail(started.error()));
    return;
  }
  StartWaiting(wait, std::move(reply));
}

namespace {

// A name that can stand as a section name in swanctl.conf text (and so cannot change the
// text's structure).
bool PlainName(std::string_view name) {
  return !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_';
  });
}

std::string Quoted(std::string_view value) {
  std::string out = "\"";
  for (char c : value) {
    if (c == '"' || c == '\\') out += '\\';
    if (c == '\n' || c == '\r') {
      out += c == '\n' ? "\\n" : "\\r";
      continue;
    }
    out += c;
  }
  return out + "\"";
}

// A vici section as swanctl.conf text: keys as quoted values, lists joined by commas (as the
// file writes them), sections as blocks. Names must be plain (PlainName).
std::expected<void, std::string> AppendSettings(std::string& out, const vici::Section& s,
                                                int depth) {
  const std::string indent(static_cast<std::size_t>(depth) * 2, ' ');
  for (const auto& e : s.elements) {
    if (!PlainName(e.name)) {
      return std::unexpected(fmt::format("invalid name '{}' (letters, digits, '-', '_')",
                                         vici::Shown(e.name)));
    }
    if (const auto* value = e.value()) {
      out += fmt::format("{}{} = {}\n", indent, e.name, Quoted(*value));
    } else if (const auto* list = e.list()) {
      out += fmt::format("{}{} = {}\n", indent, e.name, Quoted(fmt::format("{}", fmt::join(*list, ","))));
    } else if (const auto* section = e.section()) {
      out += fmt::format("{}{} {{\n", indent, e.name);
      if (auto nested = AppendSettings(out, *section, depth + 1); !nested) return nested;
      out += indent + "}\n";
    }
  }
  return {};
}

std::string Hex(std::string_view octets) {
  std::string out = "0x";
  for (unsigned char c : octets) out += fmt::format("{:02x}", c);
  return out;
}

}  // namespace

std::string Daemon::ViciSwanctlText() const {
  if (vici_conns_.empty() && vici_secrets_.empty()) return {};
  std::string out = "connections {\n";
  for (const auto& [name, text] : vici_conns_) out += text;
  out += "}\nsecrets {\n";
  for (const auto& [id, secret] : vici_secrets_) out += secret.text;
  return out + "}\n";
}

void Daemon::ViciLoad(const std::string& command, const vici::Message& request,
                      ViciResponder& responder) {
  // The change, then a reload with it; a refused reload undoes the change.
  auto conns = vici_conns_;
  auto secrets = vici_secrets_;
  if (command == "load-conn") {
    if (request.elements.empty()) return responder.Finish(Failure("no connection given"));
    auto loaded = vici_conns_;  // all sections or none
    for (const auto& e : request.elements) {
      const auto* body = e.section();
      if (body == nullptr || !PlainName(e.name)) {
        return responder.Finish(Failure(fmt::format("invalid connection '{}'",
                                                    vici::Shown(e.name))));
      }
      if (config_.Find(e.name) != nullptr && !vici_conns_.contains(e.name)) {
        return responder.Finish(Failure(fmt::format(
            "connection '{}' is defined in the configuration file; load it there", e.name)));
      }
      std::string text = "  " + e.name + " {\n";
      if (auto ok = AppendSettings(text, *body, 2); !ok) {
        return responder.Finish(Failure(fmt::format("connection '{}': {}", e.name, ok.error())));
      }
      loaded[e.name] = text + "  }\n";
    }
    vici_conns_ = std::move(loaded);
  } else if (command == "unload-conn") {
    const std::string name = request.ValueOr("name", "");
    if (vici_conns_.erase(name) == 0) {
      return responder.Finish(Failure(fmt::format("connection '{}' not found", name)));
    }
  } else if (command == "load-shared") {
    std::string type = request.ValueOr("type", "");
    std::transform(type.begin(), type.end(), type.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    if (type != "ike") {
      return responder.Finish(Failure(fmt::format(
          "shared key type '{}' not supported: minivpnd takes IKE pre-shared keys", type)));
    }
    const vici::List* owners = request.FindList("owners");
    const std::string* data = request.Find("data");
    std::string id = request.ValueOr("id", "");
    if (id.empty()) id = fmt::format("ike-{}", ++vici_secret_serial_);
    if (data == nullptr || data->empty() || !PlainName(id)) {
      return responder.Finish(Failure("load-shared needs an id (letters, digits, '-', '_') "
                                      "and data"));
    }
    // The section name must start with "ike" for swanctl.conf's secrets { }.
    WipedText text(fmt::format("  ike-vici-{} {{\n    secret = {}\n", id, Hex(*data)));
    for (std::size_t i = 0; owners && i < owners->size(); ++i) {
      text.text += fmt::format("    id-{} = {}\n", i + 1, Quoted((*owners)[i]));
    }
    text.text += "  }\n";
    vici_secrets_[id] = std::move(text);
  } else if (command == "unload-shared" || command == "clear-creds") {
    const std::string id = request.ValueOr("id", "");
    if (command == "clear-creds") {
      vici_secrets_.clear();
    } else if (vici_secrets_.erase(id) == 0) {
      return responder.Finish(Failure(fmt::format("shared key '{}' not found", id)));
    }
    // A key goes even when a connection still needs it (swanctl --load-all unloads stale keys
    // before it unloads their connections): the reload that would drop it from the running
    // configuration is then refused, and the reply says that the connection keeps its key
    // until it is unloaded or given another.
    const ReloadOutcome r = Reload();
    if (r.refused || !r.errors.empty()) {
      return responder.Finish(Failure(fmt::format(
          "the key is unloaded; the running connections keep their keys until they are "
          "unloaded or reloaded: {}",
          fmt::join(r.errors, "; "))));
    }
    return responder.Finish(Message().Add("success", "yes"));
  }
  const ReloadOutcome r = Reload();
  if (r.refused || !r.errors.empty()) {
    if (r.refused) {
      vici_conns_ = std::move(conns);
      vici_secrets_ = std::move(secrets);
    }
    return responder.Finish(Failure(fmt::format("{}", fmt::join(r.errors, "; "))));
  }
  responder.Finish(Message().Add("success", "yes"));
}

void Daemon::CountExchange(const ike::Event& event) {
  // "IKE_AUTH request 1 [ ... ]" -> ike-auth-in-req / -out-req ...; a CREATE_CHILD_SA request
  // rekeys the IKE SA when it has no TSi, a CHILD_SA when it has N(REKEY_SA).
  static constexpr std::pair<std::string_view, std::string_view> kExchanges[] = {
      {"IKE_SA_INIT", "ike-init"},
      {"IKE_AUTH", "ike-auth"},
      {"CREATE_CHILD_SA", "create-child"},
      {"INFORMATIONAL", "info"}};
  std::vector<std::string> keys;
  const std::string_view text = event.text;
  const bool in = event.kind == ike::EventKind::kExchangeReceived;
  if (event.kind == ike::EventKind::kDropped) {
    keys.push_back("invalid");
  } else {
    for (const auto& [exchange, counter] : kExchanges) {
      if (!text.starts_with(exchange) || text.size() <= exchange.size()) continue;
      const bool request = text.substr(exchange.size() + 1).starts_with("request");
      keys.push_back(
          fmt::format("{}-{}-{}", counter, in ? "in" : "out", request ? "req" : "resp"));
      if (exchange == "CREATE_CHILD_SA" && request) {
        if (text.find("TSi") == std::string_view::npos) {
          keys.push_back(in ? "ike-rekey-resp" : "ike-rekey-init");
        } else if (text.find("N(REKEY_SA)") != std::string_view::npos) {
          keys.push_back("child-rekey");
        }
      }
      break;
    }
  }
  auto count = [&](const std::string& scope) {
    auto& values = counters_[scope];
    if (values.empty()) {
      for (const char* name : kCounterNames) values[name] = 0;
    }
    for (const auto& key : keys) ++values[key];
  };
  count("");  // global
  if (!event.peer.empty()) count(event.peer);
}

void Daemon::ViciLogRecord(Subsystem s, int level, const std::optional<SaTag>& sa,
                           std::string_view text) {
  if (!vici_ || !vici_->HasListeners("log")) return;
  std::string group(Name(s));
  std::transform(group.begin(), group.end(), group.begin(),
                 [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  Message m;
  m.Add("group", group).Add("level", Num(level)).Add("thread", "1");
  if (sa) {
    m.Add("ikesa-name", std::string(sa->name))
        .Add("ikesa-uniqueid", Num(static_cast<std::int64_t>(sa->unique_id)));
    const std::string prefix = fmt::format("{}[{}] ", sa->name, sa->unique_id);
    if (text.starts_with(prefix)) text.remove_prefix(prefix.size());
  }
  m.Add("msg", std::string(text));
  vici_->Broadcast("log", m);
}

void Daemon::ViciSaEvents(const std::vector<ike::Event>& events) {
  const bool wanted = vici_->HasListeners("ike-updown") || vici_->HasListeners("child-updown") ||
                      vici_->HasListeners("ike-rekey") || vici_->HasListeners("child-rekey") ||
                      vici_->HasListeners("ike-update");
  // Nothing is listed (an O(SAs) walk per batch of events) while nobody listens; the down
  // event of an SA that went before the first listener came then carries no details.
  if (!wanted) {
    vici_sa_cache_.clear();
    return;
  }
  std::map<std::uint64_t, ike::IkeSaInfo> now;
  for (auto& sa : shards_->ListSas(Now())) {
    const std::uint64_t serial = sa.serial;
    now.emplace(serial, std::move(sa));
  }
  {
    // The SA as it is now, else as it was at the previous events (gone since).
    auto find = [&](std::uint64_t serial) -> const ike::IkeSaInfo* {
      if (auto it = now.find(serial); it != now.end()) return &it->second;
      if (auto it = vici_sa_cache_.find(serial); it != vici_sa_cache_.end()) return &it->second;
      return nullptr;
    };
    for (const auto& e : events) {
      const ike::IkeSaInfo* info = find(e.ike_serial);
      if (info == nullptr) continue;
      switch (e.kind) {
        case ike::EventKind::kIkeUp:
        case ike::EventKind::kIkeDown: {
          ike::IkeSaInfo shown = *info;
          const bool up = e.kind == ike::EventKind::kIkeUp;
          if (!up) shown.state = ike::IkeState::kDeleting;
          Message m;
          if (up) m.Add("up", "yes");
          m.AddSection(e.peer, ViciIkeSection(shown, "", 0, false));
          vici_->Broadcast("ike-updown", m);
          break;
        }
        case ike::EventKind::kChildUp:
        case ike::EventKind::kChildDown: {
          const bool up = e.kind == ike::EventKind::kChildUp;
          Message m;
          if (up) m.Add("up", "yes");
          m.AddSection(e.peer, ViciIkeSection(*info, e.child, e.child_id));
          vici_->Broadcast("child-updown", m);
          break;
        }
        case ike::EventKind::kIkeRekeyed:
        case ike::EventKind::kChildRekeyed: {
          const bool ike = e.kind == ike::EventKind::kIkeRekeyed;
          Message m;
          m.AddSection(e.peer, ike ? Section().AddSection("new", ViciIkeSection(*info, "", 0, false))
                                   : ViciIkeSection(*info, e.child, 0));
          vici_->Broadcast(ike ? "ike-rekey" : "child-rekey", m);
          break;
        }
        case ike::EventKind::kIkeUpdated: {  // charon's ike-update: the new endpoints
          Message m;
          m.Add("local-host", info->local.address.ToString())
              .Add("local-port", std::to_string(info->local.port))
              .Add("remote-host", info->remote.address.ToString())
              .Add("remote-port", std::to_string(info->remote.port));
          m.AddSection(e.peer, ViciIkeSection(*info, "", 0, false));
          vici_->Broadcast("ike-update", m);
          break;
        }
        default:
          break;
      }
    }
  }
  vici_sa_cache_ = std::move(now);
}

// A connection as list-conn has it.
vici::Section Daemon::ViciConnSection(const config::ConnectionConfig& conn) const {
  auto hosts = [](const std::vector<config::Host>& list) {
    vici::List out;
    for (const auto& h : list) {
      out.push_back(h.kind == config::Host::Kind::kHostname ? h.hostname
                    : h.kind == config::Host::Kind::kAny    ? std::string("%any")
                                                            : h.subnet.address.ToString());
    }
    if (out.empty()) out.push_back("%any");
    return out;
  };
  Section s;
  s.AddList("local_addrs", hosts(conn.local_addrs))
      .AddList("remote_addrs", hosts(conn.remote_addrs))
      .Add("version", "IKEv2")
      .Add("reauth_time", Num(conn.reauth_time.count()))
      .Add("rekey_time", Num(conn.rekey_time.count()))
      .Add("unique", UniqueName(conn.unique));
  for (const auto& [section, id] : {std::pair{"local-1", &conn.local_id},
                                    std::pair{"remote-1", &conn.remote_id}}) {
    s.AddSection(section, Section()
                              .Add("id", id->ToString())
                              .Add("class", "pre-shared key")
                              .AddList("groups", {})
                              .AddList("cert_policy", {})
                              .AddList("certs", {})
                              .AddList("cacerts", {}));
  }
  Section children;
  for (const auto& child : conn.children) {
    vici::List local = SelectorList(child.local_ts), remote = SelectorList(child.remote_ts);
    if (local.empty()) local.push_back("dynamic");
    if (remote.empty()) remote.push_back("dynamic");
    Section c;
    c.Add("mode", child.transport ? "TRANSPORT" : "TUNNEL")
        .Add("rekey_time", Num(child.rekey_time.count()))
        .Add("rekey_bytes", std::to_string(child.rekey_bytes))
        .Add("rekey_packets", std::to_string(child.rekey_packets))
        .Add("dpd_action", ActionName(child.dpd_action))
        .Add("close_action", ActionName(child.close_action))
        .AddList("local-ts", std::move(local))
        .AddList("remote-ts", std::move(remote));
    // minivpnd's additions (swanctl ignores keys it does not know): the VTI's marks, as the SAs
    // show theirs (the mask only when not all ones), and the start action.
    for (const auto& [dir, mark] : {std::pair{"in", &child.mark_in}, std::pair{"out", &child.mark_out}}) {
      if (mark->value == 0) continue;
      c.Add(fmt::format("mark_{}", dir), fmt::format("{:08x}", mark->value));
      if (mark->mask != 0xffffffff) c.Add(fmt::format("mark_mask_{}", dir), fmt::format("{:08x}", mark->mask));
    }
    static constexpr const char* kStart[] = {"none", "trap", "start", "trap|start"};
    c.Add("start_action", kStart[static_cast<int>(child.start_action)]);
    children.AddSection(child.name, std::move(c));
  }
  s.AddSection("children", std::move(children));
  return s;
}

}  // namespace minivpn::daemon
