// Calendar: which tariff is active when, with boundaries on weekdays, weekends, holidays, ranges
// crossing midnight and both 2026 DST transitions in Europe/Zurich.

#include "actors/tariff/calendar.hpp"
#include "tests/tariff/tariff_test_util.hpp"

#include <gtest/gtest.h>

namespace wattline::tariff::test {
namespace {

class TariffCalendar : public ::testing::Test {
protected:
  tariff_config cfg = parse_ok(reference_yaml);
  calendar cal{cfg};

  std::string tariff_at(int64_t t) { return cfg.tariffs[cal.at(t).tariff].name; }
};

TEST_F(TariffCalendar, WeekdayRangeStartsAndEndsExactlyAtItsBoundaries) {
  // Monday 2026-03-02, CET (UTC+1).
  EXPECT_EQ(tariff_at(zurich(2026, 3, 2, 6, 59, 59)), "low");
  EXPECT_EQ(tariff_at(zurich(2026, 3, 2, 7, 0, 0)), "high");
  EXPECT_EQ(tariff_at(zurich(2026, 3, 2, 19, 59, 59)), "high");
  EXPECT_EQ(tariff_at(zurich(2026, 3, 2, 20, 0, 0)), "low");
  // One nanosecond before the boundary is still the earlier tariff.
  EXPECT_EQ(tariff_at(zurich(2026, 3, 2, 7) - 1), "low");
  const auto& s = cal.at(zurich(2026, 3, 2, 12));
  EXPECT_EQ(s.begin_ns, utc(2026, 3, 2, 6));
  EXPECT_EQ(s.end_ns, utc(2026, 3, 2, 19));
  EXPECT_DOUBLE_EQ(s.import_price, 0.30);
  EXPECT_DOUBLE_EQ(s.export_price, 0.10);
}

TEST_F(TariffCalendar, SaturdayUsesItsOwnShorterRange) {
  EXPECT_EQ(tariff_at(zurich(2026, 3, 7, 6, 59)), "low");
  EXPECT_EQ(tariff_at(zurich(2026, 3, 7, 7)), "high");
  EXPECT_EQ(tariff_at(zurich(2026, 3, 7, 12, 59, 59)), "high");
  EXPECT_EQ(tariff_at(zurich(2026, 3, 7, 13)), "low");
}

TEST_F(TariffCalendar, SundayWithoutRangesUsesTheDefaultTariff) {
  EXPECT_EQ(tariff_at(zurich(2026, 3, 8, 10)), "low");
  EXPECT_EQ(tariff_at(zurich(2026, 3, 8, 19)), "low");
}

TEST_F(TariffCalendar, RangeCrossingMidnightContinuesIntoTheNextMorning) {
  // Friday 2026-03-06 22:00 to Saturday 06:00 is night.
  EXPECT_EQ(tariff_at(zurich(2026, 3, 6, 21, 59, 59)), "low");
  EXPECT_EQ(tariff_at(zurich(2026, 3, 6, 22)), "night");
  EXPECT_EQ(tariff_at(zurich(2026, 3, 7, 0)), "night");
  EXPECT_EQ(tariff_at(zurich(2026, 3, 7, 5, 59, 59)), "night");
  EXPECT_EQ(tariff_at(zurich(2026, 3, 7, 6)), "low");
  // Saturday night continues into Sunday; Sunday night (no range on Sunday) does not reach
  // Monday.
  EXPECT_EQ(tariff_at(zurich(2026, 3, 8, 3)), "night");
  EXPECT_EQ(tariff_at(zurich(2026, 3, 9, 3)), "low");
  // Local midnight splits the night into two segments, one per local day.
  const auto& fri = cal.at(zurich(2026, 3, 6, 23));
  EXPECT_EQ(fri.end_ns, zurich(2026, 3, 7, 0));
  const auto& sat = cal.at(zurich(2026, 3, 7, 1));
  EXPECT_EQ(sat.begin_ns, zurich(2026, 3, 7, 0));
  EXPECT_EQ(sat.end_ns, zurich(2026, 3, 7, 6));
  EXPECT_EQ(sat.day, fri.day + 1);
}

TEST_F(TariffCalendar, FixedHolidayOnAWeekdayCountsAsSunday) {
  // Good Friday 2026-04-03: no high rate, and its night range does not apply either.
  EXPECT_EQ(cal.type_of(static_cast<int32_t>(
                date::local_days{date::year{2026} / 4 / 3}.time_since_epoch().count())),
            day_type::sun);
  EXPECT_EQ(tariff_at(zurich(2026, 4, 3, 10)), "low");
  EXPECT_EQ(tariff_at(zurich(2026, 4, 3, 23)), "low");
  EXPECT_EQ(tariff_at(zurich(2026, 4, 4, 3)), "low");
  // The days around it are normal.
  EXPECT_EQ(tariff_at(zurich(2026, 4, 2, 10)), "high");
  EXPECT_EQ(tariff_at(zurich(2026, 4, 4, 10)), "high");
}

TEST_F(TariffCalendar, YearlessHolidayRecursEveryYear) {
  // 12-25: Friday 2026-12-25 and Monday 2028-12-25.
  EXPECT_EQ(tariff_at(zurich(2026, 12, 24, 10)), "high");
  EXPECT_EQ(tariff_at(zurich(2026, 12, 25, 10)), "low");
  EXPECT_EQ(tariff_at(zurich(2028, 12, 25, 10)), "low");
  EXPECT_EQ(tariff_at(zurich(2028, 12, 26, 10)), "high");
}

TEST(TariffCalendarHolidayType, HolidayDayTypeUsesTheRangesForHolidays) {
  auto cfg = parse_ok(R"(timezone: Europe/Zurich
currency: EUR
default_tariff: low
tariffs: { low: { import: 0.2 }, high: { import: 0.3 } }
schedule:
  - { days: weekdays, from: "08:00", to: "18:00", tariff: high }
  - { days: holiday, from: "10:00", to: "12:00", tariff: high }
holidays: { count_as: holiday, dates: [2026-01-01] }
)");
  calendar cal{cfg};
  auto at = [&](int64_t t) { return cfg.tariffs[cal.at(t).tariff].name; };
  // Thursday 2026-01-01 is a holiday: only 10:00-12:00 is high.
  EXPECT_EQ(at(zurich(2026, 1, 1, 9)), "low");
  EXPECT_EQ(at(zurich(2026, 1, 1, 10)), "high");
  EXPECT_EQ(at(zurich(2026, 1, 1, 12)), "low");
  EXPECT_EQ(at(zurich(2026, 1, 2, 9)), "high");
}

TEST_F(TariffCalendar, SpringForwardDayHas23HoursAndNightEndsOnTheNewOffset) {
  // Sunday 2026-03-29: 02:00 CET jumps to 03:00 CEST.
  auto day = cal.at(zurich(2026, 3, 29, 12)).day;
  EXPECT_EQ(cal.day_start_ns(day), utc(2026, 3, 28, 23));
  EXPECT_EQ(cal.day_start_ns(day + 1), utc(2026, 3, 29, 22));
  EXPECT_EQ(cal.day_start_ns(day + 1) - cal.day_start_ns(day), 23 * ns_per_h);
  // Saturday night 00:00-06:00 local lasts five real hours.
  const auto night = cal.at(utc(2026, 3, 29, 0, 30));
  EXPECT_EQ(cfg.tariffs[night.tariff].name, "night");
  EXPECT_EQ(night.begin_ns, utc(2026, 3, 28, 23));
  EXPECT_EQ(night.end_ns, utc(2026, 3, 29, 4));
  // Both sides of the jump are the same day and the same segment.
  EXPECT_EQ(cal.at(utc(2026, 3, 29, 0, 59, 59)).day, cal.at(utc(2026, 3, 29, 1)).day);
}

TEST_F(TariffCalendar, FallBackDayHas25HoursAndNightEndsOnTheNewOffset) {
  // Sunday 2026-10-25: 03:00 CEST falls back to 02:00 CET.
  auto day = cal.at(zurich(2026, 10, 25, 12)).day;
  EXPECT_EQ(cal.day_start_ns(day), utc(2026, 10, 24, 22));
  EXPECT_EQ(cal.day_start_ns(day + 1), utc(2026, 10, 25, 23));
  EXPECT_EQ(cal.day_start_ns(day + 1) - cal.day_start_ns(day), 25 * ns_per_h);
  const auto night = cal.at(utc(2026, 10, 25, 1, 30));
  EXPECT_EQ(cfg.tariffs[night.tariff].name, "night");
  EXPECT_EQ(night.begin_ns, utc(2026, 10, 24, 22));
  EXPECT_EQ(night.end_ns, utc(2026, 10, 25, 5));
}

TEST(TariffCalendarDst, BoundaryInTheSkippedHourStartsWhenTheClocksJump) {
  auto cfg = parse_ok(R"(timezone: Europe/Zurich
currency: CHF
default_tariff: low
tariffs: { low: { import: 0.2 }, high: { import: 0.3 } }
schedule:
  - { days: sun, from: "02:30", to: "04:00", tariff: high }
)");
  calendar cal{cfg};
  // Spring: 02:30 does not exist; the range starts at the jump (01:00Z = 03:00 CEST).
  const auto spring = cal.at(utc(2026, 3, 29, 1, 30));
  EXPECT_EQ(cfg.tariffs[spring.tariff].name, "high");
  EXPECT_EQ(spring.begin_ns, utc(2026, 3, 29, 1));
  EXPECT_EQ(spring.end_ns, utc(2026, 3, 29, 2));
  EXPECT_EQ(cfg.tariffs[cal.at(utc(2026, 3, 29, 0, 59, 59)).tariff].name, "low");
  // Autumn: 02:30 happens twice; the range starts at the first one (00:30Z) and ends at 04:00
  // CET (03:00Z), two and a half real hours.
  const auto autumn = cal.at(utc(2026, 10, 25, 1));
  EXPECT_EQ(cfg.tariffs[autumn.tariff].name, "high");
  EXPECT_EQ(autumn.begin_ns, utc(2026, 10, 25, 0, 30));
  EXPECT_EQ(autumn.end_ns, utc(2026, 10, 25, 3));
}

TEST_F(TariffCalendar, PriceChangeTakesEffectAtLocalMidnightOfItsDate) {
  EXPECT_DOUBLE_EQ(cal.at(zurich(2026, 6, 30, 12)).import_price, 0.30);
  EXPECT_DOUBLE_EQ(cal.at(zurich(2026, 6, 30, 23, 59, 59)).import_price, 0.20);
  EXPECT_DOUBLE_EQ(cal.at(zurich(2026, 7, 1, 0)).import_price, 0.22);
  EXPECT_DOUBLE_EQ(cal.at(zurich(2026, 7, 1, 12)).import_price, 0.35);
  // The export price was not changed and keeps its value.
  EXPECT_DOUBLE_EQ(cal.at(zurich(2026, 7, 1, 12)).export_price, 0.10);
}

TEST_F(TariffCalendar, LookupsInsideACachedDayDoNotRebuildIt) {
  auto start = zurich(2026, 3, 2, 0);
  for (int64_t t = start; t < start + 24 * ns_per_h; t += ns_per_s)
    (void)cal.at(t);
  EXPECT_EQ(cal.days_built(), 1u);
  // Going back and forth between two neighbouring days stays in the cache.
  for (int i = 0; i < 100; ++i) {
    (void)cal.at(start - 1);
    (void)cal.at(start);
  }
  EXPECT_EQ(cal.days_built(), 2u);
}

} // namespace
} // namespace wattline::tariff::test
