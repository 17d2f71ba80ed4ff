#pragma once

// COSEM building blocks of push messages: OBIS codes, date-time, and the headers of the APDUs a
// meter pushes (data-notification 0x0F, general-block-transfer 0xE0, general-glo/ded-ciphering
// 0xDB/0xDC).

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "actors/dlms/axdr.hpp"

namespace date {
class time_zone;
} // namespace date

namespace wattline::dlms {

/// APDU tags handled by the decoder.
inline constexpr uint8_t apdu_data_notification = 0x0F;
inline constexpr uint8_t apdu_general_block_transfer = 0xE0;
inline constexpr uint8_t apdu_general_glo_ciphering = 0xDB;
inline constexpr uint8_t apdu_general_ded_ciphering = 0xDC;

/// Size of the buffer `obis_code::format` writes into: the longest text "255-255:255.255.255*255"
/// (23 characters) plus room for its 3-byte digit stores.
inline constexpr size_t obis_text_capacity = 26;

/// An OBIS code A-B:C.D.E*F.
struct obis_code {
  /// The six value groups.
  uint8_t a = 0, b = 0, c = 0, d = 0, e = 0, f = 255;

  friend bool operator==(const obis_code&, const obis_code&) = default;

  /// "A-B:C.D.E*F", e.g. "1-0:1.8.0*255".
  [[nodiscard]] std::string to_string() const;
  /// Writes the `to_string` text into `out` without allocating; returns its length.
  size_t format(std::span<char, obis_text_capacity> out) const noexcept;
  /// "C.D.E", the part smartmeter-datacollector compares on.
  [[nodiscard]] std::string short_string() const;
  /// Builds a code from 6 bytes.
  [[nodiscard]] static obis_code from_bytes(std::span<const uint8_t> b) noexcept {
    obis_code o;
    if (b.size() >= 6) {
      o.a = b[0];
      o.b = b[1];
      o.c = b[2];
      o.d = b[3];
      o.e = b[4];
      o.f = b[5];
    }
    return o;
  }
  /// Parses "A-B:C.D.E*F", "A-B:C.D.E" (F = 255), "A.B.C.D.E.F" or "C.D.E" (A = 1, B = 0,
  /// F = 255).
  [[nodiscard]] static std::optional<obis_code> parse(std::string_view text);
};

/// smartmeter-datacollector's test whether 6 bytes are an OBIS code: A < 10, B <= 64, D < 128.
[[nodiscard]] inline bool looks_like_obis(std::span<const uint8_t> bytes) noexcept {
  return bytes.size() == 6 && bytes[0] < 10 && bytes[1] <= 64 && bytes[3] < 128;
}

/// COSEM date-time (12 bytes): year, month, day, weekday, hour, minute, second, hundredths,
/// deviation (minutes, UTC = local + deviation; 0x8000 = unspecified), clock status.
struct cosem_datetime {
  /// 0xFFFF = not specified.
  uint16_t year = 0xFFFF;
  /// 1-12 (0xFD/0xFE DST end/begin), 1-31 (0xFD/0xFE second-last/last), 1-7 Monday..Sunday.
  uint8_t month = 0xFF, day = 0xFF, weekday = 0xFF;
  /// Wall time; 0xFF = not specified.
  uint8_t hour = 0xFF, minute = 0xFF, second = 0xFF, hundredths = 0xFF;
  /// Minutes, UTC = local + deviation; 0x8000 = not specified.
  int16_t deviation = static_cast<int16_t>(0x8000);
  /// Clock status bits (0x80 = DST active); 0xFF = not specified.
  uint8_t status = 0xFF;

  /// Deviation value meaning "not specified".
  static constexpr int16_t unspecified_deviation = static_cast<int16_t>(0x8000);
  /// Clock status bit: daylight saving time active.
  static constexpr uint8_t status_dst = 0x80;

