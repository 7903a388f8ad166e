#include "crypto/key_exchange.h"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/rand.h>
#include <openssl/ec.h>
#include <openssl/obj_mac.h>

#include <algorithm>
#include <utility>

#include "crypto/ossl.h"

namespace minivpn::crypto {

namespace {

// RFC 3526 3 (group 14) and 4 (group 15); the generator is 2 for both.
constexpr std::string_view kModp2048Hex =
    "FFFFFFFF FFFFFFFF C90FDAA2 2168C234 C4C6628B 80DC1CD1 29024E08 8A67CC74 020BBEA6 3B139B22"
    "514A0879 8E3404DD EF9519B3 CD3A431B 302B0A6D F25F1437 4FE1356D 6D51C245 E485B576 625E7EC6"
    "F44C42E9 A637ED6B 0BFF5CB6 F406B7ED EE386BFB 5A899FA5 AE9F2411 7C4B1FE6 49286651 ECE45B3D"
    "C2007CB8 A163BF05 98DA4836 1C55D39A 69163FA8 FD24CF5F 83655D23 DCA3AD96 1C62F356 208552BB"
    "9ED52907 7096966D 670C354E 4ABC9804 F1746C08 CA18217C 32905E46 2E36CE3B E39E772C 180E8603"
    "9B2783A2 EC07A28F B5C55DF0 6F4C52C9 DE2BCBF6 95581718 3995497C EA956AE5 15D22618 98FA0510"
    "15728E5A 8AACAA68 FFFFFFFF FFFFFFFF";
constexpr std::string_view kModp3072Hex =
    "FFFFFFFF FFFFFFFF C90FDAA2 2168C234 C4C6628B 80DC1CD1 29024E08 8A67CC74 020BBEA6 3B139B22"
    "514A0879 8E3404DD EF9519B3 CD3A431B 302B0A6D F25F1437 4FE1356D 6D51C245 E485B576 625E7EC6"
    "F44C42E9 A637ED6B 0BFF5CB6 F406B7ED EE386BFB 5A899FA5 AE9F2411 7C4B1FE6 49286651 ECE45B3D"
    "C2007CB8 A163BF05 98DA4836 1C55D39A 69163FA8 FD24CF5F 83655D23 DCA3AD96 1C62F356 208552BB"
    "9ED52907 7096966D 670C354E 4ABC9804 F1746C08 CA18217C 32905E46 2E36CE3B E39E772C 180E8603"
    "9B2783A2 EC07A28F B5C55DF0 6F4C52C9 DE2BCBF6 95581718 3995497C EA956AE5 15D22618 98FA0510"
    "15728E5A 8AAAC42D AD33170D 04507A33 A85521AB DF1CBA64 ECFB8504 58DBEF0A 8AEA7157 5D060C7D"
    "B3970F85 A6E1E4C7 ABF5AE8C DB0933D7 1E8C94E0 4A25619D CEE3D226 1AD2EE6B F12FFA06 D98A0864"
    "D8760273 3EC86A64 521F2B18 177B200C BBE11757 7A615D6C 770988C0 BAD946E2 08E24FA0 74E5AB31"
    "43DB5BFC E0FD108E 4B82D120 A93AD2CA FFFFFFFF FFFFFFFF";

// RFC 3526 8: the exponent needs twice the group's strength in bits. 512 random bits cover the
// upper estimates up to group 16 (4096 bits: 240), at a fraction of a full-size exponent's
// cost; groups 17 and 18 (270 and 310) get 544 and 640.
int ModpPrivateBits(DhGroup group) {
  switch (group) {
    case DhGroup::kModp6144: return 544;
    case DhGroup::kModp8192: return 640;
    default: return 512;
  }
}

enum class Kind { kModp, kEcp, kX25519 };

struct GroupInfo {
  Kind kind;
  const char* ossl_name;  // OpenSSL group/curve name
  std::size_t size;       // modulus octets, EC coordinate octets, or 32
};

// OpenSSL names the RFC 3526 groups; RFC 2409's 1024-bit group 2 has no name there and is
// built from its prime (ossl_name nullptr).
std::optional<GroupInfo> Info(DhGroup group) {
  switch (group) {
    case DhGroup::kModp1024: return GroupInfo{Kind::kModp, nullptr, 128};
    case DhGroup::kModp1536: return GroupInfo{Kind::kModp, "modp_1536", 192};
    case DhGroup::kModp2048: return GroupInfo{Kind::kModp, "modp_2048", 256};
    case DhGroup::kModp3072: return GroupInfo{Kind::kModp, "modp_3072", 384};
    case DhGroup::kModp4096: return GroupInfo{Kind::kModp, "modp_4096", 512};
    case DhGroup::kModp6144: return GroupInfo{Kind::kModp, "modp_6144", 768};
    case DhGroup::kModp8192: return GroupInfo{Kind::kModp, "modp_8192", 1024};
    case DhGroup::kEcp256: return GroupInfo{Kind::kEcp, "P-256", 32};
    case DhGroup::kEcp384: return GroupInfo{Kind::kEcp, "P-384", 48};
    case DhGroup::kEcp521: return GroupInfo{Kind::kEcp, "P-521", 66};
    case DhGroup::kCurve25519: return GroupInfo{Kind::kX25519, "X25519", 32};
    case DhGroup::kNone: break;
  }
  return std::nullopt;
}

std::unexpected<std::string> Fail(std::string message) {
  return std::unexpected(std::move(message));
}

// Internal helpers report failure through `error` instead of std::expected: clang 14 (the fuzz
// build) cannot destroy a std::expected whose value or error type has a non-trivial destructor
// (it lacks P0848), so crypto/*.cc only ever builds one in a return statement.
ossl::PkeyPtr Failed(std::string& error, std::string message) {
  error = std::move(message);
  return nullptr;
}

ossl::BnPtr ToBn(ByteView bytes) {
  return ossl::BnPtr(BN_bin2bn(bytes.data(), static_cast<int>(bytes.size()), nullptr));
}

// The group of a MODP key: its OpenSSL name, or (group 2, which OpenSSL does not name) its
// prime and generator 2. OSSL_PARAM_BLD keeps pointers to the BIGNUMs until
// OSSL_PARAM_BLD_to_param, so they live for the process (built once).
bool PushModpGroup(OSSL_PARAM_BLD* bld, DhGroup group, const GroupInfo& info) {
  if (info.ossl_name != nullptr) {
    return OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, info.ossl_name, 0) ==
           1;
  }
  if (group != DhGroup::kModp1024) return false;
  static const ossl::BnPtr p = ToBn(ModpPrime(DhGroup::kModp1024));
  static const ossl::BnPtr g = [] {
    ossl::BnPtr two(BN_new());
    if (two && BN_set_word(two.get(), 2) != 1) two.reset();
    return two;
  }();
  return p && g && OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_FFC_P, p.get()) == 1 &&
         OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_FFC_G, g.get()) == 1;
}

