#include "xfrm/netlink_kernel.h"

#include <optional>

#include <libmnl/libmnl.h>
#include <linux/udp.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>

namespace minivpn::xfrm {

std::expected<std::unique_ptr<NetlinkKernel>, std::error_code> NetlinkKernel::Open() {
  auto socket = NetlinkSocket::Open(NETLINK_XFRM, 0, KernelOp::kOpen);
  if (!socket) return std::unexpected(socket.error());
  return std::unique_ptr<NetlinkKernel>(new NetlinkKernel(std::move(*socket)));
}

void NetlinkKernel::FailNth(std::size_t n, std::errc errc) {
  fail_at_ = n == 0 ? 0 : requests_ + n;
  fail_errc_ = errc;
}

std::size_t NetlinkKernel::PolicyRefCount(const PolicyId& id) const {
  const auto it = policies_.find(id);
  return it == policies_.end() ? 0 : it->second.size();
}

std::error_code NetlinkKernel::Send(NlMessage& msg, KernelOp op,
                                    const NetlinkSocket::ReplyFn& on_reply) {
  ++requests_;
  std::error_code ec;
  if (fail_at_ != 0 && requests_ == fail_at_) {
    fail_at_ = 0;
    ec = KernelError(static_cast<int>(fail_errc_), op);
  } else {
    ec = socket_.Request(msg, op, on_reply);
  }
  msg.Wipe();  // key bytes leave user space memory as soon as the kernel has them
  return ec;
}

std::expected<std::uint32_t, std::error_code> NetlinkKernel::AllocSpi(const IpAddress& src,
                                                                      const IpAddress& dst,
                                                                      std::uint32_t reqid,
                                                                      SpiRange range) {
  NlMessage msg = BuildAllocSpi(src, dst, reqid, range.min, range.max);
  std::uint32_t spi = 0;
  const auto ec = Send(msg, KernelOp::kAllocSpi, [&spi](const nlmsghdr* nlh) {
    const auto parsed = ParseAllocSpiReply(nlh);
    if (!parsed) return parsed.error();
    spi = *parsed;
    return std::error_code();
  });
  if (ec) return std::unexpected(ec);
  return spi;
}

std::error_code NetlinkKernel::AddSa(const SaSpec& spec) {
  auto msg = BuildAddSa(spec);
  if (!msg) return msg.error();
  return Send(*msg, AddSaOp(spec.algorithms.encr));
}

std::error_code NetlinkKernel::DelSa(const SaId& id) {
  NlMessage msg = BuildDelSa(id);
  return Send(msg, KernelOp::kDelSa);
}

std::expected<SaCounters, std::error_code> NetlinkKernel::QuerySa(const SaId& id) {
  NlMessage msg = BuildGetSa(id);
  SaCounters counters;
  const auto ec = Send(msg, KernelOp::kQuerySa, [&counters](const nlmsghdr* nlh) {
    const auto parsed = ParseSaCounters(nlh);
    if (!parsed) return parsed.error();
    counters = *parsed;
    return std::error_code();
  });
  if (ec) return std::unexpected(ec);
  if (counters.last_use) {
    const auto wall = std::chrono::duration_cast<std::chrono::seconds>(
        std::chrono::system_clock::now().time_since_epoch());
    counters.idle = std::max(std::chrono::seconds(0), wall - *counters.last_use);
  }
  return counters;
}

std::error_code NetlinkKernel::UpdateSa(const SaId& id, const SaMove& to) {
  NlMessage query = BuildGetSa(id);
  std::optional<NlMessage> moved, original;
  auto ec = Send(query, KernelOp::kQuerySa, [&](const nlmsghdr* nlh) {
    auto next = BuildMovedSa(nlh, &to);
    auto same = BuildMovedSa(nlh, nullptr);
    if (!next) return next.error();
    if (!same) return same.error();
    moved = std::move(*next);
    original = std::move(*same);
    return std::error_code();
  });
  if (!ec && !moved) ec = KernelError(ENOENT, KernelOp::kQuerySa);
  if (ec) return ec;
  if ((ec = DelSa(id))) return ec;
  ec = Send(*moved, KernelOp::kUpdateSa);
  // All or nothing: the SA as it was (the DELSA went through, so this NEWSA has its slot).
  if (ec) (void)Send(*original, KernelOp::kUpdateSa);
  return ec;
}

std::expected<std::optional<std::chrono::seconds>, std::error_code> NetlinkKernel::QueryPolicyIdle(
    const PolicyId& id) {
  NlMessage msg = BuildGetPolicy(id);
  std::uint64_t use_time = 0;
  const auto ec = Send(msg, KernelOp::kQueryPolicy, [&use_time](const nlmsghdr* nlh) {
    const auto parsed = ParsePolicyUseTime(nlh);
    if (!parsed) return parsed.error();
    use_time = *parsed;
    return std::error_code();
  });
  if (ec) return std::unexpected(ec);
  if (use_time == 0) return std::optional<std::chrono::seconds>();
  const auto wall = std::chrono::duration_cast<std::chrono::seconds>(
      std::chrono::system_clock::now().time_since_epoch());
  return std::optional(
      std::max(std::chrono::seconds(0), wall - std::chrono::seconds(static_cast<std::int64_t>(use_time))));
}

std::error_code NetlinkKernel::AddPolicy(const PolicySpec& spec) {
  auto it = policies_.find(spec.id);
  if (it == policies_.end()) {
    NlMessage msg = BuildAddPolicy(spec, false);
    if (auto ec = Send(msg, KernelOp::kAddPolicy)) return ec;
    policies_[spec.id].push_back(spec);
    return {};
  }
  auto& refs = it->second;
  const std::size_t at = PolicyRefInsertAt(refs, spec);
  if (at == refs.size()) {  // it becomes the installed one
    NlMessage msg = BuildAddPolicy(spec, true);
    if (auto ec = Send(msg, KernelOp::kUpdatePolicy)) return ec;
  }
  refs.insert(refs.begin() + static_cast<std::ptrdiff_t>(at), spec);
  return {};
}

std::error_code NetlinkKernel::UpdatePolicy(const PolicySpec& spec) {
  auto it = policies_.find(spec.id);
  if (it == policies_.end()) return KernelError(ENOENT, KernelOp::kUpdatePolicy);
  NlMessage msg = BuildAddPolicy(spec, true);
  if (auto ec = Send(msg, KernelOp::kUpdatePolicy)) return ec;
  it->second.back() = spec;
  return {};
}

std::error_code NetlinkKernel::ReplacePolicy(const PolicySpec& old_spec, const PolicySpec& spec) {
  auto it = policies_.find(spec.id);
  if (it == policies_.end()) return KernelError(ENOENT, KernelOp::kUpdatePolicy);
  std::vector<PolicySpec> refs = it->second;
  refs.erase(refs.begin() + static_cast<std::ptrdiff_t>(PolicyRefToDrop(refs, &old_spec)));
  refs.insert(refs.begin() + static_cast<std::ptrdiff_t>(PolicyRefInsertAt(refs, spec)), spec);
  if (refs.back() != it->second.back()) {
    NlMessage msg = BuildAddPolicy(refs.back(), true);
    if (auto ec = Send(msg, KernelOp::kUpdatePolicy)) return ec;
  }
  it->second = std::move(refs);
  return {};
}

std::error_code NetlinkKernel::DelPolicy(const PolicyId& id) { return DropPolicy(id, nullptr); }

std::error_code NetlinkKernel::ReleasePolicy(const PolicySpec& spec) {
  return DropPolicy(spec.id, &spec);
}

std::error_code NetlinkKernel::DropPolicy(const PolicyId& id, const PolicySpec* spec) {
  auto it = policies_.find(id);
  if (it == policies_.end()) {
    // Not ours: still ask the kernel, so a stale policy can be removed by id.
    NlMessage msg = BuildDelPolicy(id);
    return Send(msg, KernelOp::kDelPolicy);
  }
  auto& refs = it->second;
  if (refs.size() > 1) {
    const std::size_t index = PolicyRefToDrop(refs, spec);
    if (auto next = PolicyAfterDrop(refs, index)) {
      NlMessage msg = BuildAddPolicy(*next, true);
      if (auto ec = Send(msg, KernelOp::kUpdatePolicy)) return ec;
    }
    refs.erase(refs.begin() + static_cast<std::ptrdiff_t>(index));
    return {};
  }
  NlMessage msg = BuildDelPolicy(id);
  if (auto ec = Send(msg, KernelOp::kDelPolicy)) return ec;
  policies_.erase(it);
  return {};
}

std::error_code SetSocketBypass(int fd, int family) {
  const int level = family == AF_INET6 ? IPPROTO_IPV6 : IPPROTO_IP;
  const int option = family == AF_INET6 ? IPV6_XFRM_POLICY : IP_XFRM_POLICY;
  for (const PolicyDir dir : {PolicyDir::kIn, PolicyDir::kOut}) {
    const xfrm_userpolicy_info policy = BuildBypassPolicy(dir, family);
    if (setsockopt(fd, level, option, &policy, sizeof(policy)) < 0) {
      return KernelError(errno, KernelOp::kSocketPolicy);
    }
  }
  return {};
}

std::error_code EnableUdpEncap(int fd) {
  const int type = UDP_ENCAP_ESPINUDP;
  if (setsockopt(fd, IPPROTO_UDP, UDP_ENCAP, &type, sizeof(type)) < 0) {
    return KernelError(errno, KernelOp::kSocketPolicy);
  }
  return {};
}

std::expected<XfrmEventListener, std::error_code> XfrmEventListener::Open() {
  const std::uint32_t groups = (1u << (XFRMNLGRP_ACQUIRE - 1)) | (1u << (XFRMNLGRP_EXPIRE - 1)) |
                               (1u << (XFRMNLGRP_MAPPING - 1));
  auto socket = NetlinkSocket::Open(NETLINK_XFRM, groups, KernelOp::kListen);
  if (!socket) return std::unexpected(socket.error());
  return XfrmEventListener(std::move(*socket));
}

std::expected<std::vector<KernelEvent>, std::error_code> XfrmEventListener::ReadEvents() {
  std::vector<KernelEvent> events;
  for (;;) {
    const auto datagram = socket_.Receive();
    if (!datagram) {
      if (datagram.error() == std::errc::resource_unavailable_try_again) return events;
      if (datagram.error() == std::errc::no_buffer_space) {
        lost_ = true;
        continue;
      }
      return std::unexpected(datagram.error());
    }
    for (auto& event : ParseXfrmEvents(*datagram)) events.push_back(std::move(event));
  }
}

std::vector<KernelEvent> ParseXfrmEvents(ByteView datagram) {
  std::vector<KernelEvent> events;
  std::size_t offset = 0;
  while (datagram.size() - offset >= sizeof(nlmsghdr)) {
    nlmsghdr header;
    std::memcpy(&header, datagram.data() + offset, sizeof(header));
    if (header.nlmsg_len < sizeof(nlmsghdr) || header.nlmsg_len > datagram.size() - offset) break;
    if (auto event = ParseXfrmEvent(datagram.subspan(offset, header.nlmsg_len))) {
      events.push_back(std::move(*event));
    }
    offset += MNL_ALIGN(header.nlmsg_len);
    if (offset > datagram.size()) break;
  }
  return events;
}

}  // namespace minivpn::xfrm
