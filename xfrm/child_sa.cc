#include "xfrm/child_sa.h"

#include <algorithm>
#include <optional>
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

namespace {
SaMove MoveOf(const SaSpec& spec) {
  return SaMove{.src = spec.id.src, .dst = spec.id.dst, .encap = spec.encap};
}

// Each policy of `from` whose direction `only` names (all without it) becomes the same one of
// `to` (the same selectors, so they pair up in order); all or nothing.
std::error_code ReplacePolicies(KernelIpsec& kernel, const std::vector<PolicySpec>& from,
                                const std::vector<PolicySpec>& to, std::optional<PolicyDir> only) {
  const std::size_t n = std::min(from.size(), to.size());
  for (std::size_t i = 0; i < n; ++i) {
    if (only && from[i].id.dir != *only) continue;
    if (auto ec = kernel.ReplacePolicy(from[i], to[i])) {
      while (i-- > 0)
        if (!only || from[i].id.dir == *only) (void)kernel.ReplacePolicy(to[i], from[i]);
      return ec;
    }
  }
  return {};
}
}  // namespace

std::error_code SwitchOutbound(KernelIpsec& kernel, const ChildSaKernel& old,
                               const ChildSaKernel& next) {
  return ReplacePolicies(kernel, ChildPolicies(old), ChildPolicies(next), PolicyDir::kOut);
}

std::error_code MoveChildSa(KernelIpsec& kernel, ChildSaKernel& child, const IpAddress& local,
                            const IpAddress& remote, const std::optional<UdpEncap>& encap,
                            bool policies) {
  const SaSpec in_old = InboundSaSpec(child), out_old = OutboundSaSpec(child);
  const auto policies_old = ChildPolicies(child);
  const IpAddress old_local = child.local, old_remote = child.remote;
  const std::optional<UdpEncap> old_encap = child.encap;
  child.local = local;
  child.remote = remote;
  child.encap = encap;
  const SaSpec in_next = InboundSaSpec(child), out_next = OutboundSaSpec(child);
  std::error_code ec = kernel.UpdateSa(in_old.id, MoveOf(in_next));
  if (!ec) {
    ec = kernel.UpdateSa(out_old.id, MoveOf(out_next));
    const bool templates = old_local != local || old_remote != remote;
    if (!ec && policies && templates &&
        (ec = ReplacePolicies(kernel, policies_old, ChildPolicies(child), std::nullopt)))
      (void)kernel.UpdateSa(out_next.id, MoveOf(out_old));
    if (ec) (void)kernel.UpdateSa(in_next.id, MoveOf(in_old));
  }
  if (ec) {
    child.local = old_local;
    child.remote = old_remote;
    child.encap = old_encap;
  }
  return ec;
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
