#include "cli/daemon/trace_log.h"

#include <fmt/core.h>

#include <string_view>

namespace minivpn::daemon {

std::vector<std::string> TraceLines(const ike::TraceRecord& r, ike::TraceForm form,
                                    ike::TimePoint start) {
  std::vector<std::string> lines;
  if (r.message == nullptr) return lines;
  ike::TraceEvent event;
  event.offset = std::chrono::duration_cast<std::chrono::milliseconds>(r.time - start);
  event.direction = r.direction;
  event.peer_address = r.remote.address.ToString();
  event.peer_port = r.remote.port;
  event.sk_iv_size = r.sk_iv_size;
  event.sk_icv_size = r.sk_icv_size;
  // TraceOptions{}: the AUTH value stays hidden.
  const std::string text = form == ike::TraceForm::kVerbose
                               ? ike::TraceVerbose(event, *r.message, r.inner)
                               : ike::TraceSummary(event, *r.message, r.inner);
  const std::string prefix =
      r.peer.empty() ? std::string("trace ") : fmt::format("trace {}[{}] ", r.peer, r.ike_serial);
  std::string_view rest = text;
  while (!rest.empty()) {
    const auto nl = rest.find('\n');
    const std::string_view line = rest.substr(0, nl);
    rest = nl == std::string_view::npos ? std::string_view() : rest.substr(nl + 1);
    if (line.empty()) continue;
    if (lines.empty()) {
      lines.push_back(prefix + std::string(line));
      if (r.fragments > 1) lines.back() += fmt::format(" ({} fragments)", r.fragments);
    } else {
      lines.emplace_back(line);
    }
  }
  return lines;
}

}  // namespace minivpn::daemon
