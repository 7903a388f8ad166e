// Loading the charon <-> charon fixtures (tests/fixtures/charon/README.md) for the trace,
// key-walk-through and Wireshark-table tests: messages, and the values charon dumped at ike=4.
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <vector>

#include "crypto/bytes.h"
#include "crypto/secret.h"
#include "crypto/sk_cipher.h"
#include "tests/fixtures/charon_log.h"
#include "ike/wire/codec.h"
#include "ike/wire/protect.h"

namespace minivpn::ike::testing {

using minivpn::testing::CharonLog;
using minivpn::testing::kCharonFixtures;
using minivpn::testing::ReadBinary;

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
