#include "crypto/ossl.h"

#include <array>
#include <cstring>
#include <utility>

namespace minivpn::crypto::ossl {

namespace {

// A fixed set of names fetched together on first use (function-local statics: thread-safe
// initialisation, no lock afterwards).
template <typename T, typename Ptr, std::size_t N>
struct Fetched {
  std::array<std::pair<const char*, Ptr>, N> entries;
  const T* Find(const char* name) const {
    for (const auto& [n, p] : entries)
      if (std::strcmp(n, name) == 0) return p.get();
    return nullptr;
  }
};

}  // namespace

void ClearFreeParams(OSSL_PARAM* params) {
  if (params == nullptr) return;
  for (OSSL_PARAM* p = params; p->key != nullptr; ++p) {
    if (p->data != nullptr && p->data_size > 0) OPENSSL_cleanse(p->data, p->data_size);
  }
  OSSL_PARAM_free(params);
}

const EVP_MAC* Hmac() {
  static const MacPtr mac(EVP_MAC_fetch(nullptr, "HMAC", nullptr));
  return mac.get();
}

const EVP_CIPHER* Cipher(const char* name) {
  static const auto ciphers = [] {
    Fetched<EVP_CIPHER, CipherPtr, 8> f;
    const char* names[] = {"AES-128-CBC", "AES-192-CBC", "AES-256-CBC",       "AES-128-GCM",
                           "AES-192-GCM", "AES-256-GCM", "ChaCha20-Poly1305", "DES-EDE3-CBC"};
    for (std::size_t i = 0; i < f.entries.size(); ++i)
      f.entries[i] = {names[i], CipherPtr(EVP_CIPHER_fetch(nullptr, names[i], nullptr))};
    return f;
  }();
  return ciphers.Find(name);
}

const EVP_MD* Digest(const char* name) {
  static const auto digests = [] {
    Fetched<EVP_MD, MdPtr, 5> f;
    const char* names[] = {"MD5", "SHA1", "SHA2-256", "SHA2-384", "SHA2-512"};
    for (std::size_t i = 0; i < f.entries.size(); ++i)
      f.entries[i] = {names[i], MdPtr(EVP_MD_fetch(nullptr, names[i], nullptr))};
    return f;
  }();
  return digests.Find(name);
}

}  // namespace minivpn::crypto::ossl
