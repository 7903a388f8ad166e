// xfrm::ReadReplies: how NetlinkSocket::Request walks the answer to a request.
#include <gtest/gtest.h>
#include <linux/netlink.h>

#include <climits>
#include <cstring>
#include <vector>

#include "xfrm/netlink_socket.h"

namespace minivpn::xfrm {
namespace {

constexpr std::uint32_t kSeq = 7, kPort = 99;

// Appends one message: header + `payload` octets (aligned to 4 like the kernel's).
void Put(std::vector<std::uint8_t>& d, std::uint16_t type, std::vector<std::uint8_t> payload,
         std::uint32_t seq = kSeq) {
  nlmsghdr h{};
  h.nlmsg_len = static_cast<std::uint32_t>(NLMSG_HDRLEN + payload.size());
  h.nlmsg_type = type;
  h.nlmsg_seq = seq;
  h.nlmsg_pid = kPort;
  const std::size_t at = d.size();
  d.resize(at + NLMSG_ALIGN(h.nlmsg_len));
  std::memcpy(d.data() + at, &h, sizeof(h));
  if (!payload.empty()) std::memcpy(d.data() + at + NLMSG_HDRLEN, payload.data(), payload.size());
}

std::vector<std::uint8_t> Error(int error) {
  std::vector<std::uint8_t> p(sizeof(nlmsgerr), 0);
  std::memcpy(p.data(), &error, sizeof(error));
  return p;
}

ReplyState Walk(const std::vector<std::uint8_t>& d, int* replies) {
  ReplyState state{.seq = kSeq, .portid = kPort};
  ReadReplies(d, KernelOp::kQuerySa, [&](const nlmsghdr*) {
    ++*replies;
    return std::error_code();
  }, state);
  return state;
}

TEST(ReadReplies, DataThenAckOtherRequestsSkipped) {
  std::vector<std::uint8_t> d;
  Put(d, 0x20, {1, 2, 3, 4}, kSeq - 1);  // an answer to an earlier request
  Put(d, 0x20, {1, 2, 3, 4});
  Put(d, NLMSG_ERROR, Error(0));
  int replies = 0;
  auto state = Walk(d, &replies);
  EXPECT_EQ(replies, 1);
  EXPECT_TRUE(state.done);
  EXPECT_FALSE(state.result);
}

TEST(ReadReplies, KernelErrorIsTheErrno) {
  std::vector<std::uint8_t> d;
  Put(d, NLMSG_ERROR, Error(-EEXIST));
  int replies = 0;
  auto state = Walk(d, &replies);
  EXPECT_TRUE(state.done);
  EXPECT_EQ(state.result.value(), EEXIST);
}

// Found by the netlink fuzzer: -INT_MIN overflowed (UBSan). An error outside the errno range
// is a malformed answer: EPROTO.
TEST(ReadReplies, ErrorsOutsideTheErrnoRangeAreProtocolErrors) {
  for (int bad : {INT_MIN, -5000}) {
    std::vector<std::uint8_t> d;
    Put(d, NLMSG_ERROR, Error(bad));
    int replies = 0;
    auto state = Walk(d, &replies);
    EXPECT_TRUE(state.done);
    EXPECT_EQ(state.result.value(), EPROTO) << bad;
  }
}

// mnl_nlmsg_ok compares nlmsg_len as an int: a length of 2 GiB or more must still stop the walk.
TEST(ReadReplies, HugeLengthsStopTheWalk) {
  std::vector<std::uint8_t> d;
  Put(d, 0x20, {1, 2, 3, 4});
  std::uint32_t huge = 0x80000010u;
  std::memcpy(d.data(), &huge, sizeof(huge));
  int replies = 0;
  auto state = Walk(d, &replies);
  EXPECT_EQ(replies, 0);
  EXPECT_FALSE(state.done);
}

}  // namespace
}  // namespace minivpn::xfrm
