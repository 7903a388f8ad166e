// Stream reassembly of vici packets: the socket edge feeds the octets as they arrive and takes
// whole packets (without their 4-octet length prefix) for DecodePacket (codec.h). Sans I/O: no
// socket, no timer; one Framer per connection.
//
// Buffering is bounded: the framer takes octets only up to the end of the packet being read and
// holds at most one packet, so it never holds more than kLengthPrefixSize + max_packet octets,
// however much is fed. A length prefix above max_packet is an error as soon as its 4 octets are
// in, before anything is allocated for the packet; memory grows with the octets that arrive,
// not with the length announced.
//
//   vici::Framer framer;
//   while (!data.empty()) {                  // what one read() returned
//     auto taken = framer.Feed(data);
//     if (!taken) return Close(taken.error());
//     data = data.subspan(*taken);
//     if (auto packet = framer.Take()) Handle(vici::DecodePacket(*packet));
//   }
#pragma once

#include <cstddef>
#include <cstdint>
#include <expected>
#include <optional>
#include <span>
#include <vector>

#include "vici/codec.h"

namespace minivpn::vici {

class Framer {
 public:
  explicit Framer(std::size_t max_packet = kMaxPacketSize) : max_packet_(max_packet) {}

  // Takes octets from the front of `data` until a packet is complete or `data` is used up, and
  // returns how many it took. While a complete packet waits for Take() it takes none (0).
  // A length prefix above max_packet: kTooLarge at the stream offset of the prefix. The stream
  // cannot be resynchronised after that (close the connection): every later Feed returns the
  // same error.
  std::expected<std::size_t, Error> Feed(std::span<const std::uint8_t> data);
  // Feeds all of `data` and returns the packets it completes, in order (with a packet waiting
  // from before first). The same error as Feed; the packets completed before it are lost.
  std::expected<std::vector<std::vector<std::uint8_t>>, Error> FeedAll(
      std::span<const std::uint8_t> data);
  // The complete packet, if there is one (then the framer reads the next).
  std::optional<std::vector<std::uint8_t>> Take();

  bool has_packet() const { return complete_; }
  // Octets held: the prefix and data of the packet being read or waiting.
  std::size_t buffered() const { return prefix_fill_ + packet_.size(); }
  // Octets taken from the stream since construction.
  std::uint64_t stream_offset() const { return offset_; }
  bool failed() const { return error_.has_value(); }
  // At the end of the stream: fine on a packet boundary; kTruncated (at the stream offset where
  // the cut packet starts) when the peer closed in the middle of one. The failure, if any.
  std::expected<void, Error> Finish() const;

 private:
  std::size_t max_packet_;
  std::uint8_t prefix_[kLengthPrefixSize] = {};
  std::size_t prefix_fill_ = 0;  // octets of prefix_ read
  std::size_t expected_ = 0;     // packet length, once the prefix is complete
  std::vector<std::uint8_t> packet_;
  bool complete_ = false;
  std::uint64_t offset_ = 0;
  std::uint64_t packet_start_ = 0;  // stream offset of the current packet's prefix
  std::optional<Error> error_;
};

}  // namespace minivpn::vici
