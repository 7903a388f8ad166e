#include "cli/daemon/process_hardening.h"

#include <sys/prctl.h>
#include <sys/resource.h>

#include <cerrno>

namespace minivpn::daemon {

std::error_code KeepSecretsOutOfCoreDumps() {
  const rlimit none{0, 0};
  if (::setrlimit(RLIMIT_CORE, &none) != 0) return {errno, std::generic_category()};
  if (::prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0) return {errno, std::generic_category()};
  return {};
}

}  // namespace minivpn::daemon
