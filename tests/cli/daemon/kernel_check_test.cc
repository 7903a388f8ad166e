// `minivpnd --check-kernel` and the daemon's start check (cli/daemon/kernel_check.h): what each
// errno means and what fixes it for every algorithm minivpnd installs, which checks a
// configuration asks for, that every scratch object is removed again whichever step fails (a
// probe that fails on command), the report and exit status, the owner of a UDP port found for a
// socket bound here, and the real kernel in a fresh network namespace: nothing left behind, and
// the daemon refusing to start exactly when the check fails.
#include "cli/daemon/kernel_check.h"

#include <net/if.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <fmt/core.h>
#include <gtest/gtest.h>

#include "cli/config/proposal.h"
#include "cli/daemon/daemon.h"
#include "tests/xfrm/netns.h"
#include "xfrm/errors.h"
#include "xfrm/netlink_messages.h"

namespace minivpn::daemon {
namespace {

namespace fs = std::filesystem;
using crypto::EncrId;
using crypto::IntegId;
using xfrm::KernelError;
using xfrm::KernelOp;

bool Contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

std::vector<std::string> Names(const std::vector<CheckResult>& results) {
  std::vector<std::string> names;
  for (const auto& r : results) names.push_back(r.name);
  return names;
}

const CheckResult* Find(const std::vector<CheckResult>& results, const std::string& name) {
  for (const auto& r : results) {
    if (r.name == name) return &r;
  }
  return nullptr;
}

// ---- errno -> module / capability ---------------------------------------------------------------

struct AlgorithmCase {
  xfrm::EspAlgorithms algorithms;
  const char* kernel_name;    // what minivpnd sends (xfrm/netlink_messages.cc)
  const char* esp_transform;  // what esp4/esp6 asks the crypto API for
  std::vector<std::string> modules;
};

// Every algorithm set minivpnd installs (crypto::IsSupported, xfrm::MapAlgorithms).
std::vector<AlgorithmCase> EveryAlgorithm() {
  std::vector<AlgorithmCase> cases;
  const std::vector<std::string> gcm = {"gcm", "ctr", "ghash_generic", "seqiv", "drbg"};
  for (EncrId id : {EncrId::kAesGcm8, EncrId::kAesGcm12, EncrId::kAesGcm16}) {
    for (std::uint16_t bits : {128, 192, 256}) {
      cases.push_back({{id, bits, IntegId::kNone, false}, "rfc4106(gcm(aes))",
                       "seqiv(rfc4106(gcm(aes)))", gcm});
    }
  }
  cases.push_back({{EncrId::kChaCha20Poly1305, 256, IntegId::kNone, false},
                   "rfc7539esp(chacha20,poly1305)", "seqiv(rfc7539esp(chacha20,poly1305))",
                   {"chacha20poly1305", "chacha_generic", "poly1305_generic", "seqiv", "drbg"}});
  const std::vector<std::pair<IntegId, std::pair<const char*, const char*>>> hmacs = {
      {IntegId::kHmacSha1_96, {"hmac(sha1)", "sha1_generic"}},
      {IntegId::kHmacSha2_256_128, {"hmac(sha256)", "sha256_generic"}},
      {IntegId::kHmacSha2_384_192, {"hmac(sha384)", "sha512_generic"}},
      {IntegId::kHmacSha2_512_256, {"hmac(sha512)", "sha512_generic"}},
  };
  for (const auto& [integ, names] : hmacs) {
    for (bool esn : {false, true}) {
      const std::string authenc = esn ? "authencesn" : "authenc";
      for (std::uint16_t bits : {128, 256}) {
        AlgorithmCase cbc{{EncrId::kAesCbc, bits, integ, esn}, "cbc(aes)", "", {}};
        cbc.modules = {"cbc", authenc, "hmac", names.second, "echainiv", "drbg"};
        cases.push_back(cbc);
        AlgorithmCase ctr{{EncrId::kAesCtr, bits, integ, esn}, "rfc3686(ctr(aes))", "", {}};
        ctr.modules = {"ctr", authenc, "hmac", names.second, "seqiv", "drbg"};
        cases.push_back(ctr);
      }
    }
  }
  return cases;
}

std::string EspTransform(const xfrm::EspAlgorithms& a) {
  const auto k = xfrm::MapAlgorithms(a);
  if (k->aead) return "seqiv(" + k->encr_name + ")";
  const std::string authenc = a.esn ? "authencesn" : "authenc";
  const std::string geniv = a.encr == EncrId::kAesCbc ? "echainiv" : "seqiv";
  return geniv + "(" + authenc + "(" + k->auth_name + "," + k->encr_name + "))";
}

TEST(KernelCheckDiagnosis, EveryAlgorithmNamesItsKernelNameAndModules) {
  for (const auto& c : EveryAlgorithm()) {
    SCOPED_TRACE(std::string(crypto::Name(c.algorithms.encr)) + " " +
                 std::string(crypto::Name(c.algorithms.integ)) + " " +
                 std::to_string(c.algorithms.encr_key_bits) + (c.algorithms.esn ? " esn" : ""));
    ASSERT_TRUE(xfrm::MapAlgorithms(c.algorithms)) << "minivpnd installs this set";
    const AlgorithmSupport s = SupportFor(c.algorithms);
    EXPECT_EQ(s.modules, c.modules);
    EXPECT_TRUE(Contains(s.kernel_names, c.kernel_name)) << s.kernel_names;
    const std::string transform = c.esp_transform[0] != '\0' ? c.esp_transform
                                                             : EspTransform(c.algorithms);
    EXPECT_EQ(s.esp_transform, transform);

    // The algorithm is missing from the crypto API (xfrm_user's lookup: ENOSYS).
    const Diagnosis missing = DiagnoseAddSa(ENOSYS, AF_INET, c.algorithms);
    EXPECT_TRUE(Contains(missing.detail, c.kernel_name)) << missing.detail;
    EXPECT_TRUE(Contains(missing.detail, "ENOSYS")) << missing.detail;
    std::string modprobe = "modprobe";
    for (const auto& m : c.modules) modprobe += " " + m;
    EXPECT_TRUE(Contains(missing.fix, modprobe)) << missing.fix;
    EXPECT_EQ(Contains(missing.fix, "aesni_intel"), c.algorithms.encr != EncrId::kChaCha20Poly1305)
        << missing.fix;

    // The algorithm is there but esp4 cannot build its transform (ENOENT from the crypto API).
    const Diagnosis transform_missing = DiagnoseAddSa(ENOENT, AF_INET6, c.algorithms);
    EXPECT_TRUE(Contains(transform_missing.detail, transform)) << transform_missing.detail;
    EXPECT_TRUE(Contains(transform_missing.fix, modprobe)) << transform_missing.fix;

    // No ESP for the family: esp4 or esp6, whatever the algorithm.
    const Diagnosis no_esp4 = DiagnoseAddSa(EPROTONOSUPPORT, AF_INET, c.algorithms);
    EXPECT_EQ(no_esp4.fix, "module esp4 (CONFIG_INET_ESP): modprobe esp4");
    EXPECT_TRUE(Contains(no_esp4.detail, "no ESP for IPv4")) << no_esp4.detail;
    const Diagnosis no_esp6 = DiagnoseAddSa(EPROTONOSUPPORT, AF_INET6, c.algorithms);
    EXPECT_EQ(no_esp6.fix, "module esp6 (CONFIG_INET6_ESP): modprobe esp6");

    for (int err : {EPERM, EACCES}) {
      EXPECT_TRUE(Contains(DiagnoseAddSa(err, AF_INET, c.algorithms).fix, "CAP_NET_ADMIN"));
    }
  }
}

TEST(KernelCheckDiagnosis, XfrmVtiSysctlAndPorts) {
  EXPECT_EQ(DiagnoseXfrm(EPROTONOSUPPORT).fix,
            "module xfrm_user (CONFIG_XFRM_USER): modprobe xfrm_user");
  EXPECT_TRUE(Contains(DiagnoseXfrm(EPERM).fix, "capability CAP_NET_ADMIN"));
  EXPECT_TRUE(Contains(DiagnoseXfrm(EACCES).fix, "capability CAP_NET_ADMIN"));

  // rtnetlink answers EOPNOTSUPP for an unknown link kind (measured in the kernel lab).
  EXPECT_EQ(DiagnoseVti(EOPNOTSUPP, false, "mvchk1").fix,
            "module ip_vti (CONFIG_NET_IPVTI): modprobe ip_vti");
  EXPECT_EQ(DiagnoseVti(EOPNOTSUPP, true, "mvchk1").fix,
            "module ip6_vti (CONFIG_IPV6_VTI): modprobe ip6_vti");
  EXPECT_TRUE(Contains(DiagnoseVti(EPERM, false, "mvchk1").fix, "CAP_NET_ADMIN"));
  EXPECT_EQ(DiagnoseVti(EEXIST, false, "mvchk1").fix.rfind("ip link del mvchk1", 0), 0u);

  const Diagnosis read_only = DiagnoseDisablePolicy(EROFS, false, "mvchk1");
  EXPECT_TRUE(Contains(read_only.detail, "/proc/sys/net/ipv4/conf/mvchk1/disable_policy"));
  EXPECT_TRUE(Contains(read_only.detail, "read-only")) << read_only.detail;
  EXPECT_TRUE(Contains(read_only.fix, "writable /proc/sys")) << read_only.fix;
  EXPECT_TRUE(Contains(DiagnoseDisablePolicy(EACCES, true, "mvchk1").detail,
                       "/proc/sys/net/ipv6/conf/mvchk1/disable_policy"));
  EXPECT_TRUE(Contains(DiagnoseDisablePolicy(EACCES, true, "mvchk1").fix, "CAP_NET_ADMIN"));

  EXPECT_TRUE(Contains(DiagnoseBind(EACCES, 500, std::nullopt).fix, "CAP_NET_BIND_SERVICE"));
  const Diagnosis charon = DiagnoseBind(EADDRINUSE, 500, PortOwner{123, "charon"});
  EXPECT_EQ(charon.detail, "UDP 500 is in use by charon (pid 123)");
  EXPECT_TRUE(Contains(charon.fix, "systemctl stop strongswan")) << charon.fix;
  const Diagnosis minivpnd = DiagnoseBind(EADDRINUSE, 4500, PortOwner{77, "minivpnd"});
  EXPECT_EQ(minivpnd.detail, "UDP 4500 is in use by minivpnd (pid 77)");
  EXPECT_TRUE(Contains(minivpnd.fix, "already running (pid 77)")) << minivpnd.fix;
  EXPECT_TRUE(Contains(DiagnoseBind(EADDRINUSE, 500, std::nullopt).detail, "run as root"));
}

TEST(KernelCheckFormat, OkAndFailLines) {
  EXPECT_EQ(FormatCheckLine({"xfrm netlink", true, "answers", ""}), "ok   xfrm netlink: answers");
  EXPECT_EQ(FormatCheckLine({"esp4", false, "no ESP", "module esp4"}),
            "FAIL esp4: no ESP (fix: module esp4)");
  EXPECT_EQ(FormatCheckLine({"udp 500", false, "odd", ""}), "FAIL udp 500: odd");
  EXPECT_TRUE(AllPassed({}));
  EXPECT_FALSE(AllPassed({{"a", true, "", ""}, {"b", false, "", ""}}));
}

// ---- which checks a configuration asks for ------------------------------------------------------

config::Host Address(const char* text) {
  config::Host h;
  h.kind = config::Host::Kind::kAddress;
  h.subnet = base::Subnet::Host(*base::IpAddress::Parse(text));
  return h;
}

config::ConnectionConfig Connection(const std::string& name, const char* remote,
                                    const std::string& esp, bool vti) {
  config::ConnectionConfig conn;
  conn.name = name;
  if (remote != nullptr) conn.remote_addrs = {Address(remote)};
  config::ChildConfig child;
  child.name = name;
  auto proposals = config::ParseEspProposals(esp);
  EXPECT_TRUE(proposals) << esp;
  if (proposals) child.esp_proposals = proposals->proposals;
  if (vti) child.vti = config::VtiConfig{.name = "vti-" + name, .key = 12};
  conn.children.push_back(child);
  return conn;
}

TEST(KernelCheckPlan, DistinctAlgorithmSetsPerFamily) {
  config::Config c;
  c.connections.push_back(Connection("a", "198.51.100.1", "aes256gcm16,aes128-sha256-sha1", false));
  c.connections.push_back(Connection("b", "2001:db8::9", "aes256gcm16-esn-noesn", false));
  c.connections.push_back(Connection("c", nullptr, "aes256gcm16", false));  // %any: IPv4
  std::vector<std::string> got;
  for (const auto& check : EspChecksFor(c)) {
    got.push_back((check.family == AF_INET6 ? "esp6 " : "esp4 ") + check.name);
  }
  EXPECT_EQ(got, (std::vector<std::string>{"esp4 aes256gcm16", "esp4 aes128-sha256",
                                           "esp4 aes128-sha1", "esp6 aes256gcm16-esn",
                                           "esp6 aes256gcm16"}))
      << "in the order the proposals name them";
  EXPECT_TRUE(VtiFamiliesFor(c).empty()) << "no vti section: minivpnd owns no VTI";
  c.connections.push_back(Connection("d", "2001:db8::7", "aes256gcm16", true));
  EXPECT_EQ(VtiFamiliesFor(c), std::vector<int>{AF_INET6});
}

// ---- the checks against a probe that fails on command -------------------------------------------

class FakeProbe final : public KernelProbe {
 public:
  std::error_code open_ec{};
  std::error_code query_ec = KernelError(ESRCH, KernelOp::kQuerySa);  // "no such SA": allowed
  std::function<std::error_code(const xfrm::SaSpec&)> add_fn = [](const xfrm::SaSpec&) {
    return std::error_code{};
  };
  std::error_code del_ec{};
  std::error_code create_ec{};
  std::error_code create_xfrmi_ec{};
  std::error_code write_ec{};
  std::error_code delete_vti_ec{};
  std::map<std::pair<int, std::uint16_t>, std::error_code> bind_ec{};
  std::optional<PortOwner> owner{};

