#include "ike/engine/negotiation.h"

#include <sys/socket.h>

#include <algorithm>
#include <cctype>
#include <array>
#include <cstring>

#include "crypto/prf.h"

namespace minivpn::ike {

namespace {

using crypto::DhGroup;
using crypto::EncrId;
using crypto::IntegId;
using crypto::PrfId;

Transform EncrTransform(const EncrSpec& e) {
  Transform t;
  t.type = TransformType::kEncr;
  t.id = static_cast<std::uint16_t>(e.id);
  // 3.3.5: the Key Length attribute for variable-length ciphers (AES); 3DES and ChaCha20 have
  // none.
  if (!crypto::HasFixedKey(e.id)) t.key_length = e.key_bits;
  return t;
}

Transform Make(TransformType type, std::uint16_t id) {
  Transform t;
  t.type = type;
  t.id = id;
  return t;
}

Proposal MakeProposal(std::uint8_t number, ProtocolId protocol, Bytes spi) {
  Proposal p;
  p.number = number;
  p.protocol = protocol;
  p.spi = std::move(spi);
  return p;
}

template <typename E>
std::uint16_t U16(E e) {
  return static_cast<std::uint16_t>(e);
}

bool KnownType(TransformType t) {
  auto v = static_cast<std::uint8_t>(t);
  return v >= 1 && v <= 5;
}

bool SameEncr(const Transform& t, const EncrSpec& e) {
  if (t.type != TransformType::kEncr || t.id != U16(e.id)) return false;
  if (crypto::HasFixedKey(e.id)) return !t.key_length || *t.key_length == e.key_bits;
  return t.key_length && *t.key_length == e.key_bits;
}

bool Has(const Proposal& p, TransformType type, std::uint16_t id) {
  return std::any_of(p.transforms.begin(), p.transforms.end(),
                     [&](const Transform& t) { return t.type == type && t.id == id; });
}

bool HasType(const Proposal& p, TransformType type) {
  return std::any_of(p.transforms.begin(), p.transforms.end(),
                     [&](const Transform& t) { return t.type == type; });
}

// 3.3.6: a proposal with a transform type we do not know is unacceptable as a whole.
bool AllTypesKnown(const Proposal& p) {
  return std::all_of(p.transforms.begin(), p.transforms.end(),
                     [](const Transform& t) { return KnownType(t.type); });
}

// `esp`: ESP's ciphers (the kernel runs them) rather than the SK payload's.
std::optional<EncrSpec> PickEncr(const std::vector<EncrSpec>& ours, const Proposal& theirs,
                                 bool esp) {
  for (const auto& e : ours) {
    if (esp ? !crypto::IsSupportedForEsp(e.id, e.key_bits) : !crypto::IsSupported(e.id, e.key_bits))
      continue;
    for (const auto& t : theirs.transforms)
      if (SameEncr(t, e)) return e;
  }
  return std::nullopt;
}

template <typename E>
std::optional<E> PickFirst(const std::vector<E>& ours, const Proposal& theirs, TransformType type) {
  for (E e : ours)
    if (Has(theirs, type, U16(e))) return e;
  return std::nullopt;
}

// The DH group: the KE group if both accept it, else the first of ours the peer offers.
std::optional<DhGroup> PickDh(const std::vector<DhGroup>& ours, const Proposal& theirs,
                              DhGroup ke_group) {
  if (ke_group != DhGroup::kNone && std::find(ours.begin(), ours.end(), ke_group) != ours.end() &&
      Has(theirs, TransformType::kDh, U16(ke_group)) && crypto::IsSupported(ke_group))
    return ke_group;
  for (DhGroup g : ours)
    if (crypto::IsSupported(g) && Has(theirs, TransformType::kDh, U16(g))) return g;
  return std::nullopt;
}

// The response proposal must carry exactly one transform of each present type.
bool OnePerType(const Proposal& p) {
  std::array<int, 6> count{};
  for (const auto& t : p.transforms) {
    if (!KnownType(t.type)) return false;
    if (++count[static_cast<std::uint8_t>(t.type)] > 1) return false;
  }
  return true;
}

const Transform* FindType(const Proposal& p, TransformType type) {
  for (const auto& t : p.transforms)
    if (t.type == type) return &t;
  return nullptr;
}

struct Range {
  std::uint8_t family = 0;
  std::array<std::uint8_t, 16> start{};
  std::array<std::uint8_t, 16> end{};
  std::size_t len = 0;
};

std::size_t AddrLen(std::uint8_t family) { return family == AF_INET ? 4 : 16; }

Range SubnetRange(const xfrm::Subnet& s) {
  Range r;
  r.family = s.address.family;
  r.len = AddrLen(r.family);
  for (std::size_t i = 0; i < r.len; ++i) {
    int bits = std::clamp(static_cast<int>(s.prefix) - static_cast<int>(i * 8), 0, 8);
    auto mask = static_cast<std::uint8_t>(bits == 0 ? 0 : (0xff << (8 - bits)) & 0xff);
    r.start[i] = s.address.bytes[i] & mask;
    r.end[i] = static_cast<std::uint8_t>(s.address.bytes[i] | ~mask);
  }
  return r;
}

std::optional<Range> SelectorRange(const TrafficSelector& ts) {
  Range r;
  if (ts.ts_type == TsType::kIpv4AddrRange) {
    r.family = AF_INET;
  } else if (ts.ts_type == TsType::kIpv6AddrRange) {
    r.family = AF_INET6;
  } else {
    return std::nullopt;
  }
  r.len = AddrLen(r.family);
  if (ts.start_address.size() != r.len || ts.end_address.size() != r.len) return std::nullopt;
  std::copy(ts.start_address.begin(), ts.start_address.end(), r.start.begin());
  std::copy(ts.end_address.begin(), ts.end_address.end(), r.end.begin());
  return r;
}

bool Le(const std::array<std::uint8_t, 16>& a, const std::array<std::uint8_t, 16>& b,
        std::size_t len) {
  return std::memcmp(a.data(), b.data(), len) <= 0;
}

bool Within(const Range& inner, const Range& outer) {
  return inner.family == outer.family && Le(outer.start, inner.start, inner.len) &&
         Le(inner.end, outer.end, inner.len);
}

// Whether `outer` holds every packet `inner` does (addresses, protocol, ports).
bool Covers(const xfrm::Selector& outer, const xfrm::Selector& inner) {
  return Within(SubnetRange(inner.net), SubnetRange(outer.net)) &&
         (outer.proto == 0 || outer.proto == inner.proto) && outer.from_port <= inner.from_port &&
         inner.to_port <= outer.to_port;
}

// The subnet whose range is exactly `r`, if any.
std::optional<xfrm::Subnet> RangeToSubnet(const Range& r) {
  for (int prefix = 0; prefix <= static_cast<int>(r.len * 8); ++prefix) {
    xfrm::Subnet s;
    s.address.family = r.family;
    std::copy(r.start.begin(), r.start.begin() + static_cast<long>(r.len), s.address.bytes.begin());
    s.prefix = static_cast<std::uint8_t>(prefix);
    Range c = SubnetRange(s);
    if (std::memcmp(c.start.data(), r.start.data(), r.len) == 0 &&
        std::memcmp(c.end.data(), r.end.data(), r.len) == 0)
      return s;
  }
  return std::nullopt;
}

}  // namespace

SaPayload OfferIke(const std::vector<IkeProposal>& proposals, ByteView spi) {
  SaPayload sa;
  std::uint8_t number = 1;
  for (const auto& p : proposals) {
    Proposal out = MakeProposal(number++, ProtocolId::kIke, Bytes(spi.begin(), spi.end()));
    for (const auto& e : p.encr) out.transforms.push_back(EncrTransform(e));
    for (auto prf : p.prf) out.transforms.push_back(Make(TransformType::kPrf, U16(prf)));
    for (auto integ : p.integ) out.transforms.push_back(Make(TransformType::kInteg, U16(integ)));
    for (auto dh : p.dh) out.transforms.push_back(Make(TransformType::kDh, U16(dh)));
    sa.proposals.push_back(std::move(out));
  }
  return sa;
}

SaPayload OfferEsp(const std::vector<EspProposal>& proposals, std::uint32_t spi, bool with_dh) {
  SaPayload sa;
  std::uint8_t number = 1;
  for (const auto& p : proposals) {
    Proposal out = MakeProposal(number++, ProtocolId::kEsp, SpiBytes32(spi));
    for (const auto& e : p.encr) out.transforms.push_back(EncrTransform(e));
    for (auto integ : p.integ) out.transforms.push_back(Make(TransformType::kInteg, U16(integ)));
    if (with_dh)
      for (auto dh : p.dh) out.transforms.push_back(Make(TransformType::kDh, U16(dh)));
    for (auto esn : p.esn) out.transforms.push_back(Make(TransformType::kEsn, U16(esn)));
    sa.proposals.push_back(std::move(out));
  }
  return sa;
}

SaPayload AnswerIke(const IkeSuite& suite, std::uint8_t number, ByteView spi) {
  Proposal out = MakeProposal(number, ProtocolId::kIke, Bytes(spi.begin(), spi.end()));
  out.transforms.push_back(EncrTransform(suite.encr));
  out.transforms.push_back(Make(TransformType::kPrf, U16(suite.prf)));
  if (suite.integ != IntegId::kNone)
    out.transforms.push_back(Make(TransformType::kInteg, U16(suite.integ)));
  out.transforms.push_back(Make(TransformType::kDh, U16(suite.dh)));
  return SaPayload{.proposals = {std::move(out)}};
}

SaPayload AnswerEsp(const EspSuite& suite, std::uint8_t number, std::uint32_t spi) {
  Proposal out = MakeProposal(number, ProtocolId::kEsp, SpiBytes32(spi));
  out.transforms.push_back(EncrTransform(suite.encr));
  if (suite.integ != IntegId::kNone)
    out.transforms.push_back(Make(TransformType::kInteg, U16(suite.integ)));
  if (suite.dh != DhGroup::kNone) out.transforms.push_back(Make(TransformType::kDh, U16(suite.dh)));
  out.transforms.push_back(Make(TransformType::kEsn, U16(suite.esn ? EsnId::kEsn : EsnId::kNoEsn)));
  return SaPayload{.proposals = {std::move(out)}};
}

std::optional<IkeChoice> SelectIke(const std::vector<IkeProposal>& ours, const SaPayload& theirs,
                                   DhGroup ke_group, std::size_t spi_size) {
  for (const auto& p : ours) {
    for (const auto& q : theirs.proposals) {
      if (q.protocol != ProtocolId::kIke || q.spi.size() != spi_size || !AllTypesKnown(q)) continue;
      auto encr = PickEncr(p.encr, q, false);
      auto prf = PickFirst(p.prf, q, TransformType::kPrf);
      auto dh = PickDh(p.dh, q, ke_group);
      if (!encr || !prf || !dh || !crypto::IsSupported(*prf)) continue;
      IkeSuite suite{.encr = *encr, .prf = *prf, .dh = *dh};
      if (!crypto::IsAead(encr->id)) {
        auto integ = PickFirst(p.integ, q, TransformType::kInteg);
        if (!integ || !crypto::IsSupported(*integ)) continue;
        suite.integ = *integ;
      }
      return IkeChoice{.suite = suite, .number = q.number, .spi = q.spi};
    }
  }
  return std::nullopt;
}

std::optional<EspChoice> SelectEsp(const std::vector<EspProposal>& ours, const SaPayload& theirs,
                                   bool with_dh, DhGroup ke_group) {
  for (const auto& p : ours) {
    for (const auto& q : theirs.proposals) {
      if (q.protocol != ProtocolId::kEsp || q.spi.size() != 4 || !AllTypesKnown(q)) continue;
      auto encr = PickEncr(p.encr, q, true);
      if (!encr) continue;
      EspSuite suite{.encr = *encr};
      if (!crypto::IsAead(encr->id)) {
        auto integ = PickFirst(p.integ, q, TransformType::kInteg);
        if (!integ || !crypto::IsSupported(*integ)) continue;
        suite.integ = *integ;
      }
      // ESN: a proposal without ESN transforms means no ESN.
      std::vector<EsnId> esn_ours = p.esn.empty() ? std::vector{EsnId::kNoEsn} : p.esn;
      std::optional<EsnId> esn;
      if (HasType(q, TransformType::kEsn)) {
        esn = PickFirst(esn_ours, q, TransformType::kEsn);
      } else if (std::find(esn_ours.begin(), esn_ours.end(), EsnId::kNoEsn) != esn_ours.end()) {
        esn = EsnId::kNoEsn;
      }
      if (!esn) continue;
      suite.esn = *esn == EsnId::kEsn;
      if (with_dh) {
        bool peer_dh = HasType(q, TransformType::kDh) && !Has(q, TransformType::kDh, 0);
        if (!p.dh.empty()) {
          auto dh = PickDh(p.dh, q, ke_group);
          if (!dh) continue;
          suite.dh = *dh;
        } else if (peer_dh) {
          continue;  // the peer insists on PFS that we do not configure
        }
      }
      auto spi = SpiFromBytes32(q.spi);
      if (!spi || *spi == 0) continue;
      return EspChoice{.suite = suite, .number = q.number, .spi = *spi};
    }
  }
  return std::nullopt;
}

std::optional<IkeChoice> AcceptIke(const std::vector<IkeProposal>& ours, const SaPayload& answer,
                                   std::size_t spi_size) {
  if (answer.proposals.size() != 1) return std::nullopt;
  const Proposal& a = answer.proposals[0];
  if (a.protocol != ProtocolId::kIke || a.spi.size() != spi_size || !OnePerType(a) ||
      a.number == 0 || a.number > ours.size())
    return std::nullopt;
  const IkeProposal& p = ours[a.number - 1];
  const Transform* encr = FindType(a, TransformType::kEncr);
  const Transform* prf = FindType(a, TransformType::kPrf);
  const Transform* integ = FindType(a, TransformType::kInteg);
  const Transform* dh = FindType(a, TransformType::kDh);
  if (!encr || !prf || !dh || HasType(a, TransformType::kEsn)) return std::nullopt;
  IkeSuite suite;
  auto e = std::find_if(p.encr.begin(), p.encr.end(),
                        [&](const EncrSpec& s) { return SameEncr(*encr, s); });
  if (e == p.encr.end()) return std::nullopt;
  suite.encr = *e;
  auto f = std::find_if(p.prf.begin(), p.prf.end(), [&](PrfId x) { return U16(x) == prf->id; });
  auto g = std::find_if(p.dh.begin(), p.dh.end(), [&](DhGroup x) { return U16(x) == dh->id; });
  if (f == p.prf.end() || g == p.dh.end()) return std::nullopt;
  suite.prf = *f;
  suite.dh = *g;
  if (crypto::IsAead(e->id)) {
    if (integ && integ->id != 0) return std::nullopt;
  } else {
    if (!integ) return std::nullopt;
    auto i = std::find_if(p.integ.begin(), p.integ.end(),
                          [&](IntegId x) { return U16(x) == integ->id; });
    if (i == p.integ.end()) return std::nullopt;
    suite.integ = *i;
  }
  return IkeChoice{.suite = suite, .number = a.number, .spi = a.spi};
}

std::optional<EspChoice> AcceptEsp(const std::vector<EspProposal>& ours, const SaPayload& answer,
                                   bool with_dh) {
  if (answer.proposals.size() != 1) return std::nullopt;
  const Proposal& a = answer.proposals[0];
  if (a.protocol != ProtocolId::kEsp || a.spi.size() != 4 || !OnePerType(a) || a.number == 0 ||
      a.number > ours.size())
    return std::nullopt;
  const EspProposal& p = ours[a.number - 1];
  const Transform* encr = FindType(a, TransformType::kEncr);
  const Transform* integ = FindType(a, TransformType::kInteg);
  const Transform* dh = FindType(a, TransformType::kDh);
  const Transform* esn = FindType(a, TransformType::kEsn);
  if (!encr) return std::nullopt;
  EspSuite suite;
  auto e = std::find_if(p.encr.begin(), p.encr.end(),
                        [&](const EncrSpec& s) { return SameEncr(*encr, s); });
  if (e == p.encr.end()) return std::nullopt;
  suite.encr = *e;
  if (crypto::IsAead(e->id)) {
    if (integ && integ->id != 0) return std::nullopt;
  } else {
    if (!integ) return std::nullopt;
    auto i = std::find_if(p.integ.begin(), p.integ.end(),
                          [&](IntegId x) { return U16(x) == integ->id; });
    if (i == p.integ.end()) return std::nullopt;
    suite.integ = *i;
  }
  std::vector<EsnId> esn_ours = p.esn.empty() ? std::vector{EsnId::kNoEsn} : p.esn;
  auto esn_id = esn ? static_cast<EsnId>(esn->id) : EsnId::kNoEsn;
  if (std::find(esn_ours.begin(), esn_ours.end(), esn_id) == esn_ours.end()) return std::nullopt;
  suite.esn = esn_id == EsnId::kEsn;
  if (with_dh && !p.dh.empty()) {
    if (!dh) return std::nullopt;
    auto g = std::find_if(p.dh.begin(), p.dh.end(), [&](DhGroup x) { return U16(x) == dh->id; });
    if (g == p.dh.end()) return std::nullopt;
    suite.dh = *g;
  } else if (dh && dh->id != 0) {
    return std::nullopt;  // a group we did not ask for
  }
  auto spi = SpiFromBytes32(a.spi);
  if (!spi || *spi == 0) return std::nullopt;
  return EspChoice{.suite = suite, .number = a.number, .spi = *spi};
}

bool OffersGroup(const std::vector<IkeProposal>& ours, DhGroup group) {
  return std::any_of(ours.begin(), ours.end(), [&](const IkeProposal& p) {
    return std::find(p.dh.begin(), p.dh.end(), group) != p.dh.end();
  });
}

bool OffersGroup(const std::vector<EspProposal>& ours, DhGroup group) {
  return std::any_of(ours.begin(), ours.end(), [&](const EspProposal& p) {
    return std::find(p.dh.begin(), p.dh.end(), group) != p.dh.end();
  });
}

namespace {
std::string EncrName(const EncrSpec& e) {
  std::string s(crypto::Name(e.id));
  if (!crypto::HasFixedKey(e.id)) s += "_" + std::to_string(e.key_bits);
  return s;
}
}  // namespace

std::string Describe(const IkeSuite& suite) {
  std::string s = EncrName(suite.encr);
  if (suite.integ != IntegId::kNone) s += "/" + std::string(crypto::Name(suite.integ));
  s += "/" + std::string(crypto::Name(suite.prf)) + "/" + std::string(crypto::Name(suite.dh));
  return s;
}

std::string Describe(const EspSuite& suite) {
  std::string s = EncrName(suite.encr);
  if (suite.integ != IntegId::kNone) s += "/" + std::string(crypto::Name(suite.integ));
  if (suite.dh != DhGroup::kNone) s += "/" + std::string(crypto::Name(suite.dh));
  s += suite.esn ? "/ESN" : "/NO_EXT_SEQ";
  return s;
}

std::vector<xfrm::Selector> ResolveDynamic(std::vector<xfrm::Selector> list,
                                           const xfrm::IpAddress& host) {
  for (auto& sel : list)
    if (!sel.net.address.is_set() && host.is_set()) sel.net = xfrm::Subnet::Host(host);
  return list;
}

TsPayload ToTsPayload(const std::vector<xfrm::Selector>& selectors) {
  TsPayload payload;
  for (const auto& sel : selectors) {
    Range r = SubnetRange(sel.net);
    TrafficSelector ts;
    ts.ts_type = r.family == AF_INET ? TsType::kIpv4AddrRange : TsType::kIpv6AddrRange;
    ts.ip_protocol = sel.proto;
    ts.start_port = sel.from_port;
    ts.end_port = sel.to_port;
    ts.start_address.assign(r.start.begin(), r.start.begin() + static_cast<long>(r.len));
    ts.end_address.assign(r.end.begin(), r.end.begin() + static_cast<long>(r.len));
    payload.selectors.push_back(std::move(ts));
  }
  return payload;
}

std::vector<xfrm::Selector> NarrowTs(const std::vector<xfrm::Selector>& ours,
                                     const TsPayload& theirs) {
  std::vector<xfrm::Selector> result;
  for (const auto& mine : ours) {
    const Range m = SubnetRange(mine.net);
    for (const auto& ts : theirs.selectors) {
      auto r = SelectorRange(ts);
      if (!r || r->family != m.family || !Le(r->start, r->end, r->len)) continue;
      // Addresses: the later start and the earlier end.
      Range cut = m;
      if (Le(cut.start, r->start, cut.len)) cut.start = r->start;
      if (Le(r->end, cut.end, cut.len)) cut.end = r->end;
      if (!Le(cut.start, cut.end, cut.len)) continue;
      auto net = RangeToSubnet(cut);
      if (!net) continue;
      if (mine.proto != 0 && ts.ip_protocol != 0 && mine.proto != ts.ip_protocol) continue;
      xfrm::Selector sel{*net, std::max(mine.proto, ts.ip_protocol),
                         std::max(mine.from_port, ts.start_port),
                         std::min(mine.to_port, ts.end_port)};
      if (sel.from_port > sel.to_port) continue;  // includes the OPAQUE range 65535-0
      // ICMP type/code ride in the ports (RFC 4301); the kernel wants them split into sport and
      // dport, which this engine does not do (an error in our configs too): skip, never install
      // them as ports.
      if ((sel.proto == 1 || sel.proto == 58) && !sel.any_port()) continue;
      const bool covered = std::any_of(result.begin(), result.end(),
                                       [&](const xfrm::Selector& r2) { return Covers(r2, sel); });
      if (covered) continue;
      std::erase_if(result, [&](const xfrm::Selector& r2) { return Covers(sel, r2); });
      result.push_back(sel);
    }
  }
  return result;
}

namespace {

// charon's ts_list_is_host: every selector is exactly `host`.
bool AllHost(const std::vector<xfrm::Selector>& list, const xfrm::IpAddress& host) {
  return std::all_of(list.begin(), list.end(), [&](const xfrm::Selector& s) {
    return s.net.prefix == host.max_prefix() && s.net.address == host;
  });
}

}  // namespace

std::optional<ChildTs> NarrowChildTs(const std::vector<xfrm::Selector>& local,
                                     const std::vector<xfrm::Selector>& remote, bool cfg_transport,
                                     const TsPayload& tsi, const TsPayload& tsr,
                                     bool transport_asked, const xfrm::IpAddress& local_host,
                                     const xfrm::IpAddress& remote_host) {
  ChildTs ts{NarrowTs(local, tsr), NarrowTs(remote, tsi)};
  if (ts.local.empty() || ts.remote.empty()) return std::nullopt;
  ts.transport = transport_asked && cfg_transport && AllHost(ts.local, local_host) &&
                 AllHost(ts.remote, remote_host);
  return ts;
}

namespace {

// charon's get_ts_match for one side.
int TsMatchScore(const std::vector<xfrm::Selector>& configured, const TsPayload& theirs) {
  int score = 0;
  for (const auto& ts : theirs.selectors) {
    auto r = SelectorRange(ts);
    if (!r || !Le(r->start, r->end, r->len)) continue;
    auto net = RangeToSubnet(*r);
    if (!net) continue;
    const xfrm::Selector sel{*net, ts.ip_protocol, ts.start_port, ts.end_port};
    for (const auto& mine : configured) {
      if (mine.net.address.family != sel.net.address.family) continue;
      xfrm::Selector own = mine;
      own.net = own.net.Network();
      if (own == sel) {
        score += 20;
      } else if (Covers(own, sel)) {
        score += 5;
      } else if (Covers(sel, own)) {
        score += 1;
      }
    }
  }
  return score;
}

}  // namespace

std::optional<ChildSelection> SelectChildConfig(const std::vector<ChildConfig>& children,
                                                const TsPayload& tsi, const TsPayload& tsr,
                                                bool transport_asked,
                                                const xfrm::IpAddress& local_host,
                                                const xfrm::IpAddress& remote_host) {
  const auto narrow = [&](const ChildConfig& c) {
    return NarrowChildTs(ResolveDynamic(c.local_ts, local_host),
                         ResolveDynamic(c.remote_ts, remote_host), c.transport, tsi, tsr,
                         transport_asked, local_host, remote_host);
  };
  const ChildConfig* best = nullptr;
  int best_score = 0;
  for (const auto& c : children) {
    const int mine = TsMatchScore(ResolveDynamic(c.local_ts, local_host), tsr);
    const int theirs = TsMatchScore(ResolveDynamic(c.remote_ts, remote_host), tsi);
    if (mine > 0 && theirs > 0 && mine + theirs > best_score) {
      best = &c;
      best_score = mine + theirs;
    }
  }
  if (best) {
    if (auto ts = narrow(*best)) return ChildSelection{best, std::move(*ts)};
  }
  for (const auto& c : children) {
    if (auto ts = narrow(c)) return ChildSelection{&c, std::move(*ts)};
  }
  return std::nullopt;
}

std::optional<ChildTs> AcceptChildTs(const std::vector<xfrm::Selector>& local,
                                     const std::vector<xfrm::Selector>& remote, bool asked_transport,
                                     const TsPayload& tsi, const TsPayload& tsr,
                                     bool answered_transport, const xfrm::IpAddress& local_host,
                                     const xfrm::IpAddress& remote_host) {
  if (answered_transport && !asked_transport) return std::nullopt;
  ChildTs ts{NarrowTs(local, tsi), NarrowTs(remote, tsr), answered_transport};
  if (ts.local.empty() || ts.remote.empty()) return std::nullopt;
  if (ts.transport && (!AllHost(ts.local, local_host) || !AllHost(ts.remote, remote_host)))
    return std::nullopt;
  return ts;
}

IdPayload ToIdPayload(const Identity& id) {
  return IdPayload{.id_type = id.type, .data = Bytes(id.data.begin(), id.data.end())};
}

bool HostAccepted(const std::vector<xfrm::Subnet>& match, const xfrm::IpAddress& configured,
                  const xfrm::IpAddress& address) {
  if (match.empty()) return !configured.is_set() || configured == address;
  return std::any_of(match.begin(), match.end(), [&](const xfrm::Subnet& s) {
    return s.address.family == address.family &&
           Within(SubnetRange(xfrm::Subnet::Host(address)), SubnetRange(s));
  });
}

bool IdMatches(const Identity& configured, const IdPayload& received) {
  if (configured.data.empty()) return true;
  if (configured.type != received.id_type) return false;
  const std::string_view want = configured.data;
  const std::string_view got(reinterpret_cast<const char*>(received.data.data()),
                             received.data.size());
  const bool text = configured.type == IdType::kFqdn || configured.type == IdType::kRfc822Addr;
  if (!text) return want == got;
  // charon compares these case-insensitively; a leading '*' stands for at least one character.
  const auto same = [](std::string_view a, std::string_view b) {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
             return std::tolower(static_cast<unsigned char>(x)) ==
                    std::tolower(static_cast<unsigned char>(y));
           });
  };
  if (same(want, got)) return true;
  if (want.front() != '*' || got.size() < want.size()) return false;
  return same(got.substr(got.size() - (want.size() - 1)), want.substr(1));
}

