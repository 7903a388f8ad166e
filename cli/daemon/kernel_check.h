// `minivpnd --check-kernel`, and the same checks at the daemon's start (issue 17): can this
// kernel run this configuration? Each check tries the real thing on a scratch object and removes
// it again, so a missing module or capability is named before any peer is contacted instead of
// surfacing as a failed CHILD_SA install after IKE_AUTH:
//
//   xfrm netlink    NETLINK_XFRM opens and answers a GETSA (of the scratch SA: "no such SA")
//   esp4 <alg>      per address family and distinct ESP algorithm set of the children: a scratch
//                   outbound SA is added and deleted (esp6 for IPv6 connections)
//   vti, vti6       only when a child has a `vti { }` section (minivpnd creates the VTI): a
//                   scratch VTI is created and deleted ...
//   disable_policy  ... and its net.ipv{4,6}.conf.<name>.disable_policy written
//   udp <port>      charon.port and charon.port_nat_t bind (IPv4 and IPv6, no SO_REUSEADDR);
//                   `--check-kernel` only: the daemon binds them itself right after
//
// A failed line names what fixes it: the module (esp4, xfrm_user, ip_vti, gcm ...), the
// capability (CAP_NET_ADMIN, CAP_NET_BIND_SERVICE), a read-only /proc/sys, or the process that
// holds a port. Scratch objects use documentation addresses (192.0.2.1 -> 192.0.2.2,
// 2001:db8::1 -> 2001:db8::2), an SPI, mark and VTI key derived from the pid (0x6d76xxxx, "mv":
// outside charon's ALLOCSPI range c0000000-cfffffff) and all-zero keys, which are never logged.
// Every scratch object is removed again, also when a later step fails; the scratch SA carries a
// 30 s hard lifetime, so even a check killed between add and delete leaves nothing for long.
//
// What the checks do to the kernel goes through KernelProbe, so that tests can drive every
// failure; SystemKernelProbe() is the real kernel.
#pragma once

#include <cstdint>
#include <iosfwd>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "cli/config/config.h"
#include "vti/vti.h"
#include "xfrm/kernel_ipsec.h"

namespace minivpn::daemon {

// One line of the report.
struct CheckResult {
  std::string name{};  // "xfrm netlink", "esp4", "esp4 aes256gcm16", "vti", "udp 500" ...
  bool ok = false;
  std::string detail{};  // what was tried and what the kernel answered
  std::string fix{};     // failed: the module, capability or setting that fixes it (may be empty)
  bool operator==(const CheckResult&) const = default;
};

// "ok   <name>: <detail>" or "FAIL <name>: <detail> (fix: <fix>)".
std::string FormatCheckLine(const CheckResult& result);
bool AllPassed(const std::vector<CheckResult>& results);

// The process holding a UDP port.
struct PortOwner {
  int pid = 0;
  std::string command{};  // /proc/<pid>/comm
  bool operator==(const PortOwner&) const = default;
};

// What the checks do to the kernel, one call per step. Errors carry the errno as value (the
// xfrm::KernelCategory of the operation, or the generic category).
class KernelProbe {
 public:
  virtual ~KernelProbe() = default;
  virtual std::error_code OpenXfrm() = 0;  // a NETLINK_XFRM request socket
  // GETSA; an absent SA is ESRCH/ENOENT, which shows that requests are allowed.
  virtual std::error_code QuerySa(const xfrm::SaId& id) = 0;
  virtual std::error_code AddSa(const xfrm::SaSpec& spec) = 0;
  virtual std::error_code DelSa(const xfrm::SaId& id) = 0;
  // vti::VtiManager::Create: the link, disable_policy, link up; no link is left when it fails
  // (an error of a step after the link comes in the kVtiChange category).
  virtual std::error_code CreateVti(const vti::VtiConfig& config) = 0;
  virtual std::error_code WriteDisablePolicy(const std::string& name, bool ipv6) = 0;
  // Deletes the link of that name (a VTI or an XFRM interface).
  virtual std::error_code DeleteVti(const std::string& name) = 0;
  // vti::VtiManager::Create of an XFRM interface: the link, link up; none is left on failure.
  virtual std::error_code CreateXfrmInterface(const vti::XfrmInterfaceConfig& config) = 0;
  // Binds UDP `port` on the wildcard address of `family` (IPv6 with IPV6_V6ONLY, as the daemon
  // does), without SO_REUSEADDR, and closes the socket again.
  virtual std::error_code BindUdp(int family, std::uint16_t port) = 0;
  virtual std::optional<PortOwner> UdpPortOwner(std::uint16_t port) = 0;
};

std::unique_ptr<KernelProbe> SystemKernelProbe();

// One ESP algorithm set to try, per address family (AF_INET: esp4, AF_INET6: esp6).
struct EspCheck {
  int family = 0;
  xfrm::EspAlgorithms algorithms{};
  std::string name{};  // the proposal keywords: "aes256gcm16", "aes128-sha256-esn"
  bool operator==(const EspCheck&) const = default;
};

// The distinct algorithm sets of every child's ESP proposals (AEAD alone, else each cipher
// with each integrity algorithm, with and without ESN as proposed), for each address family
// of the connection's addresses (IPv4 when none is known: %any, host names). IPv4 first.
std::vector<EspCheck> EspChecksFor(const config::Config& config);
// The address families of the VTIs minivpnd creates (children with a `vti` section): the
// VTI's own endpoints, else the connection's. Empty when minivpnd owns no VTI.
std::vector<int> VtiFamiliesFor(const config::Config& config);
// Whether minivpnd creates an XFRM interface (a child with an `xfrmi` section).
bool OwnsXfrmInterface(const config::Config& config);

struct KernelCheckOptions {
  bool ports = true;      // the daemon binds its ports itself right after the checks
  std::uint32_t tag = 0;  // makes the scratch SPI, mark, VTI name and key; 0: the pid
};

class KernelCheck {
 public:
  KernelCheck(const config::Config& config, KernelProbe& probe, KernelCheckOptions options = {});
  // Every check in order, one result each (see the top of this file).
  std::vector<CheckResult> Run();

