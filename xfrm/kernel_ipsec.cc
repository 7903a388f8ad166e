// Value helpers of kernel_ipsec.h: charon's policy priority, policy reference counting.
#include "xfrm/kernel_ipsec.h"

#include <algorithm>
#include <bit>

namespace minivpn::xfrm {

// kernel-reference.md "Policies": PRIO_BASE = 200000, regular policies start at 2*PRIO_BASE,
// minus 512 per prefix bit of source and destination, 256 if a protocol is set, 4 per port-mask
// bit, 2 if an interface is set, 1 unless it is a trap policy. Selectors here never name an
// interface, so that term is always 0.
PortMatch PortMatchOf(std::uint16_t from, std::uint16_t to) {
  if (from == to) return {from, 0xffff};
  // The leading bits from and to share (charon's ts2ports): 0-65535 shares none = any port.
  std::uint16_t mask = 0;
  for (int bit = 15; bit >= 0; --bit) {
    const auto bitmask = static_cast<std::uint16_t>(1u << bit);
    if ((from & bitmask) != (to & bitmask)) break;
    mask |= bitmask;
  }
  return {static_cast<std::uint16_t>(from & mask), mask};
}

PolicyId PolicyIdOf(const Selector& src, const Selector& dst, PolicyDir dir, const Mark& mark) {
  PolicyId id;
  id.src = src.net;
  id.dst = dst.net;
  id.dir = dir;
  id.mark = mark;
  id.proto = std::max(src.proto, dst.proto);
  id.sport = PortMatchOf(src.from_port, src.to_port);
  id.dport = PortMatchOf(dst.from_port, dst.to_port);
  return id;
}

std::uint32_t PolicyPriority(const PolicyId& id, bool trap) {
  constexpr std::uint32_t kPrioBase = 200000;
  std::uint32_t priority = 2 * kPrioBase;
  priority -= 512u * (static_cast<std::uint32_t>(id.src.prefix) + id.dst.prefix);
  if (id.proto != 0) priority -= 256;
  priority -= 4u * static_cast<std::uint32_t>(std::popcount(id.sport.mask) +
                                             std::popcount(id.dport.mask));
  if (!trap) priority -= 1;
  return priority;
}

std::size_t PolicyRefInsertAt(const std::vector<PolicySpec>& refs, const PolicySpec& spec) {
  std::size_t at = refs.size();
  while (at > 0 && refs[at - 1].priority < spec.priority) --at;
  return at;
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
