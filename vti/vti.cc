#include "vti/vti.h"

#include "base/vti_rules.h"

#include <fcntl.h>
#include <libmnl/libmnl.h>
#include <linux/if.h>
#include <linux/if_addr.h>
#include <linux/if_link.h>
#include <linux/if_tunnel.h>
#include <linux/rtnetlink.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace minivpn::vti {
namespace {

using xfrm::KernelError;
using xfrm::KernelOp;
using xfrm::NlMessage;

std::uint32_t Htonl(std::uint32_t v) { return __builtin_bswap32(v); }


nlmsghdr* PutLinkHeader(NlMessage& msg, std::uint16_t type, std::uint16_t flags,
                        std::uint32_t ifindex) {
  nlmsghdr* nlh = mnl_nlmsg_put_header(msg.header());
  nlh->nlmsg_type = type;
  nlh->nlmsg_flags = flags;
  auto* ifi = static_cast<ifinfomsg*>(mnl_nlmsg_put_extra_header(nlh, sizeof(ifinfomsg)));
  ifi->ifi_family = AF_UNSPEC;
  ifi->ifi_index = static_cast<int>(ifindex);
  return nlh;
}

}  // namespace

namespace {
NlMessage BuildVtiLink(const VtiConfig& config, std::optional<std::uint32_t> link_index,
                       std::uint16_t flags, std::uint32_t ifindex) {
  NlMessage msg;
  nlmsghdr* nlh = PutLinkHeader(msg, RTM_NEWLINK, flags, ifindex);
  mnl_attr_put_strz(nlh, IFLA_IFNAME, config.name.c_str());
  if (config.mtu) mnl_attr_put_u32(nlh, IFLA_MTU, *config.mtu);
  nlattr* linkinfo = mnl_attr_nest_start(nlh, IFLA_LINKINFO);
  const bool v6 = config.local.family == AF_INET6;
  mnl_attr_put_strz(nlh, IFLA_INFO_KIND, v6 ? "vti6" : "vti");
  nlattr* data = mnl_attr_nest_start(nlh, IFLA_INFO_DATA);
  if (link_index) mnl_attr_put_u32(nlh, IFLA_VTI_LINK, *link_index);
  mnl_attr_put_u32(nlh, IFLA_VTI_IKEY, Htonl(config.key));  // __be32, as iproute2 sends
  mnl_attr_put_u32(nlh, IFLA_VTI_OKEY, Htonl(config.key));
  const std::size_t addr_len = v6 ? 16 : 4;
  mnl_attr_put(nlh, IFLA_VTI_LOCAL, addr_len, config.local.bytes.data());
  mnl_attr_put(nlh, IFLA_VTI_REMOTE, addr_len, config.remote.bytes.data());
  mnl_attr_nest_end(nlh, data);
  mnl_attr_nest_end(nlh, linkinfo);
  return msg;
}
}  // namespace

NlMessage BuildCreateVti(const VtiConfig& config, std::optional<std::uint32_t> link_index) {
  return BuildVtiLink(config, link_index, NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL,
                      0);
}

NlMessage BuildChangeVti(const VtiConfig& config, std::uint32_t ifindex,
                         std::optional<std::uint32_t> link_index) {
  return BuildVtiLink(config, link_index, NLM_F_REQUEST | NLM_F_ACK, ifindex);
}

NlMessage BuildCreateXfrmInterface(const XfrmInterfaceConfig& config,
                                   std::optional<std::uint32_t> link_index) {
  NlMessage msg;
  nlmsghdr* nlh = PutLinkHeader(msg, RTM_NEWLINK,
                                NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL, 0);
  mnl_attr_put_strz(nlh, IFLA_IFNAME, config.name.c_str());
  if (config.mtu) mnl_attr_put_u32(nlh, IFLA_MTU, *config.mtu);
  nlattr* linkinfo = mnl_attr_nest_start(nlh, IFLA_LINKINFO);
  mnl_attr_put_strz(nlh, IFLA_INFO_KIND, "xfrm");
  nlattr* data = mnl_attr_nest_start(nlh, IFLA_INFO_DATA);
  if (link_index) mnl_attr_put_u32(nlh, IFLA_XFRM_LINK, *link_index);
  mnl_attr_put_u32(nlh, IFLA_XFRM_IF_ID, config.if_id);
  mnl_attr_nest_end(nlh, data);
  mnl_attr_nest_end(nlh, linkinfo);
  return msg;
}

