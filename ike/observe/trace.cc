// Human-readable traces of IKE messages (trace.h).
#include "ike/observe/trace.h"

#include <fmt/format.h>

#include <algorithm>
#include <optional>
#include <string>
#include <variant>

#include "crypto/algorithms.h"
#include "ike/wire/codec.h"
#include "ike/wire/format.h"
#include "ike/wire/protect.h"
#include "ike/wire/registry.h"

namespace minivpn::ike {
namespace {

constexpr std::size_t kKePreviewOctets = 16;

std::string Indent(int depth) { return std::string(static_cast<std::size_t>(depth) * 2, ' '); }

template <typename E>
std::string Named(std::string_view name, E value) {
  return fmt::format("{} ({})", name, static_cast<unsigned>(value));
}

std::string Address(ByteView a) {
  if (a.size() == 4) return fmt::format("{}.{}.{}.{}", a[0], a[1], a[2], a[3]);
  if (a.size() != 16) return ToHex(a);
  // RFC 5952 text form: lower case, longest run of two or more zero groups as "::".
  std::uint16_t groups[8];
  for (std::size_t i = 0; i < 8; ++i) {
    groups[i] = static_cast<std::uint16_t>(a[2 * i] << 8 | a[2 * i + 1]);
  }
  int best = -1, best_len = 0;
  for (int i = 0; i < 8;) {
    if (groups[i] != 0) {
      ++i;
      continue;
    }
    int j = i;
    while (j < 8 && groups[j] == 0) ++j;
    if (j - i > best_len && j - i >= 2) best = i, best_len = j - i;
    i = j;
  }
  std::string out;
  for (int i = 0; i < 8; ++i) {
    if (i == best) {
      out += "::";
      i += best_len - 1;
      continue;
    }
    if (!out.empty() && out.back() != ':') out += ':';
    out += fmt::format("{:x}", groups[i]);
  }
  return out;
}

// Printable ASCII as is, anything else as \xNN (IDs come from the network).
std::string Text(ByteView data) {
  std::string out;
  for (std::uint8_t c : data) {
    if (c >= 0x20 && c < 0x7f && c != '\\') {
      out += static_cast<char>(c);
    } else {
      out += fmt::format("\\x{:02x}", c);
    }
  }
  return out;
}

std::string FlagsText(std::uint8_t flags) {
  std::string names;
  auto add = [&](std::string_view n) {
    if (!names.empty()) names += ", ";
    names += n;
  };
  if (flags & kFlagInitiator) add("initiator");
  if (flags & kFlagVersion) add("version");
  if (flags & kFlagResponse) add("response");
  if (flags & ~(kFlagInitiator | kFlagVersion | kFlagResponse)) add("reserved bits set");
  if (names.empty()) names = "none";
  return fmt::format("0x{:02x} ({})", flags, names);
}

std::string SpiText(ByteView spi) {
  if (spi.empty()) return "none";
  return "0x" + ToHex(spi);
}

std::string TransformText(const Transform& t) {
  std::string out = fmt::format("{} {}", Name(t.type), Named(TransformName(t.type, t.id), t.id));
  if (t.key_length) out += fmt::format(", key length {}", *t.key_length);
  return out;
}

std::string TrafficSelectorText(const TrafficSelector& s) {
  const std::string_view type = s.ts_type == TsType::kIpv4AddrRange   ? "TS_IPV4_ADDR_RANGE"
                                : s.ts_type == TsType::kIpv6AddrRange ? "TS_IPV6_ADDR_RANGE"
                                                                      : "TS_UNKNOWN";
  return fmt::format("{} {}-{} proto {} ports {}-{}", type, Address(s.start_address),
                     Address(s.end_address), s.ip_protocol, s.start_port, s.end_port);
}

std::string Lines(int depth, std::initializer_list<std::string> lines) {
  std::string out;
  for (const std::string& line : lines) out += Indent(depth) + line + "\n";
  return out;
}

// The meaning of a notify's data where the RFC defines one.
std::string NotifyDataText(const NotifyPayload& n, int depth) {
  const ByteView data = n.data;
  const std::string pad = Indent(depth);
  switch (n.type) {
    case NotifyType::kNatDetectionSourceIp:
    case NotifyType::kNatDetectionDestinationIp:
      // 2.23: SHA-1(SPIi | SPIr | IP | port).
      return fmt::format("{}SHA-1(SPIi | SPIr | {} IP | port): {} octets {}\n", pad,
                         n.type == NotifyType::kNatDetectionSourceIp ? "source" : "destination",
                         data.size(), ToHex(data));
    case NotifyType::kCookie:  // 2.6
      return fmt::format("{}cookie: {} octets {}\n", pad, data.size(), ToHex(data));
    case NotifyType::kInvalidKePayload:  // 3.10.1: the accepted group, 2 octets
      if (data.size() == 2) {
        const auto group = static_cast<std::uint16_t>(data[0] << 8 | data[1]);
        return fmt::format("{}accepted group: {}\n", pad,
                           Named(TransformName(TransformType::kDh, group), group));
      }
      break;
    case NotifyType::kUnsupportedCriticalPayload:  // 3.10.1: the payload type, 1 octet
      if (data.size() == 1) {
        return fmt::format("{}payload type: {}\n", pad,
                           Named(ToString(static_cast<PayloadType>(data[0])), data[0]));
      }
      break;
    case NotifyType::kSignatureHashAlgorithms: {  // RFC 7427 4: a list of 2-octet ids
      if (data.size() % 2 != 0) break;
      std::string list;
      for (std::size_t i = 0; i < data.size(); i += 2) {
        const auto id = static_cast<std::uint16_t>(data[i] << 8 | data[i + 1]);
        if (!list.empty()) list += ", ";
        list += Named(HashAlgorithmName(id), id);
      }
      return fmt::format("{}hash algorithms: {}\n", pad, list);
    }
    case NotifyType::kSetWindowSize:  // 2.3: 4-octet window size
      if (data.size() == 4) {
        return fmt::format("{}window size: {}\n", pad,
                           std::uint32_t{data[0]} << 24 | std::uint32_t{data[1]} << 16 |
                               std::uint32_t{data[2]} << 8 | data[3]);
      }
      break;
    default: break;
  }
  if (data.empty()) return "";
  return fmt::format("{}data: {} octets {}\n", pad, data.size(), ToHex(data));
}

std::string CpValueText(std::uint16_t type, ByteView v) {
  if (v.empty()) return "(empty)";
  switch (type) {
    case 1:
    case 2:
    case 3:
    case 4:
    case 6:  // INTERNAL_IP4_{ADDRESS,NETMASK,DNS,NBNS,DHCP}
      if (v.size() == 4) return Address(v);
      break;
    case 13:  // INTERNAL_IP4_SUBNET: address + netmask
      if (v.size() == 8) return Address(v.first(4)) + "/" + Address(v.subspan(4));
      break;
    case 8:
    case 15:  // INTERNAL_IP6_ADDRESS / SUBNET: address + prefix length
      if (v.size() == 17) return fmt::format("{}/{}", Address(v.first(16)), v[16]);
      break;
    case 10:
    case 12:  // INTERNAL_IP6_DNS / DHCP
      if (v.size() == 16) return Address(v);
      break;
    case 7:  // APPLICATION_VERSION
      return "\"" + Text(v) + "\"";
    default: break;
  }
  return fmt::format("{} octets {}", v.size(), ToHex(v));
}

class TreePrinter {
 public:
  TreePrinter(const TraceOptions& options, std::size_t iv_size, std::size_t icv_size,
              const std::vector<Payload>* inner)
      : options_(options), iv_size_(iv_size), icv_size_(icv_size), inner_(inner) {}

