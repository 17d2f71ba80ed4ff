// Configuration: the reference shape parses; every kind of mistake is reported as a located,
// compiler-style diagnostic (golden renderings), all of them at once, without throwing.

#include "actors/tariff/config.hpp"
#include "tests/support/support.hpp"
#include "tests/tariff/tariff_test_util.hpp"

#include <gtest/gtest.h>

#include <fstream>

namespace wattline::tariff::test {
namespace {

/// Writes `yaml` to a file, parses it and keeps the diagnostics.
class TariffConfigFile : public ::testing::Test {
protected:
  std::optional<tariff_config> parse(const std::string& yaml) {
    file = (dir / "pipeline.yaml").string();
    std::ofstream(file) << yaml;
    return parse_tariff_config(YAML::LoadFile(file), file, diags);
  }

  /// All diagnostics rendered, with the temporary file name replaced by "F".
  std::string rendered() const {
    std::string out;
    for (const auto& d : diags.items())
      out += render(d);
    for (std::size_t pos; (pos = out.find(file)) != std::string::npos;)
      out.replace(pos, file.size(), "F");
    return out;
  }

  wattline::test::temp_dir dir;
  std::string file;
  diagnostics diags;
};

TEST_F(TariffConfigFile, ReferenceConfigurationParses) {
  auto cfg = parse(reference_yaml);
  ASSERT_TRUE(cfg) << rendered();
  EXPECT_TRUE(diags.empty());
  EXPECT_EQ(cfg->timezone, "Europe/Zurich");
  ASSERT_NE(cfg->zone, nullptr);
  EXPECT_EQ(cfg->currency, "CHF");
  ASSERT_EQ(cfg->tariffs.size(), 3u);
  EXPECT_EQ(cfg->tariffs[cfg->default_tariff].name, "low");
  EXPECT_DOUBLE_EQ(cfg->tariffs[0].import_price, 0.30);
  EXPECT_TRUE(cfg->tariffs[0].has_export_price);
  ASSERT_EQ(cfg->tariffs[0].changes.size(), 1u);
  EXPECT_DOUBLE_EQ(cfg->tariffs[0].changes[0].import_price, 0.35);
  EXPECT_DOUBLE_EQ(cfg->tariffs[0].changes[0].export_price, 0.10);
  ASSERT_EQ(cfg->ranges.size(), 3u);
  EXPECT_EQ(cfg->ranges[0].days, 0x1f);
  EXPECT_EQ(cfg->ranges[0].from_s, 7 * 3600);
  EXPECT_EQ(cfg->ranges[0].to_s, 20 * 3600);
  EXPECT_EQ(cfg->ranges[0].label, "mon-fri 07:00-20:00");
  EXPECT_TRUE(cfg->ranges[2].crosses_midnight());
  EXPECT_EQ(cfg->ranges[2].where.line, 21);
  EXPECT_EQ(cfg->ranges[2].where.column, 5);
  EXPECT_EQ(cfg->holidays.size(), 3u);
  EXPECT_EQ(cfg->holiday_as, day_type::sun);
  EXPECT_EQ(cfg->import_field, "ACTIVE_ENERGY_P");
  EXPECT_EQ(cfg->export_field, "ACTIVE_ENERGY_N");
  EXPECT_EQ(cfg->meter_tag, "meter");
}

TEST_F(TariffConfigFile, FieldNamesDayAliasesAndWholeDayRangesAreAccepted) {
  auto cfg = parse(R"(timezone: UTC
currency: EUR
tariffs: { flat: { import: 0.25 } }
schedule:
  - { days: [Monday, weekend], from: "00:00", to: "24:00", tariff: flat }
  - { days: tue, from: "06:00:30", to: "07:00", tariff: flat }
import_field: E_IN
export_field: E_OUT
meter_tag: device
)");
  ASSERT_TRUE(cfg) << rendered();
  EXPECT_EQ(cfg->ranges[0].days, 0x61);
  EXPECT_EQ(cfg->ranges[0].to_s, seconds_per_day);
  EXPECT_FALSE(cfg->ranges[0].crosses_midnight());
  EXPECT_EQ(cfg->ranges[1].from_s, 6 * 3600 + 30);
  EXPECT_EQ(cfg->default_tariff, 0u);
  EXPECT_EQ(cfg->import_field, "E_IN");
  EXPECT_EQ(cfg->export_field, "E_OUT");
  EXPECT_EQ(cfg->meter_tag, "device");
}

TEST_F(TariffConfigFile, UnknownOptionGetsDidYouMeanAndMissingRequiredOptionIsReported) {
  EXPECT_FALSE(parse(R"(type: tariff
timezone: Europe/Zurich
curency: CHF
tariffs: { flat: { import: 0.25 } }
)"));
  EXPECT_EQ(rendered(), R"(F:3:1: error: unknown tariff option 'curency'
    3 | curency: CHF
      | ^~~~~~~
hint: did you mean 'currency'?
F:1:1: error: missing required option 'currency'
    1 | type: tariff
      | ^
)");
}

TEST_F(TariffConfigFile, OverlappingRangesPointAtBothRanges) {
  EXPECT_FALSE(parse(R"(timezone: Europe/Zurich
currency: CHF
default_tariff: low
tariffs: { high: { import: 0.3 }, low: { import: 0.2 } }
schedule:
  - { days: mon-fri, from: "07:00", to: "20:00", tariff: high }
  - { days: mon, from: "19:00", to: "21:00", tariff: low }
)"));
  EXPECT_EQ(rendered(),
            R"(F:7:5: error: time range 'mon 19:00-21:00' overlaps 'mon-fri 07:00-20:00' on mon
    7 |   - { days: mon, from: "19:00", to: "21:00", tariff: low }
      |     ^
hint: each moment of a day must have at most one tariff
F:6:5: note: the other range is here
    6 |   - { days: mon-fri, from: "07:00", to: "20:00", tariff: high }
      |     ^
)");
}

TEST_F(TariffConfigFile, RangeCrossingMidnightOverlappingTheNextMorningIsReported) {
  EXPECT_FALSE(parse(R"(timezone: Europe/Zurich
currency: CHF
default_tariff: low
tariffs: { night: { import: 0.1 }, low: { import: 0.2 } }
schedule:
  - { days: sun, from: "22:00", to: "06:00", tariff: night }
  - days: mon
    from: "05:00"
    to: "08:00"
    tariff: low
)"));
  EXPECT_EQ(
      rendered(),
      R"(F:7:5: error: time range 'mon 05:00-08:00' overlaps 'sun 22:00-06:00' on mon (after midnight)
    7 |   - days: mon
      |     ^
hint: each moment of a day must have at most one tariff
F:6:5: note: the other range is here
    6 |   - { days: sun, from: "22:00", to: "06:00", tariff: night }
      |     ^
)");
}

TEST_F(TariffConfigFile, UnknownDayNamesAreReportedWithSuggestions) {
  EXPECT_FALSE(parse(R"(timezone: Europe/Zurich
currency: CHF
tariffs: { flat: { import: 0.25 } }
schedule:
  - { days: [mon, sundy], from: "07:00", to: "08:00", tariff: flat }
  - { days: mon-fir, from: "09:00", to: "10:00", tariff: flat }
  - { days: xyz, from: "11:00", to: "12:00", tariff: flat }
)"));
  EXPECT_EQ(rendered(), R"(F:5:19: error: unknown day name 'sundy'
    5 |   - { days: [mon, sundy], from: "07:00", to: "08:00", tariff: flat }
      |                   ^~~~~
hint: did you mean 'sunday'?
F:6:13: error: unknown day name 'fir' in 'mon-fir'
    6 |   - { days: mon-fir, from: "09:00", to: "10:00", tariff: flat }
      |             ^~~~~~~
hint: did you mean 'mon-fri'?
F:7:13: error: unknown day name 'xyz'
    7 |   - { days: xyz, from: "11:00", to: "12:00", tariff: flat }
      |             ^~~
hint: use mon, tue, wed, thu, fri, sat, sun, ranges like mon-fri, weekdays, weekend, daily or holiday
)");
}

TEST_F(TariffConfigFile, BadTimesAreReportedAtTheValue) {
  EXPECT_FALSE(parse(R"(timezone: Europe/Zurich
currency: CHF
tariffs: { flat: { import: 0.25 } }
schedule:
  - { days: mon, from: "25:00", to: "7:61", tariff: flat }
  - { days: tue, from: 24:00, to: noon, tariff: flat }
  - { days: wed, from: "08:00", to: "08:00", tariff: flat }
)"));
  EXPECT_EQ(
      rendered(),
      R"(F:5:24: error: invalid time '25:00': hours must be 00-23 (or 24:00 for the end of the day)
    5 |   - { days: mon, from: "25:00", to: "7:61", tariff: flat }
      |                        ^~~~~~~
hint: write times in quotes, e.g. "07:00"
F:5:37: error: invalid time '7:61': minutes must be 00-59
    5 |   - { days: mon, from: "25:00", to: "7:61", tariff: flat }
      |                                     ^~~~~~
hint: write times in quotes, e.g. "07:00"
F:6:24: error: invalid time '24:00': 24:00 is only allowed as the end of a range
    6 |   - { days: tue, from: 24:00, to: noon, tariff: flat }
      |                        ^~~~~
hint: write times in quotes, e.g. "07:00"
F:6:35: error: invalid time 'noon': expected a time as HH:MM or HH:MM:SS
    6 |   - { days: tue, from: 24:00, to: noon, tariff: flat }
      |                                   ^~~~
hint: write times in quotes, e.g. "07:00"
F:7:37: error: empty time range: 'to' equals 'from'
    7 |   - { days: wed, from: "08:00", to: "08:00", tariff: flat }
      |                                     ^~~~~~~
hint: for a whole day use from: "00:00" and to: "24:00"
)");
}

TEST_F(TariffConfigFile, UnknownTimezoneGetsTheClosestZoneName) {
  EXPECT_FALSE(parse(R"(timezone: Europe/Zurch
currency: CHF
tariffs: { flat: { import: 0.25 } }
)"));
  EXPECT_EQ(rendered(), R"(F:1:11: error: unknown timezone 'Europe/Zurch'
    1 | timezone: Europe/Zurch
      |           ^~~~~~~~~~~~
hint: did you mean 'Europe/Zurich'?
)");
}

TEST_F(TariffConfigFile, FixedUtcOffsetIsRejected) {
  EXPECT_FALSE(parse(R"(timezone: "+01:00"
currency: CHF
tariffs: { flat: { import: 0.25 } }
)"));
  EXPECT_EQ(rendered(), R"(F:1:11: error: timezone '+01:00' is not an IANA time zone name
    1 | timezone: "+01:00"
      |           ^~~~~~~~
hint: fixed UTC offsets do not follow daylight saving time; use a zone name such as 'Europe/Zurich'
)");
}

TEST_F(TariffConfigFile, WrongTypesAndUnknownTariffsAreReported) {
  EXPECT_FALSE(parse(R"(timezone: Europe/Zurich
currency: CHF
default_tariff: lowe
tariffs:
  high: { import: cheap, exprt: 0.1 }
  low: 0.2
schedule:
  - { days: mon, from: "07:00", to: "08:00", tariff: hihg }
)"));
  EXPECT_EQ(rendered(), R"(F:5:26: error: unknown tariff option 'exprt'
    5 |   high: { import: cheap, exprt: 0.1 }
      |                          ^~~~~
hint: did you mean 'export'?
F:5:19: error: option 'import' must be a number
    5 |   high: { import: cheap, exprt: 0.1 }
      |                   ^~~~~
hint: got 'cheap'
F:6:8: error: tariff 'low' must be a map with 'import' (and optionally 'export')
    6 |   low: 0.2
      |        ^~~
hint: e.g. low: { import: 0.25, export: 0.08 }
F:3:17: error: unknown tariff 'lowe'
    3 | default_tariff: lowe
      |                 ^~~~
hint: did you mean 'low'?
F:8:54: error: unknown tariff 'hihg'
    8 |   - { days: mon, from: "07:00", to: "08:00", tariff: hihg }
      |                                                      ^~~~
hint: defined tariffs: high, low
)");
}

TEST_F(TariffConfigFile, HolidayAndPriceChangeMistakesAreReported) {
  EXPECT_FALSE(parse(R"(timezone: Europe/Zurich
currency: CHF
tariffs:
  flat:
    import: 0.25
    changes:
      - { from: 2026-07-01, import: 0.3 }
      - { from: 2026-02-30, import: 0.3 }
      - { from: 2026-01-01, import: 0.3 }
holidays:
  count_as: sunday
  dates: [2026-12-25, 2026-13-01]
)"));
  EXPECT_EQ(rendered(), R"(F:8:17: error: invalid date '2026-02-30'
    8 |       - { from: 2026-02-30, import: 0.3 }
      |                 ^~~~~~~~~~
hint: expected YYYY-MM-DD
F:9:17: error: price change dates must be in increasing order
    9 |       - { from: 2026-01-01, import: 0.3 }
      |                 ^~~~~~~~~~
F:12:23: error: invalid date '2026-13-01'
   12 |   dates: [2026-12-25, 2026-13-01]
      |                       ^~~~~~~~~~
hint: expected YYYY-MM-DD, or MM-DD for a holiday on the same date every year
)");
}

TEST_F(TariffConfigFile, DuplicateKeysAreReportedWithTheFirstOccurrence) {
  EXPECT_FALSE(parse(R"(timezone: Europe/Zurich
currency: CHF
currency: EUR
tariffs: { flat: { import: 0.25 } }
)"));
  EXPECT_EQ(rendered(), R"(F:3:1: error: duplicate key 'currency'
    3 | currency: EUR
      | ^~~~~~~~
F:2:1: note: first given here
    2 | currency: CHF
      | ^~~~~~~~
)");
}

TEST_F(TariffConfigFile, HolidayRangesAreWarnedAboutWhenHolidaysCountAsAnotherDay) {
  auto cfg = parse(R"(timezone: Europe/Zurich
currency: CHF
tariffs: { flat: { import: 0.25 } }
schedule:
  - { days: holiday, from: "10:00", to: "12:00", tariff: flat }
holidays: [2026-01-01]
)");
  EXPECT_TRUE(cfg);
  EXPECT_EQ(rendered(), R"(F:5:5: warning: time range 'holiday 10:00-12:00' is never used
    5 |   - { days: holiday, from: "10:00", to: "12:00", tariff: flat }
      |     ^
hint: holidays count as 'sun'; set 'holidays: { count_as: holiday }' to use ranges for holidays
)");
}

TEST_F(TariffConfigFile, NotAMapIsAnErrorNotAnException) {
  EXPECT_FALSE(parse("- just\n- a list\n"));
  ASSERT_EQ(diags.items().size(), 1u);
  EXPECT_EQ(diags.items()[0].message, "a tariff transform must be a map of options");
  EXPECT_EQ(diags.items()[0].where.line, 1);
}

TEST(TariffConfigParse, NeverThrowsOnOddInput) {
  for (const char* yaml : {"", "~", "42", "{tariffs: [1, 2]}", "{schedule: {a: b}}",
                           "{timezone: [x], currency: {a: 1}, tariffs: {t: {import: [1]}}}",
                           "{holidays: 3, tariffs: {t: {import: 1, changes: 5}}}",
                           "{tariffs: {t: {import: 1}}, schedule: [{days: [[mon]]}, 7]}"}) {
    diagnostics diags;
    std::optional<tariff_config> cfg;
    EXPECT_NO_THROW(cfg = parse_tariff_config(YAML::Load(yaml), "x.yaml", diags)) << yaml;
    EXPECT_FALSE(cfg) << yaml;
    EXPECT_TRUE(diags.has_errors()) << yaml;
  }
}

TEST(TariffConfigDocs, EveryTopLevelOptionIsDocumented) {
  const auto& docs = tariff_options();
  auto has = [&](const std::string& name) {
    for (const auto& d : docs)
      if (d.name == name)
        return !d.type.empty() && !d.doc.empty();
    return false;
  };
  for (const char* o :
       {"timezone", "currency", "tariffs", "tariffs.<name>.import", "tariffs.<name>.export",
        "tariffs.<name>.changes", "default_tariff", "schedule", "schedule[].days",
        "schedule[].from", "schedule[].to", "schedule[].tariff", "holidays", "holidays.count_as",
        "holidays.dates", "import_field", "export_field", "meter_tag"})
    EXPECT_TRUE(has(o)) << o;
  for (const auto& d : docs) {
    if (d.name == "import_field") {
      EXPECT_EQ(d.default_value, "ACTIVE_ENERGY_P");
    }
  }
}

TEST(TariffConfigDocs, EngineOptionSpecsListTheTopLevelOptions) {
  auto specs = tariff_option_specs();
  std::vector<std::string> names;
  for (const auto& o : specs)
    names.push_back(o.name);
  EXPECT_EQ(names, (std::vector<std::string>{"timezone", "currency", "tariffs", "default_tariff",
                                             "schedule", "holidays", "import_field", "export_field",
                                             "meter_tag"}));
  EXPECT_EQ(specs[0].type, option_type::string);
  EXPECT_TRUE(specs[0].required);
  EXPECT_EQ(specs[2].type, option_type::any);
  EXPECT_EQ(specs[3].default_value, "");
  EXPECT_EQ(specs[6].default_value, "ACTIVE_ENERGY_P");
}

} // namespace
} // namespace wattline::tariff::test
