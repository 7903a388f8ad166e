// libFuzzer target for SK/SKF protection (ike/wire/protect.h), as a round-trip property.
//
// Input: octet 0 picks the SK suite, octets 1-2 the fragmentation limit (100..1599), octet 3 a
// seed for the delivery order, the rest an inner payload chain whose first type is octet 4.
// When the chain decodes: Unprotect(Protect(inner)) == inner, and the fragments of
// ProtectFragmented, delivered to a Reassembler in a shuffled order with duplicates, give back
// exactly `inner`, completing on the last missing fragment and not before.
#include <algorithm>
#include <array>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <vector>

#include "crypto/algorithms.h"
#include "crypto/random.h"
#include "crypto/sk_cipher.h"
#include "ike/wire/protect.h"

namespace {

using minivpn::Bytes;
using minivpn::ByteView;
using minivpn::SecretBytes;
namespace crypto = minivpn::crypto;
namespace ike = minivpn::ike;

[[noreturn]] void Fail(const char* what) {
  std::fprintf(stderr, "protect_fuzzer: %s\n", what);
  std::abort();
}

constexpr std::array<crypto::SkSuite, 4> kSuites{{
    {crypto::EncrId::kAesCbc, 128, crypto::IntegId::kHmacSha2_256_128},
    {crypto::EncrId::kAesCbc, 256, crypto::IntegId::kHmacSha1_96},
    {crypto::EncrId::kAesGcm16, 256, crypto::IntegId::kNone},
    {crypto::EncrId::kChaCha20Poly1305, 256, crypto::IntegId::kNone},
}};

crypto::SkCipher MakeCipher(const crypto::SkSuite& suite) {
  SecretBytes encr(Bytes(crypto::EncrKeyMaterialSize(suite.encr, suite.key_bits), 0x42));
  SecretBytes integ(Bytes(
      suite.integ == crypto::IntegId::kNone ? 0 : crypto::IntegKeySize(suite.integ), 0x24));
  auto cipher = crypto::SkCipher::Create(suite, std::move(encr), std::move(integ));
  if (!cipher) Fail("cannot create the cipher");
  return std::move(*cipher);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 4) return 0;
  static std::array<crypto::SkCipher*, kSuites.size()> ciphers{};
  const std::size_t which = data[0] % kSuites.size();
  if (ciphers[which] == nullptr) ciphers[which] = new crypto::SkCipher(MakeCipher(kSuites[which]));
  crypto::SkCipher& cipher = *ciphers[which];
  const std::size_t max_datagram = 100 + ((data[1] << 8) | data[2]) % 1500;
  const std::uint8_t order_seed = data[3];
  const ByteView chain(data + 4, size - 4);
  const auto first = chain.empty() ? ike::PayloadType::kNone
                                   : static_cast<ike::PayloadType>(chain[0]);
  auto inner = ike::DecodePayloads(first, chain.empty() ? chain : chain.subspan(1));
  if (!inner) return 0;

  ike::Header header;
  header.spi_i = 0x1122334455667788ULL;
  header.spi_r = 0x99aabbccddeeff00ULL;
  header.exchange = ike::ExchangeType::kIkeAuth;
  header.flags = ike::kFlagInitiator;
  header.message_id = 1;
  crypto::SeededRandom random(order_seed);

  const Bytes whole = ike::Protect(header, *inner, cipher, random);
  auto message = ike::Decode(whole);
  if (!message) Fail("Protect output does not decode");
  auto opened = ike::Unprotect(whole, *message, cipher);
  if (!opened) Fail(ike::Describe(opened.error()).c_str());
  if (*opened != *inner) Fail("Unprotect(Protect(inner)) != inner");

  const std::vector<Bytes> fragments =
      ike::ProtectFragmented(header, *inner, cipher, random, max_datagram);
  if (fragments.size() > ike::kMaxFragments) return 0;
  std::vector<std::size_t> order;
  for (std::size_t i = 0; i < fragments.size(); ++i) {
    order.push_back(i);
    if ((order_seed >> (i % 8)) & 1) order.push_back(i);  // some duplicates
  }
  std::mt19937 shuffle(order_seed);
  std::shuffle(order.begin(), order.end(), shuffle);
  ike::Reassembler reassembler;
  std::vector<bool> seen(fragments.size(), false);
  std::size_t missing = fragments.size();
  for (const std::size_t i : order) {
    if (fragments[i].size() > max_datagram && fragments.size() > 1) Fail("fragment too big");
    auto m = ike::Decode(fragments[i]);
    if (!m) Fail(ike::Describe(m.error()).c_str());
    if (fragments.size() == 1) {
      auto single = ike::Unprotect(fragments[i], *m, cipher);
      if (!single || *single != *inner) Fail("single datagram does not round-trip");
      return 0;
    }
    auto added = reassembler.Add(fragments[i], *m, cipher);
    if (!added) Fail(ike::Describe(added.error()).c_str());
    if (!seen[i]) {
      seen[i] = true;
      --missing;
    }
    if (missing == 0) {
      if (!added->has_value()) Fail("not complete after the last fragment");
      if ((*added)->inner != *inner) Fail("reassembled inner != inner");
      return 0;
    }
    if (added->has_value()) Fail("complete before the last fragment");
  }
  Fail("fragments never completed");
}
