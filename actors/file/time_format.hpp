#pragma once

// RFC 3339 timestamps with nanosecond precision, as the file sink writes and the file source
// reads them, and the compact UTC stamp used in rotated file names.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace wattline::file_io {

/// Formats nanoseconds since the Unix epoch as RFC 3339 UTC, e.g. "2026-11-21T15:50:22.500Z".
///
/// Fraction rule: the fraction is written in groups of three digits, using the fewest groups
/// that represent the time exactly, and is left out for whole seconds:
/// `...:22Z`, `...:22.500Z`, `...:22.500001Z`, `...:22.500000001Z`. The text therefore always
/// carries the record's full nanosecond precision. Times before 1970 work too.
[[nodiscard]] std::string format_rfc3339(int64_t time_ns);

/// Parses an RFC 3339 date-time: `YYYY-MM-DD(T|t| )HH:MM:SS[.fraction](Z|z|+HH:MM|-HH:MM)`.
/// Fraction digits beyond the ninth are truncated (not rounded).
/// Returns nanoseconds since the Unix epoch, or nothing when the text is not such a time or out
/// of the int64 range.
[[nodiscard]] std::optional<int64_t> parse_rfc3339(std::string_view text);

/// Compact UTC stamp for file names, fixed width so that names sort by time:
/// `YYYYMMDDTHHMMSS.nnnnnnnnnZ`, e.g. "20261121T155022.500000000Z".
[[nodiscard]] std::string format_file_stamp(int64_t time_ns);

/// True when `text` has the exact shape of format_file_stamp's output.
[[nodiscard]] bool is_file_stamp(std::string_view text);

} // namespace wattline::file_io
