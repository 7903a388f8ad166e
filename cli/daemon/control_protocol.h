// The control protocol between minivpnctl and minivpnd (docs/control-protocol.md).
//
// A Unix stream socket (mode 0600, root only), newline-delimited JSON, one request and one reply
// per line:
//   request: {"version": 1, "command": "list-sas", "args": {...}}
//   reply:   {"version": 1, "ok": true, "result": ...}
//            {"version": 1, "ok": false, "error": "no connection named 'x'"}
// A request with another major version gets ok=false and the versions the daemon speaks.
// Before its reply, a request that waits for an outcome (initiate, terminate, rekey with
// "wait": true) gets progress lines, the log lines of its SA as they happen:
//   progress: {"version": 1, "log": "[IKE] to-b[3] IKE_SA to-b[3] established"}
#pragma once

#include <nlohmann/json.hpp>

#include <expected>
#include <optional>
#include <string>
#include <string_view>

namespace minivpn::daemon {

inline constexpr int kControlProtocolVersion = 1;
inline constexpr std::size_t kMaxControlLine = 64 * 1024;
inline constexpr std::string_view kDefaultControlPath = "/run/minivpnd.ctl";

struct ControlRequest {
  std::string command;
  nlohmann::json args = nlohmann::json::object();
};

struct ControlReply {
  bool ok = true;
  nlohmann::json result;  // when ok
  std::string error;      // when !ok

  static ControlReply Ok(nlohmann::json result = nullptr) { return {true, std::move(result), {}}; }
  static ControlReply Fail(std::string error) { return {false, nullptr, std::move(error)}; }
};

// Arguments of `explain` (docs/control-protocol.md): the IKE SA by connection name (its newest
// established IKE SA) or by uniqueid (exactly one of the two), and whether key values are shown.
struct ExplainArgs {
  std::string name;
  std::uint64_t id = 0;  // 0 = by name
  bool show_secrets = false;
  bool operator==(const ExplainArgs&) const = default;
};
std::expected<ExplainArgs, std::string> ParseExplainArgs(const nlohmann::json& args);

// Parses one request line; the error is the reply to send.
std::expected<ControlRequest, std::string> ParseControlRequest(std::string_view line);
std::string FormatControlRequest(const ControlRequest& request);  // one line, with '\n'
std::string FormatControlReply(const ControlReply& reply);        // one line, with '\n'
std::expected<ControlReply, std::string> ParseControlReply(std::string_view line);
std::string FormatControlProgress(std::string_view log_line);  // one line, with '\n'
// The log line of a progress line; nullopt for any other line (a reply).
std::optional<std::string> ParseControlProgress(std::string_view line);

}  // namespace minivpn::daemon
