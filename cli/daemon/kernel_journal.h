// What minivpnd may have installed in the kernel, written down *before* it happens, so that a
// minivpnd that starts after one that died (kill -9, crash, OOM) removes exactly the state of its
// predecessor and nothing else: xfrm states and policies carry no owner, and charon's values
// (reqids from 1, no tags) must be reproduced exactly, so the owner is recorded beside the kernel.
//
// The journal is a text file, one line per step (docs/kernel-reference.md, "The kernel journal"):
//   +?sa <src> <dst> <spi> <proto> <mark>/<mask>   intent: the SA may exist from now on
//   +=sa ...   installed      +!sa ...   the install failed: it does not exist
//   -?sa ...   about to be removed (it still exists)
//   -=sa ...   removed (or already gone)              -!sa ...   the removal failed: it exists
//   +sa ... / -sa ...   plain facts (what compaction writes; the format before issue 17)
// and the same for `pol <src> <dst> <in|out|fwd> <mark>/<mask>` (one line per reference: charon
// shares a policy between CHILD_SAs) and `vti <name>`.
//
// Write-ahead: the intent line is written with one write(2) before the kernel call and the outcome
// line after it, so a process killed at any point leaves a journal that names everything that may
// exist. The journal lives on /run (tmpfs), like the kernel state it describes: both are gone
// after a reboot, so a write(2) that returned is as durable as the state (no fsync needed).
// The inbound SPI is chosen here and recorded before ALLOCSPI asks for exactly that SPI.
//
// Replay is linear (one hash lookup per line). Compaction rewrites the file with the live entries
// (write to <path>.new, rename) once it holds more than 2 x live + kCompactFloor lines, so its size
// stays proportional to what is installed. Write errors and unreadable lines are counted and
// reported, never dropped silently.
#pragma once

#include <cstdint>
#include <expected>
#include <functional>
#include <string>
#include <string_view>
#include <system_error>
#include <unordered_map>
#include <vector>

#include "xfrm/kernel_ipsec.h"

namespace minivpn::daemon {

enum class JournalKind : std::uint8_t { kSa, kPolicy, kVti };

// One journaled object: its kind and its canonical text (the line without the operation).
struct JournalEntry {
  JournalKind kind = JournalKind::kSa;
  std::string body;

  static JournalEntry Sa(const xfrm::SaId& id);
  static JournalEntry Policy(const xfrm::PolicyId& id);
  static JournalEntry Vti(std::string_view name);
  bool operator==(const JournalEntry&) const = default;
};

// What may exist according to a journal.
struct JournalState {
  std::vector<xfrm::SaId> sas;
  std::vector<xfrm::PolicyId> policies;  // each listed once per outstanding reference
  std::vector<std::string> vtis;
  std::size_t size() const { return sas.size() + policies.size() + vtis.size(); }
};

struct ReplayStats {
  std::size_t lines = 0;
  std::size_t bad_lines = 0;  // unreadable lines (a torn last line after a crash lands here)
};

// Replays a journal: one pass, one hash lookup per line; entries in order of first appearance.
JournalState ReplayJournal(std::string_view text, ReplayStats* stats = nullptr);

class KernelJournal {
 public:
  // Compaction threshold: the file is rewritten when it holds more than 2 x live + this many lines.
  static constexpr std::size_t kCompactFloor = 1024;
  // Where warnings go (write errors with their counts); the daemon passes its logger.
  using WarnFn = std::function<void(const std::string&)>;

  // Opens (creating, mode 0600) the journal. Nothing is read yet: see ReadLeftovers.
  static std::expected<KernelJournal, std::string> Open(const std::string& path, WarnFn warn = {});
  KernelJournal(KernelJournal&&) noexcept;
  KernelJournal& operator=(KernelJournal&&) noexcept;
  ~KernelJournal();

  // What an earlier process left behind (the file's current content), with the replay counts.
  std::expected<JournalState, std::string> ReadLeftovers(ReplayStats* stats = nullptr) const;
  // Rewrites the journal to hold exactly `still_there` (what could not be removed at start).
  std::error_code Reset(const JournalState& still_there);

