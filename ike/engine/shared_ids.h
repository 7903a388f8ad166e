// The identifiers a daemon hands out that must be unique across its engines (the shards of a
// multi-core minivpnd, docs/architecture.md): reqids (one per selectors, marks and XFRM interface
// ids, as charon's reqid allocation, or a child's configured one), the values of %unique /
// %unique-dir marks and interface ids (they name kernel objects: two shards giving one reqid to
// different selectors would mix their policies), and the serials of IKE SAs and CHILD_SAs (vici's
// unique ids, which commands name), counted from 1 as charon's.
//
// SharedIds is the interface the engine calls; SharedIdTable is the table itself, with no
// locking. An engine alone owns a SharedIdTable; the daemon shares one behind a lock (its own
// implementation of SharedIds), which keeps threads out of the engine.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "ike/wire/registry.h"
#include "xfrm/kernel_ipsec.h"

namespace minivpn::ike {

// Selectors (local, remote), marks (in, out) and XFRM interface ids (in, out).
using ReqidKey = std::tuple<std::vector<xfrm::Selector>, std::vector<xfrm::Selector>, xfrm::Mark,
                            xfrm::Mark, std::uint32_t, std::uint32_t>;

// A peer config and a remote identity (type, data) authenticated under it.
using IdentityKey = std::tuple<std::string, IdType, Bytes>;

// What one shard asks of the shard holding another IKE SA with the same identity (charon's
// INITIAL_CONTACT and unique = replace reach every IKE SA of the peer, whichever shard holds it).
struct DropRequest {
  std::uint64_t serial = 0;    // the IKE SA to drop
  bool initial_contact = false;  // true: at once, the peer lost its state; false: DELETE it
  std::uint32_t from_shard = 0;  // the shard that asked (it does not hold the SA)
};

class SharedIds {
 public:
  virtual ~SharedIds() = default;
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
  // The next IKE SA serial and the next CHILD_SA id (each from 1).
  virtual std::uint64_t NextIkeSerial() = 0;
  virtual std::uint64_t NextChildId() = 0;
  // With shards: the IKE SAs authenticated as `key`, whichever shard holds them. A shard that
  // finds one of another shard asks for it to be dropped (DropRequest); the daemon takes the
  // requests after each engine call and hands them to the holder (Engine::DropForDuplicate).
  virtual void AddIdentity(const IdentityKey& key, std::uint64_t serial) = 0;
  virtual void RemoveIdentity(const IdentityKey& key, std::uint64_t serial) = 0;
  virtual std::vector<std::uint64_t> SerialsWithIdentity(const IdentityKey& key) const = 0;
  virtual void RequestDrop(const DropRequest& request) = 0;
  virtual std::vector<DropRequest> TakeDropRequests() = 0;
};

class SharedIdTable final : public SharedIds {
 public:
  std::uint32_t AcquireReqid(const ReqidKey &key,
                             const std::function<bool(std::uint32_t)> &configured) override;
  void AcquireFixedReqid(std::uint32_t reqid) override { ++fixed_[reqid]; }
  bool HoldReqid(std::uint32_t reqid) override;
  void ReleaseReqid(std::uint32_t reqid) override;
  std::vector<ReqidKey> KeysOf(std::uint32_t reqid) const override;
  std::uint32_t NextUniqueMark() override;
  std::uint32_t NextUniqueIfId() override;
  std::uint64_t NextIkeSerial() override { return next_serial_++; }
  std::uint64_t NextChildId() override { return next_child_id_++; }
  void AddIdentity(const IdentityKey& key, std::uint64_t serial) override {
    identities_[key].insert(serial);
  }
  void RemoveIdentity(const IdentityKey& key, std::uint64_t serial) override;
  std::vector<std::uint64_t> SerialsWithIdentity(const IdentityKey& key) const override;
  void RequestDrop(const DropRequest& request) override { drops_.push_back(request); }
  std::vector<DropRequest> TakeDropRequests() override { return std::exchange(drops_, {}); }

 private:
  struct Entry {
    std::uint32_t reqid;
    std::size_t refs;
  };
  std::map<ReqidKey, Entry> allocated_;
  // The other way round (one key per allocated reqid): allocating, holding and releasing stay
  // O(log n) with thousands of CHILD_SAs of their own selectors or marks.
  std::map<std::uint32_t, ReqidKey> key_of_;
  std::map<std::uint32_t, std::size_t> fixed_;  // configured reqid -> references
  std::uint32_t next_reqid_ = 1;
  std::uint32_t unique_mark_ = 0;  // the last value given
  std::uint32_t unique_if_id_ = 0;
  std::uint64_t next_serial_ = 1;
  std::uint64_t next_child_id_ = 1;
  std::map<IdentityKey, std::set<std::uint64_t>> identities_;
  std::vector<DropRequest> drops_;
};

}  // namespace minivpn::ike
