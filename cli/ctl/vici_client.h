// The client end of the vici socket, for minivpnctl and the tests that drive minivpnd as a
// vici client would: one connection, blocking calls. A command's events (list-sa, list-conn,
// control-log) reach the caller while it runs, as swanctl gets them. Errors are sentences for
// the user ("minivpnd is not running: nothing listens on /var/run/charon.vici").
//
//   auto client = ViciClient::Connect("/var/run/charon.vici");
//   if (!client) return Fail(client.error());
//   auto sas = client->Call("list-sas", {}, {"list-sa"},
//                           [](std::string_view event, const vici::Message& m) { ... });
#pragma once

#include <chrono>
#include <expected>
#include <functional>
#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

#include "vici/framer.h"
#include "vici/message.h"

namespace minivpn::ctl {

class ViciClient {
 public:
  using EventHandler = std::function<void(std::string_view event, const vici::Message& message)>;

  // `receive_timeout`: how long a call waits for the daemon's next packet (0: for ever).
  static std::expected<ViciClient, std::string> Connect(
      const std::string& path, std::chrono::milliseconds receive_timeout = {});
  ViciClient(ViciClient&& other) noexcept;
  ViciClient& operator=(ViciClient&& other) noexcept;
  ViciClient(const ViciClient&) = delete;
  ViciClient& operator=(const ViciClient&) = delete;
  ~ViciClient();

  // Registers for `events` (the daemon must confirm each), sends the command, hands every event
  // that arrives to `on_event`, returns the CMD_RESPONSE's message, and unregisters. A command
  // the daemon does not know (CMD_UNKNOWN) is an error naming it.
  std::expected<vici::Message, std::string> Call(const std::string& command,
                                                 const vici::Message& arguments,
                                                 std::initializer_list<std::string_view> events = {},
                                                 const EventHandler& on_event = {});

 private:
  explicit ViciClient(int fd) : fd_(fd) {}
  std::expected<void, std::string> Send(const vici::Packet& packet);
  // The next packet that is not an event (events go to on_event). After a failure the
  // connection is closed: every later call fails.
  std::expected<vici::Packet, std::string> Receive(const EventHandler& on_event);
  std::expected<vici::Packet, std::string> ReceiveOnce(const EventHandler& on_event);

  int fd_ = -1;
  vici::Framer framer_;
  std::vector<std::uint8_t> pending_;
};

// "unix:///var/run/charon.vici" -> "/var/run/charon.vici"; a plain path as it is.
std::string SocketPathOf(std::string_view uri);

}  // namespace minivpn::ctl