// An EVP_PKEY of `type` ("DH"/"EC") from an OSSL_PARAM list.
ossl::PkeyPtr FromData(const char* type, OSSL_PARAM* params, int selection) {
  ossl::PkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_name(nullptr, type, nullptr));
  EVP_PKEY* pkey = nullptr;
  if (!ctx || EVP_PKEY_fromdata_init(ctx.get()) != 1 ||
      EVP_PKEY_fromdata(ctx.get(), &pkey, selection, params) != 1) {
    return nullptr;
  }
  return ossl::PkeyPtr(pkey);
}

// RFC 5903 7 sends x | y; OpenSSL wants the SEC 1 uncompressed point 0x04 | x | y.
Bytes EcOctets(ByteView xy) {
  Bytes out;
  out.reserve(xy.size() + 1);
  out.push_back(0x04);
  Append(out, xy);
  return out;
}

// Builds the peer's EVP_PKEY after the RFC checks. MODP: RFC 6989 2.1 (1 < y < p-1 suffices
// for these safe-prime groups). ECP: RFC 6989 2.3 / RFC 5903: the point must be on the curve
// (with cofactor 1 that also puts it in the prime-order group). X25519: RFC 8031 2.3 needs no
// check of the input; the all-zero output is rejected in ComputeShared().
ossl::PkeyPtr ImportPeer(DhGroup group, ByteView peer, std::string& error) {
  const auto info = Info(group);
  if (!info) return Failed(error, "unsupported key exchange method");
  if (peer.size() != KePublicSize(group)) {
    return Failed(error, "KE data length " + std::to_string(peer.size()) + " != " +
                             std::to_string(KePublicSize(group)) + " for " +
                             std::string(Name(group)));
  }
  switch (info->kind) {
    case Kind::kModp: {
      const ossl::BnPtr y = ToBn(peer);
      const ossl::BnPtr p = ToBn(ModpPrime(group));
      ossl::BnPtr p_minus_1(BN_dup(p.get()));
      if (!y || !p || !p_minus_1 || BN_sub_word(p_minus_1.get(), 1) != 1) {
        return Failed(error, "out of memory");
      }
      if (BN_cmp(y.get(), BN_value_one()) <= 0 || BN_cmp(y.get(), p_minus_1.get()) >= 0) {
        return Failed(error, "MODP public value not in 1 < y < p-1 (RFC 6989 2.1)");
      }
      ossl::ParamBldPtr bld(OSSL_PARAM_BLD_new());
      if (!bld || !PushModpGroup(bld.get(), group, *info) ||
          OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_PUB_KEY, y.get()) != 1) {
        return Failed(error, "out of memory");
      }
      ossl::ParamsPtr params(OSSL_PARAM_BLD_to_param(bld.get()));
      ossl::PkeyPtr pkey = FromData("DH", params.get(), EVP_PKEY_PUBLIC_KEY);
      if (!pkey) return Failed(error, "MODP public value rejected by OpenSSL");
      return pkey;
    }
    case Kind::kEcp: {
      Bytes octets = EcOctets(peer);
      OSSL_PARAM params[] = {
          OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME,
                                           const_cast<char*>(info->ossl_name), 0),
          OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY, octets.data(), octets.size()),
          OSSL_PARAM_construct_end()};
      // Decoding checks that x, y < field prime and that the point is on the curve.
      ossl::PkeyPtr pkey = FromData("EC", params, EVP_PKEY_PUBLIC_KEY);
      if (!pkey) return Failed(error, "ECP point is not on the curve (RFC 6989 2.3)");
      // The cheap check: not the point at infinity, on the curve, coordinates in range; no n*Q.
      ossl::PkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_pkey(nullptr, pkey.get(), nullptr));
      if (!ctx || EVP_PKEY_public_check_quick(ctx.get()) != 1) {
        return Failed(error, "ECP point is not on the curve (RFC 6989 2.3)");
      }
      return pkey;
    }
    case Kind::kX25519: {
      ossl::PkeyPtr pkey(
          EVP_PKEY_new_raw_public_key(EVP_PKEY_X25519, nullptr, peer.data(), peer.size()));
      if (!pkey) return Failed(error, "X25519 public value rejected by OpenSSL");
      return pkey;
    }
  }
  return Failed(error, "unsupported key exchange method");
}

