// XFRM interface ids (charon's if_id_in/if_id_out): the number an `ip link add ... type xfrm
// if_id N` device shares with the SAs and policies it routes into; 0 = none.
#pragma once

#include <cstdint>

namespace minivpn::base {

// charon's %unique and %unique-dir (IF_ID_UNIQUE, IF_ID_UNIQUE_DIR): each IKE SA (for a
// connection's ids) or CHILD_SA (for a child's) gets an id of its own when it is made, one per
// direction with -dir; a rekey keeps it. As in charon, the literal values are these two.
inline constexpr std::uint32_t kIfIdUnique = 0xffffffff;
inline constexpr std::uint32_t kIfIdUniqueDir = 0xfffffffe;

constexpr bool IsUniqueIfId(std::uint32_t id) {
  return id == kIfIdUnique || id == kIfIdUniqueDir;
}

}  // namespace minivpn::base
