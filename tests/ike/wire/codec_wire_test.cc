// The bounds-checked big-endian reader and writer (ike/wire/wire.h).
#include "ike/wire/wire.h"

#include <gtest/gtest.h>

namespace minivpn::ike {
namespace {

TEST(CodecWire, ReadsBigEndianAndStopsAtTheEnd) {
  const Bytes data{0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09};
  Reader r(data, 100);
  std::uint8_t u8 = 0;
  std::uint16_t u16 = 0;
  std::uint32_t u32 = 0;
  ASSERT_TRUE(r.U8(u8));
  ASSERT_TRUE(r.U16(u16));
  ASSERT_TRUE(r.U32(u32));
  EXPECT_EQ(u8, 0x01);
  EXPECT_EQ(u16, 0x0203);
  EXPECT_EQ(u32, 0x04050607u);
  EXPECT_EQ(r.offset(), 107u);
  EXPECT_EQ(r.remaining(), 2u);
  // A read that does not fit fails and leaves the position where it was.
  EXPECT_FALSE(r.U32(u32));
  std::uint64_t u64 = 0;
  EXPECT_FALSE(r.U64(u64));
  EXPECT_FALSE(r.Skip(3));
  Bytes out;
  EXPECT_FALSE(r.Copy(3, out));
  EXPECT_EQ(r.pos(), 7u);
  ASSERT_TRUE(r.U16(u16));
  EXPECT_EQ(u16, 0x0809);
  EXPECT_TRUE(r.empty());
  EXPECT_FALSE(r.U8(u8));
}

TEST(CodecWire, SubReaderKeepsAbsoluteOffsets) {
  const Bytes data{1, 2, 3, 4, 5, 6};
  Reader r(data, 28);
  ASSERT_TRUE(r.Skip(2));
  auto sub = r.Sub(3);
  ASSERT_TRUE(sub.has_value());
  EXPECT_EQ(sub->offset(), 30u);
  EXPECT_EQ(sub->remaining(), 3u);
  EXPECT_EQ(r.offset(), 33u);
  EXPECT_FALSE(r.Sub(2).has_value());
  EXPECT_EQ(r.offset(), 33u);
  const ByteView rest = r.Rest();
  EXPECT_EQ(rest.size(), 1u);
  EXPECT_EQ(rest[0], 6);
}

TEST(CodecWire, WriterAppendsAndPatches) {
  Bytes out;
  Writer w(out);
  w.U8(0xaa);
  w.U16(0);
  w.U32(0x01020304);
  w.U64(0x1112131415161718ULL);
  w.Zeros(2);
  w.Raw(Bytes{0xee});
  w.PatchU16(1, 0xbeef);
  EXPECT_EQ(ToHex(out), "aabeef010203041112131415161718" "0000ee");
  w.PatchU32(3, 0xcafef00d);
  EXPECT_EQ(ToHex(out), "aabeefcafef00d1112131415161718" "0000ee");
  EXPECT_EQ(w.size(), 18u);
}

}  // namespace
}  // namespace minivpn::ike
