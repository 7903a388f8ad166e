// The XFRM mark {value, mask} that ties a CHILD_SA's policies (and SAs) to a VTI: the VTI's key
// is the mark's value (see vti_rules.h). One type from config to netlink.
#pragma once

#include <cstdint>

namespace minivpn::base {

struct Mark {
  std::uint32_t value = 0;
  std::uint32_t mask = 0;  // 0 = no mark: the kernel object carries none

  // Both halves always: a one-argument Mark{12} would silently be {12, 0} = no mark.
  constexpr Mark() = default;
  constexpr Mark(std::uint32_t value_in, std::uint32_t mask_in) : value(value_in), mask(mask_in) {}

  // No mark. The only spelling of it: Mark{} and Mark::None() are the same value.
  static constexpr Mark None() { return {}; }
  // What charon makes of "mark_in = 12": the value with the full mask.
  static constexpr Mark Exact(std::uint32_t v) { return {v, 0xffffffff}; }

  // charon's %unique and %unique-dir (MARK_UNIQUE, MARK_UNIQUE_DIR): each CHILD_SA gets a value of
  // its own when it is made (with -dir, one per direction); a rekey keeps it. As in charon, the
  // literal values are these two and mean the same.
  static constexpr std::uint32_t kUnique = 0xffffffff;
  static constexpr std::uint32_t kUniqueDir = 0xfffffffe;

  constexpr bool is_set() const { return mask != 0; }
  constexpr bool is_unique() const {
    return is_set() && (value == kUnique || value == kUniqueDir);
  }
  bool operator==(const Mark&) const = default;
  auto operator<=>(const Mark&) const = default;
};

}  // namespace minivpn::base
