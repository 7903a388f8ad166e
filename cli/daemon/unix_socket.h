// The daemon's Unix stream socket (vici, what swanctl and minivpnctl connect to):
// root only, and a socket file left by a daemon that died is replaced while a live one is not.
#pragma once

#include <boost/asio/local/stream_protocol.hpp>

#include <string>
#include <system_error>

namespace minivpn::daemon {

// Binds `acceptor` to `path` with mode 0600 from the start (no window where others can
// connect) and listens. A socket file nobody answers on is replaced; one a live process
// listens on is EADDRINUSE.
std::error_code ListenRootOnly(boost::asio::local::stream_protocol::acceptor& acceptor,
                               const std::string& path);

// Whether the process at the other end of a connected Unix socket is root (SO_PEERCRED).
bool PeerIsRoot(int fd);

// Whether a process accepts connections on the unix stream socket at `path` (a live daemon's
// vici socket, or charon's).
bool UnixSocketAnswers(const std::string& path);

}  // namespace minivpn::daemon
