// minivpnctl: talks to a running minivpnd over its control socket (docs/control-protocol.md).
#include <CLI/CLI.hpp>
#include <fmt/core.h>

#include <string>

#include "cli/ctl/render.h"
#include "cli/daemon/control_server.h"
#include "cli/version.h"

namespace {

using minivpn::daemon::ControlRequest;
using nlohmann::json;

int Run(const std::string& socket, const ControlRequest& request, bool as_json,
        std::string (*render)(const json&)) {
  // Progress lines of a waiting command (its SA's log lines) as they come, like swanctl.
  auto print_progress = [as_json](const std::string& line) {
    if (!as_json) {
      fmt::print("{}\n", line);
      std::fflush(stdout);
    }
  };
  auto reply = minivpn::daemon::SendControlRequest(socket, request, print_progress);
  if (!reply) {
    fmt::print(stderr, "minivpnctl: {}\n", reply.error());
    return 2;
  }
  if (!reply->ok) {
    fmt::print(stderr, "minivpnctl: {}: {}\n", request.command, reply->error);
    return 1;
  }
  if (as_json || render == nullptr) {
    if (!reply->result.is_null()) fmt::print("{}\n", reply->result.dump(2));
  } else {
    fmt::print("{}", render(reply->result));
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"minivpnctl: control a running minivpnd"};
  app.set_version_flag("--version", fmt::format("minivpnctl {}", MINIVPN_VERSION));
  std::string socket(minivpn::daemon::kDefaultControlPath);
  bool as_json = false;
  app.add_option("-s,--control", socket, "control socket of minivpnd")->capture_default_str();
  app.add_flag("--json", as_json, "print the daemon's JSON reply instead of a table");
  app.require_subcommand(1);
  // Options of the tool work after the subcommand too (`minivpnctl list-sas --json`).
  app.fallthrough();

  std::string name, child, subsystem;
  int level = 1;
  auto* list_conns = app.add_subcommand("list-conns", "configured connections");
  auto* list_sas = app.add_subcommand("list-sas", "IKE and CHILD SAs with kernel counters");
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
        ->check(CLI::NonNegativeNumber);
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
  auto* reload = app.add_subcommand("reload", "re-read the configuration");
  auto* stats = app.add_subcommand("stats", "exchanges, retransmits and failures by notify");
  auto* loglevel = app.add_subcommand("log-level", "change a subsystem's log level");
  loglevel->add_option("subsystem", subsystem, "ike, cfg, knl, net, enc or all")->required();
  loglevel->add_option("level", level, "0 basic .. 3 raw")->required()->check(CLI::Range(0, 3));

  CLI11_PARSE(app, argc, argv);

  ControlRequest request;
  std::string (*render)(const json&) = nullptr;
  if (*list_conns) {
    request.command = "list-conns";
    render = minivpn::ctl::RenderConns;
  } else if (*list_sas) {
    request.command = "list-sas";
    render = minivpn::ctl::RenderSas;
  } else if (*initiate || *terminate || *rekey) {
    request.command = *initiate ? "initiate" : *terminate ? "terminate" : "rekey";
    request.args = {{"name", name}};
    if (!child.empty()) request.args["child"] = child;
    if (!no_wait) {
      // Wait for the outcome, print the SA's log lines meanwhile; exit 0 only on success.
      request.args["wait"] = true;
      if (timeout > 0) request.args["timeout"] = timeout;
      render = minivpn::ctl::RenderOutcome;
    }
  } else if (*explain) {
    request.command = "explain";
    request.args = json::object();
    if (!name.empty()) request.args["name"] = name;
    if (explain_id != 0) request.args["id"] = explain_id;
    if (show_secrets) request.args["show_secrets"] = true;
    render = minivpn::ctl::RenderExplain;
  } else if (*reload) {
    request.command = "reload";
    render = minivpn::ctl::RenderReload;
  } else if (*stats) {
    request.command = "stats";
    render = minivpn::ctl::RenderStats;
  } else if (*loglevel) {
    request.command = "log-level";
    request.args = {{"subsystem", subsystem}, {"level", level}};
  }
  return Run(socket, request, as_json, render);
}