  std::string Chain(const std::vector<Payload>& payloads, int depth) const {
    std::string out;
    for (const Payload& p : payloads) out += One(p, depth);
    return out;
  }

  std::string One(const Payload& p, int depth) const {
    const std::size_t length = kGenericPayloadHeaderSize + EncodePayloadBody(p).size();
    std::string out = fmt::format("{}{} ({} octets{})\n", Indent(depth), Tag(p), length,
                                  p.critical ? ", critical" : "");
    out += std::visit([&](const auto& body) { return Body(body, depth + 1); }, p.body);
    return out;
  }

 private:
  std::string Body(const SaPayload& sa, int depth) const {
    std::string out;
    if (sa.proposals.empty()) out += Indent(depth) + "no proposal\n";
    for (const Proposal& p : sa.proposals) {
      out += fmt::format("{}proposal {}: protocol {}, SPI {}, {} transforms\n", Indent(depth),
                         p.number, ToString(p.protocol), SpiText(p.spi), p.transforms.size());
      for (const Transform& t : p.transforms) out += Indent(depth + 1) + TransformText(t) + "\n";
    }
    return out;
  }
  std::string Body(const KePayload& ke, int depth) const {
    const ByteView data = ke.data;
    const std::size_t shown = std::min(data.size(), kKePreviewOctets);
    return Lines(depth, {fmt::format("group: {}", Named(crypto::Name(ke.group), ke.group)),
                         fmt::format("data: {} octets, first {}: {}", data.size(), shown,
                                     ToHex(data.first(shown)))});
  }
  std::string Body(const IdPayload& id, int depth) const {
    std::string value;
    switch (id.id_type) {
      case IdType::kIpv4Addr:
      case IdType::kIpv6Addr: value = Address(id.data); break;
      case IdType::kFqdn:
      case IdType::kRfc822Addr: value = "\"" + Text(id.data) + "\""; break;
      default: value = fmt::format("{} octets {}", id.data.size(), ToHex(id.data)); break;
    }
    return Lines(depth, {fmt::format("type: {}", Named(Name(id.id_type), id.id_type)),
                         fmt::format("value: {}", value)});
  }
  std::string Body(const CertPayload& c, int depth) const {
    return Lines(depth, {fmt::format("encoding: {}, {} octets", c.encoding, c.data.size())});
  }
  std::string Body(const AuthPayload& a, int depth) const {
    // 2.15: for PSK the value is prf(prf(PSK, "Key Pad for IKEv2"), signed octets): guarded.
    const std::string value =
        options_.show_secrets ? ToHex(a.data) : fmt::format("<{} octets, hidden>", a.data.size());
    return Lines(depth, {fmt::format("method: {}", Named(Name(a.method), a.method)),
                         fmt::format("data: {}", value)});
  }
  std::string Body(const NoncePayload& n, int depth) const {
    return Lines(depth, {fmt::format("nonce: {} octets {}", n.data.size(), ToHex(n.data))});
  }
  std::string Body(const NotifyPayload& n, int depth) const {
    std::string out = Lines(
        depth, {fmt::format("type: {} ({}, {})", ToString(n.type), static_cast<unsigned>(n.type),
                            IsError(n.type) ? "error" : "status")});
    if (n.protocol != ProtocolId::kNone || !n.spi.empty()) {
      const std::string what = n.type == NotifyType::kRekeySa ? "rekeys " : "";
      out += fmt::format("{}{}protocol {}, SPI {}\n", Indent(depth), what, ToString(n.protocol),
                         SpiText(n.spi));
    }
    return out + NotifyDataText(n, depth);
  }
  std::string Body(const DeletePayload& d, int depth) const {
    std::string spis;
    for (const Bytes& spi : d.spis) spis += " " + SpiText(spi);
    std::string out =
        Lines(depth, {fmt::format("protocol {}, SPI size {}, {} SPIs{}", ToString(d.protocol),
                                  d.spi_size, d.spis.size(), spis)});
    if (d.protocol == ProtocolId::kIke) out += Indent(depth) + "deletes this IKE SA (3.11)\n";
    return out;
  }
  std::string Body(const VendorIdPayload& v, int depth) const {
    return Lines(depth, {fmt::format("vendor ID: {} octets {}", v.data.size(), ToHex(v.data))});
  }
  std::string Body(const TsPayload& ts, int depth) const {
    std::string out;
    for (const TrafficSelector& s : ts.selectors)
      out += Indent(depth) + TrafficSelectorText(s) + "\n";
    return out;
  }
  std::string Body(const CpPayload& cp, int depth) const {
    std::string out =
        Lines(depth, {fmt::format("type: {}", Named(CfgTypeName(cp.cfg_type), cp.cfg_type))});
    for (const CpAttribute& a : cp.attributes) {
      out += fmt::format("{}{}: {}\n", Indent(depth), Named(CfgAttributeName(a.type), a.type),
                         CpValueText(a.type, a.value));
    }
    return out;
  }
  std::string Body(const EapPayload& e, int depth) const {
    return Lines(depth, {fmt::format("EAP message: {} octets", e.data.size())});
  }
  std::string Encrypted(std::size_t body_size, int depth) const {
    std::string line = fmt::format("encrypted, {} octets", body_size);
    if (iv_size_ + icv_size_ > 0 && body_size >= iv_size_ + icv_size_) {
      line += fmt::format(" (IV {}, ciphertext {}, ICV {})", iv_size_,
                          body_size - iv_size_ - icv_size_, icv_size_);
    }
    return Indent(depth) + line + "\n";
  }
  std::string Inner(int depth) const {
    if (inner_ == nullptr) return Indent(depth) + "(not decrypted)\n";
    std::string out =
        fmt::format("{}decrypted: {} inner payloads\n", Indent(depth), inner_->size());
    // Nested SK cannot occur (the codec rejects it), so no inner list is passed further down.
    const TreePrinter nested(options_, iv_size_, icv_size_, nullptr);
    return out + nested.Chain(*inner_, depth + 1);
  }
  std::string Body(const SkPayload& sk, int depth) const {
    return Lines(depth, {fmt::format("first inner payload: {}",
                                     Named(ToString(sk.first_inner), sk.first_inner))}) +
           Encrypted(sk.body.size(), depth) + Inner(depth);
  }
  std::string Body(const SkfPayload& skf, int depth) const {
    return Lines(depth, {fmt::format("fragment {} of {}, first inner payload: {}",
                                     skf.fragment_number, skf.total_fragments,
                                     Named(ToString(skf.first_inner), skf.first_inner))}) +
           Encrypted(skf.body.size(), depth) + Inner(depth);
  }
  std::string Body(const UnknownPayload& u, int depth) const {
    return Lines(depth, {fmt::format("unknown payload type {}, {} octets (ignored, 3.2)",
                                     u.raw_type, u.body.size())});
  }

