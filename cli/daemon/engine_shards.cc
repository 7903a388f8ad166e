#include "cli/daemon/engine_shards.h"

#include <sched.h>

#include <boost/asio/post.hpp>

#include "ike/engine/shard.h"

namespace minivpn::daemon {

namespace asio = boost::asio;

namespace {

// The kernel shared by the shards: one call at a time (the netlink socket and the journal are
// not thread-safe). The daemon's own journal writes take the same lock (LockKernel).
class LockedKernel final : public xfrm::KernelIpsec {
 public:
  LockedKernel(xfrm::KernelIpsec& inner, std::mutex& mutex) : inner_(inner), mutex_(mutex) {}
  std::expected<std::uint32_t, std::error_code> AllocSpi(const xfrm::IpAddress& src,
                                                         const xfrm::IpAddress& dst,
                                                         std::uint32_t reqid,
                                                         xfrm::SpiRange range) override {
    std::lock_guard lock(mutex_);
    return inner_.AllocSpi(src, dst, reqid, range);
  }
  std::error_code AddSa(const xfrm::SaSpec& spec) override {
    std::lock_guard lock(mutex_);
    return inner_.AddSa(spec);
  }
  std::error_code DelSa(const xfrm::SaId& id) override {
    std::lock_guard lock(mutex_);
    return inner_.DelSa(id);
  }
  std::expected<xfrm::SaCounters, std::error_code> QuerySa(const xfrm::SaId& id) override {
    std::lock_guard lock(mutex_);
    return inner_.QuerySa(id);
  }
  std::error_code UpdateSa(const xfrm::SaId& id, const xfrm::SaMove& to) override {
    std::lock_guard lock(mutex_);
    return inner_.UpdateSa(id, to);
  }
  std::error_code AddPolicy(const xfrm::PolicySpec& spec) override {
    std::lock_guard lock(mutex_);
    return inner_.AddPolicy(spec);
  }
  std::error_code UpdatePolicy(const xfrm::PolicySpec& spec) override {
    std::lock_guard lock(mutex_);
    return inner_.UpdatePolicy(spec);
  }
  std::error_code ReplacePolicy(const xfrm::PolicySpec& old_spec,
                                const xfrm::PolicySpec& spec) override {
    std::lock_guard lock(mutex_);
    return inner_.ReplacePolicy(old_spec, spec);
  }
  std::error_code DelPolicy(const xfrm::PolicyId& id) override {
    std::lock_guard lock(mutex_);
    return inner_.DelPolicy(id);
  }
  std::expected<std::optional<std::chrono::seconds>, std::error_code> QueryPolicyIdle(
      const xfrm::PolicyId& id) override {
    std::lock_guard lock(mutex_);
    return inner_.QueryPolicyIdle(id);
  }
  std::error_code ReleasePolicy(const xfrm::PolicySpec& spec) override {
    std::lock_guard lock(mutex_);
    return inner_.ReleasePolicy(spec);
  }

 private:
  xfrm::KernelIpsec& inner_;
  std::mutex& mutex_;
};

// One reqid / %unique table for all shards.
class LockedSharedIds final : public ike::SharedIds {
 public:
  std::uint32_t AcquireReqid(const ike::ReqidKey& key,
                             const std::function<bool(std::uint32_t)>& configured) override {
    std::lock_guard lock(mutex_);
    return table_.AcquireReqid(key, configured);
  }
  void AcquireFixedReqid(std::uint32_t reqid) override {
    std::lock_guard lock(mutex_);
    table_.AcquireFixedReqid(reqid);
  }
  bool HoldReqid(std::uint32_t reqid) override {
    std::lock_guard lock(mutex_);
    return table_.HoldReqid(reqid);
  }
  void ReleaseReqid(std::uint32_t reqid) override {
    std::lock_guard lock(mutex_);
    table_.ReleaseReqid(reqid);
  }
  std::vector<ike::ReqidKey> KeysOf(std::uint32_t reqid) const override {
    std::lock_guard lock(mutex_);
    return table_.KeysOf(reqid);
  }
  std::uint32_t NextUniqueMark() override {
    std::lock_guard lock(mutex_);
    return table_.NextUniqueMark();
  }
  std::uint32_t NextUniqueIfId() override {
    std::lock_guard lock(mutex_);
    return table_.NextUniqueIfId();
  }
  std::uint64_t NextIkeSerial() override {
    std::lock_guard lock(mutex_);
    return table_.NextIkeSerial();
  }
  std::uint64_t NextChildId() override {
    std::lock_guard lock(mutex_);
    return table_.NextChildId();
  }
  void AddIdentity(const ike::IdentityKey& key, std::uint64_t serial) override {
    std::lock_guard lock(mutex_);
    table_.AddIdentity(key, serial);
  }
  void RemoveIdentity(const ike::IdentityKey& key, std::uint64_t serial) override {
    std::lock_guard lock(mutex_);
    table_.RemoveIdentity(key, serial);
  }
  std::vector<std::uint64_t> SerialsWithIdentity(const ike::IdentityKey& key) const override {
    std::lock_guard lock(mutex_);
    return table_.SerialsWithIdentity(key);
  }
  void RequestDrop(const ike::DropRequest& request) override {
    std::lock_guard lock(mutex_);
    table_.RequestDrop(request);
  }
  std::vector<ike::DropRequest> TakeDropRequests() override {
    std::lock_guard lock(mutex_);
    return table_.TakeDropRequests();
  }

