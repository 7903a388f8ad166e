// A simulated UDP network between in-process ike::Engines, with a controllable clock.
//
// Engines are attached by IP address; a datagram goes to the engine that owns its destination
// address and arrives with local/remote swapped. Loss, duplication, reordering and delay come
// from a seeded generator, so every run is the same. Tests can also step by hand: Collect()
// moves what the engines sent into the in-flight list, Deliver(i)/Drop(i) act on one datagram.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <random>
#include <vector>

#include "ike/engine/engine.h"

namespace minivpn::ike::test {

class SimNetwork {
 public:
  struct Options {
    double loss = 0.0;       // probability that a datagram is lost
    double duplicate = 0.0;  // probability that it arrives twice
    double reorder = 0.0;    // probability of an extra random delay (up to max_jitter)
    Millis delay{5};         // one-way delay
    Millis max_jitter{50};
    std::uint64_t seed = 1;
  };

  struct InFlight {
    Datagram datagram;  // as sent (local = sender)
    TimePoint deliver_at{};
    std::uint64_t seq = 0;
  };

  SimNetwork() : SimNetwork(Options{}) {}
  explicit SimNetwork(Options options);

  void Attach(const xfrm::IpAddress& address, Engine* engine);
  // The engine at `address` is gone (a restart): nothing more is delivered to or taken from it.
  void Detach(const xfrm::IpAddress& address);
  // The shards of one multi-core daemon at `address`: each datagram goes to the shard
  // ike::SteerToShard names, as the daemon's steering does (shard i = shards[i]).
  void AttachShards(const xfrm::IpAddress& address, std::vector<Engine*> shards);
  Engine* EngineFor(const xfrm::IpAddress& address) const;

  TimePoint now() const { return now_; }
  void AdvanceTo(TimePoint t) {
    if (t > now_) now_ = t;
  }
  void Advance(std::chrono::milliseconds d) { now_ += d; }

  // Takes what every engine sent into the in-flight list, applying loss/duplication/delay.
  void Collect();
  // Takes what every engine sent, without loss/duplication (for hand-stepped tests).
  void CollectReliable();
  std::vector<InFlight>& in_flight() { return in_flight_; }
  std::size_t pending() const { return in_flight_.size(); }
  // Delivers in-flight datagram i now (whatever its delivery time).
  void Deliver(std::size_t i);
  void Drop(std::size_t i);
  // Delivers the earliest datagram, advancing the clock to its delivery time. False if none.
  bool Step();
  // Calls HandleTimers on every engine at the current time.
  void FireTimers();
  // Runs the network and the timers until nothing is in flight and no deadline is before
  // `until`, or `max_events` deliveries/timer firings happened. Returns the events processed.
  std::size_t RunUntil(TimePoint until, std::size_t max_events = 1000000);
  // Runs with the current options until quiet (no datagram in flight and no deadline within
  // `horizon`).
  std::size_t RunFor(std::chrono::milliseconds horizon) { return RunUntil(now_ + horizon); }

  // Optional filter: return true to drop a datagram at collection time.
  std::function<bool(const Datagram&)> drop_if;

  std::uint64_t delivered() const { return delivered_; }
  std::uint64_t lost() const { return lost_; }
  std::uint64_t duplicated() const { return duplicated_; }
  Options& options() { return options_; }

 private:
  bool Chance(double p);
  void Enqueue(Datagram d, bool reliable);

  Options options_;
  std::mt19937_64 rng_;
  std::map<xfrm::IpAddress, Engine*> engines_;
  std::map<xfrm::IpAddress, std::vector<Engine*>> shards_;
  std::vector<Engine*> unique_engines_;  // in attach order, each engine once
  std::vector<InFlight> in_flight_;
  TimePoint now_{std::chrono::hours(1)};
  std::uint64_t seq_ = 0;
  std::uint64_t delivered_ = 0, lost_ = 0, duplicated_ = 0;
};

}  // namespace minivpn::ike::test
