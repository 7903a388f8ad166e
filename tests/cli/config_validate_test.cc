// Cross-checks done after loading (the same for both formats): PSK per connection, VTI key vs
// marks, lifetimes, initiation needs a remote address, address families, duplicate names; and
// the PSK matching rules, CheckConfig and the model's value semantics.
#include <gtest/gtest.h>

#include "cli/config/config.h"
#include "cli/config/values.h"
#include "tests/cli/config_test_util.h"

namespace minivpn::config {
namespace {

using testing::Dump;
using testing::TempDir;

std::string Swanctl(const std::string& conn_extra, const std::string& child_extra,
                    const std::string& secrets = "secrets { ike { id = routerB\n secret = s } }\n",
                    const std::string& more_children = "") {
  return "connections {\n gw {\n  local_addrs = 192.0.2.1\n  remote_addrs = 198.51.100.1\n" +
         conn_extra +
         "  local { auth = psk\n id = routerA }\n  remote { auth = psk\n id = routerB }\n"
         "  children {\n   c1 {\n" +
         child_extra + "   }\n" + more_children + "  }\n }\n}\n" + secrets;
}

LoadResult Load(TempDir& dir, const std::string& text) {
  return LoadConfig(ConfigPaths{.swanctl_conf = dir.Write("swanctl.conf", text)});
}

TEST(Validate, MissingPsk) {
  TempDir dir;
  auto r = Load(dir, Swanctl("", "", "secrets { ike { id = someone-else\n secret = s } }\n"));
  EXPECT_FALSE(r.ok());
  EXPECT_DIAG(r.diagnostics, Severity::kError,
              "no pre-shared key for connection 'gw' (local id 'routerA', remote id 'routerB')", 2);
}

TEST(Validate, PskByRemoteAddressWhenRemoteIdIsAny) {
  TempDir dir;
  auto r = LoadConfig(
      ConfigPaths{.swanctl_conf = dir.Write(
                      "swanctl.conf",
                      "connections { gw { local_addrs = 192.0.2.1\n remote_addrs = 198.51.100.1\n"
                      " local { auth = psk }\n remote { auth = psk }\n children { c { } } } }\n"
                      "secrets { ike-x { id = 198.51.100.1\n secret = byaddr } }\n")});
  ASSERT_TRUE(r.ok()) << Dump(r.diagnostics);
  EXPECT_TRUE(r.config.connections[0].psk.Equals(AsBytes("byaddr")));
  EXPECT_EQ(r.config.connections[0].remote_id.type, IdType::kAny);
}

TEST(Validate, RemoteAnyWithoutMatchingPskOnlyWarns) {
  TempDir dir;
  auto r = LoadConfig(
      ConfigPaths{.swanctl_conf = dir.Write(
                      "swanctl.conf",
                      "connections { gw { local_addrs = 192.0.2.1\n local { auth = psk }\n remote "
                      "{ auth = psk }\n"
                      " children { c { } } } }\n"
                      "secrets { ike-x { id = 192.0.2.1\n id-2 = peer.example\n secret = a }\n"
                      " ike-y { id = other.example\n secret = b } }\n")});
  EXPECT_TRUE(r.ok()) << Dump(r.diagnostics);
  // The local address matches ike-x: resolved at load time.
  EXPECT_TRUE(r.config.connections[0].psk.Equals(AsBytes("a")));
  TempDir dir2;
  auto w = LoadConfig(ConfigPaths{
      .swanctl_conf = dir2.Write(
          "swanctl.conf",
          "connections { gw { local { auth = psk\n id = me.example }\n remote { auth = psk }\n"
          " children { c { } } } }\nsecrets { ike-y { id = other.example\n secret = b } }\n")});
  EXPECT_TRUE(w.ok()) << Dump(w.diagnostics);
  EXPECT_DIAG(w.diagnostics, Severity::kWarning, "the peer's identity must match one at run time");
  EXPECT_TRUE(w.config.connections[0].psk.empty());
}

TEST(Validate, VtiNeedsAKey) {
  TempDir dir;
  auto r = Load(dir, Swanctl("", "    vti { name = vti0 }\n"));
  EXPECT_DIAG(r.diagnostics, Severity::kError, "the VTI needs a key", 10);
}

TEST(Validate, VtiMarksMustAgree) {
  TempDir dir;
  auto r = Load(dir, Swanctl("", "    mark_in = 12\n    mark_out = 13\n    vti { name = vti0 }\n"));
  EXPECT_DIAG(r.diagnostics, Severity::kError, "mark_in and mark_out must be the same", 10);
  TempDir dir2;
  auto masked = Load(dir2, Swanctl("",
                                   "    mark_in = 12/0xff\n    mark_out = 12/0xff\n"
                                   "    vti { name = vti0 }\n"));
  EXPECT_DIAG(masked.diagnostics, Severity::kError, "with mask 0xffffffff");
  TempDir dir3;
  auto differs = Load(dir3, Swanctl("",
                                    "    mark_in = 12\n    mark_out = 12\n"
                                    "    vti { name = vti0\n key = 13 }\n"));
  EXPECT_DIAG(differs.diagnostics, Severity::kError, "vti key 13 differs from the mark 12");
}

TEST(Validate, VtiNameMustFitIfnamsiz) {
  TempDir dir;
  auto r = Load(dir, Swanctl("",
                             "    mark_in = 1\n    mark_out = 1\n"
                             "    vti { name = a-very-long-vti-name }\n"));
  EXPECT_DIAG(r.diagnostics, Severity::kError, "invalid VTI name 'a-very-long-vti-name'");
}

TEST(Validate, SharedVtiWithDifferentKeysAndSharedMarks) {
  TempDir dir;
  auto r = Load(dir, Swanctl("", "    vti { name = vti0\n key = 1 }\n",
                             "secrets { ike { id = routerB\n secret = s } }\n",
                             "   c2 {\n    vti { name = vti0\n key = 2 }\n   }\n"
                             "   c3 {\n    mark_in = 1\n    mark_out = 1\n   }\n"));
  EXPECT_DIAG(r.diagnostics, Severity::kError,
              "VTI 'vti0' is used by children 'c1' and 'c2' with different keys");
  EXPECT_DIAG(r.diagnostics, Severity::kWarning, "children 'c1' and 'c3' use the same mark 1");
}

// minivpn's xfrmi section: the interface's id is the child's if_id_in = if_id_out (set from `id`
// when the child and connection name none), one fixed non-zero number.
TEST(Validate, XfrmInterfaceIdIsTheChildsIfId) {
  TempDir dir;
  auto r = Load(dir, Swanctl("", "    xfrmi { name = xfrm42\n id = 42\n dev = eth0\n mtu = 1400\n"
                                 " routes = 10.2.0.0/16\n addrs = 169.254.12.1/30 }\n"));
  ASSERT_TRUE(r.ok()) << Dump(r.diagnostics);
  EXPECT_TRUE(r.diagnostics.empty()) << Dump(r.diagnostics);
  const auto& child = r.config.connections.at(0).children.at(0);
  EXPECT_EQ(child.if_id_in, 42u);
  EXPECT_EQ(child.if_id_out, 42u);
  EXPECT_FALSE(child.mark_in.is_set());
  ASSERT_TRUE(child.xfrmi.has_value());
  EXPECT_EQ(child.xfrmi->name, "xfrm42");
  EXPECT_EQ(child.xfrmi->dev, "eth0");
  EXPECT_EQ(child.xfrmi->mtu, 1400u);
  EXPECT_EQ(child.xfrmi->routes.at(0).ToString(), "10.2.0.0/16");
  EXPECT_EQ(child.xfrmi->addrs.at(0).ToString(), "169.254.12.1/30");
  EXPECT_TRUE(child.xfrmi->follow_sa) << "the default";

  // The connection's if_id serves the child: the interface takes it.
  TempDir dir2;
  auto conn = Load(dir2, Swanctl("  if_id_in = 9\n  if_id_out = 9\n",
                                 "    xfrmi { name = xfrm9 }\n"));
  ASSERT_TRUE(conn.ok()) << Dump(conn.diagnostics);
  EXPECT_EQ(conn.config.connections.at(0).children.at(0).xfrmi->id, 9u);
  EXPECT_EQ(conn.config.connections.at(0).children.at(0).if_id_in, 0u);
}

TEST(Validate, XfrmInterfaceErrors) {
  const auto errors = [](const std::string& conn, const std::string& child) {
    TempDir dir;
    return Load(dir, Swanctl(conn, child)).diagnostics;
  };
  EXPECT_DIAG(errors("", "    xfrmi { name = xfrm0 }\n"), Severity::kError,
              "child 'c1': the XFRM interface needs an id; set if_id_in = if_id_out or the "
              "xfrmi id");
  EXPECT_DIAG(errors("", "    if_id_in = %unique\n    if_id_out = %unique\n"
                         "    xfrmi { name = xfrm0 }\n"),
              Severity::kError, "an XFRM interface needs a fixed if_id, but %unique");
  EXPECT_DIAG(errors("", "    if_id_in = 1\n    if_id_out = 2\n    xfrmi { name = xfrm0 }\n"),
              Severity::kError, "if_id_in and if_id_out must be the same non-zero number");
  EXPECT_DIAG(errors("", "    if_id_in = 1\n    if_id_out = 1\n    xfrmi { name = x\n id = 2 }\n"),
              Severity::kError, "child 'c1': xfrmi id 2 differs from the if_id 1");
  EXPECT_DIAG(errors("", "    xfrmi { name = a-very-long-xfrm-name\n id = 1 }\n"),
              Severity::kError, "invalid XFRM interface name 'a-very-long-xfrm-name'");
  EXPECT_DIAG(errors("", "    mark_in = 1\n    mark_out = 1\n    vti { name = vti0 }\n"
                         "    xfrmi { name = xfrm0\n id = 1 }\n"),
              Severity::kError, "child 'c1' has both a vti and an xfrmi section");
  EXPECT_DIAG(errors("", "    xfrmi { name = x\n id = 1\n dev = a/b\n mtu = 20\n colour = 1\n"
                         " sub { } }\n"),
              Severity::kError, "'dev': invalid interface name 'a/b'");
  EXPECT_DIAG(errors("", "    xfrmi { name = x\n id = 1\n mtu = 20 }\n"), Severity::kError,
              "'mtu': 20 is below the IPv4 minimum of 68");
  EXPECT_DIAG(errors("", "    xfrmi { name = x\n id = 1\n colour = 1 }\n"), Severity::kError,
              "unknown key 'colour' in xfrmi section of child 'c1'");
  EXPECT_DIAG(errors("", "    xfrmi { id = 1 }\n"), Severity::kError,
              "xfrmi section of child 'c1' needs a 'name'");
}

TEST(Validate, SharedXfrmInterfaceWithDifferentIdsOrKinds) {
  TempDir dir;
  auto r = Load(dir, Swanctl("", "    xfrmi { name = xfrm0\n id = 1 }\n",
                             "secrets { ike { id = routerB\n secret = s } }\n",
                             "   c2 {\n    xfrmi { name = xfrm0\n id = 2 }\n   }\n"
                             "   c3 {\n    vti { name = xfrm0\n key = 3 }\n   }\n"));
  EXPECT_DIAG(r.diagnostics, Severity::kError,
              "XFRM interface 'xfrm0' is used by children 'c1' and 'c2' with different ids");
  EXPECT_DIAG(r.diagnostics, Severity::kError,
              "'xfrm0' is a VTI for child 'c3' and an XFRM interface for child 'c1'");
}

TEST(Validate, Lifetimes) {
  TempDir dir;
  auto r = Load(dir, Swanctl("  rekey_time = 1h\n  rand_time = 2h\n",
                             "    rekey_time = 1h\n    life_time = 30m\n"));
  EXPECT_DIAG(r.diagnostics, Severity::kError,
              "connection 'gw': rand_time (7200s) must be smaller than rekey_time (3600s)");
  EXPECT_DIAG(r.diagnostics, Severity::kError,
              "child 'c1': life_time (1800s) must be greater than rekey_time (3600s)");
  TempDir dir2;
  auto zero = Load(dir2, Swanctl("  rekey_time = 0\n", "    rekey_time = 0\n"));
  EXPECT_TRUE(zero.ok()) << Dump(zero.diagnostics);  // 0 disables rekeying
  EXPECT_EQ(zero.config.connections[0].children[0].life_time.count(), 0);
}

TEST(Validate, StartNeedsARemoteAddress) {
  TempDir dir;
  auto r = LoadConfig(ConfigPaths{
      .swanctl_conf = dir.Write(
          "swanctl.conf",
          "connections { gw { local { auth = psk }\n remote { auth = psk }\n"
          " children { c { start_action = start } } } }\nsecrets { ike { secret = s } }\n")});
  EXPECT_DIAG(r.diagnostics, Severity::kError,
              "child 'c' is started or trapped but connection 'gw' has no remote address", 3);
  TempDir dir2;
  auto responder = LoadConfig(ConfigPaths{
      .swanctl_conf = dir2.Write("swanctl.conf",
                                 "connections { gw { local { auth = psk }\n remote { auth = psk }\n"
                                 " children { c { } } } }\nsecrets { ike { secret = s } }\n")});
  EXPECT_TRUE(responder.ok()) << Dump(responder.diagnostics);
}

TEST(Validate, AddressFamiliesMustMatch) {
  TempDir dir;
  auto r = Load(dir, Swanctl("  remote_addrs = 2001:db8::1\n", ""));
  EXPECT_DIAG(r.diagnostics, Severity::kError, "are of different families");
}

TEST(Validate, DuplicateNamesAcrossFormatsAndNoFiles) {
  TempDir dir;
  ConfigPaths paths;
  paths.swanctl_conf = dir.Write("swanctl.conf", Swanctl("", ""));
  paths.ipsec_conf = dir.Write("ipsec.conf",
                               "conn gw\n  left=192.0.2.1\n  right=198.51.100.1\n"
                               "  rightid=routerB\n  auto=add\n");
  auto r = LoadConfig(paths, LoadOptions{[](const IpAddress&) { return false; }});
  EXPECT_DIAG(r.diagnostics, Severity::kError, "connection 'gw' is defined more than once");
  auto none = LoadConfig(ConfigPaths{});
  EXPECT_FALSE(none.ok());
  EXPECT_DIAG(none.diagnostics, Severity::kError, "no configuration file given");
  auto missing = LoadConfig(ConfigPaths{.swanctl_conf = dir.path() + "/absent.conf"});
  EXPECT_DIAG(missing.diagnostics, Severity::kError, "cannot read");
}

// Issue 19: with no file named, minivpnd uses the one of charon's two files that defines
// connections (Debian ships both as templates), refuses when both do, and says which it read.
TEST(ChooseConfigPaths, TheFileThatDefinesConnections) {
  TempDir dir;
  const DefaultLocations where{.swanctl_conf = dir.path() + "/swanctl/swanctl.conf",
                               .ipsec_conf = dir.path() + "/ipsec.conf",
                               .ipsec_secrets = dir.path() + "/ipsec.secrets",
                               .strongswan_conf = dir.path() + "/strongswan.conf"};
  const LoadOptions local_a{[](const IpAddress& a) { return a.ToString() == "192.0.2.1"; }};
  const std::string ipsec_conn =
      "conn gw\n  left=192.0.2.1\n  right=198.51.100.1\n  rightid=routerB\n  auto=add\n";

  // Nothing exists: ipsec.conf, so that "cannot read" names a file.
  auto none = ChooseConfigPaths({}, where, local_a);
  ASSERT_TRUE(none.has_value());
  EXPECT_EQ(none->ipsec_conf, where.ipsec_conf);
  EXPECT_EQ(none->ipsec_secrets, where.ipsec_secrets);
  EXPECT_TRUE(none->strongswan_conf.empty());

  // Debian's templates: both files, every connection commented out -> swanctl.conf.
  dir.Write("swanctl/swanctl.conf", "connections {\n  # gw { }\n}\n");
  dir.Write("ipsec.conf", "config setup\n# conn gw\n");
  dir.Write("strongswan.conf", "charon {\n}\n");
  auto templates = ChooseConfigPaths({}, where, local_a);
  ASSERT_TRUE(templates.has_value());
  EXPECT_EQ(templates->swanctl_conf, where.swanctl_conf);
  EXPECT_TRUE(templates->ipsec_conf.empty());
  EXPECT_EQ(templates->strongswan_conf, where.strongswan_conf);

  // The template swanctl.conf beside a real ipsec.conf: ipsec.conf (was: 0 connections loaded).
  dir.Write("ipsec.conf", ipsec_conn);
  dir.Write("ipsec.secrets", "routerB : PSK \"s\"\n");
  auto legacy = ChooseConfigPaths({}, where, local_a);
  ASSERT_TRUE(legacy.has_value());
  EXPECT_TRUE(legacy->swanctl_conf.empty());
  EXPECT_EQ(legacy->ipsec_conf, where.ipsec_conf);
  EXPECT_EQ(legacy->ipsec_secrets, where.ipsec_secrets);
  EXPECT_EQ(Describe(*legacy), "ipsec.conf " + where.ipsec_conf + ", ipsec.secrets " +
                                   where.ipsec_secrets + ", strongswan.conf " +
                                   where.strongswan_conf);

  // Both define connections: an error naming both.
  dir.Write("swanctl/swanctl.conf", Swanctl("", ""));
  auto both = ChooseConfigPaths({}, where, local_a);
  ASSERT_FALSE(both.has_value());
  EXPECT_NE(both.error().find(where.swanctl_conf), std::string::npos) << both.error();
  EXPECT_NE(both.error().find(where.ipsec_conf), std::string::npos) << both.error();

  // A file named on the command line is used as given.
  auto given = ChooseConfigPaths({.ipsec_conf = where.ipsec_conf}, where, local_a);
  ASSERT_TRUE(given.has_value());
  EXPECT_TRUE(given->swanctl_conf.empty());
  EXPECT_EQ(given->ipsec_secrets, where.ipsec_secrets) << "the ipsec.secrets beside it";
}

TEST(Validate, EmptyConfigurationWarns) {
  TempDir dir;
  auto r = LoadConfig(ConfigPaths{.swanctl_conf = dir.Write("swanctl.conf", "# all commented\n")});
  EXPECT_TRUE(r.ok());
  EXPECT_DIAG(r.diagnostics, Severity::kWarning, "no connections are defined");
}

TEST(Validate, CheckConfigListsEverythingLoadConfigDoes) {
  TempDir dir;
  ConfigPaths paths{.swanctl_conf = dir.Write("swanctl.conf", "connections { a { x = 1 } }\n")};
  auto list = CheckConfig(paths);
  EXPECT_EQ(list, LoadConfig(paths).diagnostics);
  EXPECT_GE(testing::Count(list, Severity::kError), 4u) << Dump(list);
  EXPECT_EQ(ToString(list.at(0)),
            dir.path() + "/swanctl.conf:1:19: error: unknown key 'x' in connection 'a'");
}

TEST(Validate, SeedDataChecksClean) {
  TempDir dir;
  ConfigPaths paths;
  paths.ipsec_conf = dir.CopyData("seed/ipsec.conf", "ipsec.conf");
  paths.ipsec_secrets = dir.CopyData("seed/ipsec.secrets", "ipsec.secrets");
  paths.strongswan_conf = dir.CopyData("seed/strongswan.conf", "strongswan.conf");
  EXPECT_TRUE(CheckConfig(paths, LoadOptions{[](const IpAddress&) { return false; }}).empty());
}

TEST(SharedSecretMatch, CharonRanking) {
  auto id = [](const char* s) { return ParseIdentity(s).value(); };
  auto secret = [&](std::vector<Identity> owners, const char* value) {
    SharedSecret s;
    s.owners = std::move(owners);
    s.secret = SecretBytes::FromString(value);
    return s;
  };
  std::vector<SharedSecret> secrets;
  secrets.push_back(secret({}, "default"));
  secrets.push_back(secret({id("%any")}, "any"));
  secrets.push_back(secret({id("routerA")}, "local-only"));
  secrets.push_back(secret({id("routerA"), id("routerB")}, "both"));
  secrets.push_back(secret({id("elsewhere")}, "other"));
  auto find = [&](const char* local, const char* remote) {
    const SharedSecret* s = FindSharedSecret(secrets, id(local), id(remote));
    return s == nullptr ? std::string("none")
                        : std::string(s->secret.Reveal().begin(), s->secret.Reveal().end());
  };
  EXPECT_EQ(find("routerA", "routerB"), "both");
  EXPECT_EQ(find("routerA", "routerC"), "local-only");
  EXPECT_EQ(find("routerX", "routerY"), "default");
  std::vector<SharedSecret> only_other;
  only_other.push_back(secret({id("elsewhere")}, "other"));
  EXPECT_EQ(FindSharedSecret(only_other, id("a"), id("b")), nullptr);
}

TEST(Model, CopiesShareThePskAndEqualityComparesIt) {
  ConnectionConfig a;
  a.name = "x";
  a.psk = SecretBytes::FromString("one");
  a.children.push_back(ChildConfig{.name = "c"});
  ConnectionConfig b = a;
  EXPECT_TRUE(a == b);
  EXPECT_EQ(a.psk.Reveal().data(), b.psk.Reveal().data()) << "a copy shares the PSK's buffer";
  b.psk = SecretBytes::FromString("two");
  EXPECT_FALSE(a == b);
  ConnectionConfig c = a;
  c.children[0].mark_in = Mark{1, 0xffffffff};
  EXPECT_FALSE(a == c);
  SharedSecret s;
  s.secret = SecretBytes::FromString("k");
  EXPECT_TRUE(SharedSecret(s).secret.Equals(AsBytes("k")));
}

TEST(Diagnostic, Formatting) {
  EXPECT_EQ(ToString(Diagnostic{Severity::kWarning, {"f.conf", 3, 7}, "m"}),
            "f.conf:3:7: warning: m");
  EXPECT_EQ(ToString(Diagnostic{Severity::kNote, {"f.conf", 3, 0}, "m"}), "f.conf:3: note: m");
  EXPECT_EQ(ToString(Diagnostic{Severity::kError, {"f.conf", 0, 0}, "m"}), "f.conf: error: m");
  EXPECT_EQ(ToString(Diagnostic{Severity::kError, {}, "m"}), "error: m");
}

}  // namespace
}  // namespace minivpn::config

