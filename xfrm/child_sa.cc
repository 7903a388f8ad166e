#include "xfrm/child_sa.h"

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

std::error_code InstallPolicies(KernelIpsec& kernel, const ChildSaKernel& child) {
  const auto policies = ChildPolicies(child);
  for (std::size_t i = 0; i < policies.size(); ++i) {
    if (auto ec = kernel.AddPolicy(policies[i])) {
      while (i-- > 0) kernel.DelPolicy(policies[i].id);
      return ec;
    }
  }
  return {};
}

std::error_code SwitchOutbound(KernelIpsec& kernel, const ChildSaKernel& old,
                               const ChildSaKernel& next) {
  return kernel.ReplacePolicy(ChildPolicies(old)[2], ChildPolicies(next)[2]);
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