 private:
  mutable std::mutex mutex_;
  ike::SharedIdTable table_;
};

}  // namespace

std::unique_ptr<ike::SharedIds> MakeLockedSharedIds() {
  return std::make_unique<LockedSharedIds>();
}

std::uint32_t DefaultWorkerCount() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (::sched_getaffinity(0, sizeof set, &set) == 0 && CPU_COUNT(&set) > 0)
    return static_cast<std::uint32_t>(CPU_COUNT(&set));
  return std::max(1u, std::thread::hardware_concurrency());
}

struct EngineShards::Shard {
  Shard(std::uint32_t i, const ike::EngineConfig& config, xfrm::KernelIpsec& kernel,
        ike::SharedIds& ids)
      : index(i), engine(config, random, kernel, ids), timer(io), work(io.get_executor()) {}
  std::uint32_t index;
  crypto::SystemRandom random;
  std::mutex mutex;  // held around every engine call
  ike::Engine engine;
  asio::io_context io;  // the worker's (unused with one shard)
  asio::steady_timer timer;
  std::optional<ike::TimePoint> timer_armed;  // worker thread only
  bool called = false;  // by the main thread since its last Flush (under `mutex`)
  asio::executor_work_guard<asio::io_context::executor_type> work;
  std::thread thread;
};

EngineShards::EngineShards(asio::io_context& main, std::uint32_t workers,
                           const ike::EngineConfig& config, xfrm::KernelIpsec& kernel, Sinks sinks)
    : main_(main),
      sinks_(std::move(sinks)),
      locked_kernel_(std::make_unique<LockedKernel>(kernel, kernel_mutex_)),
      locked_ids_(MakeLockedSharedIds()) {
  workers = std::max(1u, workers);
  // The limits on all half-open SAs together are split between the shards (IKE_SA_INIT requests
  // spread evenly over them by SPI); the per-source ones stay per shard.
  const auto share = [workers](std::size_t limit) {
    return limit == 0 || limit == SIZE_MAX ? limit : (limit + workers - 1) / workers;
  };
  for (std::uint32_t i = 0; i < workers; ++i) {
    ike::EngineConfig c = config;
    c.cookie_threshold = share(config.cookie_threshold);
    c.init_limit_half_open = share(config.init_limit_half_open);
    c.shard_index = i;
    c.shard_count = workers;
    shards_.push_back(std::make_unique<Shard>(i, c, *locked_kernel_, *locked_ids_));
  }
}

EngineShards::~EngineShards() { Stop(); }

void EngineShards::Start() {
  if (!threaded()) return;
  for (auto& shard : shards_) {
    Shard* s = shard.get();
    s->thread = std::thread([s] { s->io.run(); });
  }
}

void EngineShards::Stop() {
  for (auto& shard : shards_) {
    shard->work.reset();
    shard->io.stop();
    if (shard->thread.joinable()) shard->thread.join();
  }
}

void EngineShards::RunOnMain(std::function<void()> f) {
  if (!threaded() || main_.get_executor().running_in_this_thread()) {
    f();
  } else {
    asio::post(main_, std::move(f));
  }
}

void EngineShards::SetTraceSink(const ike::TraceSink& sink) {
  for (auto& s : shards_) s->engine.SetTraceSink(sink);
}

void EngineShards::SetKeySink(const ike::KeySink& sink) {
  for (auto& s : shards_) s->engine.SetKeySink(sink);
}

