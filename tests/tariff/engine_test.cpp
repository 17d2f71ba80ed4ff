// The tariff engine: per-record annotation, exact split of deltas at boundaries, counter resets,
// day and month totals (including the 23- and 25-hour days), persisted state and restarts.

#include "actors/tariff/tariff.hpp"
#include "tests/support/support.hpp"
#include "tests/tariff/tariff_test_util.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <numeric>

namespace wattline::tariff::test {
namespace {

/// Feeds one record every `step` from `begin` to `end` (both included) for a meter drawing a
/// constant `kw`; the counter starts at `start_kwh`. Returns the closed-period records.
std::vector<record> feed_constant_power(tariff_engine& eng, const std::string& meter, int64_t begin,
                                        int64_t end, int64_t step, double kw,
                                        double start_kwh = 1000.0) {
  std::vector<record> closed;
  for (int64_t t = begin; t <= end; t += step) {
    // Whole quarter hours at 1 kW are multiples of 0.25 kWh: exact in binary.
    double kwh = start_kwh + kw * static_cast<double>(t - begin) / static_cast<double>(ns_per_h);
    auto r = meter_record(meter, t, kwh);
    auto out = eng.process(r);
    closed.insert(closed.end(), out.begin(), out.end());
  }
  return closed;
}

/// The closed-period record for tariff `tariff` and period `period`, or nullptr.
const record* find_total(const std::vector<record>& closed, const std::string& period,
                         const std::string& date, const std::string& tariff) {
  for (const auto& r : closed)
    if (*r.tag("period") == period && *r.tag("date") == date && *r.tag("tariff") == tariff)
      return &r;
  return nullptr;
}

class TariffEngine : public ::testing::Test {
protected:
  tariff_engine eng{parse_ok(reference_yaml), {}};
};

TEST_F(TariffEngine, EveryRecordGetsTheActiveTariffAndPrice) {
  auto r = meter_record("m1", zurich(2026, 3, 2, 12), 100.0);
  eng.process(r);
  EXPECT_EQ(text(r, "tariff"), "high");
  EXPECT_DOUBLE_EQ(number(r, "price"), 0.30);
  EXPECT_DOUBLE_EQ(number(r, "price_export"), 0.10);
  EXPECT_EQ(r.find_field("price")->unit, "CHF/kWh");
  // The meter's own fields are kept untouched.
  EXPECT_DOUBLE_EQ(number(r, "ACTIVE_ENERGY_P"), 100.0);
  EXPECT_EQ(r.find_field("ACTIVE_ENERGY_P")->obis, "1-0:1.8.0*255");
}

TEST_F(TariffEngine, FirstRecordOfAMeterHasNoDelta) {
  auto r = meter_record("m1", zurich(2026, 3, 2, 12), 100.0);
  EXPECT_TRUE(eng.process(r).empty());
  EXPECT_EQ(r.find_field("energy_import_kwh"), nullptr);
  EXPECT_EQ(r.find_field("cost_import"), nullptr);
}

TEST_F(TariffEngine, DeltaInsideOneSegmentIsCostedAtItsPrice) {
  auto a = meter_record("m1", zurich(2026, 3, 2, 12), 100.0);
  auto b = meter_record("m1", zurich(2026, 3, 2, 12, 15), 100.5);
  eng.process(a);
  eng.process(b);
  EXPECT_DOUBLE_EQ(number(b, "energy_import_kwh"), 0.5);
  EXPECT_DOUBLE_EQ(number(b, "cost_import"), 0.15);
  EXPECT_EQ(b.find_field("energy_import_kwh")->unit, "kWh");
  EXPECT_EQ(b.find_field("cost_import")->unit, "CHF");
}

TEST_F(TariffEngine, DeltaSpanningABoundaryIsSplitProRataByTime) {
  // 06:30-07:30 on Monday: half low (0.20), half high (0.30).
  auto a = meter_record("m1", zurich(2026, 3, 2, 6, 30), 100.0);
  auto b = meter_record("m1", zurich(2026, 3, 2, 7, 30), 101.0);
  eng.process(a);
  eng.process(b);
  EXPECT_DOUBLE_EQ(number(b, "energy_import_kwh"), 1.0);
  EXPECT_DOUBLE_EQ(number(b, "cost_import"), 0.5 * 0.20 + 0.5 * 0.30);
  EXPECT_EQ(text(b, "tariff"), "high");
}

TEST_F(TariffEngine, SplitOverManyBoundariesSumsExactlyToTheDelta) {
  // Friday 19:00 to Saturday 08:00: high 1h, low 2h, night 2h | night 6h, low 1h, high 1h.
  const int64_t t0 = zurich(2026, 3, 6, 19), t1 = zurich(2026, 3, 7, 8);
  const int64_t delta = kwh_to_units(13.337);
  auto parts = eng.split(t0, t1, delta, false);
  ASSERT_EQ(parts.size(), 6u);
  const std::vector<std::string> names{"high", "low", "night", "night", "low", "high"};
  const std::vector<int64_t> hours{1, 2, 2, 6, 1, 1};
  int64_t sum = 0;
  for (std::size_t i = 0; i < parts.size(); ++i) {
    EXPECT_EQ(eng.config().tariffs[parts[i].tariff].name, names[i]) << i;
    EXPECT_EQ(parts[i].end_ns - parts[i].begin_ns, hours[i] * ns_per_h) << i;
    // Each part is its time share, rounded down; the remainder (< number of parts) goes last.
    const double exact = 13.337e9 * static_cast<double>(hours[i]) / 13.0;
    EXPECT_LT(std::abs(static_cast<double>(parts[i].energy) - exact), 6.0) << i;
    sum += parts[i].energy;
  }
  EXPECT_EQ(sum, delta);
  EXPECT_EQ(parts.front().begin_ns, t0);
  EXPECT_EQ(parts.back().end_ns, t1);
  EXPECT_EQ(parts[0].energy, 1025923076);
  EXPECT_EQ(parts[5].energy, 1025923081);
  EXPECT_EQ(parts[3].day, parts[2].day + 1);

  // Through process(): the record's energy is the delta, its cost the sum of the parts.
  auto a = meter_record("m1", t0, 500.0);
  auto b = meter_record("m1", t1, 513.337);
  eng.process(a);
  auto closed = eng.process(b);
  EXPECT_NEAR(number(b, "energy_import_kwh"), 13.337, 1e-9);
  double cost = 0;
  for (const auto& p : parts)
    cost += p.cost();
  EXPECT_DOUBLE_EQ(number(b, "cost_import"), cost);
  EXPECT_NEAR(cost, 13.337 / 13.0 * (0.30 + 2 * 0.20 + 2 * 0.10 + 6 * 0.10 + 0.20 + 0.30), 1e-9);
  // Friday closed with exactly its three parts.
  ASSERT_EQ(closed.size(), 3u);
  EXPECT_DOUBLE_EQ(number(*find_total(closed, "day", "2026-03-06", "high"), "energy_import_kwh"),
                   1.025923076);
  EXPECT_DOUBLE_EQ(number(*find_total(closed, "day", "2026-03-06", "low"), "energy_import_kwh"),
                   2.051846153);
  EXPECT_DOUBLE_EQ(number(*find_total(closed, "day", "2026-03-06", "night"), "energy_import_kwh"),
                   2.051846153);
}

TEST_F(TariffEngine, SplitAcrossTheSpringJumpUsesElapsedTime) {
  // Saturday 23:00 to Sunday 07:00 local is 7 real hours on 2026-03-29: 1h night (Saturday),
  // 5h night (Sunday 00:00-06:00), 1h low.
  auto parts = eng.split(zurich(2026, 3, 28, 23), zurich(2026, 3, 29, 7), kwh_to_units(7.0), false);
  ASSERT_EQ(parts.size(), 3u);
  EXPECT_EQ(parts[0].energy, kwh_to_units(1.0));
  EXPECT_EQ(parts[1].energy, kwh_to_units(5.0));
  EXPECT_EQ(parts[2].energy, kwh_to_units(1.0));
}

TEST_F(TariffEngine, ZeroDurationDeltaGoesToTheSegmentOfTheRecord) {
  auto parts = eng.split(zurich(2026, 3, 2, 7), zurich(2026, 3, 2, 7), 42, false);
  ASSERT_EQ(parts.size(), 1u);
  EXPECT_EQ(parts[0].energy, 42);
  EXPECT_EQ(eng.config().tariffs[parts[0].tariff].name, "high");
}

TEST_F(TariffEngine, CounterResetNeverProducesNegativeEnergyOrCost) {
  std::vector<double> readings{100.0, 101.0, 5.0, 6.0};
  std::vector<record> recs;
  for (std::size_t i = 0; i < readings.size(); ++i) {
    recs.push_back(
        meter_record("m1", zurich(2026, 3, 2, 12, static_cast<int>(i) * 15), readings[i]));
    eng.process(recs.back());
  }
  EXPECT_DOUBLE_EQ(number(recs[1], "energy_import_kwh"), 1.0);
  EXPECT_DOUBLE_EQ(number(recs[2], "energy_import_kwh"), 0.0);
  EXPECT_DOUBLE_EQ(number(recs[2], "cost_import"), 0.0);
  ASSERT_NE(recs[2].find_field("counter_reset"), nullptr);
  EXPECT_EQ(std::get<bool>(recs[2].find_field("counter_reset")->value), true);
  EXPECT_EQ(recs[3].find_field("counter_reset"), nullptr);
  EXPECT_DOUBLE_EQ(number(recs[3], "energy_import_kwh"), 1.0);
  EXPECT_DOUBLE_EQ(number(recs[3], "cost_import"), 0.30);
  // The day total has only the two real kWh; the evening (low) had no consumption.
  auto next = meter_record("m1", zurich(2026, 3, 3, 0), 6.0);
  auto closed = eng.process(next);
  ASSERT_EQ(closed.size(), 2u);
  EXPECT_DOUBLE_EQ(number(*find_total(closed, "day", "2026-03-02", "high"), "energy_import_kwh"),
                   2.0);
  EXPECT_DOUBLE_EQ(number(*find_total(closed, "day", "2026-03-02", "high"), "cost_import"), 0.60);
  EXPECT_DOUBLE_EQ(number(*find_total(closed, "day", "2026-03-02", "low"), "energy_import_kwh"),
                   0.0);
}

TEST_F(TariffEngine, ExportEnergyIsCreditedAtTheExportPrice) {
  auto a = meter_record("m1", zurich(2026, 3, 2, 12), 100.0, 50.0);
  auto b = meter_record("m1", zurich(2026, 3, 2, 13), 100.0, 52.0);
  eng.process(a);
  eng.process(b);
  EXPECT_DOUBLE_EQ(number(b, "energy_export_kwh"), 2.0);
  EXPECT_DOUBLE_EQ(number(b, "credit_export"), 0.20);
  EXPECT_DOUBLE_EQ(number(b, "energy_import_kwh"), 0.0);
}

TEST_F(TariffEngine, ImportAndExportAcrossMidnightCloseTheDayOnceWithBoth) {
  // Monday 23:00 to Tuesday 01:00: one hour of each day, all low.
  auto a = meter_record("m1", zurich(2026, 3, 2, 23), 100.0, 50.0);
  auto b = meter_record("m1", zurich(2026, 3, 3, 1), 102.0, 54.0);
  eng.process(a);
  auto closed = eng.process(b);
  ASSERT_EQ(closed.size(), 1u);
  EXPECT_EQ(*closed[0].tag("tariff"), "low");
  EXPECT_DOUBLE_EQ(number(closed[0], "energy_import_kwh"), 1.0);
  EXPECT_DOUBLE_EQ(number(closed[0], "energy_export_kwh"), 2.0);
  EXPECT_DOUBLE_EQ(number(closed[0], "credit_export"), 0.10);
  EXPECT_DOUBLE_EQ(number(b, "credit_export"), 4.0 * 0.05);
}

TEST_F(TariffEngine, MetersAreTrackedIndependently) {
  auto a1 = meter_record("m1", zurich(2026, 3, 2, 12), 100.0);
  auto b1 = meter_record("m2", zurich(2026, 3, 2, 12), 7000.0);
  auto a2 = meter_record("m1", zurich(2026, 3, 2, 13), 101.0);
  auto b2 = meter_record("m2", zurich(2026, 3, 2, 13), 7003.0);
  for (auto* r : {&a1, &b1, &a2, &b2})
    eng.process(*r);
  EXPECT_DOUBLE_EQ(number(a2, "energy_import_kwh"), 1.0);
  EXPECT_DOUBLE_EQ(number(b2, "energy_import_kwh"), 3.0);
}

TEST_F(TariffEngine, RecordWithoutCountersGetsOnlyTariffAndPrice) {
  record r;
  r.name = "weather";
  r.time_ns = zurich(2026, 3, 7, 23);
  r.fields.push_back({"temperature", 4.5, "C", {}});
  EXPECT_TRUE(eng.process(r).empty());
  EXPECT_EQ(text(r, "tariff"), "night");
  EXPECT_DOUBLE_EQ(number(r, "price"), 0.10);
  EXPECT_EQ(r.fields.size(), 4u);
  EXPECT_EQ(eng.meter(""), nullptr);
}

TEST_F(TariffEngine, RecordsWithoutMeterTagAreOneMeterAndTotalsHaveNoEmptyTag) {
  auto a = meter_record("", zurich(2026, 3, 2, 23), 10.0);
  auto b = meter_record("", zurich(2026, 3, 3, 0, 30), 11.5);
  a.tags.clear();
  b.tags.clear();
  eng.process(a);
  auto closed = eng.process(b);
  EXPECT_DOUBLE_EQ(number(b, "energy_import_kwh"), 1.5);
  ASSERT_EQ(closed.size(), 1u);
  EXPECT_EQ(closed[0].tag("meter"), nullptr);
  EXPECT_DOUBLE_EQ(number(closed[0], "energy_import_kwh"), 1.0);
}

TEST_F(TariffEngine, RecordOlderThanTheLastReadingIsIgnoredForEnergy) {
  auto a = meter_record("m1", zurich(2026, 3, 2, 10), 100.0);
  auto b = meter_record("m1", zurich(2026, 3, 2, 10, 15), 100.25);
  auto late = meter_record("m1", zurich(2026, 3, 2, 10, 5), 100.1);
  auto c = meter_record("m1", zurich(2026, 3, 2, 10, 30), 100.5);
  for (auto* r : {&a, &b, &late, &c})
    eng.process(*r);
  EXPECT_EQ(late.find_field("energy_import_kwh"), nullptr);
  EXPECT_EQ(text(late, "tariff"), "high");
  EXPECT_DOUBLE_EQ(number(c, "energy_import_kwh"), 0.25);
}

TEST_F(TariffEngine, DayTotalsPerTariffAreEmittedWhenTheDayCloses) {
  // Monday 2026-03-02 at a constant 1 kW: 13 kWh high (07-20), 11 kWh low.
  auto closed = feed_constant_power(eng, "m1", zurich(2026, 3, 2, 0), zurich(2026, 3, 2, 23, 45),
                                    15 * ns_per_min, 1.0);
  EXPECT_TRUE(closed.empty());
  auto last = meter_record("m1", zurich(2026, 3, 3, 0), 1024.0);
  closed = eng.process(last);
  ASSERT_EQ(closed.size(), 2u);
  const auto& high = closed[0];
  EXPECT_EQ(high.name, "energy_cost");
  EXPECT_EQ(*high.tag("meter"), "m1");
  EXPECT_EQ(*high.tag("tariff"), "high");
  EXPECT_EQ(*high.tag("period"), "day");
  EXPECT_EQ(*high.tag("date"), "2026-03-02");
  EXPECT_EQ(high.time_ns, zurich(2026, 3, 2, 0));
  EXPECT_DOUBLE_EQ(number(high, "energy_import_kwh"), 13.0);
  EXPECT_NEAR(number(high, "cost_import"), 13 * 0.30, 1e-9);
  EXPECT_DOUBLE_EQ(number(high, "energy_export_kwh"), 0.0);
  EXPECT_EQ(high.find_field("cost_import")->unit, "CHF");
  const auto& low = closed[1];
  EXPECT_EQ(*low.tag("tariff"), "low");
  EXPECT_DOUBLE_EQ(number(low, "energy_import_kwh"), 11.0);
  EXPECT_NEAR(number(low, "cost_import"), 11 * 0.20, 1e-9);
}

TEST_F(TariffEngine, SpringForwardDayClosesWith23Hours) {
  // Sunday 2026-03-29 at 1 kW, a record every 15 minutes of real time.
  auto closed = feed_constant_power(eng, "m1", utc(2026, 3, 28, 23), utc(2026, 3, 29, 22),
                                    15 * ns_per_min, 1.0);
  ASSERT_EQ(closed.size(), 2u);
  const auto* night = find_total(closed, "day", "2026-03-29", "night");
  const auto* low = find_total(closed, "day", "2026-03-29", "low");
  ASSERT_TRUE(night && low);
  EXPECT_DOUBLE_EQ(number(*night, "energy_import_kwh"), 5.0);
  EXPECT_DOUBLE_EQ(number(*low, "energy_import_kwh"), 18.0);
  EXPECT_EQ(night->time_ns, utc(2026, 3, 28, 23));
}

TEST_F(TariffEngine, FallBackDayClosesWith25Hours) {
  // Sunday 2026-10-25 at 1 kW.
  auto closed = feed_constant_power(eng, "m1", utc(2026, 10, 24, 22), utc(2026, 10, 25, 23),
                                    15 * ns_per_min, 1.0);
  ASSERT_EQ(closed.size(), 2u);
  const auto* night = find_total(closed, "day", "2026-10-25", "night");
  const auto* low = find_total(closed, "day", "2026-10-25", "low");
  ASSERT_TRUE(night && low);
  EXPECT_DOUBLE_EQ(number(*night, "energy_import_kwh"), 7.0);
  EXPECT_DOUBLE_EQ(number(*low, "energy_import_kwh"), 18.0);
  EXPECT_NEAR(number(*low, "cost_import"), 18 * 0.22, 1e-9);
  EXPECT_EQ(low->time_ns, utc(2026, 10, 24, 22));
}

TEST_F(TariffEngine, MonthTotalsAreEmittedAfterTheDayTotalsAtMonthEnd) {
  // Tuesday 2026-03-31 22:00 to Wednesday 00:15 at 1 kW: 2 kWh low in March.
  auto closed = feed_constant_power(eng, "m1", zurich(2026, 3, 31, 22), zurich(2026, 4, 1, 0, 15),
                                    15 * ns_per_min, 1.0);
  ASSERT_EQ(closed.size(), 2u);
  EXPECT_EQ(*closed[0].tag("period"), "day");
  EXPECT_EQ(*closed[0].tag("date"), "2026-03-31");
  EXPECT_EQ(*closed[1].tag("period"), "month");
  EXPECT_EQ(*closed[1].tag("date"), "2026-03");
  EXPECT_EQ(*closed[1].tag("tariff"), "low");
  EXPECT_DOUBLE_EQ(number(closed[1], "energy_import_kwh"), 2.0);
  EXPECT_NEAR(number(closed[1], "cost_import"), 0.40, 1e-12);
  EXPECT_EQ(closed[1].time_ns, zurich(2026, 3, 1, 0));
}

TEST_F(TariffEngine, MonthTotalSumsItsDays) {
  // The whole of March 2026 at 2 kW, a record every 5 minutes.
  auto closed = feed_constant_power(eng, "m1", zurich(2026, 3, 1, 0), zurich(2026, 4, 1, 0),
                                    5 * ns_per_min, 2.0);
  std::map<std::string, int64_t> days, months;
  for (const auto& r : closed)
    (*r.tag("period") == "day" ? days : months)[r.tag("tariff")->str()] +=
        kwh_to_units(number(r, "energy_import_kwh"));
  EXPECT_EQ(days, months);
  int64_t total = 0;
  for (const auto& [t, e] : months)
    total += e;
  // March 2026 has 31 days minus the hour skipped on the 29th.
  EXPECT_EQ(total, kwh_to_units(2.0 * (31 * 24 - 1)));
}

TEST_F(TariffEngine, PriceChangeTakesEffectOnItsDate) {
  auto a = meter_record("m1", zurich(2026, 6, 30, 10), 100.0);
  auto b = meter_record("m1", zurich(2026, 6, 30, 11), 101.0);
  auto c = meter_record("m1", zurich(2026, 7, 1, 10), 200.0);
  auto d = meter_record("m1", zurich(2026, 7, 1, 11), 201.0);
  for (auto* r : {&a, &b, &c, &d})
    eng.process(*r);
  EXPECT_DOUBLE_EQ(number(b, "price"), 0.30);
  EXPECT_DOUBLE_EQ(number(b, "cost_import"), 0.30);
  EXPECT_DOUBLE_EQ(number(d, "price"), 0.35);
  EXPECT_DOUBLE_EQ(number(d, "cost_import"), 0.35);
  // A delta across midnight of the change date is split at midnight with both prices.
  auto parts = eng.split(zurich(2026, 6, 30, 23), zurich(2026, 7, 1, 1), kwh_to_units(2.0), false);
  ASSERT_EQ(parts.size(), 2u);
  EXPECT_DOUBLE_EQ(parts[0].price, 0.20);
  EXPECT_DOUBLE_EQ(parts[1].price, 0.22);
}

TEST(TariffEngineState, RestartInTheMiddleOfADayKeepsTheTotals) {
  wattline::test::temp_dir dir;
  const auto cfg = parse_ok(reference_yaml);
  const int64_t step = 15 * ns_per_min;
  const int64_t begin = zurich(2026, 3, 2, 0), middle = zurich(2026, 3, 2, 12),
                end = zurich(2026, 3, 4, 0);

  // Reference: one engine for the whole run, and one stopped where the restart happens.
  tariff_engine whole(cfg, {});
  auto expected = feed_constant_power(whole, "m1", begin, end, step, 1.0);
  tariff_engine until_middle(cfg, {});
  feed_constant_power(until_middle, "m1", begin, middle, step, 1.0);

  std::vector<record> got;
  {
    tariff_engine first(cfg, dir.path());
    got = feed_constant_power(first, "m1", begin, middle, step, 1.0);
    EXPECT_TRUE(first.dirty());
    auto r = first.save();
    ASSERT_TRUE(r.ok) << r.error;
    EXPECT_FALSE(first.dirty());
  }
  ASSERT_TRUE(std::filesystem::exists(dir / "tariff.tariff.json"));
  EXPECT_FALSE(std::filesystem::exists(dir / "tariff.tariff.json.tmp"));
  tariff_engine second(cfg, dir.path());
  EXPECT_EQ(second.state_error(), "");
  ASSERT_NE(second.meter("m1"), nullptr);
  EXPECT_EQ(*second.meter("m1"), *until_middle.meter("m1"));
  // The first record after the restart has a delta from the last reading before it.
  const int64_t resume = zurich(2026, 3, 2, 12, 15);
  auto rest = feed_constant_power(second, "m1", resume, end, step, 1.0,
                                  1000.0 + static_cast<double>(resume - begin) / ns_per_h);
  got.insert(got.end(), rest.begin(), rest.end());
  ASSERT_EQ(got.size(), expected.size());
  ASSERT_EQ(expected.size(), 4u); // Monday and Tuesday, high and low
  for (std::size_t i = 0; i < got.size(); ++i)
    EXPECT_EQ(got[i], expected[i]) << i;
  EXPECT_DOUBLE_EQ(number(*find_total(got, "day", "2026-03-02", "high"), "energy_import_kwh"),
                   13.0);
}

TEST(TariffEngineState, CorruptStateFileIsKeptAsBadAndTheEngineStartsFresh) {
  wattline::test::temp_dir dir;
  const auto path = dir / "meter1.tariff.json";
  {
    std::ofstream out(path);
    out << "{\"format\": \"wattline-tariff-state\", \"version\": 1, \"meters\": {";
  }
  tariff_engine eng(parse_ok(reference_yaml), dir.path(), "meter1");
  EXPECT_NE(eng.state_error().find("is corrupt"), std::string::npos) << eng.state_error();
  EXPECT_NE(eng.state_error().find("meter1.tariff.json.bad"), std::string::npos);
  EXPECT_FALSE(std::filesystem::exists(path));
  EXPECT_EQ(wattline::test::read_file(dir / "meter1.tariff.json.bad"),
            "{\"format\": \"wattline-tariff-state\", \"version\": 1, \"meters\": {");
  // It works and writes a fresh, valid file.
  auto a = meter_record("m1", zurich(2026, 3, 2, 12), 100.0);
  auto b = meter_record("m1", zurich(2026, 3, 2, 13), 101.0);
  eng.process(a);
  eng.process(b);
  ASSERT_TRUE(eng.save().ok);
  auto doc = nlohmann::json::parse(wattline::test::read_file(path));
  EXPECT_EQ(doc["meters"]["m1"]["day"]["tariffs"]["high"]["import"], 1'000'000'000);
  tariff_engine again(parse_ok(reference_yaml), dir.path(), "meter1");
  EXPECT_EQ(again.state_error(), "");
}

TEST(TariffEngineState, TotalsOfATariffRemovedFromTheConfigSurviveTheRestart) {
  wattline::test::temp_dir dir;
  {
    tariff_engine eng(parse_ok(reference_yaml), dir.path());
    // Friday 21:00-23:00: one hour low, one hour night.
    auto a = meter_record("m1", zurich(2026, 3, 6, 21), 10.0);
    auto b = meter_record("m1", zurich(2026, 3, 6, 23), 12.0);
    eng.process(a);
    eng.process(b);
    ASSERT_TRUE(eng.save().ok);
  }
  tariff_engine eng(parse_ok(R"(timezone: Europe/Zurich
currency: CHF
tariffs: { low: { import: 0.2 } }
)"),
                    dir.path());
  EXPECT_EQ(eng.state_error(), "");
  auto c = meter_record("m1", zurich(2026, 3, 7, 1), 14.0);
  auto closed = eng.process(c);
  ASSERT_EQ(closed.size(), 2u);
  EXPECT_DOUBLE_EQ(number(*find_total(closed, "day", "2026-03-06", "low"), "energy_import_kwh"),
                   2.0);
  EXPECT_DOUBLE_EQ(number(*find_total(closed, "day", "2026-03-06", "night"), "energy_import_kwh"),
                   1.0);
}

TEST(TariffEngineState, StateFileOfAnotherFormatIsRejected) {
  wattline::test::temp_dir dir;
  {
    std::ofstream out(dir / "tariff.tariff.json");
    out << R"({"meters": {}})";
  }
  tariff_engine eng(parse_ok(reference_yaml), dir.path());
  EXPECT_NE(eng.state_error().find("not a wattline tariff state file"), std::string::npos);
  EXPECT_TRUE(std::filesystem::exists(dir / "tariff.tariff.json.bad"));
}

TEST(TariffEngineState, WithoutAStateDirectoryNothingIsWritten) {
  tariff_engine eng(parse_ok(reference_yaml), {});
  EXPECT_TRUE(eng.state_path().empty());
  EXPECT_TRUE(eng.save().ok);
}

} // namespace
} // namespace wattline::tariff::test
