// The text `minivpnd --trace` logs for one IKE message (issue 9): the ike/observe/trace.h summary or
// verbose tree, prefixed with the connection and IKE SA. Secrets stay hidden (TraceOptions{}):
// this text only ever goes to the log.
#pragma once

#include <string>
#include <vector>

#include "ike/engine/engine_types.h"
#include "ike/observe/trace.h"

namespace minivpn::daemon {

// One entry per log line, without a trailing newline. `start` is the time the offsets count
// from (the daemon's start).
std::vector<std::string> TraceLines(const ike::TraceRecord& record, ike::TraceForm form,
                                    ike::TimePoint start);

}  // namespace minivpn::daemon
