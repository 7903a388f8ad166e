#include "xfrm/errors.h"

#include <cerrno>
#include <cstring>
#include <string>

namespace minivpn::xfrm {
namespace {

const char* OpName(KernelOp op) {
  switch (op) {
    case KernelOp::kAllocSpi:
      return "xfrm ALLOCSPI";
    case KernelOp::kAddSaAeadGcm:
      return "xfrm add SA (rfc4106(gcm(aes)))";
    case KernelOp::kAddSaAeadChaCha:
      return "xfrm add SA (rfc7539esp(chacha20,poly1305))";
    case KernelOp::kAddSaCbc:
      return "xfrm add SA (cbc(aes) + hmac)";
    case KernelOp::kAddSaCtr:
      return "xfrm add SA (rfc3686(ctr(aes)) + hmac)";
    case KernelOp::kAddSaAeadCcm:
      return "xfrm add SA (rfc4309(ccm(aes)))";
    case KernelOp::kAddSa3Des:
      return "xfrm add SA (cbc(des3_ede) + hmac)";
    case KernelOp::kDelSa:
      return "xfrm DELSA";
    case KernelOp::kQuerySa:
      return "xfrm GETSA";
    case KernelOp::kAddPolicy:
      return "xfrm NEWPOLICY";
    case KernelOp::kUpdatePolicy:
      return "xfrm UPDPOLICY";
    case KernelOp::kDelPolicy:
      return "xfrm DELPOLICY";
    case KernelOp::kQueryPolicy:
      return "xfrm GETPOLICY";
    case KernelOp::kSocketPolicy:
      return "per-socket bypass policy";
    case KernelOp::kListen:
      return "xfrm event socket";
    case KernelOp::kVtiCreate:
      return "create VTI";
    case KernelOp::kVtiChange:
      return "change VTI";
    case KernelOp::kOpen:
      return "open netlink socket";
    case KernelOp::kUpdateSa:
      return "xfrm move SA (NEWSA at the new addresses)";
    case KernelOp::kXfrmiCreate:
      return "create XFRM interface";
  }
  return "kernel";
}

bool IsAddSa(KernelOp op) {
  return op == KernelOp::kAddSaAeadGcm || op == KernelOp::kAddSaAeadChaCha ||
         op == KernelOp::kAddSaCbc || op == KernelOp::kAddSaCtr ||
         op == KernelOp::kAddSaAeadCcm || op == KernelOp::kAddSa3Des;
}

// Which modules provide the algorithm of an SA (Debian 6.1 module names).
const char* AlgorithmModules(KernelOp op) {
  switch (op) {
    case KernelOp::kAddSaAeadGcm:
      return "load gcm (and aes, ghash)";
    case KernelOp::kAddSaAeadChaCha:
      return "load chacha20poly1305";
    case KernelOp::kAddSaCbc:
      return "load authenc, cbc, sha1/sha256/sha512";
    case KernelOp::kAddSaCtr:
      return "load authenc, ctr, sha1/sha256/sha512";
    case KernelOp::kAddSaAeadCcm:
      return "load ccm (and aes)";
    case KernelOp::kAddSa3Des:
      return "load authenc, cbc, des_generic (3DES), md5/sha1/sha256/sha512";
    default:
      return "";
  }
}

// What an errno means for the operation, beyond strerror.
std::string Meaning(KernelOp op, int ev) {
  if (op == KernelOp::kAllocSpi || IsAddSa(op)) {
    if (ev == EPROTONOSUPPORT) return "the kernel has no ESP support: load esp4 (esp6 for IPv6)";
    if (ev == ENOENT && op == KernelOp::kAllocSpi) return "no free SPI in the range";
    if (ev == ENOENT && IsAddSa(op)) {
      return std::string("the kernel lacks ESP or the algorithm: load esp4 and ") +
             AlgorithmModules(op);
    }
    if (ev == ENOSYS || ev == ENOPKG) {
      return std::string("the kernel lacks the algorithm: ") + AlgorithmModules(op);
    }
    if (ev == EEXIST) return "an SA with this SPI, destination and mark already exists";
    if (ev == ESRCH) return "no larval SA for this SPI: allocate it with ALLOCSPI first";
    if (ev == EINVAL) return "the kernel rejected the SA parameters (key length, ICV, replay)";
  }
  if (op == KernelOp::kUpdateSa && ev == EEXIST) {
    return "an SA with this SPI and mark already exists at the new destination";
  }
  if ((op == KernelOp::kDelSa || op == KernelOp::kQuerySa) && (ev == ESRCH || ev == ENOENT)) {
    return "no such SA (SPI, destination and mark must all match)";
  }
  if (op == KernelOp::kAddPolicy && ev == EEXIST) {
    return "a policy with this selector, direction and mark already exists";
  }
  if ((op == KernelOp::kDelPolicy || op == KernelOp::kUpdatePolicy) && ev == ENOENT) {
    return "no such policy (selector, direction and mark must all match)";
  }
  if (ev == EPERM || ev == EACCES) return "needs CAP_NET_ADMIN";
  if (op == KernelOp::kXfrmiCreate) {
    if (ev == EOPNOTSUPP || ev == ENODEV) {
      return "the kernel has no XFRM interfaces: load xfrm_interface (CONFIG_XFRM_INTERFACE)";
    }
    if (ev == EEXIST) return "an interface with this name, or an XFRM interface with this if_id";
    if (ev == EINVAL) return "the kernel rejected the interface (its if_id must not be 0)";
  }
  if (ev == EPROTONOSUPPORT && op != KernelOp::kVtiCreate) {
    return "the kernel has no xfrm netlink: load xfrm_user";
  }
  if (op == KernelOp::kVtiCreate) {
    if (ev == EOPNOTSUPP || ev == ENODEV) return "the kernel has no VTI support: load ip_vti";
    if (ev == EEXIST) return "a tunnel with this name or these endpoints and key already exists";
  }
  if (op == KernelOp::kVtiChange && ev == ENODEV) return "no such interface";
  return "";
}

class Category final : public std::error_category {
 public:
  explicit Category(KernelOp op) : op_(op) {}
  const char* name() const noexcept override { return OpName(op_); }
  std::string message(int ev) const override {
    std::string text =
        std::string(OpName(op_)) + ": " + std::strerror(ev) + " (errno " + std::to_string(ev) + ")";
    const std::string meaning = Meaning(op_, ev);
    if (!meaning.empty()) text += ": " + meaning;
    return text;
  }
  std::error_condition default_error_condition(int ev) const noexcept override {
    return std::generic_category().default_error_condition(ev);
  }

