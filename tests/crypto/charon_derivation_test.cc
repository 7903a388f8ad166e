// Our key derivation against a real strongSwan charon <-> charon exchange (fixtures and how they
// were made: tests/fixtures/charon/README.md). From the captured IKE_SA_INIT messages we take the
// SPIs and nonces; from charon's ike=4 logs the DH secret g^ir and charon's SKEYSEED, SK_* and
// AUTH values. We then check that
//   - ComputeSkeyseed(Ni, Nr, g^ir) is charon's SKEYSEED (both peers' logs),
//   - DeriveIkeKeys gives charon's SK_d, SK_ai, SK_ar, SK_ei, SK_er, SK_pi, SK_pr,
//   - ComputePskAuth gives both AUTH values charon computed, and
//   - SkCipher with our SK_ei / SK_er opens charon's encrypted IKE_AUTH and INFORMATIONAL
//     messages, whose AUTH payloads carry exactly the AUTH values we computed.
// The messages are read with a few byte offsets (RFC 7296 3.1-3.2) so that this test does not
// depend on the ike/ codec.
#include <gtest/gtest.h>

#include <fstream>
#include <iterator>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "crypto/keymat.h"
#include "crypto/prf.h"
#include "crypto/sk_cipher.h"
#include "tests/fixtures/charon_log.h"

namespace minivpn::crypto {
namespace {

const std::string kFixtures = std::string(MINIVPN_FIXTURES) + "/charon/";
// Test-only values from make_fixtures.sh.
constexpr std::string_view kPsk = "minivpn-test-psk-not-a-secret";
constexpr std::string_view kIdI = "initiator.minivpn.test";
constexpr std::string_view kIdR = "responder.minivpn.test";

using minivpn::testing::CharonLog;
using minivpn::testing::ReadBinary;

// ---- IKE messages (RFC 7296 3.1 header, 3.2 generic payload header) ----
struct Payload {
  std::uint8_t type;
  ByteView body;  // after the 4-octet generic payload header
};

std::uint64_t Be64(ByteView b) {
  std::uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = v << 8 | b[i];
  return v;
}

std::vector<Payload> Chain(ByteView data, std::uint8_t first) {
  std::vector<Payload> out;
  std::uint8_t type = first;
  while (type != 0 && data.size() >= 4) {
    const std::size_t len = std::size_t{data[2]} << 8 | data[3];
    EXPECT_GE(len, 4u);
    EXPECT_LE(len, data.size());
    if (len < 4 || len > data.size()) break;
    out.push_back({type, data.subspan(4, len - 4)});
    type = data[0];
    data = data.subspan(len);
  }
  return out;
}

std::vector<Payload> Payloads(ByteView message) { return Chain(message.subspan(28), message[16]); }

ByteView Find(const std::vector<Payload>& payloads, std::uint8_t type) {
  for (const Payload& p : payloads) {
    if (p.type == type) return p.body;
  }
  ADD_FAILURE() << "no payload of type " << int{type};
  return {};
}

constexpr std::uint8_t kNonce = 40, kIdi = 35, kIdr = 36, kAuth = 39, kSk = 46;

// RestOfIDPayload for an ID_FQDN (RFC 7296 3.5): ID Type, 3 reserved octets, the FQDN.
Bytes FqdnIdBody(std::string_view fqdn) {
  Bytes out = {2, 0, 0, 0};
  Append(out, AsBytes(fqdn));
  return out;
}

// Opens an SK payload: aad = IKE header + SK generic header (RFC 5282 5.1 / RFC 7296 3.14).
std::vector<Payload> OpenSk(const SkCipher& cipher, const Bytes& message, Bytes& plain_storage) {
  const std::vector<Payload> outer = Payloads(message);
  EXPECT_EQ(outer.size(), 1u);
  EXPECT_EQ(outer.back().type, kSk);
  const ByteView aad = ByteView(message).first(28 + 4);
  auto plain = cipher.Open(aad, ByteView(message).subspan(32));
  EXPECT_TRUE(plain.has_value()) << (plain ? "" : plain.error());
  if (!plain) return {};
  plain_storage = std::move(*plain);
  return Chain(plain_storage, message[28]);  // SK's Next Payload = first inner payload
}

struct Scenario {
  const char* dir;
  PrfId prf;
  SkSuite suite;
};
void PrintTo(const Scenario& s, std::ostream* os) { *os << s.dir; }

// Derived keys are compared with Equals(), so a failure does not print key material.
#define EXPECT_SECRET_EQ(secret, expected) EXPECT_TRUE((secret).Equals(expected)) << #secret

class CharonDerivationTest : public ::testing::TestWithParam<Scenario> {
 protected:
  void SetUp() override {
    const std::string dir = kFixtures + GetParam().dir + "/";
    init_request_ = ReadBinary(dir + "ike_sa_init_request.bin");
    init_response_ = ReadBinary(dir + "ike_sa_init_response.bin");
    ASSERT_GE(init_request_.size(), 28u);
    ASSERT_GE(init_response_.size(), 28u);
    spi_i_ = Be64(init_request_);
    spi_r_ = Be64(ByteView(init_response_).subspan(8));
    const ByteView ni = Find(Payloads(init_request_), kNonce);
    const ByteView nr = Find(Payloads(init_response_), kNonce);
    nonce_i_.assign(ni.begin(), ni.end());
    nonce_r_.assign(nr.begin(), nr.end());
    auto prf = Prf::Create(GetParam().prf);
    ASSERT_TRUE(prf.has_value());
    prf_.emplace(*prf);
  }

