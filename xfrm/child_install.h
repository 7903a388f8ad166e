// The kernel side of one tunnel-mode CHILD_SA as charon 5.9.8 programs it
// (kernel-reference.md): inbound SA (UPDSA of an allocated SPI), outbound SA (NEWSA), then the
// IN, FWD and OUT policies, with charon's marks, priorities, templates and replay windows.
// InstallChildSa is all-or-nothing: when a step fails, the steps before it are undone in
// reverse order and the kernel is as it was before the call (bad-inputs.md N).
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <system_error>
#include <vector>

#include "crypto/secret.h"
#include "xfrm/kernel_ipsec.h"

namespace minivpn::xfrm {

struct ChildSaKernel {
  IpAddress local;  // our tunnel endpoint (outer addresses)
  IpAddress remote;
  // Traffic selectors (route-based: 0.0.0.0/0 both). Policies go to every pair of one family.
  std::vector<Selector> local_ts;
  std::vector<Selector> remote_ts;
  bool transport = false;  // transport mode: no FWD policy, templates without addresses
  std::uint32_t spi_in = 0;   // host order; from AllocSpi(remote, local, reqid)
  std::uint32_t spi_out = 0;  // the peer's inbound SPI
  std::uint32_t reqid = 0;
  Mark mark_in;             // IN/FWD policies (and the inbound SA if mark_in_sa)
  Mark mark_out;            // OUT policy and outbound SA; = the VTI key when route-based
  bool mark_in_sa = false;  // charon's mark_in_sa option
  // XFRM interface ids (charon's if_id_in/if_id_out): the inbound SA and IN/FWD policies carry
  // if_id_in, the outbound SA and OUT policies if_id_out; 0 = none.
  std::uint32_t if_id_in = 0;
  std::uint32_t if_id_out = 0;
  EspAlgorithms algorithms;
  SecretBytes encr_key_in;  // KEYMAT for the inbound SA (includes the salt for AEAD)
  SecretBytes integ_key_in;
  SecretBytes encr_key_out;
  SecretBytes integ_key_out;
  std::uint32_t replay_window = 32;  // inbound; outbound uses 0 (1 with ESN), as charon
  Lifetime lifetime;                 // soft = rekey - jitter, hard = life (the caller draws jitter)
  std::optional<UdpEncap> encap;     // NAT-T: sport = our port, dport = the peer's
};

SaSpec InboundSaSpec(const ChildSaKernel& child);
SaSpec OutboundSaSpec(const ChildSaKernel& child);
// For each pair of selectors of one family (local first, then remote, in config order): IN, FWD
// (tunnel mode only), OUT, charon's install order.
std::vector<PolicySpec> ChildPolicies(const ChildSaKernel& child);

// Installs the inbound SA, the outbound SA and the IN, FWD, OUT policies; on failure undoes
// what it installed and returns the failing step's error. The rollback deletes the inbound SA
// by its SPI, which also releases the larval SA of the allocated SPI (as charon does when a
// CHILD_SA fails): afterwards the kernel holds none of this child's state.
std::error_code InstallChildSa(KernelIpsec& kernel, const ChildSaKernel& child);
// The policies of ChildPolicies (reference counted by the kernel layer; the OUT templates get
// child.spi_out); all or nothing.
std::error_code InstallPolicies(KernelIpsec& kernel, const ChildSaKernel& child);

// Removes the policies (OUT, FWD, IN; shared ones only lose a reference) and both SAs. Goes on
// after a failure and returns the first error.
std::error_code RemoveChildSa(KernelIpsec& kernel, const ChildSaKernel& child);

}  // namespace minivpn::xfrm
