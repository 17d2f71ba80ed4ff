// Encoders and small parsers of the file cores: RFC 3339 times, JSON lines, CSV cells, pacing
// options and the progress bar.

#include "actors/file/csv.hpp"
#include "actors/file/jsonl.hpp"
#include "actors/file/pacing.hpp"
#include "actors/file/time_format.hpp"
#include "tests/file_io/sample_records.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

using namespace wattline;
using namespace wattline::file_io;

TEST(FileIoTime, FormatsFractionInGroupsOfThreeDigits) {
  EXPECT_EQ(format_rfc3339(0), "1970-01-01T00:00:00Z");
  EXPECT_EQ(format_rfc3339(1763740222000000000), "2025-11-21T15:50:22Z");
  EXPECT_EQ(format_rfc3339(1763740222500000000), "2025-11-21T15:50:22.500Z");
  EXPECT_EQ(format_rfc3339(1763740222500001000), "2025-11-21T15:50:22.500001Z");
  EXPECT_EQ(format_rfc3339(1763740222123456789), "2025-11-21T15:50:22.123456789Z");
  EXPECT_EQ(format_rfc3339(1), "1970-01-01T00:00:00.000000001Z");
  EXPECT_EQ(format_rfc3339(-1), "1969-12-31T23:59:59.999999999Z");
}

TEST(FileIoTime, ParsesWhatItFormatsIncludingExtremes) {
  for (int64_t t : {int64_t{0}, int64_t{1}, int64_t{-1}, int64_t{1763740222123456789},
                    std::numeric_limits<int64_t>::max(), std::numeric_limits<int64_t>::min() + 1,
                    int64_t{-86400000000001}}) {
    auto text = format_rfc3339(t);
    auto back = parse_rfc3339(text);
    ASSERT_TRUE(back.has_value()) << text;
    EXPECT_EQ(*back, t) << text;
  }
}

TEST(FileIoTime, ParsesOffsetsAndRejectsGarbage) {
  EXPECT_EQ(parse_rfc3339("2025-11-21T16:50:22.5+01:00"), int64_t{1763740222500000000});
  EXPECT_EQ(parse_rfc3339("2025-11-21t15:50:22z"), int64_t{1763740222000000000});
  EXPECT_EQ(parse_rfc3339("2025-11-21T15:50:22.1234567891Z"), int64_t{1763740222123456789});
  EXPECT_FALSE(parse_rfc3339("2025-11-21T15:50:22"));
  EXPECT_FALSE(parse_rfc3339("2025-02-30T00:00:00Z"));
  EXPECT_FALSE(parse_rfc3339("2025-11-21T15:50:22.Z"));
  EXPECT_FALSE(parse_rfc3339("yesterday"));
  EXPECT_FALSE(parse_rfc3339("2300-01-01T00:00:00Z")); // beyond int64 nanoseconds
}

TEST(FileIoTime, FileStampsHaveFixedWidthAndSortByTime) {
  EXPECT_EQ(format_file_stamp(1763740222500000000), "20251121T155022.500000000Z");
  EXPECT_TRUE(is_file_stamp("20251121T155022.500000000Z"));
  EXPECT_FALSE(is_file_stamp("20251121T155022Z"));
  EXPECT_LT(format_file_stamp(1763740222999999999), format_file_stamp(1763740223000000000));
}

TEST(FileIoJsonl, EncodesTypesExactlyAndMetadataOnlyWhenPresent) {
  auto recs = test::sample_records();
  EXPECT_EQ(to_json(recs[1]),
            R"({"name":"smartmeter","time":"2025-11-21T15:50:23Z","tags":{"meter":"m2"},)"
            R"("fields":{"energy_wh":-9223372036854775808,"small_u":7,"ratio":0.1,"whole":2.0,)"
            R"("off":false},"meta":{"small_u":{"type":"uint64"}}})");
  EXPECT_EQ(to_json(recs[2]), R"({"name":"plc","time":"2025-11-21T15:50:23.500Z","tags":{},)"
                              R"("fields":{"rate":1e+21,"neg":-3.25e-07}})");
}

TEST(FileIoJsonl, WritesNanAndInfinityAsNullAndReadsNullAsNan) {
  record r;
  r.name = "m";
  r.set_field("a", std::numeric_limits<double>::quiet_NaN());
  r.set_field("b", -std::numeric_limits<double>::infinity());
  auto text = to_json(r);
  EXPECT_EQ(text,
            R"({"name":"m","time":"1970-01-01T00:00:00Z","tags":{},"fields":{"a":null,"b":null}})");
  auto back = std::get<record>(parse_jsonl(text));
  EXPECT_TRUE(std::isnan(std::get<double>(back.fields[0].value)));
}

TEST(FileIoJsonl, EscapesControlCharactersAndRepairsInvalidUtf8) {
  record r;
  r.name = "m";
  r.set_field("s", std::string("tab\there\x01 bad\xff end"));
  auto text = to_json(r);
  EXPECT_NE(text.find(R"("tab\there\u0001 bad)"
                      "\xEF\xBF\xBD"
                      R"( end")"),
            std::string::npos)
      << text;
  EXPECT_TRUE(std::holds_alternative<record>(parse_jsonl(text)));
}

