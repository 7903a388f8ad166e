#include "cli/ctl/vici_client.h"

#include <fmt/core.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

#include "vici/codec.h"

namespace minivpn::ctl {

using vici::Packet;
using vici::PacketType;

std::string SocketPathOf(std::string_view uri) {
  if (uri.starts_with("unix://")) uri.remove_prefix(7);
  return std::string(uri);
}

std::expected<ViciClient, std::string> ViciClient::Connect(
    const std::string& path, std::chrono::milliseconds receive_timeout) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.empty() || path.size() >= sizeof addr.sun_path) {
    return std::unexpected(fmt::format("invalid vici socket path '{}'", path));
  }
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return std::unexpected(fmt::format("socket: {}", std::strerror(errno)));
  ViciClient client(fd);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    switch (const int err = errno) {
      case ENOENT:
      case ECONNREFUSED:
        return std::unexpected(
            fmt::format("minivpnd is not running: nothing listens on {}", path));
      case EACCES:
      case EPERM:
        return std::unexpected(
            fmt::format("permission denied on {}: minivpnctl must run as root", path));
      default:
        return std::unexpected(fmt::format("cannot connect to {}: {}", path, std::strerror(err)));
    }
  }
  if (receive_timeout.count() > 0) {
    const auto ms = receive_timeout.count();
    timeval tv{.tv_sec = static_cast<time_t>(ms / 1000),
               .tv_usec = static_cast<suseconds_t>((ms % 1000) * 1000)};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  }
  return client;
}

ViciClient::ViciClient(ViciClient&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)),
      framer_(std::move(other.framer_)),
      pending_(std::move(other.pending_)) {}

ViciClient& ViciClient::operator=(ViciClient&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = std::exchange(other.fd_, -1);
    framer_ = std::move(other.framer_);
    pending_ = std::move(other.pending_);
  }
  return *this;
}

ViciClient::~ViciClient() {
  if (fd_ >= 0) ::close(fd_);
}

std::expected<void, std::string> ViciClient::Send(const Packet& packet) {
  if (fd_ < 0) return std::unexpected("the vici connection failed earlier");
  auto frame = vici::EncodeFrame(packet);
  if (!frame) {
    return std::unexpected(fmt::format("cannot encode the request: {}", vici::Name(frame.error().code)));
  }
  for (std::size_t sent = 0; sent < frame->size();) {
    const ssize_t n = ::send(fd_, frame->data() + sent, frame->size() - sent, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      return std::unexpected(fmt::format("sending to minivpnd failed: {}", std::strerror(errno)));
    }
    sent += static_cast<std::size_t>(n);
  }
  return {};
}

std::expected<Packet, std::string> ViciClient::Receive(const EventHandler& on_event) {
  auto received = ReceiveOnce(on_event);
  if (!received && fd_ >= 0) {
    // The stream is out of step (a late reply would answer the next call): unusable now.
    ::close(fd_);
    fd_ = -1;
  }
  return received;
}

std::expected<Packet, std::string> ViciClient::ReceiveOnce(const EventHandler& on_event) {
  if (fd_ < 0) return std::unexpected("the vici connection failed earlier");
  for (;;) {
    while (!framer_.has_packet() && !pending_.empty()) {
      auto taken = framer_.Feed(pending_);
      if (!taken) {
        return std::unexpected(
            fmt::format("minivpnd sent a malformed vici stream: {}", vici::Name(taken.error().code)));
      }
      pending_.erase(pending_.begin(), pending_.begin() + static_cast<std::ptrdiff_t>(*taken));
    }
    if (auto octets = framer_.Take()) {
      auto packet = vici::DecodePacket(*octets);
      if (!packet) {
        return std::unexpected(fmt::format("minivpnd sent a malformed vici packet: {}",
                                           vici::Name(packet.error().code)));
      }
      if (packet->type == PacketType::kEvent) {
        if (on_event) on_event(packet->name, packet->message);
        continue;
      }
      return std::move(*packet);
    }
    std::uint8_t chunk[16384];
    const ssize_t n = ::recv(fd_, chunk, sizeof chunk, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      return std::unexpected("minivpnd did not answer in time");
    }
    if (n <= 0) return std::unexpected("minivpnd closed the vici connection without a reply");
    pending_.insert(pending_.end(), chunk, chunk + n);
  }
}

std::expected<vici::Message, std::string> ViciClient::Call(
    const std::string& command, const vici::Message& arguments,
    std::initializer_list<std::string_view> events, const EventHandler& on_event) {
  for (auto event : events) {
    if (auto sent = Send(Packet::EventRegister(std::string(event))); !sent) {
      return std::unexpected(sent.error());
    }
    auto confirm = Receive(on_event);
    if (!confirm) return std::unexpected(confirm.error());
    if (confirm->type != PacketType::kEventConfirm) {
      return std::unexpected(fmt::format("minivpnd refused the event '{}'", event));
    }
  }
  if (auto sent = Send(Packet::CmdRequest(command, arguments)); !sent) {
    return std::unexpected(sent.error());
  }
  auto reply = Receive(on_event);
  if (!reply) return std::unexpected(reply.error());
  if (reply->type == PacketType::kCmdUnknown) {
    return std::unexpected(fmt::format("minivpnd does not know the vici command '{}'", command));
  }
  if (reply->type != PacketType::kCmdResponse) {
    return std::unexpected(fmt::format("minivpnd answered '{}' with {}", command,
                                       vici::Name(reply->type)));
  }
  for (auto event : events) {
    if (auto sent = Send(Packet::EventUnregister(std::string(event))); !sent) break;
    if (auto confirm = Receive(on_event); !confirm) break;
  }
  return std::move(reply->message);
}

}  // namespace minivpn::ctl
