#include "cli/daemon/kernel_check.h"

#include <dirent.h>
#include <fmt/core.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <fstream>
#include <ostream>
#include <sstream>

#include "cli/config/proposal.h"
#include "xfrm/errors.h"
#include "xfrm/netlink_kernel.h"
#include "xfrm/netlink_messages.h"

namespace minivpn::daemon {
namespace {

using crypto::EncrId;
using crypto::IntegId;

// "mv": the scratch SPI, mark value and VTI key are 0x6d76xxxx (xxxx from the pid), outside
// charon's ALLOCSPI range c0000000-cfffffff, so a scratch SA never collides with a CHILD_SA's.
constexpr std::uint32_t kScratchBase = 0x6d760000;
constexpr std::uint32_t kScratchMark = 0x6d76636b;  // "mvck"
// A scratch SA left behind by a killed check expires by itself after this long.
constexpr std::uint64_t kScratchLifetimeSeconds = 30;
constexpr const char* kCapNetAdmin =
    "capability CAP_NET_ADMIN (run as root, or AmbientCapabilities=CAP_NET_ADMIN in the unit)";

// "Protocol not supported (EPROTONOSUPPORT)".
std::string ErrnoText(int err) {
  const char* name = strerrorname_np(err);
  return fmt::format("{} ({})", std::strerror(err),
                     name != nullptr ? std::string(name) : fmt::format("errno {}", err));
}

bool IsPermission(int err) { return err == EPERM || err == EACCES; }

const char* EspModule(int family) { return family == AF_INET6 ? "esp6" : "esp4"; }

base::IpAddress ScratchAddress(int family, int host) {
  const std::string text = family == AF_INET6 ? fmt::format("2001:db8::{}", host)
                                              : fmt::format("192.0.2.{}", host);
  return *base::IpAddress::Parse(text);
}

// "modprobe gcm ghash_generic seqiv" with the module list in words around it.
std::string ModulesFix(const AlgorithmSupport& support) {
  std::string list;
  for (const auto& m : support.modules) list += (list.empty() ? "" : " ") + m;
  std::string names;
  for (const auto& m : support.modules) names += (names.empty() ? "" : ", ") + m;
  std::string fix = fmt::format("module{} {}: modprobe {}", support.modules.size() == 1 ? "" : "s",
                                names, list);
  if (support.needs_aes) fix += " (AES too, where it is not built in: aes_generic or aesni_intel)";
  return fix;
}

std::string HashModule(IntegId integ) {
  switch (integ) {
    case IntegId::kHmacMd5_96:
      return "md5";
    case IntegId::kHmacSha1_96:
      return "sha1_generic";
    case IntegId::kHmacSha2_256_128:
      return "sha256_generic";
    case IntegId::kHmacSha2_384_192:
    case IntegId::kHmacSha2_512_256:
      return "sha512_generic";
    case IntegId::kNone:
      break;
  }
  return "";
}

// The address families a connection's addresses name; IPv4 when none does (%any, host names).
std::vector<int> FamiliesOf(const config::ConnectionConfig& conn) {
  std::vector<int> families;
  const auto add = [&families](int family) {
    if (family != 0 && std::find(families.begin(), families.end(), family) == families.end()) {
      families.push_back(family);
    }
  };
  for (const auto* hosts : {&conn.remote_addrs, &conn.local_addrs}) {
    for (const auto& host : *hosts) {
      if (host.kind == config::Host::Kind::kAddress || host.kind == config::Host::Kind::kSubnet) {
        add(host.subnet.address.family);
      } else if (host.kind == config::Host::Kind::kAny) {
        add(host.any_family);
      }
    }
  }
  if (families.empty()) families.push_back(AF_INET);
  std::sort(families.begin(), families.end());  // AF_INET (2) before AF_INET6 (10)
  return families;
}

std::string Summary(const xfrm::SaId& id) {
  return fmt::format("spi 0x{:08x}, {} -> {}, mark 0x{:08x}", id.spi, id.src.ToString(),
                     id.dst.ToString(), id.mark.value);
}

}  // namespace

std::string FormatCheckLine(const CheckResult& r) {
  if (r.ok) return fmt::format("ok   {}: {}", r.name, r.detail);
  std::string line = fmt::format("FAIL {}: {}", r.name, r.detail);
  if (!r.fix.empty()) line += fmt::format(" (fix: {})", r.fix);
  return line;
}

bool AllPassed(const std::vector<CheckResult>& results) {
  return std::all_of(results.begin(), results.end(), [](const CheckResult& r) { return r.ok; });
}

// ---- what fixes what ----------------------------------------------------------------------------

AlgorithmSupport SupportFor(const xfrm::EspAlgorithms& a) {
  AlgorithmSupport s;
  const auto mapped = xfrm::MapAlgorithms(a);
  const std::string encr = mapped ? mapped->encr_name : std::string(crypto::Name(a.encr));
  const std::string auth = mapped ? mapped->auth_name : std::string(crypto::Name(a.integ));
  // esp4/esp6 wrap the algorithm in its IV generator (the kernel's xfrm_algo table: seqiv for
  // GCM, ChaCha20-Poly1305 and CTR, echainiv for CBC) and CBC/CTR with their HMAC in authenc
  // (authencesn with ESN). Both IV generators take their salt from the default RNG ("stdrng"):
  // drbg, a module in Debian's kernels that is otherwise loaded on demand (measured in the lab:
  // with on-demand loading blocked, esp4 answers ENOENT until drbg is loaded). GCM is built on
  // ctr(aes) and ghash.
  const std::string authenc = a.esn ? "authencesn" : "authenc";
  switch (a.encr) {
    case EncrId::kAesGcm8:
    case EncrId::kAesGcm12:
    case EncrId::kAesGcm16:
      s.kernel_names = encr;
      s.esp_transform = "seqiv(" + encr + ")";
      s.modules = {"gcm", "ctr", "ghash_generic", "seqiv", "drbg"};
      s.needs_aes = true;
      return s;
    case EncrId::kChaCha20Poly1305:
      s.kernel_names = encr;
      s.esp_transform = "seqiv(" + encr + ")";
      s.modules = {"chacha20poly1305", "chacha_generic", "poly1305_generic", "seqiv", "drbg"};
      return s;
    case EncrId::kAesCcm8:
    case EncrId::kAesCcm12:
    case EncrId::kAesCcm16:
      // CCM is CTR mode and a CBC-MAC (both in the module ccm) over AES.
      s.kernel_names = encr;
      s.esp_transform = "seqiv(" + encr + ")";
      s.modules = {"ccm", "ctr", "seqiv", "drbg"};
      s.needs_aes = true;
      return s;
    case EncrId::kAesCtr:
      s.kernel_names = encr + " + " + auth;
      s.esp_transform = fmt::format("seqiv({}({},{}))", authenc, auth, encr);
      s.modules = {"ctr", authenc, "hmac", HashModule(a.integ), "seqiv", "drbg"};
      s.needs_aes = true;
      std::erase(s.modules, std::string());
      return s;
    case EncrId::k3Des:
    case EncrId::kAesCbc:
      break;
  }
  const bool des = a.encr == EncrId::k3Des;
  s.kernel_names = encr + " + " + auth;
  s.esp_transform = fmt::format("echainiv({}({},{}))", authenc, auth, encr);
  s.modules = {"cbc", authenc, "hmac", HashModule(a.integ), "echainiv", "drbg"};
  if (des) s.modules.insert(s.modules.begin() + 1, "des_generic");  // cbc(des3_ede)
  s.needs_aes = !des;
  std::erase(s.modules, std::string());  // no hash module without an integrity algorithm
  return s;
}

Diagnosis DiagnoseXfrm(int err) {
  if (err == EPROTONOSUPPORT) {
    return {"the kernel has no xfrm netlink (NETLINK_XFRM): " + ErrnoText(err),
            "module xfrm_user (CONFIG_XFRM_USER): modprobe xfrm_user"};
  }
  if (IsPermission(err)) return {"xfrm requests refused: " + ErrnoText(err), kCapNetAdmin};
  return {"NETLINK_XFRM: " + ErrnoText(err), ""};
}

Diagnosis DiagnoseAddSa(int err, int family, const xfrm::EspAlgorithms& algorithms) {
  const AlgorithmSupport s = SupportFor(algorithms);
  const char* esp = EspModule(family);
  if (err == EPROTONOSUPPORT) {
    // xfrm found the algorithm (it checks that first, ENOSYS) but no ESP type for the family.
    return {fmt::format("the kernel has no ESP for {}: {}", family == AF_INET6 ? "IPv6" : "IPv4",
                        ErrnoText(err)),
            fmt::format("module {} ({}): modprobe {}", esp,
                        family == AF_INET6 ? "CONFIG_INET6_ESP" : "CONFIG_INET_ESP", esp)};
  }
  if (err == ENOSYS) {
    // xfrm_user looks the algorithm up in the crypto API before anything else.
    return {fmt::format("the kernel's crypto API has no {}: {}", s.kernel_names, ErrnoText(err)),
            ModulesFix(s)};
  }
  if (err == ENOENT || err == ENOPKG) {
    // The algorithm exists, but esp4/esp6 could not build its transform.
    return {fmt::format("the kernel cannot build {} for ESP: {}", s.esp_transform, ErrnoText(err)),
            ModulesFix(s)};
  }
  if (IsPermission(err)) return {"adding an SA was refused: " + ErrnoText(err), kCapNetAdmin};
  if (err == EINVAL) {
    return {fmt::format("the kernel refused the SA's parameters ({}): {}", s.kernel_names,
                        ErrnoText(err)),
            ""};
  }
  return {fmt::format("adding an SA ({}): {}", s.kernel_names, ErrnoText(err)), ""};
}

// A link that could not be created. `kind` says what the kernel lacks when it knows no such link
// kind (EOPNOTSUPP/ENODEV), `module` how to get it, `same` what else an EEXIST may mean.
static Diagnosis DiagnoseLinkCreate(int err, std::string_view name, std::string_view kind,
                                    std::string_view module, std::string_view same) {
  // rtnetlink knows no such link kind (and could not load it).
  if (err == EOPNOTSUPP || err == ENODEV)
    return {fmt::format("the kernel has no {}: {}", kind, ErrnoText(err)), std::string(module)};
  if (IsPermission(err)) return {"creating a link was refused: " + ErrnoText(err), kCapNetAdmin};
  if (err == EEXIST) {
    return {fmt::format("{} (or {}) exists already: {}", name, same, ErrnoText(err)),
            fmt::format("ip link del {} (a leftover of a check that was killed)", name)};
  }
  return {fmt::format("creating {}: {}", name, ErrnoText(err)), ""};
}

Diagnosis DiagnoseVti(int err, bool ipv6, std::string_view name) {
  return DiagnoseLinkCreate(err, name, ipv6 ? "vti6 links" : "vti links",
                            ipv6 ? "module ip6_vti (CONFIG_IPV6_VTI): modprobe ip6_vti"
                                 : "module ip_vti (CONFIG_NET_IPVTI): modprobe ip_vti",
                            "a VTI with its endpoints and key");
}

Diagnosis DiagnoseXfrmInterface(int err, std::string_view name) {
  return DiagnoseLinkCreate(
      err, name, "XFRM interfaces",
      "module xfrm_interface (CONFIG_XFRM_INTERFACE): modprobe xfrm_interface",
      "an XFRM interface with its if_id");
}

Diagnosis DiagnoseDisablePolicy(int err, bool ipv6, std::string_view name) {
  const std::string path = vti::DisablePolicyPath(name, ipv6);
  if (err == EROFS) {
    return {fmt::format("cannot write {}: /proc/sys is read-only here: {}", path, ErrnoText(err)),
            "a writable /proc/sys (containers: --privileged or a read-write /proc/sys mount; "
            "systemd: no ProtectKernelTunables=)"};
  }
  if (IsPermission(err)) {
    return {fmt::format("cannot write {}: {}", path, ErrnoText(err)),
            "root (net sysctls are root's; " + std::string(kCapNetAdmin) + ")"};
  }
  if (err == ENOENT) {
    return {fmt::format("{} does not exist: {}", path, ErrnoText(err)),
            ipv6 ? "IPv6 in the kernel (module ipv6, not disabled with ipv6.disable=1) and /proc "
                   "mounted"
                 : "/proc mounted (procfs)"};
  }
  return {fmt::format("writing {}: {}", path, ErrnoText(err)), ""};
}

Diagnosis DiagnoseBind(int err, std::uint16_t port, const std::optional<PortOwner>& owner) {
  if (err == EADDRINUSE) {
    if (!owner) {
      return {fmt::format("UDP {} is in use (by a process this user cannot see: run as root to "
                          "name it)",
                          port),
              "free the port, or move minivpnd to other ports (charon.port / charon.port_nat_t "
              "in strongswan.conf)"};
    }
    std::string detail =
        fmt::format("UDP {} is in use by {} (pid {})", port, owner->command, owner->pid);
    if (owner->command == "minivpnd") {
      return {detail, fmt::format("minivpnd is already running (pid {}): expected when "
                                  "--check-kernel runs beside it",
                                  owner->pid)};
    }
    if (owner->command.starts_with("charon")) {
      return {detail,
              "stop charon first (systemctl stop strongswan): two IKE daemons cannot share a "
              "kernel's IPsec state"};
    }
    return {detail, fmt::format("stop {} (pid {}), or move minivpnd to other ports (charon.port "
                                "/ charon.port_nat_t in strongswan.conf)",
                                owner->command, owner->pid)};
  }
  if (IsPermission(err)) {
    return {fmt::format("binding UDP {} was refused: {}", port, ErrnoText(err)),
            "capability CAP_NET_BIND_SERVICE (ports below 1024; run as root, or "
            "AmbientCapabilities=CAP_NET_BIND_SERVICE in the unit)"};
  }
  return {fmt::format("binding UDP {}: {}", port, ErrnoText(err)), ""};
}

// ---- what to check ------------------------------------------------------------------------------

std::vector<EspCheck> EspChecksFor(const config::Config& config) {
  std::vector<EspCheck> checks;
  for (const int family : {AF_INET, AF_INET6}) {
    for (const auto& conn : config.connections) {
      const auto families = FamiliesOf(conn);
      if (std::find(families.begin(), families.end(), family) == families.end()) continue;
      for (const auto& child : conn.children) {
        for (const auto& p : child.esp_proposals) {
          for (const auto& encr : p.encr) {
            const bool aead = crypto::IsAead(encr.id);
            std::vector<IntegId> integs = p.integ;
            if (aead) integs = {IntegId::kNone};
            for (const IntegId integ : integs) {
              for (const config::Esn esn : p.esn) {
                EspCheck check;
                check.family = family;
                check.algorithms = {encr.id, encr.key_bits, integ, esn == config::Esn::kEsn};
                const bool seen = std::any_of(checks.begin(), checks.end(), [&](const auto& c) {
                  return c.family == family && c.algorithms == check.algorithms;
                });
                if (seen) continue;
                config::EspProposal one;
                one.encr = {encr};
                if (!aead) one.integ = {integ};
                one.esn = {esn};
                check.name = config::ToString(one);
                checks.push_back(std::move(check));
              }
            }
          }
        }
      }
    }
  }
  return checks;
}

std::vector<int> VtiFamiliesFor(const config::Config& config) {
  std::vector<int> families;
  for (const auto& conn : config.connections) {
    for (const auto& child : conn.children) {
      if (!child.vti) continue;
      std::vector<int> of_child;
      if (child.vti->local) {
        of_child.push_back(child.vti->local->family);
      } else if (child.vti->remote) {
        of_child.push_back(child.vti->remote->family);
      } else {
        of_child = FamiliesOf(conn);
      }
      for (int f : of_child) {
        if (std::find(families.begin(), families.end(), f) == families.end()) families.push_back(f);
      }
    }
  }
  std::sort(families.begin(), families.end());
  return families;
}

bool OwnsXfrmInterface(const config::Config& config) {
  return std::any_of(config.connections.begin(), config.connections.end(), [](const auto& conn) {
    return std::any_of(conn.children.begin(), conn.children.end(),
                       [](const config::ChildConfig& child) { return child.xfrmi.has_value(); });
  });
}

// ---- the checks ---------------------------------------------------------------------------------

KernelCheck::KernelCheck(const config::Config& config, KernelProbe& probe,
                         KernelCheckOptions options)
    : config_(config), probe_(probe), options_(options) {
  if (options_.tag == 0) options_.tag = static_cast<std::uint32_t>(::getpid());
}

xfrm::SaId KernelCheck::ScratchSa(int family) const {
  xfrm::SaId id;
  id.src = ScratchAddress(family, 1);
  id.dst = ScratchAddress(family, 2);
  id.spi = kScratchBase | (options_.tag & 0xffff);
  id.proto = IPPROTO_ESP;
  id.mark = base::Mark::Exact(kScratchMark);
  return id;
}

std::string KernelCheck::ScratchVtiName() const {
  return fmt::format("mvchk{}", options_.tag % 10000);
}

std::vector<CheckResult> KernelCheck::Run() {
  std::vector<CheckResult> out;
  if (CheckXfrm(out)) {
    const auto esp = EspChecksFor(config_);
    for (const int family : {AF_INET, AF_INET6}) {
      std::vector<EspCheck> of_family;
      for (const auto& c : esp) {
        if (c.family == family) of_family.push_back(c);
      }
      if (!of_family.empty()) CheckEsp(family, of_family, out);
    }
  }
  for (const int family : VtiFamiliesFor(config_)) CheckVti(family, out);
  if (OwnsXfrmInterface(config_)) CheckXfrmInterface(out);
  if (options_.ports) {
    CheckPort(config_.global.port, out);
    if (config_.global.port_nat_t != config_.global.port) CheckPort(config_.global.port_nat_t, out);
  }
  return out;
}

bool KernelCheck::CheckXfrm(std::vector<CheckResult>& out) {
  CheckResult r{.name = "xfrm netlink"};
  std::error_code ec = probe_.OpenXfrm();
  // Opening the socket needs nothing; a request needs CAP_NET_ADMIN. GETSA of the scratch SA,
  // which does not exist, answers "no such SA" when requests are allowed.
  if (!ec) ec = probe_.QuerySa(ScratchSa(AF_INET));
  if (ec == std::errc::no_such_process || ec == std::errc::no_such_file_or_directory) ec = {};
  if (ec) {
    Diagnosis d = DiagnoseXfrm(ec.value());
    r.detail = std::move(d.detail);
    r.fix = std::move(d.fix);
  } else {
    r.ok = true;
    r.detail = "NETLINK_XFRM answers, requests allowed";
  }
  out.push_back(std::move(r));
  return out.back().ok;
}

void KernelCheck::CheckEsp(int family, const std::vector<EspCheck>& checks,
                           std::vector<CheckResult>& out) {
  const std::string esp = EspModule(family);
  std::vector<CheckResult> lines;
  std::vector<std::string> without_esp;  // algorithm sets refused with EPROTONOSUPPORT
  for (const auto& check : checks) {
    CheckResult r{.name = esp + " " + check.name};
    const auto mapped = xfrm::MapAlgorithms(check.algorithms);
    if (!mapped) {
      r.detail = "minivpnd cannot install this algorithm set: " + mapped.error().message();
      lines.push_back(std::move(r));
      continue;
    }
    xfrm::SaSpec spec;
    spec.id = ScratchSa(family);
    spec.reqid = 0;
    spec.inbound = false;
    spec.algorithms = check.algorithms;
    spec.encr_key = SecretBytes(mapped->encr_key_size);  // zeros: a scratch SA carries no secret
    spec.integ_key = SecretBytes(mapped->integ_key_size);
    spec.replay_window = 0;  // outbound, as charon
    spec.lifetime.hard_add_seconds = kScratchLifetimeSeconds;
    std::error_code ec = probe_.AddSa(spec);
    // EEXIST: an SA with this SPI, address and mark is there (a killed check's, until it
    // expires): never touch it, take the next SPI.
    for (std::uint32_t attempt = 1; ec == std::errc::file_exists && attempt < 4; ++attempt) {
      spec.id.spi = kScratchBase | ((options_.tag + attempt) & 0xffff);
      ec = probe_.AddSa(spec);
    }
    if (ec.value() == EPROTONOSUPPORT) {
      without_esp.push_back(check.name);
      continue;
    }
    if (ec) {
      Diagnosis d = DiagnoseAddSa(ec.value(), family, check.algorithms);
      r.detail = std::move(d.detail);
      r.fix = std::move(d.fix);
      lines.push_back(std::move(r));
      continue;
    }
    // Ours from here: delete it whatever comes next.
    const std::error_code deleted = probe_.DelSa(spec.id);
    r.ok = true;
    r.detail = fmt::format("scratch SA ({}, {}-bit key) added and deleted",
                           SupportFor(check.algorithms).kernel_names,
                           check.algorithms.encr_key_bits);
    lines.push_back(std::move(r));
    if (deleted) {
      lines.push_back(
          {.name = esp + " " + check.name + " cleanup",
           .detail = fmt::format("could not delete the scratch SA ({}): {}; it expires by itself "
                                 "within {} s",
                                 Summary(spec.id), deleted.message(), kScratchLifetimeSeconds),
           .fix = fmt::format("ip xfrm state delete src {} dst {} proto esp spi 0x{:08x} mark "
                              "0x{:08x}",
                              spec.id.src.ToString(), spec.id.dst.ToString(), spec.id.spi,
                              kScratchMark)});
    }
  }
  if (!without_esp.empty()) {
    // One line for the family: xfrm knew these algorithm sets (it looks them up first, ENOSYS)
    // but has no ESP type for the family.
    std::string sets;
    for (const auto& name : without_esp) sets += (sets.empty() ? "" : ", ") + name;
    Diagnosis d = DiagnoseAddSa(EPROTONOSUPPORT, family, checks.front().algorithms);
    out.push_back({.name = esp,
                   .detail = fmt::format("scratch SA with {}: {}", sets, d.detail),
                   .fix = std::move(d.fix)});
  }
  for (auto& line : lines) out.push_back(std::move(line));
}

void KernelCheck::CheckVti(int family, std::vector<CheckResult>& out) {
  const bool ipv6 = family == AF_INET6;
  vti::VtiConfig v;
  v.name = ScratchVtiName();
  v.local = ScratchAddress(family, 1);
  v.remote = ScratchAddress(family, 2);
  v.key = kScratchBase | (options_.tag & 0xffff);
  CheckResult link{.name = ipv6 ? "vti6" : "vti"};
  CheckResult policy{.name = ipv6 ? "disable_policy (ipv6)" : "disable_policy"};
  const std::string what = fmt::format("scratch VTI {} ({} -> {}, key 0x{:08x})", v.name,
                                       v.local.ToString(), v.remote.ToString(), v.key);
  if (std::error_code ec = probe_.CreateVti(v)) {
    const bool after_link = ec.category() == xfrm::KernelCategory(xfrm::KernelOp::kVtiChange);
    const int err = ec.value();
    if (after_link && (err == EROFS || IsPermission(err) || err == ENOENT)) {
      // The link was made; writing disable_policy failed and Create removed the link again.
      link.ok = true;
      link.detail = what + " created (and removed again: disable_policy failed)";
      Diagnosis d = DiagnoseDisablePolicy(err, ipv6, v.name);
      policy.detail = std::move(d.detail);
      policy.fix = std::move(d.fix);
      out.push_back(std::move(link));
      out.push_back(std::move(policy));
      return;
    }
    Diagnosis d = after_link ? Diagnosis{fmt::format("{} created, but bringing it up failed: {}",
                                                     what, ErrnoText(err)),
                                         ""}
                             : DiagnoseVti(err, ipv6, v.name);
    link.detail = std::move(d.detail);
    link.fix = std::move(d.fix);
    out.push_back(std::move(link));
    return;
  }
  // Ours from here: delete it whatever comes next.
  const std::error_code written = probe_.WriteDisablePolicy(v.name, ipv6);
  const std::error_code deleted = probe_.DeleteVti(v.name);
  link.ok = true;
  link.detail = what + " created and deleted";
  if (written) {
    Diagnosis d = DiagnoseDisablePolicy(written.value(), ipv6, v.name);
    policy.detail = std::move(d.detail);
    policy.fix = std::move(d.fix);
  } else {
    policy.ok = true;
    policy.detail = "wrote 1 to " + vti::DisablePolicyPath(v.name, ipv6);
  }
  const std::string cleanup = link.name + " cleanup";
  out.push_back(std::move(link));
  out.push_back(std::move(policy));
  if (deleted) {
    out.push_back({.name = cleanup,
                   .detail = fmt::format("could not delete {}: {}", what, deleted.message()),
                   .fix = "ip link del " + v.name});
  }
}

void KernelCheck::CheckXfrmInterface(std::vector<CheckResult>& out) {
  // A name and if_id of the check's own (the scratch range, not a configured id).
  const vti::XfrmInterfaceConfig scratch{.name = fmt::format("mvchkx{}", options_.tag % 10000),
                                         .if_id = kScratchBase | (options_.tag & 0xffff)};
  const std::string what =
      fmt::format("scratch XFRM interface {} (if_id 0x{:08x})", scratch.name, scratch.if_id);
  CheckResult link{.name = "xfrm interface"};
  if (std::error_code ec = probe_.CreateXfrmInterface(scratch)) {
    const bool after_link = ec.category() == xfrm::KernelCategory(xfrm::KernelOp::kVtiChange);
    Diagnosis d = after_link ? Diagnosis{fmt::format("{} created, but bringing it up failed: {}",
                                                     what, ErrnoText(ec.value())),
                                         ""}
                             : DiagnoseXfrmInterface(ec.value(), scratch.name);
    link.detail = std::move(d.detail);
    link.fix = std::move(d.fix);
    out.push_back(std::move(link));
    return;
  }
  const std::error_code deleted = probe_.DeleteVti(scratch.name);
  link.ok = true;
  link.detail = what + " created and deleted";
  out.push_back(std::move(link));
  if (deleted) {
    out.push_back({.name = "xfrm interface cleanup",
                   .detail = fmt::format("could not delete {}: {}", what, deleted.message()),
                   .fix = "ip link del " + scratch.name});
  }
}

void KernelCheck::CheckPort(std::uint16_t port, std::vector<CheckResult>& out) {
  CheckResult r{.name = fmt::format("udp {}", port)};
  const std::error_code v4 = probe_.BindUdp(AF_INET, port);
  std::error_code v6 = probe_.BindUdp(AF_INET6, port);
  // A host without IPv6 is fine, as for the daemon's own sockets.
  const bool no_ipv6 = v6 == std::errc::address_family_not_supported ||
                       v6 == std::errc::address_not_available;
  if (no_ipv6) v6 = {};
  const std::error_code ec = v4 ? v4 : v6;
  if (!ec) {
    r.ok = true;
    r.detail = no_ipv6 ? "free (IPv4; no IPv6 here)" : "free (IPv4 and IPv6)";
  } else {
    std::optional<PortOwner> owner;
    if (ec == std::errc::address_in_use) owner = probe_.UdpPortOwner(port);
    Diagnosis d = DiagnoseBind(ec.value(), port, owner);
    r.detail = std::move(d.detail);
    r.fix = std::move(d.fix);
  }
  out.push_back(std::move(r));
}

// ---- the port's owner ---------------------------------------------------------------------------

std::vector<std::uint64_t> UdpSocketInodes(std::string_view table, std::uint16_t port) {
  // "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout
  // inode ...": local_address is <hex address>:<hex port>, the inode is the 10th field.
  std::vector<std::uint64_t> inodes;
  std::istringstream lines{std::string(table)};
  std::string line;
  std::getline(lines, line);  // the header
  while (std::getline(lines, line)) {
    std::istringstream fields(line);
    std::vector<std::string> f;
    for (std::string word; fields >> word && f.size() < 10;) f.push_back(word);
    if (f.size() < 10) continue;
    const auto colon = f[1].rfind(':');
    if (colon == std::string::npos) continue;
    unsigned local_port = 0;
    const char* begin = f[1].data() + colon + 1;
    const char* end = f[1].data() + f[1].size();
    if (std::from_chars(begin, end, local_port, 16).ptr != end || local_port != port) continue;
    std::uint64_t inode = 0;
    const char* ib = f[9].data();
    const char* ie = ib + f[9].size();
    if (std::from_chars(ib, ie, inode).ptr != ie || inode == 0) continue;
    inodes.push_back(inode);
  }
  return inodes;
}

std::optional<PortOwner> FindUdpPortOwner(std::uint16_t port, const std::string& proc) {
  std::vector<std::string> wanted;
  for (const char* table : {"/net/udp", "/net/udp6"}) {
    std::ifstream in(proc + table);
    if (!in) continue;
    std::stringstream text;
    text << in.rdbuf();
    for (const auto inode : UdpSocketInodes(text.str(), port)) {
      wanted.push_back(fmt::format("socket:[{}]", inode));
    }
  }
  if (wanted.empty()) return std::nullopt;
  DIR* procs = ::opendir(proc.c_str());
  if (procs == nullptr) return std::nullopt;
  std::optional<PortOwner> owner;
  while (!owner) {
    const dirent* entry = ::readdir(procs);
    if (entry == nullptr) break;
    int pid = 0;
    const std::string_view name = entry->d_name;
    if (std::from_chars(name.data(), name.data() + name.size(), pid).ptr !=
            name.data() + name.size() ||
        pid <= 0) {
      continue;
    }
    const std::string fd_dir = proc + "/" + std::string(name) + "/fd";
    DIR* fds = ::opendir(fd_dir.c_str());
    if (fds == nullptr) continue;  // gone, or another user's (not root)
    while (const dirent* fd = ::readdir(fds)) {
      char target[64] = {};
      const std::string link = fd_dir + "/" + fd->d_name;
      const ssize_t n = ::readlink(link.c_str(), target, sizeof target - 1);
      if (n <= 0) continue;
      const std::string_view socket(target, static_cast<std::size_t>(n));
      if (std::find(wanted.begin(), wanted.end(), socket) == wanted.end()) {
        continue;
      }
      std::string command;
      std::getline(std::ifstream(proc + "/" + std::string(name) + "/comm"), command);
      owner = PortOwner{pid, command};
      break;
    }
    ::closedir(fds);
  }
  ::closedir(procs);
  return owner;
}

// ---- the real kernel ----------------------------------------------------------------------------

namespace {

class SystemProbe final : public KernelProbe {
 public:
  std::error_code OpenXfrm() override {
    auto kernel = xfrm::NetlinkKernel::Open();
    if (!kernel) return kernel.error();
    xfrm_ = std::move(*kernel);
    return {};
  }
  std::error_code QuerySa(const xfrm::SaId& id) override {
    if (!xfrm_) return xfrm::KernelError(ENOTCONN, xfrm::KernelOp::kQuerySa);
    auto counters = xfrm_->QuerySa(id);
    return counters ? std::error_code{} : counters.error();
  }
  std::error_code AddSa(const xfrm::SaSpec& spec) override {
    if (!xfrm_) return xfrm::KernelError(ENOTCONN, xfrm::AddSaOp(spec.algorithms.encr));
    return xfrm_->AddSa(spec);
  }
  std::error_code DelSa(const xfrm::SaId& id) override {
    if (!xfrm_) return xfrm::KernelError(ENOTCONN, xfrm::KernelOp::kDelSa);
    return xfrm_->DelSa(id);
  }
  std::error_code CreateVti(const vti::VtiConfig& config) override {
    if (auto ec = OpenLinks()) return ec;
    return vti_->Create(config);
  }
  std::error_code WriteDisablePolicy(const std::string& name, bool ipv6) override {
    if (!vti_) return xfrm::KernelError(ENOTCONN, xfrm::KernelOp::kVtiChange);
    return vti_->SetDisablePolicy(name, ipv6);
  }
  std::error_code DeleteVti(const std::string& name) override {
    if (!vti_) return xfrm::KernelError(ENOTCONN, xfrm::KernelOp::kVtiChange);
    return vti_->Delete(name);
  }
  std::error_code CreateXfrmInterface(const vti::XfrmInterfaceConfig& config) override {
    if (auto ec = OpenLinks()) return ec;
    return vti_->Create(config);
  }
  std::error_code BindUdp(int family, std::uint16_t port) override {
    const int fd = ::socket(family, SOCK_DGRAM | SOCK_CLOEXEC, IPPROTO_UDP);
    if (fd < 0) return {errno, std::generic_category()};
    int rc = 0;
    if (family == AF_INET6) {
      const int on = 1;
      rc = ::setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof on);
      sockaddr_in6 a{};
      a.sin6_family = AF_INET6;
      a.sin6_port = htons(port);
      if (rc == 0) rc = ::bind(fd, reinterpret_cast<const sockaddr*>(&a), sizeof a);
    } else {
      sockaddr_in a{};
      a.sin_family = AF_INET;
      a.sin_port = htons(port);
      rc = ::bind(fd, reinterpret_cast<const sockaddr*>(&a), sizeof a);
    }
    const int err = errno;
    ::close(fd);
    return rc == 0 ? std::error_code{} : std::error_code{err, std::generic_category()};
  }
  std::optional<PortOwner> UdpPortOwner(std::uint16_t port) override {
    return FindUdpPortOwner(port);
  }

