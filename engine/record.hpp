#pragma once

// The data units that flow between wattline nodes. Plain C++: no CAF include here, so that codecs
// and transforms can use them without pulling the actor runtime into their compile units.

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace wattline {

/// A field value, typed like InfluxDB's line protocol: float, signed and unsigned integer, bool,
/// string. The index order is part of the on-disk buffer format: append only.
using field_value = std::variant<double, int64_t, uint64_t, bool, std::string>;

/// One named value of a record, with optional metadata for sinks that use it.
struct field {
  std::string key;
  field_value value;
  /// Physical unit, e.g. "W", "kWh", "var", "varh"; empty when unknown or dimensionless.
  std::string unit;
  /// OBIS code `A-B:C.D.E*F` the value was read from; empty when not from a meter register.
  std::string obis;

  friend bool operator==(const field&, const field&) = default;
};

/// A measurement at one instant, modelled on a Telegraf metric.
struct record {
  /// Measurement name, e.g. "smartmeter".
  std::string name;
  /// Tags in insertion order; keys are unique.
  std::vector<std::pair<std::string, std::string>> tags;
  /// Fields in insertion order; keys are unique.
  std::vector<field> fields;
  /// UTC time in nanoseconds since the Unix epoch.
  int64_t time_ns = 0;

  friend bool operator==(const record&, const record&) = default;

  /// Returns the tag value for `key`, or nullptr.
  [[nodiscard]] const std::string* tag(std::string_view key) const {
    for (const auto& [k, v] : tags)
      if (k == key)
        return &v;
    return nullptr;
  }

  /// Sets (adds or replaces) a tag.
  void set_tag(std::string key, std::string value) {
    for (auto& [k, v] : tags)
      if (k == key) {
        v = std::move(value);
        return;
      }
    tags.emplace_back(std::move(key), std::move(value));
  }

  /// Returns the field named `key`, or nullptr.
  [[nodiscard]] const field* find_field(std::string_view key) const {
    for (const auto& f : fields)
      if (f.key == key)
        return &f;
    return nullptr;
  }

  /// Sets (adds or replaces) a field; unit and OBIS code are kept when replacing.
  field& set_field(std::string key, field_value value) {
    for (auto& f : fields)
      if (f.key == key) {
        f.value = std::move(value);
        return f;
      }
    fields.push_back(field{std::move(key), std::move(value), {}, {}});
    return fields.back();
  }
};

/// Raw bytes as a byte-level source (serial, tcp, binary file) received them, for decoders.
struct chunk {
  std::vector<uint8_t> bytes;
  /// UTC receive time of the last byte, nanoseconds since the Unix epoch.
  int64_t time_ns = 0;
  /// Where the bytes came from, e.g. "/dev/ttyUSB0" or "capture.bin".
  std::string origin;

  friend bool operator==(const chunk&, const chunk&) = default;
};

/// Returns the value as a double when it is numeric or bool; false otherwise.
[[nodiscard]] inline bool as_double(const field_value& v, double& out) {
  switch (v.index()) {
  case 0:
    out = std::get<double>(v);
    return true;
  case 1:
    out = static_cast<double>(std::get<int64_t>(v));
    return true;
  case 2:
    out = static_cast<double>(std::get<uint64_t>(v));
    return true;
  case 3:
    out = std::get<bool>(v) ? 1.0 : 0.0;
    return true;
  default:
    return false;
  }
}

} // namespace wattline