  IkeKeys DeriveFrom(const CharonLog& log) {
    const SecretBytes g_ir(log.One("shared Diffie Hellman secret"));
    const SecretBytes skeyseed = ComputeSkeyseed(*prf_, nonce_i_, nonce_r_, g_ir);
    EXPECT_SECRET_EQ(skeyseed, log.One("SKEYSEED"));
    const SkSuite& s = GetParam().suite;
    return DeriveIkeKeys(*prf_, skeyseed, nonce_i_, nonce_r_, spi_i_, spi_r_,
                         {EncrKeyMaterialSize(s.encr, s.key_bits), IntegKeySize(s.integ)});
  }

  std::optional<Prf> prf_;
  Bytes init_request_, init_response_, nonce_i_, nonce_r_;
  std::uint64_t spi_i_ = 0, spi_r_ = 0;
};

TEST_P(CharonDerivationTest, FixturesLookLikeTheRun) {
  // IKE_SA_INIT request: SPIr 0, message ID 0, initiator flag; response: response flag.
  EXPECT_NE(spi_i_, 0u);
  EXPECT_NE(spi_r_, 0u);
  EXPECT_EQ(Be64(ByteView(init_request_).subspan(8)), 0u);
  EXPECT_EQ(init_request_[18], 34);  // IKE_SA_INIT
  EXPECT_EQ(init_request_[19], 0x08);
  EXPECT_EQ(init_response_[19], 0x20);
  EXPECT_EQ(nonce_i_.size(), 32u);  // charon's default nonce size
  EXPECT_EQ(nonce_r_.size(), 32u);
}

TEST_P(CharonDerivationTest, SkeyseedAndSkKeysMatchBothCharons) {
  for (const char* side : {"initiator", "responder"}) {
    SCOPED_TRACE(side);
    const CharonLog log(kFixtures + GetParam().dir + "/charon-" + side + ".log");
    const IkeKeys keys = DeriveFrom(log);
    EXPECT_SECRET_EQ(keys.sk_d, log.One("Sk_d secret"));
    EXPECT_SECRET_EQ(keys.sk_ei, log.One("Sk_ei secret"));
    EXPECT_SECRET_EQ(keys.sk_er, log.One("Sk_er secret"));
    EXPECT_SECRET_EQ(keys.sk_pi, log.One("Sk_pi secret"));
    EXPECT_SECRET_EQ(keys.sk_pr, log.One("Sk_pr secret"));
    if (GetParam().suite.integ != IntegId::kNone) {
      EXPECT_SECRET_EQ(keys.sk_ai, log.One("Sk_ai secret"));
      EXPECT_SECRET_EQ(keys.sk_ar, log.One("Sk_ar secret"));
    } else {
      EXPECT_TRUE(keys.sk_ai.empty());
      EXPECT_TRUE(log.All("Sk_ai secret").empty());
    }
  }
}

// Both charons log every AUTH they build or verify: IDx' (RestOfIDPayload), SK_p, the signed
// octets, the PSK and the AUTH value.
TEST_P(CharonDerivationTest, PskAuthMatchesEveryAuthCharonComputed) {
  const SecretBytes psk = SecretBytes::FromString(kPsk);
  int checked = 0;
  for (const char* side : {"initiator", "responder"}) {
    SCOPED_TRACE(side);
    const CharonLog log(kFixtures + GetParam().dir + "/charon-" + side + ".log");
    const IkeKeys keys = DeriveFrom(log);
    const std::vector<Bytes> ids = log.All("IDx'");
    const std::vector<Bytes> octets = log.All("octets = message + nonce + prf(Sk_px, IDx')");
    const std::vector<Bytes> secrets = log.All("secret");
    const std::vector<Bytes> auths = log.All("AUTH = prf(prf(secret, keypad), octets)");
    ASSERT_EQ(ids.size(), 2u);
    ASSERT_EQ(auths.size(), 2u);
    ASSERT_EQ(octets.size(), 2u);
    for (std::size_t k = 0; k < auths.size(); ++k) {
      EXPECT_TRUE(psk.Equals(secrets[k]));
      const bool initiators = ids[k] == FqdnIdBody(kIdI);
      EXPECT_TRUE(initiators || ids[k] == FqdnIdBody(kIdR));
      // RFC 7296 2.15: the initiator signs its IKE_SA_INIT request and Nr with SK_pi; the
      // responder its response and Ni with SK_pr.
      const Bytes& message = initiators ? init_request_ : init_response_;
      const Bytes& nonce = initiators ? nonce_r_ : nonce_i_;
      const SecretBytes& sk_p = initiators ? keys.sk_pi : keys.sk_pr;
      const SecretBytes auth = ComputePskAuth(*prf_, psk, message, nonce, sk_p,
                                              FqdnIdBody(initiators ? kIdI : kIdR));
      EXPECT_EQ(ToHex(auth.Reveal()), ToHex(auths[k]));
      // And charon signed the very bytes we captured.
      Bytes expected_prefix = message;
      Append(expected_prefix, nonce);
      ASSERT_EQ(octets[k].size(), expected_prefix.size() + prf_->output_size());
      EXPECT_TRUE(std::equal(expected_prefix.begin(), expected_prefix.end(), octets[k].begin()));
      ++checked;
    }
  }
  EXPECT_EQ(checked, 4);  // two AUTH values, each seen by both peers
}

// The captured, encrypted IKE_AUTH exchange opens with our keys, and its AUTH payloads carry our
// AUTH values (RFC 7296 3.8: Auth Method 2 = Shared Key Message Integrity Code).
TEST_P(CharonDerivationTest, OurKeysOpenCharonsIkeAuthAndItCarriesOurAuth) {
  const std::string dir = kFixtures + GetParam().dir + "/";
  const CharonLog log(dir + "charon-initiator.log");
  const IkeKeys keys = DeriveFrom(log);
  const SkSuite& suite = GetParam().suite;
  auto from_i = SkCipher::Create(suite, keys.sk_ei.Clone(), keys.sk_ai.Clone());
  auto from_r = SkCipher::Create(suite, keys.sk_er.Clone(), keys.sk_ar.Clone());
  ASSERT_TRUE(from_i.has_value() && from_r.has_value());
  const SecretBytes psk = SecretBytes::FromString(kPsk);

  Bytes storage_i, storage_r;
  const Bytes request = ReadBinary(dir + "ike_auth_request.bin");
  const Bytes response = ReadBinary(dir + "ike_auth_response.bin");
  const std::vector<Payload> inner_i = OpenSk(*from_i, request, storage_i);
  const std::vector<Payload> inner_r = OpenSk(*from_r, response, storage_r);
  ASSERT_FALSE(inner_i.empty());
  ASSERT_FALSE(inner_r.empty());

  const ByteView idi = Find(inner_i, kIdi);
  EXPECT_EQ(Bytes(idi.begin(), idi.end()), FqdnIdBody(kIdI));
  const ByteView auth_i = Find(inner_i, kAuth);
  ASSERT_GT(auth_i.size(), 4u);
  EXPECT_EQ(auth_i[0], 2);
  EXPECT_EQ(ToHex(auth_i.subspan(4)),
            ToHex(ComputePskAuth(*prf_, psk, init_request_, nonce_r_, keys.sk_pi,
                                 FqdnIdBody(kIdI))
                      .Reveal()));

  const ByteView idr = Find(inner_r, kIdr);
  EXPECT_EQ(Bytes(idr.begin(), idr.end()), FqdnIdBody(kIdR));
  const ByteView auth_r = Find(inner_r, kAuth);
  ASSERT_GT(auth_r.size(), 4u);
  EXPECT_EQ(auth_r[0], 2);
  EXPECT_EQ(ToHex(auth_r.subspan(4)),
            ToHex(ComputePskAuth(*prf_, psk, init_response_, nonce_i_, keys.sk_pr,
                                 FqdnIdBody(kIdR))
                      .Reveal()));

  // A later exchange in the same SA (INFORMATIONAL, message ID 2) opens as well; a flipped
  // ciphertext bit does not.
  const Bytes info = ReadBinary(dir + "informational_request_mid2_from_initiator.bin");
  Bytes storage;
  OpenSk(*from_i, info, storage);
  Bytes tampered = request;
  tampered[40] ^= 1;
  EXPECT_EQ(from_i->Open(ByteView(tampered).first(32), ByteView(tampered).subspan(32)).error(),
            "ICV mismatch");
  // The responder's key does not open the initiator's message.
  EXPECT_FALSE(from_r->Open(ByteView(request).first(32), ByteView(request).subspan(32)));
}

INSTANTIATE_TEST_SUITE_P(
    Charon598, CharonDerivationTest,
    ::testing::Values(
        // aes256gcm16-prfsha256-x25519
        Scenario{"gcm", PrfId::kHmacSha2_256, {EncrId::kAesGcm16, 256, IntegId::kNone}},
        // aes128-sha256-modp2048
        Scenario{"cbc", PrfId::kHmacSha2_256, {EncrId::kAesCbc, 128, IntegId::kHmacSha2_256_128}}),
    [](const auto& param_info) { return std::string(param_info.param.dir); });

}  // namespace
}  // namespace minivpn::crypto
