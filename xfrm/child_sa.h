// The steps of a CHILD_SA's kernel life that a rekey needs one at a time (make-before-break,
// kernel-reference.md), on top of the all-or-nothing InstallChildSa/RemoveChildSa of
// child_install.h. A CHILD rekey as charon does it:
//   1. InstallInboundSa(new)  right after the CREATE_CHILD_SA exchange, both roles: the peer may
//                             send on the new SA as soon as it has the response.
//   2. InstallOutboundSa(new) right after the exchange too (charon's responder waits for the
//                             DELETE; minivpn does not, see kernel-reference.md: the OUT
//                             template's SPI keeps the kernel on the old SA).
//      SwitchOutbound(new):   the OUT policy's template moves to the new outbound SPI — the
//                             initiator right after the exchange, the responder when the
//                             DELETE of the old SA arrives.
//   3. RemoveSas(old). Policies stay (shared by reqid, selectors and marks).
#pragma once

#include <system_error>

#include "xfrm/child_install.h"

namespace minivpn::xfrm {

using ChildSaParams = ChildSaKernel;

// Each of these either succeeds or leaves the kernel as it was.
std::error_code InstallInboundSa(KernelIpsec& kernel, const ChildSaKernel& child);
std::error_code InstallOutboundSa(KernelIpsec& kernel, const ChildSaKernel& child);
// (InstallPolicies: child_install.h.)
// UPDPOLICY of each OUT policy with next.spi_out in its template: `old`'s reference to it
// becomes `next`'s (KernelIpsec::ReplacePolicy).
std::error_code SwitchOutbound(KernelIpsec& kernel, const ChildSaKernel& old,
                               const ChildSaKernel& next);
// The CHILD_SA's outer endpoints moved (charon's child_sa update after a NAT mapping change):
// both SAs go to the new addresses and encapsulation (KernelIpsec::UpdateSa) and, with
// `policies` (the CHILD_SA holds them) and new addresses, the policies get templates naming
// them; `child` then says so. On failure nothing has changed.
std::error_code MoveChildSa(KernelIpsec& kernel, ChildSaKernel& child, const IpAddress& local,
                            const IpAddress& remote, const std::optional<UdpEncap>& encap,
                            bool policies);
// Drop one reference of each policy (OUT, FWD, IN); carries on past failures, first error wins.
std::error_code RemovePolicies(KernelIpsec& kernel, const ChildSaKernel& child);
// Delete the outbound then the inbound SA; carries on past failures, first error wins.
std::error_code RemoveSas(KernelIpsec& kernel, const ChildSaKernel& child);

}  // namespace minivpn::xfrm
