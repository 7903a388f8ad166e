#include "cli/daemon/control_server.h"

#include <fmt/core.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <boost/asio/read_until.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/write.hpp>
#include <cerrno>
#include <cstring>
#include <deque>
#include <utility>
#include <istream>

namespace minivpn::daemon {

namespace asio = boost::asio;
using stream = asio::local::stream_protocol;

class ControlServer::Session : public std::enable_shared_from_this<Session> {
 public:
  Session(stream::socket socket, const AsyncHandler& handler)
      : socket_(std::move(socket)), handler_(handler), buffer_(kMaxControlLine + 1) {}

  void Start() {
    if (!PeerIsRoot()) {
      Send(FormatControlReply(
               ControlReply::Fail("permission denied: the control socket is for root only")),
           kClose);
      return;
    }
    ReadLine();
  }

 private:
  // What happens once a line is written: nothing more, read the next request, or close.
  enum After { kNothing, kReadNext, kClose };

  // Handed to the handler; keeps the session (and its socket) open until Finish. Writes to a
  // client that went away fail and are dropped.
  class Responder : public ControlResponder {
   public:
    explicit Responder(std::shared_ptr<Session> session) : session_(std::move(session)) {}
    void Progress(std::string_view log_line) override {
      if (session_) session_->Send(FormatControlProgress(log_line), kNothing);
    }
    void Finish(const ControlReply& reply) override {
      if (auto s = std::exchange(session_, nullptr)) s->Send(FormatControlReply(reply), kReadNext);
    }

   private:
    std::shared_ptr<Session> session_;
  };

  bool PeerIsRoot() { return daemon::PeerIsRoot(socket_.native_handle()); }

  void ReadLine() {
    asio::async_read_until(socket_, buffer_, '\n',
                           [self = shared_from_this()](boost::system::error_code ec, std::size_t) {
                             if (ec) return;  // peer closed or line too long: drop the session
                             std::istream in(&self->buffer_);
                             std::string line;
                             std::getline(in, line);
                             auto responder = std::make_shared<Responder>(self);
                             auto request = ParseControlRequest(line);
                             if (!request) {
                               responder->Finish(ControlReply::Fail(request.error()));
                             } else {
                               self->handler_(*request, responder);
                             }
                           });
  }

  // Lines go out one at a time, in order (one async_write at a time on a socket).
  void Send(std::string line, After after) {
    queue_.push_back({std::move(line), after});
    if (queue_.size() == 1) WriteFront();
  }

  void WriteFront() {
    asio::async_write(socket_, asio::buffer(queue_.front().first),
                      [self = shared_from_this()](boost::system::error_code ec, std::size_t) {
                        const After after = self->queue_.front().second;
                        self->queue_.pop_front();
                        if (ec || after == kClose) {
                          self->queue_.clear();
                          return;
                        }
                        if (!self->queue_.empty()) self->WriteFront();
                        if (after == kReadNext) self->ReadLine();
                      });
  }

  stream::socket socket_;
  AsyncHandler handler_;
  asio::streambuf buffer_;
  std::deque<std::pair<std::string, After>> queue_;
};

ControlServer::ControlServer(asio::io_context& io, std::string path, AsyncHandler handler)
    : path_(std::move(path)), handler_(std::move(handler)), acceptor_(io) {}

ControlServer::ControlServer(asio::io_context& io, std::string path, Handler handler)
    : ControlServer(io, std::move(path),
                    AsyncHandler([handler = std::move(handler)](
                                     const ControlRequest& request,
                                     std::shared_ptr<ControlResponder> responder) {
                      responder->Finish(handler(request));
                    })) {}

ControlServer::~ControlServer() { Stop(); }

std::error_code ControlServer::Start() {
  const std::error_code ec = ListenRootOnly(acceptor_, path_);
  if (!ec) Accept();
  return ec;
}

void ControlServer::Stop() {
  if (acceptor_.is_open()) {
    boost::system::error_code ignored;
    acceptor_.close(ignored);
    ::unlink(path_.c_str());
  }
}

void ControlServer::Accept() {
  acceptor_.async_accept([this](boost::system::error_code ec, stream::socket socket) {
    if (ec == asio::error::operation_aborted) return;
    if (!ec) std::make_shared<Session>(std::move(socket), handler_)->Start();
    Accept();
  });
}

std::expected<ControlReply, std::string> SendControlRequest(
    const std::string& path, const ControlRequest& request,
    const std::function<void(const std::string&)>& on_progress) {
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return std::unexpected(fmt::format("socket: {}", std::strerror(errno)));
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.size() >= sizeof addr.sun_path) {
    ::close(fd);
    return std::unexpected(fmt::format("control socket path too long: {}", path));
  }
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    int err = errno;
    ::close(fd);
    switch (err) {
      case ENOENT:
      case ECONNREFUSED:
        return std::unexpected(
            fmt::format("minivpnd is not running: no control socket listening at {}", path));
      case EACCES:
      case EPERM:
        return std::unexpected(
            fmt::format("permission denied on {}: minivpnctl must run as root", path));
      default:
        return std::unexpected(fmt::format("cannot connect to {}: {}", path, std::strerror(err)));
    }
  }
  std::string out = FormatControlRequest(request);
  for (std::size_t sent = 0; sent < out.size();) {
    ssize_t n = ::send(fd, out.data() + sent, out.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) {
      ::close(fd);
      return std::unexpected(fmt::format("sending to minivpnd failed: {}", std::strerror(errno)));
    }
    sent += static_cast<std::size_t>(n);
  }
  // Progress lines (if any), then the reply.
  std::string in;
  char chunk[4096];
  for (;;) {
    for (std::size_t end = in.find('\n'); end != std::string::npos; end = in.find('\n')) {
      const std::string line = in.substr(0, end);
      in.erase(0, end + 1);
      if (auto progress = ParseControlProgress(line)) {
        if (on_progress) on_progress(*progress);
        continue;
      }
      ::close(fd);
      return ParseControlReply(line);
    }
    ssize_t n = ::recv(fd, chunk, sizeof chunk, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      ::close(fd);
      return std::unexpected("minivpnd closed the control connection without a reply");
    }
    in.append(chunk, static_cast<std::size_t>(n));
  }
}

}  // namespace minivpn::daemon
