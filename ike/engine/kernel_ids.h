// The kernel identifiers a daemon hands out to CHILD_SAs: reqids (one per
// selectors, marks and XFRM interface ids, as charon's reqid allocation, or a
// child's configured one) and the values of %unique / %unique-dir marks and
// interface ids. They name kernel objects, so every engine of one daemon (the
// shards of a multi-core minivpnd, docs/architecture.md) must draw them from
// one table: two shards giving one reqid to different selectors would mix their
// policies.
//
// KernelIds is the interface the engine calls; KernelIdTable is the table
// itself, with no locking. An engine alone owns a KernelIdTable; the daemon
// shares one behind a lock (its own implementation of KernelIds), which keeps
// threads out of the engine.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <tuple>
#include <vector>

#include "xfrm/kernel_ipsec.h"

namespace minivpn::ike {

// Selectors (local, remote), marks (in, out) and XFRM interface ids (in, out).
using ReqidKey = std::tuple<std::vector<xfrm::Selector>, std::vector<xfrm::Selector>, xfrm::Mark,
                            xfrm::Mark, std::uint32_t, std::uint32_t>;

class KernelIds {
 public:
  virtual ~KernelIds() = default;
  // The reqid of `key`, one more reference to it; a new one (from 1, skipping
  // those in use and those `configured` says a child names) when nobody holds
  // it.
  virtual std::uint32_t AcquireReqid(const ReqidKey &key,
                                     const std::function<bool(std::uint32_t)> &configured) = 0;
  // One more reference to a child's configured reqid.
  virtual void AcquireFixedReqid(std::uint32_t reqid) = 0;
  // One more reference to a reqid in use; false if nobody holds it.
  virtual bool HoldReqid(std::uint32_t reqid) = 0;
  virtual void ReleaseReqid(std::uint32_t reqid) = 0;
  // The keys an allocated reqid stands for (an ACQUIRE names the reqid only).
  virtual std::vector<ReqidKey> KeysOf(std::uint32_t reqid) const = 0;
  // The next %unique mark value and the next %unique interface id (charon
  // counts them apart, from 1, never reaching the markers).
  virtual std::uint32_t NextUniqueMark() = 0;
  virtual std::uint32_t NextUniqueIfId() = 0;
};

class KernelIdTable final : public KernelIds {
 public:
  std::uint32_t AcquireReqid(const ReqidKey &key,
                             const std::function<bool(std::uint32_t)> &configured) override;
  void AcquireFixedReqid(std::uint32_t reqid) override { ++fixed_[reqid]; }
  bool HoldReqid(std::uint32_t reqid) override;
  void ReleaseReqid(std::uint32_t reqid) override;
  std::vector<ReqidKey> KeysOf(std::uint32_t reqid) const override;
  std::uint32_t NextUniqueMark() override;
  std::uint32_t NextUniqueIfId() override;

 private:
  struct Entry {
    std::uint32_t reqid;
    std::size_t refs;
  };
  std::map<ReqidKey, Entry> allocated_;
  std::map<std::uint32_t, std::size_t> fixed_;  // configured reqid -> references
  std::uint32_t next_reqid_ = 1;
  std::uint32_t unique_mark_ = 0;  // the last value given
  std::uint32_t unique_if_id_ = 0;
};

}  // namespace minivpn::ike
