// VTI links over rtnetlink (RTM_NEWLINK/RTM_DELLINK), the system side of a route-based tunnel
// (docs/lab.md): `ip tunnel add vti0 local L remote R mode vti key K`, link up,
// net.ipv4.conf.vti0.disable_policy = 1. The key is the SA/policy mark (one value, defined
// once: the daemon passes the same number to both). Routes are never touched here.
#pragma once

#include <cstdint>
#include <expected>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>

#include "xfrm/kernel_ipsec.h"
#include "xfrm/netlink_messages.h"
#include "xfrm/netlink_socket.h"

namespace minivpn::vti {

// One VTI link to create, endpoints resolved (the config's config::VtiConfig names what to
// create before the IKE SA's addresses are known).
struct VtiConfig {
  std::string name;       // interface name, e.g. "vti0"
  xfrm::IpAddress local;  // outer addresses (the IKE endpoints)
  xfrm::IpAddress remote;
  std::uint32_t key = 0;             // ikey = okey = the SA/policy mark value
  std::optional<std::string> link;   // underlying device (IFLA_VTI_LINK), optional
  std::optional<std::uint32_t> mtu;  // IFLA_MTU; the kernel's default when unset
  bool operator==(const VtiConfig&) const = default;
};

// One XFRM interface to create (`ip link add <name> type xfrm dev <dev> if_id <id>`): what is
// routed into it meets the SAs and policies carrying its if_id (charon's if_id_in/if_id_out). It
// has no endpoints and needs no disable_policy: the policy check matches the if_id.
struct XfrmInterfaceConfig {
  std::string name;
  std::uint32_t if_id = 0;           // IFLA_XFRM_IF_ID; the kernel refuses 0
  std::optional<std::string> dev;    // IFLA_XFRM_LINK: the underlying device, optional
  std::optional<std::uint32_t> mtu;  // IFLA_MTU; the kernel's default when unset
  bool operator==(const XfrmInterfaceConfig&) const = default;
};

// Interface names and the key = mark rule: base/vti_rules.h.

// RTM_NEWLINK NLM_F_CREATE|NLM_F_EXCL, IFLA_IFNAME, IFLA_MTU, IFLA_LINKINFO { IFLA_INFO_KIND
// "vti" ("vti6" for IPv6), IFLA_INFO_DATA { IFLA_VTI_LINK, IFLA_VTI_IKEY, IFLA_VTI_OKEY (both
// big-endian), IFLA_VTI_LOCAL, IFLA_VTI_REMOTE } }.
xfrm::NlMessage BuildCreateVti(const VtiConfig& config, std::optional<std::uint32_t> link_index);
// The same link data as an RTM_NEWLINK on an existing ifindex (no NLM_F_CREATE): the kernel's
// changelink takes every IFLA_VTI_* anew (an absent one becomes 0), so all are sent, and the
// configured MTU too (without IFLA_MTU the kernel recomputes it).
xfrm::NlMessage BuildChangeVti(const VtiConfig& config, std::uint32_t ifindex,
                               std::optional<std::uint32_t> link_index);
// RTM_NEWLINK NLM_F_CREATE|NLM_F_EXCL, IFLA_IFNAME, IFLA_MTU, IFLA_LINKINFO { IFLA_INFO_KIND
// "xfrm", IFLA_INFO_DATA { IFLA_XFRM_LINK, IFLA_XFRM_IF_ID } } (both host-order u32).
xfrm::NlMessage BuildCreateXfrmInterface(const XfrmInterfaceConfig& config,
                                         std::optional<std::uint32_t> link_index);
// RTM_NEWLINK on an ifindex with ifi_change = IFF_UP.
xfrm::NlMessage BuildSetUp(std::uint32_t ifindex, bool up);
// RTM_NEWLINK on an ifindex with IFLA_LINKMODE = IF_LINK_MODE_DORMANT and IFLA_OPERSTATE =
// IF_OPER_UP or IF_OPER_DORMANT (RFC 2863's "waiting for an external event", as wpa_supplicant
// marks a link whose authentication is not done): `ip link set <name> mode dormant` then
// operationally up or not. The link stays administratively up, its routes and addresses stay.
xfrm::NlMessage BuildSetOperState(std::uint32_t ifindex, bool up);
// RTM_NEWLINK on an ifindex with IFLA_MTU.
xfrm::NlMessage BuildSetMtu(std::uint32_t ifindex, std::uint32_t mtu);
// RTM_DELLINK on an ifindex.
xfrm::NlMessage BuildDeleteLink(std::uint32_t ifindex);

// RTM_NEWROUTE (NLM_F_CREATE|NLM_F_EXCL) / RTM_DELROUTE of `destination` through the interface,
// main table, scope link, protocol static: `ip route add <destination> dev <name>`.
xfrm::NlMessage BuildRoute(bool add, const xfrm::Subnet& destination, std::uint32_t ifindex);

// RTM_NEWADDR (NLM_F_CREATE|NLM_F_EXCL) of `address` (host bits kept, prefix = the on-link
// network) on the interface, scope global: `ip addr add 169.254.12.1/30 dev vti12`, the inner
// address a routing protocol speaks over.
xfrm::NlMessage BuildAddAddress(const xfrm::Subnet& address, std::uint32_t ifindex);
// RTM_DELADDR of the same address: `ip addr del 169.254.12.1/30 dev vti12`.
xfrm::NlMessage BuildDelAddress(const xfrm::Subnet& address, std::uint32_t ifindex);

// The /proc/sys path of net.ipv{4,6}.conf.<name>.disable_policy.
std::string DisablePolicyPath(std::string_view name, bool ipv6);

// The interface index an RTM_NEWLINK reply (to RTM_GETLINK) names; nullopt for any other
// message or a short one.
std::optional<std::uint32_t> LinkIndexOf(const nlmsghdr* reply);

// The links of route-based tunnels over rtnetlink: VTIs and XFRM interfaces, their addresses and
// routes.
class VtiManager {
 public:
  static std::expected<std::unique_ptr<VtiManager>, std::error_code> Open();

