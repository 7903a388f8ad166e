// Generates docs/ike-walkthrough.md ("an IKEv2 tunnel, message by message") from a directory of
// captured IKE messages (one UDP payload per .bin file, non-ESP marker removed, as
// tests/fixtures/charon/extract_ike.py writes them) and, optionally, the keys to open the
// encrypted ones. Not a test: an executable the docs are regenerated with.
//
//   walkthrough_gen DIR [--keys FILE] [--charon-log FILE] [--explain FILE] [--initiator ADDR]
//                   [--responder ADDR] [--float] [--pcap FILE]
//     DIR              *.bin messages; ordered by name when the names start with a digit,
//                      otherwise IKE_SA_INIT, IKE_AUTH, then by message ID, request first
//     --keys FILE      an ikev2_decryption_table (minivpnd's Wireshark export or strongSwan's
//                      save-keys) holding the IKE SA's SK_e/SK_a
//     --charon-log F   a charon log at ike=4 (the fixtures): SK_e/SK_a and g^ir from it, which
//                      also adds the key-derivation walk-through
//     --explain FILE   `minivpnctl explain` of the run's IKE SA (values hidden): the
//                      key-derivation walk-through when there is no charon log
//     --initiator/--responder ADDR   outer addresses (default 192.0.2.1 / 192.0.2.2)
//     --float          messages after IKE_SA_INIT used UDP 4500 (charon's NAT-T/MOBIKE float)
//     --pcap FILE      the capture the messages came from (default DIR/capture.pcap): when every
//                      message is found in it, times, addresses and ports come from it, and its
//                      ESP packets are counted per SPI
//
// Keys and the AUTH values are always redacted in the output.
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <tuple>
#include <vector>

#include "crypto/sk_cipher.h"
#include "ike/wire/codec.h"
#include "ike/wire/format.h"
#include "ike/observe/keymat_explain.h"
#include "ike/wire/protect.h"
#include "ike/observe/trace.h"
#include "ike/observe/wireshark_keys.h"

namespace fs = std::filesystem;
using namespace minivpn;       // NOLINT: a small tool
using namespace minivpn::ike;  // NOLINT

