// RFC 7296 3.15 Configuration payload.
//
//                      1                   2                   3
//  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// | Next Payload  |C| RESERVED    |         Payload Length        |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |   CFG Type    |                    RESERVED                   |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// ~                   Configuration Attributes                    ~
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//
// 3.15.1 Configuration Attribute
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |R|         Attribute Type      |            Length             |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// ~                             Value                             ~
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//
// Attribute values are kept opaque; minivpn does not hand out addresses.
#include <string>

#include "ike/wire/payload_codec.h"

namespace minivpn::ike::detail {

Decoded<CpPayload> DecodeCp(Reader& r) {
  constexpr PayloadType kCp = PayloadType::kCp;
  CpPayload cp;
  std::uint8_t cfg_type = 0;
  if (!r.U8(cfg_type) || !r.Skip(3)) return BodyError(kCp, r.offset(), "short");
  cp.cfg_type = static_cast<CfgType>(cfg_type);
  while (!r.empty()) {
    const std::size_t at = r.offset();
    CpAttribute a;
    std::uint16_t type = 0;
    std::uint16_t length = 0;
    if (!r.U16(type) || !r.U16(length)) return BodyError(kCp, at, "attribute header truncated");
    a.type = type & 0x7fff;  // 3.15.1: the R bit is reserved
    if (!r.Copy(length, a.value)) {
      return BodyError(kCp, at + 2, "attribute length " + std::to_string(length) + " past end");
    }
    cp.attributes.push_back(std::move(a));
  }
  return cp;
}

void EncodeCp(const CpPayload& cp, Writer& w) {
  w.U8(static_cast<std::uint8_t>(cp.cfg_type));
  w.Zeros(3);
  for (const CpAttribute& a : cp.attributes) {
    w.U16(a.type & 0x7fff);
    w.U16(static_cast<std::uint16_t>(a.value.size()));
    w.Raw(a.value);
  }
}

}  // namespace minivpn::ike::detail