  // Creates the VTI, sets disable_policy = 1 and brings it up. All or nothing: if a later
  // step fails, the link is deleted again.
  std::error_code Create(const VtiConfig& config);
  // Creates the XFRM interface and brings it up; all or nothing.
  std::error_code Create(const XfrmInterfaceConfig& config);
  std::error_code Delete(std::string_view name);
  // New endpoints (or key) for an existing VTI of that name, e.g. the peer's address after a NAT
  // mapping change; the link stays up and keeps its addresses and routes.
  std::error_code Update(const VtiConfig& config);
  std::error_code SetUp(std::string_view name, bool up);
  std::error_code SetMtu(std::string_view name, std::uint32_t mtu);
  // Operationally up, or dormant (BuildSetOperState): what routing daemons see as link state.
  std::error_code SetOperState(std::string_view name, bool up);
  std::error_code SetDisablePolicy(std::string_view name, bool ipv6);
  // Routes through the VTI: only those the configuration names (minivpn never adds others).
  std::error_code AddRoute(std::string_view name, const xfrm::Subnet& destination);
  std::error_code DelRoute(std::string_view name, const xfrm::Subnet& destination);
  // An address on the VTI (e.g. for a BGP session inside the tunnel); it goes with the link.
  std::error_code AddAddress(std::string_view name, const xfrm::Subnet& address);
  std::error_code DelAddress(std::string_view name, const xfrm::Subnet& address);

  // Test hook (fault injection in the lab): step n (1 = the next) of Create fails with `errc`
  // before it is done. Create's steps: 1 RTM_NEWLINK, 2 disable_policy, 3 link up (an XFRM
  // interface's: 1 RTM_NEWLINK, 2 link up).
  void FailNth(std::size_t n, std::errc errc);

 private:
  explicit VtiManager(xfrm::NetlinkSocket socket) : socket_(std::move(socket)) {}
  std::expected<std::uint32_t, std::error_code> IndexOf(std::string_view name, xfrm::KernelOp op);

  std::error_code InjectedFailure(xfrm::KernelOp op);

  xfrm::NetlinkSocket socket_;
  std::size_t steps_ = 0;
  std::size_t fail_at_ = 0;
  std::errc fail_errc_ = std::errc::io_error;
};

}  // namespace minivpn::vti
