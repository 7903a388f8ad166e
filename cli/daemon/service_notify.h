// systemd's service notification protocol (sd_notify(3)) for minivpnd's Type=notify unit:
// READY=1 once the configuration is loaded and the sockets are open, RELOADING=1 / READY=1
// around a reload, STOPPING=1 at shutdown, STATUS= with the SA counts, WATCHDOG=1 from the event
// loop. Without NOTIFY_SOCKET (started by hand, by the lab, by a test) every call does nothing.
#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace minivpn::daemon {

class ServiceNotifier {
 public:
  // What reaches the service manager: one sd_notify(3) state string ("READY=1\nSTATUS=...").
  // Tests pass their own; the default sends with libsystemd when NOTIFY_SOCKET is set.
  using Send = std::function<void(const std::string& state)>;

  ServiceNotifier();
  ServiceNotifier(Send send, std::optional<std::chrono::microseconds> watchdog);

  bool active() const { return static_cast<bool>(send_); }
  // WatchdogSec= of the unit (sd_watchdog_enabled), for this process; nullopt without one.
  std::optional<std::chrono::microseconds> watchdog_interval() const { return watchdog_; }

  void Ready(std::string_view status);
  void Reloading();
  void Stopping();
  void Status(std::string_view status);  // sent only when it differs from the last one
  void Watchdog();

 private:
  void Notify(const std::string& state);

  Send send_;
  std::optional<std::chrono::microseconds> watchdog_;
  std::string last_status_;
};

// "2 IKE SAs, 3 CHILD_SAs, 4 connections": the STATUS= line systemctl status shows.
std::string ServiceStatus(std::size_t ike_sas, std::size_t child_sas, std::size_t connections);

}  // namespace minivpn::daemon
