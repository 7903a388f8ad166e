// NullKernel: a KernelIpsec that keeps nothing. It hands out SPIs from a counter and accepts
// every call, so that a benchmark measures the engine alone and the RSS of a process holding
// tunnels does not include SA copies that a real daemon leaves to the kernel (FakeKernel keeps
// every SA with its keys and a log of every call).
#pragma once

#include "xfrm/kernel_ipsec.h"

namespace minivpn::bench {

class NullKernel final : public xfrm::KernelIpsec {
 public:
  NullKernel() = default;
  // SPIs start at `first` (mod 2^28): the load generator starts at a random point, because a
  // responder keys its outbound SAs by our SPI and two generator runs must not collide there.
  explicit NullKernel(std::uint32_t first) : next_spi_(first) {}

  std::expected<std::uint32_t, std::error_code> AllocSpi(const xfrm::IpAddress&,
                                                         const xfrm::IpAddress&,
                                                         std::uint32_t, xfrm::SpiRange) override {
    // [0xc0000000, 0xcfffffff] like the kernel; wraps after 2^28 SPIs.
    return 0xc0000000u | (next_spi_++ & 0x0fffffffu);
  }
  std::error_code AddSa(const xfrm::SaSpec&) override { return {}; }
  std::error_code DelSa(const xfrm::SaId&) override { return {}; }
  std::error_code UpdateSa(const xfrm::SaId&, const xfrm::SaMove&) override { return {}; }
  std::expected<xfrm::SaCounters, std::error_code> QuerySa(const xfrm::SaId&) override {
    return xfrm::SaCounters{};
  }
  std::error_code AddPolicy(const xfrm::PolicySpec&) override { return {}; }
  std::error_code UpdatePolicy(const xfrm::PolicySpec&) override { return {}; }
  std::error_code DelPolicy(const xfrm::PolicyId&) override { return {}; }

 private:
  std::uint32_t next_spi_ = 1;
};

}  // namespace minivpn::bench
