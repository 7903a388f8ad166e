// NetlinkKernel: KernelIpsec over NETLINK_XFRM with libmnl, programming what charon 5.9.8
// programs (kernel-reference.md). Messages come from netlink_messages.h; this class adds the
// sending, charon's policy reference counting and a test hook that fails the Nth request.
//
// Also here: per-socket bypass policies and UDP encapsulation for the IKE sockets, and the
// listener for the xfrm multicast groups (EXPIRE, ACQUIRE, MAPPING).
#pragma once

#include <cstdint>
#include <expected>
#include <map>
#include <memory>
#include <system_error>
#include <utility>
#include <vector>

#include "xfrm/kernel_ipsec.h"
#include "xfrm/netlink_socket.h"

namespace minivpn::xfrm {

class NetlinkKernel final : public KernelIpsec {
 public:
  // Opens a NETLINK_XFRM request socket (needs CAP_NET_ADMIN for the requests).
  static std::expected<std::unique_ptr<NetlinkKernel>, std::error_code> Open();

  std::expected<std::uint32_t, std::error_code> AllocSpi(const IpAddress& src, const IpAddress& dst,
                                                         std::uint32_t reqid,
                                                         SpiRange range) override;
  // UPDSA for inbound (the larval SA from AllocSpi), NEWSA for outbound. The netlink buffer
  // holding the keys is wiped right after sending.
  std::error_code AddSa(const SaSpec& spec) override;
  std::error_code DelSa(const SaId& id) override;
  std::expected<SaCounters, std::error_code> QuerySa(const SaId& id) override;
  // charon's update_sa: GETSA (the SA with its keys, replay state and counters), DELSA, NEWSA at
  // the new addresses (BuildMovedSa). If the NEWSA fails, the SA is created again as it was.
  // The messages holding keys are wiped.
  std::error_code UpdateSa(const SaId& id, const SaMove& to) override;
  // First reference: NEWPOLICY. Further references: UPDPOLICY to the newest spec. DelPolicy
  // drops the newest reference (ReleasePolicy the one holding that spec); when the newest goes,
  // the previous spec is re-installed (UPDPOLICY) if it differs, so an AddPolicy + DelPolicy
  // pair leaves the kernel as it was.
  std::error_code AddPolicy(const PolicySpec& spec) override;
  std::error_code UpdatePolicy(const PolicySpec& spec) override;
  std::error_code DelPolicy(const PolicyId& id) override;
  std::error_code ReleasePolicy(const PolicySpec& spec) override;
  std::error_code ReplacePolicy(const PolicySpec& old_spec, const PolicySpec& spec) override;
  std::expected<std::optional<std::chrono::seconds>, std::error_code> QueryPolicyIdle(
      const PolicyId& id) override;

  std::size_t PolicyRefCount(const PolicyId& id) const;

  // Test hook (fault injection in the lab): the n-th netlink request from now (1 = the next)
  // fails with `errc` without being sent; n = 0 disarms.
  void FailNth(std::size_t n, std::errc errc);
  std::size_t request_count() const { return requests_; }

 private:
  explicit NetlinkKernel(NetlinkSocket socket) : socket_(std::move(socket)) {}
  std::error_code Send(NlMessage& msg, KernelOp op, const NetlinkSocket::ReplyFn& on_reply = {});
  std::error_code DropPolicy(const PolicyId& id, const PolicySpec* spec);

  NetlinkSocket socket_;
  std::map<PolicyId, std::vector<PolicySpec>> policies_;  // one entry per reference
  std::size_t requests_ = 0;
  std::size_t fail_at_ = 0;
  std::errc fail_errc_ = std::errc::io_error;
};

// Per-socket bypass policies (IN and OUT ALLOW, priority 0) so IKE traffic on `fd` never hits
// the 0/0 policies; `family` is the socket's AF_INET or AF_INET6 (IP_XFRM_POLICY or
// IPV6_XFRM_POLICY), as charon does for its IKE sockets.
std::error_code SetSocketBypass(int fd, int family);
// UDP_ENCAP_ESPINUDP on the port-4500 IKE socket (RFC 3948): the kernel decapsulates ESP.
std::error_code EnableUdpEncap(int fd);

// Joins the XFRMNLGRP_EXPIRE, _ACQUIRE and _MAPPING groups. fd() goes into the daemon's event
// loop; when readable, ReadEvents() drains it without blocking.
class XfrmEventListener {
 public:
  static std::expected<XfrmEventListener, std::error_code> Open();
  int fd() const { return socket_.fd(); }
  // All events pending now (empty if none). An overflow of the socket (ENOBUFS: events were
  // lost) does not end the read: the events queued after it are returned too, and TakeLost()
  // tells.
  std::expected<std::vector<KernelEvent>, std::error_code> ReadEvents();
  // True once after reads that met an overflow: some ACQUIRE, EXPIRE or MAPPING never came.
  bool TakeLost() { return std::exchange(lost_, false); }

 private:
  explicit XfrmEventListener(NetlinkSocket socket) : socket_(std::move(socket)) {}
  NetlinkSocket socket_;
  bool lost_ = false;
};

// Splits one received datagram into messages and parses each with ParseXfrmEvent.
std::vector<KernelEvent> ParseXfrmEvents(ByteView datagram);

}  // namespace minivpn::xfrm
