// libFuzzer target for the kernel journal's replay (cli/daemon/kernel_journal.h), which a
// minivpnd started after a crash runs over whatever the dead one left in
// /run/minivpn/kernel.journal (torn lines included). For every input:
//   - ReplayJournal never crashes, and gives the same state with and without stats;
//   - ReplayStats.lines is the number of non-empty lines, bad_lines at most that many, and the
//     state holds at most one entry per '+' line;
//   - the compacted form of the state ("+sa <body>", "+pol <body>", "+vti <name>" lines, bodies
//     from JournalEntry::Sa/Policy/Vti) replays without a bad line to the same entries (as a
//     multiset: differently spelled lines of one object may reorder), and compacting that again
//     gives the same text;
//   - KernelJournal::Reset(state) (the compaction writer, in a private file) followed by
//     ReadLeftovers gives the same entries again.
#include <unistd.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "cli/daemon/kernel_journal.h"
#include "tests/fuzz/fuzz_util.h"

namespace {

using namespace minivpn;  // NOLINT
using daemon::JournalEntry;
using daemon::JournalState;
using daemon::ReplayStats;

[[noreturn]] void Fail(const std::string& what) {
  std::fprintf(stderr, "journal_fuzzer: %s\n", what.c_str());
  std::abort();
}

std::string Compact(const JournalState& state) {
  std::string text;
  for (const auto& id : state.sas) text += "+sa " + JournalEntry::Sa(id).body + "\n";
  for (const auto& id : state.policies) text += "+pol " + JournalEntry::Policy(id).body + "\n";
  for (const auto& name : state.vtis) text += "+vti " + JournalEntry::Vti(name).body + "\n";
  return text;
}

template <typename T>
bool SameMultiset(std::vector<T> a, std::vector<T> b) {
  if (a.size() != b.size()) return false;
  for (const T& x : a) {
    auto it = std::find(b.begin(), b.end(), x);
    if (it == b.end()) return false;
    b.erase(it);
  }
  return b.empty();
}

bool SameEntries(const JournalState& a, const JournalState& b) {
  return SameMultiset(a.sas, b.sas) && SameMultiset(a.policies, b.policies) &&
         SameMultiset(a.vtis, b.vtis);
}

bool Identical(const JournalState& a, const JournalState& b) {
  return a.sas == b.sas && a.policies == b.policies && a.vtis == b.vtis;
}

// A private directory for KernelJournal's file (and its .new), removed at exit. Never destroyed
// itself, so that the exit handler can still use it.
const std::string& JournalPath() {
  static const std::string* const path = [] {
    const std::string dir = minivpn::fuzz::MakePrivateDir("minivpn-journal-fuzz");
    if (dir.empty()) Fail("mkdtemp failed");
    std::atexit([] {
      const std::string& p = JournalPath();
      ::unlink(p.c_str());
      ::unlink((p + ".new").c_str());
      ::rmdir(p.substr(0, p.rfind('/')).c_str());
    });
    return new std::string(dir + "/kernel.journal");
  }();
  return *path;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  ReplayStats stats;
  const JournalState state = daemon::ReplayJournal(text, &stats);
  if (!Identical(state, daemon::ReplayJournal(text))) Fail("replay depends on the stats pointer");

  std::size_t non_empty = 0;
  std::size_t plus_lines = 0;
  for (std::size_t pos = 0; pos < text.size();) {
    std::size_t eol = text.find('\n', pos);
    if (eol == std::string_view::npos) eol = text.size();
    if (eol > pos) ++non_empty;
    if (eol > pos && text[pos] == '+') ++plus_lines;
    pos = eol + 1;
  }
  if (stats.lines != non_empty) {
    Fail("ReplayStats.lines " + std::to_string(stats.lines) + " != non-empty lines " +
         std::to_string(non_empty));
  }
  if (stats.bad_lines > stats.lines) Fail("more bad lines than lines");
  if (state.size() > plus_lines) Fail("more entries than '+' lines");

  const std::string compact = Compact(state);
  ReplayStats compact_stats;
  const JournalState again = daemon::ReplayJournal(compact, &compact_stats);
  if (compact_stats.bad_lines != 0) Fail("the compacted journal has bad lines:\n" + compact);
  if (compact_stats.lines != state.size()) Fail("the compacted journal has a wrong line count");
  if (!SameEntries(state, again)) Fail("the compacted journal replays to other entries:\n" + compact);
  if (Compact(daemon::ReplayJournal(Compact(again))) != Compact(again)) {
    Fail("compaction is not stable");
  }

  // The daemon's own compaction writer.
  auto journal = daemon::KernelJournal::Open(JournalPath());
  if (!journal) Fail(journal.error());
  if (auto ec = journal->Reset(state)) Fail("KernelJournal::Reset: " + ec.message());
  ReplayStats file_stats;
  auto leftovers = journal->ReadLeftovers(&file_stats);
  if (!leftovers) Fail(leftovers.error());
  if (file_stats.bad_lines != 0 || !SameEntries(state, *leftovers)) {
    Fail("Reset + ReadLeftovers gives other entries");
  }
  if (journal->lines() != state.size()) Fail("KernelJournal::lines() after Reset");
  return 0;
}
