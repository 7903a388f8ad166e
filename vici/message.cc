// The vici message model: builders, path lookups and the text dump (message.h).
#include "vici/message.h"

#include <iterator>
#include <utility>

namespace minivpn::vici {
namespace {

// The first element of `section` named `name` of kind `kind`.
const Element* FirstOf(const Section& section, std::string_view name, ElementKind kind) {
  for (const Element& e : section.elements) {
    if (e.kind() == kind && e.name == name) return &e;
  }
  return nullptr;
}

// Walks the sections named by all steps but the last; the last step's element of `kind`.
template <typename Steps>
const Element* Walk(const Section& root, const Steps& steps, ElementKind kind) {
  const Section* current = &root;
  auto it = steps.begin();
  if (it == steps.end()) return nullptr;
  for (auto next = std::next(it); next != steps.end(); it = next, ++next) {
    const Element* sub = FirstOf(*current, *it, ElementKind::kSection);
    if (sub == nullptr) return nullptr;
    current = sub->section();
  }
  return FirstOf(*current, *it, kind);
}

// "a.b.c" -> {"a", "b", "c"}; "" -> {""}.
std::vector<std::string_view> SplitPath(std::string_view path) {
  std::vector<std::string_view> steps;
  for (;;) {
    const std::size_t dot = path.find('.');
    steps.push_back(path.substr(0, dot));
    if (dot == std::string_view::npos) return steps;
    path.remove_prefix(dot + 1);
  }
}

const Element* WalkPath(const Section& root, std::string_view path, ElementKind kind) {
  return Walk(root, SplitPath(path), kind);
}

bool Printable(std::string_view text) {
  for (const char c : text) {
    if (c < 0x20 || c > 0x7e) return false;
  }
  return true;
}

void AppendShown(std::string& out, std::string_view text) {
  if (Printable(text)) {
    out += text;
    return;
  }
  static constexpr char kDigits[] = "0123456789abcdef";
  out += "0x";
  for (const char c : text) {
    const auto octet = static_cast<unsigned char>(c);
    out += kDigits[octet >> 4];
    out += kDigits[octet & 0x0f];
  }
}

void DumpCompact(const Section& section, std::string& out) {
  bool first = true;
  for (const Element& e : section.elements) {
    if (!first) out += ' ';
    first = false;
    AppendShown(out, e.name);
    switch (e.kind()) {
      case ElementKind::kKeyValue:
        out += '=';
        AppendShown(out, *e.value());
        break;
      case ElementKind::kList: {
        out += "=[";
        bool first_item = true;
        for (const std::string& item : *e.list()) {
          if (!first_item) out += ' ';
          first_item = false;
          AppendShown(out, item);
        }
        out += ']';
        break;
      }
      case ElementKind::kSection:
        out += " {";
        DumpCompact(*e.section(), out);
        out += '}';
        break;
    }
  }
}

void DumpPretty(const Section& section, std::size_t indent, std::string& out) {
  const std::string pad(indent, ' ');
  for (const Element& e : section.elements) {
    out += pad;
    AppendShown(out, e.name);
    switch (e.kind()) {
      case ElementKind::kKeyValue:
        out += " = ";
        AppendShown(out, *e.value());
        out += '\n';
        break;
      case ElementKind::kList:
        out += " = [\n";
        for (const std::string& item : *e.list()) {
          out += pad + "  ";
          AppendShown(out, item);
          out += '\n';
        }
        out += pad + "]\n";
        break;
      case ElementKind::kSection:
        out += " {\n";
        DumpPretty(*e.section(), indent + 2, out);
        out += pad + "}\n";
        break;
    }
  }
}

}  // namespace

Element Element::KeyValue(std::string key, std::string value) {
  return Element{std::move(key), std::move(value)};
}

Element Element::NamedList(std::string name, List items) {
  return Element{std::move(name), std::move(items)};
}

Element Element::SubSection(std::string name, Section section) {
  return Element{std::move(name), std::move(section)};
}

bool Element::operator==(const Element& other) const {
  return name == other.name && body == other.body;
}

bool Section::operator==(const Section& other) const { return elements == other.elements; }

Section& Section::Add(std::string key, std::string value) & {
  elements.push_back(Element::KeyValue(std::move(key), std::move(value)));
  return *this;
}

Section&& Section::Add(std::string key, std::string value) && {
  return std::move(Add(std::move(key), std::move(value)));
}

Section& Section::AddList(std::string name, List items) & {
  elements.push_back(Element::NamedList(std::move(name), std::move(items)));
  return *this;
}

Section&& Section::AddList(std::string name, List items) && {
  return std::move(AddList(std::move(name), std::move(items)));
}

Section& Section::AddSection(std::string name, Section section) & {
  elements.push_back(Element::SubSection(std::move(name), std::move(section)));
  return *this;
}

Section&& Section::AddSection(std::string name, Section section) && {
  return std::move(AddSection(std::move(name), std::move(section)));
}

const std::string* Section::Find(std::string_view path) const {
  const Element* e = WalkPath(*this, path, ElementKind::kKeyValue);
  return e != nullptr ? e->value() : nullptr;
}

const std::string* Section::Find(std::initializer_list<std::string_view> path) const {
  const Element* e = Walk(*this, path, ElementKind::kKeyValue);
  return e != nullptr ? e->value() : nullptr;
}

const List* Section::FindList(std::string_view path) const {
  const Element* e = WalkPath(*this, path, ElementKind::kList);
  return e != nullptr ? e->list() : nullptr;
}

const List* Section::FindList(std::initializer_list<std::string_view> path) const {
  const Element* e = Walk(*this, path, ElementKind::kList);
  return e != nullptr ? e->list() : nullptr;
}

const Section* Section::FindSection(std::string_view path) const {
  const Element* e = WalkPath(*this, path, ElementKind::kSection);
  return e != nullptr ? e->section() : nullptr;
}

const Section* Section::FindSection(std::initializer_list<std::string_view> path) const {
  const Element* e = Walk(*this, path, ElementKind::kSection);
  return e != nullptr ? e->section() : nullptr;
}

std::string Section::ValueOr(std::string_view path, std::string_view fallback) const {
  const std::string* value = Find(path);
  return value != nullptr ? *value : std::string(fallback);
}

std::string Shown(std::string_view text) {
  std::string out;
  AppendShown(out, text);
  return out;
}

std::string Dump(const Section& message, bool pretty) {
  std::string out;
  if (pretty) {
    DumpPretty(message, 0, out);
  } else {
    DumpCompact(message, out);
  }
  return out;
}

}  // namespace minivpn::vici
