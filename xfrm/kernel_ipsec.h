// The kernel side of IPsec as the IKE engine sees it: parameter structs and one interface,
// modelled on strongSwan's kernel_ipsec_t. Implementations: NetlinkKernel (netlink_kernel.h,
// libmnl, the real Linux xfrm) and FakeKernel (fake_kernel.h, in memory, for engine tests).
//
// The values a route-based child needs to match charon byte for byte are documented in
// docs/kernel-reference.md; the defaults below follow it.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <expected>
#include <functional>
#include <optional>
#include <string>
#include <system_error>
#include <variant>
#include <vector>

#include "base/ip.h"
#include "base/mark.h"
#include "base/selector.h"
#include "crypto/algorithms.h"
#include "crypto/secret.h"

namespace minivpn::xfrm {

// Addresses, subnets and marks are base's (one type from config to netlink): see base/ip.h and
// base/mark.h. Mark{} is "no mark": no XFRMA_MARK attribute is sent.
using base::IpAddress;
using base::Mark;
using base::Selector;
using base::Subnet;

// Identifies one SA in the kernel (XFRM usersa_id + mark).
struct SaId {
  IpAddress src;
  IpAddress dst;
  std::uint32_t spi = 0;    // host byte order; the netlink layer converts
  std::uint8_t proto = 50;  // IPPROTO_ESP
  Mark mark;               // empty for the inbound SA by default (kernel-reference.md)
  bool operator==(const SaId&) const = default;
};

// ESP algorithms in IKE terms; the netlink layer maps them to kernel names
// (rfc4106(gcm(aes)), rfc7539esp(chacha20,poly1305), cbc(aes) + hmac(sha256) ...).
struct EspAlgorithms {
  crypto::EncrId encr = crypto::EncrId::kAesGcm16;
  std::uint16_t encr_key_bits = 256;
  crypto::IntegId integ = crypto::IntegId::kNone;
  bool esn = false;
  bool operator==(const EspAlgorithms&) const = default;
};

struct Lifetime {
  std::uint64_t soft_add_seconds = 0;  // 0 = infinite
  std::uint64_t hard_add_seconds = 0;
  std::uint64_t soft_bytes = 0;        // 0 = infinite (XFRM_INF)
  std::uint64_t hard_bytes = 0;
  std::uint64_t soft_packets = 0;
  std::uint64_t hard_packets = 0;
  bool operator==(const Lifetime&) const = default;
};

struct UdpEncap {
  std::uint16_t sport = 4500;
  std::uint16_t dport = 4500;
  bool operator==(const UdpEncap&) const = default;
};

struct SaSpec {
  SaId id;
  std::uint32_t reqid = 0;
  bool inbound = false;            // inbound: UPDSA of an ALLOCSPI'd SPI; outbound: NEWSA
  EspAlgorithms algorithms;
  SecretBytes encr_key;            // includes the 4-octet salt for AEAD
  SecretBytes integ_key;
  std::uint32_t replay_window = 32;  // charon: 32 in, 0 out
  Lifetime lifetime;
  std::optional<UdpEncap> encap;
  std::uint32_t if_id = 0;  // XFRMA_IF_ID: if_id_in inbound, if_id_out outbound; 0 = none
  // Transport mode (charon's mode = transport): the SA's selector is the child's first pair of
  // selectors without protocol and ports; tunnel mode leaves it zeroed with XFRM_STATE_AF_UNSPEC.
  bool transport = false;
  Subnet selector_src;
  Subnet selector_dst;
};

// Where an installed SA moves (charon's update_sa, after a NAT mapping change): its new outer
// addresses and UDP encapsulation; keys, replay state and counters stay.
struct SaMove {
  IpAddress src;
  IpAddress dst;
  std::optional<UdpEncap> encap;
  bool operator==(const SaMove&) const = default;
};

enum class PolicyDir : std::uint8_t { kIn = 0, kOut = 1, kFwd = 2 };

// A port of the kernel's selector (struct xfrm_selector): mask 0 = any port, 0xffff = one port;
// a range is widened to the prefix that covers it, as charon's ts2ports (host byte order here).
struct PortMatch {
  std::uint16_t port = 0;
  std::uint16_t mask = 0;
  bool operator==(const PortMatch&) const = default;
  auto operator<=>(const PortMatch&) const = default;
};
PortMatch PortMatchOf(std::uint16_t from, std::uint16_t to);

struct PolicyId {
  Subnet src;
  Subnet dst;
  PolicyDir dir = PolicyDir::kOut;
  Mark mark;
  std::uint8_t proto = 0;  // 0 = any
  PortMatch sport;
  PortMatch dport;
  // XFRM interface id (charon's if_id_in for IN/FWD, if_id_out for OUT; XFRMA_IF_ID); 0 = none.
  // The kernel tells policies apart by it, as by the mark.
  std::uint32_t if_id = 0;
  bool operator==(const PolicyId&) const = default;
  auto operator<=>(const PolicyId&) const = default;
};

// charon's ts2selector: the kernel selector of traffic from `src` to `dst` (the more specific
// protocol of the two, each side's ports).
PolicyId PolicyIdOf(const Selector& src, const Selector& dst, PolicyDir dir, const Mark& mark);

struct PolicySpec {
  PolicyId id;
  std::uint32_t priority = 0;   // see PolicyPriority()
  std::uint32_t reqid = 0;
  IpAddress tmpl_src;           // tunnel endpoints of the template
  IpAddress tmpl_dst;
  std::uint32_t tmpl_spi = 0;   // set only in the OUT template (charon)
  // Transport-mode template: mode transport, no endpoint addresses (charon sets them only for
  // tunnel mode).
  bool transport = false;
  bool operator==(const PolicySpec&) const = default;
};

// charon's formula (kernel-reference.md): 2*200000 - 512*(src+dst prefix) - 256*(proto set)
// - 4*(port mask bits) - 2*(interface set) - 1*(not a trap policy). 0/0<->0/0 -> 399999.
std::uint32_t PolicyPriority(const PolicyId& id, bool trap = false);
inline std::uint32_t PolicyPriority(const Subnet& src, const Subnet& dst, bool trap = false) {
  PolicyId id;
  id.src = src;
  id.dst = dst;
  return PolicyPriority(id, trap);
}

struct SaCounters {
  std::uint64_t bytes = 0;
  std::uint64_t packets = 0;
  std::optional<std::chrono::seconds> last_use;  // seconds since the epoch, if ever used
  // Seconds from the last use to the query (the kernel's use_time against the wall clock, read
  // by the kernel implementation), if ever used: what an idle timer needs.
  std::optional<std::chrono::seconds> idle;
  bool operator==(const SaCounters&) const = default;
};

// Kernel events delivered to the engine (from the xfrm multicast groups).
struct ExpireEvent {
  SaId sa;
  std::uint32_t reqid = 0;
  bool hard = false;
  bool operator==(const ExpireEvent&) const = default;
};
struct AcquireEvent {
  std::uint32_t reqid = 0;      // of the trap policy that matched
  Subnet src, dst;              // the packet's selector
  Mark mark;
  bool operator==(const AcquireEvent&) const = default;
};
struct MappingEvent {           // NAT mapping change (XFRM_MSG_MAPPING)
  SaId sa;
  IpAddress new_src;
  std::uint16_t new_sport = 0;
  bool operator==(const MappingEvent&) const = default;
};
// What the xfrm event listener (netlink_kernel.h) hands to the engine.
using KernelEvent = std::variant<ExpireEvent, AcquireEvent, MappingEvent>;

// Where XFRM_MSG_ALLOCSPI may pick an inbound SPI. charon's range [0xc0000000, 0xcfffffff] is
// what the engine asks for; min == max asks for exactly that SPI (the kernel answers ENOENT if it
// is taken): the kernel journal chooses the SPI itself so that it can record it before the call.
struct SpiRange {
  std::uint32_t min = 0xc0000000;
  std::uint32_t max = 0xcfffffff;
  bool operator==(const SpiRange&) const = default;
};
inline constexpr SpiRange kCharonSpiRange{};

// Every method either succeeds completely or leaves the kernel as it was, and returns a
// std::error_code whose message says what went wrong in words (errno + meaning).
class KernelIpsec {
 public:
  virtual ~KernelIpsec() = default;

