#include "crypto/prf.h"

#include <openssl/core_names.h>

#include <algorithm>
#include <array>
#include <cstdlib>

#include "crypto/ossl.h"

namespace minivpn::crypto {

// An EVP_MAC_CTX for HMAC with the digest already set and no key, one per PRF for the whole
// process (shared by every Prf of that id, only ever duplicated): Compute() duplicates it, which
// saves the algorithm fetch and digest lookup on every call and the context on every IKE SA.
struct Prf::State {
  ossl::MacCtxPtr keyless;
};

namespace {

const char* DigestName(PrfId id) {
  switch (id) {
    case PrfId::kHmacMd5: return "MD5";
    case PrfId::kHmacSha1: return "SHA1";
    case PrfId::kHmacSha2_256: return "SHA2-256";
    case PrfId::kHmacSha2_384: return "SHA2-384";
    case PrfId::kHmacSha2_512: return "SHA2-512";
  }
  return nullptr;
}

constexpr std::size_t kMaxPrfOutput = 64;

Bytes Digest(const char* name, ByteView data) {
  const EVP_MD* md = ossl::Digest(name);
  Bytes out(md ? static_cast<std::size_t>(EVP_MD_get_size(md)) : 0);
  unsigned int len = 0;
  if (!md || EVP_Digest(data.data(), data.size(), out.data(), &len, md, nullptr) != 1) {
    std::abort();  // a digest the provider must always have
  }
  return out;
}

}  // namespace

std::expected<Prf, std::string> Prf::Create(PrfId id) {
  const char* digest = DigestName(id);
  if (digest == nullptr) return std::unexpected("unsupported PRF transform");
  auto MakeState = [](const char* name) -> std::expected<std::shared_ptr<const State>, std::string> {
    if (!ossl::Hmac()) return std::unexpected("OpenSSL has no HMAC");
    auto state = std::make_shared<State>();
    state->keyless.reset(EVP_MAC_CTX_new(const_cast<EVP_MAC*>(ossl::Hmac())));
    if (!state->keyless) return std::unexpected("EVP_MAC_CTX_new failed");
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, const_cast<char*>(name), 0),
        OSSL_PARAM_construct_end()};
    if (EVP_MAC_CTX_set_params(state->keyless.get(), params) != 1) {
      return std::unexpected("HMAC digest not available");
    }
    return state;
  };
  // One state per PRF id for the process (thread-safe static initialisation).
  static const auto md5 = MakeState("MD5");
  static const auto sha1 = MakeState("SHA1");
  static const auto sha256 = MakeState("SHA2-256");
  static const auto sha384 = MakeState("SHA2-384");
  static const auto sha512 = MakeState("SHA2-512");
  const auto& state = id == PrfId::kHmacMd5        ? md5
                      : id == PrfId::kHmacSha1     ? sha1
                      : id == PrfId::kHmacSha2_256 ? sha256
                      : id == PrfId::kHmacSha2_384 ? sha384
                                                   : sha512;
  if (!state) return std::unexpected(state.error());
  return Prf(id, *state);
}

SecretBytes Prf::Compute(ByteView key, ByteView data) const {
  SecretBytes out(output_size());
  ossl::MacCtxPtr ctx(EVP_MAC_CTX_dup(state_->keyless.get()));
  std::size_t len = 0;
  // HMAC accepts any key length, including 0 (RFC 2104 2).
  static constexpr std::uint8_t kEmpty = 0;
  const std::uint8_t* key_data = key.empty() ? &kEmpty : key.data();
  if (!ctx || EVP_MAC_init(ctx.get(), key_data, key.size(), nullptr) != 1 ||
      EVP_MAC_update(ctx.get(), data.data(), data.size()) != 1 ||
      EVP_MAC_final(ctx.get(), out.MutableReveal().data(), &len, out.size()) != 1 ||
      len != out.size()) {
    std::abort();  // only allocation failure gets here
  }
  return out;
}

// RFC 7296 2.13: prf+ (K,S) = T1 | T2 | T3 | T4 | ...
//   T1 = prf (K, S | 0x01), Tn = prf (K, Tn-1 | S | n)
SecretBytes Prf::Plus(ByteView key, ByteView seed, std::size_t length) const {
  const std::size_t block = output_size();
  if (length > 255 * block) return SecretBytes();
  SecretBytes out(length);
  ossl::MacCtxPtr keyed(EVP_MAC_CTX_dup(state_->keyless.get()));
  static constexpr std::uint8_t kEmpty = 0;
  if (!keyed || EVP_MAC_init(keyed.get(), key.empty() ? &kEmpty : key.data(), key.size(),
                             nullptr) != 1) {
    std::abort();
  }
  std::array<std::uint8_t, kMaxPrfOutput> t{};
  std::size_t t_len = 0;
  std::size_t done = 0;
  for (std::uint8_t n = 1; done < length; ++n) {
    ossl::MacCtxPtr ctx(EVP_MAC_CTX_dup(keyed.get()));
    std::size_t len = 0;
    if (!ctx || EVP_MAC_update(ctx.get(), t.data(), t_len) != 1 ||
        EVP_MAC_update(ctx.get(), seed.data(), seed.size()) != 1 ||
        EVP_MAC_update(ctx.get(), &n, 1) != 1 ||
        EVP_MAC_final(ctx.get(), t.data(), &len, t.size()) != 1 || len != block) {
      std::abort();
    }
    t_len = len;
    const std::size_t take = std::min(block, length - done);
    std::copy_n(t.begin(), take, out.MutableReveal().begin() + static_cast<std::ptrdiff_t>(done));
    done += take;
  }
  SecureWipe(t.data(), t.size());
  return out;
}

Bytes Sha1(ByteView data) { return Digest("SHA1", data); }
Bytes Sha256(ByteView data) { return Digest("SHA2-256", data); }

}  // namespace minivpn::crypto