  // The scratch objects' identity (tests look for leftovers with it).
  xfrm::SaId ScratchSa(int family) const;
  std::string ScratchVtiName() const;

 private:
  bool CheckXfrm(std::vector<CheckResult>& out);
  void CheckEsp(int family, const std::vector<EspCheck>& checks, std::vector<CheckResult>& out);
  void CheckVti(int family, std::vector<CheckResult>& out);
  void CheckXfrmInterface(std::vector<CheckResult>& out);
  void CheckPort(std::uint16_t port, std::vector<CheckResult>& out);

  const config::Config& config_;
  KernelProbe& probe_;
  KernelCheckOptions options_;
};

// What a failed step means and what fixes it (errno -> module / capability). Pure functions.
struct Diagnosis {
  std::string detail{};
  std::string fix{};
  bool operator==(const Diagnosis&) const = default;
};
Diagnosis DiagnoseXfrm(int err);
Diagnosis DiagnoseAddSa(int err, int family, const xfrm::EspAlgorithms& algorithms);
Diagnosis DiagnoseVti(int err, bool ipv6, std::string_view name);
Diagnosis DiagnoseXfrmInterface(int err, std::string_view name);
Diagnosis DiagnoseDisablePolicy(int err, bool ipv6, std::string_view name);
Diagnosis DiagnoseBind(int err, std::uint16_t port, const std::optional<PortOwner>& owner);

// The kernel's crypto API names minivpnd sends for an algorithm set (xfrm/netlink_messages.cc),
// the transform esp4/esp6 builds from them ("seqiv(rfc4106(gcm(aes)))",
// "echainiv(authenc(hmac(sha256),cbc(aes)))"), and the modules that provide them (Debian's
// module names; AES itself is built in there, else aes_generic or aesni_intel).
struct AlgorithmSupport {
  std::string kernel_names{};  // "rfc4106(gcm(aes))", "cbc(aes) + hmac(sha256)"
  std::string esp_transform{};
  std::vector<std::string> modules{};
  bool needs_aes = false;
};
AlgorithmSupport SupportFor(const xfrm::EspAlgorithms& algorithms);

// The socket inodes bound to local UDP `port` in one /proc/net/udp or /proc/net/udp6 table.
std::vector<std::uint64_t> UdpSocketInodes(std::string_view table, std::uint16_t port);
// The process holding UDP `port` (IPv4 or IPv6, any local address) in this network namespace,
// from <proc>/net/udp{,6} and <proc>/<pid>/fd; nullopt if none is visible (other users'
// processes are visible to root only).
std::optional<PortOwner> FindUdpPortOwner(std::uint16_t port, const std::string& proc = "/proc");

// `minivpnd --check-kernel`: loads the configuration (its diagnostics go to `err`), runs every
// check with `probe`, prints one line per check and a summary to `out`. 0 if all passed, else 1.
int RunCheckKernel(const config::ConfigPaths& paths, KernelProbe& probe, std::ostream& out,
                   std::ostream& err);
// The daemon's start: every check but the ports, on the real kernel; the failed lines
// (FormatCheckLine), empty if all passed.
std::vector<std::string> CheckKernelAtStart(const config::Config& config);

}  // namespace minivpn::daemon
