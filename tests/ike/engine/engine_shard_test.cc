// Multi-core shards (EngineConfig::shard_index, ike/engine/shard.h): the steering functions, and
// a responder made of shards that share one kernel and one SharedIdTable, driven in one thread
// by SimNetwork's steering step, so every run is the same.
#include <random>
#include <set>

#include "ike/engine/shard.h"
#include "tests/ike/engine/engine_test_util.h"

namespace minivpn::ike::test {
namespace {

using std::chrono::seconds;

TEST(ShardTest, SpiForShardNamesTheShardAndKeepsTheHighWord) {
  std::mt19937_64 rng(7);
  std::vector<std::uint64_t> spis = {0, 1, 0xffffffffu, 0xfffffffffffffffful, 0x12345678fffffffeul};
  for (int i = 0; i < 2000; ++i) spis.push_back(rng());
  for (std::uint32_t count = 1; count <= 9; ++count)
    for (std::uint32_t shard = 0; shard < count; ++shard)
      for (std::uint64_t spi : spis) {
        const std::uint64_t out = SpiForShard(spi, shard, count);
        ASSERT_EQ(ShardOfSpi(out, count), shard) << spi << " " << count;
        ASSERT_EQ(out >> 32, spi >> 32) << spi;
        const auto low = static_cast<std::int64_t>(spi & 0xffffffffu);
        const auto new_low = static_cast<std::int64_t>(out & 0xffffffffu);
        ASSERT_LT(std::abs(new_low - low), static_cast<std::int64_t>(count)) << spi;
      }
}

// An IKE header: SPIi, SPIr, next payload, version, exchange type, flags, message ID, length.
Bytes Header(std::uint64_t spi_i, std::uint64_t spi_r, std::uint8_t flags) {
  Bytes b;
  for (int i = 7; i >= 0; --i) b.push_back(static_cast<std::uint8_t>(spi_i >> (8 * i)));
  for (int i = 7; i >= 0; --i) b.push_back(static_cast<std::uint8_t>(spi_r >> (8 * i)));
  b.insert(b.end(), {33, 0x20, 34, flags, 0, 0, 0, 0, 0, 0, 0, 28});
  return b;
}

TEST(ShardTest, SteerToShardReadsTheSpiWeChose) {
  constexpr std::uint8_t kI = 0x08, kR = 0x20;
  const std::uint64_t ours3 = 0xaaaabbbb00000003ul, theirs = 0x1111222200000005ul;
  // IKE_SA_INIT request: SPIr is 0, the initiator's SPI decides.
  EXPECT_EQ(SteerToShard(Header(theirs, 0, kI), false, 4), 5u % 4);
  // A request from the original initiator: our SPI is the responder SPI.
  EXPECT_EQ(SteerToShard(Header(theirs, ours3, kI), false, 4), 3u);
  // A response to us as initiator (I clear): our SPI is the initiator SPI.
  EXPECT_EQ(SteerToShard(Header(ours3, theirs, kR), false, 4), 3u);
  // A request from the original responder (I clear) goes the same way.
  EXPECT_EQ(SteerToShard(Header(ours3, theirs, 0), false, 4), 3u);
  // SPIr with a zero low word is not "no SPIr".
  EXPECT_EQ(SteerToShard(Header(theirs, 0x0000000100000000ul, kI), false, 4), 0u);
  // Port 4500: the non-ESP marker comes first; ESP (a non-zero SPI there) goes to shard 0.
  Bytes marked = {0, 0, 0, 0};
  const Bytes h = Header(theirs, ours3, kI);
  marked.insert(marked.end(), h.begin(), h.end());
  EXPECT_EQ(SteerToShard(marked, true, 4), 3u);
  EXPECT_EQ(SteerToShard(h, true, 4), 0u);
  // Too short for an IKE header, a keepalive: shard 0.
  EXPECT_EQ(SteerToShard(Bytes(27, 1), false, 4), 0u);
  EXPECT_EQ(SteerToShard(Bytes{0xff}, true, 4), 0u);
  // One shard: always 0.
  EXPECT_EQ(SteerToShard(h, false, 1), 0u);
}

TEST(ShardTest, HomeShardIsStableAndSpreads) {
  std::set<std::uint32_t> seen;
  for (int i = 0; i < 16; ++i) {
    const std::string name = "peer" + std::to_string(i);
    EXPECT_EQ(HomeShard(name, 3), HomeShard(name, 3));
    EXPECT_LT(HomeShard(name, 3), 3u);
    seen.insert(HomeShard(name, 3));
  }
  EXPECT_EQ(seen.size(), 3u);
}

xfrm::IpAddress PeerIp(int i) {
  return xfrm::IpAddress::V4((10u << 24) | (1u << 16) | static_cast<std::uint32_t>(i + 1));
}
std::string Name(int i) { return "peer" + std::to_string(i); }

// The reqid table: one reqid per selectors-and-marks key, shared by reference; released ones are
// not handed out again; configured and fixed reqids are skipped; each way of looking one up
// (by key, by reqid) agrees with the other through thousands of keys.
TEST(SharedIdTableTest, ReqidsByKeyAndByReqidAgree) {
  SharedIdTable ids;
  const auto key = [](std::uint32_t i) {
    return ReqidKey{{xfrm::Selector::Of(*xfrm::Subnet::Parse("10.0.0.0/24"))},
                    {xfrm::Selector::Of(*xfrm::Subnet::Parse("10.128.0.0/32"))},
                    xfrm::Mark{i, 0xffffffff},
                    xfrm::Mark{i, 0xffffffff},
                    0,
                    0};
  };
  const auto configured = [](std::uint32_t r) { return r == 5; };
  ids.AcquireFixedReqid(3);
  constexpr std::uint32_t kKeys = 5000;
  std::vector<std::uint32_t> reqid(kKeys + 1);
  for (std::uint32_t i = 1; i <= kKeys; ++i) reqid[i] = ids.AcquireReqid(key(i), configured);
  EXPECT_EQ(reqid[1], 1u);
  EXPECT_EQ(reqid[2], 2u);
  EXPECT_EQ(reqid[3], 4u);  // 3 is fixed, 5 configured
  EXPECT_EQ(reqid[4], 6u);
  EXPECT_EQ(std::set<std::uint32_t>(reqid.begin() + 1, reqid.end()).size(), kKeys);
  EXPECT_EQ(ids.AcquireReqid(key(7), configured), reqid[7]);  // a second reference
  for (std::uint32_t i = 1; i <= kKeys; ++i) {
    const auto keys = ids.KeysOf(reqid[i]);
    ASSERT_EQ(keys.size(), 1u);
    EXPECT_EQ(std::get<2>(keys[0]).value, i);
  }
  EXPECT_TRUE(ids.HoldReqid(reqid[9]));
  EXPECT_FALSE(ids.HoldReqid(kKeys + 100));
  ids.ReleaseReqid(reqid[7]);
  EXPECT_EQ(ids.KeysOf(reqid[7]).size(), 1u);  // one reference left
  ids.ReleaseReqid(reqid[7]);
  EXPECT_TRUE(ids.KeysOf(reqid[7]).empty());
  EXPECT_FALSE(ids.HoldReqid(reqid[7]));
  const std::uint32_t again = ids.AcquireReqid(key(7), configured);
  EXPECT_NE(again, reqid[7]);  // not handed out again
  EXPECT_EQ(again, reqid[kKeys] + 1);
  ids.ReleaseReqid(reqid[9]);
  ids.ReleaseReqid(reqid[9]);
  EXPECT_TRUE(ids.KeysOf(reqid[9]).empty());
  EXPECT_TRUE(ids.HoldReqid(3));  // the fixed one
}

// A responder of `count` shards: one FakeKernel and one SharedIdTable behind all of them, as
// minivpnd shares its kernel and its ids.
struct ShardedResponder {
  explicit ShardedResponder(std::uint32_t count, EngineConfig cfg = {}) {
    for (std::uint32_t i = 0; i < count; ++i) {
      cfg.shard_index = i;
      cfg.shard_count = count;
      randoms.push_back(std::make_unique<crypto::SeededRandom>(100 + i));
      shards.push_back(std::make_unique<Engine>(cfg, *randoms.back(), kernel, ids));
    }
  }
  std::vector<Engine*> Pointers() {
    std::vector<Engine*> out;
    for (auto& s : shards) out.push_back(s.get());
    return out;
  }
  void AddPeer(const PeerConfig& peer, TimePoint now) {
    for (auto& s : shards) ASSERT_TRUE(s->AddPeer(peer, now).has_value());
  }
  Engine* Holding(const std::string& peer) {
    for (auto& s : shards)
      if (s->ike_sa_count(peer) > 0) return s.get();
    return nullptr;
  }
  xfrm::FakeKernel kernel;
  SharedIdTable ids;
  std::vector<std::unique_ptr<crypto::SeededRandom>> randoms;
  std::vector<std::unique_ptr<Engine>> shards;
};

// 64 peers against a responder of 3 shards over a lossy network: every SA comes up in one
// shard, under SPIs that name it; reqids and serials never collide across shards; CHILD and IKE
// rekeys (from either side) reach the shard holding the SA; all deletes leave the kernel empty.
TEST(EngineShardTest, ShardedResponderCarriesSasThroughRekeysAndDeletes) {
  constexpr int kPeers = 64;
  EngineConfig cfg;
  cfg.retransmit_tries = 10;
  crypto::SeededRandom ra(11);
  xfrm::FakeKernel ka;
  Engine a(cfg, ra, ka);
  ShardedResponder b(3, cfg);
  SimNetwork net(SimNetwork::Options{.loss = 0.1, .duplicate = 0.1, .reorder = 0.1, .seed = 5});
  net.AttachShards(Ip("192.0.2.2"), b.Pointers());
  for (int i = 0; i < kPeers; ++i) {
    net.Attach(PeerIp(i), &a);
    PeerConfig pa = MakePeer(Name(i), "0.0.0.0", "192.0.2.2", "", "b.test", i + 1);
    pa.local_address = PeerIp(i);
    pa.local_id = Identity{IdType::kFqdn, Name(i) + ".test"};
    PeerConfig pb = MakePeer(Name(i), "192.0.2.2", "0.0.0.0", "b.test", "", i + 1);
    pb.remote_address = PeerIp(i);
    pb.remote_id = Identity{IdType::kFqdn, Name(i) + ".test"};
    ASSERT_TRUE(a.AddPeer(std::move(pa), net.now()).has_value());
    b.AddPeer(pb, net.now());
  }
  const auto check = [&](const char* stage) {
    std::set<std::uint64_t> serials;
    std::set<std::uint32_t> reqids;
    std::size_t established = 0;
    for (std::uint32_t i = 0; i < b.shards.size(); ++i) {
      const auto sas = b.shards[i]->ListSas(net.now());
      EXPECT_FALSE(sas.empty()) << stage << ": shard " << i << " holds no SA";
      for (const auto& sa : sas) {
        // Ours: SPIr, or SPIi once the shard started an IKE rekey.
        EXPECT_EQ(ShardOfSpi(sa.initiator ? sa.spi_i : sa.spi_r, 3), i) << stage;
        EXPECT_TRUE(serials.insert(sa.serial).second) << stage << ": serial " << sa.serial;
        if (sa.state == IkeState::kEstablished) ++established;
        for (const auto& c : sa.children) reqids.insert(c.reqid);
      }
    }
    EXPECT_EQ(established, static_cast<std::size_t>(kPeers)) << stage;
    EXPECT_EQ(reqids.size(), static_cast<std::size_t>(kPeers)) << stage << ": one reqid per mark";
    EXPECT_EQ(b.kernel.sa_count(), 2u * kPeers) << stage;
    EXPECT_EQ(ka.sa_count(), 2u * kPeers) << stage;
  };

  for (int i = 0; i < kPeers; ++i) ASSERT_TRUE(a.Initiate(Name(i), "net", net.now()).has_value());
  net.RunFor(seconds(3600));
  check("established");
  for (int i = 0; i < kPeers; ++i) ASSERT_TRUE(a.Rekey(Name(i), "net", net.now()).has_value());
  net.RunFor(seconds(3600));
  check("CHILD rekey by the initiator");
  for (int i = 0; i < kPeers; ++i) {
    Engine* holder = b.Holding(Name(i));
    ASSERT_NE(holder, nullptr);
    ASSERT_TRUE(holder->Rekey(Name(i), "", net.now()).has_value());
  }
  net.RunFor(seconds(3600));
  check("IKE rekey by the responder");
  for (int i = 0; i < kPeers; ++i) ASSERT_TRUE(a.Terminate(Name(i), "", net.now()).has_value());
  net.RunFor(seconds(20000));
  for (auto& s : b.shards) EXPECT_EQ(s->ike_sa_count(), 0u);
  EXPECT_EQ(b.kernel.sa_count(), 0u);
  EXPECT_EQ(b.kernel.policy_count(), 0u);
  EXPECT_EQ(ka.sa_count(), 0u);
}

// start_action = start and trap act in the peer's home shard only: one IKE_SA_INIT, one set of
// trap policies, and an ACQUIRE all shards see starts one IKE SA.
TEST(EngineShardTest, OnlyTheHomeShardStartsAndTraps) {
  for (const StartAction action : {StartAction::kStart, StartAction::kTrap}) {
    ShardedResponder a(3);
    PeerConfig p = MakePeer("p", "192.0.2.1", "192.0.2.2", "a.test", "b.test");
    p.children[0].start_action = action;
    a.AddPeer(p, TimePoint{});
    const std::uint32_t home = HomeShard("p", 3);
    for (std::uint32_t i = 0; i < 3; ++i) {
      const auto sent = a.shards[i]->TakeDatagrams();
      EXPECT_EQ(sent.size(), i == home && action == StartAction::kStart ? 1u : 0u) << i;
      EXPECT_EQ(a.shards[i]->ike_sa_count(), i == home && action == StartAction::kStart ? 1u : 0u);
    }
    if (action != StartAction::kTrap) continue;
    EXPECT_EQ(a.kernel.policy_count(), 3u);  // IN, FWD, OUT of the one trap
    xfrm::AcquireEvent acquire;
    acquire.reqid = 1;  // the first the shared table gave
    for (auto& s : a.shards) s->HandleKernelEvent(acquire, TimePoint{});
    std::size_t started = 0;
    for (auto& s : a.shards) started += s->TakeDatagrams().size();
    EXPECT_EQ(started, 1u);
    EXPECT_EQ(a.shards[home]->ike_sa_count(), 1u);
  }
}

// A peer that authenticates again reaches its older IKE SA in whichever shard holds it: with
// INITIAL_CONTACT (charon's unique = no) and with unique = replace the older SA goes, with
// unique = keep the new one is refused. The initiator restarts (a fresh engine, a fresh SPIi) until
// the new SA has landed in another shard than the old one a few times.
void ReauthenticateAcrossShards(UniquePolicy unique, bool initial_contact,
                                std::uint32_t shard_count = 3) {
  SCOPED_TRACE(::testing::Message()
               << "unique " << static_cast<int>(unique) << ", INITIAL_CONTACT " << initial_contact);
  EngineConfig cfg;
  ShardedResponder b(shard_count, cfg);
  SimNetwork net;
  net.AttachShards(Ip("192.0.2.2"), b.Pointers());
  PeerConfig pb = MakePeer("p", "192.0.2.2", "192.0.2.1", "b.test", "a.test");
  pb.unique = unique;
  b.AddPeer(pb, net.now());
  const auto holder = [&]() -> int {
    int found = -1, count = 0;
    for (std::size_t i = 0; i < b.shards.size(); ++i)
      for (const auto& sa : b.shards[i]->ListSas(net.now()))
        if (sa.state == IkeState::kEstablished) {
          found = static_cast<int>(i);
          ++count;
        }
    EXPECT_LE(count, 1) << "one established IKE SA per peer identity";
    return found;
  };
  int crossed = 0, previous = -1;
  // One kernel for the restarted initiators: a real one would not hand a new daemon the SPIs of
  // the one before (its SAs are still there), and equal SPIs would collide in b's fake kernel.
  xfrm::FakeKernel ka;
  for (int restart = 0; restart < 12 && crossed < 3; ++restart) {
    crypto::SeededRandom ra(1000 + restart);
    Engine a(cfg, ra, ka);
    net.Attach(Ip("192.0.2.1"), &a);
    PeerConfig pa = MakePeer("p", "192.0.2.1", "192.0.2.2", "a.test", "b.test");
    pa.send_initial_contact = initial_contact;
    ASSERT_TRUE(a.AddPeer(pa, net.now()).has_value());
    ASSERT_TRUE(a.Initiate("p", "net", net.now()).has_value());
    // The shard its IKE_SA_INIT is steered to (SPIr is 0 there: the SPIi decides).
    const std::uint32_t lands = ShardOfSpi(a.ListSas(net.now()).at(0).spi_i, shard_count);
    if (previous >= 0 && static_cast<int>(lands) != previous) ++crossed;
    net.RunFor(seconds(5));
    // What the daemon does after each engine call: the holder gets the request.
    for (const DropRequest& r : b.ids.TakeDropRequests())
      for (auto& shard : b.shards) shard->DropForDuplicate(r, net.now());
    // unique = replace sends a DELETE to the older SA's peer, which is gone: it gives up after
    // its retransmissions (165 s).
    net.RunFor(seconds(1000));
    const int now_holder = holder();
    ASSERT_GE(now_holder, 0) << "restart " << restart << ": no IKE SA up";
    if (unique == UniquePolicy::kKeep && previous >= 0) {
      EXPECT_EQ(now_holder, previous) << "keep: the first SA stays";
      EXPECT_EQ(a.ike_sa_count(), 0u) << "keep: the new one is refused";
    } else {
      EXPECT_EQ(now_holder, static_cast<int>(lands));
      EXPECT_EQ(a.ike_sa_count(), 1u);
    }
    if (previous < 0 || unique != UniquePolicy::kKeep) previous = now_holder;
    std::size_t total = 0;
    for (auto& shard : b.shards) total += shard->ike_sa_count();
    EXPECT_EQ(total, 1u) << "restart " << restart << ": the older SA is gone";
    EXPECT_EQ(b.kernel.sa_count(), 2u) << "restart " << restart;
    net.Detach(Ip("192.0.2.1"));
  }
  if (shard_count > 1) {
    EXPECT_GE(crossed, 3) << "the restarts did not cross shards often enough to test anything";
  }
}

TEST(EngineShardTest, InitialContactReachesTheOlderSaInAnotherShard) {
  ReauthenticateAcrossShards(UniquePolicy::kNo, true);
}

TEST(EngineShardTest, UniqueReplaceReachesTheOlderSaInAnotherShard) {
  ReauthenticateAcrossShards(UniquePolicy::kReplace, false);
}

// One engine: the replaced SA's peer is gone, so its DELETE is never answered; it must still
// retransmit and give up (it stayed in DELETING for ever, without a timer, before the fix).
TEST(EngineShardTest, UniqueReplaceDeletesTheOlderSaOfAPeerThatIsGone) {
  ReauthenticateAcrossShards(UniquePolicy::kReplace, false, 1);
}

TEST(EngineShardTest, UniqueKeepRefusesANewSaWhenAnotherShardHoldsOne) {
  ReauthenticateAcrossShards(UniquePolicy::kKeep, false);
}

TEST(EngineShardTest, ShardIndexOutOfRangeIsRefused) {
  EngineConfig cfg;
  cfg.shard_index = 2;
  cfg.shard_count = 2;
  crypto::SeededRandom r(1);
  xfrm::FakeKernel k;
  EXPECT_THROW(Engine(cfg, r, k), std::invalid_argument);
}

}  // namespace
}  // namespace minivpn::ike::test
