// charon's defaults (strongSwan 5.9.8, swanctl.conf / strongswan.conf), written once. The config
// model (cli/config/model.h) starts from them, and so does the engine's config
// (ike/engine/engine_config.h) for engines built without a config file (tests, bench).
#pragma once

#include <chrono>
#include <cstdint>

namespace minivpn::base::charon {

using std::chrono::seconds;

// connections.<conn>.children.<child>
inline constexpr seconds kChildRekeyTime{3600};  // rekey_time = 1h
inline constexpr seconds kChildLifeTime{3960};   // life_time = rekey_time + 10%
inline constexpr seconds kChildRandTime{360};    // rand_time = life_time - rekey_time
inline constexpr std::uint32_t kReplayWindow = 32;

// connections.<conn>
inline constexpr seconds kIkeRekeyTime{4 * 3600};  // rekey_time = 4h
inline constexpr seconds kIkeOverTime{1440};       // over_time = 10% of rekey_time
inline constexpr seconds kIkeRandTime{1440};       // rand_time = over_time
inline constexpr std::uint32_t kKeyingTries = 1;

// charon { ... } in strongswan.conf
inline constexpr std::uint32_t kRetransmitTries = 5;
inline constexpr double kRetransmitTimeout = 4.0;  // seconds
inline constexpr double kRetransmitBase = 1.8;
inline constexpr std::uint32_t kCookieThreshold = 30;
inline constexpr std::uint32_t kCookieThresholdIp = 3;
inline constexpr std::uint32_t kBlockThreshold = 5;
inline constexpr seconds kHalfOpenTimeout{30};
inline constexpr std::uint32_t kFragmentSize = 1280;
inline constexpr std::uint32_t kMaxPacket = 10000;  // max_packet: datagrams and reassembled messages
inline constexpr std::uint16_t kPort = 500;
inline constexpr std::uint16_t kPortNatT = 4500;
// keep_alive: NAT-T keepalives (RFC 3948 2.3) of an IKE SA behind a NAT after this long without
// an outbound packet (IKE or ESP); 0 = none.
inline constexpr seconds kKeepAlive{20};

}  // namespace minivpn::base::charon
