#include "cli/daemon/control_protocol.h"

#include <fmt/core.h>

namespace minivpn::daemon {

using nlohmann::json;

std::expected<ControlRequest, std::string> ParseControlRequest(std::string_view line) {
  if (line.size() > kMaxControlLine) return std::unexpected("request longer than 64 KiB");
  json doc = json::parse(line, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded() || !doc.is_object()) return std::unexpected("request is not a JSON object");
  auto version = doc.find("version");
  if (version == doc.end() || !version->is_number_integer()) {
    return std::unexpected("request has no integer \"version\"");
  }
  if (version->get<int>() != kControlProtocolVersion) {
    return std::unexpected(fmt::format("protocol version {} not supported (this minivpnd speaks {})",
                                       version->get<int>(), kControlProtocolVersion));
  }
  auto command = doc.find("command");
  if (command == doc.end() || !command->is_string() || command->get<std::string>().empty()) {
    return std::unexpected("request has no \"command\" string");
  }
  ControlRequest request{.command = command->get<std::string>()};
  if (auto args = doc.find("args"); args != doc.end()) {
    if (!args->is_object()) return std::unexpected("\"args\" must be an object");
    request.args = *args;
  }
  return request;
}

std::expected<ExplainArgs, std::string> ParseExplainArgs(const json& args) {
  ExplainArgs out;
  if (!args.is_object()) return std::unexpected("\"args\" must be an object");
  auto name = args.find("name");
  auto id = args.find("id");
  if (name != args.end()) {
    if (!name->is_string() || name->get<std::string>().empty()) {
      return std::unexpected("explain: \"name\" must be a non-empty string");
    }
    out.name = name->get<std::string>();
  }
  if (id != args.end()) {
    // A parsed "7" is unsigned; a json built in code with 7 is a signed integer.
    const bool positive = id->is_number_unsigned()
                              ? id->get<std::uint64_t>() != 0
                              : id->is_number_integer() && id->get<std::int64_t>() > 0;
    if (!positive) {
      return std::unexpected("explain: \"id\" must be an IKE SA uniqueid (a positive integer)");
    }
    out.id = id->get<std::uint64_t>();
  }
  if (out.name.empty() == (out.id == 0)) {
    return std::unexpected("explain needs exactly one of \"name\" (a connection) or \"id\" (an "
                           "IKE SA uniqueid)");
  }
  if (auto secrets = args.find("show_secrets"); secrets != args.end()) {
    if (!secrets->is_boolean()) return std::unexpected("explain: \"show_secrets\" must be a boolean");
    out.show_secrets = secrets->get<bool>();
  }
  return out;
}

std::string FormatControlRequest(const ControlRequest& request) {
  json doc = {{"version", kControlProtocolVersion}, {"command", request.command},
              {"args", request.args}};
  return doc.dump(-1, ' ', false, json::error_handler_t::replace) + "\n";
}

std::string FormatControlReply(const ControlReply& reply) {
  json doc = {{"version", kControlProtocolVersion}, {"ok", reply.ok}};
  if (reply.ok) {
    doc["result"] = reply.result;
  } else {
    doc["error"] = reply.error;
  }
  // Replies may carry names from the config; replace invalid UTF-8 instead of throwing.
  return doc.dump(-1, ' ', false, json::error_handler_t::replace) + "\n";
}

std::string FormatControlProgress(std::string_view log_line) {
  json doc = {{"version", kControlProtocolVersion}, {"log", log_line}};
  return doc.dump(-1, ' ', false, json::error_handler_t::replace) + "\n";
}

std::optional<std::string> ParseControlProgress(std::string_view line) {
  json doc = json::parse(line, nullptr, false);
  if (doc.is_discarded() || !doc.is_object()) return std::nullopt;
  auto log = doc.find("log");
  if (log == doc.end() || !log->is_string() || doc.contains("ok")) return std::nullopt;
  return log->get<std::string>();
}

std::expected<ControlReply, std::string> ParseControlReply(std::string_view line) {
  json doc = json::parse(line, nullptr, false);
  if (doc.is_discarded() || !doc.is_object()) return std::unexpected("reply is not a JSON object");
  auto ok = doc.find("ok");
  if (ok == doc.end() || !ok->is_boolean()) return std::unexpected("reply has no \"ok\"");
  if (ok->get<bool>()) return ControlReply::Ok(doc.value("result", json()));
  auto error = doc.find("error");
  return ControlReply::Fail(error != doc.end() && error->is_string() ? error->get<std::string>()
                                                                     : "unspecified error");
}

}  // namespace minivpn::daemon
