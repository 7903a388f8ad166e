#include "bench/crypto_floor.h"

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <optional>

#include "crypto/key_exchange.h"
#include "crypto/keymat.h"
#include "crypto/prf.h"
#include "crypto/random.h"
#include "crypto/sk_cipher.h"

namespace minivpn::bench {

// Not inlined and not a tail call: callgrind must see it on the stack while fn runs.
__attribute__((noinline)) void BenchFloorCall(const std::function<void()>& fn) {
  fn();
  asm volatile("" ::: "memory");
}

namespace {

void Check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "minivpn-bench: crypto floor: %s failed\n", what);
    std::exit(1);
  }
}

// Sizes close to what the engine sends (aes256gcm16, one proposal, route-based TS).
constexpr std::size_t kAad = 32;               // IKE header + SK generic header
constexpr std::size_t kAuthRequestInner = 180;  // IDi N AUTH SA TSi TSr
constexpr std::size_t kAuthResponseInner = 150;
constexpr std::size_t kDeleteInner = 8;
constexpr std::size_t kIdBody = 24;
constexpr crypto::SkSuite kSuite{crypto::EncrId::kAesGcm16, 256, crypto::IntegId::kNone};

}  // namespace

FloorResult MeasureCryptoFloor(crypto::DhGroup group, std::size_t sk_messages,
                               std::size_t iterations, const InstructionCounter& counter) {
  const crypto::Prf prf = *crypto::Prf::Create(crypto::PrfId::kHmacSha2_256);
  crypto::SeededRandom random(7);
  Bytes ni(32), nr(32);
  random.Fill(ni);
  random.Fill(nr);
  const SecretBytes psk = BenchPsk();
  const Bytes init_request(200 + crypto::KePublicSize(group), 0x21);
  const Bytes init_response(220 + crypto::KePublicSize(group), 0x22);
  const Bytes id_body(kIdBody, 0x33), aad(kAad, 0x44);
  const Bytes auth_request(kAuthRequestInner, 0x55), auth_response(kAuthResponseInner, 0x66);
  const Bytes delete_request(kDeleteInner, 0x77), delete_response;
  const auto peer = crypto::KeyExchange::Generate(group);
  Check(peer.has_value(), "peer key pair");
  const Bytes peer_public = (*peer)->public_value();
  const std::size_t encr = crypto::EncrKeyMaterialSize(kSuite.encr, kSuite.key_bits);

  CostMeter meter;
  for (std::size_t i = 0; i <= iterations; ++i) {  // iteration 0 warms up and is not counted
    CostMeter one;
    std::optional<crypto::IkeKeys> keys;
    std::optional<crypto::SkCipher> in, out;
    Bytes our_public;
    // IKE_SA_INIT: our key pair, g^ir, SKEYSEED, SK_*, the two SK ciphers (2.14).
    {
      CostScope scope(one, counter);
      BenchFloorCall([&] {
        auto ours = crypto::KeyExchange::Generate(group);
        Check(ours.has_value(), "Generate");
        auto shared = (*ours)->ComputeShared(peer_public);
        Check(shared.has_value(), "ComputeShared");
        our_public = (*ours)->public_value();
        const SecretBytes skeyseed = crypto::ComputeSkeyseed(prf, ni, nr, *shared);
        keys = crypto::DeriveIkeKeys(prf, skeyseed, ni, nr, 1, 2, {encr, 0});
        in.emplace(*crypto::SkCipher::Create(kSuite, keys->sk_ei.Clone(), {}));
        out.emplace(*crypto::SkCipher::Create(kSuite, keys->sk_er.Clone(), {}));
      });
    }
    // The initiator's protected requests (not charged to the responder).
    auto peer_out = crypto::SkCipher::Create(kSuite, keys->sk_ei.Clone(), {});
    const Bytes auth_body = peer_out->Seal(aad, auth_request, random);
    const Bytes delete_body = peer_out->Seal(aad, delete_request, random);
    // IKE_AUTH: open, verify AUTH, compute ours, KEYMAT (2.17), seal; then the DELETE.
    {
      CostScope scope(one, counter);
      BenchFloorCall([&] {
        Check(in->Open(aad, auth_body).has_value(), "Open IKE_AUTH");
        const SecretBytes expected =
            crypto::ComputePskAuth(prf, psk, init_request, nr, keys->sk_pi, id_body);
        Check(expected.size() == 32, "AUTH verify");
        const SecretBytes ours =
            crypto::ComputePskAuth(prf, psk, init_response, ni, keys->sk_pr, id_body);
        const crypto::ChildKeys child =
            crypto::DeriveChildKeys(prf, keys->sk_d, nullptr, ni, nr, {encr, 0});
        Check(!child.encr_r.empty() && ours.size() == 32, "KEYMAT");
        Check(!out->Seal(aad, auth_response, random).empty(), "Seal IKE_AUTH");
        if (sk_messages >= 4) {
          Check(in->Open(aad, delete_body).has_value(), "Open DELETE");
          Check(!out->Seal(aad, delete_response, random).empty(), "Seal DELETE");
        }
      });
    }
    if (i == 0) continue;
    meter.cpu_ns += one.cpu_ns;
    meter.instructions += one.instructions;
  }
  const double n = static_cast<double>(iterations ? iterations : 1);
  return FloorResult{.cpu_us = static_cast<double>(meter.cpu_ns) / 1000.0 / n,
                     .instructions = static_cast<double>(meter.instructions) / n};
}

}  // namespace minivpn::bench
