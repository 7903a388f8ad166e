// crypto_bench: microseconds per peer-value validation (the RFC 6989 / RFC 8031 checks we use
// vs OpenSSL's full public-key check), per key exchange, and per piece of handshake crypto.
// Built with the tests, not run by ctest:  crypto_bench [iterations-scale]
//
// Measured 2026-11-26, Release build, OpenSSL 3.0.19, 2 shared cores (load ~3), microseconds:
//   group       validate  OpenSSL full check   one side's KE  KE + full check
//   MODP_2048        4.5       1400 - 3100       800 - 1250      2270 - 3380
//   MODP_3072        4.5       4550 - 7000      1720 - 2620      6290 - 9270
//   ECP_256           17         49 - 70           73 - 115       123 - 195
//   ECP_384           15        340 - 550        1050 - 1550      1380 - 1710
//   ECP_521           23        207 - 386         325 - 670       535 - 750
//   CURVE_25519      2.3          3.1                  52            56
//   responder handshake crypto (X25519, AES-GCM-16-256, PRF SHA2-256): ~65 us
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <string>

#include "crypto/key_exchange.h"
#include "crypto/keymat.h"
#include "crypto/prf.h"
#include "crypto/random.h"
#include "crypto/sk_cipher.h"

namespace minivpn::crypto {
namespace {

// Average microseconds of `fn` over `n` calls (after one warm-up call).
double Micros(int n, const std::function<void()>& fn) {
  fn();
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < n; ++i) fn();
  const std::chrono::duration<double, std::micro> d = std::chrono::steady_clock::now() - start;
  return d.count() / n;
}

void Check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "crypto_bench: %s failed\n", what);
    std::exit(1);
  }
}

void BenchGroups(int scale) {
  std::printf("%-12s %14s %14s %14s %16s\n", "group", "validate_us", "full_check_us",
              "ke_us", "ke_full_check_us");
  for (DhGroup group : {DhGroup::kModp2048, DhGroup::kModp3072, DhGroup::kEcp256,
                        DhGroup::kEcp384, DhGroup::kEcp521, DhGroup::kCurve25519}) {
    const bool modp = group == DhGroup::kModp2048 || group == DhGroup::kModp3072;
    const int n = modp ? 20 * scale : 200 * scale;
    auto peer = KeyExchange::Generate(group);
    Check(peer.has_value(), "Generate");
    const Bytes peer_public = (*peer)->public_value();
    const double cheap = Micros(n, [&] {
      Check(ValidatePeerPublic(group, peer_public).has_value(), "ValidatePeerPublic");
    });
    const double full = Micros(n, [&] {
      Check(ValidatePeerPublicFull(group, peer_public).has_value(), "ValidatePeerPublicFull");
    });
    // One side's work for a whole exchange: a fresh key pair, then g^ir from the peer's value
    // (ComputeShared runs the cheap checks itself).
    const double ke = Micros(n, [&] {
      auto ours = KeyExchange::Generate(group);
      Check(ours.has_value() && (*ours)->ComputeShared(peer_public).has_value(), "KE");
    });
    const double ke_full = Micros(n, [&] {
      auto ours = KeyExchange::Generate(group);
      Check(ours.has_value() && ValidatePeerPublicFull(group, peer_public).has_value() &&
                (*ours)->ComputeShared(peer_public).has_value(),
            "KE with full check");
    });
    std::printf("%-12s %14.1f %14.1f %14.1f %16.1f\n", std::string(Name(group)).c_str(), cheap,
                full, ke, ke_full);
  }
}

