// minivpnctl: drives a running minivpnd over its vici socket (the socket swanctl uses), with
// the commands of docs/control-protocol.md: charon's vici commands where charon has one
// (list-sas, list-conns, initiate, terminate, rekey, reload-settings), minivpnd's own
// (minivpn-stats, minivpn-explain, minivpn-log-level) for the rest.
#include <CLI/CLI.hpp>
#include <fmt/core.h>

#include <cstdlib>
#include <string>
#include <vector>

#include "cli/config/config.h"
#include "cli/ctl/render.h"
#include "cli/ctl/vici_client.h"
#include "cli/version.h"

namespace {

using minivpn::ctl::ViciClient;
using minivpn::vici::Message;
using nlohmann::json;

void PrintJson(const json& j) {
  fmt::print("{}\n", j.dump(2, ' ', false, json::error_handler_t::replace));
}

// A control-log event as the log shows it: "[IKE] A-B[1] IKE_SA A-B[1] established ...".
void PrintLog(const Message& m) {
  const std::string* name = m.Find("ikesa-name");
  fmt::print("[{}] {}{}\n", m.ValueOr("group", "IKE"),
             name ? fmt::format("{}[{}] ", *name, m.ValueOr("ikesa-uniqueid", "")) : "",
             m.ValueOr("msg", ""));
  std::fflush(stdout);
}

// The socket: --socket, else strongswan.conf's (STRONGSWAN_CONF, as swanctl reads it).
std::string SocketPath(const std::string& given) {
  if (!given.empty()) return minivpn::ctl::SocketPathOf(given);
  const char* conf = std::getenv("STRONGSWAN_CONF");
  return minivpn::config::ViciSocketOf(conf && *conf ? conf : "/etc/strongswan.conf");
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"minivpnctl: control a running minivpnd"};
  app.set_version_flag("--version", fmt::format("minivpnctl {}", MINIVPN_VERSION));
  std::string socket;
  bool as_json = false;
  app.add_option("-s,--socket", socket,
                 "minivpnd's vici socket, a path or unix:// URI (default: strongswan.conf's "
                 "charon.plugins.vici.socket, else /var/run/charon.vici)");
  app.add_flag("--json", as_json, "print minivpnd's vici reply as JSON instead of a table");
  app.require_subcommand(1);
  // Options of the tool work after the subcommand too (`minivpnctl list-sas --json`).
  app.fallthrough();

  std::string name, child, subsystem;
  int level = 1;
  auto* list_conns = app.add_subcommand("list-conns", "configured connections");
  auto* list_sas = app.add_subcommand("list-sas", "IKE and CHILD SAs with kernel counters");
  list_sas->add_option("--ike", name, "only the IKE SAs of this connection");
  auto* initiate = app.add_subcommand("initiate", "bring up a connection (IKE and CHILD SAs)");
  auto* terminate = app.add_subcommand("terminate", "delete a connection's IKE SA");
  auto* rekey = app.add_subcommand("rekey", "rekey a connection's IKE SA or one child");
  double timeout = 0;
  bool no_wait = false;
  for (auto* cmd : {initiate, terminate, rekey}) {
    cmd->add_option("name", name, "connection name")->required();
    cmd->add_option("--child", child, "a child of the connection");
    cmd->add_option("-t,--timeout", timeout,
                    "seconds to wait for the outcome; 0 waits until it is known")
        ->capture_default_str()
        ->check(CLI::Range(0.0, 86400.0));
    cmd->add_flag("--no-wait", no_wait,
                  "return once minivpnd has queued the request (exit 0 says nothing more)");
  }
  auto* explain = app.add_subcommand(
      "explain", "key-derivation walk-through of a connection's IKE SA (RFC 7296 2.13-2.18)");
  std::uint64_t explain_id = 0;
  bool show_secrets = false;
  explain->add_option("name", name, "connection name (its newest established IKE SA)");
  explain->add_option("--id", explain_id, "an IKE SA uniqueid (list-sas) instead of a name");
  explain->add_flag("--show-secrets", show_secrets,
                    "print g^ir, SKEYSEED, SK_* and KEYMAT values (needs minivpnd --retain-keys); "
                    "never paste the output anywhere");
  auto* reload = app.add_subcommand("reload", "re-read strongswan.conf and the configuration");
  auto* stats = app.add_subcommand("stats", "exchanges, retransmits and failures by notify");
  auto* loglevel = app.add_subcommand("log-level", "change a subsystem's log level");
  loglevel->add_option("subsystem", subsystem, "ike, cfg, knl, net, enc or all")->required();
  loglevel->add_option("level", level, "0 basic .. 3 raw")->required()->check(CLI::Range(0, 3));

