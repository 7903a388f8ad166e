#include "crypto/sk_cipher.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>

#include <algorithm>
#include <array>

#include "crypto/ossl.h"

namespace minivpn::crypto {

namespace {

constexpr std::size_t kAeadIvSize = 8;    // RFC 5282 3.1 / RFC 7634 2: explicit IV
constexpr std::size_t kAeadSaltSize = 4;  // RFC 5282 7.1 / RFC 7634 2
constexpr std::size_t kMaxIcv = 32;

const char* CipherName(const SkSuite& suite) {
  switch (suite.encr) {
    case EncrId::kAesCbc:
      return suite.key_bits == 128 ? "AES-128-CBC" : suite.key_bits == 192 ? "AES-192-CBC"
                                                                           : "AES-256-CBC";
    case EncrId::kAesGcm8:
    case EncrId::kAesGcm12:
    case EncrId::kAesGcm16:
      return suite.key_bits == 128 ? "AES-128-GCM" : suite.key_bits == 192 ? "AES-192-GCM"
                                                                           : "AES-256-GCM";
    case EncrId::kChaCha20Poly1305: return "ChaCha20-Poly1305";
    case EncrId::k3Des: return "DES-EDE3-CBC";  // RFC 2451; the legacy-free default provider
    case EncrId::kAesCtr:
    case EncrId::kAesCcm8:
    case EncrId::kAesCcm12:
    case EncrId::kAesCcm16: return nullptr;  // ESP only
  }
  return nullptr;
}

const char* HmacDigest(IntegId id) {
  switch (id) {
    case IntegId::kHmacMd5_96: return "MD5";
    case IntegId::kHmacSha1_96: return "SHA1";
    case IntegId::kHmacSha2_256_128: return "SHA2-256";
    case IntegId::kHmacSha2_384_192: return "SHA2-384";
    case IntegId::kHmacSha2_512_256: return "SHA2-512";
    case IntegId::kNone: return nullptr;
  }
  return nullptr;
}

int AsInt(std::size_t n) { return static_cast<int>(n); }

}  // namespace

// Set up once in Create(): the algorithms come from the process-wide cache (ossl::Cipher/Hmac),
// the HMAC context is keyed once, and each cipher context is keyed on its first use, then only
// re-initialised with a new IV per message. An IKE SA uses each SkCipher in one direction only
// (SK_ei seals on the initiator and opens on the responder), so only that direction's context is
// ever built: about 1.2 kB of OpenSSL state saved per SkCipher. There is one context per
// direction because CBC decryption uses another key schedule.
struct SkCipher::Impl {
  SkSuite suite;
  bool aead = false;
  std::size_t icv_size = 0;
  std::array<std::uint8_t, kAeadSaltSize> salt{};
  const EVP_CIPHER* cipher = nullptr;
  SecretBytes key;  // the cipher key (without the AEAD salt), for the lazily keyed contexts
  ossl::CipherCtxPtr enc;
  mutable ossl::CipherCtxPtr dec;  // Open() is const; the context is built on its first call
  ossl::MacCtxPtr hmac;  // keyed with SK_a; re-initialised with a NULL key per message

  std::uint64_t next_iv = 0;

  // A context keyed for one direction. Fails only on allocation failure.
  ossl::CipherCtxPtr Keyed(bool encrypt) const {
    ossl::CipherCtxPtr ctx(EVP_CIPHER_CTX_new());
    if (!ctx || EVP_CipherInit_ex2(ctx.get(), cipher, key.Reveal().data(), nullptr, encrypt ? 1 : 0,
                                   nullptr) != 1)
      std::abort();
    // RFC 7296 3.14 padding is done here, not by OpenSSL.
    if (!aead) EVP_CIPHER_CTX_set_padding(ctx.get(), 0);
    return ctx;
  }
  EVP_CIPHER_CTX* Enc() {
    if (!enc) enc = Keyed(true);
    return enc.get();
  }
  EVP_CIPHER_CTX* Dec() const {
    if (!dec) dec = Keyed(false);
    return dec.get();
  }

  ~Impl() { SecureWipe(salt.data(), salt.size()); }

  // AEAD nonce: salt | explicit IV (RFC 5282 4, RFC 7634 2).
  std::array<std::uint8_t, 12> Nonce(const std::uint8_t* iv) const {
    std::array<std::uint8_t, 12> nonce{};
    std::copy(salt.begin(), salt.end(), nonce.begin());
    std::copy_n(iv, kAeadIvSize, nonce.begin() + kAeadSaltSize);
    return nonce;
  }

