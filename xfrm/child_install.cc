#include "xfrm/child_install.h"

namespace minivpn::xfrm {
namespace {

// kernel-reference.md "SAs": tunnel mode with a zeroed selector, or transport mode with the
// first selector pair's addresses; ESN/replay as charon.
SaSpec CommonSaSpec(const ChildSaKernel& child, bool inbound) {
  SaSpec spec;
  spec.reqid = child.reqid;
  spec.algorithms = child.algorithms;
  spec.lifetime = child.lifetime;
  spec.transport = child.transport;
  if (child.transport && !child.local_ts.empty() && !child.remote_ts.empty()) {
    const Subnet& local = child.local_ts.front().net;
    const Subnet& remote = child.remote_ts.front().net;
    spec.selector_src = inbound ? remote : local;
    spec.selector_dst = inbound ? local : remote;
  }
  return spec;
}

}  // namespace

SaSpec InboundSaSpec(const ChildSaKernel& child) {
  SaSpec spec = CommonSaSpec(child, true);
  spec.id.src = child.remote;
  spec.id.dst = child.local;
  spec.id.spi = child.spi_in;
  spec.if_id = child.if_id_in;
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
  SaSpec spec = CommonSaSpec(child, false);
  spec.id.src = child.local;
  spec.id.dst = child.remote;
  spec.id.spi = child.spi_out;
  spec.if_id = child.if_id_out;
  spec.id.mark = child.mark_out;
  spec.inbound = false;
  spec.encr_key = child.encr_key_out.Clone();
  spec.integ_key = child.integ_key_out.Clone();
  // charon 5.9.8: no replay window outbound, except 1 with ESN (the kernel wants one).
  spec.replay_window = child.algorithms.esn ? 1 : 0;
  spec.encap = child.encap;
  return spec;
}

std::vector<PolicySpec> ChildPolicies(const ChildSaKernel& child) {
  std::vector<PolicySpec> policies;
  for (const Selector& local : child.local_ts) {
    for (const Selector& remote : child.remote_ts) {
      if (!base::SelectorsPair(local, remote)) continue;
      PolicySpec in;
      in.id = PolicyIdOf(remote, local, PolicyDir::kIn, child.mark_in);
      in.id.if_id = child.if_id_in;
      in.priority = PolicyPriority(in.id);
      in.reqid = child.reqid;
      in.tmpl_src = child.remote;
      in.tmpl_dst = child.local;
      in.transport = child.transport;
      policies.push_back(in);
      if (!child.transport) {  // charon installs no FWD policy in transport mode
        PolicySpec fwd = in;
        fwd.id.dir = PolicyDir::kFwd;
        policies.push_back(fwd);
      }
      PolicySpec out;
      out.id = PolicyIdOf(local, remote, PolicyDir::kOut, child.mark_out);
      out.id.if_id = child.if_id_out;
      out.priority = PolicyPriority(out.id);
      out.reqid = child.reqid;
      out.tmpl_src = child.local;
      out.tmpl_dst = child.remote;
      out.tmpl_spi = child.spi_out;  // only the OUT template carries the SPI (charon)
      out.transport = child.transport;
      policies.push_back(out);
    }
  }
  return policies;
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
  if (auto ec = InstallPolicies(kernel, child)) {
    kernel.DelSa(outbound.id);
    kernel.DelSa(inbound.id);
    return ec;
  }
  return {};
}

std::error_code InstallPolicies(KernelIpsec& kernel, const ChildSaKernel& child) {
  const auto policies = ChildPolicies(child);
  for (std::size_t i = 0; i < policies.size(); ++i) {
    if (auto ec = kernel.AddPolicy(policies[i])) {
      while (i-- > 0) kernel.ReleasePolicy(policies[i]);
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
