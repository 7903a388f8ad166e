// minivpnd's vici socket (cli/daemon/vici_server.cc, daemon_vici.cc) driven as swanctl drives
// it, over the real socket, with a small blocking client built on the vici codec: two daemons
// on loopback (tests/cli/daemon/two_daemons.h), router a's socket. The keys of list-sa are
// compared with what charon 5.9.8 sends for the same kind of tunnel (captured from charon in
// the lab, see the table below).
#include <sys/socket.h>
#include <sys/un.h>

#include <cstring>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "tests/cli/daemon/two_daemons.h"
#include "vici/codec.h"
#include "vici/framer.h"

namespace minivpn::daemon {
namespace {

using vici::Message;
using vici::Packet;
using vici::PacketType;

// One vici connection; every call blocks (with a 10 s receive timeout).
class ViciClient {
 public:
  explicit ViciClient(const std::string& path) {
    fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
    connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
    timeval tv{.tv_sec = 10, .tv_usec = 0};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  }
  ~ViciClient() { ::close(fd_); }
  bool connected() const { return connected_; }

  void SendRaw(std::span<const std::uint8_t> octets) {
    ASSERT_EQ(::send(fd_, octets.data(), octets.size(), MSG_NOSIGNAL),
              static_cast<ssize_t>(octets.size()));
  }
  void Send(const Packet& packet) {
    auto frame = vici::EncodeFrame(packet);
    ASSERT_TRUE(frame.has_value());
    SendRaw(*frame);
  }
  // The next packet; nullopt when the daemon closed the connection (or nothing came).
  std::optional<Packet> Receive() {
    for (;;) {
      while (!framer_.has_packet() && !pending_.empty()) {
        auto taken = framer_.Feed(pending_);
        if (!taken) return std::nullopt;
        pending_.erase(pending_.begin(), pending_.begin() + static_cast<long>(*taken));
      }
      if (auto p = framer_.Take()) {
        auto packet = vici::DecodePacket(*p);
        EXPECT_TRUE(packet.has_value());
        if (!packet) return std::nullopt;
        return *packet;
      }
      std::uint8_t chunk[4096];
      const ssize_t n = ::recv(fd_, chunk, sizeof chunk, 0);
      if (n <= 0) return std::nullopt;
      pending_.insert(pending_.end(), chunk, chunk + n);
    }
  }
  bool Register(const std::string& event) {
    Send(Packet::EventRegister(event));
    auto p = Receive();
    return p && p->type == PacketType::kEventConfirm;
  }
  // A command: the events it streams (as packets), then its response.
  Packet Call(const std::string& command, Message args, std::vector<Packet>* events = nullptr) {
    Send(Packet::CmdRequest(command, std::move(args)));
    for (;;) {
      auto p = Receive();
      if (!p) return Packet{.type = PacketType::kEventUnknown, .name = "closed", .message = {}};
      if (p->type == PacketType::kEvent) {
        if (events) events->push_back(std::move(*p));
        continue;
      }
      return *p;
    }
  }

