#pragma once

// Reading InfluxDB error responses: which lines of a request did the server reject, and why.
//
// What the servers answer (checked against InfluxDB 1.6.7, see tests/influxdb):
// * unparsable lines: 400 `{"error":"partial write: unable to parse '<line>': <why>\nunable to
//   parse '<line>': <why> dropped=0"}` -- the other lines are stored; without any valid line the
//   message has no "partial write:" prefix;
// * type conflicts: 400 `{"error":"partial write: field type conflict: input field \"f\" on
//   measurement \"m\" is type integer, already exists as type float dropped=2"}` -- only the first
//   conflict is described, the line is not quoted, the rest is stored;
// * `partial write: points beyond retention policy dropped=N` -- lines not identified at all;
// * InfluxDB 2.x: `{"code":"invalid","message":"..."}`, parse errors as `line N: ...`, and the
//   whole request is refused.
// Some servers and proxies answer these with 500 instead of 400; the text decides, not the status.

#include "sinks/influxdb/batch.hpp"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace wattline::influxdb {

/// Returns the error text of a response body: `error` (1.x) or `message` (2.x) of a JSON object,
/// else the body itself; trimmed and cut to `max_size` bytes.
[[nodiscard]] std::string extract_error_message(std::string_view body, size_t max_size = 4096);

/// True when the message says the request's data is at fault (unparsable lines, type conflicts,
/// points outside the retention policy, partial writes, limits on series/values): retrying the
/// same lines can never succeed.
[[nodiscard]] bool is_content_error(std::string_view message);

/// True when the message says the server stored the points it did not reject ("partial write").
[[nodiscard]] bool is_partial_write(std::string_view message);

/// Parses `dropped=N` from a partial-write message.
[[nodiscard]] std::optional<uint64_t> parse_dropped(std::string_view message);

/// The first type conflict described by a message.
struct type_conflict {
  /// Measurement name as the server printed it (unescaped).
  std::string measurement;
  /// Field key (unescaped).
  std::string field;
  /// Type of the rejected input ("integer", "float", ...).
  std::string input_type;
};

/// Parses `field type conflict: input field "F" on measurement "M" is type T`.
[[nodiscard]] std::optional<type_conflict> parse_type_conflict(std::string_view message);

/// Lines of a request that an error message identifies.
struct attribution {
  /// Indices (into the request's lines) of lines the server could not parse, with the part of the
  /// message about each.
  std::vector<std::pair<size_t, std::string>> unparsable;
  /// Indices of lines matching the reported type conflict (measurement, field and input type).
  std::vector<size_t> conflicting;
  /// The reported conflict, if any.
  std::optional<type_conflict> conflict;
  /// The `dropped=N` count, if present.
  std::optional<uint64_t> dropped;
  /// True for a partial write (lines not identified were stored).
  bool partial = false;
};

/// Finds the lines of `request` named by `message`.
[[nodiscard]] attribution attribute_error(std::string_view message, const line_batch& request);

} // namespace wattline::influxdb
