// Kernel errors as std::error_code: the value is the errno the kernel returned, the category
// names the operation so that message() can say what the errno means here (a missing module,
// an SPI collision ...). Every category maps to std::generic_category for comparisons, so
// `ec == std::errc::no_such_process` works whatever the operation.
#pragma once

#include <cstdint>
#include <system_error>

#include "crypto/algorithms.h"

namespace minivpn::xfrm {

enum class KernelOp : std::uint8_t {
  kAllocSpi,
  kAddSaAeadGcm,     // rfc4106(gcm(aes))
  kAddSaAeadChaCha,  // rfc7539esp(chacha20,poly1305)
  kAddSaCbc,         // cbc(aes) + hmac(sha*)
  kAddSaCtr,         // rfc3686(ctr(aes)) + hmac(sha*)
  kAddSaAeadCcm,     // rfc4309(ccm(aes))
  kAddSa3Des,        // cbc(des3_ede) + hmac(*)
  kDelSa,
  kQuerySa,
  kAddPolicy,
  kUpdatePolicy,
  kDelPolicy,
  kQueryPolicy,
  kSocketPolicy,  // per-socket bypass (setsockopt IP_XFRM_POLICY)
  kListen,        // xfrm multicast event socket
  kVtiCreate,
  kVtiChange,  // up / MTU / delete / sysctl
  kOpen,       // opening a NETLINK_XFRM / NETLINK_ROUTE request socket
  kUpdateSa,   // an SA created again at new addresses (UpdateSa: GETSA, DELSA, NEWSA)
  kXfrmiCreate,  // RTM_NEWLINK of an XFRM interface (kind "xfrm")
};

const std::error_category& KernelCategory(KernelOp op);

// The add-SA category for an encryption algorithm (names the module to load on failure).
inline KernelOp AddSaOp(crypto::EncrId encr) {
  switch (encr) {
    case crypto::EncrId::kAesGcm8:
    case crypto::EncrId::kAesGcm12:
    case crypto::EncrId::kAesGcm16:
      return KernelOp::kAddSaAeadGcm;
    case crypto::EncrId::kChaCha20Poly1305:
      return KernelOp::kAddSaAeadChaCha;
    case crypto::EncrId::kAesCtr:
      return KernelOp::kAddSaCtr;
    case crypto::EncrId::kAesCcm8:
    case crypto::EncrId::kAesCcm12:
    case crypto::EncrId::kAesCcm16:
      return KernelOp::kAddSaAeadCcm;
    case crypto::EncrId::k3Des:
      return KernelOp::kAddSa3Des;
    case crypto::EncrId::kAesCbc:
      break;
  }
  return KernelOp::kAddSaCbc;
}

inline std::error_code KernelError(int errno_value, KernelOp op) {
  return {errno_value, KernelCategory(op)};
}

}  // namespace minivpn::xfrm