 private:
  KernelOp op_;
};

}  // namespace

const std::error_category& KernelCategory(KernelOp op) {
  // One immutable category object per operation, like std::generic_category().
  // Indexed by KernelOp: keep the order of the enum.
  static const Category kCategories[] = {
      Category(KernelOp::kAllocSpi),        Category(KernelOp::kAddSaAeadGcm),
      Category(KernelOp::kAddSaAeadChaCha), Category(KernelOp::kAddSaCbc),
      Category(KernelOp::kAddSaCtr),        Category(KernelOp::kAddSaAeadCcm),
      Category(KernelOp::kAddSa3Des),       Category(KernelOp::kDelSa),
      Category(KernelOp::kQuerySa),         Category(KernelOp::kAddPolicy),
      Category(KernelOp::kUpdatePolicy),    Category(KernelOp::kDelPolicy),
      Category(KernelOp::kQueryPolicy),     Category(KernelOp::kSocketPolicy),
      Category(KernelOp::kListen),
      Category(KernelOp::kVtiCreate),       Category(KernelOp::kVtiChange),
      Category(KernelOp::kOpen),            Category(KernelOp::kUpdateSa),
      Category(KernelOp::kXfrmiCreate),
  };
  return kCategories[static_cast<std::size_t>(op)];
}

}  // namespace minivpn::xfrm
