#include "xfrm/netlink_messages.h"

#include <libmnl/libmnl.h>
#include <linux/udp.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "crypto/secret.h"

namespace minivpn::xfrm {
namespace {

using crypto::EncrId;
using crypto::IntegId;

std::uint32_t Htonl(std::uint32_t v) { return __builtin_bswap32(v); }
std::uint16_t Htons(std::uint16_t v) { return __builtin_bswap16(v); }

void CopyName(char (&dst)[64], const std::string& name) {
  std::memset(dst, 0, sizeof(dst));
  std::memcpy(dst, name.data(), std::min(name.size(), sizeof(dst) - 1));
}

// XFRMA_IF_ID only for an XFRM interface id (charon: if_id_in / if_id_out when set).
void PutIfId(nlmsghdr* nlh, std::uint32_t if_id) {
  if (if_id != 0) mnl_attr_put_u32(nlh, XFRMA_IF_ID, if_id);
}

// XFRMA_MARK only for a set mark (mask != 0; kernel-reference.md).
void PutMark(nlmsghdr* nlh, const Mark& mark) {
  if (!mark.is_set()) return;
  xfrm_mark m{mark.value, mark.mask};
  mnl_attr_put(nlh, XFRMA_MARK, sizeof(m), &m);
}

// XFRM_INF for "no limit" (charon's XFRM_LIMIT).
std::uint64_t Limit(std::uint64_t v) { return v == 0 ? XFRM_INF : v; }

template <typename T>
T* PutExtra(nlmsghdr* nlh) {
  return static_cast<T*>(mnl_nlmsg_put_extra_header(nlh, sizeof(T)));
}

// Reserves an attribute of `size` payload octets and returns its payload.
void* ReserveAttr(nlmsghdr* nlh, std::uint16_t type, std::size_t size) {
  auto* attr = static_cast<nlattr*>(mnl_nlmsg_get_payload_tail(nlh));
  attr->nla_type = type;
  attr->nla_len = static_cast<std::uint16_t>(MNL_ATTR_HDRLEN + size);
  nlh->nlmsg_len += MNL_ALIGN(attr->nla_len);
  return mnl_attr_get_payload(attr);
}

std::uint16_t FamilyOf(const IpAddress& a) { return a.family == 0 ? AF_INET : a.family; }

// An absent mark (or 0/0) is the default Mark{}, as the engine spells "no mark".
Mark MarkFromAttr(const nlattr* attr) {
  if (attr == nullptr || mnl_attr_get_payload_len(attr) < sizeof(xfrm_mark)) return Mark{};
  xfrm_mark m;
  std::memcpy(&m, mnl_attr_get_payload(attr), sizeof(m));
  const Mark mark{m.v, m.m};
  return mark.is_set() ? mark : Mark{};
}

// The attributes after the `fixed` header, until `visit` returns true; every step is bounded by
// nlmsg_len itself (libmnl's payload tail is nlmsg_len rounded up to 4: up to 3 octets past the
// message, found by the netlink fuzzer). Returns the attribute `visit` stopped at.
template <typename Visit>
const nlattr* ForEachAttr(const nlmsghdr* nlh, std::size_t fixed, Visit visit) {
  const auto* tail = reinterpret_cast<const char*>(nlh) + nlh->nlmsg_len;
  const auto* attr = static_cast<const nlattr*>(mnl_nlmsg_get_payload_offset(nlh, fixed));
  while (static_cast<const void*>(attr) < static_cast<const void*>(tail) &&
         mnl_attr_ok(attr, static_cast<int>(tail - reinterpret_cast<const char*>(attr)))) {
    if (visit(attr)) return attr;
    attr = mnl_attr_next(attr);
  }
  return nullptr;
}

const nlattr* FindAttr(const nlmsghdr* nlh, std::size_t fixed, std::uint16_t type) {
  return ForEachAttr(nlh, fixed, [type](const nlattr* a) { return mnl_attr_get_type(a) == type; });
}

Subnet SubnetOf(const xfrm_address_t& a, std::uint16_t family, std::uint8_t prefix) {
  return Subnet{FromXfrmAddress(a, family), prefix};
}

}  // namespace

NlMessage::NlMessage() : buf_(new std::uint8_t[kCapacity]()) {}

NlMessage::~NlMessage() { Wipe(); }

NlMessage& NlMessage::operator=(NlMessage&& other) noexcept {
  if (this != &other) {
    Wipe();
    buf_ = std::move(other.buf_);
  }
  return *this;
}

ByteView NlMessage::bytes() const {
  if (!buf_) return {};
  return {buf_.get(), std::min<std::size_t>(header()->nlmsg_len, kCapacity)};
}

void NlMessage::Wipe() {
  if (buf_) SecureWipe(buf_.get(), kCapacity);
}

std::expected<KernelAlgorithms, std::error_code> MapAlgorithms(const EspAlgorithms& a) {
  KernelAlgorithms k;
  const auto invalid = std::unexpected(KernelError(EINVAL, AddSaOp(a.encr)));
  const std::uint16_t bits = a.encr_key_bits;
  const bool aes_bits = bits == 128 || bits == 192 || bits == 256;
  switch (a.encr) {
    case EncrId::kAesGcm8:
    case EncrId::kAesGcm12:
    case EncrId::kAesGcm16:
      if (!aes_bits) return invalid;
      k.aead = true;
      k.encr_name = "rfc4106(gcm(aes))";  // RFC 4106: key || 4-octet salt
      k.icv_bits = a.encr == EncrId::kAesGcm8 ? 64 : a.encr == EncrId::kAesGcm12 ? 96 : 128;
      k.encr_key_size = bits / 8 + 4;
      break;
    case EncrId::kChaCha20Poly1305:
      if (bits != 256 && bits != 0) return invalid;
      k.aead = true;
      k.encr_name = "rfc7539esp(chacha20,poly1305)";  // RFC 7634: key || 4-octet salt
      k.icv_bits = 128;
      k.encr_key_size = 36;
      break;
    case EncrId::kAesCbc:
      if (!aes_bits) return invalid;
      k.encr_name = "cbc(aes)";
      k.encr_key_size = bits / 8;
      break;
    case EncrId::kAesCtr:
      if (!aes_bits) return invalid;
      k.encr_name = "rfc3686(ctr(aes))";  // RFC 3686: key || 4-octet nonce
      k.encr_key_size = bits / 8 + 4;
      break;
    case EncrId::kAesCcm8:
    case EncrId::kAesCcm12:
    case EncrId::kAesCcm16:
      if (!aes_bits) return invalid;
      k.aead = true;
      k.encr_name = "rfc4309(ccm(aes))";  // RFC 4309 7.1: key || 3-octet salt
      k.icv_bits = a.encr == EncrId::kAesCcm8 ? 64 : a.encr == EncrId::kAesCcm12 ? 96 : 128;
      k.encr_key_size = bits / 8 + 3;
      break;
    case EncrId::k3Des:
      if (bits != 192 && bits != 0) return invalid;
      k.encr_name = "cbc(des3_ede)";  // RFC 2451: a 24-octet key (three DES keys)
      k.encr_key_size = 24;
      break;
    default:
      return invalid;
  }
  if (k.aead) {
    if (a.integ != IntegId::kNone) return invalid;  // RFC 4106 s.8.4: no INTEG with AEAD
    return k;
  }
  switch (a.integ) {
    case IntegId::kHmacMd5_96:  // RFC 2403; XFRMA_ALG_AUTH as charon, the kernel truncates to 96
      k.auth_name = "hmac(md5)";
      k.trunc_bits = 96;
      k.integ_key_size = 16;
      break;
    case IntegId::kHmacSha1_96:  // charon sends XFRMA_ALG_AUTH; the kernel truncates to 96
      k.auth_name = "hmac(sha1)";
      k.trunc_bits = 96;
      k.integ_key_size = 20;
      break;
    case IntegId::kHmacSha2_256_128:  // RFC 4868
      k.auth_name = "hmac(sha256)";
      k.trunc_bits = 128;
      k.auth_trunc = true;
      k.integ_key_size = 32;
      break;
    case IntegId::kHmacSha2_384_192:
      k.auth_name = "hmac(sha384)";
      k.trunc_bits = 192;
      k.auth_trunc = true;
      k.integ_key_size = 48;
      break;
    case IntegId::kHmacSha2_512_256:
      k.auth_name = "hmac(sha512)";
      k.trunc_bits = 256;
      k.auth_trunc = true;
      k.integ_key_size = 64;
      break;
    default:
      return invalid;  // ESP without integrity is not offered
  }
  return k;
}

xfrm_address_t ToXfrmAddress(const IpAddress& address) {
  xfrm_address_t x;
  std::memset(&x, 0, sizeof(x));
  std::memcpy(&x, address.bytes.data(), address.family == AF_INET6 ? 16 : 4);
  return x;
}

IpAddress FromXfrmAddress(const xfrm_address_t& address, std::uint16_t family) {
  IpAddress a;
  a.family = static_cast<std::uint8_t>(family);
  std::memcpy(a.bytes.data(), &address, family == AF_INET6 ? 16 : 4);
  return a;
}

xfrm_selector SelectorOf(const PolicyId& id) {
  xfrm_selector sel = SelectorOf(id.src, id.dst);
  sel.proto = id.proto;
  sel.sport = Htons(id.sport.port);
  sel.sport_mask = Htons(id.sport.mask);
  sel.dport = Htons(id.dport.port);
  sel.dport_mask = Htons(id.dport.mask);
  return sel;
}

xfrm_selector SelectorOf(const Subnet& src, const Subnet& dst) {
  const auto masked = [](const Subnet& s) {
    IpAddress a = s.address;
    const unsigned bits = a.family == AF_INET6 ? 128 : 32;
    for (unsigned i = s.prefix; i < bits; ++i) {
      a.bytes[i / 8] = static_cast<std::uint8_t>(a.bytes[i / 8] & ~(0x80u >> (i % 8)));
    }
    return a;
  };
  xfrm_selector sel;
  std::memset(&sel, 0, sizeof(sel));
  sel.family = FamilyOf(src.address);
  sel.saddr = ToXfrmAddress(masked(src));
  sel.daddr = ToXfrmAddress(masked(dst));
  sel.prefixlen_s = src.prefix;
  sel.prefixlen_d = dst.prefix;
  return sel;
}

NlMessage BuildAllocSpi(const IpAddress& src, const IpAddress& dst, std::uint32_t reqid,
                        std::uint32_t spi_min, std::uint32_t spi_max) {
  NlMessage msg;
  nlmsghdr* nlh = mnl_nlmsg_put_header(msg.header());
  nlh->nlmsg_type = XFRM_MSG_ALLOCSPI;
  nlh->nlmsg_flags = NLM_F_REQUEST;
  auto* spi = PutExtra<xfrm_userspi_info>(nlh);
  spi->info.saddr = ToXfrmAddress(src);
  spi->info.id.daddr = ToXfrmAddress(dst);
  spi->info.id.proto = IPPROTO_ESP;
  spi->info.mode = XFRM_MODE_TUNNEL;
  spi->info.reqid = reqid;
  spi->info.family = FamilyOf(src);
  spi->min = spi_min;
  spi->max = spi_max;
  return msg;
}

std::expected<NlMessage, std::error_code> BuildAddSa(const SaSpec& spec) {
  const auto algorithms = MapAlgorithms(spec.algorithms);
  if (!algorithms) return std::unexpected(algorithms.error());
  const KernelAlgorithms& k = *algorithms;
  const KernelOp op = AddSaOp(spec.algorithms.encr);
  if (spec.encr_key.size() != k.encr_key_size || spec.integ_key.size() != k.integ_key_size ||
      spec.replay_window > XFRMA_REPLAY_ESN_MAX) {  // the kernel's limit: 4096 packets
    return std::unexpected(KernelError(EINVAL, op));
  }

  NlMessage msg;
  nlmsghdr* nlh = mnl_nlmsg_put_header(msg.header());
  nlh->nlmsg_type = spec.inbound ? XFRM_MSG_UPDSA : XFRM_MSG_NEWSA;
  nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;

  auto* sa = PutExtra<xfrm_usersa_info>(nlh);
  sa->saddr = ToXfrmAddress(spec.id.src);
  sa->id.daddr = ToXfrmAddress(spec.id.dst);
  sa->id.spi = Htonl(spec.id.spi);
  sa->id.proto = spec.id.proto;
  sa->family = FamilyOf(spec.id.src);
  if (spec.transport) {
    // Transport mode: the selector of the child's first selector pair, addresses only (charon
    // leaves protocol and ports off the SA), no flags.
    sa->mode = XFRM_MODE_TRANSPORT;
    sa->sel = SelectorOf(spec.selector_src, spec.selector_dst);
  } else {
    // Tunnel mode: the selector stays zeroed and flags = XFRM_STATE_AF_UNSPEC (charon).
    sa->mode = XFRM_MODE_TUNNEL;
    sa->flags = XFRM_STATE_AF_UNSPEC;
  }
  sa->reqid = spec.reqid;
  sa->lft.soft_byte_limit = Limit(spec.lifetime.soft_bytes);
  sa->lft.hard_byte_limit = Limit(spec.lifetime.hard_bytes);
  sa->lft.soft_packet_limit = Limit(spec.lifetime.soft_packets);
  sa->lft.hard_packet_limit = Limit(spec.lifetime.hard_packets);
  sa->lft.soft_add_expires_seconds = spec.lifetime.soft_add_seconds;
  sa->lft.hard_add_expires_seconds = spec.lifetime.hard_add_seconds;

  const ByteView encr_key = spec.encr_key.Reveal();
  if (k.aead) {
    auto* aead = static_cast<xfrm_algo_aead*>(
        ReserveAttr(nlh, XFRMA_ALG_AEAD, sizeof(xfrm_algo_aead) + encr_key.size()));
    CopyName(aead->alg_name, k.encr_name);
    aead->alg_key_len = static_cast<unsigned>(encr_key.size() * 8);
    aead->alg_icv_len = k.icv_bits;
    std::memcpy(aead->alg_key, encr_key.data(), encr_key.size());
  } else {
    auto* crypt = static_cast<xfrm_algo*>(
        ReserveAttr(nlh, XFRMA_ALG_CRYPT, sizeof(xfrm_algo) + encr_key.size()));
    CopyName(crypt->alg_name, k.encr_name);
    crypt->alg_key_len = static_cast<unsigned>(encr_key.size() * 8);
    std::memcpy(crypt->alg_key, encr_key.data(), encr_key.size());

    const ByteView integ_key = spec.integ_key.Reveal();
    if (k.auth_trunc) {
      auto* auth = static_cast<xfrm_algo_auth*>(
          ReserveAttr(nlh, XFRMA_ALG_AUTH_TRUNC, sizeof(xfrm_algo_auth) + integ_key.size()));
      CopyName(auth->alg_name, k.auth_name);
      auth->alg_key_len = static_cast<unsigned>(integ_key.size() * 8);
      auth->alg_trunc_len = k.trunc_bits;
      std::memcpy(auth->alg_key, integ_key.data(), integ_key.size());
    } else {
      auto* auth = static_cast<xfrm_algo*>(
          ReserveAttr(nlh, XFRMA_ALG_AUTH, sizeof(xfrm_algo) + integ_key.size()));
      CopyName(auth->alg_name, k.auth_name);
      auth->alg_key_len = static_cast<unsigned>(integ_key.size() * 8);
      std::memcpy(auth->alg_key, integ_key.data(), integ_key.size());
    }
  }

  if (spec.encap) {
    xfrm_encap_tmpl encap;
    std::memset(&encap, 0, sizeof(encap));
    encap.encap_type = UDP_ENCAP_ESPINUDP;  // RFC 3948
    encap.encap_sport = Htons(spec.encap->sport);
    encap.encap_dport = Htons(spec.encap->dport);
    mnl_attr_put(nlh, XFRMA_ENCAP, sizeof(encap), &encap);
  }

  // charon: XFRMA_REPLAY_ESN_VAL with ESN or a window beyond the legacy 32, else the u8 field.
  std::uint32_t window = spec.replay_window;
  if (spec.algorithms.esn && window == 0) window = 1;  // the kernel refuses ESN without one
  if (spec.algorithms.esn || window > 32) {
    const std::uint32_t bmp_words = (window + 31) / 32;
    auto* replay = static_cast<xfrm_replay_state_esn*>(
        ReserveAttr(nlh, XFRMA_REPLAY_ESN_VAL, sizeof(xfrm_replay_state_esn) + bmp_words * 4));
    replay->bmp_len = bmp_words;
    replay->replay_window = window;
    if (spec.algorithms.esn) sa->flags |= XFRM_STATE_ESN;
  } else {
    sa->replay_window = static_cast<std::uint8_t>(window);
  }

  PutMark(nlh, spec.id.mark);
  PutIfId(nlh, spec.if_id);
  return msg;
}

namespace {

NlMessage BuildSaId(const SaId& id, std::uint16_t type) {
  NlMessage msg;
  nlmsghdr* nlh = mnl_nlmsg_put_header(msg.header());
  nlh->nlmsg_type = type;
  nlh->nlmsg_flags = type == XFRM_MSG_GETSA ? NLM_F_REQUEST : NLM_F_REQUEST | NLM_F_ACK;
  auto* sa_id = PutExtra<xfrm_usersa_id>(nlh);
  sa_id->daddr = ToXfrmAddress(id.dst);
  sa_id->spi = Htonl(id.spi);
  sa_id->family = FamilyOf(id.dst);
  sa_id->proto = id.proto;
  PutMark(nlh, id.mark);
  return msg;
}

}  // namespace

NlMessage BuildDelSa(const SaId& id) { return BuildSaId(id, XFRM_MSG_DELSA); }
NlMessage BuildGetSa(const SaId& id) { return BuildSaId(id, XFRM_MSG_GETSA); }

std::expected<NlMessage, std::error_code> BuildMovedSa(const nlmsghdr* current, const SaMove* to) {
  if (current->nlmsg_type != XFRM_MSG_NEWSA ||
      current->nlmsg_len < NLMSG_LENGTH(sizeof(xfrm_usersa_info)) ||
      current->nlmsg_len + NLA_HDRLEN + sizeof(xfrm_encap_tmpl) > NlMessage::kCapacity)
    return std::unexpected(KernelError(EPROTO, KernelOp::kQuerySa));
  NlMessage msg;
  nlmsghdr* nlh = mnl_nlmsg_put_header(msg.header());
  nlh->nlmsg_type = XFRM_MSG_NEWSA;
  nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
  auto* sa = PutExtra<xfrm_usersa_info>(nlh);
  std::memcpy(sa, mnl_nlmsg_get_payload(current), sizeof(*sa));
  if (to != nullptr) {
    const auto moved = [sa](xfrm_address_t& address, const IpAddress& next, xfrm_address_t& sel,
                            std::uint8_t prefix) {
      // A host selector of the old address (transport mode) follows it.
      const std::size_t bits = sa->family == AF_INET6 ? 128 : 32;
      if (prefix == bits && std::memcmp(&sel, &address, bits / 8) == 0) sel = ToXfrmAddress(next);
      address = ToXfrmAddress(next);
    };
    moved(sa->saddr, to->src, sa->sel.saddr, sa->sel.prefixlen_s);
    moved(sa->id.daddr, to->dst, sa->sel.daddr, sa->sel.prefixlen_d);
    sa->family = FamilyOf(to->dst);
  }
  ForEachAttr(current, sizeof(xfrm_usersa_info), [nlh, to](const nlattr* attr) {
    if (mnl_attr_get_type(attr) != XFRMA_ENCAP || to == nullptr)
      mnl_attr_put(nlh, mnl_attr_get_type(attr), mnl_attr_get_payload_len(attr),
                   mnl_attr_get_payload(attr));
    return false;
  });
  if (to != nullptr && to->encap) {
    xfrm_encap_tmpl encap;
    std::memset(&encap, 0, sizeof(encap));
    encap.encap_type = UDP_ENCAP_ESPINUDP;
    encap.encap_sport = Htons(to->encap->sport);
    encap.encap_dport = Htons(to->encap->dport);
    mnl_attr_put(nlh, XFRMA_ENCAP, sizeof(encap), &encap);
  }
  return msg;
}

NlMessage BuildAddPolicy(const PolicySpec& spec, bool update) {
  NlMessage msg;
  nlmsghdr* nlh = mnl_nlmsg_put_header(msg.header());
  nlh->nlmsg_type = update ? XFRM_MSG_UPDPOLICY : XFRM_MSG_NEWPOLICY;
  nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
  auto* policy = PutExtra<xfrm_userpolicy_info>(nlh);
  policy->sel = SelectorOf(spec.id);
  policy->dir = static_cast<std::uint8_t>(spec.id.dir);
  policy->priority = spec.priority;
  policy->action = XFRM_POLICY_ALLOW;
  policy->share = XFRM_SHARE_ANY;
  // Policies never expire (charon).
  policy->lft.soft_byte_limit = XFRM_INF;
  policy->lft.hard_byte_limit = XFRM_INF;
  policy->lft.soft_packet_limit = XFRM_INF;
  policy->lft.hard_packet_limit = XFRM_INF;

  if (spec.reqid != 0) {
    auto* tmpl = static_cast<xfrm_user_tmpl*>(ReserveAttr(nlh, XFRMA_TMPL, sizeof(xfrm_user_tmpl)));
    std::memset(tmpl, 0, sizeof(*tmpl));
    tmpl->id.spi = Htonl(spec.tmpl_spi);  // 0 except in the OUT template
    tmpl->id.proto = IPPROTO_ESP;
    tmpl->family = FamilyOf(spec.tmpl_src);
    tmpl->reqid = spec.reqid;
    if (spec.transport) {
      tmpl->mode = XFRM_MODE_TRANSPORT;  // no endpoint addresses (charon: tunnel mode only)
    } else {
      tmpl->id.daddr = ToXfrmAddress(spec.tmpl_dst);
      tmpl->saddr = ToXfrmAddress(spec.tmpl_src);
      tmpl->mode = XFRM_MODE_TUNNEL;
    }
    tmpl->aalgos = ~0u;
    tmpl->ealgos = ~0u;
    tmpl->calgos = ~0u;
  }
  PutMark(nlh, spec.id.mark);
  PutIfId(nlh, spec.id.if_id);
  return msg;
}

NlMessage BuildGetPolicy(const PolicyId& id) {
  NlMessage msg = BuildDelPolicy(id);
  nlmsghdr* nlh = msg.header();
  nlh->nlmsg_type = XFRM_MSG_GETPOLICY;
  nlh->nlmsg_flags = NLM_F_REQUEST;
  return msg;
}

std::expected<std::uint64_t, std::error_code> ParsePolicyUseTime(const nlmsghdr* nlh) {
  if (nlh->nlmsg_type != XFRM_MSG_NEWPOLICY ||
      mnl_nlmsg_get_payload_len(nlh) < sizeof(xfrm_userpolicy_info)) {
    return std::unexpected(KernelError(EBADMSG, KernelOp::kQueryPolicy));
  }
  xfrm_userpolicy_info info;
  std::memcpy(&info, mnl_nlmsg_get_payload(nlh), sizeof(info));
  return info.curlft.use_time;
}

NlMessage BuildDelPolicy(const PolicyId& id) {
  NlMessage msg;
  nlmsghdr* nlh = mnl_nlmsg_put_header(msg.header());
  nlh->nlmsg_type = XFRM_MSG_DELPOLICY;
  nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
  auto* policy_id = PutExtra<xfrm_userpolicy_id>(nlh);
  policy_id->sel = SelectorOf(id);
  policy_id->dir = static_cast<std::uint8_t>(id.dir);
  PutMark(nlh, id.mark);
  PutIfId(nlh, id.if_id);
  return msg;
}

xfrm_userpolicy_info BuildBypassPolicy(PolicyDir dir, int family) {
  xfrm_userpolicy_info policy;
  std::memset(&policy, 0, sizeof(policy));
  policy.action = XFRM_POLICY_ALLOW;
  policy.sel.family = static_cast<std::uint16_t>(family);
  policy.dir = static_cast<std::uint8_t>(dir);
  return policy;
}

std::expected<std::uint32_t, std::error_code> ParseAllocSpiReply(const nlmsghdr* nlh) {
  if (nlh->nlmsg_type != XFRM_MSG_NEWSA ||
      mnl_nlmsg_get_payload_len(nlh) < sizeof(xfrm_usersa_info)) {
    return std::unexpected(KernelError(EBADMSG, KernelOp::kAllocSpi));
  }
  xfrm_usersa_info info;
  std::memcpy(&info, mnl_nlmsg_get_payload(nlh), sizeof(info));
  return Htonl(info.id.spi);
}

std::expected<SaCounters, std::error_code> ParseSaCounters(const nlmsghdr* nlh) {
  if (nlh->nlmsg_type != XFRM_MSG_NEWSA ||
      mnl_nlmsg_get_payload_len(nlh) < sizeof(xfrm_usersa_info)) {
    return std::unexpected(KernelError(EBADMSG, KernelOp::kQuerySa));
  }
  xfrm_usersa_info info;
  std::memcpy(&info, mnl_nlmsg_get_payload(nlh), sizeof(info));
  SaCounters counters;
  counters.bytes = info.curlft.bytes;
  counters.packets = info.curlft.packets;
  if (info.curlft.use_time != 0) {
    counters.last_use = std::chrono::seconds(static_cast<std::int64_t>(info.curlft.use_time));
  }
  SecureWipe(&info, sizeof(info));
  return counters;
}

std::optional<KernelEvent> ParseXfrmEvent(ByteView message) {
  if (message.size() < sizeof(nlmsghdr)) return std::nullopt;
  const auto* nlh = reinterpret_cast<const nlmsghdr*>(message.data());
  if (nlh->nlmsg_len < sizeof(nlmsghdr) || nlh->nlmsg_len > message.size()) return std::nullopt;
  const std::size_t payload = mnl_nlmsg_get_payload_len(nlh);
  const auto* data = static_cast<const std::uint8_t*>(mnl_nlmsg_get_payload(nlh));

  switch (nlh->nlmsg_type) {
    case XFRM_MSG_EXPIRE: {
      if (payload < sizeof(xfrm_user_expire)) return std::nullopt;
      xfrm_user_expire expire;
      std::memcpy(&expire, data, sizeof(expire));
      ExpireEvent event;
      const std::uint16_t family = expire.state.family;
      event.sa.src = FromXfrmAddress(expire.state.saddr, family);
      event.sa.dst = FromXfrmAddress(expire.state.id.daddr, family);
      event.sa.spi = Htonl(expire.state.id.spi);
      event.sa.proto = expire.state.id.proto;
      event.sa.mark = MarkFromAttr(FindAttr(nlh, MNL_ALIGN(sizeof(expire)), XFRMA_MARK));
      event.reqid = expire.state.reqid;
      event.hard = expire.hard != 0;
      return event;
    }
    case XFRM_MSG_ACQUIRE: {
      if (payload < sizeof(xfrm_user_acquire)) return std::nullopt;
      xfrm_user_acquire acquire;
      std::memcpy(&acquire, data, sizeof(acquire));
      AcquireEvent event;
      const xfrm_selector& sel = acquire.sel;
      event.src = SubnetOf(sel.saddr, sel.family, sel.prefixlen_s);
      event.dst = SubnetOf(sel.daddr, sel.family, sel.prefixlen_d);
      const std::size_t fixed = MNL_ALIGN(sizeof(acquire));
      event.mark = MarkFromAttr(FindAttr(nlh, fixed, XFRMA_MARK));
      // The reqid is in the template of the policy that matched.
      const nlattr* tmpl_attr = FindAttr(nlh, fixed, XFRMA_TMPL);
      if (tmpl_attr != nullptr && mnl_attr_get_payload_len(tmpl_attr) >= sizeof(xfrm_user_tmpl)) {
        xfrm_user_tmpl tmpl;
        std::memcpy(&tmpl, mnl_attr_get_payload(tmpl_attr), sizeof(tmpl));
        event.reqid = tmpl.reqid;
      }
      return event;
    }
    case XFRM_MSG_MAPPING: {
      if (payload < sizeof(xfrm_user_mapping)) return std::nullopt;
      xfrm_user_mapping mapping;
      std::memcpy(&mapping, data, sizeof(mapping));
      MappingEvent event;
      const std::uint16_t family = mapping.id.family;
      event.sa.src = FromXfrmAddress(mapping.old_saddr, family);
      event.sa.dst = FromXfrmAddress(mapping.id.daddr, family);
      event.sa.spi = Htonl(mapping.id.spi);
      event.sa.proto = mapping.id.proto;
      event.new_src = FromXfrmAddress(mapping.new_saddr, family);
      event.new_sport = Htons(mapping.new_sport);
      return event;
    }
    default:
      return std::nullopt;
  }
}

}  // namespace minivpn::xfrm
