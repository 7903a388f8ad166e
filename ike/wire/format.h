// fmt formatters for the codec's value types, for logs and traces. None of these types holds
// a secret (the SK body is ciphertext; keys never enter ike/ messages).
//
//   fmt::format("{}", header)   "IKE_SA_INIT request 0 [0123456789abcdef_i 0000000000000000_r]"
//   fmt::format("{}", payload)  "N(NATD_S_IP)", "SA(1:IKE ENCR=AES_GCM_16/256 ...)", "No(32)"
//   Summary(header, payloads)   "IKE_SA_INIT request 0 [ SA KE No N(NATD_S_IP) N(NATD_D_IP) ]"
#pragma once

#include <fmt/format.h>

#include <string>
#include <string_view>
#include <vector>

#include "ike/wire/codec.h"
#include "ike/wire/message.h"
#include "ike/wire/registry.h"

namespace minivpn::ike {

// "<EXCHANGE> <request|response> <message id> [ <payload> <payload> ... ]": the payload names
// in order, notifies as N(<short name>). For protected messages pass the decrypted payloads to
// see what was inside, or the outer list to see "[ SK ]".
std::string Summary(const Header& header, const std::vector<Payload>& payloads);

// Short tag of one payload as used in Summary: "SA", "No", "N(COOKIE)", "UNKNOWN(49)".
std::string Tag(const Payload& payload);

std::string ToString(ExchangeType t);   // name, or UNKNOWN(n)
std::string ToString(PayloadType t);
std::string ToString(NotifyType t);
std::string ToString(ProtocolId p);
std::string ToString(const Header& header);
std::string ToString(const Transform& transform);
std::string ToString(const Proposal& proposal);
std::string ToString(const TrafficSelector& ts);
std::string ToString(const Payload& payload);
std::string ToString(const Message& message);  // header followed by Tag of each payload

}  // namespace minivpn::ike

// One formatter per value type, all forwarding to ToString (no format specs).
#define MINIVPN_IKE_FORMATTER(T)                                                  \
  template <>                                                                     \
  struct fmt::formatter<T> : fmt::formatter<std::string_view> {                   \
    template <typename Context>                                                   \
    auto format(const T& value, Context& ctx) const {                             \
      const std::string text = ::minivpn::ike::ToString(value);                   \
      return fmt::formatter<std::string_view>::format(std::string_view(text), ctx); \
    }                                                                             \
  }

MINIVPN_IKE_FORMATTER(minivpn::ike::ExchangeType);
MINIVPN_IKE_FORMATTER(minivpn::ike::PayloadType);
MINIVPN_IKE_FORMATTER(minivpn::ike::NotifyType);
MINIVPN_IKE_FORMATTER(minivpn::ike::ProtocolId);
MINIVPN_IKE_FORMATTER(minivpn::ike::Header);
MINIVPN_IKE_FORMATTER(minivpn::ike::Transform);
MINIVPN_IKE_FORMATTER(minivpn::ike::Proposal);
MINIVPN_IKE_FORMATTER(minivpn::ike::TrafficSelector);
MINIVPN_IKE_FORMATTER(minivpn::ike::Payload);
MINIVPN_IKE_FORMATTER(minivpn::ike::Message);

#undef MINIVPN_IKE_FORMATTER

// ParseError prints as Describe() does.
template <>
struct fmt::formatter<minivpn::ike::ParseError> : fmt::formatter<std::string_view> {
  template <typename Context>
  auto format(const minivpn::ike::ParseError& error, Context& ctx) const {
    const std::string text = minivpn::ike::Describe(error);
    return fmt::formatter<std::string_view>::format(std::string_view(text), ctx);
  }
};
