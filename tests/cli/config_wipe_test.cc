// Issue 18: the settings lexer grew a value one character at a time, and every time the string
// outgrew its buffer the old buffer was freed with the first part of the value still in it: a
// swanctl.conf secret left partial copies in freed memory. This binary replaces operator
// new/delete (malloc/free underneath) and, while parsing, looks into every block freed for a
// piece of the secret.
#include <malloc.h>

#include <cstdlib>
#include <cstring>
#include <new>
#include <string>
#include <string_view>

#include <gtest/gtest.h>

#include "cli/config/settings.h"

namespace {
bool g_watch = false;
std::size_t g_leaks = 0;
constexpr std::string_view kPiece = "Zq7Xw9Kp";

void Inspect(void* p) {
  if (!g_watch || p == nullptr) return;
  const std::size_t size = malloc_usable_size(p);
  const std::string_view block(static_cast<const char*>(p), size);
  if (block.find(kPiece) != std::string_view::npos) ++g_leaks;
}
}  // namespace

void* operator new(std::size_t size) {
  if (void* p = std::malloc(size ? size : 1)) return p;
  throw std::bad_alloc();
}
void* operator new[](std::size_t size) { return operator new(size); }
void operator delete(void* p) noexcept {
  Inspect(p);
  std::free(p);
}
void operator delete[](void* p) noexcept { operator delete(p); }
void operator delete(void* p, std::size_t) noexcept { operator delete(p); }
void operator delete[](void* p, std::size_t) noexcept { operator delete(p); }

namespace minivpn::config {
namespace {

TEST(ConfigWipe, ALongSecretLeavesNoCopyInFreedMemory) {
  std::string secret;
  while (secret.size() < 300) secret += "Zq7Xw9Kp3Vb2";
  const std::string text = "secrets {\n  ike-b {\n    secret = " + secret + "\n  }\n}\n";
  Diagnostics d;
  g_leaks = 0;
  g_watch = true;
  SettingsDocument doc = ParseSettingsText(text, "swanctl.conf", d);
  g_watch = false;
  EXPECT_EQ(g_leaks, 0u) << "freed blocks holding a piece of the secret";
  const auto* secrets = doc.root.FindSection("secrets");
  ASSERT_NE(secrets, nullptr);
  ASSERT_NE(secrets->FindSection("ike-b"), nullptr);
  EXPECT_EQ(secrets->FindSection("ike-b")->FindValue("secret")->value, secret);
}

}  // namespace
}  // namespace minivpn::config
