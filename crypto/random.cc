#include "crypto/random.h"

#include <openssl/evp.h>
#include <openssl/rand.h>

#include <array>
#include <cstdlib>
#include <limits>

#include "crypto/ossl.h"

namespace minivpn::crypto {

void SystemRandom::Fill(std::span<std::uint8_t> out) {
  // RAND_bytes takes an int; fill in chunks so a huge request cannot overflow it.
  while (!out.empty()) {
    const std::size_t n = std::min<std::size_t>(out.size(), std::numeric_limits<int>::max());
    if (RAND_bytes(out.data(), static_cast<int>(n)) != 1) std::abort();  // DRBG failure
    out = out.subspan(n);
  }
}

SeededRandom::SeededRandom(std::uint64_t seed) : seed_(seed) {}

void SeededRandom::Fill(std::span<std::uint8_t> out) {
  // ChaCha20 keystream with key = seed (little endian, zero padded), and one 64-octet block per
  // counter value; each Fill starts at a fresh block so the stream is easy to reason about.
  std::array<std::uint8_t, 32> key{};
  for (int i = 0; i < 8; ++i) key[i] = static_cast<std::uint8_t>(seed_ >> (8 * i));
  ossl::CipherCtxPtr ctx(EVP_CIPHER_CTX_new());
  std::array<std::uint8_t, 16> iv{};  // OpenSSL's ChaCha20 IV = 32-bit counter | 96-bit nonce
  for (int i = 0; i < 8; ++i) iv[8 + i] = static_cast<std::uint8_t>(counter_ >> (8 * i));
  if (!ctx || EVP_EncryptInit_ex2(ctx.get(), EVP_chacha20(), key.data(), iv.data(), nullptr) != 1) {
    std::abort();
  }
  std::array<std::uint8_t, 64> zeros{};
  while (!out.empty()) {
    const std::size_t n = std::min(out.size(), zeros.size());
    int len = 0;
    if (EVP_EncryptUpdate(ctx.get(), out.data(), &len, zeros.data(), static_cast<int>(n)) != 1) {
      std::abort();
    }
    out = out.subspan(n);
  }
  ++counter_;
}

}  // namespace minivpn::crypto
