// charon's updown plugin at minivpnd's edge: a CHILD_SA's `updown` script (swanctl `updown`,
// ipsec.conf `leftupdown`) runs when the tunnel comes up and when it goes down, with the PLUTO_*
// environment charon 5.9.8 gives it (docs/config.md "updown"). Route-based setups use it to
// create the VTI and routes. As charon: `/bin/sh -c "2>&1 <updown>"`, only PATH inherited, each
// output line logged as "updown: ..." (stdout and stderr of every command of the script; charon
// gets only the first command's stderr). Unlike charon, which blocks one of its threads on the
// script, minivpnd runs scripts asynchronously, one at a time in the order of the events, each
// stopped (its process group killed) after a timeout.
#pragma once

#include <sys/types.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/streambuf.hpp>

#include <chrono>
#include <deque>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "base/ip.h"
#include "base/mark.h"
#include "base/selector.h"

namespace minivpn::daemon {

// What the script is told about one CHILD_SA.
struct UpdownInfo {
  std::string connection;  // the child's name (PLUTO_CONNECTION, as charon)
  std::string interface = "unknown";  // the interface holding our address
  std::uint32_t reqid = 0;
  std::uint64_t unique_id = 0;  // the IKE SA's
  base::IpAddress me{}, peer{};
  std::string my_id{}, peer_id{};
  // One pair of the negotiated selectors: charon runs the script once per pair of one family.
  base::Selector my_client{}, peer_client{};
  base::Mark mark_in{}, mark_out{};
  std::uint32_t if_id_in = 0, if_id_out = 0;
  std::optional<std::uint16_t> udp_encap_port{};  // the peer's port, when a NAT was detected
};

// The environment, "KEY=value" each: PATH (from `path`), PLUTO_VERSION, PLUTO_VERB
// (up|down-client|host[-v6]), PLUTO_CONNECTION, PLUTO_INTERFACE, PLUTO_REQID, PLUTO_PROTO,
// PLUTO_UNIQUEID, PLUTO_ME, PLUTO_MY_ID, PLUTO_MY_CLIENT, PLUTO_MY_PORT (the port, 0 for any,
// "from:to" for a range, as charon), PLUTO_MY_PROTOCOL,
// PLUTO_PEER, PLUTO_PEER_ID, PLUTO_PEER_CLIENT, PLUTO_PEER_PORT, PLUTO_PEER_PROTOCOL, and when
// set PLUTO_MARK_IN/OUT ("value/0xmask"), PLUTO_IF_ID_IN/OUT, PLUTO_UDP_ENC.
std::vector<std::string> UpdownEnvironment(bool up, const UpdownInfo& info,
                                           const std::string& path);

class UpdownRunner {
 public:
  // `log` gets each line to log (the script's output, its exit status, a timeout).
  UpdownRunner(boost::asio::io_context& io, std::chrono::milliseconds timeout,
               std::function<void(const std::string& line)> log);
  ~UpdownRunner();

  // Queues `command` (run by /bin/sh) with `environment`; `label` names it in the log
  // ("up-client A-B"). Runs now if nothing else runs.
  void Run(std::string command, std::vector<std::string> environment, std::string label);
  // Kills what runs and drops the queue (shutdown).
  void Stop();
  bool idle() const { return pid_ <= 0 && queue_.empty(); }

 private:
  struct Job {
    std::string command;
    std::vector<std::string> environment;
    std::string label;
  };
  void StartNext();
  void ReadLine();
  void PollExit();

  boost::asio::io_context& io_;
  std::chrono::milliseconds timeout_;
  std::function<void(const std::string&)> log_;
  std::deque<Job> queue_;
  pid_t pid_ = -1;
  std::string label_;
  bool timed_out_ = false;
  std::optional<boost::asio::posix::stream_descriptor> output_;
  boost::asio::streambuf buffer_;
  boost::asio::steady_timer deadline_;
  boost::asio::steady_timer poll_;
};

}  // namespace minivpn::daemon
