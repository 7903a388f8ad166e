// Pure negotiation helpers of the engine: proposals (RFC 7296 2.7, 3.3), traffic selectors
// (2.9, 3.13), identities (3.5) and NAT detection hashes (2.23). No state, no I/O.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "crypto/bytes.h"
#include "ike/engine/engine_config.h"
#include "ike/engine/engine_types.h"
#include "ike/wire/message.h"

namespace minivpn::ike {

// The transforms chosen for an IKE SA.
struct IkeChoice {
  IkeSuite suite{};
  std::uint8_t number = 1;
  Bytes spi{};  // the proposer's SPI (8 octets in an IKE rekey, empty in IKE_SA_INIT)
};

struct EspChoice {
  EspSuite suite{};
  std::uint8_t number = 1;
  std::uint32_t spi = 0;  // the proposer's inbound SPI
};

// 3.3: our proposals, numbered from 1 in configured order. `spi` is empty in IKE_SA_INIT and
// the new 8-octet SPI in an IKE rekey.
SaPayload OfferIke(const std::vector<IkeProposal>& proposals, ByteView spi);
// ESP proposals with our inbound SPI; DH transforms only when `with_dh` (CREATE_CHILD_SA).
SaPayload OfferEsp(const std::vector<EspProposal>& proposals, std::uint32_t spi, bool with_dh);
// The single proposal of a response.
SaPayload AnswerIke(const IkeSuite& suite, std::uint8_t number, ByteView spi);
SaPayload AnswerEsp(const EspSuite& suite, std::uint8_t number, std::uint32_t spi);

// 2.7 responder: the first of our proposals (our preference first, as charon) that one of the
// peer's proposals also offers. For the DH transform the peer's KE group is preferred when
// acceptable, so that INVALID_KE_PAYLOAD is only needed when it is not. `spi_size` is 0 in
// IKE_SA_INIT and 8 in an IKE rekey.
std::optional<IkeChoice> SelectIke(const std::vector<IkeProposal>& ours, const SaPayload& theirs,
                                   crypto::DhGroup ke_group, std::size_t spi_size);
// ESP: `with_dh` false in IKE_AUTH (DH transforms are ignored there, 1.2).
std::optional<EspChoice> SelectEsp(const std::vector<EspProposal>& ours, const SaPayload& theirs,
                                   bool with_dh, crypto::DhGroup ke_group);
// Initiator side: the response must hold exactly one proposal with one transform per type,
// all taken from the proposal with that number that we sent (bad-inputs C).
std::optional<IkeChoice> AcceptIke(const std::vector<IkeProposal>& ours, const SaPayload& answer,
                                   std::size_t spi_size);
std::optional<EspChoice> AcceptEsp(const std::vector<EspProposal>& ours, const SaPayload& answer,
                                   bool with_dh);
// True if `group` appears in any of our proposals.
bool OffersGroup(const std::vector<IkeProposal>& ours, crypto::DhGroup group);
bool OffersGroup(const std::vector<EspProposal>& ours, crypto::DhGroup group);

std::string Describe(const IkeSuite& suite);  // "AES_GCM_16_256/PRF_HMAC_SHA2_256/CURVE_25519"
std::string Describe(const EspSuite& suite);  // "AES_GCM_16_256/NO_EXT_SEQ"

// charon's dynamic selectors: each entry without an address (config "dynamic", "dynamic[gre]")
// becomes `host` as a host prefix, its protocol and ports kept (unset `host`: left as it is).
// Resolved per IKE SA, since a config may answer several peer addresses.
std::vector<xfrm::Selector> ResolveDynamic(std::vector<xfrm::Selector> list,
                                           const xfrm::IpAddress& host);

// 3.13.1: one selector per entry, in order.
TsPayload ToTsPayload(const std::vector<xfrm::Selector>& selectors);
// 2.9 narrowing as charon does it, for both roles: each of `ours` intersected (addresses,
// protocol, ports) with each of the peer's selectors; the results in our order, without those
// another result already covers. An intersection that is not a prefix (a peer's odd address
// range) cannot become a kernel policy and is skipped. Empty = TS_UNACCEPTABLE.
std::vector<xfrm::Selector> NarrowTs(const std::vector<xfrm::Selector>& ours,
                                     const TsPayload& theirs);
// Responder: the selectors `cfg` grants for the initiator's TSi/TSr, and the mode: transport
// when the initiator asked (USE_TRANSPORT_MODE), `cfg` is configured for it and every selector
// is one of the IKE hosts (charon's check_mode); tunnel otherwise. nullopt = TS_UNACCEPTABLE.
std::optional<ChildTs> NarrowChildTs(const std::vector<xfrm::Selector>& local,
                                     const std::vector<xfrm::Selector>& remote, bool cfg_transport,
                                     const TsPayload& tsi, const TsPayload& tsr,
                                     bool transport_asked, const xfrm::IpAddress& local_host,
                                     const xfrm::IpAddress& remote_host);
// Responder (2.9): the child config charon's select_child_cfg picks for the initiator's TSi/TSr,
// and what it grants. The best scored wins (per side, for each pair of a configured selector and
// one of the peer's: 20 if equal, 5 if the peer's lies inside ours, 1 if ours inside the peer's;
// both sides must score); without such a match, the first config that narrows.
struct ChildSelection {
  const ChildConfig* cfg = nullptr;
  ChildTs ts{};
};
std::optional<ChildSelection> SelectChildConfig(const std::vector<ChildConfig>& children,
                                                const TsPayload& tsi, const TsPayload& tsr,
                                                bool transport_asked,
                                                const xfrm::IpAddress& local_host,
                                                const xfrm::IpAddress& remote_host);
// Initiator: the responder's answer narrowed to what we offered. A transport answer is refused
// unless we asked for it and every selector is one of the IKE hosts (charon's check_mode on the
// initiator: "mode requested by responder is unacceptable").
std::optional<ChildTs> AcceptChildTs(const std::vector<xfrm::Selector>& local,
                                     const std::vector<xfrm::Selector>& remote, bool asked_transport,
                                     const TsPayload& tsi, const TsPayload& tsr,
                                     bool answered_transport, const xfrm::IpAddress& local_host,
                                     const xfrm::IpAddress& remote_host);

IdPayload ToIdPayload(const Identity& id);
// An empty configured identity matches anything (%any).
// An FQDN or RFC822 identity starting with '*' matches any of that type ending in the rest
// ("*@example.org", "*.example.org", "*" alone: any), as charon's matches_string.
bool IdMatches(const Identity& configured, const IdPayload& received);
// Whether a config answers for `address` (charon's local_addrs/remote_addrs matching): any entry
// of `match` that holds it; with no list, `configured` itself (unset = any).
bool HostAccepted(const std::vector<xfrm::Subnet>& match, const xfrm::IpAddress& configured,
                  const xfrm::IpAddress& address);
// Printable form of a received identity for events (IDs are public; non-printable octets are
// escaped).
std::string DescribeId(const IdPayload& id);

// 2.23: SHA-1(SPIi | SPIr | IP | Port).
Bytes NatDetectionHash(std::uint64_t spi_i, std::uint64_t spi_r, const Endpoint& endpoint);

// Nonce comparison used by the collision rules of 2.8.1/2.8.2 (lexicographic on octets).
bool NonceLess(ByteView a, ByteView b);

// Big-endian helpers for SPIs carried in payloads.
Bytes SpiBytes64(std::uint64_t spi);
Bytes SpiBytes32(std::uint32_t spi);
std::optional<std::uint64_t> SpiFromBytes64(ByteView data);
std::optional<std::uint32_t> SpiFromBytes32(ByteView data);

}  // namespace minivpn::ike
