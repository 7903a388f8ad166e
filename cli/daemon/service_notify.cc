#include "cli/daemon/service_notify.h"

#include <fmt/core.h>
#include <systemd/sd-daemon.h>

#include <cstdlib>

namespace minivpn::daemon {

ServiceNotifier::ServiceNotifier() {
  if (std::getenv("NOTIFY_SOCKET") == nullptr) return;
  send_ = [](const std::string& state) { sd_notify(0, state.c_str()); };
  std::uint64_t usec = 0;
  if (sd_watchdog_enabled(0, &usec) > 0 && usec > 0) watchdog_ = std::chrono::microseconds(usec);
}

ServiceNotifier::ServiceNotifier(Send send, std::optional<std::chrono::microseconds> watchdog)
    : send_(std::move(send)), watchdog_(watchdog) {}

void ServiceNotifier::Notify(const std::string& state) {
  if (send_) send_(state);
}

void ServiceNotifier::Ready(std::string_view status) {
  last_status_ = status;
  Notify(fmt::format("READY=1\nSTATUS={}", status));
}

void ServiceNotifier::Reloading() { Notify("RELOADING=1\nSTATUS=reloading the configuration"); }

void ServiceNotifier::Stopping() {
  last_status_ = "stopping: deleting all SAs";
  Notify("STOPPING=1\nSTATUS=" + last_status_);
}

void ServiceNotifier::Status(std::string_view status) {
  if (status == last_status_) return;
  last_status_ = status;
  Notify(fmt::format("STATUS={}", status));
}

void ServiceNotifier::Watchdog() { Notify("WATCHDOG=1"); }

std::string ServiceStatus(std::size_t ike_sas, std::size_t child_sas, std::size_t connections) {
  auto plural = [](std::size_t n, std::string_view one, std::string_view many) {
    return fmt::format("{} {}", n, n == 1 ? one : many);
  };
  return fmt::format("{}, {}, {}", plural(ike_sas, "IKE SA", "IKE SAs"),
                     plural(child_sas, "CHILD_SA", "CHILD_SAs"),
                     plural(connections, "connection", "connections"));
}

}  // namespace minivpn::daemon
