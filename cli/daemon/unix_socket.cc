#include "cli/daemon/unix_socket.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>

namespace minivpn::daemon {

std::error_code ListenRootOnly(boost::asio::local::stream_protocol::acceptor& acceptor,
                               const std::string& path) {
  using stream = boost::asio::local::stream_protocol;
  if (UnixSocketAnswers(path)) return std::make_error_code(std::errc::address_in_use);
  ::unlink(path.c_str());
  boost::system::error_code ec;
  const mode_t old_mask = ::umask(0177);
  acceptor.open(stream(), ec);
  if (!ec) acceptor.bind(stream::endpoint(path), ec);
  ::umask(old_mask);
  if (!ec) acceptor.listen(boost::asio::socket_base::max_listen_connections, ec);
  if (ec) return std::error_code(ec.value(), std::generic_category());
  return {};
}

bool PeerIsRoot(int fd) {
  ucred cred{};
  socklen_t len = sizeof cred;
  if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0) return false;
  return cred.uid == 0;
}

bool UnixSocketAnswers(const std::string& path) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.size() >= sizeof addr.sun_path) return false;
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  bool answers = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  ::close(fd);
  return answers;
}

}  // namespace minivpn::daemon
