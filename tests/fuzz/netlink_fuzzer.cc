// libFuzzer target for the netlink reply and event parsers: xfrm::ReadReplies (how every
// request's answer is walked, NETLINK_XFRM and NETLINK_ROUTE), the NETLINK_XFRM parsers
// (xfrm/netlink_messages.h, xfrm/netlink_kernel.h): ParseAllocSpiReply, ParseSaCounters (the
// NEWSA answers to ALLOCSPI and GETSA), ParseXfrmEvent (EXPIRE, ACQUIRE, MAPPING) and
// ParseXfrmEvents (a multicast datagram of several messages), and the rtnetlink one,
// vti::LinkIndexOf (the RTM_NEWLINK answer to RTM_GETLINK).
//
// The first input octet picks how the rest is used:
//   even: as received, nlmsg_len fields as they are (ParseXfrmEvent/ParseXfrmEvents promise to
//         stay inside the datagram and nlmsg_len whatever these say);
//   odd:  with every nlmsg_len repaired to lie inside the datagram, so that the fuzzer spends its
//         time on the payloads and attributes rather than on the framing.
// Each message the way NetlinkSocket::Request walks a reply (mnl_nlmsg_ok / mnl_nlmsg_next) is
// copied into a buffer of exactly nlmsg_len octets, so reading past the message is an ASan
// error, and given to the reply parsers. Checked: no crash or sanitizer finding; the reply
// parsers succeed exactly for a NEWSA with a whole xfrm_usersa_info and return its SPI and
// counters; ParseXfrmEvents returns what ParseXfrmEvent returns for each message; events only
// come from EXPIRE, ACQUIRE and MAPPING messages long enough for their struct; every parsed
// address and selector formats (what the engine and the logs do with them).
//
// MINIVPN_FUZZ_IGNORE=netlink-tail (fuzz_util.h) pads the buffers to a multiple of 4 octets:
// the event parser reads attributes up to 3 octets past an unaligned nlmsg_len (reported, see
// xfrm/netlink_messages.cc FindAttr); with it a local run can look for other bugs.
#include <libmnl/libmnl.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/xfrm.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <variant>
#include <vector>

#include "tests/fuzz/fuzz_util.h"
#include "vti/vti.h"
#include "xfrm/netlink_kernel.h"
#include "xfrm/netlink_messages.h"
#include "xfrm/netlink_socket.h"

