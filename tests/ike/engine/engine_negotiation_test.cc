// Unit tests of ike/engine/negotiation.cc (proposal selection, traffic selector narrowing, identities,
// NAT detection hashes), plus checks against messages charon 5.9.8 really sent
// (tests/fixtures/charon) and the IKE lifetime timers.
#include <cstring>
#include <fstream>
#include <iterator>

#include "ike/wire/codec.h"
#include "ike/engine/negotiation.h"
#include "tests/ike/engine/engine_test_util.h"

namespace minivpn::ike::test {
namespace {

using crypto::DhGroup;
using crypto::EncrId;
using crypto::IntegId;
using crypto::PrfId;

Bytes ReadFixture(const std::string& name) {
  std::ifstream f(std::string(MINIVPN_FIXTURES) + "/charon/" + name, std::ios::binary);
  return Bytes(std::istreambuf_iterator<char>(f), {});
}

TEST(EngineNegotiationTest, ResponderPrefersItsOwnOrderAndTheKeGroup) {
  IkeProposal mine{.encr = {{EncrId::kAesGcm16, 256}, {EncrId::kAesCbc, 128}},
                   .integ = {IntegId::kHmacSha2_256_128},
                   .prf = {PrfId::kHmacSha2_256},
                   .dh = {DhGroup::kCurve25519, DhGroup::kEcp256}};
  IkeProposal theirs{.encr = {{EncrId::kAesCbc, 128}, {EncrId::kAesGcm16, 256}},
                     .integ = {IntegId::kHmacSha2_256_128},
                     .prf = {PrfId::kHmacSha2_256},
                     .dh = {DhGroup::kEcp256, DhGroup::kCurve25519}};
  auto choice = SelectIke({mine}, OfferIke({theirs}, {}), DhGroup::kEcp256, 0);
  ASSERT_TRUE(choice.has_value());
  EXPECT_EQ(choice->suite.encr.id, EncrId::kAesGcm16);  // our preference
  EXPECT_EQ(choice->suite.integ, IntegId::kNone);       // AEAD: no integrity transform
  EXPECT_EQ(choice->suite.dh, DhGroup::kEcp256);        // the KE the peer sent is acceptable
  EXPECT_EQ(choice->number, 1);
  // Without a usable KE group the first common group of ours is chosen.
  auto other = SelectIke({mine}, OfferIke({theirs}, {}), DhGroup::kModp2048, 0);
  ASSERT_TRUE(other.has_value());
  EXPECT_EQ(other->suite.dh, DhGroup::kCurve25519);
}

TEST(EngineNegotiationTest, KeyLengthMustMatch) {
  IkeProposal mine = GcmX25519();
  IkeProposal theirs = GcmX25519();
  theirs.encr = {{EncrId::kAesGcm16, 128}};
  EXPECT_FALSE(SelectIke({mine}, OfferIke({theirs}, {}), DhGroup::kCurve25519, 0).has_value());
}

TEST(EngineNegotiationTest, UnknownTransformTypeRejectsTheProposal) {
  SaPayload sa = OfferIke({GcmX25519()}, {});
  Transform odd;
  odd.type = static_cast<TransformType>(9);
  odd.id = 1;
  sa.proposals[0].transforms.push_back(odd);
  EXPECT_FALSE(SelectIke({GcmX25519()}, sa, DhGroup::kCurve25519, 0).has_value());
}

TEST(EngineNegotiationTest, WrongSpiSizeIsSkipped) {
  // bad-inputs C: SPI of 8 octets in IKE_SA_INIT, 0 in a rekey, 4 for ESP.
  EXPECT_FALSE(
      SelectIke({GcmX25519()}, OfferIke({GcmX25519()}, Bytes(8, 1)), DhGroup::kCurve25519, 0));
  EXPECT_TRUE(
      SelectIke({GcmX25519()}, OfferIke({GcmX25519()}, Bytes(8, 1)), DhGroup::kCurve25519, 8));
  SaPayload esp = OfferEsp({EspGcm()}, 0xc0000001, false);
  esp.proposals[0].spi = Bytes(8, 1);
  EXPECT_FALSE(SelectEsp({EspGcm()}, esp, false, DhGroup::kNone).has_value());
}

TEST(EngineNegotiationTest, InitiatorRejectsTwoProposalsOrOneNeverOffered) {
  IkeSuite suite{
      .encr = {EncrId::kAesGcm16, 256}, .prf = PrfId::kHmacSha2_256, .dh = DhGroup::kCurve25519};
  SaPayload one = AnswerIke(suite, 1, {});
  EXPECT_TRUE(AcceptIke({GcmX25519()}, one, 0).has_value());
  SaPayload two = one;
  two.proposals.push_back(one.proposals[0]);
  EXPECT_FALSE(AcceptIke({GcmX25519()}, two, 0).has_value());
  IkeSuite other = suite;
  other.dh = DhGroup::kModp2048;
  EXPECT_FALSE(AcceptIke({GcmX25519()}, AnswerIke(other, 1, {}), 0).has_value());
  EXPECT_FALSE(AcceptIke({GcmX25519()}, AnswerIke(suite, 2, {}), 0).has_value());  // number
}

TEST(EngineNegotiationTest, EspEsnAndPfs) {
  EspProposal esn = EspGcm();
  esn.esn = {EsnId::kEsn};
  EXPECT_FALSE(SelectEsp({esn}, OfferEsp({EspGcm()}, 0xc0000001, false), false, DhGroup::kNone));
  EspProposal both = EspGcm();
  both.esn = {EsnId::kEsn, EsnId::kNoEsn};
  auto c = SelectEsp({esn}, OfferEsp({both}, 0xc0000001, false), false, DhGroup::kNone);
  ASSERT_TRUE(c.has_value());
  EXPECT_TRUE(c->suite.esn);
  EXPECT_EQ(c->spi, 0xc0000001u);
  // PFS required by us but not offered: no match in CREATE_CHILD_SA, fine in IKE_AUTH.
  EspProposal pfs = EspGcm();
  pfs.dh = {DhGroup::kCurve25519};
  EXPECT_FALSE(SelectEsp({pfs}, OfferEsp({EspGcm()}, 1, true), true, DhGroup::kNone));
  EXPECT_TRUE(SelectEsp({pfs}, OfferEsp({EspGcm()}, 1, false), false, DhGroup::kNone));
}

std::vector<xfrm::Selector> Sel(std::initializer_list<const char*> texts) {
  std::vector<xfrm::Selector> out;
  for (const char* t : texts) {
    std::string text(t);
    xfrm::Selector sel;
    const auto open = text.find('[');
    if (open != std::string::npos) {
      EXPECT_FALSE(base::ParseProtoPort(text.substr(open + 1, text.size() - open - 2), sel));
      text.resize(open);
    }
    sel.net = Net(text.c_str());
    out.push_back(sel);
  }
  return out;
}

TEST(EngineNegotiationTest, TrafficSelectorNarrowing) {
  TsPayload any = ToTsPayload(Ts("0.0.0.0/0"));
  EXPECT_EQ(NarrowTs(Ts("10.1.0.0/16"), any), Ts("10.1.0.0/16"));
  EXPECT_EQ(NarrowTs(Ts("0.0.0.0/0"), ToTsPayload(Ts("10.1.2.0/24"))), Ts("10.1.2.0/24"));
  EXPECT_TRUE(NarrowTs(Ts("10.1.0.0/16"), ToTsPayload(Ts("10.2.0.0/16"))).empty());
  EXPECT_TRUE(NarrowTs(Ts("10.1.0.0/16"), ToTsPayload(Ts("::/0"))).empty());
  TsPayload reversed = any;
  std::swap(reversed.selectors[0].start_address, reversed.selectors[0].end_address);
  EXPECT_TRUE(NarrowTs(Ts("0.0.0.0/0"), reversed).empty());  // bad-inputs H: start > end
  TsPayload odd = any;  // 10.0.0.1-10.0.0.6 is no prefix: no kernel policy can hold it
  odd.selectors[0].start_address = {10, 0, 0, 1};
  odd.selectors[0].end_address = {10, 0, 0, 6};
  EXPECT_TRUE(NarrowTs(Ts("0.0.0.0/0"), odd).empty());
  EXPECT_EQ(NarrowTs(Ts("2001:db8::/32"), ToTsPayload(Ts("::/0"))), Ts("2001:db8::/32"));
}

TEST(EngineNegotiationTest, TrafficSelectorProtocolsAndPorts) {
  // The peer's protocol and ports narrow ours (charon's get_subset), and ours narrow theirs.
  TsPayload tcp80 = ToTsPayload(Sel({"0.0.0.0/0[tcp/80]"}));
  EXPECT_EQ(NarrowTs(Ts("10.1.0.0/16"), tcp80), Sel({"10.1.0.0/16[tcp/80]"}));
  EXPECT_EQ(NarrowTs(Sel({"10.1.0.0/16[tcp]"}), tcp80), Sel({"10.1.0.0/16[tcp/80]"}));
  EXPECT_TRUE(NarrowTs(Sel({"10.1.0.0/16[udp]"}), tcp80).empty());
  EXPECT_TRUE(NarrowTs(Sel({"10.1.0.0/16[tcp/1000-2000]"}), tcp80).empty());
  EXPECT_EQ(NarrowTs(Sel({"10.1.0.0/16[tcp/1-100]"}), tcp80), Sel({"10.1.0.0/16[tcp/80]"}));
  EXPECT_EQ(NarrowTs(Sel({"10.0.0.1/32[gre]"}), ToTsPayload(Ts("0.0.0.0/0"))),
            Sel({"10.0.0.1/32[gre]"}));
  // RFC 7296 3.13.1 OPAQUE ports (start 65535, end 0) intersect nothing here.
  TsPayload opaque = ToTsPayload(Ts("0.0.0.0/0"));
  opaque.selectors[0].start_port = 0xffff;
  opaque.selectors[0].end_port = 0;
  EXPECT_TRUE(NarrowTs(Ts("0.0.0.0/0"), opaque).empty());
  // ICMP type/code in the ports is not installed as ports; ICMP without them is.
  TsPayload echo = ToTsPayload(Ts("0.0.0.0/0"));
  echo.selectors[0].ip_protocol = 1;
  echo.selectors[0].start_port = echo.selectors[0].end_port = 0x0800;
  EXPECT_TRUE(NarrowTs(Ts("10.1.0.0/16"), echo).empty());
  echo.selectors[0].start_port = 0;
  echo.selectors[0].end_port = 0xffff;
  EXPECT_EQ(NarrowTs(Ts("10.1.0.0/16"), echo), Sel({"10.1.0.0/16[icmp]"}));
}

TEST(EngineNegotiationTest, TrafficSelectorLists) {
  // Dual stack: each family narrows on its own; order is ours.
  const auto dual = Ts("0.0.0.0/0");
  auto both = Sel({"0.0.0.0/0", "::/0"});
  EXPECT_EQ(NarrowTs(both, ToTsPayload(Sel({"::/0", "10.1.0.0/16"}))),
            Sel({"10.1.0.0/16", "::/0"}));
  EXPECT_EQ(NarrowTs(dual, ToTsPayload(both)), dual);
  // Two subnets against 0/0: both kept; one covered by the other: only the wider one.
  EXPECT_EQ(NarrowTs(Sel({"10.1.0.0/16", "10.2.0.0/16"}), ToTsPayload(Ts("0.0.0.0/0"))),
            Sel({"10.1.0.0/16", "10.2.0.0/16"}));
  EXPECT_EQ(NarrowTs(Sel({"10.1.2.0/24", "10.1.0.0/16"}), ToTsPayload(Ts("0.0.0.0/0"))),
            Sel({"10.1.0.0/16"}));
  // The initiator narrows the answer to what it offered.
  const auto a = *xfrm::IpAddress::Parse("192.0.2.1");
  const auto b = *xfrm::IpAddress::Parse("192.0.2.2");
  auto ok = AcceptChildTs(Ts("10.0.0.0/8"), Ts("0.0.0.0/0"), false, ToTsPayload(Ts("10.9.0.0/16")),
                          ToTsPayload(Ts("10.2.0.0/16")), false, a, b);
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->local, Ts("10.9.0.0/16"));
  EXPECT_EQ(ok->remote, Ts("10.2.0.0/16"));
  EXPECT_FALSE(AcceptChildTs(Ts("10.0.0.0/8"), Ts("0.0.0.0/0"), false,
                             ToTsPayload(Ts("11.0.0.0/8")), ToTsPayload(Ts("10.2.0.0/16")), false,
                             a, b));
}

TEST(EngineNegotiationTest, TransportModeOnlyHostToHostAndWhenConfigured) {
  const auto a = *xfrm::IpAddress::Parse("192.0.2.1");
  const auto b = *xfrm::IpAddress::Parse("192.0.2.2");
  const auto gre_a = Sel({"192.0.2.1/32[gre]"}), gre_b = Sel({"192.0.2.2/32[gre]"});
  // Responder b: the initiator a asks (TSi = a, TSr = b).
  const auto tsi = ToTsPayload(gre_a), tsr = ToTsPayload(gre_b);
  auto granted = NarrowChildTs(gre_b, gre_a, true, tsi, tsr, true, b, a);
  ASSERT_TRUE(granted);
  EXPECT_TRUE(granted->transport);
  EXPECT_EQ(granted->local, gre_b);
  // Not asked, or not configured: tunnel (charon's check_mode).
  EXPECT_FALSE(NarrowChildTs(gre_b, gre_a, true, tsi, tsr, false, b, a)->transport);
  EXPECT_FALSE(NarrowChildTs(gre_b, gre_a, false, tsi, tsr, true, b, a)->transport);
  // Selectors that are not the IKE hosts: tunnel.
  auto nets = NarrowChildTs(Ts("10.2.0.0/16"), Ts("10.1.0.0/16"), true,
                            ToTsPayload(Ts("10.1.0.0/16")), ToTsPayload(Ts("10.2.0.0/16")), true, b, a);
  ASSERT_TRUE(nets);
  EXPECT_FALSE(nets->transport);
  // Initiator: a transport answer to a tunnel request is refused; a tunnel answer to a transport
  // request is taken.
  EXPECT_FALSE(AcceptChildTs(gre_a, gre_b, false, tsi, tsr, true, a, b));
  auto tunnel = AcceptChildTs(gre_a, gre_b, true, tsi, tsr, false, a, b);
  ASSERT_TRUE(tunnel);
  EXPECT_FALSE(tunnel->transport);
  EXPECT_TRUE(AcceptChildTs(gre_a, gre_b, true, tsi, tsr, true, a, b)->transport);
}

// charon's initiator runs check_mode on the answer too (child_create.c select_and_install: "%N
// mode requested by responder is unacceptable"): a transport answer for whole subnets is refused.
TEST(EngineNegotiationTest, ATransportAnswerForSubnetsIsRefusedAsCharon) {
  const auto nets = AcceptChildTs(Ts("10.1.0.0/16"), Ts("10.2.0.0/16"), /*asked_transport=*/true,
                                  ToTsPayload(Ts("10.1.0.0/16")), ToTsPayload(Ts("10.2.0.0/16")),
                                  /*answered_transport=*/true, *xfrm::IpAddress::Parse("192.0.2.1"),
                                  *xfrm::IpAddress::Parse("192.0.2.2"));
  EXPECT_FALSE(nets.has_value()) << "installed as transport: " << (nets && nets->transport);
}

// charon's select_child_cfg: the best scored child config, not the first that narrows.
TEST(EngineNegotiationTest, SelectChildConfigPrefersTheBestMatch) {
  const auto a = *xfrm::IpAddress::Parse("192.0.2.1");
  const auto b = *xfrm::IpAddress::Parse("192.0.2.2");
  ChildConfig wide, web, exact;
  wide.name = "wide";
  wide.local_ts = wide.remote_ts = Ts("10.0.0.0/8");
  web.name = "web";
  web.local_ts = Sel({"10.2.0.0/16[tcp/80]"});
  web.remote_ts = Ts("10.1.0.0/16");
  exact.name = "exact";
  exact.local_ts = Ts("10.2.0.0/16");
  exact.remote_ts = Ts("10.1.0.0/16");
  const std::vector<ChildConfig> children = {wide, exact, web};
  // The responder (b) is asked for 10.1.0.0/16 -> 10.2.0.0/16[tcp/80]: "web" matches exactly.
  auto picked = SelectChildConfig(children, ToTsPayload(Ts("10.1.0.0/16")),
                                  ToTsPayload(Sel({"10.2.0.0/16[tcp/80]"})), false, b, a);
  ASSERT_TRUE(picked);
  EXPECT_EQ(picked->cfg->name, "web");
  EXPECT_EQ(picked->ts.local, Sel({"10.2.0.0/16[tcp/80]"}));
  // Asked for the whole /16s: "exact" (equal both sides) beats "wide" (listed first).
  picked = SelectChildConfig(children, ToTsPayload(Ts("10.1.0.0/16")),
                             ToTsPayload(Ts("10.2.0.0/16")), false, b, a);
  ASSERT_TRUE(picked);
  EXPECT_EQ(picked->cfg->name, "exact");
  // Asked for something only "wide" holds.
  picked = SelectChildConfig(children, ToTsPayload(Ts("10.7.0.0/16")),
                             ToTsPayload(Ts("10.8.0.0/16")), false, b, a);
  ASSERT_TRUE(picked);
  EXPECT_EQ(picked->cfg->name, "wide");
  EXPECT_FALSE(SelectChildConfig(children, ToTsPayload(Ts("192.168.0.0/16")),
                                 ToTsPayload(Ts("10.8.0.0/16")), false, b, a));
}

// charon's matches_string: a leading '*' in an FQDN or e-mail identity is a wildcard.
TEST(EngineNegotiationTest, WildcardIdentities) {
  const auto id = [](IdType type, const char* text) {
    return IdPayload{.id_type = type, .data = Bytes(text, text + std::strlen(text))};
  };
  const Identity mail{IdType::kRfc822Addr, "*@example.org"};
  EXPECT_TRUE(IdMatches(mail, id(IdType::kRfc822Addr, "gw@example.org")));
  EXPECT_FALSE(IdMatches(mail, id(IdType::kRfc822Addr, "gw@example.net")));
  EXPECT_FALSE(IdMatches(mail, id(IdType::kFqdn, "gw@example.org")));  // another type
  const Identity domain{IdType::kFqdn, "*.example.org"};
  EXPECT_TRUE(IdMatches(domain, id(IdType::kFqdn, "gw.example.org")));
  EXPECT_FALSE(IdMatches(domain, id(IdType::kFqdn, "example.org")));
  EXPECT_FALSE(IdMatches(domain, id(IdType::kFqdn, ".example.org")));  // '*' is one or more
  EXPECT_TRUE(IdMatches(domain, id(IdType::kFqdn, "GW.Example.ORG")));  // case-insensitive
  EXPECT_TRUE(
      IdMatches(Identity{IdType::kFqdn, "gw.example.org"}, id(IdType::kFqdn, "GW.example.org")));
  EXPECT_TRUE(IdMatches(Identity{IdType::kFqdn, "*"}, id(IdType::kFqdn, "anything")));
  // Only FQDN and e-mail identities: a key id with a '*' is literal.
  EXPECT_FALSE(IdMatches(Identity{IdType::kKeyId, "*x"}, id(IdType::kKeyId, "ax")));
}

// charon's local_addrs/remote_addrs: any entry matches; without a list, the one address.
TEST(EngineNegotiationTest, HostAccepted) {
  const auto ip = [](const char* t) { return *xfrm::IpAddress::Parse(t); };
  const auto net = [](const char* t) { return *xfrm::Subnet::Parse(t); };
  EXPECT_TRUE(HostAccepted({}, {}, ip("192.0.2.1")));  // unset: any
  EXPECT_TRUE(HostAccepted({}, ip("192.0.2.1"), ip("192.0.2.1")));
  EXPECT_FALSE(HostAccepted({}, ip("192.0.2.1"), ip("192.0.2.2")));
  const std::vector<xfrm::Subnet> list = {net("192.0.2.1/32"), net("198.51.100.0/24")};
  EXPECT_TRUE(HostAccepted(list, ip("192.0.2.1"), ip("198.51.100.77")));
  EXPECT_FALSE(HostAccepted(list, ip("192.0.2.1"), ip("203.0.113.1")));
  EXPECT_FALSE(HostAccepted(list, ip("192.0.2.1"), ip("2001:db8::1")));
  EXPECT_TRUE(HostAccepted({net("::/0")}, {}, ip("2001:db8::1")));
}

TEST(EngineNegotiationTest, Identities) {
  Identity any{IdType::kFqdn, ""};
  Identity fqdn{IdType::kFqdn, "b.test"};
  IdPayload id = ToIdPayload(fqdn);
  EXPECT_TRUE(IdMatches(any, id));
  EXPECT_TRUE(IdMatches(fqdn, id));
  id.id_type = IdType::kRfc822Addr;
  EXPECT_FALSE(IdMatches(fqdn, id));
  IdPayload weird{.id_type = IdType::kKeyId, .data = Bytes{'k', 0, 0xff}};
  EXPECT_EQ(DescribeId(weird), "k\\x00\\xff");
}

TEST(EngineNegotiationTest, NatDetectionHashMatchesCharon) {
  // charon 192.0.2.1[500] -> 192.0.2.2[500]: its IKE_SA_INIT request carries
  // NATD_S = SHA1(SPIi | 0 | 192.0.2.1 | 500) and NATD_D = SHA1(SPIi | 0 | 192.0.2.2 | 500).
  Bytes raw = ReadFixture("gcm/ike_sa_init_request.bin");
  ASSERT_FALSE(raw.empty());
  auto m = Decode(raw);
  ASSERT_TRUE(m.has_value());
  const NotifyPayload* s = m->FindNotify(NotifyType::kNatDetectionSourceIp);
  const NotifyPayload* d = m->FindNotify(NotifyType::kNatDetectionDestinationIp);
  ASSERT_NE(s, nullptr);
  ASSERT_NE(d, nullptr);
  EXPECT_EQ(s->data, NatDetectionHash(m->header.spi_i, 0, Endpoint{Ip("192.0.2.1"), 500}));
  EXPECT_EQ(d->data, NatDetectionHash(m->header.spi_i, 0, Endpoint{Ip("192.0.2.2"), 500}));
}

class CharonFixtureTest : public TwoPeers {};

TEST_F(CharonFixtureTest, ResponderAnswersCharonsIkeSaInit) {
  // charon's aes256gcm16-prfsha256-x25519 IKE_SA_INIT request, as captured.
  AddPeers();
  Bytes raw = ReadFixture("gcm/ike_sa_init_request.bin");
  b_.HandleDatagram(
      Datagram{.local = {Ip("192.0.2.2"), 500}, .remote = {Ip("192.0.2.1"), 500}, .data = raw},
      net_.now());
  auto out = b_.TakeDatagrams();
  ASSERT_EQ(out.size(), 1u);
  auto reply = Decode(out[0].data);
  ASSERT_TRUE(reply.has_value());
  EXPECT_NE(reply->Find(PayloadType::kSa), nullptr);
  EXPECT_NE(reply->FindNotify(NotifyType::kNatDetectionSourceIp), nullptr);
  EXPECT_NE(reply->FindNotify(NotifyType::kIkev2FragmentationSupported), nullptr);
  EXPECT_EQ(b_.half_open_count(), 1u);
  auto sas = b_.ListSas(net_.now());
  ASSERT_EQ(sas.size(), 1u);
  EXPECT_FALSE(sas[0].nat_local);
  EXPECT_FALSE(sas[0].nat_remote);
  EXPECT_EQ(sas[0].algorithms, "ENCR_AES_GCM_16_256/PRF_HMAC_SHA2_256/CURVE_25519");
}

TEST_F(CharonFixtureTest, InitiatorParsesCharonsIkeSaInitResponseShape) {
  // charon's response (to another SPI) is not ours: it must be dropped without harm.
  AddPeers();
  ASSERT_TRUE(a_.Initiate("to-b", "net", net_.now()).has_value());
  a_.TakeDatagrams();
  a_.HandleDatagram(Datagram{.local = {Ip("192.0.2.1"), 500},
                             .remote = {Ip("192.0.2.2"), 500},
                             .data = ReadFixture("gcm/ike_sa_init_response.bin")},
                    net_.now());
  EXPECT_TRUE(a_.TakeDatagrams().empty());
  EXPECT_EQ(a_.ike_sa_count(), 1u);
}

TEST_F(CharonFixtureTest, IkeRekeyTimerWithJitter) {
  PeerConfig pa = PeerA();
  pa.rekey_time = std::chrono::seconds(1000);
  pa.rand_time = std::chrono::seconds(100);
  AddPeers(std::move(pa), PeerB());
  ASSERT_TRUE(a_.Initiate("to-b", "net", net_.now()).has_value());
  net_.RunFor(std::chrono::seconds(1));
  auto before = a_.ListSas(net_.now());
  ASSERT_EQ(before.size(), 1u);
  ASSERT_TRUE(before[0].rekey_in.has_value());
  EXPECT_GE(before[0].rekey_in->count(), 898);
  EXPECT_LE(before[0].rekey_in->count(), 1000);
  net_.RunFor(std::chrono::seconds(1001));
  auto after = a_.ListSas(net_.now());
  ASSERT_EQ(after.size(), 1u);
  EXPECT_NE(after[0].spi_i, before[0].spi_i);  // rekeyed (make-before-break) by the timer
  EXPECT_EQ(after[0].children.size(), 1u);
  EXPECT_EQ(kernel_a_.sa_count(), 2u);
}

TEST_F(CharonFixtureTest, EventsNeverCarryKeys) {
  Establish();
  ASSERT_TRUE(a_.Rekey("to-b", "net", net_.now()).has_value());
  net_.RunFor(std::chrono::seconds(1));
  auto c = Children(a_)[0];
  const auto* sa = kernel_a_.FindSa(xfrm::SaId{.src = Ip("192.0.2.1"),
                                               .dst = Ip("192.0.2.2"),
                                               .spi = c.spi_out,
                                               .proto = 50,
                                               .mark = xfrm::Mark{12, 0xffffffff}});
  ASSERT_NE(sa, nullptr);
  std::string key_hex = ToHex(sa->encr_key.Reveal()).substr(0, 16);
  for (const auto& e : a_.TakeEvents()) {
    EXPECT_EQ(e.text.find(key_hex), std::string::npos) << e.text;
    EXPECT_EQ(e.text.find("horse"), std::string::npos) << e.text;
  }
}

}  // namespace
}  // namespace minivpn::ike::test
