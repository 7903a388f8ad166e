// Value helpers of kernel_ipsec.h: charon's policy priority, policy reference counting.
#include "xfrm/kernel_ipsec.h"

namespace minivpn::xfrm {

// kernel-reference.md "Policies": PRIO_BASE = 200000, regular policies start at 2*PRIO_BASE,
// minus 512 per prefix bit of source and destination, 256 if a protocol is set, 4 per port-mask
// bit, 2 if an interface is set, 1 unless it is a trap policy. Selectors here carry neither a
// protocol, ports nor an interface, so only the prefix and trap terms apply.
std::uint32_t PolicyPriority(const Subnet& src, const Subnet& dst, bool trap) {
  constexpr std::uint32_t kPrioBase = 200000;
  std::uint32_t priority = 2 * kPrioBase;
  priority -= 512u * (static_cast<std::uint32_t>(src.prefix) + dst.prefix);
  if (!trap) priority -= 1;
  return priority;
}

std::size_t PolicyRefToDrop(const std::vector<PolicySpec>& refs, const PolicySpec* spec) {
  if (spec != nullptr) {
    for (std::size_t i = refs.size(); i-- > 0;)
      if (refs[i] == *spec) return i;
  }
  return refs.size() - 1;
}

std::optional<PolicySpec> PolicyAfterDrop(const std::vector<PolicySpec>& refs, std::size_t index) {
  if (refs.size() < 2 || index + 1 != refs.size()) return std::nullopt;
  const PolicySpec& below = refs[index - 1];
  if (below == refs[index]) return std::nullopt;
  return below;
}

}  // namespace minivpn::xfrm
