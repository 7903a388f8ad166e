// minivpn-journal-bench: how long a starting minivpnd needs to read its kernel journal (issue 17).
//
//   minivpn-journal-bench [--live 10000] [--churn-lines 1000000] [--runs 5]
//
// Builds a journal holding `live` objects (2 SAs + 3 policies per tunnel, written with the
// write-ahead steps) interleaved with `churn-lines` lines of SAs that came and went (rekeys:
// +? += -? -= each), writes it to a temporary file, and times replay on it: ReplayJournal over
// the text in memory, and KernelJournal::ReadLeftovers (read + replay) from the file. Prints the
// best and the median of the runs. Compaction keeps a real journal far smaller than this
// (2 x live + 1024 lines); this is the worst case of a file that was never compacted.
// charon keeps no such journal, so there is no charon figure to put beside it.
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include <fmt/core.h>

#include "cli/daemon/kernel_journal.h"

namespace {

using minivpn::daemon::JournalEntry;
using minivpn::daemon::JournalState;
using minivpn::daemon::KernelJournal;
using minivpn::daemon::ReplayStats;

std::size_t Option(int argc, char** argv, const char* name, std::size_t def) {
  for (int i = 1; i + 1 < argc; ++i)
    if (std::string(argv[i]) == name) return std::strtoull(argv[i + 1], nullptr, 10);
  return def;
}

std::string Address(std::size_t i) {
  return fmt::format("10.{}.{}.{}", (i >> 16) & 0xff, (i >> 8) & 0xff, i & 0xff);
}

std::string Text(const char* op, const JournalEntry& e) {
  const char* kind = e.kind == minivpn::daemon::JournalKind::kSa ? "sa" : "pol";
  return fmt::format("{}{} {}\n", op, kind, e.body);
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  const std::size_t live = Option(argc, argv, "--live", 10000);
  const std::size_t churn_lines = Option(argc, argv, "--churn-lines", 1000000);
  const std::size_t runs = std::max<std::size_t>(1, Option(argc, argv, "--runs", 5));
  namespace xfrm = minivpn::xfrm;

  // Live objects: per tunnel the inbound + outbound SA and IN/FWD/OUT policies (own mark each).
  std::vector<JournalEntry> objects;
  for (std::size_t t = 0; objects.size() < live; ++t) {
    const auto local = *xfrm::IpAddress::Parse("192.0.2.1");
    const auto remote = *xfrm::IpAddress::Parse(Address(t + 1));
    const auto mark = xfrm::Mark::Exact(static_cast<std::uint32_t>(t + 1));
    objects.push_back(JournalEntry::Sa({remote, local, 0xc0000000u + static_cast<std::uint32_t>(t), 50, xfrm::Mark::None()}));
    objects.push_back(JournalEntry::Sa({local, remote, 0xc8000000u + static_cast<std::uint32_t>(t), 50, mark}));
    for (auto dir : {xfrm::PolicyDir::kIn, xfrm::PolicyDir::kFwd, xfrm::PolicyDir::kOut})
      objects.push_back(JournalEntry::Policy({*xfrm::Subnet::Parse("0.0.0.0/0"), *xfrm::Subnet::Parse("0.0.0.0/0"), dir, mark}));
  }
  objects.resize(live);

  std::string text;
  text.reserve((live * 2 + churn_lines) * 64);
  std::size_t lines = 0;
  std::size_t next_live = 0;
  std::uint32_t spi = 0x10000000;
  // Interleave: the live objects are spread through the churn.
  const std::size_t churn_objects = churn_lines / 4;
  const std::size_t every = churn_objects / std::max<std::size_t>(1, live) + 1;
  for (std::size_t c = 0; c < churn_objects || next_live < live; ++c) {
    if (c % every == 0 && next_live < live) {
      text += Text("+?", objects[next_live]);
      text += Text("+=", objects[next_live]);
      lines += 2;
      ++next_live;
    }
    if (c < churn_objects) {
      const auto gone = JournalEntry::Sa({*xfrm::IpAddress::Parse("192.0.2.1"),
                                          *xfrm::IpAddress::Parse(Address(c % 60000 + 1)), spi++, 50,
                                          xfrm::Mark::Exact(static_cast<std::uint32_t>(c % 60000 + 1))});
      for (const char* op : {"+?", "+=", "-?", "-="}) text += Text(op, gone);
      lines += 4;
    }
  }

  char path[] = "/tmp/minivpn-journal-bench-XXXXXX";
  const int fd = ::mkstemp(path);
  if (fd < 0) return 1;
  ::close(fd);
  std::ofstream(path) << text;
  auto journal = KernelJournal::Open(path);
  if (!journal) {
    std::fprintf(stderr, "%s\n", journal.error().c_str());
    return 1;
  }

  std::vector<double> in_memory, from_file;
  JournalState state;
  ReplayStats stats;
  for (std::size_t r = 0; r < runs; ++r) {
    auto t0 = std::chrono::steady_clock::now();
    state = minivpn::daemon::ReplayJournal(text, &stats);
    auto t1 = std::chrono::steady_clock::now();
    auto read = journal->ReadLeftovers();
    auto t2 = std::chrono::steady_clock::now();
    if (!read || read->size() != state.size()) {
      std::fprintf(stderr, "replay from the file disagrees\n");
      return 1;
    }
    in_memory.push_back(std::chrono::duration<double, std::milli>(t1 - t0).count());
    from_file.push_back(std::chrono::duration<double, std::milli>(t2 - t1).count());
  }
  ::unlink(path);
  if (state.size() != live || stats.bad_lines != 0) {
    std::fprintf(stderr, "replay found %zu live objects (expected %zu), %zu bad lines\n",
                 state.size(), live, stats.bad_lines);
    return 1;
  }
  std::printf("kernel journal replay: %zu live objects, %zu lines (%.1f MiB), %zu runs\n", live,
              lines, static_cast<double>(text.size()) / (1 << 20), runs);
  std::printf("  ReplayJournal (in memory)      best %8.1f ms   median %8.1f ms\n",
              *std::min_element(in_memory.begin(), in_memory.end()), Median(in_memory));
  std::printf("  ReadLeftovers (read + replay)  best %8.1f ms   median %8.1f ms\n",
              *std::min_element(from_file.begin(), from_file.end()), Median(from_file));
  std::printf("  after compaction the file would hold %zu lines\n", live);
  return 0;
}