template <typename F>
auto EngineShards::With(Shard& shard, F&& f) -> decltype(f(std::declval<ike::Engine&>())) {
  std::lock_guard lock(shard.mutex);
  shard.called = true;
  return f(shard.engine);
}

void EngineShards::FlushShard(Shard& shard, std::vector<ike::Event>* returned) {
  for (const auto& d : shard.engine.TakeDatagrams()) sinks_.send(d);
  auto events = shard.engine.TakeEvents();
  if (events.empty()) return;
  if (returned) {
    returned->insert(returned->end(), std::make_move_iterator(events.begin()),
                     std::make_move_iterator(events.end()));
  } else {
    // Posted while the shard's lock is held: a shard's events reach the main thread in order.
    asio::post(main_,
               [this, events = std::move(events)]() mutable { sinks_.events(std::move(events)); });
  }
}

std::vector<ike::Event> EngineShards::Flush() {
  std::vector<ike::Event> events;
  std::vector<Shard*> called;
  for (auto& shard : shards_) {
    std::lock_guard lock(shard->mutex);
    FlushShard(*shard, threaded() ? nullptr : &events);
    if (std::exchange(shard->called, false)) called.push_back(shard.get());
  }
  if (threaded()) {
    DispatchDrops();
    // Only an engine call can have moved a shard's next deadline earlier.
    for (Shard* s : called) asio::post(s->io, [this, s] { ArmWorkerTimer(*s); });
  }
  return events;
}

void EngineShards::DispatchDrops() {
  // Every other shard looks for the SA (no lock of one shard is taken under another's).
  for (const ike::DropRequest& request : locked_ids_->TakeDropRequests()) {
    for (auto& shard : shards_) {
      if (shard->index == request.from_shard) continue;
      asio::post(shard->io, [this, s = shard.get(), request] {
        {
          std::lock_guard lock(s->mutex);
          s->engine.DropForDuplicate(request, ike::Clock::now());
          FlushShard(*s, nullptr);
        }
        ArmWorkerTimer(*s);
      });
    }
  }
}

void EngineShards::ArmWorkerTimer(Shard& shard) {
  std::optional<ike::TimePoint> deadline;
  {
    std::lock_guard lock(shard.mutex);  // not With: this is the worker, not a main-thread call
    deadline = shard.engine.NextDeadline();
  }
  // As the daemon's own timer: a pending wait stands unless the deadline moved earlier.
  if (!deadline || (shard.timer_armed && *shard.timer_armed <= *deadline)) return;
  shard.timer_armed = deadline;
  shard.timer.expires_at(*deadline);
  shard.timer.async_wait([this, &shard](boost::system::error_code ec) {
    if (ec) return;
    shard.timer_armed.reset();
    {
      std::lock_guard lock(shard.mutex);
      shard.engine.HandleTimers(ike::Clock::now());
      FlushShard(shard, nullptr);
    }
    DispatchDrops();
    ArmWorkerTimer(shard);
  });
}

void EngineShards::HandleDatagram(Datagram datagram) {
  const bool nat_t = datagram.local.port == shards_.front()->engine.config().nat_t_port;
  Shard& shard = *shards_[ike::SteerToShard(datagram.data, nat_t, count())];
  if (!threaded()) {
    shard.engine.HandleDatagram(datagram, ike::Clock::now());
    return;
  }
  asio::post(shard.io, [this, &shard, d = std::move(datagram)] {
    {
      std::lock_guard lock(shard.mutex);
      shard.engine.HandleDatagram(d, ike::Clock::now());
      FlushShard(shard, nullptr);
    }
    DispatchDrops();
    ArmWorkerTimer(shard);
  });
}

void EngineShards::HandleKernelEvent(const xfrm::KernelEvent& event, ike::TimePoint now) {
  for (auto& s : shards_) With(*s, [&](ike::Engine& e) { e.HandleKernelEvent(event, now); });
}

void EngineShards::HandleTimers(ike::TimePoint now) {
  With(*shards_.front(), [&](ike::Engine& e) { e.HandleTimers(now); });
}

std::optional<ike::TimePoint> EngineShards::NextDeadline() {
  if (threaded()) return std::nullopt;  // each worker keeps its own
  return shards_.front()->engine.NextDeadline();
}

EngineShards::Shard* EngineShards::HomeOf(std::string_view peer) {
  return shards_[ike::HomeShard(peer, count())].get();
}

