// minivpnd's engines: one per worker thread, each a shard of the IKE SAs (docs/architecture.md,
// "Concurrency").
//
//   main thread: sockets, steering, vici, updown, logs ----post----> worker i: Engine i
//                <---- events (posted, in the order each shard made them) ----
//
// With one worker there is no thread at all: the daemon calls the one engine on its event
// thread, as minivpnd always did. With W > 1, the main thread still receives every datagram and
// steers it by the SPI we chose (ike/engine/shard.h) to worker i, which runs Engine i (the
// crypto), sends its answers itself (sendmsg is thread-safe) and posts its events back. Commands,
// queries and kernel events run on the main thread under the shard's lock. The shards share the
// kernel (behind one lock, with the journal) and the reqid / %unique table (SharedIds); nothing
// else. Each engine is still a sans-I/O engine, driven by exactly one caller at a time.
#pragma once

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cstdint>
#include <expected>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "base/datagram.h"
#include "crypto/random.h"
#include "ike/engine/engine.h"
#include "xfrm/kernel_ipsec.h"

namespace minivpn::daemon {

using base::Datagram;

// The worker count `--workers 0` means: one per core the process may run on.
std::uint32_t DefaultWorkerCount();

// The table of ids the shards share (ike/engine/shared_ids.h), behind a lock.
std::unique_ptr<ike::SharedIds> MakeLockedSharedIds();

class EngineShards {
 public:
  // `send` is called from any thread; `events` on the main thread, with one shard's events in
  // the order that shard made them.
  struct Sinks {
    std::function<void(const Datagram&)> send;
    std::function<void(std::vector<ike::Event>)> events;
  };
  EngineShards(boost::asio::io_context& main, std::uint32_t workers,
               const ike::EngineConfig& config, xfrm::KernelIpsec& kernel, Sinks sinks);
  ~EngineShards();  // stops the workers
  EngineShards(const EngineShards&) = delete;
  EngineShards& operator=(const EngineShards&) = delete;

  std::uint32_t count() const { return static_cast<std::uint32_t>(shards_.size()); }
  bool threaded() const { return shards_.size() > 1; }
  // The trace and key sinks of every engine; with workers they run on the worker threads, so
  // they must only copy what they need and hand it to the main thread (RunOnMain).
  void SetTraceSink(const ike::TraceSink& sink);
  void SetKeySink(const ike::KeySink& sink);
  // `f` now on the main thread (always, with one engine), else posted to it.
  void RunOnMain(std::function<void()> f);
  // The lock of the kernel and its journal: the daemon takes it around its own journal writes
  // while workers may install CHILD_SAs.
  std::unique_lock<std::mutex> LockKernel() { return std::unique_lock(kernel_mutex_); }
  // Starts the worker threads (W > 1); Stop joins them (the engines stay, for the last queries).
  void Start();
  void Stop();

  // Inputs. A datagram goes to its shard (a worker with W > 1). A kernel event goes to every
  // shard: the one holding the SPI or the trap's home acts on it.
  void HandleDatagram(Datagram datagram);
  void HandleKernelEvent(const xfrm::KernelEvent& event, ike::TimePoint now);
  // One engine: its timers, from the daemon's timer (each worker arms its own).
  void HandleTimers(ike::TimePoint now);
  std::optional<ike::TimePoint> NextDeadline();

  // Sends what the engines' main-thread calls produced and hands their events on: with one
  // engine returned, to be handled now; with workers posted, after what the workers posted
  // before. Each worker's timer is re-armed.
  std::vector<ike::Event> Flush();

  // Configuration: every shard knows every peer (one copy, shared read-only); only its home
  // shard starts it.
  std::expected<void, std::string> AddPeer(ike::PeerConfig peer, ike::TimePoint now);
  void RemovePeer(std::string_view name, ike::TimePoint now);

  // Commands, as Engine's. Initiate uses the shard that holds an IKE SA of the peer, else the
  // peer's home shard; Terminate and Rekey act in every shard holding one.
  std::expected<std::uint64_t, std::string> Initiate(std::string_view peer, std::string_view child,
                                                     ike::TimePoint now);
  std::expected<void, std::string> Terminate(std::string_view peer, std::string_view child,
                                             ike::TimePoint now);
  std::expected<void, std::string> Rekey(std::string_view peer, std::string_view child,
                                         ike::TimePoint now);
  std::expected<void, std::string> InstallTrap(std::string_view peer, std::string_view child,
                                               ike::TimePoint now);
  std::expected<void, std::string> UninstallTrap(std::string_view peer, std::string_view child);

  // Queries, summed or joined over the shards.
  std::vector<ike::IkeSaInfo> ListSas(ike::TimePoint now);
  std::size_t ike_sa_count();
  std::size_t ike_sa_count(std::string_view peer);
  std::size_t child_sa_count();
  std::size_t half_open_count();
  std::expected<ike::KeymatExplainInput, std::string> ExplainInput(std::uint64_t serial,
                                                                   bool with_secrets);

 private:
  struct Shard;
  using Outcome = std::expected<void, std::string>;
  // `f(engine)` under the shard's lock.
  template <typename F>
  auto With(Shard& shard, F&& f) -> decltype(f(std::declval<ike::Engine&>()));
  // `act` in every shard (`only_holding`: in the shards holding an IKE SA of `peer`, and in
  // the first, whose engine answers for a peer nobody holds); a success anywhere is the
  // result, else the last error.
  Outcome InShards(std::string_view peer, bool only_holding,
                   const std::function<Outcome(ike::Engine&)>& act);
  // On worker i: the engine's output after a call there (lock held by the caller).
  void FlushShard(Shard& shard, std::vector<ike::Event>* returned);
  void ArmWorkerTimer(Shard& shard);
  // The DropRequests the last calls left in the shared table (INITIAL_CONTACT or unique =
  // replace meeting an IKE SA of another shard), handed to every shard's worker (the one
  // holding the SA acts).
  void DispatchDrops();
  Shard* HomeOf(std::string_view peer);

  boost::asio::io_context& main_;
  Sinks sinks_;
  std::mutex kernel_mutex_;
  std::unique_ptr<xfrm::KernelIpsec> locked_kernel_;
  std::unique_ptr<ike::SharedIds> locked_ids_;
  std::vector<std::unique_ptr<Shard>> shards_;
};

}  // namespace minivpn::daemon
