// The rules a route-based tunnel's names and numbers follow, written once: the config loader
// checks them (with file:line), vti/ and the daemon rely on them.
#pragma once

#include <cstdint>
#include <string_view>

#include "base/mark.h"

namespace minivpn::base {

// A Linux interface name: 1-15 bytes (IFNAMSIZ - 1), not "." or "..", no '/', ':', blanks
// or control characters (the kernel's dev_valid_name, plus ':' which aliases use).
bool IsValidInterfaceName(std::string_view name);

// A VTI steers by key: the kernel marks what leaves through `ip tunnel ... mode vti key K`
// with K, so the CHILD_SA's policies must carry exactly the mark K/0xffffffff (and the SA's
// inbound mark, with mark_in_sa). The VTI key and the mark are one value.
constexpr Mark VtiMark(std::uint32_t key) { return Mark::Exact(key); }
constexpr bool MarkFitsVti(const Mark& mark, std::uint32_t key) { return mark == VtiMark(key); }

}  // namespace minivpn::base