class OsslKeyExchange final : public KeyExchange {
 public:
  OsslKeyExchange(DhGroup group, ossl::PkeyPtr key, Bytes public_value)
      : group_(group), key_(std::move(key)), public_value_(std::move(public_value)) {}

  DhGroup group() const override { return group_; }
  const Bytes& public_value() const override { return public_value_; }

  std::expected<SecretBytes, std::string> ComputeShared(ByteView peer_public) const override {
    std::string error;
    const ossl::PkeyPtr peer = ImportPeer(group_, peer_public, error);
    if (!peer) return Fail(std::move(error));
    ossl::PkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_pkey(nullptr, key_.get(), nullptr));
    if (!ctx || EVP_PKEY_derive_init(ctx.get()) != 1) return Fail("derive init failed");
    // RFC 7296 2.14: g^ir is padded with zeros to the length of the modulus.
    if (Info(group_)->kind == Kind::kModp) {
      if (EVP_PKEY_CTX_set_dh_pad(ctx.get(), 1) != 1) return Fail("DH padding not available");
    }
    // validate_peer = 0: ImportPeer() ran the RFC checks; OpenSSL's default here would repeat
    // them with the full subgroup-order test (a second exponentiation / scalar multiply).
    if (EVP_PKEY_derive_set_peer_ex(ctx.get(), peer.get(), 0) != 1) {
      return Fail("peer key does not match the group");
    }
    std::size_t len = 0;
    if (EVP_PKEY_derive(ctx.get(), nullptr, &len) != 1) return Fail("derive failed");
    SecretBytes shared(len);
    if (EVP_PKEY_derive(ctx.get(), shared.MutableReveal().data(), &len) != 1) {
      // OpenSSL's X25519 refuses an all-zero result itself (RFC 7748 6.1).
      if (group_ == DhGroup::kCurve25519) {
        return Fail("X25519 shared secret is all zero (RFC 8031 2.3)");
      }
      return Fail("derive failed");
    }
    if (len != shared.size()) return Fail("derive returned a short secret");
    if (group_ == DhGroup::kCurve25519) {
      // RFC 8031 2.3: MUST check that the shared secret is not all zero.
      static constexpr std::uint8_t kZero[32] = {};
      if (shared.Equals(kZero)) return Fail("X25519 shared secret is all zero (RFC 8031 2.3)");
    }
    return shared;
  }

 private:
  DhGroup group_;
  ossl::PkeyPtr key_;
  Bytes public_value_;
};

