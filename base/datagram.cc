#include "base/datagram.h"

namespace minivpn::base {

std::string Endpoint::ToString() const {
  return address.ToString() + "[" + std::to_string(port) + "]";
}

}  // namespace minivpn::base