  std::vector<std::string> calls{};
  std::vector<xfrm::SaId> live_sas{};
  std::vector<std::string> live_vtis{};
  std::vector<std::string> key_problems{};

  std::error_code OpenXfrm() override {
    calls.push_back("open");
    return open_ec;
  }
  std::error_code QuerySa(const xfrm::SaId&) override {
    calls.push_back("query");
    return query_ec;
  }
  std::error_code AddSa(const xfrm::SaSpec& spec) override {
    calls.push_back(fmt::format("add {:08x}", spec.id.spi));
    const auto k = xfrm::MapAlgorithms(spec.algorithms);
    if (!k || spec.encr_key.size() != k->encr_key_size ||
        spec.integ_key.size() != k->integ_key_size) {
      key_problems.push_back("key sizes");
    }
    for (const auto* key : {&spec.encr_key, &spec.integ_key}) {
      const auto bytes = key->Reveal();
      if (std::any_of(bytes.begin(), bytes.end(), [](std::uint8_t b) { return b != 0; })) {
        key_problems.push_back("a scratch key is not all zeros");
      }
    }
    if (spec.id.spi >= 0xc0000000 && spec.id.spi <= 0xcfffffff) {
      key_problems.push_back("SPI inside charon's range");
    }
    const auto ec = add_fn(spec);
    if (!ec) live_sas.push_back(spec.id);
    return ec;
  }
  std::error_code DelSa(const xfrm::SaId& id) override {
    calls.push_back(fmt::format("del {:08x}", id.spi));
    if (del_ec) return del_ec;
    const auto it = std::find(live_sas.begin(), live_sas.end(), id);
    if (it == live_sas.end()) return KernelError(ESRCH, KernelOp::kDelSa);
    live_sas.erase(it);
    return {};
  }
  std::error_code CreateVti(const vti::VtiConfig& config) override {
    calls.push_back("create " + config.name);
    if (!create_ec) live_vtis.push_back(config.name);
    return create_ec;
  }
  std::error_code WriteDisablePolicy(const std::string& name, bool) override {
    calls.push_back("disable_policy " + name);
    return write_ec;
  }
  std::error_code DeleteVti(const std::string& name) override {
    calls.push_back("delete " + name);
    if (delete_vti_ec) return delete_vti_ec;
    std::erase(live_vtis, name);
    return {};
  }
  std::error_code CreateXfrmInterface(const vti::XfrmInterfaceConfig& config) override {
    calls.push_back(fmt::format("create-xfrmi {} if_id {:08x}", config.name, config.if_id));
    if (!create_xfrmi_ec) live_vtis.push_back(config.name);
    return create_xfrmi_ec;
  }
  std::error_code BindUdp(int family, std::uint16_t port) override {
    calls.push_back(fmt::format("bind{} {}", family == AF_INET6 ? 6 : 4, port));
    const auto it = bind_ec.find({family, port});
    return it == bind_ec.end() ? std::error_code{} : it->second;
  }
  std::optional<PortOwner> UdpPortOwner(std::uint16_t port) override {
    calls.push_back(fmt::format("owner {}", port));
    return owner;
  }
};

config::Config VtiOwningConfig(const std::string& esp) {
  config::Config c;
  c.connections.push_back(Connection("to-b", "198.51.100.1", esp, true));
  return c;
}

constexpr std::uint32_t kTag = 4242;

TEST(KernelCheckRun, AllPassInOrderAndNothingIsLeft) {
  const config::Config c = VtiOwningConfig("aes256gcm16,aes128-sha256");
  FakeProbe probe;
  KernelCheck check(c, probe, {.tag = kTag});
  const auto results = check.Run();
  EXPECT_EQ(Names(results),
            (std::vector<std::string>{"xfrm netlink", "esp4 aes256gcm16", "esp4 aes128-sha256",
                                      "vti", "disable_policy", "udp 500", "udp 4500"}));
  EXPECT_TRUE(AllPassed(results));
  EXPECT_EQ(probe.calls,
            (std::vector<std::string>{"open", "query", "add 6d761092", "del 6d761092",
                                      "add 6d761092", "del 6d761092", "create mvchk4242",
                                      "disable_policy mvchk4242", "delete mvchk4242",
                                      "bind4 500", "bind6 500", "bind4 4500", "bind6 4500"}));
  EXPECT_TRUE(probe.live_sas.empty());
  EXPECT_TRUE(probe.live_vtis.empty());
  EXPECT_TRUE(probe.key_problems.empty()) << probe.key_problems.front();
  EXPECT_EQ(check.ScratchSa(AF_INET).spi, 0x6d761092u);
  EXPECT_EQ(check.ScratchSa(AF_INET).dst.ToString(), "192.0.2.2");
  EXPECT_EQ(check.ScratchSa(AF_INET6).dst.ToString(), "2001:db8::2");
  EXPECT_TRUE(Contains(Find(results, "disable_policy")->detail,
                       "/proc/sys/net/ipv4/conf/mvchk4242/disable_policy"));
}

TEST(KernelCheckRun, NoEsp4IsOneLineNamingEsp4AndTheOtherChecksStillRun) {
  const config::Config c = VtiOwningConfig("aes256gcm16,aes128-sha256");
  FakeProbe probe;
  probe.add_fn = [](const xfrm::SaSpec& spec) {
    return KernelError(EPROTONOSUPPORT, xfrm::AddSaOp(spec.algorithms.encr));
  };
  const auto results = KernelCheck(c, probe, {.tag = kTag}).Run();
  EXPECT_EQ(Names(results), (std::vector<std::string>{"xfrm netlink", "esp4", "vti",
                                                      "disable_policy", "udp 500", "udp 4500"}));
  const CheckResult* esp = Find(results, "esp4");
  ASSERT_NE(esp, nullptr);
  EXPECT_FALSE(esp->ok);
  EXPECT_EQ(FormatCheckLine(*esp),
            "FAIL esp4: scratch SA with aes256gcm16, aes128-sha256: the kernel has no ESP for "
            "IPv4: Protocol not supported (EPROTONOSUPPORT) (fix: module esp4 (CONFIG_INET_ESP): "
            "modprobe esp4)");
  EXPECT_EQ(std::count_if(probe.calls.begin(), probe.calls.end(),
                          [](const std::string& s) { return s.starts_with("del "); }),
            0)
      << "nothing was added, nothing is deleted";
  EXPECT_TRUE(probe.live_sas.empty());
}

TEST(KernelCheckRun, AMissingAlgorithmNamesItsModules) {
  const config::Config c = VtiOwningConfig("chacha20poly1305,aes256gcm16");
  FakeProbe probe;
  probe.add_fn = [](const xfrm::SaSpec& spec) {
    return spec.algorithms.encr == EncrId::kChaCha20Poly1305
               ? KernelError(ENOSYS, KernelOp::kAddSaAeadChaCha)
               : std::error_code{};
  };
  const auto results = KernelCheck(c, probe, {.ports = false, .tag = kTag}).Run();
  const CheckResult* chacha = Find(results, "esp4 chacha20poly1305");
  ASSERT_NE(chacha, nullptr);
  EXPECT_FALSE(chacha->ok);
  EXPECT_TRUE(Contains(chacha->detail, "rfc7539esp(chacha20,poly1305)")) << chacha->detail;
  EXPECT_TRUE(Contains(chacha->fix, "modprobe chacha20poly1305 chacha_generic poly1305_generic"))
      << chacha->fix;
  EXPECT_TRUE(Find(results, "esp4 aes256gcm16")->ok);
  EXPECT_EQ(Find(results, "udp 500"), nullptr) << "ports = false: the daemon binds them itself";
  EXPECT_TRUE(probe.live_sas.empty());
}

TEST(KernelCheckRun, AForeignSaWithTheScratchSpiIsNeverTouched) {
  config::Config c;
  c.connections.push_back(Connection("to-b", "198.51.100.1", "aes256gcm16", false));
  FakeProbe probe;
  probe.add_fn = [](const xfrm::SaSpec& spec) {
    return spec.id.spi == 0x6d761092 ? KernelError(EEXIST, KernelOp::kAddSaAeadGcm)
                                     : std::error_code{};
  };
  const auto results = KernelCheck(c, probe, {.ports = false, .tag = kTag}).Run();
  EXPECT_TRUE(AllPassed(results));
  EXPECT_EQ(probe.calls, (std::vector<std::string>{"open", "query", "add 6d761092",
                                                   "add 6d761093", "del 6d761093"}));
}

TEST(KernelCheckRun, AFailedDeleteIsReportedWithTheCommandThatRemovesIt) {
  config::Config c;
  c.connections.push_back(Connection("to-b", "198.51.100.1", "aes256gcm16", false));
  FakeProbe probe;
  probe.del_ec = KernelError(EIO, KernelOp::kDelSa);
  const auto results = KernelCheck(c, probe, {.ports = false, .tag = kTag}).Run();
  const CheckResult* cleanup = Find(results, "esp4 aes256gcm16 cleanup");
  ASSERT_NE(cleanup, nullptr);
  EXPECT_FALSE(cleanup->ok);
  EXPECT_EQ(cleanup->fix,
            "ip xfrm state delete src 192.0.2.1 dst 192.0.2.2 proto esp spi 0x6d761092 mark "
            "0x6d76636b");
  EXPECT_TRUE(Contains(cleanup->detail, "expires by itself within 30 s")) << cleanup->detail;
}

TEST(KernelCheckRun, VtiIsDeletedWhenDisablePolicyFails) {
  FakeProbe probe;
  probe.write_ec = KernelError(EROFS, KernelOp::kVtiChange);
  const auto results = KernelCheck(VtiOwningConfig("aes256gcm16"), probe, {.ports = false}).Run();
  EXPECT_TRUE(Find(results, "vti")->ok);
  const CheckResult* policy = Find(results, "disable_policy");
  ASSERT_NE(policy, nullptr);
  EXPECT_FALSE(policy->ok);
  EXPECT_TRUE(Contains(policy->detail, "read-only")) << policy->detail;
  EXPECT_TRUE(probe.live_vtis.empty()) << "the scratch VTI was left behind";
}

TEST(KernelCheckRun, VtiCreateFailures) {
  {  // no ip_vti: nothing was created, nothing to delete
    FakeProbe probe;
    probe.create_ec = KernelError(EOPNOTSUPP, KernelOp::kVtiCreate);
    const auto results = KernelCheck(VtiOwningConfig("aes256gcm16"), probe, {.ports = false}).Run();
    const CheckResult* vti = Find(results, "vti");
    ASSERT_NE(vti, nullptr);
    EXPECT_FALSE(vti->ok);
    EXPECT_EQ(vti->fix, "module ip_vti (CONFIG_NET_IPVTI): modprobe ip_vti");
    EXPECT_EQ(Find(results, "disable_policy"), nullptr);
    EXPECT_EQ(std::count_if(probe.calls.begin(), probe.calls.end(),
                            [](const std::string& s) { return s.starts_with("delete "); }),
              0);
  }
  {  // the link was made, then disable_policy failed inside Create (which removes the link)
    FakeProbe probe;
    probe.create_ec = KernelError(EROFS, KernelOp::kVtiChange);
    const auto results = KernelCheck(VtiOwningConfig("aes256gcm16"), probe, {.ports = false}).Run();
    EXPECT_TRUE(Find(results, "vti")->ok);
    const CheckResult* policy = Find(results, "disable_policy");
    ASSERT_NE(policy, nullptr);
    EXPECT_FALSE(policy->ok);
    EXPECT_TRUE(Contains(policy->detail, "read-only")) << policy->detail;
  }
}

// A child with an xfrmi section: a scratch XFRM interface of the check's own (name and if_id from
// the tag, never a configured id) is created and deleted; without xfrm_interface the module is
// named and nothing is left.
TEST(KernelCheckRun, XfrmInterfaceIsCheckedWhenOneIsOwned) {
  config::Config c;
  c.connections.push_back(Connection("to-b", "198.51.100.1", "aes256gcm16", false));
  {
    FakeProbe probe;
    KernelCheck check(c, probe, {.ports = false, .tag = kTag});
    EXPECT_EQ(Find(check.Run(), "xfrm interface"), nullptr) << "no xfrmi section, no check";
  }
  c.connections[0].children[0].if_id_in = c.connections[0].children[0].if_id_out = 42;
  c.connections[0].children[0].xfrmi = config::XfrmInterfaceConfig{.name = "xfrm42", .id = 42};
  {
    FakeProbe probe;
    const auto results = KernelCheck(c, probe, {.ports = false, .tag = kTag}).Run();
    const CheckResult* link = Find(results, "xfrm interface");
    ASSERT_NE(link, nullptr);
    EXPECT_TRUE(link->ok) << link->detail;
    EXPECT_NE(std::find(probe.calls.begin(), probe.calls.end(),
                        "create-xfrmi mvchkx4242 if_id 6d761092"),
              probe.calls.end())
        << probe.calls.size() << " calls";
    EXPECT_NE(std::find(probe.calls.begin(), probe.calls.end(), "delete mvchkx4242"),
              probe.calls.end());
    EXPECT_TRUE(probe.live_vtis.empty());
  }
  {
    FakeProbe probe;
    probe.create_xfrmi_ec = KernelError(EOPNOTSUPP, KernelOp::kXfrmiCreate);
    const auto results = KernelCheck(c, probe, {.ports = false, .tag = kTag}).Run();
    const CheckResult* link = Find(results, "xfrm interface");
    ASSERT_NE(link, nullptr);
    EXPECT_FALSE(link->ok);
    EXPECT_EQ(link->fix, "module xfrm_interface (CONFIG_XFRM_INTERFACE): modprobe xfrm_interface");
    EXPECT_TRUE(probe.live_vtis.empty());
  }
}

TEST(KernelCheckRun, NoXfrmNetlinkStopsTheSaChecks) {
  {
    FakeProbe probe;
    probe.open_ec = KernelError(EPROTONOSUPPORT, KernelOp::kOpen);
    const auto results = KernelCheck(VtiOwningConfig("aes256gcm16"), probe, {.ports = false}).Run();
    EXPECT_EQ(Names(results), (std::vector<std::string>{"xfrm netlink", "vti", "disable_policy"}));
    EXPECT_EQ(results[0].fix, "module xfrm_user (CONFIG_XFRM_USER): modprobe xfrm_user");
  }
  {  // the socket opens, a request is refused: the capability
    FakeProbe probe;
    probe.query_ec = KernelError(EPERM, KernelOp::kQuerySa);
    const auto results = KernelCheck(VtiOwningConfig("aes256gcm16"), probe, {.ports = false}).Run();
    EXPECT_FALSE(results[0].ok);
    EXPECT_TRUE(Contains(results[0].fix, "CAP_NET_ADMIN")) << results[0].fix;
    EXPECT_TRUE(probe.live_sas.empty());
  }
}

TEST(KernelCheckRun, PortsNameTheOwnerOrTheCapability) {
  config::Config c;
  c.global.port = 500;
  c.global.port_nat_t = 4500;
  FakeProbe probe;
  probe.bind_ec[{AF_INET, 500}] = std::make_error_code(std::errc::address_in_use);
  probe.bind_ec[{AF_INET6, 500}] = std::make_error_code(std::errc::address_in_use);
  probe.bind_ec[{AF_INET6, 4500}] = std::make_error_code(std::errc::address_family_not_supported);
  probe.owner = PortOwner{321, "charon"};
  auto results = KernelCheck(c, probe).Run();
  EXPECT_EQ(FormatCheckLine(*Find(results, "udp 500")).rfind(
                "FAIL udp 500: UDP 500 is in use by charon (pid 321) (fix: stop charon", 0),
            0u)
      << FormatCheckLine(*Find(results, "udp 500"));
  EXPECT_EQ(FormatCheckLine(*Find(results, "udp 4500")), "ok   udp 4500: free (IPv4; no IPv6 here)");

  FakeProbe unprivileged;
  unprivileged.bind_ec[{AF_INET, 500}] = std::make_error_code(std::errc::permission_denied);
  results = KernelCheck(c, unprivileged).Run();
  EXPECT_TRUE(Contains(Find(results, "udp 500")->fix, "CAP_NET_BIND_SERVICE"));
  EXPECT_TRUE(std::find(unprivileged.calls.begin(), unprivileged.calls.end(), "owner 500") ==
              unprivileged.calls.end());
}

// ---- `minivpnd --check-kernel`: the report and the exit status ----------------------------------

class CheckKernelCommand : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("minivpn-check-kernel-" + std::to_string(::getpid()));
    fs::create_directories(dir_);
    std::ofstream(dir_ / "strongswan.conf") << "charon {\n  port = 5500\n  port_nat_t = 5501\n}\n";
    paths_.swanctl_conf = (dir_ / "swanctl.conf").string();
    paths_.strongswan_conf = (dir_ / "strongswan.conf").string();
  }
  void TearDown() override { fs::remove_all(dir_); }

