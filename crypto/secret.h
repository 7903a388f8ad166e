// SecretBytes: key material (PSK, SKEYSEED, SK_*, KEYMAT, DH secrets).
//
// - wiped (OPENSSL_cleanse) on destruction, on assignment and on resize: the storage comes from
//   WipingAllocator, which wipes every buffer before it is released, so a reallocation inside
//   Append() leaves no copy behind either;
// - move-only: a copy has to be asked for with Clone(), so copies are visible in review;
// - no operator<<, no fmt formatter, no implicit conversion to ByteView: the only way to the
//   bytes is the explicit Reveal(), which is what a grep for leaks looks for.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string_view>
#include <utility>
#include <vector>

#include "crypto/bytes.h"

namespace minivpn {

void SecureWipe(void* data, std::size_t size);

// std::allocator that wipes a buffer before releasing it.
template <typename T>
struct WipingAllocator {
  using value_type = T;
  WipingAllocator() = default;
  template <typename U>
  WipingAllocator(const WipingAllocator<U>&) noexcept {}  // NOLINT: allocator rebind
  T* allocate(std::size_t n) { return std::allocator<T>().allocate(n); }
  void deallocate(T* p, std::size_t n) noexcept {
    SecureWipe(p, n * sizeof(T));
    std::allocator<T>().deallocate(p, n);
  }
  template <typename U>
  bool operator==(const WipingAllocator<U>&) const noexcept { return true; }
};

class SecretBytes {
 public:
  SecretBytes() = default;
  explicit SecretBytes(std::size_t size) : bytes_(size) {}
  explicit SecretBytes(ByteView data) : bytes_(data.begin(), data.end()) {}
  static SecretBytes FromString(std::string_view s) { return SecretBytes(AsBytes(s)); }
  ~SecretBytes() { Wipe(); }

  SecretBytes(SecretBytes&& other) noexcept : bytes_(std::move(other.bytes_)) {
    other.bytes_.clear();
  }
  SecretBytes& operator=(SecretBytes&& other) noexcept {
    if (this != &other) {
      Wipe();
      bytes_ = std::move(other.bytes_);
      other.bytes_.clear();
    }
    return *this;
  }
  SecretBytes(const SecretBytes&) = delete;
  SecretBytes& operator=(const SecretBytes&) = delete;

  SecretBytes Clone() const { return SecretBytes(Reveal()); }

  std::size_t size() const { return bytes_.size(); }
  bool empty() const { return bytes_.empty(); }

  // The explicit door to the bytes. Never pass the result to a logger.
  ByteView Reveal() const { return bytes_; }
  std::span<std::uint8_t> MutableReveal() { return bytes_; }

  // Split off [offset, offset+len) as its own secret (used to cut prf+ output into keys).
  SecretBytes Slice(std::size_t offset, std::size_t len) const {
    return SecretBytes(Reveal().subspan(offset, len));
  }
  void Append(ByteView data);

  // Constant-time comparison.
  bool Equals(ByteView other) const;

 private:
  void Wipe();
  std::vector<std::uint8_t, WipingAllocator<std::uint8_t>> bytes_;
};

// An immutable secret that copies share: a PSK held by a config, its reloaded successor and the
// engine's peer config is one buffer, wiped when the last holder lets go. Copying never
// duplicates the bytes, so structs that hold one (config::ConnectionConfig, ike::PeerConfig)
// keep their default copy and comparison. Reading is the same explicit Reveal().
class SharedSecretBytes {
 public:
  SharedSecretBytes() = default;
  SharedSecretBytes(SecretBytes secret)  // NOLINT: implicit, a secret moves in
      : secret_(std::make_shared<const SecretBytes>(std::move(secret))) {}

  std::size_t size() const { return secret_ ? secret_->size() : 0; }
  bool empty() const { return size() == 0; }
  ByteView Reveal() const { return secret_ ? secret_->Reveal() : ByteView{}; }
  bool Equals(ByteView other) const { return get().Equals(other); }
  // Where an API takes the SecretBytes itself (crypto::ComputePskAuth).
  const SecretBytes& get() const;
  operator const SecretBytes&() const { return get(); }  // NOLINT: implicit, read-only

  // Constant-time in the bytes, like SecretBytes::Equals.
  bool operator==(const SharedSecretBytes& other) const {
    return size() == other.size() && Equals(other.Reveal());
  }

 private:
  std::shared_ptr<const SecretBytes> secret_;
};

}  // namespace minivpn
