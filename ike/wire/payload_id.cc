// RFC 7296 3.5 Identification payloads (IDi and IDr share this body).
//
//                      1                   2                   3
//  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// | Next Payload  |C|  RESERVED   |         Payload Length        |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |   ID Type     |                 RESERVED                      |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// ~                   Identification Data                         ~
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//
// The body (ID Type | RESERVED | data) is the RestOfIDPayload that AUTH signs (2.15); the
// reserved octets are sent as zero, so EncodePayloadBody reproduces what the peer signed only
// when the peer sent zeros too (which 3.5 requires). ID type and data are matched against the
// configuration by the engine.
#include "ike/wire/payload_codec.h"

namespace minivpn::ike::detail {

Decoded<IdPayload> DecodeId(PayloadType type, Reader& r) {
  IdPayload id;
  std::uint8_t id_type = 0;
  if (!r.U8(id_type) || !r.Skip(3)) return BodyError(type, r.offset(), "short");
  id.id_type = static_cast<IdType>(id_type);
  const ByteView data = r.Rest();
  id.data.assign(data.begin(), data.end());
  return id;
}

void EncodeId(const IdPayload& id, Writer& w) {
  w.U8(static_cast<std::uint8_t>(id.id_type));
  w.Zeros(3);
  w.Raw(id.data);
}

}  // namespace minivpn::ike::detail
