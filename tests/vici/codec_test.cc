// The vici codec (vici/codec.cc): the README's example octet for octet, round trips of every
// element and packet type, every truncated prefix with its error, each structural violation,
// names, depth and size limits, and the encoder's refusals.
#include "vici/codec.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "tests/vici/vici_test_util.h"

namespace minivpn::vici {
namespace {

using testing::Cat;
using testing::ExpectError;
using testing::Octets;
using testing::Prefix;
using testing::Text;
using E = ErrorCode;

Message RoundTrip(const Message& m) {
  auto wire = Encode(m);
  EXPECT_TRUE(wire.has_value()) << Describe(wire.error());
  if (!wire) return {};
  auto back = DecodeMessage(*wire);
  EXPECT_TRUE(back.has_value()) << Describe(back.error());
  if (!back) return {};
  auto again = Encode(*back);
  EXPECT_TRUE(again.has_value());
  if (again) {
    EXPECT_EQ(*again, *wire);
  }
  return *back;
}

// ---------------------------------------------------------------- the README's example

TEST(ViciCodec, ReadmeExampleEncodesToItsOctets) {
  auto wire = Encode(testing::ReadmeMessage());
  ASSERT_TRUE(wire.has_value()) << Describe(wire.error());
  EXPECT_EQ(*wire, testing::ReadmeOctets());
  EXPECT_EQ(wire->size(), 77u);
}

TEST(ViciCodec, ReadmeExampleDecodesToItsTree) {
  auto m = DecodeMessage(testing::ReadmeOctets());
  ASSERT_TRUE(m.has_value()) << Describe(m.error());
  EXPECT_EQ(*m, testing::ReadmeMessage());
  ASSERT_EQ(m->elements.size(), 2u);
  EXPECT_EQ(m->elements[0].name, "key1");
  EXPECT_EQ(m->elements[1].kind(), ElementKind::kSection);
  EXPECT_EQ(m->ValueOr("section1.sub-section.key2", ""), "value2");
  ASSERT_NE(m->FindList("section1.list1"), nullptr);
  EXPECT_EQ(*m->FindList("section1.list1"), (List{"item1", "item2"}));
}

// Every prefix of the README's octets, with the outcome written out by hand from the layout in
// vici_test_util.h: a cut inside an element is kTruncated at the length field whose data is
// cut; a cut between elements leaves a list or section open (or is a shorter valid message).
TEST(ViciCodec, EveryPrefixOfTheReadmeExampleHasItsError) {
  const Octets wire = testing::ReadmeOctets();
  struct Cut {
    std::size_t from, to;  // prefix lengths [from, to)
    std::size_t offset;    // of the length field
  };
  const Cut truncated[] = {
      {1, 6, 1},   {6, 14, 6},               // key1: name length, value length
      {15, 24, 15},                          // section1
      {25, 37, 25},                          // sub-section
      {38, 43, 38}, {43, 51, 43},            // key2
      {53, 59, 53},                          // list1
      {60, 67, 60}, {68, 75, 68},            // item1, item2
  };
  struct Boundary {
    std::size_t length;
    bool ok;
    ErrorCode code;
    std::string detail;
  };
  const Boundary boundaries[] = {
      {0, true, {}, ""},
      {14, true, {}, ""},
      {24, false, E::kSectionNotClosed, "section 'section1' opened at offset 14 not closed"},
      {37, false, E::kSectionNotClosed, "section 'sub-section' opened at offset 24 not closed"},
      {51, false, E::kSectionNotClosed, "section 'sub-section' opened at offset 24 not closed"},
      {52, false, E::kSectionNotClosed, "section 'section1' opened at offset 14 not closed"},
      {59, false, E::kListNotClosed, "list 'list1' opened at offset 52 not closed"},
      {67, false, E::kListNotClosed, "list 'list1' opened at offset 52 not closed"},
      {75, false, E::kListNotClosed, "list 'list1' opened at offset 52 not closed"},
      {76, false, E::kSectionNotClosed, "section 'section1' opened at offset 14 not closed"},
      {77, true, {}, ""},
  };
  std::size_t checked = 0;
  for (const Cut& cut : truncated) {
    for (std::size_t n = cut.from; n < cut.to; ++n, ++checked) {
      SCOPED_TRACE(n);
      ExpectError(DecodeMessage(Prefix(wire, n)), E::kTruncated, cut.offset);
    }
  }
  for (const Boundary& b : boundaries) {
    SCOPED_TRACE(b.length);
    ++checked;
    auto m = DecodeMessage(Prefix(wire, b.length));
    if (b.ok) {
      ASSERT_TRUE(m.has_value()) << Describe(m.error());
      EXPECT_EQ(*Encode(*m), Octets(wire.begin(), wire.begin() + b.length));
    } else {
      ExpectError(m, b.code, b.length);
      EXPECT_EQ(m.error().detail, b.detail);
    }
  }
  EXPECT_EQ(checked, wire.size() + 1);  // the tables cover every prefix, the whole included
}

TEST(ViciCodec, TruncationDetailsNameTheFieldAndWhatIsLeft) {
  // A key whose value length says 300 with 12 octets behind it.
  const Octets wire = Cat({{3, 1, 'k', 0x01, 0x2c}, Octets(12, 'v')});
  auto m = DecodeMessage(wire);
  ExpectError(m, E::kTruncated, 3);
  EXPECT_EQ(Describe(m.error()),
            "truncated at offset 3: key value length 300 exceeds the 12 octets left");
  EXPECT_EQ(Describe(DecodeMessage(Octets{3, 9, 'k'}).error()),
            "truncated at offset 1: key name length 9 exceeds the 1 octets left");
  EXPECT_EQ(Describe(DecodeMessage(Octets{1}).error()),
            "truncated at offset 1: no length octet for the section name");
  EXPECT_EQ(Describe(DecodeMessage(Octets{4, 1, 'l', 5, 0}).error()),
            "truncated at offset 4: list item length needs 2 octets, 1 left");
  // Offsets are absolute with a base offset.
  ExpectError(DecodeMessage(Octets{3, 1, 'k', 0}, 100), E::kTruncated, 103);
}

// ---------------------------------------------------------------- round trips

TEST(ViciCodec, KeyValuesRoundTrip) {
  std::string every_octet;
  for (int i = 0; i < 256; ++i) every_octet += static_cast<char>(i);
  const Message m = Message()
                        .Add("empty", "")
                        .Add("text", "ESTABLISHED")
                        .Add("binary", every_octet)
                        .Add("longest", std::string(kMaxValueSize, 'x'))
                        .Add("", "empty name")
                        .Add(std::string(kMaxNameSize, 'n'), "longest name")
                        .Add("punct ~!@#$%^&*()_+{}|:\"<>?`-=[]\\;',./", "printable");
  EXPECT_EQ(RoundTrip(m), m);
  // The octets of one key/value: type, name length, name, 16-bit value length, value.
  EXPECT_EQ(*Encode(Message().Add("ab", std::string("\x00\xff", 2))),
            (Octets{3, 2, 'a', 'b', 0, 2, 0x00, 0xff}));
}

TEST(ViciCodec, ListsRoundTrip) {
  const Message m = Message()
                        .AddList("empty", {})
                        .AddList("one", {"a"})
                        .AddList("items", {"", std::string(1, '\0'), "x y", "last"})
                        .AddList("long", {std::string(kMaxValueSize, 'i')});
  EXPECT_EQ(RoundTrip(m), m);
  EXPECT_EQ(*Encode(Message().AddList("l", {})), (Octets{4, 1, 'l', 6}));
  EXPECT_EQ(*Encode(Message().AddList("l", {"", "ab"})),
            (Octets{4, 1, 'l', 5, 0, 0, 5, 0, 2, 'a', 'b', 6}));
}

TEST(ViciCodec, SectionsRoundTrip) {
  const Message m =
      Message()
          .AddSection("empty", Section())
          .AddSection("conn", Section()
                                  .Add("version", "2")
                                  .AddSection("local", Section().Add("auth", "psk"))
                                  .AddSection("children", Section().AddSection(
                                      "net", Section().AddList("local_ts", {"10.1.0.0/16"})))
                                  .AddList("remote_addrs", {"192.0.2.2"}))
          .AddSection("", Section().Add("k", "v"));
  EXPECT_EQ(RoundTrip(m), m);
  EXPECT_EQ(*Encode(Message().AddSection("s", Section())), (Octets{1, 1, 's', 2}));
}

TEST(ViciCodec, DuplicateNamesAreKeptInOrder) {
  // The README asks for unique keys, but nothing on the wire enforces it and charon's parser
  // accepts duplicates: they are kept as they came.
  const Octets wire = {3, 1, 'k', 0, 1, '1', 3, 1, 'k', 0, 1, '2', 1, 1, 'k', 2, 4, 1, 'k', 6};
  auto m = DecodeMessage(wire);
  ASSERT_TRUE(m.has_value()) << Describe(m.error());
  ASSERT_EQ(m->elements.size(), 4u);
  EXPECT_EQ(*m->elements[0].value(), "1");
  EXPECT_EQ(*m->elements[1].value(), "2");
  EXPECT_EQ(m->elements[2].kind(), ElementKind::kSection);
  EXPECT_EQ(m->elements[3].kind(), ElementKind::kList);
  EXPECT_EQ(*m->Find("k"), "1");
  EXPECT_EQ(*Encode(*m), wire);
}

TEST(ViciCodec, EmptyMessageIsNoOctets) {
  EXPECT_EQ(*Encode(Message()), Octets{});
  auto m = DecodeMessage({});
  ASSERT_TRUE(m.has_value());
  EXPECT_TRUE(m->empty());
}

// One sample of every packet type with its octets.
struct PacketSample {
  Packet packet;
  Octets octets;
};

std::vector<PacketSample> EveryPacketType() {
  const Octets noblock = {3, 7, 'n', 'o', 'b', 'l', 'o', 'c', 'k', 0, 3, 'y', 'e', 's'};
  const Octets success = {3, 7, 's', 'u', 'c', 'c', 'e', 's', 's', 0, 3, 'y', 'e', 's'};
  return {
      {Packet::CmdRequest("list-sas", Message().Add("noblock", "yes")),
       Cat({{0, 8}, Text("list-sas"), noblock})},
      {Packet::CmdRequest("version"), Cat({{0, 7}, Text("version")})},
      {Packet::CmdResponse(Message().Add("success", "yes")), Cat({{1}, success})},
      {Packet::CmdResponse({}), {1}},
      {Packet::CmdUnknown(), {2}},
      {Packet::EventRegister("list-sa"), Cat({{3, 7}, Text("list-sa")})},
      {Packet::EventUnregister("list-sa"), Cat({{4, 7}, Text("list-sa")})},
      {Packet::EventConfirm(), {5}},
      {Packet::EventUnknown(), {6}},
      {Packet::Event("list-sa", Message().AddSection("vpn", Section().Add("state", "ESTABLISHED"))),
       Cat({{7, 7}, Text("list-sa"), {1, 3}, Text("vpn"), {3, 5}, Text("state"), {0, 11},
            Text("ESTABLISHED"), {2}})},
      {Packet::Event("", {}), {7, 0}},
  };
}

TEST(ViciCodec, EveryPacketTypeRoundTripsThroughItsOctets) {
  for (const PacketSample& s : EveryPacketType()) {
    SCOPED_TRACE(Dump(s.packet));
    auto wire = Encode(s.packet);
    ASSERT_TRUE(wire.has_value()) << Describe(wire.error());
    EXPECT_EQ(*wire, s.octets);
    auto back = DecodePacket(s.octets);
    ASSERT_TRUE(back.has_value()) << Describe(back.error());
    EXPECT_EQ(*back, s.packet);
    auto frame = EncodeFrame(s.packet);
    ASSERT_TRUE(frame.has_value());
    const std::size_t n = s.octets.size();
    EXPECT_EQ(*frame, Cat({{0, 0, static_cast<std::uint8_t>(n >> 8), static_cast<std::uint8_t>(n)},
                           s.octets}));
  }
}

TEST(ViciCodec, PacketTypesCarryTheirFields) {
  for (int t = 0; t <= kLastPacketType; ++t) {
    const auto type = static_cast<PacketType>(t);
    const bool named = t == 0 || t == 3 || t == 4 || t == 7;
    const bool with_message = t == 0 || t == 1 || t == 7;
    EXPECT_EQ(HasName(type), named) << Name(type);
    EXPECT_EQ(HasMessage(type), with_message) << Name(type);
  }
  EXPECT_EQ(Name(PacketType::kEventUnregister), "EVENT_UNREGISTER");
  EXPECT_EQ(Name(static_cast<PacketType>(8)), "UNKNOWN");
}

// The list-sas request with noblock = yes, cut at every length.
TEST(ViciCodec, EveryPrefixOfARequestHasItsError) {
  const Octets wire = EveryPacketType()[0].octets;  // 0, 8, "list-sas", key noblock = yes
  ASSERT_EQ(wire.size(), 24u);
  ExpectError(DecodePacket(Prefix(wire, 0)), E::kTruncated, 0);
  EXPECT_EQ(DecodePacket(Prefix(wire, 0)).error().detail, "no packet type");
  for (std::size_t n = 1; n < 10; ++n) {
    SCOPED_TRACE(n);
    ExpectError(DecodePacket(Prefix(wire, n)), E::kTruncated, 1);  // the name
  }
  auto bare = DecodePacket(Prefix(wire, 10));  // the name complete, no arguments: valid
  ASSERT_TRUE(bare.has_value());
  EXPECT_EQ(*bare, Packet::CmdRequest("list-sas"));
  for (std::size_t n = 11; n < 19; ++n) {
    SCOPED_TRACE(n);
    ExpectError(DecodePacket(Prefix(wire, n)), E::kTruncated, 11);  // the key's name
  }
  for (std::size_t n = 19; n < 24; ++n) {
    SCOPED_TRACE(n);
    ExpectError(DecodePacket(Prefix(wire, n)), E::kTruncated, 19);  // the key's value
  }
  EXPECT_TRUE(DecodePacket(wire).has_value());
}

// Every prefix of every sample fails with a documented error or is itself a valid packet that
// encodes back to the prefix; never anything else.
TEST(ViciCodec, EveryPrefixOfEveryPacketTypeFailsCleanly) {
  for (const PacketSample& s : EveryPacketType()) {
    for (std::size_t n = 0; n < s.octets.size(); ++n) {
      SCOPED_TRACE(Dump(s.packet) + " cut at " + std::to_string(n));
      auto p = DecodePacket(Prefix(s.octets, n));
      if (p) {
        EXPECT_EQ(*Encode(*p), Octets(s.octets.begin(), s.octets.begin() + n));
        continue;
      }
      const ErrorCode c = p.error().code;
      EXPECT_TRUE(c == E::kTruncated || c == E::kSectionNotClosed || c == E::kListNotClosed)
          << Describe(p.error());
      EXPECT_LE(p.error().offset, n);
    }
  }
}

// ---------------------------------------------------------------- structure

TEST(ViciCodec, ListItemOutsideAList) {
  auto m = DecodeMessage(Octets{3, 1, 'k', 0, 0, 5, 0, 1, 'x'});
  ExpectError(m, E::kItemOutsideList, 5);
  EXPECT_EQ(Describe(m.error()), "list item outside a list at offset 5: no list is open");
  // After a list was closed, too.
  ExpectError(DecodeMessage(Octets{4, 1, 'l', 6, 5, 0, 0}), E::kItemOutsideList, 4);
}

TEST(ViciCodec, ListEndOutsideAList) {
  ExpectError(DecodeMessage(Octets{6}), E::kListEndOutsideList, 0);
  ExpectError(DecodeMessage(Octets{4, 1, 'l', 6, 6}), E::kListEndOutsideList, 4);
}

TEST(ViciCodec, SectionEndWithoutASection) {
  auto m = DecodeMessage(Octets{2});
  ExpectError(m, E::kSectionEndAtRoot, 0);
  EXPECT_EQ(Describe(m.error()), "section end outside a section at offset 0: no section is open");
  ExpectError(DecodeMessage(Octets{1, 1, 's', 2, 2}), E::kSectionEndAtRoot, 4);
}

TEST(ViciCodec, OnlyItemsAndTheEndInsideAList) {
  const Octets open = {4, 5, 'o', 'w', 'n', 'e', 'r', 5, 0, 1, 'a'};  // list + one item
  struct Case {
    Octets element;
    std::string detail;
  };
  const Case cases[] = {
      {{1, 1, 's', 2}, "section start in list 'owner'"},
      {{2}, "section end in list 'owner'"},
      {{3, 1, 'k', 0, 0}, "key/value in list 'owner'"},
      {{4, 1, 'n', 6}, "list start in list 'owner'"},  // lists do not nest
  };
  for (const Case& c : cases) {
    auto m = DecodeMessage(Cat({open, c.element, {6}}));
    ExpectError(m, E::kNotInList, open.size());
    EXPECT_EQ(m.error().detail, c.detail);
  }
}

TEST(ViciCodec, UnknownElementTypes) {
  for (std::uint8_t type : {0, 7, 8, 0x80, 0xff}) {
    SCOPED_TRACE(type);
    auto m = DecodeMessage(Octets{3, 1, 'k', 0, 0, type});
    ExpectError(m, E::kUnknownElementType, 5);
    EXPECT_EQ(m.error().detail, "element type " + std::to_string(type));
  }
  // Checked before the list rule: an unknown type inside a list is unknown, not misplaced.
  ExpectError(DecodeMessage(Octets{4, 1, 'l', 9}), E::kUnknownElementType, 3);
}

TEST(ViciCodec, WhatIsNotClosedIsTheInnermost) {
  auto m = DecodeMessage(Octets{1, 1, 'a', 1, 1, 'b', 2, 1, 1, 'c', 3, 1, 'k', 0, 0});
  ExpectError(m, E::kSectionNotClosed, 15);
  EXPECT_EQ(Describe(m.error()),
            "section not closed at offset 15: section 'c' opened at offset 7 not closed");
  m = DecodeMessage(Octets{1, 1, 'a', 4, 1, 'l', 5, 0, 0});
  ExpectError(m, E::kListNotClosed, 9);  // the list, inside the open section
  EXPECT_EQ(m.error().detail, "list 'l' opened at offset 3 not closed");
}

TEST(ViciCodec, NamesArePrintableAscii) {
  // charon accepts names of printable ASCII only (0x20..0x7e), the empty name included.
  for (std::uint8_t bad : {0x00, 0x09, 0x0a, 0x1f, 0x7f, 0x80, 0xff}) {
    SCOPED_TRACE(static_cast<int>(bad));
    ExpectError(DecodeMessage(Octets{3, 3, 'a', 'b', bad, 0, 0}), E::kBadName, 4);
    ExpectError(DecodeMessage(Octets{1, 1, bad, 2}), E::kBadName, 2);
    ExpectError(DecodeMessage(Octets{4, 2, bad, 'x', 6}), E::kBadName, 2);
    ExpectError(DecodePacket(Octets{0, 2, 'x', bad}), E::kBadName, 3);
    ExpectError(DecodePacket(Octets{3, 1, bad}), E::kBadName, 2);
  }
  auto m = DecodeMessage(Octets{3, 1, 0x00, 0, 0});
  EXPECT_EQ(Describe(m.error()),
            "name not printable at offset 2: key name has octet 0x00, not printable ASCII");
  EXPECT_TRUE(DecodeMessage(Octets{3, 2, ' ', '~', 0, 0}).has_value());
  EXPECT_TRUE(DecodeMessage(Octets{3, 0, 0, 0, 1, 0, 2, 4, 0, 6}).has_value());  // empty names
  // Values are octets: anything goes.
  EXPECT_TRUE(DecodeMessage(Octets{3, 1, 'k', 0, 3, 0x00, 0x0a, 0xff}).has_value());
}

TEST(ViciCodec, SectionsNestAtMost64Deep) {
  Octets deep;
  for (std::size_t i = 0; i < kMaxSectionDepth; ++i) deep.insert(deep.end(), {1, 1, 's'});
  deep.insert(deep.end(), kMaxSectionDepth, 2);
  auto m = DecodeMessage(deep);
  ASSERT_TRUE(m.has_value()) << Describe(m.error());
  EXPECT_EQ(*Encode(*m), deep);

  Octets deeper = Octets(deep.begin(), deep.begin() + 3 * kMaxSectionDepth);
  deeper.insert(deeper.end(), {1, 1, 't'});
  deeper.insert(deeper.end(), kMaxSectionDepth + 1, 2);
  auto r = DecodeMessage(deeper);
  ExpectError(r, E::kTooDeep, 3 * kMaxSectionDepth);
  EXPECT_EQ(r.error().detail, "section 't' nested 65 deep (at most 64)");

  // The encoder refuses what the decoder refuses.
  Section nested;
  for (std::size_t i = 0; i < kMaxSectionDepth + 1; ++i) {
    nested = Section().AddSection("t", std::move(nested));
  }
  ExpectError(Encode(nested), E::kTooDeep, 3 * kMaxSectionDepth);
}

// ---------------------------------------------------------------- packets

TEST(ViciCodec, PacketErrors) {
  auto r = DecodePacket(Octets{8});
  ExpectError(r, E::kUnknownPacketType, 0);
  EXPECT_EQ(Describe(r.error()), "unknown packet type at offset 0: packet type 8");
  ExpectError(DecodePacket(Octets{0xff, 0}), E::kUnknownPacketType, 0);
  ExpectError(DecodePacket(Octets{3}), E::kTruncated, 1);
  EXPECT_EQ(DecodePacket(Octets{3}).error().detail,
            "no length octet for the EVENT_REGISTER name");
  ExpectError(DecodePacket(Octets{7, 5, 'a'}), E::kTruncated, 1);
  // The message of a packet: errors at their offset in the packet.
  ExpectError(DecodePacket(Octets{7, 1, 'e', 2}), E::kSectionEndAtRoot, 3);
  ExpectError(DecodePacket(Octets{1, 5, 0, 1, 'x'}), E::kItemOutsideList, 1);
}

TEST(ViciCodec, NothingAfterAPacketWithoutMessage) {
  auto r = DecodePacket(Octets{5, 0});
  ExpectError(r, E::kTrailingOctets, 1);
  EXPECT_EQ(r.error().detail, "1 octets after EVENT_CONFIRM, which carries no message");
  ExpectError(DecodePacket(Octets{2, 1, 2}), E::kTrailingOctets, 1);
  ExpectError(DecodePacket(Octets{6, 0}), E::kTrailingOctets, 1);
  ExpectError(DecodePacket(Cat({{3, 7}, Text("list-sa"), {0}})), E::kTrailingOctets, 9);
  ExpectError(DecodePacket(Cat({{4, 7}, Text("list-sa"), {3, 0, 0, 0}})), E::kTrailingOctets, 9);
}

// ---------------------------------------------------------------- size limits

// A message of exactly `size` octets (>= 4): key/values of 65535-octet values and a last one
// that fills up.
Octets MessageOfSize(std::size_t size) {
  Octets out;
  while (size - out.size() > 4 + kMaxValueSize) {
    out.insert(out.end(), {3, 0, 0xff, 0xff});
    out.insert(out.end(), kMaxValueSize, 'v');
  }
  const std::size_t value = size - out.size() - 4;
  out.insert(out.end(), {3, 0, static_cast<std::uint8_t>(value >> 8),
                         static_cast<std::uint8_t>(value)});
  out.insert(out.end(), value, 'v');
  return out;
}

TEST(ViciCodec, MessagesUpTo512KiB) {
  EXPECT_EQ(kMaxPacketSize, 524288u);
  const Octets largest = MessageOfSize(kMaxPacketSize);
  ASSERT_EQ(largest.size(), kMaxPacketSize);
  auto m = DecodeMessage(largest);
  ASSERT_TRUE(m.has_value()) << Describe(m.error());
  EXPECT_EQ(*Encode(*m), largest);

  auto r = DecodeMessage(MessageOfSize(kMaxPacketSize + 1));
  ExpectError(r, E::kTooLarge, 0);
  EXPECT_EQ(Describe(r.error()),
            "too large at offset 0: message larger than 524288 octets (524289)");
  // Encoding stops at the element that crosses the limit.
  Message big = *m;
  big.Add("", "");
  ExpectError(Encode(big), E::kTooLarge, kMaxPacketSize);
}

TEST(ViciCodec, PacketsUpTo512KiB) {
  const Octets largest = Cat({{1}, MessageOfSize(kMaxPacketSize - 1)});
  auto p = DecodePacket(largest);
  ASSERT_TRUE(p.has_value()) << Describe(p.error());
  EXPECT_EQ(*Encode(*p), largest);
  ExpectError(DecodePacket(Cat({{1}, MessageOfSize(kMaxPacketSize)})), E::kTooLarge, 0);
  // A message that fits alone but not behind the packet's type octet.
  auto m = DecodeMessage(MessageOfSize(kMaxPacketSize));
  ASSERT_TRUE(m.has_value());
  EXPECT_FALSE(Encode(Packet::CmdResponse(*m)).has_value());
  EXPECT_EQ(Encode(Packet::CmdResponse(*m)).error().code, E::kTooLarge);
}

// ---------------------------------------------------------------- what Encode refuses

TEST(ViciCodec, EncodeRefusesWhatTheWireCannotCarry) {
  auto r = Encode(Message().Add("ok", "").Add(std::string(256, 'n'), "v"));
  ExpectError(r, E::kNameTooLong, 6);  // after 3, 2, 'o', 'k', 0, 0
  EXPECT_EQ(r.error().detail, "key name of 256 octets (at most 255)");
  ExpectError(Encode(Message().AddList(std::string(256, 'n'), {})), E::kNameTooLong, 0);
  ExpectError(Encode(Message().AddSection(std::string(300, 'n'), {})), E::kNameTooLong, 0);

  r = Encode(Message().Add("k", std::string(kMaxValueSize + 1, 'v')));
  ExpectError(r, E::kValueTooLong, 0);
  EXPECT_EQ(r.error().detail, "value of key 'k' of 65536 octets (at most 65535)");
  ExpectError(Encode(Message().AddList("l", {"a", std::string(kMaxValueSize + 1, 'v')})),
              E::kValueTooLong, 7);

  ExpectError(Encode(Message().Add(std::string("a\nb"), "v")), E::kBadName, 0);
  ExpectError(Encode(Message().AddSection("s", Section().AddList("\x7f", {}))), E::kBadName, 3);
}

TEST(ViciCodec, EncodeRefusesInconsistentPackets) {
  auto r = Encode(Packet{PacketType::kEventConfirm, "x", {}});
  ExpectError(r, E::kFieldNotAllowed, 0);
  EXPECT_EQ(r.error().detail, "EVENT_CONFIRM carries no name");
  r = Encode(Packet{PacketType::kEventRegister, "list-sa", Message().Add("k", "v")});
  ExpectError(r, E::kFieldNotAllowed, 0);
  EXPECT_EQ(r.error().detail, "EVENT_REGISTER carries no message");
  ExpectError(Encode(Packet{static_cast<PacketType>(8), "", {}}), E::kUnknownPacketType, 0);
  ExpectError(Encode(Packet::CmdRequest(std::string(256, 'c'))), E::kNameTooLong, 1);
  ExpectError(Encode(Packet::EventRegister("bad\x01")), E::kBadName, 1);
  ExpectError(EncodeFrame(Packet::EventRegister("bad\x01")), E::kBadName, 1);
}

// ---------------------------------------------------------------- text

TEST(ViciCodec, PacketDump) {
  EXPECT_EQ(Dump(EveryPacketType()[0].packet), "CMD_REQUEST list-sas {noblock=yes}");
  EXPECT_EQ(Dump(Packet::EventConfirm()), "EVENT_CONFIRM");
  EXPECT_EQ(Dump(Packet::EventRegister("list-sa")), "EVENT_REGISTER list-sa");
  EXPECT_EQ(Dump(Packet::CmdResponse({})), "CMD_RESPONSE {}");
  EXPECT_EQ(Dump(Packet::Event("ike-updown", Message().AddSection("vpn", Section()))),
            "EVENT ike-updown {vpn {}}");
}

TEST(ViciCodec, EveryErrorCodeHasAName) {
  for (int c = 0; c <= static_cast<int>(E::kFieldNotAllowed); ++c) {
    EXPECT_NE(Name(static_cast<E>(c)), "unknown error") << c;
  }
  EXPECT_EQ(Describe(Error{E::kTruncated, 3, ""}), "truncated at offset 3");
}

}  // namespace
}  // namespace minivpn::vici
