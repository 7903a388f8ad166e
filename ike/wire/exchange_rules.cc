// RFC 7296 1.2-1.4 and 3.x: which payloads each exchange may carry, in one table.
//
// The table lists, per exchange and direction, every payload type allowed and how many times
// (min..max; 255 = any number up to kMaxPayloads). Anything not listed is kUnexpectedPayload.
// Unknown non-critical payloads are ignored wherever they appear (3.2). Beyond the counts:
//   - 2.6: N(COOKIE), when present, is the first payload;
//   - 2.21: a response carrying an error notify (or N(COOKIE) in IKE_SA_INIT, 2.6) needs none
//     of its usual payloads ("HDR, N(INVALID_KE_PAYLOAD)", "HDR, SK {N(AUTHENTICATION_FAILED)}");
//   - 1.3 / RFC 6023: in IKE_AUTH, SA, TSi and TSr come together or not at all (childless or
//     failed CHILD_SA); in CREATE_CHILD_SA, TSi and TSr come together (absent for IKE rekey);
//   - 3.1: IKE_SA_INIT has message ID 0, and its request a responder SPI of 0.
// minivpn authenticates with PSK only: AUTH is required in every IKE_AUTH message (an EAP
// round without AUTH is rejected here).
#include <array>
#include <fmt/format.h>

#include "ike/wire/codec.h"

