// The daemon end of the control socket: accepts connections on a Unix socket (mode 0600),
// checks that the peer is root (SO_PEERCRED), reads request lines and answers each with the
// handler's reply. Lives at the Asio edge; the handler runs on the daemon's io_context thread.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/local/stream_protocol.hpp>

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <system_error>

#include "cli/daemon/control_protocol.h"
#include "cli/daemon/unix_socket.h"

namespace minivpn::daemon {

// The daemon's side of one request that answers later: progress lines, then one reply. Calls
// after the client went away do nothing.
class ControlResponder {
 public:
  virtual ~ControlResponder() = default;
  virtual void Progress(std::string_view log_line) = 0;
  virtual void Finish(const ControlReply& reply) = 0;
};

class ControlServer {
 public:
  using Handler = std::function<ControlReply(const ControlRequest&)>;
  // Answers through the responder, now or later (the session reads no further request until
  // Finish).
  using AsyncHandler =
      std::function<void(const ControlRequest&, std::shared_ptr<ControlResponder>)>;

  ControlServer(boost::asio::io_context& io, std::string path, Handler handler);
  ControlServer(boost::asio::io_context& io, std::string path, AsyncHandler handler);
  ~ControlServer();

  // Binds the socket (replacing a stale one left by a dead daemon), chmod 0600, listens.
  std::error_code Start();
  void Stop();
  const std::string& path() const { return path_; }

 private:
  class Session;
  void Accept();

  std::string path_;
  AsyncHandler handler_;
  boost::asio::local::stream_protocol::acceptor acceptor_;
};

// The minivpnctl end: one blocking request/reply. Errors are sentences for the user
// ("minivpnd is not running: no control socket at /run/minivpnd.ctl").

// on_progress (if given) gets each progress line's log line as it arrives.
std::expected<ControlReply, std::string> SendControlRequest(
    const std::string& path, const ControlRequest& request,
    const std::function<void(const std::string&)>& on_progress = {});

}  // namespace minivpn::daemon
