#include "ike/engine/shared_ids.h"

#include "base/if_id.h"

namespace minivpn::ike {

// An allocated reqid is shared by the CHILD_SAs with the same selectors and
// marks; a configured one (charon's reqid, for a child instantiated once at a
// time) by every instance of that child, whatever its selectors. Allocation
// skips the reqids in use and the ones any child has configured, so a child
// that comes up later still gets its own.
std::uint32_t SharedIdTable::AcquireReqid(const ReqidKey &key,
                                          const std::function<bool(std::uint32_t)> &configured) {
  if (auto it = allocated_.find(key); it != allocated_.end()) {
    ++it->second.refs;
    return it->second.reqid;
  }
  const auto taken = [&](std::uint32_t r) {
    return r == 0 || fixed_.contains(r) || key_of_.contains(r) || configured(r);
  };
  std::uint32_t reqid = 0;
  do {
    reqid = next_reqid_++;
    if (next_reqid_ == 0) next_reqid_ = 1;
  } while (taken(reqid));
  allocated_[key] = Entry{reqid, 1};
  key_of_.emplace(reqid, key);
  return reqid;
}

bool SharedIdTable::HoldReqid(std::uint32_t reqid) {
  if (auto fixed = fixed_.find(reqid); fixed != fixed_.end()) {
    ++fixed->second;
    return true;
  }
  auto key = key_of_.find(reqid);
  if (key == key_of_.end()) return false;
  ++allocated_.at(key->second).refs;
  return true;
}

void SharedIdTable::ReleaseReqid(std::uint32_t reqid) {
  if (auto fixed = fixed_.find(reqid); fixed != fixed_.end()) {
    if (--fixed->second == 0) fixed_.erase(fixed);
    return;
  }
  auto key = key_of_.find(reqid);
  if (key == key_of_.end()) return;
  auto it = allocated_.find(key->second);
  if (--it->second.refs > 0) return;
  allocated_.erase(it);
  key_of_.erase(key);
}

void SharedIdTable::RemoveIdentity(const IdentityKey& key, std::uint64_t serial) {
  auto it = identities_.find(key);
  if (it == identities_.end()) return;
  it->second.erase(serial);
  if (it->second.empty()) identities_.erase(it);
}

std::vector<std::uint64_t> SharedIdTable::SerialsWithIdentity(const IdentityKey& key) const {
  auto it = identities_.find(key);
  if (it == identities_.end()) return {};
  return {it->second.begin(), it->second.end()};
}

std::vector<ReqidKey> SharedIdTable::KeysOf(std::uint32_t reqid) const {
  auto key = key_of_.find(reqid);
  if (key == key_of_.end()) return {};
  return {key->second};
}

std::uint32_t SharedIdTable::NextUniqueMark() {
  if (++unique_mark_ >= xfrm::Mark::kUniqueDir) unique_mark_ = 1;  // never the markers
  return unique_mark_;
}

std::uint32_t SharedIdTable::NextUniqueIfId() {
  if (++unique_if_id_ >= base::kIfIdUniqueDir) unique_if_id_ = 1;  // never the markers
  return unique_if_id_;
}

}  // namespace minivpn::ike
