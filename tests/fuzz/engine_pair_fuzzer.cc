// libFuzzer target: two IKE engines talking through a network the input controls. Each input
// octet pair (step, argument) is one step: deliver, drop, duplicate, reorder or corrupt a
// datagram in flight; rekey a CHILD_SA or the IKE SA, add or delete a CHILD_SA, delete or
// re-initiate the IKE SA, on either side; let time pass; make a kernel call fail; deliver a soft
// or hard expire of an installed SA. Both engines fragment every protected message
// (fragment_size 300), so IKE_AUTH and CREATE_CHILD_SA travel as authentic SKF fragments, and
// the two sides' requests cross (collisions: simultaneous rekeys, rekey versus delete).
// Invariants checked: nothing crashes; after both sides delete everything their kernels are
// empty, but for objects whose removal the fuzzer made fail.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <string_view>

#include "crypto/random.h"
#include "ike/engine/engine.h"
#include "tests/fuzz/engine_fuzz_config.h"
#include "xfrm/fake_kernel.h"

namespace {

using namespace minivpn;       // NOLINT
using namespace minivpn::ike;  // NOLINT

xfrm::IpAddress Ip(const char* s) { return fuzz::FuzzIp(s); }

// Two children per peer: the second one's selectors mirror between the sides.
PeerConfig Peer(const char* name, const char* local, const char* remote, const char* lid,
                const char* rid, bool side_a) {
  return fuzz::FuzzPeer(name, local, remote, lid, rid, "pair psk",
                        {fuzz::FuzzChild("net", "0.0.0.0/0", "0.0.0.0/0", 12),
                         side_a ? fuzz::FuzzChild("lan", "10.1.0.0/16", "10.2.0.0/16", 13)
                                : fuzz::FuzzChild("lan", "10.2.0.0/16", "10.1.0.0/16", 13)});
}

struct Side {
  const char* peer;  // this side's name for the other
  xfrm::FakeKernel kernel;
  crypto::SeededRandom random;
  Engine engine;
  explicit Side(const char* name, std::uint64_t seed, const EngineConfig& config)
      : peer(name), random(seed), engine(config, random, kernel) {}
};

constexpr std::errc kKernelErrors[] = {std::errc::io_error, std::errc::file_exists,
                                       std::errc::no_such_file_or_directory,
                                       std::errc::no_buffer_space};
constexpr std::size_t kMaxInFlight = 64;

class Pair {
 public:
  explicit Pair(const EngineConfig& config)
      : a_("to-b", 11, config), b_("to-a", 22, config) {}

  bool Start() {
    if (!a_.engine.AddPeer(Peer("to-b", "192.0.2.1", "192.0.2.2", "a", "b", true), now_))
      return false;
    if (!b_.engine.AddPeer(Peer("to-a", "192.0.2.2", "192.0.2.1", "b", "a", false), now_))
      return false;
    (void)a_.engine.Initiate("to-b", "net", now_);
    Collect();
    return true;
  }

  // One step of the script; `arg` chooses the side (bit 0) and the details.
  void Step(std::uint8_t step, std::uint8_t arg) {
    Side& s = (arg & 1) ? b_ : a_;
    const std::string_view child = (arg & 2) ? "lan" : "net";
    switch (step % 16) {
      case 0:
      case 1:
      case 2:  // deliver the datagram at position arg / 2 (most steps deliver)
        Deliver(arg >> 1);
        break;
      case 3:
        if (!flight_.empty()) flight_.erase(flight_.begin() + (arg >> 1) % flight_.size());
        break;
      case 4:  // duplicate
        if (!flight_.empty() && flight_.size() < kMaxInFlight)
          flight_.push_back(flight_[(arg >> 1) % flight_.size()]);
        break;
      case 5:  // the oldest datagram goes to the back of the queue
        if (!flight_.empty()) {
          flight_.push_back(std::move(flight_.front()));
          flight_.pop_front();
        }
        break;
      case 6:  // flip one bit of a datagram (its ICV then fails, or a header field changes)
        if (!flight_.empty()) {
          Bytes& d = flight_[arg % flight_.size()].data;
          if (!d.empty()) d[(arg * 7u) % d.size()] ^= static_cast<std::uint8_t>(1u << (arg % 8));
        }
        break;
      case 7: (void)s.engine.Rekey(s.peer, child, now_); break;
      case 8: (void)s.engine.Rekey(s.peer, "", now_); break;
      case 9: (void)s.engine.Initiate(s.peer, child, now_); break;
      case 10: (void)s.engine.Terminate(s.peer, child, now_); break;
      case 11: (void)s.engine.Terminate(s.peer, "", now_); break;
      case 12:  // time passes: 0.25 s steps up to ~32 s (retransmissions, DPD, timeouts)
        now_ += std::chrono::milliseconds(250) * (arg >> 1);
        a_.engine.HandleTimers(now_);
        b_.engine.HandleTimers(now_);
        break;
      case 13:
        s.kernel.FailNth((arg >> 1) % 6 + 1, kKernelErrors[(arg >> 4) & 3]);
        break;
      case 14:
      case 15:
        Expire(s, arg >> 1, step % 16 == 15);
        break;
    }
    Collect();
  }

