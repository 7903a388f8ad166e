#include "xfrm/netlink_socket.h"

#include <libmnl/libmnl.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <ctime>

#include "crypto/secret.h"

namespace minivpn::xfrm {
namespace {

// MNL_SOCKET_BUFFER_SIZE is 8 KiB at most; dumps of one SA are far smaller.
constexpr std::size_t kRxSize = 32768;

// Reads the 32-bit error at the start of an NLMSG_ERROR or NLMSG_DONE payload (0 if short).
int PayloadError(const nlmsghdr* nlh) {
  if (mnl_nlmsg_get_payload_len(nlh) < sizeof(int)) return 0;
  int error = 0;
  std::memcpy(&error, mnl_nlmsg_get_payload(nlh), sizeof(error));
  return error;
}

}  // namespace

NetlinkSocket::NetlinkSocket(mnl_socket* nl, KernelOp op)
    : nl_(nl), portid_(mnl_socket_get_portid(nl)), op_(op), rx_(new std::uint8_t[kRxSize]()) {
  // Sequence numbers start from the clock as in iproute2, so replies to an earlier socket
  // with the same port id cannot match.
  seq_ = static_cast<std::uint32_t>(std::time(nullptr));
}

NetlinkSocket::NetlinkSocket(NetlinkSocket&& other) noexcept
    : nl_(other.nl_),
      portid_(other.portid_),
      seq_(other.seq_),
      op_(other.op_),
      rx_(std::move(other.rx_)) {
  other.nl_ = nullptr;
}

NetlinkSocket& NetlinkSocket::operator=(NetlinkSocket&& other) noexcept {
  if (this != &other) {
    if (nl_ != nullptr) mnl_socket_close(nl_);
    nl_ = other.nl_;
    portid_ = other.portid_;
    seq_ = other.seq_;
    op_ = other.op_;
    rx_ = std::move(other.rx_);
    other.nl_ = nullptr;
  }
  return *this;
}

NetlinkSocket::~NetlinkSocket() {
  if (nl_ != nullptr) mnl_socket_close(nl_);
  if (rx_) SecureWipe(rx_.get(), kRxSize);
}

std::expected<NetlinkSocket, std::error_code> NetlinkSocket::Open(int bus, std::uint32_t groups,
                                                                  KernelOp op) {
  const int flags = SOCK_CLOEXEC | (groups != 0 ? SOCK_NONBLOCK : 0);
  mnl_socket* nl = mnl_socket_open2(bus, flags);
  if (nl == nullptr) return std::unexpected(KernelError(errno, op));
  if (mnl_socket_bind(nl, groups, MNL_SOCKET_AUTOPID) < 0) {
    const int err = errno;
    mnl_socket_close(nl);
    return std::unexpected(KernelError(err, op));
  }
  if (groups != 0) {
    // Event bursts (thousands of SAs reaching their soft lifetime together) must not overflow
    // the socket: 8 MiB, past net.core.rmem_max with CAP_NET_ADMIN (as charon's
    // force_receive_buffer_size), else what rmem_max allows.
    const int size = 8 << 20;
    const int fd = mnl_socket_get_fd(nl);
    if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size)) < 0)
      setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
  }
  return NetlinkSocket(nl, op);
}

int NetlinkSocket::fd() const { return nl_ == nullptr ? -1 : mnl_socket_get_fd(nl_); }

std::error_code NetlinkSocket::Request(NlMessage& msg, KernelOp op, const ReplyFn& on_reply) {
  nlmsghdr* nlh = msg.header();
  nlh->nlmsg_seq = ++seq_;
  const std::uint32_t seq = nlh->nlmsg_seq;
  if (mnl_socket_sendto(nl_, nlh, nlh->nlmsg_len) < 0) return KernelError(errno, op);

  // A dump ends with NLMSG_DONE, an acked request with the ACK; anything else with its reply.
  ReplyState state{.seq = seq,
                   .portid = portid_,
                   .stop_after_first = (nlh->nlmsg_flags & (NLM_F_ACK | NLM_F_DUMP)) == 0};
  while (!state.done) {
    const ssize_t n = mnl_socket_recvfrom(nl_, rx_.get(), kRxSize);
    if (n < 0) {
      if (errno == EINTR) continue;
      state.result = KernelError(errno, op);
      break;
    }
    ReadReplies({rx_.get(), static_cast<std::size_t>(n)}, op, on_reply, state);
    SecureWipe(rx_.get(), static_cast<std::size_t>(n));
  }
  return state.result ? state.result : state.reply_error;
}

void ReadReplies(std::span<const std::uint8_t> datagram, KernelOp op,
                 const std::function<std::error_code(const nlmsghdr*)>& on_reply,
                 ReplyState& state) {
  int len = static_cast<int>(std::min<std::size_t>(datagram.size(), kRxSize));
  // mnl_nlmsg_ok compares (int)nlmsg_len with len: a length of 2 GiB or more would pass it.
  for (auto* reply = reinterpret_cast<const nlmsghdr*>(datagram.data());
       !state.done && mnl_nlmsg_ok(reply, len) && reply->nlmsg_len <= static_cast<unsigned>(len);
       reply = mnl_nlmsg_next(reply, &len)) {
    // Messages of an earlier request (e.g. one that failed mid-way) are skipped.
    if (reply->nlmsg_seq != state.seq || reply->nlmsg_pid != state.portid) continue;
    if (reply->nlmsg_type == NLMSG_ERROR || reply->nlmsg_type == NLMSG_DONE) {
      const int error = PayloadError(reply);  // NLMSG_ERROR: 0 = ACK; DONE: 0 or -errno
      // The kernel's errnos are 1..4095 (MAX_ERRNO); anything beyond is a malformed answer.
      if (error < 0) state.result = KernelError(error >= -4095 ? -error : EPROTO, op);
      state.done = true;
    } else if (reply->nlmsg_type >= NLMSG_MIN_TYPE) {
      if (on_reply) {
        const std::error_code ec = on_reply(reply);
        if (ec && !state.reply_error) state.reply_error = ec;
      }
      state.done = state.stop_after_first;
    }
  }
}

std::expected<std::span<const std::uint8_t>, std::error_code> NetlinkSocket::Receive() {
  for (;;) {
    const ssize_t n = mnl_socket_recvfrom(nl_, rx_.get(), kRxSize);
    if (n >= 0) return std::span<const std::uint8_t>(rx_.get(), static_cast<std::size_t>(n));
    if (errno != EINTR) return std::unexpected(KernelError(errno, op_));
  }
}

}  // namespace minivpn::xfrm
