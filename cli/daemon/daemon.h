// minivpnd's core: the Boost.Asio event loop around the sans-I/O engine.
//
//   UDP 500/4500 (IkeSockets) ----> Engine::HandleDatagram ----> datagrams ----> IkeSockets
//   xfrm multicast (expire/acquire) -> Engine::HandleKernelEvent   kernel ops -> JournalingKernel
//   steady_timer at NextDeadline --> Engine::HandleTimers                       -> NetlinkKernel
//   vici socket (swanctl, minivpnctl) -> commands / queries        events ----> Logger, Stats
//   signals: SIGTERM (DELETE everything, clean the kernel, exit 0), SIGHUP (reload)
//
// Everything runs on one thread, except the engines' work with more than one worker
// (engine_shards.h: each worker thread runs its own engine, a shard of the IKE SAs).
#pragma once

#include <string.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "cli/config/config.h"
#include "cli/daemon/command.h"
#include "cli/daemon/engine_shards.h"
#include "cli/daemon/unix_socket.h"
#include "cli/daemon/updown.h"
#include "cli/daemon/vici_server.h"
#include "cli/daemon/ike_socket.h"
#include "cli/daemon/instance_lock.h"
#include "cli/daemon/kernel_journal.h"
#include "cli/daemon/log.h"
#include "cli/daemon/peer_mapping.h"
#include "cli/daemon/service_notify.h"
#include "crypto/random.h"
#include "ike/engine/engine.h"
#include "ike/observe/trace.h"
#include "vti/vti.h"
#include "xfrm/netlink_kernel.h"

