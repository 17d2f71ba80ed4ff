#pragma once

// The JSON Lines form of a record, written by the file sink and read back by the file source.
//
//   {"name":"smartmeter","time":"2026-11-21T15:50:22.5Z","tags":{"meter":"m1"},
//    "fields":{"power_w":1520.5,"energy_wh":123456,"ok":true,"fw":"1.2"},
//    "meta":{"power_w":{"unit":"W","obis":"1-0:1.7.0*255"},"counter":{"type":"uint64"}}}
//
// (one line in the file). Keys are written in this order; tags and fields keep the record's
// insertion order.
// - "time": RFC 3339 UTC with the full nanosecond precision (see format_rfc3339 for the
//   fraction rule). The reader also accepts an integer (nanoseconds since the epoch).
// - "fields": JSON types kept: double -> number with a '.' or exponent (shortest round-trip
//   text; NaN and infinities -> null), int64 and uint64 -> exact integer digits (never through a
//   double), bool -> true/false, string -> string.
// - "meta": optional, written only when some field has a unit, an OBIS code, or is a uint64:
//   per field name {"unit":..,"obis":..,"type":"uint64"}, each key only when it applies. It makes
//   the round trip exact: without it an integer reads back as int64 when it fits, else uint64.
// Reading: null -> NaN double; unknown top-level keys are ignored; "name" (string) and "time"
// are required; "tags" (object of strings) and "fields" (object) may be absent.

#include "engine/record.hpp"

#include <string>
#include <string_view>
#include <variant>

namespace wattline::file_io {

/// Appends the JSON line of `r` to `out`, with the terminating '\n'.
void append_jsonl(std::string& out, const record& r);

/// Returns the JSON line of `r` without the terminating '\n'.
[[nodiscard]] std::string to_json(const record& r);

/// Parses one JSON line (without or with a trailing '\n' / "\r\n"). Returns the record, or an
/// error message (without line number; the reader adds it).
[[nodiscard]] std::variant<record, std::string> parse_jsonl(std::string_view line);

} // namespace wattline::file_io
