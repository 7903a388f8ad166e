// Bounds-checked big-endian reader and writer: the only way the codec touches octets.
//
// Reader never reads past its span: every getter returns false (or an empty optional) when the
// remaining octets do not suffice, and leaves the position unchanged in that case. Writer appends
// to a Bytes buffer and can patch a 16/32-bit length field once the payload behind it is known.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>

#include "crypto/bytes.h"

namespace minivpn::ike {

class Reader {
 public:
  // `base` is the offset of data[0] in the outermost buffer, so errors can name absolute offsets.
  explicit Reader(ByteView data, std::size_t base = 0) : data_(data), base_(base) {}

  std::size_t remaining() const { return data_.size() - pos_; }
  bool empty() const { return remaining() == 0; }
  std::size_t pos() const { return pos_; }
  std::size_t offset() const { return base_ + pos_; }  // absolute offset of the next octet

  bool U8(std::uint8_t& out) {
    if (remaining() < 1) return false;
    out = data_[pos_++];
    return true;
  }
  bool U16(std::uint16_t& out) {
    if (remaining() < 2) return false;
    out = static_cast<std::uint16_t>((data_[pos_] << 8) | data_[pos_ + 1]);
    pos_ += 2;
    return true;
  }
  bool U32(std::uint32_t& out) {
    if (remaining() < 4) return false;
    out = 0;
    for (int i = 0; i < 4; ++i) out = (out << 8) | data_[pos_ + static_cast<std::size_t>(i)];
    pos_ += 4;
    return true;
  }
  bool U64(std::uint64_t& out) {
    if (remaining() < 8) return false;
    out = 0;
    for (int i = 0; i < 8; ++i) out = (out << 8) | data_[pos_ + static_cast<std::size_t>(i)];
    pos_ += 8;
    return true;
  }
  bool Skip(std::size_t n) {
    if (remaining() < n) return false;
    pos_ += n;
    return true;
  }
  // A view of the next n octets (consumed).
  bool View(std::size_t n, ByteView& out) {
    if (remaining() < n) return false;
    out = data_.subspan(pos_, n);
    pos_ += n;
    return true;
  }
  bool Copy(std::size_t n, Bytes& out) {
    ByteView v;
    if (!View(n, v)) return false;
    out.assign(v.begin(), v.end());
    return true;
  }
  // Everything left (consumed).
  ByteView Rest() {
    ByteView v = data_.subspan(pos_);
    pos_ = data_.size();
    return v;
  }
  // A sub-reader over the next n octets (consumed here), with absolute offsets preserved.
  std::optional<Reader> Sub(std::size_t n) {
    ByteView v;
    const std::size_t start = offset();
    if (!View(n, v)) return std::nullopt;
    return Reader(v, start);
  }

 private:
  ByteView data_;
  std::size_t base_;
  std::size_t pos_ = 0;
};

class Writer {
 public:
  explicit Writer(Bytes& out) : out_(out) {}

  std::size_t size() const { return out_.size(); }
  void U8(std::uint8_t v) { out_.push_back(v); }
  void U16(std::uint16_t v) {
    out_.push_back(static_cast<std::uint8_t>(v >> 8));
    out_.push_back(static_cast<std::uint8_t>(v));
  }
  void U32(std::uint32_t v) {
    for (int shift = 24; shift >= 0; shift -= 8) out_.push_back(static_cast<std::uint8_t>(v >> shift));
  }
  void U64(std::uint64_t v) {
    for (int shift = 56; shift >= 0; shift -= 8) out_.push_back(static_cast<std::uint8_t>(v >> shift));
  }
  void Zeros(std::size_t n) { out_.insert(out_.end(), n, 0); }
  void Raw(ByteView data) { out_.insert(out_.end(), data.begin(), data.end()); }
  // Overwrite a 16/32-bit field written earlier at `at` (length fields known only at the end).
  void PatchU16(std::size_t at, std::uint16_t v) {
    out_.at(at) = static_cast<std::uint8_t>(v >> 8);
    out_.at(at + 1) = static_cast<std::uint8_t>(v);
  }
  void PatchU32(std::size_t at, std::uint32_t v) {
    for (std::size_t i = 0; i < 4; ++i) out_.at(at + i) = static_cast<std::uint8_t>(v >> (24 - 8 * i));
  }

 private:
  Bytes& out_;
};

}  // namespace minivpn::ike
