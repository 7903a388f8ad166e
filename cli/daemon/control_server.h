// The daemon end of the control socket: accepts connections on a Unix socket (mode 0600),
// checks that the peer is root (SO_PEERCRED), reads request lines and answers each with the
// handler's reply. Lives at the Asio edge; the handler runs on the daemon's io_context thread.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/local/stream_protocol.hpp>

#include <functional>
#include <memory>
#include <string>
#include <system_error>

#include "cli/daemon/control_protocol.h"

namespace minivpn::daemon {

class ControlServer {
 public:
  using Handler = std::function<ControlReply(const ControlRequest&)>;

  ControlServer(boost::asio::io_context& io, std::string path, Handler handler);
  ~ControlServer();

  // Binds the socket (replacing a stale one left by a dead daemon), chmod 0600, listens.
  std::error_code Start();
  void Stop();
  const std::string& path() const { return path_; }

 private:
  class Session;
  void Accept();

  std::string path_;
  Handler handler_;
  boost::asio::local::stream_protocol::acceptor acceptor_;
};

// The minivpnctl end: one blocking request/reply. Errors are sentences for the user
// ("minivpnd is not running: no control socket at /run/minivpnd.ctl").
// Whether a process accepts connections on the unix stream socket at `path` (a live daemon's
// control socket, charon's vici socket).
bool UnixSocketAnswers(const std::string& path);

std::expected<ControlReply, std::string> SendControlRequest(const std::string& path,
                                                            const ControlRequest& request);

}  // namespace minivpn::daemon
