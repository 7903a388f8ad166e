// Text forms of the codec's value types (format.h).
#include "ike/wire/format.h"

#include <fmt/format.h>

#include <string>
#include <variant>

namespace minivpn::ike {
namespace {

template <typename E>
std::string NameOr(std::string_view name, E value) {
  if (name == "UNKNOWN") return fmt::format("UNKNOWN({})", static_cast<unsigned>(value));
  return std::string(name);
}

std::string Address(const Bytes& a) {
  if (a.size() == 4) return fmt::format("{}.{}.{}.{}", a[0], a[1], a[2], a[3]);
  std::string out;
  for (std::size_t i = 0; i + 1 < a.size(); i += 2) {
    if (!out.empty()) out += ':';
    out += fmt::format("{:x}", (a[i] << 8) | a[i + 1]);
  }
  return out;
}

struct BodyText {
  std::string operator()(const SaPayload& sa) const {
    std::string out;
    for (const Proposal& p : sa.proposals) {
      if (!out.empty()) out += ", ";
      out += ToString(p);
    }
    return out;
  }
  std::string operator()(const KePayload& ke) const {
    return fmt::format("{} {}", NameOr(crypto::Name(ke.group), ke.group), ke.data.size());
  }
  std::string operator()(const IdPayload& id) const {
    return fmt::format("{} {} octets", NameOr(Name(id.id_type), id.id_type), id.data.size());
  }
  std::string operator()(const CertPayload& c) const {
    return fmt::format("encoding {} {} octets", c.encoding, c.data.size());
  }
  std::string operator()(const AuthPayload& a) const {
    return fmt::format("{} {} octets", NameOr(Name(a.method), a.method), a.data.size());
  }
  std::string operator()(const NoncePayload& n) const { return fmt::format("{}", n.data.size()); }
  std::string operator()(const NotifyPayload& n) const {
    std::string out = ToString(n.type);
    if (!n.spi.empty()) out += fmt::format(" {} spi {}", ToString(n.protocol), ToHex(n.spi));
    if (!n.data.empty()) out += fmt::format(" {} octets", n.data.size());
    return out;
  }
  std::string operator()(const DeletePayload& d) const {
    std::string out = ToString(d.protocol);
    for (const Bytes& spi : d.spis) out += " " + ToHex(spi);
    return out;
  }
  std::string operator()(const VendorIdPayload& v) const { return ToHex(v.data); }
  std::string operator()(const TsPayload& ts) const {
    std::string out;
    for (const TrafficSelector& s : ts.selectors) {
      if (!out.empty()) out += ", ";
      out += ToString(s);
    }
    return out;
  }
  std::string operator()(const CpPayload& cp) const {
    std::string out = fmt::format("type {}", static_cast<unsigned>(cp.cfg_type));
    for (const CpAttribute& a : cp.attributes) out += fmt::format(" {}/{}", a.type, a.value.size());
    return out;
  }
  std::string operator()(const EapPayload& e) const { return fmt::format("{} octets", e.data.size()); }
  std::string operator()(const SkPayload& sk) const {
    return fmt::format("first {} {} octets", ToString(sk.first_inner), sk.body.size());
  }
  std::string operator()(const SkfPayload& skf) const {
    return fmt::format("{}/{} first {} {} octets", skf.fragment_number, skf.total_fragments,
                       ToString(skf.first_inner), skf.body.size());
  }
  std::string operator()(const UnknownPayload& u) const {
    return fmt::format("{} octets", u.body.size());
  }
};

}  // namespace

std::string ToString(ExchangeType t) { return NameOr(Name(t), t); }
std::string ToString(PayloadType t) { return NameOr(Name(t), t); }
std::string ToString(NotifyType t) { return NameOr(Name(t), t); }
std::string ToString(ProtocolId p) { return NameOr(Name(p), p); }

std::string ToString(const Header& h) {
  return fmt::format("{} {} {} [{:016x}_i {:016x}_r]", ToString(h.exchange),
                     h.is_response() ? "response" : "request", h.message_id, h.spi_i, h.spi_r);
}

std::string ToString(const Transform& t) {
  std::string out = fmt::format("{}={}", NameOr(Name(t.type), t.type),
                                NameOr(TransformName(t.type, t.id), t.id));
  if (t.key_length) out += fmt::format("/{}", *t.key_length);
  return out;
}

std::string ToString(const Proposal& p) {
  std::string out = fmt::format("{}:{}", p.number, ToString(p.protocol));
  if (!p.spi.empty()) out += fmt::format(" spi {}", ToHex(p.spi));
  for (const Transform& t : p.transforms) out += " " + ToString(t);
  return out;
}

std::string ToString(const TrafficSelector& s) {
  std::string out = fmt::format("{}..{}", Address(s.start_address), Address(s.end_address));
  if (s.ip_protocol != 0) out += fmt::format(" proto {}", s.ip_protocol);
  if (s.start_port != 0 || s.end_port != 0xffff) {
    out += fmt::format(" ports {}-{}", s.start_port, s.end_port);
  }
  return out;
}

std::string Tag(const Payload& payload) {
  if (const auto* n = std::get_if<NotifyPayload>(&payload.body)) {
    const std::string_view short_name = ShortName(n->type);
    return fmt::format("N({})", NameOr(short_name, n->type));
  }
  if (const auto* u = std::get_if<UnknownPayload>(&payload.body)) {
    return fmt::format("UNKNOWN({})", u->raw_type);
  }
  return ToString(payload.type);
}

std::string ToString(const Payload& payload) {
  if (std::holds_alternative<NotifyPayload>(payload.body)) {
    const auto& n = std::get<NotifyPayload>(payload.body);
    if (n.spi.empty() && n.data.empty()) return Tag(payload);
  }
  return fmt::format("{}({})", std::holds_alternative<NotifyPayload>(payload.body)
                                   ? std::string("N")
                                   : Tag(payload),
                     std::visit(BodyText{}, payload.body));
}

std::string Summary(const Header& header, const std::vector<Payload>& payloads) {
  std::string out = fmt::format("{} {} {} [", ToString(header.exchange),
                                header.is_response() ? "response" : "request", header.message_id);
  for (const Payload& p : payloads) out += " " + Tag(p);
  out += " ]";
  return out;
}

std::string ToString(const Message& message) {
  return Summary(message.header, message.payloads);
}

}  // namespace minivpn::ike