  /// True unless the deviation is 0x8000.
  [[nodiscard]] bool deviation_specified() const noexcept {
    return deviation != unspecified_deviation;
  }
  friend bool operator==(const cosem_datetime&, const cosem_datetime&) = default;
};

/// Writes the 12 date-time bytes at `b` into `dt`, field by field (no validation); callers that
/// hold an `optional` fill its value in place (`read_datetime(b, time.emplace())`).
inline void read_datetime(const uint8_t* b, cosem_datetime& dt) noexcept {
  dt.year = static_cast<uint16_t>((b[0] << 8) | b[1]);
  dt.month = b[2];
  dt.day = b[3];
  dt.weekday = b[4];
  dt.hour = b[5];
  dt.minute = b[6];
  dt.second = b[7];
  dt.hundredths = b[8];
  dt.deviation = static_cast<int16_t>((b[9] << 8) | b[10]);
  dt.status = b[11];
}

/// Decodes 12 date-time bytes (no validation of the field values).
[[nodiscard]] inline std::optional<cosem_datetime>
parse_datetime(std::span<const uint8_t> b) noexcept {
  if (b.size() != 12)
    return std::nullopt;
  cosem_datetime dt;
  read_datetime(b.data(), dt);
  return dt;
}

/// Encodes a date-time into its 12 bytes.
[[nodiscard]] std::array<uint8_t, 12> encode_datetime(const cosem_datetime& dt) noexcept;

/// Converts to UTC nanoseconds since the epoch. A specified deviation gives UTC = local +
/// deviation. An unspecified deviation takes the time as wall time in `tz` (UTC when null); an
/// ambiguous wall time (DST end) resolves with the DST status bit, a nonexistent one (DST start)
/// maps to the transition. Returns nullopt for wildcards (0xFF..), out-of-range fields or DST
/// month/day markers.
[[nodiscard]] std::optional<int64_t> to_utc_ns(const cosem_datetime& dt,
                                               const date::time_zone* tz) noexcept;

/// True exactly when `to_utc_ns(dt, nullptr)` gives a value (fields in range, an existing date,
/// a specified deviation within +-900 minutes), without converting.
[[nodiscard]] bool utc_convertible(const cosem_datetime& dt) noexcept;

/// The day number of the last date converted (dates change once a day, times every message).
struct day_cache {
  /// year << 16 | month << 8 | day; 0 = none (no valid date has month 0).
  uint32_t key = 0;
  /// Days since 1970-01-01.
  int64_t day = 0;
};

/// A stretch of local time in which one zone's wall times are unambiguous and share one UTC
/// offset (the current standard or DST period), remembered between `to_utc_ns` calls so that
/// consecutive messages skip the zone's rule lookup.
struct zone_offset_cache {
  /// Zone the stretch belongs to; nullptr = empty cache.
  const date::time_zone* zone = nullptr;
  /// Local wall time [begin, end) in seconds since the epoch.
  int64_t local_begin_s = 0;
  int64_t local_end_s = 0;
  /// UTC = local - offset.
  int64_t offset_s = 0;
  /// The calendar date of the last conversion (any zone).
  day_cache days;
};

/// Same as `to_utc_ns(dt, tz)`, reading and refilling `cache` for wall times in `tz`.
[[nodiscard]] std::optional<int64_t> to_utc_ns(const cosem_datetime& dt, const date::time_zone* tz,
                                               zone_offset_cache& cache) noexcept;

/// Result of parsing an APDU header.
enum class apdu_status : uint8_t {
  ok,        ///< Parsed.
  truncated, ///< More bytes are needed.
  malformed, ///< Invalid encoding.
};

/// Header of a data-notification: 0x0F, long-invoke-id-and-priority, optional date-time (absent
/// `00`, `0C`+12, typed octet-string `09 0C`+12, typed date-time `19`+12).
struct data_notification {
  /// long-invoke-id-and-priority.
  uint32_t invoke_id = 0;
  /// The header date-time, when present.
  std::optional<cosem_datetime> time;
  /// Offset of the notification body (one A-XDR `Data`) in the APDU.
  size_t body_offset = 0;
};

/// Parses the data-notification header at `apdu[0]`.
[[nodiscard]] apdu_status parse_data_notification(std::span<const uint8_t> apdu,
                                                  data_notification& out) noexcept;

/// One general-block-transfer block.
struct gbt_block {
  /// Last-block bit.
  bool last = false;
  /// Streaming bit.
  bool streaming = false;
  /// Window size.
  uint8_t window = 0;
  /// Block number, from 1.
  uint16_t number = 0;
  /// Block number acknowledged.
  uint16_t ack = 0;
  /// The block's data.
  std::span<const uint8_t> data;
  /// Bytes of this APDU.
  size_t size = 0;
};

/// Parses a general-block-transfer APDU at `apdu[0]`.
[[nodiscard]] apdu_status parse_gbt(std::span<const uint8_t> apdu, gbt_block& out) noexcept;

/// A general-glo- or general-ded-ciphering APDU.
struct ciphered_apdu {
  /// 0xDB or 0xDC.
  uint8_t tag = 0;
  /// Sender's system title (manufacturer flag id + serial).
  std::array<uint8_t, 8> system_title{};
  /// SC: bits 0-3 suite, 0x10 authentication, 0x20 encryption, 0x80 compression.
  uint8_t security_control = 0;
  /// Invocation counter (IV part).
  uint32_t invocation_counter = 0;
  /// Ciphertext (or plaintext when only authenticated).
  std::span<const uint8_t> payload;
  /// The 12-byte authentication tag when security control has bit 0x10; empty otherwise.
  std::span<const uint8_t> auth_tag;
  /// Bytes of this APDU.
  size_t size = 0;
};

/// Parses a 0xDB / 0xDC APDU at `apdu[0]`.
[[nodiscard]] apdu_status parse_ciphered(std::span<const uint8_t> apdu,
                                         ciphered_apdu& out) noexcept;

/// Size of the complete APDU at `buf[0]` (LLC `E6 E7 00` / `E6 E6 00` prefix included), used to
/// delimit raw APDU streams. `scratch` is reused for the A-XDR walk. APDUs longer than
/// `max_size` are malformed.
[[nodiscard]] apdu_status apdu_extent(std::span<const uint8_t> buf, size_t max_size, size_t& size,
                                      std::vector<data_node>& scratch);

/// True when `b` starts with an LLC header `E6 E7 00` or `E6 E6 00`.
[[nodiscard]] bool has_llc(std::span<const uint8_t> b) noexcept;

} // namespace wattline::dlms
