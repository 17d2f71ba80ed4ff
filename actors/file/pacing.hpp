#pragma once

// How fast the file source replays a capture, and the terminal progress bar.

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <variant>

namespace wattline::file_io {

/// Replay speed of the file source.
struct pacing {
  enum class mode {
    /// No delay: every next() result is due at once.
    as_fast_as_possible,
    /// A serial line: `bits_per_second` on an 8N1 line, i.e. 10 bits on the wire per byte.
    byte_rate,
    /// jsonl only: the records' own time spacing (the first record is due at once).
    realtime,
  };
  mode kind = mode::as_fast_as_possible;
  /// For byte_rate: line speed in bits per second (baud), > 0.
  double bits_per_second = 0;

  /// Bits on the wire per byte on an 8N1 line: start bit, 8 data bits, stop bit.
  static constexpr int bits_per_byte = 10;

  /// The time `bytes` take on the line (zero unless byte_rate), rounded to nanoseconds.
  [[nodiscard]] std::chrono::nanoseconds delay_for_bytes(uint64_t bytes) const;

  friend bool operator==(const pacing&, const pacing&) = default;
};

/// Parses a pacing option: "as_fast_as_possible", "realtime", or a line speed "2400 baud",
/// "2400baud", "9600" (bits per second, 8N1). Returns the pacing or an error message.
[[nodiscard]] std::variant<pacing, std::string> parse_pacing(std::string_view text);

/// One line of a text progress bar for a TTY: starts with '\r' (return to column 0, no newline)
/// so that printing it again redraws in place, e.g. "\r[==========>         ]  52.3%".
/// `fraction` is clamped to [0, 1] (NaN counts as 0); `width` is the number of cells between
/// the brackets (at least 1).
[[nodiscard]] std::string progress_bar(double fraction, int width);

} // namespace wattline::file_io
