// Golden replies of minivpnctl's commands (issues 19, 20): two real Daemons on loopback (a
// initiates the tunnel A-B, b answers; the in-memory kernel), driven over a's vici socket as
// minivpnctl drives it (cli/ctl/vici_client.h). Every command's exchange (request, the events it
// streams, the reply) is recorded as a transcript, normalised where a value differs from run to
// run (SPIs, ports, times, key material in explain's text), and compared with
// tests/cli/daemon/golden/<name>.txt. The same transcripts are the examples of
// docs/control-protocol.md ("Replies"), checked here word for word, and every command of the
// document's table has one.
//
// After a deliberate change of a reply: MINIVPN_UPDATE_GOLDEN=1 ctest -R control_golden rewrites
// the golden files and the document's examples; review the diff like code.
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <gtest/gtest.h>

#include "cli/ctl/vici_client.h"
#include "tests/cli/daemon/two_daemons.h"

namespace minivpn::daemon {
namespace {

namespace fs = std::filesystem;
using testing::ReadFile;
using vici::Message;

const fs::path kSource = fs::path(MINIVPN_FIXTURES).parent_path().parent_path();
const fs::path kGoldenDir = kSource / "tests/cli/daemon/golden";
const fs::path kProtocolDoc = kSource / "docs/control-protocol.md";

class ControlGoldenTest : public testing::TwoDaemons {
 protected:
  // Sends the command to a and records the exchange: "> command" with its arguments, "< event"
  // for each event it streams, "< reply" (or the client's error for CMD_UNKNOWN).
  Message Record(std::string& transcript, const std::string& command, Message args = {},
                 std::initializer_list<std::string_view> events = {}) {
    transcript += "> " + command + Block(args);
    auto client = ctl::ViciClient::Connect(a_.options.vici_path, std::chrono::seconds(20));
    EXPECT_TRUE(client) << client.error();
    if (!client) return {};
    auto reply = client->Call(command, args, events,
                              [&](std::string_view event, const Message& m) {
                                transcript += "< " + std::string(event) + Block(m);
                              });
    if (!reply) {
      transcript += "< " + reply.error() + "\n";
      return Message().Add("success", "no");
    }
    transcript += "< reply" + Block(*reply);
    return *reply;
  }
  // A message as swanctl --raw --pretty shows it, normalised, indented under its line.
  std::string Block(Message m) {
    Normalise(m);
    const std::string text = vici::Dump(m, true);
    if (text.empty()) return " {}\n";
    std::string out = " {\n";
    std::istringstream lines(text);
    for (std::string l; std::getline(lines, l);) out += "  " + l + "\n";
    return out + "}\n";
  }

