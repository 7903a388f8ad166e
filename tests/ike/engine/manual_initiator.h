// A hand-driven IKEv2 initiator for tests against a responder Engine: it builds each message
// itself (so tests can break any field), derives the keys with crypto/ and protects requests
// with ike/wire/protect.h. Not an engine: no retransmission, no state machine.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <optional>
#include <vector>

#include "crypto/key_exchange.h"
#include "crypto/keymat.h"
#include "crypto/prf.h"
#include "crypto/random.h"
#include "crypto/sk_cipher.h"
#include "ike/wire/codec.h"
#include "ike/engine/engine.h"
#include "ike/engine/engine_payloads.h"
#include "ike/wire/protect.h"
#include "tests/ike/engine/engine_test_util.h"

namespace minivpn::ike::test {

class ManualInitiator {
 public:
  ManualInitiator(Engine& responder, TimePoint now, std::uint64_t seed = 5,
                  Endpoint local = {Ip("192.0.2.1"), 500}, Endpoint remote = {Ip("192.0.2.2"), 500})
      : responder_(responder), now_(now), rng_(seed), local_(local), remote_(remote) {
    spi_i = rng_.Next<std::uint64_t>() | 1;
    nonce_i.resize(32);
    rng_.Fill(nonce_i);
    ke = std::move(*crypto::KeyExchange::Generate(crypto::DhGroup::kCurve25519));
  }

  // 1.2: SA KE Ni N(NATD_S_IP) N(NATD_D_IP), offering aes256gcm16-prfsha256-x25519.
  Message DefaultInit() const {
    Message m;
    m.header =
        Header{.spi_i = spi_i, .exchange = ExchangeType::kIkeSaInit, .flags = kFlagInitiator};
    m.payloads.push_back(MakePayload(PayloadType::kSa, OfferIke({GcmX25519()}, {})));
    m.payloads.push_back(
        MakePayload(PayloadType::kKe, KePayload{.group = ke->group(), .data = ke->public_value()}));
    m.payloads.push_back(MakePayload(PayloadType::kNonce, NoncePayload{.data = nonce_i}));
    m.payloads.push_back(
        MakeNotify(NotifyType::kNatDetectionSourceIp, NatDetectionHash(spi_i, 0, local_)));
    m.payloads.push_back(
        MakeNotify(NotifyType::kNatDetectionDestinationIp, NatDetectionHash(spi_i, 0, remote_)));
    return m;
  }

  // Sends raw bytes from `from` (default: our endpoint) and returns what the responder sent.
  std::vector<Datagram> SendBytes(const Bytes& data, std::optional<Endpoint> from = std::nullopt) {
    responder_.HandleDatagram(
        Datagram{.local = remote_, .remote = from ? *from : local_, .data = data}, now_);
    return responder_.TakeDatagrams();
  }
  std::vector<Datagram> Send(const Message& m, std::optional<Endpoint> from = std::nullopt) {
    return SendBytes(Encode(m), from);
  }
  static std::vector<Message> Unprotected(const std::vector<Datagram>& replies) {
    std::vector<Message> out;
    for (const auto& d : replies) {
      auto m = Decode(d.data);
      EXPECT_TRUE(m.has_value());
      if (m) out.push_back(*m);
    }
    return out;
  }

  // Runs IKE_SA_INIT with `m` (default request) and derives the keys. False if the responder
  // did not answer with an acceptable response.
  bool CompleteInit(std::optional<Message> request = std::nullopt) {
    Message m = request ? *request : DefaultInit();
    init_request = Encode(m);
    auto replies = Unprotected(SendBytes(init_request));
    if (replies.size() != 1) return false;
    const Message& r = replies[0];
    const auto* ke_r = r.Find(PayloadType::kKe);
    const auto* no_r = r.Find(PayloadType::kNonce);
    if (!ke_r || !no_r) return false;
    init_response = Encode(r);
    spi_r = r.header.spi_r;
    nonce_r = std::get<NoncePayload>(no_r->body).data;
    auto shared = ke->ComputeShared(std::get<KePayload>(ke_r->body).data);
    if (!shared) return false;
    prf.emplace(*crypto::Prf::Create(crypto::PrfId::kHmacSha2_256));
    SecretBytes skeyseed = crypto::ComputeSkeyseed(*prf, nonce_i, nonce_r, *shared);
    auto keys = crypto::DeriveIkeKeys(*prf, skeyseed, nonce_i, nonce_r, spi_i, spi_r, {36, 0});
    crypto::SkSuite suite{crypto::EncrId::kAesGcm16, 256, crypto::IntegId::kNone};
    out.emplace(std::move(*crypto::SkCipher::Create(suite, std::move(keys.sk_ei), SecretBytes())));
    in.emplace(std::move(*crypto::SkCipher::Create(suite, std::move(keys.sk_er), SecretBytes())));
    sk_d = std::move(keys.sk_d);
    sk_pi = std::move(keys.sk_pi);
    sk_pr = std::move(keys.sk_pr);
    return true;
  }

