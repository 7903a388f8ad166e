// What minivpnd does to its own process before it reads a secret (issue 18): no core dump may
// hold a PSK, SK_* or ESP key. PR_SET_DUMPABLE 0 stops core dumps (and ptrace attach by other
// users, and /proc/<pid>/mem reads by anyone but root); RLIMIT_CORE 0 covers a later setuid
// change that would make the process dumpable again.
#pragma once

#include <system_error>

namespace minivpn::daemon {

std::error_code KeepSecretsOutOfCoreDumps();

}  // namespace minivpn::daemon
