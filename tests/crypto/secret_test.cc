// SecretBytes: wiped when its storage is released, and not printable.
//
// To see the bytes of a buffer at the moment it is released, this test binary replaces the
// global operator new/delete (malloc/free underneath) and copies the watched buffer's contents
// just before free(). Nothing else in the binary is affected.
#include "crypto/secret.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <array>
#include <cstdlib>
#include <cstring>
#include <new>
#include <ostream>
#include <type_traits>

namespace {

const void* g_watched = nullptr;
std::array<std::uint8_t, 64> g_released{};
std::size_t g_released_size = 0;
bool g_seen = false;

void Inspect(void* p, std::size_t n) {
  if (p == nullptr || p != g_watched) return;
  g_released_size = std::min(n, g_released.size());
  std::memcpy(g_released.data(), p, g_released_size);
  g_seen = true;
  g_watched = nullptr;
}

void Watch(const void* p) {
  g_watched = p;
  g_seen = false;
  g_released_size = 0;
  g_released.fill(0xee);
}

bool AllZero(std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) {
    if (g_released[i] != 0) return false;
  }
  return true;
}

}  // namespace

void* operator new(std::size_t n) {
  void* p = std::malloc(n == 0 ? 1 : n);
  if (p == nullptr) throw std::bad_alloc();
  return p;
}
void operator delete(void* p) noexcept {
  // Unsized delete: only the first 32 octets are inspected (the tests use 32-octet secrets).
  Inspect(p, 32);
  std::free(p);
}
void operator delete(void* p, std::size_t n) noexcept {
  Inspect(p, n);
  std::free(p);
}

namespace minivpn {
namespace {

template <typename T>
concept Streamable = requires(std::ostream& os, const T& t) { os << t; };

// Not printable, not silently viewable, not silently copyable.
static_assert(!Streamable<SecretBytes>);
static_assert(!fmt::is_formattable<SecretBytes>::value);
static_assert(!std::is_convertible_v<SecretBytes, ByteView>);
static_assert(!std::is_copy_constructible_v<SecretBytes>);
static_assert(!std::is_copy_assignable_v<SecretBytes>);
static_assert(std::is_nothrow_move_constructible_v<SecretBytes>);

const Bytes kSecret(32, 0xa5);

TEST(SecretBytesTest, DestructorWipesTheBuffer) {
  {
    SecretBytes s(kSecret);
    Watch(s.Reveal().data());
  }
  ASSERT_TRUE(g_seen);
  EXPECT_EQ(g_released_size, 32u);
  EXPECT_TRUE(AllZero(32));
}

TEST(SecretBytesTest, MoveAssignmentWipesTheOverwrittenBuffer) {
  SecretBytes s(kSecret);
  Watch(s.Reveal().data());
  s = SecretBytes(Bytes(32, 0x11));
  ASSERT_TRUE(g_seen);
  EXPECT_TRUE(AllZero(32));
  EXPECT_TRUE(s.Equals(Bytes(32, 0x11)));
}

TEST(SecretBytesTest, GrowingWipesTheOldBuffer) {
  SecretBytes s(kSecret);
  Watch(s.Reveal().data());
  s.Append(Bytes(4096, 0x22));  // forces a reallocation
  ASSERT_TRUE(g_seen);
  EXPECT_TRUE(AllZero(32));
  EXPECT_EQ(s.size(), 32u + 4096u);
  EXPECT_EQ(s.Reveal()[0], 0xa5);
  EXPECT_EQ(s.Reveal()[32], 0x22);
}

TEST(SecretBytesTest, TheWatcherSeesUnwipedBuffers) {
  // Control: a plain vector is not wiped, so the tests above can fail.
  {
    Bytes plain(kSecret);
    Watch(plain.data());
  }
  ASSERT_TRUE(g_seen);
  EXPECT_FALSE(AllZero(32));
}

TEST(SecretBytesTest, MoveLeavesTheSourceEmpty) {
  SecretBytes a(kSecret);
  SecretBytes b(std::move(a));
  EXPECT_TRUE(a.empty());  // NOLINT(bugprone-use-after-move): documented state
  EXPECT_TRUE(b.Equals(kSecret));
}

TEST(SecretBytesTest, EqualsSliceClone) {
  const SecretBytes s(FromHex("00112233445566778899"));
  EXPECT_TRUE(s.Equals(FromHex("00112233445566778899")));
  EXPECT_FALSE(s.Equals(FromHex("00112233445566778898")));
  EXPECT_FALSE(s.Equals(FromHex("001122334455667788")));
  EXPECT_TRUE(s.Slice(2, 3).Equals(FromHex("223344")));
  EXPECT_TRUE(s.Clone().Equals(s.Reveal()));
  EXPECT_TRUE(SecretBytes().Equals({}));
  EXPECT_TRUE(SecretBytes::FromString("psk").Equals(AsBytes("psk")));
}

TEST(SecretBytesTest, SecureWipeZeroes) {
  std::array<std::uint8_t, 8> buf{1, 2, 3, 4, 5, 6, 7, 8};
  SecureWipe(buf.data(), buf.size());
  EXPECT_EQ(buf, (std::array<std::uint8_t, 8>{}));
  SecureWipe(nullptr, 0);  // allowed
}

}  // namespace
}  // namespace minivpn
