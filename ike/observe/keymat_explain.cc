// Key-derivation walk-through (keymat_explain.h).
#include "ike/observe/keymat_explain.h"

#include <fmt/format.h>

#include <string>
#include <utility>

#include "crypto/prf.h"
#include "ike/wire/registry.h"

namespace minivpn::ike {
namespace {

using crypto::EncrId;
using crypto::IntegId;
using crypto::PrfId;

// Bits of the cipher key proper (without the AEAD salt).
std::size_t CipherKeyOctets(EncrId encr, std::uint16_t key_bits) {
  if (encr == EncrId::kChaCha20Poly1305) return 32;
  return key_bits / 8;
}

std::string Secret(const SecretBytes& s, const ExplainOptions& options) {
  if (options.show_secrets) return ToHex(s.Reveal());
  return fmt::format("<{} octets, hidden>", s.size());
}

// "AES-GCM-16-256 key (32) + salt (4)" or "AES-CBC-128 key (16)".
std::string EncrKeyLayout(EncrId encr, std::uint16_t key_bits) {
  const std::size_t key = CipherKeyOctets(encr, key_bits);
  std::string out = fmt::format("{} key ({})", EncrLabel(encr, key_bits), key);
  // RFC 5282 7.1 / RFC 4106 (GCM), RFC 7634 2 (ChaCha20-Poly1305): a 4-octet salt after the
  // key; RFC 4309 7.1 (CCM): 3 octets; RFC 3686 5.1 (CTR): a 4-octet nonce.
  const std::size_t total = crypto::EspKeyMaterialSize(encr, key_bits);
  const std::size_t extra = total > key ? total - key : 0;
  if (extra > 0) {
    out += fmt::format(" + {} ({})", encr == EncrId::kAesCtr ? "nonce" : "salt", extra);
  }
  return out;
}

// One derived key: "<name> <n> octets [a..b) = <what>" then its value on the next line.
std::string KeyLine(std::string_view name, const SecretBytes& key, std::size_t& offset,
                    const std::string& what, const ExplainOptions& options) {
  std::string out = fmt::format("  {:<5} {:>2} octets [{}..{}) = {}\n", name, key.size(), offset,
                                offset + key.size(), what);
  offset += key.size();
  if (!key.empty()) out += fmt::format("        value {}\n", Secret(key, options));
  return out;
}

std::string Be64(std::uint64_t v) { return fmt::format("{:016x}", v); }

std::string ChildSection(const KeymatExplainInput& ike, const ChildKeymat& child, std::size_t n,
                         const ExplainOptions& options) {
  const KeymatChildSuite& s = child.suite;
  const bool pfs = !child.g_ir.empty();
  std::string out =
      fmt::format("\nCHILD_SA #{} (ESP, {}{})\n", n, EncrLabel(s.encr, s.encr_key_bits),
                  s.integ == IntegId::kNone ? "" : ", " + IntegLabel(s.integ));
  out += fmt::format("RFC 7296 2.17: KEYMAT = prf+(SK_d, {}Ni | Nr)\n", pfs ? "g^ir (new) | " : "");
  out += fmt::format("  prf   = {} (the IKE SA's PRF), key SK_d ({} octets)\n",
                     PrfLabel(ike.suite.prf), ike.keys.sk_d.size());
  if (pfs) out += fmt::format("  g^ir (new) = {} (PFS)\n", Secret(child.g_ir, options));
  out += fmt::format("  Ni    = {} octets {}\n", child.nonce_i.size(), ToHex(child.nonce_i));
  out += fmt::format("  Nr    = {} octets {}\n", child.nonce_r.size(), ToHex(child.nonce_r));
  const crypto::ChildKeys& k = child.keys;
  const std::size_t total = k.encr_i.size() + k.integ_i.size() + k.encr_r.size() + k.integ_r.size();
  out += fmt::format(
      "  KEYMAT {} octets: the initiator->responder SA first, encryption key before integrity "
      "key\n",
      total);
  std::size_t offset = 0;
  const std::string encr = EncrKeyLayout(s.encr, s.encr_key_bits);
  const std::string integ =
      s.integ == IntegId::kNone ? "" : fmt::format("{} key", IntegLabel(s.integ));
  const std::string i_to_r =
      fmt::format("initiator->responder, ESP SPI 0x{:08x} (chosen by the responder)", child.spi_r);
  const std::string r_to_i =
      fmt::format("responder->initiator, ESP SPI 0x{:08x} (chosen by the initiator)", child.spi_i);
  out += KeyLine("encr", k.encr_i, offset, encr + ", " + i_to_r, options);
  if (!k.integ_i.empty())
    out += KeyLine("integ", k.integ_i, offset, integ + ", " + i_to_r, options);
  out += KeyLine("encr", k.encr_r, offset, encr + ", " + r_to_i, options);
  if (!k.integ_r.empty())
    out += KeyLine("integ", k.integ_r, offset, integ + ", " + r_to_i, options);
  if (s.integ == IntegId::kNone) {
    out += "  (no integrity keys: the AEAD cipher authenticates ESP itself)\n";
  }
  return out;
}

}  // namespace

std::string EncrLabel(EncrId encr, std::uint16_t key_bits) {
  switch (encr) {
    case EncrId::k3Des: return "3DES-CBC";
    case EncrId::kAesCbc: return fmt::format("AES-CBC-{}", key_bits);
    case EncrId::kAesCtr: return fmt::format("AES-CTR-{}", key_bits);
    case EncrId::kAesCcm8: return fmt::format("AES-CCM-8-{}", key_bits);
    case EncrId::kAesCcm12: return fmt::format("AES-CCM-12-{}", key_bits);
    case EncrId::kAesCcm16: return fmt::format("AES-CCM-16-{}", key_bits);
    case EncrId::kAesGcm8: return fmt::format("AES-GCM-8-{}", key_bits);
    case EncrId::kAesGcm12: return fmt::format("AES-GCM-12-{}", key_bits);
    case EncrId::kAesGcm16: return fmt::format("AES-GCM-16-{}", key_bits);
    case EncrId::kChaCha20Poly1305: return "ChaCha20-Poly1305";
  }
  return fmt::format("ENCR({})/{}", static_cast<unsigned>(encr), key_bits);
}

std::string IntegLabel(IntegId integ) {
  switch (integ) {
    case IntegId::kNone: return "none";
    case IntegId::kHmacMd5_96: return "HMAC-MD5-96";
    case IntegId::kHmacSha1_96: return "HMAC-SHA1-96";
    case IntegId::kHmacSha2_256_128: return "HMAC-SHA2-256-128";
    case IntegId::kHmacSha2_384_192: return "HMAC-SHA2-384-192";
    case IntegId::kHmacSha2_512_256: return "HMAC-SHA2-512-256";
  }
  return fmt::format("INTEG({})", static_cast<unsigned>(integ));
}

std::string PrfLabel(PrfId prf) {
  switch (prf) {
    case PrfId::kHmacMd5: return "HMAC-MD5";
    case PrfId::kHmacSha1: return "HMAC-SHA1";
    case PrfId::kHmacSha2_256: return "HMAC-SHA2-256";
    case PrfId::kHmacSha2_384: return "HMAC-SHA2-384";
    case PrfId::kHmacSha2_512: return "HMAC-SHA2-512";
  }
  return fmt::format("PRF({})", static_cast<unsigned>(prf));
}

std::string ExplainKeymat(const KeymatExplainInput& in, const ExplainOptions& options) {
  const KeymatIkeSuite& s = in.suite;
  const bool aead = crypto::IsAead(s.encr);
  std::string out = fmt::format("IKE SA {}_i {}_r\n", Be64(in.spi_i), Be64(in.spi_r));
  out += fmt::format("negotiated: ENCR {}, PRF {}, INTEG {}, KE {}\n",
                     EncrLabel(s.encr, s.encr_key_bits), PrfLabel(s.prf),
                     aead ? std::string("none (AEAD)") : IntegLabel(s.integ),
                     TransformName(TransformType::kDh, static_cast<std::uint16_t>(s.dh)));
  out += fmt::format("key values {}\n", options.show_secrets
                                            ? "SHOWN (--show-secrets): do not paste this anywhere"
                                            : "hidden (use --show-secrets to print them)");

  // 2.14 first step (2.18 for an IKE SA made by a rekey).
  if (in.rekeyed) {
    out += "\nRFC 7296 2.18: SKEYSEED = prf(SK_d (old), g^ir (new) | Ni | Nr)\n";
    out += "  prf      = the old IKE SA's PRF, keyed with its SK_d\n";
  } else {
    out += "\nRFC 7296 2.14: SKEYSEED = prf(Ni | Nr, g^ir)\n";
    out += fmt::format("  prf      = {} ({}-octet output)\n", PrfLabel(s.prf),
                       crypto::PrfOutputSize(s.prf));
  }
  out += fmt::format("  Ni       = {} octets {}\n", in.nonce_i.size(), ToHex(in.nonce_i));
  out += fmt::format("  Nr       = {} octets {}\n", in.nonce_r.size(), ToHex(in.nonce_r));
  out += fmt::format("  g^ir     = {} ({} shared secret)\n", Secret(in.g_ir, options),
                     TransformName(TransformType::kDh, static_cast<std::uint16_t>(s.dh)));
  out += fmt::format("  SKEYSEED = {}\n", Secret(in.skeyseed, options));

  // 2.13 prf+ and the 2.14 split.
  const crypto::IkeKeys& k = in.keys;
  const std::size_t total = k.sk_d.size() + k.sk_ai.size() + k.sk_ar.size() + k.sk_ei.size() +
                            k.sk_er.size() + k.sk_pi.size() + k.sk_pr.size();
  const std::size_t prf_size = crypto::PrfOutputSize(s.prf);
  out +=
      "\nRFC 7296 2.14: {SK_d | SK_ai | SK_ar | SK_ei | SK_er | SK_pi | SK_pr}"
      " = prf+(SKEYSEED, Ni | Nr | SPIi | SPIr)\n";
  out += fmt::format("  seed     = Ni | Nr | {} | {} ({} octets)\n", Be64(in.spi_i), Be64(in.spi_r),
                     in.nonce_i.size() + in.nonce_r.size() + 16);
  out += fmt::format(
      "  RFC 7296 2.13: prf+ = T1 | T2 | ..., T1 = prf(SKEYSEED, seed | 0x01), "
      "Tn = prf(SKEYSEED, Tn-1 | seed | n)\n");
  if (prf_size != 0) {
    out += fmt::format("  {} octets taken = {} blocks of {}\n", total,
                       (total + prf_size - 1) / prf_size, prf_size);
  }
  std::size_t offset = 0;
  const std::string encr = EncrKeyLayout(s.encr, s.encr_key_bits);
  const std::string no_integ =
      fmt::format("none: {} is AEAD, SK carries its own ICV", EncrLabel(s.encr, s.encr_key_bits));
  out += KeyLine(
      "SK_d", k.sk_d, offset,
      fmt::format("{} key for CHILD_SA KEYMAT (2.17) and IKE SA rekeying (2.18)", PrfLabel(s.prf)),
      options);
  out += KeyLine(
      "SK_ai", k.sk_ai, offset,
      aead ? no_integ
           : fmt::format("{} key, checks initiator->responder SK payloads", IntegLabel(s.integ)),
      options);
  out += KeyLine(
      "SK_ar", k.sk_ar, offset,
      aead ? no_integ
           : fmt::format("{} key, checks responder->initiator SK payloads", IntegLabel(s.integ)),
      options);
  out += KeyLine("SK_ei", k.sk_ei, offset, encr + ", protects initiator->responder SK payloads",
                 options);
  out += KeyLine("SK_er", k.sk_er, offset, encr + ", protects responder->initiator SK payloads",
                 options);
  out += KeyLine(
      "SK_pi", k.sk_pi, offset,
      fmt::format("{} key for the initiator's AUTH: prf(SK_pi, IDi') (2.15)", PrfLabel(s.prf)),
      options);
  out += KeyLine(
      "SK_pr", k.sk_pr, offset,
      fmt::format("{} key for the responder's AUTH: prf(SK_pr, IDr') (2.15)", PrfLabel(s.prf)),
      options);

  for (std::size_t i = 0; i < in.children.size(); ++i) {
    out += ChildSection(in, in.children[i], i + 1, options);
  }
  return out;
}

std::expected<KeymatExplainInput, std::string> DeriveIkeKeymat(const KeymatIkeSuite& suite,
                                                               std::uint64_t spi_i,
                                                               std::uint64_t spi_r,
                                                               ByteView nonce_i, ByteView nonce_r,
                                                               SecretBytes g_ir) {
  auto prf = crypto::Prf::Create(suite.prf);
  if (!prf) return std::unexpected(prf.error());
  if (!crypto::IsSupported(suite.encr, suite.encr_key_bits) || !crypto::IsSupported(suite.integ)) {
    return std::unexpected(fmt::format("unsupported IKE suite {} / {}",
                                       EncrLabel(suite.encr, suite.encr_key_bits),
                                       IntegLabel(suite.integ)));
  }
  KeymatExplainInput in;
  in.suite = suite;
  in.spi_i = spi_i;
  in.spi_r = spi_r;
  in.nonce_i.assign(nonce_i.begin(), nonce_i.end());
  in.nonce_r.assign(nonce_r.begin(), nonce_r.end());
  in.g_ir = std::move(g_ir);
  in.skeyseed = crypto::ComputeSkeyseed(*prf, nonce_i, nonce_r, in.g_ir);
  in.keys =
      crypto::DeriveIkeKeys(*prf, in.skeyseed, nonce_i, nonce_r, spi_i, spi_r,
                            {crypto::EncrKeyMaterialSize(suite.encr, suite.encr_key_bits),
                             crypto::IsAead(suite.encr) ? 0 : crypto::IntegKeySize(suite.integ)});
  return in;
}

std::expected<ChildKeymat, std::string> DeriveChildKeymat(const KeymatExplainInput& ike,
                                                          const KeymatChildSuite& suite,
                                                          std::uint32_t spi_i, std::uint32_t spi_r,
                                                          ByteView nonce_i, ByteView nonce_r,
                                                          SecretBytes g_ir) {
  auto prf = crypto::Prf::Create(ike.suite.prf);
  if (!prf) return std::unexpected(prf.error());
  if (!crypto::IsSupportedForEsp(suite.encr, suite.encr_key_bits) ||
      !crypto::IsSupported(suite.integ)) {
    return std::unexpected(fmt::format("unsupported ESP suite {} / {}",
                                       EncrLabel(suite.encr, suite.encr_key_bits),
                                       IntegLabel(suite.integ)));
  }
  ChildKeymat child;
  child.suite = suite;
  child.spi_i = spi_i;
  child.spi_r = spi_r;
  child.nonce_i.assign(nonce_i.begin(), nonce_i.end());
  child.nonce_r.assign(nonce_r.begin(), nonce_r.end());
  child.g_ir = std::move(g_ir);
  child.keys = crypto::DeriveChildKeys(
      *prf, ike.keys.sk_d, child.g_ir.empty() ? nullptr : &child.g_ir, nonce_i, nonce_r,
      {crypto::EspKeyMaterialSize(suite.encr, suite.encr_key_bits),
       crypto::IsAead(suite.encr) ? 0 : crypto::IntegKeySize(suite.integ)});
  return child;
}

}  // namespace minivpn::ike
