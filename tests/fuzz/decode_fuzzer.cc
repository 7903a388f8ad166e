// libFuzzer target for the IKEv2 codec (ike/wire/codec.h).
//
// For any input: Decode must not crash; when it succeeds, Encode(m) must decode again to m
// (with the header Length that Encode derives) and re-encode to the same octets, and the
// exchange table, summary and formatters must run cleanly on it. The same input minus its
// first octet is also fed to DecodePayloads as an inner (SK plaintext) chain whose first
// payload type is that octet, with the same round-trip checks.
#include <fmt/format.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "ike/wire/codec.h"
#include "ike/wire/format.h"

namespace {

using minivpn::Bytes;
using minivpn::ByteView;
namespace ike = minivpn::ike;

[[noreturn]] void Fail(const char* what) {
  std::fprintf(stderr, "decode_fuzzer: %s\n", what);
  std::abort();
}

void CheckMessage(const ike::Message& m) {
  const Bytes encoded = ike::Encode(m);
  auto again = ike::Decode(encoded);
  if (!again) Fail(ike::Describe(again.error()).c_str());
  ike::Message expected = m;
  // Length is derived by Encode; it only differs when a proposal with an unknown transform
  // attribute was dropped (3.3.6).
  expected.header.length = static_cast<std::uint32_t>(encoded.size());
  if (!(*again == expected)) Fail("Decode(Encode(m)) != m");
  if (ike::Encode(*again) != encoded) Fail("Encode is not stable");
  (void)ike::CheckExchangeRules(m.header, m.payloads);
  const std::string text = fmt::format("{} {}", m, ike::Summary(m.header, m.payloads));
  for (const ike::Payload& p : m.payloads) (void)fmt::format("{}", p);
  if (text.empty()) Fail("empty summary");
}

void CheckPayloads(ike::PayloadType first, ByteView data) {
  auto payloads = ike::DecodePayloads(first, data);
  if (!payloads) {
    (void)ike::Describe(payloads.error());
    return;
  }
  const Bytes encoded = ike::EncodePayloads(*payloads);
  const auto new_first = payloads->empty() ? ike::PayloadType::kNone : payloads->front().type;
  auto again = ike::DecodePayloads(new_first, encoded);
  if (!again) Fail(ike::Describe(again.error()).c_str());
  if (*again != *payloads) Fail("DecodePayloads(EncodePayloads(p)) != p");
  if (ike::EncodePayloads(*again) != encoded) Fail("EncodePayloads is not stable");
  (void)ike::CheckExchangeRules(ike::Header{}, *payloads);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const ByteView input(data, size);
  auto message = ike::Decode(input);
  if (message) {
    CheckMessage(*message);
  } else {
    (void)ike::Describe(message.error());
  }
  if (size > 0) CheckPayloads(static_cast<ike::PayloadType>(data[0]), input.subspan(1));
  return 0;
}
