// The vici message model: the tree a vici message carries (strongSwan's "Versatile IKE
// Configuration Interface", what swanctl speaks to charon), as plain values. A section holds
// key/values, lists and sub-sections in wire order; the message itself is the implicit root
// section. Names are ASCII, values are octet strings (std::string, may hold any octet; charon
// sends text, numbers included). Duplicate names are kept as they came: the wire allows them,
// lookups take the first. Nothing here checks the wire limits (name length, printable names,
// value length, depth, size): Encode does (codec.h).
//
//   vici::Message reply;
//   reply.AddSection("ike-sa", vici::Section()
//                                  .Add("state", "ESTABLISHED")
//                                  .AddList("local-vips", {"10.0.0.1"}));
//   const std::string* state = reply.Find("ike-sa.state");
#pragma once

#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace minivpn::vici {

struct Element;

// The items of a list, in order (a list holds items only: no names, no nesting).
using List = std::vector<std::string>;

// A section's contents. Its own name is kept by the element that holds it (Element::name), so
// that the message, the unnamed root section, is the same type.
struct Section {
  std::vector<Element> elements;  // wire order

  // Builders, chainable on a named section and on a temporary:
  //   Section().Add("a", "1").AddList("l", {"x", "y"}).AddSection("s", Section().Add("b", "2"))
  Section& Add(std::string key, std::string value) &;
  Section&& Add(std::string key, std::string value) &&;
  Section& AddList(std::string name, List items) &;
  Section&& AddList(std::string name, List items) &&;
  Section& AddSection(std::string name, Section section) &;
  Section&& AddSection(std::string name, Section section) &&;

  // Lookups by path: the names of sub-sections and then of the element, joined by '.' as in
  // charon's get_str("section.key") ("ike-sa.child-sas.net.state"). At each step the first
  // element of that name and of the kind the step needs is taken (a section for every step but
  // the last). The overloads with a list of names take names that contain '.' themselves.
  // nullptr when there is no such element.
  const std::string* Find(std::string_view path) const;
  const std::string* Find(std::initializer_list<std::string_view> path) const;
  const List* FindList(std::string_view path) const;
  const List* FindList(std::initializer_list<std::string_view> path) const;
  const Section* FindSection(std::string_view path) const;
  const Section* FindSection(std::initializer_list<std::string_view> path) const;
  // The value at `path`, or `fallback` when there is none.
  std::string ValueOr(std::string_view path, std::string_view fallback) const;

  bool empty() const { return elements.empty(); }
  bool operator==(const Section& other) const;
};

// The message of a CMD_REQUEST, CMD_RESPONSE or EVENT packet: the root section.
using Message = Section;

enum class ElementKind : std::uint8_t { kKeyValue, kList, kSection };

// One entry of a section: a key with its value, a named list, or a named sub-section.
struct Element {
  std::string name;
  std::variant<std::string, List, Section> body;  // in ElementKind order

  static Element KeyValue(std::string key, std::string value);
  static Element NamedList(std::string name, List items);
  static Element SubSection(std::string name, Section section);

  ElementKind kind() const { return static_cast<ElementKind>(body.index()); }
  // The body of that kind, or nullptr for another kind.
  const std::string* value() const { return std::get_if<std::string>(&body); }
  const List* list() const { return std::get_if<List>(&body); }
  const Section* section() const { return std::get_if<Section>(&body); }
  bool operator==(const Element& other) const;
};

// The message as text for logs and debugging, in charon's layout (swanctl --raw), without the
// label and the outer braces: compact on one line (pretty = false)
//   key1=value1 section1 {sub-section {key2=value2} list1=[item1 item2]}
// or one element a line, indented by two spaces a level (pretty = true, swanctl --raw --pretty)
//   key1 = value1
//   section1 {
//     sub-section {
//       key2 = value2
//     }
//     list1 = [
//       item1
//       item2
//     ]
//   }
// A value or name with an octet outside printable ASCII is shown as 0x and its hex digits.
std::string Dump(const Section& message, bool pretty = false);
// A name or value as Dump shows it: as it is when all printable ASCII (0x20..0x7e), else "0x"
// and its octets in lower-case hex.
std::string Shown(std::string_view text);

}  // namespace minivpn::vici
