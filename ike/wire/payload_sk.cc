// RFC 7296 3.14 Encrypted payload (SK) and RFC 7383 2.5 Encrypted Fragment payload (SKF).
//
// SK:
//                      1                   2                   3
//  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// | Next Payload  |C|  RESERVED   |         Payload Length        |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |                     Initialization Vector                     |
// |         (length is block size for encryption algorithm)       |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// ~                    Encrypted IKE Payloads                     ~
// +               +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |               |             Padding (0-255 octets)            |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |                                               |  Pad Length   |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// ~                    Integrity Checksum Data                    ~
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//
// SKF:
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// | Next Payload  |C|  RESERVED   |         Payload Length        |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |        Fragment Number        |        Total Fragments        |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |                     Initialization Vector                     |
// ~          Encrypted content / Padding / Pad Length / ICV       ~
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//
// The body stays opaque here (the IV and ICV sizes depend on the negotiated suite); protect.cc
// opens it. The Next Payload field names the first inner payload (RFC 7383 2.5: only in
// fragment 1; 0 in the others).
#include <string>

#include "ike/wire/payload_codec.h"

namespace minivpn::ike::detail {

Decoded<SkPayload> DecodeSk(PayloadType first_inner, Reader& r) {
  SkPayload sk;
  sk.first_inner = first_inner;
  const ByteView body = r.Rest();
  sk.body.assign(body.begin(), body.end());
  return sk;
}

void EncodeSk(const SkPayload& sk, Writer& w) { w.Raw(sk.body); }

Decoded<SkfPayload> DecodeSkf(PayloadType first_inner, Reader& r) {
  constexpr PayloadType kSkf = PayloadType::kSkf;
  const std::size_t start = r.offset();
  SkfPayload skf;
  skf.first_inner = first_inner;
  if (!r.U16(skf.fragment_number) || !r.U16(skf.total_fragments)) {
    return BodyError(kSkf, start, "short");
  }
  // RFC 7383 2.5/2.6.2: numbers start at 1 and never exceed the total.
  if (skf.total_fragments == 0 || skf.fragment_number == 0 ||
      skf.fragment_number > skf.total_fragments) {
    return BodyError(kSkf, start,
                     "fragment " + std::to_string(skf.fragment_number) + " of " +
                         std::to_string(skf.total_fragments));
  }
  // RFC 7383 2.5: Next Payload is 0 in every fragment but the first.
  if (skf.fragment_number != 1 && first_inner != PayloadType::kNone) {
    return BodyError(kSkf, start - 4,
                     "fragment " + std::to_string(skf.fragment_number) +
                         " names a first inner payload");
  }
  const ByteView body = r.Rest();
  skf.body.assign(body.begin(), body.end());
  return skf;
}

void EncodeSkf(const SkfPayload& skf, Writer& w) {
  w.U16(skf.fragment_number);
  w.U16(skf.total_fragments);
  w.Raw(skf.body);
}

}  // namespace minivpn::ike::detail