  void WriteSwanctl(const std::string& esp) {
    std::ofstream(dir_ / "swanctl.conf")
        << "connections {\n  to-b {\n    local_addrs = 192.0.2.1\n    remote_addrs = 198.51.100.1\n"
           "    local { auth = psk\n id = a }\n    remote { auth = psk\n id = b }\n"
           "    children { to-b { local_ts = 0.0.0.0/0\n remote_ts = 0.0.0.0/0\n"
           "      esp_proposals = "
        << esp
        << "\n mark_in = 12\n mark_out = 12 } }\n  }\n}\n"
           "secrets { ike-1 { id-a = a\n id-b = b\n secret = test-only-psk } }\n";
    fs::permissions(dir_ / "swanctl.conf", fs::perms::owner_read | fs::perms::owner_write);
  }

  fs::path dir_;
  config::ConfigPaths paths_;
};

TEST_F(CheckKernelCommand, AllPassExitsZero) {
  WriteSwanctl("aes256gcm16");
  FakeProbe probe;
  std::ostringstream out, err;
  EXPECT_EQ(RunCheckKernel(paths_, probe, out, err), 0) << out.str() << err.str();
  const std::string text = out.str();
  EXPECT_TRUE(text.starts_with("ok   xfrm netlink: NETLINK_XFRM answers, requests allowed\n"))
      << text;
  EXPECT_TRUE(Contains(text, "\nok   esp4 aes256gcm16: scratch SA (rfc4106(gcm(aes)), 256-bit key) "
                             "added and deleted\n"))
      << text;
  EXPECT_TRUE(Contains(text, "\nok   udp 5500: free (IPv4 and IPv6)\n")) << text;
  EXPECT_TRUE(text.ends_with("\nkernel check: all 4 passed\n")) << text;
  EXPECT_FALSE(Contains(text + err.str(), "test-only-psk"));
}

