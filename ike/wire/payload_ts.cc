// RFC 7296 3.13 Traffic Selector payloads (TSi and TSr share this body).
//
//                      1                   2                   3
//  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// | Next Payload  |C|  RESERVED   |         Payload Length        |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// | Number of TSs |                 RESERVED                      |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// ~                       <Traffic Selectors>                     ~
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//
// 3.13.1 Traffic Selector
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |   TS Type     |IP Protocol ID*|       Selector Length         |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |           Start Port*         |           End Port*           |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// ~                         Starting Address*                     ~
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// ~                         Ending Address*                       ~
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//
// Strict: at least one selector, the count matches the selectors present, only the types
// 7 (IPv4, length 16) and 8 (IPv6, length 40), and ranges with start <= end. The one allowed
// exception is 3.13.1's OPAQUE ports (start 65535, end 0). Whether the selectors are acceptable
// for the configuration (TS_UNACCEPTABLE, narrowing) is the engine's decision.
#include <algorithm>
#include <string>

#include "ike/wire/payload_codec.h"

namespace minivpn::ike::detail {
namespace {

constexpr std::size_t kTsHeaderSize = 8;

}  // namespace

Decoded<TsPayload> DecodeTs(PayloadType type, Reader& r) {
  const std::size_t start = r.offset();
  std::uint8_t count = 0;
  if (!r.U8(count) || !r.Skip(3)) return BodyError(type, start, "short");
  if (count == 0) return BodyError(type, start, "no traffic selectors");
  TsPayload ts;
  for (unsigned i = 0; i < count; ++i) {
    const std::size_t at = r.offset();
    const std::string which = "selector " + std::to_string(i + 1) + ": ";
    if (r.empty()) {
      return BodyError(type, at,
                       "count " + std::to_string(count) + " but " + std::to_string(i) + " present");
    }
    TrafficSelector s;
    std::uint8_t ts_type = 0;
    std::uint16_t length = 0;
    if (!r.U8(ts_type) || !r.U8(s.ip_protocol) || !r.U16(length)) {
      return BodyError(type, at, which + "header truncated");
    }
    s.ts_type = static_cast<TsType>(ts_type);
    std::size_t address_size = 0;
    if (s.ts_type == TsType::kIpv4AddrRange) {
      address_size = 4;
    } else if (s.ts_type == TsType::kIpv6AddrRange) {
      address_size = 16;
    } else {
      return BodyError(type, at, which + "unknown TS type " + std::to_string(ts_type));
    }
    if (length != kTsHeaderSize + 2 * address_size) {
      return BodyError(type, at + 2,
                       which + "length " + std::to_string(length) + " for " +
                           (address_size == 4 ? "IPv4 (16)" : "IPv6 (40)"));
    }
    if (!r.U16(s.start_port) || !r.U16(s.end_port) || !r.Copy(address_size, s.start_address) ||
        !r.Copy(address_size, s.end_address)) {
      return BodyError(type, at, which + "past the end of the payload");
    }
    const bool opaque_ports = s.start_port == 0xffff && s.end_port == 0;
    if (s.start_port > s.end_port && !opaque_ports) {
      return BodyError(type, at + 4, which + "start port > end port");
    }
    if (std::lexicographical_compare(s.end_address.begin(), s.end_address.end(),
                                     s.start_address.begin(), s.start_address.end())) {
      return BodyError(type, at + 8, which + "start address > end address");
    }
    ts.selectors.push_back(std::move(s));
  }
  if (!r.empty()) {
    return BodyError(type, r.offset(),
                     "count " + std::to_string(count) + " but more data follows");
  }
  return ts;
}

void EncodeTs(const TsPayload& ts, Writer& w) {
  w.U8(static_cast<std::uint8_t>(ts.selectors.size()));
  w.Zeros(3);
  for (const TrafficSelector& s : ts.selectors) {
    w.U8(static_cast<std::uint8_t>(s.ts_type));
    w.U8(s.ip_protocol);
    w.U16(static_cast<std::uint16_t>(kTsHeaderSize + s.start_address.size() +
                                     s.end_address.size()));
    w.U16(s.start_port);
    w.U16(s.end_port);
    w.Raw(s.start_address);
    w.Raw(s.end_address);
  }
}

}  // namespace minivpn::ike::detail
