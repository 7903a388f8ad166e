// The commands that wait for their outcome (initiate, terminate, rekey, on the vici socket):
// what the daemon is asked, and the responder it answers through once the engine's events say
// how it ended. The vici layer (daemon_vici.cc) turns progress lines into control-log events and
// the outcome into charon's {success, errmsg} reply.
#pragma once

#include <string>
#include <string_view>

namespace minivpn::daemon {

struct WaitRequest {
  enum class Command { kInitiate, kTerminate, kRekey };
  Command command = Command::kInitiate;
  std::string peer{};   // the connection
  std::string child{};  // one of its children, or empty
  double timeout = 0;   // seconds; 0 waits until the outcome is known
};

// "CHILD_SA to-b established" (ok), or why it failed.
struct CommandOutcome {
  bool ok = true;
  std::string text{};
  static CommandOutcome Ok(std::string text) { return {true, std::move(text)}; }
  static CommandOutcome Fail(std::string text) { return {false, std::move(text)}; }
};

// The daemon's side of one waiting command: progress lines (the SA's log lines as they happen),
// then one outcome. Calls after the client went away do nothing.
class CommandResponder {
 public:
  virtual ~CommandResponder() = default;
  virtual void Progress(std::string_view log_line) = 0;
  virtual void Finish(const CommandOutcome& outcome) = 0;
};

}  // namespace minivpn::daemon