  CLI11_PARSE(app, argc, argv);

  const std::string path = SocketPath(socket);
  // A command that waits for an outcome may take as long as it was given (or, with 0, until the
  // IKE retransmissions give up); every other answer comes at once: 30 s means minivpnd is stuck.
  const bool waits = (*initiate || *terminate || *rekey) && !no_wait;
  const auto receive_timeout =
      !waits ? std::chrono::milliseconds(30'000)
      : timeout > 0 ? std::chrono::milliseconds(static_cast<long>(timeout * 1000) + 30'000)
                    : std::chrono::milliseconds(0);
  auto client = ViciClient::Connect(path, receive_timeout);
  if (!client) {
    fmt::print(stderr, "minivpnctl: {}\n", client.error());
    return 2;
  }
  auto fail = [](std::string_view command, const std::string& error) {
    fmt::print(stderr, "minivpnctl: {}: {}\n", command, error);
    return 2;
  };

  if (*list_sas || *list_conns) {
    const std::string command = *list_sas ? "list-sas" : "list-conns";
    const std::string event = *list_sas ? "list-sa" : "list-conn";
    std::vector<Message> events;
    std::vector<Message> links;  // list-sas: minivpnd's list-link events
    Message args;
    if (!name.empty()) args.Add("ike", name);
    const auto collect = [&](std::string_view got, const Message& m) {
      if (got == event) events.push_back(m);
      if (got == "list-link") links.push_back(m);
    };
    auto reply = *list_sas ? client->Call(command, args, {event, "list-link"}, collect)
                           : client->Call(command, args, {event}, collect);
    if (!reply) return fail(command, reply.error());
    if (as_json) {
      json all = json::array();
      for (const auto& m : events) all.push_back(minivpn::ctl::ToJson(m));
      // After the SAs, each owned link as {"link": {"<name>": {...}}}.
      for (const auto& m : links) all.push_back(json{{"link", minivpn::ctl::ToJson(m)}});
      PrintJson(all);
    } else if (*list_sas) {
      const std::string rendered = minivpn::ctl::RenderLinks(links);
      fmt::print("{}{}", minivpn::ctl::RenderSas(events),
                 rendered.empty() ? "" : "links:\n" + rendered);
    } else {
      fmt::print("{}", minivpn::ctl::RenderConns(events));
    }
    return 0;
  }

  // The other commands answer one message; success = no (where charon's commands have it)
  // means the command failed, with errmsg saying why.
  std::string command;
  Message args;
  std::string (*render)(const Message&) = nullptr;
  bool logs = false;
  if (*initiate || *terminate || *rekey) {
    command = *initiate ? "initiate" : *terminate ? "terminate" : "rekey";
    args.Add("ike", name);
    if (!child.empty()) args.Add("child", child);
    // vici's timeout in ms: -1 returns once queued, 0 waits for the outcome.
    args.Add("timeout", no_wait ? "-1" : std::to_string(static_cast<long>(timeout * 1000)));
    logs = !no_wait && !as_json;
  } else if (*explain) {
    command = "minivpn-explain";
    if (!name.empty()) args.Add("ike", name);
    if (explain_id != 0) args.Add("ike-id", std::to_string(explain_id));
    if (show_secrets) args.Add("show-secrets", "yes");
    render = minivpn::ctl::RenderExplain;
  } else if (*reload) {
    command = "reload-settings";
    render = minivpn::ctl::RenderReload;
  } else if (*stats) {
    command = "minivpn-stats";
    render = minivpn::ctl::RenderStats;
  } else if (*loglevel) {
    command = "minivpn-log-level";
    args.Add("subsystem", subsystem).Add("level", std::to_string(level));
  }
  auto reply = logs ? client->Call(command, args, {"control-log"},
                                   [](std::string_view, const Message& m) { PrintLog(m); })
                    : client->Call(command, args);
  if (!reply) return fail(command, reply.error());
  if (reply->ValueOr("success", "yes") != "yes") {
    // A reload applied with errors still changed what it lists.
    if (render == minivpn::ctl::RenderReload && !as_json) fmt::print("{}", render(*reply));
    if (as_json) PrintJson(minivpn::ctl::ToJson(*reply));
    fmt::print(stderr, "minivpnctl: {}: {}\n", command, reply->ValueOr("errmsg", "failed"));
    return 1;
  }
  if (as_json) {
    PrintJson(minivpn::ctl::ToJson(*reply));
  } else if (render != nullptr) {
    fmt::print("{}", render(*reply));
  } else if (logs) {
    fmt::print("{} completed successfully\n", command);
  }
  return 0;
}
