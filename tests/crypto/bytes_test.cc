#include "crypto/bytes.h"

#include <gtest/gtest.h>

namespace minivpn {
namespace {

TEST(BytesTest, HexRoundTrip) {
  const Bytes data = {0x00, 0x0a, 0xff, 0x10};
  EXPECT_EQ(ToHex(data), "000aff10");
  EXPECT_EQ(FromHex("000aff10"), data);
  EXPECT_EQ(FromHex("00 0A:FF\n10"), data);
}

TEST(BytesTest, MalformedHexIsEmpty) {
  EXPECT_TRUE(FromHex("0").empty());
  EXPECT_TRUE(FromHex("0g").empty());
  EXPECT_TRUE(FromHex("").empty());
}

TEST(BytesTest, AppendAndAsBytes) {
  Bytes out = {1};
  Append(out, AsBytes("ab"));
  EXPECT_EQ(out, (Bytes{1, 'a', 'b'}));
}

}  // namespace
}  // namespace minivpn
