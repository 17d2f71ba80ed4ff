// Writer against a scripted local HTTP server: the v2 API, gzip, 413, 429, 5xx, whole-batch
// refusals, isolation of unnamed rejections, unreachable servers, credential hygiene.

#include "sinks/influxdb/writer.hpp"

#include "tests/influxdb/fake_http_server.hpp"
#include "tests/support/support.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <mutex>
#include <set>
#include <sstream>

using namespace std::chrono_literals;
using namespace wattline;
using namespace wattline::influxdb;
using wattline::test::fake_http_server;
using wattline::test::fake_request;
using wattline::test::fake_response;

namespace {

line_batch make_batch(int n, int64_t t0 = 1000) {
  line_batch b;
  for (int i = 0; i < n; ++i)
    b.append_line("m,k=v f=" + std::to_string(i) + " " + std::to_string(t0 + i));
  return b;
}

std::vector<std::string> split_lines(std::string_view body) {
  std::vector<std::string> out;
  std::string line;
  std::istringstream in{std::string{body}};
  while (std::getline(in, line))
    if (!line.empty())
      out.push_back(line);
  return out;
}

writer_options v1_options(const std::string& url) {
  writer_options o;
  o.name = "influx-test";
  o.url = url;
  o.database = "db";
  o.timeout = 5s;
  return o;
}

/// Collects the lines a fake server stored.
struct store {
  std::mutex m;
  std::vector<std::string> lines;
  void add(const std::vector<std::string>& ls) {
    std::lock_guard<std::mutex> g(m);
    lines.insert(lines.end(), ls.begin(), ls.end());
  }
  std::multiset<std::string> set() {
    std::lock_guard<std::mutex> g(m);
    return {lines.begin(), lines.end()};
  }
};

} // namespace

TEST(InfluxWriterV2, PostsToApiV2WriteWithOrgBucketPrecisionAndToken) {
  fake_http_server srv{[](const fake_request&) { return fake_response{204, {}, {}}; }};
  writer_options o;
  o.url = srv.url() + "/";
  o.api = api_version::v2;
  o.org = "my org";
  o.bucket = "meters/autogen";
  o.token = "tok-123";
  o.time_precision = precision::ms;
  writer w{o};
  auto b = make_batch(3);
  const std::string payload{b.payload()};
  auto out = w.write(b);
  EXPECT_EQ(out.status, write_status::ok) << out.message;
  EXPECT_EQ(out.written, 3u);
  EXPECT_TRUE(b.empty());
  auto reqs = srv.requests();
  ASSERT_EQ(reqs.size(), 1u);
  const auto& r = reqs[0];
  EXPECT_EQ(r.method, "POST");
  EXPECT_EQ(r.path, "/api/v2/write");
  EXPECT_EQ(r.query.at("org"), "my org");
  EXPECT_EQ(r.query.at("bucket"), "meters/autogen");
  EXPECT_EQ(r.query.at("precision"), "ms");
  EXPECT_EQ(r.query.count("db"), 0u);
  EXPECT_EQ(r.headers.at("authorization"), "Token tok-123");
  EXPECT_EQ(r.headers.at("content-type"), "text/plain; charset=utf-8");
  EXPECT_EQ(r.headers.count("content-encoding"), 0u);
  EXPECT_EQ(r.body, payload);
  EXPECT_EQ(w.matching_encoder_options().uints, uint_encoding::unsigned_suffix);
}

TEST(InfluxWriterV2, CompressesBodyWithGzipWhenEnabled) {
  fake_http_server srv{[](const fake_request&) { return fake_response{204, {}, {}}; }};
  writer_options o;
  o.url = srv.url();
  o.api = api_version::v2;
  o.org = "o";
  o.bucket = "b";
  o.token = "t";
  o.gzip = true;
  writer w{o};
  auto b = make_batch(500);
  const std::string payload{b.payload()};
  ASSERT_EQ(w.write(b).status, write_status::ok);
  auto reqs = srv.requests();
  ASSERT_EQ(reqs.size(), 1u);
  EXPECT_EQ(reqs[0].headers.at("content-encoding"), "gzip");
  EXPECT_LT(reqs[0].body.size(), payload.size() / 3);
  EXPECT_EQ(reqs[0].decoded_body(), payload);
}

