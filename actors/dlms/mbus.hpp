#pragma once

// Wired M-Bus long frames (EN 13757-2) carrying DLMS: 68 L L 68 | C A CI | STSAP DTSAP APDU... |
// CS 16. CI bits 0-3 are the segment sequence number, bit 4 marks the final segment.

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace wattline::dlms {

/// The M-Bus long-frame start byte.
inline constexpr uint8_t mbus_start = 0x68;

/// Outcome of parsing one M-Bus long frame at the start of a buffer.
enum class mbus_status : uint8_t {
  ok,           ///< Complete frame with valid checksum and stop byte.
  need_more,    ///< Consistent so far; more bytes are needed.
  not_a_frame,  ///< No long frame starts here.
  bad_checksum, ///< Sum of C..data does not match.
  bad_stop,     ///< Checksum fine but the stop byte 0x16 is missing.
};

/// One parsed M-Bus long frame; `data` points into the parsed buffer.
struct mbus_frame {
  /// C field (0x53 SND_UD).
  uint8_t control = 0;
  /// A field (0xFF broadcast).
  uint8_t address = 0;
  /// CI field: bits 0-3 segment number, bit 4 final segment.
  uint8_t ci = 0;
  /// Bytes after the CI field (for DLMS: STSAP, DTSAP, APDU part).
  std::span<const uint8_t> data;
  /// Whole frame size, start byte to stop byte inclusive.
  size_t size = 0;
};

/// Parses the long frame starting at `buf[0]` (which must be 0x68).
[[nodiscard]] mbus_status parse_mbus(std::span<const uint8_t> buf, mbus_frame& out) noexcept;

/// Builds one long frame: C, A, CI, then `data` (TSAPs included by the caller). `data` must fit
/// the 8-bit length (at most 252 bytes).
[[nodiscard]] std::vector<uint8_t> encode_mbus(uint8_t control, uint8_t address, uint8_t ci,
                                               std::span<const uint8_t> data);

} // namespace wattline::dlms
