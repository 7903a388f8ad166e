// Loading the charon <-> charon fixtures (tests/fixtures/charon/README.md) for the trace,
// key-walk-through and Wireshark-table tests: messages, and the values charon dumped at ike=4.
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>
#include <vector>

#include "crypto/bytes.h"
#include "crypto/secret.h"
#include "crypto/sk_cipher.h"
#include "ike/codec.h"
#include "ike/protect.h"

namespace minivpn::ike::testing {

inline const std::filesystem::path kCharonFixtures =
    std::filesystem::path(MINIVPN_FIXTURES) / "charon";

inline Bytes ReadBinary(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  EXPECT_TRUE(in.good()) << "missing fixture " << path;
  return Bytes(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// charon's hex dumps: "NN[IKE] <label> => <n> bytes @ 0x..." followed by lines
// "NN[IKE]   <offset>: XX XX ... (16 per line)  <ascii>".
class CharonLog {
 public:
  explicit CharonLog(const std::filesystem::path& path) {
    std::ifstream in(path);
    EXPECT_TRUE(in.good()) << "missing fixture " << path;
    for (std::string line; std::getline(in, line);) lines_.push_back(line);
  }

  std::vector<Bytes> All(std::string_view label) const {
    std::vector<Bytes> values;
    const std::string marker = "] " + std::string(label) + " => ";
    for (std::size_t i = 0; i < lines_.size(); ++i) {
      const std::size_t at = lines_[i].find(marker);
      if (at == std::string::npos) continue;
      const std::size_t size = std::stoul(lines_[i].substr(at + marker.size()));
      Bytes value;
      for (std::size_t j = i + 1; j < lines_.size() && value.size() < size; ++j) {
        const std::size_t colon = lines_[j].find(": ");
        if (colon == std::string::npos) break;
        std::istringstream hex(lines_[j].substr(colon + 2, 47));
        for (std::string octet; hex >> octet && value.size() < size;) {
          value.push_back(static_cast<std::uint8_t>(std::stoul(octet, nullptr, 16)));
        }
      }
      values.push_back(std::move(value));
    }
    return values;
  }

  Bytes One(std::string_view label) const {
    const std::vector<Bytes> all = All(label);
    EXPECT_EQ(all.size(), 1u) << label;
    return all.empty() ? Bytes() : all.front();
  }

  SecretBytes Secret(std::string_view label) const { return SecretBytes(One(label)); }

 private:
  std::vector<std::string> lines_;
};

// One fixture folder: its messages decoded, and SK ciphers keyed with charon's SK_e/SK_a.
struct CharonRun {
  std::string dir;
  crypto::SkSuite suite;

  std::filesystem::path Path(std::string_view file) const { return kCharonFixtures / dir / file; }
  Bytes Wire(std::string_view file) const { return ReadBinary(Path(file)); }
  Message Decoded(std::string_view file) const {
    auto m = Decode(Wire(file));
    EXPECT_TRUE(m.has_value()) << file;
    return m ? *m : Message{};
  }
  CharonLog Log() const { return CharonLog(Path("charon-initiator.log")); }

  // Decrypted inner payloads of a protected fixture message.
  std::vector<Payload> Inner(std::string_view file) const {
    const CharonLog log = Log();
    const Bytes wire = Wire(file);
    auto m = Decode(wire);
    EXPECT_TRUE(m.has_value());
    if (!m) return {};
    const bool from_initiator = m->header.is_initiator();
    auto cipher = crypto::SkCipher::Create(
        suite, log.Secret(from_initiator ? "Sk_ei secret" : "Sk_er secret"),
        suite.integ == crypto::IntegId::kNone
            ? SecretBytes()
            : log.Secret(from_initiator ? "Sk_ai secret" : "Sk_ar secret"));
    EXPECT_TRUE(cipher.has_value());
    if (!cipher) return {};
    auto inner = Unprotect(wire, *m, *cipher);
    EXPECT_TRUE(inner.has_value()) << (inner ? "" : Describe(inner.error()));
    return inner ? *inner : std::vector<Payload>{};
  }
};

inline CharonRun GcmRun() {
  return {"gcm", {crypto::EncrId::kAesGcm16, 256, crypto::IntegId::kNone}};
}
inline CharonRun CbcRun() {
  return {"cbc", {crypto::EncrId::kAesCbc, 128, crypto::IntegId::kHmacSha2_256_128}};
}

}  // namespace minivpn::ike::testing
