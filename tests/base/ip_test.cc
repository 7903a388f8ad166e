#include "base/ip.h"

#include <sys/socket.h>

#include <gtest/gtest.h>

namespace minivpn::base {
namespace {

TEST(IpAddress, ParsesBothFamiliesAndNothingElse) {
  auto v4 = IpAddress::Parse("192.0.2.1");
  ASSERT_TRUE(v4);
  EXPECT_EQ(v4->family, AF_INET);
  EXPECT_EQ(*v4, IpAddress::V4(0xc0000201));
  EXPECT_EQ(v4->ToString(), "192.0.2.1");
  auto v6 = IpAddress::Parse("2001:db8::1");
  ASSERT_TRUE(v6);
  EXPECT_EQ(v6->family, AF_INET6);
  EXPECT_EQ(v6->ToString(), "2001:db8::1");
  EXPECT_EQ(v6->max_prefix(), 128u);
  for (const char* bad : {"", "192.0.2", "192.0.2.1/32", "[2001:db8::1]", "routerA", "256.0.0.1",
                          "192.0.2.1 ", "2001:db8::1:500:1:2:3:4:5:6:7:8:9:10:11:12:13:14:15:16"}) {
    EXPECT_FALSE(IpAddress::Parse(bad)) << bad;
  }
}

TEST(IpAddress, UnsetPrintsAsCharonsAny) {
  EXPECT_FALSE(IpAddress{}.is_set());
  EXPECT_EQ(IpAddress{}.ToString(), "%any");
}

TEST(Subnet, ParsesPrefixesAndHostRoutes) {
  EXPECT_EQ(Subnet::Parse("10.1.0.0/16")->ToString(), "10.1.0.0/16");
  EXPECT_EQ(Subnet::Parse("0.0.0.0/0")->prefix, 0);
  EXPECT_EQ(Subnet::Parse("192.0.2.1")->prefix, 32);
  EXPECT_EQ(Subnet::Parse("2001:db8::/32")->prefix, 32);
  EXPECT_EQ(Subnet::Parse("::/0")->ToString(), "::/0");
  for (const char* bad : {"10.0.0.0/", "10.0.0.0/33", "2001:db8::/129", "10.0.0.0/-1",
                          "10.0.0.0/8x", "/8", "x/8"}) {
    EXPECT_FALSE(Subnet::Parse(bad)) << bad;
  }
  EXPECT_EQ(Subnet::Host(*IpAddress::Parse("2001:db8::1")).prefix, 128);
}

TEST(Subnet, NetworkClearsTheHostBitsOnly) {
  EXPECT_EQ(Subnet::Parse("169.254.12.1/30")->Network().ToString(), "169.254.12.0/30");
  EXPECT_EQ(Subnet::Parse("10.255.255.255/9")->Network().ToString(), "10.128.0.0/9");
  EXPECT_EQ(Subnet::Parse("2001:db8::ffff/112")->Network().ToString(), "2001:db8::/112");
  EXPECT_EQ(Subnet::Parse("192.0.2.7/32")->Network().ToString(), "192.0.2.7/32");
  EXPECT_EQ(Subnet::Parse("192.0.2.7/0")->Network().ToString(), "0.0.0.0/0");
}

}  // namespace
}  // namespace minivpn::base