TEST(FileIoJsonl, RoundTripsEveryFieldTypeWithMetadata) {
  for (const auto& r : test::sample_records()) {
    std::string line;
    append_jsonl(line, r);
    ASSERT_EQ(line.back(), '\n');
    auto back = parse_jsonl(line);
    ASSERT_TRUE(std::holds_alternative<record>(back)) << std::get<std::string>(back);
    EXPECT_EQ(std::get<record>(back), r) << line;
  }
}

TEST(FileIoJsonl, ReportsWhatIsWrongWithABadLine) {
  auto msg = [](std::string_view line) {
    auto r = parse_jsonl(line);
    return std::holds_alternative<std::string>(r) ? std::get<std::string>(r) : std::string("ok");
  };
  EXPECT_NE(msg(R"({"name":"m","time":)").find("invalid JSON"), std::string::npos);
  EXPECT_EQ(msg(R"([1,2])"), "a record must be a JSON object");
  EXPECT_EQ(msg(R"({"time":0})"), R"(missing string "name")");
  EXPECT_EQ(msg(R"({"name":"m"})"), R"(missing "time")");
  EXPECT_EQ(msg(R"({"name":"m","time":"noon"})"), "invalid RFC 3339 time 'noon'");
  EXPECT_EQ(msg(R"({"name":"m","time":0,"tags":{"a":1}})"), "tag 'a' must be a string");
  EXPECT_EQ(msg(R"({"name":"m","time":0,"fields":{"x":[1]}})"),
            "field 'x' has unsupported JSON type array");
  EXPECT_EQ(msg(R"({"name":"m","time":5,"fields":{"x":1}})"), "ok");
}

TEST(FileIoCsv, QuotesOnlyCellsThatNeedIt) {
  auto cell = [](std::string_view s) {
    std::string out;
    append_csv_cell(out, s);
    return out;
  };
  EXPECT_EQ(cell("plain"), "plain");
  EXPECT_EQ(cell("a,b"), "\"a,b\"");
  EXPECT_EQ(cell("say \"hi\""), "\"say \"\"hi\"\"\"");
  EXPECT_EQ(cell("two\nlines"), "\"two\nlines\"");
  EXPECT_EQ(cell("cr\r"), "\"cr\r\"");
  EXPECT_EQ(cell(" padded"), "\" padded\"");
  EXPECT_EQ(cell(""), "");
}

TEST(FileIoCsv, RowsFollowTheHeaderColumnsAndLeaveMissingCellsEmpty) {
  auto recs = test::sample_records();
  csv_schema schema(recs[0]);
  std::string out;
  schema.append_header(out);
  EXPECT_EQ(out, "time,name,meter,site,power_w,energy_wh,counter,ok,fw\n");
  record partial;
  partial.name = "smartmeter";
  partial.time_ns = 1763740222000000000;
  partial.set_tag("meter", "m3");
  partial.set_field("power_w", std::numeric_limits<double>::quiet_NaN());
  partial.set_field("energy_wh", int64_t{-5});
  EXPECT_TRUE(schema.fits(partial));
  out.clear();
  schema.append_row(out, partial);
  EXPECT_EQ(out, "2025-11-21T15:50:22Z,smartmeter,m3,,,-5,,,\n");
  EXPECT_FALSE(schema.fits(recs[1])); // has small_u
}

TEST(FileIoPacing, ParsesModesAndLineSpeeds) {
  EXPECT_EQ(std::get<pacing>(parse_pacing("as_fast_as_possible")).kind,
            pacing::mode::as_fast_as_possible);
  EXPECT_EQ(std::get<pacing>(parse_pacing("realtime")).kind, pacing::mode::realtime);
  auto p = std::get<pacing>(parse_pacing("2400 baud"));
  EXPECT_EQ(p.kind, pacing::mode::byte_rate);
  EXPECT_EQ(p.bits_per_second, 2400);
  EXPECT_EQ(std::get<pacing>(parse_pacing("9600")).bits_per_second, 9600);
  EXPECT_EQ(std::get<pacing>(parse_pacing("115200baud")).bits_per_second, 115200);
  EXPECT_TRUE(std::holds_alternative<std::string>(parse_pacing("fast")));
  EXPECT_TRUE(std::holds_alternative<std::string>(parse_pacing("0 baud")));
  EXPECT_TRUE(std::holds_alternative<std::string>(parse_pacing("-9600")));
}

TEST(FileIoPacing, ByteRateCountsTenBitsPerByte) {
  pacing p{pacing::mode::byte_rate, 2400};
  // 240 bytes * 10 bits / 2400 bit/s = 1 s.
  EXPECT_EQ(p.delay_for_bytes(240), std::chrono::seconds(1));
  EXPECT_EQ(p.delay_for_bytes(1), std::chrono::nanoseconds(4166667));
  EXPECT_EQ(pacing{}.delay_for_bytes(1000), std::chrono::nanoseconds(0));
}

TEST(FileIoProgress, BarRedrawsInPlaceAndClampsTheFraction) {
  EXPECT_EQ(progress_bar(0.0, 10), "\r[>         ]   0.0%");
  EXPECT_EQ(progress_bar(0.5, 10), "\r[=====>    ]  50.0%");
  EXPECT_EQ(progress_bar(1.0, 10), "\r[==========] 100.0%");
  EXPECT_EQ(progress_bar(7.0, 4), "\r[====] 100.0%");
  EXPECT_EQ(progress_bar(std::nan(""), 4), "\r[>   ]   0.0%");
  EXPECT_EQ(progress_bar(0.123, 0), "\r[>]  12.3%");
}