  const TraceOptions& options_;
  std::size_t iv_size_;
  std::size_t icv_size_;
  const std::vector<Payload>* inner_;
};

std::string HeaderTree(const Header& h, int depth) {
  return Lines(
      depth,
      {"header", fmt::format("  SPIi: {:016x}", h.spi_i), fmt::format("  SPIr: {:016x}", h.spi_r),
       fmt::format("  next payload: {}", Named(ToString(h.next_payload), h.next_payload)),
       fmt::format("  version: {}.{}", h.version >> 4, h.version & 0x0f),
       fmt::format("  exchange: {}", Named(ToString(h.exchange), h.exchange)),
       fmt::format("  flags: {}", FlagsText(h.flags)),
       fmt::format("  message ID: {}", h.message_id), fmt::format("  length: {}", h.length)});
}

}  // namespace

bool WeAreInitiator(const Header& header, Direction direction) {
  return (direction == Direction::kSent) == header.is_initiator();
}

std::string TraceSummary(const TraceEvent& event, const Message& message,
                         const std::vector<Payload>* inner) {
  const Header& h = message.header;
  const auto ms = event.offset.count();
  const std::string sign = ms < 0 ? "-" : "+";
  const auto abs_ms = ms < 0 ? -ms : ms;
  // strongSwan's notation, also for IPv6: "2001:db8::1[500]".
  const std::string endpoint = fmt::format("{}[{}]", event.peer_address, event.peer_port);
  const std::string summary = Summary(h, inner != nullptr ? *inner : message.payloads);
  // Summary() gives "<EXCHANGE> <request|response> <mid> [ ... ]": the role goes before "[".
  const std::size_t bracket = std::min(summary.find(" ["), summary.size());
  return fmt::format(
      "{}{}.{:03}s {} {} {} (we are {}){}", sign, abs_ms / 1000, abs_ms % 1000,
      event.direction == Direction::kSent ? "sent" : "recv", endpoint, summary.substr(0, bracket),
      WeAreInitiator(h, event.direction) ? "initiator" : "responder", summary.substr(bracket));
}

std::string TraceVerbose(const TraceEvent& event, const Message& message,
                         const std::vector<Payload>* inner, const TraceOptions& options) {
  std::string out = TraceSummary(event, message, inner) + "\n";
  out += HeaderTree(message.header, 1);
  const TreePrinter printer(options, event.sk_iv_size, event.sk_icv_size, inner);
  out += printer.Chain(message.payloads, 1);
  return out;
}

std::string TraceDatagram(const TraceEvent& event, ByteView datagram,
                          const crypto::SkCipher* cipher, TraceForm form,
                          const TraceOptions& options) {
  auto message = Decode(datagram);
  if (!message) {
    const auto ms = event.offset.count() < 0 ? -event.offset.count() : event.offset.count();
    return fmt::format("{}{}.{:03}s {} {}[{}] undecodable ({} octets): {}{}",
                       event.offset.count() < 0 ? "-" : "+", ms / 1000, ms % 1000,
                       event.direction == Direction::kSent ? "sent" : "recv", event.peer_address,
                       event.peer_port, datagram.size(), Describe(message.error()),
                       form == TraceForm::kVerbose ? "\n" : "");
  }
  std::optional<std::vector<Payload>> inner;
  std::string failure;
  const bool protected_message =
      !message->payloads.empty() && message->payloads.back().type == PayloadType::kSk;
  if (cipher != nullptr && protected_message) {
    auto opened = Unprotect(datagram, *message, *cipher);
    if (opened) {
      inner = std::move(*opened);
    } else {
      failure = opened.error().detail;
    }
  }
  const std::vector<Payload>* inner_ptr = inner ? &*inner : nullptr;
  if (form == TraceForm::kSummary) return TraceSummary(event, *message, inner_ptr);
  TraceEvent with_layout = event;
  if (cipher != nullptr) {
    with_layout.sk_iv_size = cipher->iv_size();
    with_layout.sk_icv_size = cipher->icv_size();
  }
  std::string out = TraceVerbose(with_layout, *message, inner_ptr, options);
  if (!failure.empty()) {
    const std::string marker = "(not decrypted)\n";
    const std::size_t at = out.rfind(marker);
    if (at != std::string::npos) {
      out.replace(at, marker.size(), "(not decrypted: " + failure + ")\n");
    }
  }
  return out;
}

std::string TracePayloads(const std::vector<Payload>& payloads, const TraceOptions& options,
                          int depth) {
  return TreePrinter(options, 0, 0, nullptr).Chain(payloads, depth);
}

std::string_view HashAlgorithmName(std::uint16_t id) {
  switch (id) {
    case 1: return "SHA1";
    case 2: return "SHA2_256";
    case 3: return "SHA2_384";
    case 4: return "SHA2_512";
    case 5: return "IDENTITY";
    default: return "UNKNOWN";
  }
}

std::string_view CfgAttributeName(std::uint16_t type) {
  switch (type) {
    case 1: return "INTERNAL_IP4_ADDRESS";
    case 2: return "INTERNAL_IP4_NETMASK";
    case 3: return "INTERNAL_IP4_DNS";
    case 4: return "INTERNAL_IP4_NBNS";
    case 6: return "INTERNAL_IP4_DHCP";
    case 7: return "APPLICATION_VERSION";
    case 8: return "INTERNAL_IP6_ADDRESS";
    case 10: return "INTERNAL_IP6_DNS";
    case 12: return "INTERNAL_IP6_DHCP";
    case 13: return "INTERNAL_IP4_SUBNET";
    case 14: return "SUPPORTED_ATTRIBUTES";
    case 15: return "INTERNAL_IP6_SUBNET";
    default: return "UNKNOWN";
  }
}

std::string_view CfgTypeName(CfgType type) {
  switch (type) {
    case CfgType::kRequest: return "CFG_REQUEST";
    case CfgType::kReply: return "CFG_REPLY";
    case CfgType::kSet: return "CFG_SET";
    case CfgType::kAck: return "CFG_ACK";
  }
  return "UNKNOWN";
}

}  // namespace minivpn::ike