  // Truncated HMAC over aad | iv_and_ciphertext (RFC 7296 3.14: from the IKE header through the
  // encrypted data).
  bool Mac(ByteView aad, ByteView iv_and_ciphertext, std::uint8_t* out) const {
    std::array<std::uint8_t, 64> full{};
    std::size_t len = 0;
    const bool ok = EVP_MAC_init(hmac.get(), nullptr, 0, nullptr) == 1 &&
                    EVP_MAC_update(hmac.get(), aad.data(), aad.size()) == 1 &&
                    EVP_MAC_update(hmac.get(), iv_and_ciphertext.data(),
                                   iv_and_ciphertext.size()) == 1 &&
                    EVP_MAC_final(hmac.get(), full.data(), &len, full.size()) == 1 &&
                    len >= icv_size;
    if (ok) std::copy_n(full.begin(), icv_size, out);
    return ok;
  }
};

SkCipher::SkCipher(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
SkCipher::SkCipher(SkCipher&&) noexcept = default;
SkCipher& SkCipher::operator=(SkCipher&&) noexcept = default;
SkCipher::~SkCipher() = default;

void SkCipher::ReleaseContexts() {
  impl_->enc.reset();
  impl_->dec.reset();
}

std::expected<SkCipher, std::string> SkCipher::Create(const SkSuite& suite, SecretBytes encr_key,
                                                       SecretBytes integ_key) {
  const char* name = CipherName(suite);
  if (name == nullptr || !IsSupported(suite.encr, suite.key_bits)) {
    return std::unexpected("unsupported encryption transform");
  }
  auto impl = std::make_unique<Impl>();
  impl->suite = suite;
  impl->aead = IsAead(suite.encr);
  if (encr_key.size() != EncrKeyMaterialSize(suite.encr, suite.key_bits)) {
    return std::unexpected("encryption key has the wrong size");
  }
  ByteView key = encr_key.Reveal();
  if (impl->aead) {
    if (suite.integ != IntegId::kNone || !integ_key.empty()) {
      return std::unexpected("an AEAD transform takes no integrity transform");  // RFC 5282 8
    }
    impl->icv_size = AeadIcvSize(suite.encr);
    // RFC 5282 7.1 / RFC 7634 2: the salt is the last 4 octets of the key material.
    std::copy(key.end() - kAeadSaltSize, key.end(), impl->salt.begin());
    key = key.first(key.size() - kAeadSaltSize);
  } else {
    const char* digest = HmacDigest(suite.integ);
    if (digest == nullptr) return std::unexpected("CBC needs an integrity transform");
    if (integ_key.size() != IntegKeySize(suite.integ)) {
      return std::unexpected("integrity key has the wrong size");
    }
    impl->icv_size = IntegIcvSize(suite.integ);
    if (!ossl::Hmac()) return std::unexpected("OpenSSL has no HMAC");
    impl->hmac.reset(EVP_MAC_CTX_new(const_cast<EVP_MAC*>(ossl::Hmac())));
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, const_cast<char*>(digest), 0),
        OSSL_PARAM_construct_end()};
    if (!impl->hmac || EVP_MAC_init(impl->hmac.get(), integ_key.Reveal().data(),
                                    integ_key.size(), params) != 1) {
      return std::unexpected("HMAC setup failed");
    }
  }
  impl->cipher = ossl::Cipher(name);
  if (!impl->cipher) return std::unexpected("cipher setup failed");
  impl->key = SecretBytes(key);
  return SkCipher(std::move(impl));
}

// CBC: the IV is one block (RFC 7296 3.14); AEAD: the explicit IV.
std::size_t SkCipher::iv_size() const {
  return impl_->aead ? kAeadIvSize : BlockSize(impl_->suite.encr);
}
std::size_t SkCipher::icv_size() const { return impl_->icv_size; }

std::size_t SkCipher::SealedSize(std::size_t plaintext_size) const {
  // + 1 for the Pad Length octet; CBC pads to the block size (RFC 7296 3.14).
  std::size_t encrypted = plaintext_size + 1;
  const std::size_t block = BlockSize(impl_->suite.encr);
  encrypted = (encrypted + block - 1) / block * block;
  return iv_size() + encrypted + icv_size();
}

std::size_t SkCipher::MaxPlaintext(std::size_t body_size) const {
  const std::size_t overhead = iv_size() + icv_size() + 1;
  if (body_size < overhead) return 0;
  if (impl_->aead) return body_size - overhead;
  const std::size_t block = BlockSize(impl_->suite.encr);
  const std::size_t blocks = (body_size - iv_size() - icv_size()) / block;
  return blocks == 0 ? 0 : blocks * block - 1;
}

