// The vici wire codec (codec.h): packets and messages from octets and back. Decoding walks the
// elements once, keeping the open sections on an explicit stack (no recursion on input);
// encoding recurses at most kMaxSectionDepth levels.
#include "vici/codec.h"

#include <fmt/format.h>

#include <utility>

namespace minivpn::vici {
namespace {

using Octets = std::vector<std::uint8_t>;

std::unexpected<Error> Fail(ErrorCode code, std::size_t offset, std::string detail) {
  return std::unexpected(Error{code, offset, std::move(detail)});
}

// A bounds-checked big-endian cursor over the octets being decoded; offset() is absolute.
class Cursor {
 public:
  Cursor(std::span<const std::uint8_t> data, std::size_t base) : data_(data), base_(base) {}

  std::size_t remaining() const { return data_.size() - pos_; }
  bool empty() const { return remaining() == 0; }
  std::size_t offset() const { return base_ + pos_; }
  std::span<const std::uint8_t> rest() const { return data_.subspan(pos_); }

  std::uint8_t U8() { return data_[pos_++]; }  // callers check remaining() first
  std::uint16_t U16() {
    const auto v = static_cast<std::uint16_t>((data_[pos_] << 8) | data_[pos_ + 1]);
    pos_ += 2;
    return v;
  }
  std::string Text(std::size_t n) {
    std::string s(reinterpret_cast<const char*>(data_.data() + pos_), n);
    pos_ += n;
    return s;
  }

