#include "sinks/influxdb/server_error.hpp"

#include <gtest/gtest.h>

using namespace wattline::influxdb;

namespace {

line_batch batch_of(std::initializer_list<std::string_view> lines) {
  line_batch b;
  for (auto l : lines)
    b.append_line(l);
  return b;
}

} // namespace

// Bodies below are verbatim InfluxDB 1.6.7 answers (see the influxd tests).

TEST(InfluxServerError, ExtractsV1AndV2Messages) {
  EXPECT_EQ(extract_error_message(R"({"error":"database not found: \"nope\""})"),
            "database not found: \"nope\"");
  EXPECT_EQ(extract_error_message(R"({"code":"invalid","message":"unable to parse 'x'"})"),
            "unable to parse 'x'");
  EXPECT_EQ(extract_error_message("  plain text\n"), "plain text");
  EXPECT_EQ(extract_error_message(std::string(10000, 'a'), 100).size(), 103u);
}

TEST(InfluxServerError, ClassifiesContentErrorsByText) {
  EXPECT_TRUE(is_content_error("partial write: points beyond retention policy dropped=2"));
  EXPECT_TRUE(is_content_error("unable to parse 'm f=': missing field value"));
  EXPECT_TRUE(is_content_error("field type conflict: input field ..."));
  EXPECT_FALSE(is_content_error("database not found: \"x\""));
  EXPECT_FALSE(is_content_error("timeout"));
  EXPECT_FALSE(is_content_error("retention policy not found: nope"));
  EXPECT_EQ(parse_dropped("partial write: x dropped=17"), 17u);
  EXPECT_FALSE(parse_dropped("no count"));
}

TEST(InfluxServerError, IdentifiesUnparsableLinesQuotedByTheServer) {
  auto b = batch_of(
      {"m,a=3 f=3.5 3000", "m,a=4 f= 4000", "m,a=5 f=5 5000", "bad line here", "m s=\"x': y\" 1"});
  std::string msg = "partial write: unable to parse 'm,a=4 f= 4000': missing field value\n"
                    "unable to parse 'bad line here': invalid field format\n"
                    "unable to parse 'm s=\"x': y\" 1': odd dropped=0";
  auto a = attribute_error(msg, b);
  EXPECT_TRUE(a.partial);
  EXPECT_EQ(a.dropped, 0u);
  ASSERT_EQ(a.unparsable.size(), 3u);
  EXPECT_EQ(a.unparsable[0].first, 1u);
  EXPECT_EQ(a.unparsable[0].second, "unable to parse 'm,a=4 f= 4000': missing field value");
  EXPECT_EQ(a.unparsable[1].first, 3u);
  EXPECT_EQ(a.unparsable[2].first, 4u);
  EXPECT_EQ(a.unparsable[2].second, "unable to parse 'm s=\"x': y\" 1': odd");
}

TEST(InfluxServerError, MatchesTypeConflictToLinesByMeasurementFieldAndType) {
  auto b = batch_of({"m,a=3 f=3.5 3000", "m,a=4 f=4i 4000", "other f=4i 4000",
                     "m,a=5 g=1,f=5i 5000", "m\\ x f=1i 1"});
  auto a = attribute_error("partial write: field type conflict: input field \"f\" on measurement "
                           "\"m\" is type integer, already exists as type float dropped=2",
                           b);
  ASSERT_TRUE(a.conflict);
  EXPECT_EQ(a.conflict->measurement, "m");
  EXPECT_EQ(a.conflict->field, "f");
  EXPECT_EQ(a.conflict->input_type, "integer");
  EXPECT_EQ(a.conflicting, (std::vector<size_t>{1, 3}));
  EXPECT_EQ(a.dropped, 2u);
  auto esc = attribute_error("partial write: field type conflict: input field \"f\" on "
                             "measurement \"m x\" is type integer, already exists as type float "
                             "dropped=1",
                             b);
  EXPECT_EQ(esc.conflicting, (std::vector<size_t>{4}));
}

TEST(InfluxServerError, ReadsV2LineNumbers) {
  auto b = batch_of({"m f=1 1", "m f= 2", "m f=3 3", "m f 4"});
  auto a = attribute_error("failed to parse line protocol:\nerrors encountered on line(s):\n"
                           "line 2: missing field value\nline 4: invalid field format",
                           b);
  EXPECT_FALSE(a.partial);
  ASSERT_EQ(a.unparsable.size(), 2u);
  EXPECT_EQ(a.unparsable[0].first, 1u);
  EXPECT_EQ(a.unparsable[1].first, 3u);
}
