#pragma once

// smartmeter-datacollector's register map (identifiers, fixed scale factors), wattline's correct
// units, per-meter profiles (scale overrides, value-only field lists) and DLMS unit names.

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "actors/dlms/cosem.hpp"

namespace wattline::dlms {

/// One entry of the register map, matched on C.D.E only.
struct register_info {
  /// OBIS value groups C, D, E.
  uint8_t c = 0, d = 0, e = 0;
  /// smartmeter-datacollector identifier, e.g. "ACTIVE_POWER_P".
  std::string_view identifier;
  /// Physical unit: W, var, Wh, varh, A, V, Hz, deg; empty for the power factor.
  std::string_view unit;
  /// Fixed scale factor applied when the meter sends no scaler.
  double factor = 1.0;
  /// The register's usual full OBIS code "1-0:C.D.E*255" (A = 1, B = 0, F = 255).
  std::string_view obis_text;
};

/// The whole default map, sorted by C.D.E.
[[nodiscard]] std::span<const register_info> register_map() noexcept;

// `identifier`, `unit` and `obis_text` of the map's entries, and every `unit_name`, view string
// literals (static storage): the decoder hands them to records as `field_text::borrowed`.

/// Looks up C.D.E; nullptr when the map does not know the register.
[[nodiscard]] const register_info* find_register(uint8_t c, uint8_t d, uint8_t e) noexcept;

/// Looks up an identifier such as "VOLTAGE_L1"; nullptr when unknown.
[[nodiscard]] const register_info* find_identifier(std::string_view identifier) noexcept;

/// A per-profile scale factor replacing the map's default for one C.D.E.
struct scale_override {
  /// OBIS value groups C, D, E.
  uint8_t c = 0, d = 0, e = 0;
  /// Replacement factor.
  double factor = 1.0;
};

/// A meter / utility profile.
struct profile_info {
  /// Name used in configuration, e.g. "lge450".
  std::string_view name;
  /// One line for humans.
  std::string_view description;
  /// Scale overrides (smartmeter-datacollector's per-meter `register_obis_extended`).
  std::vector<scale_override> overrides;
  /// Field lists for value-only payloads (shape D); the one whose length equals the number of
  /// values is used. Entry syntax as in `options::fields`.
  std::vector<std::vector<std::string_view>> field_lists;
};

/// All known profiles.
[[nodiscard]] std::span<const profile_info> profiles() noexcept;

/// Looks up a profile by name; nullptr when unknown.
[[nodiscard]] const profile_info* find_profile(std::string_view name) noexcept;

/// Name of a DLMS unit enum value (e.g. 27 -> "W", 32 -> "varh"); empty when unknown or
/// dimensionless (255).
[[nodiscard]] std::string_view unit_name(uint8_t code) noexcept;

/// What one position of a value-only payload means.
struct field_spec {
  /// Role of the position.
  enum class kind : uint8_t { skip, meter_id, timestamp, value };
  /// This position's role.
  kind what = kind::skip;
  /// For values: the register's OBIS code.
  obis_code obis;
  /// For values: decimal exponent applied to the raw value; unset = map's fixed factor.
  std::optional<int> scaler;
};

/// Parses one field-list entry: "skip" (or empty), "meter_id", "timestamp", or an OBIS code
/// ("1-0:32.7.0*255", "32.7.0") or identifier ("VOLTAGE_L1"), optionally followed by "@<scaler>"
/// (decimal exponent, e.g. "VOLTAGE_L1@-1"). Sets `error` and returns nullopt when invalid.
[[nodiscard]] std::optional<field_spec> parse_field_spec(std::string_view text, std::string& error);

} // namespace wattline::dlms
