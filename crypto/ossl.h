// Internal to crypto/: owning handles for OpenSSL objects. The only header that includes
// OpenSSL; never include it from outside crypto/*.cc.
#pragma once

#include <openssl/bn.h>
#include <openssl/dh.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>

#include <memory>

namespace minivpn::crypto::ossl {

template <typename T, void (*Free)(T*)>
struct Deleter {
  void operator()(T* p) const { Free(p); }
};
template <typename T, void (*Free)(T*)>
using Handle = std::unique_ptr<T, Deleter<T, Free>>;

using MacPtr = Handle<EVP_MAC, EVP_MAC_free>;
using MacCtxPtr = Handle<EVP_MAC_CTX, EVP_MAC_CTX_free>;
using CipherPtr = Handle<EVP_CIPHER, EVP_CIPHER_free>;
using CipherCtxPtr = Handle<EVP_CIPHER_CTX, EVP_CIPHER_CTX_free>;
using MdPtr = Handle<EVP_MD, EVP_MD_free>;
using PkeyPtr = Handle<EVP_PKEY, EVP_PKEY_free>;
using PkeyCtxPtr = Handle<EVP_PKEY_CTX, EVP_PKEY_CTX_free>;
using BnPtr = Handle<BIGNUM, BN_clear_free>;
using BnCtxPtr = Handle<BN_CTX, BN_CTX_free>;
using ParamBldPtr = Handle<OSSL_PARAM_BLD, OSSL_PARAM_BLD_free>;
// Parameter lists may hold private keys: each value is wiped before the list is freed
// (OpenSSL 3.0 has no OSSL_PARAM_clear_free).
void ClearFreeParams(OSSL_PARAM* params);
using ParamsPtr = Handle<OSSL_PARAM, ClearFreeParams>;
using EcGroupPtr = Handle<EC_GROUP, EC_GROUP_free>;
using EcPointPtr = Handle<EC_POINT, EC_POINT_clear_free>;

// Algorithms fetched once per process (OpenSSL 3's implicit fetch takes a lock and compares
// names on every call; an IKE SA would pay it for each of its ciphers and MACs). The objects live
// until exit; the caller never frees them. nullptr if the provider lacks the algorithm.
const EVP_MAC* Hmac();
const EVP_CIPHER* Cipher(const char* name);  // one of the names sk_cipher.cc uses
const EVP_MD* Digest(const char* name);      // "SHA1", "SHA2-256", "SHA2-384", "SHA2-512"

}  // namespace minivpn::crypto::ossl
