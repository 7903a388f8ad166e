// RFC 7296 3.9 Nonce payload.
//
//                      1                   2                   3
//  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// | Next Payload  |C|  RESERVED   |         Payload Length        |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// ~                            Nonce Data                         ~
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//
// 3.9: "The size of the Nonce Data MUST be between 16 and 256 octets, inclusive."
#include <string>

#include "ike/wire/payload_codec.h"

namespace minivpn::ike::detail {

inline constexpr std::size_t kMinNonceSize = 16;
inline constexpr std::size_t kMaxNonceSize = 256;

Decoded<NoncePayload> DecodeNonce(Reader& r) {
  const std::size_t start = r.offset();
  if (r.remaining() < kMinNonceSize || r.remaining() > kMaxNonceSize) {
    return BodyError(PayloadType::kNonce, start,
                     "nonce of " + std::to_string(r.remaining()) + " octets (3.9: 16..256)");
  }
  NoncePayload nonce;
  const ByteView data = r.Rest();
  nonce.data.assign(data.begin(), data.end());
  return nonce;
}

void EncodeNonce(const NoncePayload& nonce, Writer& w) { w.Raw(nonce.data); }

}  // namespace minivpn::ike::detail
