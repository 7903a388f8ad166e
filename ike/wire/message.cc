// Lookups on a decoded message (message.h).
#include "ike/wire/message.h"

#include <variant>

namespace minivpn::ike {

const Payload* Message::Find(PayloadType type) const {
  for (const Payload& p : payloads) {
    if (p.type == type) return &p;
  }
  return nullptr;
}

const NotifyPayload* Message::FindNotify(NotifyType type) const {
  for (const Payload& p : payloads) {
    if (const auto* n = std::get_if<NotifyPayload>(&p.body); n != nullptr && n->type == type) {
      return n;
    }
  }
  return nullptr;
}

}  // namespace minivpn::ike