namespace minivpn::config {
namespace {

// Issue 18: `unique` (swanctl.conf) and `uniqueids` (ipsec.conf config setup) were ignored.
TEST(Unique, SwanctlValuesAndDefault) {
  TempDir dir;
  for (auto [text, want] : {std::pair{"", UniquePolicy::kNo}, {"no", UniquePolicy::kNo},
                            {"never", UniquePolicy::kNever}, {"replace", UniquePolicy::kReplace},
                            {"keep", UniquePolicy::kKeep}}) {
    auto r = Load(dir, Swanctl(*text ? std::string("  unique = ") + text + "\n" : "", ""));
    ASSERT_TRUE(r.ok()) << testing::Dump(r.diagnostics);
    EXPECT_EQ(r.config.connections.at(0).unique, want) << text;
  }
  auto bad = Load(dir, Swanctl("  unique = sometimes\n", ""));
  EXPECT_DIAG(bad.diagnostics, Severity::kError, "no, never, replace or keep", 5);
}

TEST(Unique, IpsecConfUniqueidsDefaultsToReplace) {
  TempDir dir;
  const std::string conn =
      "conn a\n  left=192.0.2.1\n  right=198.51.100.1\n  rightid=b\n  auto=add\n";
  for (auto [setup, want] : {std::pair{"", UniquePolicy::kReplace},
                             {"config setup\n  uniqueids=no\n", UniquePolicy::kNo},
                             {"config setup\n  uniqueids=never\n", UniquePolicy::kNever},
                             {"config setup\n  uniqueids=keep\n", UniquePolicy::kKeep}}) {
    ConfigPaths paths{.ipsec_conf = dir.Write("ipsec.conf", std::string(setup) + conn),
                      .ipsec_secrets = dir.Write("ipsec.secrets", ": PSK \"x\"\n")};
    auto r = LoadConfig(paths, LoadOptions{[](const IpAddress& a) {
                          return a.ToString() == "192.0.2.1";
                        }});
    ASSERT_TRUE(r.ok()) << testing::Dump(r.diagnostics);
    EXPECT_EQ(r.config.connections.at(0).unique, want) << setup;
  }
}

}  // namespace
}  // namespace minivpn::config
