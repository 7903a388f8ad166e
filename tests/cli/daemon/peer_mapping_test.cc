// Which connections export Wireshark keys, and where (cli/daemon/peer_mapping.h, issue 9).
#include "cli/daemon/peer_mapping.h"

#include "ike/engine/negotiation.h"

#include <gtest/gtest.h>
#include <sys/socket.h>

#include <limits>

namespace minivpn::daemon {
namespace {

TEST(WiresharkExport, ConnectionKeyThenSaveKeysPlugin) {
  config::ConnectionConfig conn;
  config::GlobalSettings global;
  EXPECT_EQ(ToWiresharkExport(conn, global), WiresharkExport{});  // off by default

  // save-keys needs load = yes, a directory and ike or esp (as charon's plugin).
  global.save_keys_dir = "/tmp/ws";
  global.save_keys_esp = true;
  EXPECT_EQ(ToWiresharkExport(conn, global), WiresharkExport{});
  global.save_keys_load = true;
  EXPECT_EQ(ToWiresharkExport(conn, global), (WiresharkExport{"/tmp/ws", false, true}));

  // The connection's own key wins and exports both tables.
  conn.wireshark_keys = "/var/lib/minivpn/ws";
  EXPECT_EQ(ToWiresharkExport(conn, global), (WiresharkExport{"/var/lib/minivpn/ws", true, true}));
}

// The marks reach the engine as they are (one type, base::Mark), and mark_in_sa, a fixed reqid
// and the replay window with them.
// 192.0.2.1 -> 192.0.2.2, no children yet; RouteChild: a 0.0.0.0/0 child.
config::ConnectionConfig HostToHost() {
  config::ConnectionConfig conn;
  conn.name = "to-b";
  conn.local_addrs = {config::Host{.kind = config::Host::Kind::kAddress,
                                   .subnet = *base::Subnet::Parse("192.0.2.1")}};
  conn.remote_addrs = {config::Host{.kind = config::Host::Kind::kAddress,
                                    .subnet = *base::Subnet::Parse("192.0.2.2")}};
  return conn;
}
config::ChildConfig RouteChild(std::string name) {
  config::ChildConfig child;
  child.name = std::move(name);
  child.local_ts = {base::Selector::Of(*base::Subnet::Parse("0.0.0.0/0"))};
  child.remote_ts = child.local_ts;
  return child;
}

TEST(ToPeerConfig, MarksAndMarkInSaReachTheEngine) {
  config::ConnectionConfig conn = HostToHost();
  config::ChildConfig child = RouteChild("net");
  child.mark_in = base::Mark::Exact(12);
  child.mark_out = base::Mark::Exact(13);
  child.mark_in_sa = true;
  child.reqid = 7;            // issue 21: these two were parsed and then dropped here
  child.replay_window = 1024;
  conn.children.push_back(child);
  auto peer = ToPeerConfig(conn);
  ASSERT_TRUE(peer) << peer.error();
  ASSERT_EQ(peer->children.size(), 1u);
  EXPECT_EQ(peer->children[0].reqid, 7u);
  EXPECT_EQ(peer->children[0].replay_window, 1024u);
  EXPECT_EQ(peer->children[0].mark_in, base::Mark::Exact(12));
  EXPECT_EQ(peer->children[0].mark_out, base::Mark::Exact(13));
  EXPECT_TRUE(peer->children[0].mark_in_sa);
  conn.children[0].mark_in_sa = false;
  conn.children[0].mark_in = conn.children[0].mark_out = base::Mark::None();
  peer = ToPeerConfig(conn);
  ASSERT_TRUE(peer);
  EXPECT_FALSE(peer->children[0].mark_in.is_set());
  EXPECT_FALSE(peer->children[0].mark_in_sa);
}

// Issue 21: the byte and packet lifetimes reach the engine (the loaders refused them before).
TEST(ToPeerConfig, ByteAndPacketLifetimesReachTheEngine) {
  config::ConnectionConfig conn = HostToHost();
  config::ChildConfig child;
  child.name = "net";
  child.rekey_bytes = 1000;
  child.life_bytes = 1100;
  child.rand_bytes = 100;
  child.rekey_packets = 20;
  child.life_packets = 22;
  child.rand_packets = 2;
  conn.children.push_back(child);
  auto peer = ToPeerConfig(conn);
  ASSERT_TRUE(peer) << peer.error();
  const ike::ChildConfig& c = peer->children.at(0);
  EXPECT_EQ(c.rekey_bytes, 1000u);
  EXPECT_EQ(c.life_bytes, 1100u);
  EXPECT_EQ(c.rand_bytes, 100u);
  EXPECT_EQ(c.rekey_packets, 20u);
  EXPECT_EQ(c.life_packets, 22u);
  EXPECT_EQ(c.rand_packets, 2u);
}

config::ConnectionConfig GreConn() {
  config::ConnectionConfig conn = HostToHost();
  conn.name = "gre";
  config::ChildConfig child;
  child.name = "gre";
  conn.children.push_back(child);
  return conn;
}

// "dynamic[gre]": stays dynamic (no address), the protocol kept; the engine resolves it per IKE
// SA (ike::ResolveDynamic), since one config may answer several peer addresses.
TEST(ToPeerConfig, DynamicSelectorsStayDynamicKeepingProtocolAndPorts) {
  config::ConnectionConfig conn = GreConn();
  base::Selector gre;
  gre.proto = 47;
  conn.children[0].local_ts = {gre};
  conn.children[0].remote_ts = {gre};
  conn.children[0].transport = true;
  auto peer = ToPeerConfig(conn);
  ASSERT_TRUE(peer) << peer.error();
  const ike::ChildConfig& c = peer->children.at(0);
  ASSERT_EQ(c.local_ts.size(), 1u);
  EXPECT_FALSE(c.local_ts[0].net.address.is_set());
  EXPECT_EQ(c.local_ts[0].proto, 47);
  EXPECT_EQ(ike::ResolveDynamic(c.remote_ts, *base::IpAddress::Parse("192.0.2.2")).at(0).ToString(),
            "192.0.2.2/32[gre]");
  EXPECT_TRUE(c.transport);
}

// An empty list is "dynamic" too; dynamic entries among subnets resolve in place, in order.
TEST(ToPeerConfig, EmptyListsAndMixedListsResolveInPlace) {
  config::ConnectionConfig conn = GreConn();
  auto peer = ToPeerConfig(conn);
  ASSERT_TRUE(peer) << peer.error();
  EXPECT_EQ(peer->children.at(0).local_ts, std::vector<base::Selector>{base::Selector{}});
  EXPECT_FALSE(peer->children.at(0).transport);

  base::Selector tcp80;
  tcp80.proto = 6;
  tcp80.from_port = tcp80.to_port = 80;
  conn.children[0].local_ts = {base::Selector::Of(*base::Subnet::Parse("10.1.0.0/16")), tcp80,
                               base::Selector::Of(*base::Subnet::Parse("::/0"))};
  peer = ToPeerConfig(conn);
  ASSERT_TRUE(peer) << peer.error();
  const auto local =
      ike::ResolveDynamic(peer->children.at(0).local_ts, *base::IpAddress::Parse("192.0.2.1"));
  ASSERT_EQ(local.size(), 3u);
  EXPECT_EQ(local[0].ToString(), "10.1.0.0/16");
  EXPECT_EQ(local[1].ToString(), "192.0.2.1/32[tcp/80]");
  EXPECT_EQ(local[2].ToString(), "::/0");
}

// A responder for any peer may have dynamic selectors (resolved from each IKE SA); trap policies
// are installed from the config and need an address.
TEST(ToPeerConfig, DynamicSelectorOfAnAnyPeerNeedsAnAddressOnlyForTraps) {
  config::ConnectionConfig conn = GreConn();
  conn.remote_addrs = {config::Host{.kind = config::Host::Kind::kAny}};
  base::Selector gre;
  gre.proto = 47;
  conn.children[0].local_ts = {base::Selector::Of(*base::Subnet::Parse("10.1.0.0/16"))};
  conn.children[0].remote_ts = {gre};
  EXPECT_TRUE(ToPeerConfig(conn));
  conn.remote_addrs = GreConn().remote_addrs;
  conn.local_addrs = {config::Host{.kind = config::Host::Kind::kAny}};
  conn.children[0].local_ts = {gre};
  conn.children[0].start_action = config::StartAction::kTrap;
  auto peer = ToPeerConfig(conn);
  ASSERT_FALSE(peer);
  EXPECT_NE(peer.error().find("child 'gre': local_ts is dynamic but the address is %any"),
            std::string::npos)
      << peer.error();
}

// charon's remote_addrs list: initiate to the first address, answer any entry (%any = both
// families); an empty list answers any address through the unset remote address.
TEST(ToPeerConfig, AddressListsBecomeWhatTheResponderAnswers) {
  config::ConnectionConfig conn = GreConn();
  conn.remote_addrs.push_back(config::Host{.kind = config::Host::Kind::kSubnet,
                                           .subnet = *base::Subnet::Parse("198.51.100.0/24")});
  conn.remote_addrs.push_back(config::Host{.kind = config::Host::Kind::kAny,
                                           .any_family = AF_INET6});
  auto peer = ToPeerConfig(conn);
  ASSERT_TRUE(peer) << peer.error();
  EXPECT_EQ(peer->remote_address, *base::IpAddress::Parse("192.0.2.2"));
  EXPECT_EQ(peer->remote_match,
            (std::vector{*base::Subnet::Parse("192.0.2.2/32"), *base::Subnet::Parse("198.51.100.0/24"),
                         *base::Subnet::Parse("::/0")}));
  EXPECT_EQ(peer->local_match, std::vector{*base::Subnet::Parse("192.0.2.1/32")});
  conn.remote_addrs = {config::Host{.kind = config::Host::Kind::kAny}};
  conn.children[0].remote_ts = {base::Selector::Of(*base::Subnet::Parse("10.2.0.0/16"))};
  peer = ToPeerConfig(conn);
  ASSERT_TRUE(peer) << peer.error();
  EXPECT_FALSE(peer->remote_address.is_set());
  EXPECT_EQ(peer->remote_match,
            (std::vector{*base::Subnet::Parse("0.0.0.0/0"), *base::Subnet::Parse("::/0")}));
}

// charon's if_id_in/if_id_out: the connection's go to the IKE SA (%unique is resolved per IKE SA,
// so they cannot be merged into the children here), the child keeps its own (0 = the IKE SA's).
TEST(ToPeerConfig, IfIdsOfTheConnectionAndOfTheChild) {
  config::ConnectionConfig conn = HostToHost();
  conn.if_id_in = conn.if_id_out = 42;
  conn.children.push_back(RouteChild("net"));
  conn.children.push_back(RouteChild("own"));
  conn.children.back().if_id_out = 7;
  auto peer = ToPeerConfig(conn);
  ASSERT_TRUE(peer) << peer.error();
  ASSERT_EQ(peer->children.size(), 2u);
  EXPECT_EQ(peer->if_id_in, 42u);
  EXPECT_EQ(peer->if_id_out, 42u);
  EXPECT_EQ(peer->children[0].if_id_in, 0u);
  EXPECT_EQ(peer->children[0].if_id_out, 0u);
  EXPECT_EQ(peer->children[1].if_id_in, 0u);
  EXPECT_EQ(peer->children[1].if_id_out, 7u);
}

// strongswan.conf's cookie_threshold, cookie_threshold_ip and block_threshold of 0 turn the
// check off, as in charon's receiver (`if (!threshold) return FALSE`), not on for everybody.
TEST(ToEngineConfig, ZeroThresholdsAreOffAsInCharon) {
  config::GlobalSettings global;
  global.cookie_threshold = 0;
  global.cookie_threshold_ip = 0;
  global.block_threshold = 0;
  const ike::EngineConfig engine = ToEngineConfig(global);
  EXPECT_EQ(engine.cookie_threshold, std::numeric_limits<std::size_t>::max());
  EXPECT_EQ(engine.cookie_threshold_ip, std::numeric_limits<std::size_t>::max());
  EXPECT_EQ(engine.block_threshold_ip, std::numeric_limits<std::size_t>::max());
  global.cookie_threshold = 1;
  EXPECT_EQ(ToEngineConfig(global).cookie_threshold, 1u);
  EXPECT_EQ(ToEngineConfig(config::GlobalSettings{}).keep_alive, std::chrono::seconds(20));
}

}  // namespace
}  // namespace minivpn::daemon
