// No secret in logs or traces (issue 9): two engines establish, rekey a CHILD_SA with PFS and
// rekey the IKE SA while minivpnd's --trace=verbose rendering (cli/daemon/trace_log.h) and every
// engine event go through the daemon's Logger at the highest level. Every key that existed
// (PSK, g^ir, SKEYSEED, SK_*, KEYMAT as the kernels got it, the AUTH values) is then looked for
// in all of that text, as hex (both cases) and as raw octets. The explain text is checked the
// same way without --show-secrets, and must show the keys with it (so the search can find them).
#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <string>
#include <vector>

#include "cli/daemon/log.h"
#include "cli/daemon/trace_log.h"
#include "ike/observe/keymat_explain.h"
#include "tests/ike/engine/engine_test_util.h"

namespace minivpn::daemon {
namespace {

using ike::test::Ip;
using std::chrono::seconds;

std::string Raw(ByteView b) { return std::string(reinterpret_cast<const char*>(b.data()), b.size()); }
std::string Upper(std::string s) {
  for (char& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

class TraceLeakTest : public ike::test::TwoPeers {
 protected:
  TraceLeakTest() : TwoPeers(Config()), log_([this](std::string_view line) { text_ += line; }) {
    log_.SetAllLevels(3);
    for (ike::Engine* e : {&a_, &b_}) {
      e->SetTraceSink([this](const ike::TraceRecord& r) {
        for (const auto& line : TraceLines(r, ike::TraceForm::kVerbose, ike::TimePoint{}))
          log_.Write(Subsystem::kEnc, Priority::kInfo, line);
        if (r.inner == nullptr) return;
        for (const auto& p : *r.inner)  // the AUTH values (derived from the PSK, 2.15)
          if (const auto* auth = std::get_if<ike::AuthPayload>(&p.body))
            AddSecret(auth->data);
      });
    }
  }
  static ike::EngineConfig Config() {
    ike::EngineConfig c;
    c.retain_keymat = true;  // so that the test can learn every key
    return c;
  }
  void AddSecret(ByteView s) {
    if (!s.empty()) secrets_.emplace_back(s.begin(), s.end());
  }
  void AddSecret(const SecretBytes& s) { AddSecret(s.Reveal()); }
  // Logs the events (as minivpnd does, all of them at the highest level) and learns the keys
  // of every SA that exists now.
  void Harvest() {
    for (ike::Engine* e : {&a_, &b_}) {
      for (const auto& event : e->TakeEvents())
        log_.Info(Subsystem::kIke, 3, "{}[{}] {} {}", event.peer, event.ike_serial,
                  ike::Name(event.kind), event.text);
      xfrm::FakeKernel& kernel = e == &a_ ? kernel_a_ : kernel_b_;
      const xfrm::IpAddress self = e == &a_ ? Ip("192.0.2.1") : Ip("192.0.2.2");
      const xfrm::IpAddress peer = e == &a_ ? Ip("192.0.2.2") : Ip("192.0.2.1");
      for (const auto& sa : e->ListSas(net_.now())) {
        auto in = e->ExplainInput(sa.serial, true);
        ASSERT_TRUE(in.has_value()) << in.error();
        for (const SecretBytes* s : {&in->g_ir, &in->skeyseed, &in->keys.sk_d, &in->keys.sk_ai,
                                     &in->keys.sk_ar, &in->keys.sk_ei, &in->keys.sk_er,
                                     &in->keys.sk_pi, &in->keys.sk_pr})
          AddSecret(*s);
        for (const auto& c : in->children)
          for (const SecretBytes* s : {&c.g_ir, &c.keys.encr_i, &c.keys.integ_i, &c.keys.encr_r,
                                       &c.keys.integ_r})
            AddSecret(*s);
        explained_ += ike::ExplainKeymat(*in);
        shown_ += ike::ExplainKeymat(*in, ike::ExplainOptions{.show_secrets = true});
        for (const auto& child : sa.children) {
          if (const auto* out = kernel.FindSa(
                  xfrm::SaId{self, peer, child.spi_out, 50, child.mark_out}))
            AddSecret(out->encr_key);
          if (const auto* in_sa =
                  kernel.FindSa(xfrm::SaId{peer, self, child.spi_in, 50, xfrm::Mark::None()}))
            AddSecret(in_sa->encr_key);
        }
      }
    }
  }
  static bool Contains(const std::string& text, const std::vector<std::uint8_t>& secret) {
    const std::string hex = ToHex(secret);
    return text.find(hex) != std::string::npos || text.find(Upper(hex)) != std::string::npos ||
           text.find(Raw(secret)) != std::string::npos;
  }

  std::string text_, explained_, shown_;
  Logger log_;
  std::vector<std::vector<std::uint8_t>> secrets_;
};

TEST_F(TraceLeakTest, NoSecretInTracesLogsOrExplainWithoutShowSecrets) {
  ike::PeerConfig pa = PeerA(), pb = PeerB();
  pa.children[0].proposals[0].dh = {crypto::DhGroup::kCurve25519};  // PFS: a child g^ir too
  pb.children[0].proposals[0].dh = {crypto::DhGroup::kCurve25519};
  AddSecret(pa.psk);
  AddPeers(std::move(pa), std::move(pb));
  ASSERT_TRUE(a_.Initiate("to-b", "net", net_.now()).has_value());
  net_.RunFor(seconds(1));
  ASSERT_EQ(EstablishedCount(a_), 1u);
  Harvest();
  ASSERT_TRUE(a_.Rekey("to-b", "net", net_.now()).has_value());
  net_.RunFor(seconds(1));
  Harvest();
  ASSERT_TRUE(b_.Rekey("to-a", "", net_.now()).has_value());
  net_.RunFor(seconds(5));
  Harvest();
  ASSERT_TRUE(a_.Terminate("to-b", "", net_.now()).has_value());
  net_.RunFor(seconds(1));
  Harvest();

  // The text is real: every exchange was traced with its decrypted payloads.
  EXPECT_NE(text_.find("IKE_AUTH request"), std::string::npos);
  EXPECT_NE(text_.find("CREATE_CHILD_SA"), std::string::npos);
  EXPECT_NE(text_.find("decrypted: "), std::string::npos);
  // PSK, AUTH x2 (then one more pair is not needed), IKE keys of 2 SAs per side, ESP keys.
  ASSERT_GT(secrets_.size(), 40u);
  for (const auto& s : secrets_) {
    EXPECT_FALSE(Contains(text_, s)) << "secret " << ToHex(s) << " in the log/trace";
    EXPECT_FALSE(Contains(explained_, s)) << "secret " << ToHex(s) << " in explain";
  }
  // Positive control: with --show-secrets the same search finds the SK_* and KEYMAT values.
  std::size_t found = 0;
  for (const auto& s : secrets_) found += Contains(shown_, s) ? 1 : 0;
  EXPECT_GT(found, 30u);
}

}  // namespace
}  // namespace minivpn::daemon