// The KE payload data of our own key (RFC 7296 3.4, RFC 5903 7, RFC 8031 2); empty on failure.
Bytes PublicValue(DhGroup group, EVP_PKEY* key) {
  const auto info = Info(group);
  switch (info->kind) {
    case Kind::kModp: {
      BIGNUM* raw = nullptr;
      if (EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_PUB_KEY, &raw) != 1) return {};
      const ossl::BnPtr pub(raw);
      Bytes out(info->size);
      if (BN_bn2binpad(pub.get(), out.data(), static_cast<int>(out.size())) < 0) return {};
      return out;
    }
    case Kind::kEcp: {
      Bytes octets(2 * info->size + 1);
      std::size_t len = 0;
      if (EVP_PKEY_get_octet_string_param(key, OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, octets.data(),
                                          octets.size(), &len) != 1 ||
          len != octets.size() || octets[0] != 0x04) {
        return {};
      }
      return Bytes(octets.begin() + 1, octets.end());
    }
    case Kind::kX25519: {
      Bytes out(32);
      std::size_t len = out.size();
      if (EVP_PKEY_get_raw_public_key(key, out.data(), &len) != 1 || len != 32) return {};
      return out;
    }
  }
  return {};
}

// Our side from an OpenSSL key pair; nullptr if there is none or its public value is unreadable.
std::unique_ptr<KeyExchange> MakeKeyExchange(DhGroup group, ossl::PkeyPtr key) {
  if (!key) return nullptr;
  Bytes pub = PublicValue(group, key.get());
  if (pub.size() != KePublicSize(group)) return nullptr;
  return std::make_unique<OsslKeyExchange>(group, std::move(key), std::move(pub));
}

ossl::PkeyPtr ModpFromPrivate(DhGroup group, const GroupInfo& info, ByteView private_key);

ossl::PkeyPtr GenerateModp(DhGroup group, const GroupInfo& info) {
  if (info.ossl_name == nullptr) {
    // No named group in OpenSSL (group 2): a random exponent, then y = 2^x.
    SecretBytes x(static_cast<std::size_t>(ModpPrivateBits(group)) / 8);
    if (RAND_priv_bytes(x.MutableReveal().data(), static_cast<int>(x.size())) != 1) return nullptr;
    return ModpFromPrivate(group, info, x.Reveal());
  }
  ossl::PkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_name(nullptr, "DH", nullptr));
  int priv_bits = ModpPrivateBits(group);
  OSSL_PARAM params[] = {
      OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME,
                                       const_cast<char*>(info.ossl_name), 0),
      OSSL_PARAM_construct_int(OSSL_PKEY_PARAM_DH_PRIV_LEN, &priv_bits),
      OSSL_PARAM_construct_end()};
  EVP_PKEY* pkey = nullptr;
  if (!ctx || EVP_PKEY_keygen_init(ctx.get()) != 1 ||
      EVP_PKEY_CTX_set_params(ctx.get(), params) != 1 || EVP_PKEY_generate(ctx.get(), &pkey) != 1) {
    return nullptr;
  }
  return ossl::PkeyPtr(pkey);
}

