#include "vti/vti.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <ifaddrs.h>
#include <libmnl/libmnl.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <map>
#include <vector>

#include "tests/xfrm/netns.h"

// From <linux/if_tunnel.h> / <linux/if_link.h>, which clash with <net/if.h> in one file.
#ifndef IFLA_VTI_LINK
#define IFLA_VTI_LINK 1
#define IFLA_VTI_IKEY 2
#define IFLA_VTI_OKEY 3
#define IFLA_VTI_LOCAL 4
#define IFLA_VTI_REMOTE 5
#endif
#ifndef IFLA_XFRM_LINK
#define IFLA_XFRM_LINK 1
#define IFLA_XFRM_IF_ID 2
#endif

namespace minivpn::vti {
namespace {

using xfrm::IpAddress;

IpAddress Ip(std::string_view text) { return *IpAddress::Parse(text); }

std::map<std::uint16_t, const nlattr*> Attrs(const nlattr* first, const void* end) {
  std::map<std::uint16_t, const nlattr*> out;
  const auto* tail = static_cast<const char*>(end);
  for (const nlattr* a = first;
       mnl_attr_ok(a, static_cast<int>(tail - reinterpret_cast<const char*>(a)));
       a = mnl_attr_next(a)) {
    out[mnl_attr_get_type(a)] = a;
  }
  return out;
}

std::map<std::uint16_t, const nlattr*> Nested(const nlattr* nest) {
  return Attrs(static_cast<const nlattr*>(mnl_attr_get_payload(nest)),
               reinterpret_cast<const char*>(nest) + nest->nla_len);
}

std::map<std::uint16_t, const nlattr*> TopAttrs(const xfrm::NlMessage& msg) {
  return Attrs(
      static_cast<const nlattr*>(mnl_nlmsg_get_payload_offset(msg.header(), sizeof(ifinfomsg))),
      mnl_nlmsg_get_payload_tail(msg.header()));
}

const ifinfomsg& Ifi(const xfrm::NlMessage& msg) {
  return *static_cast<const ifinfomsg*>(mnl_nlmsg_get_payload(msg.header()));
}

VtiConfig SeedVti() {
  VtiConfig c;
  c.name = "vti0";
  c.local = Ip("192.0.2.1");
  c.remote = Ip("192.0.2.2");
  c.key = 12;
  return c;
}

// The operational state `ip link` shows for a link of this network namespace ("DORMANT", "UP";
// sysfs would show the namespace that mounted it).
std::string OperState(const char* name) {
  const std::string command = std::string("ip -o link show ") + name + " 2>&1";
  FILE* p = popen(command.c_str(), "r");
  if (p == nullptr) return "?";
  char line[512] = {};
  const bool read = fgets(line, sizeof line, p) != nullptr;
  pclose(p);
  const char* state = read ? std::strstr(line, " state ") : nullptr;
  if (state == nullptr) return std::string("? ") + line;
  std::string word(state + 7);
  return word.substr(0, word.find(' '));
}

TEST(BuildCreateVti, SeedTunnelFieldByField) {
  VtiConfig config = SeedVti();
  config.mtu = 1400;
  const xfrm::NlMessage msg = BuildCreateVti(config, 3);
  const nlmsghdr* nlh = msg.header();
  EXPECT_EQ(nlh->nlmsg_type, RTM_NEWLINK);
  EXPECT_EQ(nlh->nlmsg_flags, NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL);
  EXPECT_EQ(Ifi(msg).ifi_family, AF_UNSPEC);
  EXPECT_EQ(Ifi(msg).ifi_index, 0);
  EXPECT_EQ(Ifi(msg).ifi_flags, 0u);

  const auto top = TopAttrs(msg);
  ASSERT_EQ(top.size(), 3u);
  EXPECT_STREQ(mnl_attr_get_str(top.at(IFLA_IFNAME)), "vti0");
  EXPECT_EQ(mnl_attr_get_u32(top.at(IFLA_MTU)), 1400u);
  const auto info = Nested(top.at(IFLA_LINKINFO));
  ASSERT_EQ(info.size(), 2u);
  EXPECT_STREQ(mnl_attr_get_str(info.at(IFLA_INFO_KIND)), "vti");
  const auto data = Nested(info.at(IFLA_INFO_DATA));
  ASSERT_EQ(data.size(), 5u);
  EXPECT_EQ(mnl_attr_get_u32(data.at(IFLA_VTI_LINK)), 3u);
  EXPECT_EQ(mnl_attr_get_u32(data.at(IFLA_VTI_IKEY)), htonl(12));  // big-endian key
  EXPECT_EQ(mnl_attr_get_u32(data.at(IFLA_VTI_OKEY)), htonl(12));
  ASSERT_EQ(mnl_attr_get_payload_len(data.at(IFLA_VTI_LOCAL)), 4u);
  EXPECT_EQ(
      std::memcmp(mnl_attr_get_payload(data.at(IFLA_VTI_LOCAL)), config.local.bytes.data(), 4), 0);
  EXPECT_EQ(
      std::memcmp(mnl_attr_get_payload(data.at(IFLA_VTI_REMOTE)), config.remote.bytes.data(), 4),
      0);
}

TEST(BuildCreateVti, NoLinkNoMtuAndIpv6) {
  const xfrm::NlMessage msg = BuildCreateVti(SeedVti(), std::nullopt);
  const auto top = TopAttrs(msg);
  EXPECT_FALSE(top.contains(IFLA_MTU));
  const auto data = Nested(Nested(top.at(IFLA_LINKINFO)).at(IFLA_INFO_DATA));
  EXPECT_FALSE(data.contains(IFLA_VTI_LINK));
  EXPECT_EQ(data.size(), 4u);

  VtiConfig v6 = SeedVti();
  v6.local = Ip("2001:db8::1");
  v6.remote = Ip("2001:db8::2");
  const xfrm::NlMessage msg6 = BuildCreateVti(v6, std::nullopt);
  const auto info6 = Nested(TopAttrs(msg6).at(IFLA_LINKINFO));
  EXPECT_STREQ(mnl_attr_get_str(info6.at(IFLA_INFO_KIND)), "vti6");
  const auto data6 = Nested(info6.at(IFLA_INFO_DATA));
  EXPECT_EQ(mnl_attr_get_payload_len(data6.at(IFLA_VTI_LOCAL)), 16u);
}

// `ip link add xfrm42 type xfrm dev eth0 if_id 42`: kind "xfrm", the underlying device's index
// and the id as host-order u32s.
TEST(BuildCreateXfrmInterface, FieldByField) {
  XfrmInterfaceConfig config{.name = "xfrm42", .if_id = 42, .dev = "eth0", .mtu = 1400};
  const xfrm::NlMessage msg = BuildCreateXfrmInterface(config, 3);
  EXPECT_EQ(msg.header()->nlmsg_type, RTM_NEWLINK);
  EXPECT_EQ(msg.header()->nlmsg_flags, NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL);
  EXPECT_EQ(Ifi(msg).ifi_index, 0);
  const auto top = TopAttrs(msg);
  ASSERT_EQ(top.size(), 3u);
  EXPECT_STREQ(mnl_attr_get_str(top.at(IFLA_IFNAME)), "xfrm42");
  EXPECT_EQ(mnl_attr_get_u32(top.at(IFLA_MTU)), 1400u);
  const auto info = Nested(top.at(IFLA_LINKINFO));
  EXPECT_STREQ(mnl_attr_get_str(info.at(IFLA_INFO_KIND)), "xfrm");
  const auto data = Nested(info.at(IFLA_INFO_DATA));
  ASSERT_EQ(data.size(), 2u);
  EXPECT_EQ(mnl_attr_get_u32(data.at(IFLA_XFRM_LINK)), 3u);
  EXPECT_EQ(mnl_attr_get_u32(data.at(IFLA_XFRM_IF_ID)), 42u);

  // No device and no MTU: only the id.
  const xfrm::NlMessage bare =
      BuildCreateXfrmInterface(XfrmInterfaceConfig{.name = "xfrm7", .if_id = 7}, std::nullopt);
  EXPECT_FALSE(TopAttrs(bare).contains(IFLA_MTU));
  const auto bare_data = Nested(Nested(TopAttrs(bare).at(IFLA_LINKINFO)).at(IFLA_INFO_DATA));
  ASSERT_EQ(bare_data.size(), 1u);
  EXPECT_EQ(mnl_attr_get_u32(bare_data.at(IFLA_XFRM_IF_ID)), 7u);
}

// A changelink of an existing VTI (the peer's new NAT address): the same link data on its
// ifindex, without NLM_F_CREATE; every IFLA_VTI_* is sent (the kernel zeroes absent ones).
TEST(BuildChangeVti, NewRemoteOnTheIfindex) {
  VtiConfig config = SeedVti();
  config.mtu = 1400;
  config.remote = Ip("198.51.100.253");
  const xfrm::NlMessage msg = BuildChangeVti(config, 9, std::nullopt);
  EXPECT_EQ(msg.header()->nlmsg_type, RTM_NEWLINK);
  EXPECT_EQ(msg.header()->nlmsg_flags, NLM_F_REQUEST | NLM_F_ACK);
  EXPECT_EQ(Ifi(msg).ifi_index, 9);
  const auto top = TopAttrs(msg);
  EXPECT_EQ(mnl_attr_get_u32(top.at(IFLA_MTU)), 1400u);  // kept, not recomputed
  const auto data = Nested(Nested(top.at(IFLA_LINKINFO)).at(IFLA_INFO_DATA));
  ASSERT_EQ(data.size(), 4u);
  EXPECT_EQ(mnl_attr_get_u32(data.at(IFLA_VTI_IKEY)), htonl(12));
  EXPECT_EQ(mnl_attr_get_u32(data.at(IFLA_VTI_OKEY)), htonl(12));
  EXPECT_EQ(
      std::memcmp(mnl_attr_get_payload(data.at(IFLA_VTI_REMOTE)), config.remote.bytes.data(), 4),
      0);
}

TEST(BuildLinkChanges, UpMtuDelete) {
  const xfrm::NlMessage up = BuildSetUp(7, true);
  EXPECT_EQ(up.header()->nlmsg_type, RTM_NEWLINK);
  EXPECT_EQ(up.header()->nlmsg_flags, NLM_F_REQUEST | NLM_F_ACK);
  EXPECT_EQ(Ifi(up).ifi_index, 7);
  EXPECT_EQ(Ifi(up).ifi_flags, static_cast<unsigned>(IFF_UP));
  EXPECT_EQ(Ifi(up).ifi_change, static_cast<unsigned>(IFF_UP));
  EXPECT_TRUE(TopAttrs(up).empty());
  const xfrm::NlMessage down = BuildSetUp(7, false);
  EXPECT_EQ(Ifi(down).ifi_flags, 0u);
  EXPECT_EQ(Ifi(down).ifi_change, static_cast<unsigned>(IFF_UP));

  const xfrm::NlMessage mtu = BuildSetMtu(7, 1380);
  EXPECT_EQ(mtu.header()->nlmsg_type, RTM_NEWLINK);
  EXPECT_EQ(Ifi(mtu).ifi_change, 0u);
  EXPECT_EQ(mnl_attr_get_u32(TopAttrs(mtu).at(IFLA_MTU)), 1380u);

  const xfrm::NlMessage del = BuildDeleteLink(7);
  EXPECT_EQ(del.header()->nlmsg_type, RTM_DELLINK);
  EXPECT_EQ(del.header()->nlmsg_flags, NLM_F_REQUEST | NLM_F_ACK);
  EXPECT_EQ(Ifi(del).ifi_index, 7);
}

TEST(BuildRoute, ConfiguredRouteThroughTheVti) {
  const auto net = *xfrm::Subnet::Parse("10.2.0.0/24");
  const xfrm::NlMessage add = BuildRoute(true, net, 9);
  EXPECT_EQ(add.header()->nlmsg_type, RTM_NEWROUTE);
  EXPECT_EQ(add.header()->nlmsg_flags, NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL);
  const auto* rtm = static_cast<const rtmsg*>(mnl_nlmsg_get_payload(add.header()));
  EXPECT_EQ(rtm->rtm_family, AF_INET);
  EXPECT_EQ(rtm->rtm_dst_len, 24);
  EXPECT_EQ(rtm->rtm_table, RT_TABLE_MAIN);
  EXPECT_EQ(rtm->rtm_protocol, RTPROT_STATIC);
  EXPECT_EQ(rtm->rtm_scope, RT_SCOPE_LINK);
  EXPECT_EQ(rtm->rtm_type, RTN_UNICAST);
  auto attrs = Attrs(
      static_cast<const nlattr*>(mnl_nlmsg_get_payload_offset(add.header(), sizeof(rtmsg))),
      mnl_nlmsg_get_payload_tail(add.header()));
  ASSERT_TRUE(attrs.count(RTA_DST));
  ASSERT_EQ(mnl_attr_get_payload_len(attrs[RTA_DST]), 4u);
  const auto* dst = static_cast<const std::uint8_t*>(mnl_attr_get_payload(attrs[RTA_DST]));
  EXPECT_EQ(std::vector<std::uint8_t>(dst, dst + 4), (std::vector<std::uint8_t>{10, 2, 0, 0}));
  ASSERT_TRUE(attrs.count(RTA_OIF));
  EXPECT_EQ(mnl_attr_get_u32(attrs[RTA_OIF]), 9u);

  const xfrm::NlMessage del = BuildRoute(false, net, 9);
  EXPECT_EQ(del.header()->nlmsg_type, RTM_DELROUTE);
  EXPECT_EQ(del.header()->nlmsg_flags, NLM_F_REQUEST | NLM_F_ACK);
}

TEST(BuildAddAddress, InnerAddressOnTheVti) {
  const auto address = *xfrm::Subnet::Parse("169.254.12.1/30");
  const xfrm::NlMessage add = BuildAddAddress(address, 9);
  EXPECT_EQ(add.header()->nlmsg_type, RTM_NEWADDR);
  EXPECT_EQ(add.header()->nlmsg_flags, NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL);
  const auto* ifa = static_cast<const ifaddrmsg*>(mnl_nlmsg_get_payload(add.header()));
  EXPECT_EQ(ifa->ifa_family, AF_INET);
  EXPECT_EQ(ifa->ifa_prefixlen, 30);
  EXPECT_EQ(ifa->ifa_scope, RT_SCOPE_UNIVERSE);
  EXPECT_EQ(ifa->ifa_index, 9u);
  auto attrs = Attrs(
      static_cast<const nlattr*>(mnl_nlmsg_get_payload_offset(add.header(), sizeof(ifaddrmsg))),
      mnl_nlmsg_get_payload_tail(add.header()));
  for (int type : {IFA_LOCAL, IFA_ADDRESS}) {
    ASSERT_TRUE(attrs.count(type)) << type;
    ASSERT_EQ(mnl_attr_get_payload_len(attrs[type]), 4u);
    const auto* a = static_cast<const std::uint8_t*>(mnl_attr_get_payload(attrs[type]));
    EXPECT_EQ(std::vector<std::uint8_t>(a, a + 4), (std::vector<std::uint8_t>{169, 254, 12, 1}))
        << "host bits kept";
  }
}

TEST(Vti, DisablePolicyPath) {
  EXPECT_EQ(DisablePolicyPath("vti0", false), "/proc/sys/net/ipv4/conf/vti0/disable_policy");
  EXPECT_EQ(DisablePolicyPath("vti0", true), "/proc/sys/net/ipv6/conf/vti0/disable_policy");
}

int Mtu(const char* name) {
  const int fd = socket(AF_INET, SOCK_DGRAM, 0);
  ifreq req{};
  std::strncpy(req.ifr_name, name, IFNAMSIZ - 1);
  const int rc = ioctl(fd, SIOCGIFMTU, &req);
  close(fd);
  return rc == 0 ? req.ifr_mtu : -1;
}

bool IsUp(const char* name) {
  const int fd = socket(AF_INET, SOCK_DGRAM, 0);
  ifreq req{};
  std::strncpy(req.ifr_name, name, IFNAMSIZ - 1);
  const int rc = ioctl(fd, SIOCGIFFLAGS, &req);
  close(fd);
  return rc == 0 && (req.ifr_flags & IFF_UP) != 0;
}

// The prefix length of `address` on interface `name` (-1 if it is not there).
int HasAddress(const char* name, const char* address) {
  ifaddrs* list = nullptr;
  if (getifaddrs(&list) != 0) return -1;
  int prefix = -1;
  for (ifaddrs* i = list; i != nullptr; i = i->ifa_next) {
    if (i->ifa_addr == nullptr || i->ifa_addr->sa_family != AF_INET) continue;
    if (std::strcmp(i->ifa_name, name) != 0) continue;
    char text[INET_ADDRSTRLEN] = {};
    inet_ntop(AF_INET, &reinterpret_cast<sockaddr_in*>(i->ifa_addr)->sin_addr, text, sizeof text);
    if (std::strcmp(text, address) != 0) continue;
    const auto mask = ntohl(reinterpret_cast<sockaddr_in*>(i->ifa_netmask)->sin_addr.s_addr);
    prefix = __builtin_popcount(mask);
  }
  freeifaddrs(list);
  return prefix;
}

// `ip link set vti-b mode dormant` and the operational state: one RTM_NEWLINK with both u8s.
TEST(BuildSetOperState, LinkModeDormantAndTheState) {
  for (const bool up : {true, false}) {
    const xfrm::NlMessage msg = BuildSetOperState(7, up);
    EXPECT_EQ(msg.header()->nlmsg_type, RTM_NEWLINK);
    EXPECT_EQ(msg.header()->nlmsg_flags, NLM_F_REQUEST | NLM_F_ACK);
    EXPECT_EQ(Ifi(msg).ifi_index, 7);
    EXPECT_EQ(Ifi(msg).ifi_change, 0u) << "the administrative state is not touched";
    const auto top = TopAttrs(msg);
    ASSERT_EQ(top.size(), 2u);
    EXPECT_EQ(mnl_attr_get_u8(top.at(IFLA_LINKMODE)), 1u);  // IF_LINK_MODE_DORMANT
    EXPECT_EQ(mnl_attr_get_u8(top.at(IFLA_OPERSTATE)), up ? 6u : 5u);  // IF_OPER_UP, _DORMANT
  }
}

TEST(VtiManager, LinkChangesInFreshNetns) {
  MINIVPN_IN_NETNS([]() -> std::string {
    std::string r;
    auto vti = VtiManager::Open();
    if (!vti) return "open: " + vti.error().message();
    if (IsUp("lo")) r += "lo up in a fresh netns\n";
    if (auto ec = (*vti)->SetUp("lo", true)) r += "SetUp: " + ec.message() + "\n";
    if (!IsUp("lo")) r += "lo not up\n";
    if (auto ec = (*vti)->SetMtu("lo", 1500)) r += "SetMtu: " + ec.message() + "\n";
    if (Mtu("lo") != 1500) r += "mtu " + std::to_string(Mtu("lo")) + "\n";
    // The operational state, as routing daemons read it (sysfs shows this namespace's lo).
    if (auto ec = (*vti)->SetOperState("lo", false)) r += "dormant: " + ec.message() + "\n";
    if (OperState("lo") != "DORMANT") r += "lo is " + OperState("lo") + ", not dormant\n";
    if (!IsUp("lo")) r += "lo not administratively up while dormant\n";
    if (auto ec = (*vti)->SetOperState("lo", true)) r += "up: " + ec.message() + "\n";
    if (OperState("lo") != "UP") r += "lo is " + OperState("lo") + ", not up\n";
    const auto missing = (*vti)->Delete("nosuchlink");
    if (missing != std::errc::no_such_device ||
        missing.message().find("no such interface") == std::string::npos) {
      r += "delete of a missing link: " + missing.message() + "\n";
    }
    if ((*vti)->SetUp("../x", true) != std::errc::invalid_argument) r += "bad name accepted\n";
    // An inner address (what a BGP session inside the tunnel uses), checked with getifaddrs.
    if (auto ec = (*vti)->AddAddress("lo", *xfrm::Subnet::Parse("169.254.12.1/30")))
      r += "AddAddress: " + ec.message() + "\n";
    if (HasAddress("lo", "169.254.12.1") != 30) r += "169.254.12.1/30 not on lo\n";
    if ((*vti)->AddAddress("lo", *xfrm::Subnet::Parse("169.254.12.1/30")) != std::errc::file_exists)
      r += "adding it twice did not fail with EEXIST\n";
    if (auto ec = (*vti)->DelAddress("lo", *xfrm::Subnet::Parse("169.254.12.1/30")))
      r += "DelAddress: " + ec.message() + "\n";
    if (HasAddress("lo", "169.254.12.1") != -1) r += "169.254.12.1 still on lo\n";
    if (!(*vti)->DelAddress("lo", *xfrm::Subnet::Parse("169.254.12.1/30")))
      r += "deleting a missing address succeeded\n";
    if ((*vti)->AddAddress("nosuchlink", *xfrm::Subnet::Parse("169.254.12.5/30")) !=
        std::errc::no_such_device)
      r += "address on a missing link\n";
    return r;
  });
}

// The CI host kernel has no ip_vti (docs/lab.md): Create must fail with a hint and leave no
// link. On a kernel with VTI, the created link is checked and deleted.
TEST(VtiManager, CreateInFreshNetns) {
  MINIVPN_IN_NETNS([]() -> std::string {
    std::string r;
    auto vti = VtiManager::Open();
    if (!vti) return "open: " + vti.error().message();
    const auto ec = (*vti)->Create(SeedVti());
    if (!ec) {
      if (!IsUp("vti0")) r += "vti0 not up\n";
      VtiConfig moved = SeedVti();
      moved.remote = Ip("192.0.2.9");
      if (auto up = (*vti)->Update(moved)) r += "update: " + up.message() + "\n";
      if (!IsUp("vti0")) r += "vti0 not up after the update\n";
      if (auto del = (*vti)->Delete("vti0")) r += "delete: " + del.message() + "\n";
    } else if (ec.message().find("ip_vti") == std::string::npos) {
      r += "no module hint: " + ec.message() + "\n";
    }
    if (Mtu("vti0") != -1) r += "vti0 left behind\n";
    VtiConfig bad = SeedVti();
    bad.remote = Ip("2001:db8::2");
    if ((*vti)->Create(bad) != std::errc::invalid_argument) r += "mixed families accepted\n";
    bad = SeedVti();
    bad.link = "nosuchlink";
    if ((*vti)->Create(bad) != std::errc::no_such_device) r += "missing underlying link\n";
    if ((*vti)->Update(SeedVti()) != std::errc::no_such_device) r += "update of a missing link\n";
    return r;
  });
}

// The same for an XFRM interface: the CI host kernel has no xfrm_interface, so Create names the
// module and leaves nothing; where it has one (the lab's QEMU kernel), the link comes up.
TEST(VtiManager, CreateXfrmInterfaceInFreshNetns) {
  MINIVPN_IN_NETNS([]() -> std::string {
    std::string r;
    auto links = VtiManager::Open();
    if (!links) return "open: " + links.error().message();
    const XfrmInterfaceConfig config{.name = "xfrm42", .if_id = 42, .dev = "lo"};
    const auto ec = (*links)->Create(config);
    if (!ec) {
      if (!IsUp("xfrm42")) r += "xfrm42 not up\n";
      if ((*links)->Create(config) != std::errc::file_exists) r += "created twice\n";
      if (auto del = (*links)->Delete("xfrm42")) r += "delete: " + del.message() + "\n";
    } else if (ec.message().find("load xfrm_interface") == std::string::npos) {
      r += "no module hint: " + ec.message() + "\n";
    }
    if (Mtu("xfrm42") != -1) r += "xfrm42 left behind\n";
    if ((*links)->Create(XfrmInterfaceConfig{.name = "xfrm0", .if_id = 0}) !=
        std::errc::invalid_argument)
      r += "if_id 0 accepted\n";
    if ((*links)->Create(XfrmInterfaceConfig{.name = "xfrm1", .if_id = 1, .dev = "nosuchlink"}) !=
        std::errc::no_such_device)
      r += "missing underlying link\n";
    if (Mtu("xfrm1") != -1) r += "xfrm1 left behind\n";
    return r;
  });
}

}  // namespace
}  // namespace minivpn::vti
