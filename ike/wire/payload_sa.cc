// RFC 7296 3.3 Security Association payload.
//
//                      1                   2                   3
//  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// | Next Payload  |C|  RESERVED   |         Payload Length        |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |                          <Proposals>                          ~
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//
// 3.3.1 Proposal Substructure
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// | Last Substruc |   RESERVED    |         Proposal Length       |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// | Proposal Num  |  Protocol ID  |    SPI Size   |Num  Transforms|
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// ~                        SPI (variable)                         ~
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// ~                        <Transforms>                           ~
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//
// 3.3.2 Transform Substructure
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// | Last Substruc |   RESERVED    |        Transform Length       |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |Transform Type |   RESERVED    |          Transform ID         |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// ~                      Transform Attributes                     ~
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//
// 3.3.5 Transform Attributes
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |A|       Attribute Type        |    AF=0  Attribute Length     |
// |F|                             |    AF=1  Attribute Value      |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |                   AF=0  Attribute Value                       |
// |                   AF=1  Not Transmitted                       |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//
// Semantics (unknown protocols/transform types/ids, SPI sizes, missing or odd key lengths,
// proposal numbering) are the engine's business: such proposals are kept as they are. Only an
// unknown transform attribute is acted on here: 3.3.6 says the proposal carrying it MUST be
// rejected, and Transform has no field to carry it, so that proposal is dropped from the list.
#include <string>

#include "ike/wire/payload_codec.h"

