// The engine's observability hooks (engine_observe.cc, issue 9): the trace sink for every
// exchange in both directions with decrypted inner payloads, the explain inputs of a live IKE SA
// against what the peer derived, and the Wireshark lines of a live SA against the kernel's keys
// and a real captured message.
#include <fmt/format.h>

#include <map>
#include <set>
#include <tuple>

#include "ike/wire/codec.h"
#include "ike/observe/keymat_explain.h"
#include "ike/observe/trace.h"
#include "ike/observe/wireshark_keys.h"
#include "tests/ike/engine/engine_test_util.h"

namespace minivpn::ike::test {
namespace {

using std::chrono::seconds;

std::string Hex(const SecretBytes& s) { return ToHex(s.Reveal()); }
std::string Text(const SecretBytes& s) {
  return std::string(reinterpret_cast<const char*>(s.Reveal().data()), s.size());
}

// What a test keeps of one TraceRecord (its references die with the call).
struct Seen {
  Direction direction;
  ExchangeType exchange;
  bool response;
  bool has_inner;
  std::vector<PayloadType> inner_types;
  std::size_t iv = 0, icv = 0;
  std::string verbose;
};

std::vector<PayloadType> Types(const std::vector<Payload>& payloads) {
  std::vector<PayloadType> out;
  for (const auto& p : payloads) out.push_back(p.type);
  return out;
}

bool Has(const std::vector<PayloadType>& types, PayloadType t) {
  return std::find(types.begin(), types.end(), t) != types.end();
}

class ObserveTest : public TwoPeers {
 protected:
  ObserveTest() : TwoPeers(Retaining()) {}
  static EngineConfig Retaining() {
    EngineConfig c;
    c.retain_keymat = true;
    return c;
  }
  static TraceSink Collect(std::vector<Seen>& into) {
    return [&into](const TraceRecord& r) {
      ASSERT_NE(r.message, nullptr);
      TraceEvent e{.direction = r.direction,
                   .peer_address = r.remote.address.ToString(),
                   .peer_port = r.remote.port,
                   .sk_iv_size = r.sk_iv_size,
                   .sk_icv_size = r.sk_icv_size};
      into.push_back(Seen{r.direction, r.message->header.exchange, r.message->header.is_response(),
                          r.inner != nullptr, r.inner ? Types(*r.inner) : Types(r.message->payloads),
                          r.sk_iv_size, r.sk_icv_size, TraceVerbose(e, *r.message, r.inner)});
    };
  }
  std::uint64_t SerialOf(const Engine& e) {
    auto sas = e.ListSas(net_.now());
    EXPECT_EQ(sas.size(), 1u);
    return sas.empty() ? 0 : sas.front().serial;
  }
};

TEST_F(ObserveTest, TraceSinkSeesEveryExchangeInBothDirectionsDecrypted) {
  std::vector<Seen> seen_a, seen_b;
  a_.SetTraceSink(Collect(seen_a));
  b_.SetTraceSink(Collect(seen_b));
  Establish();
  ASSERT_TRUE(a_.Rekey("to-b", "net", net_.now()).has_value());  // CREATE_CHILD_SA
  net_.RunFor(seconds(1));
  ASSERT_TRUE(b_.Rekey("to-a", "", net_.now()).has_value());  // IKE rekey from B
  net_.RunFor(seconds(1));
  ASSERT_TRUE(a_.Terminate("to-b", "", net_.now()).has_value());  // INFORMATIONAL DELETE
  net_.RunFor(seconds(1));

  // Every kExchangeSent/kExchangeReceived event has its trace record.
  auto count = [](const std::vector<Event>& events) {
    return OfKind(events, EventKind::kExchangeSent).size() +
           OfKind(events, EventKind::kExchangeReceived).size();
  };
  EXPECT_EQ(seen_a.size(), count(a_.TakeEvents()));
  EXPECT_EQ(seen_b.size(), count(b_.TakeEvents()));

  // Together the two engines sent and received every exchange type, request and response.
  std::set<std::tuple<Direction, ExchangeType, bool>> kinds;
  for (const auto* seen : {&seen_a, &seen_b}) {
    for (const Seen& s : *seen) {
      kinds.insert({s.direction, s.exchange, s.response});
      if (s.exchange == ExchangeType::kIkeSaInit) {
        EXPECT_FALSE(s.has_inner);
        EXPECT_TRUE(Has(s.inner_types, PayloadType::kNonce));
        continue;
      }
      // Protected: the decrypted inner payloads, the SK layout, and the tree shows them.
      EXPECT_TRUE(s.has_inner);
      EXPECT_EQ(s.iv, 8u);    // AES-GCM
      EXPECT_EQ(s.icv, 16u);  // 16-octet ICV
      EXPECT_NE(s.verbose.find("decrypted: "), std::string::npos) << s.verbose;
    }
  }
  for (Direction d : {Direction::kSent, Direction::kReceived})
    for (ExchangeType x : {ExchangeType::kIkeSaInit, ExchangeType::kIkeAuth,
                           ExchangeType::kCreateChildSa, ExchangeType::kInformational})
      for (bool response : {false, true})
        EXPECT_TRUE(kinds.count({d, x, response}))
            << "missing " << (d == Direction::kSent ? "sent " : "received ")
            << static_cast<int>(x) << (response ? " response" : " request");
  // CREATE_CHILD_SA and INFORMATIONAL went both ways on each engine (A's CHILD rekey and
  // DELETE, B's IKE rekey and the DELETE of the old IKE SA).
  for (const auto* seen : {&seen_a, &seen_b})
    for (ExchangeType x : {ExchangeType::kCreateChildSa, ExchangeType::kInformational})
      for (Direction d : {Direction::kSent, Direction::kReceived})
        EXPECT_TRUE(std::any_of(seen->begin(), seen->end(), [&](const Seen& s) {
          return s.exchange == x && s.direction == d && !s.response;
        })) << static_cast<int>(x);
  // B received A's IKE_AUTH request: IDi, AUTH, SA, TSi, TSr decrypted, AUTH value hidden.
  auto auth = std::find_if(seen_b.begin(), seen_b.end(), [](const Seen& s) {
    return s.direction == Direction::kReceived && s.exchange == ExchangeType::kIkeAuth &&
           !s.response;
  });
  ASSERT_NE(auth, seen_b.end());
  for (PayloadType t : {PayloadType::kIdi, PayloadType::kAuth, PayloadType::kSa, PayloadType::kTsi,
                        PayloadType::kTsr})
    EXPECT_TRUE(Has(auth->inner_types, t)) << static_cast<int>(t);
  EXPECT_NE(auth->verbose.find("a.test"), std::string::npos) << auth->verbose;
  EXPECT_NE(auth->verbose.find("hidden"), std::string::npos) << auth->verbose;
}

TEST_F(ObserveTest, ExplainInputMatchesThePeersKeys) {
  Establish();
  const std::uint64_t sa = SerialOf(a_), sb = SerialOf(b_);
  auto ea = a_.ExplainInput(sa, true);
  auto eb = b_.ExplainInput(sb, true);
  ASSERT_TRUE(ea.has_value()) << ea.error();
  ASSERT_TRUE(eb.has_value()) << eb.error();
  EXPECT_EQ(ea->spi_i, eb->spi_i);
  EXPECT_EQ(ea->spi_r, eb->spi_r);
  EXPECT_EQ(ea->nonce_i, eb->nonce_i);
  EXPECT_EQ(ea->nonce_r, eb->nonce_r);
  EXPECT_FALSE(ea->rekeyed);
  EXPECT_EQ(ea->suite.encr, crypto::EncrId::kAesGcm16);
  EXPECT_EQ(ea->g_ir.size(), 32u);
  EXPECT_EQ(Hex(ea->g_ir), Hex(eb->g_ir));
  EXPECT_EQ(Hex(ea->skeyseed), Hex(eb->skeyseed));
  EXPECT_EQ(Hex(ea->keys.sk_d), Hex(eb->keys.sk_d));
  EXPECT_EQ(Hex(ea->keys.sk_ei), Hex(eb->keys.sk_ei));
  EXPECT_EQ(Hex(ea->keys.sk_er), Hex(eb->keys.sk_er));
  EXPECT_EQ(Hex(ea->keys.sk_pi), Hex(eb->keys.sk_pi));
  EXPECT_EQ(Hex(ea->keys.sk_pr), Hex(eb->keys.sk_pr));
  EXPECT_EQ(ea->keys.sk_ei.size(), 36u);  // AES-GCM-256 key + salt
  EXPECT_TRUE(ea->keys.sk_ai.empty());
  // The retained values are the 2.14 derivation of the public inputs and g^ir.
  auto derived = DeriveIkeKeymat(ea->suite, ea->spi_i, ea->spi_r, ea->nonce_i, ea->nonce_r,
                                 ea->g_ir.Clone());
  ASSERT_TRUE(derived.has_value());
  EXPECT_EQ(Hex(derived->skeyseed), Hex(ea->skeyseed));
  EXPECT_EQ(Hex(derived->keys.sk_er), Hex(ea->keys.sk_er));

  // The CHILD_SA: same SPIs and KEYMAT on both sides, equal to what the kernels hold.
  ASSERT_EQ(ea->children.size(), 1u);
  ASSERT_EQ(eb->children.size(), 1u);
  const ChildKeymat& ca = ea->children[0];
  const ChildKeymat& cb = eb->children[0];
  EXPECT_EQ(ca.spi_i, cb.spi_i);
  EXPECT_EQ(ca.spi_r, cb.spi_r);
  EXPECT_EQ(Hex(ca.keys.encr_i), Hex(cb.keys.encr_i));
  EXPECT_EQ(Hex(ca.keys.encr_r), Hex(cb.keys.encr_r));
  const auto child_a = Children(a_)[0];
  EXPECT_EQ(ca.spi_i, child_a.spi_in);  // A initiated: its inbound SPI is SPIi
  const xfrm::SaSpec* out_a = kernel_a_.FindSa(
      xfrm::SaId{Ip("192.0.2.1"), Ip("192.0.2.2"), child_a.spi_out, 50, child_a.mark_out});
  ASSERT_NE(out_a, nullptr);
  EXPECT_EQ(ToHex(out_a->encr_key.Reveal()), Hex(ca.keys.encr_i));  // initiator->responder

  // The walk-through text: values shown only with show_secrets.
  const std::string hidden = ExplainKeymat(*ea);
  const std::string shown = ExplainKeymat(*ea, ExplainOptions{.show_secrets = true});
  EXPECT_EQ(hidden.find(Hex(ea->keys.sk_ei)), std::string::npos);
  EXPECT_NE(shown.find(Hex(ea->keys.sk_ei)), std::string::npos);
  EXPECT_NE(shown.find(Hex(ca.keys.encr_r)), std::string::npos);
}

TEST_F(ObserveTest, ExplainAfterIkeRekeyUsesTheRekeyFormulaAndMatchesThePeer) {
  Establish();
  ASSERT_TRUE(a_.Rekey("to-b", "", net_.now()).has_value());
  net_.RunFor(seconds(5));
  const std::uint64_t sa = SerialOf(a_), sb = SerialOf(b_);
  auto ea = a_.ExplainInput(sa, true);
  auto eb = b_.ExplainInput(sb, true);
  ASSERT_TRUE(ea.has_value()) << ea.error();
  ASSERT_TRUE(eb.has_value()) << eb.error();
  EXPECT_TRUE(ea->rekeyed);
  EXPECT_EQ(Hex(ea->skeyseed), Hex(eb->skeyseed));
  EXPECT_EQ(Hex(ea->keys.sk_ei), Hex(eb->keys.sk_ei));
  EXPECT_NE(ExplainKeymat(*ea).find("2.18: SKEYSEED = prf(SK_d (old)"), std::string::npos);
  EXPECT_EQ(ea->children.size(), 1u);  // the CHILD_SA moved over
}

TEST_F(ObserveTest, ExplainWithoutRetentionGivesLengthsOnlyAndRefusesSecrets) {
  crypto::SeededRandom ra(7), rb(8);
  xfrm::FakeKernel ka, kb;
  Engine a(EngineConfig{}, ra, ka), b(EngineConfig{}, rb, kb);
  SimNetwork net;
  net.Attach(Ip("192.0.2.1"), &a);
  net.Attach(Ip("192.0.2.2"), &b);
  ASSERT_TRUE(a.AddPeer(PeerA(), net.now()).has_value());
  ASSERT_TRUE(b.AddPeer(PeerB(), net.now()).has_value());
  ASSERT_TRUE(a.Initiate("to-b", "net", net.now()).has_value());
  net.RunFor(seconds(1));
  const std::uint64_t serial = a.ListSas(net.now()).at(0).serial;
  auto secrets = a.ExplainInput(serial, true);
  ASSERT_FALSE(secrets.has_value());
  EXPECT_NE(secrets.error().find("--retain-keys"), std::string::npos);
  auto in = a.ExplainInput(serial, false);
  ASSERT_TRUE(in.has_value()) << in.error();
  EXPECT_EQ(in->keys.sk_ei.size(), 36u);
  EXPECT_EQ(in->keys.sk_d.size(), 32u);
  EXPECT_EQ(in->skeyseed.size(), 32u);
  ASSERT_EQ(in->children.size(), 1u);
  EXPECT_EQ(in->children[0].keys.encr_i.size(), 36u);
  EXPECT_EQ(in->children[0].nonce_i, in->nonce_i);  // IKE_AUTH's CHILD_SA uses Ni | Nr
  const std::string text = ExplainKeymat(*in);
  EXPECT_NE(text.find("<36 octets, hidden>"), std::string::npos) << text;
  EXPECT_NE(text.find(ToHex(in->nonce_i)), std::string::npos);  // public inputs shown
  EXPECT_FALSE(a.ExplainInput(serial + 100, false).has_value());
}

TEST_F(ObserveTest, WiresharkLinesOfALiveSaDecryptItsMessagesAndMatchTheKernel) {
  std::vector<std::pair<std::string, std::string>> records;  // (table, lines)
  std::vector<std::string> peers;
  KeySink sink = [&](const KeyRecord& r) {
    ASSERT_NE(r.lines, nullptr);
    peers.emplace_back(r.peer);
    records.emplace_back(std::string(r.table), Text(*r.lines));
  };
  a_.SetKeySink(sink);
  b_.SetKeySink(sink);
  // Capture A's IKE_AUTH request on the wire.
  std::vector<Bytes> from_a;
  net_.drop_if = [&](const Datagram& d) {
    if (d.local.address == Ip("192.0.2.1")) from_a.push_back(d.data);
    return false;
  };
  PeerConfig pa = PeerA();
  pa.export_ike_keys = true;
  pa.export_esp_keys = true;
  AddPeers(std::move(pa), PeerB());  // B does not export
  ASSERT_TRUE(a_.Initiate("to-b", "net", net_.now()).has_value());
  net_.RunFor(seconds(1));
  ASSERT_EQ(EstablishedCount(a_), 1u);

  ASSERT_EQ(records.size(), 2u);
  EXPECT_EQ(peers, (std::vector<std::string>{"to-b", "to-b"}));
  EXPECT_EQ(records[0].first, kIkeDecryptionTableFile);
  EXPECT_EQ(records[1].first, kEspSaTableFile);

  // ikev2_decryption_table: one line, parseable, decrypting A's real IKE_AUTH request.
  const std::string& ike_line = records[0].second;
  ASSERT_TRUE(ike_line.ends_with("\n"));
  EXPECT_EQ(std::count(ike_line.begin(), ike_line.end(), '\n'), 1);
  auto entry = ParseIkeDecryptionTableLine(ike_line.substr(0, ike_line.size() - 1));
  ASSERT_TRUE(entry.has_value()) << entry.error();
  const auto sa = a_.ListSas(net_.now()).at(0);
  EXPECT_EQ(entry->spi_i, sa.spi_i);
  EXPECT_EQ(entry->spi_r, sa.spi_r);
  auto cipher = crypto::SkCipher::Create(entry->suite, entry->sk_ei.Clone(), entry->sk_ai.Clone());
  ASSERT_TRUE(cipher.has_value());
  ASSERT_GE(from_a.size(), 2u);
  Bytes auth_request = from_a[1];  // [0] = IKE_SA_INIT; [1] = IKE_AUTH on port 4500
  auth_request.erase(auth_request.begin(), auth_request.begin() + 4);  // non-ESP marker
  const std::string traced =
      TraceDatagram(TraceEvent{}, auth_request, &*cipher, TraceForm::kVerbose);
  EXPECT_NE(traced.find("decrypted: "), std::string::npos) << traced;
  EXPECT_NE(traced.find("a.test"), std::string::npos) << traced;

  // esp_sa: two lines, initiator->responder first, keys = the kernel's.
  const std::string& esp = records[1].second;
  EXPECT_EQ(std::count(esp.begin(), esp.end(), '\n'), 2);
  const auto child = Children(a_)[0];
  const xfrm::SaSpec* out = kernel_a_.FindSa(
      xfrm::SaId{Ip("192.0.2.1"), Ip("192.0.2.2"), child.spi_out, 50, child.mark_out});
  const xfrm::SaSpec* in = kernel_a_.FindSa(
      xfrm::SaId{Ip("192.0.2.2"), Ip("192.0.2.1"), child.spi_in, 50, xfrm::Mark::None()});
  ASSERT_NE(out, nullptr);
  ASSERT_NE(in, nullptr);
  const std::string first = esp.substr(0, esp.find('\n'));
  const std::string second = esp.substr(esp.find('\n') + 1);
  EXPECT_EQ(first.rfind("\"IPv4\",\"192.0.2.1\",\"192.0.2.2\",", 0), 0u) << first;
  EXPECT_NE(first.find(fmt::format("\"0x{:08x}\"", child.spi_out)), std::string::npos) << first;
  EXPECT_NE(first.find("\"0x" + ToHex(out->encr_key.Reveal()) + "\""), std::string::npos);
  EXPECT_EQ(second.rfind("\"IPv4\",\"192.0.2.2\",\"192.0.2.1\",", 0), 0u) << second;
  EXPECT_NE(second.find(fmt::format("\"0x{:08x}\"", child.spi_in)), std::string::npos);
  EXPECT_NE(second.find("\"0x" + ToHex(in->encr_key.Reveal()) + "\""), std::string::npos);

  // A CHILD_SA rekey exports the new CHILD_SA (responder side A this time: B rekeys).
  ASSERT_TRUE(b_.Rekey("to-a", "net", net_.now()).has_value());
  net_.RunFor(seconds(1));
  ASSERT_EQ(records.size(), 3u);
  EXPECT_EQ(records[2].first, kEspSaTableFile);
  const auto rekeyed = Children(a_)[0];
  // B initiated: the first line (initiator->responder) goes from B to A, to A's inbound SPI.
  EXPECT_EQ(records[2].second.rfind("\"IPv4\",\"192.0.2.2\",\"192.0.2.1\",", 0), 0u);
  EXPECT_NE(records[2].second.find(fmt::format("\"0x{:08x}\"", rekeyed.spi_in)),
            std::string::npos);
}

}  // namespace
}  // namespace minivpn::ike::test
