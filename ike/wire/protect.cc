// SK and SKF protection (RFC 7296 3.14, RFC 7383 2.5-2.6): glue between the codec and
// crypto::SkCipher. The AAD of every seal/open is "every octet of the datagram before the IV":
// the IKE header plus the SK generic header, or plus the 8-octet SKF header (RFC 7383 2.5.3).
#include "ike/wire/protect.h"

#include <fmt/format.h>

#include <algorithm>
#include <string>
#include <utility>
#include <variant>

#include "crypto/secret.h"

namespace minivpn::ike {
namespace {

constexpr std::size_t kSkHeaderSize = kGenericPayloadHeaderSize;       // 3.14
constexpr std::size_t kSkfHeaderSize = kGenericPayloadHeaderSize + 4;  // RFC 7383 2.5

PayloadType FirstType(const std::vector<Payload>& inner) {
  if (inner.empty()) return PayloadType::kNone;
  if (const auto* u = std::get_if<UnknownPayload>(&inner.front().body)) {
    return static_cast<PayloadType>(u->raw_type);
  }
  return inner.front().type;
}

std::unexpected<ParseError> ProtectError(ParseErrorCode code, PayloadType payload,
                                         std::size_t offset, std::string detail) {
  return std::unexpected(
      ParseError{code, NotifyType::kInvalidSyntax, payload, offset, 0, std::move(detail)});
}

// Encodes `header` + the one encrypted payload with a zero body of the final size, seals the
// plaintext with the AAD taken from that encoding, and writes the body in place.
Bytes Seal(const Header& header, Payload outer, std::size_t aad_size, ByteView plaintext,
           crypto::SkCipher& cipher, crypto::Random& random) {
  const std::size_t body_size = cipher.SealedSize(plaintext.size());
  std::visit(
      [body_size](auto& b) {
        if constexpr (requires { b.body; }) b.body.assign(body_size, 0);
      },
      outer.body);
  Message message{header, {std::move(outer)}};
  Bytes datagram = Encode(message);
  const Bytes body = cipher.Seal(ByteView(datagram).first(aad_size), plaintext, random);
  std::copy(body.begin(), body.end(), datagram.begin() + static_cast<std::ptrdiff_t>(aad_size));
  return datagram;
}

// Opens the body of the last payload of `datagram`, which starts at `body_offset`.
std::expected<Bytes, ParseError> Open(ByteView datagram, std::size_t body_offset,
                                      PayloadType type, const crypto::SkCipher& cipher) {
  auto plaintext = cipher.Open(datagram.first(body_offset), datagram.subspan(body_offset));
  if (!plaintext) {
    return ProtectError(ParseErrorCode::kNotAuthentic, type, body_offset, plaintext.error());
  }
  return std::move(*plaintext);
}

}  // namespace

Bytes Protect(const Header& header, const std::vector<Payload>& inner, crypto::SkCipher& cipher,
              crypto::Random& random) {
  const Bytes plaintext = EncodePayloads(inner);
  Payload sk{PayloadType::kSk, false, SkPayload{FirstType(inner), {}}};
  return Seal(header, std::move(sk), kHeaderSize + kSkHeaderSize, plaintext, cipher, random);
}

std::vector<Bytes> ProtectFragmented(const Header& header, const std::vector<Payload>& inner,
                                     crypto::SkCipher& cipher, crypto::Random& random,
                                     std::size_t max_datagram) {
  const Bytes plaintext = EncodePayloads(inner);
  const std::size_t whole = kHeaderSize + kSkHeaderSize + cipher.SealedSize(plaintext.size());
  const std::size_t budget =
      max_datagram > kHeaderSize + kSkfHeaderSize ? max_datagram - kHeaderSize - kSkfHeaderSize : 0;
  const std::size_t chunk = cipher.MaxPlaintext(budget);
  if (whole <= max_datagram || chunk == 0 || (plaintext.size() + chunk - 1) / chunk > 0xffff) {
    // Fits, or the limit leaves no room for a fragment (or for fewer than 2^16): send it whole.
    Payload sk{PayloadType::kSk, false, SkPayload{FirstType(inner), {}}};
    return {Seal(header, std::move(sk), kHeaderSize + kSkHeaderSize, plaintext, cipher, random)};
  }
  // RFC 7383 2.5: fragments numbered 1..total, the first inner payload type in fragment 1 only.
  const std::size_t total = (plaintext.size() + chunk - 1) / chunk;
  std::vector<Bytes> out;
  out.reserve(total);
  for (std::size_t i = 0; i < total; ++i) {
    const ByteView piece =
        ByteView(plaintext).subspan(i * chunk, std::min(chunk, plaintext.size() - i * chunk));
    SkfPayload skf{i == 0 ? FirstType(inner) : PayloadType::kNone,
                   static_cast<std::uint16_t>(i + 1), static_cast<std::uint16_t>(total), {}};
    Payload p{PayloadType::kSkf, false, std::move(skf)};
    out.push_back(
        Seal(header, std::move(p), kHeaderSize + kSkfHeaderSize, piece, cipher, random));
  }
  return out;
}

std::expected<std::vector<Payload>, ParseError> Unprotect(ByteView datagram, const Message& message,
                                                          const crypto::SkCipher& cipher) {
  const SkPayload* sk =
      message.payloads.empty() ? nullptr : std::get_if<SkPayload>(&message.payloads.back().body);
  if (sk == nullptr || sk->body.size() > datagram.size()) {
    return ProtectError(ParseErrorCode::kMissingPayload, PayloadType::kSk, datagram.size(),
                        "no SK payload to open");
  }
  // Decode guarantees SK is the last payload, so its body runs to the end of the datagram.
  const std::size_t body_offset = datagram.size() - sk->body.size();
  auto plaintext = Open(datagram, body_offset, PayloadType::kSk, cipher);
  if (!plaintext) return std::unexpected(std::move(plaintext.error()));
  auto inner = DecodePayloads(sk->first_inner, *plaintext, body_offset + cipher.iv_size());
  // The decoded payloads are copies: the decrypted buffer is wiped, not just freed.
  SecureWipe(plaintext->data(), plaintext->size());
  return inner;
}

void Reassembler::Reset() {
  message_id_ = 0;
  total_ = 0;
  first_inner_ = PayloadType::kNone;
  for (auto& p : plaintexts_)
    if (p) SecureWipe(p->data(), p->size());
  plaintexts_.clear();
  buffered_ = 0;
}

std::expected<std::optional<Reassembler::Result>, ParseError> Reassembler::Add(
    ByteView datagram, const Message& message, const crypto::SkCipher& cipher) {
  last_stored_ = false;
  const SkfPayload* skf =
      message.payloads.empty() ? nullptr : std::get_if<SkfPayload>(&message.payloads.back().body);
  if (skf == nullptr || skf->body.size() > datagram.size()) {
    return ProtectError(ParseErrorCode::kMissingPayload, PayloadType::kSkf, datagram.size(),
                        "no SKF payload to add");
  }
  const std::size_t body_offset = datagram.size() - skf->body.size();
  const std::size_t fields_offset = body_offset - 4;  // Fragment Number | Total Fragments
  // A fragment of another message starts a new buffer (the caller filters message IDs).
  if (total_ != 0 && message.header.message_id != message_id_) Reset();
  // RFC 7383 2.6.2: number 1..total (Decode checked) and the total never changes.
  if (skf->total_fragments > kMaxFragments) {
    return ProtectError(ParseErrorCode::kBadPayloadBody, PayloadType::kSkf, fields_offset,
                        fmt::format("{} fragments (at most {})", skf->total_fragments,
                                    kMaxFragments));
  }
  // 2.6: a smaller total than the buffer's belongs to an older, abandoned fragmentation.
  if (total_ != 0 && skf->total_fragments < total_) {
    return ProtectError(ParseErrorCode::kBadPayloadBody, PayloadType::kSkf, fields_offset + 2,
                        fmt::format("total fragments went down from {} to {}", total_,
                                    skf->total_fragments));
  }
  const std::size_t index = skf->fragment_number - 1u;
  const bool same_total = total_ != 0 && skf->total_fragments == total_;
  if (same_total && plaintexts_[index]) return std::nullopt;  // duplicate: ignored
  // 2.6.2: each fragment is authenticated on its own before it is kept (or may restart).
  auto plaintext = Open(datagram, body_offset, PayloadType::kSkf, cipher);
  if (!plaintext) return std::unexpected(std::move(plaintext.error()));
  // 2.6: a greater total (the sender re-fragmented smaller, e.g. after PMTU discovery) discards
  // what was collected and starts over with this fragment.
  if (total_ != 0 && !same_total) Reset();
  if (total_ == 0) {
    message_id_ = message.header.message_id;
    total_ = skf->total_fragments;
    plaintexts_.assign(total_, std::nullopt);
  }
  if (skf->fragment_number == 1) first_inner_ = skf->first_inner;
  buffered_ += plaintext->size();
  plaintexts_[index] = std::move(*plaintext);
  last_stored_ = true;
  const bool complete =
      std::all_of(plaintexts_.begin(), plaintexts_.end(), [](const auto& p) { return p.has_value(); });
  if (!complete) return std::nullopt;
  SecretBytes whole;  // wiped when it goes, like each fragment's plaintext (Reset)
  for (const auto& p : plaintexts_) whole.Append(*p);
  const PayloadType first = first_inner_;
  Reset();
  auto inner = DecodePayloads(first, whole.Reveal(), 0);
  if (!inner) return std::unexpected(std::move(inner.error()));
  return Result{std::move(*inner)};
}

}  // namespace minivpn::ike
