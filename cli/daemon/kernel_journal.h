// What minivpnd installed in the kernel, written down as it happens, so that a minivpnd that
// starts after one that died (kill -9, crash, power cut of the process) removes exactly the
// state of its predecessor and nothing else — xfrm states and policies carry no owner, and
// charon's values (reqids from 1, no tags) must be reproduced exactly, so the owner is recorded
// beside the kernel instead of in it.
//
// The journal is an append-only text file (one line per operation, O(1) per install, fine for
// 10,000 tunnels); replaying it gives the objects still installed:
//   +sa <src> <dst> <spi> <proto> <mark>/<mask>      -sa ...
//   +pol <src> <dst> <in|out|fwd> <mark>/<mask>      -pol ...   (one line per reference)
//   +vti <name>                                      -vti <name>
// JournalingKernel is a KernelIpsec decorator: every successful AddSa/DelSa/AddPolicy/DelPolicy
// of the real kernel is recorded.
#pragma once

#include <cstdio>
#include <expected>
#include <map>
#include <set>
#include <string>
#include <system_error>
#include <tuple>
#include <vector>

#include "xfrm/kernel_ipsec.h"

namespace minivpn::daemon {

struct JournalState {
  std::vector<xfrm::SaId> sas;
  std::vector<xfrm::PolicyId> policies;  // each listed once per outstanding reference
  std::vector<std::string> vtis;
};

// Replays a journal's lines. Malformed lines are skipped and counted in *bad_lines.
JournalState ReplayJournal(std::string_view text, std::size_t* bad_lines = nullptr);

class KernelJournal {
 public:
  // Opens (creating, mode 0600) the journal for appending.
  static std::expected<KernelJournal, std::string> Open(const std::string& path);
  KernelJournal(KernelJournal&&) noexcept;
  KernelJournal& operator=(KernelJournal&&) noexcept;
  ~KernelJournal();

  // What an earlier process left behind (the file's current content).
  std::expected<JournalState, std::string> ReadLeftovers() const;
  // Empties the journal (after the leftovers were removed).
  std::error_code Truncate();

  void SaAdded(const xfrm::SaId& id) { Append('+', "sa", Format(id)); }
  void SaRemoved(const xfrm::SaId& id) { Append('-', "sa", Format(id)); }
  void PolicyAdded(const xfrm::PolicyId& id) { Append('+', "pol", Format(id)); }
  void PolicyRemoved(const xfrm::PolicyId& id) { Append('-', "pol", Format(id)); }
  void VtiAdded(const std::string& name) { Append('+', "vti", name); }
  void VtiRemoved(const std::string& name) { Append('-', "vti", name); }

  static std::string Format(const xfrm::SaId& id);
  static std::string Format(const xfrm::PolicyId& id);

 private:
  KernelJournal(std::string path, int fd) : path_(std::move(path)), fd_(fd) {}
  void Append(char op, std::string_view kind, std::string_view body);

  std::string path_;
  int fd_ = -1;
};

// Records what the wrapped kernel did. Only successful operations are journaled.
class JournalingKernel final : public xfrm::KernelIpsec {
 public:
  JournalingKernel(xfrm::KernelIpsec& inner, KernelJournal& journal)
      : inner_(inner), journal_(journal) {}

  std::expected<std::uint32_t, std::error_code> AllocSpi(const xfrm::IpAddress& src,
                                                         const xfrm::IpAddress& dst,
                                                         std::uint32_t reqid) override;
  std::error_code AddSa(const xfrm::SaSpec& spec) override;
  std::error_code DelSa(const xfrm::SaId& id) override;
  std::expected<xfrm::SaCounters, std::error_code> QuerySa(const xfrm::SaId& id) override;
  std::error_code AddPolicy(const xfrm::PolicySpec& spec) override;
  std::error_code UpdatePolicy(const xfrm::PolicySpec& spec) override;
  std::error_code DelPolicy(const xfrm::PolicyId& id) override;

 private:
  xfrm::KernelIpsec& inner_;
  KernelJournal& journal_;
};

}  // namespace minivpn::daemon