namespace {

using namespace minivpn;  // NOLINT

[[noreturn]] void Fail(const std::string& what) {
  std::fprintf(stderr, "netlink_fuzzer: %s\n", what.c_str());
  std::abort();
}

void Touch(const xfrm::IpAddress& a) {
  if (a.ToString().empty()) Fail("an address formats to nothing");
}

void Touch(const xfrm::Subnet& s) {
  if (s.ToString().empty() || s.Network().ToString().empty()) Fail("a subnet formats to nothing");
}

void CheckEvent(const xfrm::KernelEvent& event, std::uint16_t type, std::size_t payload) {
  if (const auto* e = std::get_if<xfrm::ExpireEvent>(&event)) {
    if (type != XFRM_MSG_EXPIRE || payload < sizeof(xfrm_user_expire)) Fail("unexpected expire");
    Touch(e->sa.src);
    Touch(e->sa.dst);
  } else if (const auto* a = std::get_if<xfrm::AcquireEvent>(&event)) {
    if (type != XFRM_MSG_ACQUIRE || payload < sizeof(xfrm_user_acquire)) {
      Fail("unexpected acquire");
    }
    Touch(a->src);
    Touch(a->dst);
  } else if (const auto* m = std::get_if<xfrm::MappingEvent>(&event)) {
    if (type != XFRM_MSG_MAPPING || payload < sizeof(xfrm_user_mapping)) {
      Fail("unexpected mapping");
    }
    Touch(m->sa.src);
    Touch(m->sa.dst);
    Touch(m->new_src);
  }
}

// One message in a buffer of exactly its nlmsg_len octets.
void CheckMessage(const nlmsghdr* in_place) {
  const std::size_t len = in_place->nlmsg_len;
  const std::size_t room = minivpn::fuzz::Ignored("netlink-tail") ? MNL_ALIGN(len) : len;
  std::unique_ptr<std::uint8_t[]> copy(new std::uint8_t[room]());
  std::memcpy(copy.get(), in_place, len);
  const auto* nlh = reinterpret_cast<const nlmsghdr*>(copy.get());
  const std::size_t payload = len - NLMSG_HDRLEN;  // mnl_nlmsg_ok: len >= the header
  const bool newsa = nlh->nlmsg_type == XFRM_MSG_NEWSA && payload >= sizeof(xfrm_usersa_info);

  const auto spi = xfrm::ParseAllocSpiReply(nlh);
  const auto counters = xfrm::ParseSaCounters(nlh);
  if (spi.has_value() != newsa || counters.has_value() != newsa) {
    Fail("a reply parser accepted a message that is not a whole NEWSA, or refused one");
  }
  if (newsa) {
    xfrm_usersa_info info;
    std::memcpy(&info, copy.get() + NLMSG_HDRLEN, sizeof(info));
    if (*spi != __builtin_bswap32(info.id.spi)) Fail("ParseAllocSpiReply: wrong SPI");
    if (counters->bytes != info.curlft.bytes || counters->packets != info.curlft.packets) {
      Fail("ParseSaCounters: wrong counters");
    }
  }
  const auto event = xfrm::ParseXfrmEvent(ByteView(copy.get(), len));
  if (event) CheckEvent(*event, nlh->nlmsg_type, payload);
  const bool event_type = nlh->nlmsg_type == XFRM_MSG_EXPIRE ||
                          nlh->nlmsg_type == XFRM_MSG_ACQUIRE ||
                          nlh->nlmsg_type == XFRM_MSG_MAPPING;
  if (event && !event_type) Fail("an event from another message type");
}

// Sets every nlmsg_len to a value inside the datagram (at least the header).
void RepairLengths(std::uint8_t* buf, std::size_t size) {
  std::size_t offset = 0;
  while (size - offset >= sizeof(nlmsghdr)) {
    nlmsghdr h;
    std::memcpy(&h, buf + offset, sizeof(h));
    const std::size_t room = size - offset;
    if (h.nlmsg_len < sizeof(nlmsghdr) || h.nlmsg_len > room) {
      h.nlmsg_len = static_cast<std::uint32_t>(
          h.nlmsg_len < sizeof(nlmsghdr) ? sizeof(nlmsghdr) + h.nlmsg_len % (room - 15) : room);
      if (h.nlmsg_len > room) h.nlmsg_len = static_cast<std::uint32_t>(room);
      std::memcpy(buf + offset, &h, sizeof(h));
    }
    offset += MNL_ALIGN(h.nlmsg_len);
    if (offset >= size) break;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const bool repair = (data[0] & 1) != 0;
  const std::size_t n = size - 1;
  // An aligned buffer of exactly the datagram's size (as the socket's receive buffer, aligned).
  const std::size_t room = minivpn::fuzz::Ignored("netlink-tail") ? MNL_ALIGN(n) : n;
  std::unique_ptr<std::uint8_t[]> buf(new std::uint8_t[room == 0 ? 1 : room]());
  if (n > 0) std::memcpy(buf.get(), data + 1, n);
  if (repair) RepairLengths(buf.get(), n);
  const ByteView datagram(buf.get(), n);

  // The event listener's path.
  const auto events = xfrm::ParseXfrmEvents(datagram);
  std::vector<xfrm::KernelEvent> expected;
  for (std::size_t offset = 0; n - offset >= sizeof(nlmsghdr);) {
    nlmsghdr h;
    std::memcpy(&h, buf.get() + offset, sizeof(h));
    if (h.nlmsg_len < sizeof(nlmsghdr) || h.nlmsg_len > n - offset) break;
    if (auto e = xfrm::ParseXfrmEvent(datagram.subspan(offset, h.nlmsg_len))) {
      expected.push_back(*e);
    }
    offset += MNL_ALIGN(h.nlmsg_len);
    if (offset > n) break;
  }
  if (events != expected) Fail("ParseXfrmEvents differs from ParseXfrmEvent per message");
  (void)xfrm::ParseXfrmEvent(datagram);

  // A request's answer, walked by the code NetlinkSocket::Request uses (xfrm::ReadReplies, for
  // NETLINK_XFRM and NETLINK_ROUTE alike): the request's sequence number and port id are the
  // first message's, so the walk follows the datagram (an ACK or DONE ends it; bit 1 of the first
  // octet: a request without NLM_F_ACK, which the first data message ends). Every data message
  // goes through the xfrm reply parsers and the rtnetlink one (vti's LinkIndexOf).
  xfrm::ReplyState state{.stop_after_first = (data[0] & 2) != 0};
  if (n >= sizeof(nlmsghdr)) {
    nlmsghdr first;
    std::memcpy(&first, buf.get(), sizeof(first));
    state.seq = first.nlmsg_seq;
    state.portid = first.nlmsg_pid;
  }
  std::size_t replies = 0;
  xfrm::ReadReplies(datagram, xfrm::KernelOp::kQuerySa, [&](const nlmsghdr* nlh) {
    if (nlh->nlmsg_len > n) Fail("ReadReplies passed a message longer than the datagram");
    ++replies;
    CheckMessage(nlh);
    const std::size_t payload = nlh->nlmsg_len - NLMSG_HDRLEN;
    const auto index = vti::LinkIndexOf(nlh);
    if (index.has_value() != (nlh->nlmsg_type == RTM_NEWLINK && payload >= sizeof(ifinfomsg)))
      Fail("LinkIndexOf accepted a message that is not a whole RTM_NEWLINK, or refused one");
    return std::error_code();
  }, state);
  if (state.stop_after_first && replies > 1) Fail("more than the first reply was read");
  if (state.done && state.result && state.result.category() != std::system_category() &&
      state.result.message().empty()) {
    Fail("a kernel error without a message");
  }
  return 0;
}