  // XFRM_MSG_ALLOCSPI in `range` for an inbound SA (a larval state).
  virtual std::expected<std::uint32_t, std::error_code> AllocSpi(const IpAddress& src,
                                                                 const IpAddress& dst,
                                                                 std::uint32_t reqid,
                                                                 SpiRange range) = 0;
  virtual std::error_code AddSa(const SaSpec& spec) = 0;
  virtual std::error_code DelSa(const SaId& id) = 0;
  virtual std::expected<SaCounters, std::error_code> QuerySa(const SaId& id) = 0;
  // Moves SA `id` to `to` (the SA is then found as {to.src, to.dst, id.spi, id.proto, id.mark}).
  virtual std::error_code UpdateSa(const SaId& id, const SaMove& to) = 0;
  // Policies are reference counted per PolicyId (charon shares them between CHILD_SAs with the
  // same selector and mark): AddPolicy on an existing id bumps the count and updates it
  // (UPDPOLICY); DelPolicy deletes when the count drops to 0.
  virtual std::error_code AddPolicy(const PolicySpec& spec) = 0;
  virtual std::error_code UpdatePolicy(const PolicySpec& spec) = 0;
  // A user's reference moves from `old_spec` to `spec` (a CHILD rekey's OUT SPI switch) and
  // becomes the newest, as charon adds the new CHILD_SA's reference and drops the old one's: the
  // kernel gets `spec` (UPDPOLICY). Another user's reference on top is left alone, so a rekey
  // of an older CHILD_SA sharing the policy cannot take over that user's entry.
  virtual std::error_code ReplacePolicy(const PolicySpec& old_spec, const PolicySpec& spec) {
    (void)old_spec;
    return UpdatePolicy(spec);
  }
  virtual std::error_code DelPolicy(const PolicyId& id) = 0;
  // Seconds since the kernel last matched a packet against the policy (its curlft.use_time
  // against the wall clock), nullopt if never: charon measures CHILD_SA inactivity this way,
  // since an SA's use_time is only its first use. Kernels that cannot tell answer ENOTSUP.
  virtual std::expected<std::optional<std::chrono::seconds>, std::error_code> QueryPolicyIdle(
      const PolicyId& id) {
    (void)id;
    return std::unexpected(std::make_error_code(std::errc::not_supported));
  }
  // Drops the reference of the user that added `spec` (DelPolicy drops the latest one). When
  // several CHILD_SAs share a policy (a reauthentication's new IKE SA beside the old one, a trap
  // under its CHILD_SA), the kernel holds the latest user's spec; removing an older user must
  // leave it alone. Kernels without reference counting delete by id.
  virtual std::error_code ReleasePolicy(const PolicySpec& spec) { return DelPolicy(spec.id); }
};

// The reference counting of AddPolicy/DelPolicy/ReleasePolicy, shared by the kernels that keep
// it: the references of one policy, the installed one last (the kernel holds its spec).
// Where a new reference goes: charon installs the one with the lowest priority value, the newest
// among equals (kernel_netlink's add_policy), so a trap added under a live CHILD_SA's policy
// (a higher value) goes below it and leaves the kernel alone.
std::size_t PolicyRefInsertAt(const std::vector<PolicySpec>& refs, const PolicySpec& spec);
// Which reference goes for `spec`: the latest equal to it, else the latest of all.
std::size_t PolicyRefToDrop(const std::vector<PolicySpec>& refs, const PolicySpec* spec);
// The spec the kernel must be given after dropping reference `index` (UPDPOLICY), or none when
// what the kernel holds does not change (an older reference, or the same spec below it).
std::optional<PolicySpec> PolicyAfterDrop(const std::vector<PolicySpec>& refs, std::size_t index);

}  // namespace minivpn::xfrm