namespace minivpn::ike {
namespace {

enum class Dir : std::uint8_t { kRequest, kResponse, kBoth };

struct Row {
  ExchangeType exchange;
  Dir dir;
  PayloadRule rule;
};

constexpr std::uint8_t kAny = 255;
using E = ExchangeType;
using P = PayloadType;

// clang-format off
constexpr Row kTable[] = {
    // 1.2 IKE_SA_INIT: HDR, SAi1, KEi, Ni  /  HDR, SAr1, KEr, Nr, [CERTREQ]
    {E::kIkeSaInit, Dir::kBoth,     {P::kSa,       1, 1}},
    {E::kIkeSaInit, Dir::kBoth,     {P::kKe,       1, 1}},
    {E::kIkeSaInit, Dir::kBoth,     {P::kNonce,    1, 1}},
    {E::kIkeSaInit, Dir::kResponse, {P::kCertReq,  0, kAny}},
    {E::kIkeSaInit, Dir::kBoth,     {P::kNotify,   0, kAny}},
    {E::kIkeSaInit, Dir::kBoth,     {P::kVendorId, 0, kAny}},
    // 1.2 IKE_AUTH: HDR, SK {IDi, [CERT,] [CERTREQ,] [IDr,] AUTH, SAi2, TSi, TSr}
    //               HDR, SK {IDr, [CERT,] AUTH, SAr2, TSi, TSr}
    {E::kIkeAuth, Dir::kRequest,  {P::kIdi,      1, 1}},
    {E::kIkeAuth, Dir::kRequest,  {P::kIdr,      0, 1}},
    {E::kIkeAuth, Dir::kRequest,  {P::kCertReq,  0, kAny}},
    {E::kIkeAuth, Dir::kResponse, {P::kIdr,      1, 1}},
    {E::kIkeAuth, Dir::kBoth,     {P::kCert,     0, kAny}},
    {E::kIkeAuth, Dir::kBoth,     {P::kAuth,     1, 1}},
    {E::kIkeAuth, Dir::kBoth,     {P::kEap,      0, 1}},
    {E::kIkeAuth, Dir::kBoth,     {P::kCp,       0, 1}},
    {E::kIkeAuth, Dir::kBoth,     {P::kSa,       0, 1}},
    {E::kIkeAuth, Dir::kBoth,     {P::kTsi,      0, 1}},
    {E::kIkeAuth, Dir::kBoth,     {P::kTsr,      0, 1}},
    {E::kIkeAuth, Dir::kBoth,     {P::kNotify,   0, kAny}},
    {E::kIkeAuth, Dir::kBoth,     {P::kVendorId, 0, kAny}},
    // 1.3 CREATE_CHILD_SA: HDR, SK {SA, Ni, [KEi,] [TSi, TSr]} (and the same for the response)
    {E::kCreateChildSa, Dir::kBoth, {P::kSa,       1, 1}},
    {E::kCreateChildSa, Dir::kBoth, {P::kNonce,    1, 1}},
    {E::kCreateChildSa, Dir::kBoth, {P::kKe,       0, 1}},
    {E::kCreateChildSa, Dir::kBoth, {P::kTsi,      0, 1}},
    {E::kCreateChildSa, Dir::kBoth, {P::kTsr,      0, 1}},
    {E::kCreateChildSa, Dir::kBoth, {P::kNotify,   0, kAny}},
    {E::kCreateChildSa, Dir::kBoth, {P::kVendorId, 0, kAny}},
    // 1.4 INFORMATIONAL: HDR, SK {[N,] [D,] [CP,] ...}; empty is a liveness check.
    {E::kInformational, Dir::kBoth, {P::kNotify,   0, kAny}},
    {E::kInformational, Dir::kBoth, {P::kDelete,   0, kAny}},
    {E::kInformational, Dir::kBoth, {P::kCp,       0, 1}},
    {E::kInformational, Dir::kBoth, {P::kVendorId, 0, kAny}},
};
// clang-format on

bool Applies(const Row& row, const Header& header) {
  if (row.exchange != header.exchange) return false;
  if (row.dir == Dir::kBoth) return true;
  return (row.dir == Dir::kResponse) == header.is_response();
}

const PayloadRule* FindRule(const Header& header, PayloadType type) {
  for (const Row& row : kTable) {
    if (Applies(row, header) && row.rule.type == type) return &row.rule;
  }
  return nullptr;
}

std::unexpected<ParseError> RuleError(ParseErrorCode code, PayloadType type, std::size_t index,
                                      std::string detail) {
  return std::unexpected(
      ParseError{code, NotifyType::kInvalidSyntax, type, index, 0, std::move(detail)});
}

const NotifyPayload* AsNotify(const Payload& p) { return std::get_if<NotifyPayload>(&p.body); }

// 2.21 / 2.6: responses that report a failure carry none of the usual payloads.
bool RequirementsWaived(const Header& header, const std::vector<Payload>& payloads) {
  if (!header.is_response()) return false;
  for (const Payload& p : payloads) {
    const NotifyPayload* n = AsNotify(p);
    if (n == nullptr) continue;
    if (IsError(n->type)) return true;
    if (header.exchange == ExchangeType::kIkeSaInit && n->type == NotifyType::kCookie) return true;
  }
  return false;
}

}  // namespace

std::expected<void, ParseError> CheckExchangeRules(const Header& header,
                                                   const std::vector<Payload>& payloads) {
  const std::string where = fmt::format("{} {}", Name(header.exchange),
                                        header.is_response() ? "response" : "request");
  // 3.1 / 2.6 header fields of IKE_SA_INIT (offsets here are header offsets).
  if (header.exchange == ExchangeType::kIkeSaInit) {
    if (header.message_id != 0) {
      return RuleError(ParseErrorCode::kBadHeaderField, PayloadType::kNone, 20,
                       fmt::format("{} with message ID {}", where, header.message_id));
    }
    if (!header.is_response() && header.spi_r != 0) {
      return RuleError(ParseErrorCode::kBadHeaderField, PayloadType::kNone, 8,
                       where + " with a responder SPI");
    }
  }
  // 2.6: "the COOKIE notification ... MUST be the first payload".
  for (std::size_t i = 1; i < payloads.size(); ++i) {
    const NotifyPayload* n = AsNotify(payloads[i]);
    if (n != nullptr && n->type == NotifyType::kCookie) {
      return RuleError(ParseErrorCode::kCookieNotFirst, PayloadType::kNotify, i,
                       fmt::format("N(COOKIE) is payload {} of {}", i + 1, where));
    }
  }
  std::array<unsigned, 256> counts{};
  for (std::size_t i = 0; i < payloads.size(); ++i) {
    const Payload& p = payloads[i];
    if (std::holds_alternative<UnknownPayload>(p.body)) continue;  // 3.2: skipped
    const PayloadRule* rule = FindRule(header, p.type);
    if (rule == nullptr) {
      return RuleError(ParseErrorCode::kUnexpectedPayload, p.type, i,
                       fmt::format("{} not allowed in {}", Name(p.type), where));
    }
    unsigned& count = counts[static_cast<std::uint8_t>(p.type)];
    ++count;
    if (rule->max_count != kAny && count > rule->max_count) {
      return RuleError(ParseErrorCode::kDuplicatePayload, p.type, i,
                       fmt::format("{} {} times in {} (at most {})", Name(p.type), count, where,
                                   rule->max_count));
    }
  }
  auto count_of = [&counts](PayloadType t) { return counts[static_cast<std::uint8_t>(t)]; };
  if (!RequirementsWaived(header, payloads)) {
    for (const Row& row : kTable) {
      if (Applies(row, header) && count_of(row.rule.type) < row.rule.min_count) {
        return RuleError(ParseErrorCode::kMissingPayload, row.rule.type, payloads.size(),
                         fmt::format("{} missing in {}", Name(row.rule.type), where));
      }
    }
  }
  // Payloads that only make sense together (1.3, RFC 6023 childless IKE_AUTH).
  auto together = [&](std::initializer_list<PayloadType> group) -> std::expected<void, ParseError> {
    bool any = false;
    for (PayloadType t : group) any = any || count_of(t) > 0;
    if (!any) return {};
    for (PayloadType t : group) {
      if (count_of(t) == 0) {
        return RuleError(ParseErrorCode::kMissingPayload, t, payloads.size(),
                         fmt::format("{} missing next to the other CHILD_SA payloads in {}",
                                     Name(t), where));
      }
    }
    return {};
  };
  if (header.exchange == ExchangeType::kIkeAuth) return together({P::kSa, P::kTsi, P::kTsr});
  if (header.exchange == ExchangeType::kCreateChildSa) return together({P::kTsi, P::kTsr});
  return {};
}

}  // namespace minivpn::ike
