// strongSwan settings syntax (swanctl.conf / strongswan.conf): structure, includes, references
// and every syntax error class with its file:line:column.
#include <gtest/gtest.h>

#include <fstream>
#include <iterator>

#include "cli/config/settings.h"
#include "tests/cli/config_test_util.h"

namespace minivpn::config {
namespace {

using testing::Count;
using testing::Dump;
using testing::TempDir;

SettingsDocument Parse(std::string_view text, Diagnostics& d) {
  return ParseSettingsText(text, "swanctl.conf", d);
}

TEST(Settings, SectionsValuesAndComments) {
  Diagnostics d;
  auto doc = Parse(
      "# comment\n"
      "a = b\n"
      "section-one {\n"
      "  somevalue = asdf   # trailing comment\n"
      "  subsection { othervalue = xxx }\n"
      "  yetanother = zz z\n"
      "}\n",
      d);
  EXPECT_FALSE(d.HasErrors()) << Dump(d.list());
  ASSERT_NE(doc.root.FindValue("a"), nullptr);
  EXPECT_EQ(doc.root.FindValue("a")->value, "b");
  const auto* s = doc.root.FindSection("section-one");
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(s->FindValue("somevalue")->value, "asdf");
  EXPECT_EQ(s->FindValue("yetanother")->value, "zz z");
  EXPECT_EQ(s->FindSection("subsection")->FindValue("othervalue")->value, "xxx");
  EXPECT_EQ(s->FindValue("somevalue")->where, (Location{"swanctl.conf", 4, 3}));
  EXPECT_EQ(s->FindValue("somevalue")->value_where, (Location{"swanctl.conf", 4, 15}));
}

TEST(Settings, OneLineSectionsAsInTheFixtures) {
  Diagnostics d;
  auto doc = Parse("local { auth = psk\n        id = a.example }\nremote{auth=psk}\n", d);
  EXPECT_FALSE(d.HasErrors()) << Dump(d.list());
  EXPECT_EQ(doc.root.FindSection("local")->FindValue("id")->value, "a.example");
  EXPECT_EQ(doc.root.FindSection("remote")->FindValue("auth")->value, "psk");
}

TEST(Settings, QuotedValuesKeepHashAndEscapes) {
  Diagnostics d;
  auto doc = Parse("s = \"a # b\\\"c\\\\ d\\q\"   # comment\nt = \"x\\ny\\\nz\"\ne =\n", d);
  EXPECT_FALSE(d.HasErrors()) << Dump(d.list());
  EXPECT_EQ(doc.root.FindValue("s")->value, "a # b\"c\\ dq");
  EXPECT_EQ(doc.root.FindValue("t")->value, "x\nyz");
  EXPECT_EQ(doc.root.FindValue("e")->value, "");
}

TEST(Settings, SameSectionMergesAndLaterValueWins) {
  Diagnostics d;
  auto doc = Parse("x { a = 1\n b = 2 }\nx { a = 3 }\n", d);
  EXPECT_FALSE(d.HasErrors());
  ASSERT_EQ(doc.root.sections.size(), 1u);
  EXPECT_EQ(doc.root.sections[0].FindValue("a")->value, "3");
  EXPECT_EQ(doc.root.sections[0].FindValue("b")->value, "2");
}

TEST(Settings, MissingEqualsPointsAtTheKey) {
  Diagnostics d;
  Parse("connections {\n  a {\n    local_addrs 192.0.2.1\n  }\n}\n", d);
  ASSERT_EQ(d.ErrorCount(), 1u) << Dump(d.list());
  EXPECT_EQ(ToString(d.list()[0]),
            "swanctl.conf:3:5: error: expected '=' or '{' after 'local_addrs'");
}

TEST(Settings, AllErrorsAreCollected) {
  Diagnostics d;
  auto doc = Parse(
      "a {\n"
      "  k1 v1\n"  // 2: missing '='
      "  = v\n"    // 3: no key
      "  k2 = ok\n"
      "  k3 \"x\"\n"  // 5: missing '='
      "}\n"
      "}\n"                // 7: stray brace
      "b { q = \"open\n",  // 8: unterminated string, then missing '}'
      d);
  const auto& l = d.list();
  EXPECT_DIAG(l, Severity::kError, "expected '=' or '{' after 'k1'", 2, 3);
  EXPECT_DIAG(l, Severity::kError, "expected a key or section name, found '='", 3, 3);
  EXPECT_DIAG(l, Severity::kError, "after 'k3'", 5, 3);
  EXPECT_DIAG(l, Severity::kError, "unexpected '}'", 7, 1);
  EXPECT_DIAG(l, Severity::kError, "unterminated quoted value of 'q'", 8, 9);
  EXPECT_DIAG(l, Severity::kError, "expected '}' to close section 'b' opened at line 8");
  EXPECT_EQ(d.ErrorCount(), 6u) << Dump(l);
  // Parsing went on after the errors.
  EXPECT_EQ(doc.root.FindSection("a")->FindValue("k2")->value, "ok");
}

TEST(Settings, ValuePartsAreJoinedWithSingleSpaces) {
  Diagnostics d;
  auto doc = Parse("a = \"x  y\"  z\t w \"\"\nb = 1}\n", d);
  EXPECT_EQ(doc.root.FindValue("a")->value, "x  y z w ");
  EXPECT_DIAG(d.list(), Severity::kError, "unexpected '}'", 2, 6);
}

TEST(Settings, NestingIsBounded) {
  Diagnostics d;
  std::string deep;
  for (int i = 0; i < 100000; ++i) deep += "s {";
  Parse(deep, d);
  EXPECT_DIAG(d.list(), Severity::kError, "sections nested more than 64 deep", 1, 193);
  EXPECT_EQ(d.ErrorCount(), 1u) << Dump(d.list());
}

TEST(Settings, Utf8BomIsSkipped) {
  Diagnostics d;
  auto doc = Parse(
      "\xef\xbb\xbf"
      "a = b\n",
      d);
  EXPECT_FALSE(d.HasErrors()) << Dump(d.list());
  EXPECT_EQ(doc.root.FindValue("a")->value, "b");
}

TEST(Settings, DotsAreNotAllowedInNames) {
  Diagnostics d;
  Parse("charon.install_routes = no\n", d);
  EXPECT_DIAG(d.list(), Severity::kError, "expected '=' or '{' after 'charon'", 1, 1);
}

TEST(Settings, IncludeRelativeGlobAndNested) {
  TempDir dir;
  dir.Write("conf.d/b.conf", "conn-b { x = 2 }\n");
  dir.Write("conf.d/a.conf", "conn-a { x = 1 }\ninclude ../extra.conf\n");
  dir.Write("extra.conf", "extra = yes\n");
  std::string main = dir.Write("main.conf",
                               "connections {\n  include conf.d/*.conf\n}\n"
                               "include empty.d/*.conf\n");
  Diagnostics d;
  auto doc = ParseSettingsFile(main, d);
  EXPECT_FALSE(d.HasErrors()) << Dump(d.list());
  const auto* c = doc.root.FindSection("connections");
  ASSERT_NE(c, nullptr);
  ASSERT_EQ(c->sections.size(), 2u);
  EXPECT_EQ(c->sections[0].name, "conn-a");  // glob order
  EXPECT_EQ(c->sections[1].name, "conn-b");
  EXPECT_EQ(c->FindValue("extra")->value, "yes");  // added relative to the including section
  EXPECT_EQ(c->FindValue("extra")->where.file, dir.path() + "/conf.d/../extra.conf");
  EXPECT_EQ(doc.files.size(), 4u);
}

TEST(Settings, IncludeErrors) {
  TempDir dir;
  dir.Write("loop.conf", "include loop.conf\n");
  std::string main = dir.Write("main.conf", "include missing.conf\ninclude loop.conf\n");
  Diagnostics d;
  ParseSettingsFile(main, d);
  EXPECT_DIAG(d.list(), Severity::kError, "cannot read included file 'missing.conf'", 1, 1);
  EXPECT_DIAG(d.list(), Severity::kError, "loop.conf' includes itself (");
  Diagnostics d2;
  ParseSettingsFile(dir.path() + "/nope.conf", d2);
  EXPECT_DIAG(d2.list(), Severity::kError, "No such file or directory");
  Diagnostics d3;
  ParseSettingsFile(dir.path(), d3);
  EXPECT_DIAG(d3.list(), Severity::kError, "is a directory");
}

TEST(Settings, SectionReferences) {
  Diagnostics d;
  auto doc = Parse(
      "conn-defaults { version = 2\n  local { auth = psk } }\n"
      "connections {\n"
      "  a : conn-defaults { version = 0\n    local { id = me } }\n"
      "  c : connections.a { }\n"
      "}\n",
      d);
  EXPECT_FALSE(d.HasErrors()) << Dump(d.list());
  const auto* a = doc.root.FindSection("connections")->FindSection("a");
  EXPECT_EQ(a->FindValue("version")->value, "0");  // own value wins
  EXPECT_EQ(a->FindSection("local")->FindValue("auth")->value, "psk");
  EXPECT_EQ(a->FindSection("local")->FindValue("id")->value, "me");
  const auto* c = doc.root.FindSection("connections")->FindSection("c");
  EXPECT_EQ(c->FindValue("version")->value, "0");
  EXPECT_EQ(c->FindSection("local")->FindValue("auth")->value, "psk");
}

TEST(Settings, ReferenceErrors) {
  Diagnostics d;
  Parse("a : nope { }\nb : c { }\nc : b { }\nd : { }\n", d);
  EXPECT_DIAG(d.list(), Severity::kError, "references 'nope', which does not exist", 1);
  EXPECT_DIAG(d.list(), Severity::kError, "references itself");
  EXPECT_DIAG(d.list(), Severity::kError, "expected a section name after ':'", 4);
}

}  // namespace
}  // namespace minivpn::config

namespace minivpn::config {
namespace {

// Every prefix of a real file parses without crashing (ASan/UBSan in CI) and a cut inside a
// section is reported, never silently accepted.
TEST(Settings, EveryPrefixOfTheSampleIsHandled) {
  std::ifstream in(std::string(MINIVPN_CONFIG_TESTDATA) + "/swanctl/swanctl.conf");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  ASSERT_GT(text.size(), 100u);
  std::size_t with_errors = 0;
  for (std::size_t n = 0; n <= text.size(); ++n) {
    Diagnostics d;
    ParseSettingsText(std::string_view(text).substr(0, n), "p.conf", d);
    with_errors += d.HasErrors() ? 1 : 0;
    std::size_t opened = 0;
    for (char c : text.substr(0, n)) opened += c == '{' ? 1 : 0;
    std::size_t closed = 0;
    for (char c : text.substr(0, n)) closed += c == '}' ? 1 : 0;
    if (opened > closed) {
      EXPECT_TRUE(d.HasErrors()) << "prefix " << n;
    }
  }
  EXPECT_GT(with_errors, text.size() / 2);
}

}  // namespace
}  // namespace minivpn::config