TEST(InfluxWriterV1, SendsDatabaseRetentionPolicyPrecisionAndBasicAuth) {
  fake_http_server srv{[](const fake_request&) { return fake_response{204, {}, {}}; }};
  auto o = v1_options(srv.url());
  o.retention_policy = "plc_7d";
  o.time_precision = precision::s;
  o.username = "writer";
  o.password = "s3cret";
  writer w{o};
  auto b = make_batch(1);
  ASSERT_EQ(w.write(b).status, write_status::ok);
  auto r = srv.requests().at(0);
  EXPECT_EQ(r.path, "/write");
  EXPECT_EQ(r.query.at("db"), "db");
  EXPECT_EQ(r.query.at("rp"), "plc_7d");
  EXPECT_EQ(r.query.at("precision"), "s");
  EXPECT_EQ(r.headers.at("authorization"), "Basic d3JpdGVyOnMzY3JldA=="); // writer:s3cret
  EXPECT_EQ(r.headers.count("expect"), 0u);
}

TEST(InfluxWriterV1, CanSendCredentialsAsQueryParameters) {
  fake_http_server srv{[](const fake_request&) { return fake_response{204, {}, {}}; }};
  auto o = v1_options(srv.url());
  o.username = "writer";
  o.password = "p&ss word";
  o.v1_auth = v1_auth_mode::query;
  writer w{o};
  auto b = make_batch(1);
  ASSERT_EQ(w.write(b).status, write_status::ok);
  auto r = srv.requests().at(0);
  EXPECT_EQ(r.query.at("u"), "writer");
  EXPECT_EQ(r.query.at("p"), "p&ss word");
  EXPECT_EQ(r.headers.count("authorization"), 0u);
}

TEST(InfluxWriter, ReusesOneConnectionForConsecutiveWrites) {
  fake_http_server srv{[](const fake_request&) { return fake_response{204, {}, {}}; }};
  writer w{v1_options(srv.url())};
  for (int i = 0; i < 5; ++i) {
    auto b = make_batch(10, i * 100);
    ASSERT_EQ(w.write(b).status, write_status::ok);
  }
  EXPECT_EQ(srv.request_count(), 5u);
  EXPECT_EQ(srv.connection_count(), 1u);
}

TEST(InfluxWriter, TooLargeBodyAsksForSplitUntilHalvesFit) {
  store stored;
  fake_http_server srv{[&](const fake_request& r) {
    auto lines = split_lines(r.body);
    if (lines.size() > 3)
      return fake_response{413, {}, R"({"error":"Request Entity Too Large"})"};
    stored.add(lines);
    return fake_response{204, {}, {}};
  }};
  writer w{v1_options(srv.url())};
  auto original = make_batch(10);
  std::multiset<std::string> expected;
  for (size_t i = 0; i < original.size(); ++i)
    expected.emplace(original.line(i));
  std::vector<line_batch> queue;
  queue.push_back(std::move(original));
  int splits = 0;
  while (!queue.empty()) {
    auto b = std::move(queue.back());
    queue.pop_back();
    auto out = w.write(b);
    if (out.status == write_status::split) {
      ++splits;
      EXPECT_EQ(out.http_status, 413);
      EXPECT_EQ(b.size() > 3, true);
      auto [x, y] = b.split();
      queue.push_back(std::move(y));
      queue.push_back(std::move(x));
    } else {
      ASSERT_EQ(out.status, write_status::ok) << out.message;
    }
  }
  EXPECT_EQ(splits, 3); // 10 -> 5+5 -> (3+2)+(3+2)
  EXPECT_EQ(stored.set(), expected);
}

TEST(InfluxWriter, SingleLineTooLargeIsRejectedNotSplit) {
  fake_http_server srv{[](const fake_request&) { return fake_response{413, {}, "{}"}; }};
  writer w{v1_options(srv.url())};
  auto b = make_batch(1);
  auto out = w.write(b);
  EXPECT_EQ(out.status, write_status::partial);
  ASSERT_EQ(out.rejected.size(), 1u);
  EXPECT_EQ(out.rejected[0].line, "m,k=v f=0 1000");
  EXPECT_TRUE(b.empty());
}

