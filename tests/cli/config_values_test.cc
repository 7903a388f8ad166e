#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <sys/socket.h>

#include "cli/config/values.h"

namespace minivpn::config {
namespace {

using namespace std::chrono_literals;

TEST(Duration, UnitsAndPlainSeconds) {
  EXPECT_EQ(ParseDuration("3600", false).value(), 3600s);
  EXPECT_EQ(ParseDuration("10s", false).value(), 10s);
  EXPECT_EQ(ParseDuration("9m", false).value(), 540s);
  EXPECT_EQ(ParseDuration("4h", false).value(), 14400s);
  EXPECT_EQ(ParseDuration("1d", false).value(), 86400s);
  EXPECT_EQ(ParseDuration("0", false).value(), 0s);
}

TEST(Duration, FractionsOnlyWhereAllowed) {
  EXPECT_EQ(ParseDuration("1.5h", true).value(), 5400s);
  EXPECT_EQ(ParseDuration("0.5m", true).value(), 30s);
  EXPECT_FALSE(ParseDuration("1.5h", false).has_value());
}

TEST(Duration, RejectsGarbage) {
  for (const char* bad : {"", "h", "10x", "-5", "1h30m", "ten", "5 s", "99999999999999999d"}) {
    auto r = ParseDuration(bad, true);
    ASSERT_FALSE(r.has_value()) << bad;
    EXPECT_NE(r.error().find("expected a number"), std::string::npos) << r.error();
  }
}

TEST(Bool, CharonSpellings) {
  for (const char* yes : {"yes", "YES", "true", "enabled", "1"})
    EXPECT_TRUE(ParseBool(yes).value());
  for (const char* no : {"no", "false", "disabled", "0"}) EXPECT_FALSE(ParseBool(no).value());
  EXPECT_FALSE(ParseBool("maybe").has_value());
}

TEST(Uint, DecimalHexAndRange) {
  EXPECT_EQ(ParseUint("12", 100).value(), 12u);
  EXPECT_EQ(ParseUint("0x1f", 100).value(), 31u);
  EXPECT_FALSE(ParseUint("101", 100).has_value());
  EXPECT_FALSE(ParseUint("0x", 100).has_value());
  EXPECT_FALSE(ParseUint("1a", 100).has_value());
}

TEST(Mark, ValueDefaultsToFullMask) {
  EXPECT_EQ(ParseMark("12").value(), (Mark{12, 0xffffffff}));
  EXPECT_EQ(ParseMark("0x2a/0xff").value(), (Mark{42, 0xff}));
  EXPECT_EQ(ParseMark("0").value(), (Mark::None()));  // "0" = no mark
  EXPECT_TRUE(ParseMark("0/0xffffffff").value().is_set());
}

TEST(Mark, Errors) {
  EXPECT_FALSE(ParseMark("abc").has_value());
  EXPECT_FALSE(ParseMark("12/xyz").has_value());
  EXPECT_FALSE(ParseMark("0x100/0xff").has_value());  // value outside the mask
  EXPECT_FALSE(ParseMark("4294967296").has_value());
}

TEST(Mark, UniqueAsCharon) {
  // charon's MARK_UNIQUE / MARK_UNIQUE_DIR: the engine gives each CHILD_SA its value.
  EXPECT_EQ(ParseMark("%unique").value(), Mark(Mark::kUnique, 0xffffffff));
  EXPECT_EQ(ParseMark("%unique-dir").value(), Mark(Mark::kUniqueDir, 0xffffffff));
  EXPECT_EQ(ParseMark("%unique/0xff00").value(), Mark(Mark::kUnique, 0xff00));
  EXPECT_TRUE(ParseMark("%unique").value().is_unique());
  EXPECT_FALSE(ParseMark("12").value().is_unique());
  EXPECT_FALSE(ParseMark("%uniquely").has_value());
}

TEST(Subnet, ParsesAndClearsHostBits) {
  auto s = ParseSubnet("10.1.2.3/16").value();
  EXPECT_EQ(s.ToString(), "10.1.0.0/16");
  EXPECT_EQ(ParseSubnet("0.0.0.0/0").value().ToString(), "0.0.0.0/0");
  EXPECT_EQ(ParseSubnet("192.0.2.1").value().prefix, 32);
  EXPECT_EQ(ParseSubnet("2001:db8::1/32").value().ToString(), "2001:db8::/32");
  EXPECT_EQ(ParseSubnet("2001:db8::1").value().prefix, 128);
  EXPECT_FALSE(ParseSubnet("10.0.0.0/33").has_value());
  EXPECT_FALSE(ParseSubnet("10.0.0/8").has_value());
  EXPECT_FALSE(ParseSubnet("10.0.0.0/").has_value());
}

TEST(Host, Kinds) {
  EXPECT_EQ(ParseHost("%any").value().kind, Host::Kind::kAny);
  EXPECT_EQ(ParseHost("%any6").value().any_family, AF_INET6);
  auto a = ParseHost("192.0.2.1").value();
  EXPECT_EQ(a.kind, Host::Kind::kAddress);
  EXPECT_EQ(a.subnet.ToString(), "192.0.2.1/32");
  EXPECT_EQ(ParseHost("10.0.0.0/8").value().kind, Host::Kind::kSubnet);
  auto h = ParseHost("vpn-gw.example.org").value();
  EXPECT_EQ(h.kind, Host::Kind::kHostname);
  EXPECT_EQ(h.hostname, "vpn-gw.example.org");
  EXPECT_FALSE(ParseHost("10.0.0.1-10.0.0.9").has_value());
  EXPECT_FALSE(ParseHost("bad host!").has_value());
}

TEST(Identity, CharonTypeDetection) {
  EXPECT_EQ(ParseIdentity("routerA").value(), (Identity{IdType::kFqdn, "routerA"}));
  EXPECT_EQ(ParseIdentity("@vpn.example.org").value(),
            (Identity{IdType::kFqdn, "vpn.example.org"}));
  EXPECT_EQ(ParseIdentity("admin@example.org").value(),
            (Identity{IdType::kRfc822Addr, "admin@example.org"}));
  auto v4 = ParseIdentity("192.0.2.1").value();
  EXPECT_EQ(v4.type, IdType::kIpv4Addr);
  EXPECT_EQ(v4.data, std::string("\xc0\x00\x02\x01", 4));
  EXPECT_EQ(v4.ToString(), "192.0.2.1");
  auto v6 = ParseIdentity("2001:db8::1").value();
  EXPECT_EQ(v6.type, IdType::kIpv6Addr);
  EXPECT_EQ(v6.data.size(), 16u);
  EXPECT_EQ(ParseIdentity("%any").value().type, IdType::kAny);
  auto key = ParseIdentity("@#0a0B").value();
  EXPECT_EQ(key, (Identity{IdType::kKeyId, std::string("\x0a\x0b", 2)}));
  EXPECT_EQ(key.ToString(), "@#0a0b");
}

TEST(Identity, TypedPrefixes) {
  EXPECT_EQ(ParseIdentity("fqdn:1.2.3.4").value(), (Identity{IdType::kFqdn, "1.2.3.4"}));
  EXPECT_EQ(ParseIdentity("email:a@b").value().type, IdType::kRfc822Addr);
  EXPECT_EQ(ParseIdentity("ipv4:10.0.0.1").value().type, IdType::kIpv4Addr);
  EXPECT_EQ(ParseIdentity("keyid:abc").value(), (Identity{IdType::kKeyId, "abc"}));
  EXPECT_FALSE(ParseIdentity("ipv4:nope").has_value());
  EXPECT_FALSE(ParseIdentity("@#xyz").has_value());
}

TEST(Identity, DistinguishedNamesRejected) {
  auto r = ParseIdentity("C=CH, O=strongSwan, CN=moon");
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(r.error().find("not supported"), std::string::npos);
}

TEST(Secret, RawHexAndBase64) {
  auto raw = DecodeSecret("supersecret").value();
  EXPECT_TRUE(raw.Equals(AsBytes("supersecret")));
  auto hex = DecodeSecret("0x73:75 70").value();
  EXPECT_TRUE(hex.Equals(AsBytes("sup")));
  auto b64 = DecodeSecret("0sc3VwZXJzZWNyZXQ=").value();
  EXPECT_TRUE(b64.Equals(AsBytes("supersecret")));
  EXPECT_TRUE(DecodeSecret("0sYQ==").value().Equals(AsBytes("a")));
}

TEST(Secret, ErrorsDoNotEchoTheSecret) {
  auto odd = DecodeSecret("0xabc");
  ASSERT_FALSE(odd.has_value());
  EXPECT_EQ(odd.error().find("abc"), std::string::npos);
  EXPECT_FALSE(DecodeSecret("0xzz").has_value());
  auto b64 = DecodeSecret("0s!!!!");
  ASSERT_FALSE(b64.has_value());
  EXPECT_EQ(b64.error().find("!!!!"), std::string::npos);
  EXPECT_FALSE(DecodeSecret("0sabc").has_value());  // not a multiple of 4
  EXPECT_FALSE(DecodeSecret("").has_value());
}

TEST(SplitList, TrimsAndKeepsEmpty) {
  auto l = SplitList(" a , b,,c ");
  ASSERT_EQ(l.size(), 4u);
  EXPECT_EQ(l[0], "a");
  EXPECT_EQ(l[1], "b");
  EXPECT_EQ(l[2], "");
  EXPECT_EQ(l[3], "c");
  EXPECT_TRUE(SplitList("  ").empty());
}

}  // namespace
}  // namespace minivpn::config
