#include "ike/engine/shard.h"

namespace minivpn::ike {
namespace {

constexpr std::size_t kIkeHeader = 28;
constexpr std::size_t kFlagsAt = 19;
constexpr std::uint8_t kInitiatorFlag = 0x08;

std::uint32_t Word(ByteView b, std::size_t at) {
  return std::uint32_t{b[at]} << 24 | std::uint32_t{b[at + 1]} << 16 |
         std::uint32_t{b[at + 2]} << 8 | std::uint32_t{b[at + 3]};
}

}  // namespace

std::uint32_t SteerToShard(ByteView udp_payload, bool non_esp_marker, std::uint32_t shard_count) {
  ByteView ike = udp_payload;
  if (non_esp_marker) {
    if (ike.size() < 4 || Word(ike, 0) != 0) return 0;  // ESP, a keepalive
    ike = ike.subspan(4);
  }
  if (ike.size() < kIkeHeader) return 0;
  // Words: SPIi high 0, low 4; SPIr high 8, low 12.
  std::uint32_t ours = Word(ike, 4);
  if (ike[kFlagsAt] & kInitiatorFlag) {
    const bool spi_r_zero = Word(ike, 8) == 0 && Word(ike, 12) == 0;
    if (!spi_r_zero) ours = Word(ike, 12);
  }
  return ours % shard_count;
}

std::uint32_t HomeShard(std::string_view peer, std::uint32_t shard_count) {
  std::uint32_t h = 2166136261u;
  for (unsigned char c : peer) h = (h ^ c) * 16777619u;
  return h % shard_count;
}

}  // namespace minivpn::ike
