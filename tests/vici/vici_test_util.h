// Shared by the vici tests: octet helpers and the encoding example of strongSwan's vici README
// (the message, its octets written out by hand, and where each element starts).
#pragma once

#include <cstddef>
#include <cstdint>
#include <expected>
#include <initializer_list>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>

#include "vici/codec.h"

namespace minivpn::vici::testing {

using Octets = std::vector<std::uint8_t>;

inline Octets Cat(std::initializer_list<Octets> parts) {
  Octets out;
  for (const Octets& p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}

inline Octets Text(std::string_view s) { return Octets(s.begin(), s.end()); }

inline std::span<const std::uint8_t> Prefix(const Octets& o, std::size_t n) {
  return std::span<const std::uint8_t>(o).first(n);
}

// The README's example:
//   key1 = value1
//   section1 = {
//     sub-section = {
//       key2 = value2
//     }
//     list1 = [ item1, item2 ]
//   }
inline Message ReadmeMessage() {
  return Message()
      .Add("key1", "value1")
      .AddSection("section1", Section()
                                  .AddSection("sub-section", Section().Add("key2", "value2"))
                                  .AddList("list1", {"item1", "item2"}));
}

inline Octets ReadmeOctets() {
  return {
      // key1 = value1                                         offset 0
      3, 4, 'k', 'e', 'y', '1', 0, 6, 'v', 'a', 'l', 'u', 'e', '1',
      // section1                                              offset 14
      1, 8, 's', 'e', 'c', 't', 'i', 'o', 'n', '1',
      // sub-section                                           offset 24
      1, 11, 's', 'u', 'b', '-', 's', 'e', 'c', 't', 'i', 'o', 'n',
      // key2 = value2                                         offset 37
      3, 4, 'k', 'e', 'y', '2', 0, 6, 'v', 'a', 'l', 'u', 'e', '2',
      // sub-section end                                       offset 51
      2,
      // list1                                                 offset 52
      4, 5, 'l', 'i', 's', 't', '1',
      // item1                                                 offset 59
      5, 0, 5, 'i', 't', 'e', 'm', '1',
      // item2                                                 offset 67
      5, 0, 5, 'i', 't', 'e', 'm', '2',
      // list1 end                                             offset 75
      6,
      // section1 end                                          offset 76
      2,
  };
}

// Asserts that `r` failed with `code` at `offset`.
template <typename T>
void ExpectError(const std::expected<T, Error>& r, ErrorCode code, std::size_t offset) {
  ASSERT_FALSE(r.has_value()) << "decoded/encoded, expected " << Name(code);
  EXPECT_EQ(r.error().code, code) << Describe(r.error());
  EXPECT_EQ(r.error().offset, offset) << Describe(r.error());
}

}  // namespace minivpn::vici::testing
