// Building and parsing NETLINK_XFRM messages, separated from sending so tests can check every
// struct field and attribute. The values follow charon 5.9.8 (kernel-reference.md); the
// comments name the kernel structs of <linux/xfrm.h>.
#pragma once

#include <linux/netlink.h>
#include <linux/xfrm.h>

#include <cstddef>
#include <cstdint>
#include <expected>
#include <memory>
#include <optional>
#include <string>
#include <system_error>

#include "crypto/bytes.h"
#include "xfrm/errors.h"
#include "xfrm/kernel_ipsec.h"

namespace minivpn::xfrm {

// One netlink message in an aligned, zero-initialised buffer. The buffer may hold key bytes:
// it is wiped when the message is destroyed (and can be wiped earlier with Wipe()).
class NlMessage {
 public:
  // XFRMA_REPLAY_ESN_VAL alone may take 4 KiB of bitmap (XFRMA_REPLAY_ESN_MAX).
  static constexpr std::size_t kCapacity = 8192;

  NlMessage();
  ~NlMessage();
  NlMessage(NlMessage&& other) noexcept = default;
  NlMessage& operator=(NlMessage&& other) noexcept;
  NlMessage(const NlMessage&) = delete;
  NlMessage& operator=(const NlMessage&) = delete;

  nlmsghdr* header() { return reinterpret_cast<nlmsghdr*>(buf_.get()); }
  const nlmsghdr* header() const { return reinterpret_cast<const nlmsghdr*>(buf_.get()); }
  ByteView bytes() const;
  void Wipe();

 private:
  std::unique_ptr<std::uint8_t[]> buf_;
};

// The kernel's names and sizes for an ESP algorithm set.
struct KernelAlgorithms {
  bool aead = false;
  std::string encr_name;       // "rfc4106(gcm(aes))", "cbc(aes)" ...
  std::uint32_t icv_bits = 0;  // AEAD only
  std::string auth_name;       // "hmac(sha256)"; empty for AEAD
  std::uint32_t trunc_bits = 0;
  bool auth_trunc = false;        // XFRMA_ALG_AUTH_TRUNC (charon: all but HMAC-SHA1-96)
  std::size_t encr_key_size = 0;  // octets expected, salt/nonce included
  std::size_t integ_key_size = 0;
  bool operator==(const KernelAlgorithms&) const = default;
};
// EINVAL (in the add-SA category) for combinations the kernel path does not support.
std::expected<KernelAlgorithms, std::error_code> MapAlgorithms(const EspAlgorithms& algorithms);

// SPI range charon allocates from (kernel-reference.md "SAs").
inline constexpr std::uint32_t kSpiMin = 0xc0000000;
inline constexpr std::uint32_t kSpiMax = 0xcfffffff;

// XFRM_MSG_ALLOCSPI, struct xfrm_userspi_info; flags NLM_F_REQUEST (the reply is a NEWSA).
NlMessage BuildAllocSpi(const IpAddress& src, const IpAddress& dst, std::uint32_t reqid,
                        std::uint32_t spi_min = kSpiMin, std::uint32_t spi_max = kSpiMax);
// XFRM_MSG_UPDSA (inbound) or XFRM_MSG_NEWSA (outbound), struct xfrm_usersa_info + algorithm
// attributes, XFRMA_REPLAY_ESN_VAL, XFRMA_ENCAP, XFRMA_MARK; NLM_F_REQUEST|NLM_F_ACK.
std::expected<NlMessage, std::error_code> BuildAddSa(const SaSpec& spec);
// XFRM_MSG_DELSA / XFRM_MSG_GETSA, struct xfrm_usersa_id + XFRMA_MARK.
NlMessage BuildDelSa(const SaId& id);
NlMessage BuildGetSa(const SaId& id);
// charon's update_sa: from the kernel's answer to GETSA (`current`: XFRM_MSG_NEWSA with the
// SA's keys, replay state and counters), the XFRM_MSG_NEWSA that creates the SA again at `to`:
// every attribute copied but XFRMA_ENCAP, which follows `to.encap`; a transport-mode selector
// naming the old address names the new one. Without `to`, the SA as it is (to undo a move).
std::expected<NlMessage, std::error_code> BuildMovedSa(const nlmsghdr* current, const SaMove* to);
// XFRM_MSG_NEWPOLICY or XFRM_MSG_UPDPOLICY, struct xfrm_userpolicy_info + XFRMA_TMPL +
// XFRMA_MARK.
NlMessage BuildAddPolicy(const PolicySpec& spec, bool update);
// XFRM_MSG_DELPOLICY, struct xfrm_userpolicy_id + XFRMA_MARK.
NlMessage BuildDelPolicy(const PolicyId& id);
// XFRM_MSG_GETPOLICY by selector, direction and mark; the reply is one XFRM_MSG_NEWPOLICY.
NlMessage BuildGetPolicy(const PolicyId& id);
// The policy's last use (curlft.use_time, seconds since the epoch; 0 = never used).
std::expected<std::uint64_t, std::error_code> ParsePolicyUseTime(const nlmsghdr* nlh);
// The per-socket bypass policy charon sets with IP_XFRM_POLICY/IPV6_XFRM_POLICY.
xfrm_userpolicy_info BuildBypassPolicy(PolicyDir dir, int family);

// The selector of a policy (host bits of the subnets cleared, as charon's ts2selector).
xfrm_selector SelectorOf(const Subnet& src, const Subnet& dst);
// With the policy's protocol and ports.
xfrm_selector SelectorOf(const PolicyId& id);
xfrm_address_t ToXfrmAddress(const IpAddress& address);
IpAddress FromXfrmAddress(const xfrm_address_t& address, std::uint16_t family);

// Replies. Both expect an XFRM_MSG_NEWSA message (ALLOCSPI and GETSA answer with one).
std::expected<std::uint32_t, std::error_code> ParseAllocSpiReply(const nlmsghdr* nlh);
std::expected<SaCounters, std::error_code> ParseSaCounters(const nlmsghdr* nlh);

// One netlink message (its nlmsghdr first) from the xfrm multicast groups: XFRM_MSG_EXPIRE,
// XFRM_MSG_ACQUIRE, XFRM_MSG_MAPPING. nullopt for other types and for truncated or malformed
// messages; never reads past the view or nlmsg_len.
std::optional<KernelEvent> ParseXfrmEvent(ByteView message);

}  // namespace minivpn::xfrm
