#include "cli/daemon/vici_server.h"

#include <fmt/core.h>

#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>
#include <array>
#include <deque>
#include <utility>

#include "cli/daemon/unix_socket.h"
#include "vici/codec.h"
#include "vici/framer.h"

namespace minivpn::daemon {

namespace asio = boost::asio;
using stream = asio::local::stream_protocol;

class ViciServer::Session : public std::enable_shared_from_this<Session> {
 public:
  Session(stream::socket socket, ViciServer& server)
      : socket_(std::move(socket)), server_(server) {}

  // A non-root peer is disconnected at once (charon's socket is root-only by its mode; here the
  // peer's credentials are checked as well).
  void Start() {
    if (!PeerIsRoot(socket_.native_handle())) return;
    Read();
  }

  bool Registered(std::string_view name) const { return registered_.contains(std::string(name)); }

  void Send(const vici::Packet& packet) {
    if (!socket_.is_open()) return;
    auto frame = vici::EncodeFrame(packet);
    if (!frame) return;  // a message over the limit: nothing the client could read
    // A client that registers for events and stops reading would make the queue grow without
    // end: past the limit it is disconnected (charon's limit is its socket buffer).
    queued_bytes_ += frame->size();
    if (queued_bytes_ > kMaxQueuedBytes) {
      Close();
      return;
    }
    queue_.push_back(std::move(*frame));
    if (queue_.size() == 1) WriteFront();
  }

  // After a command's answer: the next packet, from the event loop (never inside the handler
  // that answered: a command answered at once would otherwise nest one call per queued packet,
  // and a waiting command's answer comes from inside the daemon's engine pump).
  void Resume() {
    busy_ = false;
    asio::post(socket_.get_executor(), [self = shared_from_this()] { self->Dispatch(); });
  }

  void Close() {
    pending_.clear();
    busy_ = false;
    registered_.clear();
    boost::system::error_code ignored;
    socket_.close(ignored);
  }

 private:
  class Responder : public ViciResponder {
   public:
    explicit Responder(std::shared_ptr<Session> session) : session_(std::move(session)) {}
    void Event(std::string_view name, const vici::Message& message) override {
      if (session_ && session_->Registered(name)) {
        session_->Send(vici::Packet::Event(std::string(name), message));
      }
    }
    bool Wants(std::string_view name) const override {
      return session_ && session_->Registered(name);
    }
    void Finish(const vici::Message& reply) override {
      if (auto s = std::exchange(session_, nullptr)) {
        s->Send(vici::Packet::CmdResponse(reply));
        s->Resume();
      }
    }
    void Unknown() override {
      if (auto s = std::exchange(session_, nullptr)) {
        s->Send(vici::Packet::CmdUnknown());
        s->Resume();
      }
    }

   private:
    std::shared_ptr<Session> session_;
  };

  // Reads while nothing waits to be handled: a client that sends ahead of its answers stops
  // being read (the socket's buffer holds the rest) instead of queueing without bound.
  void Read() {
    if (reading_ || !socket_.is_open()) return;
    reading_ = true;
    socket_.async_read_some(asio::buffer(chunk_), [self = shared_from_this()](
                                                      boost::system::error_code ec, std::size_t n) {
      self->reading_ = false;
      if (ec) return;  // closed: the session ends with its last reference
      auto packets = self->framer_.FeedAll(std::span(self->chunk_.data(), n));
      if (!packets) {  // an oversized length prefix: drop the connection, as charon
        self->Close();
        return;
      }
      for (auto& p : *packets) self->pending_.push_back(std::move(p));
      self->Dispatch();
    });
  }

  // Handles waiting packets while no command is running; reads more once all are handled.
  void Dispatch() {
    if (!socket_.is_open()) return;
    while (!busy_ && !pending_.empty()) {
      auto packet = vici::DecodePacket(pending_.front());
      pending_.pop_front();
      if (!packet) {
        Close();  // charon drops a connection on a malformed packet
        return;
      }
      switch (packet->type) {
        case vici::PacketType::kCmdRequest: {
          busy_ = true;
          server_.handler_(packet->name, packet->message,
                           std::make_shared<Responder>(shared_from_this()));
          break;
        }
        case vici::PacketType::kEventRegister:
        case vici::PacketType::kEventUnregister: {
          const bool known = server_.events_.contains(packet->name);
          if (known && packet->type == vici::PacketType::kEventRegister) {
            registered_.insert(packet->name);
          } else if (known) {
            registered_.erase(packet->name);
          }
          Send(known ? vici::Packet::EventConfirm() : vici::Packet::EventUnknown());
          break;
        }
        default:
          Close();  // a server's packet type from a client
          return;
      }
    }
    if (!busy_ && pending_.empty()) Read();
  }


  void WriteFront() {
    asio::async_write(socket_, asio::buffer(queue_.front()),
                      [self = shared_from_this()](boost::system::error_code ec, std::size_t) {
                        if (self->queue_.empty()) return;  // closed meanwhile
                        self->queued_bytes_ -= self->queue_.front().size();
                        self->queue_.pop_front();
                        if (ec) {
                          self->queue_.clear();
                          self->queued_bytes_ = 0;
                          return;
                        }
                        if (!self->queue_.empty()) self->WriteFront();
                      });
  }

  stream::socket socket_;
  ViciServer& server_;
  vici::Framer framer_;
  std::array<std::uint8_t, 16 * 1024> chunk_{};
  std::deque<std::vector<std::uint8_t>> pending_;  // packets read, not yet handled
  std::deque<std::vector<std::uint8_t>> queue_;    // frames to write, in order
  std::set<std::string, std::less<>> registered_;
  std::size_t queued_bytes_ = 0;  // of queue_
  bool busy_ = false;     // a command is running
  bool reading_ = false;  // an async_read_some is outstanding
};

ViciServer::ViciServer(asio::io_context& io, std::string path, std::set<std::string> events,
                       Handler handler)
    : path_(std::move(path)),
      events_(std::move(events)),
      handler_(std::move(handler)),
      acceptor_(io) {}

ViciServer::~ViciServer() { Stop(); }

std::error_code ViciServer::Start() {
  const std::error_code ec = ListenRootOnly(acceptor_, path_);
  if (!ec) Accept();
  return ec;
}

void ViciServer::Stop() {
  if (acceptor_.is_open()) {
    boost::system::error_code ignored;
    acceptor_.close(ignored);
    ::unlink(path_.c_str());
  }
  for (const auto& weak : sessions_) {
    if (auto s = weak.lock()) s->Close();
  }
  sessions_.clear();
}

void ViciServer::Accept() {
  acceptor_.async_accept([this](boost::system::error_code ec, stream::socket socket) {
    if (ec == asio::error::operation_aborted) return;
    if (!ec) {
      auto session = std::make_shared<Session>(std::move(socket), *this);
      std::erase_if(sessions_, [](const auto& s) { return s.expired(); });
      sessions_.push_back(session);
      session->Start();
    }
    Accept();
  });
}

void ViciServer::Broadcast(std::string_view name, const vici::Message& message) {
  for (const auto& weak : sessions_) {
    if (auto s = weak.lock(); s && s->Registered(name)) {
      s->Send(vici::Packet::Event(std::string(name), message));
    }
  }
}

bool ViciServer::HasListeners(std::string_view name) const {
  for (const auto& weak : sessions_) {
    if (auto s = weak.lock(); s && s->Registered(name)) return true;
  }
  return false;
}

}  // namespace minivpn::daemon