  // What differs between runs becomes a placeholder: <spi>, <port>, <seconds>, <hex>.
  void Normalise(vici::Section& s) {
    static const std::set<std::string> kSpis = {"initiator-spi", "responder-spi", "spi-in",
                                                "spi-out"};
    static const std::set<std::string> kPorts = {"local-port", "remote-port"};
    static const std::set<std::string> kTimes = {"established", "rekey-time", "life-time",
                                                 "install-time", "use-in", "use-out", "uptime"};
    for (auto& e : s.elements) {
      if (auto* section = std::get_if<vici::Section>(&e.body)) {
        Normalise(*section);
      } else if (auto* list = std::get_if<vici::List>(&e.body)) {
        for (auto& item : *list) item = Masked(item);
      } else if (auto* value = std::get_if<std::string>(&e.body)) {
        if (e.name.starts_with("mark")) {
          continue;  // the VTI's key: the same in every run (and hex, as charon shows it)
        } else if (kSpis.contains(e.name)) {
          *value = "<spi>";
        } else if (kPorts.contains(e.name)) {
          *value = "<port>";
        } else if (kTimes.contains(e.name)) {
          *value = "<seconds>";
        } else {
          *value = Masked(*value);
        }
      }
    }
  }
  // Ports in log lines ("127.0.0.1[4500]"), and hex runs: SPIs, nonces, key exchange values.
  std::string Masked(std::string s) const {
    for (auto [port, name] : {std::pair{a_.port, "<port a>"}, {a_.port_nat_t, "<port a>"},
                              {b_.port, "<port b>"}, {b_.port_nat_t, "<port b>"}}) {
      s = std::regex_replace(s, std::regex("\\[" + std::to_string(port) + "\\]"),
                             std::string("[") + name + "]");
    }
    s = std::regex_replace(s, std::regex("(^|[^0-9a-fA-Fx])[0-9a-f]{8,}(?![0-9a-f])"), "$1<hex>");
    s = std::regex_replace(s, std::regex("(\\b[0-9a-f]{2} ){8,}[0-9a-f]{2}\\b"), "<hex>");
    return s;
  }
};

bool Updating() { return std::getenv("MINIVPN_UPDATE_GOLDEN") != nullptr; }

// The block of docs/control-protocol.md that shows golden/<name>.txt.
std::string DocBlock(const std::string& name, const std::string& transcript) {
  return "<!-- golden: " + name + " -->\n```text\n" + transcript + "```\n";
}

// Compares (or, when updating, writes) golden/<name>.txt.
void CheckGolden(const std::string& name, const std::string& transcript) {
  const fs::path file = kGoldenDir / (name + ".txt");
  if (Updating()) {
    fs::create_directories(kGoldenDir);
    std::ofstream(file) << transcript;
    return;
  }
  EXPECT_EQ(transcript, ReadFile(file))
      << "golden/" << name << ".txt differs; after a deliberate change: "
      << "MINIVPN_UPDATE_GOLDEN=1 ctest -R control_golden";
}

TEST_F(ControlGoldenTest, EveryCommandsReplyMatchesItsGoldenTranscript) {
  std::map<std::string, std::string> t;  // name -> transcript
  auto ok = [](const Message& m) { return m.ValueOr("success", "") == "yes"; };

  Record(t["list-conns"], "list-conns", {}, {"list-conn"});

  auto up = Record(t["initiate"], "initiate",
                   Message().Add("ike", "A-B").Add("timeout", "10000"), {"control-log"});
  ASSERT_TRUE(ok(up)) << vici::Dump(up) << "\n" << log_text_;

  Record(t["list-sas"], "list-sas", Message().Add("ike", "A-B"), {"list-sa"});
  Record(t["stats"], "minivpn-stats");

  auto child = Record(t["rekey"], "rekey",
                      Message().Add("ike", "A-B").Add("child", "A-B").Add("timeout", "0"),
                      {"control-log"});
  ASSERT_TRUE(ok(child)) << vici::Dump(child);
  auto ike = Record(t["rekey"], "rekey", Message().Add("ike", "A-B").Add("timeout", "0"),
                    {"control-log"});
  ASSERT_TRUE(ok(ike)) << vici::Dump(ike);

  Record(t["explain"], "minivpn-explain", Message().Add("ike", "A-B"));
  Record(t["log-level"], "minivpn-log-level",
         Message().Add("subsystem", "ike").Add("level", "2"));
  Record(t["reload"], "reload-settings");

  auto down = Record(t["terminate"], "terminate", Message().Add("ike", "A-B").Add("timeout", "0"),
                     {"control-log"});
  ASSERT_TRUE(ok(down)) << vici::Dump(down);
  Record(t["terminate"], "initiate", Message().Add("ike", "A-B").Add("timeout", "-1"));
  Record(t["terminate"], "terminate", Message().Add("ike", "A-B").Add("timeout", "-1"));

  Record(t["errors"], "frobnicate");
  Record(t["errors"], "initiate", Message().Add("ike", "A-C"));
  Record(t["errors"], "minivpn-log-level", Message().Add("subsystem", "ike").Add("level", "9"));

  for (const auto& [name, transcript] : t) {
    SCOPED_TRACE(name);
    CheckGolden(name, transcript);
  }

  // The document shows each transcript word for word, and nothing else under "golden:".
  std::string doc = ReadFile(kProtocolDoc);
  if (Updating()) {
    for (const auto& [name, transcript] : t) {
      const std::string marker = "<!-- golden: " + name + " -->\n";
      const std::size_t at = doc.find(marker);
      ASSERT_NE(at, std::string::npos) << "add a '" << marker << "' block to the document";
      const std::size_t end = doc.find("```\n", doc.find("```text\n", at) + 8);
      doc.replace(at, end + 4 - at, DocBlock(name, transcript));
    }
    std::ofstream(kProtocolDoc) << doc;
  }
  std::set<std::string> shown;
  static const std::regex kMarker("<!-- golden: ([a-z-]+) -->");
  for (std::sregex_iterator m(doc.begin(), doc.end(), kMarker), e; m != e; ++m) {
    shown.insert((*m)[1]);
  }
  for (const auto& [name, transcript] : t) {
    EXPECT_NE(doc.find(DocBlock(name, transcript)), std::string::npos)
        << "docs/control-protocol.md does not show golden/" << name << ".txt as it is";
    shown.erase(name);
  }
  EXPECT_TRUE(shown.empty()) << "the document shows a transcript no test records: "
                             << *shown.begin();

  // Every command of the document's table has a transcript in which it is sent.
  static const std::regex kRow("\\n\\| `([a-z-]+)` \\|");
  std::set<std::string> sent;
  for (const auto& [name, transcript] : t) {
    static const std::regex kCommand("(^|\n)> ([a-z-]+) ");
    for (std::sregex_iterator m(transcript.begin(), transcript.end(), kCommand), e; m != e; ++m) {
      sent.insert((*m)[2]);
    }
  }
  int rows = 0;
  for (std::sregex_iterator m(doc.begin(), doc.end(), kRow), e; m != e; ++m, ++rows) {
    EXPECT_TRUE(sent.contains((*m)[1])) << "no golden transcript sends " << (*m)[1];
  }
  EXPECT_EQ(rows, 9) << "the command table's rows";
  EXPECT_EQ(log_text_.find("golden-test-psk"), std::string::npos);
}

}  // namespace
}  // namespace minivpn::daemon
