// RFC 7296 3.11 Delete payload.
//
//                      1                   2                   3
//  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// | Next Payload  |C|  RESERVED   |         Payload Length        |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// | Protocol ID   |   SPI Size    |          Num of SPIs          |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// ~               Security Parameter Index(es) (SPI)              ~
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//
// 3.11: Protocol ID is 1 (IKE SA, SPI size 0, no SPIs: the SA is the one the message is
// protected by), 2 (AH) or 3 (ESP), both with 4-octet SPIs. Num of SPIs x SPI Size must be
// exactly what is left of the payload.
#include <string>

#include "ike/wire/payload_codec.h"

namespace minivpn::ike::detail {

Decoded<DeletePayload> DecodeDelete(Reader& r) {
  constexpr PayloadType kD = PayloadType::kDelete;
  const std::size_t start = r.offset();
  DeletePayload d;
  std::uint8_t protocol = 0;
  std::uint16_t count = 0;
  if (!r.U8(protocol) || !r.U8(d.spi_size) || !r.U16(count)) return BodyError(kD, start, "short");
  d.protocol = static_cast<ProtocolId>(protocol);
  std::size_t expected_size = 0;
  switch (d.protocol) {
    case ProtocolId::kIke:
      expected_size = 0;
      break;
    case ProtocolId::kAh:
    case ProtocolId::kEsp:
      expected_size = 4;
      break;
    default:
      return BodyError(kD, start, "protocol id " + std::to_string(protocol));
  }
  if (d.spi_size != expected_size) {
    return BodyError(kD, start + 1,
                     "SPI size " + std::to_string(d.spi_size) + " for protocol " +
                         std::string(Name(d.protocol)));
  }
  if (d.protocol == ProtocolId::kIke && count != 0) {
    return BodyError(kD, start + 2, "IKE delete with " + std::to_string(count) + " SPIs");
  }
  if (std::size_t{count} * d.spi_size != r.remaining()) {
    return BodyError(kD, start + 2,
                     std::to_string(count) + " SPIs of " + std::to_string(d.spi_size) +
                         " octets but " + std::to_string(r.remaining()) + " octets follow");
  }
  d.spis.resize(count);
  for (Bytes& spi : d.spis) r.Copy(d.spi_size, spi);
  return d;
}

void EncodeDelete(const DeletePayload& d, Writer& w) {
  w.U8(static_cast<std::uint8_t>(d.protocol));
  w.U8(d.spi_size);
  w.U16(static_cast<std::uint16_t>(d.spis.size()));
  for (const Bytes& spi : d.spis) w.Raw(spi);
}

}  // namespace minivpn::ike::detail