namespace minivpn::ike::detail {
namespace {

constexpr std::uint8_t kLastProposal = 0;
constexpr std::uint8_t kMoreProposals = 2;
constexpr std::uint8_t kLastTransform = 0;
constexpr std::uint8_t kMoreTransforms = 3;
constexpr std::size_t kProposalHeaderSize = 8;
constexpr std::size_t kTransformHeaderSize = 8;
constexpr std::uint16_t kAttributeFormatTv = 0x8000;

// Parses one transform (3.3.2) from `r`; sets `unknown_attribute` when 3.3.6 applies.
Decoded<Transform> DecodeTransform(Reader& r, std::uint8_t& last, bool& unknown_attribute) {
  constexpr PayloadType kSa = PayloadType::kSa;
  const std::size_t start = r.offset();
  std::uint8_t reserved = 0;
  std::uint16_t length = 0;
  if (!r.U8(last) || !r.U8(reserved) || !r.U16(length)) {
    return BodyError(kSa, start, "transform header truncated");
  }
  if (length < kTransformHeaderSize || std::size_t{length} - 4 > r.remaining()) {
    return BodyError(kSa, start, "transform length " + std::to_string(length) + " invalid");
  }
  Reader t = *r.Sub(length - 4);
  Transform out;
  std::uint8_t type = 0;
  std::uint16_t id = 0;
  t.U8(type);
  t.U8(reserved);
  t.U16(id);
  out.type = static_cast<TransformType>(type);
  out.id = id;
  while (!t.empty()) {
    const std::size_t at = t.offset();
    std::uint16_t type_af = 0;
    std::uint16_t value = 0;
    if (!t.U16(type_af) || !t.U16(value)) return BodyError(kSa, at, "attribute truncated");
    const std::uint16_t attr_type = type_af & 0x7fff;
    const bool tv = (type_af & kAttributeFormatTv) != 0;
    if (!tv && !t.Skip(value)) return BodyError(kSa, at, "attribute length past transform");
    if (attr_type == static_cast<std::uint16_t>(TransformAttribute::kKeyLength)) {
      // 3.3.5: Key Length is only defined in TV format, once per transform.
      if (!tv) return BodyError(kSa, at, "key length attribute in TLV format");
      if (out.key_length) return BodyError(kSa, at, "key length attribute repeated");
      out.key_length = value;
    } else {
      unknown_attribute = true;
    }
  }
  return out;
}

}  // namespace

Decoded<SaPayload> DecodeSa(Reader& r) {
  constexpr PayloadType kSa = PayloadType::kSa;
  SaPayload sa;
  bool last_seen = false;
  while (!r.empty()) {
    const std::size_t start = r.offset();
    if (last_seen) return BodyError(kSa, start, "proposal after the one marked last");
    std::uint8_t last = 0;
    std::uint8_t reserved = 0;
    std::uint16_t length = 0;
    if (!r.U8(last) || !r.U8(reserved) || !r.U16(length)) {
      return BodyError(kSa, start, "proposal header truncated");
    }
    if (last != kLastProposal && last != kMoreProposals) {
      return BodyError(kSa, start, "proposal last-substructure value " + std::to_string(last));
    }
    if (length < kProposalHeaderSize || std::size_t{length} - 4 > r.remaining()) {
      return BodyError(kSa, start, "proposal length " + std::to_string(length) + " invalid");
    }
    Reader p = *r.Sub(length - 4);
    Proposal proposal;
    std::uint8_t protocol = 0;
    std::uint8_t spi_size = 0;
    std::uint8_t num_transforms = 0;
    p.U8(proposal.number);
    p.U8(protocol);
    p.U8(spi_size);
    p.U8(num_transforms);
    proposal.protocol = static_cast<ProtocolId>(protocol);
    if (!p.Copy(spi_size, proposal.spi)) {
      return BodyError(kSa, start, "SPI size " + std::to_string(spi_size) + " past proposal");
    }
    bool unknown_attribute = false;
    for (unsigned i = 0; i < num_transforms; ++i) {
      const std::size_t t_start = p.offset();
      if (p.empty()) {
        return BodyError(kSa, t_start,
                         "proposal " + std::to_string(proposal.number) + " transform count " +
                             std::to_string(num_transforms) + " but " + std::to_string(i) +
                             " present");
      }
      std::uint8_t t_last = 0;
      auto transform = DecodeTransform(p, t_last, unknown_attribute);
      if (!transform) return std::unexpected(std::move(transform.error()));
      // 3.3.2: 3 while more transforms follow in this proposal, 0 for the last one.
      const bool is_last = (i + 1 == num_transforms);
      if (t_last != (is_last ? kLastTransform : kMoreTransforms)) {
        return BodyError(kSa, t_start,
                         "transform last-substructure value " + std::to_string(t_last));
      }
      proposal.transforms.push_back(*transform);
    }
    if (!p.empty()) {
      return BodyError(kSa, p.offset(),
                       "proposal " + std::to_string(proposal.number) + " transform count " +
                           std::to_string(num_transforms) + " but more data follows");
    }
    last_seen = (last == kLastProposal);
    if (!last_seen && r.empty()) return BodyError(kSa, start, "proposal marked more but is last");
    if (!unknown_attribute) sa.proposals.push_back(std::move(proposal));
  }
  return sa;
}

void EncodeSa(const SaPayload& sa, Writer& w) {
  for (std::size_t i = 0; i < sa.proposals.size(); ++i) {
    const Proposal& p = sa.proposals[i];
    const std::size_t start = w.size();
    w.U8(i + 1 == sa.proposals.size() ? kLastProposal : kMoreProposals);
    w.U8(0);
    w.U16(0);  // length, patched below
    w.U8(p.number);
    w.U8(static_cast<std::uint8_t>(p.protocol));
    w.U8(static_cast<std::uint8_t>(p.spi.size()));
    w.U8(static_cast<std::uint8_t>(p.transforms.size()));
    w.Raw(p.spi);
    for (std::size_t j = 0; j < p.transforms.size(); ++j) {
      const Transform& t = p.transforms[j];
      w.U8(j + 1 == p.transforms.size() ? kLastTransform : kMoreTransforms);
      w.U8(0);
      w.U16(static_cast<std::uint16_t>(kTransformHeaderSize + (t.key_length ? 4 : 0)));
      w.U8(static_cast<std::uint8_t>(t.type));
      w.U8(0);
      w.U16(t.id);
      if (t.key_length) {
        w.U16(kAttributeFormatTv | static_cast<std::uint16_t>(TransformAttribute::kKeyLength));
        w.U16(*t.key_length);
      }
    }
    w.PatchU16(start + 2, static_cast<std::uint16_t>(w.size() - start));
  }
}

}  // namespace minivpn::ike::detail
