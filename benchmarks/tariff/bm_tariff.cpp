// Records per second through the tariff core: one record per second per meter over simulated
// weeks, as the meter decoder would deliver them (counter fields in kWh, tag `meter`).

#include "actors/tariff/tariff.hpp"

#include <benchmark/benchmark.h>
#include <date/tz.h>
#include <yaml-cpp/yaml.h>

#include <chrono>
#include <stdexcept>
#include <string>
#include <vector>

namespace {

using namespace wattline;
using namespace wattline::tariff;

constexpr const char* config_yaml = R"(type: tariff
timezone: Europe/Zurich
currency: CHF
default_tariff: low
tariffs:
  high: { import: 0.30, export: 0.10, changes: [{ from: 2026-07-01, import: 0.35 }] }
  low: { import: 0.20, export: 0.05 }
  night: { import: 0.10, export: 0.05 }
schedule:
  - { days: mon-fri, from: "07:00", to: "20:00", tariff: high }
  - { days: sat, from: "07:00", to: "13:00", tariff: high }
  - { days: [fri, sat], from: "22:00", to: "06:00", tariff: night }
holidays: { count_as: sun, dates: [2026-01-01, 2026-04-03, 12-25] }
)";

tariff_config config() {
  diagnostics diags;
  auto cfg = parse_tariff_config(YAML::Load(config_yaml), "bm.yaml", diags);
  if (!cfg)
    throw std::runtime_error("benchmark config rejected");
  return *cfg;
}

constexpr int64_t ns_per_s = 1'000'000'000;
constexpr int64_t seconds_per_week = 7 * 86400;

/// Start: Monday 2026-03-23 00:00 UTC, so the runs cross the spring DST change.
int64_t start_ns() {
  using namespace std::chrono;
  auto tp = date::sys_days{date::year{2026} / 3 / 23};
  return duration_cast<nanoseconds>(tp.time_since_epoch()).count();
}

/// A decoder-like record: counters, power and voltage, tag `meter`.
record meter_record(int m) {
  record r;
  r.name = "smartmeter";
  r.tags = {{"meter", "meter-" + std::to_string(m)}};
  r.fields = {{"ACTIVE_ENERGY_P", 12345.0, "kWh", "1-0:1.8.0*255"},
              {"ACTIVE_ENERGY_N", 678.0, "kWh", "1-0:2.8.0*255"},
              {"ACTIVE_POWER_P", 850.0, "W", "1-0:1.7.0*255"},
              {"VOLTAGE_L1", 231.2, "V", "1-0:32.7.0*255"}};
  return r;
}

/// state.range(0) meters, one record per second each, for one simulated week per meter.
void BM_ProcessRecords(benchmark::State& state) {
  const int meters = static_cast<int>(state.range(0));
  tariff_engine eng(config(), {});
  std::vector<record> recs;
  for (int m = 0; m < meters; ++m)
    recs.push_back(meter_record(m));
  const std::size_t base_fields = recs[0].fields.size();
  const int64_t t0 = start_ns();
  int64_t n = 0;
  std::size_t closed = 0;
  for (auto _ : state) {
    const int m = static_cast<int>(n % meters);
    const int64_t second = n / meters;
    auto& r = recs[static_cast<std::size_t>(m)];
    r.fields.resize(base_fields); // drop the previous annotation, as a fresh record has none
    r.time_ns = t0 + second * ns_per_s;
    // 850 W import, 120 W export, as kWh counters.
    std::get<double>(r.fields[0].value) = 12345.0 + static_cast<double>(second) * 850.0 / 3.6e6;
    std::get<double>(r.fields[1].value) = 678.0 + static_cast<double>(second) * 120.0 / 3.6e6;
    auto out = eng.process(r);
    closed += out.size();
    benchmark::DoNotOptimize(r);
    ++n;
  }
  state.SetItemsProcessed(state.iterations());
  state.counters["closed_periods"] = static_cast<double>(closed);
  state.counters["days_built"] = static_cast<double>(eng.schedule().days_built());
}
// One simulated week per meter: iterations = meters * seconds of a week.
BENCHMARK(BM_ProcessRecords)
    ->Name("BM_ProcessRecords/one_week")
    ->ArgName("meters")
    ->Arg(1)
    ->Iterations(seconds_per_week);
BENCHMARK(BM_ProcessRecords)
    ->Name("BM_ProcessRecords/one_week")
    ->ArgName("meters")
    ->Arg(16)
    ->Iterations(16 * seconds_per_week);
BENCHMARK(BM_ProcessRecords)
    ->Name("BM_ProcessRecords/four_weeks")
    ->ArgName("meters")
    ->Arg(4)
    ->Iterations(4 * 4 * seconds_per_week);

/// Only the calendar lookup at one-second steps (the fast path of process()).
void BM_CalendarLookup(benchmark::State& state) {
  auto cfg = config();
  calendar cal(cfg);
  int64_t t = start_ns();
  for (auto _ : state) {
    benchmark::DoNotOptimize(cal.at(t));
    t += ns_per_s;
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_CalendarLookup)->Iterations(4 * seconds_per_week);

/// Splitting a one-day gap (a meter offline for a day): several boundaries per split.
void BM_SplitOneDayGap(benchmark::State& state) {
  tariff_engine eng(config(), {});
  int64_t t = start_ns();
  for (auto _ : state) {
    auto parts = eng.split(t, t + 86400 * ns_per_s, 10'000'000'000, false);
    benchmark::DoNotOptimize(parts);
    t += 3600 * ns_per_s;
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_SplitOneDayGap);

} // namespace

BENCHMARK_MAIN();