 private:
  // The rtnetlink socket, opened by the first link check.
  std::error_code OpenLinks() {
    if (vti_) return {};
    auto manager = vti::VtiManager::Open();
    if (!manager) return manager.error();
    vti_ = std::move(*manager);
    return {};
  }

  std::unique_ptr<xfrm::NetlinkKernel> xfrm_;
  std::unique_ptr<vti::VtiManager> vti_;
};

}  // namespace

std::unique_ptr<KernelProbe> SystemKernelProbe() { return std::make_unique<SystemProbe>(); }

int RunCheckKernel(const config::ConfigPaths& paths, KernelProbe& probe, std::ostream& out,
                   std::ostream& err) {
  const auto loaded = config::LoadConfig(paths);
  for (const auto& d : loaded.diagnostics) err << config::ToString(d) << '\n';
  if (!loaded.ok()) {
    err << "minivpnd: the configuration has errors; fix them first (minivpnd --check-config)\n";
    return 1;
  }
  KernelCheck check(loaded.config, probe);
  const auto results = check.Run();
  std::size_t failed = 0;
  for (const auto& r : results) {
    out << FormatCheckLine(r) << '\n';
    if (!r.ok) ++failed;
  }
  if (failed == 0) {
    out << fmt::format("kernel check: all {} passed\n", results.size());
  } else {
    out << fmt::format("kernel check: {} of {} failed\n", failed, results.size());
  }
  out.flush();
  return failed == 0 ? 0 : 1;
}

std::vector<std::string> CheckKernelAtStart(const config::Config& config) {
  const auto probe = SystemKernelProbe();
  KernelCheck check(config, *probe, {.ports = false});
  std::vector<std::string> failed;
  for (const auto& r : check.Run()) {
    if (!r.ok) failed.push_back(FormatCheckLine(r));
  }
  return failed;
}

}  // namespace minivpn::daemon
