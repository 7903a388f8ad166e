// Small helpers shared by the fuzzers.
#pragma once

#include <dirent.h>
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstdlib>
#include <string>
#include <string_view>

namespace minivpn::fuzz {

// Checks a fuzzer may skip: MINIVPN_FUZZ_IGNORE="name,name" names findings that are known and
// reported but not fixed yet, so that a local run can go on looking for other bugs (tests/
// fuzz/fuzzers.cmake passes the cache variable of that name on; empty by default: every check
// is fatal).
inline bool Ignored(std::string_view check) {
  const char* env = std::getenv("MINIVPN_FUZZ_IGNORE");
  if (env == nullptr) return false;
  std::string_view list(env);
  while (!list.empty()) {
    const std::size_t comma = list.find(',');
    if (list.substr(0, comma) == check) return true;
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 1);
  }
  return false;
}

// A fresh private directory /dev/shm/<prefix>-<pid>-XXXXXX (else under /tmp); empty string if
// none can be made. A fuzzer that crashes cannot remove its directory, so directories of this
// prefix whose process is gone are removed first (with the files in them: no subdirectories).
inline std::string MakePrivateDir(std::string_view prefix) {
  for (const char* base : {"/dev/shm", "/tmp"}) {
    if (DIR* d = ::opendir(base)) {
      const std::string head = std::string(prefix) + "-";
      while (const dirent* e = ::readdir(d)) {
        const std::string_view name(e->d_name);
        if (!name.starts_with(head)) continue;
        const std::string_view rest = name.substr(head.size());
        int pid = 0;
        const auto [end, ec] = std::from_chars(rest.data(), rest.data() + rest.size(), pid);
        if (ec != std::errc{} || end == rest.data() || *end != '-' || pid <= 0) continue;
        if (::kill(pid, 0) == 0 || errno != ESRCH) continue;  // still running (or not ours)
        const std::string dir = std::string(base) + "/" + std::string(name);
        if (DIR* stale = ::opendir(dir.c_str())) {
          while (const dirent* f = ::readdir(stale)) {
            const std::string_view file(f->d_name);
            if (file != "." && file != "..") ::unlink((dir + "/" + std::string(file)).c_str());
          }
          ::closedir(stale);
        }
        ::rmdir(dir.c_str());
      }
      ::closedir(d);
    }
    std::string tmpl = std::string(base) + "/" + std::string(prefix) + "-" +
                       std::to_string(::getpid()) + "-XXXXXX";
    if (::mkdtemp(tmpl.data()) != nullptr) return tmpl;
  }
  return {};
}

}  // namespace minivpn::fuzz
