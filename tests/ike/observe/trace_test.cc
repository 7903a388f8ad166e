// Traces of IKE messages (ike/observe/trace.h): the one-line summary and the verbose payload tree, on
// charon's real IKE_SA_INIT / IKE_AUTH / INFORMATIONAL messages (decrypted with the keys charon
// logged) and on built CREATE_CHILD_SA / INFORMATIONAL messages for the payloads charon did not
// send (DELETE, REKEY_SA, CP, COOKIE, INVALID_KE, IPv6 selectors, SKF).
#include "ike/observe/trace.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "tests/ike/wire/charon_fixture_util.h"
#include "tests/ike/wire/codec_test_util.h"
#include "ike/wire/codec.h"

namespace minivpn::ike {
namespace {

using namespace std::chrono_literals;
using testing::CharonRun;
using testing::GcmRun;
using testing::Make;

// Every line of `text`, to assert exact lines without depending on their neighbours.
std::vector<std::string> LinesOf(const std::string& text) {
  std::vector<std::string> lines;
  std::size_t start = 0;
  while (start < text.size()) {
    const std::size_t end = text.find('\n', start);
    lines.push_back(text.substr(start, end - start));
    if (end == std::string::npos) break;
    start = end + 1;
  }
  return lines;
}

::testing::AssertionResult HasLine(const std::string& text, const std::string& line) {
  for (const std::string& l : LinesOf(text)) {
    if (l == line) return ::testing::AssertionSuccess();
  }
  return ::testing::AssertionFailure() << "no line \"" << line << "\" in\n" << text;
}

TraceEvent Event(Direction direction, std::chrono::milliseconds offset = 0ms,
                 std::uint16_t port = 500) {
  TraceEvent e;
  e.offset = offset;
  e.direction = direction;
  e.peer_address = "192.0.2.2";
  e.peer_port = port;
  return e;
}

TEST(TraceRole, FollowsTheInitiatorFlagAndTheDirection) {
  Header h;
  h.flags = kFlagInitiator;
  EXPECT_TRUE(WeAreInitiator(h, Direction::kSent));
  EXPECT_FALSE(WeAreInitiator(h, Direction::kReceived));
  h.flags = kFlagResponse;  // sent by the original responder
  EXPECT_FALSE(WeAreInitiator(h, Direction::kSent));
  EXPECT_TRUE(WeAreInitiator(h, Direction::kReceived));
}

// ---- IKE_SA_INIT (charon's real messages) ----

TEST(TraceSummary, IkeSaInitRequestAndResponse) {
  const CharonRun run = GcmRun();
  const Message request = run.Decoded("ike_sa_init_request.bin");
  const Message response = run.Decoded("ike_sa_init_response.bin");
  EXPECT_EQ(TraceSummary(Event(Direction::kSent), request),
            "+0.000s sent 192.0.2.2[500] IKE_SA_INIT request 0 (we are initiator) [ SA KE No "
            "N(NATD_S_IP) N(NATD_D_IP) N(FRAG_SUP) N(HASH_ALG) N(REDIR_SUP) ]");
  EXPECT_EQ(TraceSummary(Event(Direction::kReceived, 12ms), response),
            "+0.012s recv 192.0.2.2[500] IKE_SA_INIT response 0 (we are initiator) [ SA KE No "
            "N(NATD_S_IP) N(NATD_D_IP) N(FRAG_SUP) N(HASH_ALG) N(CHDLESS_SUP) N(MULT_AUTH) ]");
  // The same request as the responder sees it.
  TraceEvent at_responder = Event(Direction::kReceived, 61234ms);
  at_responder.peer_address = "2001:db8::1";
  at_responder.peer_port = 4500;
  EXPECT_EQ(TraceSummary(at_responder, request).substr(0, 88),
            "+61.234s recv 2001:db8::1[4500] IKE_SA_INIT request 0 (we are responder) [ SA KE No "
            "N(NA");
}

TEST(TraceVerbose, IkeSaInitRequestTree) {
  const Message request = GcmRun().Decoded("ike_sa_init_request.bin");
  const std::string t = TraceVerbose(Event(Direction::kSent), request);
  const std::vector<std::string> lines = LinesOf(t);
  ASSERT_GE(lines.size(), 12u);
  EXPECT_EQ(lines[0], TraceSummary(Event(Direction::kSent), request));
  const std::vector<std::string> head = {
      "  header",
      "    SPIi: 986823f7990d1763",
      "    SPIr: 0000000000000000",
      "    next payload: SA (33)",
      "    version: 2.0",
      "    exchange: IKE_SA_INIT (34)",
      "    flags: 0x08 (initiator)",
      "    message ID: 0",
      "    length: 232",
      "  SA (40 octets)",
      "    proposal 1: protocol IKE, SPI none, 3 transforms",
      "      ENCR AES_GCM_16 (20), key length 256",
      "      PRF PRF_HMAC_SHA2_256 (5)",
      "      KE CURVE_25519 (31)",
      "  KE (40 octets)",
      "    group: CURVE_25519 (31)",
      "    data: 32 octets, first 16: cca150cee742aec622e21b370357adb2",
      "  No (36 octets)",
      "    nonce: 32 octets f78696d8394c379770b9c0fa67c4ef71006d0765961376149e916cf4228d451c",
      "  N(NATD_S_IP) (28 octets)",
      "    type: NAT_DETECTION_SOURCE_IP (16388, status)",
      "    SHA-1(SPIi | SPIr | source IP | port): 20 octets "
      "92101fd9875a83d8833ec994150bebc22d0d7bd8",
  };
  for (std::size_t i = 0; i < head.size(); ++i) EXPECT_EQ(lines.at(i + 1), head[i]) << i;
  EXPECT_TRUE(HasLine(t, "  N(HASH_ALG) (16 octets)"));
  EXPECT_TRUE(HasLine(t,
                      "    hash algorithms: SHA2_256 (2), SHA2_384 (3), SHA2_512 (4), "
                      "IDENTITY (5)"));
  EXPECT_TRUE(HasLine(t, "    type: REDIRECT_SUPPORTED (16406, status)"));
  EXPECT_EQ(t.back(), '\n');
}

TEST(TraceVerbose, IkeSaInitResponseHeader) {
  const Message response = GcmRun().Decoded("ike_sa_init_response.bin");
  const std::string t = TraceVerbose(Event(Direction::kReceived), response);
  EXPECT_TRUE(HasLine(t, "    SPIr: e75a3fe23e824306"));
  EXPECT_TRUE(HasLine(t, "    flags: 0x20 (response)"));
  EXPECT_TRUE(HasLine(t, "    length: 240"));
  EXPECT_TRUE(HasLine(t, "    type: CHILDLESS_IKEV2_SUPPORTED (16418, status)"));
}

// ---- IKE_AUTH (encrypted; decrypted with charon's SK_ei/SK_er) ----

TEST(TraceVerbose, IkeAuthRequestShowsSkAndTheDecryptedPayloads) {
  const CharonRun run = GcmRun();
  const Message request = run.Decoded("ike_auth_request.bin");
  const std::vector<Payload> inner = run.Inner("ike_auth_request.bin");
  ASSERT_EQ(inner.size(), 12u);
  TraceEvent e = Event(Direction::kSent, 20ms, 4500);
  e.sk_iv_size = 8;
  e.sk_icv_size = 16;
  EXPECT_EQ(TraceSummary(e, request, &inner),
            "+0.020s sent 192.0.2.2[4500] IKE_AUTH request 1 (we are initiator) [ IDi "
            "N(INIT_CONTACT) IDr AUTH SA TSi TSr N(MOBIKE_SUP) N(NO_ADD_ADDR) N(MULT_AUTH) "
            "N(EAP_ONLY) N(MSG_ID_SYN_SUP) ]");
  EXPECT_EQ(TraceSummary(e, request),
            "+0.020s sent 192.0.2.2[4500] IKE_AUTH request 1 (we are "
            "initiator) [ SK ]");
  const std::string t = TraceVerbose(e, request, &inner);
  const std::vector<std::string> expected = {
      "  SK (261 octets)",
      "    first inner payload: IDi (35)",
      "    encrypted, 257 octets (IV 8, ciphertext 233, ICV 16)",
      "    decrypted: 12 inner payloads",
      "      IDi (30 octets)",
      "        type: ID_FQDN (2)",
      "        value: \"initiator.minivpn.test\"",
      "      N(INIT_CONTACT) (8 octets)",
      "        type: INITIAL_CONTACT (16384, status)",
      "      IDr (30 octets)",
      "        type: ID_FQDN (2)",
      "        value: \"responder.minivpn.test\"",
      "      AUTH (40 octets)",
      "        method: SHARED_KEY_MIC (2)",
      "        data: <32 octets, hidden>",
      "      SA (36 octets)",
      "        proposal 1: protocol ESP, SPI 0xcdbed37a, 2 transforms",
      "          ENCR AES_GCM_16 (20), key length 256",
      "          ESN NO_ESN (0)",
      "      TSi (24 octets)",
      "        TS_IPV4_ADDR_RANGE 0.0.0.0-255.255.255.255 proto 0 ports 0-65535",
      "      TSr (24 octets)",
      "        TS_IPV4_ADDR_RANGE 0.0.0.0-255.255.255.255 proto 0 ports 0-65535",
  };
  const std::vector<std::string> lines = LinesOf(t);
  ASSERT_GE(lines.size(), 10 + expected.size());
  for (std::size_t i = 0; i < expected.size(); ++i) EXPECT_EQ(lines[10 + i], expected[i]) << i;
  // Without the SK layout only the length is known; without the plaintext it says so.
  const std::string bare = TraceVerbose(Event(Direction::kSent), request);
  EXPECT_TRUE(HasLine(bare, "    encrypted, 257 octets"));
  EXPECT_TRUE(HasLine(bare, "    (not decrypted)"));
}

// The AUTH value is the only secret-derived value in a message: hidden unless asked for.
TEST(TraceVerbose, AuthValueOnlyWithShowSecrets) {
  const CharonRun run = GcmRun();
  for (const char* file : {"ike_auth_request.bin", "ike_auth_response.bin"}) {
    SCOPED_TRACE(file);
    const Message m = run.Decoded(file);
    const std::vector<Payload> inner = run.Inner(file);
    const Payload* auth = nullptr;
    for (const Payload& p : inner) {
      if (p.type == PayloadType::kAuth) auth = &p;
    }
    ASSERT_NE(auth, nullptr);
    const std::string value = ToHex(std::get<AuthPayload>(auth->body).data);
    const TraceEvent e = Event(Direction::kReceived);
    const std::string hidden = TraceVerbose(e, m, &inner);
    EXPECT_EQ(hidden.find(value), std::string::npos);
    EXPECT_EQ(hidden.find(value.substr(0, 16)), std::string::npos);
    EXPECT_TRUE(HasLine(hidden, "        data: <32 octets, hidden>"));
    const std::string shown = TraceVerbose(e, m, &inner, TraceOptions{.show_secrets = true});
    EXPECT_TRUE(HasLine(shown, "        data: " + value));
    // The charon logs hold the AUTH values too: the hidden trace contains none of them.
    for (const Bytes& logged : run.Log().All("AUTH = prf(prf(secret, keypad), octets)")) {
      EXPECT_EQ(hidden.find(ToHex(logged)), std::string::npos);
    }
  }
}

TEST(TraceVerbose, IkeAuthResponseWithErrorNotify) {
  const CharonRun run = GcmRun();
  const Message response = run.Decoded("ike_auth_response.bin");
  const std::vector<Payload> inner = run.Inner("ike_auth_response.bin");
  const TraceEvent e = Event(Direction::kReceived, 25ms, 4500);
  EXPECT_EQ(TraceSummary(e, response, &inner),
            "+0.025s recv 192.0.2.2[4500] IKE_AUTH response 1 (we are initiator) [ IDr AUTH "
            "N(MOBIKE_SUP) N(NO_ADD_ADDR) N(NO_PROP) ]");
  const std::string t = TraceVerbose(e, response, &inner);
  EXPECT_TRUE(HasLine(t, "        type: NO_PROPOSAL_CHOSEN (14, error)"));
  EXPECT_TRUE(HasLine(t, "    decrypted: 5 inner payloads"));
}

// ---- INFORMATIONAL (charon's real messages) ----

TEST(TraceSummary, InformationalRequestAndEmptyResponse) {
  const CharonRun run = GcmRun();
  const Message request = run.Decoded("informational_request_mid2_from_initiator.bin");
  const Message response = run.Decoded("informational_response_mid2_from_responder.bin");
  const std::vector<Payload> req_inner = run.Inner("informational_request_mid2_from_initiator.bin");
  const std::vector<Payload> resp_inner =
      run.Inner("informational_response_mid2_from_responder.bin");
  EXPECT_EQ(TraceSummary(Event(Direction::kSent, 1500ms, 4500), request, &req_inner),
            "+1.500s sent 192.0.2.2[4500] INFORMATIONAL request 2 (we are initiator) "
            "[ N(NO_ADD_ADDR) ]");
  EXPECT_EQ(TraceSummary(Event(Direction::kReceived, 1501ms, 4500), response, &resp_inner),
            "+1.501s recv 192.0.2.2[4500] INFORMATIONAL response 2 (we are initiator) [ ]");
  const std::string t = TraceVerbose(Event(Direction::kReceived), response, &resp_inner);
  EXPECT_TRUE(HasLine(t, "    first inner payload: NONE (0)"));
  EXPECT_TRUE(HasLine(t, "    decrypted: 0 inner payloads"));
}

// ---- CREATE_CHILD_SA and INFORMATIONAL built here (payloads charon's run did not carry) ----

Header ChildHeader(bool response, std::uint32_t mid) {
  return testing::ProtectedHeader(ExchangeType::kCreateChildSa, response, mid);
}

TEST(TraceVerbose, CreateChildSaRekeyRequestAndResponse) {
  const Payload rekey =
      Make(PayloadType::kNotify,
           NotifyPayload{ProtocolId::kEsp, {0xc0, 0xff, 0xee, 0x01}, NotifyType::kRekeySa, {}});
  TrafficSelector ts{TsType::kIpv4AddrRange, 0, 0, 0xffff, {10, 0, 0, 0}, {10, 0, 0, 255}};
  const std::vector<Payload> inner = {rekey,
                                      testing::ChildSa(),
                                      testing::Nonce(),
                                      testing::Ke(),
                                      Make(PayloadType::kTsi, TsPayload{{ts}}),
                                      Make(PayloadType::kTsr, TsPayload{{ts}})};
  const Message request{ChildHeader(false, 3), {Make(PayloadType::kSk, SkPayload{})}};
  const std::string t = TraceVerbose(Event(Direction::kSent, 3600000ms), request, &inner);
  EXPECT_EQ(LinesOf(t)[0],
            "+3600.000s sent 192.0.2.2[500] CREATE_CHILD_SA request 3 (we are initiator) "
            "[ N(REKEY_SA) SA No KE TSi TSr ]");
  EXPECT_TRUE(HasLine(t, "    exchange: CREATE_CHILD_SA (36)"));
  EXPECT_TRUE(HasLine(t, "        type: REKEY_SA (16393, status)"));
  EXPECT_TRUE(HasLine(t, "        rekeys protocol ESP, SPI 0xc0ffee01"));
  EXPECT_TRUE(HasLine(t, "        proposal 1: protocol ESP, SPI 0x11223344, 2 transforms"));
  EXPECT_TRUE(HasLine(t, "        TS_IPV4_ADDR_RANGE 10.0.0.0-10.0.0.255 proto 0 ports 0-65535"));
  EXPECT_TRUE(HasLine(t, "        data: 32 octets, first 16: abababababababababababababababab"));

  // The responder's view of its answer, and an INVALID_KE_PAYLOAD answer (3.10.1).
  const std::vector<Payload> resp_inner = {
      Make(PayloadType::kNotify,
           NotifyPayload{ProtocolId::kNone, {}, NotifyType::kInvalidKePayload, {0x00, 0x13}})};
  const Message response{ChildHeader(true, 3), {Make(PayloadType::kSk, SkPayload{})}};
  const std::string r = TraceVerbose(Event(Direction::kSent), response, &resp_inner);
  EXPECT_EQ(LinesOf(r)[0],
            "+0.000s sent 192.0.2.2[500] CREATE_CHILD_SA response 3 (we are responder) "
            "[ N(INVAL_KE) ]");
  EXPECT_TRUE(HasLine(r, "    flags: 0x20 (response)"));
  EXPECT_TRUE(HasLine(r, "        type: INVALID_KE_PAYLOAD (17, error)"));
  EXPECT_TRUE(HasLine(r, "        accepted group: ECP_256 (19)"));
}

TEST(TraceVerbose, InformationalDeleteRequestAndResponse) {
  const std::vector<Payload> inner = {
      Make(
          PayloadType::kDelete,
          DeletePayload{ProtocolId::kEsp, 4, {{0xc0, 0xff, 0xee, 0x01}, {0xc0, 0xff, 0xee, 0x02}}}),
  };
  Header h = testing::ProtectedHeader(ExchangeType::kInformational, false, 7);
  h.flags = 0;  // sent by the original responder
  const Message request{h, {Make(PayloadType::kSk, SkPayload{})}};
  const std::string t = TraceVerbose(Event(Direction::kReceived), request, &inner);
  EXPECT_EQ(LinesOf(t)[0],
            "+0.000s recv 192.0.2.2[500] INFORMATIONAL request 7 (we are initiator) [ D ]");
  EXPECT_TRUE(HasLine(t, "    flags: 0x00 (none)"));
  EXPECT_TRUE(HasLine(t, "      D (16 octets)"));
  EXPECT_TRUE(HasLine(t, "        protocol ESP, SPI size 4, 2 SPIs 0xc0ffee01 0xc0ffee02"));

  const std::vector<Payload> ike_delete = {
      Make(PayloadType::kDelete, DeletePayload{ProtocolId::kIke, 0, {}})};
  const Message response{testing::ProtectedHeader(ExchangeType::kInformational, true, 7),
                         {Make(PayloadType::kSk, SkPayload{})}};
  const std::string r = TraceVerbose(Event(Direction::kSent), response, &ike_delete);
  EXPECT_EQ(LinesOf(r)[0],
            "+0.000s sent 192.0.2.2[500] INFORMATIONAL response 7 (we are responder) [ D ]");
  EXPECT_TRUE(HasLine(r, "        protocol IKE, SPI size 0, 0 SPIs"));
  EXPECT_TRUE(HasLine(r, "        deletes this IKE SA (3.11)"));
}

TEST(TracePayloads, CookieCpIpv6AndOddValues) {
  const Bytes v6_start = FromHex("20010db8000000000000000000000000");
  const Bytes v6_end = FromHex("20010db80000000000000000ffffffff");
  const std::vector<Payload> payloads = {
      testing::Notify(NotifyType::kCookie, Bytes(16, 0x5a)),
      Make(PayloadType::kCp, CpPayload{CfgType::kReply,
                                       {{1, {10, 9, 8, 7}},
                                        {3, {}},
                                        {7, {'m', 'v', '\n'}},
                                        {13, {10, 1, 0, 0, 255, 255, 0, 0}}}}),
      Make(PayloadType::kIdr,
           IdPayload{IdType::kIpv6Addr, FromHex("20010db8000000000000000000000001")}),
      Make(PayloadType::kIdi, IdPayload{IdType::kKeyId, {0x01, 0x02}}),
      Make(PayloadType::kTsi,
           TsPayload{{TrafficSelector{TsType::kIpv6AddrRange, 6, 443, 443, v6_start, v6_end}}}),
      testing::Notify(NotifyType::kUnsupportedCriticalPayload, {49}),
      testing::Notify(NotifyType::kSetWindowSize, {0, 0, 0, 10}),
      testing::Notify(NotifyType::kInitialContact, {0xde, 0xad}),
      Payload{PayloadType::kNone, true, UnknownPayload{49, {1, 2, 3}}},
      Make(PayloadType::kSkf, SkfPayload{PayloadType::kIdi, 2, 3, Bytes(40, 0)}),
  };
  const std::string t = TracePayloads(payloads, {});
  EXPECT_TRUE(HasLine(t, "N(COOKIE) (24 octets)"));
  EXPECT_TRUE(HasLine(t, "  cookie: 16 octets 5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a"));
  EXPECT_TRUE(HasLine(t, "  type: CFG_REPLY (2)"));
  EXPECT_TRUE(HasLine(t, "  INTERNAL_IP4_ADDRESS (1): 10.9.8.7"));
  EXPECT_TRUE(HasLine(t, "  INTERNAL_IP4_DNS (3): (empty)"));
  EXPECT_TRUE(HasLine(t, "  APPLICATION_VERSION (7): \"mv\\x0a\""));
  EXPECT_TRUE(HasLine(t, "  INTERNAL_IP4_SUBNET (13): 10.1.0.0/255.255.0.0"));
  EXPECT_TRUE(HasLine(t, "  value: 2001:db8::1"));
  EXPECT_TRUE(HasLine(t, "  type: ID_KEY_ID (11)"));
  EXPECT_TRUE(HasLine(t, "  value: 2 octets 0102"));
  EXPECT_TRUE(HasLine(t,
                      "  TS_IPV6_ADDR_RANGE 2001:db8::-2001:db8::ffff:ffff proto 6 ports "
                      "443-443"));
  EXPECT_TRUE(HasLine(t, "  payload type: UNKNOWN(49) (49)"));
  EXPECT_TRUE(HasLine(t, "  window size: 10"));
  EXPECT_TRUE(HasLine(t, "  data: 2 octets dead"));
  EXPECT_TRUE(HasLine(t, "UNKNOWN(49) (7 octets, critical)"));
  EXPECT_TRUE(HasLine(t, "  unknown payload type 49, 3 octets (ignored, 3.2)"));
  EXPECT_TRUE(HasLine(t, "  fragment 2 of 3, first inner payload: IDi (35)"));
  EXPECT_TRUE(HasLine(t, "  encrypted, 40 octets"));
}

// ---- raw datagrams (the daemon's --trace path) ----

TEST(TraceDatagram, DecodesDecryptsAndReportsWhatItCannot) {
  const CharonRun run = GcmRun();
  const Bytes wire = run.Wire("ike_auth_request.bin");
  const testing::CharonLog log = run.Log();
  auto cipher = crypto::SkCipher::Create(run.suite, log.Secret("Sk_ei secret"), SecretBytes());
  ASSERT_TRUE(cipher.has_value());
  const TraceEvent e = Event(Direction::kSent, 2ms, 4500);

  EXPECT_EQ(TraceDatagram(e, wire, &*cipher, TraceForm::kSummary),
            "+0.002s sent 192.0.2.2[4500] IKE_AUTH request 1 (we are initiator) [ IDi "
            "N(INIT_CONTACT) IDr AUTH SA TSi TSr N(MOBIKE_SUP) N(NO_ADD_ADDR) N(MULT_AUTH) "
            "N(EAP_ONLY) N(MSG_ID_SYN_SUP) ]");
  const std::string verbose = TraceDatagram(e, wire, &*cipher, TraceForm::kVerbose);
  EXPECT_TRUE(HasLine(verbose, "    encrypted, 257 octets (IV 8, ciphertext 233, ICV 16)"));
  EXPECT_TRUE(HasLine(verbose, "        value: \"initiator.minivpn.test\""));
  EXPECT_TRUE(HasLine(verbose, "        data: <32 octets, hidden>"));
  EXPECT_EQ(TraceDatagram(e, wire, nullptr, TraceForm::kSummary),
            "+0.002s sent 192.0.2.2[4500] IKE_AUTH request 1 (we are initiator) [ SK ]");

  // The responder's key does not open the initiator's message.
  auto wrong = crypto::SkCipher::Create(run.suite, log.Secret("Sk_er secret"), SecretBytes());
  ASSERT_TRUE(wrong.has_value());
  EXPECT_TRUE(HasLine(TraceDatagram(e, wire, &*wrong, TraceForm::kVerbose),
                      "    (not decrypted: ICV mismatch)"));

  // A truncated datagram.
  const Bytes cut(wire.begin(), wire.begin() + 20);
  const auto error = Decode(cut);
  ASSERT_FALSE(error.has_value());
  EXPECT_EQ(error.error().code, ParseErrorCode::kTruncatedHeader);
  EXPECT_EQ(TraceDatagram(Event(Direction::kReceived), cut, nullptr, TraceForm::kSummary),
            "+0.000s recv 192.0.2.2[500] undecodable (20 octets): " + Describe(error.error()));
}

}  // namespace
}  // namespace minivpn::ike
