#pragma once

// Configuration of the tariff transform: data model, YAML parser with located diagnostics, and
// option documentation for `wattline describe`.
//
// YAML shape (the transform's map inside a pipeline file; `type`, `inputs` and `supervision` are
// handled by the engine and ignored here):
//
//   transforms:
//     tariff:
//       type: tariff
//       inputs: [meter]
//       timezone: Europe/Zurich        # IANA zone name, never a fixed UTC offset
//       currency: CHF
//       default_tariff: low            # for time no range covers
//       tariffs:
//         high:
//           import: 0.3120             # price per kWh bought from the grid
//           export: 0.0800             # optional feed-in price per kWh sold
//           changes:                   # optional: new prices from a local date on (00:00)
//             - { from: 2026-07-01, import: 0.3350 }
//         low:
//           import: 0.2150
//           export: 0.0800
//       schedule:                      # weekly time ranges, local wall-clock time
//         - { days: mon-fri, from: "07:00", to: "20:00", tariff: high }
//         - { days: sat, from: "07:00", to: "13:00", tariff: high }
//       holidays:                      # optional
//         count_as: sun                # a day name or `holiday` (then use `days: holiday`)
//         dates: [2026-01-01, 2026-04-03, 12-25]   # YYYY-MM-DD, or MM-DD for every year
//       import_field: ACTIVE_ENERGY_P  # cumulative import counter in kWh (default)
//       export_field: ACTIVE_ENERGY_N  # cumulative export counter in kWh (default)
//       meter_tag: meter               # tag that identifies the meter (default)
//
// A range whose `to` is not after its `from` crosses midnight (e.g. 22:00-06:00) and belongs to
// the day it starts on. `to: "24:00"` means the end of the day.

#include "engine/component.hpp"
#include "engine/diagnostic.hpp"

#include <date/date.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace YAML {
class Node;
} // namespace YAML

namespace date {
class time_zone;
} // namespace date

namespace wattline::tariff {

/// Day types of the weekly schedule: Monday (0) to Sunday (6), and the holiday type (7).
enum class day_type : uint8_t { mon, tue, wed, thu, fri, sat, sun, holiday };

/// Number of day types (seven weekdays plus `holiday`).
inline constexpr int day_type_count = 8;

/// Seconds in a (nominal) day of the schedule; `to: "24:00"` is this value.
inline constexpr int seconds_per_day = 86400;

/// A price change of one tariff, effective from local midnight of `from`.
struct price_change {
  date::local_days from;
  double import_price = 0;
  double export_price = 0;
};

/// One named tariff with its prices per kWh.
struct tariff_def {
  std::string name;
  /// Price per kWh imported (bought), in the configured currency.
  double import_price = 0;
  /// Price per kWh exported (fed in); 0 when not configured.
  double export_price = 0;
  /// True when `export` was configured.
  bool has_export_price = false;
  /// Price changes, sorted by date; each keeps the previous value of a price it does not set.
  std::vector<price_change> changes;
};

/// One entry of the weekly schedule: a local time range on a set of day types.
struct time_range {
  /// Bit i set when the range applies to day_type(i).
  uint8_t days = 0;
  /// Start, seconds after local midnight, in [0, 86400).
  int from_s = 0;
  /// End, seconds after local midnight, in (0, 86400]; not after `from_s` means the range
  /// crosses midnight and ends on the next day.
  int to_s = 0;
  /// Index into tariff_config::tariffs.
  std::size_t tariff = 0;
  /// Where the entry is, for diagnostics.
  source_location where;
  /// The entry as written, e.g. "mon-fri 07:00-20:00", for diagnostics.
  std::string label;

  [[nodiscard]] bool crosses_midnight() const { return to_s <= from_s; }
};

/// A public holiday: a fixed date, or every year on a month and day (year == 0).
struct holiday {
  int year = 0;
  unsigned month = 1;
  unsigned day = 1;
};

/// The parsed configuration of a tariff transform.
struct tariff_config {
  /// IANA time zone name, e.g. "Europe/Zurich".
  std::string timezone;
  /// The zone from the system tz database; never null in a parsed config.
  const date::time_zone* zone = nullptr;
  /// Currency code or symbol, e.g. "CHF"; used as the unit of cost fields.
  std::string currency;
  std::vector<tariff_def> tariffs;
  /// Index into `tariffs` of the tariff for time no range covers.
  std::size_t default_tariff = 0;
  std::vector<time_range> ranges;
  std::vector<holiday> holidays;
  /// The day type a holiday counts as.
  day_type holiday_as = day_type::sun;
  /// Cumulative import energy field in kWh.
  std::string import_field = "ACTIVE_ENERGY_P";
  /// Cumulative export energy field in kWh.
  std::string export_field = "ACTIVE_ENERGY_N";
  /// Tag identifying the meter.
  std::string meter_tag = "meter";

  /// Index of the tariff named `name`, or tariffs.size().
  [[nodiscard]] std::size_t find_tariff(std::string_view name) const;
  /// True when `d` is one of the configured holidays.
  [[nodiscard]] bool is_holiday(date::local_days d) const;
};

/// Parses the transform's YAML map. Every problem is reported to `diags` at the offending node's
/// `file:line:col`; returns nothing when there was an error. Never throws.
std::optional<tariff_config> parse_tariff_config(const YAML::Node& node, const std::string& file,
                                                 wattline::diagnostics& diags);

/// Plain documentation of one option, for `wattline describe`.
struct option_doc {
  /// Option path, e.g. "timezone" or "tariffs.<name>.import".
  std::string name;
  /// Value type as shown to users, e.g. "string", "number", "list of map".
  std::string type;
  /// Default value as text; empty when the option is required or has no default.
  std::string default_value;
  /// True when the option must be given.
  bool required = false;
  /// One-paragraph description.
  std::string doc;
};

/// Documentation of every option of the tariff transform, in a stable order. Nested options
/// have dotted names ("tariffs.<name>.import", "schedule[].days").
const std::vector<option_doc>& tariff_options();

/// The top-level options as engine option specs (engine/component.hpp) for the component
/// descriptor: nested maps and lists are `option_type::any`, checked by parse_tariff_config().
std::vector<wattline::option_spec> tariff_option_specs();

/// Short name of a day type: "mon" ... "sun", "holiday".
const char* day_type_name(day_type t);

} // namespace wattline::tariff
