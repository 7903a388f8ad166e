// Wireshark decryption tables (opt-in per connection): lines for Wireshark's user tables
// `ikev2_decryption_table` (packet-isakmp.c) and `esp_sa` (packet-ipsec.c), the same files
// strongSwan's save-keys plugin writes, so that `tshark -o ...` or a Wireshark profile directory
// holding them decrypts a capture of the tunnel.
//
// UAT line formats (one record per line, '\n' terminated; checked with tshark 4.0):
//   ikev2_decryption_table: SPIi,SPIr,SK_ei,SK_er,"<encr>",SK_ai,SK_ar,"<integ>"
//     SPIs and keys as bare lower-case hex (Wireshark reads these fields as hex bytes; a quoted
//     field would be taken as text), empty for AEAD integrity keys; algorithm names quoted.
//   esp_sa: "IPv4|IPv6","<src>","<dst>","0x<spi, 8 hex
//   digits>","<encr>","0x<key>","<auth>","0x<key>"
//     one line per direction; the encryption key includes the AEAD salt (RFC 4106 / RFC 7634).
//
// The lines ARE key material: they are returned as SecretBytes (never log them) and written only
// by Append(), with mode 0600.
#pragma once

#include <cstdint>
#include <expected>
#include <string>
#include <string_view>

#include "crypto/algorithms.h"
#include "crypto/keymat.h"
#include "crypto/secret.h"
#include "crypto/sk_cipher.h"

namespace minivpn::ike {

inline constexpr std::string_view kIkeDecryptionTableFile = "ikev2_decryption_table";
inline constexpr std::string_view kEspSaTableFile = "esp_sa";

// Wireshark's names, or an error naming what Wireshark cannot decrypt (e.g. ChaCha20-Poly1305
// has no entry in the IKEv2 table).
std::expected<std::string_view, std::string> WiresharkIkeEncrName(crypto::EncrId encr,
                                                                  std::uint16_t key_bits);
std::expected<std::string_view, std::string> WiresharkIkeIntegName(crypto::IntegId integ);
std::expected<std::string_view, std::string> WiresharkEspEncrName(crypto::EncrId encr,
                                                                  std::uint16_t key_bits);
std::expected<std::string_view, std::string> WiresharkEspAuthName(crypto::IntegId integ);

// One ikev2_decryption_table record for an IKE SA (RFC 7296 2.14 keys).
std::expected<SecretBytes, std::string> IkeDecryptionTableLine(std::uint64_t spi_i,
                                                               std::uint64_t spi_r,
                                                               const crypto::SkSuite& suite,
                                                               const crypto::IkeKeys& keys);

// The two esp_sa records of a CHILD_SA (RFC 7296 2.17 KEYMAT), initiator->responder first.
struct EspSaEndpoints {
  std::string initiator;  // outer addresses as text ("192.0.2.1", "2001:db8::1")
  std::string responder;
  bool ipv6 = false;
  std::uint32_t spi_i = 0;  // chosen by the initiator (carries responder->initiator traffic)
  std::uint32_t spi_r = 0;  // chosen by the responder (carries initiator->responder traffic)
  bool operator==(const EspSaEndpoints&) const = default;
};
struct WiresharkEspSuite {
  crypto::EncrId encr = crypto::EncrId::kAesGcm16;
  std::uint16_t key_bits = 256;
  crypto::IntegId integ = crypto::IntegId::kNone;
  bool operator==(const WiresharkEspSuite&) const = default;
};
std::expected<SecretBytes, std::string> EspSaLines(const EspSaEndpoints& endpoints,
                                                   const WiresharkEspSuite& suite,
                                                   const crypto::ChildKeys& keys);

// Appends `lines` to `path`, creating it with mode 0600 (and setting 0600 on an existing file);
// refuses a symbolic link. Errors carry the path and strerror, never the content.
std::expected<void, std::string> Append(const std::string& path, const SecretBytes& lines);

// Parses one ikev2_decryption_table record (what IkeDecryptionTableLine writes, or strongSwan's
// save-keys output): for tools that decrypt captured messages with exported keys.
struct IkeTableEntry {
  std::uint64_t spi_i = 0, spi_r = 0;
  crypto::SkSuite suite{};
  SecretBytes sk_ei, sk_er, sk_ai, sk_ar;
};
std::expected<IkeTableEntry, std::string> ParseIkeDecryptionTableLine(std::string_view line);

}  // namespace minivpn::ike