std::expected<void, std::string> EngineShards::AddPeer(ike::PeerConfig config,
                                                       ike::TimePoint now) {
  const auto peer = std::make_shared<const ike::PeerConfig>(std::move(config));
  std::expected<void, std::string> result;
  for (auto& s : shards_) {
    auto added = With(*s, [&](ike::Engine& e) { return e.AddPeer(peer, now); });
    if (!added) result = added;
  }
  return result;
}

void EngineShards::RemovePeer(std::string_view name, ike::TimePoint now) {
  for (auto& s : shards_) With(*s, [&](ike::Engine& e) { e.RemovePeer(name, now); });
}

std::expected<std::uint64_t, std::string> EngineShards::Initiate(std::string_view peer,
                                                                 std::string_view child,
                                                                 ike::TimePoint now) {
  Shard* target = HomeOf(peer);
  for (auto& s : shards_)
    if (With(*s, [&](ike::Engine& e) { return e.ike_sa_count(peer); }) > 0) {
      target = s.get();
      break;
    }
  return With(*target, [&](ike::Engine& e) { return e.Initiate(peer, child, now); });
}

EngineShards::Outcome EngineShards::InShards(std::string_view peer, bool only_holding,
                                             const std::function<Outcome(ike::Engine&)>& act) {
  std::optional<Outcome> result;
  for (auto& s : shards_) {
    auto done = With(*s, [&](ike::Engine& e) -> std::optional<Outcome> {
      if (only_holding && s->index != 0 && e.ike_sa_count(peer) == 0) return std::nullopt;
      return act(e);
    });
    if (done && (!result || done->has_value())) result = std::move(done);
  }
  return *result;
}

std::expected<void, std::string> EngineShards::Terminate(std::string_view peer,
                                                         std::string_view child,
                                                         ike::TimePoint now) {
  return InShards(peer, true, [&](ike::Engine& e) { return e.Terminate(peer, child, now); });
}

std::expected<void, std::string> EngineShards::Rekey(std::string_view peer, std::string_view child,
                                                     ike::TimePoint now) {
  return InShards(peer, true, [&](ike::Engine& e) { return e.Rekey(peer, child, now); });
}

std::expected<void, std::string> EngineShards::InstallTrap(std::string_view peer,
                                                           std::string_view child,
                                                           ike::TimePoint now) {
  return With(*HomeOf(peer), [&](ike::Engine& e) { return e.InstallTrap(peer, child, now); });
}

std::expected<void, std::string> EngineShards::UninstallTrap(std::string_view peer,
                                                             std::string_view child) {
  return InShards(peer, false, [&](ike::Engine& e) { return e.UninstallTrap(peer, child); });
}

std::vector<ike::IkeSaInfo> EngineShards::ListSas(ike::TimePoint now) {
  std::vector<ike::IkeSaInfo> all;
  for (auto& s : shards_) {
    auto sas = With(*s, [&](ike::Engine& e) { return e.ListSas(now); });
    all.insert(all.end(), std::make_move_iterator(sas.begin()), std::make_move_iterator(sas.end()));
  }
  if (threaded()) {
    std::sort(all.begin(), all.end(),
              [](const auto& a, const auto& b) { return a.serial < b.serial; });
  }
  return all;
}

std::size_t EngineShards::ike_sa_count() {
  std::size_t n = 0;
  for (auto& s : shards_) n += With(*s, [](ike::Engine& e) { return e.ike_sa_count(); });
  return n;
}

std::size_t EngineShards::ike_sa_count(std::string_view peer) {
  std::size_t n = 0;
  for (auto& s : shards_) n += With(*s, [&](ike::Engine& e) { return e.ike_sa_count(peer); });
  return n;
}

std::size_t EngineShards::child_sa_count() {
  std::size_t n = 0;
  for (auto& s : shards_) n += With(*s, [](ike::Engine& e) { return e.child_sa_count(); });
  return n;
}

std::size_t EngineShards::half_open_count() {
  std::size_t n = 0;
  for (auto& s : shards_) n += With(*s, [](ike::Engine& e) { return e.half_open_count(); });
  return n;
}

std::expected<ike::KeymatExplainInput, std::string> EngineShards::ExplainInput(std::uint64_t serial,
                                                                               bool with_secrets) {
  Shard* holder = shards_.front().get();  // its engine names a serial nobody holds
  for (auto& s : shards_)
    if (With(*s, [&](ike::Engine& e) { return e.has_ike_sa(serial); })) holder = s.get();
  return With(*holder, [&](ike::Engine& e) { return e.ExplainInput(serial, with_secrets); });
}

}  // namespace minivpn::daemon
