#pragma once

// InfluxDB line protocol: an encoder from wattline::record and a small line scanner used to match
// server error messages back to lines. Plain C++, no CAF.
//
// Encoding rules (InfluxDB 1.x / 2.x line protocol reference):
// * measurement: `,` and space escaped with a backslash;
// * tag keys, tag values, field keys: `,` `=` and space escaped with a backslash;
// * string field values: double-quoted, `"` and `\` escaped; raw newlines, CR and tabs are kept
// (the
//   InfluxDB parser accepts them inside quotes, and they round-trip exactly);
// * in measurement, tag keys/values and field keys, a newline / CR / tab / form feed cannot be kept
//   raw; it is written as the two characters `\n` `\r` `\t` `\f` (Telegraf convention: accepted by
//   InfluxDB, stored literally). A backslash at the end of such a token or directly before a
//   character that needs escaping would corrupt the line and is dropped;
// * tags are sorted by key (byte order), empty tag keys or values are omitted;
// * float fields use the shortest representation that round-trips exactly; NaN and +-Inf are
//   skipped; integers get `i`; unsigned integers get `u` or, for servers without unsigned support
//   (InfluxDB 1.x), are written as `i` clamped to INT64_MAX;
// * fields and tags named `time` are skipped (InfluxDB rejects them);
// * a record without any writable field produces no line;
// * every line carries a timestamp at the configured precision.

#include "engine/record.hpp"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace wattline::influxdb {

/// Timestamp precision of encoded lines, and the `precision` parameter of the write request.
enum class precision { ns, us, ms, s };

/// Returns "ns", "us", "ms" or "s".
[[nodiscard]] std::string_view to_string(precision p);

/// Parses "ns", "us", "ms" or "s" (also "n", "u"); nullopt otherwise.
[[nodiscard]] std::optional<precision> parse_precision(std::string_view text);

/// Converts nanoseconds since the epoch to `p` units, rounding towards negative infinity.
[[nodiscard]] int64_t convert_timestamp(int64_t time_ns, precision p);

/// How unsigned 64-bit fields are written.
enum class uint_encoding {
  /// `42u`: InfluxDB 2.x and 1.8+ with unsigned support.
  unsigned_suffix,
  /// `42i`, values above INT64_MAX clamped (counted): InfluxDB 1.x (1.6.7 rejects `u`).
  integer_clamped,
};

/// Options of the line encoder.
struct encoder_options {
  /// Precision of the timestamps written (must match the writer's precision).
  influxdb::precision time_precision = precision::ns;
  /// Encoding of uint64_t fields.
  uint_encoding uints = uint_encoding::integer_clamped;
};

/// Counters of what the encoder skipped or altered; cumulative over the encoder's life.
struct encoder_stats {
  /// Records encoded into a line.
  uint64_t lines = 0;
  /// Records that produced no line (no writable field or empty measurement).
  uint64_t skipped_records = 0;
  /// NaN or infinite float fields skipped.
  uint64_t skipped_nonfinite_fields = 0;
  /// Fields skipped for other reasons (empty key, key `time`).
  uint64_t skipped_fields = 0;
  /// Tags omitted because the key or the value was empty (or the key was `time`).
  uint64_t skipped_tags = 0;
  /// Unsigned values above INT64_MAX written as INT64_MAX.
  uint64_t clamped_uints = 0;
};

/// Encodes records into line protocol. Reuses internal scratch space, so encoding allocates
/// nothing once the output buffer has grown. Not thread-safe; use one encoder per thread/actor.
class line_encoder {
public:
  /// Creates an encoder with `opts`.
  explicit line_encoder(encoder_options opts = {}) : opts_(opts) {}

  /// Appends the line for `rec`, terminated by '\n', to `out`. Returns false and leaves `out`
  /// unchanged when the record has no writable field (the record is counted as skipped).
  bool encode(const record& rec, std::string& out);

  /// Returns the encoder's options.
  [[nodiscard]] const encoder_options& options() const { return opts_; }

  /// Returns the cumulative counters.
  [[nodiscard]] const encoder_stats& stats() const { return stats_; }

private:
  encoder_options opts_;
  encoder_stats stats_;
  std::vector<uint32_t> tag_order_;
};

/// Appends `text` with measurement escaping (`,` and space) to `out`.
void append_escaped_measurement(std::string& out, std::string_view text);

/// Appends `text` with key / tag value escaping (`,` `=` space) to `out`.
void append_escaped_key(std::string& out, std::string_view text);

/// Appends `text` as a quoted string field value (`"` and `\` escaped) to `out`.
void append_quoted_string(std::string& out, std::string_view text);

/// Appends `v` in the shortest form that parses back to exactly `v` (finite values only).
void append_float(std::string& out, double v);

/// Field value type as the InfluxDB parser sees it.
enum class lp_type { float_, integer, unsigned_, string, boolean };

/// Returns the InfluxDB name of a type: "float", "integer", "unsigned", "string", "boolean".
[[nodiscard]] std::string_view to_string(lp_type t);

/// One field of a scanned line (key unescaped).
struct lp_field {
  /// Field key, unescaped.
  std::string key;
  /// Type deduced from the value syntax.
  lp_type type = lp_type::float_;
};

/// Result of scanning one line of line protocol (the subset needed to attribute server errors).
struct lp_line {
  /// Measurement name, unescaped.
  std::string measurement;
  /// Fields in line order.
  std::vector<lp_field> fields;
  /// True when the line ends with a timestamp.
  bool has_timestamp = false;
};

/// Scans a line (without its '\n'); nullopt when it is not syntactically a point.
[[nodiscard]] std::optional<lp_line> scan_line(std::string_view line);

} // namespace wattline::influxdb
