#pragma once

// Shared helpers of the tariff tests: a reference configuration, local and UTC time builders
// (the controllable clock: records carry their own time), and record builders.

#include "actors/tariff/tariff.hpp"
#include "engine/diagnostic.hpp"

#include <date/tz.h>
#include <yaml-cpp/yaml.h>

#include <chrono>
#include <optional>
#include <stdexcept>
#include <string>

namespace wattline::tariff::test {

/// Reference configuration: high rate Mon-Fri 07-20 and Sat 07-13, night rate from Friday and
/// Saturday 22:00 to 06:00 the next morning, low rate otherwise; holidays count as Sunday; prices
/// of high and low change on 2026-07-01.
inline constexpr const char* reference_yaml = R"(type: tariff
inputs: [meter]
timezone: Europe/Zurich
currency: CHF
default_tariff: low
tariffs:
  high:
    import: 0.30
    export: 0.10
    changes:
      - { from: 2026-07-01, import: 0.35 }
  low:
    import: 0.20
    export: 0.05
    changes:
      - { from: 2026-07-01, import: 0.22 }
  night: { import: 0.10, export: 0.05 }
schedule:
  - { days: mon-fri, from: "07:00", to: "20:00", tariff: high }
  - { days: sat, from: "07:00", to: "13:00", tariff: high }
  - { days: [fri, sat], from: "22:00", to: "06:00", tariff: night }
holidays:
  count_as: sun
  dates: [2026-01-01, 2026-04-03, 12-25]
)";

/// Parses `yaml`; throws with the rendered diagnostics when it is not valid.
inline tariff_config parse_ok(const std::string& yaml) {
  diagnostics diags;
  auto cfg = parse_tariff_config(YAML::Load(yaml), "test.yaml", diags);
  if (!cfg) {
    std::string all;
    for (const auto& d : diags.items())
      all += render(d);
    throw std::runtime_error("config rejected:\n" + all);
  }
  return *cfg;
}

inline constexpr int64_t ns_per_s = 1'000'000'000;
inline constexpr int64_t ns_per_min = 60 * ns_per_s;
inline constexpr int64_t ns_per_h = 3600 * ns_per_s;

/// UTC nanoseconds of a UTC date and time.
inline int64_t utc(int y, unsigned mo, unsigned d, int h = 0, int mi = 0, int s = 0) {
  using namespace std::chrono;
  auto tp = date::sys_days{date::year{y} / date::month{mo} / date::day{d}} + hours{h} +
            minutes{mi} + seconds{s};
  return duration_cast<nanoseconds>(tp.time_since_epoch()).count();
}

/// UTC nanoseconds of a Europe/Zurich wall-clock time (the first one when it occurs twice).
inline int64_t zurich(int y, unsigned mo, unsigned d, int h = 0, int mi = 0, int s = 0) {
  using namespace std::chrono;
  auto local = date::local_days{date::year{y} / date::month{mo} / date::day{d}} + hours{h} +
               minutes{mi} + seconds{s};
  auto sys = date::locate_zone("Europe/Zurich")->to_sys(local, date::choose::earliest);
  return duration_cast<nanoseconds>(sys.time_since_epoch()).count();
}

/// A meter record at `t_ns` with the import counter and, optionally, the export counter (kWh).
inline record meter_record(const std::string& meter, int64_t t_ns, std::optional<double> import_kwh,
                           std::optional<double> export_kwh = std::nullopt) {
  record r;
  r.name = "smartmeter";
  r.tags = {{"meter", meter}};
  r.time_ns = t_ns;
  if (import_kwh)
    r.fields.push_back({"ACTIVE_ENERGY_P", *import_kwh, "kWh", "1-0:1.8.0*255"});
  if (export_kwh)
    r.fields.push_back({"ACTIVE_ENERGY_N", *export_kwh, "kWh", "1-0:2.8.0*255"});
  r.fields.push_back({"POWER_P", 1000.0, "W", "1-0:1.7.0*255"});
  return r;
}

/// A double field's value, or NaN when absent or not a double.
inline double number(const record& r, const std::string& key) {
  auto* f = r.find_field(key);
  if (!f || !std::holds_alternative<double>(f->value))
    return std::numeric_limits<double>::quiet_NaN();
  return std::get<double>(f->value);
}

/// A string field's value, or "" when absent.
inline std::string text(const record& r, const std::string& key) {
  auto* f = r.find_field(key);
  if (!f || !std::holds_alternative<std::string>(f->value))
    return {};
  return std::get<std::string>(f->value);
}

} // namespace wattline::tariff::test