TEST(InfluxWriter, TooManyRequestsRetriesAfterServerDelay) {
  fake_http_server srv{[](const fake_request&) {
    return fake_response{429, {{"Retry-After", "7"}}, R"({"code":"too many requests"})"};
  }};
  writer w{v1_options(srv.url())};
  auto b = make_batch(4);
  auto out = w.write(b);
  EXPECT_EQ(out.status, write_status::retry);
  EXPECT_EQ(out.http_status, 429);
  EXPECT_EQ(out.retry_after, 7s);
  EXPECT_EQ(b.size(), 4u);
  EXPECT_NE(out.message.find("429"), std::string::npos);
}

TEST(InfluxWriter, ServiceUnavailableRetriesWithRetryAfterDate) {
  fake_http_server srv{[](const fake_request&) {
    return fake_response{503, {{"Retry-After", "Fri, 31 Dec 2100 23:59:59 GMT"}}, "overloaded"};
  }};
  writer w{v1_options(srv.url())};
  auto b = make_batch(2);
  for (int i = 0; i < 20; ++i) { // 503 never counts towards giving up
    auto out = w.write(b);
    ASSERT_EQ(out.status, write_status::retry);
    EXPECT_GT(out.retry_after, std::chrono::hours(24));
  }
  EXPECT_EQ(b.server_errors, 0u);
}

TEST(InfluxWriter, ServerErrorIsRetriedButPoisonBatchIsGivenUpAfterLimit) {
  fake_http_server srv{[](const fake_request&) {
    return fake_response{500, {}, R"({"error":"engine: unexpected failure"})"};
  }};
  auto o = v1_options(srv.url());
  o.max_server_errors = 3;
  writer w{o};
  auto b = make_batch(2);
  auto first = w.write(b);
  EXPECT_EQ(first.status, write_status::retry);
  EXPECT_EQ(first.retry_after, 0ms);
  EXPECT_NE(first.message.find("engine: unexpected failure"), std::string::npos);
  EXPECT_EQ(w.write(b).status, write_status::retry);
  auto last = w.write(b);
  EXPECT_EQ(last.status, write_status::permanent);
  EXPECT_EQ(last.rejected.size(), 2u);
  EXPECT_TRUE(b.empty());
  EXPECT_NE(last.rejected[0].reason.find("gave up after 3 server errors"), std::string::npos);
}

TEST(InfluxWriter, ServerErrorWithPartialWriteTextIsNotRetried) {
  // The Vector #8904 / Telegraf #11005 poison pill: 500 with a type conflict.
  store stored;
  fake_http_server srv{[&](const fake_request& r) {
    std::vector<std::string> ok;
    for (auto& l : split_lines(r.body))
      if (l.find("f=1i") == std::string::npos)
        ok.push_back(l);
    stored.add(ok);
    return fake_response{500,
                         {},
                         R"({"error":"partial write: field type conflict: input field \"f\" on )"
                         R"(measurement \"m\" is type integer, already exists as type float )"
                         R"(dropped=1"})"};
  }};
  writer w{v1_options(srv.url())};
  line_batch b;
  b.append_line("m f=0.5 1");
  b.append_line("m f=1i 2");
  b.append_line("m f=2.5 3");
  auto out = w.write(b);
  EXPECT_EQ(out.status, write_status::partial);
  EXPECT_EQ(out.requests, 1u);
  EXPECT_EQ(out.written, 2u);
  ASSERT_EQ(out.rejected.size(), 1u);
  EXPECT_EQ(out.rejected[0].line, "m f=1i 2");
  EXPECT_NE(out.rejected[0].reason.find("HTTP 500: partial write: field type conflict"),
            std::string::npos);
  EXPECT_TRUE(b.empty());
}

TEST(InfluxWriter, WholeBatchRefusalResendsTheOtherLines) {
  // InfluxDB 2.x style: one bad line makes the server refuse the whole request.
  store stored;
  fake_http_server srv{[&](const fake_request& r) {
    auto lines = split_lines(r.body);
    for (size_t i = 0; i < lines.size(); ++i)
      if (lines[i].find("f= ") != std::string::npos)
        return fake_response{400,
                             {},
                             R"({"code":"invalid","message":"failed to parse line protocol:\n)"
                             R"(errors encountered on line(s):\nline )" +
                                 std::to_string(i + 1) + R"(: missing field value"})"};
    stored.add(lines);
    return fake_response{204, {}, {}};
  }};
  writer_options o;
  o.url = srv.url();
  o.api = api_version::v2;
  o.org = "o";
  o.bucket = "b";
  o.token = "t";
  writer w{o};
  line_batch b;
  b.append_line("m f=1 1");
  b.append_line("m f= 2");
  b.append_line("m f=3 3");
  auto out = w.write(b);
  EXPECT_EQ(out.status, write_status::partial) << out.message;
  EXPECT_EQ(out.requests, 2u);
  ASSERT_EQ(out.rejected.size(), 1u);
  EXPECT_EQ(out.rejected[0].line, "m f= 2");
  EXPECT_NE(out.rejected[0].reason.find("line 2: missing field value"), std::string::npos);
  EXPECT_EQ(stored.set(), (std::multiset<std::string>{"m f=1 1", "m f=3 3"}));
}

