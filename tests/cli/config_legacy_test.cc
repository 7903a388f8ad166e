// Legacy ipsec.conf + ipsec.secrets + strongswan.conf: the seed's files unchanged, their
// variants, every parameter, charon's starter defaults, and every error class.
#include <arpa/inet.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <map>

#include "cli/config/config.h"
#include "cli/config/loaders.h"
#include "cli/config/settings.h"
#include "cli/config/proposal.h"
#include "cli/config/values.h"
#include "tests/cli/config_test_util.h"

namespace minivpn::config {
namespace {

using namespace std::chrono_literals;
using testing::Dump;
using testing::TempDir;

// Router A of the seed lab owns 192.0.2.1; router B owns 198.51.100.1.
bool RouterA(const IpAddress& a) { return a.ToString() == "192.0.2.1"; }
bool RouterB(const IpAddress& a) { return a.ToString() == "198.51.100.1"; }
bool Nobody(const IpAddress&) { return false; }

const char kSeedConf[] =
    "config setup\n"
    "conn %default\n"
    "    keyexchange=ikev2\n"
    "conn A-B\n"
    "    left=192.0.2.1\n"
    "    right=198.51.100.1\n"
    "    leftid=routerA\n"
    "    rightid=routerB\n"
    "    leftsubnet=0.0.0.0/0\n"
    "    rightsubnet=0.0.0.0/0\n"
    "    mark=12\n"
    "    ike=aes256gcm16-prfsha256-x25519!\n"
    "    esp=aes256gcm16!\n"
    "    auto=start\n";

LoadResult LoadLegacy(TempDir& dir, const std::string& conf, const std::string& secrets,
                      bool (*is_local)(const IpAddress&) = RouterA,
                      const std::string& strongswan = "") {
  ConfigPaths paths;
  paths.ipsec_conf = dir.Write("ipsec.conf", conf, 0644);
  paths.ipsec_secrets = dir.Write("ipsec.secrets", secrets, 0600);
  if (!strongswan.empty()) paths.strongswan_conf = dir.Write("strongswan.conf", strongswan, 0644);
  return LoadConfig(paths, LoadOptions{is_local});
}

LoadResult LoadConn(TempDir& dir, const std::string& params) {
  return LoadLegacy(dir, std::string(kSeedConf) + params,
                    "routerA routerB : PSK \"supersecret\"\n: PSK \"dflt\"\n");
}

// Issue 21: configurations of the seed's era (ike=aes256-sha1-modp1024!, esp=3des-md5!) load as
// charon loads them, with a warning per deprecated algorithm at the value.
TEST(Legacy, WeakAlgorithmsOfOldConfigsLoadWithWarnings) {
  TempDir dir;
  std::string conf = kSeedConf;
  conf.replace(conf.find("aes256gcm16-prfsha256-x25519!"), 29, "aes256-sha1-modp1024!");
  conf.replace(conf.find("esp=aes256gcm16!"), 16, "esp=3des-md5!");
  auto r = LoadLegacy(dir, conf, "routerA routerB : PSK \"supersecret\"\n");
  ASSERT_TRUE(r.ok()) << Dump(r.diagnostics);
  EXPECT_DIAG(r.diagnostics, Severity::kWarning,
              "'ike': weak algorithm 'sha1' in proposal 'aes256-sha1-modp1024'", 12);
  EXPECT_DIAG(r.diagnostics, Severity::kWarning,
              "'ike': weak algorithm 'modp1024' in proposal 'aes256-sha1-modp1024'", 12);
  EXPECT_DIAG(r.diagnostics, Severity::kWarning, "'esp': weak algorithm '3des'", 13);
  EXPECT_DIAG(r.diagnostics, Severity::kWarning, "'esp': weak algorithm 'md5'", 13);
  ASSERT_EQ(r.config.connections.size(), 1u);
  EXPECT_EQ(r.config.connections[0].proposals.size(), 1u) << "'!': no defaults appended";
  EXPECT_EQ(r.config.connections[0].proposals[0].prf,
            (std::vector<crypto::PrfId>{crypto::PrfId::kHmacSha1}));
}

// Issue 21: leftupdown is this host's updown script (left is router A here); the peer's
// (rightupdown) is not ours to run.
TEST(Legacy, LeftupdownIsThisHostsUpdownScript) {
  TempDir dir;
  auto r = LoadConn(dir, "    leftupdown=/etc/ipsec.d/vti-updown.sh\n    rightupdown=/peer.sh\n");
  ASSERT_TRUE(r.ok()) << Dump(r.diagnostics);
  ASSERT_EQ(r.config.connections.size(), 1u);
  EXPECT_EQ(r.config.connections[0].children.at(0).updown, "/etc/ipsec.d/vti-updown.sh");
  EXPECT_TRUE(r.diagnostics.empty()) << Dump(r.diagnostics);
}

TEST(Legacy, SeedFilesLoadUnchanged) {
  TempDir dir;
  ConfigPaths paths;
  paths.ipsec_conf = dir.CopyData("seed/ipsec.conf", "ipsec.conf");
  paths.ipsec_secrets = dir.CopyData("seed/ipsec.secrets", "ipsec.secrets");
  paths.strongswan_conf = dir.CopyData("seed/strongswan.conf", "strongswan.conf");
  auto r = LoadConfig(paths, LoadOptions{RouterA});
  ASSERT_TRUE(r.ok()) << Dump(r.diagnostics);
  EXPECT_TRUE(r.diagnostics.empty()) << Dump(r.diagnostics);
  EXPECT_FALSE(r.config.global.install_routes);
  ASSERT_EQ(r.config.connections.size(), 1u);
  const auto& c = r.config.connections[0];
  EXPECT_EQ(c.name, "A-B");
  EXPECT_EQ(c.local_addrs.at(0).subnet.address.ToString(), "192.0.2.1");
  EXPECT_EQ(c.remote_addrs.at(0).subnet.address.ToString(), "198.51.100.1");
  EXPECT_EQ(c.local_id, (Identity{IdType::kFqdn, "routerA"}));
  EXPECT_EQ(c.remote_id, (Identity{IdType::kFqdn, "routerB"}));
  EXPECT_TRUE(c.psk.Equals(AsBytes("supersecret")));
  ASSERT_EQ(c.proposals.size(), 1u);  // '!': no defaults appended
  EXPECT_EQ(ToString(c.proposals[0]), "aes256gcm16-prfsha256-x25519");
  // ikelifetime 3h - margintime 9m, a reauthentication interval (reauth=yes is the default);
  // over = margin; rand = margin * 100%.
  EXPECT_EQ(c.reauth_time, 10260s);
  EXPECT_EQ(c.rekey_time, 0s);
  EXPECT_EQ(c.over_time, 540s);
  EXPECT_EQ(c.rand_time, 540s);
  EXPECT_EQ(c.dpd_delay, 0s);  // dpdaction=none (default) disables DPD
  EXPECT_EQ(c.dpd_timeout, 150s);
  EXPECT_EQ(c.keyingtries, 3u);
  ASSERT_EQ(c.children.size(), 1u);
  const auto& ch = c.children[0];
  EXPECT_EQ(ch.name, "A-B");
  EXPECT_EQ(ch.local_ts.at(0).ToString(), "0.0.0.0/0");
  EXPECT_EQ(ch.remote_ts.at(0).ToString(), "0.0.0.0/0");
  EXPECT_EQ(ch.mark_in, (Mark{12, 0xffffffff}));
  EXPECT_EQ(ch.mark_out, (Mark{12, 0xffffffff}));
  ASSERT_EQ(ch.esp_proposals.size(), 1u);
  EXPECT_EQ(ToString(ch.esp_proposals[0]), "aes256gcm16");
  EXPECT_EQ(ch.start_action, StartAction::kStart);
  EXPECT_EQ(ch.life_time, 3600s);   // lifetime 1h
  EXPECT_EQ(ch.rekey_time, 3060s);  // - margintime 9m
  EXPECT_EQ(ch.rand_time, 540s);
}

TEST(Legacy, HubWithTwoSpokesSample) {
  TempDir dir;
  ConfigPaths paths;
  paths.ipsec_conf = dir.CopyData("legacy/ipsec.conf", "ipsec.conf");
  paths.ipsec_secrets = dir.CopyData("legacy/ipsec.secrets", "ipsec.secrets");
  auto r = LoadConfig(paths,
                      LoadOptions{[](const IpAddress& a) { return a.ToString() == "203.0.113.10"; }});
  ASSERT_TRUE(r.ok()) << Dump(r.diagnostics);
  EXPECT_TRUE(r.diagnostics.empty()) << Dump(r.diagnostics);
  ASSERT_EQ(r.config.connections.size(), 2u);  // spoke-common is only also'd
  const auto* s1 = r.config.Find("spoke1");
  const auto* s2 = r.config.Find("spoke2");
  ASSERT_TRUE(s1 != nullptr && s2 != nullptr);
  EXPECT_EQ(s1->local_id, (Identity{IdType::kFqdn, "hub.example.net"}));
  EXPECT_EQ(s1->remote_id, (Identity{IdType::kFqdn, "spoke1.example.net"}));
  EXPECT_TRUE(s1->psk.Equals(AsBytes("spoke1 secret")));
  EXPECT_TRUE(s2->psk.Equals(AsBytes("spoke2 secret")));
  ASSERT_EQ(s1->proposals.size(), 2u);
  EXPECT_EQ(ToString(s1->proposals[0]), "aes256gcm16-prfsha384-ecp384");
  EXPECT_EQ(ToString(s1->proposals[1]), "aes256-sha384-prfsha384-ecp384");
  EXPECT_EQ(s1->reauth_time, 8h - 5min);
  EXPECT_EQ(s1->rekey_time, 0s);
  EXPECT_EQ(s1->rand_time, 150s);
  EXPECT_EQ(s1->dpd_delay, 30s);
  EXPECT_FALSE(s1->mobike);
  EXPECT_TRUE(s2->remote_addrs.empty());  // right=%any: responder only
  const auto& c1 = s1->children.at(0);
  EXPECT_EQ(c1.start_action, StartAction::kStart);
  EXPECT_EQ(c1.dpd_action, Action::kStart);
  EXPECT_EQ(c1.close_action, Action::kStart);
  EXPECT_EQ(ToString(c1.esp_proposals.at(0)), "aes256gcm16-ecp384");
  EXPECT_EQ(c1.vti->name, "vti21");
  EXPECT_EQ(c1.vti->key, 21u);
  EXPECT_EQ(c1.vti->mtu, 1400u);
  const auto& c2 = s2->children.at(0);
  EXPECT_EQ(c2.start_action, StartAction::kNone);
  EXPECT_EQ(c2.vti->name, "vti22");
  EXPECT_EQ(c2.vti->key, 22u);
  EXPECT_EQ(c2.vti->routes.size(), 2u);
}

TEST(Legacy, Utf8BomIsSkipped) {
  TempDir dir;
  auto r = LoadLegacy(dir, std::string("\xef\xbb\xbf") + kSeedConf,
                      "\xef\xbb\xbfrouterA routerB : PSK \"supersecret\"\n");
  ASSERT_TRUE(r.ok()) << Dump(r.diagnostics);
  EXPECT_TRUE(r.config.connections.at(0).psk.Equals(AsBytes("supersecret")));
}

TEST(Legacy, SeedOnRouterBSwapsSides) {
  TempDir dir;
  auto r = LoadLegacy(dir, kSeedConf, "routerA routerB : PSK \"supersecret\"\n", RouterB);
  ASSERT_TRUE(r.ok()) << Dump(r.diagnostics);
  const auto& c = r.config.connections.at(0);
  EXPECT_EQ(c.local_addrs.at(0).subnet.address.ToString(), "198.51.100.1");
  EXPECT_EQ(c.local_id.data, "routerB");
  EXPECT_EQ(c.remote_id.data, "routerA");
  EXPECT_TRUE(c.psk.Equals(AsBytes("supersecret")));
  // Neither side local: left is local (charon's starter).
  TempDir dir2;
  auto n = LoadLegacy(dir2, kSeedConf, "routerA routerB : PSK \"supersecret\"\n", Nobody);
  EXPECT_EQ(n.config.connections.at(0).local_id.data, "routerA");
}

TEST(Legacy, SeedVariants) {
  TempDir dir;
  std::string conf = kSeedConf;
  conf.replace(conf.find("x25519!"), 7, "x25519");
  conf.replace(conf.find("aes256gcm16!\n"), 13, "aes256gcm16\n");
  conf += "    dpdaction=restart\n    dpddelay=10s\n";
  auto r = LoadLegacy(dir, conf, "routerA routerB : PSK \"supersecret\"\n");
  ASSERT_TRUE(r.ok()) << Dump(r.diagnostics);
  const auto& c = r.config.connections.at(0);
  // Without '!', charon appends its default proposals after the configured one.
  EXPECT_EQ(c.proposals.size(), 1 + DefaultIkeProposals().size());
  EXPECT_EQ(ToString(c.proposals[0]), "aes256gcm16-prfsha256-x25519");
  EXPECT_EQ(c.children.at(0).esp_proposals.size(), 1 + DefaultEspProposals().size());
  EXPECT_EQ(c.dpd_delay, 10s);
  EXPECT_EQ(c.dpd_timeout, 150s);
  EXPECT_EQ(c.children.at(0).dpd_action, Action::kStart);
}

TEST(Legacy, EveryParameter) {
  TempDir dir;
  auto r = LoadConn(dir,
                    "conn full\n"
                    "\tleft=192.0.2.1\n\tright=198.51.100.1\n"
                    "\tleftid=@a.example\n\trightid=b@example.org\n"
                    "\tleftsubnet=10.1.0.0/16,10.11.0.0/16\n\trightsubnet=10.2.0.0/16\n"
                    "\tmark_in=5\n\tmark_out=6/0xff\n"
                    "\tike=aes128-sha256-modp2048!\n\tesp=aes128-sha256-esn!\n"
                    "\tauto=route\n\tdpdaction=hold\n\tdpddelay=1m\n\tdpdtimeout=2m\n"
                    "\tcloseaction=restart\n"
                    "\tikelifetime=2h\n\tkeylife=30m\n\trekeymargin=3m\n\trekeyfuzz=50%\n"
                    "\ttype=tunnel\n\tauthby=secret\n\tleftauth=psk\n\trightauth=secret\n"
                    "\tmobike=no\n\tfragmentation=no\n\treauth=no\n\tkeyingtries=%forever\n"
                    "\tleftikeport=4500\n\treqid=9\n\treplay_window=128\n\tinactivity=10m\n"
                    "\tinstallpolicy=yes\n\tforceencaps=yes\n\tcompress=no\n");
  ASSERT_TRUE(r.ok()) << Dump(r.diagnostics);
  const auto* c = r.config.Find("full");
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->local_id, (Identity{IdType::kFqdn, "a.example"}));
  EXPECT_EQ(c->remote_id, (Identity{IdType::kRfc822Addr, "b@example.org"}));
  EXPECT_EQ(c->proposals.size(), 1u);
  EXPECT_EQ(c->rekey_time, 7020s);  // 2h - 3m, reauth=no: rekeyed
  EXPECT_EQ(c->reauth_time, 0s);
  EXPECT_EQ(c->over_time, 180s);
  EXPECT_EQ(c->rand_time, 90s);  // 3m * 50%
  EXPECT_EQ(c->dpd_delay, 60s);
  EXPECT_EQ(c->dpd_timeout, 120s);
  EXPECT_FALSE(c->mobike);
  EXPECT_TRUE(c->encap);
  EXPECT_EQ(c->fragmentation, Fragmentation::kNo);
  EXPECT_EQ(c->keyingtries, 0u);
  EXPECT_EQ(c->local_port, 4500);
  const auto& ch = c->children.at(0);
  ASSERT_EQ(ch.local_ts.size(), 2u);
  EXPECT_EQ(ch.local_ts[1].ToString(), "10.11.0.0/16");
  EXPECT_EQ(ch.mark_in, (Mark{5, 0xffffffff}));
  EXPECT_EQ(ch.mark_out, (Mark{6, 0xff}));
  EXPECT_EQ(ch.esp_proposals.at(0).esn, (std::vector<Esn>{Esn::kEsn}));
  EXPECT_EQ(ch.start_action, StartAction::kTrap);
  EXPECT_EQ(ch.dpd_action, Action::kTrap);
  EXPECT_EQ(ch.close_action, Action::kStart);
  EXPECT_EQ(ch.life_time, 1800s);
  EXPECT_EQ(ch.rekey_time, 1620s);
  EXPECT_EQ(ch.rand_time, 90s);
  EXPECT_EQ(ch.reqid, 9u);
  EXPECT_EQ(ch.replay_window, 128u);
  EXPECT_EQ(ch.inactivity, 600s);
  // No secret names these ids: the default secret; A-B keeps its exact match.
  EXPECT_TRUE(c->psk.Equals(AsBytes("dflt")));
  EXPECT_TRUE(r.config.Find("A-B")->psk.Equals(AsBytes("supersecret")));
}

TEST(Legacy, AlsoAndDefaultsPrecedence) {
  TempDir dir;
  auto r = LoadLegacy(dir,
                      "conn %default\n  ikelifetime=1h\n  mark=3\n"
                      "conn common\n  right=198.51.100.1\n  rightid=routerB\n  lifetime=20m\n"
                      "  ikelifetime=2h\n"
                      "conn site\n  also=common\n  left=192.0.2.1\n  leftid=routerA\n"
                      "  lifetime=40m\n  auto=add\n",
                      "routerA routerB : PSK \"x\"\n");
  ASSERT_TRUE(r.ok()) << Dump(r.diagnostics);
  ASSERT_EQ(r.config.connections.size(), 1u);  // "common" has auto=ignore and is also'd
  const auto& c = r.config.connections[0];
  EXPECT_EQ(c.name, "site");
  EXPECT_EQ(c.remote_id.data, "routerB");      // from also=
  EXPECT_EQ(c.children[0].life_time, 2400s);   // own value beats also=
  EXPECT_EQ(c.reauth_time, 7200s - 540s);      // also= beats %default
  EXPECT_EQ(c.children[0].mark_in.value, 3u);  // %default
  EXPECT_EQ(c.children[0].start_action, StartAction::kNone);
}

TEST(Legacy, IncludeRelativeToTheFile) {
  TempDir dir;
  dir.Write("ipsec.d/site.conf",
            "conn inc\n  left=192.0.2.1\n  right=198.51.100.1\n"
            "  rightid=routerB\n  auto=add\n",
            0644);
  auto r = LoadLegacy(dir, "config setup\ninclude ipsec.d/*.conf\ninclude none.d/*.conf\n",
                      "routerB : PSK \"x\"\n");
  ASSERT_TRUE(r.ok()) << Dump(r.diagnostics);
  ASSERT_EQ(r.config.connections.size(), 1u);
  EXPECT_EQ(r.config.connections[0].name, "inc");
  EXPECT_EQ(r.config.connections[0].where.file, dir.path() + "/ipsec.d/site.conf");
  EXPECT_TRUE(r.config.connections[0].psk.Equals(AsBytes("x")));
}

TEST(Legacy, AutoIgnoreIsNotLoadedWithANote) {
  TempDir dir;
  auto r = LoadLegacy(dir, "conn idle\n  left=192.0.2.1\n  right=198.51.100.1\n", ": PSK \"x\"\n");
  EXPECT_TRUE(r.config.connections.empty());
  EXPECT_DIAG(r.diagnostics, Severity::kNote, "conn 'idle' is not loaded: auto=ignore", 1, 1);
}

TEST(Legacy, DefaultIdsAreTheAddressesAndDefaultSecretMatches) {
  TempDir dir;
  auto r = LoadLegacy(dir, "conn a\n  left=192.0.2.1\n  right=198.51.100.1\n  auto=add\n",
                      "# default secret\n: PSK \"fallback\"\n");
  ASSERT_TRUE(r.ok()) << Dump(r.diagnostics);
  const auto& c = r.config.connections.at(0);
  EXPECT_EQ(c.local_id.ToString(), "192.0.2.1");
  EXPECT_EQ(c.remote_id.ToString(), "198.51.100.1");
  EXPECT_TRUE(c.psk.Equals(AsBytes("fallback")));
  EXPECT_TRUE(c.children.at(0).local_ts.empty());  // leftsubnet unset: left/32 (dynamic)
}

TEST(Legacy, SecretsFormats) {
  TempDir dir;
  dir.Write("secrets.d/more.secrets", "other : PSK 0sc2Vjb25k\n");
  auto r = LoadLegacy(dir,
                      "conn a\n  left=192.0.2.1\n  right=198.51.100.1\n  leftid=me\n"
                      "  rightid=2001:db8::2\n  auto=add\n",
                      "me 2001:db8::2 : PSK 0x6865780a\n"
                      "@multi\n   line : PSK 'single quoted # not a comment'\n"
                      "include secrets.d/*.secrets\n"
                      "%any : PSK \"any\"\n"
                      "host : RSA key.pem\n");
  ASSERT_TRUE(r.ok()) << Dump(r.diagnostics);
  EXPECT_DIAG(r.diagnostics, Severity::kWarning, "RSA secret ignored", 6);
  const auto& s = r.config.secrets;
  ASSERT_EQ(s.size(), 4u);
  EXPECT_TRUE(s[0].secret.Equals(AsBytes("hex\n")));
  EXPECT_EQ(s[0].owners.at(1).type, IdType::kIpv6Addr);
  EXPECT_EQ(s[1].owners.size(), 2u);
  EXPECT_TRUE(s[1].secret.Equals(AsBytes("single quoted # not a comment")));
  EXPECT_TRUE(s[2].secret.Equals(AsBytes("second")));
  EXPECT_EQ(s[2].where.file, dir.path() + "/secrets.d/more.secrets");
  EXPECT_EQ(s[3].owners.at(0).type, IdType::kAny);
  EXPECT_TRUE(r.config.connections.at(0).psk.Equals(AsBytes("hex\n")));
}

TEST(Legacy, SecretsErrors) {
  TempDir dir;
  auto r = LoadLegacy(dir, kSeedConf,
                      "routerA routerB PSK \"a\"\n"     // 1: no ':'
                      "routerA :\n"                     // 2: no type
                      "routerA : FOO \"x\"\n"           // 3: unknown type
                      "routerA : PSK\n"                 // 4: no secret
                      "routerA : PSK unquoted\n"        // 5: unquoted
                      "routerA : PSK \"open\n"          // 6: unterminated
                      "routerA : PSK \"a\" extra\n"     // 7: trailing text
                      "C=CH,CN=x : PSK \"a\"\n"         // 8: DN id
                      "include nothing-here.secrets\n"  // 9: missing include
                      "routerA routerB : PSK \"\"\n");  // 10: empty
  const auto& l = r.diagnostics;
  EXPECT_DIAG(l, Severity::kError, "expected ':' between the identities", 1);
  EXPECT_DIAG(l, Severity::kError, "expected a secret type (PSK) after ':'", 2);
  EXPECT_DIAG(l, Severity::kError, "expected the secret type PSK after ':' (the text found there is not shown", 3, 11);
  EXPECT_DIAG(l, Severity::kError, "expected the secret after 'PSK'", 4);
  EXPECT_DIAG(l, Severity::kError, "expected a \"quoted\" secret", 5, 15);
  EXPECT_DIAG(l, Severity::kError, "unterminated quoted string", 6, 15);
  EXPECT_DIAG(l, Severity::kError, "unexpected text after the secret", 7, 19);
  EXPECT_DIAG(l, Severity::kError, "distinguished-name identity", 8);
  EXPECT_DIAG(l, Severity::kError, "cannot read included file 'nothing-here.secrets'", 9);
  EXPECT_DIAG(l, Severity::kError, "empty secret", 10);
  EXPECT_DIAG(l, Severity::kError, "no pre-shared key for connection 'A-B'");
  for (const auto& d : l) EXPECT_EQ(ToString(d).find("unquoted"), std::string::npos);
}

TEST(Legacy, WorldReadableSecretsWarn) {
  TempDir dir;
  ConfigPaths paths;
  paths.ipsec_conf = dir.Write("ipsec.conf", kSeedConf, 0644);
  paths.ipsec_secrets = dir.Write("ipsec.secrets", "routerA routerB : PSK \"s\"\n", 0604);
  auto r = LoadConfig(paths, LoadOptions{RouterA});
  EXPECT_TRUE(r.ok());
  EXPECT_DIAG(r.diagnostics, Severity::kWarning, "readable by others (mode 0604)");
}

TEST(Legacy, SyntaxErrors) {
  TempDir dir;
  auto r = LoadLegacy(dir,
                      "  left=1.2.3.4\n"  // 1: outside a section
                      "conn a\n"
                      "  left 192.0.2.1\n"    // 3: missing '='
                      "right=198.51.100.1\n"  // 4: not indented
                      "conn 1bad\n"           // 5: invalid name
                      "conn b\n"
                      "  auto=add\n"
                      "  auto=start\n"           // 8: duplicate
                      "  esp=\"aes128-sha256\n"  // 9: unterminated quote
                      "config other\n"           // 10: unknown config section
                      "config setup\n"
                      "  charondebug=\"ike 2\"\n"
                      "  frobnicate=yes\n"      // 13: unknown setup key
                      "conn b\n"                // 14: defined twice
                      "include missing.conf\n"  // 15
                      "conn c\n"
                      "  =orphan\n",  // 17
                      ": PSK \"x\"\n");
  const auto& l = r.diagnostics;
  EXPECT_DIAG(l, Severity::kError, "parameter outside of a section", 1, 3);
  EXPECT_DIAG(l, Severity::kError, "expected '=' after 'left'", 3, 3);
  EXPECT_DIAG(l, Severity::kError, "parameters must be indented", 4, 1);
  EXPECT_DIAG(l, Severity::kError, "invalid conn name '1bad'", 5);
  EXPECT_DIAG(l, Severity::kError, "duplicate parameter 'auto' in conn 'b' (first set at line 7)",
              8, 3);
  EXPECT_DIAG(l, Severity::kError, "unterminated quoted value of 'esp'", 9, 7);
  EXPECT_DIAG(l, Severity::kError, "unknown config section 'other'", 10);
  EXPECT_DIAG(l, Severity::kError, "unknown parameter 'frobnicate' in config setup", 13);
  EXPECT_DIAG(l, Severity::kError, "conn 'b' is defined twice", 14);
  EXPECT_DIAG(l, Severity::kError, "cannot read included file 'missing.conf'", 15);
  EXPECT_DIAG(l, Severity::kError, "expected a parameter name before '='", 17, 3);
}

TEST(Legacy, ParameterErrors) {
  TempDir dir;
  auto r = LoadConn(dir,
                    "conn x\n"  // 15
                    "  left=192.0.2.1\n  right=198.51.100.1\n"
                    "  keyexchange=ikev1\n"       // 18
                    "  authby=pubkey\n"           // 19
                    "  leftauth=eap\n"            // 20
                    "  type=beet\n"               // 21
                    "  auto=sometimes\n"          // 22
                    "  dpdaction=panic\n"         // 23
                    "  ikelifetime=forever\n"     // 24
                    "  rekeyfuzz=lots\n"          // 25
                    "  mark=%uniq\n"              // 26
                    "  ike=aes128-sha256\n"       // 27
                    "  leftcert=a.pem\n"          // 28
                    "  pfs=no\n"                  // 29
                    "  flavour=vanilla\n"         // 30
                    "  leftcolour=red\n"          // 31
                    "  also=ghost\n"              // 32
                    "  leftupdown=/bin/true\n");  // 33
  const auto& l = r.diagnostics;
  EXPECT_DIAG(l, Severity::kError, "keyexchange=ikev1 is not supported", 18, 15);
  EXPECT_DIAG(l, Severity::kError, "authby=pubkey is not supported", 19);
  EXPECT_DIAG(l, Severity::kError, "leftauth=eap is not supported", 20);
  EXPECT_DIAG(l, Severity::kError, "type=beet is not supported", 21);
  EXPECT_DIAG(l, Severity::kError, "invalid value 'sometimes' for 'auto'", 22);
  EXPECT_DIAG(l, Severity::kError, "invalid value 'panic' for 'dpdaction'", 23);
  EXPECT_DIAG(l, Severity::kError, "'ikelifetime': invalid time 'forever'", 24);
  EXPECT_DIAG(l, Severity::kError, "invalid percentage 'lots'", 25);
  EXPECT_DIAG(l, Severity::kError, "invalid mark '%uniq'", 26);
  EXPECT_DIAG(l, Severity::kError, "has no key exchange group", 27);
  EXPECT_DIAG(l, Severity::kError, "'leftcert' is not supported", 28);
  EXPECT_DIAG(l, Severity::kWarning, "'pfs=no' is accepted and ignored", 29);  // issue 21
  EXPECT_DIAG(l, Severity::kError, "unknown parameter 'flavour' in conn 'x'", 30);
  EXPECT_DIAG(l, Severity::kError, "unknown parameter 'leftcolour' in conn 'x'", 31);
  EXPECT_DIAG(l, Severity::kError, "also=ghost names a conn that does not exist", 32);
  // leftupdown is this host's updown script now, run by the daemon: no diagnostic.
  EXPECT_EQ(::minivpn::config::testing::Find(l, Severity::kWarning, "leftupdown", 33), nullptr);
}

TEST(Legacy, AlsoLoopAndDefaultConflicts) {
  TempDir dir;
  auto r = LoadLegacy(dir,
                      "conn %default\n  mark=1\n  also=x\n"
                      "conn %default\n  mark=2\n"
                      "conn p\n  also=q\n  auto=add\n  left=192.0.2.1\n  right=198.51.100.1\n"
                      "conn q\n  also=p\n",
                      ": PSK \"x\"\n");
  EXPECT_DIAG(r.diagnostics, Severity::kError, "also= is not allowed in conn %default", 3);
  EXPECT_DIAG(r.diagnostics, Severity::kError, "'mark' is set in more than one conn %default", 5);
  EXPECT_DIAG(r.diagnostics, Severity::kError, "also=p creates a loop", 12);
}

TEST(Legacy, LifetimeMarginErrors) {
  TempDir dir;
  auto r = LoadConn(dir,
                    "conn short\n  left=192.0.2.1\n  right=198.51.100.1\n  auto=add\n"
                    "  lifetime=5m\n  margintime=10m\n");
  EXPECT_DIAG(r.diagnostics, Severity::kError, "margintime (600s) must be less than lifetime");
  TempDir dir2;
  auto no = LoadConn(dir2,
                     "conn norekey\n  left=192.0.2.1\n  right=198.51.100.1\n  auto=add\n"
                     "  rekey=no\n");
  ASSERT_TRUE(no.ok()) << Dump(no.diagnostics);
  const auto* c = no.config.Find("norekey");
  EXPECT_EQ(c->rekey_time, 0s);
  EXPECT_EQ(c->reauth_time, 0s);  // rekey=no turns reauthentication off too (starterstroke.c)
  EXPECT_EQ(c->children[0].rekey_time, 0s);
  EXPECT_EQ(c->children[0].life_time, 3600s);
}

// Issue 21: keys charon 5.9.8 accepts that do nothing for an IKEv2 PSK tunnel load as in charon.
// With charon's default (or a value that changes nothing) they are silent, as if left out.
TEST(Legacy, KeysWithoutEffectInCharonAreSilentWithTheirDefault) {
  TempDir dir;
  auto r = LoadConn(dir,
                    "conn q\n  left=192.0.2.1\n  right=198.51.100.1\n  auto=add\n"
                    "  aggressive=no\n  pfs=yes\n  leftsendcert=never\n  rightsendcert=ifasked\n"
                    "  modeconfig=pull\n  xauth=client\n  mediation=no\n  sha256_96=no\n"
                    "  ikedscp=000000\n  tfc=0\n  leftfirewall=no\n  lefthostaccess=no\n");
  ASSERT_TRUE(r.ok()) << Dump(r.diagnostics);
  EXPECT_TRUE(r.diagnostics.empty()) << Dump(r.diagnostics);
}

// ... and with any other value they warn, naming the key and why: starter drops pfs, pfsgroup,
// eap and left/rightnexthop as deprecated (confread.c is_deprecated), aggressive mode, Mode
// Config and XAuth are IKEv1's, EAP identities need EAP, and no CERT payload goes with PSK
// (ike_cert_post.c build_certs).
TEST(Legacy, KeysWithoutEffectInCharonWarnWithOtherValues) {
  TempDir dir;
  auto r = LoadConn(dir,
                    "conn w\n  left=192.0.2.1\n  right=198.51.100.1\n  auto=add\n"  // 15-18
                    "  aggressive=yes\n"             // 19
                    "  pfs=no\n"                     // 20
                    "  pfsgroup=modp2048\n"          // 21
                    "  leftsendcert=always\n"        // 22
                    "  rightnexthop=%direct\n"       // 23
                    "  leftnexthop=192.0.2.254\n"    // 24
                    "  eap=md5\n"                    // 25
                    "  modeconfig=push\n"            // 26
                    "  xauth_identity=bob\n"         // 27
                    "  eap_identity=%identity\n"     // 28
                    "  ikedscp=101110\n"             // 29
                    "  leftfirewall=yes\n");         // 30
  ASSERT_TRUE(r.ok()) << Dump(r.diagnostics);
  const auto& l = r.diagnostics;
  EXPECT_DIAG(l, Severity::kWarning,
              "'aggressive=yes' is accepted and ignored by minivpn: aggressive mode is IKEv1's; "
              "charon ignores it for IKEv2 too",
              19);
  EXPECT_DIAG(l, Severity::kWarning, "'pfs=no' is accepted and ignored by minivpn: charon ignores "
              "it too (deprecated); PFS follows the key exchange groups in esp=", 20);
  EXPECT_DIAG(l, Severity::kWarning, "'pfsgroup' is accepted and ignored by minivpn", 21);
  EXPECT_DIAG(l, Severity::kWarning,
              "'leftsendcert=always' is accepted and ignored by minivpn: charon sends no "
              "certificate with PSK authentication either",
              22);
  EXPECT_DIAG(l, Severity::kWarning, "'rightnexthop' is accepted and ignored by minivpn", 23);
  EXPECT_DIAG(l, Severity::kWarning, "'leftnexthop' is accepted and ignored by minivpn", 24);
  EXPECT_DIAG(l, Severity::kWarning, "'eap' is accepted and ignored by minivpn", 25);
  EXPECT_DIAG(l, Severity::kWarning, "'modeconfig=push' is accepted and ignored by minivpn", 26);
  EXPECT_DIAG(l, Severity::kWarning, "'xauth_identity' is accepted and ignored by minivpn", 27);
  EXPECT_DIAG(l, Severity::kWarning, "'eap_identity' is accepted and ignored by minivpn", 28);
  EXPECT_DIAG(l, Severity::kWarning, "'ikedscp=101110' is accepted and ignored by minivpn", 29);
  EXPECT_DIAG(l, Severity::kWarning, "'leftfirewall=yes' is accepted and ignored by minivpn", 30);
  EXPECT_EQ(testing::Count(l, Severity::kWarning), 12u) << Dump(l);
}

// What minivpn cannot do stays an error, and the message says what: a mark per CHILD_SA,
// protocol/port selectors, transport mode, mediation, TFC, AH; an invalid value of an ignored
// key is an error as in charon (starter's "bad argument value").
TEST(Legacy, UnsupportedKeysSayWhatIsUnsupported) {
  TempDir dir;
  auto r = LoadConn(dir,
                    "conn u\n  left=192.0.2.1\n  right=198.51.100.1\n  auto=add\n"  // 15-18
                    "  mark=%unique-dir\n"        // 19
                    "  leftprotoport=tcp/http\n"  // 20
                    "  type=passthrough\n"        // 21
                    "  mediation=yes\n"           // 22
                    "  tfc=%mtu\n"                // 23
                    "  ah=sha256\n"               // 24
                    "  leftgroups2=admins\n"      // 25
                    "  rightcertpolicy=1.3.6\n"   // 26
                    "  aggressive=perhaps\n"      // 27
                    "  leftsendcert=sometimes\n"  // 28
                    "  sha256_96=yes\n");         // 29
  const auto& l = r.diagnostics;
  EXPECT_EQ(testing::Find(l, Severity::kError, "%unique", 19), nullptr);  // charon's unique marks are taken
  EXPECT_DIAG(l, Severity::kError,
              "leftprotoport=tcp/http: port 'http' is not a number or a range", 20);
  EXPECT_DIAG(l, Severity::kError, "type=passthrough is not supported", 21);
  EXPECT_DIAG(l, Severity::kError, "'mediation=yes' is not supported by minivpn", 22);
  EXPECT_DIAG(l, Severity::kError, "'tfc=%mtu' is not supported by minivpn", 23);
  EXPECT_DIAG(l, Severity::kError, "'ah' is not supported by minivpn: AH is not implemented", 24);
  EXPECT_DIAG(l, Severity::kError, "'leftgroups2' is not supported by minivpn", 25);
  EXPECT_DIAG(l, Severity::kError, "'rightcertpolicy' is not supported by minivpn", 26);
  EXPECT_DIAG(l, Severity::kError, "'aggressive': invalid boolean 'perhaps'", 27);
  EXPECT_DIAG(l, Severity::kError,
              "invalid value 'sometimes' for 'leftsendcert' (expected always, ifasked, never, "
              "yes or no)",
              28);
  EXPECT_DIAG(l, Severity::kError, "'sha256_96=yes' is not supported by minivpn", 29);
  EXPECT_EQ(testing::Count(l, Severity::kError), 10u) << Dump(l);
  EXPECT_EQ(testing::Count(l, Severity::kWarning), 0u) << Dump(l);
}

// leftsubnetwithin is starter's other name of leftsubnet (keywords.txt: KW_LEFTSUBNET).
TEST(Legacy, SubnetWithinIsSubnet) {
  TempDir dir;
  auto r = LoadConn(dir, "conn s\n  left=192.0.2.1\n  right=198.51.100.1\n  auto=add\n"
                         "  leftsubnetwithin=10.1.0.0/16\n  rightsubnetwithin=10.2.0.0/16\n");
  ASSERT_TRUE(r.ok()) << Dump(r.diagnostics);
  const auto& child = r.config.Find("s")->children.at(0);
  EXPECT_EQ(child.local_ts, std::vector<Selector>{Selector::Of(*Subnet::Parse("10.1.0.0/16"))});
  EXPECT_EQ(child.remote_ts, std::vector<Selector>{Selector::Of(*Subnet::Parse("10.2.0.0/16"))});
}

// leftprotoport applies to the side's selectors (starter): with leftsubnet unset, one dynamic
// selector (the IKE address, resolved by the daemon) with that protocol; type=transport.
TEST(Legacy, ProtoportWithoutSubnetIsOneDynamicSelector) {
  TempDir dir;
  auto r = LoadConn(dir, "conn gre\n  left=192.0.2.1\n  right=198.51.100.1\n  auto=add\n"
                         "  leftprotoport=gre\n  rightprotoport=47\n  type=transport\n");
  ASSERT_TRUE(r.ok()) << Dump(r.diagnostics);
  EXPECT_TRUE(r.diagnostics.empty()) << Dump(r.diagnostics);
  const auto& child = r.config.Find("gre")->children.at(0);
  EXPECT_TRUE(child.transport);
  ASSERT_EQ(child.local_ts.size(), 1u);
  EXPECT_FALSE(child.local_ts[0].net.address.is_set());
  EXPECT_EQ(child.local_ts[0].proto, 47);
  EXPECT_TRUE(child.local_ts[0].any_port());
  EXPECT_EQ(child.local_ts[0].ToString(), "dynamic[gre]");
  ASSERT_EQ(child.remote_ts.size(), 1u);
  EXPECT_EQ(child.remote_ts[0].ToString(), "dynamic[gre]");
  EXPECT_FALSE(r.config.Find("A-B")->children.at(0).transport);  // type=tunnel by default
}

// Only the selectors without a protocol/port of their own take leftprotoport.
TEST(Legacy, ProtoportFillsOnlySelectorsWithoutTheirOwn) {
  TempDir dir;
  auto r = LoadConn(dir, "conn s\n  left=192.0.2.1\n  right=198.51.100.1\n  auto=add\n"
                         "  leftsubnet=10.1.0.0/16,10.2.0.0/16[udp/53]\n  leftprotoport=gre\n"
                         "  rightsubnet=10.9.0.0/16,%dynamic\n  rightprotoport=tcp/1024-2047\n");
  ASSERT_TRUE(r.ok()) << Dump(r.diagnostics);
  const auto& child = r.config.Find("s")->children.at(0);
  EXPECT_FALSE(child.transport);
  ASSERT_EQ(child.local_ts.size(), 2u);
  EXPECT_EQ(child.local_ts[0].ToString(), "10.1.0.0/16[gre]");
  EXPECT_EQ(child.local_ts[1].ToString(), "10.2.0.0/16[udp/53]");
  EXPECT_EQ(child.local_ts[1].proto, 17);
  EXPECT_EQ(child.local_ts[1].from_port, 53);
  ASSERT_EQ(child.remote_ts.size(), 2u);
  EXPECT_EQ(child.remote_ts[0].ToString(), "10.9.0.0/16[tcp/1024-2047]");
  EXPECT_EQ(child.remote_ts[1].ToString(), "dynamic[tcp/1024-2047]");
}

// On router B the sides swap: rightprotoport is this host's.
// stroke's add_ts: a subnet with its own "[...]" keeps what it names, even "any".
TEST(Legacy, AnExplicitAnyProtoportKeepsItsOwnAsCharon) {
  TempDir dir;
  auto r = LoadConn(dir, "conn s\n  left=192.0.2.1\n  right=198.51.100.1\n  auto=add\n"
                         "  leftsubnet=10.1.0.0/16,10.2.0.0/16[%any/%any]\n  leftprotoport=gre\n");
  ASSERT_TRUE(r.ok()) << Dump(r.diagnostics);
  const auto& child = r.config.Find("s")->children.at(0);
  ASSERT_EQ(child.local_ts.size(), 2u);
  EXPECT_EQ(child.local_ts[0].ToString(), "10.1.0.0/16[gre]");
  EXPECT_EQ(child.local_ts[1].ToString(), "10.2.0.0/16");
}

// leftallowany / rightallowany (or "%host"): stroke adds 0.0.0.0/0,::/0 to that side's
// addresses; the host stays first, so minivpn still initiates to it.
TEST(Legacy, AllowAnyAddsAnyAfterTheHost) {
  for (const char* params : {"    rightallowany=yes\n", "    right=%198.51.100.1\n"}) {
    TempDir dir;
    std::string conf = kSeedConf;
    if (std::string(params).find("right=%") != std::string::npos)
      conf.replace(conf.find("    right=198.51.100.1\n"), 23, "");
    auto r = LoadLegacy(dir, conf + params, "routerA routerB : PSK \"supersecret\"\n");
    ASSERT_TRUE(r.ok()) << params << Dump(r.diagnostics);
    const auto& remote = r.config.connections.at(0).remote_addrs;
    ASSERT_EQ(remote.size(), 2u) << params;
    EXPECT_EQ(remote[0].kind, Host::Kind::kAddress);
    EXPECT_EQ(remote[0].subnet.address.ToString(), "198.51.100.1");
    EXPECT_EQ(remote[1].kind, Host::Kind::kAny);
    EXPECT_EQ(remote[1].any_family, 0);
    EXPECT_EQ(r.config.connections.at(0).local_addrs.size(), 1u);
  }
  TempDir dir;
  auto off = LoadConn(dir, "    rightallowany=no\n");
  ASSERT_TRUE(off.ok()) << Dump(off.diagnostics);
  EXPECT_EQ(off.config.connections.at(0).remote_addrs.size(), 1u);
}

// ipsec.conf(5): replay_window=-1 (the default) is charon.replay_window, 32.
TEST(Legacy, ReplayWindowMinusOneIsTheDefault) {
  TempDir dir;
  auto r = LoadConn(dir, "    replay_window=-1\n");
  ASSERT_TRUE(r.ok()) << Dump(r.diagnostics);
  EXPECT_EQ(r.config.connections.at(0).children.at(0).replay_window, 32u);
}

// Keywords charon's starter 5.9.8 only logs as deprecated load without a word, as in charon.
TEST(Legacy, DeprecatedSetupKeywordsAreTaken) {
  TempDir dir;
  std::string conf = kSeedConf;
  conf.replace(0, std::string("config setup\n").size(),
               "config setup\n  dumpdir=/tmp\n  klipsdebug=none\n  hidetos=yes\n"
               "  pkcs11module=x.so\n  force_keepalive=no\n");
  auto r = LoadLegacy(dir, conf, "routerA routerB : PSK \"supersecret\"\n");
  ASSERT_TRUE(r.ok()) << Dump(r.diagnostics);
  EXPECT_EQ(testing::Count(r.diagnostics, Severity::kWarning), 0u) << Dump(r.diagnostics);
}

TEST(Legacy, ProtoportFollowsTheLocalSide) {
  TempDir dir;
  auto r = LoadLegacy(dir,
                      std::string(kSeedConf) + "    leftprotoport=udp/500\n    type=transport\n",
                      "routerA routerB : PSK \"supersecret\"\n", RouterB);
  ASSERT_TRUE(r.ok()) << Dump(r.diagnostics);
  const auto& child = r.config.connections.at(0).children.at(0);
  EXPECT_TRUE(child.transport);
  ASSERT_EQ(child.local_ts.size(), 1u);
  EXPECT_EQ(child.local_ts[0].ToString(), "0.0.0.0/0");
  ASSERT_EQ(child.remote_ts.size(), 1u);
  EXPECT_EQ(child.remote_ts[0].ToString(), "0.0.0.0/0[udp/500]");
}

TEST(Legacy, ProtoportAndSubnetErrors) {
  TempDir dir;
  auto r = LoadConn(dir, "conn e\n  left=192.0.2.1\n  right=198.51.100.1\n  auto=add\n"  // 15-18
                         "  leftprotoport=tcp/100-90\n"                                   // 19
                         "  rightprotoport=icmp/8\n"                                      // 20
                         "  leftsubnet=10.1.0.0/16[bogus]\n");                            // 21
  EXPECT_FALSE(r.ok());
  const auto& l = r.diagnostics;
  EXPECT_DIAG(l, Severity::kError, "leftprotoport=tcp/100-90: port range '100-90' is empty", 19);
  EXPECT_DIAG(l, Severity::kError, "ICMP type/code selectors are not supported", 20);
  EXPECT_DIAG(l, Severity::kError, "unknown protocol 'bogus'", 21);
}

// Issue 21: lifebytes/lifepackets and their margins, mapped as stroke_config.c maps them:
// life = lifebytes, rekey = lifebytes - marginbytes, rand = marginbytes * rekeyfuzz / 100.
TEST(Legacy, ByteAndPacketLifetimesAsStrokeMapsThem) {
  TempDir dir;
  auto r = LoadConn(dir, "conn v\n  left=192.0.2.1\n  right=198.51.100.1\n  auto=add\n"
                         "  lifebytes=1000000\n  marginbytes=100000\n  lifepackets=5000\n"
                         "  marginpackets=1000\n  rekeyfuzz=50%\n");
  ASSERT_TRUE(r.ok()) << Dump(r.diagnostics);
  EXPECT_TRUE(r.diagnostics.empty()) << Dump(r.diagnostics);
  const auto& c = r.config.Find("v")->children.at(0);
  EXPECT_EQ(c.life_bytes, 1000000u);
  EXPECT_EQ(c.rekey_bytes, 900000u);
  EXPECT_EQ(c.rand_bytes, 50000u);
  EXPECT_EQ(c.life_packets, 5000u);
  EXPECT_EQ(c.rekey_packets, 4000u);
  EXPECT_EQ(c.rand_packets, 500u);
  // Unset, there are no limits (charon's 0), and rekey=no drops them as starterstroke.c does.
  const auto& seed = r.config.Find("A-B")->children.at(0);
  EXPECT_EQ(seed.life_bytes + seed.rekey_bytes + seed.life_packets + seed.rekey_packets, 0u);
  TempDir dir2;
  auto no = LoadConn(dir2, "conn n\n  left=192.0.2.1\n  right=198.51.100.1\n  auto=add\n"
                           "  lifebytes=1000000\n  marginbytes=100000\n  rekey=no\n");
  ASSERT_TRUE(no.ok()) << Dump(no.diagnostics);
  const auto& n = no.config.Find("n")->children.at(0);
  EXPECT_EQ(n.life_bytes + n.rekey_bytes + n.rand_bytes, 0u);
}

// A margin must be below its lifetime (as margintime; charon would wrap around); lifebytes
// without marginbytes loads as in charon (soft limit = hard limit) with a warning that the SA is
// not rekeyed before it expires; a margin without its lifetime does nothing, in charon too.
TEST(Legacy, ByteAndPacketLifetimeErrorsAndWarnings) {
  TempDir dir;
  auto r = LoadConn(dir, "conn m\n  left=192.0.2.1\n  right=198.51.100.1\n  auto=add\n"  // 15-18
                         "  lifebytes=1000\n  marginbytes=2000\n"                        // 19-20
                         "conn p\n  left=192.0.2.1\n  right=198.51.100.1\n  auto=add\n"  // 21-24
                         "  lifepackets=100\n  marginbytes=100\n"                        // 25-26
                         "conn x\n  left=192.0.2.1\n  right=198.51.100.1\n  auto=add\n"  // 27-30
                         "  lifebytes=lots\n");                                          // 31
  const auto& l = r.diagnostics;
  EXPECT_DIAG(l, Severity::kError,
              "conn 'm': marginbytes (2000) must be less than lifebytes (1000)", 15);
  EXPECT_DIAG(l, Severity::kWarning,
              "conn 'p': lifepackets (100) without marginpackets: the soft limit is the hard "
              "limit, so the SA expires after 100 packets without a rekey (as in charon)",
              21);
  EXPECT_DIAG(l, Severity::kWarning, "'marginbytes' has no effect without lifebytes (as in charon)",
              26);
  EXPECT_DIAG(l, Severity::kError, "'lifebytes': invalid number 'lots'", 31);
  EXPECT_EQ(testing::Count(l, Severity::kError), 2u) << Dump(l);
  EXPECT_EQ(testing::Count(l, Severity::kWarning), 2u) << Dump(l);
}

TEST(Legacy, VtiParameters) {
  TempDir dir;
  auto r = LoadLegacy(dir,
                      std::string(kSeedConf) +
                          "    leftvti=vti-a\n    rightvti=vti-b\n    vti_mtu=1400\n"
                          "    vti_routes=10.2.0.0/16,10.3.0.0/16\n"
                          "    vti_addrs=169.254.12.1/30\n",
                      "routerA routerB : PSK \"s\"\n");
  ASSERT_TRUE(r.ok()) << Dump(r.diagnostics);
  const auto& vti = r.config.connections.at(0).children.at(0).vti;
  ASSERT_TRUE(vti.has_value());
  EXPECT_EQ(vti->name, "vti-a");  // left is local on router A
  EXPECT_EQ(vti->key, 12u);       // = mark
  EXPECT_EQ(vti->mtu, 1400u);
  EXPECT_EQ(vti->routes.size(), 2u);
  ASSERT_EQ(vti->addrs.size(), 1u);
  EXPECT_EQ(vti->addrs[0].ToString(), "169.254.12.1/30");
  TempDir dir2;
  auto b = LoadLegacy(dir2, std::string(kSeedConf) + "    vti=vti12\n    rightvti=vti-b\n",
                      "routerA routerB : PSK \"s\"\n", RouterB);
  EXPECT_EQ(b.config.connections.at(0).children.at(0).vti->name, "vti-b");
  TempDir dir3;
  auto a = LoadLegacy(dir3, std::string(kSeedConf) + "    vti=vti12\n    rightvti=vti-b\n",
                      "routerA routerB : PSK \"s\"\n", RouterA);
  EXPECT_EQ(a.config.connections.at(0).children.at(0).vti->name, "vti12");
}

TEST(Legacy, StrongswanConfSaveKeysPlugin) {
  TempDir dir;
  auto r = LoadLegacy(dir, kSeedConf, "routerA routerB : PSK \"s\"\n", RouterA,
                      "charon {\n  plugins {\n    save-keys {\n      load = yes\n"
                      "      wireshark_keys = /tmp/ws\n      esp = yes\n    }\n  }\n}\n");
  ASSERT_TRUE(r.ok()) << Dump(r.diagnostics);
  EXPECT_TRUE(r.diagnostics.empty()) << Dump(r.diagnostics);
  const auto& g = r.config.global;
  EXPECT_TRUE(g.save_keys_load);
  EXPECT_EQ(g.save_keys_dir, "/tmp/ws");
  EXPECT_TRUE(g.save_keys_esp);
  EXPECT_FALSE(g.save_keys_ike);  // charon's default
  TempDir dir2;
  auto bad = LoadLegacy(dir2, kSeedConf, "routerA routerB : PSK \"s\"\n", RouterA,
                        "charon { plugins { save-keys { ike = maybe\n wireshark_keys = ws } } }\n");
  EXPECT_FALSE(bad.ok());
  EXPECT_DIAG(bad.diagnostics, Severity::kError, "'save-keys.ike'");
  EXPECT_DIAG(bad.diagnostics, Severity::kError, "'ws' is not an absolute directory");
}

TEST(Legacy, StrongswanConfHonouredKeysAndIgnoredRest) {
  TempDir dir;
  auto r = LoadLegacy(dir, kSeedConf, "routerA routerB : PSK \"s\"\n", RouterA,
                      "charon {\n  install_routes = no\n  retransmit_tries = 3\n"
                      "  retransmit_timeout = 2.5\n  retransmit_base = 1.5\n"
                      "  cookie_threshold = 10\n  cookie_threshold_ip = 2\n"
                      "  block_threshold = 4\n  init_limit_half_open = 500\n"
                      "  half_open_timeout = 20s\n"
                      "  fragment_size = 1400\n  port = 5000\n  port_nat_t = 5001\n"
                      "  make_before_break = yes\n  some_future_option = 42\n"
                      "  plugins { kernel-netlink { fwmark = !0x42 }\n"
                      "    vici { socket = unix:///run/strongswan/charon.vici } }\n}\n"
                      "charon-systemd { retransmit_tries = 7 }\n"
                      "libstrongswan { whatever = 1 }\n");
  ASSERT_TRUE(r.ok()) << Dump(r.diagnostics);
  EXPECT_TRUE(r.diagnostics.empty()) << Dump(r.diagnostics);
  const auto& g = r.config.global;
  EXPECT_FALSE(g.install_routes);
  EXPECT_EQ(g.retransmit_tries, 7u);  // charon-systemd overrides charon
  EXPECT_DOUBLE_EQ(g.retransmit_timeout, 2.5);
  EXPECT_DOUBLE_EQ(g.retransmit_base, 1.5);
  EXPECT_EQ(g.cookie_threshold, 10u);
  EXPECT_EQ(g.cookie_threshold_ip, 2u);
  EXPECT_EQ(g.block_threshold, 4u);
  EXPECT_EQ(g.init_limit_half_open, 500u);
  EXPECT_EQ(g.vici_socket, "/run/strongswan/charon.vici");
  EXPECT_EQ(g.half_open_timeout, 20s);
  EXPECT_EQ(g.fragment_size, 1400u);
  EXPECT_EQ(g.port, 5000);
  EXPECT_EQ(g.port_nat_t, 5001);
  EXPECT_TRUE(g.make_before_break);
}

// charon's loggers set minivpnd's levels: per subsystem the highest of any logger (its own key,
// else its default, else charon's default 1); charon-systemd overrides charon key by key.
TEST(Legacy, StrongswanConfLogLevels) {
  TempDir dir;
  auto r = LoadLegacy(dir, kSeedConf, "routerA routerB : PSK \"s\"\n", RouterA,
                      "charon {\n  filelog {\n    main {\n      path = /var/log/charon.log\n"
                      "      default = 0\n      knl = 2\n      lib = 4\n    }\n  }\n"
                      "  syslog { daemon { default = -1 } }\n}\n"
                      "charon-systemd {\n  filelog { main { knl = 1 } }\n"
                      "  journal { default = 0\n enc = 9 }\n}\n");
  ASSERT_TRUE(r.ok()) << Dump(r.diagnostics);
  EXPECT_TRUE(r.diagnostics.empty()) << Dump(r.diagnostics);
  const std::map<std::string, int, std::less<>> want = {
      {"cfg", 0}, {"enc", 3}, {"ike", 0}, {"knl", 1}, {"net", 0}};
  EXPECT_EQ(r.config.global.log_levels, want);

  // A logger without a default logs at charon's default, 1; all loggers silent: -1.
  TempDir dir2;
  auto one = LoadLegacy(dir2, kSeedConf, "routerA routerB : PSK \"s\"\n", RouterA,
                        "charon { stderr { ike = 2 }\n syslog { auth { default = -1 } } }\n");
  ASSERT_TRUE(one.ok()) << Dump(one.diagnostics);
  EXPECT_EQ(one.config.global.log_levels.at("ike"), 2);
  EXPECT_EQ(one.config.global.log_levels.at("cfg"), 1);
  TempDir dir3;
  auto silent = LoadLegacy(dir3, kSeedConf, "routerA routerB : PSK \"s\"\n", RouterA,
                           "charon { filelog { f { default = -1 } } }\n");
  EXPECT_EQ(silent.config.global.log_levels.at("net"), -1);

  // No logger: nothing is set (minivpnd keeps its default); a bad level is a warning, ignored.
  TempDir dir4;
  auto none = LoadLegacy(dir4, kSeedConf, "routerA routerB : PSK \"s\"\n", RouterA,
                         "charon { port = 500 }\n");
  EXPECT_TRUE(none.config.global.log_levels.empty());
  TempDir dir5;
  auto bad = LoadLegacy(dir5, kSeedConf, "routerA routerB : PSK \"s\"\n", RouterA,
                        "charon { stderr { default = loud\n ike = 2 } }\n");
  EXPECT_TRUE(bad.ok());
  EXPECT_DIAG(bad.diagnostics, Severity::kWarning, "log level 'default' = 'loud'");
  EXPECT_EQ(bad.config.global.log_levels.at("ike"), 2);
  EXPECT_EQ(bad.config.global.log_levels.at("knl"), 1);
}

// Every prefix of the seed's ipsec.conf and ipsec.secrets loads without crashing; a prefix
// that cuts the PSK entry short never yields a connection with a wrong key.
TEST(Legacy, EveryPrefixOfTheSeedFilesIsHandled) {
  const std::string secrets = "routerA routerB : PSK \"supersecret\"\n";
  for (std::size_t n = 0; n <= sizeof(kSeedConf) - 1; n += 7) {
    TempDir dir;
    auto r = LoadLegacy(dir, std::string(kSeedConf, n), secrets);
    for (const auto& c : r.config.connections) {
      EXPECT_TRUE(c.psk.empty() || c.psk.Equals(AsBytes("supersecret")));
    }
  }
  for (std::size_t n = 0; n <= secrets.size(); ++n) {
    TempDir dir;
    auto r = LoadLegacy(dir, kSeedConf, secrets.substr(0, n));
    const auto* c = r.config.Find("A-B");
    ASSERT_NE(c, nullptr);
    if (r.ok()) {
      EXPECT_TRUE(c->psk.Equals(AsBytes("supersecret"))) << n;
    } else {
      EXPECT_TRUE(c->psk.empty()) << n;
    }
  }
}

TEST(Legacy, StrongswanConfErrorsAndDefaults) {
  TempDir dir;
  auto r = LoadLegacy(dir, kSeedConf, "routerA routerB : PSK \"s\"\n", RouterA,
                      "charon {\n  install_routes = yes\n  retransmit_tries = many\n"
                      "  retransmit_base = -1\n  port = 99999\n  oops\n}\n");
  EXPECT_DIAG(r.diagnostics, Severity::kWarning, "install_routes = yes is ignored", 2);
  EXPECT_DIAG(r.diagnostics, Severity::kError, "'retransmit_tries': invalid number 'many'", 3);
  EXPECT_DIAG(r.diagnostics, Severity::kError, "'retransmit_base': invalid number '-1'", 4);
  EXPECT_DIAG(r.diagnostics, Severity::kError, "invalid number '99999'", 5);
  EXPECT_DIAG(r.diagnostics, Severity::kError, "expected '=' or '{' after 'oops'", 6, 3);
  GlobalSettings defaults;
  EXPECT_TRUE(defaults.install_routes);
  EXPECT_EQ(defaults.retransmit_tries, 5u);
  EXPECT_DOUBLE_EQ(defaults.retransmit_timeout, 4.0);
  EXPECT_DOUBLE_EQ(defaults.retransmit_base, 1.8);
}

}  // namespace
}  // namespace minivpn::config

