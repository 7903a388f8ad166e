// Stream reassembly of vici packets (framer.h).
#include "vici/framer.h"

#include <fmt/format.h>

#include <algorithm>
#include <utility>

namespace minivpn::vici {

std::expected<std::size_t, Error> Framer::Feed(std::span<const std::uint8_t> data) {
  if (error_) return std::unexpected(*error_);
  std::size_t taken = 0;
  while (taken < data.size() && !complete_) {
    const std::span<const std::uint8_t> rest = data.subspan(taken);
    if (prefix_fill_ < kLengthPrefixSize) {
      const std::size_t n = std::min(kLengthPrefixSize - prefix_fill_, rest.size());
      std::copy_n(rest.begin(), n, prefix_ + prefix_fill_);
      prefix_fill_ += n;
      taken += n;
      offset_ += n;
      if (prefix_fill_ < kLengthPrefixSize) break;
      expected_ = (std::size_t{prefix_[0]} << 24) | (std::size_t{prefix_[1]} << 16) |
                  (std::size_t{prefix_[2]} << 8) | std::size_t{prefix_[3]};
      if (expected_ > max_packet_) {
        error_ = Error{ErrorCode::kTooLarge, static_cast<std::size_t>(packet_start_),
                       fmt::format("packet length {} larger than {} octets", expected_,
                                   max_packet_)};
        return std::unexpected(*error_);
      }
      complete_ = expected_ == 0;
      continue;
    }
    const std::size_t n = std::min(expected_ - packet_.size(), rest.size());
    packet_.insert(packet_.end(), rest.begin(), rest.begin() + static_cast<std::ptrdiff_t>(n));
    taken += n;
    offset_ += n;
    complete_ = packet_.size() == expected_;
  }
  return taken;
}

std::expected<std::vector<std::vector<std::uint8_t>>, Error> Framer::FeedAll(
    std::span<const std::uint8_t> data) {
  std::vector<std::vector<std::uint8_t>> packets;
  if (auto waiting = Take()) packets.push_back(std::move(*waiting));
  while (!data.empty()) {
    auto taken = Feed(data);
    if (!taken) return std::unexpected(std::move(taken.error()));
    data = data.subspan(*taken);
    if (auto packet = Take()) packets.push_back(std::move(*packet));
  }
  return packets;
}

std::optional<std::vector<std::uint8_t>> Framer::Take() {
  if (!complete_) return std::nullopt;
  std::vector<std::uint8_t> packet = std::move(packet_);
  packet_ = {};
  prefix_fill_ = 0;
  expected_ = 0;
  complete_ = false;
  packet_start_ = offset_;
  return packet;
}

std::expected<void, Error> Framer::Finish() const {
  if (error_) return std::unexpected(*error_);
  if (complete_ || prefix_fill_ == 0) return {};
  const auto at = static_cast<std::size_t>(packet_start_);
  if (prefix_fill_ < kLengthPrefixSize) {
    return std::unexpected(Error{
        ErrorCode::kTruncated, at,
        fmt::format("the stream ended in a length prefix ({} of {} octets)", prefix_fill_,
                    kLengthPrefixSize)});
  }
  return std::unexpected(Error{
      ErrorCode::kTruncated, at,
      fmt::format("the stream ended {} octets into a packet of {}", packet_.size(), expected_)});
}

}  // namespace minivpn::vici
