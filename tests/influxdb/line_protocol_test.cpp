#include "sinks/influxdb/line_protocol.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <limits>

using namespace wattline;
using namespace wattline::influxdb;

namespace {

record make(std::string name, std::vector<std::pair<std::string, std::string>> tags,
            std::vector<std::pair<std::string, field_value>> fields,
            int64_t t = 1'700'000'000'123'456'789) {
  record r;
  r.name = std::move(name);
  for (auto& [k, v] : tags)
    r.tags.emplace_back(k, v);
  for (auto& [k, v] : fields)
    r.fields.push_back(field{k, v, {}, {}});
  r.time_ns = t;
  return r;
}

std::string encode(const record& r, encoder_options o = {}) {
  line_encoder enc{o};
  std::string out;
  enc.encode(r, out);
  return out;
}

} // namespace

TEST(InfluxLineProtocol, EncodesAllFieldTypesWithSuffixes) {
  auto r = make("power", {{"meter", "m1"}},
                {{"p", 1234.5},
                 {"n", int64_t{-42}},
                 {"u", uint64_t{42}},
                 {"ok", true},
                 {"bad", false},
                 {"s", std::string{"hi"}}});
  EXPECT_EQ(encode(r), "power,meter=m1 p=1234.5,n=-42i,u=42i,ok=true,bad=false,s=\"hi\" "
                       "1700000000123456789\n");
  encoder_options o;
  o.uints = uint_encoding::unsigned_suffix;
  EXPECT_EQ(encode(make("m", {}, {{"u", uint64_t{42}}}, 5), o), "m u=42u 5\n");
}

TEST(InfluxLineProtocol, EscapesMeasurementTagsAndFieldKeys) {
  auto r = make("my meas,x=y", {{"t k,=", "v a,l=ue"}}, {{"f k,=", 1.0}}, 1);
  EXPECT_EQ(encode(r), "my\\ meas\\,x=y,t\\ k\\,\\==v\\ a\\,l\\=ue f\\ k\\,\\==1 1\n");
}

TEST(InfluxLineProtocol, EscapesQuotesAndBackslashesInStringFields) {
  auto r = make("m", {}, {{"s", std::string{"say \"hi\" C:\\dir\\"}}}, 1);
  EXPECT_EQ(encode(r), "m s=\"say \\\"hi\\\" C:\\\\dir\\\\\" 1\n");
}

TEST(InfluxLineProtocol, KeepsControlCharactersInStringFieldsAndEscapesThemElsewhere) {
  auto r = make("m\n1", {{"t", "a\tb\r\nc"}}, {{"k\n", std::string{"line1\nline2\ttab\r"}}}, 1);
  EXPECT_EQ(encode(r), "m\\n1,t=a\\tb\\r\\nc k\\n=\"line1\nline2\ttab\r\" 1\n");
}

TEST(InfluxLineProtocol, DropsBackslashesThatWouldEscapeTheSeparator) {
  // A trailing backslash would escape the following ',' or '=' and corrupt the line.
  auto r = make("m\\", {{"t\\", "v\\"}, {"u", "a\\,b"}, {"w", "c\\d"}}, {{"f\\", 1.0}}, 1);
  EXPECT_EQ(encode(r), "m,t=v,u=a\\,b,w=c\\d f=1 1\n");
  auto scanned = scan_line("m,t=v,u=a\\,b,w=c\\d f=1 1");
  ASSERT_TRUE(scanned);
  EXPECT_EQ(scanned->fields.size(), 1u);
}

TEST(InfluxLineProtocol, SortsTagsByKeyAndSkipsEmptyOnes) {
  line_encoder enc;
  auto r = make("m", {{"zone", "b"}, {"a", ""}, {"", "x"}, {"meter", "m1"}, {"Z", "cap"}},
                {{"f", 1.0}}, 1);
  std::string out;
  ASSERT_TRUE(enc.encode(r, out));
  EXPECT_EQ(out, "m,Z=cap,meter=m1,zone=b f=1 1\n");
  EXPECT_EQ(enc.stats().skipped_tags, 2u);
}

TEST(InfluxLineProtocol, SkipsNonFiniteFieldsAndCountsThem) {
  line_encoder enc;
  auto r = make("m", {},
                {{"a", std::nan("")},
                 {"b", 2.5},
                 {"c", std::numeric_limits<double>::infinity()},
                 {"d", -std::numeric_limits<double>::infinity()}},
                1);
  std::string out;
  ASSERT_TRUE(enc.encode(r, out));
  EXPECT_EQ(out, "m b=2.5 1\n");
  EXPECT_EQ(enc.stats().skipped_nonfinite_fields, 3u);
}

TEST(InfluxLineProtocol, SkipsRecordWithoutWritableFieldAndLeavesBufferUntouched) {
  line_encoder enc;
  std::string out = "previous\n";
  EXPECT_FALSE(enc.encode(make("m", {{"t", "v"}}, {{"a", std::nan("")}}, 1), out));
  EXPECT_FALSE(enc.encode(make("m", {}, {}, 1), out));
  EXPECT_FALSE(enc.encode(make("", {}, {{"a", 1.0}}, 1), out));
  EXPECT_EQ(out, "previous\n");
  EXPECT_EQ(enc.stats().skipped_records, 3u);
  EXPECT_EQ(enc.stats().lines, 0u);
}

