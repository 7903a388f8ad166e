// The vici socket's commands (strongSwan's versioned interface, what swanctl speaks), answered
// with the keys charon fills, from the engine's query API and the kernel's counters. The
// waiting commands (initiate, terminate, rekey) run through the control socket's waiters
// (daemon_control.cc): their log lines become control-log events, their outcome the reply.
#include <sys/utsname.h>

#include <fmt/core.h>

#include <algorithm>

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
  if (encr.id != crypto::EncrId::kChaCha20Poly1305) s.Add("encr-keysize", Num(encr.key_bits));
}

void AddInteg(Section& s, crypto::IntegId integ) {
  if (integ == crypto::IntegId::kNone) return;
  s.Add("integ-alg", Unprefixed(crypto::Name(integ), "AUTH_"));
}

// A CHILD_SA as list-sa's child-sas entries have it.
Section ChildSection(const ike::IkeSaInfo& ike, const ike::ChildSaInfo& child,
                     xfrm::KernelIpsec& kernel) {
  Section c;
  c.Add("name", child.name)
      .Add("uniqueid", Num(static_cast<std::int64_t>(child.id)))
      .Add("reqid", Num(child.reqid))
      .Add("state", std::string(ike::Name(child.state)))
      .Add("mode", "TUNNEL")
      .Add("protocol", "ESP");
  if (child.encap) c.Add("encap", "yes");
  c.Add("spi-in", fmt::format("{:08x}", child.spi_in))
      .Add("spi-out", fmt::format("{:08x}", child.spi_out));
  // As charon: the value when set, the mask only when it is not all ones.
  auto mark = [&c](const char* dir, const xfrm::Mark& m) {
    if (m.value == 0) return;
    c.Add(fmt::format("mark-{}", dir), fmt::format("{:08x}", m.value));
    if (m.mask != 0xffffffff) c.Add(fmt::format("mark-mask-{}", dir), fmt::format("{:08x}", m.mask));
  };
  mark("in", child.mark_in);
  mark("out", child.mark_out);
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
  c.Add("rekey-time", Num(child.rekey_in.count()))
      .Add("life-time", Num(child.life_in.count()))
      .Add("install-time", Num(child.age.count()))
      .AddList("local-ts", {child.local_ts.ToString()})
      .AddList("remote-ts", {child.remote_ts.ToString()});
  return c;
}

// charon's action_names and unique_policy_names, as list-conn shows them.
std::string ActionName(config::Action a) {
  switch (a) {
    case config::Action::kNone: return "none";
    case config::Action::kTrap: return "trap";
    case config::Action::kStart: return "restart";
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
                               std::uint64_t only_child_id) const {
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
  if (ike.nat_local || ike.nat_remote) s.Add("nat-any", "yes");
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
  Section children;
  for (const auto& child : ike.children) {
    if (!only_child.empty() && child.name != only_child) continue;
    if (only_child_id != 0 && child.id != only_child_id) continue;
    // charon names each entry <child name>-<unique id>
    children.AddSection(fmt::format("{}-{}", child.name, child.id),
                        ChildSection(ike, child, *kernel_));
  }
  s.AddSection("child-sas", std::move(children));
  return s;
}

namespace {

// The control socket's waiting commands, answered on the vici socket: progress lines become
// control-log events, the outcome {success, errmsg} (and the counts terminate reports).
class ViciWaiterReply : public ControlResponder {
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

  void Finish(const ControlReply& reply) override {
    Message m;
    m.Add("success", reply.ok ? "yes" : "no");
    if (command_ == "terminate" || command_ == "rekey") {
      m.Add("matches", Num(static_cast<std::int64_t>(matches_)));
      if (command_ == "terminate") m.Add("terminated", Num(reply.ok ? matches_ : 0));
    }
    if (!reply.ok) m.Add("errmsg", reply.error);
    vici_->Finish(m);
  }

 private:
  std::shared_ptr<ViciResponder> vici_;
  std::string command_;
  std::size_t matches_;
};

Message Failure(std::string errmsg) {
  return Message().Add("success", "no").Add("errmsg", std::move(errmsg));
}

}  // namespace

void Daemon::OnViciCommand(const std::string& command, const vici::Message& request,
                           std::shared_ptr<ViciResponder> responder) {
  const auto now = Now();
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
                            .Add("total", Num(static_cast<std::int64_t>(engine_->ike_sa_count())))
                            .Add("half-open",
                                 Num(static_cast<std::int64_t>(engine_->half_open_count()))))
            .AddList("plugins", {}));
  } else if (command == "list-sas") {
    const std::string ike = request.ValueOr("ike", "");
    const std::uint64_t ike_id = std::strtoull(request.ValueOr("ike-id", "0").c_str(), nullptr, 10);
    const std::string child = request.ValueOr("child", "");
    const std::uint64_t child_id =
        std::strtoull(request.ValueOr("child-id", "0").c_str(), nullptr, 10);
    if (responder->Wants("list-sa")) {
      for (const auto& sa : engine_->ListSas(now)) {
        if ((!ike.empty() && sa.peer != ike) || (ike_id != 0 && sa.serial != ike_id)) continue;
        responder->Event("list-sa",
                         Message().AddSection(sa.peer, ViciIkeSection(sa, child, child_id)));
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
    // Connections loaded over vici only: none yet (load-conn is not served; the configuration
    // files' connections belong to another backend, as for charon).
    responder->Finish(Message().AddList("conns", {}));
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
  if (ike.empty() && !child.empty()) {  // the connection that has this child
    for (const auto& conn : config_.connections) {
      for (const auto& c : conn.children) {
        if (c.name == child && ike.empty()) ike = conn.name;
      }
    }
  }
  if (ike.empty()) {
    responder->Finish(Failure(child.empty() ? "missing configuration name"
                                            : fmt::format("CHILD_SA config '{}' not found", child)));
    return;
  }
  // timeout in ms: 0 (default) waits for the outcome, -1 answers at once.
  const long timeout_ms = std::strtol(request.ValueOr("timeout", "0").c_str(), nullptr, 10);
  ControlRequest control{.command = command, .args = {{"name", ike}}};
  if (!child.empty()) control.args["child"] = child;
  if (timeout_ms >= 0) {
    control.args["wait"] = true;
    if (timeout_ms > 0) control.args["timeout"] = static_cast<double>(timeout_ms) / 1000.0;
  }
  const std::size_t matches = engine_ ? engine_->ike_sa_count(ike) : 0;
  auto reply = std::make_shared<ViciWaiterReply>(std::move(responder), command,
                                                 command == "initiate" ? 0 : matches);
  OnControlRequest(control, std::move(reply));
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
      .Add("reauth_time", "0")
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
    vici::List local, remote;
    for (const auto& ts : child.local_ts) local.push_back(ts.ToString());
    for (const auto& ts : child.remote_ts) remote.push_back(ts.ToString());
    if (local.empty()) local.push_back("dynamic");
    if (remote.empty()) remote.push_back("dynamic");
    children.AddSection(child.name, Section()
                                        .Add("mode", "TUNNEL")
                                        .Add("rekey_time", Num(child.rekey_time.count()))
                                        .Add("rekey_bytes", "0")
                                        .Add("rekey_packets", "0")
                                        .Add("dpd_action", ActionName(child.dpd_action))
                                        .Add("close_action", ActionName(child.close_action))
                                        .AddList("local-ts", std::move(local))
                                        .AddList("remote-ts", std::move(remote)));
  }
  s.AddSection("children", std::move(children));
  return s;
}

}  // namespace minivpn::daemon
