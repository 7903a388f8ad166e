#include "crypto/secret.h"

#include <openssl/crypto.h>

namespace minivpn {

void SecureWipe(void* data, std::size_t size) {
  if (data != nullptr && size != 0) OPENSSL_cleanse(data, size);
}

void SecretBytes::Wipe() {
  SecureWipe(bytes_.data(), bytes_.size());
  bytes_.clear();
}

void SecretBytes::Append(ByteView data) {
  // insert() may reallocate; the old buffer is wiped by WipingAllocator::deallocate.
  bytes_.insert(bytes_.end(), data.begin(), data.end());
}

bool SecretBytes::Equals(ByteView other) const {
  // The length is not secret (it follows from the algorithm); the contents are compared in
  // constant time.
  if (other.size() != bytes_.size()) return false;
  if (bytes_.empty()) return true;
  return CRYPTO_memcmp(bytes_.data(), other.data(), bytes_.size()) == 0;
}

const SecretBytes& SharedSecretBytes::get() const {
  static const SecretBytes kEmpty;
  return secret_ ? *secret_ : kEmpty;
}

}  // namespace minivpn
