#include "base/vti_rules.h"

#include <string_view>

#include <gtest/gtest.h>

namespace minivpn::base {
namespace {

TEST(VtiRules, InterfaceNames) {
  EXPECT_TRUE(IsValidInterfaceName("vti0"));
  EXPECT_TRUE(IsValidInterfaceName("vti-site_12.a"));
  EXPECT_TRUE(IsValidInterfaceName("abcdefghijklmno"));    // 15
  EXPECT_FALSE(IsValidInterfaceName("abcdefghijklmnop"));  // 16
  EXPECT_FALSE(IsValidInterfaceName(""));
  EXPECT_FALSE(IsValidInterfaceName("."));
  EXPECT_FALSE(IsValidInterfaceName(".."));
  EXPECT_FALSE(IsValidInterfaceName("../all"));
  EXPECT_FALSE(IsValidInterfaceName("vti 0"));
  EXPECT_FALSE(IsValidInterfaceName("vti\t0"));
  EXPECT_FALSE(IsValidInterfaceName("vti:0"));
  EXPECT_FALSE(IsValidInterfaceName(std::string_view("vti\0", 4)));
  EXPECT_FALSE(IsValidInterfaceName("vti\x7f"));
}

TEST(VtiRules, TheKeyIsTheMark) {
  EXPECT_EQ(VtiMark(12), Mark(12, 0xffffffff));
  EXPECT_TRUE(MarkFitsVti(Mark(12, 0xffffffff), 12));
  EXPECT_FALSE(MarkFitsVti(Mark(13, 0xffffffff), 12));
  EXPECT_FALSE(MarkFitsVti(Mark(12, 0xff), 12));  // a partial mask would match other tunnels
  EXPECT_FALSE(MarkFitsVti(Mark::None(), 12));
}

}  // namespace
}  // namespace minivpn::base
