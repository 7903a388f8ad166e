// A key-derivation walk-through for one IKE SA and its CHILD_SAs (`minivpnctl explain <sa>`):
// the negotiated transforms, the RFC 7296 2.13/2.14/2.17 formulas with the actual inputs (public
// ones in hex), every derived key with its length, its position in the prf+ stream and which
// algorithm uses it for what.
//
// Key values (g^ir, SKEYSEED, SK_*, KEYMAT) are printed only with ExplainOptions::show_secrets;
// otherwise as "<36 octets, hidden>". Pure: the caller passes what the IKE SA holds (or uses the
// Derive* helpers below, which run crypto/keymat.h on the public inputs and g^ir).
#pragma once

#include <cstdint>
#include <expected>
#include <string>
#include <vector>

#include "crypto/algorithms.h"
#include "crypto/bytes.h"
#include "crypto/keymat.h"
#include "crypto/secret.h"

namespace minivpn::ike {

// The IKE SA's negotiated transforms (RFC 7296 3.3.2). Named apart from the engine's
// ike::IkeSuite (negotiation.h) so that both headers can be included together.
struct KeymatIkeSuite {
  crypto::EncrId encr = crypto::EncrId::kAesGcm16;
  std::uint16_t encr_key_bits = 256;  // Key Length attribute; 256 (or 0) for ChaCha20-Poly1305
  crypto::PrfId prf = crypto::PrfId::kHmacSha2_256;
  crypto::IntegId integ = crypto::IntegId::kNone;  // kNone with AEAD
  crypto::DhGroup dh = crypto::DhGroup::kCurve25519;
  bool operator==(const KeymatIkeSuite&) const = default;
};

// The CHILD_SA's (ESP) transforms.
struct KeymatChildSuite {
  crypto::EncrId encr = crypto::EncrId::kAesGcm16;
  std::uint16_t encr_key_bits = 256;
  crypto::IntegId integ = crypto::IntegId::kNone;
  bool operator==(const KeymatChildSuite&) const = default;
};

// One CHILD_SA: its SPIs, the nonces of the exchange that created it (for the CHILD_SA made by
// IKE_AUTH: the IKE SA's Ni and Nr), the PFS secret if the exchange carried KE, and KEYMAT cut
// per direction (crypto::ChildKeys: *_i protects initiator->responder traffic).
struct ChildKeymat {
  KeymatChildSuite suite;
  std::uint32_t spi_i = 0;  // chosen by the initiator: the SA carrying responder->initiator
  std::uint32_t spi_r = 0;  // chosen by the responder: the SA carrying initiator->responder
  Bytes nonce_i, nonce_r;
  SecretBytes g_ir;  // empty without PFS
  crypto::ChildKeys keys;
};

struct KeymatExplainInput {
  KeymatIkeSuite suite;
  std::uint64_t spi_i = 0, spi_r = 0;
  Bytes nonce_i, nonce_r;
  SecretBytes g_ir;  // the D-H shared secret
  // SKEYSEED of an IKE SA made by an IKE rekey: 2.18 prf(SK_d (old), g^ir (new) | Ni | Nr)
  // instead of 2.14 prf(Ni | Nr, g^ir).
  bool rekeyed = false;
  SecretBytes skeyseed;
  crypto::IkeKeys keys;
  std::vector<ChildKeymat> children;
};

struct ExplainOptions {
  bool show_secrets = false;
  bool operator==(const ExplainOptions&) const = default;
};

std::string ExplainKeymat(const KeymatExplainInput& input, const ExplainOptions& options = {});

// 2.14: SKEYSEED and SK_* from the public inputs and g^ir (moved in). Fails for unsupported
// transforms.
std::expected<KeymatExplainInput, std::string> DeriveIkeKeymat(const KeymatIkeSuite& suite,
                                                               std::uint64_t spi_i,
                                                               std::uint64_t spi_r,
                                                               ByteView nonce_i, ByteView nonce_r,
                                                               SecretBytes g_ir);
// 2.17: KEYMAT = prf+(SK_d, [g^ir (new) |] Ni | Nr) for a CHILD_SA of `ike`; `g_ir` empty without
// PFS.
std::expected<ChildKeymat, std::string> DeriveChildKeymat(const KeymatExplainInput& ike,
                                                          const KeymatChildSuite& suite,
                                                          std::uint32_t spi_i, std::uint32_t spi_r,
                                                          ByteView nonce_i, ByteView nonce_r,
                                                          SecretBytes g_ir = {});

// Labels used in the walk-through: "AES-GCM-16-256", "AES-CBC-128", "ChaCha20-Poly1305",
// "HMAC-SHA2-256-128", "HMAC-SHA2-256".
std::string EncrLabel(crypto::EncrId encr, std::uint16_t key_bits);
std::string IntegLabel(crypto::IntegId integ);
std::string PrfLabel(crypto::PrfId prf);

}  // namespace minivpn::ike
