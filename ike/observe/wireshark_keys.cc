// Wireshark decryption tables (wireshark_keys.h).
#include "ike/observe/wireshark_keys.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <optional>
#include <vector>

namespace minivpn::ike {
namespace {

using crypto::EncrId;
using crypto::IntegId;

void AppendText(SecretBytes& out, std::string_view text) { out.Append(AsBytes(text)); }

// Hex straight into the secret buffer, so no std::string copy of a key is left behind.
void AppendHex(SecretBytes& out, ByteView data) {
  static constexpr char kDigits[] = "0123456789abcdef";
  for (std::uint8_t b : data) {
    const std::array<std::uint8_t, 2> pair = {static_cast<std::uint8_t>(kDigits[b >> 4]),
                                              static_cast<std::uint8_t>(kDigits[b & 0x0f])};
    out.Append(pair);
  }
}

void AppendQuoted(SecretBytes& out, std::string_view text) {
  AppendText(out, "\"");
  AppendText(out, text);
  AppendText(out, "\"");
}

std::string Unsupported(std::string_view table, std::string_view what) {
  return fmt::format("Wireshark's {} table has no entry for {}", table, what);
}

}  // namespace

// Names from packet-isakmp.c vs_ikev2_encr_algs (RFC 5282 for the AEAD ones).
std::expected<std::string_view, std::string> WiresharkIkeEncrName(EncrId encr,
                                                                  std::uint16_t key_bits) {
  static constexpr std::string_view kCbc[] = {"AES-CBC-128 [RFC3602]", "AES-CBC-192 [RFC3602]",
                                              "AES-CBC-256 [RFC3602]"};
  static constexpr std::string_view kCtr[] = {"AES-CTR-128 [RFC5930]", "AES-CTR-192 [RFC5930]",
                                              "AES-CTR-256 [RFC5930]"};
  static constexpr std::string_view kGcm8[] = {"AES-GCM-128 with 8 octet ICV [RFC5282]",
                                               "AES-GCM-192 with 8 octet ICV [RFC5282]",
                                               "AES-GCM-256 with 8 octet ICV [RFC5282]"};
  static constexpr std::string_view kGcm12[] = {"AES-GCM-128 with 12 octet ICV [RFC5282]",
                                                "AES-GCM-192 with 12 octet ICV [RFC5282]",
                                                "AES-GCM-256 with 12 octet ICV [RFC5282]"};
  static constexpr std::string_view kGcm16[] = {"AES-GCM-128 with 16 octet ICV [RFC5282]",
                                                "AES-GCM-192 with 16 octet ICV [RFC5282]",
                                                "AES-GCM-256 with 16 octet ICV [RFC5282]"};
  int size_index = -1;
  if (key_bits == 128) size_index = 0;
  if (key_bits == 192) size_index = 1;
  if (key_bits == 256) size_index = 2;
  const std::string_view* table = nullptr;
  switch (encr) {
    case EncrId::k3Des: return "3DES [RFC2451]";
    case EncrId::kAesCbc: table = kCbc; break;
    case EncrId::kAesCtr: table = kCtr; break;
    case EncrId::kAesGcm8: table = kGcm8; break;
    case EncrId::kAesGcm12: table = kGcm12; break;
    case EncrId::kAesGcm16: table = kGcm16; break;
    case EncrId::kAesCcm8:  // never used for IKE here
    case EncrId::kAesCcm12:
    case EncrId::kAesCcm16:
    case EncrId::kChaCha20Poly1305: break;
  }
  if (table == nullptr || size_index < 0) {
    return std::unexpected(
        Unsupported("IKEv2 decryption", fmt::format("{}/{}", crypto::Name(encr), key_bits)));
  }
  return table[size_index];
}

// packet-isakmp.c vs_ikev2_auth_algs.
std::expected<std::string_view, std::string> WiresharkIkeIntegName(IntegId integ) {
  switch (integ) {
    case IntegId::kNone: return "NONE [RFC4306]";
    case IntegId::kHmacMd5_96: return "HMAC_MD5_96 [RFC2403]";
    case IntegId::kHmacSha1_96: return "HMAC_SHA1_96 [RFC2404]";
    case IntegId::kHmacSha2_256_128: return "HMAC_SHA2_256_128 [RFC4868]";
    case IntegId::kHmacSha2_384_192: return "HMAC_SHA2_384_192 [RFC4868]";
    case IntegId::kHmacSha2_512_256: return "HMAC_SHA2_512_256 [RFC4868]";
  }
  return std::unexpected(Unsupported("IKEv2 decryption", crypto::Name(integ)));
}

// packet-ipsec.c esp_encryption_type_vals. The ICV-explicit GCM entries (not the deprecated
// "AES-GCM [RFC4106]" that needs an "ANY n bit" authentication entry); ChaCha20-Poly1305
// exists from Wireshark 4.2 on.
std::expected<std::string_view, std::string> WiresharkEspEncrName(EncrId encr,
                                                                  std::uint16_t key_bits) {
  switch (encr) {
    case EncrId::k3Des: return "TripleDES-CBC [RFC2451]";
    case EncrId::kAesCbc: return "AES-CBC [RFC3602]";
    case EncrId::kAesCtr: return "AES-CTR [RFC3686]";
    case EncrId::kAesGcm8: return "AES-GCM with 8 octet ICV [RFC4106]";
    case EncrId::kAesGcm12: return "AES-GCM with 12 octet ICV [RFC4106]";
    case EncrId::kAesGcm16: return "AES-GCM with 16 octet ICV [RFC4106]";
    case EncrId::kChaCha20Poly1305: return "ChaCha20 with Poly1305 [RFC7634]";
    case EncrId::kAesCcm8:  // Wireshark's ESP dissector has no CCM entry
    case EncrId::kAesCcm12:
    case EncrId::kAesCcm16: break;
  }
  return std::unexpected(Unsupported("ESP SA", fmt::format("{}/{}", crypto::Name(encr), key_bits)));
}

// packet-ipsec.c esp_authentication_type_vals; AEAD ciphers take "NULL".
std::expected<std::string_view, std::string> WiresharkEspAuthName(IntegId integ) {
  switch (integ) {
    case IntegId::kNone: return "NULL";
    case IntegId::kHmacMd5_96: return "HMAC-MD5-96 [RFC2403]";
    case IntegId::kHmacSha1_96: return "HMAC-SHA-1-96 [RFC2404]";
    case IntegId::kHmacSha2_256_128: return "HMAC-SHA-256-128 [RFC4868]";
    case IntegId::kHmacSha2_384_192: return "HMAC-SHA-384-192 [RFC4868]";
    case IntegId::kHmacSha2_512_256: return "HMAC-SHA-512-256 [RFC4868]";
  }
  return std::unexpected(Unsupported("ESP SA", crypto::Name(integ)));
}

std::expected<SecretBytes, std::string> IkeDecryptionTableLine(std::uint64_t spi_i,
                                                               std::uint64_t spi_r,
                                                               const crypto::SkSuite& suite,
                                                               const crypto::IkeKeys& keys) {
  const auto encr = WiresharkIkeEncrName(suite.encr, suite.key_bits);
  if (!encr) return std::unexpected(encr.error());
  const auto integ =
      WiresharkIkeIntegName(crypto::IsAead(suite.encr) ? IntegId::kNone : suite.integ);
  if (!integ) return std::unexpected(integ.error());
  SecretBytes line;
  AppendText(line, fmt::format("{:016x},{:016x},", spi_i, spi_r));
  AppendHex(line, keys.sk_ei.Reveal());
  AppendText(line, ",");
  AppendHex(line, keys.sk_er.Reveal());
  AppendText(line, ",");
  AppendQuoted(line, *encr);
  AppendText(line, ",");
  AppendHex(line, keys.sk_ai.Reveal());
  AppendText(line, ",");
  AppendHex(line, keys.sk_ar.Reveal());
  AppendText(line, ",");
  AppendQuoted(line, *integ);
  AppendText(line, "\n");
  return line;
}

std::expected<SecretBytes, std::string> EspSaLines(const EspSaEndpoints& ep, const WiresharkEspSuite& suite,
                                                   const crypto::ChildKeys& keys) {
  const auto encr = WiresharkEspEncrName(suite.encr, suite.key_bits);
  if (!encr) return std::unexpected(encr.error());
  const auto auth = WiresharkEspAuthName(crypto::IsAead(suite.encr) ? IntegId::kNone : suite.integ);
  if (!auth) return std::unexpected(auth.error());
  SecretBytes lines;
  // RFC 7296 2.17: encr_i/integ_i protect initiator->responder traffic, which goes to the SPI
  // the responder chose.
  auto one = [&](const std::string& src, const std::string& dst, std::uint32_t spi,
                 const SecretBytes& encr_key, const SecretBytes& integ_key) {
    AppendQuoted(lines, ep.ipv6 ? "IPv6" : "IPv4");
    AppendText(lines, ",");
    AppendQuoted(lines, src);
    AppendText(lines, ",");
    AppendQuoted(lines, dst);
    AppendText(lines, fmt::format(",\"0x{:08x}\",", spi));
    AppendQuoted(lines, *encr);
    AppendText(lines, ",\"0x");
    AppendHex(lines, encr_key.Reveal());
    AppendText(lines, "\",");
    AppendQuoted(lines, *auth);
    AppendText(lines, ",\"0x");
    AppendHex(lines, integ_key.Reveal());
    AppendText(lines, "\"\n");
  };
  one(ep.initiator, ep.responder, ep.spi_r, keys.encr_i, keys.integ_i);
  one(ep.responder, ep.initiator, ep.spi_i, keys.encr_r, keys.integ_r);
  return lines;
}

std::expected<void, std::string> Append(const std::string& path, const SecretBytes& lines) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW,
                        S_IRUSR | S_IWUSR);
  if (fd < 0) {
    return std::unexpected(fmt::format("cannot open {}: {}", path, std::strerror(errno)));
  }
  // An existing file keeps its mode on open(): tighten it, the content is key material.
  if (::fchmod(fd, S_IRUSR | S_IWUSR) != 0) {
    const int err = errno;
    ::close(fd);
    return std::unexpected(fmt::format("cannot chmod 0600 {}: {}", path, std::strerror(err)));
  }
  ByteView rest = lines.Reveal();
  while (!rest.empty()) {
    const ssize_t n = ::write(fd, rest.data(), rest.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      const int err = errno;
      ::close(fd);
      return std::unexpected(fmt::format("cannot write {}: {}", path, std::strerror(err)));
    }
    rest = rest.subspan(static_cast<std::size_t>(n));
  }
  if (::close(fd) != 0) {
    return std::unexpected(fmt::format("cannot close {}: {}", path, std::strerror(errno)));
  }
  return {};
}