 private:
  std::span<const std::uint8_t> data_;
  std::size_t base_;
  std::size_t pos_ = 0;
};

// The position of the first octet outside printable ASCII, or npos.
std::size_t FirstUnprintable(std::string_view text) {
  for (std::size_t i = 0; i < text.size(); ++i) {
    const auto octet = static_cast<unsigned char>(text[i]);
    if (octet < 0x20 || octet > 0x7e) return i;
  }
  return std::string_view::npos;
}

// name = length octet + printable ASCII. `what` names the field in errors ("key name").
std::expected<std::string, Error> ReadName(Cursor& in, std::string_view what) {
  const std::size_t at = in.offset();
  if (in.empty()) {
    return Fail(ErrorCode::kTruncated, at, fmt::format("no length octet for the {}", what));
  }
  const std::size_t size = in.U8();
  if (size > in.remaining()) {
    return Fail(ErrorCode::kTruncated, at,
                fmt::format("{} length {} exceeds the {} octets left", what, size,
                            in.remaining()));
  }
  const std::size_t name_at = in.offset();
  std::string name = in.Text(size);
  if (const std::size_t bad = FirstUnprintable(name); bad != std::string_view::npos) {
    return Fail(ErrorCode::kBadName, name_at + bad,
                fmt::format("{} has octet 0x{:02x}, not printable ASCII", what,
                            static_cast<unsigned char>(name[bad])));
  }
  return name;
}

// value = 16-bit length + octets.
std::expected<std::string, Error> ReadValue(Cursor& in, std::string_view what) {
  const std::size_t at = in.offset();
  if (in.remaining() < 2) {
    return Fail(ErrorCode::kTruncated, at,
                fmt::format("{} length needs 2 octets, {} left", what, in.remaining()));
  }
  const std::size_t size = in.U16();
  if (size > in.remaining()) {
    return Fail(ErrorCode::kTruncated, at,
                fmt::format("{} length {} exceeds the {} octets left", what, size,
                            in.remaining()));
  }
  return in.Text(size);
}

std::string_view ElementName(std::uint8_t type) {
  switch (static_cast<ElementType>(type)) {
    case ElementType::kSectionStart: return "section start";
    case ElementType::kSectionEnd: return "section end";
    case ElementType::kKeyValue: return "key/value";
    case ElementType::kListStart: return "list start";
    case ElementType::kListItem: return "list item";
    case ElementType::kListEnd: return "list end";
  }
  return "unknown element";
}

// A section open while decoding: where its elements go, for errors its name and offset.
struct OpenSection {
  Section* section;
  std::string_view name;
  std::size_t offset;
};

void PutU16(Octets& out, std::size_t v) {
  out.push_back(static_cast<std::uint8_t>(v >> 8));
  out.push_back(static_cast<std::uint8_t>(v));
}

std::expected<void, Error> PutName(Octets& out, std::size_t at, std::string_view name,
                                   std::string_view what) {
  if (name.size() > kMaxNameSize) {
    return Fail(ErrorCode::kNameTooLong, at,
                fmt::format("{} of {} octets (at most {})", what, name.size(), kMaxNameSize));
  }
  if (const std::size_t bad = FirstUnprintable(name); bad != std::string_view::npos) {
    return Fail(ErrorCode::kBadName, at,
                fmt::format("{} has octet 0x{:02x} at position {}, not printable ASCII", what,
                            static_cast<unsigned char>(name[bad]), bad));
  }
  out.push_back(static_cast<std::uint8_t>(name.size()));
  out.insert(out.end(), name.begin(), name.end());
  return {};
}

std::expected<void, Error> PutValue(Octets& out, std::size_t at, std::string_view value,
                                    std::string_view what) {
  if (value.size() > kMaxValueSize) {
    return Fail(ErrorCode::kValueTooLong, at,
                fmt::format("{} of {} octets (at most {})", what, value.size(), kMaxValueSize));
  }
  PutU16(out, value.size());
  out.insert(out.end(), value.begin(), value.end());
  return {};
}

std::expected<void, Error> CheckSize(const Octets& out, std::size_t at) {
  if (out.size() <= kMaxPacketSize) return {};
  return Fail(ErrorCode::kTooLarge, at,
              fmt::format("the encoding is larger than {} octets", kMaxPacketSize));
}

// Appends the elements of `section`, which is nested `depth` sections deep (0: the message).
std::expected<void, Error> PutSection(Octets& out, const Section& section, std::size_t depth) {
  for (const Element& e : section.elements) {
    const std::size_t at = out.size();
    switch (e.kind()) {
      case ElementKind::kKeyValue: {
        out.push_back(static_cast<std::uint8_t>(ElementType::kKeyValue));
        if (auto r = PutName(out, at, e.name, "key name"); !r) return r;
        if (auto r = PutValue(out, at, *e.value(), fmt::format("value of key '{}'", e.name)); !r) {
          return r;
        }
        break;
      }
      case ElementKind::kList: {
        out.push_back(static_cast<std::uint8_t>(ElementType::kListStart));
        if (auto r = PutName(out, at, e.name, "list name"); !r) return r;
        for (const std::string& item : *e.list()) {
          const std::size_t item_at = out.size();
          out.push_back(static_cast<std::uint8_t>(ElementType::kListItem));
          if (auto r = PutValue(out, item_at, item, fmt::format("item of list '{}'", e.name));
              !r) {
            return r;
          }
          if (auto r = CheckSize(out, item_at); !r) return r;
        }
        out.push_back(static_cast<std::uint8_t>(ElementType::kListEnd));
        break;
      }
      case ElementKind::kSection: {
        if (depth + 1 > kMaxSectionDepth) {
          return Fail(ErrorCode::kTooDeep, at,
                      fmt::format("section '{}' nested {} deep (at most {})", Shown(e.name),
                                  depth + 1, kMaxSectionDepth));
        }
        out.push_back(static_cast<std::uint8_t>(ElementType::kSectionStart));
        if (auto r = PutName(out, at, e.name, "section name"); !r) return r;
        if (auto r = PutSection(out, *e.section(), depth + 1); !r) return r;
        out.push_back(static_cast<std::uint8_t>(ElementType::kSectionEnd));
        break;
      }
    }
    if (auto r = CheckSize(out, at); !r) return r;
  }
  return {};
}

}  // namespace

std::string_view Name(PacketType type) {
  switch (type) {
    case PacketType::kCmdRequest: return "CMD_REQUEST";
    case PacketType::kCmdResponse: return "CMD_RESPONSE";
    case PacketType::kCmdUnknown: return "CMD_UNKNOWN";
    case PacketType::kEventRegister: return "EVENT_REGISTER";
    case PacketType::kEventUnregister: return "EVENT_UNREGISTER";
    case PacketType::kEventConfirm: return "EVENT_CONFIRM";
    case PacketType::kEventUnknown: return "EVENT_UNKNOWN";
    case PacketType::kEvent: return "EVENT";
  }
  return "UNKNOWN";
}

bool HasName(PacketType type) {
  return type == PacketType::kCmdRequest || type == PacketType::kEventRegister ||
         type == PacketType::kEventUnregister || type == PacketType::kEvent;
}

bool HasMessage(PacketType type) {
  return type == PacketType::kCmdRequest || type == PacketType::kCmdResponse ||
         type == PacketType::kEvent;
}

Packet Packet::CmdRequest(std::string command, Message arguments) {
  return Packet{PacketType::kCmdRequest, std::move(command), std::move(arguments)};
}
Packet Packet::CmdResponse(Message result) {
  return Packet{PacketType::kCmdResponse, {}, std::move(result)};
}
Packet Packet::CmdUnknown() { return Packet{PacketType::kCmdUnknown, {}, {}}; }
Packet Packet::EventRegister(std::string event) {
  return Packet{PacketType::kEventRegister, std::move(event), {}};
}
Packet Packet::EventUnregister(std::string event) {
  return Packet{PacketType::kEventUnregister, std::move(event), {}};
}
Packet Packet::EventConfirm() { return Packet{PacketType::kEventConfirm, {}, {}}; }
Packet Packet::EventUnknown() { return Packet{PacketType::kEventUnknown, {}, {}}; }
Packet Packet::Event(std::string event, Message message) {
  return Packet{PacketType::kEvent, std::move(event), std::move(message)};
}

std::string_view Name(ErrorCode code) {
  switch (code) {
    case ErrorCode::kTruncated: return "truncated";
    case ErrorCode::kTooLarge: return "too large";
    case ErrorCode::kUnknownPacketType: return "unknown packet type";
    case ErrorCode::kTrailingOctets: return "trailing octets";
    case ErrorCode::kUnknownElementType: return "unknown element type";
    case ErrorCode::kBadName: return "name not printable";
    case ErrorCode::kNotInList: return "element inside a list";
    case ErrorCode::kItemOutsideList: return "list item outside a list";
    case ErrorCode::kListEndOutsideList: return "list end outside a list";
    case ErrorCode::kSectionEndAtRoot: return "section end outside a section";
    case ErrorCode::kSectionNotClosed: return "section not closed";
    case ErrorCode::kListNotClosed: return "list not closed";
    case ErrorCode::kTooDeep: return "sections nested too deep";
    case ErrorCode::kNameTooLong: return "name too long";
    case ErrorCode::kValueTooLong: return "value too long";
    case ErrorCode::kFieldNotAllowed: return "field not allowed";
  }
  return "unknown error";
}

std::string Describe(const Error& error) {
  std::string text = fmt::format("{} at offset {}", Name(error.code), error.offset);
  if (!error.detail.empty()) text += ": " + error.detail;
  return text;
}

std::expected<Message, Error> DecodeMessage(std::span<const std::uint8_t> data,
                                            std::size_t base_offset) {
  if (data.size() > kMaxPacketSize) {
    return Fail(ErrorCode::kTooLarge, base_offset,
                fmt::format("message larger than {} octets ({})", kMaxPacketSize, data.size()));
  }
  Message root;
  std::vector<OpenSection> open{{&root, {}, base_offset}};
  List* list = nullptr;  // the open list, in the innermost section's last element
  std::string_view list_name;
  std::size_t list_offset = 0;

  Cursor in(data, base_offset);
  while (!in.empty()) {
    const std::size_t at = in.offset();
    const std::uint8_t type = in.U8();
    if (type < static_cast<std::uint8_t>(ElementType::kSectionStart) ||
        type > static_cast<std::uint8_t>(ElementType::kListEnd)) {
      return Fail(ErrorCode::kUnknownElementType, at, fmt::format("element type {}", type));
    }
    const auto element = static_cast<ElementType>(type);
    if (list != nullptr && element != ElementType::kListItem &&
        element != ElementType::kListEnd) {
      return Fail(ErrorCode::kNotInList, at,
                  fmt::format("{} in list '{}'", ElementName(type), list_name));
    }
    Section& current = *open.back().section;
    switch (element) {
      case ElementType::kSectionStart: {
        auto name = ReadName(in, "section name");
        if (!name) return std::unexpected(std::move(name.error()));
        if (open.size() > kMaxSectionDepth) {
          return Fail(ErrorCode::kTooDeep, at,
                      fmt::format("section '{}' nested {} deep (at most {})", *name,
                                  open.size(), kMaxSectionDepth));
        }
        current.elements.push_back(Element::SubSection(std::move(*name), {}));
        Element& added = current.elements.back();
        open.push_back({&std::get<Section>(added.body), added.name, at});
        break;
      }
      case ElementType::kSectionEnd:
        if (open.size() == 1) {
          return Fail(ErrorCode::kSectionEndAtRoot, at, "no section is open");
        }
        open.pop_back();
        break;
      case ElementType::kKeyValue: {
        auto key = ReadName(in, "key name");
        if (!key) return std::unexpected(std::move(key.error()));
        auto value = ReadValue(in, "key value");
        if (!value) return std::unexpected(std::move(value.error()));
        current.elements.push_back(Element::KeyValue(std::move(*key), std::move(*value)));
        break;
      }
      case ElementType::kListStart: {
        auto name = ReadName(in, "list name");
        if (!name) return std::unexpected(std::move(name.error()));
        current.elements.push_back(Element::NamedList(std::move(*name), {}));
        Element& added = current.elements.back();
        list = &std::get<List>(added.body);
        list_name = added.name;
        list_offset = at;
        break;
      }
      case ElementType::kListItem: {
        if (list == nullptr) return Fail(ErrorCode::kItemOutsideList, at, "no list is open");
        auto value = ReadValue(in, "list item");
        if (!value) return std::unexpected(std::move(value.error()));
        list->push_back(std::move(*value));
        break;
      }
      case ElementType::kListEnd:
        if (list == nullptr) return Fail(ErrorCode::kListEndOutsideList, at, "no list is open");
        list = nullptr;
        break;
    }
  }
  if (list != nullptr) {
    return Fail(ErrorCode::kListNotClosed, in.offset(),
                fmt::format("list '{}' opened at offset {} not closed", list_name, list_offset));
  }
  if (open.size() > 1) {
    return Fail(ErrorCode::kSectionNotClosed, in.offset(),
                fmt::format("section '{}' opened at offset {} not closed", open.back().name,
                            open.back().offset));
  }
  return root;
}

std::expected<Packet, Error> DecodePacket(std::span<const std::uint8_t> packet) {
  if (packet.size() > kMaxPacketSize) {
    return Fail(ErrorCode::kTooLarge, 0,
                fmt::format("packet larger than {} octets ({})", kMaxPacketSize, packet.size()));
  }
  Cursor in(packet, 0);
  if (in.empty()) return Fail(ErrorCode::kTruncated, 0, "no packet type");
  const std::uint8_t raw = in.U8();
  if (raw > kLastPacketType) {
    return Fail(ErrorCode::kUnknownPacketType, 0, fmt::format("packet type {}", raw));
  }
  Packet out;
  out.type = static_cast<PacketType>(raw);
  if (HasName(out.type)) {
    auto name = ReadName(in, fmt::format("{} name", Name(out.type)));
    if (!name) return std::unexpected(std::move(name.error()));
    out.name = std::move(*name);
  }
  if (HasMessage(out.type)) {
    auto message = DecodeMessage(in.rest(), in.offset());
    if (!message) return std::unexpected(std::move(message.error()));
    out.message = std::move(*message);
  } else if (!in.empty()) {
    return Fail(ErrorCode::kTrailingOctets, in.offset(),
                fmt::format("{} octets after {}, which carries no message", in.remaining(),
                            Name(out.type)));
  }
  return out;
}

std::expected<std::vector<std::uint8_t>, Error> Encode(const Message& message) {
  Octets out;
  if (auto r = PutSection(out, message, 0); !r) return std::unexpected(std::move(r.error()));
  return out;
}

std::expected<std::vector<std::uint8_t>, Error> Encode(const Packet& packet) {
  const auto raw = static_cast<std::uint8_t>(packet.type);
  if (raw > kLastPacketType) {
    return Fail(ErrorCode::kUnknownPacketType, 0, fmt::format("packet type {}", raw));
  }
  if (!HasName(packet.type) && !packet.name.empty()) {
    return Fail(ErrorCode::kFieldNotAllowed, 0,
                fmt::format("{} carries no name", Name(packet.type)));
  }
  if (!HasMessage(packet.type) && !packet.message.empty()) {
    return Fail(ErrorCode::kFieldNotAllowed, 0,
                fmt::format("{} carries no message", Name(packet.type)));
  }
  Octets out{raw};
  if (HasName(packet.type)) {
    if (auto r = PutName(out, 1, packet.name, fmt::format("{} name", Name(packet.type))); !r) {
      return std::unexpected(std::move(r.error()));
    }
  }
  if (HasMessage(packet.type)) {
    if (auto r = PutSection(out, packet.message, 0); !r) {
      return std::unexpected(std::move(r.error()));
    }
  }
  return out;
}

std::expected<std::vector<std::uint8_t>, Error> EncodeFrame(const Packet& packet) {
  auto body = Encode(packet);
  if (!body) return body;
  Octets out;
  out.reserve(kLengthPrefixSize + body->size());
  const auto size = static_cast<std::uint32_t>(body->size());  // <= kMaxPacketSize
  for (int shift = 24; shift >= 0; shift -= 8) {
    out.push_back(static_cast<std::uint8_t>(size >> shift));
  }
  out.insert(out.end(), body->begin(), body->end());
  return out;
}

std::string Dump(const Packet& packet) {
  std::string text(Name(packet.type));
  if (HasName(packet.type)) text += " " + Shown(packet.name);
  if (HasMessage(packet.type)) text += " {" + Dump(packet.message) + "}";
  return text;
}

}  // namespace minivpn::vici
