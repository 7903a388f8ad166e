// Key derivation (RFC 7296 2.13-2.18) written against the PRF and prf+ primitives: which inputs
// go in which order, how prf+ output is cut, and how PFS changes CHILD KEYMAT. The same
// functions are checked against a real strongSwan exchange in charon_derivation_test.cc.
#include "crypto/keymat.h"

#include <gtest/gtest.h>

namespace minivpn::crypto {
namespace {

Prf Sha256() { return *Prf::Create(PrfId::kHmacSha2_256); }

const Bytes kNi = FromHex("00112233445566778899aabbccddeeff0102030405060708");
const Bytes kNr = FromHex("ffeeddccbbaa99887766554433221100a0a1a2a3a4a5a6a7a8a9");

Bytes Cat(std::initializer_list<ByteView> parts) {
  Bytes out;
  for (ByteView p : parts) Append(out, p);
  return out;
}

TEST(KeymatTest, SkeyseedIsPrfOfNoncesOverSharedSecret) {
  const Prf prf = Sha256();
  const SecretBytes g_ir(Bytes(32, 0x42));
  const SecretBytes skeyseed = ComputeSkeyseed(prf, kNi, kNr, g_ir);
  EXPECT_TRUE(skeyseed.Equals(prf.Compute(Cat({kNi, kNr}), g_ir.Reveal()).Reveal()));
  // The nonce order matters.
  EXPECT_FALSE(skeyseed.Equals(ComputeSkeyseed(prf, kNr, kNi, g_ir).Reveal()));
}

TEST(KeymatTest, RekeySkeyseedUsesOldSkD) {
  const Prf prf = Sha256();
  const SecretBytes old_sk_d(Bytes(32, 0x0d));
  const SecretBytes g_ir(Bytes(32, 0x42));
  const SecretBytes s = ComputeRekeySkeyseed(prf, old_sk_d, g_ir, kNi, kNr);
  EXPECT_TRUE(s.Equals(prf.Compute(old_sk_d.Reveal(), Cat({g_ir.Reveal(), kNi, kNr})).Reveal()));
}

TEST(KeymatTest, IkeKeysAreConsecutivePrfPlusOutput) {
  const Prf prf = Sha256();
  const SecretBytes skeyseed(Bytes(32, 0x5e));
  const std::uint64_t spi_i = 0x0102030405060708, spi_r = 0xa1a2a3a4a5a6a7a8;
  const IkeKeySizes sizes{16, 32};  // AES-CBC-128 + HMAC-SHA2-256-128
  const IkeKeys keys = DeriveIkeKeys(prf, skeyseed, kNi, kNr, spi_i, spi_r, sizes);
  // Seed = Ni | Nr | SPIi | SPIr, the SPIs in network order.
  const Bytes seed = Cat({kNi, kNr, FromHex("0102030405060708a1a2a3a4a5a6a7a8")});
  const SecretBytes stream = prf.Plus(skeyseed.Reveal(), seed, 32 * 3 + 32 * 2 + 16 * 2);
  const Bytes all = Cat({keys.sk_d.Reveal(), keys.sk_ai.Reveal(), keys.sk_ar.Reveal(),
                         keys.sk_ei.Reveal(), keys.sk_er.Reveal(), keys.sk_pi.Reveal(),
                         keys.sk_pr.Reveal()});
  EXPECT_TRUE(stream.Equals(all));
  EXPECT_EQ(keys.sk_d.size(), 32u);
  EXPECT_EQ(keys.sk_ai.size(), 32u);
  EXPECT_EQ(keys.sk_ei.size(), 16u);
  EXPECT_EQ(keys.sk_pr.size(), 32u);
  EXPECT_FALSE(keys.sk_ei.Equals(keys.sk_er.Reveal()));
}

TEST(KeymatTest, AeadIkeKeysHaveNoIntegrityKeys) {
  const Prf prf = *Prf::Create(PrfId::kHmacSha2_512);
  const IkeKeys keys = DeriveIkeKeys(prf, SecretBytes(Bytes(64, 1)), kNi, kNr, 1, 2,
                                     {EncrKeyMaterialSize(EncrId::kAesGcm16, 256), 0});
  EXPECT_TRUE(keys.sk_ai.empty());
  EXPECT_TRUE(keys.sk_ar.empty());
  EXPECT_EQ(keys.sk_ei.size(), 36u);
  EXPECT_EQ(keys.sk_d.size(), 64u);
  EXPECT_EQ(keys.sk_pi.size(), 64u);
}

TEST(KeymatTest, ChildKeysWithoutAndWithPfs) {
  const Prf prf = Sha256();
  const SecretBytes sk_d(Bytes(32, 0xdd));
  const ChildKeySizes sizes{16, 32};
  const ChildKeys plain = DeriveChildKeys(prf, sk_d, nullptr, kNi, kNr, sizes);
  // KEYMAT = prf+(SK_d, Ni | Nr); initiator->responder keys first, encryption before integrity.
  const SecretBytes keymat = prf.Plus(sk_d.Reveal(), Cat({kNi, kNr}), 2 * (16 + 32));
  EXPECT_TRUE(keymat.Equals(Cat({plain.encr_i.Reveal(), plain.integ_i.Reveal(),
                                 plain.encr_r.Reveal(), plain.integ_r.Reveal()})));
  EXPECT_EQ(plain.encr_i.size(), 16u);
  EXPECT_EQ(plain.integ_r.size(), 32u);

  // With PFS: KEYMAT = prf+(SK_d, g^ir (new) | Ni | Nr).
  const SecretBytes g_ir(Bytes(256, 0x77));
  const ChildKeys pfs = DeriveChildKeys(prf, sk_d, &g_ir, kNi, kNr, sizes);
  const SecretBytes keymat_pfs =
      prf.Plus(sk_d.Reveal(), Cat({g_ir.Reveal(), kNi, kNr}), 2 * (16 + 32));
  EXPECT_TRUE(keymat_pfs.Equals(Cat({pfs.encr_i.Reveal(), pfs.integ_i.Reveal(),
                                     pfs.encr_r.Reveal(), pfs.integ_r.Reveal()})));
  EXPECT_FALSE(pfs.encr_i.Equals(plain.encr_i.Reveal()));
}

TEST(KeymatTest, ChildKeysForAeadIncludeSalt) {
  const ChildKeys keys = DeriveChildKeys(Sha256(), SecretBytes(Bytes(32, 1)), nullptr, kNi, kNr,
                                         {EncrKeyMaterialSize(EncrId::kAesGcm16, 256), 0});
  EXPECT_EQ(keys.encr_i.size(), 36u);  // 32 key + 4 salt: the kernel's rfc4106 key
  EXPECT_TRUE(keys.integ_i.empty());
  EXPECT_TRUE(keys.integ_r.empty());
}

TEST(KeymatTest, PskAuthIsTheRfcComposition) {
  const Prf prf = Sha256();
  const SecretBytes psk = SecretBytes::FromString("a test psk");
  const SecretBytes sk_pi(Bytes(32, 0x9a));
  const Bytes message = FromHex("0102030405060708000000000000000021202208");
  const Bytes id_body = Cat({FromHex("02000000"), AsBytes("initiator.example")});
  const SecretBytes auth = ComputePskAuth(prf, psk, message, kNr, sk_pi, id_body);
  const SecretBytes key = prf.Compute(psk.Reveal(), AsBytes("Key Pad for IKEv2"));
  const SecretBytes maced_id = prf.Compute(sk_pi.Reveal(), id_body);
  const Bytes octets = Cat({message, kNr, maced_id.Reveal()});
  EXPECT_TRUE(auth.Equals(prf.Compute(key.Reveal(), octets).Reveal()));
  // Another PSK, another ID or another nonce gives another AUTH.
  EXPECT_FALSE(
      auth.Equals(ComputePskAuth(prf, SecretBytes::FromString("a test psK"), message, kNr, sk_pi,
                                 id_body)
                      .Reveal()));
  EXPECT_FALSE(auth.Equals(ComputePskAuth(prf, psk, message, kNi, sk_pi, id_body).Reveal()));
}

}  // namespace
}  // namespace minivpn::crypto
