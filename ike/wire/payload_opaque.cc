// Payloads carried opaque: minivpn authenticates with PSK only and does no EAP, so CERT,
// CERTREQ, EAP and Vendor ID are only checked for their framing and kept as they are.
//
// RFC 7296 3.6 Certificate / 3.7 Certificate Request payloads:
//                      1                   2                   3
//  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// | Next Payload  |C|  RESERVED   |         Payload Length        |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// | Cert Encoding |                                               |
// +-+-+-+-+-+-+-+-+                                               |
// ~       Certificate Data / Certification Authority              ~
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//
// RFC 7296 3.12 Vendor ID payload:
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// | Next Payload  |C|  RESERVED   |         Payload Length        |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// ~                        Vendor ID (VID)                        ~
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//
// RFC 7296 3.16 EAP payload (the EAP message starts with Code, Identifier and a 2-octet Length):
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// | Next Payload  |C|  RESERVED   |         Payload Length        |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// ~                       EAP Message                             ~
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
#include "ike/wire/payload_codec.h"

namespace minivpn::ike::detail {

Decoded<CertPayload> DecodeCert(PayloadType type, Reader& r) {
  CertPayload cert;
  if (!r.U8(cert.encoding)) return BodyError(type, r.offset(), "short");
  const ByteView data = r.Rest();
  cert.data.assign(data.begin(), data.end());
  return cert;
}

void EncodeCert(const CertPayload& cert, Writer& w) {
  w.U8(cert.encoding);
  w.Raw(cert.data);
}

Decoded<VendorIdPayload> DecodeVendorId(Reader& r) {
  VendorIdPayload vid;
  const ByteView data = r.Rest();
  vid.data.assign(data.begin(), data.end());
  return vid;
}

void EncodeVendorId(const VendorIdPayload& vid, Writer& w) { w.Raw(vid.data); }

Decoded<EapPayload> DecodeEap(Reader& r) {
  EapPayload eap;
  const ByteView data = r.Rest();
  eap.data.assign(data.begin(), data.end());
  return eap;
}

void EncodeEap(const EapPayload& eap, Writer& w) { w.Raw(eap.data); }

}  // namespace minivpn::ike::detail