// MODP key from a fixed exponent x: y = 2^x mod p.
ossl::PkeyPtr ModpFromPrivate(DhGroup group, const GroupInfo& info, ByteView private_key) {
  const ossl::BnPtr x = ToBn(private_key);
  const ossl::BnPtr p = ToBn(ModpPrime(group));
  ossl::BnPtr g(BN_new());
  ossl::BnPtr y(BN_new());
  ossl::BnCtxPtr bn_ctx(BN_CTX_new());
  // The exponent is secret (group 2 generates its keys here): a constant-time exponentiation,
  // not OpenSSL's word-base shortcut whose timing depends on the exponent.
  if (x) BN_set_flags(x.get(), BN_FLG_CONSTTIME);
  if (!x || !p || !g || !y || !bn_ctx || BN_set_word(g.get(), 2) != 1 || BN_is_zero(x.get()) ||
      BN_cmp(x.get(), p.get()) >= 0 ||
      BN_mod_exp_mont_consttime(y.get(), g.get(), x.get(), p.get(), bn_ctx.get(), nullptr) != 1) {
    return nullptr;
  }
  ossl::ParamBldPtr bld(OSSL_PARAM_BLD_new());
  if (!bld || !PushModpGroup(bld.get(), group, info) ||
      OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_PRIV_KEY, x.get()) != 1 ||
      OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_PUB_KEY, y.get()) != 1) {
    return nullptr;
  }
  ossl::ParamsPtr params(OSSL_PARAM_BLD_to_param(bld.get()));
  return FromData("DH", params.get(), EVP_PKEY_KEYPAIR);
}

// EC key from a fixed scalar d: Q = d*G.
ossl::PkeyPtr EcpFromPrivate(const GroupInfo& info, ByteView private_key) {
  if (private_key.size() != info.size) return nullptr;
  const int nid = EC_curve_nist2nid(info.ossl_name);
  ossl::EcGroupPtr ec_group(EC_GROUP_new_by_curve_name(nid));
  const ossl::BnPtr d = ToBn(private_key);
  ossl::BnCtxPtr bn_ctx(BN_CTX_new());
  if (!ec_group || !d || !bn_ctx || BN_is_zero(d.get()) ||
      BN_cmp(d.get(), EC_GROUP_get0_order(ec_group.get())) >= 0) {
    return nullptr;
  }
  ossl::EcPointPtr q(EC_POINT_new(ec_group.get()));
  Bytes octets(2 * info.size + 1);
  if (!q ||
      EC_POINT_mul(ec_group.get(), q.get(), d.get(), nullptr, nullptr, bn_ctx.get()) != 1 ||
      EC_POINT_point2oct(ec_group.get(), q.get(), POINT_CONVERSION_UNCOMPRESSED, octets.data(),
                         octets.size(), bn_ctx.get()) != octets.size()) {
    return nullptr;
  }
  ossl::ParamBldPtr bld(OSSL_PARAM_BLD_new());
  if (!bld ||
      OSSL_PARAM_BLD_push_utf8_string(bld.get(), OSSL_PKEY_PARAM_GROUP_NAME, info.ossl_name, 0) !=
          1 ||
      OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_PRIV_KEY, d.get()) != 1 ||
      OSSL_PARAM_BLD_push_octet_string(bld.get(), OSSL_PKEY_PARAM_PUB_KEY, octets.data(),
                                       octets.size()) != 1) {
    return nullptr;
  }
  ossl::ParamsPtr params(OSSL_PARAM_BLD_to_param(bld.get()));
  return FromData("EC", params.get(), EVP_PKEY_KEYPAIR);
}

}  // namespace