NlMessage BuildSetUp(std::uint32_t ifindex, bool up) {
  NlMessage msg;
  nlmsghdr* nlh = PutLinkHeader(msg, RTM_NEWLINK, NLM_F_REQUEST | NLM_F_ACK, ifindex);
  auto* ifi = static_cast<ifinfomsg*>(mnl_nlmsg_get_payload(nlh));
  ifi->ifi_flags = up ? IFF_UP : 0;
  ifi->ifi_change = IFF_UP;
  return msg;
}

NlMessage BuildSetOperState(std::uint32_t ifindex, bool up) {
  NlMessage msg;
  nlmsghdr* nlh = PutLinkHeader(msg, RTM_NEWLINK, NLM_F_REQUEST | NLM_F_ACK, ifindex);
  mnl_attr_put_u8(nlh, IFLA_LINKMODE, IF_LINK_MODE_DORMANT);
  mnl_attr_put_u8(nlh, IFLA_OPERSTATE, up ? IF_OPER_UP : IF_OPER_DORMANT);
  return msg;
}

NlMessage BuildSetMtu(std::uint32_t ifindex, std::uint32_t mtu) {
  NlMessage msg;
  nlmsghdr* nlh = PutLinkHeader(msg, RTM_NEWLINK, NLM_F_REQUEST | NLM_F_ACK, ifindex);
  mnl_attr_put_u32(nlh, IFLA_MTU, mtu);
  return msg;
}

NlMessage BuildDeleteLink(std::uint32_t ifindex) {
  NlMessage msg;
  PutLinkHeader(msg, RTM_DELLINK, NLM_F_REQUEST | NLM_F_ACK, ifindex);
  return msg;
}

NlMessage BuildRoute(bool add, const xfrm::Subnet& destination, std::uint32_t ifindex) {
  NlMessage msg;
  nlmsghdr* nlh = mnl_nlmsg_put_header(msg.header());
  nlh->nlmsg_type = add ? RTM_NEWROUTE : RTM_DELROUTE;
  nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | (add ? NLM_F_CREATE | NLM_F_EXCL : 0);
  auto* rtm = static_cast<rtmsg*>(mnl_nlmsg_put_extra_header(nlh, sizeof(rtmsg)));
  const bool v6 = destination.address.family == AF_INET6;
  rtm->rtm_family = v6 ? AF_INET6 : AF_INET;
  rtm->rtm_dst_len = destination.prefix;
  rtm->rtm_table = RT_TABLE_MAIN;
  rtm->rtm_protocol = RTPROT_STATIC;
  rtm->rtm_scope = RT_SCOPE_LINK;
  rtm->rtm_type = RTN_UNICAST;
  mnl_attr_put(nlh, RTA_DST, v6 ? 16 : 4, destination.address.bytes.data());
  mnl_attr_put_u32(nlh, RTA_OIF, ifindex);
  return msg;
}

namespace {
NlMessage BuildAddress(bool add, const xfrm::Subnet& address, std::uint32_t ifindex) {
  NlMessage msg;
  nlmsghdr* nlh = mnl_nlmsg_put_header(msg.header());
  nlh->nlmsg_type = add ? RTM_NEWADDR : RTM_DELADDR;
  nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | (add ? NLM_F_CREATE | NLM_F_EXCL : 0);
  auto* ifa = static_cast<ifaddrmsg*>(mnl_nlmsg_put_extra_header(nlh, sizeof(ifaddrmsg)));
  const bool v6 = address.address.family == AF_INET6;
  ifa->ifa_family = v6 ? AF_INET6 : AF_INET;
  ifa->ifa_prefixlen = address.prefix;
  ifa->ifa_scope = RT_SCOPE_UNIVERSE;
  ifa->ifa_index = ifindex;
  // IFA_LOCAL is the interface's own address; on a non-point-to-point link IFA_ADDRESS equals it
  // (what `ip addr add` sends).
  mnl_attr_put(nlh, IFA_LOCAL, v6 ? 16 : 4, address.address.bytes.data());
  mnl_attr_put(nlh, IFA_ADDRESS, v6 ? 16 : 4, address.address.bytes.data());
  return msg;
}
}  // namespace

