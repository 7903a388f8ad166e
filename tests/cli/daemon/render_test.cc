// minivpnctl's output (cli/ctl/render.h). The SA and connection listings are checked against
// swanctl 5.9.8's own output for the same vici events: the list-sa and list-conn events below
// are what charon sent for a tunnel in the lab (swanctl --raw), the expected texts what swanctl
// printed for them, so a script that parses swanctl's output reads minivpnctl's.
#include "cli/ctl/render.h"

#include <gtest/gtest.h>

namespace minivpn::ctl {
namespace {

using vici::Message;
using vici::Section;

Section Auth(const char* id) {
  return Section()
      .Add("id", id)
      .Add("class", "pre-shared key")
      .AddList("groups", {})
      .AddList("cert_policy", {})
      .AddList("certs", {})
      .AddList("cacerts", {});
}

TEST(RenderSas, AsSwanctlPrintsCharonsListSaEvent) {
  const Message event = Message().AddSection(
      "A-B",
      Section()
          .Add("uniqueid", "1").Add("version", "2").Add("state", "ESTABLISHED")
          .Add("local-host", "192.0.2.1").Add("local-port", "4500").Add("local-id", "routerA")
          .Add("remote-host", "198.51.100.1").Add("remote-port", "4500")
          .Add("remote-id", "routerB").Add("initiator", "yes")
          .Add("initiator-spi", "b18203de553b3012").Add("responder-spi", "625fb68ab7ea6d02")
          .Add("encr-alg", "AES_GCM_16").Add("encr-keysize", "256")
          .Add("prf-alg", "PRF_HMAC_SHA2_256").Add("dh-group", "CURVE_25519")
          .Add("established", "6").Add("rekey-time", "13570")
          .AddSection("child-sas",
                      Section().AddSection(
                          "A-B-1",
                          Section()
                              .Add("name", "A-B").Add("uniqueid", "1").Add("reqid", "1")
                              .Add("state", "INSTALLED").Add("mode", "TUNNEL")
                              .Add("protocol", "ESP").Add("spi-in", "c59e817b")
                              .Add("spi-out", "c377b3c8").Add("mark-in", "0000000c")
                              .Add("mark-out", "0000000c").Add("encr-alg", "AES_GCM_16")
                              .Add("encr-keysize", "256").Add("bytes-in", "672")
                              .Add("packets-in", "8").Add("use-in", "2").Add("bytes-out", "672")
                              .Add("packets-out", "8").Add("use-out", "2")
                              .Add("rekey-time", "3237").Add("life-time", "3954")
                              .Add("install-time", "8").AddList("local-ts", {"0.0.0.0/0"})
                              .AddList("remote-ts", {"0.0.0.0/0"}))));
  EXPECT_EQ(RenderSas({event}),
            "A-B: #1, ESTABLISHED, IKEv2, b18203de553b3012_i* 625fb68ab7ea6d02_r\n"
            "  local  'routerA' @ 192.0.2.1[4500]\n"
            "  remote 'routerB' @ 198.51.100.1[4500]\n"
            "  AES_GCM_16-256/PRF_HMAC_SHA2_256/CURVE_25519\n"
            "  established 6s ago, rekeying in 13570s\n"
            "  A-B: #1, reqid 1, INSTALLED, TUNNEL, ESP:AES_GCM_16-256\n"
            "    installed 8s ago, rekeying in 3237s, expires in 3954s\n"
            "    in  c59e817b (0x0000000c),    672 bytes,     8 packets,     2s ago\n"
            "    out c377b3c8 (0x0000000c),    672 bytes,     8 packets,     2s ago\n"
            "    local  0.0.0.0/0\n"
            "    remote 0.0.0.0/0\n");
  EXPECT_EQ(RenderSas({}), "no IKE_SAs\n");
}

// minivpnd's list-link events: an owned link that follows its CHILD_SAs, and why it is down.
TEST(RenderLinks, OneLinePerLinkWithTheReason) {
  const Message down = Message().AddSection(
      "vti-b", Section()
                   .Add("kind", "vti").Add("state", "down").Add("since", "4")
                   .AddList("children", {"to-b/to-b"})
                   .Add("reason", "no CHILD_SA of 'to-b' installed: CHILD_SA to-b{3} deleted: "
                                  "peer's DELETE"));
  const Message up = Message().AddSection(
      "xfrm-c", Section().Add("kind", "xfrm").Add("state", "up").Add("since", "60")
                    .AddList("children", {"to-c/net", "to-c/net2"}));
  EXPECT_EQ(RenderLinks({down, up}),
            "vti-b (vti, for to-b/to-b): down for 4s: no CHILD_SA of 'to-b' installed: CHILD_SA "
            "to-b{3} deleted: peer's DELETE\n"
            "xfrm-c (xfrm, for to-c/net, to-c/net2): up for 60s\n");
  EXPECT_EQ(RenderLinks({}), "");
}

TEST(RenderConns, AsSwanctlPrintsCharonsListConnEvent) {
  const Message event = Message().AddSection(
      "A-B", Section()
                 .AddList("local_addrs", {"192.0.2.1"})
                 .AddList("remote_addrs", {"198.51.100.1"})
                 .Add("version", "IKEv2").Add("reauth_time", "0").Add("rekey_time", "14400")
                 .Add("unique", "UNIQUE_NO")
                 .AddSection("local-1", Auth("routerA"))
                 .AddSection("remote-1", Auth("routerB"))
                 .AddSection("children",
                             Section().AddSection(
                                 "A-B", Section()
                                            .Add("mode", "TUNNEL").Add("rekey_time", "3600")
                                            .Add("rekey_bytes", "0").Add("rekey_packets", "0")
                                            .Add("dpd_action", "none").Add("close_action", "none")
                                            .AddList("local-ts", {"0.0.0.0/0"})
                                            .AddList("remote-ts", {"0.0.0.0/0"}))));
  const std::string swanctl =
      "A-B: IKEv2, no reauthentication, rekeying every 14400s\n"
      "  local:  192.0.2.1\n"
      "  remote: 198.51.100.1\n"
      "  local pre-shared key authentication:\n"
      "    id: routerA\n"
      "  remote pre-shared key authentication:\n"
      "    id: routerB\n"
      "  A-B: TUNNEL, rekeying every 3600s\n"
      "    local:  0.0.0.0/0\n"
      "    remote: 0.0.0.0/0\n";
  EXPECT_EQ(RenderConns({event}), swanctl);

  // minivpnd's additions to a child (its marks, its start action) extend the child's line.
  Message ours = event;
  auto& child = std::get<Section>(
      std::get<Section>(std::get<Section>(ours.elements[0].body).elements.back().body)
          .elements[0]
          .body);
  child.Add("mark_in", "0000000c").Add("mark_out", "0000000c").Add("start_action", "start");
  std::string expected = swanctl;
  expected.replace(expected.find("rekeying every 3600s"), 20,
                   "rekeying every 3600s, mark in 0000000c, out 0000000c, start start");
  EXPECT_EQ(RenderConns({ours}), expected);
  EXPECT_EQ(RenderConns({}), "no connections\n");

  // ipsec.conf's default (reauth=yes): charon reauthenticates instead of rekeying.
  Message reauth = Message().AddSection(
      "A-B", Section().Add("version", "IKEv2").Add("reauth_time", "10260").Add("rekey_time", "0"));
  EXPECT_EQ(RenderConns({reauth}).substr(0, RenderConns({reauth}).find('\n')),
            "A-B: IKEv2, reauthentication every 10260s, no rekeying");
}

// Issue 21: a child's volume lifetimes are part of its line as swanctl prints them
// (list_conns.c: "rekeying every 3600s or 1073741824 bytes or 1000 packets").
TEST(RenderConns, ChildRekeyVolumesAsSwanctlPrintsThem) {
  const auto child_line = [](const char* time, const char* bytes, const char* packets) {
    const Message event = Message().AddSection(
        "A-B", Section().Add("version", "IKEv2").Add("rekey_time", "0").AddSection(
                   "children", Section().AddSection("net", Section()
                                                               .Add("mode", "TUNNEL")
                                                               .Add("rekey_time", time)
                                                               .Add("rekey_bytes", bytes)
                                                               .Add("rekey_packets", packets))));
    const std::string out = RenderConns({event});
    const std::size_t at = out.find("  net: ");
    return at == std::string::npos ? out : out.substr(at, out.find('\n', at) - at);
  };
  EXPECT_EQ(child_line("3600", "1073741824", "1000"),
            "  net: TUNNEL, rekeying every 3600s or 1073741824 bytes or 1000 packets");
  EXPECT_EQ(child_line("0", "1073741824", "0"), "  net: TUNNEL, rekeying every 1073741824 bytes");
  EXPECT_EQ(child_line("0", "0", "1000"), "  net: TUNNEL, rekeying every 1000 packets");
  EXPECT_EQ(child_line("0", "0", "0"), "  net: TUNNEL, no rekeying");
}

TEST(RenderReload, NamesWhatChanged) {
  EXPECT_EQ(RenderReload(Message()
                             .AddList("added", {"to-c"})
                             .AddList("removed", {})
                             .AddList("changed", {"to-b"})
                             .AddList("unchanged", {"to-d", "to-e"})),
            "reloaded: 1 added (to-c), 0 removed, 1 changed (to-b), 2 unchanged (to-d, to-e)\n");
  EXPECT_EQ(RenderReload(Message()), "reloaded: 0 added, 0 removed, 0 changed, 0 unchanged\n");
}

TEST(RenderStats, GroupsThenTotals) {
  EXPECT_EQ(RenderStats(Message()
                            .AddSection("exchanges", Section().Add("IKE_AUTH", "2"))
                            .AddSection("failures", Section().Add("AUTHENTICATION_FAILED", "1"))
                            .Add("ike-sas", "1")
                            .Add("uptime", "5")
                            .Add("success", "yes")),
            "exchanges:\n"
            "  IKE_AUTH                     2\n"
            "failures:\n"
            "  AUTHENTICATION_FAILED        1\n"
            "ike-sas                        1\n"
            "uptime                         5\n");
}

TEST(RenderExplain, HeaderThenOneLinePerItem) {
  EXPECT_EQ(RenderExplain(Message()
                              .Add("name", "to-b")
                              .Add("uniqueid", "3")
                              .AddList("text", {"SKEYSEED = prf(Ni | Nr, g^ir)", "  (32 octets)"})),
            "to-b: IKE_SA #3 key derivation\nSKEYSEED = prf(Ni | Nr, g^ir)\n  (32 octets)\n");
}

TEST(ToJson, SectionsListsAndValues) {
  const Message m = Message()
                        .Add("a", "1")
                        .AddList("l", {"x", "y"})
                        .AddSection("s", Section().Add("b", "2"));
  EXPECT_EQ(ToJson(m).dump(), R"({"a":"1","l":["x","y"],"s":{"b":"2"}})");
}

}  // namespace
}  // namespace minivpn::ctl
