// FakeKernel: an in-memory KernelIpsec for engine tests. It keeps SAs (with their keys, for
// tests that check both peers derived the same KEYMAT) and reference-counted policies, answers
// QuerySa, allocates SPIs deterministically in [0xc0000000, 0xcfffffff], records every call in
// an ordered log and can fail the Nth call (Boost.Beast's fail_count idea).
//
// It follows the same contract as NetlinkKernel: a failed call changes nothing; errors carry
// the errno the real kernel would return, in the same categories (errors.h):
//   AddSa inbound without a prior AllocSpi of that SPI -> ESRCH; AddSa of an existing SA ->
//   EEXIST; DelSa/QuerySa of an unknown SA -> ESRCH; UpdatePolicy/DelPolicy of an unknown
//   policy -> ENOENT.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <system_error>
#include <tuple>
#include <vector>

#include "xfrm/errors.h"
#include "xfrm/kernel_ipsec.h"

namespace minivpn::xfrm {

enum class FakeOpKind : std::uint8_t {
  kAllocSpi,
  kAddSa,
  kDelSa,
  kQuerySa,
  kUpdateSa,
  kAddPolicy,
  kUpdatePolicy,
  kDelPolicy,
};

// One recorded call. Fields not used by the kind keep their defaults. Key material is never
// recorded, only its size.
struct FakeOp {
  FakeOpKind kind = FakeOpKind::kAllocSpi;
  SaId sa;                        // AllocSpi: src/dst (+ spi returned); AddSa/DelSa/Query/UpdateSa
  SaMove move;                    // UpdateSa: where to
  std::uint32_t reqid = 0;        // AllocSpi, AddSa
  bool inbound = false;           // AddSa
  EspAlgorithms algorithms;       // AddSa
  std::size_t encr_key_size = 0;  // AddSa
  std::size_t integ_key_size = 0;
  std::uint32_t replay_window = 0;
  Lifetime lifetime;
  std::optional<UdpEncap> encap;
  bool transport = false;  // AddSa: transport mode, with the selector below
  Subnet selector_src;
  Subnet selector_dst;
  PolicySpec policy;       // AddPolicy/UpdatePolicy (policy.id for DelPolicy)
  std::error_code result;  // what the call returned (empty on success)
  // DelPolicy/ReleasePolicy: the last reference went, so the kernel deleted the policy
  // (DELPOLICY); false when only a reference was dropped.
  bool policy_deleted = false;

  std::string ToString() const;  // one line, for test failure messages
};

class FakeKernel final : public KernelIpsec {
 public:
  FakeKernel() = default;
  // record_calls = false keeps no call log (log() stays empty; call_count and FailNth still
  // work): for `minivpnd --fake-kernel` in benchmarks, where the log would grow with every call.
  explicit FakeKernel(bool record_calls) : record_calls_(record_calls) {}

  // The next free SPI of a counter that wraps inside charon's range, or the lowest free one of
  // any other range (min == max: exactly that SPI, ENOENT if taken, as the kernel answers).
  std::expected<std::uint32_t, std::error_code> AllocSpi(const IpAddress& src, const IpAddress& dst,
                                                         std::uint32_t reqid,
                                                         SpiRange range) override;
  std::error_code AddSa(const SaSpec& spec) override;
  std::error_code DelSa(const SaId& id) override;
  std::expected<SaCounters, std::error_code> QuerySa(const SaId& id) override;
  // ESRCH for an unknown SA, EEXIST when the new place is taken.
  std::error_code UpdateSa(const SaId& id, const SaMove& to) override;
  std::error_code AddPolicy(const PolicySpec& spec) override;
  std::error_code UpdatePolicy(const PolicySpec& spec) override;
  std::error_code DelPolicy(const PolicyId& id) override;
  std::error_code ReleasePolicy(const PolicySpec& spec) override;
  // Logged as an UpdatePolicy (the kernel sees one UPDPOLICY).
  std::error_code ReplacePolicy(const PolicySpec& old_spec, const PolicySpec& spec) override;
  // What SetPolicyIdle said for the policy (nullopt: never used); ENOENT without the policy.
  std::expected<std::optional<std::chrono::seconds>, std::error_code> QueryPolicyIdle(
      const PolicyId& id) override;
  void SetPolicyIdle(const PolicyId& id, std::optional<std::chrono::seconds> idle) {
    policy_idle_[id] = idle;
  }

  // The n-th call from now (1 = the next one) fails with `errc` and changes nothing. Only one
  // failure is armed at a time; n = 0 disarms.
  void FailNth(std::size_t n, std::errc errc);
  // Calls made so far (all kinds, failed ones included).
  std::size_t call_count() const { return calls_; }

  const std::vector<FakeOp>& log() const { return log_; }
  void ClearLog() { log_.clear(); }

  // State inspection.
  bool HasSa(const SaId& id) const;            // installed (not larval)
  const SaSpec* FindSa(const SaId& id) const;  // nullptr if absent; keys via Reveal()
  bool IsLarval(const IpAddress& dst, std::uint32_t spi) const;
  std::size_t sa_count() const { return sas_.size(); }
  std::size_t larval_count() const { return larval_.size(); }
  std::size_t policy_count() const { return policies_.size(); }
  // 0 if the policy is not installed.
  std::size_t PolicyRefCount(const PolicyId& id) const;
  // The spec currently in the "kernel" for the policy (the latest add or update).
  const PolicySpec* FindPolicy(const PolicyId& id) const;
  // Nothing installed and no larval SPIs: what a test checks after a rollback or teardown.
  bool empty() const { return sas_.empty() && larval_.empty() && policies_.empty(); }

  // The process that held the policy references died: each installed policy is now one kernel
  // object with the latest spec, as a new NetlinkKernel (which counts references in memory) sees
  // it. For crash tests: the kernel survives the daemon.
  void ForgetReferences();

  // Counters QuerySa reports for an installed SA (the fake has no traffic).
  void SetCounters(const SaId& id, const SaCounters& counters);

 private:
  std::error_code DropPolicy(const PolicyId& id, const PolicySpec* spec);
  // The kernel finds an SA by (daddr, spi, proto) and the mark.
  using SaKey = std::tuple<IpAddress, std::uint32_t, std::uint8_t, Mark>;
  static SaKey KeyOf(const SaId& id) {
    return {id.dst, id.spi, id.proto, id.mark.is_set() ? id.mark : Mark{}};
  }

  struct SaEntry {
    SaSpec spec;
    SaCounters counters;
  };

  // Appends `op` to the log; returns the armed failure if this call is the one to fail.
  std::error_code Record(FakeOp op, KernelOp category);
  void SetResult(std::error_code ec) {
    if (record_calls_) log_.back().result = ec;
  }

  std::map<SaKey, SaEntry> sas_;
  std::map<std::pair<IpAddress, std::uint32_t>, std::uint32_t> larval_;  // (dst, spi) -> reqid
  std::map<PolicyId, std::vector<PolicySpec>> policies_;  // one entry per reference, latest last
  std::map<PolicyId, std::optional<std::chrono::seconds>> policy_idle_;
  std::vector<FakeOp> log_;
  bool record_calls_ = true;
  std::size_t calls_ = 0;
  std::uint32_t next_spi_ = 0xc0000001;
  std::size_t fail_at_ = 0;  // absolute call number (1-based) that fails; 0 = none
  std::errc fail_errc_ = std::errc::io_error;
};

}  // namespace minivpn::xfrm
