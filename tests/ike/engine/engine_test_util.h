// Shared fixtures for the engine tests: two peers (A = 192.0.2.1 initiator side, B = 192.0.2.2)
// with seeded randomness, fake kernels and a simulated network.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "crypto/random.h"
#include "ike/engine/engine.h"
#include "tests/ike/engine/sim_network.h"
#include "xfrm/fake_kernel.h"

namespace minivpn::ike::test {

inline xfrm::IpAddress Ip(const char* text) { return *xfrm::IpAddress::Parse(text); }
inline xfrm::Subnet Net(const char* text) { return *xfrm::Subnet::Parse(text); }
// A selector list of one subnet, all protocols and ports.
inline std::vector<xfrm::Selector> Ts(const char* text) { return {xfrm::Selector::Of(Net(text))}; }

// aes256gcm16-prfsha256-x25519
inline IkeProposal GcmX25519() {
  return IkeProposal{.encr = {{crypto::EncrId::kAesGcm16, 256}},
                     .integ = {},
                     .prf = {crypto::PrfId::kHmacSha2_256},
                     .dh = {crypto::DhGroup::kCurve25519}};
}
// aes128-sha256-modp2048 style (CBC + HMAC) with a chosen group.
inline IkeProposal CbcSha256(crypto::DhGroup group) {
  return IkeProposal{.encr = {{crypto::EncrId::kAesCbc, 128}},
                     .integ = {crypto::IntegId::kHmacSha2_256_128},
                     .prf = {crypto::PrfId::kHmacSha2_256},
                     .dh = {group}};
}
// esp = aes256gcm16
inline EspProposal EspGcm() {
  return EspProposal{
      .encr = {{crypto::EncrId::kAesGcm16, 256}}, .integ = {}, .dh = {}, .esn = {EsnId::kNoEsn}};
}

inline ChildConfig RouteChild(std::string name, std::uint32_t mark) {
  ChildConfig c;
  c.name = std::move(name);
  c.local_ts = Ts("0.0.0.0/0");
  c.remote_ts = Ts("0.0.0.0/0");
  c.mark_in = xfrm::Mark{mark, 0xffffffff};
  c.mark_out = xfrm::Mark{mark, 0xffffffff};
  c.proposals = {EspGcm()};
  return c;
}

inline PeerConfig MakePeer(std::string name, const char* local, const char* remote,
                           const char* local_id, const char* remote_id, std::uint32_t mark = 12) {
  PeerConfig p;
  p.name = std::move(name);
  p.local_address = Ip(local);
  p.remote_address = Ip(remote);
  p.proposals = {GcmX25519()};
  p.local_id = Identity{IdType::kFqdn, local_id};
  p.remote_id = Identity{IdType::kFqdn, remote_id};
  p.psk = SecretBytes::FromString("correct horse battery staple");
  p.children = {RouteChild("net", mark)};
  return p;
}

inline std::vector<Event> OfKind(const std::vector<Event>& events, EventKind kind) {
  std::vector<Event> out;
  std::copy_if(events.begin(), events.end(), std::back_inserter(out),
               [&](const Event& e) { return e.kind == kind; });
  return out;
}

// The CHILD_SAs of every IKE SA of an engine.
inline std::vector<ChildSaInfo> Children(const Engine& e) {
  std::vector<ChildSaInfo> out;
  for (const auto& sa : e.ListSas(TimePoint{}))
    for (const auto& c : sa.children) out.push_back(c);
  return out;
}

// Two engines on one simulated network; A initiates by default.
class TwoPeers : public ::testing::Test {
 protected:
  TwoPeers() : TwoPeers(EngineConfig{}) {}
  explicit TwoPeers(EngineConfig config)
      : rand_a_(1), rand_b_(2), a_(config, rand_a_, kernel_a_), b_(config, rand_b_, kernel_b_) {
    net_.Attach(Ip("192.0.2.1"), &a_);
    net_.Attach(Ip("192.0.2.2"), &b_);
  }

  PeerConfig PeerA() { return MakePeer("to-b", "192.0.2.1", "192.0.2.2", "a.test", "b.test"); }
  PeerConfig PeerB() { return MakePeer("to-a", "192.0.2.2", "192.0.2.1", "b.test", "a.test"); }

  void AddPeers() { AddPeers(PeerA(), PeerB()); }
  void AddPeers(PeerConfig pa, PeerConfig pb) {
    ASSERT_TRUE(a_.AddPeer(std::move(pa), net_.now()).has_value());
    ASSERT_TRUE(b_.AddPeer(std::move(pb), net_.now()).has_value());
  }

  // Establishes IKE + the "net" CHILD_SA from A over a reliable network.
  void Establish() {
    AddPeers();
    ASSERT_TRUE(a_.Initiate("to-b", "net", net_.now()).has_value());
    net_.RunFor(std::chrono::seconds(1));
    ASSERT_EQ(EstablishedCount(a_), 1u);
    ASSERT_EQ(EstablishedCount(b_), 1u);
  }

  // Hand-stepping: collect without loss and deliver the only datagram in flight.
  void DeliverOnly() {
    net_.CollectReliable();
    ASSERT_EQ(net_.pending(), 1u);
    net_.Deliver(0);
  }

  static std::size_t EstablishedCount(const Engine& e) {
    std::size_t n = 0;
    for (const auto& sa : e.ListSas(TimePoint{}))
      if (sa.state == IkeState::kEstablished) ++n;
    return n;
  }

  crypto::SeededRandom rand_a_, rand_b_;
  xfrm::FakeKernel kernel_a_, kernel_b_;
  Engine a_, b_;
  SimNetwork net_;
};

}  // namespace minivpn::ike::test
