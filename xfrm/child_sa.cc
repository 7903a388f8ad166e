#include "xfrm/child_sa.h"

#include <algorithm>
#include <vector>

namespace minivpn::xfrm {

namespace {
void KeepFirst(std::error_code& first, std::error_code ec) {
  if (ec && !first) first = ec;
}
}  // namespace

std::error_code InstallInboundSa(KernelIpsec& kernel, const ChildSaKernel& child) {
  const SaSpec inbound = InboundSaSpec(child);
  if (auto ec = kernel.AddSa(inbound)) {
    kernel.DelSa(inbound.id);  // release the larval state of the allocated SPI
    return ec;
  }
  return {};
}

std::error_code InstallOutboundSa(KernelIpsec& kernel, const ChildSaKernel& child) {
  return kernel.AddSa(OutboundSaSpec(child));
}

std::error_code SwitchOutbound(KernelIpsec& kernel, const ChildSaKernel& old,
                               const ChildSaKernel& next) {
  // The same selectors on both (a rekey keeps them), so the OUT policies pair up in order.
  std::vector<PolicySpec> from, to;
  for (const auto& p : ChildPolicies(old))
    if (p.id.dir == PolicyDir::kOut) from.push_back(p);
  for (const auto& p : ChildPolicies(next))
    if (p.id.dir == PolicyDir::kOut) to.push_back(p);
  const std::size_t n = std::min(from.size(), to.size());
  for (std::size_t i = 0; i < n; ++i) {
    if (auto ec = kernel.ReplacePolicy(from[i], to[i])) {
      while (i-- > 0) (void)kernel.ReplacePolicy(to[i], from[i]);
      return ec;
    }
  }
  return {};
}

std::error_code RemovePolicies(KernelIpsec& kernel, const ChildSaKernel& child) {
  std::error_code first;
  const auto policies = ChildPolicies(child);
  for (std::size_t i = policies.size(); i-- > 0;) KeepFirst(first, kernel.ReleasePolicy(policies[i]));
  return first;
}

std::error_code RemoveSas(KernelIpsec& kernel, const ChildSaKernel& child) {
  std::error_code first;
  KeepFirst(first, kernel.DelSa(OutboundSaSpec(child).id));
  KeepFirst(first, kernel.DelSa(InboundSaSpec(child).id));
  return first;
}

}  // namespace minivpn::xfrm