  Bytes Protected(ExchangeType exchange, std::uint32_t mid, const std::vector<Payload>& payloads,
                  std::uint8_t flags = kFlagInitiator) {
    Header h{
        .spi_i = spi_i, .spi_r = spi_r, .exchange = exchange, .flags = flags, .message_id = mid};
    return Protect(h, payloads, *out, rng_);
  }

  // Decrypted payloads of each protected reply (nullopt for one that does not open).
  std::vector<std::optional<std::vector<Payload>>> Open(const std::vector<Datagram>& replies) {
    std::vector<std::optional<std::vector<Payload>>> result;
    for (const auto& d : replies) {
      auto m = Decode(d.data);
      if (!m) {
        result.push_back(std::nullopt);
        continue;
      }
      auto inner = Unprotect(d.data, *m, *in);
      result.push_back(inner ? std::optional(*inner) : std::nullopt);
    }
    return result;
  }

  // IDi AUTH SA TSi TSr with a correct PSK AUTH for `idi` (callers break what they want).
  std::vector<Payload> AuthPayloads(const IdPayload& idi, std::string_view psk = kPsk,
                                    std::uint32_t child_spi = 0xc1000001) {
    Payload id = MakePayload(PayloadType::kIdi, idi);
    SecretBytes key = SecretBytes::FromString(psk);
    SecretBytes auth =
        crypto::ComputePskAuth(*prf, key, init_request, nonce_r, sk_pi, EncodePayloadBody(id));
    std::vector<Payload> p;
    p.push_back(id);
    p.push_back(MakePayload(PayloadType::kAuth, AuthPayload{.method = AuthMethod::kSharedKeyMic,
                                                            .data = Bytes(auth.Reveal().begin(),
                                                                          auth.Reveal().end())}));
    p.push_back(MakePayload(PayloadType::kSa, OfferEsp({EspGcm()}, child_spi, false)));
    p.push_back(MakePayload(PayloadType::kTsi, ToTsPayload(Ts("0.0.0.0/0"))));
    p.push_back(MakePayload(PayloadType::kTsr, ToTsPayload(Ts("0.0.0.0/0"))));
    return p;
  }
  static IdPayload DefaultId() {
    return IdPayload{.id_type = IdType::kFqdn, .data = Bytes{'a', '.', 't', 'e', 's', 't'}};
  }

  // IKE_SA_INIT + IKE_AUTH with the default identity; true if the CHILD_SA came up.
  bool CompleteAuth() {
    if (!CompleteInit()) return false;
    auto replies = Open(SendBytes(Protected(ExchangeType::kIkeAuth, 1, AuthPayloads(DefaultId()))));
    if (replies.size() != 1 || !replies[0]) return false;
    return FindPayload(*replies[0], PayloadType::kAuth) &&
           FindPayload(*replies[0], PayloadType::kSa);
  }

  static constexpr std::string_view kPsk = "correct horse battery staple";

  std::uint64_t spi_i = 0, spi_r = 0;
  Bytes nonce_i, nonce_r, init_request, init_response;
  std::unique_ptr<crypto::KeyExchange> ke;
  std::optional<crypto::Prf> prf;
  SecretBytes sk_d, sk_pi, sk_pr;
  std::optional<crypto::SkCipher> out, in;

 private:
  Engine& responder_;
  TimePoint now_;
  crypto::SeededRandom rng_;
  Endpoint local_, remote_;
};

}  // namespace minivpn::ike::test
