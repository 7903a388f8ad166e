// Multi-core steering (docs/architecture.md): which engine shard a message
// belongs to. Pure functions of the bytes, shared by the daemon's steering
// step, its kernel-side program (cli/daemon/reuseport_steering.h) and the
// tests, so that all three agree.
//
// Every IKE SA lives in one shard. The shard is named by the low 32 bits of the
// SPI we chose for it (ShardOfSpi): the responder SPI in messages whose I flag
// says the sender is the original initiator, the initiator SPI otherwise. An
// IKE_SA_INIT request (responder SPI 0) goes by the peer's initiator SPI, and
// the shard that takes it chooses a responder SPI that maps to itself. A COOKIE
// or INVALID_KE retry keeps its SPIi, so it reaches the same shard.
#pragma once

#include <cstdint>
#include <string_view>

#include "crypto/bytes.h"

namespace minivpn::ike {

constexpr std::uint32_t ShardOfSpi(std::uint64_t spi, std::uint32_t shard_count) {
  return static_cast<std::uint32_t>(spi & 0xffffffffu) % shard_count;
}

// `spi` changed as little as possible so that ShardOfSpi gives `shard`: its low
// 32 bits become the nearest value below (or the first above) with that
// remainder.
constexpr std::uint64_t SpiForShard(std::uint64_t spi, std::uint32_t shard,
                                    std::uint32_t shard_count) {
  auto low = static_cast<std::uint32_t>(spi & 0xffffffffu);
  std::uint32_t base = low - low % shard_count;
  if (base > 0xffffffffu - shard) base -= shard_count;  // stays in 32 bits
  return (spi & ~std::uint64_t{0xffffffffu}) | (base + shard);
}

// The shard of a UDP payload that arrived on port 500 (`non_esp_marker` false)
// or 4500 (true: the 4 zero octets of RFC 3948 come first). Anything that is
// not an IKE header goes to shard 0, whose engine drops it as it would alone.
std::uint32_t SteerToShard(ByteView udp_payload, bool non_esp_marker, std::uint32_t shard_count);

// The shard that acts on a peer config's start and trap actions (FNV-1a of its
// name).
std::uint32_t HomeShard(std::string_view peer, std::uint32_t shard_count);

}  // namespace minivpn::ike