TEST(InfluxWriter, UnnamedRejectionsAreIsolatedByResendingHalves) {
  // Like "points beyond retention policy": the server stores the good points, drops the old ones
  // and only says how many it dropped.
  store stored;
  fake_http_server srv{[&](const fake_request& r) {
    size_t dropped = 0;
    std::vector<std::string> ok;
    for (auto& l : split_lines(r.body)) {
      int64_t ts = std::stoll(l.substr(l.rfind(' ') + 1));
      if (ts < 1000)
        ++dropped;
      else
        ok.push_back(l);
    }
    stored.add(ok);
    if (dropped == 0)
      return fake_response{204, {}, {}};
    return fake_response{400,
                         {},
                         R"({"error":"partial write: points beyond retention policy dropped=)" +
                             std::to_string(dropped) + "\"}"};
  }};
  writer w{v1_options(srv.url())};
  line_batch b;
  std::set<std::string> good, old;
  for (int i = 0; i < 64; ++i) {
    int64_t ts = (i == 5 || i == 40) ? 10 + i : 1000 + i;
    std::string l = "m f=" + std::to_string(i) + " " + std::to_string(ts);
    b.append_line(l);
    (ts < 1000 ? old : good).insert(l);
  }
  auto out = w.write(b);
  EXPECT_EQ(out.status, write_status::partial) << out.message;
  std::set<std::string> rejected;
  for (auto& r : out.rejected) {
    rejected.insert(r.line);
    EXPECT_NE(r.reason.find("points beyond retention policy"), std::string::npos);
  }
  EXPECT_EQ(rejected, old);
  auto s = stored.set();
  EXPECT_EQ(std::set<std::string>(s.begin(), s.end()), good);
  EXPECT_LE(out.requests, 1u + 2u * 2u * 6u); // bisection: ~2 per level per bad line
  EXPECT_TRUE(b.empty());
}

TEST(InfluxWriter, UnreachableServerGivesRetryNamingSinkAndUrl) {
  int port = test::free_tcp_port(); // nothing listens there
  auto o = v1_options("http://127.0.0.1:" + std::to_string(port));
  o.connect_timeout = 2s;
  writer w{o};
  auto b = make_batch(3);
  auto out = w.write(b);
  EXPECT_EQ(out.status, write_status::retry);
  EXPECT_EQ(out.http_status, 0);
  EXPECT_EQ(b.size(), 3u);
  EXPECT_NE(out.message.find("influxdb sink \"influx-test\""), std::string::npos) << out.message;
  EXPECT_NE(out.message.find("http://127.0.0.1:" + std::to_string(port)), std::string::npos);
}

TEST(InfluxWriter, NotFoundIsPermanentAndKeepsTheBatch) {
  fake_http_server srv{[](const fake_request&) {
    return fake_response{404, {}, R"({"error":"database not found: \"db\""})"};
  }};
  writer w{v1_options(srv.url())};
  auto b = make_batch(3);
  auto out = w.write(b);
  EXPECT_EQ(out.status, write_status::permanent);
  EXPECT_TRUE(out.rejected.empty());
  EXPECT_EQ(b.size(), 3u);
  EXPECT_NE(out.message.find("database not found"), std::string::npos);
}