TEST_F(CheckKernelCommand, AFailureExitsOneAndNamesTheModule) {
  WriteSwanctl("aes256gcm16");
  FakeProbe probe;
  probe.add_fn = [](const xfrm::SaSpec&) { return KernelError(EPROTONOSUPPORT, KernelOp::kAddSaAeadGcm); };
  std::ostringstream out, err;
  EXPECT_EQ(RunCheckKernel(paths_, probe, out, err), 1);
  EXPECT_TRUE(Contains(out.str(), "\nFAIL esp4: ")) << out.str();
  EXPECT_TRUE(Contains(out.str(), "(fix: module esp4 (CONFIG_INET_ESP): modprobe esp4)\n"));
  EXPECT_TRUE(out.str().ends_with("\nkernel check: 1 of 4 failed\n")) << out.str();
}

TEST_F(CheckKernelCommand, AConfigurationErrorRunsNoCheck) {
  WriteSwanctl("nosuchcipher");
  FakeProbe probe;
  std::ostringstream out, err;
  EXPECT_EQ(RunCheckKernel(paths_, probe, out, err), 1);
  EXPECT_TRUE(probe.calls.empty());
  EXPECT_TRUE(out.str().empty()) << out.str();
  EXPECT_TRUE(Contains(err.str(), "nosuchcipher")) << err.str();
  EXPECT_TRUE(Contains(err.str(), "--check-config")) << err.str();
}