  // The write-ahead protocol around one kernel call. IntendAdd fails (and the caller must not
  // make the call) when the intent cannot be written; removals go ahead regardless, since
  // removing is always safe and an unrecorded removal only makes the journal name one object
  // too many.
  std::error_code IntendAdd(const JournalEntry& entry);
  void Added(const JournalEntry& entry, bool installed);
  void IntendRemove(const JournalEntry& entry);
  void Removed(const JournalEntry& entry, bool gone);

  const std::string& path() const { return path_; }
  std::size_t lines() const { return lines_; }            // in the file now
  std::size_t live_entries() const { return live_total_; }
  std::size_t write_errors() const { return write_errors_; }
  std::size_t compactions() const { return compactions_; }

 private:
  struct Live {
    std::size_t count = 0;
    std::uint64_t first_seen = 0;
  };
  KernelJournal(std::string path, int fd, WarnFn warn)
      : path_(std::move(path)), fd_(fd), warn_(std::move(warn)) {}
  std::error_code Append(std::string_view op, const JournalEntry& entry);
  void Count(const JournalEntry& entry, int delta);
  void MaybeCompact();
  std::error_code Compact();
  void WriteFailed(std::string_view what, std::error_code ec);

  std::string path_;
  int fd_ = -1;
  WarnFn warn_;
  std::unordered_map<std::string, Live> live_;  // key: kind + ' ' + body
  std::uint64_t sequence_ = 0;
  std::size_t live_total_ = 0;
  std::size_t lines_ = 0;
  std::size_t write_errors_ = 0;
  std::size_t compactions_ = 0;
};

// Records what the wrapped kernel is about to do and did (write-ahead, see above).
class JournalingKernel final : public xfrm::KernelIpsec {
 public:
  // Chooses an inbound SPI in a range (random by default; tests pass a deterministic one).
  using SpiChooser = std::function<std::uint32_t(xfrm::SpiRange)>;

  JournalingKernel(xfrm::KernelIpsec& inner, KernelJournal& journal, SpiChooser choose = {});

  // Picks the SPI itself, records the larval SA, then asks for exactly that SPI (a few retries
  // when it is taken).
  std::expected<std::uint32_t, std::error_code> AllocSpi(const xfrm::IpAddress& src,
                                                         const xfrm::IpAddress& dst,
                                                         std::uint32_t reqid,
                                                         xfrm::SpiRange range) override;
  std::error_code AddSa(const xfrm::SaSpec& spec) override;
  std::error_code DelSa(const xfrm::SaId& id) override;
  std::expected<xfrm::SaCounters, std::error_code> QuerySa(const xfrm::SaId& id) override;
  // A move to new addresses records the SA at its new place before and the old one as removed
  // after (the move is all or nothing: a failure leaves the old one).
  std::error_code UpdateSa(const xfrm::SaId& id, const xfrm::SaMove& to) override;
  std::error_code AddPolicy(const xfrm::PolicySpec& spec) override;
  std::error_code UpdatePolicy(const xfrm::PolicySpec& spec) override;
  std::error_code DelPolicy(const xfrm::PolicyId& id) override;
  std::error_code ReleasePolicy(const xfrm::PolicySpec& spec) override;
  std::error_code ReplacePolicy(const xfrm::PolicySpec& old_spec,
                                const xfrm::PolicySpec& spec) override {
    return inner_.ReplacePolicy(old_spec, spec);  // the reference count does not change
  }
  std::expected<std::optional<std::chrono::seconds>, std::error_code> QueryPolicyIdle(
      const xfrm::PolicyId& id) override {
    return inner_.QueryPolicyIdle(id);
  }

 private:
  xfrm::KernelIpsec& inner_;
  KernelJournal& journal_;
  SpiChooser choose_;
};

// Removes what a journal says may exist (policies first, then SAs, then VTIs). Objects that are
// already gone count as removed; those the kernel refuses to remove stay in `still_there`.
struct LeftoverReport {
  std::size_t removed = 0;
  std::size_t already_gone = 0;
  JournalState still_there;
  std::vector<std::string> errors;  // one line per object that could not be removed
};
using VtiDeleter = std::function<std::error_code(const std::string& name)>;
LeftoverReport RemoveLeftovers(const JournalState& leftovers, xfrm::KernelIpsec& kernel,
                               const VtiDeleter& delete_vti);

}  // namespace minivpn::daemon