namespace {

// Splits a UAT CSV record into fields, dropping the quotes of quoted fields.
std::optional<std::vector<std::string_view>> SplitRecord(std::string_view line) {
  while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.remove_suffix(1);
  std::vector<std::string_view> fields;
  std::size_t i = 0;
  while (true) {
    if (i < line.size() && line[i] == '"') {
      const std::size_t end = line.find('"', i + 1);
      if (end == std::string_view::npos) return std::nullopt;
      fields.push_back(line.substr(i + 1, end - i - 1));
      i = end + 1;
    } else {
      const std::size_t end = std::min(line.find(',', i), line.size());
      fields.push_back(line.substr(i, end - i));
      i = end;
    }
    if (i >= line.size()) break;
    if (line[i] != ',') return std::nullopt;
    ++i;
  }
  return fields;
}

std::optional<std::uint64_t> Spi(std::string_view hex) {
  const Bytes b = FromHex(hex);
  if (b.size() != 8 || hex.size() != 16) return std::nullopt;
  std::uint64_t v = 0;
  for (std::uint8_t octet : b) v = v << 8 | octet;
  return v;
}

// FromHex returns empty for malformed input; an empty field is a valid empty key.
std::optional<SecretBytes> Key(std::string_view hex) {
  if (hex.empty()) return SecretBytes();
  Bytes b = FromHex(hex);
  if (b.empty()) return std::nullopt;
  SecretBytes key(b);
  SecureWipe(b.data(), b.size());
  return key;
}

}  // namespace

