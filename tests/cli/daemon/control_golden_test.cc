// Golden replies of the control protocol (issue 19): two real Daemons on loopback (a initiates
// the tunnel A-B, b answers; the in-memory kernel), driven over a's control socket as minivpnctl
// drives it. Every command's exchange (request, progress lines, reply) is recorded as a
// transcript, normalised where a value differs from run to run (SPIs, ports, times, key
// material in explain's text), and compared with tests/cli/daemon/golden/<name>.txt. The same
// transcripts are the examples of docs/control-protocol.md ("Replies"), checked here word for
// word, and every command of the document's table has one.
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

#include "tests/cli/daemon/two_daemons.h"

namespace minivpn::daemon {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using testing::ReadFile;

const fs::path kSource = fs::path(MINIVPN_FIXTURES).parent_path().parent_path();
const fs::path kGoldenDir = kSource / "tests/cli/daemon/golden";
const fs::path kProtocolDoc = kSource / "docs/control-protocol.md";

class ControlGoldenTest : public testing::TwoDaemons {
 protected:
  // Sends the request to a and records the exchange as minivpnctl sees it on the wire.
  ControlReply Record(std::string& transcript, const ControlRequest& request) {
    transcript += Message('>', FormatControlRequest(request));
    auto reply = SendControlRequest(a_.options.control_path, request,
                                    [&](const std::string& log) {
                                      transcript += Message('<', FormatControlProgress(log));
                                    });
    EXPECT_TRUE(reply) << reply.error();
    if (!reply) return ControlReply::Fail("no reply");
    transcript += Message('<', FormatControlReply(*reply));
    return *reply;
  }
  // One wire line, normalised and pretty-printed: "> " for the client, "< " for the daemon.
  std::string Message(char who, const std::string& line) {
    json j = json::parse(line);
    Normalise(j, "");
    std::string text = j.dump(2);
    std::string out;
    std::istringstream lines(text);
    std::string l;
    bool first = true;
    while (std::getline(lines, l)) {
      out += (first ? std::string{who, ' '} : std::string("  ")) + l + "\n";
      first = false;
    }
    return out;
  }

  // What differs between runs becomes a placeholder: <spi>, <port>, <seconds>, <hex>.
  void Normalise(json& j, const std::string& key) {
    static const std::set<std::string> kSpis = {"spi_i", "spi_r", "spi_in", "spi_out"};
    static const std::set<std::string> kPorts = {"local_port", "remote_port"};
    static const std::set<std::string> kTimes = {"established", "rekey_time", "life_time",
                                                 "install_time", "use_in", "use_out",
                                                 "uptime"};
    if (j.is_object()) {
      for (auto& [k, v] : j.items()) Normalise(v, k);
    } else if (j.is_array()) {
      for (auto& v : j) Normalise(v, key);
    } else if (kSpis.contains(key)) {
      j = "<spi>";
    } else if (kPorts.contains(key)) {
      j = "<port>";
    } else if (kTimes.contains(key)) {
      j = "<seconds>";
    } else if (j.is_string()) {
      std::string s = j.get<std::string>();
      for (auto [port, name] : {std::pair{a_.port, "<port a>"}, {a_.port_nat_t, "<port a>"},
                                {b_.port, "<port b>"}, {b_.port_nat_t, "<port b>"}}) {
        s = std::regex_replace(s, std::regex("\\[" + std::to_string(port) + "\\]"),
                               std::string("[") + name + "]");
      }
      // SPIs, nonces, key exchange values, hashes: hex runs of 8 digits or more.
      s = std::regex_replace(s, std::regex("(^|[^0-9a-fA-Fx])[0-9a-f]{8,}(?![0-9a-f])"), "$1<hex>");
      s = std::regex_replace(s, std::regex("(\\b[0-9a-f]{2} ){8,}[0-9a-f]{2}\\b"), "<hex>");
      j = s;
    }
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

  Record(t["list-conns"], {.command = "list-conns"});

  auto up = Record(t["initiate"], {.command = "initiate",
                                   .args = {{"name", "A-B"}, {"wait", true}, {"timeout", 10}}});
  ASSERT_TRUE(up.ok) << up.error << "\n" << log_text_;

  Record(t["list-sas"], {.command = "list-sas", .args = {{"name", "A-B"}}});
  Record(t["stats"], {.command = "stats"});

  auto child = Record(t["rekey"], {.command = "rekey", .args = {{"name", "A-B"}, {"child", "A-B"},
                                                               {"wait", true}}});
  ASSERT_TRUE(child.ok) << child.error;
  auto ike = Record(t["rekey"], {.command = "rekey", .args = {{"name", "A-B"}, {"wait", true}}});
  ASSERT_TRUE(ike.ok) << ike.error;

  Record(t["explain"], {.command = "explain", .args = {{"name", "A-B"}}});
  Record(t["log-level"], {.command = "log-level", .args = {{"subsystem", "ike"}, {"level", 2}}});
  Record(t["reload"], {.command = "reload"});

  auto down = Record(t["terminate"], {.command = "terminate",
                                      .args = {{"name", "A-B"}, {"wait", true}}});
  ASSERT_TRUE(down.ok) << down.error;
  Record(t["terminate"], {.command = "initiate", .args = {{"name", "A-B"}}});
  Record(t["terminate"], {.command = "terminate", .args = {{"name", "A-B"}}});

  Record(t["errors"], {.command = "frobnicate"});
  Record(t["errors"], {.command = "initiate", .args = {{"name", "A-C"}}});
  Record(t["errors"], {.command = "log-level", .args = {{"subsystem", "ike"}, {"level", 9}}});

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
    static const std::regex kCommand("\"command\": \"([a-z-]+)\"");
    for (std::sregex_iterator m(transcript.begin(), transcript.end(), kCommand), e; m != e; ++m) {
      sent.insert((*m)[1]);
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
