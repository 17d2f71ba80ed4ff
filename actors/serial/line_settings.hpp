#pragma once

// Serial line settings (baud rate, data bits, parity, stop bits), the per-meter profiles with their
// default settings, and validation with readable errors. Pure C++, no system calls.

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace wattline::serial {

/// Parity of a serial character frame.
enum class parity { none, even, odd };

/// Returns "none", "even" or "odd".
[[nodiscard]] std::string_view to_string(parity p);

/// Parses "none"/"even"/"odd" (also "n"/"e"/"o", any case); nullopt otherwise.
[[nodiscard]] std::optional<parity> parse_parity(std::string_view text);

/// The settings of a serial line. Flow control is always off and the line is always raw.
struct line_settings {
  /// Bits per second, e.g. 2400. Standard termios rates are set with cfsetspeed, other rates
  /// through termios2/BOTHER (Linux), which not every driver accepts.
  uint32_t baud_rate = 2400;
  /// Data bits per character: 5, 6, 7 or 8.
  int data_bits = 8;
  /// Parity bit.
  enum parity parity = parity::none;
  /// Stop bits: 1 or 2.
  int stop_bits = 1;

  friend bool operator==(const line_settings&, const line_settings&) = default;
};

/// Formats settings the usual way, e.g. "2400 8E1".
[[nodiscard]] std::string to_string(const line_settings& s);

/// A named meter profile: the line settings a meter type uses by default.
struct profile {
  /// Name used in pipelines, e.g. "lge450".
  std::string_view name;
  /// Default line settings.
  line_settings settings;
  /// Meter and interface, e.g. "Landis+Gyr E450, CII wired M-Bus".
  std::string_view description;
};

/// All known profiles, in a stable order: lge360, lge450, lge570, iskraam550, kamstrup_han,
/// generic_mbus, generic_p1, generic.
[[nodiscard]] std::span<const profile> profiles();

/// Returns the profile named `name` (exact, lower case), or nullptr.
[[nodiscard]] const profile* find_profile(std::string_view name);

/// The names of all profiles, for hints ("expected one of ...").
[[nodiscard]] std::vector<std::string> profile_names();

/// Baud rates offered as hints: the standard termios rates from 300 to 4000000.
[[nodiscard]] std::span<const uint32_t> allowed_baud_rates();

/// True when `baud` has a standard termios constant (B2400 ...), i.e. needs no termios2/BOTHER.
[[nodiscard]] bool is_standard_baud_rate(uint32_t baud);

/// Lowest and highest baud rate accepted by validation (non-standard rates in between are
/// accepted and set through termios2/BOTHER at open time).
inline constexpr uint32_t min_baud_rate = 50;
/// See min_baud_rate.
inline constexpr uint32_t max_baud_rate = 4000000;

/// Allowed data bits: 5, 6, 7, 8.
[[nodiscard]] std::span<const int> allowed_data_bits();

/// Allowed parity names: "none", "even", "odd".
[[nodiscard]] std::span<const std::string_view> allowed_parities();

/// Allowed stop bits: 1, 2.
[[nodiscard]] std::span<const int> allowed_stop_bits();

/// One problem found by validation.
struct setting_error {
  /// Option name as written in pipelines: "profile", "baud_rate", "data_bits", "parity",
  /// "stop_bits".
  std::string option;
  /// Readable message, e.g. "unsupported baud rate 0: use a value from 50 to 4000000".
  std::string message;
  /// Allowed values for a hint or did-you-mean, e.g. {"1200", "2400", ...}.
  std::vector<std::string> allowed;
};

/// Checks every field; returns one error per bad field (empty when valid).
[[nodiscard]] std::vector<setting_error> validate(const line_settings& s);

/// Per-pipeline overrides of a profile's defaults; unset fields keep the profile's value.
struct line_overrides {
  /// Overrides line_settings::baud_rate.
  std::optional<int64_t> baud_rate;
  /// Overrides line_settings::data_bits.
  std::optional<int64_t> data_bits;
  /// Overrides line_settings::parity; parsed with parse_parity.
  std::optional<std::string> parity;
  /// Overrides line_settings::stop_bits.
  std::optional<int64_t> stop_bits;
};

/// The outcome of resolve(): settings when errors is empty.
struct resolved_settings {
  /// The profile's defaults with the overrides applied (meaningful only when errors is empty).
  line_settings settings;
  /// Every problem found (unknown profile, out-of-range override ...).
  std::vector<setting_error> errors;

  /// True when no error was found.
  [[nodiscard]] bool ok() const { return errors.empty(); }
};

/// Looks up `profile_name` (empty means "generic"), applies `overrides` and validates the result.
[[nodiscard]] resolved_settings resolve(std::string_view profile_name,
                                        const line_overrides& overrides = {});

} // namespace wattline::serial
