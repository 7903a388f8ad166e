// IKE_SA_INIT + IKE_AUTH between two engines, stepped message by message, both roles.
#include <sys/socket.h>

#include "ike/wire/codec.h"
#include "tests/ike/engine/engine_test_util.h"

namespace minivpn::ike::test {
namespace {

class EstablishTest : public TwoPeers {};

// The ESP SA from src to dst with that SPI and mark in a fake kernel, or nullptr.
const xfrm::SaSpec* FindEsp(const xfrm::FakeKernel& kernel, const char* src, const char* dst,
                            std::uint32_t spi, xfrm::Mark mark = xfrm::Mark::None()) {
  return kernel.FindSa(
      xfrm::SaId{.src = Ip(src), .dst = Ip(dst), .spi = spi, .proto = 50, .mark = mark});
}

// The float after IKE_SA_INIT follows charon (ike_sa.c float_ports): the peer's port becomes
// 4500 only where port 500 was in use on either side, ours becomes our NAT-T port. Two daemons on
// custom ports (charon.port = 5000, port_nat_t = 5001; the peer at remote_port 7000) keep the
// peer's port: IKE_AUTH went to port 5001 of the peer instead, which answered INVALID_IKE_SPI.
class CustomPortTest : public TwoPeers {
 protected:
  CustomPortTest() : TwoPeers(EngineConfig{.nat_t_port = 5001, .ike_port = 5000}) {}

