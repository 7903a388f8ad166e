// IKEv2 key derivation (RFC 7296 2.13-2.18) and the PSK AUTH value (2.15).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>

#include "crypto/algorithms.h"
#include "crypto/bytes.h"
#include "crypto/prf.h"
#include "crypto/secret.h"

namespace minivpn::crypto {

struct IkeKeySizes {
  std::size_t encr;   // EncrKeyMaterialSize (includes AEAD salt)
  std::size_t integ;  // IntegKeySize, 0 for AEAD
};

struct IkeKeys {
  SecretBytes sk_d, sk_ai, sk_ar, sk_ei, sk_er, sk_pi, sk_pr;
};

// 2.14: SKEYSEED = prf(Ni | Nr, g^ir)
SecretBytes ComputeSkeyseed(const Prf& prf, ByteView nonce_i, ByteView nonce_r,
                            const SecretBytes& g_ir);
// 2.18: SKEYSEED = prf(SK_d (old), g^ir (new) | Ni | Nr), with the OLD IKE SA's PRF (the
// rekey exchange belongs to the old SA); prf+ for the new SK_* then uses the new SA's PRF.
SecretBytes ComputeRekeySkeyseed(const Prf& prf, const SecretBytes& old_sk_d,
                                 const SecretBytes& g_ir, ByteView nonce_i, ByteView nonce_r);
// 2.14: {SK_d | SK_ai | SK_ar | SK_ei | SK_er | SK_pi | SK_pr}
//         = prf+(SKEYSEED, Ni | Nr | SPIi | SPIr); SK_d/pi/pr have the PRF's output size.
IkeKeys DeriveIkeKeys(const Prf& prf, const SecretBytes& skeyseed, ByteView nonce_i,
                      ByteView nonce_r, std::uint64_t spi_i, std::uint64_t spi_r,
                      const IkeKeySizes& sizes);

struct ChildKeySizes {
  std::size_t encr;   // includes the AEAD salt
  std::size_t integ;  // 0 for AEAD
};

// Keys for one direction of a CHILD_SA. "initiator" = the CHILD_SA exchange's initiator:
// the SA that carries traffic from initiator to responder is keyed first (2.17).
struct ChildKeys {
  SecretBytes encr_i, integ_i, encr_r, integ_r;
};

// 2.17: KEYMAT = prf+(SK_d, Ni | Nr) or, with PFS, prf+(SK_d, g^ir (new) | Ni | Nr).
ChildKeys DeriveChildKeys(const Prf& prf, const SecretBytes& sk_d, const SecretBytes* g_ir,
                          ByteView nonce_i, ByteView nonce_r, const ChildKeySizes& sizes);

// 2.15: AUTH = prf( prf(Shared Secret, "Key Pad for IKEv2"), <SignedOctets>) with
//   SignedOctets = RealMessage | NonceOtherData | prf(SK_p, RestOfIDPayload).
// real_message: our (for building) or the peer's (for verifying) first message, as sent;
// other_nonce: the other side's nonce data; sk_p: SK_pi for the initiator's AUTH, SK_pr for the
// responder's; id_body: the ID payload from the ID Type octet to its end (RestOfIDPayload).
SecretBytes ComputePskAuth(const Prf& prf, const SecretBytes& psk, ByteView real_message,
                           ByteView other_nonce, const SecretBytes& sk_p, ByteView id_body);

}  // namespace minivpn::crypto