NlMessage BuildAddAddress(const xfrm::Subnet& address, std::uint32_t ifindex) {
  return BuildAddress(true, address, ifindex);
}

NlMessage BuildDelAddress(const xfrm::Subnet& address, std::uint32_t ifindex) {
  return BuildAddress(false, address, ifindex);
}

std::string DisablePolicyPath(std::string_view name, bool ipv6) {
  return std::string(ipv6 ? "/proc/sys/net/ipv6/conf/" : "/proc/sys/net/ipv4/conf/") +
         std::string(name) + "/disable_policy";
}

std::expected<std::unique_ptr<VtiManager>, std::error_code> VtiManager::Open() {
  auto socket = xfrm::NetlinkSocket::Open(NETLINK_ROUTE, 0, KernelOp::kOpen);
  if (!socket) return std::unexpected(socket.error());
  return std::unique_ptr<VtiManager>(new VtiManager(std::move(*socket)));
}

std::optional<std::uint32_t> LinkIndexOf(const nlmsghdr* reply) {
  if (reply->nlmsg_type != RTM_NEWLINK || mnl_nlmsg_get_payload_len(reply) < sizeof(ifinfomsg))
    return std::nullopt;
  ifinfomsg info;
  std::memcpy(&info, mnl_nlmsg_get_payload(reply), sizeof(info));
  return static_cast<std::uint32_t>(info.ifi_index);
}

std::expected<std::uint32_t, std::error_code> VtiManager::IndexOf(std::string_view name,
                                                                  KernelOp op) {
  if (!base::IsValidInterfaceName(name)) return std::unexpected(KernelError(EINVAL, op));
  // RTM_GETLINK by name: answers for the network namespace of the socket.
  NlMessage msg;
  nlmsghdr* nlh = PutLinkHeader(msg, RTM_GETLINK, NLM_F_REQUEST, 0);
  const std::string copy(name);
  mnl_attr_put_strz(nlh, IFLA_IFNAME, copy.c_str());
  std::uint32_t index = 0;
  const auto ec = socket_.Request(msg, op, [&index](const nlmsghdr* reply) {
    if (auto i = LinkIndexOf(reply)) index = *i;
    return std::error_code();
  });
  if (ec) return std::unexpected(ec == std::errc::no_such_device ? KernelError(ENODEV, op) : ec);
  if (index == 0) return std::unexpected(KernelError(ENODEV, op));
  return index;
}

std::error_code VtiManager::Create(const VtiConfig& config) {
  if (!base::IsValidInterfaceName(config.name) || config.local.family == 0 ||
      config.local.family != config.remote.family) {
    return KernelError(EINVAL, KernelOp::kVtiCreate);
  }
  std::optional<std::uint32_t> link_index;
  if (config.link) {
    const auto index = IndexOf(*config.link, KernelOp::kVtiCreate);
    if (!index) return index.error();
    link_index = *index;
  }
  NlMessage create = BuildCreateVti(config, link_index);
  if (auto ec = InjectedFailure(KernelOp::kVtiCreate)) return ec;
  if (auto ec = socket_.Request(create, KernelOp::kVtiCreate)) return ec;

  std::error_code ec = InjectedFailure(KernelOp::kVtiChange);
  if (!ec) ec = SetDisablePolicy(config.name, config.local.family == AF_INET6);
  if (!ec) ec = InjectedFailure(KernelOp::kVtiChange);
  if (!ec) ec = SetUp(config.name, true);
  if (ec) Delete(config.name);  // no half state
  return ec;
}

std::error_code VtiManager::Create(const XfrmInterfaceConfig& config) {
  if (!base::IsValidInterfaceName(config.name) || config.if_id == 0)
    return KernelError(EINVAL, KernelOp::kXfrmiCreate);
  std::optional<std::uint32_t> link_index;
  if (config.dev) {
    const auto index = IndexOf(*config.dev, KernelOp::kXfrmiCreate);
    if (!index) return index.error();
    link_index = *index;
  }
  NlMessage create = BuildCreateXfrmInterface(config, link_index);
  if (auto ec = InjectedFailure(KernelOp::kXfrmiCreate)) return ec;
  if (auto ec = socket_.Request(create, KernelOp::kXfrmiCreate)) return ec;
  std::error_code ec = InjectedFailure(KernelOp::kVtiChange);
  if (!ec) ec = SetUp(config.name, true);
  if (ec) Delete(config.name);  // no half state
  return ec;
}

