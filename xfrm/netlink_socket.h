// A libmnl netlink socket that sends one request at a time and waits for its ACK or reply.
// Used for NETLINK_XFRM (xfrm/) and NETLINK_ROUTE (vti/). Received buffers are wiped after
// use: GETSA replies carry the SA's keys.
#pragma once

#include <linux/netlink.h>

#include <cstdint>
#include <expected>
#include <functional>
#include <memory>
#include <span>
#include <system_error>

#include "xfrm/errors.h"
#include "xfrm/netlink_messages.h"

struct mnl_socket;

namespace minivpn::xfrm {

// What one request has read of its answer so far; ReadReplies fills it datagram by datagram.
struct ReplyState {
  std::uint32_t seq = 0;       // of the request
  std::uint32_t portid = 0;    // of our socket
  bool stop_after_first = false;  // neither NLM_F_ACK nor NLM_F_DUMP: the first reply ends it
  bool done = false;
  std::error_code result{};     // the kernel's error (NLMSG_ERROR / NLMSG_DONE)
  std::error_code reply_error{};  // the first error on_reply reported (the answer is read on)
};

// Walks the messages of one received datagram the way the kernel frames them (libmnl's
// mnl_nlmsg_ok / mnl_nlmsg_next never step outside `datagram`): messages of other requests are
// skipped, NLMSG_ERROR / NLMSG_DONE end the answer, data messages go to on_reply. Pure: the
// fuzzers feed it arbitrary datagrams (tests/fuzz/netlink_fuzzer.cc).
void ReadReplies(std::span<const std::uint8_t> datagram, KernelOp op,
                 const std::function<std::error_code(const nlmsghdr*)>& on_reply,
                 ReplyState& state);

class NetlinkSocket {
 public:
  // bus: NETLINK_XFRM or NETLINK_ROUTE. groups: multicast bitmask to join (0 for requests).
  // A listener (groups != 0) is non-blocking.
  static std::expected<NetlinkSocket, std::error_code> Open(int bus, std::uint32_t groups,
                                                            KernelOp op);
  NetlinkSocket(NetlinkSocket&& other) noexcept;
  NetlinkSocket& operator=(NetlinkSocket&& other) noexcept;
  NetlinkSocket(const NetlinkSocket&) = delete;
  NetlinkSocket& operator=(const NetlinkSocket&) = delete;
  ~NetlinkSocket();

  // Called for each data message of the reply; an error stops the request with that error.
  using ReplyFn = std::function<std::error_code(const nlmsghdr*)>;

  // Sends `msg` with the next sequence number. With NLM_F_ACK set, reads until the kernel's
  // ACK; with NLM_F_DUMP, until NLMSG_DONE; otherwise until the first reply message. Data
  // messages go to on_reply. A kernel error comes back as KernelError(errno, op).
  std::error_code Request(NlMessage& msg, KernelOp op, const ReplyFn& on_reply = {});

  // One datagram (possibly several messages) for listeners; EAGAIN when nothing is pending.
  std::expected<std::span<const std::uint8_t>, std::error_code> Receive();

  int fd() const;

 private:
  NetlinkSocket(mnl_socket* nl, KernelOp op);

  mnl_socket* nl_ = nullptr;
  std::uint32_t portid_ = 0;
  std::uint32_t seq_ = 0;
  KernelOp op_ = KernelOp::kListen;
  std::unique_ptr<std::uint8_t[]> rx_;  // receive buffer
};

}  // namespace minivpn::xfrm