void BenchHandshakeCrypto(int scale) {
  const int n = 2000 * scale;
  const Prf prf = *Prf::Create(PrfId::kHmacSha2_256);
  SeededRandom random(1);
  Bytes ni(32), nr(32);
  random.Fill(ni);
  random.Fill(nr);
  const SecretBytes g_ir(Bytes(32, 7));
  const SecretBytes psk = SecretBytes::FromString("bench-psk");
  const Bytes message(240, 1), id_body(26, 2);

  const double derive = Micros(n, [&] {
    const SecretBytes skeyseed = ComputeSkeyseed(prf, ni, nr, g_ir);
    const IkeKeys keys = DeriveIkeKeys(prf, skeyseed, ni, nr, 1, 2, {36, 0});
    const ChildKeys child = DeriveChildKeys(prf, keys.sk_d, nullptr, ni, nr, {36, 0});
    Check(!child.encr_r.empty(), "derive");
  });
  const double auth = Micros(n, [&] {
    const SecretBytes a = ComputePskAuth(prf, psk, message, nr, g_ir, id_body);
    Check(a.size() == 32, "auth");
  });
  std::printf("\n%-44s %8.2f us\n", "SKEYSEED + SK_* + CHILD KEYMAT (prf sha256)", derive);
  std::printf("%-44s %8.2f us\n", "one PSK AUTH value", auth);

  const Bytes inner(300, 0x5a), aad(32, 0x11);
  const struct {
    const char* name;
    SkSuite suite;
  } suites[] = {
      {"SK seal+open AES-GCM-16-256, 300 octets", {EncrId::kAesGcm16, 256, IntegId::kNone}},
      {"SK seal+open ChaCha20-Poly1305, 300 octets",
       {EncrId::kChaCha20Poly1305, 256, IntegId::kNone}},
      {"SK seal+open AES-CBC-128/HMAC-SHA256, 300",
       {EncrId::kAesCbc, 128, IntegId::kHmacSha2_256_128}},
  };
  for (const auto& s : suites) {
    auto c = SkCipher::Create(
        s.suite, SecretBytes(Bytes(EncrKeyMaterialSize(s.suite.encr, s.suite.key_bits), 3)),
        SecretBytes(Bytes(IntegKeySize(s.suite.integ), 4)));
    Check(c.has_value(), "SkCipher::Create");
    const double us = Micros(n, [&] {
      const Bytes body = c->Seal(aad, inner, random);
      Check(c->Open(aad, body).has_value(), "Open");
    });
    std::printf("%-44s %8.2f us\n", s.name, us);
  }
  const double setup = Micros(n, [&] {
    auto c = SkCipher::Create({EncrId::kAesGcm16, 256, IntegId::kNone},
                              SecretBytes(Bytes(36, 3)), SecretBytes());
    Check(c.has_value(), "SkCipher::Create");
  });
  std::printf("%-44s %8.2f us\n", "SkCipher::Create AES-GCM-16-256", setup);

  // One responder's crypto for IKE_SA_INIT + IKE_AUTH with aes256gcm16-prfsha256-x25519:
  // X25519 key pair + g^ir, SKEYSEED/SK_*/KEYMAT, verify + build AUTH, 2 SkCiphers,
  // open the request and seal the response.
  const auto peer = *KeyExchange::Generate(DhGroup::kCurve25519);
  const double total = Micros(n / 4, [&] {
    auto ours = KeyExchange::Generate(DhGroup::kCurve25519);
    auto shared = (*ours)->ComputeShared(peer->public_value());
    const SecretBytes skeyseed = ComputeSkeyseed(prf, ni, nr, *shared);
    const IkeKeys keys = DeriveIkeKeys(prf, skeyseed, ni, nr, 1, 2, {36, 0});
    const SecretBytes a1 = ComputePskAuth(prf, psk, message, nr, keys.sk_pi, id_body);
    const SecretBytes a2 = ComputePskAuth(prf, psk, message, ni, keys.sk_pr, id_body);
    auto in = SkCipher::Create({EncrId::kAesGcm16, 256, IntegId::kNone}, keys.sk_ei.Clone(), {});
    auto out = SkCipher::Create({EncrId::kAesGcm16, 256, IntegId::kNone}, keys.sk_er.Clone(), {});
    const Bytes request = in->Seal(aad, inner, random);  // stands in for the peer's message
    Check(in->Open(aad, request).has_value(), "open");
    const Bytes response = out->Seal(aad, inner, random);
    const ChildKeys child = DeriveChildKeys(prf, keys.sk_d, nullptr, ni, nr, {36, 0});
    Check(!response.empty() && !child.encr_i.empty() && a1.size() == a2.size(), "handshake");
  });
  std::printf("%-44s %8.2f us\n", "responder handshake crypto (x25519, GCM)", total);
}

}  // namespace
}  // namespace minivpn::crypto

int main(int argc, char** argv) {
  const int scale = argc > 1 ? std::max(1, std::atoi(argv[1])) : 1;
  minivpn::crypto::BenchGroups(scale);
  minivpn::crypto::BenchHandshakeCrypto(scale);
  return 0;
}