std::expected<IkeTableEntry, std::string> ParseIkeDecryptionTableLine(std::string_view line) {
  const auto fields = SplitRecord(line);
  if (!fields || fields->size() != 8) {
    return std::unexpected("not an ikev2_decryption_table record (8 comma-separated fields)");
  }
  const auto& f = *fields;
  IkeTableEntry entry;
  const auto spi_i = Spi(f[0]);
  const auto spi_r = Spi(f[1]);
  if (!spi_i || !spi_r) return std::unexpected("SPI fields must be 16 hex digits");
  entry.spi_i = *spi_i;
  entry.spi_r = *spi_r;
  // Reverse lookup of the algorithm names over every suite we can build.
  bool found_encr = false;
  for (const EncrId encr : {EncrId::k3Des, EncrId::kAesCbc, EncrId::kAesCtr, EncrId::kAesGcm8,
                            EncrId::kAesGcm12, EncrId::kAesGcm16}) {
    for (const std::uint16_t bits : {128, 192, 256}) {
      if (encr == EncrId::k3Des && bits != 192) continue;  // one key size
      const auto name = WiresharkIkeEncrName(encr, bits);
      if (name && *name == f[4]) {
        entry.suite.encr = encr;
        entry.suite.key_bits = bits;
        found_encr = true;
      }
    }
  }
  if (!found_encr) return std::unexpected(fmt::format("unknown encryption \"{}\"", f[4]));
  bool found_integ = false;
  for (const IntegId integ : {IntegId::kNone, IntegId::kHmacMd5_96, IntegId::kHmacSha1_96,
                              IntegId::kHmacSha2_256_128, IntegId::kHmacSha2_384_192,
                              IntegId::kHmacSha2_512_256}) {
    const auto name = WiresharkIkeIntegName(integ);
    if (name && *name == f[7]) {
      entry.suite.integ = integ;
      found_integ = true;
    }
  }
  if (!found_integ) return std::unexpected(fmt::format("unknown integrity \"{}\"", f[7]));
  auto ei = Key(f[2]), er = Key(f[3]), ai = Key(f[5]), ar = Key(f[6]);
  if (!ei || !er || !ai || !ar) return std::unexpected("key fields must be hex");
  entry.sk_ei = std::move(*ei);
  entry.sk_er = std::move(*er);
  entry.sk_ai = std::move(*ai);
  entry.sk_ar = std::move(*ar);
  return entry;
}

}  // namespace minivpn::ike
