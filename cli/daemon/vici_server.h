// The daemon end of strongSwan's vici socket (what swanctl and every vici client speak to
// charon; the wire format is vici/codec.h). Accepts connections on a Unix socket (mode 0600,
// root only), cuts each byte stream into packets (vici/framer.h) and hands every command
// request to the handler, which answers through a ViciResponder now or later. The session reads
// its next packet once the command is answered: a client runs one command at a time, as charon
// serves them. Event registration is answered here (EVENT_CONFIRM for the events the daemon
// can send, EVENT_UNKNOWN for the rest); events go to the sessions registered for them.
// Lives at the Asio edge; the handler runs on the daemon's io_context thread.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/local/stream_protocol.hpp>

#include <functional>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "vici/message.h"

namespace minivpn::daemon {

// Octets waiting to be written to one client; a client past it (one that stopped reading its
// events) is disconnected.
inline constexpr std::size_t kMaxQueuedBytes = 8 * 1024 * 1024;

// The daemon's side of one command: streamed events, then one answer. Calls after the answer or
// after the client went away do nothing.
class ViciResponder {
 public:
  virtual ~ViciResponder() = default;
  // An event of this command (list-sa, list-conn, control-log), sent only if this client
  // registered for it, as charon does.
  virtual void Event(std::string_view name, const vici::Message& message) = 0;
  // Whether this client registered for the event (to skip building what nobody reads).
  virtual bool Wants(std::string_view name) const = 0;
  virtual void Finish(const vici::Message& reply) = 0;  // CMD_RESPONSE
  virtual void Unknown() = 0;                           // CMD_UNKNOWN: no such command
};

class ViciServer {
 public:
  using Handler = std::function<void(const std::string& command, const vici::Message& request,
                                     std::shared_ptr<ViciResponder> responder)>;

  // `events`: the event names a client may register for.
  ViciServer(boost::asio::io_context& io, std::string path, std::set<std::string> events,
             Handler handler);
  ~ViciServer();

  // Binds the socket (replacing a stale one left by a dead daemon), mode 0600, listens.
  std::error_code Start();
  void Stop();
  const std::string& path() const { return path_; }

  // The event for every client registered for `name`.
  void Broadcast(std::string_view name, const vici::Message& message);
  bool HasListeners(std::string_view name) const;

 private:
  class Session;
  void Accept();

  std::string path_;
  std::set<std::string> events_;
  Handler handler_;
  boost::asio::local::stream_protocol::acceptor acceptor_;
  std::vector<std::weak_ptr<Session>> sessions_;
};

}  // namespace minivpn::daemon
