// libFuzzer target for the vici codec and framer (vici/), what minivpnd runs over every octet a
// vici client (swanctl) sends. The input is read as a stream from the socket (length-prefixed
// packets, the seeds are real sessions) and also as one bare packet and one bare message. For
// every input:
//   - DecodeMessage and DecodePacket of the whole input never crash; what decodes encodes back
//     to the input octet for octet (the encoding has no choices), that decodes to the same tree,
//     and the text dumps and the lookups of every element work;
//   - the framer fed the stream whole, octet by octet and in chunks whose sizes the input picks
//     gives the packets, the error and the end-of-stream state of a plain reference loop over
//     the input, with the default maximum packet size and with one the input picks (0..255);
//     it never holds more than the length prefix and one maximum packet;
//   - every packet it gives decodes or fails with a named error at an offset inside it, and
//     what decodes round-trips as above.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "vici/codec.h"
#include "vici/framer.h"
#include "vici/message.h"

namespace {

using namespace minivpn::vici;  // NOLINT
using Octets = std::vector<std::uint8_t>;
using Input = std::span<const std::uint8_t>;

[[noreturn]] void Fail(const std::string& what) {
  std::fprintf(stderr, "vici_fuzzer: %s\n", what.c_str());
  std::abort();
}

// What a correct framer makes of `stream`: the packets before the first error, the offset of
// an oversize length prefix, the offset of a packet cut by the end of the stream.
struct Framing {
  std::vector<Octets> packets;
  std::optional<std::size_t> too_large_at;
  std::optional<std::size_t> cut_at;
};

Framing Reference(Input stream, std::size_t max_packet) {
  Framing out;
  std::size_t pos = 0;
  while (pos < stream.size()) {
    if (stream.size() - pos < kLengthPrefixSize) {
      out.cut_at = pos;
      break;
    }
    std::size_t size = 0;
    for (std::size_t i = 0; i < kLengthPrefixSize; ++i) size = (size << 8) | stream[pos + i];
    if (size > max_packet) {
      out.too_large_at = pos;
      break;
    }
    if (stream.size() - pos - kLengthPrefixSize < size) {
      out.cut_at = pos;
      break;
    }
    const auto* begin = stream.data() + pos + kLengthPrefixSize;
    out.packets.emplace_back(begin, begin + size);
    pos += kLengthPrefixSize + size;
  }
  return out;
}

// Feeds `stream` in chunks of the sizes `next_chunk` gives, taking packets as they complete.
template <typename NextChunk>
Framing RunFramer(Input stream, std::size_t max_packet, NextChunk next_chunk) {
  Framer framer(max_packet);
  Framing out;
  std::size_t pos = 0;
  while (pos < stream.size()) {
    const std::size_t chunk = std::min(next_chunk(pos), stream.size() - pos);
    Input data = stream.subspan(pos, chunk);
    pos += chunk;
    while (!data.empty()) {
      auto taken = framer.Feed(data);
      if (!taken) {
        if (taken.error().code != ErrorCode::kTooLarge) Fail("Feed failed with another code");
        if (!framer.failed()) Fail("Feed failed but failed() is false");
        out.too_large_at = taken.error().offset;
        auto again = framer.Feed(data);
        if (again || again.error() != taken.error()) Fail("a failed framer took more");
        return out;
      }
      if (*taken == 0 && !framer.has_packet()) Fail("Feed took nothing with no packet waiting");
      data = data.subspan(*taken);
      if (framer.buffered() > kLengthPrefixSize + max_packet) Fail("the framer holds too much");
      if (auto packet = framer.Take()) out.packets.push_back(std::move(*packet));
      if (framer.has_packet()) Fail("a packet still waits after Take");
    }
  }
  if (framer.stream_offset() != stream.size()) Fail("stream_offset is not the octets fed");
  auto end = framer.Finish();
  if (!end) {
    if (end.error().code != ErrorCode::kTruncated) Fail("Finish failed with another code");
    out.cut_at = end.error().offset;
  } else if (framer.buffered() != 0) {
    Fail("Finish accepts a partial packet");
  }
  return out;
}

void ExpectSame(const Framing& got, const Framing& want, const char* how) {
  if (got.packets != want.packets) Fail(std::string("framer packets differ: ") + how);
  if (got.too_large_at != want.too_large_at) Fail(std::string("oversize verdict differs: ") + how);
  if (got.cut_at != want.cut_at) Fail(std::string("end-of-stream verdict differs: ") + how);
}

// The lookups find every element of a decoded section by its own name (the first of that name
// and kind), in every sub-section too, and the dumps do not crash.
void CheckTree(const Message& m) {
  for (const Element& e : m.elements) {
    bool first = true;
    for (const Element& other : m.elements) {
      if (&other == &e) break;
      if (other.name == e.name && other.kind() == e.kind()) first = false;
    }
    if (!first) continue;
    const bool found =
        (e.kind() == ElementKind::kKeyValue && m.Find({e.name}) == e.value()) ||
        (e.kind() == ElementKind::kList && m.FindList({e.name}) == e.list()) ||
        (e.kind() == ElementKind::kSection && m.FindSection({e.name}) == e.section());
    if (!found) Fail("a lookup misses element '" + Shown(e.name) + "'");
    if (const Section* sub = e.section()) CheckTree(*sub);
  }
  (void)Dump(m, false);
  (void)Dump(m, true);
}

void CheckMessage(Input data) {
  auto m = DecodeMessage(data, 7);
  if (!m) {
    if (m.error().offset < 7 || m.error().offset > 7 + data.size()) Fail("message error offset");
    if (Name(m.error().code) == "unknown error") Fail("message error without a name");
    return;
  }
  auto wire = Encode(*m);
  if (!wire) Fail("a decoded message does not encode: " + Describe(wire.error()));
  if (!std::equal(wire->begin(), wire->end(), data.begin(), data.end())) {
    Fail("Encode(DecodeMessage(x)) != x");
  }
  auto again = DecodeMessage(*wire);
  if (!again || *again != *m) Fail("the re-encoded message decodes to another tree");
  CheckTree(*m);
}

void CheckPacket(Input data) {
  auto p = DecodePacket(data);
  if (!p) {
    if (p.error().offset > data.size()) Fail("packet error offset past the end");
    if (Name(p.error().code) == "unknown error") Fail("packet error without a name");
    if (Describe(p.error()).empty()) Fail("empty description");
    return;
  }
  auto wire = Encode(*p);
  if (!wire) Fail("a decoded packet does not encode: " + Describe(wire.error()));
  if (!std::equal(wire->begin(), wire->end(), data.begin(), data.end())) {
    Fail("Encode(DecodePacket(x)) != x");
  }
  auto again = DecodePacket(*wire);
  if (!again || *again != *p) Fail("the re-encoded packet decodes to another packet");
  auto frame = EncodeFrame(*p);
  if (!frame || frame->size() != kLengthPrefixSize + wire->size()) Fail("EncodeFrame size");
  if (!HasName(p->type) && !p->name.empty()) Fail("a name on a type without one");
  if (!HasMessage(p->type) && !p->message.empty()) Fail("a message on a type without one");
  (void)Dump(*p);
  CheckTree(p->message);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* raw, std::size_t size) {
  const Input input(raw, size);
  CheckMessage(input);
  CheckPacket(input);

  // The framer: the input as a stream.
  const std::size_t small_max = size > 0 ? raw[0] : 0;
  // Chunk sizes read from the stream at the chunk's start: 1..16, or up to ~4 KiB when the
  // octet's top bit is set.
  auto chosen = [&](std::size_t pos) -> std::size_t {
    const std::uint8_t b = raw[pos];
    return (b & 0x80) != 0 ? 1 + std::size_t{b & 0x7fu} * 33 : 1 + (b & 0x0fu);
  };
  auto whole = [&](std::size_t) { return size; };
  auto octet = [](std::size_t) -> std::size_t { return 1; };

  const Framing want = Reference(input, kMaxPacketSize);
  ExpectSame(RunFramer(input, kMaxPacketSize, whole), want, "whole");
  ExpectSame(RunFramer(input, kMaxPacketSize, chosen), want, "chosen chunks");
  if (size <= 4096) ExpectSame(RunFramer(input, kMaxPacketSize, octet), want, "octet by octet");
  ExpectSame(RunFramer(input, small_max, chosen), Reference(input, small_max), "small maximum");

  // FeedAll gives the same packets (when the stream has no oversize prefix).
  if (!want.too_large_at) {
    Framer framer;
    auto all = framer.FeedAll(input);
    if (!all || *all != want.packets) Fail("FeedAll differs");
  }
  for (const Octets& packet : want.packets) CheckPacket(packet);
  return 0;
}
