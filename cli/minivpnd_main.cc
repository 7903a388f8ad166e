// minivpnd: the IKEv2 daemon. Parses the command line and runs cli/daemon/daemon.h.
#include <CLI/CLI.hpp>
#include <fmt/core.h>

#include <boost/asio/io_context.hpp>
#include <iostream>
#include <string>

#include "cli/daemon/daemon.h"
#include "cli/daemon/kernel_check.h"
#include "cli/daemon/peer_mapping.h"
#include "cli/version.h"

namespace {

using minivpn::daemon::ConfigPaths;

int RunCheckConfig(const ConfigPaths& paths) {
  fmt::print(stderr, "files: {}\n", minivpn::config::Describe(paths));
  auto loaded = minivpn::config::LoadConfig(paths);
  const auto& config = loaded.config;
  std::size_t errors = 0;
  for (const auto& d : loaded.diagnostics) {
    fmt::print(stderr, "{}\n", minivpn::config::ToString(d));
    if (d.severity == minivpn::config::Severity::kError) ++errors;
  }
  if (errors == 0) {
    for (const auto& conn : config.connections) {
      if (auto peer = minivpn::daemon::ToPeerConfig(conn); !peer) {
        fmt::print(stderr, "{}: error: {}\n", conn.where.file, peer.error());
        ++errors;
      }
    }
  }
  if (errors > 0) {
    fmt::print(stderr, "{} error{}\n", errors, errors == 1 ? "" : "s");
    return 1;
  }
  fmt::print("configuration OK: {} connection{}\n", config.connections.size(),
             config.connections.size() == 1 ? "" : "s");
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"minivpnd: IKEv2 daemon for route-based (VTI) IPsec tunnels"};
  app.set_version_flag("--version", fmt::format("minivpnd {}", MINIVPN_VERSION));
  minivpn::daemon::DaemonOptions options;
  bool check = false;
  std::vector<std::string> levels;
  app.add_option("-c,--config", options.config.swanctl_conf, "swanctl.conf to load");
  app.add_option("--ipsec-conf", options.config.ipsec_conf, "legacy ipsec.conf to load");
  app.add_option("--ipsec-secrets", options.config.ipsec_secrets,
                 "ipsec.secrets (default: next to ipsec.conf)");
  app.add_option("--strongswan-conf", options.config.strongswan_conf,
                 "strongswan.conf for global settings (default /etc/strongswan.conf)");
  app.add_option("--vici", options.vici_path,
                 "vici socket for swanctl and minivpnctl (default: strongswan.conf's "
                 "charon.plugins.vici.socket, else /var/run/charon.vici)");
  app.add_option("--journal", options.journal_path,
                 "record of installed kernel state, for cleanup after a crash")
      ->capture_default_str();
  app.add_option("-d,--debug", levels,
                 "log levels, e.g. ike=2 knl=3 or all=2 (default: the highest level of "
                 "strongswan.conf's charon loggers, else 1)")
      ->delimiter(',');
  app.add_flag("--check-config", check, "load the configuration, list every error, exit");
  bool check_kernel = false;
  app.add_flag("--check-kernel", check_kernel,
               "check that this kernel can run the configuration: xfrm netlink, each ESP "
               "algorithm (a scratch SA added and deleted), VTI create/delete and disable_policy "
               "when minivpnd owns VTIs, UDP ports free; one line per check naming the module or "
               "capability that is missing; exit 0 if all pass, else 1. Leaves nothing behind and "
               "takes no lock: beside a running minivpnd it reports the ports as in use by it. "
               "The daemon runs the same checks (but the ports) at start");
  app.add_flag("--fake-kernel", options.fake_kernel,
               "benchmarks only: keep CHILD_SAs in memory instead of the kernel");
  app.add_option("--workers", options.workers,
                 "engine worker threads, each a shard of the IKE SAs (0: one per core this "
                 "process may run on; 1: everything on the event thread)")
      ->capture_default_str();
  std::string trace;
  auto* trace_opt =
      app.add_option("--trace", trace,
                     "log every IKE message sent and received, decoded (summary: one line; "
                     "verbose: the payload tree with decrypted SK contents); never shows keys")
          ->expected(0, 1)
          ->default_str("summary")
          ->check(CLI::IsMember({"summary", "verbose"}));
  app.add_flag("--retain-keys", options.retain_keys,
               "keep key material in memory so that 'minivpnctl explain --show-secrets' can "
               "show it (off: explain shows lengths only)");
  CLI11_PARSE(app, argc, argv);
  if (*trace_opt) {
    options.trace = trace == "verbose" ? minivpn::ike::TraceForm::kVerbose
                                       : minivpn::ike::TraceForm::kSummary;
  }

  // charon's file locations when none is given: a host that ran charon needs no options.
  auto paths = minivpn::config::ChooseConfigPaths(options.config);
  if (!paths) {
    fmt::print(stderr, "minivpnd: {}\n", paths.error());
    return 1;
  }
  options.config = std::move(*paths);
  if (check) return RunCheckConfig(options.config);
  if (check_kernel) {
    const auto probe = minivpn::daemon::SystemKernelProbe();
    return minivpn::daemon::RunCheckKernel(options.config, *probe, std::cout, std::cerr);
  }

  minivpn::daemon::Logger log;
  options.log_levels_from_command_line = !levels.empty();
  for (const auto& spec : levels) {
    auto eq = spec.find('=');
    int level = eq == std::string::npos ? -1 : std::atoi(spec.c_str() + eq + 1);
    std::string name = spec.substr(0, eq);
    auto subsystem = minivpn::daemon::ParseSubsystem(name);
    if (level < 0 || level > 3 || (!subsystem && name != "all")) {
      fmt::print(stderr, "minivpnd: bad --debug '{}': expected <ike|cfg|knl|net|enc|all>=<0-3>\n",
                 spec);
      return 2;
    }
    if (subsystem) {
      log.SetLevel(*subsystem, level);
    } else {
      log.SetAllLevels(level);
    }
  }

  boost::asio::io_context io;
  minivpn::daemon::Daemon daemon(io, std::move(options), log);
  if (auto started = daemon.Start(); !started) {
    log.Error(minivpn::daemon::Subsystem::kCfg, "minivpnd cannot start: {}", started.error());
    return 1;
  }
  log.Info(minivpn::daemon::Subsystem::kIke, 0, "minivpnd {} running", MINIVPN_VERSION);
  io.run();
  return daemon.exit_status();
}
