// Field-by-field checks of the NETLINK_XFRM messages against charon 5.9.8's values
// (kernel-reference.md).
#include "xfrm/netlink_messages.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <libmnl/libmnl.h>
#include <linux/udp.h>
#include <netinet/in.h>

#include <cstring>
#include <map>
#include <set>
#include <string>

namespace minivpn::xfrm {
namespace {

using crypto::EncrId;
using crypto::IntegId;

IpAddress Ip(std::string_view text) { return *IpAddress::Parse(text); }

// Attribute type -> payload of a message whose fixed header has `fixed` octets.
std::map<std::uint16_t, ByteView> Attributes(const NlMessage& msg, std::size_t fixed) {
  std::map<std::uint16_t, ByteView> attrs;
  const nlmsghdr* nlh = msg.header();
  const auto* tail = static_cast<const char*>(mnl_nlmsg_get_payload_tail(nlh));
  const auto* attr = static_cast<const nlattr*>(mnl_nlmsg_get_payload_offset(nlh, fixed));
  while (reinterpret_cast<const char*>(attr) < tail &&
         mnl_attr_ok(attr, static_cast<int>(tail - reinterpret_cast<const char*>(attr)))) {
    attrs[mnl_attr_get_type(attr)] =
        ByteView(static_cast<const std::uint8_t*>(mnl_attr_get_payload(attr)),
                 mnl_attr_get_payload_len(attr));
    attr = mnl_attr_next(attr);
  }
  EXPECT_EQ(reinterpret_cast<const char*>(attr), tail) << "attributes do not fill the message";
  return attrs;
}

template <typename T>
T Fixed(const NlMessage& msg) {
  EXPECT_GE(mnl_nlmsg_get_payload_len(msg.header()), sizeof(T));
  T value;
  std::memcpy(&value, mnl_nlmsg_get_payload(msg.header()), sizeof(T));
  return value;
}

template <typename T>
T As(ByteView payload) {
  EXPECT_GE(payload.size(), sizeof(T));
  T value;
  std::memset(&value, 0, sizeof(value));
  std::memcpy(&value, payload.data(), std::min(sizeof(T), payload.size()));
  return value;
}

std::uint32_t Addr4(const xfrm_address_t& a) { return ntohl(a.a4); }

Bytes Pattern(std::size_t n, std::uint8_t start) {
  Bytes b(n);
  for (std::size_t i = 0; i < n; ++i) b[i] = static_cast<std::uint8_t>(start + i);
  return b;
}

SaSpec SeedSa(bool inbound, EncrId encr, std::uint16_t bits, IntegId integ) {
  SaSpec spec;
  spec.inbound = inbound;
  if (inbound) {
    spec.id = {Ip("192.0.2.2"), Ip("192.0.2.1"), 0xc903137c, IPPROTO_ESP, Mark{}};
    spec.replay_window = 32;
  } else {
    spec.id = {Ip("192.0.2.1"), Ip("192.0.2.2"), 0xc7902371, IPPROTO_ESP, Mark{12, 0xffffffff}};
    spec.replay_window = 0;
  }
  spec.reqid = 1;
  spec.algorithms = {encr, bits, integ, false};
  const auto k = MapAlgorithms(spec.algorithms);
  EXPECT_TRUE(k.has_value());
  spec.encr_key = SecretBytes(Pattern(k->encr_key_size, 0x10));
  spec.integ_key = SecretBytes(Pattern(k->integ_key_size, 0x80));
  spec.lifetime.soft_add_seconds = 3412;
  spec.lifetime.hard_add_seconds = 3960;
  return spec;
}

void ExpectCharonSaHeader(const NlMessage& msg, const SaSpec& spec) {
  const nlmsghdr* nlh = msg.header();
  EXPECT_EQ(nlh->nlmsg_type, spec.inbound ? XFRM_MSG_UPDSA : XFRM_MSG_NEWSA);
  EXPECT_EQ(nlh->nlmsg_flags, NLM_F_REQUEST | NLM_F_ACK);
  const auto sa = Fixed<xfrm_usersa_info>(msg);
  // Tunnel mode: zeroed selector.
  const xfrm_selector zero{};
  EXPECT_EQ(std::memcmp(&sa.sel, &zero, sizeof(zero)), 0);
  EXPECT_EQ(Addr4(sa.saddr), spec.inbound ? 0xc0000202u : 0xc0000201u);
  EXPECT_EQ(Addr4(sa.id.daddr), spec.inbound ? 0xc0000201u : 0xc0000202u);
  EXPECT_EQ(ntohl(sa.id.spi), spec.id.spi);
  EXPECT_EQ(sa.id.proto, IPPROTO_ESP);
  EXPECT_EQ(sa.family, AF_INET);
  EXPECT_EQ(sa.mode, XFRM_MODE_TUNNEL);
  EXPECT_EQ(sa.reqid, 1u);
  EXPECT_EQ(sa.lft.soft_byte_limit, XFRM_INF);
  EXPECT_EQ(sa.lft.hard_byte_limit, XFRM_INF);
  EXPECT_EQ(sa.lft.soft_packet_limit, XFRM_INF);
  EXPECT_EQ(sa.lft.hard_packet_limit, XFRM_INF);
  EXPECT_EQ(sa.lft.soft_add_expires_seconds, 3412u);
  EXPECT_EQ(sa.lft.hard_add_expires_seconds, 3960u);
  EXPECT_EQ(sa.lft.soft_use_expires_seconds, 0u);
  EXPECT_EQ(sa.lft.hard_use_expires_seconds, 0u);
  EXPECT_EQ(sa.seq, 0u);
}

TEST(BuildAllocSpi, CharonRangeAndTunnelMode) {
  const NlMessage msg = BuildAllocSpi(Ip("192.0.2.2"), Ip("192.0.2.1"), 7);
  EXPECT_EQ(msg.header()->nlmsg_type, XFRM_MSG_ALLOCSPI);
  EXPECT_EQ(msg.header()->nlmsg_flags, NLM_F_REQUEST);
  EXPECT_EQ(msg.header()->nlmsg_len, NLMSG_HDRLEN + NLMSG_ALIGN(sizeof(xfrm_userspi_info)));
  const auto spi = Fixed<xfrm_userspi_info>(msg);
  EXPECT_EQ(Addr4(spi.info.saddr), 0xc0000202u);
  EXPECT_EQ(Addr4(spi.info.id.daddr), 0xc0000201u);
  EXPECT_EQ(spi.info.id.proto, IPPROTO_ESP);
  EXPECT_EQ(spi.info.id.spi, 0u);
  EXPECT_EQ(spi.info.mode, XFRM_MODE_TUNNEL);
  EXPECT_EQ(spi.info.family, AF_INET);
  EXPECT_EQ(spi.info.reqid, 7u);
  EXPECT_EQ(spi.min, 0xc0000000u);
  EXPECT_EQ(spi.max, 0xcfffffffu);
  EXPECT_EQ(Attributes(msg, sizeof(xfrm_userspi_info)).size(), 0u);
}

TEST(BuildAddSa, OutboundAes256Gcm16LikeCharon) {
  const SaSpec spec = SeedSa(false, EncrId::kAesGcm16, 256, IntegId::kNone);
  const auto msg = BuildAddSa(spec);
  ASSERT_TRUE(msg.has_value());
  ExpectCharonSaHeader(*msg, spec);
  const auto sa = Fixed<xfrm_usersa_info>(*msg);
  EXPECT_EQ(sa.replay_window, 0);
  EXPECT_EQ(sa.flags, XFRM_STATE_AF_UNSPEC);
  const auto attrs = Attributes(*msg, sizeof(xfrm_usersa_info));
  ASSERT_EQ(attrs.size(), 2u);  // AEAD and MARK only
  const ByteView aead_attr = attrs.at(XFRMA_ALG_AEAD);
  ASSERT_EQ(aead_attr.size(), sizeof(xfrm_algo_aead) + 36);
  const auto aead = As<xfrm_algo_aead>(aead_attr);
  EXPECT_STREQ(aead.alg_name, "rfc4106(gcm(aes))");
  EXPECT_EQ(aead.alg_key_len, 288u);  // key incl. the 4-octet salt
  EXPECT_EQ(aead.alg_icv_len, 128u);
  EXPECT_EQ(Bytes(aead_attr.begin() + sizeof(xfrm_algo_aead), aead_attr.end()), Pattern(36, 0x10));
  const auto mark = As<xfrm_mark>(attrs.at(XFRMA_MARK));
  EXPECT_EQ(mark.v, 12u);
  EXPECT_EQ(mark.m, 0xffffffffu);
}

TEST(BuildAddSa, InboundIsUpdsaWithWindow32AndNoMark) {
  const SaSpec spec = SeedSa(true, EncrId::kAesGcm16, 256, IntegId::kNone);
  const auto msg = BuildAddSa(spec);
  ASSERT_TRUE(msg.has_value());
  ExpectCharonSaHeader(*msg, spec);
  const auto sa = Fixed<xfrm_usersa_info>(*msg);
  EXPECT_EQ(sa.replay_window, 32);
  EXPECT_EQ(sa.flags, XFRM_STATE_AF_UNSPEC);
  const auto attrs = Attributes(*msg, sizeof(xfrm_usersa_info));
  EXPECT_EQ(attrs.size(), 1u);
  EXPECT_FALSE(attrs.contains(XFRMA_MARK));
  EXPECT_FALSE(attrs.contains(XFRMA_REPLAY_ESN_VAL));
}

TEST(BuildAddSa, GcmIcvSizes) {
  const std::pair<EncrId, std::uint32_t> cases[] = {
      {EncrId::kAesGcm8, 64}, {EncrId::kAesGcm12, 96}, {EncrId::kAesGcm16, 128}};
  for (const auto& [encr, icv] : cases) {
    for (const std::uint16_t bits : {128, 192, 256}) {
      const auto msg = BuildAddSa(SeedSa(false, encr, bits, IntegId::kNone));
      ASSERT_TRUE(msg.has_value());
      const auto aead =
          As<xfrm_algo_aead>(Attributes(*msg, sizeof(xfrm_usersa_info)).at(XFRMA_ALG_AEAD));
      EXPECT_STREQ(aead.alg_name, "rfc4106(gcm(aes))");
      EXPECT_EQ(aead.alg_icv_len, icv);
      EXPECT_EQ(aead.alg_key_len, bits + 32u);
    }
  }
}

TEST(BuildAddSa, ChaCha20Poly1305) {
  const auto msg = BuildAddSa(SeedSa(false, EncrId::kChaCha20Poly1305, 256, IntegId::kNone));
  ASSERT_TRUE(msg.has_value());
  const auto attrs = Attributes(*msg, sizeof(xfrm_usersa_info));
  const auto aead = As<xfrm_algo_aead>(attrs.at(XFRMA_ALG_AEAD));
  EXPECT_STREQ(aead.alg_name, "rfc7539esp(chacha20,poly1305)");
  EXPECT_EQ(aead.alg_key_len, 288u);
  EXPECT_EQ(aead.alg_icv_len, 128u);
}

TEST(BuildAddSa, CbcWithTruncatedHmac) {
  struct Case {
    IntegId integ;
    const char* name;
    std::uint32_t key_bits;
    std::uint32_t trunc_bits;
  };
  const Case cases[] = {{IntegId::kHmacSha2_256_128, "hmac(sha256)", 256, 128},
                        {IntegId::kHmacSha2_384_192, "hmac(sha384)", 384, 192},
                        {IntegId::kHmacSha2_512_256, "hmac(sha512)", 512, 256}};
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    const auto msg = BuildAddSa(SeedSa(false, EncrId::kAesCbc, 128, c.integ));
    ASSERT_TRUE(msg.has_value());
    const auto attrs = Attributes(*msg, sizeof(xfrm_usersa_info));
    ASSERT_EQ(attrs.size(), 3u);  // CRYPT, AUTH_TRUNC, MARK
    const ByteView crypt_attr = attrs.at(XFRMA_ALG_CRYPT);
    const auto crypt = As<xfrm_algo>(crypt_attr);
    EXPECT_STREQ(crypt.alg_name, "cbc(aes)");
    EXPECT_EQ(crypt.alg_key_len, 128u);
    EXPECT_EQ(Bytes(crypt_attr.begin() + sizeof(xfrm_algo), crypt_attr.end()), Pattern(16, 0x10));
    const ByteView auth_attr = attrs.at(XFRMA_ALG_AUTH_TRUNC);
    const auto auth = As<xfrm_algo_auth>(auth_attr);
    EXPECT_STREQ(auth.alg_name, c.name);
    EXPECT_EQ(auth.alg_key_len, c.key_bits);
    EXPECT_EQ(auth.alg_trunc_len, c.trunc_bits);
    EXPECT_EQ(Bytes(auth_attr.begin() + sizeof(xfrm_algo_auth), auth_attr.end()),
              Pattern(c.key_bits / 8, 0x80));
    EXPECT_FALSE(attrs.contains(XFRMA_ALG_AUTH));
  }
}

TEST(BuildAddSa, HmacSha1UsesLegacyAuthAttribute) {
  const auto msg = BuildAddSa(SeedSa(false, EncrId::kAesCbc, 256, IntegId::kHmacSha1_96));
  ASSERT_TRUE(msg.has_value());
  const auto attrs = Attributes(*msg, sizeof(xfrm_usersa_info));
  EXPECT_FALSE(attrs.contains(XFRMA_ALG_AUTH_TRUNC));
  const auto auth = As<xfrm_algo>(attrs.at(XFRMA_ALG_AUTH));
  EXPECT_STREQ(auth.alg_name, "hmac(sha1)");
  EXPECT_EQ(auth.alg_key_len, 160u);
  EXPECT_EQ(As<xfrm_algo>(attrs.at(XFRMA_ALG_CRYPT)).alg_key_len, 256u);
}

TEST(BuildAddSa, AesCtrNameAndNonce) {
  const auto msg = BuildAddSa(SeedSa(false, EncrId::kAesCtr, 128, IntegId::kHmacSha2_256_128));
  ASSERT_TRUE(msg.has_value());
  const auto crypt = As<xfrm_algo>(Attributes(*msg, sizeof(xfrm_usersa_info)).at(XFRMA_ALG_CRYPT));
  EXPECT_STREQ(crypt.alg_name, "rfc3686(ctr(aes))");
  EXPECT_EQ(crypt.alg_key_len, 160u);
}

TEST(BuildAddSa, EsnUsesReplayEsnVal) {
  SaSpec in = SeedSa(true, EncrId::kAesGcm16, 256, IntegId::kNone);
  in.algorithms.esn = true;
  const auto msg = BuildAddSa(in);
  ASSERT_TRUE(msg.has_value());
  const auto sa = Fixed<xfrm_usersa_info>(*msg);
  EXPECT_EQ(sa.flags, XFRM_STATE_AF_UNSPEC | XFRM_STATE_ESN);
  EXPECT_EQ(sa.replay_window, 0);
  const ByteView esn_attr = Attributes(*msg, sizeof(xfrm_usersa_info)).at(XFRMA_REPLAY_ESN_VAL);
  ASSERT_EQ(esn_attr.size(), sizeof(xfrm_replay_state_esn) + 4);
  const auto esn = As<xfrm_replay_state_esn>(esn_attr);
  EXPECT_EQ(esn.bmp_len, 1u);
  EXPECT_EQ(esn.replay_window, 32u);
  EXPECT_EQ(esn.seq, 0u);
  EXPECT_EQ(esn.oseq, 0u);

  // Outbound with ESN: window 1 (charon 5.9.8), even when asked for 0.
  SaSpec out = SeedSa(false, EncrId::kAesGcm16, 256, IntegId::kNone);
  out.algorithms.esn = true;
  const auto out_msg = BuildAddSa(out);
  ASSERT_TRUE(out_msg.has_value());
  const auto out_esn = As<xfrm_replay_state_esn>(
      Attributes(*out_msg, sizeof(xfrm_usersa_info)).at(XFRMA_REPLAY_ESN_VAL));
  EXPECT_EQ(out_esn.replay_window, 1u);
  EXPECT_EQ(out_esn.bmp_len, 1u);
}

TEST(BuildAddSa, LargeWindowWithoutEsn) {
  SaSpec in = SeedSa(true, EncrId::kAesGcm16, 256, IntegId::kNone);
  in.replay_window = 1000;
  const auto msg = BuildAddSa(in);
  ASSERT_TRUE(msg.has_value());
  EXPECT_EQ(Fixed<xfrm_usersa_info>(*msg).flags, XFRM_STATE_AF_UNSPEC);
  const ByteView esn_attr = Attributes(*msg, sizeof(xfrm_usersa_info)).at(XFRMA_REPLAY_ESN_VAL);
  ASSERT_EQ(esn_attr.size(), sizeof(xfrm_replay_state_esn) + 32 * 4);
  const auto esn = As<xfrm_replay_state_esn>(esn_attr);
  EXPECT_EQ(esn.bmp_len, 32u);  // round_up(1000, 32) / 32
  EXPECT_EQ(esn.replay_window, 1000u);
}

TEST(BuildAddSa, NatTEncapsulation) {
  SaSpec out = SeedSa(false, EncrId::kAesGcm16, 256, IntegId::kNone);
  out.encap = UdpEncap{4500, 31337};
  const auto msg = BuildAddSa(out);
  ASSERT_TRUE(msg.has_value());
  const auto encap =
      As<xfrm_encap_tmpl>(Attributes(*msg, sizeof(xfrm_usersa_info)).at(XFRMA_ENCAP));
  EXPECT_EQ(encap.encap_type, UDP_ENCAP_ESPINUDP);
  EXPECT_EQ(ntohs(encap.encap_sport), 4500);
  EXPECT_EQ(ntohs(encap.encap_dport), 31337);
  const xfrm_address_t zero{};
  EXPECT_EQ(std::memcmp(&encap.encap_oa, &zero, sizeof(zero)), 0);
}

// charon's update_sa after a NAT mapping change: the SA the kernel answered GETSA with, created
// again at the new addresses with new encapsulation ports; keys, mark and the rest unchanged.
TEST(BuildMovedSa, NewAddressesAndEncapEverythingElseCopied) {
  SaSpec out = SeedSa(false, EncrId::kAesGcm16, 256, IntegId::kNone);
  out.encap = UdpEncap{4500, 31001};
  const auto current = BuildAddSa(out);  // a NEWSA like the kernel's GETSA answer
  ASSERT_TRUE(current.has_value());
  const SaMove to{
      .src = Ip("192.0.2.1"), .dst = Ip("198.51.100.8"), .encap = UdpEncap{4500, 40001}};
  const auto moved = BuildMovedSa(current->header(), &to);
  ASSERT_TRUE(moved.has_value());
  EXPECT_EQ(moved->header()->nlmsg_type, XFRM_MSG_NEWSA);
  EXPECT_EQ(moved->header()->nlmsg_flags, NLM_F_REQUEST | NLM_F_ACK);
  const auto sa = Fixed<xfrm_usersa_info>(*moved);
  EXPECT_EQ(Addr4(sa.saddr), 0xc0000201u);
  EXPECT_EQ(Addr4(sa.id.daddr), 0xc6336408u);
  EXPECT_EQ(ntohl(sa.id.spi), out.id.spi);
  EXPECT_EQ(sa.lft.hard_add_expires_seconds, 3960u);
  const auto before = Attributes(*current, sizeof(xfrm_usersa_info));
  const auto after = Attributes(*moved, sizeof(xfrm_usersa_info));
  ASSERT_EQ(before.size(), after.size());
  for (const auto& [type, payload] : before) {
    ASSERT_TRUE(after.contains(type)) << type;
    if (type == XFRMA_ENCAP) continue;
    EXPECT_TRUE(std::equal(payload.begin(), payload.end(), after.at(type).begin(),
                           after.at(type).end()))
        << "attribute " << type << " changed";
  }
  const auto encap = As<xfrm_encap_tmpl>(after.at(XFRMA_ENCAP));
  EXPECT_EQ(encap.encap_type, UDP_ENCAP_ESPINUDP);
  EXPECT_EQ(ntohs(encap.encap_sport), 4500);
  EXPECT_EQ(ntohs(encap.encap_dport), 40001);
  // Without a destination: the SA as it was (the undo of a failed move).
  const auto same = BuildMovedSa(current->header(), nullptr);
  ASSERT_TRUE(same.has_value());
  EXPECT_TRUE(std::equal(current->bytes().begin() + sizeof(nlmsghdr), current->bytes().end(),
                         same->bytes().begin() + sizeof(nlmsghdr), same->bytes().end()));
}

TEST(BuildMovedSa, TransportSelectorFollowsTheAddressAndEncapCanGo) {
  SaSpec in = SeedSa(true, EncrId::kAesGcm16, 256, IntegId::kNone);
  in.transport = true;
  in.selector_src = Subnet::Host(Ip("192.0.2.2"));
  in.selector_dst = Subnet::Host(Ip("192.0.2.1"));
  in.encap = UdpEncap{31001, 4500};
  auto current = BuildAddSa(in);
  ASSERT_TRUE(current.has_value());
  current->header()->nlmsg_type = XFRM_MSG_NEWSA;  // as GETSA answers
  const SaMove to{.src = Ip("192.0.2.9"), .dst = Ip("192.0.2.1"), .encap = std::nullopt};
  const auto moved = BuildMovedSa(current->header(), &to);
  ASSERT_TRUE(moved.has_value());
  const auto sa = Fixed<xfrm_usersa_info>(*moved);
  EXPECT_EQ(Addr4(sa.saddr), 0xc0000209u);
  EXPECT_EQ(Addr4(sa.sel.saddr), 0xc0000209u);
  EXPECT_EQ(Addr4(sa.sel.daddr), 0xc0000201u);
  EXPECT_FALSE(Attributes(*moved, sizeof(xfrm_usersa_info)).contains(XFRMA_ENCAP));
  // Not an SA: refused.
  const NlMessage policy = BuildDelSa(in.id);
  EXPECT_FALSE(BuildMovedSa(policy.header(), &to).has_value());
}

TEST(BuildAddSa, ByteAndPacketLimits) {
  SaSpec out = SeedSa(false, EncrId::kAesGcm16, 256, IntegId::kNone);
  out.lifetime.soft_bytes = 1000;
  out.lifetime.hard_packets = 20;
  const auto sa = Fixed<xfrm_usersa_info>(*BuildAddSa(out));
  EXPECT_EQ(sa.lft.soft_byte_limit, 1000u);
  EXPECT_EQ(sa.lft.hard_byte_limit, XFRM_INF);
  EXPECT_EQ(sa.lft.soft_packet_limit, XFRM_INF);
  EXPECT_EQ(sa.lft.hard_packet_limit, 20u);
}

// Issue 21: a child's byte and packet lifetimes land in xfrm_lifetime_cfg as charon's add_sa
// puts them (kernel_netlink_ipsec.c: XFRM_LIMIT for the four volume limits, seconds as they are).
TEST(BuildAddSa, EveryLifetimeFieldAsCharonSetsIt) {
  SaSpec in = SeedSa(true, EncrId::kAesGcm16, 256, IntegId::kNone);
  in.lifetime = Lifetime{.soft_add_seconds = 3300,
                         .hard_add_seconds = 3960,
                         .soft_bytes = 950'000'000'000,
                         .hard_bytes = 1'100'000'000'000,
                         .soft_packets = 5000,
                         .hard_packets = 5500};
  const auto sa = Fixed<xfrm_usersa_info>(*BuildAddSa(in));
  EXPECT_EQ(sa.lft.soft_byte_limit, 950'000'000'000u);
  EXPECT_EQ(sa.lft.hard_byte_limit, 1'100'000'000'000u);
  EXPECT_EQ(sa.lft.soft_packet_limit, 5000u);
  EXPECT_EQ(sa.lft.hard_packet_limit, 5500u);
  EXPECT_EQ(sa.lft.soft_add_expires_seconds, 3300u);
  EXPECT_EQ(sa.lft.hard_add_expires_seconds, 3960u);
  EXPECT_EQ(sa.lft.soft_use_expires_seconds, 0u);
  EXPECT_EQ(sa.lft.hard_use_expires_seconds, 0u);
}

TEST(BuildAddSa, Ipv6Addresses) {
  SaSpec out = SeedSa(false, EncrId::kAesGcm16, 128, IntegId::kNone);
  out.id.src = Ip("2001:db8::1");
  out.id.dst = Ip("2001:db8::2");
  const auto sa = Fixed<xfrm_usersa_info>(*BuildAddSa(out));
  EXPECT_EQ(sa.family, AF_INET6);
  EXPECT_EQ(std::memcmp(&sa.saddr, out.id.src.bytes.data(), 16), 0);
  EXPECT_EQ(std::memcmp(&sa.id.daddr, out.id.dst.bytes.data(), 16), 0);
}

TEST(BuildAddSa, RejectsWrongKeysAndCombinations) {
  SaSpec short_key = SeedSa(false, EncrId::kAesGcm16, 256, IntegId::kNone);
  short_key.encr_key = SecretBytes(32);  // salt missing
  EXPECT_EQ(BuildAddSa(short_key).error(), std::errc::invalid_argument);
  SaSpec aead_with_integ = SeedSa(false, EncrId::kAesGcm16, 256, IntegId::kNone);
  aead_with_integ.algorithms.integ = IntegId::kHmacSha2_256_128;
  aead_with_integ.integ_key = SecretBytes(32);
  EXPECT_EQ(BuildAddSa(aead_with_integ).error(), std::errc::invalid_argument);
  SaSpec cbc_without_integ = SeedSa(false, EncrId::kAesCbc, 128, IntegId::kHmacSha2_256_128);
  cbc_without_integ.algorithms.integ = IntegId::kNone;
  EXPECT_EQ(BuildAddSa(cbc_without_integ).error(), std::errc::invalid_argument);
  SaSpec odd_bits = SeedSa(false, EncrId::kAesCbc, 128, IntegId::kHmacSha2_256_128);
  odd_bits.algorithms.encr_key_bits = 100;
  EXPECT_EQ(BuildAddSa(odd_bits).error(), std::errc::invalid_argument);
  SaSpec huge_window = SeedSa(true, EncrId::kAesGcm16, 256, IntegId::kNone);
  huge_window.replay_window = 1u << 20;
  EXPECT_EQ(BuildAddSa(huge_window).error(), std::errc::invalid_argument);
}

TEST(NlMessage, WipeClearsKeyBytes) {
  auto msg = BuildAddSa(SeedSa(false, EncrId::kAesGcm16, 256, IntegId::kNone));
  ASSERT_TRUE(msg.has_value());
  const std::uint8_t* raw = msg->bytes().data();
  const std::size_t len = msg->bytes().size();
  const Bytes key = Pattern(36, 0x10);
  EXPECT_NE(std::search(raw, raw + len, key.begin(), key.end()), raw + len);
  msg->Wipe();
  EXPECT_EQ(std::count(raw, raw + NlMessage::kCapacity, 0), NlMessage::kCapacity);
}

TEST(BuildDelSa, IdAndMark) {
  const SaId id{Ip("192.0.2.1"), Ip("192.0.2.2"), 0xc7902371, IPPROTO_ESP, Mark{12, 0xffffffff}};
  for (const bool get : {false, true}) {
    const NlMessage msg = get ? BuildGetSa(id) : BuildDelSa(id);
    EXPECT_EQ(msg.header()->nlmsg_type, get ? XFRM_MSG_GETSA : XFRM_MSG_DELSA);
    EXPECT_EQ(msg.header()->nlmsg_flags, get ? NLM_F_REQUEST : NLM_F_REQUEST | NLM_F_ACK);
    const auto sa_id = Fixed<xfrm_usersa_id>(msg);
    EXPECT_EQ(Addr4(sa_id.daddr), 0xc0000202u);
    EXPECT_EQ(ntohl(sa_id.spi), 0xc7902371u);
    EXPECT_EQ(sa_id.family, AF_INET);
    EXPECT_EQ(sa_id.proto, IPPROTO_ESP);
    const auto attrs = Attributes(msg, sizeof(xfrm_usersa_id));
    ASSERT_EQ(attrs.size(), 1u);
    EXPECT_EQ(As<xfrm_mark>(attrs.at(XFRMA_MARK)).v, 12u);
  }
  SaId unmarked = id;
  unmarked.mark = Mark{};
  EXPECT_EQ(Attributes(BuildDelSa(unmarked), sizeof(xfrm_usersa_id)).size(), 0u);
}

PolicySpec SeedPolicy(PolicyDir dir) {
  PolicySpec p;
  p.id = {*Subnet::Parse("0.0.0.0/0"), *Subnet::Parse("0.0.0.0/0"), dir, Mark{12, 0xffffffff}};
  p.priority = 399999;
  p.reqid = 1;
  const bool out = dir == PolicyDir::kOut;
  p.tmpl_src = Ip(out ? "192.0.2.1" : "192.0.2.2");
  p.tmpl_dst = Ip(out ? "192.0.2.2" : "192.0.2.1");
  p.tmpl_spi = out ? 0xc7902371 : 0;
  return p;
}

// XFRM interfaces (charon's if_id_in/if_id_out): XFRMA_IF_ID on the SA and on the policy (add,
// delete and query name it: the kernel tells policies apart by it); none without an id.
TEST(IfId, OnSaAndPolicyOnlyWhenSet) {
  SaSpec out = SeedSa(false, EncrId::kAesGcm16, 256, IntegId::kNone);
  out.id.mark = Mark{};
  out.if_id = 42;
  const auto sa = BuildAddSa(out);
  ASSERT_TRUE(sa.has_value());
  const auto sa_attrs = Attributes(*sa, sizeof(xfrm_usersa_info));
  ASSERT_TRUE(sa_attrs.contains(XFRMA_IF_ID));
  EXPECT_EQ(As<std::uint32_t>(sa_attrs.at(XFRMA_IF_ID)), 42u);
  EXPECT_FALSE(sa_attrs.contains(XFRMA_MARK));
  PolicySpec policy = SeedPolicy(PolicyDir::kIn);
  policy.id.mark = Mark{};
  policy.id.if_id = 42;
  const NlMessage add_msg = BuildAddPolicy(policy, false);
  const auto add = Attributes(add_msg, sizeof(xfrm_userpolicy_info));
  ASSERT_TRUE(add.contains(XFRMA_IF_ID));
  EXPECT_EQ(As<std::uint32_t>(add.at(XFRMA_IF_ID)), 42u);
  const NlMessage del = BuildDelPolicy(policy.id);
  EXPECT_TRUE(Attributes(del, sizeof(xfrm_userpolicy_id)).contains(XFRMA_IF_ID));
  const NlMessage get = BuildGetPolicy(policy.id);
  EXPECT_TRUE(Attributes(get, sizeof(xfrm_userpolicy_id)).contains(XFRMA_IF_ID));
  out.if_id = 0;
  const auto plain_sa = BuildAddSa(out);
  ASSERT_TRUE(plain_sa.has_value());
  EXPECT_FALSE(Attributes(*plain_sa, sizeof(xfrm_usersa_info)).contains(XFRMA_IF_ID));
  policy.id.if_id = 0;
  const NlMessage plain_policy = BuildAddPolicy(policy, false);
  EXPECT_FALSE(Attributes(plain_policy, sizeof(xfrm_userpolicy_info)).contains(XFRMA_IF_ID));
}

TEST(BuildAddPolicy, InFwdOutLikeCharon) {
  for (const PolicyDir dir : {PolicyDir::kIn, PolicyDir::kFwd, PolicyDir::kOut}) {
    for (const bool update : {false, true}) {
      SCOPED_TRACE(static_cast<int>(dir));
      const PolicySpec spec = SeedPolicy(dir);
      const NlMessage msg = BuildAddPolicy(spec, update);
      EXPECT_EQ(msg.header()->nlmsg_type, update ? XFRM_MSG_UPDPOLICY : XFRM_MSG_NEWPOLICY);
      EXPECT_EQ(msg.header()->nlmsg_flags, NLM_F_REQUEST | NLM_F_ACK);
      const auto p = Fixed<xfrm_userpolicy_info>(msg);
      EXPECT_EQ(p.sel.family, AF_INET);
      EXPECT_EQ(p.sel.prefixlen_s, 0);
      EXPECT_EQ(p.sel.prefixlen_d, 0);
      EXPECT_EQ(p.sel.proto, 0);
      EXPECT_EQ(p.sel.ifindex, 0);
      EXPECT_EQ(Addr4(p.sel.saddr), 0u);
      EXPECT_EQ(p.dir, static_cast<std::uint8_t>(dir));
      EXPECT_EQ(p.dir, dir == PolicyDir::kIn    ? XFRM_POLICY_IN
                       : dir == PolicyDir::kOut ? XFRM_POLICY_OUT
                                                : XFRM_POLICY_FWD);
      EXPECT_EQ(p.priority, 399999u);
      EXPECT_EQ(p.action, XFRM_POLICY_ALLOW);
      EXPECT_EQ(p.share, XFRM_SHARE_ANY);
      EXPECT_EQ(p.flags, 0);
      EXPECT_EQ(p.index, 0u);
      EXPECT_EQ(p.lft.soft_byte_limit, XFRM_INF);
      EXPECT_EQ(p.lft.hard_byte_limit, XFRM_INF);
      EXPECT_EQ(p.lft.soft_packet_limit, XFRM_INF);
      EXPECT_EQ(p.lft.hard_packet_limit, XFRM_INF);
      EXPECT_EQ(p.lft.soft_add_expires_seconds, 0u);
      EXPECT_EQ(p.lft.hard_add_expires_seconds, 0u);

      const auto attrs = Attributes(msg, sizeof(xfrm_userpolicy_info));
      ASSERT_EQ(attrs.size(), 2u);
      ASSERT_EQ(attrs.at(XFRMA_TMPL).size(), sizeof(xfrm_user_tmpl));
      const auto t = As<xfrm_user_tmpl>(attrs.at(XFRMA_TMPL));
      EXPECT_EQ(Addr4(t.saddr), dir == PolicyDir::kOut ? 0xc0000201u : 0xc0000202u);
      EXPECT_EQ(Addr4(t.id.daddr), dir == PolicyDir::kOut ? 0xc0000202u : 0xc0000201u);
      EXPECT_EQ(ntohl(t.id.spi), dir == PolicyDir::kOut ? 0xc7902371u : 0u);
      EXPECT_EQ(t.id.proto, IPPROTO_ESP);
      EXPECT_EQ(t.family, AF_INET);
      EXPECT_EQ(t.reqid, 1u);
      EXPECT_EQ(t.mode, XFRM_MODE_TUNNEL);
      EXPECT_EQ(t.share, 0);
      EXPECT_EQ(t.optional, 0);
      EXPECT_EQ(t.aalgos, ~0u);
      EXPECT_EQ(t.ealgos, ~0u);
      EXPECT_EQ(t.calgos, ~0u);
      const auto mark = As<xfrm_mark>(attrs.at(XFRMA_MARK));
      EXPECT_EQ(mark.v, 12u);
      EXPECT_EQ(mark.m, 0xffffffffu);
    }
  }
}

TEST(BuildAddPolicy, SelectorPrefixesAreMasked) {
  PolicySpec spec = SeedPolicy(PolicyDir::kOut);
  spec.id.src = *Subnet::Parse("10.1.2.3/16");
  spec.id.dst = *Subnet::Parse("10.2.255.255/17");
  spec.id.mark = Mark{};
  const NlMessage msg = BuildAddPolicy(spec, false);
  const auto p = Fixed<xfrm_userpolicy_info>(msg);
  EXPECT_EQ(Addr4(p.sel.saddr), 0x0a010000u);
  EXPECT_EQ(Addr4(p.sel.daddr), 0x0a028000u);
  EXPECT_EQ(p.sel.prefixlen_s, 16);
  EXPECT_EQ(p.sel.prefixlen_d, 17);
  EXPECT_FALSE(Attributes(msg, sizeof(xfrm_userpolicy_info)).contains(XFRMA_MARK));
}

// charon's ts2selector: the more specific protocol and each side's ports, in network order.
TEST(BuildAddPolicy, ProtocolAndPortsInTheSelector) {
  PolicySpec spec = SeedPolicy(PolicyDir::kOut);
  spec.id.src = *Subnet::Parse("10.1.0.0/16");
  spec.id.dst = *Subnet::Parse("10.2.0.0/16");
  spec.id.proto = 47;
  spec.id.sport = PortMatch{80, 0xffff};
  spec.id.dport = PortMatch{1024, 0xfc00};
  for (const NlMessage& msg : {BuildAddPolicy(spec, false), BuildAddPolicy(spec, true)}) {
    const auto p = Fixed<xfrm_userpolicy_info>(msg);
    EXPECT_EQ(p.sel.proto, 47);
    EXPECT_EQ(p.sel.sport, htons(80));
    EXPECT_EQ(p.sel.sport_mask, 0xffff);
    EXPECT_EQ(p.sel.dport, htons(1024));
    EXPECT_EQ(p.sel.dport_mask, htons(0xfc00));
    EXPECT_EQ(Addr4(p.sel.saddr), 0x0a010000u);
    EXPECT_EQ(Addr4(p.sel.daddr), 0x0a020000u);
    EXPECT_EQ(p.sel.prefixlen_s, 16);
    EXPECT_EQ(p.sel.family, AF_INET);
  }
  // The bytes on the wire: 1024 is 0x0400, its mask 0xfc00, big-endian.
  const auto p = Fixed<xfrm_userpolicy_info>(BuildAddPolicy(spec, false));
  const auto* dport = reinterpret_cast<const std::uint8_t*>(&p.sel.dport);
  const auto* dmask = reinterpret_cast<const std::uint8_t*>(&p.sel.dport_mask);
  EXPECT_EQ(dport[0], 0x04);
  EXPECT_EQ(dport[1], 0x00);
  EXPECT_EQ(dmask[0], 0xfc);
  EXPECT_EQ(dmask[1], 0x00);
  // DELPOLICY and GETPOLICY name the same selector, or the kernel finds another policy.
  for (const NlMessage& msg : {BuildDelPolicy(spec.id), BuildGetPolicy(spec.id)}) {
    const auto id = Fixed<xfrm_userpolicy_id>(msg);
    EXPECT_EQ(std::memcmp(&id.sel, &p.sel, sizeof(p.sel)), 0);
  }
  // Without protocol and ports: all zero, as before.
  const auto plain =
      Fixed<xfrm_userpolicy_info>(BuildAddPolicy(SeedPolicy(PolicyDir::kOut), false));
  EXPECT_EQ(plain.sel.proto, 0);
  EXPECT_EQ(plain.sel.sport_mask, 0);
  EXPECT_EQ(plain.sel.dport_mask, 0);
}

// Transport mode: the template has no endpoint addresses (charon sets them for tunnel mode
// only), the rest as in tunnel mode.
TEST(BuildAddPolicy, TransportTemplateWithoutAddresses) {
  for (const PolicyDir dir : {PolicyDir::kIn, PolicyDir::kOut}) {
    SCOPED_TRACE(static_cast<int>(dir));
    PolicySpec spec = SeedPolicy(dir);
    spec.transport = true;
    spec.id.src = *Subnet::Parse(dir == PolicyDir::kOut ? "192.0.2.1/32" : "192.0.2.2/32");
    spec.id.dst = *Subnet::Parse(dir == PolicyDir::kOut ? "192.0.2.2/32" : "192.0.2.1/32");
    spec.id.proto = 47;
    spec.id.mark = Mark{};
    const NlMessage msg = BuildAddPolicy(spec, false);
    const auto p = Fixed<xfrm_userpolicy_info>(msg);
    EXPECT_EQ(p.sel.proto, 47);
    EXPECT_EQ(p.sel.prefixlen_s, 32);
    EXPECT_EQ(p.sel.prefixlen_d, 32);
    const auto attrs = Attributes(msg, sizeof(xfrm_userpolicy_info));
    ASSERT_EQ(attrs.size(), 1u);  // the template; no mark
    const auto t = As<xfrm_user_tmpl>(attrs.at(XFRMA_TMPL));
    EXPECT_EQ(t.mode, XFRM_MODE_TRANSPORT);
    const xfrm_address_t zero{};
    EXPECT_EQ(std::memcmp(&t.saddr, &zero, sizeof(zero)), 0);
    EXPECT_EQ(std::memcmp(&t.id.daddr, &zero, sizeof(zero)), 0);
    EXPECT_EQ(ntohl(t.id.spi), dir == PolicyDir::kOut ? 0xc7902371u : 0u);
    EXPECT_EQ(t.id.proto, IPPROTO_ESP);
    EXPECT_EQ(t.family, AF_INET);
    EXPECT_EQ(t.reqid, 1u);
    EXPECT_EQ(t.aalgos, ~0u);
  }
}

// Transport mode: the SA's selector is the child's first selector pair (addresses only), no
// XFRM_STATE_AF_UNSPEC; tunnel mode keeps the zero selector and the flag.
TEST(BuildAddSa, TransportModeSelectorAndFlags) {
  for (const bool inbound : {false, true}) {
    SCOPED_TRACE(inbound);
    SaSpec spec = SeedSa(inbound, EncrId::kAesGcm16, 256, IntegId::kNone);
    spec.transport = true;
    spec.selector_src = *Subnet::Parse(inbound ? "192.0.2.2/32" : "192.0.2.1/32");
    spec.selector_dst = *Subnet::Parse(inbound ? "192.0.2.1/32" : "192.0.2.2/32");
    const auto msg = BuildAddSa(spec);
    ASSERT_TRUE(msg.has_value());
    const auto sa = Fixed<xfrm_usersa_info>(*msg);
    EXPECT_EQ(sa.mode, XFRM_MODE_TRANSPORT);
    EXPECT_EQ(sa.flags, 0);
    EXPECT_EQ(sa.sel.family, AF_INET);
    EXPECT_EQ(Addr4(sa.sel.saddr), inbound ? 0xc0000202u : 0xc0000201u);
    EXPECT_EQ(Addr4(sa.sel.daddr), inbound ? 0xc0000201u : 0xc0000202u);
    EXPECT_EQ(sa.sel.prefixlen_s, 32);
    EXPECT_EQ(sa.sel.prefixlen_d, 32);
    EXPECT_EQ(sa.sel.proto, 0);  // charon leaves protocol and ports off the SA
    EXPECT_EQ(sa.sel.sport_mask, 0);
    EXPECT_EQ(sa.sel.dport_mask, 0);
    EXPECT_EQ(Addr4(sa.saddr), inbound ? 0xc0000202u : 0xc0000201u);
    EXPECT_EQ(ntohl(sa.id.spi), spec.id.spi);
    EXPECT_EQ(sa.reqid, 1u);
  }
  // Subnets in the selector are masked as in policies.
  SaSpec wide = SeedSa(false, EncrId::kAesGcm16, 256, IntegId::kNone);
  wide.transport = true;
  wide.selector_src = *Subnet::Parse("10.1.2.3/16");
  wide.selector_dst = *Subnet::Parse("10.2.0.0/24");
  const auto w = Fixed<xfrm_usersa_info>(*BuildAddSa(wide));
  EXPECT_EQ(Addr4(w.sel.saddr), 0x0a010000u);
  EXPECT_EQ(w.sel.prefixlen_s, 16);
  EXPECT_EQ(w.sel.prefixlen_d, 24);

  // Tunnel mode ignores any selector: zero, with XFRM_STATE_AF_UNSPEC.
  SaSpec tunnel = SeedSa(false, EncrId::kAesGcm16, 256, IntegId::kNone);
  tunnel.selector_src = *Subnet::Parse("192.0.2.1/32");
  tunnel.selector_dst = *Subnet::Parse("192.0.2.2/32");
  const auto msg = BuildAddSa(tunnel);
  ASSERT_TRUE(msg.has_value());
  ExpectCharonSaHeader(*msg, tunnel);  // zero selector, XFRM_MODE_TUNNEL
  EXPECT_EQ(Fixed<xfrm_usersa_info>(*msg).flags, XFRM_STATE_AF_UNSPEC);
}

TEST(BuildDelPolicy, SelectorDirAndMark) {
  const PolicySpec spec = SeedPolicy(PolicyDir::kFwd);
  const NlMessage msg = BuildDelPolicy(spec.id);
  EXPECT_EQ(msg.header()->nlmsg_type, XFRM_MSG_DELPOLICY);
  EXPECT_EQ(msg.header()->nlmsg_flags, NLM_F_REQUEST | NLM_F_ACK);
  const auto id = Fixed<xfrm_userpolicy_id>(msg);
  EXPECT_EQ(id.dir, XFRM_POLICY_FWD);
  EXPECT_EQ(id.index, 0u);
  EXPECT_EQ(id.sel.family, AF_INET);
  const auto attrs = Attributes(msg, sizeof(xfrm_userpolicy_id));
  ASSERT_EQ(attrs.size(), 1u);
  EXPECT_EQ(As<xfrm_mark>(attrs.at(XFRMA_MARK)).v, 12u);
}

// The inactivity check asks for a policy's last use (charon's query_policy).
TEST(BuildGetPolicy, SelectorDirAndMarkWithoutAck) {
  const PolicySpec spec = SeedPolicy(PolicyDir::kIn);
  const NlMessage msg = BuildGetPolicy(spec.id);
  EXPECT_EQ(msg.header()->nlmsg_type, XFRM_MSG_GETPOLICY);
  EXPECT_EQ(msg.header()->nlmsg_flags, NLM_F_REQUEST);
  const auto id = Fixed<xfrm_userpolicy_id>(msg);
  EXPECT_EQ(id.dir, XFRM_POLICY_IN);
  EXPECT_EQ(id.sel.family, AF_INET);
  const auto attrs = Attributes(msg, sizeof(xfrm_userpolicy_id));
  ASSERT_EQ(attrs.size(), 1u);
  EXPECT_EQ(As<xfrm_mark>(attrs.at(XFRMA_MARK)).v, 12u);

  xfrm_userpolicy_info info;
  std::memset(&info, 0, sizeof(info));
  info.curlft.use_time = 1700000042;
  NlMessage reply;
  nlmsghdr* nlh = mnl_nlmsg_put_header(reply.header());
  nlh->nlmsg_type = XFRM_MSG_NEWPOLICY;
  std::memcpy(mnl_nlmsg_put_extra_header(nlh, sizeof(info)), &info, sizeof(info));
  EXPECT_EQ(ParsePolicyUseTime(reply.header()).value(), 1700000042u);
  NlMessage wrong;
  mnl_nlmsg_put_header(wrong.header())->nlmsg_type = XFRM_MSG_NEWPOLICY;  // no payload
  EXPECT_EQ(ParsePolicyUseTime(wrong.header()).error(), std::errc::bad_message);
}

TEST(BuildBypassPolicy, AllowWithFamilyOnly) {
  const auto p = BuildBypassPolicy(PolicyDir::kOut, AF_INET6);
  EXPECT_EQ(p.action, XFRM_POLICY_ALLOW);
  EXPECT_EQ(p.dir, XFRM_POLICY_OUT);
  EXPECT_EQ(p.sel.family, AF_INET6);
  EXPECT_EQ(p.priority, 0u);
  EXPECT_EQ(p.sel.prefixlen_s, 0);
}

TEST(MapAlgorithms, ErrorsNameTheModule) {
  const auto gcm = KernelError(ENOSYS, AddSaOp(EncrId::kAesGcm16)).message();
  EXPECT_NE(gcm.find("gcm"), std::string::npos) << gcm;
  const auto chacha = KernelError(ENOSYS, AddSaOp(EncrId::kChaCha20Poly1305)).message();
  EXPECT_NE(chacha.find("chacha20poly1305"), std::string::npos) << chacha;
  const auto cbc = KernelError(ENOENT, AddSaOp(EncrId::kAesCbc)).message();
  EXPECT_NE(cbc.find("authenc"), std::string::npos) << cbc;
  const auto esp = KernelError(EPROTONOSUPPORT, AddSaOp(EncrId::kAesGcm16)).message();
  EXPECT_NE(esp.find("load esp4"), std::string::npos) << esp;
  EXPECT_EQ(KernelError(EEXIST, KernelOp::kAddPolicy), std::errc::file_exists);
  const auto vti = KernelError(EOPNOTSUPP, KernelOp::kVtiCreate).message();
  EXPECT_NE(vti.find("ip_vti"), std::string::npos) << vti;
}

TEST(KernelCategory, OneCategoryPerOperationInEnumOrder) {
  std::set<std::string> names;
  for (int i = 0; i <= static_cast<int>(KernelOp::kOpen); ++i) {
    const auto op = static_cast<KernelOp>(i);
    const std::error_category& category = KernelCategory(op);
    EXPECT_TRUE(names.insert(category.name()).second) << category.name();
    EXPECT_EQ(&category, &KernelError(EINVAL, op).category());
  }
  EXPECT_STREQ(KernelCategory(KernelOp::kAllocSpi).name(), "xfrm ALLOCSPI");
  EXPECT_STREQ(KernelCategory(KernelOp::kOpen).name(), "open netlink socket");
  EXPECT_EQ(KernelError(ESRCH, KernelOp::kDelSa), std::errc::no_such_process);
}

// A kernel-style NEWSA message with the given usersa_info.
NlMessage NewSaReply(const xfrm_usersa_info& info) {
  NlMessage msg;
  nlmsghdr* nlh = mnl_nlmsg_put_header(msg.header());
  nlh->nlmsg_type = XFRM_MSG_NEWSA;
  std::memcpy(mnl_nlmsg_put_extra_header(nlh, sizeof(info)), &info, sizeof(info));
  return msg;
}

TEST(ParseReplies, AllocSpiAndCounters) {
  xfrm_usersa_info info{};
  info.id.spi = htonl(0xc1234567);
  info.curlft.bytes = 4242;
  info.curlft.packets = 7;
  info.curlft.use_time = 1700000000;
  const NlMessage reply = NewSaReply(info);
  EXPECT_EQ(ParseAllocSpiReply(reply.header()).value(), 0xc1234567u);
  const auto counters = ParseSaCounters(reply.header());
  ASSERT_TRUE(counters.has_value());
  EXPECT_EQ(counters->bytes, 4242u);
  EXPECT_EQ(counters->packets, 7u);
  EXPECT_EQ(counters->last_use, std::chrono::seconds(1700000000));

  info.curlft.use_time = 0;
  EXPECT_FALSE(ParseSaCounters(NewSaReply(info).header())->last_use.has_value());

  NlMessage wrong;
  mnl_nlmsg_put_header(wrong.header())->nlmsg_type = XFRM_MSG_NEWSA;  // no payload
  EXPECT_EQ(ParseSaCounters(wrong.header()).error(), std::errc::bad_message);
  EXPECT_EQ(ParseAllocSpiReply(wrong.header()).error(), std::errc::bad_message);
}

template <typename T>
NlMessage EventMessage(std::uint16_t type, const T& body, std::optional<Mark> mark = {},
                       const xfrm_user_tmpl* tmpl = nullptr) {
  NlMessage msg;
  nlmsghdr* nlh = mnl_nlmsg_put_header(msg.header());
  nlh->nlmsg_type = type;
  std::memcpy(mnl_nlmsg_put_extra_header(nlh, sizeof(T)), &body, sizeof(T));
  if (tmpl != nullptr) mnl_attr_put(nlh, XFRMA_TMPL, sizeof(*tmpl), tmpl);
  if (mark) {
    const xfrm_mark m{mark->value, mark->mask};
    mnl_attr_put(nlh, XFRMA_MARK, sizeof(m), &m);
  }
  return msg;
}

TEST(ParseXfrmEvent, ExpireSoftAndHard) {
  xfrm_user_expire expire{};
  expire.state.saddr.a4 = htonl(0xc0000201);
  expire.state.id.daddr.a4 = htonl(0xc0000202);
  expire.state.id.spi = htonl(0xc7902371);
  expire.state.id.proto = IPPROTO_ESP;
  expire.state.family = AF_INET;
  expire.state.reqid = 3;
  expire.hard = 1;
  const auto event =
      ParseXfrmEvent(EventMessage(XFRM_MSG_EXPIRE, expire, Mark{12, 0xffffffff}).bytes());
  ASSERT_TRUE(event.has_value());
  const ExpireEvent want{
      {Ip("192.0.2.1"), Ip("192.0.2.2"), 0xc7902371, IPPROTO_ESP, Mark{12, 0xffffffff}}, 3, true};
  EXPECT_EQ(std::get<ExpireEvent>(*event), want);

  expire.hard = 0;
  const auto soft = ParseXfrmEvent(EventMessage(XFRM_MSG_EXPIRE, expire).bytes());
  ASSERT_TRUE(soft.has_value());
  EXPECT_FALSE(std::get<ExpireEvent>(*soft).hard);
  EXPECT_EQ(std::get<ExpireEvent>(*soft).sa.mark, Mark{});
}

TEST(ParseXfrmEvent, AcquireTakesReqidFromTemplate) {
  xfrm_user_acquire acquire{};
  acquire.sel.family = AF_INET;
  acquire.sel.saddr.a4 = htonl(0x0a010005);
  acquire.sel.daddr.a4 = htonl(0x0a020007);
  acquire.sel.prefixlen_s = 32;
  acquire.sel.prefixlen_d = 32;
  xfrm_user_tmpl tmpl{};
  tmpl.reqid = 9;
  const auto event =
      ParseXfrmEvent(EventMessage(XFRM_MSG_ACQUIRE, acquire, Mark{5, 0xff}, &tmpl).bytes());
  ASSERT_TRUE(event.has_value());
  const AcquireEvent want{9, *Subnet::Parse("10.1.0.5/32"), *Subnet::Parse("10.2.0.7/32"),
                          Mark{5, 0xff}};
  EXPECT_EQ(std::get<AcquireEvent>(*event), want);
}

TEST(ParseXfrmEvent, Mapping) {
  xfrm_user_mapping mapping{};
  mapping.id.daddr.a4 = htonl(0xc0000201);
  mapping.id.spi = htonl(0xc903137c);
  mapping.id.family = AF_INET;
  mapping.id.proto = IPPROTO_ESP;
  mapping.old_saddr.a4 = htonl(0xc0000202);
  mapping.new_saddr.a4 = htonl(0xcb007105);
  mapping.old_sport = htons(4500);
  mapping.new_sport = htons(61000);
  const auto event = ParseXfrmEvent(EventMessage(XFRM_MSG_MAPPING, mapping).bytes());
  ASSERT_TRUE(event.has_value());
  const auto& m = std::get<MappingEvent>(*event);
  EXPECT_EQ(m.sa.src, Ip("192.0.2.2"));
  EXPECT_EQ(m.sa.dst, Ip("192.0.2.1"));
  EXPECT_EQ(m.sa.spi, 0xc903137cu);
  EXPECT_EQ(m.new_src, Ip("203.0.113.5"));
  EXPECT_EQ(m.new_sport, 61000);
}

TEST(ParseXfrmEvent, EveryTruncatedPrefixIsRejected) {
  xfrm_user_expire expire{};
  expire.state.family = AF_INET;
  const NlMessage msg = EventMessage(XFRM_MSG_EXPIRE, expire, Mark{12, 0xffffffff});
  const ByteView full = msg.bytes();
  ASSERT_TRUE(ParseXfrmEvent(full).has_value());
  for (std::size_t len = 0; len < full.size(); ++len) {
    EXPECT_FALSE(ParseXfrmEvent(full.first(len)).has_value()) << len;
  }
  // nlmsg_len claiming a short body.
  Bytes shortened(full.begin(), full.end());
  const std::uint32_t len = NLMSG_HDRLEN + sizeof(expire) - 1;
  std::memcpy(shortened.data(), &len, sizeof(len));
  EXPECT_FALSE(ParseXfrmEvent(shortened).has_value());
}

TEST(ParseXfrmEvent, IgnoresOtherTypesAndBrokenAttributes) {
  xfrm_user_expire expire{};
  expire.state.family = AF_INET;
  EXPECT_FALSE(ParseXfrmEvent(EventMessage(XFRM_MSG_NEWSA, expire).bytes()).has_value());
  // An attribute whose length runs past the message: the mark is not read from it.
  NlMessage msg = EventMessage(XFRM_MSG_EXPIRE, expire, Mark{12, 0xffffffff});
  Bytes broken(msg.bytes().begin(), msg.bytes().end());
  const std::size_t attr_offset = NLMSG_HDRLEN + MNL_ALIGN(sizeof(expire));
  const std::uint16_t bad_len = 200;
  std::memcpy(broken.data() + attr_offset, &bad_len, sizeof(bad_len));
  const auto event = ParseXfrmEvent(broken);
  ASSERT_TRUE(event.has_value());
  EXPECT_EQ(std::get<ExpireEvent>(*event).sa.mark, Mark{});
}

// Found by the netlink fuzzer (issue 18): attributes were bounded by nlmsg_len rounded up to 4, so
// an attribute ending up to 3 octets past the message was still read. Here nlmsg_len stops 2
// octets short of the mark attribute's end (the buffer holds them): the mark must not be read.
TEST(ParseXfrmEvent, AttributesEndAtNlmsgLenNotItsAlignment) {
  xfrm_user_expire expire{};
  expire.state.family = AF_INET;
  NlMessage msg = EventMessage(XFRM_MSG_EXPIRE, expire, Mark{12, 0xffffffff});
  Bytes bytes(msg.bytes().begin(), msg.bytes().end());
  const std::uint32_t len = static_cast<std::uint32_t>(bytes.size()) - 2;
  std::memcpy(bytes.data(), &len, sizeof(len));
  const auto event = ParseXfrmEvent(bytes);
  ASSERT_TRUE(event.has_value());
  EXPECT_EQ(std::get<ExpireEvent>(*event).sa.mark, Mark{});
}

}  // namespace
}  // namespace minivpn::xfrm
