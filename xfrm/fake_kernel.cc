#include "xfrm/fake_kernel.h"

#include <cerrno>
#include <cstdio>
#include <sstream>

namespace minivpn::xfrm {
namespace {

const char* KindName(FakeOpKind kind) {
  switch (kind) {
    case FakeOpKind::kAllocSpi:
      return "AllocSpi";
    case FakeOpKind::kAddSa:
      return "AddSa";
    case FakeOpKind::kDelSa:
      return "DelSa";
    case FakeOpKind::kQuerySa:
      return "QuerySa";
    case FakeOpKind::kUpdateSa:
      return "UpdateSa";
    case FakeOpKind::kAddPolicy:
      return "AddPolicy";
    case FakeOpKind::kUpdatePolicy:
      return "UpdatePolicy";
    case FakeOpKind::kDelPolicy:
      return "DelPolicy";
  }
  return "?";
}

const char* DirName(PolicyDir dir) {
  switch (dir) {
    case PolicyDir::kIn:
      return "in";
    case PolicyDir::kOut:
      return "out";
    case PolicyDir::kFwd:
      return "fwd";
  }
  return "?";
}

std::string Hex32(std::uint32_t v) {
  char buf[16];
  std::snprintf(buf, sizeof(buf), "0x%08x", v);
  return buf;
}

std::string MarkString(const Mark& m) {
  if (!m.is_set()) return {};
  char buf[48];
  std::snprintf(buf, sizeof(buf), " mark 0x%08x/0x%08x", m.value, m.mask);
  return buf;
}

}  // namespace

// Built with an ostringstream: g++ 12 -O3 reports a false -Wrestrict on chains of
// std::string operator+ (GCC bug 105329).
std::string FakeOp::ToString() const {
  std::ostringstream s;
  s << KindName(kind);
  switch (kind) {
    case FakeOpKind::kAllocSpi:
    case FakeOpKind::kAddSa:
    case FakeOpKind::kDelSa:
    case FakeOpKind::kQuerySa:
    case FakeOpKind::kUpdateSa:
      s << ' ' << sa.src.ToString() << "->" << sa.dst.ToString() << " spi " << Hex32(sa.spi)
        << MarkString(sa.mark);
      if (kind == FakeOpKind::kUpdateSa) {
        s << " to " << move.src.ToString() << "->" << move.dst.ToString();
        if (move.encap) s << " encap " << move.encap->sport << "->" << move.encap->dport;
      }
      if (kind == FakeOpKind::kAddSa) {
        s << (inbound ? " in" : " out") << " reqid " << reqid << " encr "
          << static_cast<int>(algorithms.encr) << '/' << algorithms.encr_key_bits << " integ "
          << static_cast<int>(algorithms.integ) << (algorithms.esn ? " esn" : "") << " replay "
          << replay_window;
        if (transport)
          s << " transport " << selector_src.ToString() << "->" << selector_dst.ToString();
      }
      break;
    case FakeOpKind::kAddPolicy:
    case FakeOpKind::kUpdatePolicy:
    case FakeOpKind::kDelPolicy:
      s << ' ' << policy.id.src.ToString() << "->" << policy.id.dst.ToString() << ' '
        << DirName(policy.id.dir) << MarkString(policy.id.mark);
      if (policy.id.proto != 0) s << " proto " << static_cast<int>(policy.id.proto);
      if (policy.id.sport.mask != 0) s << " sport " << policy.id.sport.port;
      if (policy.id.dport.mask != 0) s << " dport " << policy.id.dport.port;
      if (kind != FakeOpKind::kDelPolicy) {
        s << " prio " << policy.priority << " reqid " << policy.reqid << " tmpl "
          << policy.tmpl_src.ToString() << "->" << policy.tmpl_dst.ToString() << " spi "
          << Hex32(policy.tmpl_spi) << (policy.transport ? " transport" : "");
      }
      break;
  }
  if (result) s << " -> " << result.message();
  return s.str();
}

void FakeKernel::FailNth(std::size_t n, std::errc errc) {
  fail_at_ = n == 0 ? 0 : calls_ + n;
  fail_errc_ = errc;
}

std::error_code FakeKernel::Record(FakeOp op, KernelOp category) {
  ++calls_;
  if (record_calls_) log_.push_back(std::move(op));
  if (fail_at_ != 0 && calls_ == fail_at_) {
    fail_at_ = 0;
    const auto ec = KernelError(static_cast<int>(fail_errc_), category);
    SetResult(ec);
    return ec;
  }
  return {};
}

std::expected<std::uint32_t, std::error_code> FakeKernel::AllocSpi(const IpAddress& src,
                                                                   const IpAddress& dst,
                                                                   std::uint32_t reqid,
                                                                   SpiRange range) {
  FakeOp op;
  op.kind = FakeOpKind::kAllocSpi;
  op.sa.src = src;
  op.sa.dst = dst;
  op.reqid = reqid;
  if (auto ec = Record(std::move(op), KernelOp::kAllocSpi)) return std::unexpected(ec);
  // Deterministic: charon's range walks a counter that wraps inside it; any other range is
  // searched from its start.
  const bool charon_range = range == kCharonSpiRange;
  std::uint32_t candidate = charon_range ? next_spi_ : range.min;
  for (std::uint64_t tries = 0; tries <= std::uint64_t{range.max} - range.min; ++tries) {
    const std::uint32_t spi = candidate;
    candidate = candidate == range.max ? range.min : candidate + 1;
    if (charon_range) next_spi_ = candidate;
    // sas_ is ordered by (dst, spi, ...): the first key at or after (dst, spi) tells.
    auto next = sas_.lower_bound(SaKey{dst, spi, 0, Mark{}});
    bool in_use = larval_.contains({dst, spi}) ||
                  (next != sas_.end() && std::get<0>(next->first) == dst &&
                   std::get<1>(next->first) == spi);
    if (in_use) continue;
    larval_[{dst, spi}] = reqid;
    if (record_calls_) log_.back().sa.spi = spi;
    return spi;
  }
  const auto ec = KernelError(ENOENT, KernelOp::kAllocSpi);
  SetResult(ec);
  return std::unexpected(ec);
}

std::error_code FakeKernel::AddSa(const SaSpec& spec) {
  FakeOp op;
  op.kind = FakeOpKind::kAddSa;
  op.sa = spec.id;
  op.reqid = spec.reqid;
  op.inbound = spec.inbound;
  op.algorithms = spec.algorithms;
  op.encr_key_size = spec.encr_key.size();
  op.integ_key_size = spec.integ_key.size();
  op.replay_window = spec.replay_window;
  op.transport = spec.transport;
  op.selector_src = spec.selector_src;
  op.selector_dst = spec.selector_dst;
  op.lifetime = spec.lifetime;
  op.encap = spec.encap;
  const KernelOp category = AddSaOp(spec.algorithms.encr);
  if (auto ec = Record(std::move(op), category)) return ec;

  std::error_code ec;
  const auto key = KeyOf(spec.id);
  if (sas_.contains(key)) {
    ec = KernelError(EEXIST, category);
  } else if (spec.inbound && !larval_.contains({spec.id.dst, spec.id.spi})) {
    ec = KernelError(ESRCH, category);  // UPDSA needs the larval state
  } else if (spec.encr_key.empty()) {
    ec = KernelError(EINVAL, category);
  }
  if (ec) {
    SetResult(ec);
    return ec;
  }
  if (spec.inbound) larval_.erase({spec.id.dst, spec.id.spi});
  SaEntry entry;
  entry.spec.id = spec.id;
  entry.spec.reqid = spec.reqid;
  entry.spec.inbound = spec.inbound;
  entry.spec.algorithms = spec.algorithms;
  entry.spec.encr_key = spec.encr_key.Clone();
  entry.spec.integ_key = spec.integ_key.Clone();
  entry.spec.replay_window = spec.replay_window;
  entry.spec.lifetime = spec.lifetime;
  entry.spec.encap = spec.encap;
  entry.spec.if_id = spec.if_id;
  entry.spec.transport = spec.transport;
  entry.spec.selector_src = spec.selector_src;
  entry.spec.selector_dst = spec.selector_dst;
  sas_.emplace(key, std::move(entry));
  return {};
}

std::error_code FakeKernel::DelSa(const SaId& id) {
  FakeOp op;
  op.kind = FakeOpKind::kDelSa;
  op.sa = id;
  if (auto ec = Record(std::move(op), KernelOp::kDelSa)) return ec;
  if (sas_.erase(KeyOf(id)) == 1) return {};
  // A larval SA (allocated SPI, never installed) has no mark.
  if (!id.mark.is_set() && larval_.erase({id.dst, id.spi}) == 1) return {};
  const auto ec = KernelError(ESRCH, KernelOp::kDelSa);
  SetResult(ec);
  return ec;
}

std::expected<SaCounters, std::error_code> FakeKernel::QuerySa(const SaId& id) {
  FakeOp op;
  op.kind = FakeOpKind::kQuerySa;
  op.sa = id;
  if (auto ec = Record(std::move(op), KernelOp::kQuerySa)) return std::unexpected(ec);
  const auto it = sas_.find(KeyOf(id));
  if (it == sas_.end()) {
    const auto ec = KernelError(ESRCH, KernelOp::kQuerySa);
    SetResult(ec);
    return std::unexpected(ec);
  }
  return it->second.counters;
}

std::error_code FakeKernel::UpdateSa(const SaId& id, const SaMove& to) {
  FakeOp op;
  op.kind = FakeOpKind::kUpdateSa;
  op.sa = id;
  op.move = to;
  if (auto ec = Record(std::move(op), KernelOp::kUpdateSa)) return ec;
  const auto it = sas_.find(KeyOf(id));
  SaId moved = id;
  moved.src = to.src;
  moved.dst = to.dst;
  std::error_code ec;
  if (it == sas_.end()) {
    ec = KernelError(ESRCH, KernelOp::kQuerySa);
  } else if (KeyOf(moved) != KeyOf(id) && sas_.contains(KeyOf(moved))) {
    ec = KernelError(EEXIST, KernelOp::kUpdateSa);
  }
  if (ec) {
    SetResult(ec);
    return ec;
  }
  SaEntry entry = std::move(it->second);
  sas_.erase(it);
  // A transport-mode selector naming the old address names the new one (BuildMovedSa).
  const auto follow = [](Subnet& selector, const IpAddress& old, const IpAddress& next) {
    if (selector.address == old && selector.prefix == (old.is_v4() ? 32 : 128))
      selector = Subnet{next, selector.prefix};
  };
  follow(entry.spec.selector_src, id.src, to.src);
  follow(entry.spec.selector_dst, id.dst, to.dst);
  entry.spec.id = moved;
  entry.spec.encap = to.encap;
  sas_.emplace(KeyOf(moved), std::move(entry));
  return {};
}

std::error_code FakeKernel::AddPolicy(const PolicySpec& spec) {
  FakeOp op;
  op.kind = FakeOpKind::kAddPolicy;
  op.policy = spec;
  // A shared policy is updated (UPDPOLICY), a new one created (NEWPOLICY).
  const KernelOp category =
      policies_.contains(spec.id) ? KernelOp::kUpdatePolicy : KernelOp::kAddPolicy;
  if (auto ec = Record(std::move(op), category)) return ec;
  auto& refs = policies_[spec.id];
  refs.insert(refs.begin() + static_cast<std::ptrdiff_t>(PolicyRefInsertAt(refs, spec)), spec);
  return {};
}

std::error_code FakeKernel::UpdatePolicy(const PolicySpec& spec) {
  FakeOp op;
  op.kind = FakeOpKind::kUpdatePolicy;
  op.policy = spec;
  if (auto ec = Record(std::move(op), KernelOp::kUpdatePolicy)) return ec;
  const auto it = policies_.find(spec.id);
  if (it == policies_.end()) {
    const auto ec = KernelError(ENOENT, KernelOp::kUpdatePolicy);
    SetResult(ec);
    return ec;
  }
  it->second.back() = spec;
  return {};
}

std::error_code FakeKernel::ReplacePolicy(const PolicySpec& old_spec, const PolicySpec& spec) {
  FakeOp op;
  op.kind = FakeOpKind::kUpdatePolicy;
  op.policy = spec;
  if (auto ec = Record(std::move(op), KernelOp::kUpdatePolicy)) return ec;
  const auto it = policies_.find(spec.id);
  if (it == policies_.end()) {
    const auto ec = KernelError(ENOENT, KernelOp::kUpdatePolicy);
    SetResult(ec);
    return ec;
  }
  auto& refs = it->second;
  refs.erase(refs.begin() + static_cast<std::ptrdiff_t>(PolicyRefToDrop(refs, &old_spec)));
  refs.insert(refs.begin() + static_cast<std::ptrdiff_t>(PolicyRefInsertAt(refs, spec)), spec);
  return {};
}

std::error_code FakeKernel::DelPolicy(const PolicyId& id) { return DropPolicy(id, nullptr); }

std::error_code FakeKernel::ReleasePolicy(const PolicySpec& spec) {
  return DropPolicy(spec.id, &spec);
}

std::error_code FakeKernel::DropPolicy(const PolicyId& id, const PolicySpec* spec) {
  FakeOp op;
  op.kind = FakeOpKind::kDelPolicy;
  op.policy.id = id;
  if (auto ec = Record(std::move(op), KernelOp::kDelPolicy)) return ec;
  const auto it = policies_.find(id);
  if (it == policies_.end()) {
    const auto ec = KernelError(ENOENT, KernelOp::kDelPolicy);
    SetResult(ec);
    return ec;
  }
  // The kernel holds the latest reference's spec; dropping an older one changes nothing there.
  auto& refs = it->second;
  refs.erase(refs.begin() + static_cast<std::ptrdiff_t>(PolicyRefToDrop(refs, spec)));
  if (refs.empty()) {
    policies_.erase(it);
    if (record_calls_) log_.back().policy_deleted = true;
  }
  return {};
}

std::expected<std::optional<std::chrono::seconds>, std::error_code> FakeKernel::QueryPolicyIdle(
    const PolicyId& id) {
  if (!policies_.contains(id)) return std::unexpected(KernelError(ENOENT, KernelOp::kQueryPolicy));
  const auto it = policy_idle_.find(id);
  return it == policy_idle_.end() ? std::nullopt : it->second;
}

bool FakeKernel::HasSa(const SaId& id) const { return sas_.contains(KeyOf(id)); }

const SaSpec* FakeKernel::FindSa(const SaId& id) const {
  const auto it = sas_.find(KeyOf(id));
  return it == sas_.end() ? nullptr : &it->second.spec;
}

bool FakeKernel::IsLarval(const IpAddress& dst, std::uint32_t spi) const {
  return larval_.contains({dst, spi});
}

void FakeKernel::ForgetReferences() {
  for (auto& [id, refs] : policies_) refs.erase(refs.begin(), refs.end() - 1);
}

std::size_t FakeKernel::PolicyRefCount(const PolicyId& id) const {
  const auto it = policies_.find(id);
  return it == policies_.end() ? 0 : it->second.size();
}

const PolicySpec* FakeKernel::FindPolicy(const PolicyId& id) const {
  const auto it = policies_.find(id);
  return it == policies_.end() ? nullptr : &it->second.back();
}

void FakeKernel::SetCounters(const SaId& id, const SaCounters& counters) {
  const auto it = sas_.find(KeyOf(id));
  if (it != sas_.end()) it->second.counters = counters;
}

}  // namespace minivpn::xfrm