TEST(InfluxWriter, CredentialsNeverAppearInMessagesOrReasons) {
  const std::string password = "Pa55-w0rd!";
  const std::string token = "tok_Sup3rSecret";
  // A hostile server echoing the request back in its error texts.
  fake_http_server srv{[&](const fake_request& r) {
    std::string echo;
    for (auto& [k, v] : r.query)
      echo += k + "=" + v + " ";
    for (auto& [k, v] : r.headers)
      echo += k + ": " + v + " ";
    if (r.body.find("f=1i") != std::string::npos)
      return fake_response{400, {}, "{\"error\":\"unable to parse 'm f=1i 1': " + echo + "\"}"};
    return fake_response{401, {}, "{\"error\":\"authorization failed for " + echo + "\"}"};
  }};
  auto check = [&](const write_outcome& out) {
    std::string all = out.message;
    for (auto& r : out.rejected)
      all += r.reason;
    EXPECT_EQ(all.find(password), std::string::npos) << all;
    EXPECT_EQ(all.find(token), std::string::npos) << all;
    EXPECT_EQ(all.find("UGE1NS13MHJkIQ"), std::string::npos) << all; // base64 fragment
  };
  for (auto mode : {v1_auth_mode::basic, v1_auth_mode::query}) {
    auto o = v1_options(srv.url());
    o.username = "u";
    o.password = password;
    o.v1_auth = mode;
    writer w{o};
    auto b = make_batch(1);
    auto out = w.write(b);
    EXPECT_EQ(out.status, write_status::permanent);
    EXPECT_NE(out.message.find("authentication failed"), std::string::npos) << out.message;
    check(out);
    line_batch bad;
    bad.append_line("m f=1i 1");
    check(w.write(bad));
  }
  writer_options o;
  o.url = srv.url();
  o.api = api_version::v2;
  o.org = "o";
  o.bucket = "b";
  o.token = token;
  writer w{o};
  auto b = make_batch(1);
  check(w.write(b));
  EXPECT_EQ(w.redact("x " + token + " y"), "x *** y");
  // Credentials in the URL are refused without being repeated.
  try {
    writer bad{v1_options("http://u:" + password + "@127.0.0.1:1")};
    FAIL();
  } catch (const std::invalid_argument& e) {
    EXPECT_EQ(std::string{e.what()}.find(password), std::string::npos) << e.what();
    EXPECT_NE(std::string{e.what()}.find("http://127.0.0.1:1"), std::string::npos) << e.what();
  }
}

TEST(InfluxWriter, RejectsIncompleteOptions) {
  writer_options o;
  o.database = "";
  EXPECT_THROW(writer{o}, std::invalid_argument);
  o.api = api_version::v2;
  EXPECT_THROW(writer{o}, std::invalid_argument);
  o = {};
  o.database = "db";
  o.url = "ftp://host";
  EXPECT_THROW(writer{o}, std::invalid_argument);
}

TEST(InfluxWriter, BatchAlternatingBetweenContentAndServerErrorsIsGivenUpAfterLimit) {
  // Full batch: "partial write" naming no line; any smaller request: 500. Without a bound the
  // batch would cycle between isolation and retry forever.
  fake_http_server srv{[](const fake_request& r) {
    if (split_lines(r.body).size() == 8)
      return fake_response{
          400, {}, R"({"error":"partial write: points beyond retention policy dropped=1"})"};
    return fake_response{500, {}, R"({"error":"engine: unexpected failure"})"};
  }};
  auto o = v1_options(srv.url());
  o.max_server_errors = 2;
  writer w{o};
  auto b = make_batch(8);
  auto first = w.write(b);
  EXPECT_EQ(first.status, write_status::retry) << first.message;
  EXPECT_EQ(b.size(), 8u);
  auto second = w.write(b);
  EXPECT_EQ(second.status, write_status::permanent) << second.message;
  EXPECT_EQ(second.rejected.size(), 8u);
  EXPECT_TRUE(b.empty());
}

TEST(InfluxWriter, SubsetWhoseLinesWereAllDroppedIsRejectedWithoutFurtherRequests) {
  fake_http_server srv{[](const fake_request& r) {
    return fake_response{400,
                         {},
                         R"({"error":"partial write: points beyond retention policy dropped=)" +
                             std::to_string(split_lines(r.body).size()) + "\"}"};
  }};
  writer w{v1_options(srv.url())};
  auto b = make_batch(100);
  auto out = w.write(b);
  EXPECT_EQ(out.status, write_status::partial);
  EXPECT_EQ(out.requests, 1u);
  EXPECT_EQ(out.rejected.size(), 100u);
  EXPECT_EQ(out.written, 0u);
}