Bytes SkCipher::Seal(ByteView aad, ByteView plaintext, Random& random) {
  Impl& s = *impl_;
  Bytes body(SealedSize(plaintext.size()));
  const std::size_t iv_len = iv_size();
  const std::size_t encrypted_len = body.size() - iv_len - s.icv_size;
  std::uint8_t* iv = body.data();
  std::uint8_t* ct = body.data() + iv_len;
  std::uint8_t* icv = ct + encrypted_len;
  // Plaintext | zero padding | Pad Length, encrypted in place in the output buffer.
  std::copy(plaintext.begin(), plaintext.end(), ct);
  const std::size_t pad = encrypted_len - plaintext.size() - 1;
  ct[encrypted_len - 1] = static_cast<std::uint8_t>(pad);
  int len = 0;
  bool ok = true;
  if (s.aead) {
    // RFC 5282 3.1: the IV must not repeat for a key; a per-SA counter guarantees it.
    const std::uint64_t counter = s.next_iv++;
    for (std::size_t i = 0; i < kAeadIvSize; ++i) {
      iv[i] = static_cast<std::uint8_t>(counter >> (8 * (kAeadIvSize - 1 - i)));
    }
    const auto nonce = s.Nonce(iv);
    std::array<std::uint8_t, 16> tag{};
    ok = EVP_EncryptInit_ex2(s.Enc(), nullptr, nullptr, nonce.data(), nullptr) == 1 &&
         EVP_EncryptUpdate(s.Enc(), nullptr, &len, aad.data(), AsInt(aad.size())) == 1 &&
         EVP_EncryptUpdate(s.Enc(), ct, &len, ct, AsInt(encrypted_len)) == 1 &&
         EVP_EncryptFinal_ex(s.Enc(), ct + len, &len) == 1 &&
         EVP_CIPHER_CTX_ctrl(s.Enc(), EVP_CTRL_AEAD_GET_TAG, AsInt(tag.size()), tag.data()) ==
             1;
    // GCM with a shorter ICV uses the leading octets of the full tag (RFC 5282 / SP 800-38D).
    std::copy_n(tag.begin(), s.icv_size, icv);
  } else {
    random.Fill({iv, iv_len});
    ok = EVP_EncryptInit_ex2(s.Enc(), nullptr, nullptr, iv, nullptr) == 1 &&
         EVP_EncryptUpdate(s.Enc(), ct, &len, ct, AsInt(encrypted_len)) == 1 &&
         static_cast<std::size_t>(len) == encrypted_len &&
         s.Mac(aad, {iv, iv_len + encrypted_len}, icv);
  }
  if (!ok) std::abort();  // cannot fail with the contexts built in Create()
  return body;
}

std::expected<Bytes, std::string> SkCipher::Open(ByteView aad, ByteView body) const {
  const Impl& s = *impl_;
  const std::size_t iv_len = iv_size();
  if (body.size() < iv_len + s.icv_size + 1) return std::unexpected("body too short");
  const std::size_t encrypted_len = body.size() - iv_len - s.icv_size;
  const std::uint8_t* iv = body.data();
  const std::uint8_t* ct = body.data() + iv_len;
  const std::uint8_t* icv = ct + encrypted_len;
  Bytes plain(encrypted_len);
  int len = 0;
  if (s.aead) {
    const auto nonce = s.Nonce(iv);
    std::array<std::uint8_t, 16> tag{};
    std::copy_n(icv, s.icv_size, tag.begin());
    const bool ok =
        EVP_DecryptInit_ex2(s.Dec(), nullptr, nullptr, nonce.data(), nullptr) == 1 &&
        EVP_DecryptUpdate(s.Dec(), nullptr, &len, aad.data(), AsInt(aad.size())) == 1 &&
        EVP_DecryptUpdate(s.Dec(), plain.data(), &len, ct, AsInt(encrypted_len)) == 1 &&
        EVP_CIPHER_CTX_ctrl(s.Dec(), EVP_CTRL_AEAD_SET_TAG, AsInt(s.icv_size), tag.data()) ==
            1 &&
        EVP_DecryptFinal_ex(s.Dec(), plain.data() + len, &len) == 1;
    if (!ok) {
      SecureWipe(plain.data(), plain.size());
      return std::unexpected("ICV mismatch");
    }
  } else {
    if (encrypted_len % BlockSize(s.suite.encr) != 0) {
      return std::unexpected("ciphertext not a block multiple");
    }
    // RFC 7296 3.14: verify the ICV before decrypting anything.
    std::array<std::uint8_t, kMaxIcv> expected{};
    if (!s.Mac(aad, {iv, iv_len + encrypted_len}, expected.data())) std::abort();
    if (CRYPTO_memcmp(expected.data(), icv, s.icv_size) != 0) {
      return std::unexpected("ICV mismatch");
    }
    if (EVP_DecryptInit_ex2(s.Dec(), nullptr, nullptr, iv, nullptr) != 1 ||
        EVP_DecryptUpdate(s.Dec(), plain.data(), &len, ct, AsInt(encrypted_len)) != 1 ||
        static_cast<std::size_t>(len) != encrypted_len) {
      std::abort();
    }
  }
  const std::size_t pad = plain.back();
  if (pad + 1 > plain.size()) {
    SecureWipe(plain.data(), plain.size());
    return std::unexpected("pad length exceeds plaintext");
  }
  plain.resize(plain.size() - pad - 1);
  return plain;
}

}  // namespace minivpn::crypto