  // Deletes everything on both sides and checks both kernels.
  void Finish() {
    for (Side* s : {&a_, &b_}) s->kernel.FailNth(0, std::errc::io_error);
    for (int i = 0; i < 200 && !flight_.empty(); ++i) {
      Deliver(0);
      Collect();
    }
    for (Side* s : {&a_, &b_}) {
      (void)s->engine.Terminate(s->peer, "", now_);
      s->engine.RemovePeer(s->peer, now_);
      s->engine.TakeDatagrams();
      s->engine.TakeEvents();
      Check(*s);
    }
  }

 private:
  void Deliver(std::size_t i) {
    if (flight_.empty()) return;
    i %= flight_.size();
    Datagram d = std::move(flight_[i]);
    flight_.erase(flight_.begin() + static_cast<std::ptrdiff_t>(i));
    Side& to = d.remote.address == Ip("192.0.2.1") ? a_ : b_;
    to.engine.HandleDatagram(
        Datagram{.local = d.remote, .remote = d.local, .data = std::move(d.data)}, now_);
  }

  void Collect() {
    for (Side* s : {&a_, &b_}) {
      for (auto& d : s->engine.TakeDatagrams())
        if (flight_.size() < kMaxInFlight) flight_.push_back(std::move(d));
      s->engine.TakeEvents();
    }
  }

  // The kernel ends an SA's life: a soft expire asks for a rekey; a hard one means the kernel
  // has deleted the SA already (as xfrm does), and the engine hears about it afterwards.
  void Expire(Side& s, std::size_t pick, bool hard) {
    std::vector<xfrm::ExpireEvent> installed;  // (SaSpec holds keys: not copied)
    for (const auto& op : s.kernel.log()) {
      if (op.kind != xfrm::FakeOpKind::kAddSa || op.result) continue;
      if (const xfrm::SaSpec* spec = s.kernel.FindSa(op.sa))
        installed.push_back(xfrm::ExpireEvent{.sa = spec->id, .reqid = spec->reqid, .hard = hard});
    }
    if (installed.empty()) return;
    const xfrm::ExpireEvent& expire = installed[pick % installed.size()];
    if (hard && s.kernel.DelSa(expire.sa)) return;
    s.engine.HandleKernelEvent(expire, now_);
  }

  static void Check(const Side& s) {
    std::size_t failed_removals = 0;
    for (const auto& op : s.kernel.log())
      if ((op.kind == xfrm::FakeOpKind::kDelSa || op.kind == xfrm::FakeOpKind::kDelPolicy) &&
          op.result)
        ++failed_removals;
    if (s.kernel.sa_count() + s.kernel.larval_count() + s.kernel.policy_count() <= failed_removals)
      return;
    std::fprintf(stderr, "%s: kernel objects left behind: %zu SAs, %zu larval, %zu policies\n",
                 s.peer, s.kernel.sa_count(), s.kernel.larval_count(), s.kernel.policy_count());
    for (const auto& op : s.kernel.log()) std::fprintf(stderr, "  %s\n", op.ToString().c_str());
    std::abort();
  }

  TimePoint now_{std::chrono::hours(1)};
  Side a_, b_;
  std::deque<Datagram> flight_;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  EngineConfig config;
  config.fragment_size = 300;  // every protected message of some size goes as SKF fragments
  Pair pair(config);
  if (!pair.Start()) return 0;
  for (std::size_t i = 0; i + 1 < size && i < 2 * 400; i += 2) pair.Step(data[i], data[i + 1]);
  pair.Finish();
  return 0;
}
