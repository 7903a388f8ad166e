// The peer configurations the engine fuzzers run with: AES-GCM-256 / HMAC-SHA2-256 / X25519
// for IKE, AES-GCM-256 with an X25519 PFS group for ESP, FQDN identities, DPD every 30 s.
#pragma once

#include <cstdint>
#include <vector>

#include "ike/engine/engine_config.h"

namespace minivpn::fuzz {

inline xfrm::IpAddress FuzzIp(const char* s) { return *xfrm::IpAddress::Parse(s); }

// A route-based child: selectors local_ts <-> remote_ts, VTI key (mark) `mark`.
inline ike::ChildConfig FuzzChild(const char* name, const char* local_ts, const char* remote_ts,
                                  std::uint32_t mark) {
  ike::ChildConfig c;
  c.name = name;
  c.local_ts = {xfrm::Selector::Of(*xfrm::Subnet::Parse(local_ts))};
  c.remote_ts = {xfrm::Selector::Of(*xfrm::Subnet::Parse(remote_ts))};
  c.mark_in = c.mark_out = xfrm::Mark{mark, 0xffffffff};
  c.proposals = {ike::EspProposal{.encr = {{crypto::EncrId::kAesGcm16, 256}},
                                  .integ = {},
                                  .dh = {crypto::DhGroup::kCurve25519},
                                  .esn = {ike::EsnId::kNoEsn}}};
  return c;
}

inline ike::PeerConfig FuzzPeer(const char* name, const char* local, const char* remote,
                                const char* local_id, const char* remote_id, const char* psk,
                                std::vector<ike::ChildConfig> children) {
  ike::PeerConfig p;
  p.name = name;
  p.local_address = FuzzIp(local);
  p.remote_address = FuzzIp(remote);
  p.proposals = {ike::IkeProposal{.encr = {{crypto::EncrId::kAesGcm16, 256}},
                                  .integ = {},
                                  .prf = {crypto::PrfId::kHmacSha2_256},
                                  .dh = {crypto::DhGroup::kCurve25519}}};
  p.local_id = ike::Identity{ike::IdType::kFqdn, local_id};
  p.remote_id = ike::Identity{ike::IdType::kFqdn, remote_id};
  p.psk = SecretBytes::FromString(psk);
  p.dpd_delay = std::chrono::seconds(30);
  p.children = std::move(children);
  return p;
}

}  // namespace minivpn::fuzz