// ---- the owner of a port ------------------------------------------------------------------------

TEST(UdpPortOwner, ParsesProcNetUdp) {
  const std::string table =
      "   sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  "
      "timeout inode ref pointer drops\n"
      "  120: 00000000:01F4 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        "
      "0 31337 2 0000000000000000 0\n"
      "  121: 0100007F:1194 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        "
      "0 4711 2 0000000000000000 0\n"
      "  122: 00000000:1194 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        "
      "0 0 2 0000000000000000 0\n";
  EXPECT_EQ(UdpSocketInodes(table, 500), std::vector<std::uint64_t>{31337});
  EXPECT_EQ(UdpSocketInodes(table, 4500), std::vector<std::uint64_t>{4711}) << "inode 0 skipped";
  EXPECT_TRUE(UdpSocketInodes(table, 501).empty());
  const std::string v6 =
      "  sl  local_address                         remote_address                        st "
      "tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops\n"
      "  33: 00000000000000000000000000000000:01F4 00000000000000000000000000000000:0000 07 "
      "00000000:00000000 00:00000000 00000000     0        0 99 2 0000000000000000 0\n";
  EXPECT_EQ(UdpSocketInodes(v6, 500), std::vector<std::uint64_t>{99});
}

std::string OwnComm() {
  std::string comm;
  std::getline(std::ifstream("/proc/self/comm"), comm);
  return comm;
}

