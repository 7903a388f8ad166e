#include "base/vti_rules.h"

#include <net/if.h>

namespace minivpn::base {

bool IsValidInterfaceName(std::string_view name) {
  if (name.empty() || name.size() >= IFNAMSIZ || name == "." || name == "..") return false;
  for (const char c : name) {
    if (c == '/' || c == ':' || c <= ' ' || c == 0x7f) return false;
  }
  return true;
}

}  // namespace minivpn::base
