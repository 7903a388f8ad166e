// RFC 7296 3.8 Authentication payload.
//
//                      1                   2                   3
//  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// | Next Payload  |C|  RESERVED   |         Payload Length        |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// | Auth Method   |                RESERVED                       |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// ~                      Authentication Data                      ~
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//
// Method and data length are checked by the engine (PSK only, prf output size).
#include "ike/wire/payload_codec.h"

namespace minivpn::ike::detail {

Decoded<AuthPayload> DecodeAuth(Reader& r) {
  AuthPayload auth;
  std::uint8_t method = 0;
  if (!r.U8(method) || !r.Skip(3)) return BodyError(PayloadType::kAuth, r.offset(), "short");
  auth.method = static_cast<AuthMethod>(method);
  const ByteView data = r.Rest();
  auth.data.assign(data.begin(), data.end());
  return auth;
}

void EncodeAuth(const AuthPayload& auth, Writer& w) {
  w.U8(static_cast<std::uint8_t>(auth.method));
  w.Zeros(3);
  w.Raw(auth.data);
}

}  // namespace minivpn::ike::detail