// A UDP socket of this process on 127.0.0.1 and an ephemeral port.
struct BoundSocket {
  BoundSocket() {
    fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) return;
    socklen_t len = sizeof a;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
    port = ntohs(a.sin_port);
  }
  ~BoundSocket() { ::close(fd); }
  int fd = -1;
  std::uint16_t port = 0;
};

TEST(UdpPortOwner, FindsThisProcessForItsOwnSocket) {
  BoundSocket socket;
  ASSERT_NE(socket.port, 0);
  const auto owner = FindUdpPortOwner(socket.port);
  ASSERT_TRUE(owner) << "no owner found for UDP " << socket.port;
  EXPECT_EQ(owner->pid, ::getpid());
  EXPECT_EQ(owner->command, OwnComm());
}

TEST(UdpPortOwner, TheRealPortCheckNamesThisProcess) {
  BoundSocket socket;
  ASSERT_NE(socket.port, 0);
  config::Config c;
  c.global.port = socket.port;
  c.global.port_nat_t = socket.port;
  const auto probe = SystemKernelProbe();
  const auto results = KernelCheck(c, *probe).Run();
  const CheckResult* port = Find(results, fmt::format("udp {}", socket.port));
  ASSERT_NE(port, nullptr);
  EXPECT_FALSE(port->ok);
  EXPECT_EQ(port->detail, fmt::format("UDP {} is in use by {} (pid {})", socket.port, OwnComm(),
                                      ::getpid()));
  ::close(socket.fd);
  socket.fd = -1;
  const auto after = KernelCheck(c, *probe).Run();
  EXPECT_TRUE(Find(after, fmt::format("udp {}", socket.port))->ok) << "closed: free again";
}

