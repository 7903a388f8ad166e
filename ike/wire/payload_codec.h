// Internal to the codec: one decoder/encoder pair per payload body (payload_*.cc), dispatched
// by codec.cc. Decoders get a Reader over the body only (the 4-octet generic header already
// consumed, offsets absolute) and must account for every octet of it. Encoders append the body.
#pragma once

#include <cstddef>
#include <expected>
#include <string>
#include <utility>

#include "ike/wire/codec.h"
#include "ike/wire/message.h"
#include "ike/wire/wire.h"

namespace minivpn::ike::detail {

template <typename T>
using Decoded = std::expected<T, ParseError>;

// A kBadPayloadBody / INVALID_SYNTAX error at `offset` inside a payload of type `payload`.
inline std::unexpected<ParseError> BodyError(PayloadType payload, std::size_t offset,
                                             std::string detail) {
  return std::unexpected(ParseError{ParseErrorCode::kBadPayloadBody, NotifyType::kInvalidSyntax,
                                    payload, offset, 0, std::move(detail)});
}

Decoded<SaPayload> DecodeSa(Reader& r);
void EncodeSa(const SaPayload& sa, Writer& w);

Decoded<KePayload> DecodeKe(Reader& r);
void EncodeKe(const KePayload& ke, Writer& w);

Decoded<IdPayload> DecodeId(PayloadType type, Reader& r);
void EncodeId(const IdPayload& id, Writer& w);

Decoded<AuthPayload> DecodeAuth(Reader& r);
void EncodeAuth(const AuthPayload& auth, Writer& w);

Decoded<NoncePayload> DecodeNonce(Reader& r);
void EncodeNonce(const NoncePayload& nonce, Writer& w);

Decoded<NotifyPayload> DecodeNotify(Reader& r);
void EncodeNotify(const NotifyPayload& notify, Writer& w);

Decoded<DeletePayload> DecodeDelete(Reader& r);
void EncodeDelete(const DeletePayload& del, Writer& w);

Decoded<TsPayload> DecodeTs(PayloadType type, Reader& r);
void EncodeTs(const TsPayload& ts, Writer& w);

Decoded<CpPayload> DecodeCp(Reader& r);
void EncodeCp(const CpPayload& cp, Writer& w);

// SK: `first_inner` is the Next Payload field of the SK generic header.
Decoded<SkPayload> DecodeSk(PayloadType first_inner, Reader& r);
void EncodeSk(const SkPayload& sk, Writer& w);
Decoded<SkfPayload> DecodeSkf(PayloadType first_inner, Reader& r);
void EncodeSkf(const SkfPayload& skf, Writer& w);

// CERT/CERTREQ, V, EAP and unknown non-critical payloads: opaque bodies.
Decoded<CertPayload> DecodeCert(PayloadType type, Reader& r);
void EncodeCert(const CertPayload& cert, Writer& w);
Decoded<VendorIdPayload> DecodeVendorId(Reader& r);
void EncodeVendorId(const VendorIdPayload& vid, Writer& w);
Decoded<EapPayload> DecodeEap(Reader& r);
void EncodeEap(const EapPayload& eap, Writer& w);

}  // namespace minivpn::ike::detail