namespace {

// One UDP datagram of the capture (IKE with the non-ESP marker removed, or ESP).
struct Packet {
  std::int64_t time_us = 0;
  std::string src, dst;
  std::uint16_t sport = 0, dport = 0;
  bool esp = false;  // ESP in UDP 4500 (RFC 3948) or IP protocol 50
  Bytes payload;     // IKE message, or the ESP packet from the SPI on
};

struct Captured {
  std::string file;
  Bytes wire;
  Message message;
  std::optional<std::vector<Payload>> inner;
  const Packet* packet = nullptr;  // the same datagram in capture.pcap, if there is one
};

struct Keys {
  crypto::SkSuite suite{};
  SecretBytes sk_ei, sk_er, sk_ai, sk_ar;
  bool present = false;
};

Bytes ReadFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return Bytes(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// charon's "label => n bytes" hex dumps (see tests/fixtures/charon/README.md).
Bytes CharonValue(const std::vector<std::string>& lines, std::string_view label) {
  const std::string marker = "] " + std::string(label) + " => ";
  for (std::size_t i = 0; i < lines.size(); ++i) {
    const std::size_t at = lines[i].find(marker);
    if (at == std::string::npos) continue;
    const std::size_t size = std::stoul(lines[i].substr(at + marker.size()));
    Bytes value;
    for (std::size_t j = i + 1; j < lines.size() && value.size() < size; ++j) {
      const std::size_t colon = lines[j].find(": ");
      if (colon == std::string::npos) break;
      Append(value, FromHex(lines[j].substr(colon + 2, 47)));
    }
    value.resize(std::min(value.size(), size));
    return value;
  }
  return {};
}

std::string HexDump(ByteView data) {
  std::string out;
  for (std::size_t off = 0; off < data.size(); off += 16) {
    out += fmt::format("{:04x}:", off);
    for (std::size_t i = off; i < off + 16 && i < data.size(); ++i) {
      if (i % 8 == 0) out += ' ';
      out += fmt::format(" {:02x}", data[i]);
    }
    out += "\n";
  }
  return out;
}

std::string IpText(ByteView a) {
  if (a.size() == 4) return fmt::format("{}.{}.{}.{}", a[0], a[1], a[2], a[3]);
  TrafficSelector ts;  // reuse the trace's IPv6 text form through a one-selector payload
  std::string out;
  for (std::size_t i = 0; i + 1 < a.size(); i += 2) {
    if (!out.empty()) out += ':';
    out += fmt::format("{:x}", a[i] << 8 | a[i + 1]);
  }
  return out;
}

// The UDP 500/4500 and ESP packets of a classic pcap file (Ethernet, Linux cooked v1/v2, raw IP
// or BSD loopback link types; IPv4 or IPv6 without extension headers).
std::vector<Packet> ReadPcap(const fs::path& path) {
  const Bytes f = ReadFile(path);
  std::vector<Packet> out;
  if (f.size() < 24) return out;
  auto u32 = [&](std::size_t at, bool swap) {
    std::uint32_t v = std::uint32_t{f[at]} | std::uint32_t{f[at + 1]} << 8 |
                      std::uint32_t{f[at + 2]} << 16 | std::uint32_t{f[at + 3]} << 24;
    return swap ? __builtin_bswap32(v) : v;
  };
  const std::uint32_t magic = u32(0, false);
  bool swap = false, nanos = false;
  if (magic == 0xa1b2c3d4 || magic == 0xa1b23c4d) {
    nanos = magic == 0xa1b23c4d;
  } else if (magic == 0xd4c3b2a1 || magic == 0x4d3cb2a1) {
    swap = true;
    nanos = magic == 0x4d3cb2a1;
  } else {
    return out;
  }
  const std::uint32_t link = u32(20, swap);
  for (std::size_t at = 24; at + 16 <= f.size();) {
    const std::int64_t sec = u32(at, swap), frac = u32(at + 4, swap);
    const std::size_t len = u32(at + 8, swap);
    at += 16;
    if (at + len > f.size()) break;
    ByteView frame(f.data() + at, len);
    at += len;
    std::uint16_t proto = 0;  // ethertype
    std::size_t l3 = 0;
    if (link == 1 && frame.size() >= 14) {
      proto = static_cast<std::uint16_t>(frame[12] << 8 | frame[13]);
      l3 = 14;
      if (proto == 0x8100 && frame.size() >= 18) {
        proto = static_cast<std::uint16_t>(frame[16] << 8 | frame[17]);
        l3 = 18;
      }
    } else if (link == 113 && frame.size() >= 16) {
      proto = static_cast<std::uint16_t>(frame[14] << 8 | frame[15]);
      l3 = 16;
    } else if (link == 276 && frame.size() >= 20) {
      proto = static_cast<std::uint16_t>(frame[0] << 8 | frame[1]);
      l3 = 20;
    } else if ((link == 101 || link == 228 || link == 229) && !frame.empty()) {
      proto = (frame[0] >> 4) == 6 ? 0x86dd : 0x0800;
    } else if (link == 0 && frame.size() >= 4) {
      proto = frame[0] == 2 || frame[3] == 2 ? 0x0800 : 0x86dd;
      l3 = 4;
    } else {
      continue;
    }
    ByteView ip = frame.subspan(l3);
    Packet p;
    p.time_us = sec * 1000000 + (nanos ? frac / 1000 : frac);
    std::uint8_t next = 0;
    std::size_t l4 = 0;
    if (proto == 0x0800 && ip.size() >= 20) {
      l4 = std::size_t{ip[0] & 0x0fu} * 4;
      next = ip[9];
      p.src = IpText(ip.subspan(12, 4));
      p.dst = IpText(ip.subspan(16, 4));
    } else if (proto == 0x86dd && ip.size() >= 40) {
      l4 = 40;
      next = ip[6];
      p.src = IpText(ip.subspan(8, 16));
      p.dst = IpText(ip.subspan(24, 16));
    } else {
      continue;
    }
    if (l4 > ip.size()) continue;
    ByteView data = ip.subspan(l4);
    if (next == 50) {  // ESP
      p.esp = true;
      p.payload.assign(data.begin(), data.end());
      out.push_back(std::move(p));
      continue;
    }
    if (next != 17 || data.size() < 8) continue;
    p.sport = static_cast<std::uint16_t>(data[0] << 8 | data[1]);
    p.dport = static_cast<std::uint16_t>(data[2] << 8 | data[3]);
    data = data.subspan(8);
    const bool natt = p.sport == 4500 || p.dport == 4500;
    if (!natt && p.sport != 500 && p.dport != 500) continue;
    if (natt) {
      if (data.size() == 1 && data[0] == 0xff) continue;  // NAT keepalive (RFC 3948 2.3)
      if (data.size() >= 4 && data[0] == 0 && data[1] == 0 && data[2] == 0 && data[3] == 0) {
        data = data.subspan(4);  // non-ESP marker: IKE follows
      } else {
        p.esp = true;
      }
    }
    p.payload.assign(data.begin(), data.end());
    out.push_back(std::move(p));
  }
  return out;
}

int Rank(ExchangeType t) {
  switch (t) {
    case ExchangeType::kIkeSaInit: return 0;
    case ExchangeType::kIkeAuth: return 1;
    default: return 2;
  }
}

// The explanation printed above each message, by exchange and direction.
std::string Explain(const Message& m) {
  const Header& h = m.header;
  const bool resp = h.is_response();
  switch (h.exchange) {
    case ExchangeType::kIkeSaInit:
      if (!resp) {
        return "The initiator opens the IKE SA (RFC 7296 1.2). Everything is in the clear. **SA** "
               "offers the IKE SA's algorithms (one or more proposals of ENCR, PRF, INTEG and KE "
               "transforms, 3.3); **KE** carries the initiator's Diffie-Hellman public value for "
               "the group it guesses the responder will pick (3.4); **Ni** is a fresh nonce "
               "(3.9). The two **NAT_DETECTION** notifies hash SPIs, addresses and ports so that "
               "each side can tell whether a NAT sits between them (2.23); the others announce "
               "extensions (RFC 7383 fragmentation, RFC 7427 hash algorithms, RFC 5685 redirect). "
               "The responder's SPI is still zero and the message ID is 0.";
      }
      return "The responder picks exactly one proposal and returns it in **SA** with its own "
             "**KE** and **Nr**, and chooses its SPI (now both SPIs name the IKE SA). After this "
             "message both sides compute g^ir from the two KE values and derive SKEYSEED and the "
             "seven SK_* keys (2.14, see *Key derivation* below); everything that follows is "
             "encrypted. A responder that wants another group answers with INVALID_KE_PAYLOAD "
             "instead, one under load with a COOKIE (2.6).";
    case ExchangeType::kIkeAuth:
      if (!resp) {
        return "The first encrypted message: a single **SK** payload whose ciphertext holds the "
               "real payloads (3.14). **IDi** says who the initiator is; **AUTH** proves it: for "
               "a pre-shared key it is prf(prf(PSK, \"Key Pad for IKEv2\"), <the initiator's "
               "IKE_SA_INIT request> | Nr | prf(SK_pi, IDi')) (2.15), so it also "
               "authenticates the unprotected first exchange. **IDr** names the responder the "
               "initiator expects. **SA**, **TSi** and **TSr** propose the first CHILD_SA (ESP) "
               "and the traffic it protects (2.9); the ESP proposal carries the initiator's "
               "inbound SPI.";
      }
      return "The responder verifies the initiator's AUTH, then proves its own identity the same "
             "way with SK_pr over its IKE_SA_INIT response and Ni. If it accepts the CHILD_SA it "
             "returns the chosen ESP proposal (with its inbound SPI) and the narrowed traffic "
             "selectors; both sides then derive KEYMAT from SK_d (2.17) and install the two ESP "
             "SAs. An error notify (here possibly NO_PROPOSAL_CHOSEN or TS_UNACCEPTABLE) leaves "
             "the IKE SA up without a CHILD_SA (1.2, 2.21.2).";
    case ExchangeType::kCreateChildSa:
      if (!resp) {
        return "CREATE_CHILD_SA (1.3) creates another CHILD_SA, or rekeys one (N(REKEY_SA) names "
               "the SPI being replaced) or the IKE SA itself (SA with an 8-octet SPI, no TS). "
               "A KE payload gives perfect forward secrecy: the new keys then also depend on a "
               "fresh Diffie-Hellman exchange.";
      }
      return "The answer to CREATE_CHILD_SA: the chosen proposal with the responder's SPI, its "
             "nonce (and KE with PFS). The new SA's keys come from prf+(SK_d, [g^ir |] Ni | Nr) "
             "(2.17), or for an IKE SA rekey from a new SKEYSEED (2.18).";
    case ExchangeType::kInformational:
      if (!resp) {
        return "INFORMATIONAL (1.4) carries notifies, DELETE payloads or nothing at all (an "
               "empty request is a liveness check, 2.4). Either side may send one; the message "
               "ID counts per direction, and every request gets a response.";
      }
      return "Every INFORMATIONAL request is answered, often with an empty SK payload; a "
             "DELETE for CHILD_SAs is answered with the SPIs of the paired SAs (1.4.1).";
  }
  return "";
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::cerr << "usage: walkthrough_gen DIR [--keys FILE] [--charon-log FILE] [--explain FILE]"
                 " [--initiator ADDR] [--responder ADDR] [--float] [--pcap FILE]\n";
    return 2;
  }
  const fs::path dir = argv[1];
  std::string keys_file, charon_log, explain_file, initiator = "192.0.2.1", responder = "192.0.2.2";
  bool floated = false, addresses_given = false;
  fs::path pcap = dir / "capture.pcap";
  for (int i = 2; i < argc; ++i) {
    const std::string arg = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::cerr << arg << " needs a value\n";
        std::exit(2);
      }
      return argv[++i];
    };
    if (arg == "--keys") {
      keys_file = value();
    } else if (arg == "--charon-log") {
      charon_log = value();
    } else if (arg == "--explain") {
      explain_file = value();
    } else if (arg == "--initiator") {
      initiator = value();
      addresses_given = true;
    } else if (arg == "--responder") {
      responder = value();
      addresses_given = true;
    } else if (arg == "--pcap") {
      pcap = value();
    } else if (arg == "--float") {
      floated = true;
    } else {
      std::cerr << "unknown option " << arg << "\n";
      return 2;
    }
  }

  // ---- messages ----
  std::vector<Captured> messages;
  for (const auto& entry : fs::directory_iterator(dir)) {
    if (entry.path().extension() != ".bin") continue;
    Captured c{entry.path().filename().string(), ReadFile(entry.path()), {}, std::nullopt};
    auto m = Decode(c.wire);
    if (!m) {
      std::cerr << c.file << ": " << Describe(m.error()) << "\n";
      return 1;
    }
    c.message = *m;
    messages.push_back(std::move(c));
  }
  if (messages.empty()) {
    std::cerr << "no .bin messages in " << dir << "\n";
    return 1;
  }
  const bool numbered = std::all_of(messages.begin(), messages.end(), [](const Captured& c) {
    return !c.file.empty() && c.file[0] >= '0' && c.file[0] <= '9';
  });
  std::sort(messages.begin(), messages.end(), [&](const Captured& a, const Captured& b) {
    if (numbered) return a.file < b.file;
    const Header& x = a.message.header;
    const Header& y = b.message.header;
    return std::tuple(Rank(x.exchange), !x.is_initiator(), x.message_id, x.is_response()) <
           std::tuple(Rank(y.exchange), !y.is_initiator(), y.message_id, y.is_response());
  });

  // ---- the capture: times, addresses and ports of the same datagrams, and the ESP traffic ----
  std::vector<Packet> packets;
  if (fs::exists(pcap)) packets = ReadPcap(pcap);
  std::vector<bool> used(packets.size(), false);
  std::size_t matched = 0;
  for (Captured& c : messages) {
    for (std::size_t i = 0; i < packets.size(); ++i) {
      if (used[i] || packets[i].esp || packets[i].payload != c.wire) continue;
      used[i] = true;
      c.packet = &packets[i];
      ++matched;
      break;
    }
  }
  const bool timed = matched == messages.size();
  std::int64_t start_us = 0;
  if (timed) {
    std::stable_sort(messages.begin(), messages.end(), [](const Captured& a, const Captured& b) {
      return a.packet->time_us < b.packet->time_us;
    });
    start_us = messages.front().packet->time_us;
    const Packet& first = *messages.front().packet;
    if (!addresses_given) {
      const bool by_initiator = messages.front().message.header.is_initiator();
      initiator = by_initiator ? first.src : first.dst;
      responder = by_initiator ? first.dst : first.src;
    }
  }

  // ---- keys ----
  Keys keys;
  std::optional<KeymatExplainInput> keymat;
  if (!keys_file.empty()) {
    std::ifstream in(keys_file);
    std::string line;
    std::getline(in, line);
    auto entry = ParseIkeDecryptionTableLine(line);
    if (!entry) {
      std::cerr << keys_file << ": " << entry.error() << "\n";
      return 1;
    }
    keys = {entry->suite,
            std::move(entry->sk_ei),
            std::move(entry->sk_er),
            std::move(entry->sk_ai),
            std::move(entry->sk_ar),
            true};
  }
  const Message* init_req = nullptr;
  const Message* init_resp = nullptr;
  for (const Captured& c : messages) {
    if (c.message.header.exchange != ExchangeType::kIkeSaInit) continue;
    (c.message.header.is_response() ? init_resp : init_req) = &c.message;
  }
  if (!charon_log.empty() && init_req != nullptr && init_resp != nullptr) {
    std::ifstream in(charon_log);
    std::vector<std::string> lines;
    for (std::string line; std::getline(in, line);) lines.push_back(line);
    // The negotiated suite from the responder's SA payload.
    const auto& sa = std::get<SaPayload>(init_resp->Find(PayloadType::kSa)->body);
    KeymatIkeSuite suite;
    for (const Transform& t : sa.proposals.at(0).transforms) {
      if (t.type == TransformType::kEncr) {
        suite.encr = static_cast<crypto::EncrId>(t.id);
        suite.encr_key_bits = t.key_length.value_or(256);
      }
      if (t.type == TransformType::kPrf) suite.prf = static_cast<crypto::PrfId>(t.id);
      if (t.type == TransformType::kInteg) suite.integ = static_cast<crypto::IntegId>(t.id);
      if (t.type == TransformType::kDh) suite.dh = static_cast<crypto::DhGroup>(t.id);
    }
    const auto& ni = std::get<NoncePayload>(init_req->Find(PayloadType::kNonce)->body).data;
    const auto& nr = std::get<NoncePayload>(init_resp->Find(PayloadType::kNonce)->body).data;
    auto derived = DeriveIkeKeymat(suite, init_resp->header.spi_i, init_resp->header.spi_r, ni, nr,
                                   SecretBytes(CharonValue(lines, "shared Diffie Hellman secret")));
    if (!derived) {
      std::cerr << derived.error() << "\n";
      return 1;
    }
    if (!keys.present) {
      keys = {{suite.encr, suite.encr_key_bits, suite.integ},
              derived->keys.sk_ei.Clone(),
              derived->keys.sk_er.Clone(),
              derived->keys.sk_ai.Clone(),
              derived->keys.sk_ar.Clone(),
              true};
    }
    keymat = std::move(*derived);
  }
  std::optional<crypto::SkCipher> from_i, from_r;
  if (keys.present) {
    auto ci = crypto::SkCipher::Create(keys.suite, keys.sk_ei.Clone(), keys.sk_ai.Clone());
    auto cr = crypto::SkCipher::Create(keys.suite, keys.sk_er.Clone(), keys.sk_ar.Clone());
    if (!ci || !cr) {
      std::cerr << "cannot key SK ciphers: " << (ci ? cr.error() : ci.error()) << "\n";
      return 1;
    }
    from_i.emplace(std::move(*ci));
    from_r.emplace(std::move(*cr));
    for (Captured& c : messages) {
      if (c.message.header.exchange == ExchangeType::kIkeSaInit) continue;
      if (c.message.payloads.empty() || c.message.payloads.back().type != PayloadType::kSk)
        continue;
      auto inner =
          Unprotect(c.wire, c.message, c.message.header.is_initiator() ? *from_i : *from_r);
      if (inner) c.inner = std::move(*inner);
    }
  }

  // ---- the page ----
  std::ostringstream out;
  out << "# An IKEv2 tunnel, message by message\n\n";
  out << "<!-- Generated by tests/ike/walkthrough_gen from " << dir.filename().string()
      << "; edit the generator, not this page. -->\n\n";
  out << "This page follows one IKEv2 tunnel (RFC 7296, pre-shared key) from the first packet to "
         "the last, with the real bytes of a captured run and minivpn's decoded trace of each "
         "message (`minivpnd --trace` prints the same trees). The initiator is "
      << initiator << ", the responder " << responder
      << ". Key values and AUTH values are redacted; the "
         "public values (SPIs, nonces, KE data, NAT-D hashes) are the real ones.\n\n";
  out << "How to read the traces: the first line is the summary (`sent`/`recv` as seen by the "
         "initiator, the peer's address[port], exchange, request/response, message ID, our "
         "role, the payload list); below it the IKE header (3.1) and each payload with its "
         "length. An encrypted message shows its single SK payload and, indented under "
         "`decrypted:`, the payloads that were inside it.\n\n";
  out << "The payloads you will meet (RFC 7296 section 3):\n\n"
         "| tag | payload | what it carries |\n|---|---|---|\n"
         "| SA | Security Association (3.3) | proposals: protocol (IKE or ESP), SPI, transforms "
         "(ENCR, PRF, INTEG, KE, ESN) |\n"
         "| KE | Key Exchange (3.4) | the Diffie-Hellman group and this side's public value |\n"
         "| No | Nonce (3.9) | 16-256 random octets; Ni and Nr feed every key derivation |\n"
         "| N(...) | Notify (3.10) | an error (type < 16384) or a status/capability |\n"
         "| IDi, IDr | Identification (3.5) | who the initiator is / whom it wants to reach |\n"
         "| AUTH | Authentication (3.8) | the proof of identity; with a PSK a PRF over the first "
         "message, the peer's nonce and the ID |\n"
         "| TSi, TSr | Traffic Selectors (3.13) | the address/port ranges the CHILD_SA protects |\n"
         "| SK | Encrypted and Authenticated (3.14) | IV, the encrypted inner payloads, ICV |\n"
         "| D | Delete (3.11) | the SAs (by SPI) the sender is removing |\n"
         "| CP | Configuration (3.15) | virtual-IP and DNS requests and replies |\n\n";
  out << "## The exchanges at a glance\n\n```text\n";
  auto event_for = [&](const Captured& c) {
    TraceEvent e;
    e.direction = c.message.header.is_initiator() ? Direction::kSent : Direction::kReceived;
    e.peer_address = responder;
    e.peer_port = floated && c.message.header.exchange != ExchangeType::kIkeSaInit ? 4500 : 500;
    if (timed) {
      e.offset = std::chrono::milliseconds((c.packet->time_us - start_us) / 1000);
      e.peer_port = e.direction == Direction::kSent ? c.packet->dport : c.packet->sport;
    }
    if (from_i) {
      e.sk_iv_size = from_i->iv_size();
      e.sk_icv_size = from_i->icv_size();
    }
    return e;
  };
  for (const Captured& c : messages) {
    out << TraceSummary(event_for(c), c.message, c.inner ? &*c.inner : nullptr) << "\n";
  }
  out << "```\n\n";
  if (timed) {
    out << "Times are from the capture (`" << pcap.filename().string()
        << "`), relative to the first IKE packet.\n";
  } else {
    out << "(No capture matched the messages, so every offset reads +0.000s.)\n";
  }
  // ESP packets per SPI (RFC 4303 2.1: the SPI is the first 4 octets).
  std::map<std::pair<std::string, std::uint32_t>, std::size_t> esp;
  for (const Packet& p : packets) {
    if (!p.esp || p.payload.size() < 8) continue;
    const std::uint32_t spi = std::uint32_t{p.payload[0]} << 24 |
                              std::uint32_t{p.payload[1]} << 16 | std::uint32_t{p.payload[2]} << 8 |
                              p.payload[3];
    ++esp[{p.src + " -> " + p.dst, spi}];
  }
  if (!esp.empty()) {
    out << "\nESP packets in the capture (encrypted with the CHILD_SA keys; the `esp_sa` table "
           "below opens them):\n\n```text\n";
    for (const auto& [key, count] : esp) {
      out << fmt::format("{}  SPI 0x{:08x}  {} packets\n", key.first, key.second, count);
    }
    out << "```\n";
  }
  int n = 0;
  for (const Captured& c : messages) {
    const Header& h = c.message.header;
    out << fmt::format("\n## {}. {} {} {} ({} -> {})\n\n", ++n, ToString(h.exchange),
                       h.is_response() ? "response" : "request", h.message_id,
                       h.is_initiator() ? "initiator" : "responder",
                       h.is_initiator() ? "responder" : "initiator");
    out << Explain(c.message) << "\n\n";
    out << fmt::format("Bytes ({} octets, `{}`):\n\n```text\n{}```\n\n", c.wire.size(), c.file,
                       HexDump(c.wire));
    out << "Decoded:\n\n```text\n"
        << TraceVerbose(event_for(c), c.message, c.inner ? &*c.inner : nullptr) << "```\n";
  }
  std::string explain_text;
  if (keymat) {
    explain_text = ExplainKeymat(*keymat);
  } else if (!explain_file.empty()) {
    std::ifstream in(explain_file);
    explain_text.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    if (explain_text.empty()) {
      std::cerr << "cannot read " << explain_file << "\n";
      return 1;
    }
  }
  if (!explain_text.empty()) {
    out << "\n## Key derivation\n\n"
           "After IKE_SA_INIT both peers hold Ni, Nr, both SPIs and the Diffie-Hellman shared "
           "secret g^ir. Everything else follows from these with the negotiated PRF. This is "
           "`minivpnctl explain` for the run above (values hidden; `--show-secrets` prints "
           "them):\n\n```text\n"
        << explain_text << "```\n";
  }
  out << "\n## Decrypting a capture in Wireshark\n\n"
         "With key export enabled for a connection, minivpnd appends one line per IKE SA to "
         "`ikev2_decryption_table` and two per CHILD_SA to `esp_sa` (mode 0600), in the format "
         "of Wireshark's user tables and of strongSwan's save-keys plugin. Copy them into a "
         "Wireshark profile directory (`~/.config/wireshark/`) or pass them to tshark, and the "
         "SK payloads above and the ESP packets open. The lines for this run look like this "
         "(keys redacted):\n\n```text\n";
  if (init_resp != nullptr && keys.present) {
    const auto encr = WiresharkIkeEncrName(keys.suite.encr, keys.suite.key_bits);
    const auto integ = WiresharkIkeIntegName(
        crypto::IsAead(keys.suite.encr) ? crypto::IntegId::kNone : keys.suite.integ);
    auto redacted = [](const SecretBytes& k) {
      return k.empty() ? std::string() : fmt::format("<SK, {} octets>", k.size());
    };
    out << fmt::format("{:016x},{:016x},{},{},\"{}\",{},{},\"{}\"\n", init_resp->header.spi_i,
                       init_resp->header.spi_r, redacted(keys.sk_ei), redacted(keys.sk_er),
                       encr ? *encr : "?", redacted(keys.sk_ai), redacted(keys.sk_ar),
                       integ ? *integ : "?");
  }
  out << fmt::format(
      "\"IPv4\",\"{0}\",\"{1}\",\"0x<SPI the responder chose>\",\"<ESP cipher>\","
      "\"0x<KEYMAT encr_i>\",\"<ESP auth or NULL>\",\"0x<KEYMAT integ_i>\"\n"
      "\"IPv4\",\"{1}\",\"{0}\",\"0x<SPI the initiator chose>\",\"<ESP cipher>\","
      "\"0x<KEYMAT encr_r>\",\"<ESP auth or NULL>\",\"0x<KEYMAT integ_r>\"\n",
      initiator, responder);
  out << "```\n\nThe first file's fields are SPIi, SPIr, SK_ei, SK_er, the encryption algorithm, "
         "SK_ai, SK_ar and the integrity algorithm (AEAD ciphers have no SK_a); the second's are "
         "protocol, source, destination, SPI, cipher, key (with the 4-octet salt for GCM and "
         "ChaCha20-Poly1305), authentication algorithm and key, one line per direction. tshark "
         "decrypts ESP only when asked:\n\n```sh\n"
         "tshark -r capture.pcap -o esp.enable_encryption_decode:TRUE -V\n```\n";
  std::string command = "walkthrough_gen";
  for (int i = 1; i < argc; ++i) command += std::string(" ") + argv[i];
  out << "\n## How this page is made\n\n"
         "The messages are the UDP payloads of one run, one `.bin` file each (non-ESP marker "
         "removed); the capture next to them supplies times and ports; the keys come from the "
         "run's `ikev2_decryption_table` (or, for the charon fixtures, from charon's ike=4 log). "
         "The page is regenerated, never edited, with:\n\n```sh\n"
      << command << " > docs/ike-walkthrough.md\n```\n";
  std::cout << out.str();
  return 0;
}