// ---- the real kernel, in a fresh network namespace ----------------------------------------------

// Whatever this kernel has, the check names what it lacks and leaves nothing: no scratch SA
// (GETSA answers "no such SA"), no scratch VTI.
TEST(KernelCheckRealKernel, LeavesNothingBehind) {
  MINIVPN_IN_NETNS([]() -> std::string {
    const config::Config c = VtiOwningConfig("aes256gcm16,aes128-sha256");
    const auto probe = SystemKernelProbe();
    KernelCheck check(c, *probe, {.ports = false});
    const auto results = check.Run();
    std::string report;
    std::string lines;
    for (const auto& r : results) lines += "\n  " + FormatCheckLine(r);
    if (Names(results).empty() || !results[0].ok) return "xfrm netlink failed:" + lines;
    for (const auto& r : results) {
      if (r.ok) continue;
      const bool named = Contains(r.fix, "esp4") || Contains(r.fix, "modprobe gcm") ||
                         Contains(r.fix, "modprobe cbc") || Contains(r.fix, "ip_vti");
      if (!named) report += "\nfailed without naming a module: " + FormatCheckLine(r);
    }
    const auto leftover = probe->QuerySa(check.ScratchSa(AF_INET));
    if (leftover != std::errc::no_such_process && leftover != std::errc::no_such_file_or_directory) {
      report += "\nscratch SA still there (GETSA: " + leftover.message() + ")";
    }
    if (::if_nametoindex(check.ScratchVtiName().c_str()) != 0) {
      report += "\nscratch VTI " + check.ScratchVtiName() + " still there";
    }
    return report.empty() ? "" : report + "\nreport:" + lines;
  });
}

