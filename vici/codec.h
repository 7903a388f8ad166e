// The vici wire codec: pure functions from octets to packets and messages (message.h) and back.
// Every wire format and limit of the protocol is in this header; framer.h cuts a byte stream
// into the packets decoded here.
//
// Transport: a stream of segments, each a 32-bit big-endian length and that many octets of
// packet (the length does not count itself). charon reads at most kMaxPacketSize octets a
// segment and drops the connection on a longer length.
//
//   +--------+--------+--------+--------+--------+----------------------------------
//   |          packet length (BE)       |  type  | packet data ...
//   +--------+--------+--------+--------+--------+----------------------------------
//
// Packet: one type octet, then by type a name, a message, both or nothing:
//   0 CMD_REQUEST      name + message   (client: run command `name` with these arguments)
//   1 CMD_RESPONSE            message   (server: the result of the one command running)
//   2 CMD_UNKNOWN             -         (server: no command of that name)
//   3 EVENT_REGISTER   name             (client: send me events `name`)
//   4 EVENT_UNREGISTER name
//   5 EVENT_CONFIRM           -         (server: (un)registration done)
//   6 EVENT_UNKNOWN           -         (server: no event of that name)
//   7 EVENT            name + message   (server: an event, also while a command runs)
// A name is a length octet and that many octets of printable ASCII (no NUL terminator; charon
// drops a packet whose name has another octet, and accepts an empty one). The message runs to
// the end of the packet.
//
// Message: a sequence of elements, each a type octet and its fields:
//   1 SECTION_START  name              opens a sub-section of the current section
//   2 SECTION_END                      closes the innermost section
//   3 KEY_VALUE      name value        a key of the current section
//   4 LIST_START     name              opens a list in the current section
//   5 LIST_ITEM           value        an item of the open list
//   6 LIST_END                         closes the list
// name = length octet + printable ASCII as above; value = 16-bit big-endian length + octets
// (any octets). Type 0 and 7 are charon's internal start/end markers, never on the wire. A list
// holds items only (no sections, keys or nested lists), items appear only in a list, a
// SECTION_END needs an open section, and the message ends with every section and list closed.
// Duplicate names are valid (charon's parser takes the first when looking a key up).
//
// Decoding is stricter than charon's parser in three places, all of them what the format asks
// for: a message that ends inside a section or list, a LIST_ITEM cut short, and octets after a
// packet that carries no message are errors here (charon takes the first two as they come and
// ignores the octets). swanctl and charon never send any of them.
#pragma once

#include <cstddef>
#include <cstdint>
#include <expected>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "vici/message.h"

namespace minivpn::vici {

inline constexpr std::size_t kLengthPrefixSize = 4;
// Most octets of one packet (type + name + message), charon's VICI_MESSAGE_SIZE_MAX (512 KiB).
inline constexpr std::size_t kMaxPacketSize = 512 * 1024;
inline constexpr std::size_t kMaxNameSize = 255;     // 8-bit length
inline constexpr std::size_t kMaxValueSize = 65535;  // 16-bit length
// Most sections open at once. charon sets no limit; its deepest messages (list-conns,
// list-sas) nest 4. Bounds the recursion of everything that walks the tree.
inline constexpr std::size_t kMaxSectionDepth = 64;

enum class PacketType : std::uint8_t {
  kCmdRequest = 0,
  kCmdResponse = 1,
  kCmdUnknown = 2,
  kEventRegister = 3,
  kEventUnregister = 4,
  kEventConfirm = 5,
  kEventUnknown = 6,
  kEvent = 7,
};
inline constexpr std::uint8_t kLastPacketType = 7;

enum class ElementType : std::uint8_t {
  kSectionStart = 1,
  kSectionEnd = 2,
  kKeyValue = 3,
  kListStart = 4,
  kListItem = 5,
  kListEnd = 6,
};

std::string_view Name(PacketType type);  // "CMD_REQUEST"; "UNKNOWN" outside 0..7
bool HasName(PacketType type);           // CMD_REQUEST, EVENT_REGISTER/UNREGISTER, EVENT
bool HasMessage(PacketType type);        // CMD_REQUEST, CMD_RESPONSE, EVENT

// One packet. `name` and `message` are empty for the types that carry none (Encode rejects
// them otherwise).
struct Packet {
  PacketType type = PacketType::kCmdRequest;
  std::string name;
  Message message;

