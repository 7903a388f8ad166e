#include "xfrm/child_install.h"

namespace minivpn::xfrm {
namespace {

// kernel-reference.md "SAs": tunnel mode, zeroed selector, ESN/replay as charon.
SaSpec CommonSaSpec(const ChildSaKernel& child) {
  SaSpec spec;
  spec.reqid = child.reqid;
  spec.algorithms = child.algorithms;
  spec.lifetime = child.lifetime;
  return spec;
}

}  // namespace

SaSpec InboundSaSpec(const ChildSaKernel& child) {
  SaSpec spec = CommonSaSpec(child);
  spec.id.src = child.remote;
  spec.id.dst = child.local;
  spec.id.spi = child.spi_in;
  // No mark on the inbound SA unless mark_in_sa (kernel-reference.md "Where the marks go").
  spec.id.mark = child.mark_in_sa ? child.mark_in : Mark{};
  spec.inbound = true;
  spec.encr_key = child.encr_key_in.Clone();
  spec.integ_key = child.integ_key_in.Clone();
  spec.replay_window = child.replay_window;
  if (child.encap) spec.encap = UdpEncap{child.encap->dport, child.encap->sport};
  return spec;
}

SaSpec OutboundSaSpec(const ChildSaKernel& child) {
  SaSpec spec = CommonSaSpec(child);
  spec.id.src = child.local;
  spec.id.dst = child.remote;
  spec.id.spi = child.spi_out;
  spec.id.mark = child.mark_out;
  spec.inbound = false;
  spec.encr_key = child.encr_key_out.Clone();
  spec.integ_key = child.integ_key_out.Clone();
  // charon 5.9.8: no replay window outbound, except 1 with ESN (the kernel wants one).
  spec.replay_window = child.algorithms.esn ? 1 : 0;
  spec.encap = child.encap;
  return spec;
}

std::array<PolicySpec, 3> ChildPolicies(const ChildSaKernel& child) {
  PolicySpec in;
  in.id = {child.remote_ts, child.local_ts, PolicyDir::kIn, child.mark_in};
  in.priority = PolicyPriority(child.remote_ts, child.local_ts);
  in.reqid = child.reqid;
  in.tmpl_src = child.remote;
  in.tmpl_dst = child.local;

  PolicySpec fwd = in;
  fwd.id.dir = PolicyDir::kFwd;

  PolicySpec out;
  out.id = {child.local_ts, child.remote_ts, PolicyDir::kOut, child.mark_out};
  out.priority = PolicyPriority(child.local_ts, child.remote_ts);
  out.reqid = child.reqid;
  out.tmpl_src = child.local;
  out.tmpl_dst = child.remote;
  out.tmpl_spi = child.spi_out;  // only the OUT template carries the SPI (charon)
  return {in, fwd, out};
}

std::error_code InstallChildSa(KernelIpsec& kernel, const ChildSaKernel& child) {
  const SaSpec inbound = InboundSaSpec(child);
  if (auto ec = kernel.AddSa(inbound)) {
    kernel.DelSa(inbound.id);  // release the larval SPI
    return ec;
  }
  const SaSpec outbound = OutboundSaSpec(child);
  if (auto ec = kernel.AddSa(outbound)) {
    kernel.DelSa(inbound.id);
    return ec;
  }
  const auto policies = ChildPolicies(child);
  for (std::size_t i = 0; i < policies.size(); ++i) {
    if (auto ec = kernel.AddPolicy(policies[i])) {
      while (i-- > 0) kernel.DelPolicy(policies[i].id);
      kernel.DelSa(outbound.id);
      kernel.DelSa(inbound.id);
      return ec;
    }
  }
  return {};
}

std::error_code RemoveChildSa(KernelIpsec& kernel, const ChildSaKernel& child) {
  std::error_code first;
  const auto keep_first = [&first](std::error_code ec) {
    if (ec && !first) first = ec;
  };
  const auto policies = ChildPolicies(child);
  for (std::size_t i = policies.size(); i-- > 0;) keep_first(kernel.ReleasePolicy(policies[i]));
  keep_first(kernel.DelSa(OutboundSaSpec(child).id));
  keep_first(kernel.DelSa(InboundSaSpec(child).id));
  return first;
}

}  // namespace minivpn::xfrm
