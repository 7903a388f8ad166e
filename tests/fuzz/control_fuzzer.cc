// libFuzzer target for the control protocol (cli/daemon/control_protocol.h): the input is one
// line as minivpnd's control socket or minivpnctl would read it. For every input:
//   - ParseControlRequest, ParseControlReply and ParseExplainArgs never crash or throw;
//   - a parsed request formats to one line that parses back to the same request, and formatting
//     that again gives the same octets (the same for replies);
//   - a request whose command, and replies whose error or result, are the raw input (any
//     octets: invalid UTF-8, newlines, NULs) format to exactly one line that parses back (the
//     text identical when it was valid UTF-8): nothing a peer or a config name holds can split
//     a line or make the daemon throw.
#include <nlohmann/json.hpp>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "cli/daemon/control_protocol.h"

namespace {

using minivpn::daemon::ControlReply;
using minivpn::daemon::ControlRequest;
using nlohmann::json;
namespace daemon = minivpn::daemon;

[[noreturn]] void Fail(const std::string& what) {
  std::fprintf(stderr, "control_fuzzer: %s\n", what.c_str());
  std::abort();
}

// One line: ends with the only '\n'; returns it without the '\n'.
std::string_view OneLine(const std::string& text, const char* what) {
  if (text.empty() || text.back() != '\n' || text.find('\n') != text.size() - 1) {
    Fail(std::string(what) + " is not exactly one line");
  }
  if (text.size() - 1 > daemon::kMaxControlLine * 8) Fail(std::string(what) + " is huge");
  return std::string_view(text).substr(0, text.size() - 1);
}

// dump() without a replacement handler throws on strings that are not valid UTF-8.
bool StrictDumpable(const json& value) {
  try {
    (void)value.dump();
    return true;
  } catch (const json::exception&) {
    return false;
  }
}

bool ValidUtf8(std::string_view s) { return StrictDumpable(json(std::string(s))); }

void RoundTripRequest(const ControlRequest& request) {
  const std::string line = daemon::FormatControlRequest(request);
  auto again = daemon::ParseControlRequest(OneLine(line, "FormatControlRequest"));
  if (!again) {
    // Only an empty command or a formatted line over the limit may be refused.
    if (request.command.empty() || line.size() - 1 > daemon::kMaxControlLine) return;
    Fail("a formatted request does not parse: " + again.error());
  }
  if (daemon::FormatControlRequest(*again) != line) Fail("FormatControlRequest is not stable");
  if (ValidUtf8(request.command) && again->command != request.command) {
    Fail("the command changed in a round trip");
  }
  if (StrictDumpable(request.args) && again->args != request.args) {
    Fail("the args changed in a round trip");
  }
  (void)daemon::ParseExplainArgs(again->args);
}

void RoundTripReply(const ControlReply& reply) {
  const std::string line = daemon::FormatControlReply(reply);
  auto again = daemon::ParseControlReply(OneLine(line, "FormatControlReply"));
  if (!again) Fail("a formatted reply does not parse: " + again.error());
  if (again->ok != reply.ok) Fail("ok changed in a reply round trip");
  if (daemon::FormatControlReply(*again) != line) Fail("FormatControlReply is not stable");
  if (!reply.ok && ValidUtf8(reply.error) && again->error != reply.error) {
    Fail("the error text changed in a reply round trip");
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view line(reinterpret_cast<const char*>(data), size);
  try {
    if (auto request = daemon::ParseControlRequest(line)) {
      if (request->command.empty()) Fail("a parsed request has no command");
      if (!request->args.is_object()) Fail("parsed args are not an object");
      (void)daemon::ParseExplainArgs(request->args);
      RoundTripRequest(*request);
    } else if (request.error().empty()) {
      Fail("a refused request has no error text");
    }
    if (auto reply = daemon::ParseControlReply(line)) {
      RoundTripReply(*reply);
    }
    // Arbitrary octets where the daemon puts names, errors and results.
    const std::string raw(line);
    RoundTripRequest(ControlRequest{raw, json::object({{"name", raw}})});
    RoundTripReply(ControlReply::Fail(raw));
    RoundTripReply(ControlReply::Ok(json{{"name", raw}, {"list", json::array({raw, size})}}));
    (void)daemon::ParseExplainArgs(json::object({{"name", raw}, {"show_secrets", size % 2 == 0}}));
    (void)daemon::ParseExplainArgs(json::object({{"id", size}}));
  } catch (const std::exception& e) {
    Fail(std::string("exception escaped: ") + e.what());
  }
  return 0;
}
