// strongSwan proposal strings ("aes256gcm16-prfsha256-x25519,aes128-sha256-modp2048!") into
// structured IKE / ESP proposals using the IANA enums of crypto/algorithms.h.
//
// Syntax (as charon): proposals separated by ',', algorithm keywords by '-'; a trailing '!'
// (ipsec.conf) makes the list strict. In IKEv2 one proposal may list several algorithms of a
// kind: all are offered (RFC 7296 3.3). Rules applied here, as charon does:
//  - IKE without an explicit PRF gets the PRFs matching its integrity algorithms
//    (sha256 -> prfsha256); an AEAD IKE proposal needs a PRF (explicit or so derived) and
//    carries no integrity algorithm (RFC 5282 8);
//  - a proposal mixing AEAD and non-AEAD ciphers is split into an AEAD and a non-AEAD one;
//  - ESP without esn/noesn offers noesn only; ESP with a DH group uses it for PFS rekeying;
//  - "default" stands for minivpn's default proposal set (kDefault* below);
//  - ESP-only ciphers (AES-CTR, AES-CCM) in an IKE proposal are dropped with a warning (so is a
//    proposal left without a cipher); no proposal left at all is an error;
//  - deprecated algorithms (3DES, MD5, SHA-1, MODP 1024/1536) are accepted with a warning.
#pragma once

#include <expected>
#include <string>
#include <string_view>
#include <vector>

#include "cli/config/model.h"

namespace minivpn::config {

template <typename P>
struct ProposalList {
  std::vector<P> proposals{};
  bool strict = false;  // the string ended in '!'
  // One sentence per deprecated algorithm the string names (crypto::WeaknessOf): it is
  // negotiated, as charon does, and the loader reports each as a warning.
  std::vector<std::string> warnings{};
};

std::expected<ProposalList<IkeProposal>, std::string> ParseIkeProposals(std::string_view text);
std::expected<ProposalList<EspProposal>, std::string> ParseEspProposals(std::string_view text);

// minivpn's defaults (used when proposals are unset, for "default", and appended to a
// non-strict ipsec.conf ike=/esp= as charon appends its own).
std::vector<IkeProposal> DefaultIkeProposals();
std::vector<EspProposal> DefaultEspProposals();

// "aes256gcm16-prfsha256-x25519": the canonical keyword form, for logs and list-conns.
std::string ToString(const IkeProposal& proposal);
std::string ToString(const EspProposal& proposal);

}  // namespace minivpn::config
