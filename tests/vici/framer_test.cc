// Stream reassembly (vici/framer.cc): packets fed octet by octet, several in one chunk, split
// at every point; the length limit checked before anything is buffered; the end of a stream.
#include "vici/framer.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <iterator>
#include <string>
#include <vector>

#include "tests/vici/vici_test_util.h"

namespace minivpn::vici {
namespace {

using testing::Cat;
using testing::ExpectError;
using testing::Octets;

// What swanctl --list-sas sends and gets: register, request, two events, the response,
// unregister, each framed.
std::vector<Packet> Session() {
  return {
      Packet::EventRegister("list-sa"),
      Packet::CmdRequest("list-sas", Message().Add("noblock", "yes")),
      Packet::Event("list-sa", Message().AddSection("a", Section().Add("state", "CONNECTING"))),
      Packet::Event("list-sa", Message().AddSection("b", Section().AddList("vips", {"x"}))),
      Packet::CmdResponse({}),
      Packet::EventUnregister("list-sa"),
  };
}

Octets Framed(const std::vector<Packet>& packets) {
  Octets stream;
  for (const Packet& p : packets) {
    auto frame = EncodeFrame(p);
    EXPECT_TRUE(frame.has_value());
    stream.insert(stream.end(), frame->begin(), frame->end());
  }
  return stream;
}

std::vector<Packet> DecodeAll(const std::vector<Octets>& raw) {
  std::vector<Packet> out;
  for (const Octets& r : raw) {
    auto p = DecodePacket(r);
    EXPECT_TRUE(p.has_value()) << Describe(p.error());
    if (p) out.push_back(*p);
  }
  return out;
}

TEST(ViciFramer, OctetByOctet) {
  const std::vector<Packet> session = Session();
  const Octets stream = Framed(session);
  // Where each packet's last octet is.
  std::vector<std::size_t> ends;
  std::size_t at = 0;
  for (const Packet& p : session) ends.push_back(at += EncodeFrame(p)->size());

  Framer framer;
  std::vector<Octets> got;
  for (std::size_t i = 0; i < stream.size(); ++i) {
    auto taken = framer.Feed(std::span(stream).subspan(i, 1));
    ASSERT_TRUE(taken.has_value()) << Describe(taken.error());
    EXPECT_EQ(*taken, 1u);
    EXPECT_EQ(framer.stream_offset(), i + 1);
    const bool last_octet = std::find(ends.begin(), ends.end(), i + 1) != ends.end();
    EXPECT_EQ(framer.has_packet(), last_octet) << "after octet " << i;
    if (auto p = framer.Take()) got.push_back(std::move(*p));
    EXPECT_FALSE(framer.has_packet());
  }
  EXPECT_EQ(DecodeAll(got), session);
  EXPECT_EQ(framer.buffered(), 0u);
  EXPECT_TRUE(framer.Finish().has_value());
}

TEST(ViciFramer, SeveralPacketsInOneChunk) {
  const std::vector<Packet> session = Session();
  const Octets stream = Framed(session);
  Framer framer;
  // Feed takes only up to the end of the first packet...
  std::span<const std::uint8_t> data(stream);
  auto taken = framer.Feed(data);
  ASSERT_TRUE(taken.has_value());
  EXPECT_EQ(*taken, EncodeFrame(session[0])->size());
  // ...and nothing more while that packet waits.
  EXPECT_EQ(*framer.Feed(data.subspan(*taken)), 0u);
  EXPECT_EQ(DecodePacket(*framer.Take()), session[0]);
  // The rest in one go.
  auto rest = framer.FeedAll(data.subspan(*taken));
  ASSERT_TRUE(rest.has_value());
  EXPECT_EQ(DecodeAll(*rest), std::vector<Packet>(session.begin() + 1, session.end()));
  EXPECT_EQ(framer.stream_offset(), stream.size());
}

TEST(ViciFramer, FeedAllHandsOverAWaitingPacketFirst) {
  const Octets stream = Framed(Session());
  Framer framer;
  const std::size_t first = *framer.Feed(stream);
  ASSERT_TRUE(framer.has_packet());
  auto all = framer.FeedAll(std::span(stream).subspan(first));
  ASSERT_TRUE(all.has_value());
  EXPECT_EQ(DecodeAll(*all), Session());
}

TEST(ViciFramer, SplitAtEveryPoint) {
  const std::vector<Packet> session = Session();
  const Octets stream = Framed(session);
  for (std::size_t cut = 0; cut <= stream.size(); ++cut) {
    SCOPED_TRACE(cut);
    Framer framer;
    auto a = framer.FeedAll(std::span(stream).first(cut));
    auto b = framer.FeedAll(std::span(stream).subspan(cut));
    ASSERT_TRUE(a.has_value() && b.has_value());
    a->insert(a->end(), b->begin(), b->end());
    EXPECT_EQ(DecodeAll(*a), session);
  }
}

TEST(ViciFramer, OversizeLengthIsAnErrorBeforeAnyBuffering) {
  // 512 KiB + 1 announced: refused when the prefix's 4th octet arrives.
  const Octets prefix = {0x00, 0x08, 0x00, 0x01};
  Framer framer;
  EXPECT_EQ(*framer.Feed(std::span(prefix).first(3)), 3u);
  auto r = framer.Feed(std::span(prefix).subspan(3));
  ExpectError(r, ErrorCode::kTooLarge, 0);
  EXPECT_EQ(Describe(r.error()),
            "too large at offset 0: packet length 524289 larger than 524288 octets");
  EXPECT_TRUE(framer.failed());
  EXPECT_EQ(framer.buffered(), 4u);  // the prefix; no room was made for the packet
  // The stream is dead: every later call says so.
  ExpectError(framer.Feed(Octets{1, 2, 3}), ErrorCode::kTooLarge, 0);
  ExpectError(framer.FeedAll(Octets{1}), ErrorCode::kTooLarge, 0);
  ExpectError(framer.Finish(), ErrorCode::kTooLarge, 0);
  EXPECT_FALSE(framer.Take().has_value());

  // 0xffffffff: the same, and at the offset of that prefix in the stream.
  Framer second;
  const Octets stream = Cat({*EncodeFrame(Packet::EventConfirm()), {0xff, 0xff, 0xff, 0xff}});
  auto all = second.FeedAll(stream);
  ExpectError(all, ErrorCode::kTooLarge, 5);
}

TEST(ViciFramer, LengthUpToTheMaximum) {
  Framer framer;
  const Octets prefix = {0x00, 0x08, 0x00, 0x00};  // exactly 512 KiB
  EXPECT_EQ(*framer.Feed(prefix), 4u);
  const Octets data(kMaxPacketSize, 1);
  EXPECT_EQ(*framer.Feed(data), kMaxPacketSize);
  EXPECT_EQ(framer.buffered(), kLengthPrefixSize + kMaxPacketSize);  // the bound
  auto packet = framer.Take();
  ASSERT_TRUE(packet.has_value());
  EXPECT_EQ(packet->size(), kMaxPacketSize);
  EXPECT_EQ(framer.buffered(), 0u);
}

TEST(ViciFramer, ConfiguredMaximum) {
  Framer framer(16);
  auto ok = framer.FeedAll(Cat({{0, 0, 0, 16}, Octets(16, 5)}));
  ASSERT_TRUE(ok.has_value());
  EXPECT_EQ(ok->size(), 1u);
  auto r = framer.Feed(Octets{0, 0, 0, 17});
  ExpectError(r, ErrorCode::kTooLarge, 20);
  EXPECT_EQ(r.error().detail, "packet length 17 larger than 16 octets");
}

TEST(ViciFramer, MemoryFollowsWhatArrivesNotWhatIsAnnounced) {
  Framer framer;
  EXPECT_EQ(*framer.Feed(Octets{0x00, 0x08, 0x00, 0x00}), 4u);
  EXPECT_EQ(*framer.Feed(Octets(100, 0)), 100u);
  EXPECT_EQ(framer.buffered(), 104u);
  EXPECT_FALSE(framer.has_packet());
}

TEST(ViciFramer, EmptyPacket) {
  // A length of 0 is a packet of no octets (DecodePacket then says it has no type).
  Framer framer;
  auto all = framer.FeedAll(Octets{0, 0, 0, 0, 0, 0, 0, 1, 5});
  ASSERT_TRUE(all.has_value());
  ASSERT_EQ(all->size(), 2u);
  EXPECT_TRUE((*all)[0].empty());
  ExpectError(DecodePacket((*all)[0]), ErrorCode::kTruncated, 0);
  EXPECT_EQ(DecodePacket((*all)[1]), Packet::EventConfirm());
}

TEST(ViciFramer, EndOfStream) {
  const Octets stream = Framed(Session());
  std::vector<std::size_t> starts = {0};  // of each packet's prefix, and the end
  for (const Packet& p : Session()) starts.push_back(starts.back() + EncodeFrame(p)->size());
  for (std::size_t cut = 0; cut <= stream.size(); ++cut) {
    SCOPED_TRACE(cut);
    Framer framer;
    ASSERT_TRUE(framer.FeedAll(std::span(stream).first(cut)).has_value());
    auto end = framer.Finish();
    if (std::find(starts.begin(), starts.end(), cut) != starts.end()) {
      EXPECT_TRUE(end.has_value());  // on a packet boundary
    } else {
      // Truncated at the start of the packet that was cut.
      const std::size_t start = *std::prev(std::lower_bound(starts.begin(), starts.end(), cut));
      ExpectError(end, ErrorCode::kTruncated, start);
    }
  }
  Framer framer;
  ASSERT_TRUE(framer.Feed(Octets{0, 0}).has_value());
  EXPECT_EQ(framer.Finish().error().detail,
            "the stream ended in a length prefix (2 of 4 octets)");
  ASSERT_TRUE(framer.Feed(Octets{0, 9, 1, 2, 3}).has_value());
  EXPECT_EQ(framer.Finish().error().detail, "the stream ended 3 octets into a packet of 9");
  // A complete packet not taken yet is no truncation.
  ASSERT_TRUE(framer.Feed(Octets{4, 5, 6, 7, 8, 9}).has_value());
  EXPECT_TRUE(framer.has_packet());
  EXPECT_TRUE(framer.Finish().has_value());
}

TEST(ViciFramer, EmptyFeedTakesNothing) {
  Framer framer;
  EXPECT_EQ(*framer.Feed({}), 0u);
  EXPECT_TRUE(framer.FeedAll({})->empty());
  EXPECT_EQ(framer.stream_offset(), 0u);
}

}  // namespace
}  // namespace minivpn::vici