 private:
  int fd_ = -1;
  bool connected_ = false;
  vici::Framer framer_;
  std::vector<std::uint8_t> pending_;
};

// The keys of a section, names of sub-sections and lists included.
std::set<std::string> Keys(const vici::Section& s) {
  std::set<std::string> keys;
  for (const auto& e : s.elements) keys.insert(e.name);
  return keys;
}

class DaemonViciTest : public testing::TwoDaemons {
 protected:
  std::string ViciPath() const { return a_.options.vici_path; }
};

TEST_F(DaemonViciTest, VersionStatsAndUnknownCommands) {
  ViciClient c(ViciPath());
  ASSERT_TRUE(c.connected());
  auto version = c.Call("version", {});
  ASSERT_EQ(version.type, PacketType::kCmdResponse);
  EXPECT_EQ(Keys(version.message),
            (std::set<std::string>{"daemon", "version", "sysname", "release", "machine"}));
  EXPECT_EQ(*version.message.Find("daemon"), "minivpnd");

  auto stats = c.Call("stats", {});
  ASSERT_EQ(stats.type, PacketType::kCmdResponse);
  EXPECT_EQ(*stats.message.Find("ikesas.total"), "0");
  EXPECT_NE(stats.message.Find("uptime.running"), nullptr);

  // What minivpnd does not serve is vici's CMD_UNKNOWN (swanctl: "unknown command"), and an
  // event it cannot send is EVENT_UNKNOWN; the connection stays usable.
  EXPECT_EQ(c.Call("list-certs", {}).type, PacketType::kCmdUnknown);
  c.Send(Packet::EventRegister("ike-nosuchevent"));
  auto refused = c.Receive();
  ASSERT_TRUE(refused.has_value());
  EXPECT_EQ(refused->type, PacketType::kEventUnknown);
  EXPECT_EQ(c.Call("version", {}).type, PacketType::kCmdResponse);
}

// swanctl --initiate --child A-B, then --list-sas, --rekey, --terminate, as the lab's capture of
// charon 5.9.8 shows them.
void InitiateListRekeyTerminate(const std::string& vici_path) {
  ViciClient c(vici_path);
  ASSERT_TRUE(c.Register("control-log"));
  std::vector<Packet> log;
  auto up = c.Call("initiate", Message().Add("child", "A-B").Add("timeout", "10000")
                                   .Add("init-limits", "no").Add("loglevel", "1"), &log);
  ASSERT_EQ(up.type, PacketType::kCmdResponse);
  EXPECT_EQ(up.message.ValueOr("success", ""), "yes") << up.message.ValueOr("errmsg", "");
  ASSERT_FALSE(log.empty());
  EXPECT_EQ(log[0].name, "control-log");
  EXPECT_EQ(log[0].message.ValueOr("group", ""), "ENC");
  EXPECT_EQ(log[0].message.ValueOr("ikesa-name", ""), "A-B");
  EXPECT_EQ(log[0].message.ValueOr("ikesa-uniqueid", ""), "1");
  EXPECT_TRUE(log[0].message.ValueOr("msg", "").starts_with("generating IKE_SA_INIT request 0"))
      << log[0].message.ValueOr("msg", "");

  // list-sa without registering: nothing streamed (as charon), just the empty reply.
  std::vector<Packet> sas;
  EXPECT_EQ(c.Call("list-sas", {}, &sas).type, PacketType::kCmdResponse);
  EXPECT_TRUE(sas.empty());
  ASSERT_TRUE(c.Register("list-sa"));
  ASSERT_EQ(c.Call("list-sas", Message().Add("noblock", "yes"), &sas).message,
            Message());
  ASSERT_EQ(sas.size(), 1u);
  const vici::Section* ike = sas[0].message.FindSection({"A-B"});
  ASSERT_NE(ike, nullptr);
  // charon 5.9.8's keys for an established initiator's IKE SA with AES-GCM (no integ-alg), no
  // NAT and no virtual IPs; minivpnd sends the same.
  EXPECT_EQ(Keys(*ike),
            (std::set<std::string>{"uniqueid", "version", "state", "local-host", "local-port",
                                   "local-id", "remote-host", "remote-port", "remote-id",
                                   "initiator", "initiator-spi", "responder-spi", "encr-alg",
                                   "encr-keysize", "prf-alg", "dh-group", "established",
                                   "rekey-time", "child-sas"}));
  EXPECT_EQ(ike->ValueOr("encr-alg", ""), "AES_GCM_16");
  EXPECT_EQ(ike->ValueOr("dh-group", ""), "CURVE_25519");
  const vici::Section* child = ike->FindSection({"child-sas", "A-B-1"});
  ASSERT_NE(child, nullptr) << vici::Dump(*ike);
  // charon's keys for an installed CHILD_SA before any traffic (use-in/out come with packets).
  EXPECT_EQ(Keys(*child),
            (std::set<std::string>{"name", "uniqueid", "reqid", "state", "mode", "protocol",
                                   "spi-in", "spi-out", "mark-in", "mark-out", "encr-alg",
                                   "encr-keysize", "bytes-in", "packets-in", "bytes-out",
                                   "packets-out", "rekey-time", "life-time", "install-time",
                                   "local-ts",
                                   "remote-ts"}));
  EXPECT_EQ(child->ValueOr("mark-in", ""), "0000000c");
  EXPECT_EQ(*child->FindList("local-ts"), vici::List{"10.1.0.0/24"});

  auto rekeyed = c.Call("rekey", Message().Add("child", "A-B"));
  EXPECT_EQ(rekeyed.message.ValueOr("success", ""), "yes") << vici::Dump(rekeyed.message);
  EXPECT_EQ(rekeyed.message.ValueOr("matches", ""), "1");

  auto down = c.Call("terminate", Message().Add("ike", "A-B").Add("timeout", "10000"));
  EXPECT_EQ(down.message.ValueOr("success", ""), "yes") << vici::Dump(down.message);
  EXPECT_EQ(down.message.ValueOr("matches", ""), "1");
  EXPECT_EQ(down.message.ValueOr("terminated", ""), "1");
  sas.clear();
  c.Call("list-sas", {}, &sas);
  EXPECT_TRUE(sas.empty());

  auto unknown = c.Call("initiate", Message().Add("child", "nope"));
  EXPECT_EQ(unknown.message.ValueOr("success", ""), "no");
  EXPECT_EQ(unknown.message.ValueOr("errmsg", ""), "CHILD_SA config 'nope' not found");
}

TEST_F(DaemonViciTest, InitiateListRekeyTerminateAsSwanctlDoes) {
  InitiateListRekeyTerminate(ViciPath());
}

// Both daemons with two engine workers (--workers 2): the same commands give the same answers.
class DaemonViciTwoWorkersTest : public DaemonViciTest {
 protected:
  void SetUp() override {
    a_.options.workers = 2;
    b_.options.workers = 2;
    DaemonViciTest::SetUp();
  }
};

TEST_F(DaemonViciTwoWorkersTest, InitiateListRekeyTerminateAsWithOneWorker) {
  ASSERT_NE(log_text_.find("2 engine worker threads"), std::string::npos) << log_text_;
  InitiateListRekeyTerminate(ViciPath());
  // An IKE rekey lands in the shard holding the SA, and list-sas still sees one IKE SA.
  ViciClient c(ViciPath());
  for (int round = 0; round < 3; ++round) {
    auto up = c.Call("initiate", Message().Add("child", "A-B").Add("timeout", "10000"));
    ASSERT_EQ(up.message.ValueOr("success", ""), "yes") << vici::Dump(up.message);
    auto rekeyed = c.Call("rekey", Message().Add("ike", "A-B").Add("reauth", "no"));
    EXPECT_EQ(rekeyed.message.ValueOr("success", ""), "yes") << vici::Dump(rekeyed.message);
    auto down = c.Call("terminate", Message().Add("ike", "A-B").Add("timeout", "10000"));
    EXPECT_EQ(down.message.ValueOr("success", ""), "yes") << vici::Dump(down.message);
  }
}

// swanctl --monitor-sa (ike-updown, child-updown), --log (log), the rekey events, and
// --counters (charon's counters plugin: get-counters, reset-counters).
TEST_F(DaemonViciTest, EventsAndCounters) {
  ViciClient monitor(ViciPath());
  for (const char* event : {"ike-updown", "child-updown", "log", "child-rekey"}) {
    ASSERT_TRUE(monitor.Register(event)) << event;
  }
  ViciClient c(ViciPath());
  auto up = c.Call("initiate", Message().Add("child", "A-B").Add("timeout", "10000"));
  ASSERT_EQ(up.message.ValueOr("success", ""), "yes") << vici::Dump(up.message);
  auto rekeyed = c.Call("rekey", Message().Add("child", "A-B"));
  ASSERT_EQ(rekeyed.message.ValueOr("success", ""), "yes");

  std::set<std::string> seen;
  bool ike_up = false, child_up = false, log_line = false;
  for (int i = 0; i < 200 && !(ike_up && child_up && log_line && seen.contains("child-rekey"));
       ++i) {
    auto p = monitor.Receive();
    ASSERT_TRUE(p.has_value()) << "events so far: " << seen.size();
    ASSERT_EQ(p->type, PacketType::kEvent);
    seen.insert(p->name);
    if (p->name == "ike-updown" && p->message.ValueOr("up", "") == "yes") {
      ike_up = true;
      EXPECT_EQ(p->message.ValueOr("A-B.state", ""), "ESTABLISHED");
      EXPECT_EQ(p->message.FindSection({"A-B", "child-sas"}), nullptr) << "without its children";
    }
    if (p->name == "child-updown") {
      child_up = child_up || p->message.ValueOr("up", "") == "yes";
      // The CHILD_SA the event is about, only (after the rekey the IKE SA holds two).
      const vici::Section* children = p->message.FindSection({"A-B", "child-sas"});
      ASSERT_NE(children, nullptr);
      EXPECT_EQ(children->elements.size(), 1u) << vici::Dump(p->message);
    }
    if (p->name == "log" && p->message.ValueOr("msg", "").starts_with("generating IKE_AUTH")) {
      log_line = true;
      EXPECT_EQ(p->message.ValueOr("group", ""), "ENC");
      EXPECT_EQ(p->message.ValueOr("ikesa-name", ""), "A-B");
    }
  }
  EXPECT_TRUE(ike_up && child_up && log_line && seen.contains("child-rekey"));

  auto counters = c.Call("get-counters", Message().Add("name", "A-B"));
  EXPECT_EQ(counters.message.ValueOr("success", ""), "yes");
  const vici::Section* mine = counters.message.FindSection({"counters", "A-B"});
  ASSERT_NE(mine, nullptr) << vici::Dump(counters.message);
  EXPECT_EQ(mine->ValueOr("ike-init-out-req", ""), "1");
  EXPECT_EQ(mine->ValueOr("ike-init-in-resp", ""), "1");
  EXPECT_EQ(mine->ValueOr("ike-auth-out-req", ""), "1");
  EXPECT_EQ(mine->ValueOr("child-rekey", ""), "1");
  EXPECT_EQ(mine->elements.size(), 21u) << "charon's 21 counters";
  EXPECT_EQ(c.Call("reset-counters", Message().Add("all", "yes")).message.ValueOr("success", ""),
            "yes");
  auto reset = c.Call("get-counters", {});
  const std::string* global = reset.message.Find({"counters", "", "ike-init-out-req"});
  ASSERT_NE(global, nullptr) << vici::Dump(reset.message);
  EXPECT_EQ(*global, "0");
}

// swanctl --install / --uninstall: a child's trap policies on demand.
TEST_F(DaemonViciTest, InstallAndUninstallTrapPolicies) {
  ViciClient c(ViciPath());
  auto installed = c.Call("install", Message().Add("child", "A-B"));
  EXPECT_EQ(installed.message.ValueOr("success", ""), "yes") << vici::Dump(installed.message);
  auto removed = c.Call("uninstall", Message().Add("child", "A-B"));
  EXPECT_EQ(removed.message.ValueOr("success", ""), "yes") << vici::Dump(removed.message);
  auto again = c.Call("uninstall", Message().Add("child", "A-B"));
  EXPECT_EQ(again.message.ValueOr("success", ""), "no");
  EXPECT_EQ(again.message.ValueOr("errmsg", ""), "policy 'A-B' does not exist");
  EXPECT_EQ(c.Call("install", Message().Add("child", "nope")).message.ValueOr("errmsg", ""),
            "configuration 'nope' not found");
}

TEST_F(DaemonViciTest, ListConnsStreamsEachConnection) {
  ViciClient c(ViciPath());
  ASSERT_TRUE(c.Register("list-conn"));
  std::vector<Packet> conns;
  c.Call("list-conns", {}, &conns);
  ASSERT_EQ(conns.size(), 1u);
  const vici::Section* conn = conns[0].message.FindSection({"A-B"});
  ASSERT_NE(conn, nullptr);
  EXPECT_EQ(*conn->FindList("remote_addrs"), vici::List{"127.0.0.1"});
  EXPECT_EQ(conn->ValueOr("version", ""), "IKEv2");
  EXPECT_EQ(conn->ValueOr("local-1.id", ""), "routerA");
  EXPECT_EQ(*conn->FindList({"children", "A-B", "remote-ts"}), vici::List{"10.2.0.0/24"});
  auto names = c.Call("get-conns", {});
  EXPECT_EQ(*names.message.FindList("conns"), vici::List{}) << "none loaded over vici";
}

// Issue 21: a child that is rekeyed by volume only (no rekey_time, no life_time).
class DaemonViciVolumeTest : public DaemonViciTest {
 protected:
  void SetUp() override {
    a_.extra_child = "      rekey_time = 0\n      life_time = 0\n      rekey_bytes = 1G\n"
                     "      rekey_packets = 1000000\n";
    DaemonViciTest::SetUp();
  }
};

// list-conns shows the child's volume rekey values (as charon's list_conns; they were fixed at
// "0"), and list-sas leaves out the rekey-time and life-time a CHILD_SA does not have, as charon's
// list_child_stats does (instead of counting down from the time it was installed).
TEST_F(DaemonViciVolumeTest, ListsShowVolumeLifetimesAndNoTimesTheChildHasNot) {
  ViciClient c(ViciPath());
  ASSERT_TRUE(c.Register("list-conn"));
  std::vector<Packet> conns;
  c.Call("list-conns", {}, &conns);
  ASSERT_EQ(conns.size(), 1u);
  const vici::Section* conn = conns[0].message.FindSection({"A-B"});
  ASSERT_NE(conn, nullptr);
  EXPECT_EQ(conn->ValueOr("children.A-B.rekey_time", ""), "0");
  EXPECT_EQ(conn->ValueOr("children.A-B.rekey_bytes", ""), "1073741824");
  EXPECT_EQ(conn->ValueOr("children.A-B.rekey_packets", ""), "1000000");

  auto up = c.Call("initiate", Message().Add("child", "A-B").Add("timeout", "10000"));
  ASSERT_EQ(up.message.ValueOr("success", ""), "yes") << up.message.ValueOr("errmsg", "");
  ASSERT_TRUE(c.Register("list-sa"));
  std::vector<Packet> sas;
  c.Call("list-sas", {}, &sas);
  ASSERT_EQ(sas.size(), 1u);
  const vici::Section* child = sas[0].message.FindSection({"A-B", "child-sas", "A-B-1"});
  ASSERT_NE(child, nullptr) << vici::Dump(sas[0].message);
  const auto keys = Keys(*child);
  EXPECT_FALSE(keys.contains("rekey-time")) << vici::Dump(*child);
  EXPECT_FALSE(keys.contains("life-time")) << vici::Dump(*child);
  EXPECT_TRUE(keys.contains("install-time"));
}

// swanctl --load-all's commands: a PSK site-to-site connection loaded entirely over vici (its
// secret by load-shared, the connection by load-conn, as swanctl sends them: lists for the
// addresses, proposals and selectors) comes up; unload-conn removes it; a refused connection
// changes nothing and says why (without the secret).
TEST_F(DaemonViciTest, ConnectionsAndSecretsLoadedOverVici) {
  ViciClient c(ViciPath());
  EXPECT_EQ(*c.Call("get-shared", {}).message.FindList("keys"), vici::List{});
  auto shared = c.Call("load-shared", Message()
                                          .Add("id", "ike-vici")
                                          .Add("type", "ike")
                                          .Add("data", "golden-test-psk")
                                          .AddList("owners", {"routerA", "routerB"}));
  EXPECT_EQ(shared.message.ValueOr("success", ""), "yes") << vici::Dump(shared.message);
  EXPECT_EQ(*c.Call("get-shared", {}).message.FindList("keys"), vici::List{"ike-vici"});

  const auto conn = [&](std::string_view proposal) {
    return Message().AddSection(
        "A-B2",
        vici::Section()
            .Add("version", "2")
            .AddList("local_addrs", {"127.0.0.1"})
            .AddList("remote_addrs", {"127.0.0.1"})
            .Add("remote_port", std::to_string(b_.port))
            .AddList("proposals", {std::string(proposal)})
            .Add("mobike", "no")
            .AddSection("local", vici::Section().Add("auth", "psk").Add("id", "routerA"))
            .AddSection("remote", vici::Section().Add("auth", "psk").Add("id", "routerB"))
            .AddSection("children",
                        vici::Section().AddSection(
                            "A-B2", vici::Section()
                                        .AddList("local_ts", {"10.1.0.0/24"})
                                        .AddList("remote_ts", {"10.2.0.0/24"})
                                        .AddList("esp_proposals", {"aes256gcm16"})
                                        .Add("mark_in", "13")
                                        .Add("mark_out", "13")
                                        .Add("close_action", "start"))));
  };
  auto bad = c.Call("load-conn", conn("aes256-nosuchprf-x25519"));
  EXPECT_EQ(bad.message.ValueOr("success", ""), "no");
  EXPECT_NE(bad.message.ValueOr("errmsg", "").find("nosuchprf"), std::string::npos)
      << vici::Dump(bad.message);
  EXPECT_EQ(*c.Call("get-conns", {}).message.FindList("conns"), vici::List{});

  auto loaded = c.Call("load-conn", conn("aes256gcm16-prfsha256-x25519"));
  ASSERT_EQ(loaded.message.ValueOr("success", ""), "yes") << vici::Dump(loaded.message);
  EXPECT_EQ(*c.Call("get-conns", {}).message.FindList("conns"), vici::List{"A-B2"});
  // list-conn shows the actions by charon 5.9's names ("start", not the older "restart").
  ASSERT_TRUE(c.Register("list-conn"));
  std::vector<Packet> listed;
  c.Call("list-conns", Message().Add("ike", "A-B2"), &listed);
  ASSERT_EQ(listed.size(), 1u);
  EXPECT_EQ(listed[0].message.ValueOr("A-B2.children.A-B2.close_action", ""), "start")
      << vici::Dump(listed[0].message);
  EXPECT_EQ(listed[0].message.ValueOr("A-B2.children.A-B2.dpd_action", ""), "none");
  auto up = c.Call("initiate", Message().Add("child", "A-B2").Add("timeout", "10000"));
  EXPECT_EQ(up.message.ValueOr("success", ""), "yes") << vici::Dump(up.message);

  // The file's connection cannot be replaced over vici; unknown types and names are refused.
  auto file_conn = c.Call("load-conn", Message().AddSection("A-B", vici::Section()));
  EXPECT_EQ(file_conn.message.ValueOr("success", ""), "no");
  EXPECT_EQ(c.Call("load-shared", Message().Add("type", "eap").Add("data", "x"))
                .message.ValueOr("success", ""),
            "no");
  EXPECT_EQ(c.Call("unload-conn", Message().Add("name", "nope")).message.ValueOr("errmsg", ""),
            "connection 'nope' not found");

  auto unloaded = c.Call("unload-conn", Message().Add("name", "A-B2"));
  EXPECT_EQ(unloaded.message.ValueOr("success", ""), "yes") << vici::Dump(unloaded.message);
  EXPECT_EQ(*c.Call("get-conns", {}).message.FindList("conns"), vici::List{});
  EXPECT_EQ(log_text_.find("golden-test-psk"), std::string::npos) << "the PSK reached the log";
  EXPECT_EQ(log_text_.find("676f6c64656e"), std::string::npos) << "the PSK (hex) reached the log";
}

// A client that sends ahead (many requests before reading an answer) gets every answer in
// order; commands answered at once do not nest (20,000 of them used to be one call deep each).
TEST_F(DaemonViciTest, PipelinedRequestsAreAnsweredInOrder) {
  ViciClient c(ViciPath());
  auto frame = vici::EncodeFrame(Packet::CmdRequest("get-conns"));
  ASSERT_TRUE(frame.has_value());
  std::vector<std::uint8_t> burst;
  constexpr int kRequests = 20000;
  for (int i = 0; i < kRequests; ++i) burst.insert(burst.end(), frame->begin(), frame->end());
  std::thread writer([&] { c.SendRaw(burst); });
  int answered = 0;
  for (; answered < kRequests; ++answered) {
    auto p = c.Receive();
    if (!p || p->type != PacketType::kCmdResponse) break;
  }
  writer.join();
  EXPECT_EQ(answered, kRequests);
}

// A load-conn with one bad section loads none of them.
TEST_F(DaemonViciTest, ALoadConnIsAllOrNothing) {
  ViciClient c(ViciPath());
  auto mixed = c.Call("load-conn", Message()
                                       .AddSection("good", vici::Section().Add("version", "2"))
                                       .AddSection("bad name", vici::Section()));
  EXPECT_EQ(mixed.message.ValueOr("success", ""), "no");
  EXPECT_EQ(*c.Call("get-conns", {}).message.FindList("conns"), vici::List{});
}

// A length prefix over charon's 512 KiB limit: the connection is dropped before any buffer is
// made for it, as charon does; the daemon goes on serving others.
TEST_F(DaemonViciTest, OversizedPacketDropsTheConnection) {
  {
    ViciClient c(ViciPath());
    const std::uint8_t huge[] = {0x7f, 0xff, 0xff, 0xff, 0x00};
    c.SendRaw(huge);
    EXPECT_FALSE(c.Receive().has_value());
  }
  ViciClient again(ViciPath());
  EXPECT_EQ(again.Call("version", {}).type, PacketType::kCmdResponse);
}

}  // namespace
}  // namespace minivpn::daemon
