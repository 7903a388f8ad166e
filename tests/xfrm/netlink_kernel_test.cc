// NetlinkKernel against the host kernel, each test in a fresh network namespace. The CI host
// kernel has xfrm policies but neither ESP nor the AEAD/authenc algorithms (docs/lab.md), so
// SA installs are expected to fail there with an error naming the module, and to leave nothing.
#include "xfrm/netlink_kernel.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <libmnl/libmnl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <string>
#include <vector>

#include "tests/xfrm/netns.h"
#include "xfrm/child_install.h"

namespace minivpn::xfrm {
namespace {

IpAddress Ip(std::string_view text) { return *IpAddress::Parse(text); }

// Collects failures inside the forked child.
struct Report {
  std::string text;
  bool Expect(bool ok, const std::string& what) {
    if (!ok) text += what + "\n";
    return ok;
  }
};

struct DumpedPolicy {
  xfrm_userpolicy_info info{};
  std::optional<xfrm_user_tmpl> tmpl;
  std::optional<xfrm_mark> mark;
};

// XFRM_MSG_GETPOLICY dump, socket policies included (dir 3 = socket in, 4 = socket out).
std::vector<DumpedPolicy> DumpPolicies(NetlinkSocket& socket) {
  std::vector<DumpedPolicy> out;
  NlMessage msg;
  nlmsghdr* nlh = mnl_nlmsg_put_header(msg.header());
  nlh->nlmsg_type = XFRM_MSG_GETPOLICY;
  nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
  const auto ec = socket.Request(msg, KernelOp::kAddPolicy, [&out](const nlmsghdr* reply) {
    DumpedPolicy p;
    std::memcpy(&p.info, mnl_nlmsg_get_payload(reply), sizeof(p.info));
    const auto* tail = static_cast<const char*>(mnl_nlmsg_get_payload_tail(reply));
    for (auto* attr = static_cast<const nlattr*>(
             mnl_nlmsg_get_payload_offset(reply, sizeof(xfrm_userpolicy_info)));
         mnl_attr_ok(attr, static_cast<int>(tail - reinterpret_cast<const char*>(attr)));
         attr = mnl_attr_next(attr)) {
      if (mnl_attr_get_type(attr) == XFRMA_TMPL) {
        xfrm_user_tmpl t;
        std::memcpy(&t, mnl_attr_get_payload(attr), sizeof(t));
        p.tmpl = t;
      } else if (mnl_attr_get_type(attr) == XFRMA_MARK) {
        xfrm_mark m;
        std::memcpy(&m, mnl_attr_get_payload(attr), sizeof(m));
        p.mark = m;
      }
    }
    out.push_back(p);
    return std::error_code();
  });
  EXPECT_FALSE(ec) << ec.message();
  return out;
}

std::size_t CountSas(NetlinkSocket& socket) {
  std::size_t count = 0;
  NlMessage msg;
  nlmsghdr* nlh = mnl_nlmsg_put_header(msg.header());
  nlh->nlmsg_type = XFRM_MSG_GETSA;
  nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
  socket.Request(msg, KernelOp::kQuerySa, [&count](const nlmsghdr*) {
    ++count;
    return std::error_code();
  });
  return count;
}

NetlinkSocket DumpSocket() {
  return std::move(*NetlinkSocket::Open(NETLINK_XFRM, 0, KernelOp::kAddPolicy));
}

ChildSaKernel SeedChild(std::uint32_t spi_in, std::uint32_t mark) {
  ChildSaKernel c;
  c.local = Ip("192.0.2.1");
  c.remote = Ip("192.0.2.2");
  c.local_ts = {xfrm::Selector::Of(*xfrm::Subnet::Parse("0.0.0.0/0"))};
  c.remote_ts = {xfrm::Selector::Of(*xfrm::Subnet::Parse("0.0.0.0/0"))};
  c.spi_in = spi_in;
  c.spi_out = 0xc7902371;
  c.reqid = 1;
  c.mark_in = {mark, 0xffffffff};
  c.mark_out = {mark, 0xffffffff};
  c.encr_key_in = SecretBytes(36);
  c.encr_key_out = SecretBytes(36);
  c.lifetime = {3500, 3960, 0, 0, 0, 0};
  return c;
}

TEST(NetlinkKernel, PoliciesAddDeleteLikeCharon) {
  MINIVPN_IN_NETNS([]() -> std::string {
    Report r;
    auto kernel = NetlinkKernel::Open();
    if (!r.Expect(kernel.has_value(), "open")) return r.text;
    NetlinkSocket dump = DumpSocket();
    const auto policies = ChildPolicies(SeedChild(0, 12));
    for (const auto& p : policies) {
      const auto ec = (*kernel)->AddPolicy(p);
      r.Expect(!ec, "AddPolicy: " + ec.message());
    }
    const auto dumped = DumpPolicies(dump);
    r.Expect(dumped.size() == 3, "3 policies, got " + std::to_string(dumped.size()));
    for (const auto& d : dumped) {
      const std::string dir = std::to_string(d.info.dir);
      r.Expect(d.info.priority == 399999, "priority dir " + dir);
      r.Expect(d.info.action == XFRM_POLICY_ALLOW, "action dir " + dir);
      r.Expect(d.info.sel.family == AF_INET && d.info.sel.prefixlen_d == 0, "selector " + dir);
      r.Expect(d.mark && d.mark->v == 12 && d.mark->m == 0xffffffff, "mark dir " + dir);
      if (!r.Expect(d.tmpl.has_value(), "template dir " + dir)) continue;
      r.Expect(
          d.tmpl->reqid == 1 && d.tmpl->mode == XFRM_MODE_TUNNEL && d.tmpl->id.proto == IPPROTO_ESP,
          "template fields dir " + dir);
      const bool out = d.info.dir == XFRM_POLICY_OUT;
      r.Expect(ntohl(d.tmpl->id.spi) == (out ? 0xc7902371u : 0u), "template spi dir " + dir);
      r.Expect(ntohl(d.tmpl->saddr.a4) == (out ? 0xc0000201u : 0xc0000202u), "tmpl src " + dir);
    }
    for (const auto& p : policies) {
      const auto ec = (*kernel)->DelPolicy(p.id);
      r.Expect(!ec, "DelPolicy: " + ec.message());
    }
    r.Expect(DumpPolicies(dump).empty(), "policies left after delete");
    return r.text;
  });
}

TEST(NetlinkKernel, SharedPolicyIsReferenceCounted) {
  MINIVPN_IN_NETNS([]() -> std::string {
    Report r;
    auto kernel = NetlinkKernel::Open();
    if (!r.Expect(kernel.has_value(), "open")) return r.text;
    NetlinkSocket dump = DumpSocket();
    PolicySpec first = ChildPolicies(SeedChild(0, 12))[2];
    PolicySpec second = first;
    second.tmpl_spi = 0xc0000abc;
    r.Expect(!(*kernel)->AddPolicy(first), "add first");
    r.Expect(!(*kernel)->AddPolicy(second), "add second (UPDPOLICY)");
    r.Expect((*kernel)->PolicyRefCount(first.id) == 2, "refcount 2");
    auto dumped = DumpPolicies(dump);
    r.Expect(dumped.size() == 1 && ntohl(dumped[0].tmpl->id.spi) == 0xc0000abc,
             "kernel holds the newest template");
    r.Expect(!(*kernel)->DelPolicy(first.id), "del one reference");
    dumped = DumpPolicies(dump);
    r.Expect(dumped.size() == 1 && ntohl(dumped[0].tmpl->id.spi) == 0xc7902371,
             "kernel holds the previous template again");
    // The OUT SPI switch of a rekey.
    PolicySpec switched = first;
    switched.tmpl_spi = 0xc0000def;
    r.Expect(!(*kernel)->UpdatePolicy(switched), "update");
    dumped = DumpPolicies(dump);
    r.Expect(dumped.size() == 1 && ntohl(dumped[0].tmpl->id.spi) == 0xc0000def, "updated spi");
    r.Expect(!(*kernel)->DelPolicy(first.id), "del last reference");
    r.Expect(DumpPolicies(dump).empty(), "policy left");
    const auto ec = (*kernel)->DelPolicy(first.id);
    r.Expect(ec == std::errc::no_such_file_or_directory, "second delete: " + ec.message());
    r.Expect((*kernel)->UpdatePolicy(first) == std::errc::no_such_file_or_directory,
             "update of a missing policy");
    return r.text;
  });
}

// Reauthentication (make-before-break): the old CHILD_SA's release must not give the kernel its
// template back while the new CHILD_SA still uses the policy.
TEST(NetlinkKernel, ReleasingAnOlderReferenceKeepsTheNewestTemplate) {
  MINIVPN_IN_NETNS([]() -> std::string {
    Report r;
    auto kernel = NetlinkKernel::Open();
    if (!r.Expect(kernel.has_value(), "open")) return r.text;
    NetlinkSocket dump = DumpSocket();
    PolicySpec older = ChildPolicies(SeedChild(0, 12))[2];
    PolicySpec newer = older;
    newer.tmpl_spi = 0xc0000abc;
    r.Expect(!(*kernel)->AddPolicy(older) && !(*kernel)->AddPolicy(newer), "add both");
    r.Expect(!(*kernel)->ReleasePolicy(older), "release the older one");
    auto dumped = DumpPolicies(dump);
    r.Expect(dumped.size() == 1 && ntohl(dumped[0].tmpl->id.spi) == 0xc0000abc,
             "kernel keeps the newer template");
    r.Expect((*kernel)->PolicyRefCount(older.id) == 1, "one reference left");
    r.Expect(!(*kernel)->ReleasePolicy(newer), "release the newer one");
    r.Expect(DumpPolicies(dump).empty(), "policy left");
    return r.text;
  });
}

// charon's order: a trap (a higher priority value) added under a live CHILD_SA's policy does not
// replace it in the kernel, and takes over when the CHILD_SA's reference goes.
TEST(NetlinkKernel, ATrapUnderALiveChildStaysBelowIt) {
  MINIVPN_IN_NETNS([]() -> std::string {
    Report r;
    auto kernel = NetlinkKernel::Open();
    if (!r.Expect(kernel.has_value(), "open")) return r.text;
    NetlinkSocket dump = DumpSocket();
    const PolicySpec child = ChildPolicies(SeedChild(0, 12))[2];  // OUT, SPI 0xc7902371
    PolicySpec trap = child;
    trap.tmpl_spi = 0;
    trap.priority = PolicyPriority(trap.id, /*trap=*/true);
    r.Expect(!(*kernel)->AddPolicy(child) && !(*kernel)->AddPolicy(trap), "add child, then trap");
    auto dumped = DumpPolicies(dump);
    r.Expect(dumped.size() == 1 && ntohl(dumped[0].tmpl->id.spi) == 0xc7902371 &&
                 dumped[0].info.priority == child.priority,
             "the kernel keeps the child's policy");
    r.Expect(!(*kernel)->ReleasePolicy(child), "release the child's");
    dumped = DumpPolicies(dump);
    r.Expect(dumped.size() == 1 && dumped[0].info.priority == trap.priority &&
                 dumped[0].tmpl->id.spi == 0,
             "the trap takes over");
    r.Expect(!(*kernel)->ReleasePolicy(trap), "release the trap");
    r.Expect(DumpPolicies(dump).empty(), "policy left");
    return r.text;
  });
}

// A policy no packet matched yet has no use time; a missing one is ENOENT.
TEST(NetlinkKernel, QueryPolicyIdle) {
  MINIVPN_IN_NETNS([]() -> std::string {
    Report r;
    auto kernel = NetlinkKernel::Open();
    if (!r.Expect(kernel.has_value(), "open")) return r.text;
    const PolicySpec in = ChildPolicies(SeedChild(0, 12))[0];
    const auto missing = (*kernel)->QueryPolicyIdle(in.id);
    r.Expect(!missing && missing.error() == std::errc::no_such_file_or_directory,
             "missing policy: ENOENT");
    r.Expect(!(*kernel)->AddPolicy(in), "add");
    const auto fresh = (*kernel)->QueryPolicyIdle(in.id);
    r.Expect(fresh.has_value() && !fresh->has_value(), "never used: no idle time");
    r.Expect(!(*kernel)->DelPolicy(in.id), "del");
    return r.text;
  });
}

TEST(NetlinkKernel, ForeignPolicyIsNotTakenOver) {
  MINIVPN_IN_NETNS([]() -> std::string {
    Report r;
    auto a = NetlinkKernel::Open();
    auto b = NetlinkKernel::Open();
    if (!r.Expect(a.has_value() && b.has_value(), "open")) return r.text;
    NetlinkSocket dump = DumpSocket();
    const PolicySpec p = ChildPolicies(SeedChild(0, 12))[0];
    r.Expect(!(*a)->AddPolicy(p), "add");
    PolicySpec other = p;
    other.reqid = 2;
    const auto ec = (*b)->AddPolicy(other);
    r.Expect(ec == std::errc::file_exists, "EEXIST expected: " + ec.message());
    r.Expect(ec.message().find("already exists") != std::string::npos, "message: " + ec.message());
    const auto dumped = DumpPolicies(dump);
    r.Expect(dumped.size() == 1 && dumped[0].tmpl->reqid == 1, "policy unchanged");
    return r.text;
  });
}

TEST(NetlinkKernel, AllocSpiAndRelease) {
  MINIVPN_IN_NETNS([]() -> std::string {
    Report r;
    auto kernel = NetlinkKernel::Open();
    if (!r.Expect(kernel.has_value(), "open")) return r.text;
    NetlinkSocket dump = DumpSocket();
    const auto spi = (*kernel)->AllocSpi(Ip("192.0.2.2"), Ip("192.0.2.1"), 1, kCharonSpiRange);
    if (!r.Expect(spi.has_value(), "AllocSpi: " + (spi ? "" : spi.error().message()))) {
      return r.text;
    }
    r.Expect(*spi >= 0xc0000000u && *spi <= 0xcfffffffu, "spi in charon's range");
    r.Expect(CountSas(dump) == 1, "one larval SA");
    const auto exact =
        (*kernel)->AllocSpi(Ip("192.0.2.2"), Ip("192.0.2.1"), 1, SpiRange{0xc1234567, 0xc1234567});
    r.Expect(exact.has_value() && *exact == 0xc1234567u, "exact SPI");
    for (const std::uint32_t s : {*spi, 0xc1234567u}) {
      const auto ec = (*kernel)->DelSa({Ip("192.0.2.2"), Ip("192.0.2.1"), s, IPPROTO_ESP, Mark{}});
      r.Expect(!ec, "DelSa larval: " + ec.message());
    }
    r.Expect(CountSas(dump) == 0, "larval SAs left");
    const auto query =
        (*kernel)->QuerySa({Ip("192.0.2.2"), Ip("192.0.2.1"), *spi, IPPROTO_ESP, Mark{}});
    r.Expect(!query && query.error() == std::errc::no_such_process, "query of a deleted SA");
    const auto del =
        (*kernel)->DelSa({Ip("192.0.2.2"), Ip("192.0.2.1"), *spi, IPPROTO_ESP, Mark{}});
    r.Expect(del == std::errc::no_such_process, "delete twice: " + del.message());
    return r.text;
  });
}

// Without ESP or the algorithm the install fails with a message naming a module, and the
// rollback leaves neither SAs (the larval one included) nor policies. (The lab runs the full
// fault injection on a kernel with ESP: tests/kernel_lab/run.sh.)
TEST(NetlinkKernel, FailedChildInstallLeavesNothing) {
  MINIVPN_IN_NETNS([]() -> std::string {
    Report r;
    auto kernel = NetlinkKernel::Open();
    if (!r.Expect(kernel.has_value(), "open")) return r.text;
    NetlinkSocket dump = DumpSocket();
    const auto spi = (*kernel)->AllocSpi(Ip("192.0.2.2"), Ip("192.0.2.1"), 1, kCharonSpiRange);
    if (!r.Expect(spi.has_value(), "AllocSpi")) return r.text;
    ChildSaKernel child = SeedChild(*spi, 12);

    // An injected failure of the first step (UPDSA of the inbound SA).
    (*kernel)->FailNth(1, std::errc::no_buffer_space);
    r.Expect(InstallChildSa(**kernel, child) == std::errc::no_buffer_space, "injected");
    r.Expect(CountSas(dump) == 0, "SAs left after the injected failure");
    r.Expect(DumpPolicies(dump).empty(), "policies left after the injected failure");

    // The real kernel's answer.
    r.Expect((*kernel)->AllocSpi(Ip("192.0.2.2"), Ip("192.0.2.1"), 1, SpiRange{*spi, *spi}).has_value(),
             "realloc");
    const auto ec = InstallChildSa(**kernel, child);
    if (!ec) {  // a kernel with ESP and GCM: the install worked, take it down again
      r.Expect(CountSas(dump) == 2 && DumpPolicies(dump).size() == 3, "installed state");
      r.Expect(!RemoveChildSa(**kernel, child), "remove");
    } else {
      r.Expect(ec == std::errc::function_not_supported || ec == std::errc::protocol_not_supported ||
                   ec == std::errc::no_such_file_or_directory,
               "unexpected errno: " + ec.message());
      r.Expect(ec.message().find("load") != std::string::npos, "no module hint: " + ec.message());
    }
    r.Expect(CountSas(dump) == 0, "SAs left");
    r.Expect(DumpPolicies(dump).empty(), "policies left");
    return r.text;
  });
}

TEST(NetlinkKernel, PolicyFailureRollsBackPolicies) {
  MINIVPN_IN_NETNS([]() -> std::string {
    Report r;
    auto kernel = NetlinkKernel::Open();
    if (!r.Expect(kernel.has_value(), "open")) return r.text;
    NetlinkSocket dump = DumpSocket();
    const auto policies = ChildPolicies(SeedChild(0, 12));
    // Install IN and FWD, fail OUT: the caller (InstallChildSa) removes IN and FWD.
    r.Expect(!(*kernel)->AddPolicy(policies[0]), "in");
    r.Expect(!(*kernel)->AddPolicy(policies[1]), "fwd");
    (*kernel)->FailNth(1, std::errc::no_buffer_space);
    r.Expect((*kernel)->AddPolicy(policies[2]) == std::errc::no_buffer_space, "injected");
    r.Expect((*kernel)->PolicyRefCount(policies[2].id) == 0, "no reference on failure");
    r.Expect(DumpPolicies(dump).size() == 2, "two policies");
    r.Expect(!(*kernel)->DelPolicy(policies[1].id) && !(*kernel)->DelPolicy(policies[0].id), "del");
    r.Expect(DumpPolicies(dump).empty(), "empty");
    return r.text;
  });
}

TEST(SocketBypass, InstallsPerSocketPoliciesV4AndV6) {
  MINIVPN_IN_NETNS([]() -> std::string {
    Report r;
    NetlinkSocket dump = DumpSocket();
    for (const int family : {AF_INET, AF_INET6}) {
      const int fd = socket(family, SOCK_DGRAM, 0);
      if (!r.Expect(fd >= 0, "socket")) continue;
      const auto ec = SetSocketBypass(fd, family);
      r.Expect(!ec, "SetSocketBypass: " + ec.message());
      const auto dumped = DumpPolicies(dump);
      int in = 0;
      int out = 0;
      for (const auto& d : dumped) {
        r.Expect(d.info.action == XFRM_POLICY_ALLOW && d.info.priority == 0, "allow prio 0");
        r.Expect(d.info.sel.family == family, "family");
        in += d.info.dir == XFRM_POLICY_MAX + XFRM_POLICY_IN;
        out += d.info.dir == XFRM_POLICY_MAX + XFRM_POLICY_OUT;
      }
      r.Expect(in == 1 && out == 1, "socket in/out policies: " + std::to_string(dumped.size()));
      close(fd);
      r.Expect(DumpPolicies(dump).empty(), "socket policies go with the socket");
    }
    const int udp = socket(AF_INET, SOCK_DGRAM, 0);
    r.Expect(!EnableUdpEncap(udp), "UDP_ENCAP on a UDP socket");
    close(udp);
    const int tcp = socket(AF_INET, SOCK_STREAM, 0);
    r.Expect(static_cast<bool>(EnableUdpEncap(tcp)), "UDP_ENCAP on TCP must fail");
    close(tcp);
    r.Expect(SetSocketBypass(-1, AF_INET) == std::errc::bad_file_descriptor, "bad fd");
    return r.text;
  });
}

// Loopback skips xfrm unless disable_xfrm is cleared (per namespace).
bool PrepareLoopbackForXfrm() {
  return system("ip link set lo up && echo 0 > /proc/sys/net/ipv4/conf/lo/disable_xfrm") == 0;
}

// A trap-like OUT policy 127.0.0.1 -> `dst`/32 with its template to `dst`, without an SA.
PolicySpec TrapTo(const std::string& dst, std::uint32_t reqid) {
  PolicySpec trap;
  trap.id = {*Subnet::Parse("127.0.0.1/32"), *Subnet::Parse(dst + "/32"), PolicyDir::kOut, Mark{}};
  trap.priority = PolicyPriority(trap.id.src, trap.id.dst, true);
  trap.reqid = reqid;
  trap.tmpl_src = Ip("127.0.0.1");
  trap.tmpl_dst = Ip(dst);
  return trap;
}

// One UDP datagram to `host` (IPv4, host order), port 9; under a trap it fails (no SA yet).
void SendUdpTo(std::uint32_t host) {
  const int fd = socket(AF_INET, SOCK_DGRAM, 0);
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(9);
  to.sin_addr.s_addr = htonl(host);
  sendto(fd, "x", 1, 0, reinterpret_cast<sockaddr*>(&to), sizeof(to));
  close(fd);
}

// A trap-like OUT policy without SA makes the kernel send ACQUIRE to the listener when a
// packet matches it; loopback needs no routes.
TEST(XfrmEventListener, ReceivesAcquire) {
  MINIVPN_IN_NETNS([]() -> std::string {
    Report r;
    if (!PrepareLoopbackForXfrm()) return "SKIP: could not prepare lo";
    auto listener = XfrmEventListener::Open();
    auto kernel = NetlinkKernel::Open();
    if (!r.Expect(listener.has_value() && kernel.has_value(), "open")) return r.text;
    auto idle = listener->ReadEvents();
    r.Expect(idle.has_value() && idle->empty(), "no events yet");
    r.Expect(!kernel.value()->AddPolicy(TrapTo("127.0.0.7", 42)), "trap policy");
    SendUdpTo(0x7f000007);
    pollfd p{listener->fd(), POLLIN, 0};
    r.Expect(poll(&p, 1, 5000) == 1, "listener readable");
    auto events = listener->ReadEvents();
    if (!r.Expect(events.has_value() && events->size() == 1, "one event")) return r.text;
    const auto* acquire = std::get_if<AcquireEvent>(&events->front());
    if (!r.Expect(acquire != nullptr, "an ACQUIRE")) return r.text;
    r.Expect(acquire->reqid == 42, "reqid " + std::to_string(acquire->reqid));
    r.Expect(acquire->src == *Subnet::Parse("127.0.0.1/32"), "src " + acquire->src.ToString());
    r.Expect(acquire->dst == *Subnet::Parse("127.0.0.7/32"), "dst " + acquire->dst.ToString());
    r.Expect(!acquire->mark.is_set(), "no mark");
    return r.text;
  });
}

// An ACQUIRE burst into a listener whose socket holds only a few (thousands of CHILD_SAs expiring
// at once do that to a real one): the read reports the overflow and still returns the events
// queued, and the socket keeps delivering afterwards.
TEST(XfrmEventListener, AnOverflowIsReportedAndTheReadGoesOn) {
  MINIVPN_IN_NETNS([]() -> std::string {
    Report r;
    if (!PrepareLoopbackForXfrm()) return "SKIP: could not prepare lo";
    auto listener = XfrmEventListener::Open();
    auto kernel = NetlinkKernel::Open();
    if (!r.Expect(listener.has_value() && kernel.has_value(), "open")) return r.text;
    const int small = 1;  // the kernel's minimum: room for a few messages
    r.Expect(setsockopt(listener->fd(), SOL_SOCKET, SO_RCVBUF, &small, sizeof small) == 0,
             "shrink the listener's buffer");
    // One trap per destination: the kernel keeps one larval state, and sends one ACQUIRE, per
    // template.
    const auto trap_for = [&](std::uint32_t host) {
      return !kernel.value()->AddPolicy(TrapTo("127.0.1." + std::to_string(host), 100 + host));
    };
    const auto send_to = [](std::uint32_t host) { SendUdpTo(0x7f000100 | host); };
    constexpr std::uint32_t kBurst = 64;
    for (std::uint32_t host = 1; host <= kBurst; ++host) r.Expect(trap_for(host), "trap");
    r.Expect(trap_for(200), "trap");
    for (std::uint32_t host = 1; host <= kBurst; ++host) send_to(host);
    auto events = listener->ReadEvents();
    if (!r.Expect(events.has_value(), "read after the burst")) return r.text;
    r.Expect(!events->empty() && events->size() < kBurst,
             "some of the burst, not all: " + std::to_string(events->size()));
    r.Expect(listener->TakeLost(), "the overflow reported");
    r.Expect(!listener->TakeLost(), "reported once");
    send_to(200);
    pollfd p{listener->fd(), POLLIN, 0};
    r.Expect(poll(&p, 1, 5000) == 1, "readable again");
    auto after = listener->ReadEvents();
    r.Expect(after.has_value() && after->size() == 1, "the next ACQUIRE arrives");
    r.Expect(!listener->TakeLost(), "no overflow then");
    return r.text;
  });
}

TEST(ParseXfrmEvents, SplitsADatagram) {
  // Two EXPIREs back to back, then a truncated tail that must be ignored.
  Bytes datagram;
  for (const std::uint8_t hard : {0, 1}) {
    NlMessage msg;
    nlmsghdr* nlh = mnl_nlmsg_put_header(msg.header());
    nlh->nlmsg_type = XFRM_MSG_EXPIRE;
    auto* expire =
        static_cast<xfrm_user_expire*>(mnl_nlmsg_put_extra_header(nlh, sizeof(xfrm_user_expire)));
    expire->state.family = AF_INET;
    expire->state.id.spi = htonl(0xc0000001u + hard);
    expire->hard = hard;
    Append(datagram, msg.bytes());
  }
  datagram.resize(datagram.size() + 10, 0xff);
  const auto events = ParseXfrmEvents(datagram);
  ASSERT_EQ(events.size(), 2u);
  EXPECT_FALSE(std::get<ExpireEvent>(events[0]).hard);
  EXPECT_TRUE(std::get<ExpireEvent>(events[1]).hard);
  EXPECT_EQ(std::get<ExpireEvent>(events[1]).sa.spi, 0xc0000002u);
}

}  // namespace
}  // namespace minivpn::xfrm