namespace minivpn::daemon {

using config::ConfigPaths;

// How long an updown script may run before its process group is killed (charon waits for ever,
// blocking one of its threads; here the event loop goes on, and systemd's stop timeout is 30 s).
inline constexpr std::chrono::milliseconds kUpdownTimeout{20'000};

struct DaemonOptions {
  ConfigPaths config;
  // The vici socket (swanctl's); empty: strongswan.conf's charon.plugins.vici.socket, else
  // /var/run/charon.vici as for charon.
  std::string vici_path{};
  std::string journal_path = "/run/minivpn/kernel.journal";
  std::chrono::milliseconds shutdown_grace{3000};  // wait this long for DELETE responses
  bool fake_kernel = false;  // benchmarks: keep CHILD_SAs in memory (xfrm/fake_kernel.h)
  // --trace[=summary|verbose]: every IKE message sent and received, decoded (ike/observe/trace.h), on
  // the log (stderr). Never with key material or AUTH values.
  std::optional<ike::TraceForm> trace{};
  // --retain-keys: keep key material for `minivpnctl explain --show-secrets`
  // (ike::EngineConfig::retain_keymat).
  bool retain_keys = false;
  // -d was given: it decides the log levels; otherwise strongswan.conf's loggers do
  // (config::GlobalSettings::log_levels), else the Logger's default.
  bool log_levels_from_command_line = false;
  // --workers: engine shards, one worker thread each (engine_shards.h); 0 = one per core.
  std::uint32_t workers = 0;
};

class Daemon {
 public:
  Daemon(boost::asio::io_context& io, DaemonOptions options, Logger& log);
  ~Daemon();

  // Loads the config, removes what a dead predecessor left in the kernel, opens the kernel,
  // the IKE sockets and the vici socket, and starts the connections. On failure: a sentence.
  std::expected<void, std::string> Start();
  // The exit status once io.run() returns.
  int exit_status() const { return exit_status_; }

 private:
  ike::TimePoint Now() const { return ike::Clock::now(); }
  void LogDiagnostics(const std::vector<config::Diagnostic>& diagnostics);
  std::expected<void, std::string> OpenKernel();
  void CleanLeftovers();
  // What a reload did (reload-settings's reply); refused: nothing changed.
  struct ReloadOutcome {
    std::vector<std::string> added, removed, changed, unchanged, errors;
    bool refused = false;
  };
  std::expected<void, std::string> ApplyConfig(config::Config next, bool initial,
                                               ReloadOutcome* outcome = nullptr);
  // The links of the connection's route-based children: VTIs and XFRM interfaces, with their
  // addresses and routes (journaled: a crash leaves nothing the next start does not remove).
  void CreateVtis(const config::ConnectionConfig& conn, const xfrm::IpAddress& local,
                  const xfrm::IpAddress& remote);
  // Creates one link with `create` (journaled, write-ahead), then its addresses and routes.
  // False if the link could not be made.
  bool CreateLink(const config::ConnectionConfig& conn, const std::string& what,
                  const std::string& name, const std::function<std::error_code()>& create,
                  const std::vector<config::Subnet>& addrs,
                  const std::vector<config::Subnet>& routes);
  void DeleteVtis(const config::ConnectionConfig& conn);
  // Deletes one link we created (VTI or XFRM interface), journaled (write-ahead).
  void RemoveVti(const std::string& name);
  // The VTIs we own follow their IKE SA's outer addresses where the config names none (a peer
  // behind a NAT is seen at its translated address, which ip_vti must name to take its packets;
  // a new NAT mapping moves it): on CHILD_SA up and when the IKE SA moved (kIkeUpdated).
  void FollowPeer(const ike::Event& event);
  // An owned link with follow_sa is up only while one of its children has an installed CHILD_SA.
  // Otherwise it is operationally dormant and its inner addresses are withdrawn, so a routing
  // protocol speaking over the tunnel loses its neighbour at once; the routes into it stay, so
  // traffic keeps failing closed and a trap still sees the first packet. Recomputed after CHILD
  // and IKE events.
  void FollowChildSas(const std::vector<ike::Event>& events);
  struct LinkState;
  void SetLinkState(const std::string& name, LinkState& link, bool up, std::string reason);

  void OnDatagram(Datagram datagram);
  void ArmKernelEvents();
  void ArmTimer();
  // Sends what the engines produced on this thread and handles their events (with workers, the
  // events come later, through OnEngineEvents).
  void Pump();
  // Sends one datagram (from any thread: sendmsg is thread-safe; a failure is logged on main).
  void Send(const Datagram& datagram);
  void OnEngineEvents(std::vector<ike::Event> events);
  // The kernel lock while workers may use the kernel and its journal (nothing without shards).
  std::unique_lock<std::mutex> LockKernel();
  void LogEvent(const ike::Event& event);
  // The engine's sinks (issue 9): --trace output and the Wireshark export.
  void OnTrace(const ike::TraceRecord& record);
  void OnKeys(const ike::KeyRecord& record);
  void WriteKeys(const ike::KeyRecord& record);  // on the main thread

  void ArmSignals();
  ReloadOutcome Reload();
  // systemd: STATUS= with the SA counts and WATCHDOG=1, every status period.
  std::string ServiceStatusNow() const;
  void ArmServiceTimer();
  void BeginShutdown();
  void FinishShutdown();

  // The commands that wait for their outcome (daemon_control.cc): initiate, terminate, rekey
  // answer when the engine's events tell how they ended; without waiting, once started.
  void StartWaiting(const WaitRequest& request, std::shared_ptr<CommandResponder> responder);
  std::expected<void, std::string> StartWithoutWaiting(const WaitRequest& request);
  void AdvanceWaiters(const std::vector<ike::Event>& events);
  void FinishWaiters(const CommandOutcome& outcome);
  // minivpnd's own vici commands (daemon_control.cc).
  vici::Message ViciStats() const;
  vici::Message ViciExplain(const vici::Message& request);
  vici::Message ViciLogLevel(const vici::Message& request);

  // The vici socket's entry (daemon_vici.cc).
  void OnViciCommand(const std::string& command, const vici::Message& request,
                     std::shared_ptr<ViciResponder> responder);
  void ViciControl(const std::string& command, const vici::Message& request,
                   std::shared_ptr<ViciResponder> responder);
  vici::Section ViciIkeSection(const ike::IkeSaInfo& ike, std::string_view only_child,
                               std::uint64_t only_child_id, bool with_children = true) const;
  // The events registered vici clients get: ike-updown, child-updown, ike-rekey, child-rekey
  // from the engine's events, log from every log record.
  void ViciSaEvents(const std::vector<ike::Event>& events);
  void ViciLogRecord(Subsystem s, int level, const std::optional<SaTag>& sa,
                     std::string_view text);
  void CountExchange(const ike::Event& event);
  // The children's updown scripts (updown.h) for the CHILD_SAs the events bring up and down.
  void RunUpdown(const std::vector<ike::Event>& events);
  // One per selector pair of one family (charon's policy enumerator).
  std::vector<UpdownInfo> UpdownInfoOf(const ike::Event& event) const;
  vici::Section ViciConnSection(const config::ConnectionConfig& conn) const;
  // load-conn, unload-conn, load-shared, unload-shared, clear-creds: change what vici loaded
  // and apply it as a reload; the change is undone when the result is refused.
  void ViciLoad(const std::string& command, const vici::Message& request,
                ViciResponder& responder);
  // What vici clients loaded, as swanctl.conf text (config::LoadOptions::extra_swanctl).
  std::string ViciSwanctlText() const;

  boost::asio::io_context& io_;
  DaemonOptions options_;
  Logger& log_;
  // Held from Start() until the daemon is gone (declared first: released last, after the
  // kernel state is cleaned up).
  std::optional<InstanceLock> lock_;
  crypto::SystemRandom random_;
  config::Config config_;
  std::unique_ptr<xfrm::NetlinkKernel> netlink_;
  std::unique_ptr<vti::VtiManager> vti_;
  std::optional<KernelJournal> journal_;
  std::unique_ptr<xfrm::KernelIpsec> kernel_;  // JournalingKernel over netlink_, or a FakeKernel
  std::unique_ptr<EngineShards> shards_;
  std::optional<xfrm::XfrmEventListener> events_;
  std::unique_ptr<boost::asio::posix::stream_descriptor> events_stream_;
  IkeSockets sockets_;
  std::unique_ptr<ViciServer> vici_;
  std::optional<UpdownRunner> updown_;
  // Per (connection, child) whose script said "up": the CHILD_SAs standing for it (a rekey's
  // successor joins, its predecessor leaves: no script runs), what the script was told, and
  // the command. The last CHILD_SA to go runs "down" with the same details, as charon.
  struct UpdownState {
    std::set<std::uint64_t> children;
    std::vector<UpdownInfo> infos;
    std::string command;
  };
  std::map<std::pair<std::string, std::string>, UpdownState> updown_up_;
  std::optional<ike::TimePoint> updown_drain_since_;  // shutdown waiting for the down scripts
  // What vici clients loaded, in swanctl.conf syntax: each connection's section by name, each
  // IKE secret's section by its id (the PSK as 0x hex; wiped when dropped).
  struct WipedText {
    std::string text;
    WipedText() = default;
    explicit WipedText(std::string t) : text(std::move(t)) {}
    WipedText(const WipedText&) = default;
    WipedText& operator=(const WipedText&) = default;
    ~WipedText() { ::explicit_bzero(text.data(), text.size()); }
  };
  std::map<std::string, std::string, std::less<>> vici_conns_;
  std::map<std::string, WipedText, std::less<>> vici_secrets_;
  std::uint64_t vici_secret_serial_ = 0;  // names the keys loaded without an id
  std::uint64_t log_observer_ = 0;
  // The IKE SAs as of the last events, for the down events of SAs already gone.
  std::map<std::uint64_t, ike::IkeSaInfo> vici_sa_cache_;
  // charon's counters plugin (get-counters): global ("") and per connection.
  std::map<std::string, std::map<std::string, std::uint64_t>, std::less<>> counters_;
  boost::asio::steady_timer timer_;
  std::optional<ike::TimePoint> timer_armed_{};  // the deadline timer_ waits for, if any
  boost::asio::steady_timer shutdown_timer_;
  boost::asio::signal_set signals_;
  ServiceNotifier notify_;
  boost::asio::steady_timer service_timer_;
  std::vector<std::string> our_vtis_;
  // The state of an owned link that follows its CHILD_SAs (vici list-sas shows it as list-link).
  struct LinkState {
    enum class Kind { kVti, kXfrmInterface } kind = Kind::kVti;
    std::string_view what() const { return kind == Kind::kVti ? "VTI" : "XFRM interface"; }
    std::vector<std::pair<std::string, std::string>> users{};  // (connection, child)
    std::vector<config::Subnet> addrs{};  // the inner addresses, there only while up
    bool up = false;
    std::string reason{};  // why it is down
    ike::TimePoint since{};
  };
  std::map<std::string, LinkState, std::less<>> link_states_;
  std::map<std::string, vti::VtiConfig> vti_links_;  // what each VTI we own was given last
  // Per connection: where its Wireshark tables go (set when the peer is added to the engine).
  std::map<std::string, WiresharkExport, std::less<>> key_exports_;
  // A command waiting for the outcome of what it started.
  struct Waiter {
    enum class Kind { kInitiate, kTerminate, kTerminateChild, kRekeyIke, kRekeyChild };
    std::uint64_t id = 0;
    Kind kind = Kind::kInitiate;
    std::string command{}, peer{}, child{};
    std::uint64_t ike_serial = 0;  // initiate: the IKE SA it started or used
    std::string last_notify{};     // the error notify of the latest failure on that SA
    std::shared_ptr<CommandResponder> responder{};
    std::shared_ptr<boost::asio::steady_timer> timeout{};
  };
  std::vector<Waiter> waiters_;
  std::uint64_t next_waiter_id_ = 1;
  bool shutting_down_ = false;
  int exit_status_ = 0;
  ike::TimePoint started_;

  // minivpn-stats (`minivpnctl stats`)
  std::map<std::string, std::uint64_t> exchanges_;
  std::map<std::string, std::uint64_t> failures_;
  std::uint64_t retransmits_ = 0;
};

}  // namespace minivpn::daemon
