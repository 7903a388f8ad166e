// Keys charon 5.9.8 knows that minivpn does not act on, for each section of swanctl.conf and
// ipsec.conf, with what minivpn says about them (issue 21: what charon accepts, minivpn accepts
// and does the same; what it cannot do is a clear error). The keys minivpn honours are handled by
// the loaders themselves; docs/config.md lists both, and tests/cli/config_doc_keys_test.cc checks
// the page against these tables and the loaders.
//
// Set to one of its `silent` values (charon's default, or a value that changes nothing for an
// IKEv2 PSK tunnel) a key is accepted without a word: leaving it out does the same. Any other
// value is a warning (kIgnored: charon ignores it too for such a tunnel, or it is cosmetic) or an
// error (kUnsupported: charon would do something minivpn cannot).
#pragma once

#include <span>
#include <string_view>

#include "cli/config/diagnostic.h"

namespace minivpn::config {

enum class KeyStatus : unsigned char { kIgnored, kUnsupported };

struct CharonKey {
  std::string_view key;
  KeyStatus status;
  std::string_view why;          // the reason, appended to the diagnostic
  std::string_view silent = "";  // '|'-separated values accepted without a word
  // '|'-separated values charon accepts; anything else is an invalid value (an error, as in
  // charon). "%bool" = a boolean; empty = any value.
  std::string_view values = "";
};

// swanctl.conf: connections.<conn>, its local/remote sections, children.<child>.
std::span<const CharonKey> SwanctlConnectionKeys();
std::span<const CharonKey> SwanctlAuthKeys();
std::span<const CharonKey> SwanctlChildKeys();
// ipsec.conf conn sections: the conn's own keys, and the per-side ones without their left/right
// prefix ("sendcert" stands for leftsendcert and rightsendcert).
std::span<const CharonKey> IpsecConnKeys();
std::span<const CharonKey> IpsecSideKeys();

const CharonKey* FindCharonKey(std::span<const CharonKey> table, std::string_view key);

// The diagnostic for `key` (as the file spells it, e.g. "leftsendcert") set to `value`: none for
// a silent value, an error for an invalid one, else a warning or an error that names the key (and
// the value, when other values would be silent) and says why. `assign` is how the format writes
// an assignment: " = " (swanctl.conf) or "=" (ipsec.conf).
void ReportCharonKey(const CharonKey& entry, std::string_view key, std::string_view value,
                     std::string_view assign, const Location& where, Diagnostics& d);

}  // namespace minivpn::config