std::expected<std::unique_ptr<KeyExchange>, std::string> KeyExchange::Generate(DhGroup group) {
  const auto info = Info(group);
  if (!info) return Fail("unsupported key exchange method");
  ossl::PkeyPtr key;
  switch (info->kind) {
    case Kind::kModp: key = GenerateModp(group, *info); break;
    case Kind::kEcp:
      key.reset(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", info->ossl_name));
      break;
    case Kind::kX25519: key.reset(EVP_PKEY_Q_keygen(nullptr, nullptr, "X25519")); break;
  }
  std::unique_ptr<KeyExchange> ke = MakeKeyExchange(group, std::move(key));
  if (!ke) return Fail("no key pair for " + std::string(Name(group)));
  return ke;
}

std::expected<std::unique_ptr<KeyExchange>, std::string> KeyExchange::FromPrivate(
    DhGroup group, ByteView private_key) {
  const auto info = Info(group);
  if (!info) return Fail("unsupported key exchange method");
  ossl::PkeyPtr key;
  switch (info->kind) {
    case Kind::kModp: key = ModpFromPrivate(group, *info, private_key); break;
    case Kind::kEcp: key = EcpFromPrivate(*info, private_key); break;
    case Kind::kX25519:
      if (private_key.size() != 32) return Fail("X25519 private key must be 32 octets");
      key.reset(EVP_PKEY_new_raw_private_key(EVP_PKEY_X25519, nullptr, private_key.data(),
                                             private_key.size()));
      break;
  }
  std::unique_ptr<KeyExchange> ke = MakeKeyExchange(group, std::move(key));
  if (!ke) return Fail("no key pair for " + std::string(Name(group)));
  return ke;
}

std::expected<void, std::string> ValidatePeerPublic(DhGroup group, ByteView peer_public) {
  std::string error;
  if (!ImportPeer(group, peer_public, error)) return Fail(std::move(error));
  return {};
}

std::expected<void, std::string> ValidatePeerPublicFull(DhGroup group, ByteView peer_public) {
  std::string error;
  const ossl::PkeyPtr peer = ImportPeer(group, peer_public, error);
  if (!peer) return Fail(std::move(error));
  ossl::PkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_pkey(nullptr, peer.get(), nullptr));
  if (!ctx || EVP_PKEY_public_check(ctx.get()) != 1) {
    return Fail("public value failed OpenSSL's full check");
  }
  return {};
}

namespace {

// A prime OpenSSL carries (RFC 2409 6.2, RFC 3526), as big-endian octets.
Bytes OsslPrime(BIGNUM* (*get)(BIGNUM*)) {
  const ossl::BnPtr p(get(nullptr));
  Bytes out(p ? static_cast<std::size_t>(BN_num_bytes(p.get())) : 0);
  if (!p || BN_bn2bin(p.get(), out.data()) != static_cast<int>(out.size())) std::abort();
  return out;
}

}  // namespace

ByteView ModpPrime(DhGroup group) {
  static const Bytes k1024 = OsslPrime(BN_get_rfc2409_prime_1024);
  static const Bytes k1536 = OsslPrime(BN_get_rfc3526_prime_1536);
  static const Bytes k2048 = FromHex(kModp2048Hex);
  static const Bytes k3072 = FromHex(kModp3072Hex);
  static const Bytes k4096 = OsslPrime(BN_get_rfc3526_prime_4096);
  static const Bytes k6144 = OsslPrime(BN_get_rfc3526_prime_6144);
  static const Bytes k8192 = OsslPrime(BN_get_rfc3526_prime_8192);
  switch (group) {
    case DhGroup::kModp1024: return k1024;
    case DhGroup::kModp1536: return k1536;
    case DhGroup::kModp2048: return k2048;
    case DhGroup::kModp3072: return k3072;
    case DhGroup::kModp4096: return k4096;
    case DhGroup::kModp6144: return k6144;
    case DhGroup::kModp8192: return k8192;
    default: return {};
  }
}

}  // namespace minivpn::crypto
