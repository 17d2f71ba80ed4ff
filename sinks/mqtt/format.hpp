#pragma once

// Pure MQTT payload formats and topic templates: records to (topic, payload) messages and back.
// No I/O and no threads; every function here is safe to call from any thread.

#include "engine/record.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace wattline::mqtt {

/// How records are turned into MQTT payloads.
enum class payload_format {
  /// One message per field, topic `smartmeter/<meter>/<FIELD>`, payload exactly as
  /// smartmeter-datacollector publishes: `{"value": 28.0, "timestamp": 1625583498, "obis":
  /// "1.7.0"}`
  /// (Python `json.dumps` spacing, float value, epoch seconds, short C.D.E OBIS code).
  smdc,
  /// One message per record: `{"name":..,"time":<ns>,"tags":{..},"fields":{..}}` plus optional
  /// `"units"` and `"obis"` objects (field key -> unit / OBIS code) when any field has them.
  json,
  /// One message per field; the payload is the bare value (`28.5`, `42`, `true`, `text`).
  value,
};

/// Parses "smdc", "json" or "value"; nullopt otherwise.
std::optional<payload_format> parse_payload_format(std::string_view text);

/// Returns "smdc", "json" or "value".
std::string_view to_string(payload_format f);

/// The default topic template of a format: smdc `smartmeter/{tags.meter}/{field}`, json
/// `wattline/{tags.meter}/{name}`, value `wattline/{tags.meter}/{field}`.
std::string_view default_topic_template(payload_format f);

/// One message to publish (or one received): topic and payload bytes.
struct encoded_message {
  /// Topic name (no wildcards).
  std::string topic;
  /// Payload bytes.
  std::string payload;
  /// Key of the field this message carries; empty for per-record messages (json format).
  std::string field;

  friend bool operator==(const encoded_message&, const encoded_message&) = default;
};

/// A topic template such as `wattline/{tags.meter}/{field}`.
///
/// Placeholders: `{name}` (record name), `{field}` (field key, per-field formats only),
/// `{tags.X}` (value of tag X). Alternatives separated by `|` take the first one present:
/// `{tags.meter|tags.source|name}`. Substituted values have `/`, `+`, `#` and NUL replaced by
/// `_` so that they stay inside one topic level and never form a wildcard. For parsing received
/// topics (`match`), a placeholder must fill a whole topic level.
class topic_template {
public:
  /// One piece of the template: literal text or a placeholder with its alternatives.
  struct part {
    /// Literal text (when `alternatives` is empty).
    std::string literal;
    /// Placeholder alternatives, e.g. {"tags.meter", "name"}.
    std::vector<std::string> alternatives;
  };

  /// Parses a template; returns nullopt and sets `error` on unbalanced braces, unknown
  /// placeholders or wildcards (`+`, `#`) in literal text.
  static std::optional<topic_template> parse(std::string_view text, std::string* error = nullptr);

  /// The template text as given.
  [[nodiscard]] const std::string& text() const { return text_; }

  /// True when the template contains a `{field}` placeholder.
  [[nodiscard]] bool has_field() const { return has_field_; }

  /// Renders the topic for a record (and field key, for per-field formats). Returns nullopt and
  /// sets `error` when a placeholder has no value (e.g. missing tag) or the result is empty.
  [[nodiscard]] std::optional<std::string> render(const record& r, std::string_view field_key = {},
                                                  std::string* error = nullptr) const;

  /// The subscription filter matching every topic the template renders: placeholder levels
  /// become `+`, e.g. `smartmeter/+/+`.
  [[nodiscard]] std::string subscription_filter() const;

  /// Matches a received topic against the template. On success returns the placeholder values
  /// in template order as (first alternative, value), e.g. {("tags.meter","m1"),("field","P")}.
  [[nodiscard]] std::optional<std::vector<std::pair<std::string, std::string>>>
  match(std::string_view topic) const;

private:
  std::string text_;
  /// Topic levels (split at `/`), each a sequence of parts.
  std::vector<std::vector<part>> levels_;
  bool has_field_ = false;
};

/// Formats a double like Python's `repr(float)` (and `json.dumps`): shortest round-trip digits,
/// always a `.0` for integral values, exponent form below 1e-4 and from 1e16 (`1e+16`),
/// `NaN`, `Infinity`, `-Infinity`.
std::string python_float_repr(double v);

/// Short OBIS code "C.D.E" from "A-B:C.D.E*F" (or from "C.D.E" as is); empty input gives "".
std::string short_obis(std::string_view obis);

/// Encodes one record. Appends the messages to `out` and returns the number appended; on
/// failure (topic placeholder without value, template without `{field}` for a per-field format)
/// returns 0 and sets `error`. Fields whose value cannot be encoded (strings in smdc) are
/// skipped silently.
size_t encode(const record& r, payload_format format, const topic_template& topic,
              std::vector<encoded_message>& out, std::string* error = nullptr);

/// Options for decoding received messages back into records.
struct decode_options {
  /// Record name used when the topic template has no `{name}` (smdc and value formats).
  std::string default_name = "smartmeter";
  /// Record time used when the payload carries none (value format), ns since the Unix epoch;
  /// 0 means "now".
  int64_t default_time_ns = 0;
};

/// Decodes one received message. For `smdc` and `value` the topic is matched against the
/// template to get the field key (`{field}`), tags (`{tags.X}`) and name (`{name}`); for `json`
/// the payload carries everything and the topic is ignored. Returns nullopt and sets `error` on
/// a topic that does not match or a malformed payload.
std::optional<record> decode(std::string_view topic, std::string_view payload,
                             payload_format format, const topic_template& topic_tmpl,
                             const decode_options& opts = {}, std::string* error = nullptr);

/// Renders a field value for the `value` format: doubles via `python_float_repr`, integers in
/// decimal, `true`/`false`, strings as they are.
std::string value_to_text(const field_value& v);

/// Parses a `value` payload: `true`/`false` -> bool, a decimal integer -> int64 (uint64 when too
/// large for int64), a number with `.`/exponent or NaN/Infinity -> double, anything else ->
/// string.
field_value value_from_text(std::string_view text);

} // namespace wattline::mqtt
