// RFC 7296 3.4 Key Exchange payload.
//
//                      1                   2                   3
//  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// | Next Payload  |C|  RESERVED   |         Payload Length        |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |   Diffie-Hellman Group Num    |           RESERVED            |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// ~                       Key Exchange Data                       ~
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//
// The group and the data length are checked against the chosen proposal by the engine
// (INVALID_KE_PAYLOAD, RFC 6989 validation), not here.
#include "ike/wire/payload_codec.h"

namespace minivpn::ike::detail {

Decoded<KePayload> DecodeKe(Reader& r) {
  KePayload ke;
  std::uint16_t group = 0;
  std::uint16_t reserved = 0;
  if (!r.U16(group) || !r.U16(reserved)) return BodyError(PayloadType::kKe, r.offset(), "short");
  ke.group = static_cast<DhGroup>(group);
  const ByteView data = r.Rest();
  ke.data.assign(data.begin(), data.end());
  return ke;
}

void EncodeKe(const KePayload& ke, Writer& w) {
  w.U16(static_cast<std::uint16_t>(ke.group));
  w.U16(0);
  w.Raw(ke.data);
}

}  // namespace minivpn::ike::detail
