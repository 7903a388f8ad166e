// The vici message model (vici/message.cc): the builders keep order and duplicates, lookups by
// path take the first element of the kind asked for, and the text dump in charon's layouts.
#include "vici/message.h"

#include <gtest/gtest.h>

#include <string>

#include "tests/vici/vici_test_util.h"

namespace minivpn::vici {
namespace {

// What a list-sa event of charon carries, shortened.
Message ListSaEvent() {
  return Message().AddSection(
      "vpn", Section()
                 .Add("uniqueid", "1")
                 .Add("state", "ESTABLISHED")
                 .AddList("local-vips", {"10.0.0.1", "fd00::1"})
                 .AddSection("child-sas",
                             Section().AddSection("net-1", Section()
                                                               .Add("state", "INSTALLED")
                                                               .Add("spi-in", "c1a2b3d4"))));
}

TEST(ViciMessage, BuildersKeepOrderAndKinds) {
  Section s;
  s.Add("b", "2").AddList("l", {"x"});  // on an lvalue
  s.AddSection("a", Section().Add("k", "v")).Add("b", "3");
  ASSERT_EQ(s.elements.size(), 4u);
  EXPECT_EQ(s.elements[0], Element::KeyValue("b", "2"));
  EXPECT_EQ(s.elements[1], Element::NamedList("l", {"x"}));
  EXPECT_EQ(s.elements[2], Element::SubSection("a", Section().Add("k", "v")));
  EXPECT_EQ(s.elements[3].name, "b");  // a duplicate key is a second element
  EXPECT_EQ(s.elements[0].kind(), ElementKind::kKeyValue);
  EXPECT_EQ(s.elements[1].kind(), ElementKind::kList);
  EXPECT_EQ(s.elements[2].kind(), ElementKind::kSection);
  EXPECT_EQ(s.elements[0].list(), nullptr);
  EXPECT_EQ(s.elements[1].section(), nullptr);
  EXPECT_EQ(s.elements[2].value(), nullptr);
  EXPECT_NE(s, Section());
  EXPECT_FALSE(s.empty());
  EXPECT_TRUE(Section().empty());
}

TEST(ViciMessage, EqualityLooksAtOrderNamesAndKinds) {
  EXPECT_EQ(Message().Add("a", "1").Add("b", "2"), Message().Add("a", "1").Add("b", "2"));
  EXPECT_NE(Message().Add("a", "1").Add("b", "2"), Message().Add("b", "2").Add("a", "1"));
  EXPECT_NE(Message().Add("a", ""), Message().AddList("a", {}));
  EXPECT_NE(Message().AddList("a", {}), Message().AddSection("a", {}));
  EXPECT_NE(Message().AddList("a", {"1", "2"}), Message().AddList("a", {"2", "1"}));
}

TEST(ViciMessage, FindByPath) {
  const Message m = ListSaEvent();
  ASSERT_NE(m.Find("vpn.state"), nullptr);
  EXPECT_EQ(*m.Find("vpn.state"), "ESTABLISHED");
  EXPECT_EQ(*m.Find("vpn.child-sas.net-1.state"), "INSTALLED");
  EXPECT_EQ(*m.FindList("vpn.local-vips"), (List{"10.0.0.1", "fd00::1"}));
  ASSERT_NE(m.FindSection("vpn.child-sas"), nullptr);
  EXPECT_EQ(m.FindSection("vpn.child-sas")->elements.size(), 1u);
  EXPECT_EQ(m.FindSection("vpn"), m.elements[0].section());
  EXPECT_EQ(m.ValueOr("vpn.uniqueid", "0"), "1");
  EXPECT_EQ(m.ValueOr("vpn.reauth-time", "0"), "0");
  // Missing names, wrong kinds and paths through non-sections find nothing.
  EXPECT_EQ(m.Find("state"), nullptr);
  EXPECT_EQ(m.Find("vpn"), nullptr);                 // a section, not a key
  EXPECT_EQ(m.Find("vpn.local-vips"), nullptr);      // a list
  EXPECT_EQ(m.FindList("vpn.state"), nullptr);
  EXPECT_EQ(m.FindSection("vpn.state"), nullptr);
  EXPECT_EQ(m.Find("vpn.state.x"), nullptr);         // state is no section
  EXPECT_EQ(m.Find(""), nullptr);
  EXPECT_EQ(m.Find("vpn."), nullptr);
}

TEST(ViciMessage, FindTakesTheFirstOfTheKindAsked) {
  const Message m = Message()
                        .Add("x", "key")
                        .AddSection("x", Section().Add("k", "first"))
                        .AddList("x", {"item"})
                        .AddSection("x", Section().Add("k", "second").Add("only", "here"))
                        .Add("x", "later key");
  EXPECT_EQ(*m.Find("x"), "key");
  EXPECT_EQ(*m.Find("x.k"), "first");
  EXPECT_EQ(*m.FindList("x"), List{"item"});
  // Like charon's lookups, only the first section of a name is searched.
  EXPECT_EQ(m.Find("x.only"), nullptr);
}

TEST(ViciMessage, NamesWithDotsNeedTheListOfNames) {
  // swanctl connection names may hold dots: load-conn { "site.a" { ... } }.
  const Message m = Message().AddSection(
      "site.a", Section().AddList("remote_addrs", {"192.0.2.2"}).Add("version", "2"));
  EXPECT_EQ(m.Find("site.a.version"), nullptr);
  ASSERT_NE(m.Find({"site.a", "version"}), nullptr);
  EXPECT_EQ(*m.Find({"site.a", "version"}), "2");
  EXPECT_EQ(*m.FindList({"site.a", "remote_addrs"}), List{"192.0.2.2"});
  EXPECT_NE(m.FindSection({"site.a"}), nullptr);
  EXPECT_EQ(m.FindSection({}), nullptr);
  // An empty name is a name like any other.
  EXPECT_EQ(*Message().Add("", "v").Find(""), "v");
}

TEST(ViciMessage, CompactDumpIsCharonsOneLine) {
  EXPECT_EQ(Dump(testing::ReadmeMessage()),
            "key1=value1 section1 {sub-section {key2=value2} list1=[item1 item2]}");
  EXPECT_EQ(Dump(Message()), "");
  EXPECT_EQ(Dump(Message().AddSection("s", {}).AddList("l", {}).Add("k", "")),
            "s {} l=[] k=");
}

TEST(ViciMessage, PrettyDumpIndentsByTwo) {
  EXPECT_EQ(Dump(testing::ReadmeMessage(), true),
            "key1 = value1\n"
            "section1 {\n"
            "  sub-section {\n"
            "    key2 = value2\n"
            "  }\n"
            "  list1 = [\n"
            "    item1\n"
            "    item2\n"
            "  ]\n"
            "}\n");
  EXPECT_EQ(Dump(Message().AddSection("s", {}).AddList("l", {}), true), "s {\n}\nl = [\n]\n");
}

TEST(ViciMessage, BinaryShowsAsHex) {
  const std::string spi("\x00\xc1\xff", 3);
  EXPECT_EQ(Dump(Message().Add("spi", spi).AddList("l", {"ok", "\n"})),
            "spi=0x00c1ff l=[ok 0x0a]");
  EXPECT_EQ(Shown("plain text ~"), "plain text ~");
  EXPECT_EQ(Shown("tab\there"), "0x7461620968657265");
  EXPECT_EQ(Shown("\x7f"), "0x7f");
  EXPECT_EQ(Shown(""), "");
}

}  // namespace
}  // namespace minivpn::vici
