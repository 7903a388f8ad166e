// Byte containers shared by every minivpn library.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace minivpn {

using Bytes = std::vector<std::uint8_t>;
using ByteView = std::span<const std::uint8_t>;

// Lower-case hex, no separators ("0a1b..."). For public values only: SecretBytes has no
// conversion to ByteView that would let it reach this by accident (see secret.h).
std::string ToHex(ByteView data);
// Accepts upper/lower case and ignores whitespace and ':'; returns empty on malformed input.
Bytes FromHex(std::string_view hex);

inline ByteView AsBytes(std::string_view s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

inline void Append(Bytes& out, ByteView data) { out.insert(out.end(), data.begin(), data.end()); }

}  // namespace minivpn