void VtiManager::FailNth(std::size_t n, std::errc errc) {
  fail_at_ = n == 0 ? 0 : steps_ + n;
  fail_errc_ = errc;
}

std::error_code VtiManager::InjectedFailure(KernelOp op) {
  ++steps_;
  if (fail_at_ == 0 || steps_ != fail_at_) return {};
  fail_at_ = 0;
  return KernelError(static_cast<int>(fail_errc_), op);
}

std::error_code VtiManager::Update(const VtiConfig& config) {
  if (config.local.family == 0 || config.local.family != config.remote.family)
    return KernelError(EINVAL, KernelOp::kVtiChange);
  const auto index = IndexOf(config.name, KernelOp::kVtiChange);
  if (!index) return index.error();
  std::optional<std::uint32_t> link_index;
  if (config.link) {
    const auto link = IndexOf(*config.link, KernelOp::kVtiChange);
    if (!link) return link.error();
    link_index = *link;
  }
  NlMessage msg = BuildChangeVti(config, *index, link_index);
  return socket_.Request(msg, KernelOp::kVtiChange);
}

std::error_code VtiManager::Delete(std::string_view name) {
  const auto index = IndexOf(name, KernelOp::kVtiChange);
  if (!index) return index.error();
  NlMessage msg = BuildDeleteLink(*index);
  return socket_.Request(msg, KernelOp::kVtiChange);
}

std::error_code VtiManager::SetUp(std::string_view name, bool up) {
  const auto index = IndexOf(name, KernelOp::kVtiChange);
  if (!index) return index.error();
  NlMessage msg = BuildSetUp(*index, up);
  return socket_.Request(msg, KernelOp::kVtiChange);
}

std::error_code VtiManager::SetMtu(std::string_view name, std::uint32_t mtu) {
  const auto index = IndexOf(name, KernelOp::kVtiChange);
  if (!index) return index.error();
  NlMessage msg = BuildSetMtu(*index, mtu);
  return socket_.Request(msg, KernelOp::kVtiChange);
}

std::error_code VtiManager::SetOperState(std::string_view name, bool up) {
  const auto index = IndexOf(name, KernelOp::kVtiChange);
  if (!index) return index.error();
  NlMessage msg = BuildSetOperState(*index, up);
  return socket_.Request(msg, KernelOp::kVtiChange);
}

std::error_code VtiManager::AddRoute(std::string_view name, const xfrm::Subnet& destination) {
  const auto index = IndexOf(name, KernelOp::kVtiChange);
  if (!index) return index.error();
  NlMessage msg = BuildRoute(true, destination, *index);
  return socket_.Request(msg, KernelOp::kVtiChange);
}

std::error_code VtiManager::DelRoute(std::string_view name, const xfrm::Subnet& destination) {
  const auto index = IndexOf(name, KernelOp::kVtiChange);
  if (!index) return index.error();
  NlMessage msg = BuildRoute(false, destination, *index);
  return socket_.Request(msg, KernelOp::kVtiChange);
}

std::error_code VtiManager::AddAddress(std::string_view name, const xfrm::Subnet& address) {
  const auto index = IndexOf(name, KernelOp::kVtiChange);
  if (!index) return index.error();
  NlMessage msg = BuildAddAddress(address, *index);
  return socket_.Request(msg, KernelOp::kVtiChange);
}

std::error_code VtiManager::DelAddress(std::string_view name, const xfrm::Subnet& address) {
  const auto index = IndexOf(name, KernelOp::kVtiChange);
  if (!index) return index.error();
  NlMessage msg = BuildDelAddress(address, *index);
  return socket_.Request(msg, KernelOp::kVtiChange);
}

std::error_code VtiManager::SetDisablePolicy(std::string_view name, bool ipv6) {
  if (!base::IsValidInterfaceName(name)) return KernelError(EINVAL, KernelOp::kVtiChange);
  const std::string path = DisablePolicyPath(name, ipv6);
  const int fd = open(path.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) return KernelError(errno, KernelOp::kVtiChange);
  const ssize_t n = write(fd, "1\n", 2);
  const int err = errno;
  close(fd);
  if (n != 2) return KernelError(n < 0 ? err : EIO, KernelOp::kVtiChange);
  return {};
}

}  // namespace minivpn::vti
