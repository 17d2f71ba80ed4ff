#pragma once

// CRC-16/X-25 as used by HDLC frame format type 3 (IEC 62056-46) for HCS and FCS.

#include <cstdint>
#include <span>

namespace wattline::dlms {

/// CRC-16/X-25: poly 0x1021 reflected, init 0xFFFF, xorout 0xFFFF. Transmitted low byte first.
/// The check value over "123456789" is 0x906E.
[[nodiscard]] uint16_t crc16_x25(std::span<const uint8_t> bytes) noexcept;

} // namespace wattline::dlms
