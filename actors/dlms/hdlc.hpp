#pragma once

// HDLC frame format type 3 (IEC 62056-46 / ISO 13239) as pushed by smart meters: flag 0x7E,
// 2-byte format field (type 0xA, segmentation bit, 11-bit length), destination and source address
// (1, 2 or 4 bytes each), control, HCS, information field, FCS, flag. No byte stuffing.

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace wattline::dlms {

/// The HDLC flag byte that opens and closes each frame.
inline constexpr uint8_t hdlc_flag = 0x7E;

/// Outcome of parsing one HDLC frame at the start of a buffer.
enum class hdlc_status : uint8_t {
  ok,          ///< A complete frame with valid HCS, FCS and closing flag.
  need_more,   ///< Consistent so far; more bytes are needed.
  not_a_frame, ///< No frame of type 3 starts here (bad format type, address or length).
  bad_hcs,     ///< Header check sequence mismatch.
  bad_fcs,     ///< Frame check sequence mismatch.
  bad_flag,    ///< CRCs fine but the closing flag is missing.
};

/// One parsed HDLC frame; `info` points into the parsed buffer.
struct hdlc_frame {
  /// Segmentation bit: more segments of the same information follow.
  bool segmented = false;
  /// Control field: 0x13/0x03 UI frames, 0x10 I-frame, ...
  uint8_t control = 0;
  /// Information field (may be empty).
  std::span<const uint8_t> info;
  /// Bytes from the opening flag up to, but excluding, the closing flag. The closing flag may be
  /// the opening flag of the next frame.
  size_t size = 0;
};

/// Parses the frame that starts at `buf[0]` (which must be the flag 0x7E). The HCS is checked as
/// soon as the header is available, so a corrupted length field is detected early.
[[nodiscard]] hdlc_status parse_hdlc(std::span<const uint8_t> buf, hdlc_frame& out) noexcept;

/// True when the FCS of `frame` - opening flag up to, but excluding, the closing flag, i.e.
/// `hdlc_frame::size` bytes - matches the bytes between the flag and the FCS.
[[nodiscard]] bool hdlc_fcs_ok(std::span<const uint8_t> frame) noexcept;

/// True for control fields whose information field carries data: UI (0x03, 0x13) and I-frames.
[[nodiscard]] bool hdlc_carries_data(uint8_t control) noexcept;

/// Builds one complete frame, opening and closing flag included. `dest` and `src` are the encoded
/// address bytes (extension bit set on the last byte). `info` must fit the 11-bit length.
[[nodiscard]] std::vector<uint8_t> encode_hdlc(std::span<const uint8_t> dest,
                                               std::span<const uint8_t> src, uint8_t control,
                                               bool segmented, std::span<const uint8_t> info);

} // namespace wattline::dlms
