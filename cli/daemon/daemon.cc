#include "cli/daemon/daemon.h"

#include <fmt/core.h>
#include <sys/socket.h>

#include <algorithm>
#include <filesystem>

#include "cli/daemon/kernel_check.h"
#include "cli/daemon/peer_mapping.h"
#include "cli/daemon/process_hardening.h"
#include "cli/daemon/trace_log.h"
#include "ike/observe/wireshark_keys.h"
#include "xfrm/fake_kernel.h"

namespace minivpn::daemon {

namespace asio = boost::asio;

Daemon::Daemon(asio::io_context& io, DaemonOptions options, Logger& log)
    : io_(io),
      options_(std::move(options)),
      log_(log),
      sockets_(io, [this](Datagram d) { OnDatagram(std::move(d)); }),
      timer_(io),
      shutdown_timer_(io),
      signals_(io, SIGTERM, SIGINT, SIGHUP),
      service_timer_(io) {}

Daemon::~Daemon() {
  if (log_observer_ != 0) log_.RemoveObserver(log_observer_);
}

std::expected<void, std::string> Daemon::Start() {
  started_ = Now();
  // First of all: one minivpnd per journal (and so per kernel), before anything is touched.
  auto lock = InstanceLock::Acquire(InstanceLock::PathFor(options_.journal_path));
  if (!lock) return std::unexpected(lock.error());
  lock_.emplace(std::move(*lock));
  // Before the configuration (and its PSKs) is read: no core dump may hold a secret.
  if (auto ec = KeepSecretsOutOfCoreDumps()) {
    return std::unexpected("cannot disable core dumps: " + ec.message());
  }
  log_.Info(Subsystem::kCfg, 0, "loading {}", config::Describe(options_.config));
  auto loaded = config::LoadConfig(options_.config);
  LogDiagnostics(loaded.diagnostics);
  if (!loaded.ok()) return std::unexpected("configuration has errors (see above)");
  config::Config config = std::move(loaded.config);
  // charon in the same kernel would fight over the same SAs, policies and ports. Its vici socket
  // is where strongswan.conf says (charon.plugins.vici.socket), /var/run/charon.vici by default.
  if (!options_.fake_kernel && UnixSocketAnswers(config.global.vici_socket)) {
    return std::unexpected(fmt::format(
        "charon is running (its vici socket {} answers): stop it first (systemctl stop "
        "strongswan), two IKE daemons cannot share a kernel's IPsec state",
        config.global.vici_socket));
  }
  if (!options_.log_levels_from_command_line) {
    for (const auto& [name, level] : config.global.log_levels) {
      if (auto subsystem = ParseSubsystem(name)) log_.SetLevel(*subsystem, level);
    }
  }

  // Refuse now, naming the missing module or capability, not after IKE_AUTH (--check-kernel).
  if (const auto missing = options_.fake_kernel ? std::vector<std::string>{}
                                                : CheckKernelAtStart(config);
      !missing.empty()) {
    for (const auto& line : missing) log_.Error(Subsystem::kKnl, "{}", line);
    return std::unexpected("this kernel cannot run the configuration (see above)");
  }
  if (auto opened = OpenKernel(); !opened) return opened;
  ike::EngineConfig engine_config = ToEngineConfig(config.global);
  engine_config.retain_keymat = options_.retain_keys;
  const std::uint32_t workers = options_.workers != 0 ? options_.workers : DefaultWorkerCount();
  shards_ = std::make_unique<EngineShards>(
      io_, workers, engine_config, *kernel_,
      EngineShards::Sinks{
          .send = [this](const Datagram& d) { Send(d); },
          .events = [this](std::vector<ike::Event> events) { OnEngineEvents(std::move(events)); }});
  if (options_.trace) shards_->SetTraceSink([this](const ike::TraceRecord& r) { OnTrace(r); });
  shards_->SetKeySink([this](const ike::KeyRecord& r) { OnKeys(r); });
  log_.Info(Subsystem::kIke, 1, "{} engine worker{}", workers,
            workers == 1 ? " (the event thread)" : " threads");
  if (options_.retain_keys) {
    log_.Warn(Subsystem::kIke,
              "--retain-keys: key material stays in memory for 'minivpnctl explain "
              "--show-secrets'");
  }

  std::string error;
  auto setup = [fake = options_.fake_kernel](int fd, int family, bool natt) -> std::error_code {
    if (fake) return {};  // no kernel IPsec: nothing to bypass or decapsulate
    if (auto ec = xfrm::SetSocketBypass(fd, family)) return ec;
    return natt ? xfrm::EnableUdpEncap(fd) : std::error_code{};
  };
  if (sockets_.Open(config.global.port, config.global.port_nat_t, setup, &error)) {
    return std::unexpected(error);
  }
  log_.Info(Subsystem::kNet, 1, "listening on UDP {} and {}", config.global.port,
            config.global.port_nat_t);

  const std::string vici_path =
      options_.vici_path.empty() ? config.global.vici_socket : options_.vici_path;
  updown_.emplace(io_, kUpdownTimeout, [this](const std::string& line) {
    log_.Info(Subsystem::kCfg, 1, "{}", line);  // charon logs the script's lines at CHD 1
  });
  vici_ = std::make_unique<ViciServer>(
      io_, vici_path,
      std::set<std::string>{"control-log", "list-sa", "list-link", "list-conn", "log", "ike-updown",
                            "child-updown", "ike-rekey", "child-rekey", "ike-update"},
      [this](const std::string& command, const vici::Message& request,
             std::shared_ptr<ViciResponder> responder) {
        OnViciCommand(command, request, std::move(responder));
      });
  if (auto ec = vici_->Start()) {
    return std::unexpected(fmt::format(
        "vici socket {}: {}", vici_path,
        ec == std::errc::address_in_use ? "another process listens on it" : ec.message()));
  }
  log_.Info(Subsystem::kCfg, 1, "vici socket {}", vici_path);
  log_observer_ = log_.AddObserver(
      [this](Subsystem s, int level, const std::optional<SaTag>& sa, std::string_view text) {
        ViciLogRecord(s, level, sa, text);
      });

  ArmSignals();

  shards_->Start();
  if (auto applied = ApplyConfig(std::move(config), true); !applied) return applied;
  Pump();
  notify_.Ready(ServiceStatusNow());
  ArmServiceTimer();
  return {};
}

std::string Daemon::ServiceStatusNow() const {
  return ServiceStatus(shards_ ? shards_->ike_sa_count() : 0,
                       shards_ ? shards_->child_sa_count() : 0, config_.connections.size());
}

// Only under systemd (NOTIFY_SOCKET): the status line every 5 s, or more often if the unit's
// WatchdogSec= asks for a keep-alive (sent at half its period, from this event loop, so a stuck
// loop gets the service restarted).
void Daemon::ArmServiceTimer() {
  if (!notify_.active() || shutting_down_) return;
  std::chrono::microseconds period = std::chrono::seconds(5);
  if (auto watchdog = notify_.watchdog_interval()) period = std::min(period, *watchdog / 2);
  service_timer_.expires_after(period);
  service_timer_.async_wait([this](boost::system::error_code ec) {
    if (ec || shutting_down_) return;
    if (notify_.watchdog_interval()) notify_.Watchdog();
    notify_.Status(ServiceStatusNow());
    ArmServiceTimer();
  });
}

void Daemon::LogDiagnostics(const std::vector<config::Diagnostic>& diagnostics) {
  for (const auto& d : diagnostics) {
    if (d.severity == config::Severity::kError) {
      log_.Error(Subsystem::kCfg, "{}", config::ToString(d));
    } else {
      log_.Warn(Subsystem::kCfg, "{}", config::ToString(d));
    }
  }
}

void Daemon::ArmSignals() {
  signals_.async_wait([this](boost::system::error_code ec, int signal) {
    if (ec) return;
    if (signal == SIGHUP) {
      Reload();
      ArmSignals();
    } else {
      BeginShutdown();  // a second SIGTERM during the grace period changes nothing
    }
  });
}

std::expected<void, std::string> Daemon::OpenKernel() {
  if (options_.fake_kernel) {
    // Benchmarks only: SAs are kept in memory, nothing reaches the kernel.
    kernel_ = std::make_unique<xfrm::FakeKernel>(/*record_calls=*/false);
    log_.Warn(Subsystem::kKnl, "--fake-kernel: CHILD_SAs are NOT installed in the kernel");
    return {};
  }
  auto netlink = xfrm::NetlinkKernel::Open();
  if (!netlink) return std::unexpected("xfrm netlink: " + netlink.error().message());
  netlink_ = std::move(*netlink);
  auto vti = vti::VtiManager::Open();
  if (!vti) return std::unexpected("rtnetlink: " + vti.error().message());
  vti_ = std::move(*vti);

  std::error_code ignored;
  std::filesystem::create_directories(std::filesystem::path(options_.journal_path).parent_path(),
                                      ignored);
  // Posted: with workers, the journal is written from their threads (the log is the main one's).
  auto journal = KernelJournal::Open(options_.journal_path, [this](const std::string& warning) {
    asio::post(io_, [this, warning] { log_.Warn(Subsystem::kKnl, "{}", warning); });
  });
  if (!journal) return std::unexpected(journal.error());
  journal_.emplace(std::move(*journal));
  CleanLeftovers();
  kernel_ = std::make_unique<JournalingKernel>(*netlink_, *journal_);

  auto listener = xfrm::XfrmEventListener::Open();
  if (!listener) return std::unexpected("xfrm events: " + listener.error().message());
  events_.emplace(std::move(*listener));
  events_stream_ = std::make_unique<asio::posix::stream_descriptor>(io_, ::dup(events_->fd()));
  ArmKernelEvents();
  return {};
}

void Daemon::CleanLeftovers() {
  ReplayStats stats;
  auto leftovers = journal_->ReadLeftovers(&stats);
  if (!leftovers) {
    log_.Warn(Subsystem::kKnl, "{}", leftovers.error());
    return;
  }
  if (stats.bad_lines > 0) {
    log_.Warn(Subsystem::kKnl, "kernel journal {}: skipped {} unreadable line{} of {}",
              journal_->path(), stats.bad_lines, stats.bad_lines == 1 ? "" : "s", stats.lines);
  }
  auto report = RemoveLeftovers(*leftovers, *netlink_, [this](const std::string& name) {
    return vti_->Delete(name);
  });
  if (leftovers->size() > 0) {
    log_.Info(Subsystem::kKnl, 0,
              "removed {} kernel objects left by an earlier minivpnd ({} recorded, {} already "
              "gone, {} could not be removed)",
              report.removed, leftovers->size(), report.already_gone, report.errors.size());
  }
  for (const auto& error : report.errors) log_.Error(Subsystem::kKnl, "leftover {}", error);
  // What could not be removed stays recorded: the next start tries again.
  if (auto ec = journal_->Reset(report.still_there)) {
    log_.Error(Subsystem::kKnl, "kernel journal {}: {}", journal_->path(), ec.message());
  }
}

std::expected<void, std::string> Daemon::ApplyConfig(config::Config next, bool initial,
                                                     ReloadOutcome* outcome) {
  // Map every connection first, so a bad one changes nothing.
  std::vector<std::pair<const config::ConnectionConfig*, ike::PeerConfig>> mapped;
  for (const auto& conn : next.connections) {
    auto peer = ToPeerConfig(conn);
    if (!peer) return std::unexpected(peer.error());
    const WiresharkExport keys = ToWiresharkExport(conn, next.global);
    peer->export_ike_keys = keys.ike;
    peer->export_esp_keys = keys.esp;
    peer->make_before_break = next.global.make_before_break;
    mapped.emplace_back(&conn, std::move(*peer));
  }
  const auto now = Now();
  // Removed or changed connections go first (their DELETEs are sent now).
  if (!initial) {
    for (const auto& old : config_.connections) {
      const auto* same = next.Find(old.name);
      if (same != nullptr && *same == old) continue;
      log_.Info(Subsystem::kCfg, 1, "connection '{}' {}", old.name,
                same ? "changed: restarting it" : "removed");
      if (outcome) (same ? outcome->changed : outcome->removed).push_back(old.name);
      shards_->RemovePeer(old.name, now);
      DeleteVtis(old);
    }
  }
  for (auto& [conn, peer] : mapped) {
    const auto* old = initial ? nullptr : config_.Find(conn->name);
    if (old != nullptr && *old == *conn) {  // unchanged: not touched at all
      if (outcome) outcome->unchanged.push_back(conn->name);
      continue;
    }
    CreateVtis(*conn, peer.local_address, peer.remote_address);
    const WiresharkExport& keys = key_exports_[conn->name] =
        ToWiresharkExport(*conn, next.global);
    if (!keys.dir.empty()) {
      log_.Info(Subsystem::kCfg, 1, "connection '{}': Wireshark keys ({}) go to {}", conn->name,
                keys.ike && keys.esp ? "IKE, ESP" : keys.ike ? "IKE" : "ESP", keys.dir);
    }
    auto added = shards_->AddPeer(std::move(peer), now);
    if (!added) {
      log_.Error(Subsystem::kCfg, "connection '{}': {}", conn->name, added.error());
      if (outcome)
        outcome->errors.push_back(fmt::format("connection '{}': {}", conn->name, added.error()));
    } else {
      log_.Info(Subsystem::kCfg, 1, "loaded connection '{}'", conn->name);
      if (outcome && old == nullptr) outcome->added.push_back(conn->name);
    }
  }
  config_ = std::move(next);
  return {};
}

void Daemon::CreateVtis(const config::ConnectionConfig& conn, const xfrm::IpAddress& local,
                        const xfrm::IpAddress& remote) {
  if (!vti_) return;
  for (const auto& child : conn.children) {
    if (child.xfrmi) {
      vti::XfrmInterfaceConfig link{.name = child.xfrmi->name, .if_id = child.xfrmi->id};
      if (!child.xfrmi->dev.empty()) link.dev = child.xfrmi->dev;
      if (child.xfrmi->mtu != 0) link.mtu = child.xfrmi->mtu;
      // A link that follows its CHILD_SAs gets its addresses when one is installed.
      if (CreateLink(conn, "XFRM interface", link.name, [&] { return vti_->Create(link); },
                     child.xfrmi->follow_sa ? std::vector<config::Subnet>{} : child.xfrmi->addrs,
                     child.xfrmi->routes)) {
        log_.Info(Subsystem::kKnl, 1, "created XFRM interface {} (if_id {}{})", link.name,
                  link.if_id, link.dev ? ", dev " + *link.dev : "");
      }
    } else if (child.vti) {
      vti::VtiConfig vti;
      vti.name = child.vti->name;
      vti.local = child.vti->local
                      ? xfrm::IpAddress{child.vti->local->family, child.vti->local->bytes}
                      : local;
      // A peer configured as %any: remote "any" until its IKE SA is up (FollowPeer).
      vti.remote = child.vti->remote
                       ? xfrm::IpAddress{child.vti->remote->family, child.vti->remote->bytes}
                   : remote.is_set() ? remote
                                     : xfrm::IpAddress{vti.local.family, {}};
      vti.key = child.vti->key;
      if (child.vti->mtu != 0) vti.mtu = child.vti->mtu;
      if (CreateLink(conn, "VTI", vti.name, [&] { return vti_->Create(vti); },
                     child.vti->follow_sa ? std::vector<config::Subnet>{} : child.vti->addrs,
                     child.vti->routes)) {
        vti_links_[vti.name] = vti;
        log_.Info(Subsystem::kKnl, 1, "created VTI {} (key {}, {} -> {}), disable_policy=1",
                  vti.name, vti.key, vti.local.ToString(), vti.remote.ToString());
      }
    } else {
      continue;
    }
    // The link follows its CHILD_SAs from here: dormant until one is installed. A link named by
    // several children is made once; each child joins its users.
    const std::string& name = child.vti ? child.vti->name : child.xfrmi->name;
    const bool follows = child.vti ? child.vti->follow_sa : child.xfrmi->follow_sa;
    const bool ours = std::find(our_vtis_.begin(), our_vtis_.end(), name) != our_vtis_.end();
    if (!follows || !ours) continue;
    auto [it, added] = link_states_.try_emplace(name);
    it->second.kind = child.vti ? LinkState::Kind::kVti : LinkState::Kind::kXfrmInterface;
    it->second.users.emplace_back(conn.name, child.name);
    if (!added) continue;
    it->second.addrs = child.vti ? child.vti->addrs : child.xfrmi->addrs;
    SetLinkState(name, it->second, false, "no CHILD_SA installed yet");
  }
}

void Daemon::SetLinkState(const std::string& name, LinkState& link, bool up, std::string reason) {
  link.up = up;
  link.reason = up ? std::string() : std::move(reason);
  link.since = Now();
  if (auto ec = vti_->SetOperState(name, up)) {
    log_.Error(Subsystem::kKnl, "{} {}: setting it {}: {}", link.what(), name,
               up ? "up" : "dormant", ec.message());
  }
  for (const auto& address : link.addrs) {
    const auto ec = up ? vti_->AddAddress(name, address) : vti_->DelAddress(name, address);
    // Already there / already gone (a link made before the state was known) is no error.
    if (ec && ec != std::errc::file_exists && ec != std::errc::address_not_available) {
      log_.Error(Subsystem::kKnl, "{} {}: address {}: {}", link.what(), name, address.ToString(),
                 ec.message());
    }
  }
  if (up) {
    log_.Info(Subsystem::kKnl, 0, "{} {} is up: a CHILD_SA using it is installed", link.what(),
              name);
  } else {
    log_.Info(Subsystem::kKnl, 0, "{} {} is down (dormant{}): {}", link.what(), name,
              link.addrs.empty() ? "" : ", inner addresses withdrawn", link.reason);
  }
}

void Daemon::FollowChildSas(const std::vector<ike::Event>& events) {
  if (link_states_.empty()) return;
  using ike::EventKind;
  // Why the last CHILD_SA of a connection went, per connection, from this batch.
  std::map<std::string, std::string, std::less<>> why;
  bool relevant = false;
  for (const auto& e : events) {
    switch (e.kind) {
      case EventKind::kChildUp:
      case EventKind::kChildRekeyed:
      case EventKind::kIkeUp:
      case EventKind::kIkeRekeyed:
        relevant = true;
        break;
      case EventKind::kChildDown:
      case EventKind::kIkeDown:
        relevant = true;
        why[e.peer] = e.text;
        break;
      default:
        break;
    }
  }
  if (!relevant) return;
  const auto sas = shards_->ListSas(Now());
  const auto installed = [&sas](const std::string& conn, const std::string& child) {
    return std::any_of(sas.begin(), sas.end(), [&](const ike::IkeSaInfo& sa) {
      return sa.peer == conn &&
             std::any_of(sa.children.begin(), sa.children.end(), [&](const ike::ChildSaInfo& c) {
               return c.name == child && (c.state == ike::ChildState::kInstalled ||
                                          c.state == ike::ChildState::kRekeying);
             });
    });
  };
  for (auto& [name, link] : link_states_) {
    const bool up = std::any_of(link.users.begin(), link.users.end(), [&](const auto& user) {
      return installed(user.first, user.second);
    });
    if (up == link.up) continue;
    std::string reason = "no CHILD_SA of '" + link.users.front().first + "' installed";
    for (const auto& [conn, child] : link.users) {
      if (auto it = why.find(conn); it != why.end()) reason += ": " + it->second;
    }
    SetLinkState(name, link, up, std::move(reason));
  }
}

bool Daemon::CreateLink(const config::ConnectionConfig& conn, const std::string& what,
                        const std::string& name, const std::function<std::error_code()>& create,
                        const std::vector<config::Subnet>& addrs,
                        const std::vector<config::Subnet>& routes) {
  auto kernel_lock = LockKernel();
  const auto entry = JournalEntry::Vti(name);
  auto created = journal_->IntendAdd(entry);
  if (!created) {
    created = create();
    journal_->Added(entry, !created);
  }
  if (created) {
    log_.Error(Subsystem::kKnl, "creating {} {} for '{}': {}", what, name, conn.name,
               created.message());
    return false;
  }
  our_vtis_.push_back(name);
  // The inner addresses (e.g. for BGP inside the tunnel); they go away with the link.
  for (const auto& address : addrs) {
    if (auto ec = vti_->AddAddress(name, address)) {
      log_.Error(Subsystem::kKnl, "address {} on {}: {}", address.ToString(), name, ec.message());
    } else {
      log_.Info(Subsystem::kKnl, 1, "address {} on {}", address.ToString(), name);
    }
  }
  // Only the routes the configuration names; they go away with the link.
  for (const auto& destination : routes) {
    if (auto ec = vti_->AddRoute(name, destination)) {
      log_.Error(Subsystem::kKnl, "route {} via {}: {}", destination.ToString(), name,
                 ec.message());
    } else {
      log_.Info(Subsystem::kKnl, 1, "route {} via {}", destination.ToString(), name);
    }
  }
  return true;
}

void Daemon::DeleteVtis(const config::ConnectionConfig& conn) {
  for (const auto& child : conn.children) {
    if (!child.vti && !child.xfrmi) continue;
    const std::string& name = child.vti ? child.vti->name : child.xfrmi->name;
    auto it = std::find(our_vtis_.begin(), our_vtis_.end(), name);
    if (it == our_vtis_.end()) continue;  // not created by us: never deleted by us
    RemoveVti(name);
    our_vtis_.erase(it);
    vti_links_.erase(name);
    link_states_.erase(name);
  }
}

void Daemon::RemoveVti(const std::string& name) {
  auto kernel_lock = LockKernel();
  const auto entry = JournalEntry::Vti(name);
  journal_->IntendRemove(entry);
  const auto ec = vti_->Delete(name);
  if (ec) log_.Error(Subsystem::kKnl, "deleting {}: {}", name, ec.message());
  journal_->Removed(entry, !ec || ec == std::errc::no_such_device);
}

void Daemon::FollowPeer(const ike::Event& event) {
  const config::ConnectionConfig* conn = config_.Find(event.peer);
  if (conn == nullptr || vti_links_.empty()) return;
  const auto follows = [this](const config::ChildConfig& child) {
    return child.vti && !child.vti->remote && vti_links_.contains(child.vti->name);
  };
  if (std::none_of(conn->children.begin(), conn->children.end(), follows)) return;
  std::optional<ike::IkeSaInfo> sa;
  for (auto& info : shards_->ListSas(Now()))
    if (info.serial == event.ike_serial) sa = std::move(info);
  if (!sa) return;
  for (const auto& child : conn->children) {
    if (!follows(child)) continue;
    vti::VtiConfig& link = vti_links_[child.vti->name];
    vti::VtiConfig next = link;
    next.remote = sa->remote.address;
    if (!child.vti->local) next.local = sa->local.address;
    if (next == link) continue;
    if (auto ec = vti_->Update(next)) {
      log_.Error(Subsystem::kKnl, "VTI {} for '{}': moving to {} -> {}: {}", next.name,
                 conn->name, next.local.ToString(), next.remote.ToString(), ec.message());
      continue;
    }
    log_.Info(Subsystem::kKnl, 0, "VTI {} follows its IKE SA: {} -> {} (was {} -> {})", next.name,
              next.local.ToString(), next.remote.ToString(), link.local.ToString(),
              link.remote.ToString());
    link = next;
  }
}

void Daemon::OnDatagram(Datagram datagram) {
  if (!shards_) return;
  if (log_.Enabled(Subsystem::kNet, 3)) {
    log_.Info(Subsystem::kNet, 3, "received {} bytes from {} to {}", datagram.data.size(),
              datagram.remote.ToString(), datagram.local.ToString());
  }
  shards_->HandleDatagram(std::move(datagram));
  if (!shards_->threaded()) Pump();
}

void Daemon::ArmKernelEvents() {
  events_stream_->async_wait(asio::posix::descriptor_base::wait_read,
                             [this](boost::system::error_code ec) {
                               if (ec) return;
                               auto events = events_->ReadEvents();
                               if (events_->TakeLost()) {
                                 log_.Warn(Subsystem::kKnl,
                                           "xfrm event socket overflowed (ENOBUFS): kernel "
                                           "events were lost; CHILD_SAs whose expire is overdue "
                                           "are rekeyed or deleted by the engine's own timers");
                               }
                               if (!events) {
                                 log_.Warn(Subsystem::kKnl, "reading xfrm events: {}",
                                           events.error().message());
                               } else if (shards_) {
                                 for (const auto& event : *events) {
                                   shards_->HandleKernelEvent(event, Now());
                                 }
                                 Pump();
                               }
                               ArmKernelEvents();
                             });
}

void Daemon::ArmTimer() {
  auto deadline = shards_ ? shards_->NextDeadline() : std::nullopt;
  // The pending wait stands unless the engine's next deadline is earlier (no cancel, no new
  // wait, no timerfd update per event). A wait that fires before the engine's deadline (which
  // moved later, or went away) finds nothing due in HandleTimers and re-arms from there.
  if (!deadline || (timer_armed_ && *timer_armed_ <= *deadline)) return;
  timer_armed_ = deadline;
  timer_.expires_at(*deadline);
  timer_.async_wait([this](boost::system::error_code ec) {
    if (ec) return;  // re-armed or cancelled
    timer_armed_.reset();
    shards_->HandleTimers(Now());
    Pump();
  });
}

void Daemon::Send(const Datagram& d) {
  if (auto ec = sockets_.Send(d)) {
    shards_->RunOnMain([this, size = d.data.size(), to = d.remote, ec] {
      log_.Warn(Subsystem::kNet, "sending {} bytes to {}[{}] failed: {}", size,
                to.address.ToString(), to.port, ec.message());
    });
  }
}

void Daemon::Pump() { OnEngineEvents(shards_->Flush()); }

std::unique_lock<std::mutex> Daemon::LockKernel() {
  return shards_ ? shards_->LockKernel() : std::unique_lock<std::mutex>();
}

void Daemon::OnEngineEvents(std::vector<ike::Event> events) {
  if (!shards_) return;  // posted by a worker before the shutdown finished
  log_.Hold();
  for (const auto& event : events) LogEvent(event);
  log_.Release();
  for (const auto& event : events)
    if (event.kind == ike::EventKind::kChildUp || event.kind == ike::EventKind::kIkeUpdated)
      FollowPeer(event);
  FollowChildSas(events);
  if (!waiters_.empty()) AdvanceWaiters(events);
  if (vici_ && !events.empty()) ViciSaEvents(events);
  if (updown_ && !events.empty()) RunUpdown(events);
  if (shutting_down_ && shards_->ike_sa_count() == 0) {
    FinishShutdown();
    return;
  }
  ArmTimer();
}

void Daemon::LogEvent(const ike::Event& event) {
  // The prefix and the line are only built when the level lets the line out (at charon's
  // level 0 most events of a handshake are counted, not printed).
  auto where = [&] {
    return event.peer.empty() ? std::string()
                              : fmt::format("{}[{}] ", event.peer, event.ike_serial);
  };
  // In the journal: IKE_SA_NAME and IKE_SA_UNIQUE_ID (as charon-systemd writes them).
  std::optional<Logger::SaScope> tagged;
  if (!event.peer.empty()) tagged.emplace(log_, SaTag{event.peer, event.ike_serial});
  switch (event.kind) {
    case ike::EventKind::kExchangeSent:
    case ike::EventKind::kExchangeReceived: {
      bool sent = event.kind == ike::EventKind::kExchangeSent;
      auto first_space = event.text.find(' ');
      ++exchanges_[event.text.substr(0, first_space)];
      CountExchange(event);
      if (log_.Enabled(Subsystem::kEnc, 1)) {
        log_.Info(Subsystem::kEnc, 1, "{}{} {}", where(), sent ? "generating" : "parsed",
                  event.text);
      }
      break;
    }
    case ike::EventKind::kRetransmit:
      ++retransmits_;
      if (log_.Enabled(Subsystem::kIke, 1))
        log_.Info(Subsystem::kIke, 1, "{}retransmit {}", where(), event.text);
      break;
    case ike::EventKind::kFailure:
      if (event.notify) ++failures_[std::string(ike::Name(*event.notify))];
      else ++failures_["other"];
      if (log_.Enabled(Subsystem::kIke, 0)) {
        log_.Warn(Subsystem::kIke, "{}{}{}", where(), event.text,
                  event.notify ? fmt::format(" ({})", ike::Name(*event.notify)) : std::string());
      }
      break;
    case ike::EventKind::kKeepalive:
      if (log_.Enabled(Subsystem::kIke, 1))
        log_.Info(Subsystem::kIke, 1, "{}{}", where(), event.text);
      break;
    case ike::EventKind::kDropped:
      CountExchange(event);
      if (log_.Enabled(Subsystem::kIke, 2))
        log_.Info(Subsystem::kIke, 2, "{}dropped: {}", where(), event.text);
      break;
    default:
      if (log_.Enabled(Subsystem::kIke, 0)) {
        log_.Info(Subsystem::kIke, 0, "{}{}{}", where(), event.text,
                  event.child.empty() ? std::string() : fmt::format(" (child {})", event.child));
      }
      break;
  }
}

// The sinks run inside an engine call: with workers on a worker thread, so they take copies of
// what the main thread needs (the log and the key files are the main thread's).
void Daemon::OnTrace(const ike::TraceRecord& r) {
  shards_->RunOnMain([this, lines = TraceLines(r, *options_.trace, started_)] {
    for (const auto& line : lines) log_.Write(Subsystem::kEnc, Priority::kInfo, line);
  });
}

void Daemon::OnKeys(const ike::KeyRecord& r) {
  if (r.lines == nullptr) return;
  shards_->RunOnMain([this, peer = std::string(r.peer), serial = r.ike_serial,
                      table = std::string(r.table),
                      lines = std::make_shared<SecretBytes>(r.lines->Clone())] {
    WriteKeys(
        ike::KeyRecord{.peer = peer, .ike_serial = serial, .table = table, .lines = lines.get()});
  });
}

void Daemon::WriteKeys(const ike::KeyRecord& r) {
  auto it = key_exports_.find(r.peer);
  if (it == key_exports_.end() || it->second.dir.empty()) return;
  namespace fs = std::filesystem;
  std::error_code ec;
  const fs::path dir(it->second.dir);
  if (fs::create_directories(dir, ec)) {
    // A directory we create holds key files only: owner access only.
    fs::permissions(dir, fs::perms::owner_all, ec);
  }
  const std::string path = (dir / std::string(r.table)).string();
  // Append() writes the lines with mode 0600 and refuses a symbolic link; its error names the
  // path and errno, never the content.
  if (auto appended = ike::Append(path, *r.lines); !appended) {
    log_.Warn(Subsystem::kIke, "{}[{}] Wireshark export failed: {}", r.peer, r.ike_serial,
              appended.error());
    return;
  }
  log_.Info(Subsystem::kIke, 1, "{}[{}] {} keys appended to {}", r.peer, r.ike_serial,
            r.table == ike::kEspSaTableFile ? "ESP" : "IKE", path);
}

Daemon::ReloadOutcome Daemon::Reload() {
  notify_.Reloading();
  log_.Info(Subsystem::kCfg, 0, "reloading {}", config::Describe(options_.config));
  ReloadOutcome outcome;
  config::LoadOptions load;
  load.extra_swanctl = ViciSwanctlText();
  auto loaded = config::LoadConfig(options_.config, load);
  ::explicit_bzero(load.extra_swanctl.data(), load.extra_swanctl.size());  // it holds PSKs
  LogDiagnostics(loaded.diagnostics);
  if (!loaded.ok()) {
    log_.Error(Subsystem::kCfg, "reload refused: the new configuration has errors; keeping the "
                                "running one");
    outcome.refused = true;
    for (const auto& d : loaded.diagnostics)
      if (d.severity == config::Severity::kError) outcome.errors.push_back(config::ToString(d));
  } else if (auto applied = ApplyConfig(std::move(loaded.config), false, &outcome); !applied) {
    log_.Error(Subsystem::kCfg, "reload refused: {}", applied.error());
    outcome.refused = true;
    outcome.errors.push_back(applied.error());
  } else {
    log_.Info(Subsystem::kCfg, 0, "reloaded: {} added, {} removed, {} changed, {} errors",
              outcome.added.size(), outcome.removed.size(), outcome.changed.size(),
              outcome.errors.size());
  }
  Pump();
  notify_.Ready(ServiceStatusNow());
  return outcome;
}

void Daemon::BeginShutdown() {
  if (shutting_down_) return;
  shutting_down_ = true;
  notify_.Stopping();
  service_timer_.cancel();
  FinishWaiters(CommandOutcome::Fail("minivpnd is shutting down"));
  log_.Info(Subsystem::kIke, 0, "shutting down: deleting all SAs");
  for (const auto& conn : config_.connections) shards_->RemovePeer(conn.name, Now());
  shutdown_timer_.expires_after(options_.shutdown_grace);
  shutdown_timer_.async_wait([this](boost::system::error_code ec) {
    if (!ec) FinishShutdown();
  });
  Pump();
}

void Daemon::FinishShutdown() {
  if (!shards_) return;
  // The down scripts of the tunnels just deleted run to their end first (charon runs them before
  // it exits; they remove what the up scripts made), within the updown timeout and a margin.
  if (updown_ && !updown_->idle()) {
    if (!updown_drain_since_) updown_drain_since_ = Now();
    if (Now() - *updown_drain_since_ < kUpdownTimeout + std::chrono::seconds(2)) {
      shutdown_timer_.expires_after(std::chrono::milliseconds(50));
      shutdown_timer_.async_wait([this](boost::system::error_code ec) {
        if (!ec) FinishShutdown();
      });
      return;
    }
  }
  if (updown_) updown_->Stop();
  // Engine::RemovePeer (BeginShutdown) already took every CHILD_SA out of the kernel after
  // sending its DELETE; what is left here is the VTIs we created.
  shards_->Stop();
  shards_.reset();
  for (auto it = our_vtis_.rbegin(); vti_ && it != our_vtis_.rend(); ++it) RemoveVti(*it);
  our_vtis_.clear();
  vti_links_.clear();
  link_states_.clear();
  timer_.cancel();
  timer_armed_.reset();
  shutdown_timer_.cancel();
  signals_.cancel();
  if (vici_) vici_->Stop();
  events_stream_.reset();
  log_.Info(Subsystem::kIke, 0, "minivpnd stopped");
  io_.stop();
}

}  // namespace minivpn::daemon
