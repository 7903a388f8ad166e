// RFC 7296 3.1 IKE header and 3.2 generic payload header: the framing around every payload
// body (payload_*.cc). The outer-layer rule "what must be inside SK" lives here too because
// it needs the payload offsets; the per-exchange table is in exchange_rules.cc.
//
// 3.1 IKE Header
//                      1                   2                   3
//  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |                       IKE SA Initiator's SPI                  |
// |                                                               |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |                       IKE SA Responder's SPI                  |
// |                                                               |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |  Next Payload | MjVer | MnVer | Exchange Type |     Flags     |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |                          Message ID                           |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |                            Length                             |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//
// 3.2 Generic Payload Header
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// | Next Payload  |C|  RESERVED   |         Payload Length        |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
#include "ike/wire/codec.h"

#include <fmt/format.h>

#include <string>
#include <utility>

#include "ike/wire/payload_codec.h"
#include "ike/wire/wire.h"

namespace minivpn::ike {
namespace {

using detail::Decoded;

constexpr std::uint8_t kCriticalBit = 0x80;

bool IsKnownType(std::uint8_t raw) {
  return (raw >= static_cast<std::uint8_t>(PayloadType::kSa) &&
          raw <= static_cast<std::uint8_t>(PayloadType::kEap)) ||
         raw == static_cast<std::uint8_t>(PayloadType::kSkf);
}

bool IsEncrypted(PayloadType t) { return t == PayloadType::kSk || t == PayloadType::kSkf; }

// Octets of fixed fields after the generic header; a shorter payload is kBadPayloadLength.
std::size_t MinBodySize(PayloadType t) {
  switch (t) {
    case PayloadType::kKe:
    case PayloadType::kIdi:
    case PayloadType::kIdr:
    case PayloadType::kAuth:
    case PayloadType::kNotify:
    case PayloadType::kDelete:
    case PayloadType::kTsi:
    case PayloadType::kTsr:
    case PayloadType::kCp:
    case PayloadType::kEap:
    case PayloadType::kSkf:
      return 4;
    case PayloadType::kCert:
    case PayloadType::kCertReq:
      return 1;
    default:
      return 0;
  }
}

std::unexpected<ParseError> Error(ParseErrorCode code, PayloadType payload, std::size_t offset,
                                  std::string detail) {
  return std::unexpected(
      ParseError{code, NotifyType::kInvalidSyntax, payload, offset, 0, std::move(detail)});
}

template <typename T>
Decoded<PayloadBody> Wrap(Decoded<T> body) {
  if (!body) return std::unexpected(std::move(body.error()));
  return PayloadBody(std::move(*body));
}

// `next` is the generic header's Next Payload (the first inner payload for SK/SKF).
Decoded<PayloadBody> DecodeBody(PayloadType type, PayloadType next, Reader& r) {
  switch (type) {
    case PayloadType::kSa: return Wrap(detail::DecodeSa(r));
    case PayloadType::kKe: return Wrap(detail::DecodeKe(r));
    case PayloadType::kIdi:
    case PayloadType::kIdr: return Wrap(detail::DecodeId(type, r));
    case PayloadType::kCert:
    case PayloadType::kCertReq: return Wrap(detail::DecodeCert(type, r));
    case PayloadType::kAuth: return Wrap(detail::DecodeAuth(r));
    case PayloadType::kNonce: return Wrap(detail::DecodeNonce(r));
    case PayloadType::kNotify: return Wrap(detail::DecodeNotify(r));
    case PayloadType::kDelete: return Wrap(detail::DecodeDelete(r));
    case PayloadType::kVendorId: return Wrap(detail::DecodeVendorId(r));
    case PayloadType::kTsi:
    case PayloadType::kTsr: return Wrap(detail::DecodeTs(type, r));
    case PayloadType::kSk: return Wrap(detail::DecodeSk(next, r));
    case PayloadType::kCp: return Wrap(detail::DecodeCp(r));
    case PayloadType::kEap: return Wrap(detail::DecodeEap(r));
    case PayloadType::kSkf: return Wrap(detail::DecodeSkf(next, r));
    case PayloadType::kNone: break;
  }
  const ByteView rest = r.Rest();
  return PayloadBody(UnknownPayload{static_cast<std::uint8_t>(type), Bytes(rest.begin(), rest.end())});
}

struct Chain {
  std::vector<Payload> payloads;
  std::vector<std::size_t> offsets;  // offset of each payload's generic header
};

// 3.2: walks Next Payload from `first` until 0, or until SK/SKF when `outer` (3.14: the
// Encrypted payload is the last one and its Next Payload names the first inner payload).
Decoded<Chain> DecodeChain(PayloadType first, ByteView data, std::size_t base, bool outer) {
  Chain chain;
  Reader r(data, base);
  std::uint8_t next = static_cast<std::uint8_t>(first);
  while (next != 0) {
    const std::size_t start = r.offset();
    const auto type = static_cast<PayloadType>(next);
    if (chain.payloads.size() == kMaxPayloads) {
      return Error(ParseErrorCode::kTooManyPayloads, type, start,
                   fmt::format("more than {} payloads", kMaxPayloads));
    }
    std::uint8_t next_of_this = 0;
    std::uint8_t flags = 0;
    std::uint16_t length = 0;
    if (!r.U8(next_of_this) || !r.U8(flags) || !r.U16(length)) {
      return Error(ParseErrorCode::kBadPayloadLength, type, start,
                   fmt::format("{} octets left for a generic payload header", data.size() + base - start));
    }
    const bool critical = (flags & kCriticalBit) != 0;
    if (length < kGenericPayloadHeaderSize || length - kGenericPayloadHeaderSize > r.remaining()) {
      return Error(ParseErrorCode::kBadPayloadLength, type, start,
                   fmt::format("payload length {} with {} octets left", length,
                               r.remaining() + kGenericPayloadHeaderSize));
    }
    if (!IsKnownType(next) && critical) {
      // 3.2: an unknown payload with the critical bit rejects the whole message.
      return std::unexpected(ParseError{ParseErrorCode::kUnsupportedCritical,
                                        NotifyType::kUnsupportedCriticalPayload, type, start,
                                        next, fmt::format("critical payload type {}", next)});
    }
    if (IsKnownType(next) && length - kGenericPayloadHeaderSize < MinBodySize(type)) {
      return Error(ParseErrorCode::kBadPayloadLength, type, start,
                   fmt::format("payload length {} below the minimum {}", length,
                               MinBodySize(type) + kGenericPayloadHeaderSize));
    }
    if (!outer && IsEncrypted(type)) {
      return Error(ParseErrorCode::kUnexpectedPayload, type, start, "encrypted payload nested");
    }
    Reader body = *r.Sub(length - kGenericPayloadHeaderSize);
    auto decoded = DecodeBody(IsKnownType(next) ? type : PayloadType::kNone,
                              static_cast<PayloadType>(next_of_this), body);
    if (!decoded) return std::unexpected(std::move(decoded.error()));
    if (auto* unknown = std::get_if<UnknownPayload>(&*decoded)) unknown->raw_type = next;
    chain.payloads.push_back(Payload{type, critical, std::move(*decoded)});
    chain.offsets.push_back(start);
    if (outer && IsEncrypted(type)) {
      if (!r.empty()) {
        return Error(ParseErrorCode::kSkNotLast, type, r.offset(),
                     fmt::format("{} octets after the encrypted payload", r.remaining()));
      }
      return chain;
    }
    next = next_of_this;
  }
  if (!r.empty()) {
    return Error(ParseErrorCode::kTrailingBytes, PayloadType::kNone, r.offset(),
                 fmt::format("{} octets after the last payload", r.remaining()));
  }
  return chain;
}

// Which outer payloads may travel in the clear (1.2-1.5, 3.14).
std::expected<void, ParseError> CheckOuterLayer(const Header& header, const Chain& chain) {
  const bool init = header.exchange == ExchangeType::kIkeSaInit;
  bool has_sk = false;
  for (const Payload& p : chain.payloads) has_sk = has_sk || IsEncrypted(p.type);
  for (std::size_t i = 0; i < chain.payloads.size(); ++i) {
    const Payload& p = chain.payloads[i];
    if (init) {
      if (IsEncrypted(p.type)) {
        return Error(ParseErrorCode::kUnexpectedPayload, p.type, chain.offsets[i],
                     "encrypted payload in IKE_SA_INIT");
      }
      continue;
    }
    if (IsEncrypted(p.type) || std::holds_alternative<UnknownPayload>(p.body)) continue;
    // 1.5: an INFORMATIONAL outside an IKE SA carries unprotected notifies only.
    if (header.exchange == ExchangeType::kInformational && !has_sk &&
        p.type == PayloadType::kNotify) {
      continue;
    }
    return Error(ParseErrorCode::kMustBeEncrypted, p.type, chain.offsets[i],
                 fmt::format("{} sent in the clear in {}", Name(p.type), Name(header.exchange)));
  }
  return {};
}

std::uint8_t RawType(const Payload& p) {
  if (const auto* unknown = std::get_if<UnknownPayload>(&p.body)) return unknown->raw_type;
  return static_cast<std::uint8_t>(p.type);
}

// Next Payload of `p`'s generic header, given the type of the payload after it.
std::uint8_t NextField(const Payload& p, std::uint8_t following) {
  if (const auto* sk = std::get_if<SkPayload>(&p.body)) return static_cast<std::uint8_t>(sk->first_inner);
  if (const auto* skf = std::get_if<SkfPayload>(&p.body)) {
    return static_cast<std::uint8_t>(skf->first_inner);
  }
  return following;
}

void EncodeBody(const PayloadBody& body, Writer& w) {
  struct Visitor {
    Writer& w;
    void operator()(const SaPayload& b) const { detail::EncodeSa(b, w); }
    void operator()(const KePayload& b) const { detail::EncodeKe(b, w); }
    void operator()(const IdPayload& b) const { detail::EncodeId(b, w); }
    void operator()(const CertPayload& b) const { detail::EncodeCert(b, w); }
    void operator()(const AuthPayload& b) const { detail::EncodeAuth(b, w); }
    void operator()(const NoncePayload& b) const { detail::EncodeNonce(b, w); }
    void operator()(const NotifyPayload& b) const { detail::EncodeNotify(b, w); }
    void operator()(const DeletePayload& b) const { detail::EncodeDelete(b, w); }
    void operator()(const VendorIdPayload& b) const { detail::EncodeVendorId(b, w); }
    void operator()(const TsPayload& b) const { detail::EncodeTs(b, w); }
    void operator()(const CpPayload& b) const { detail::EncodeCp(b, w); }
    void operator()(const EapPayload& b) const { detail::EncodeEap(b, w); }
    void operator()(const SkPayload& b) const { detail::EncodeSk(b, w); }
    void operator()(const SkfPayload& b) const { detail::EncodeSkf(b, w); }
    void operator()(const UnknownPayload& b) const { w.Raw(b.body); }
  };
  std::visit(Visitor{w}, body);
}

void EncodeChain(const std::vector<Payload>& payloads, Writer& w) {
  for (std::size_t i = 0; i < payloads.size(); ++i) {
    const Payload& p = payloads[i];
    const std::uint8_t following = i + 1 < payloads.size() ? RawType(payloads[i + 1]) : 0;
    const std::size_t start = w.size();
    w.U8(NextField(p, following));
    w.U8(p.critical ? kCriticalBit : 0);
    w.U16(0);  // Payload Length, patched below
    EncodeBody(p.body, w);
    w.PatchU16(start + 2, static_cast<std::uint16_t>(w.size() - start));
  }
}

}  // namespace

std::string_view Name(ParseErrorCode code) {
  switch (code) {
    case ParseErrorCode::kTruncatedHeader: return "TRUNCATED_HEADER";
    case ParseErrorCode::kLengthMismatch: return "LENGTH_MISMATCH";
    case ParseErrorCode::kInvalidMajorVersion: return "INVALID_MAJOR_VERSION";
    case ParseErrorCode::kUnknownExchange: return "UNKNOWN_EXCHANGE";
    case ParseErrorCode::kZeroInitiatorSpi: return "ZERO_INITIATOR_SPI";
    case ParseErrorCode::kBadPayloadLength: return "BAD_PAYLOAD_LENGTH";
    case ParseErrorCode::kTrailingBytes: return "TRAILING_BYTES";
    case ParseErrorCode::kUnsupportedCritical: return "UNSUPPORTED_CRITICAL";
    case ParseErrorCode::kBadPayloadBody: return "BAD_PAYLOAD_BODY";
    case ParseErrorCode::kSkNotLast: return "SK_NOT_LAST";
    case ParseErrorCode::kTooManyPayloads: return "TOO_MANY_PAYLOADS";
    case ParseErrorCode::kNotAuthentic: return "NOT_AUTHENTIC";
    case ParseErrorCode::kBadHeaderField: return "BAD_HEADER_FIELD";
    case ParseErrorCode::kMissingPayload: return "MISSING_PAYLOAD";
    case ParseErrorCode::kDuplicatePayload: return "DUPLICATE_PAYLOAD";
    case ParseErrorCode::kUnexpectedPayload: return "UNEXPECTED_PAYLOAD";
    case ParseErrorCode::kCookieNotFirst: return "COOKIE_NOT_FIRST";
    case ParseErrorCode::kMustBeEncrypted: return "MUST_BE_ENCRYPTED";
  }
  return "UNKNOWN";
}

std::string Describe(const ParseError& error) {
  std::string where = error.payload == PayloadType::kNone
                          ? std::string("header")
                          : std::string(Name(error.payload));
  if (error.payload != PayloadType::kNone && Name(error.payload) == "UNKNOWN") {
    where = fmt::format("payload type {}", static_cast<unsigned>(error.payload));
  }
  return fmt::format("{} ({}) at offset {} in {}: {}", Name(error.notify), Name(error.code),
                     error.offset, where, error.detail);
}

std::expected<Header, ParseError> DecodeHeader(ByteView datagram) {
  Reader r(datagram);
  Header h;
  if (datagram.size() < kHeaderSize) {
    return Error(ParseErrorCode::kTruncatedHeader, PayloadType::kNone, 0,
                 fmt::format("{} octets", datagram.size()));
  }
  std::uint8_t next = 0;
  std::uint8_t exchange = 0;
  r.U64(h.spi_i);
  r.U64(h.spi_r);
  r.U8(next);
  r.U8(h.version);
  r.U8(exchange);
  r.U8(h.flags);
  r.U32(h.message_id);
  r.U32(h.length);
  h.next_payload = static_cast<PayloadType>(next);
  h.exchange = static_cast<ExchangeType>(exchange);
  // 2.5: a higher major version is answered with INVALID_MAJOR_VERSION (or dropped).
  if ((h.version >> 4) != 2) {
    return std::unexpected(ParseError{ParseErrorCode::kInvalidMajorVersion,
                                      NotifyType::kInvalidMajorVersion, PayloadType::kNone, 17, 0,
                                      fmt::format("version 0x{:02x}", h.version)});
  }
  if (h.length != datagram.size()) {
    return Error(ParseErrorCode::kLengthMismatch, PayloadType::kNone, 24,
                 fmt::format("header length {} but datagram of {}", h.length, datagram.size()));
  }
  if (exchange < static_cast<std::uint8_t>(ExchangeType::kIkeSaInit) ||
      exchange > static_cast<std::uint8_t>(ExchangeType::kInformational)) {
    return Error(ParseErrorCode::kUnknownExchange, PayloadType::kNone, 18,
                 fmt::format("exchange type {}", exchange));
  }
  if (h.spi_i == 0) {
    return Error(ParseErrorCode::kZeroInitiatorSpi, PayloadType::kNone, 0, "initiator SPI 0");
  }
  return h;
}

std::expected<Message, ParseError> Decode(ByteView datagram) {
  auto header = DecodeHeader(datagram);
  if (!header) return std::unexpected(std::move(header.error()));
  auto chain = DecodeChain(header->next_payload, datagram.subspan(kHeaderSize), kHeaderSize, true);
  if (!chain) return std::unexpected(std::move(chain.error()));
  if (auto outer = CheckOuterLayer(*header, *chain); !outer) {
    return std::unexpected(std::move(outer.error()));
  }
  return Message{*header, std::move(chain->payloads)};
}

std::expected<std::vector<Payload>, ParseError> DecodePayloads(PayloadType first, ByteView data,
                                                               std::size_t base_offset) {
  auto chain = DecodeChain(first, data, base_offset, false);
  if (!chain) return std::unexpected(std::move(chain.error()));
  return std::move(chain->payloads);
}

Bytes EncodePayloads(const std::vector<Payload>& payloads) {
  Bytes out;
  Writer w(out);
  EncodeChain(payloads, w);
  return out;
}

Bytes Encode(const Message& message) {
  Bytes out;
  Writer w(out);
  const Header& h = message.header;
  w.U64(h.spi_i);
  w.U64(h.spi_r);
  w.U8(message.payloads.empty() ? 0 : RawType(message.payloads.front()));
  w.U8(h.version);
  w.U8(static_cast<std::uint8_t>(h.exchange));
  w.U8(h.flags);
  w.U32(h.message_id);
  w.U32(0);  // Length, patched below
  EncodeChain(message.payloads, w);
  w.PatchU32(24, static_cast<std::uint32_t>(out.size()));
  return out;
}

Bytes EncodePayloadBody(const Payload& payload) {
  Bytes out;
  Writer w(out);
  EncodeBody(payload.body, w);
  return out;
}

}  // namespace minivpn::ike