namespace minivpn::config {
namespace {
using testing::Dump;
using testing::TempDir;

std::size_t CountErrors(const std::vector<Diagnostic>& diags, std::string_view text) {
  return static_cast<std::size_t>(std::count_if(diags.begin(), diags.end(), [&](const auto& d) {
    return d.severity == Severity::kError && d.message.find(text) != std::string::npos;
  }));
}

// Issue 18: includes had a depth limit (10) and nothing else. A file that includes itself k
// times was read k^10 times (and reported k^10 times), on the daemon's event thread at SIGHUP.
// Now a file on the include chain is not read again (one error per directive, naming the chain),
// and one load reads at most IncludeGuard::kMaxFiles files.
TEST(Includes, AFileIncludingItselfIsReadOnceInEveryFormat) {
  TempDir dir;
  const std::string three_times = "include self.conf\ninclude self.conf\ninclude self.conf\n";
  dir.Write("self.conf", three_times, 0644);
  {
    Diagnostics d;
    ParseSettingsFile(dir.path() + "/self.conf", d);
    EXPECT_EQ(CountErrors(d.list(), "includes itself"), 3u) << Dump(d.list()).substr(0, 2000);
    EXPECT_EQ(d.list().size(), 3u);
  }
  {
    Config config;
    Diagnostics d;
    LoadIpsecConf(dir.path() + "/self.conf", config, d, Nobody);
    EXPECT_EQ(CountErrors(d.list(), "includes itself"), 3u) << Dump(d.list()).substr(0, 2000);
  }
  {
    Config config;
    Diagnostics d;
    dir.Write("self.secrets", "include self.secrets\ninclude self.secrets\ninclude self.secrets\n");
    LoadIpsecSecrets(dir.path() + "/self.secrets", config, d);
    EXPECT_EQ(CountErrors(d.list(), "includes itself"), 3u) << Dump(d.list()).substr(0, 2000);
  }
}

TEST(Includes, ALoopThroughAnotherFileNamesTheChain) {
  TempDir dir;
  const std::string a = dir.Write("a.conf", "include b.conf\n", 0644);
  dir.Write("b.conf", "include a.conf\n", 0644);
  Diagnostics d;
  ParseSettingsFile(a, d);
  ASSERT_EQ(d.list().size(), 1u) << Dump(d.list());
  EXPECT_DIAG(d.list(), Severity::kError,
              "includes itself (" + dir.path() + "/a.conf -> " + dir.path() + "/b.conf -> " +
                  dir.path() + "/a.conf)",
              1, 1);
  EXPECT_EQ(d.list()[0].where.file, dir.path() + "/b.conf");
}

TEST(Includes, OneLoadReadsABoundedNumberOfFiles) {
  // level i includes level i+1 four times: 4^9 = 262144 reads of the last file before.
  TempDir dir;
  for (int level = 0; level < 9; ++level) {
    std::string next = "l" + std::to_string(level + 1) + ".conf";
    std::string text;
    for (int k = 0; k < 4; ++k) text += "include " + next + "\n";
    dir.Write("l" + std::to_string(level) + ".conf", text, 0644);
  }
  dir.Write("l9.conf", "charon { port = 500 }\n", 0644);
  Diagnostics d;
  ParseSettingsFile(dir.path() + "/l0.conf", d);
  EXPECT_EQ(CountErrors(d.list(), "more than 1000 files read for one configuration"), 1u)
      << Dump(d.list()).substr(0, 2000);
  EXPECT_EQ(d.list().size(), 1u);
}

}  // namespace
}  // namespace minivpn::config
