#include "cli/config/proposal.h"

#include <fmt/core.h>

#include <algorithm>
#include <optional>

#include "cli/config/values.h"

namespace minivpn::config {
namespace {

using crypto::DhGroup;
using crypto::EncrId;
using crypto::IntegId;
using crypto::PrfId;

enum class Kind : std::uint8_t { kEncr, kInteg, kPrf, kDh, kEsn };

struct Keyword {
  std::string name;
  Kind kind;
  std::uint16_t id;
  std::uint16_t bits;
};

// strongSwan's proposal keywords for the algorithms minivpn implements.
const std::vector<Keyword>& Keywords() {
  static const std::vector<Keyword> table = [] {
    std::vector<Keyword> t;
    auto encr = [&](std::string name, EncrId id, std::uint16_t bits) {
      t.push_back({std::move(name), Kind::kEncr, static_cast<std::uint16_t>(id), bits});
    };
    for (std::uint16_t bits : {128, 192, 256}) {
      std::string aes = fmt::format("aes{}", bits);
      encr(aes, EncrId::kAesCbc, bits);
      encr(aes + "ctr", EncrId::kAesCtr, bits);
      encr(aes + "gcm8", EncrId::kAesGcm8, bits);
      encr(aes + "gcm64", EncrId::kAesGcm8, bits);
      encr(aes + "gcm12", EncrId::kAesGcm12, bits);
      encr(aes + "gcm96", EncrId::kAesGcm12, bits);
      encr(aes + "gcm16", EncrId::kAesGcm16, bits);
      encr(aes + "gcm128", EncrId::kAesGcm16, bits);
      encr(aes + "gcm", EncrId::kAesGcm16, bits);
      encr(aes + "ccm8", EncrId::kAesCcm8, bits);
      encr(aes + "ccm64", EncrId::kAesCcm8, bits);
      encr(aes + "ccm12", EncrId::kAesCcm12, bits);
      encr(aes + "ccm96", EncrId::kAesCcm12, bits);
      encr(aes + "ccm16", EncrId::kAesCcm16, bits);
      encr(aes + "ccm128", EncrId::kAesCcm16, bits);
      encr(aes + "ccm", EncrId::kAesCcm16, bits);
    }
    encr("3des", EncrId::k3Des, 192);
    encr("aes", EncrId::kAesCbc, 128);
    encr("chacha20poly1305", EncrId::kChaCha20Poly1305, 256);
    auto other = [&](std::string name, Kind kind, std::uint16_t id) {
      t.push_back({std::move(name), kind, id, 0});
    };
    auto integ = [&](std::string name, IntegId id) {
      other(std::move(name), Kind::kInteg, static_cast<std::uint16_t>(id));
    };
    integ("md5", IntegId::kHmacMd5_96);
    integ("sha1", IntegId::kHmacSha1_96);
    integ("sha", IntegId::kHmacSha1_96);
    integ("sha256", IntegId::kHmacSha2_256_128);
    integ("sha2_256", IntegId::kHmacSha2_256_128);
    integ("sha384", IntegId::kHmacSha2_384_192);
    integ("sha2_384", IntegId::kHmacSha2_384_192);
    integ("sha512", IntegId::kHmacSha2_512_256);
    integ("sha2_512", IntegId::kHmacSha2_512_256);
    auto prf = [&](std::string name, PrfId id) {
      other(std::move(name), Kind::kPrf, static_cast<std::uint16_t>(id));
    };
    prf("prfmd5", PrfId::kHmacMd5);
    prf("prfsha1", PrfId::kHmacSha1);
    prf("prfsha256", PrfId::kHmacSha2_256);
    prf("prfsha384", PrfId::kHmacSha2_384);
    prf("prfsha512", PrfId::kHmacSha2_512);
    auto dh = [&](std::string name, DhGroup id) {
      other(std::move(name), Kind::kDh, static_cast<std::uint16_t>(id));
    };
    dh("modp1024", DhGroup::kModp1024);
    dh("modp1536", DhGroup::kModp1536);
    dh("modp2048", DhGroup::kModp2048);
    dh("modp3072", DhGroup::kModp3072);
    dh("modp4096", DhGroup::kModp4096);
    dh("modp6144", DhGroup::kModp6144);
    dh("modp8192", DhGroup::kModp8192);
    dh("ecp256", DhGroup::kEcp256);
    dh("ecp384", DhGroup::kEcp384);
    dh("ecp521", DhGroup::kEcp521);
    dh("x25519", DhGroup::kCurve25519);
    dh("curve25519", DhGroup::kCurve25519);
    other("esn", Kind::kEsn, static_cast<std::uint16_t>(Esn::kEsn));
    other("noesn", Kind::kEsn, static_cast<std::uint16_t>(Esn::kNoEsn));
    return t;
  }();
  return table;
}

// Keywords charon knows but minivpn does not implement: reported as "not supported" rather
// than "unknown" so that users know the string itself is fine for charon.
bool IsKnownUnsupported(std::string_view word) {
  static constexpr std::string_view kPrefixes[] = {"des",        "blowfish",
                                                   "cast",       "camellia",
                                                   "serpent",    "twofish",
                                                   "null",       "aes128gmac",
                                                   "aes192gmac", "aes256gmac",
                                                   "md5_128",    "aesxcbc",
                                                   "aescmac",    "sha256_96",
                                                   "sha1_160",   "prfaesxcbc",
                                                   "prfaescmac", "modp768",
                                                   "modp1024s",  "modp2048s",
                                                   "ecp192",     "ecp224",
                                                   "ecp256bp",   "ecp384bp",
                                                   "ecp512bp",   "x448",
                                                   "curve448",   "ke1_",
                                                   "mlkem",      "chacha20poly1305ietf"};
  for (auto prefix : kPrefixes) {
    if (word.starts_with(prefix)) return true;
  }
  return false;
}

const Keyword* Lookup(std::string_view word) {
  for (const auto& k : Keywords()) {
    if (k.name == word) return &k;
  }
  return nullptr;
}

template <typename T>
void AddUnique(std::vector<T>& list, T value) {
  if (std::find(list.begin(), list.end(), value) == list.end()) list.push_back(value);
}

struct Collected {
  std::vector<EncrSpec> aead;
  std::vector<EncrSpec> encr;
  std::vector<IntegId> integ;
  std::vector<PrfId> prf;
  std::vector<DhGroup> dh;
  std::vector<Esn> esn;
};

std::expected<Collected, std::string> Collect(std::string_view proposal) {
  Collected c;
  if (proposal.empty()) return std::unexpected(std::string("empty proposal"));
  for (auto word : SplitList(proposal, '-')) {
    const Keyword* k = Lookup(word);
    if (k == nullptr) {
      if (IsKnownUnsupported(word)) {
        return std::unexpected(fmt::format(
            "algorithm '{}' in proposal '{}' is not supported by minivpn", word, proposal));
      }
      return std::unexpected(
          fmt::format("unknown algorithm '{}' in proposal '{}'", word, proposal));
    }
    switch (k->kind) {
      case Kind::kEncr: {
        EncrSpec e{static_cast<EncrId>(k->id), k->bits};
        AddUnique(crypto::IsAead(e.id) ? c.aead : c.encr, e);
        break;
      }
      case Kind::kInteg:
        AddUnique(c.integ, static_cast<IntegId>(k->id));
        break;
      case Kind::kPrf:
        AddUnique(c.prf, static_cast<PrfId>(k->id));
        break;
      case Kind::kDh:
        AddUnique(c.dh, static_cast<DhGroup>(k->id));
        break;
      case Kind::kEsn:
        AddUnique(c.esn, static_cast<Esn>(k->id));
        break;
    }
  }
  if (c.aead.empty() && c.encr.empty()) {
    return std::unexpected(fmt::format("proposal '{}' has no encryption algorithm", proposal));
  }
  return c;
}

std::optional<PrfId> PrfForInteg(IntegId integ) {
  switch (integ) {
    case IntegId::kHmacMd5_96:
      return PrfId::kHmacMd5;
    case IntegId::kHmacSha1_96:
      return PrfId::kHmacSha1;
    case IntegId::kHmacSha2_256_128:
      return PrfId::kHmacSha2_256;
    case IntegId::kHmacSha2_384_192:
      return PrfId::kHmacSha2_384;
    case IntegId::kHmacSha2_512_256:
      return PrfId::kHmacSha2_512;
    case IntegId::kNone:
      break;
  }
  return std::nullopt;
}

// Splits "a,b,c!" into proposal strings and the strict flag.
std::expected<std::pair<std::vector<std::string_view>, bool>, std::string> SplitProposals(
    std::string_view text) {
  text = Trim(text);
  bool strict = false;
  if (!text.empty() && text.back() == '!') {
    strict = true;
    text.remove_suffix(1);
  }
  if (Trim(text).empty()) return std::unexpected(std::string("empty proposal list"));
  auto list = SplitList(text, ',');
  for (auto p : list) {
    if (p.empty()) return std::unexpected(fmt::format("empty proposal in '{}'", text));
    if (p.find('!') != std::string_view::npos) {
      return std::unexpected(fmt::format("'!' is only allowed at the end of '{}'", text));
    }
  }
  return std::make_pair(std::move(list), strict);
}

template <typename T>
std::string Join(const std::vector<T>& items, std::string (*name)(T)) {
  std::string out;
  for (const auto& i : items) {
    if (!out.empty()) out += '-';
    out += name(i);
  }
  return out;
}

std::string EncrName(EncrSpec e) {
  switch (e.id) {
    case EncrId::k3Des:
      return "3des";
    case EncrId::kAesCcm8:
      return fmt::format("aes{}ccm8", e.key_bits);
    case EncrId::kAesCcm12:
      return fmt::format("aes{}ccm12", e.key_bits);
    case EncrId::kAesCcm16:
      return fmt::format("aes{}ccm16", e.key_bits);
    case EncrId::kAesCbc:
      return fmt::format("aes{}", e.key_bits);
    case EncrId::kAesCtr:
      return fmt::format("aes{}ctr", e.key_bits);
    case EncrId::kAesGcm8:
      return fmt::format("aes{}gcm8", e.key_bits);
    case EncrId::kAesGcm12:
      return fmt::format("aes{}gcm12", e.key_bits);
    case EncrId::kAesGcm16:
      return fmt::format("aes{}gcm16", e.key_bits);
    case EncrId::kChaCha20Poly1305:
      return "chacha20poly1305";
  }
  return "?";
}

template <typename E>
std::string KeywordName(E id, Kind kind) {
  for (const auto& k : Keywords()) {
    if (k.kind == kind && k.id == static_cast<std::uint16_t>(id)) return k.name;
  }
  return "?";
}
std::string IntegName(IntegId id) { return KeywordName(id, Kind::kInteg); }
std::string PrfName(PrfId id) { return KeywordName(id, Kind::kPrf); }
std::string DhName(DhGroup id) {
  return id == DhGroup::kCurve25519 ? "x25519" : KeywordName(id, Kind::kDh);
}

// A warning for each deprecated algorithm of a proposal, once per keyword.
void WarnWeak(const Collected& c, std::string_view proposal, std::vector<std::string>& warnings) {
  auto warn = [&](std::string_view reason, const std::string& keyword) {
    if (reason.empty()) return;
    const std::string text = fmt::format(
        "weak algorithm '{}' in proposal '{}': {}; negotiated only because it is configured",
        keyword, proposal, reason);
    if (std::find(warnings.begin(), warnings.end(), text) == warnings.end()) {
      warnings.push_back(text);
    }
  };
  for (const auto& e : c.encr) warn(crypto::WeaknessOf(e.id), EncrName(e));
  for (auto i : c.integ) warn(crypto::WeaknessOf(i), IntegName(i));
  for (auto f : c.prf) warn(crypto::WeaknessOf(f), PrfName(f));
  for (auto g : c.dh) warn(crypto::WeaknessOf(g), DhName(g));
}

}  // namespace

std::expected<ProposalList<IkeProposal>, std::string> ParseIkeProposals(std::string_view text) {
  auto split = SplitProposals(text);
  if (!split) return std::unexpected(split.error());
  ProposalList<IkeProposal> out;
  out.strict = split->second;
  for (auto p : split->first) {
    if (p == "default") {
      for (auto& d : DefaultIkeProposals()) out.proposals.push_back(std::move(d));
      continue;
    }
    auto c = Collect(p);
    if (!c) return std::unexpected(c.error());
    if (!c->esn.empty()) {
      return std::unexpected(fmt::format("esn/noesn is not allowed in IKE proposal '{}'", p));
    }
    // AES-CTR and AES-CCM (charon offers them for IKE too): not offered, said so; a proposal
    // left without a cipher is an error.
    for (auto* ciphers : {&c->aead, &c->encr}) {
      std::erase_if(*ciphers, [&](const EncrSpec& e) {
        if (e.id != EncrId::kAesCtr && !crypto::IsCcm(e.id)) return false;
        out.warnings.push_back(fmt::format(
            "'{}' in IKE proposal '{}' is not offered: minivpn implements AES-CTR and AES-CCM "
            "for ESP only",
            EncrName(e), p));
        return true;
      });
    }
    if (c->aead.empty() && c->encr.empty()) {
      out.warnings.push_back(fmt::format(
          "IKE proposal '{}' is not offered: it has no cipher minivpn implements for IKE", p));
      continue;
    }
    WarnWeak(*c, p, out.warnings);
    // charon: IKE proposals without a PRF use the PRFs of their integrity algorithms.
    if (c->prf.empty()) {
      for (auto integ : c->integ) {
        if (auto prf = PrfForInteg(integ)) AddUnique(c->prf, *prf);
      }
    }
    if (c->prf.empty()) {
      return std::unexpected(fmt::format("IKE proposal '{}' has no PRF (add e.g. prfsha256)", p));
    }
    if (c->dh.empty()) {
      return std::unexpected(fmt::format(
          "IKE proposal '{}' has no key exchange group (add e.g. x25519 or modp2048)", p));
    }
    if (!c->aead.empty()) {
      // RFC 5282 8: an AEAD IKE SA negotiates no integrity transform.
      out.proposals.push_back(IkeProposal{c->aead, {}, c->prf, c->dh});
    }
    if (!c->encr.empty()) {
      if (c->integ.empty()) {
        return std::unexpected(
            fmt::format("IKE proposal '{}' has no integrity algorithm (add e.g. sha256)", p));
      }
      out.proposals.push_back(IkeProposal{c->encr, c->integ, c->prf, c->dh});
    }
  }
  if (out.proposals.empty()) {
    return std::unexpected(fmt::format(
        "no IKE proposal in '{}' has a cipher minivpn implements for IKE (AES-CTR and AES-CCM "
        "are ESP only)",
        text));
  }
  return out;
}

std::expected<ProposalList<EspProposal>, std::string> ParseEspProposals(std::string_view text) {
  auto split = SplitProposals(text);
  if (!split) return std::unexpected(split.error());
  ProposalList<EspProposal> out;
  out.strict = split->second;
  for (auto p : split->first) {
    if (p == "default") {
      for (auto& d : DefaultEspProposals()) out.proposals.push_back(std::move(d));
      continue;
    }
    auto c = Collect(p);
    if (!c) return std::unexpected(c.error());
    if (!c->prf.empty()) {
      return std::unexpected(fmt::format("a PRF is not allowed in ESP proposal '{}'", p));
    }
    WarnWeak(*c, p, out.warnings);
    std::vector<Esn> esn = c->esn.empty() ? std::vector<Esn>{Esn::kNoEsn} : c->esn;
    if (!c->aead.empty()) out.proposals.push_back(EspProposal{c->aead, {}, c->dh, esn});
    if (!c->encr.empty()) {
      if (c->integ.empty()) {
        return std::unexpected(
            fmt::format("ESP proposal '{}' has no integrity algorithm (add e.g. sha256)", p));
      }
      out.proposals.push_back(EspProposal{c->encr, c->integ, c->dh, esn});
    }
  }
  return out;
}

std::vector<IkeProposal> DefaultIkeProposals() {
  std::vector<DhGroup> dh = {DhGroup::kCurve25519, DhGroup::kEcp256, DhGroup::kEcp384,
                             DhGroup::kModp3072, DhGroup::kModp2048};
  std::vector<PrfId> prf = {PrfId::kHmacSha2_256, PrfId::kHmacSha2_384, PrfId::kHmacSha2_512};
  return {
      IkeProposal{
          {{EncrId::kAesGcm16, 128}, {EncrId::kAesGcm16, 256}, {EncrId::kChaCha20Poly1305, 256}},
          {},
          prf,
          dh},
      IkeProposal{
          {{EncrId::kAesCbc, 128}, {EncrId::kAesCbc, 256}},
          {IntegId::kHmacSha2_256_128, IntegId::kHmacSha2_384_192, IntegId::kHmacSha2_512_256},
          prf,
          dh},
  };
}

std::vector<EspProposal> DefaultEspProposals() {
  return {
      EspProposal{
          {{EncrId::kAesGcm16, 128}, {EncrId::kAesGcm16, 256}, {EncrId::kChaCha20Poly1305, 256}},
          {},
          {},
          {Esn::kNoEsn}},
      EspProposal{
          {{EncrId::kAesCbc, 128}, {EncrId::kAesCbc, 256}},
          {IntegId::kHmacSha2_256_128, IntegId::kHmacSha2_384_192, IntegId::kHmacSha2_512_256},
          {},
          {Esn::kNoEsn}},
  };
}

std::string ToString(const IkeProposal& p) {
  std::string out = Join(p.encr, EncrName);
  for (auto* part : {&p.integ}) {
    if (!part->empty()) out += "-" + Join(*part, IntegName);
  }
  if (!p.prf.empty()) out += "-" + Join(p.prf, PrfName);
  if (!p.dh.empty()) out += "-" + Join(p.dh, DhName);
  return out;
}

std::string ToString(const EspProposal& p) {
  std::string out = Join(p.encr, EncrName);
  if (!p.integ.empty()) out += "-" + Join(p.integ, IntegName);
  if (!p.dh.empty()) out += "-" + Join(p.dh, DhName);
  bool has_esn = std::find(p.esn.begin(), p.esn.end(), Esn::kEsn) != p.esn.end();
  bool has_noesn = std::find(p.esn.begin(), p.esn.end(), Esn::kNoEsn) != p.esn.end();
  if (has_esn) out += "-esn";
  if (has_esn && has_noesn) out += "-noesn";
  return out;
}

}  // namespace minivpn::config
