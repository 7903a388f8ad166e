#include "base/mark.h"

#include <gtest/gtest.h>

namespace minivpn::base {
namespace {

TEST(Mark, OneSpellingOfNoMark) {
  static_assert(Mark{} == Mark::None());
  static_assert(!Mark::None().is_set());
  // A mask of 0 matches every packet: the kernel treats it as no mark, and so does minivpn,
  // whatever the value.
  EXPECT_FALSE((Mark{12, 0}).is_set());
  EXPECT_TRUE((Mark{0, 0xffffffff}).is_set());  // "mark 0/0xffffffff" is a real mark
}

TEST(Mark, ExactIsCharonsFullMask) {
  static_assert(Mark::Exact(12) == Mark(12, 0xffffffff));
  EXPECT_TRUE(Mark::Exact(12).is_set());
  EXPECT_LT(Mark::Exact(12), Mark::Exact(13));
}

}  // namespace
}  // namespace minivpn::base
