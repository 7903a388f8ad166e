#include "crypto/random.h"

#include <gtest/gtest.h>

#include <array>

#include "crypto/bytes.h"

namespace minivpn::crypto {
namespace {

TEST(RandomTest, SeededRandomIsDeterministicPerSeed) {
  SeededRandom a(42), b(42), c(43);
  std::array<std::uint8_t, 40> x{}, y{}, z{};
  a.Fill(x);
  b.Fill(y);
  c.Fill(z);
  EXPECT_EQ(x, y);
  EXPECT_NE(x, z);
  // The next call continues with other bytes.
  std::array<std::uint8_t, 40> x2{};
  a.Fill(x2);
  EXPECT_NE(x, x2);
}

TEST(RandomTest, SeededRandomIsChaCha20Keystream) {
  // Seed 0 = all-zero key, counter 0, nonce 0: RFC 8439 A.1 test vector #1 keystream.
  SeededRandom r(0);
  std::array<std::uint8_t, 16> out{};
  r.Fill(out);
  EXPECT_EQ(ToHex(out), "76b8e0ada0f13d90405d6ae55386bd28");
}

TEST(RandomTest, SystemRandomFillsAndNext) {
  SystemRandom r;
  std::array<std::uint8_t, 32> a{}, b{};
  r.Fill(a);
  r.Fill(b);
  EXPECT_NE(a, b);  // 2^-256 chance of a false failure
  EXPECT_NE(r.Next<std::uint64_t>(), r.Next<std::uint64_t>());
}

}  // namespace
}  // namespace minivpn::crypto
