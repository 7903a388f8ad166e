// RFC 7296 3.10 Notify payload.
//
//                      1                   2                   3
//  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// | Next Payload  |C|  RESERVED   |         Payload Length        |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |  Protocol ID  |   SPI Size    |      Notify Message Type      |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// ~                Security Parameter Index (SPI)                 ~
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// ~                       Notification Data                       ~
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//
// Unknown notify types are kept (3.10.1: unrecognized status types are ignored, unrecognized
// errors in a response mean the request failed); per-type data checks (COOKIE 1..64, NAT-D 20,
// REKEY_SA SPI size) belong to the engine.
#include <string>

#include "ike/wire/payload_codec.h"

namespace minivpn::ike::detail {

Decoded<NotifyPayload> DecodeNotify(Reader& r) {
  NotifyPayload n;
  const std::size_t start = r.offset();
  std::uint8_t protocol = 0;
  std::uint8_t spi_size = 0;
  std::uint16_t type = 0;
  if (!r.U8(protocol) || !r.U8(spi_size) || !r.U16(type)) {
    return BodyError(PayloadType::kNotify, start, "short");
  }
  n.protocol = static_cast<ProtocolId>(protocol);
  n.type = static_cast<NotifyType>(type);
  if (!r.Copy(spi_size, n.spi)) {
    return BodyError(PayloadType::kNotify, start + 1,
                     "SPI size " + std::to_string(spi_size) + " past the payload");
  }
  const ByteView data = r.Rest();
  n.data.assign(data.begin(), data.end());
  return n;
}

void EncodeNotify(const NotifyPayload& n, Writer& w) {
  w.U8(static_cast<std::uint8_t>(n.protocol));
  w.U8(static_cast<std::uint8_t>(n.spi.size()));
  w.U16(static_cast<std::uint16_t>(n.type));
  w.Raw(n.spi);
  w.Raw(n.data);
}

}  // namespace minivpn::ike::detail