  // The ports of the IKE_AUTH request when a initiates to a peer at remote_port.
  using Ports = std::pair<std::uint16_t, std::uint16_t>;
  Ports AuthPorts(std::uint16_t remote_port) {
    PeerConfig pa = PeerA();
    pa.remote_port = remote_port;
    AddPeers(pa, PeerB());
    EXPECT_TRUE(a_.Initiate("to-b", "net", net_.now()).has_value());
    net_.CollectReliable();
    EXPECT_EQ(net_.in_flight().at(0).datagram.remote.port, remote_port);
    net_.Deliver(0);   // IKE_SA_INIT request
    net_.CollectReliable();
    net_.Deliver(0);   // its response
    net_.CollectReliable();
    const Datagram& auth = net_.in_flight().at(0).datagram;
    return {auth.local.port, auth.remote.port};
  }
};

TEST_F(CustomPortTest, FloatKeepsAPeersCustomPort) {
  EXPECT_EQ(AuthPorts(7000), Ports(5001, 7000));
}

TEST_F(CustomPortTest, FloatToAPeerOnPort500GoesTo4500) {
  EXPECT_EQ(AuthPorts(500), Ports(5001, 4500));
}

// mobike = no (charon): without a NAT, IKE stays on the ports of IKE_SA_INIT, no marker.
TEST_F(EstablishTest, MobikeNoStaysOnPort500WithoutANat) {
  PeerConfig pa = PeerA();
  pa.mobike = false;
  AddPeers(pa, PeerB());
  ASSERT_TRUE(a_.Initiate("to-b", "net", net_.now()).has_value());
  for (int i = 0; i < 2; ++i) {  // IKE_SA_INIT request and response
    net_.CollectReliable();
    net_.Deliver(0);
  }
  net_.CollectReliable();
  ASSERT_EQ(net_.pending(), 1u);
  const Datagram& auth = net_.in_flight()[0].datagram;
  EXPECT_EQ(auth.local.port, 500);
  EXPECT_EQ(auth.remote.port, 500);
  EXPECT_EQ(Decode(auth.data)->header.exchange, ExchangeType::kIkeAuth) << "no marker";
  net_.RunFor(std::chrono::seconds(1));
  EXPECT_EQ(EstablishedCount(a_), 1u);
  EXPECT_EQ(EstablishedCount(b_), 1u);
}

TEST_F(EstablishTest, SteppedMessageByMessage) {
  AddPeers();
  ASSERT_TRUE(a_.Initiate("to-b", "net", net_.now()).has_value());

  // IKE_SA_INIT request on port 500, no marker.
  net_.CollectReliable();
  ASSERT_EQ(net_.pending(), 1u);
  const Datagram& init = net_.in_flight()[0].datagram;
  EXPECT_EQ(init.local.port, 500);
  EXPECT_EQ(init.remote.port, 500);
  auto init_msg = Decode(init.data);
  ASSERT_TRUE(init_msg.has_value());
  EXPECT_EQ(init_msg->header.exchange, ExchangeType::kIkeSaInit);
  EXPECT_NE(init_msg->FindNotify(NotifyType::kNatDetectionSourceIp), nullptr);
  EXPECT_NE(init_msg->FindNotify(NotifyType::kNatDetectionDestinationIp), nullptr);
  EXPECT_NE(init_msg->FindNotify(NotifyType::kIkev2FragmentationSupported), nullptr);
  net_.Deliver(0);
  EXPECT_EQ(b_.half_open_count(), 1u);

  // IKE_SA_INIT response.
  net_.CollectReliable();
  ASSERT_EQ(net_.pending(), 1u);
  EXPECT_EQ(net_.in_flight()[0].datagram.local.port, 500);
  net_.Deliver(0);

  // IKE_AUTH request: floated to 4500 with the non-ESP marker although there is no NAT.
  net_.CollectReliable();
  ASSERT_EQ(net_.pending(), 1u);
  const Datagram& auth = net_.in_flight()[0].datagram;
  EXPECT_EQ(auth.local.port, 4500);
  EXPECT_EQ(auth.remote.port, 4500);
  ASSERT_GT(auth.data.size(), 4u);
  EXPECT_EQ(Bytes(auth.data.begin(), auth.data.begin() + 4), Bytes(4, 0));
  net_.Deliver(0);
  EXPECT_EQ(EstablishedCount(b_), 1u);
  EXPECT_EQ(b_.half_open_count(), 0u);
  EXPECT_EQ(kernel_b_.sa_count(), 2u);
  EXPECT_EQ(kernel_b_.policy_count(), 3u);
  EXPECT_EQ(kernel_a_.sa_count(), 0u);

  // IKE_AUTH response.
  DeliverOnly();
  EXPECT_EQ(EstablishedCount(a_), 1u);
  EXPECT_EQ(kernel_a_.sa_count(), 2u);
  EXPECT_EQ(kernel_a_.policy_count(), 3u);
  net_.CollectReliable();
  EXPECT_EQ(net_.pending(), 0u);

  auto events = a_.TakeEvents();
  EXPECT_EQ(OfKind(events, EventKind::kIkeUp).size(), 1u);
  EXPECT_EQ(OfKind(events, EventKind::kChildUp).size(), 1u);
  auto sent = OfKind(events, EventKind::kExchangeSent);
  ASSERT_EQ(sent.size(), 2u);
  EXPECT_EQ(sent[0].text.rfind("IKE_SA_INIT request 0 [ SA KE No N(NATD_S_IP) N(NATD_D_IP)", 0), 0u)
      << sent[0].text;
  EXPECT_NE(sent[1].text.find("IKE_AUTH request 1 [ IDi N(INIT_CONTACT) IDr AUTH SA TSi TSr"),
            std::string::npos)
      << sent[1].text;
}

TEST_F(EstablishTest, KernelStateMatchesCharon) {
  Establish();
  auto ca = Children(a_);
  auto cb = Children(b_);
  ASSERT_EQ(ca.size(), 1u);
  ASSERT_EQ(cb.size(), 1u);
  EXPECT_EQ(ca[0].spi_in, cb[0].spi_out);
  EXPECT_EQ(ca[0].spi_out, cb[0].spi_in);
  EXPECT_EQ(ca[0].reqid, 1u);
  EXPECT_EQ(cb[0].reqid, 1u);
  EXPECT_GE(ca[0].spi_in, 0xc0000000u);
  EXPECT_LE(ca[0].spi_in, 0xcfffffffu);

  const xfrm::SaSpec* out =
      FindEsp(kernel_a_, "192.0.2.1", "192.0.2.2", ca[0].spi_out, xfrm::Mark{12, 0xffffffff});
  const xfrm::SaSpec* in = FindEsp(kernel_b_, "192.0.2.1", "192.0.2.2", cb[0].spi_in);
  ASSERT_NE(out, nullptr);
  ASSERT_NE(in, nullptr);
  // Both ends derived the same KEYMAT for this direction (2.17); 32-octet key + 4 salt.
  EXPECT_EQ(out->encr_key.size(), 36u);
  EXPECT_TRUE(out->encr_key.Equals(in->encr_key.Reveal()));
  EXPECT_EQ(out->replay_window, 0u);
  EXPECT_EQ(in->replay_window, 32u);
  EXPECT_EQ(out->lifetime.hard_add_seconds, 3960u);
  EXPECT_GE(out->lifetime.soft_add_seconds, 3240u);
  EXPECT_LE(out->lifetime.soft_add_seconds, 3600u);
  EXPECT_FALSE(out->encap.has_value());  // no NAT between the peers

  xfrm::PolicyId out_policy{.src = Net("0.0.0.0/0"),
                            .dst = Net("0.0.0.0/0"),
                            .dir = xfrm::PolicyDir::kOut,
                            .mark = xfrm::Mark{12, 0xffffffff}};
  const xfrm::PolicySpec* pol = kernel_a_.FindPolicy(out_policy);
  ASSERT_NE(pol, nullptr);
  EXPECT_EQ(pol->priority, 399999u);
  EXPECT_EQ(pol->tmpl_spi, ca[0].spi_out);
  EXPECT_EQ(pol->reqid, 1u);
}

TEST_F(EstablishTest, ResponderRoleFromB) {
  AddPeers();
  ASSERT_TRUE(b_.Initiate("to-a", "net", net_.now()).has_value());
  net_.RunFor(std::chrono::seconds(1));
  auto sas_a = a_.ListSas(net_.now());
  auto sas_b = b_.ListSas(net_.now());
  ASSERT_EQ(sas_a.size(), 1u);
  ASSERT_EQ(sas_b.size(), 1u);
  EXPECT_FALSE(sas_a[0].initiator);
  EXPECT_TRUE(sas_b[0].initiator);
  EXPECT_EQ(sas_a[0].spi_i, sas_b[0].spi_i);
  EXPECT_EQ(sas_a[0].spi_r, sas_b[0].spi_r);
  EXPECT_EQ(sas_a[0].local.port, 4500);
  EXPECT_EQ(sas_a[0].algorithms, "ENCR_AES_GCM_16_256/PRF_HMAC_SHA2_256/CURVE_25519");
  EXPECT_EQ(kernel_a_.sa_count(), 2u);
  EXPECT_EQ(kernel_b_.sa_count(), 2u);
}

TEST_F(EstablishTest, CbcModp2048AndEsnProposals) {
  PeerConfig pa = PeerA(), pb = PeerB();
  pa.proposals = {CbcSha256(crypto::DhGroup::kModp2048)};
  pb.proposals = {GcmX25519(), CbcSha256(crypto::DhGroup::kModp2048)};
  EspProposal cbc{.encr = {{crypto::EncrId::kAesCbc, 128}},
                  .integ = {crypto::IntegId::kHmacSha2_256_128},
                  .dh = {},
                  .esn = {EsnId::kEsn}};
  pa.children[0].proposals = {cbc};
  pb.children[0].proposals = {EspGcm(), cbc};
  AddPeers(std::move(pa), std::move(pb));
  ASSERT_TRUE(a_.Initiate("to-b", "net", net_.now()).has_value());
  net_.RunFor(std::chrono::seconds(1));
  auto sas = a_.ListSas(net_.now());
  ASSERT_EQ(sas.size(), 1u);
  EXPECT_EQ(sas[0].state, IkeState::kEstablished);
  ASSERT_EQ(sas[0].children.size(), 1u);
  EXPECT_NE(sas[0].children[0].algorithms.find("ESN"), std::string::npos)
      << sas[0].children[0].algorithms;
}

// Issue 21: charon's reqid and replay_window reach the kernel (they were parsed and dropped).
TEST_F(EstablishTest, ConfiguredReqidAndReplayWindowReachTheKernel) {
  PeerConfig pa = PeerA(), pb = PeerB();
  pa.children[0].reqid = 7;
  pa.children[0].replay_window = 1024;
  AddPeers(std::move(pa), std::move(pb));
  ASSERT_TRUE(a_.Initiate("to-b", "net", net_.now()).has_value());
  net_.RunFor(std::chrono::seconds(1));
  auto ca = Children(a_);
  ASSERT_EQ(ca.size(), 1u);
  EXPECT_EQ(ca[0].reqid, 7u);
  EXPECT_EQ(Children(b_).at(0).reqid, 1u) << "b allocates its own";
  const xfrm::SaSpec* in = FindEsp(kernel_a_, "192.0.2.2", "192.0.2.1", ca[0].spi_in);
  ASSERT_NE(in, nullptr);
  EXPECT_EQ(in->replay_window, 1024u);
  EXPECT_EQ(in->reqid, 7u);
}

// Issue 21: byte and packet lifetimes reach both SAs of a CHILD_SA, as charon's get_lifetime()
// makes them: soft = rekey - random(0..rand), hard = life (the kernel's soft expire then rekeys,
// its hard expire deletes); a child without them gets no volume limit. A rekey's SAs get them too.
TEST_F(EstablishTest, ByteAndPacketLifetimesReachBothSas) {
  PeerConfig pa = PeerA(), pb = PeerB();
  ChildConfig& c = pa.children[0];
  c.rekey_bytes = 1'000'000'000'000;  // rand beyond 32 bits
  c.life_bytes = 1'100'000'000'000;
  c.rand_bytes = 100'000'000'000;
  c.rekey_packets = 5000;
  c.life_packets = 5500;
  AddPeers(std::move(pa), std::move(pb));
  ASSERT_TRUE(a_.Initiate("to-b", "net", net_.now()).has_value());
  net_.RunFor(std::chrono::seconds(1));
  const auto expect_limits = [&](const ChildSaInfo& child) {
    const xfrm::SaSpec* in = FindEsp(kernel_a_, "192.0.2.2", "192.0.2.1", child.spi_in);
    const xfrm::SaSpec* out =
        FindEsp(kernel_a_, "192.0.2.1", "192.0.2.2", child.spi_out, xfrm::Mark{12, 0xffffffff});
    ASSERT_NE(in, nullptr);
    ASSERT_NE(out, nullptr);
    for (const xfrm::SaSpec* sa : {in, out}) {
      EXPECT_EQ(sa->lifetime.hard_bytes, 1'100'000'000'000u);
      EXPECT_GE(sa->lifetime.soft_bytes, 900'000'000'000u);
      EXPECT_LE(sa->lifetime.soft_bytes, 1'000'000'000'000u);
      EXPECT_EQ(sa->lifetime.soft_packets, 5000u);  // rand_packets 0: exactly rekey_packets
      EXPECT_EQ(sa->lifetime.hard_packets, 5500u);
      EXPECT_EQ(sa->lifetime.hard_add_seconds, 3960u);  // the times as before
    }
  };
  auto ca = Children(a_);
  ASSERT_EQ(ca.size(), 1u);
  expect_limits(ca[0]);
  auto cb = Children(b_);
  ASSERT_EQ(cb.size(), 1u);
  const xfrm::SaSpec* b_in = FindEsp(kernel_b_, "192.0.2.1", "192.0.2.2", cb[0].spi_in);
  ASSERT_NE(b_in, nullptr);
  EXPECT_EQ(b_in->lifetime.soft_bytes + b_in->lifetime.hard_bytes + b_in->lifetime.soft_packets +
                b_in->lifetime.hard_packets,
            0u);
  ASSERT_TRUE(a_.Rekey("to-b", "net", net_.now()).has_value());
  net_.RunFor(std::chrono::seconds(2));
  auto rekeyed = Children(a_);
  ASSERT_EQ(rekeyed.size(), 1u);
  ASSERT_NE(rekeyed[0].spi_in, ca[0].spi_in);
  expect_limits(rekeyed[0]);
}

// Allocated reqids keep clear of configured ones, even of a child that is not up yet (else it
// would share its reqid, and so its SAs, with the first tunnel).
TEST_F(EstablishTest, AllocatedReqidsSkipConfiguredOnes) {
  PeerConfig idle = MakePeer("to-c", "192.0.2.1", "192.0.2.3", "a.test", "c.test", 13);
  idle.children[0].reqid = 1;
  ASSERT_TRUE(a_.AddPeer(std::move(idle), net_.now()).has_value());
  AddPeers();
  ASSERT_TRUE(a_.Initiate("to-b", "net", net_.now()).has_value());
  net_.RunFor(std::chrono::seconds(1));
  auto ca = Children(a_);
  ASSERT_EQ(ca.size(), 1u);
  EXPECT_EQ(ca[0].reqid, 2u) << "reqid 1 belongs to to-c's child";
}

// Issue 21: the suites old configurations name establish between two engines with the same
// KEYMAT on both ends: 3DES/HMAC-MD5/MODP-1024 for IKE, and for ESP 3DES-MD5, AES-CTR (key +
// 4-octet nonce) and AES-CCM (key + 3-octet salt).
struct EspCase {
  EncrSpec encr;
  crypto::IntegId integ;
  std::size_t key_octets;
};
class DeprecatedSuitesTest : public TwoPeers, public ::testing::WithParamInterface<EspCase> {};

TEST_P(DeprecatedSuitesTest, EstablishWithTheSameKeymatOnBothEnds) {
  const EspCase& c = GetParam();
  IkeProposal weak{.encr = {{crypto::EncrId::k3Des, 192}},
                   .integ = {crypto::IntegId::kHmacMd5_96},
                   .prf = {crypto::PrfId::kHmacMd5},
                   .dh = {crypto::DhGroup::kModp1024}};
  EspProposal esp{.encr = {c.encr}, .integ = {}, .dh = {}, .esn = {EsnId::kNoEsn}};
  if (c.integ != crypto::IntegId::kNone) esp.integ = {c.integ};
  PeerConfig pa = PeerA(), pb = PeerB();
  pa.proposals = pb.proposals = {weak};
  pa.children[0].proposals = pb.children[0].proposals = {esp};
  AddPeers(std::move(pa), std::move(pb));
  ASSERT_TRUE(a_.Initiate("to-b", "net", net_.now()).has_value());
  net_.RunFor(std::chrono::seconds(1));
  auto sas = a_.ListSas(net_.now());
  ASSERT_EQ(sas.size(), 1u);
  EXPECT_EQ(sas[0].state, IkeState::kEstablished);
  EXPECT_EQ(sas[0].algorithms, "ENCR_3DES/AUTH_HMAC_MD5_96/PRF_HMAC_MD5/MODP_1024");
  auto ca = Children(a_);
  auto cb = Children(b_);
  ASSERT_EQ(ca.size(), 1u);
  ASSERT_EQ(cb.size(), 1u);
  const xfrm::SaSpec* out =
      FindEsp(kernel_a_, "192.0.2.1", "192.0.2.2", ca[0].spi_out, xfrm::Mark{12, 0xffffffff});
  const xfrm::SaSpec* in = FindEsp(kernel_b_, "192.0.2.1", "192.0.2.2", cb[0].spi_in);
  ASSERT_NE(out, nullptr);
  ASSERT_NE(in, nullptr);
  EXPECT_EQ(out->encr_key.size(), c.key_octets);
  EXPECT_TRUE(out->encr_key.Equals(in->encr_key.Reveal()));
  EXPECT_TRUE(out->integ_key.Equals(in->integ_key.Reveal()));
}

INSTANTIATE_TEST_SUITE_P(
    Esp, DeprecatedSuitesTest,
    ::testing::Values(EspCase{{crypto::EncrId::k3Des, 192}, crypto::IntegId::kHmacMd5_96, 24},
                      EspCase{{crypto::EncrId::kAesCtr, 128}, crypto::IntegId::kHmacSha2_256_128,
                              16 + 4},
                      EspCase{{crypto::EncrId::kAesCcm12, 256}, crypto::IntegId::kNone, 32 + 3}));

TEST_F(EstablishTest, WrongPskFailsWithoutKernelState) {
  PeerConfig pb = PeerB();
  pb.psk = SecretBytes::FromString("another secret");
  AddPeers(PeerA(), std::move(pb));
  ASSERT_TRUE(a_.Initiate("to-b", "net", net_.now()).has_value());
  net_.RunFor(std::chrono::seconds(1));
  EXPECT_EQ(a_.ike_sa_count(), 0u);
  EXPECT_EQ(b_.ike_sa_count(), 0u);
  EXPECT_TRUE(kernel_a_.empty());
  EXPECT_TRUE(kernel_b_.empty());
  auto failures = OfKind(a_.TakeEvents(), EventKind::kFailure);
  ASSERT_FALSE(failures.empty());
  EXPECT_EQ(failures.back().notify, NotifyType::kAuthenticationFailed);
  for (const auto& e : failures) EXPECT_EQ(e.text.find("horse"), std::string::npos);
}

// A responder config with an address list (charon's remote_addrs) answers a peer inside it and
// no other.
TEST_F(EstablishTest, ResponderAnswersOnlyPeersInItsAddressList) {
  PeerConfig pb = PeerB();
  pb.remote_address = {};
  pb.remote_match = {Net("198.51.100.0/24")};
  AddPeers(PeerA(), std::move(pb));
  ASSERT_TRUE(a_.Initiate("to-b", "net", net_.now()).has_value());
  net_.RunFor(std::chrono::seconds(1));
  EXPECT_EQ(EstablishedCount(b_), 0u);
  EXPECT_TRUE(kernel_b_.empty());
}

TEST_F(EstablishTest, ResponderAnswersAPeerInsideItsAddressList) {
  PeerConfig pb = PeerB();
  pb.remote_address = {};
  pb.remote_match = {Net("198.51.100.0/24"), Net("192.0.2.0/24")};
  AddPeers(PeerA(), std::move(pb));
  ASSERT_TRUE(a_.Initiate("to-b", "net", net_.now()).has_value());
  net_.RunFor(std::chrono::seconds(1));
  EXPECT_EQ(EstablishedCount(a_), 1u);
  EXPECT_EQ(EstablishedCount(b_), 1u);
}

// Dynamic selectors are the IKE SA's addresses, not the config's first one: a responder config
// answering two peer addresses gives the peer at the second one its own address.
TEST_F(EstablishTest, DynamicSelectorsFollowTheIkeSaOfAResponderWithSeveralAddresses) {
  PeerConfig pa = PeerA(), pb = PeerB();
  pb.remote_address = Ip("198.51.100.9");
  pb.remote_match = {Net("198.51.100.9/32"), Net("192.0.2.1/32")};
  for (PeerConfig* p : {&pa, &pb}) {
    p->children[0].local_ts = {xfrm::Selector{}};
    p->children[0].remote_ts = {xfrm::Selector{}};
  }
  AddPeers(std::move(pa), std::move(pb));
  ASSERT_TRUE(a_.Initiate("to-b", "net", net_.now()).has_value());
  net_.RunFor(std::chrono::seconds(1));
  auto cb = Children(b_);
  ASSERT_EQ(cb.size(), 1u);
  EXPECT_EQ(cb[0].local_ts, Ts("192.0.2.2/32"));
  EXPECT_EQ(cb[0].remote_ts, Ts("192.0.2.1/32"));
  auto ca = Children(a_);
  ASSERT_EQ(ca.size(), 1u);
  EXPECT_EQ(ca[0].local_ts, Ts("192.0.2.1/32"));
}

TEST_F(EstablishTest, TsUnacceptableKeepsIkeSa) {
  PeerConfig pb = PeerB();
  pb.children[0].local_ts = Ts("10.1.0.0/16");
  pb.children[0].remote_ts = Ts("10.2.0.0/16");
  PeerConfig pa = PeerA();
  pa.children[0].local_ts = Ts("10.9.0.0/16");
  pa.children[0].remote_ts = Ts("10.8.0.0/16");
  AddPeers(std::move(pa), std::move(pb));
  ASSERT_TRUE(a_.Initiate("to-b", "net", net_.now()).has_value());
  net_.RunFor(std::chrono::seconds(1));
  EXPECT_EQ(EstablishedCount(a_), 1u);
  EXPECT_EQ(EstablishedCount(b_), 1u);
  EXPECT_TRUE(Children(a_).empty());
  EXPECT_TRUE(kernel_a_.empty());
  EXPECT_TRUE(kernel_b_.empty());
  auto failures = OfKind(a_.TakeEvents(), EventKind::kFailure);
  ASSERT_FALSE(failures.empty());
  EXPECT_EQ(failures.back().notify, NotifyType::kTsUnacceptable);
}

TEST_F(EstablishTest, NarrowingToResponderSubnet) {
  PeerConfig pa = PeerA();
  pa.children[0].local_ts = Ts("10.0.0.0/8");
  pa.children[0].remote_ts = Ts("0.0.0.0/0");
  PeerConfig pb = PeerB();
  pb.children[0].local_ts = Ts("10.2.0.0/16");
  pb.children[0].remote_ts = Ts("10.1.0.0/16");
  AddPeers(std::move(pa), std::move(pb));
  ASSERT_TRUE(a_.Initiate("to-b", "net", net_.now()).has_value());
  net_.RunFor(std::chrono::seconds(1));
  auto ca = Children(a_);
  ASSERT_EQ(ca.size(), 1u);
  EXPECT_EQ(ca[0].local_ts, Ts("10.1.0.0/16"));
  EXPECT_EQ(ca[0].remote_ts, Ts("10.2.0.0/16"));
}

// Selector lists and transport mode.

// A selector list of these subnets, each with `proto` (0 = any) and any port.
std::vector<xfrm::Selector> Sels(std::initializer_list<const char*> texts,
                                 std::uint8_t proto = 0) {
  std::vector<xfrm::Selector> out;
  for (const char* t : texts) {
    xfrm::Selector s = xfrm::Selector::Of(Net(t));
    s.proto = proto;
    out.push_back(s);
  }
  return out;
}

xfrm::PolicyId PolicyOf(const char* src, const char* dst, xfrm::PolicyDir dir, xfrm::Mark mark,
                        std::uint8_t proto = 0) {
  return xfrm::PolicyId{.src = Net(src), .dst = Net(dst), .dir = dir, .mark = mark, .proto = proto};
}

// The AddSa calls of a fake kernel's log.
std::vector<xfrm::FakeOp> AddedSas(const xfrm::FakeKernel& kernel) {
  std::vector<xfrm::FakeOp> out;
  for (const auto& op : kernel.log())
    if (op.kind == xfrm::FakeOpKind::kAddSa) out.push_back(op);
  return out;
}

// Dual stack: one CHILD_SA over an IPv4 IKE SA covers both families, three policies each.
TEST_F(EstablishTest, DualStackChildHasBothSelectorsAndSixPolicies) {
  PeerConfig pa = PeerA(), pb = PeerB();
  for (PeerConfig* p : {&pa, &pb}) {
    p->children[0].local_ts = Sels({"0.0.0.0/0", "::/0"});
    p->children[0].remote_ts = Sels({"0.0.0.0/0", "::/0"});
  }
  AddPeers(std::move(pa), std::move(pb));
  ASSERT_TRUE(a_.Initiate("to-b", "net", net_.now()).has_value());
  net_.RunFor(std::chrono::seconds(1));
  const auto ca = Children(a_), cb = Children(b_);
  ASSERT_EQ(ca.size(), 1u);
  ASSERT_EQ(cb.size(), 1u);
  for (const auto* c : {&ca[0], &cb[0]}) {
    EXPECT_EQ(c->local_ts, Sels({"0.0.0.0/0", "::/0"}));
    EXPECT_EQ(c->remote_ts, Sels({"0.0.0.0/0", "::/0"}));
    EXPECT_FALSE(c->transport);
  }
  const xfrm::Mark mark{12, 0xffffffff};
  for (auto* k : {&kernel_a_, &kernel_b_}) {
    EXPECT_EQ(k->sa_count(), 2u);
    EXPECT_EQ(k->policy_count(), 6u);
    for (const char* any : {"0.0.0.0/0", "::/0"}) {
      for (auto dir : {xfrm::PolicyDir::kIn, xfrm::PolicyDir::kFwd, xfrm::PolicyDir::kOut}) {
        const xfrm::PolicySpec* p = k->FindPolicy(PolicyOf(any, any, dir, mark));
        ASSERT_NE(p, nullptr) << any << " dir " << static_cast<int>(dir);
        EXPECT_EQ(p->priority, 399999u);
        EXPECT_FALSE(p->transport);
      }
    }
  }
  EXPECT_EQ(kernel_a_.FindPolicy(PolicyOf("::/0", "::/0", xfrm::PolicyDir::kOut, mark))->tmpl_spi,
            ca[0].spi_out);
  auto up = OfKind(a_.TakeEvents(), EventKind::kChildUp);
  ASSERT_EQ(up.size(), 1u);
  EXPECT_NE(up[0].text.find("0.0.0.0/0 ::/0 === 0.0.0.0/0 ::/0"), std::string::npos) << up[0].text;

  // A rekey moves both OUT policies to the new outbound SA, on both ends.
  ASSERT_TRUE(a_.Rekey("to-b", "net", net_.now()).has_value());
  net_.RunFor(std::chrono::seconds(2));
  const auto ra = Children(a_), rb = Children(b_);
  ASSERT_EQ(ra.size(), 1u);
  ASSERT_EQ(rb.size(), 1u);
  ASSERT_NE(ra[0].spi_out, ca[0].spi_out);
  EXPECT_EQ(ra[0].local_ts, Sels({"0.0.0.0/0", "::/0"}));
  for (const char* any : {"0.0.0.0/0", "::/0"}) {
    const auto out = PolicyOf(any, any, xfrm::PolicyDir::kOut, mark);
    ASSERT_NE(kernel_a_.FindPolicy(out), nullptr);
    EXPECT_EQ(kernel_a_.FindPolicy(out)->tmpl_spi, ra[0].spi_out) << any;
    EXPECT_EQ(kernel_a_.PolicyRefCount(out), 1u);
    ASSERT_NE(kernel_b_.FindPolicy(out), nullptr);
    EXPECT_EQ(kernel_b_.FindPolicy(out)->tmpl_spi, rb[0].spi_out) << any;
  }
  EXPECT_EQ(kernel_a_.sa_count(), 2u);
  EXPECT_EQ(kernel_a_.policy_count(), 6u);

  // Closing the IKE SA leaves both kernels empty.
  ASSERT_TRUE(a_.Terminate("to-b", "", net_.now()).has_value());
  net_.RunFor(std::chrono::seconds(2));
  EXPECT_TRUE(kernel_a_.empty()) << kernel_a_.sa_count() << " " << kernel_a_.policy_count();
  EXPECT_TRUE(kernel_b_.empty()) << kernel_b_.sa_count() << " " << kernel_b_.policy_count();
}

class TransportTest : public EstablishTest {
 protected:
  // Both peers' child: GRE between the IKE addresses, mode = transport as given for each.
  void AddGrePeers(bool a_transport, bool b_transport) {
    PeerConfig pa = PeerA(), pb = PeerB();
    pa.children[0].local_ts = Sels({"192.0.2.1/32"}, 47);
    pa.children[0].remote_ts = Sels({"192.0.2.2/32"}, 47);
    pa.children[0].transport = a_transport;
    pb.children[0].local_ts = Sels({"192.0.2.2/32"}, 47);
    pb.children[0].remote_ts = Sels({"192.0.2.1/32"}, 47);
    pb.children[0].transport = b_transport;
    for (PeerConfig* p : {&pa, &pb}) p->children[0].mark_in = p->children[0].mark_out = {};
    AddPeers(std::move(pa), std::move(pb));
  }
  // The IN and OUT policies (and FWD in tunnel mode) of `kernel` for the GRE selectors seen
  // from `local`; the OUT template names `spi_out`.
  static void ExpectGrePolicies(const xfrm::FakeKernel& kernel, const char* local,
                                const char* remote, bool transport, std::uint32_t spi_out) {
    SCOPED_TRACE(local);
    EXPECT_EQ(kernel.policy_count(), transport ? 2u : 3u);
    const auto in = PolicyOf(remote, local, xfrm::PolicyDir::kIn, {}, 47);
    const auto fwd = PolicyOf(remote, local, xfrm::PolicyDir::kFwd, {}, 47);
    const auto out = PolicyOf(local, remote, xfrm::PolicyDir::kOut, {}, 47);
    ASSERT_NE(kernel.FindPolicy(in), nullptr);
    ASSERT_NE(kernel.FindPolicy(out), nullptr);
    EXPECT_EQ(kernel.FindPolicy(fwd) != nullptr, !transport);
    for (const auto& id : {in, out}) {
      EXPECT_EQ(kernel.FindPolicy(id)->transport, transport);
      EXPECT_EQ(kernel.FindPolicy(id)->priority, 366975u);
    }
    EXPECT_EQ(kernel.FindPolicy(out)->tmpl_spi, spi_out);
  }
};

TEST_F(TransportTest, GreBetweenTheIkeHostsIsTransportOnBothEnds) {
  AddGrePeers(true, true);
  ASSERT_TRUE(a_.Initiate("to-b", "net", net_.now()).has_value());
  net_.RunFor(std::chrono::seconds(1));
  const auto ca = Children(a_), cb = Children(b_);
  ASSERT_EQ(ca.size(), 1u);
  ASSERT_EQ(cb.size(), 1u);
  EXPECT_TRUE(ca[0].transport);
  EXPECT_TRUE(cb[0].transport);
  EXPECT_EQ(ca[0].local_ts, Sels({"192.0.2.1/32"}, 47));
  EXPECT_EQ(ca[0].remote_ts, Sels({"192.0.2.2/32"}, 47));
  EXPECT_EQ(cb[0].local_ts, Sels({"192.0.2.2/32"}, 47));
  ExpectGrePolicies(kernel_a_, "192.0.2.1/32", "192.0.2.2/32", true, ca[0].spi_out);
  ExpectGrePolicies(kernel_b_, "192.0.2.2/32", "192.0.2.1/32", true, cb[0].spi_out);
  for (const auto* k : {&kernel_a_, &kernel_b_}) {
    const auto sas = AddedSas(*k);
    ASSERT_EQ(sas.size(), 2u);
    for (const auto& op : sas) {
      EXPECT_TRUE(op.transport) << op.ToString();
      // The SA selector is the pair of hosts, source and destination as the SA flows.
      EXPECT_EQ(op.selector_src, xfrm::Subnet::Host(op.sa.src)) << op.ToString();
      EXPECT_EQ(op.selector_dst, xfrm::Subnet::Host(op.sa.dst)) << op.ToString();
    }
  }
  auto events = a_.TakeEvents();
  auto sent = OfKind(events, EventKind::kExchangeSent);
  ASSERT_EQ(sent.size(), 2u);
  EXPECT_NE(sent[1].text.find("N(USE_TRANSP)"), std::string::npos) << sent[1].text;
  auto received = OfKind(events, EventKind::kExchangeReceived);
  ASSERT_FALSE(received.empty());
  EXPECT_NE(received.back().text.find("N(USE_TRANSP)"), std::string::npos)
      << received.back().text;
  auto up = OfKind(events, EventKind::kChildUp);
  ASSERT_EQ(up.size(), 1u);
  EXPECT_NE(up[0].text.find(" transport 192.0.2.1/32[gre] === 192.0.2.2/32[gre]"),
            std::string::npos)
      << up[0].text;
}

TEST_F(TransportTest, ARekeyFromEitherEndKeepsTransport) {
  AddGrePeers(true, true);
  ASSERT_TRUE(a_.Initiate("to-b", "net", net_.now()).has_value());
  net_.RunFor(std::chrono::seconds(1));
  auto before = Children(a_);
  ASSERT_EQ(before.size(), 1u);
  for (Engine* initiator : {&a_, &b_}) {
    SCOPED_TRACE(initiator == &a_ ? "a rekeys" : "b rekeys");
    kernel_a_.ClearLog();
    kernel_b_.ClearLog();
    ASSERT_TRUE(initiator->Rekey(initiator == &a_ ? "to-b" : "to-a", "net", net_.now()));
    net_.RunFor(std::chrono::seconds(2));
    const auto ca = Children(a_), cb = Children(b_);
    ASSERT_EQ(ca.size(), 1u);
    ASSERT_EQ(cb.size(), 1u);
    EXPECT_NE(ca[0].spi_out, before[0].spi_out) << "no rekey happened";
    EXPECT_TRUE(ca[0].transport);
    EXPECT_TRUE(cb[0].transport);
    EXPECT_EQ(ca[0].spi_in, cb[0].spi_out);
    ExpectGrePolicies(kernel_a_, "192.0.2.1/32", "192.0.2.2/32", true, ca[0].spi_out);
    ExpectGrePolicies(kernel_b_, "192.0.2.2/32", "192.0.2.1/32", true, cb[0].spi_out);
    for (const auto* k : {&kernel_a_, &kernel_b_}) {
      EXPECT_EQ(k->sa_count(), 2u);
      const auto sas = AddedSas(*k);
      ASSERT_EQ(sas.size(), 2u);
      for (const auto& op : sas) EXPECT_TRUE(op.transport) << op.ToString();
    }
    before = ca;
  }
}

// charon's check_mode: transport only when both ends are configured for it.
TEST_F(TransportTest, ATunnelResponderAnswersTunnel) {
  AddGrePeers(true, false);
  ASSERT_TRUE(a_.Initiate("to-b", "net", net_.now()).has_value());
  net_.RunFor(std::chrono::seconds(1));
  const auto ca = Children(a_), cb = Children(b_);
  ASSERT_EQ(ca.size(), 1u);
  ASSERT_EQ(cb.size(), 1u);
  EXPECT_FALSE(ca[0].transport);
  EXPECT_FALSE(cb[0].transport);
  ExpectGrePolicies(kernel_a_, "192.0.2.1/32", "192.0.2.2/32", false, ca[0].spi_out);
  ExpectGrePolicies(kernel_b_, "192.0.2.2/32", "192.0.2.1/32", false, cb[0].spi_out);
  for (const auto* k : {&kernel_a_, &kernel_b_})
    for (const auto& op : AddedSas(*k)) EXPECT_FALSE(op.transport) << op.ToString();
  auto received = OfKind(a_.TakeEvents(), EventKind::kExchangeReceived);
  ASSERT_FALSE(received.empty());
  EXPECT_EQ(received.back().text.find("USE_TRANSP"), std::string::npos) << received.back().text;
}

// A transport responder does not impose transport on an initiator that asked for tunnel.
TEST_F(TransportTest, ATunnelInitiatorGetsTunnel) {
  AddGrePeers(false, true);
  ASSERT_TRUE(a_.Initiate("to-b", "net", net_.now()).has_value());
  net_.RunFor(std::chrono::seconds(1));
  const auto ca = Children(a_), cb = Children(b_);
  ASSERT_EQ(ca.size(), 1u);
  ASSERT_EQ(cb.size(), 1u);
  EXPECT_FALSE(ca[0].transport);
  EXPECT_FALSE(cb[0].transport);
  ExpectGrePolicies(kernel_b_, "192.0.2.2/32", "192.0.2.1/32", false, cb[0].spi_out);
}

// Responder narrowing (2.9) keeps every subnet of the initiator's list that its config covers.
TEST_F(EstablishTest, ResponderNarrowingKeepsBothOfferedSubnets) {
  PeerConfig pa = PeerA(), pb = PeerB();
  pa.children[0].local_ts = Sels({"10.1.0.0/16", "10.3.0.0/16"});
  pa.children[0].remote_ts = Sels({"10.2.0.0/16"});
  pb.children[0].local_ts = Sels({"10.2.0.0/16"});
  pb.children[0].remote_ts = Sels({"10.0.0.0/8"});
  AddPeers(std::move(pa), std::move(pb));
  ASSERT_TRUE(a_.Initiate("to-b", "net", net_.now()).has_value());
  net_.RunFor(std::chrono::seconds(1));
  const auto ca = Children(a_), cb = Children(b_);
  ASSERT_EQ(ca.size(), 1u);
  ASSERT_EQ(cb.size(), 1u);
  EXPECT_EQ(ca[0].local_ts, Sels({"10.1.0.0/16", "10.3.0.0/16"}));
  EXPECT_EQ(ca[0].remote_ts, Sels({"10.2.0.0/16"}));
  EXPECT_EQ(cb[0].local_ts, Sels({"10.2.0.0/16"}));
  EXPECT_EQ(cb[0].remote_ts, Sels({"10.1.0.0/16", "10.3.0.0/16"}));
  const xfrm::Mark mark{12, 0xffffffff};
  for (const char* net : {"10.1.0.0/16", "10.3.0.0/16"}) {
    EXPECT_NE(kernel_b_.FindPolicy(PolicyOf(net, "10.2.0.0/16", xfrm::PolicyDir::kIn, mark)),
              nullptr)
        << net;
    EXPECT_NE(kernel_b_.FindPolicy(PolicyOf("10.2.0.0/16", net, xfrm::PolicyDir::kOut, mark)),
              nullptr)
        << net;
    EXPECT_NE(kernel_a_.FindPolicy(PolicyOf(net, "10.2.0.0/16", xfrm::PolicyDir::kOut, mark)),
              nullptr)
        << net;
  }
  EXPECT_EQ(kernel_a_.policy_count(), 6u);
  EXPECT_EQ(kernel_b_.policy_count(), 6u);
  EXPECT_EQ(
      kernel_b_.FindPolicy(PolicyOf("10.2.0.0/16", "10.0.0.0/8", xfrm::PolicyDir::kOut, mark)),
      nullptr)
      << "the responder's wider config is not what it installs";
}

TEST_F(EstablishTest, NoProposalChosenInInit) {
  PeerConfig pb = PeerB();
  pb.proposals = {CbcSha256(crypto::DhGroup::kModp2048)};
  AddPeers(PeerA(), std::move(pb));
  ASSERT_TRUE(a_.Initiate("to-b", "net", net_.now()).has_value());
  net_.RunFor(std::chrono::seconds(1));
  // The unauthenticated NO_PROPOSAL_CHOSEN is a hint: A keeps retrying until it gives up.
  EXPECT_EQ(a_.ike_sa_count(), 1u);
  EXPECT_EQ(b_.ike_sa_count(), 0u);
  net_.RunFor(std::chrono::seconds(200));
  EXPECT_EQ(a_.ike_sa_count(), 0u);
  auto failures = OfKind(a_.TakeEvents(), EventKind::kFailure);
  ASSERT_FALSE(failures.empty());
  EXPECT_EQ(failures.back().notify, NotifyType::kNoProposalChosen);
}

TEST_F(EstablishTest, IdrOptionalWhenRemoteIdIsAny) {
  PeerConfig pa = PeerA();
  pa.remote_id = Identity{IdType::kFqdn, ""};
  AddPeers(std::move(pa), PeerB());
  ASSERT_TRUE(a_.Initiate("to-b", "net", net_.now()).has_value());
  net_.RunFor(std::chrono::seconds(1));
  EXPECT_EQ(EstablishedCount(a_), 1u);
  auto sent = OfKind(a_.TakeEvents(), EventKind::kExchangeSent);
  ASSERT_GE(sent.size(), 2u);
  EXPECT_EQ(sent[1].text.find("IDr"), std::string::npos) << sent[1].text;
}

TEST_F(EstablishTest, IpAddressIdentities) {
  PeerConfig pa = PeerA(), pb = PeerB();
  auto v4 = [](const char* ip) {
    auto a = Ip(ip);
    return Identity{IdType::kIpv4Addr, std::string(a.bytes.begin(), a.bytes.begin() + 4)};
  };
  pa.local_id = v4("192.0.2.1");
  pa.remote_id = v4("192.0.2.2");
  pb.local_id = v4("192.0.2.2");
  pb.remote_id = v4("192.0.2.1");
  AddPeers(std::move(pa), std::move(pb));
  ASSERT_TRUE(a_.Initiate("to-b", "net", net_.now()).has_value());
  net_.RunFor(std::chrono::seconds(1));
  EXPECT_EQ(EstablishedCount(a_), 1u);
  EXPECT_EQ(EstablishedCount(b_), 1u);
}

TEST_F(EstablishTest, InitialContactReplacesOldSa) {
  Establish();
  EXPECT_EQ(b_.ike_sa_count(), 1u);
  // A restarts (loses its state) and connects again.
  crypto::SeededRandom r(7);
  xfrm::FakeKernel k;
  Engine a2(EngineConfig{}, r, k);
  net_.Attach(Ip("192.0.2.1"), &a2);
  ASSERT_TRUE(a2.AddPeer(PeerA(), net_.now()).has_value());
  ASSERT_TRUE(a2.Initiate("to-b", "net", net_.now()).has_value());
  net_.RunFor(std::chrono::seconds(1));
  EXPECT_EQ(EstablishedCount(a2), 1u);
  EXPECT_EQ(b_.ike_sa_count(), 1u);  // the old one was dropped on INITIAL_CONTACT
  EXPECT_EQ(kernel_b_.sa_count(), 2u);
  EXPECT_EQ(kernel_b_.policy_count(), 3u);
}

// 2.4: INITIAL_CONTACT speaks for one identity. A responder whose single config accepts any
// address and any identity keeps the SAs of the other peers; only the sender's older SA goes.
TEST_F(EstablishTest, InitialContactRemovesOnlyTheSendersOwnSas) {
  PeerConfig any = PeerB();
  any.name = "any";
  any.remote_address = xfrm::IpAddress{};
  any.remote_id = Identity{};
  AddPeers(PeerA(), std::move(any));
  ASSERT_TRUE(a_.Initiate("to-b", "net", net_.now()).has_value());
  net_.RunFor(std::chrono::seconds(1));
  ASSERT_EQ(EstablishedCount(b_), 1u);

  // C: another site, another identity, same responder config; it sends INITIAL_CONTACT too.
  auto peer_c = [] { return MakePeer("to-b", "192.0.2.3", "192.0.2.2", "c.test", "b.test"); };
  crypto::SeededRandom rc(9);
  xfrm::FakeKernel kc;
  Engine c(EngineConfig{}, rc, kc);
  net_.Attach(Ip("192.0.2.3"), &c);
  ASSERT_TRUE(c.AddPeer(peer_c(), net_.now()).has_value());
  ASSERT_TRUE(c.Initiate("to-b", "net", net_.now()).has_value());
  net_.RunFor(std::chrono::seconds(1));
  EXPECT_EQ(EstablishedCount(c), 1u);
  EXPECT_EQ(EstablishedCount(b_), 2u) << "A's SA must survive C's INITIAL_CONTACT";
  EXPECT_EQ(EstablishedCount(a_), 1u);

  // C restarts: its INITIAL_CONTACT replaces C's old SA, and A's stays.
  crypto::SeededRandom rc2(10);
  xfrm::FakeKernel kc2;
  Engine c2(EngineConfig{}, rc2, kc2);
  net_.Attach(Ip("192.0.2.3"), &c2);
  ASSERT_TRUE(c2.AddPeer(peer_c(), net_.now()).has_value());
  ASSERT_TRUE(c2.Initiate("to-b", "net", net_.now()).has_value());
  net_.RunFor(std::chrono::seconds(1));
  EXPECT_EQ(EstablishedCount(c2), 1u);
  EXPECT_EQ(b_.ike_sa_count(), 2u);
  EXPECT_EQ(EstablishedCount(b_), 2u);
  auto sas = b_.ListSas(net_.now());
  std::vector<std::string> remotes, identities;
  for (const auto& s : sas) {
    remotes.push_back(s.remote.address.ToString());
    identities.push_back(s.remote_identity);
  }
  std::sort(remotes.begin(), remotes.end());
  std::sort(identities.begin(), identities.end());
  EXPECT_EQ(remotes, (std::vector<std::string>{"192.0.2.1", "192.0.2.3"}));
  EXPECT_EQ(identities, (std::vector<std::string>{"a.test", "c.test"}))
      << "ListSas names the identity each peer authenticated with";
  EXPECT_EQ(a_.ListSas(net_.now()).at(0).remote_identity, "b.test") << "the initiator's view";
}

TEST_F(EstablishTest, KernelFailureOnResponderLeavesIkeSaWithoutChild) {
  AddPeers();
  ASSERT_TRUE(a_.Initiate("to-b", "net", net_.now()).has_value());
  kernel_b_.FailNth(2, std::errc::no_buffer_space);  // ALLOCSPI ok, inbound SA fails
  net_.RunFor(std::chrono::seconds(1));
  EXPECT_EQ(EstablishedCount(a_), 1u);
  EXPECT_EQ(EstablishedCount(b_), 1u);
  EXPECT_TRUE(Children(a_).empty());
  EXPECT_TRUE(Children(b_).empty());
  EXPECT_TRUE(kernel_a_.empty());
  EXPECT_TRUE(kernel_b_.empty());
}

TEST_F(EstablishTest, KernelFailureOnInitiatorDeletesThePeersChild) {
  AddPeers();
  ASSERT_TRUE(a_.Initiate("to-b", "net", net_.now()).has_value());
  kernel_a_.FailNth(3, std::errc::no_buffer_space);  // ALLOCSPI, inbound SA, outbound SA fails
  net_.RunFor(std::chrono::seconds(1));
  EXPECT_EQ(EstablishedCount(a_), 1u);
  EXPECT_EQ(EstablishedCount(b_), 1u);
  EXPECT_TRUE(Children(a_).empty());
  EXPECT_TRUE(Children(b_).empty());  // A told B to delete its half
  EXPECT_TRUE(kernel_a_.empty());
  EXPECT_TRUE(kernel_b_.empty());
}

TEST_F(EstablishTest, SimultaneousInitiationFromBothSides) {
  AddPeers();
  ASSERT_TRUE(a_.Initiate("to-b", "net", net_.now()).has_value());
  ASSERT_TRUE(b_.Initiate("to-a", "net", net_.now()).has_value());
  net_.RunFor(std::chrono::seconds(5));
  // Two IKE SAs, each with its CHILD_SA; both ends agree and the shared policies count two.
  EXPECT_EQ(EstablishedCount(a_), 2u);
  EXPECT_EQ(EstablishedCount(b_), 2u);
  EXPECT_EQ(kernel_a_.sa_count(), 4u);
  EXPECT_EQ(kernel_b_.sa_count(), 4u);
  EXPECT_EQ(kernel_a_.policy_count(), 3u);
  ASSERT_TRUE(a_.Terminate("to-b", "", net_.now()).has_value());
  net_.RunFor(std::chrono::seconds(5));
  EXPECT_TRUE(kernel_a_.empty());
  EXPECT_TRUE(kernel_b_.empty());
}

}  // namespace
}  // namespace minivpn::ike::test

namespace minivpn::ike::test {
namespace {

// Issue 18: IKE SAs per peer identity were unbounded; charon's `unique` decides (swanctl.conf(5)).
// A (192.0.2.1) is up with B; then A2 (192.0.2.3), with the same identity, establishes too.
struct UniqueCase {
  UniquePolicy unique;
  bool initial_contact;    // sent by A2
  std::size_t b_sas;       // IKE SAs B holds at the end
  std::size_t a_sas;       // ... and A
  bool a2_up;
};

class UniqueTest : public ::testing::TestWithParam<UniqueCase> {};

TEST_P(UniqueTest, SecondIkeSaWithTheSameIdentity) {
  const UniqueCase c = GetParam();
  crypto::SeededRandom ra(1), ra2(3), rb(2);
  xfrm::FakeKernel ka, ka2, kb;
  Engine a(EngineConfig{}, ra, ka), a2(EngineConfig{}, ra2, ka2), b(EngineConfig{}, rb, kb);
  SimNetwork net;
  net.Attach(Ip("192.0.2.1"), &a);
  net.Attach(Ip("192.0.2.3"), &a2);
  net.Attach(Ip("192.0.2.2"), &b);
  PeerConfig pb = MakePeer("to-a", "192.0.2.2", "192.0.2.1", "b.test", "a.test");
  pb.remote_address = xfrm::IpAddress{};  // any address
  pb.unique = c.unique;
  ASSERT_TRUE(b.AddPeer(std::move(pb), net.now()).has_value());
  ASSERT_TRUE(a.AddPeer(MakePeer("to-b", "192.0.2.1", "192.0.2.2", "a.test", "b.test"), net.now()));
  PeerConfig p2 = MakePeer("to-b", "192.0.2.3", "192.0.2.2", "a.test", "b.test");
  p2.children[0].mark_in = p2.children[0].mark_out = xfrm::Mark{13, 0xffffffff};
  p2.send_initial_contact = c.initial_contact;
  ASSERT_TRUE(a2.AddPeer(std::move(p2), net.now()).has_value());
  ASSERT_TRUE(a.Initiate("to-b", "net", net.now()).has_value());
  net.RunFor(std::chrono::seconds(1));
  ASSERT_EQ(b.ike_sa_count(), 1u);
  ASSERT_TRUE(a2.Initiate("to-b", "net", net.now()).has_value());
  net.RunFor(std::chrono::seconds(5));
  EXPECT_EQ(b.ike_sa_count(), c.b_sas);
  EXPECT_EQ(a.ike_sa_count(), c.a_sas);
  EXPECT_EQ(a2.ike_sa_count(), c.a2_up ? 1u : 0u);
}

INSTANTIATE_TEST_SUITE_P(
    Policies, UniqueTest,
    ::testing::Values(UniqueCase{UniquePolicy::kNo, false, 2, 1, true},
                      UniqueCase{UniquePolicy::kNo, true, 1, 1, true},  // A keeps its stale SA
                      UniqueCase{UniquePolicy::kNever, true, 2, 1, true},
                      UniqueCase{UniquePolicy::kReplace, false, 1, 0, true},  // DELETE sent to A
                      UniqueCase{UniquePolicy::kKeep, false, 1, 1, false}));

}  // namespace
}  // namespace minivpn::ike::test

namespace minivpn::ike::test {
namespace {

// Issue 18: CHILD_SAs per IKE SA were unbounded. With max_children_per_ike_sa = 2 the third
// CREATE_CHILD_SA is refused with NO_ADDITIONAL_SAS; a rekey still works at the limit.
TEST(ChildLimit, TheResponderRefusesChildrenBeyondItsLimit) {
  crypto::SeededRandom ra(1), rb(2);
  xfrm::FakeKernel ka, kb;
  EngineConfig limited;
  limited.max_children_per_ike_sa = 2;
  Engine a(EngineConfig{}, ra, ka), b(limited, rb, kb);
  SimNetwork net;
  net.Attach(Ip("192.0.2.1"), &a);
  net.Attach(Ip("192.0.2.2"), &b);
  PeerConfig pa = MakePeer("to-b", "192.0.2.1", "192.0.2.2", "a.test", "b.test");
  PeerConfig pb = MakePeer("to-a", "192.0.2.2", "192.0.2.1", "b.test", "a.test");
  for (PeerConfig* p : {&pa, &pb}) {
    for (std::uint32_t i = 1; i <= 2; ++i) {
      ChildConfig c = RouteChild("net" + std::to_string(i), 12 + i);
      c.local_ts = Ts((std::string("10.") + std::to_string(p == &pa ? 1 : 2) + "." +
                        std::to_string(i) + ".0/24").c_str());
      c.remote_ts = Ts((std::string("10.") + std::to_string(p == &pa ? 2 : 1) + "." +
                         std::to_string(i) + ".0/24").c_str());
      p->children.push_back(c);
    }
  }
  ASSERT_TRUE(a.AddPeer(std::move(pa), net.now()).has_value());
  ASSERT_TRUE(b.AddPeer(std::move(pb), net.now()).has_value());
  ASSERT_TRUE(a.Initiate("to-b", "net", net.now()).has_value());
  net.RunFor(std::chrono::seconds(1));
  ASSERT_TRUE(a.Initiate("to-b", "net1", net.now()).has_value());
  net.RunFor(std::chrono::seconds(1));
  ASSERT_TRUE(a.Initiate("to-b", "net2", net.now()).has_value());
  net.RunFor(std::chrono::seconds(1));
  std::size_t b_children = 0;
  for (const auto& sa : b.ListSas(net.now())) b_children += sa.children.size();
  EXPECT_EQ(b_children, 2u);
  bool refused = false;
  for (const auto& e : OfKind(b.TakeEvents(), EventKind::kFailure))
    refused = refused || (e.notify == NotifyType::kNoAdditionalSas &&
                          e.text.find("2 CHILD_SAs on this IKE SA already") != std::string::npos);
  EXPECT_TRUE(refused);
  EXPECT_EQ(kb.sa_count(), 4u);  // two pairs, nothing of the refused one
  ASSERT_TRUE(a.Rekey("to-b", "net", net.now()).has_value());  // a rekey at the limit
  net.RunFor(std::chrono::seconds(2));
  b_children = 0;
  for (const auto& sa : b.ListSas(net.now())) b_children += sa.children.size();
  EXPECT_EQ(b_children, 2u);
  EXPECT_EQ(kb.sa_count(), 4u);
}

}  // namespace
}  // namespace minivpn::ike::test
