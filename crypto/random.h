// Randomness is injected so that the engine is deterministic under test.
#pragma once

#include <cstdint>
#include <span>

namespace minivpn::crypto {

class Random {
 public:
  virtual ~Random() = default;
  virtual void Fill(std::span<std::uint8_t> out) = 0;
  template <typename T>
  T Next() {
    T v{};
    Fill({reinterpret_cast<std::uint8_t*>(&v), sizeof v});
    return v;
  }
};

// RAND_bytes from OpenSSL's DRBG.
class SystemRandom final : public Random {
 public:
  void Fill(std::span<std::uint8_t> out) override;
};

// Deterministic stream (ChaCha20 keystream of a seed) for tests and benchmarks only.
class SeededRandom final : public Random {
 public:
  explicit SeededRandom(std::uint64_t seed);
  void Fill(std::span<std::uint8_t> out) override;

 private:
  std::uint64_t seed_;
  std::uint64_t counter_ = 0;
};

}  // namespace minivpn::crypto