std::string DescribeId(const IdPayload& id) {
  if ((id.id_type == IdType::kIpv4Addr && id.data.size() == 4) ||
      (id.id_type == IdType::kIpv6Addr && id.data.size() == 16)) {
    xfrm::IpAddress a;
    a.family = id.data.size() == 4 ? AF_INET : AF_INET6;
    std::copy(id.data.begin(), id.data.end(), a.bytes.begin());
    return a.ToString();
  }
  std::string out;
  for (std::size_t i = 0; i < id.data.size() && i < 128; ++i) {
    auto c = static_cast<char>(id.data[i]);
    if (c >= 0x20 && c < 0x7f) {
      out += c;
    } else {
      static constexpr char kHex[] = "0123456789abcdef";
      out += "\\x";
      out += kHex[id.data[i] >> 4];
      out += kHex[id.data[i] & 0xf];
    }
  }
  return out;
}

Bytes NatDetectionHash(std::uint64_t spi_i, std::uint64_t spi_r, const Endpoint& endpoint) {
  Bytes data = SpiBytes64(spi_i);
  Append(data, SpiBytes64(spi_r));
  std::size_t len = endpoint.address.is_v4() ? 4 : 16;
  data.insert(data.end(), endpoint.address.bytes.begin(),
              endpoint.address.bytes.begin() + static_cast<long>(len));
  data.push_back(static_cast<std::uint8_t>(endpoint.port >> 8));
  data.push_back(static_cast<std::uint8_t>(endpoint.port & 0xff));
  return crypto::Sha1(data);
}

bool NonceLess(ByteView a, ByteView b) {
  return std::lexicographical_compare(a.begin(), a.end(), b.begin(), b.end());
}

Bytes SpiBytes64(std::uint64_t spi) {
  Bytes out(8);
  for (int i = 7; i >= 0; --i) {
    out[static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(spi & 0xff);
    spi >>= 8;
  }
  return out;
}

Bytes SpiBytes32(std::uint32_t spi) {
  return Bytes{static_cast<std::uint8_t>(spi >> 24), static_cast<std::uint8_t>(spi >> 16),
               static_cast<std::uint8_t>(spi >> 8), static_cast<std::uint8_t>(spi)};
}

std::optional<std::uint64_t> SpiFromBytes64(ByteView data) {
  if (data.size() != 8) return std::nullopt;
  std::uint64_t v = 0;
  for (auto b : data) v = (v << 8) | b;
  return v;
}

std::optional<std::uint32_t> SpiFromBytes32(ByteView data) {
  if (data.size() != 4) return std::nullopt;
  std::uint32_t v = 0;
  for (auto b : data) v = (v << 8) | b;
  return v;
}

}  // namespace minivpn::ike