  static Packet CmdRequest(std::string command, Message arguments = {});
  static Packet CmdResponse(Message result);
  static Packet CmdUnknown();
  static Packet EventRegister(std::string event);
  static Packet EventUnregister(std::string event);
  static Packet EventConfirm();
  static Packet EventUnknown();
  static Packet Event(std::string event, Message message);
  bool operator==(const Packet&) const = default;
};

enum class ErrorCode : std::uint8_t {
  kTruncated,             // a field runs past the end of its packet or message
  kTooLarge,              // more than the maximum packet size
  kUnknownPacketType,     // packet type above 7
  kTrailingOctets,        // octets after the name of a packet that carries no message
  kUnknownElementType,    // element type not 1..6
  kBadName,               // an octet outside printable ASCII (0x20..0x7e) in a name
  kNotInList,             // SECTION_START, SECTION_END, KEY_VALUE or LIST_START in a list
  kItemOutsideList,       // LIST_ITEM with no list open
  kListEndOutsideList,    // LIST_END with no list open
  kSectionEndAtRoot,      // SECTION_END with no section open
  kSectionNotClosed,      // the message ends inside a section
  kListNotClosed,         // the message ends inside a list
  kTooDeep,               // more than kMaxSectionDepth sections open
  // Encode only: the model holds what the wire cannot carry.
  kNameTooLong,           // a name of more than 255 octets
  kValueTooLong,          // a value of more than 65535 octets
  kFieldNotAllowed,       // a name or a message on a packet type that carries none
};

struct Error {
  ErrorCode code = ErrorCode::kTruncated;
  // Decode: the octet offset in the buffer decoded (plus base_offset) of the field at fault:
  // the length field that runs past the end, the type octet of a misplaced element, the bad
  // octet of a name, the end of the message for what is not closed. Encode: the offset in the
  // encoding being built where the faulty element would start.
  std::size_t offset = 0;
  std::string detail;  // for logs; decide on `code`
  bool operator==(const Error&) const = default;
};

std::string_view Name(ErrorCode code);  // "truncated", "list item outside a list", ...
// "truncated at offset 14: key value length 300 exceeds the 12 octets left"
std::string Describe(const Error& error);

// Decodes a message (the part of a packet after its name). Offsets in errors are those in
// `data` plus `base_offset`. Errors, by element at offset o (the type octet):
//   type not 1..6                               kUnknownElementType  o
//   name length octet or value length missing,
//     or a name/value longer than what is left  kTruncated           the length field
//   a name octet outside 0x20..0x7e             kBadName             that octet
//   element other than LIST_ITEM/LIST_END in a list   kNotInList     o
//   LIST_ITEM / LIST_END with no list open      kItemOutsideList / kListEndOutsideList  o
//   SECTION_END with no section open            kSectionEndAtRoot    o
//   the 65th nested SECTION_START               kTooDeep             o
//   end of data in a list / in a section        kListNotClosed / kSectionNotClosed  end
//   more than kMaxPacketSize octets             kTooLarge            base_offset (checked first)
std::expected<Message, Error> DecodeMessage(std::span<const std::uint8_t> data,
                                            std::size_t base_offset = 0);
// Decodes one packet (the octets after the length prefix). Errors, in order:
//   more than kMaxPacketSize octets             kTooLarge            0
//   no type octet                               kTruncated           0
//   type above 7                                kUnknownPacketType   0
//   name length octet missing, name too long    kTruncated           1
//   name octet outside 0x20..0x7e               kBadName             that octet
//   octets after a packet without a message     kTrailingOctets      the first of them
//   the message                                 as DecodeMessage, offsets in the packet
std::expected<Packet, Error> DecodePacket(std::span<const std::uint8_t> packet);

// Encodes a message. Errors (offset: where the element would start in the output):
//   a name over 255 octets / a value over 65535  kNameTooLong / kValueTooLong
//   a name octet outside 0x20..0x7e              kBadName
//   more than kMaxSectionDepth nested sections   kTooDeep
//   more than kMaxPacketSize octets in all       kTooLarge
// Decoding the output gives the message back; for valid input, Encode(Decode(x)) == x (the
// encoding has no choices).
std::expected<std::vector<std::uint8_t>, Error> Encode(const Message& message);
// Encodes a packet without the length prefix: the message's errors, a name as above, a name
// or message on a type that carries none (kFieldNotAllowed), a type above 7
// (kUnknownPacketType), the whole over kMaxPacketSize (kTooLarge).
std::expected<std::vector<std::uint8_t>, Error> Encode(const Packet& packet);
// Encodes a packet with its 4-octet length prefix: what goes on the socket.
std::expected<std::vector<std::uint8_t>, Error> EncodeFrame(const Packet& packet);

// "CMD_REQUEST list-sas {noblock=yes}", "EVENT_CONFIRM": the packet for logs (message.h's
// Dump, compact, for the message).
std::string Dump(const Packet& packet);

}  // namespace minivpn::vici