TEST(InfluxLineProtocol, SkipsFieldsAndTagsNamedTime) {
  line_encoder enc;
  std::string out;
  ASSERT_TRUE(enc.encode(make("m", {{"time", "x"}}, {{"time", 1.0}, {"v", 2.0}}, 1), out));
  EXPECT_EQ(out, "m v=2 1\n");
}

TEST(InfluxLineProtocol, WritesFloatsWithRoundTripPrecision) {
  for (double v :
       {0.1, 1.0 / 3.0, 1e-300, 1.7976931348623157e308, -0.0, 123456789.123456789, 5e-324, 2.0}) {
    std::string out;
    append_float(out, v);
    EXPECT_EQ(std::strtod(out.c_str(), nullptr), v) << out;
  }
  std::string out;
  append_float(out, 0.1);
  EXPECT_EQ(out, "0.1");
}

TEST(InfluxLineProtocol, ClampsLargeUnsignedForInteger) {
  line_encoder enc;
  std::string out;
  ASSERT_TRUE(enc.encode(make("m", {}, {{"u", std::numeric_limits<uint64_t>::max()}}, 1), out));
  EXPECT_EQ(out, "m u=9223372036854775807i 1\n");
  EXPECT_EQ(enc.stats().clamped_uints, 1u);
  encoder_options o;
  o.uints = uint_encoding::unsigned_suffix;
  EXPECT_EQ(encode(make("m", {}, {{"u", std::numeric_limits<uint64_t>::max()}}, 1), o),
            "m u=18446744073709551615u 1\n");
}

TEST(InfluxLineProtocol, WritesIntegerExtremes) {
  EXPECT_EQ(encode(make("m", {}, {{"i", std::numeric_limits<int64_t>::min()}}, 1)),
            "m i=-9223372036854775808i 1\n");
}

TEST(InfluxLineProtocol, ConvertsTimestampsToPrecision) {
  const int64_t t = 1'700'000'000'123'456'789;
  auto r = make("m", {}, {{"f", 1.0}}, t);
  for (auto [p, expect] :
       std::vector<std::pair<precision, std::string>>{{precision::ns, "1700000000123456789"},
                                                      {precision::us, "1700000000123456"},
                                                      {precision::ms, "1700000000123"},
                                                      {precision::s, "1700000000"}}) {
    encoder_options o;
    o.time_precision = p;
    EXPECT_EQ(encode(r, o), "m f=1 " + expect + "\n") << to_string(p);
  }
  EXPECT_EQ(convert_timestamp(-1, precision::s), -1);
  EXPECT_EQ(convert_timestamp(-1'000'000'000, precision::s), -1);
  EXPECT_EQ(parse_precision("ms"), precision::ms);
  EXPECT_FALSE(parse_precision("h"));
}

TEST(InfluxLineProtocol, AppendsIntoReusedBufferWithoutReallocating) {
  line_encoder enc;
  auto r = make("smartmeter", {{"meter", "m1"}, {"site", "home"}}, {}, 1);
  for (int i = 0; i < 30; ++i)
    r.fields.push_back(field{"f" + std::to_string(i), 1000.25 + i, {}, {}});
  r.tags = {{"site", "home"}, {"meter", "m1"}}; // unsorted: uses the scratch index
  std::string out;
  out.reserve(1 << 16);
  enc.encode(r, out);
  const char* data = out.data();
  for (int i = 0; i < 50; ++i) {
    out.clear();
    enc.encode(r, out);
  }
  EXPECT_EQ(out.data(), data);
  EXPECT_EQ(out.rfind("smartmeter,meter=m1,site=home f0=1000.25,", 0), 0u);
}

TEST(InfluxLineProtocol, ScannerReadsMeasurementFieldTypesAndTimestamp) {
  auto l = scan_line("m\\ x,t=a\\,b f\\=1=1i,s=\"a \\\"q\\\", b\",b=true,u=3u,x=1.5 123");
  ASSERT_TRUE(l);
  EXPECT_EQ(l->measurement, "m x");
  ASSERT_EQ(l->fields.size(), 5u);
  EXPECT_EQ(l->fields[0].key, "f=1");
  EXPECT_EQ(l->fields[0].type, lp_type::integer);
  EXPECT_EQ(l->fields[1].type, lp_type::string);
  EXPECT_EQ(l->fields[2].type, lp_type::boolean);
  EXPECT_EQ(l->fields[3].type, lp_type::unsigned_);
  EXPECT_EQ(l->fields[4].type, lp_type::float_);
  EXPECT_TRUE(l->has_timestamp);
  auto no_ts = scan_line("m f=1");
  ASSERT_TRUE(no_ts);
  EXPECT_FALSE(no_ts->has_timestamp);
  EXPECT_FALSE(scan_line("m f= 4"));
  EXPECT_FALSE(scan_line("bad line here"));
}
