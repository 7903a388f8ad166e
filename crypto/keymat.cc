#include "crypto/keymat.h"

namespace minivpn::crypto {

namespace {

// Writes spi big-endian (the SPIs go into prf+'s seed as they appear on the wire).
void AppendSpi(Bytes& out, std::uint64_t spi) {
  for (int shift = 56; shift >= 0; shift -= 8) {
    out.push_back(static_cast<std::uint8_t>(spi >> shift));
  }
}

// Ni | Nr, both public.
Bytes Concat(ByteView a, ByteView b) {
  Bytes out;
  out.reserve(a.size() + b.size());
  Append(out, a);
  Append(out, b);
  return out;
}

}  // namespace

// RFC 7296 2.14: SKEYSEED = prf(Ni | Nr, g^ir). (The nonce-halving rule for fixed-key PRFs
// does not apply: every PRF here is an HMAC.)
SecretBytes ComputeSkeyseed(const Prf& prf, ByteView nonce_i, ByteView nonce_r,
                            const SecretBytes& g_ir) {
  const Bytes key = Concat(nonce_i, nonce_r);
  return prf.Compute(key, g_ir.Reveal());
}

// RFC 7296 2.18: SKEYSEED = prf(SK_d (old), g^ir (new) | Ni | Nr).
SecretBytes ComputeRekeySkeyseed(const Prf& prf, const SecretBytes& old_sk_d,
                                 const SecretBytes& g_ir, ByteView nonce_i, ByteView nonce_r) {
  SecretBytes data = g_ir.Clone();
  data.Append(nonce_i);
  data.Append(nonce_r);
  return prf.Compute(old_sk_d.Reveal(), data.Reveal());
}

// RFC 7296 2.14: {SK_d | SK_ai | SK_ar | SK_ei | SK_er | SK_pi | SK_pr}
//                  = prf+ (SKEYSEED, Ni | Nr | SPIi | SPIr)
IkeKeys DeriveIkeKeys(const Prf& prf, const SecretBytes& skeyseed, ByteView nonce_i,
                      ByteView nonce_r, std::uint64_t spi_i, std::uint64_t spi_r,
                      const IkeKeySizes& sizes) {
  Bytes seed = Concat(nonce_i, nonce_r);
  AppendSpi(seed, spi_i);
  AppendSpi(seed, spi_r);
  const std::size_t prf_size = prf.output_size();
  const std::size_t total = 3 * prf_size + 2 * sizes.integ + 2 * sizes.encr;
  const SecretBytes stream = prf.Plus(skeyseed.Reveal(), seed, total);
  std::size_t offset = 0;
  auto take = [&](std::size_t n) {
    SecretBytes key = stream.Slice(offset, n);
    offset += n;
    return key;
  };
  IkeKeys keys;
  keys.sk_d = take(prf_size);
  keys.sk_ai = take(sizes.integ);
  keys.sk_ar = take(sizes.integ);
  keys.sk_ei = take(sizes.encr);
  keys.sk_er = take(sizes.encr);
  keys.sk_pi = take(prf_size);
  keys.sk_pr = take(prf_size);
  return keys;
}

// RFC 7296 2.17: KEYMAT = prf+(SK_d, Ni | Nr), or prf+(SK_d, g^ir (new) | Ni | Nr) with PFS.
// The keys of the SA carrying initiator->responder traffic come first; within one SA the
// encryption key precedes the integrity key.
ChildKeys DeriveChildKeys(const Prf& prf, const SecretBytes& sk_d, const SecretBytes* g_ir,
                          ByteView nonce_i, ByteView nonce_r, const ChildKeySizes& sizes) {
  SecretBytes seed;
  if (g_ir != nullptr) seed = g_ir->Clone();
  seed.Append(nonce_i);
  seed.Append(nonce_r);
  const SecretBytes keymat =
      prf.Plus(sk_d.Reveal(), seed.Reveal(), 2 * (sizes.encr + sizes.integ));
  ChildKeys keys;
  std::size_t offset = 0;
  auto take = [&](std::size_t n) {
    SecretBytes key = keymat.Slice(offset, n);
    offset += n;
    return key;
  };
  keys.encr_i = take(sizes.encr);
  keys.integ_i = take(sizes.integ);
  keys.encr_r = take(sizes.encr);
  keys.integ_r = take(sizes.integ);
  return keys;
}

// RFC 7296 2.15:
//   AUTH = prf( prf(Shared Secret, "Key Pad for IKEv2"), <InitiatorSignedOctets>)
//   InitiatorSignedOctets = RealMessage1 | NonceRData | MACedIDForI
//   MACedIDForI = prf(SK_pi, RestOfInitIDPayload)   (and the mirror image for the responder)
SecretBytes ComputePskAuth(const Prf& prf, const SecretBytes& psk, ByteView real_message,
                           ByteView other_nonce, const SecretBytes& sk_p, ByteView id_body) {
  static constexpr std::string_view kKeyPad = "Key Pad for IKEv2";
  const SecretBytes pad_key = prf.Compute(psk.Reveal(), AsBytes(kKeyPad));
  const SecretBytes maced_id = prf.Compute(sk_p.Reveal(), id_body);
  Bytes octets;
  octets.reserve(real_message.size() + other_nonce.size() + maced_id.size());
  Append(octets, real_message);
  Append(octets, other_nonce);
  Append(octets, maced_id.Reveal());  // MACedID is public once AUTH is sent; octets is not kept
  return prf.Compute(pad_key.Reveal(), octets);
}

}  // namespace minivpn::crypto
