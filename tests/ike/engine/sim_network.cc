#include "tests/ike/engine/sim_network.h"

#include <algorithm>

#include "ike/engine/shard.h"

namespace minivpn::ike::test {

SimNetwork::SimNetwork(Options options) : options_(options), rng_(options.seed) {}

void SimNetwork::Attach(const xfrm::IpAddress& address, Engine* engine) {
  engines_[address] = engine;
  if (std::find(unique_engines_.begin(), unique_engines_.end(), engine) == unique_engines_.end())
    unique_engines_.push_back(engine);
}

void SimNetwork::Detach(const xfrm::IpAddress& address) {
  auto it = engines_.find(address);
  if (it == engines_.end()) return;
  Engine* engine = it->second;
  engines_.erase(it);
  for (const auto& [other, e] : engines_)
    if (e == engine) return;  // still at another address
  std::erase(unique_engines_, engine);
}

void SimNetwork::AttachShards(const xfrm::IpAddress& address, std::vector<Engine*> shards) {
  for (Engine* shard : shards)
    if (std::find(unique_engines_.begin(), unique_engines_.end(), shard) == unique_engines_.end())
      unique_engines_.push_back(shard);
  shards_[address] = std::move(shards);
}

Engine* SimNetwork::EngineFor(const xfrm::IpAddress& address) const {
  auto it = engines_.find(address);
  return it == engines_.end() ? nullptr : it->second;
}

bool SimNetwork::Chance(double p) {
  if (p <= 0) return false;
  return std::uniform_real_distribution<double>(0, 1)(rng_) < p;
}

void SimNetwork::Enqueue(Datagram d, bool reliable) {
  if (drop_if && drop_if(d)) {
    ++lost_;
    return;
  }
  if (!reliable && Chance(options_.loss)) {
    ++lost_;
    return;
  }
  int copies = (!reliable && Chance(options_.duplicate)) ? 2 : 1;
  if (copies == 2) ++duplicated_;
  for (int i = 0; i < copies; ++i) {
    TimePoint at = now_ + options_.delay;
    if (!reliable && Chance(options_.reorder))
      at += Millis(std::uniform_int_distribution<long>(0, options_.max_jitter.count())(rng_));
    in_flight_.push_back(InFlight{.datagram = d, .deliver_at = at, .seq = seq_++});
  }
}

void SimNetwork::Collect() {
  for (Engine* engine : unique_engines_)
    for (auto& d : engine->TakeDatagrams()) Enqueue(std::move(d), false);
}

void SimNetwork::CollectReliable() {
  for (Engine* engine : unique_engines_)
    for (auto& d : engine->TakeDatagrams()) Enqueue(std::move(d), true);
}

void SimNetwork::Deliver(std::size_t i) {
  InFlight f = std::move(in_flight_.at(i));
  in_flight_.erase(in_flight_.begin() + static_cast<long>(i));
  Engine* to = EngineFor(f.datagram.remote.address);
  if (auto it = shards_.find(f.datagram.remote.address); it != shards_.end()) {
    const bool nat_t = f.datagram.remote.port == EngineConfig{}.nat_t_port;
    const auto count = static_cast<std::uint32_t>(it->second.size());
    to = it->second[SteerToShard(f.datagram.data, nat_t, count)];
  }
  if (!to) {
    ++lost_;
    return;
  }
  ++delivered_;
  Datagram arrived{
      .local = f.datagram.remote, .remote = f.datagram.local, .data = std::move(f.datagram.data)};
  to->HandleDatagram(arrived, now_);
}

void SimNetwork::Drop(std::size_t i) {
  in_flight_.erase(in_flight_.begin() + static_cast<long>(i));
  ++lost_;
}

bool SimNetwork::Step() {
  if (in_flight_.empty()) return false;
  auto it =
      std::min_element(in_flight_.begin(), in_flight_.end(), [](const auto& a, const auto& b) {
        return a.deliver_at != b.deliver_at ? a.deliver_at < b.deliver_at : a.seq < b.seq;
      });
  AdvanceTo(it->deliver_at);
  Deliver(static_cast<std::size_t>(it - in_flight_.begin()));
  return true;
}

void SimNetwork::FireTimers() {
  for (Engine* engine : unique_engines_) engine->HandleTimers(now_);
}

std::size_t SimNetwork::RunUntil(TimePoint until, std::size_t max_events) {
  std::size_t events = 0;
  while (events < max_events) {
    Collect();
    std::optional<TimePoint> next_delivery;
    for (const auto& f : in_flight_)
      if (!next_delivery || f.deliver_at < *next_delivery) next_delivery = f.deliver_at;
    std::optional<TimePoint> next_timer;
    for (Engine* engine : unique_engines_)
      if (auto d = engine->NextDeadline(); d && (!next_timer || *d < *next_timer)) next_timer = d;
    if (next_delivery && (!next_timer || *next_delivery <= *next_timer)) {
      Step();
    } else if (next_timer && *next_timer <= until) {
      AdvanceTo(*next_timer);
      FireTimers();
    } else {
      break;
    }
    ++events;
  }
  Collect();
  return events;
}

}  // namespace minivpn::ike::test
