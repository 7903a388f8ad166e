// PRF and prf+ (RFC 7296 2.13) over HMAC.
#pragma once

#include <cstddef>
#include <expected>
#include <memory>
#include <string>
#include <utility>

#include "crypto/algorithms.h"
#include "crypto/bytes.h"
#include "crypto/secret.h"

namespace minivpn::crypto {

class Prf {
 public:
  // nullopt-like failure for unsupported ids is reported as an unexpected message.
  static std::expected<Prf, std::string> Create(PrfId id);

  PrfId id() const { return id_; }
  std::size_t output_size() const { return PrfOutputSize(id_); }

  // prf(K, S): the output is secret by default; callers that hash public data (MACedIDFor*,
  // NAT-D use SHA-1 instead) may Reveal() it.
  SecretBytes Compute(ByteView key, ByteView data) const;
  // prf+(K, S) = T1 | T2 | ... truncated to `length` octets. prf+ is only defined for up to
  // 255 blocks (RFC 7296 2.13); a longer request returns an empty SecretBytes.
  SecretBytes Plus(ByteView key, ByteView seed, std::size_t length) const;

 private:
  struct State;  // the fetched HMAC with its digest set, shared by copies (immutable)
  Prf(PrfId id, std::shared_ptr<const State> state) : id_(id), state_(std::move(state)) {}
  PrfId id_;
  std::shared_ptr<const State> state_;
};

// SHA-1 of data, for NAT_DETECTION_*_IP (RFC 7296 2.23) and COOKIE generation.
Bytes Sha1(ByteView data);
Bytes Sha256(ByteView data);

}  // namespace minivpn::crypto
