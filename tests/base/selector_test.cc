#include "base/selector.h"

#include <gtest/gtest.h>

namespace minivpn::base {
namespace {

Subnet Net(const char* text) { return *Subnet::Parse(text); }

// A selector from its parts; from/to default to any port.
Selector Sel(const char* net, std::uint8_t proto = 0, std::uint16_t from = 0,
             std::uint16_t to = 0xffff) {
  Selector s;
  if (net != nullptr) s.net = Net(net);
  s.proto = proto;
  s.from_port = from;
  s.to_port = to;
  return s;
}

TEST(Selector, DefaultIsAnyProtocolAndPort) {
  const Selector s = Selector::Of(Net("10.0.0.0/24"));
  EXPECT_EQ(s.proto, 0);
  EXPECT_EQ(s.from_port, 0);
  EXPECT_EQ(s.to_port, 0xffff);
  EXPECT_TRUE(s.any_port());
  EXPECT_TRUE(s.any_proto_port());
  EXPECT_FALSE(Sel("10.0.0.0/24", 47).any_proto_port());
  EXPECT_TRUE(Sel("10.0.0.0/24", 47).any_port());
  EXPECT_FALSE(Sel("10.0.0.0/24", 0, 80, 80).any_port());
  EXPECT_FALSE(Sel("10.0.0.0/24", 0, 0, 0xfffe).any_port());
}

TEST(Selector, ToStringAsCharonPrintsIt) {
  EXPECT_EQ(Sel("10.0.0.0/24").ToString(), "10.0.0.0/24");
  EXPECT_EQ(Sel("10.0.0.0/24", 47).ToString(), "10.0.0.0/24[gre]");
  EXPECT_EQ(Sel("10.0.0.0/24", 6, 80, 80).ToString(), "10.0.0.0/24[tcp/80]");
  EXPECT_EQ(Sel("10.0.0.0/24", 17, 1000, 2000).ToString(), "10.0.0.0/24[udp/1000-2000]");
  EXPECT_EQ(Sel("10.0.0.0/24", 0, 80, 80).ToString(), "10.0.0.0/24[/80]");
  EXPECT_EQ(Sel("10.0.0.0/24", 99).ToString(), "10.0.0.0/24[99]");  // no name: the number
  EXPECT_EQ(Sel("2001:db8::/32", 6, 443, 443).ToString(), "2001:db8::/32[tcp/443]");
  // An unset address is the config's "dynamic" (the IKE address, resolved later).
  EXPECT_EQ(Sel(nullptr).ToString(), "dynamic");
  EXPECT_EQ(Sel(nullptr, 47).ToString(), "dynamic[gre]");
  EXPECT_EQ(Sel("10.0.0.0/24", 17, 1000, 2000).ProtoPortString(), "[udp/1000-2000]");
  EXPECT_EQ(Sel("10.0.0.0/24").ProtoPortString(), "");
}

TEST(Selector, JoinSelectors) {
  EXPECT_EQ(JoinSelectors({Sel("10.1.0.0/16"), Sel("fd01::/64", 47)}),
            "10.1.0.0/16 fd01::/64[gre]");
  EXPECT_EQ(JoinSelectors({Sel("10.1.0.0/16"), Sel("10.2.0.0/16")}, ", "),
            "10.1.0.0/16, 10.2.0.0/16");
  EXPECT_EQ(JoinSelectors({}), "");
}

TEST(ParseIpProtocol, NamesNumbersAndAny) {
  EXPECT_EQ(ParseIpProtocol("tcp"), 6);
  EXPECT_EQ(ParseIpProtocol("udp"), 17);
  EXPECT_EQ(ParseIpProtocol("gre"), 47);
  EXPECT_EQ(ParseIpProtocol("icmp"), 1);
  EXPECT_EQ(ParseIpProtocol("ipv6-icmp"), 58);
  EXPECT_EQ(ParseIpProtocol("icmpv6"), 58);
  EXPECT_EQ(ParseIpProtocol("esp"), 50);
  EXPECT_EQ(ParseIpProtocol("sctp"), 132);
  EXPECT_EQ(ParseIpProtocol("47"), 47);
  EXPECT_EQ(ParseIpProtocol("255"), 255);
  EXPECT_EQ(ParseIpProtocol("%any"), 0);
  EXPECT_EQ(ParseIpProtocol(""), 0);
  EXPECT_FALSE(ParseIpProtocol("256").has_value());
  EXPECT_FALSE(ParseIpProtocol("-1").has_value());
  EXPECT_FALSE(ParseIpProtocol("6x").has_value());
  EXPECT_FALSE(ParseIpProtocol("TCP").has_value());  // /etc/protocols spells them lowercase
  EXPECT_FALSE(ParseIpProtocol("ospf").has_value());
  EXPECT_EQ(IpProtocolName(6), "tcp");
  EXPECT_EQ(IpProtocolName(58), "ipv6-icmp");
  EXPECT_EQ(IpProtocolName(200), "200");
}

TEST(ParseProtoPort, ProtocolAndPortForms) {
  Selector s;
  EXPECT_FALSE(ParseProtoPort("gre", s));
  EXPECT_EQ(s, Sel(nullptr, 47));
  EXPECT_FALSE(ParseProtoPort("tcp/80", s));
  EXPECT_EQ(s, Sel(nullptr, 6, 80, 80));
  EXPECT_FALSE(ParseProtoPort("udp/1000-2000", s));
  EXPECT_EQ(s, Sel(nullptr, 17, 1000, 2000));
  EXPECT_FALSE(ParseProtoPort("17/53", s));
  EXPECT_EQ(s, Sel(nullptr, 17, 53, 53));
  EXPECT_FALSE(ParseProtoPort("tcp/%any", s));
  EXPECT_EQ(s, Sel(nullptr, 6));
  EXPECT_FALSE(ParseProtoPort("tcp/", s));
  EXPECT_EQ(s, Sel(nullptr, 6));
  EXPECT_FALSE(ParseProtoPort("/80", s));  // any protocol, one port
  EXPECT_EQ(s, Sel(nullptr, 0, 80, 80));
  EXPECT_FALSE(ParseProtoPort("%any/443", s));
  EXPECT_EQ(s, Sel(nullptr, 0, 443, 443));
  EXPECT_FALSE(ParseProtoPort("udp/0-65535", s));
  EXPECT_EQ(s, Sel(nullptr, 17));
  // A second parse resets what the first one set.
  EXPECT_FALSE(ParseProtoPort("tcp/80", s));
  EXPECT_FALSE(ParseProtoPort("gre", s));
  EXPECT_EQ(s, Sel(nullptr, 47));
  // The address is not touched.
  Selector net = Sel("10.1.0.0/16");
  EXPECT_FALSE(ParseProtoPort("tcp/22", net));
  EXPECT_EQ(net, Sel("10.1.0.0/16", 6, 22, 22));
}

TEST(ParseProtoPort, Errors) {
  Selector s;
  auto why = ParseProtoPort("tcp/2000-1000", s);
  ASSERT_TRUE(why.has_value());
  EXPECT_NE(why->find("port range '2000-1000' is empty"), std::string::npos) << *why;
  why = ParseProtoPort("icmp/8", s);
  ASSERT_TRUE(why.has_value());
  EXPECT_NE(why->find("ICMP type/code selectors are not supported"), std::string::npos) << *why;
  why = ParseProtoPort("ipv6-icmp/128", s);
  ASSERT_TRUE(why.has_value());
  EXPECT_NE(why->find("ICMP"), std::string::npos) << *why;
  EXPECT_FALSE(ParseProtoPort("icmp", s));  // all of ICMP is fine
  EXPECT_EQ(s.proto, 1);
  why = ParseProtoPort("tcp/http", s);
  ASSERT_TRUE(why.has_value());
  EXPECT_NE(why->find("port 'http' is not a number or a range (service names are not read)"),
            std::string::npos)
      << *why;
  why = ParseProtoPort("ospf", s);
  ASSERT_TRUE(why.has_value());
  EXPECT_EQ(*why, "unknown protocol 'ospf'");
  why = ParseProtoPort("tcp/65536", s);
  ASSERT_TRUE(why.has_value());
  EXPECT_NE(why->find("65536"), std::string::npos) << *why;
  why = ParseProtoPort("tcp/80-", s);
  ASSERT_TRUE(why.has_value());
  why = ParseProtoPort("tcp/%opaque", s);
  ASSERT_TRUE(why.has_value());
  EXPECT_NE(why->find("%opaque"), std::string::npos) << *why;
}

TEST(Selector, OrderAndEquality) {
  EXPECT_EQ(Sel("10.0.0.0/24", 6, 80, 80), Sel("10.0.0.0/24", 6, 80, 80));
  EXPECT_NE(Sel("10.0.0.0/24", 6, 80, 80), Sel("10.0.0.0/24", 17, 80, 80));
  EXPECT_NE(Sel("10.0.0.0/24", 6, 80, 80), Sel("10.0.0.0/24", 6, 80, 81));
  EXPECT_LT(Sel("10.0.0.0/24"), Sel("10.0.0.0/24", 6));
}

}  // namespace
}  // namespace minivpn::base