// The daemon refuses to start exactly when the check (ports aside) fails, and logs each failed
// line; on this machine's kernel (no ESP on the CI hosts) that is the refusal.
TEST(KernelCheckRealKernel, DaemonStartRefusesWhenTheCheckFails) {
  ASSERT_EQ(::geteuid(), 0u) << "the daemon's vici socket is root-only; run the tests as root";
  MINIVPN_IN_NETNS([]() -> std::string {
    const fs::path dir =
        fs::temp_directory_path() / ("minivpn-check-start-" + std::to_string(::getpid()));
    fs::create_directories(dir);
    std::ofstream(dir / "strongswan.conf") << "charon {\n  port = 5500\n  port_nat_t = 5501\n}\n";
    std::ofstream(dir / "swanctl.conf")
        << "connections {\n  to-b {\n    local_addrs = 127.0.0.1\n    remote_addrs = 127.0.0.2\n"
           "    local { auth = psk\n id = a }\n    remote { auth = psk\n id = b }\n"
           "    children { to-b { local_ts = 10.1.0.0/24\n remote_ts = 10.2.0.0/24\n"
           "      esp_proposals = aes256gcm16\n mark_in = 12\n mark_out = 12 } }\n  }\n}\n"
           "secrets { ike-1 { id-a = a\n id-b = b\n secret = test-only-psk } }\n";
    fs::permissions(dir / "swanctl.conf", fs::perms::owner_read | fs::perms::owner_write);
    DaemonOptions options;
    options.config.swanctl_conf = (dir / "swanctl.conf").string();
    options.config.strongswan_conf = (dir / "strongswan.conf").string();
    options.vici_path = (dir / "charon.vici").string();
    options.journal_path = (dir / "kernel.journal").string();
    options.log_levels_from_command_line = true;

    const auto loaded = config::LoadConfig(options.config);
    if (!loaded.ok()) return "test configuration has errors";
    const std::vector<std::string> expected = CheckKernelAtStart(loaded.config);

    std::string log_text;
    Logger log{[&log_text](std::string_view line) { log_text.append(line).append("\n"); }};
    boost::asio::io_context io;
    std::string report;
    {
      Daemon daemon(io, options, log);
      const auto started = daemon.Start();
      const bool refused =
          !started && started.error() == "this kernel cannot run the configuration (see above)";
      if (refused != !expected.empty()) {
        report = fmt::format("check failed {} lines, but Start {}", expected.size(),
                             started ? "succeeded" : "said: " + started.error());
      }
      for (const auto& line : expected) {
        if (!Contains(log_text, line)) report += "\nnot in the log: " + line;
      }
    }
    fs::remove_all(dir);
    return report.empty() ? "" : report + "\nlog:\n" + log_text;
  });
}

}  // namespace
}  // namespace minivpn::daemon
