// The writer against a real InfluxDB 1.6.7 (`influxd` started by the harness on free loopback
// ports): data arrives exactly, poison lines are dead-lettered and the rest stored, outages give
// retry and lose or duplicate nothing, authentication errors are permanent and leak no password.

#include "sinks/influxdb/batch.hpp"
#include "sinks/influxdb/dead_letter.hpp"
#include "sinks/influxdb/line_protocol.hpp"
#include "sinks/influxdb/writer.hpp"

#include "tests/influxdb/influxd_server.hpp"
#include "tests/support/support.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <set>
#include <sstream>

using namespace std::chrono_literals;
using namespace wattline;
using namespace wattline::influxdb;
using wattline::test::influxd_server;

namespace {

class InfluxdTest : public ::testing::Test {
protected:
  static void SetUpTestSuite() { server_ = new influxd_server(); }
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
  }

  /// A database unique to the running test.
  static std::string db_name() {
    std::string n = ::testing::UnitTest::GetInstance()->current_test_info()->name();
    for (auto& c : n)
      c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return "db_" + n;
  }

  static writer_options options(const influxd_server& s, const std::string& db) {
    writer_options o;
    o.name = "influx-e2e";
    o.url = s.url();
    o.database = db;
    o.create_database = true;
    o.timeout = 10s;
    return o;
  }

  static influxd_server* server_;
};

influxd_server* InfluxdTest::server_ = nullptr;

} // namespace

TEST_F(InfluxdTest, HarnessRunsInfluxdOnLoopbackPortsAndAnswersQueries) {
  EXPECT_TRUE(server_->running());
  EXPECT_TRUE(test::tcp_port_open(server_->http_port()));
  EXPECT_TRUE(test::tcp_port_open(server_->rpc_port()));
  EXPECT_EQ(server_->url().rfind("http://127.0.0.1:", 0), 0u);
  server_->create_database("harness_check");
  auto json = server_->query("SHOW DATABASES");
  EXPECT_NE(json.dump().find("harness_check"), std::string::npos);
}

TEST_F(InfluxdTest, RecordsArriveWithExactValuesTypesAndTimestamps) {
  const std::string db = db_name();
  writer w{options(*server_, db)};
  ASSERT_EQ(w.setup().status, write_status::ok);
  line_encoder enc{w.matching_encoder_options()};
  const int n = 2000;
  const int64_t t0 = 1'700'000'000'000'000'000;
  line_batch batch;
  std::vector<record> records;
  for (int i = 0; i < n; ++i) {
    record r;
    r.name = "smart meter,1";
    r.set_tag("meter", "m " + std::to_string(i % 3));
    r.set_tag("site", "home=1");
    r.set_field("power", 1234.5 + i / 7.0);
    r.set_field("energy", int64_t{1'000'000'000'000} + i);
    r.set_field("counter", uint64_t{4'000'000'000ull} + static_cast<uint64_t>(i));
    r.set_field("ok", i % 2 == 0);
    r.set_field("note", std::string{"say \"hi\", C:\\dir\nline " + std::to_string(i)});
    r.set_field("nan", std::nan(""));
    r.time_ns = t0 + i * 1'000'000 + 123;
    ASSERT_TRUE(batch.append_record(enc, r));
    records.push_back(std::move(r));
  }
  auto out = w.write(batch);
  ASSERT_EQ(out.status, write_status::ok) << out.message;
  EXPECT_EQ(out.written, static_cast<size_t>(n));
  EXPECT_EQ(enc.stats().skipped_nonfinite_fields, static_cast<uint64_t>(n));

  auto series = server_->select("SELECT * FROM \"smart meter,1\" ORDER BY time", db);
  ASSERT_EQ(series.size(), 1u);
  const auto& s = series[0];
  ASSERT_EQ(s.values.size(), static_cast<size_t>(n));
  int c_time = s.column("time"), c_power = s.column("power"), c_energy = s.column("energy"),
      c_counter = s.column("counter"), c_ok = s.column("ok"), c_note = s.column("note"),
      c_meter = s.column("meter"), c_site = s.column("site");
  ASSERT_GE(c_note, 0);
  EXPECT_EQ(s.column("nan"), -1);
  for (int i = 0; i < n; ++i) {
    const auto& row = s.values[static_cast<size_t>(i)];
    const auto& r = records[static_cast<size_t>(i)];
    ASSERT_EQ(row[c_time].get<int64_t>(), r.time_ns);
    EXPECT_TRUE(row[c_power].is_number_float());
    EXPECT_EQ(row[c_power].get<double>(), std::get<double>(r.find_field("power")->value));
    EXPECT_TRUE(row[c_energy].is_number_integer());
    EXPECT_EQ(row[c_energy].get<int64_t>(), std::get<int64_t>(r.find_field("energy")->value));
    EXPECT_EQ(row[c_counter].get<uint64_t>(), std::get<uint64_t>(r.find_field("counter")->value));
    EXPECT_EQ(row[c_ok].get<bool>(), i % 2 == 0);
    EXPECT_EQ(row[c_note].get<std::string>(), std::get<std::string>(r.find_field("note")->value));
    EXPECT_EQ(row[c_meter].get<std::string>(), *r.tag("meter"));
    EXPECT_EQ(row[c_site].get<std::string>(), "home=1");
  }
  // Field types as the server recorded them.
  auto keys = server_->select("SHOW FIELD KEYS FROM \"smart meter,1\"", db);
  ASSERT_EQ(keys.size(), 1u);
  std::map<std::string, std::string> types;
  for (const auto& row : keys[0].values)
    types[row[0].get<std::string>()] = row[1].get<std::string>();
  EXPECT_EQ(types["power"], "float");
  EXPECT_EQ(types["energy"], "integer");
  EXPECT_EQ(types["counter"], "integer");
  EXPECT_EQ(types["ok"], "boolean");
  EXPECT_EQ(types["note"], "string");
}

TEST_F(InfluxdTest, SecondPrecisionAndGzipAreHonouredByTheServer) {
  const std::string db = db_name();
  auto o = options(*server_, db);
  o.time_precision = precision::s;
  o.gzip = true;
  writer w{o};
  ASSERT_EQ(w.setup().status, write_status::ok);
  line_encoder enc{w.matching_encoder_options()};
  line_batch b;
  record r;
  r.name = "m";
  r.set_field("v", 1.0);
  r.time_ns = 1'700'000'123'987'654'321;
  b.append_record(enc, r);
  ASSERT_EQ(w.write(b).status, write_status::ok);
  auto s = server_->select("SELECT v FROM m", db);
  ASSERT_EQ(s.size(), 1u);
  EXPECT_EQ(s[0].values.at(0).at(0).get<int64_t>(), 1'700'000'123'000'000'000);
}

TEST_F(InfluxdTest, FieldTypeConflictDeadLettersOnlyThatLineAndStoresTheOthers) {
  const std::string db = db_name();
  writer w{options(*server_, db)};
  ASSERT_EQ(w.setup().status, write_status::ok);
  line_batch first;
  first.append_line("power,meter=a p=1.5 1000");
  ASSERT_EQ(w.write(first).status, write_status::ok);

  line_batch b;
  for (int i = 0; i < 10; ++i)
    b.append_line("power,meter=a p=" + std::string(i == 4 ? "7i" : std::to_string(i) + ".25") +
                  " " + std::to_string(2000 + i));
  auto out = w.write(b);
  ASSERT_EQ(out.status, write_status::partial) << out.message;
  EXPECT_EQ(out.http_status, 400);
  EXPECT_EQ(out.requests, 1u);
  EXPECT_EQ(out.written, 9u);
  ASSERT_EQ(out.rejected.size(), 1u);
  EXPECT_EQ(out.rejected[0].line, "power,meter=a p=7i 2004");
  // The server's own words (InfluxDB 1.6.7).
  EXPECT_EQ(out.rejected[0].reason,
            "HTTP 400: partial write: field type conflict: input field \"p\" on measurement "
            "\"power\" is type integer, already exists as type float dropped=1");

  test::temp_dir dir;
  dead_letter_file dlq{{.path = dir / "dead.jsonl", .sink = "influx-e2e"}};
  dlq.append(out.rejected, w.display_url());
  auto entry = nlohmann::json::parse(test::read_file(dir / "dead.jsonl"));
  EXPECT_EQ(entry["line"], "power,meter=a p=7i 2004");
  EXPECT_NE(entry["reason"].get<std::string>().find("field type conflict"), std::string::npos);

  EXPECT_EQ(server_->count(db, "power", "p"), 10);
  auto s = server_->select("SELECT p FROM power WHERE time = 2004", db);
  EXPECT_TRUE(s.empty());
}

TEST_F(InfluxdTest, UnparsableLinesAreRejectedWithTheServerMessageAndTheRestStored) {
  const std::string db = db_name();
  writer w{options(*server_, db)};
  ASSERT_EQ(w.setup().status, write_status::ok);
  line_batch b;
  b.append_line("m f=1 1");
  b.append_line("m f= 2");
  b.append_line("m f=3 3");
  b.append_line("bad line here");
  b.append_line("m f=5u 5"); // 1.6.7 has no unsigned support
  auto out = w.write(b);
  ASSERT_EQ(out.status, write_status::partial) << out.message;
  EXPECT_EQ(out.requests, 1u);
  std::map<std::string, std::string> rejected;
  for (auto& r : out.rejected)
    rejected[r.line] = r.reason;
  ASSERT_EQ(rejected.size(), 3u);
  EXPECT_EQ(rejected["m f= 2"], "HTTP 400: unable to parse 'm f= 2': missing field value");
  EXPECT_EQ(rejected["bad line here"],
            "HTTP 400: unable to parse 'bad line here': invalid field format");
  EXPECT_EQ(rejected["m f=5u 5"], "HTTP 400: unable to parse 'm f=5u 5': invalid number");
  EXPECT_EQ(server_->count(db, "m", "f"), 2);

  // A batch where nothing parses: the whole request fails without "partial write".
  line_batch all_bad;
  all_bad.append_line("m f= 9");
  out = w.write(all_bad);
  EXPECT_EQ(out.status, write_status::partial);
  ASSERT_EQ(out.rejected.size(), 1u);
  EXPECT_EQ(out.written, 0u);
}

TEST_F(InfluxdTest, PointsBeyondRetentionAreIsolatedAndOnlyTheyRejected) {
  const std::string db = db_name();
  auto o = options(*server_, db);
  o.retention_policy = "short";
  o.retention_duration = "1h";
  o.time_precision = precision::s;
  writer w{o};
  ASSERT_EQ(w.setup().status, write_status::ok) << w.setup().message;
  const int64_t now = std::chrono::duration_cast<std::chrono::seconds>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count();
  line_batch b;
  std::set<std::string> old;
  for (int i = 0; i < 100; ++i) {
    bool is_old = i == 17 || i == 63 || i == 64;
    std::string l = "m f=" + std::to_string(i) + " " +
                    std::to_string(is_old ? now - 86'400 * 30 - i : now - 100 + i);
    if (is_old)
      old.insert(l);
    b.append_line(l);
  }
  auto out = w.write(b);
  ASSERT_EQ(out.status, write_status::partial) << out.message;
  std::set<std::string> rejected;
  for (auto& r : out.rejected) {
    rejected.insert(r.line);
    EXPECT_NE(r.reason.find("points beyond retention policy"), std::string::npos) << r.reason;
  }
  EXPECT_EQ(rejected, old);
  EXPECT_EQ(out.written, 97u);
  auto s = server_->select("SELECT COUNT(f) FROM \"short\".m", db);
  ASSERT_EQ(s.size(), 1u);
  EXPECT_EQ(s[0].values.at(0).at(1).get<int64_t>(), 97);
}

TEST_F(InfluxdTest, SetupCreatesDatabaseAndRetentionPolicyIdempotently) {
  const std::string db = db_name();
  auto o = options(*server_, db);
  o.retention_policy = "plc_7d";
  o.retention_duration = "7d";
  writer w{o};
  auto first = w.setup();
  ASSERT_EQ(first.status, write_status::ok) << first.message;
  ASSERT_EQ(w.setup().status, write_status::ok);
  auto rps = server_->select("SHOW RETENTION POLICIES ON " + db, "");
  ASSERT_EQ(rps.size(), 1u);
  bool found = false;
  for (const auto& row : rps[0].values)
    if (row[0] == "plc_7d") {
      found = true;
      EXPECT_EQ(row[1], "168h0m0s");
    }
  EXPECT_TRUE(found);
  // A changed duration alters the existing policy.
  o.retention_duration = "14d";
  writer w2{o};
  ASSERT_EQ(w2.setup().status, write_status::ok);
  rps = server_->select("SHOW RETENTION POLICIES ON " + db, "");
  for (const auto& row : rps[0].values) {
    if (row[0] == "plc_7d") {
      EXPECT_EQ(row[1], "336h0m0s");
    }
  }
  line_batch b;
  b.append_line("m f=1");
  EXPECT_EQ(w.write(b).status, write_status::ok);
}

TEST_F(InfluxdTest, MissingDatabaseIsPermanentAndNamesIt) {
  auto o = options(*server_, "no_such_db");
  writer w{o};
  line_batch b;
  b.append_line("m f=1 1");
  auto out = w.write(b);
  EXPECT_EQ(out.status, write_status::permanent);
  EXPECT_EQ(out.http_status, 404);
  EXPECT_NE(out.message.find("database not found"), std::string::npos) << out.message;
  EXPECT_NE(out.message.find("no_such_db"), std::string::npos) << out.message;
  EXPECT_EQ(b.size(), 1u);
}

TEST(InfluxdOutage, StoppedServerGivesRetryAndAfterRestartNothingIsLostOrDuplicated) {
  influxd_server db;
  writer_options o;
  o.name = "influx-outage";
  o.url = db.url();
  o.database = "outage";
  o.create_database = true;
  o.timeout = 10s;
  o.connect_timeout = 2s;
  writer w{o};
  ASSERT_EQ(w.setup().status, write_status::ok);
  line_encoder enc{w.matching_encoder_options()};
  const int batches = 20, per_batch = 250;
  int retries_seen = 0;
  for (int bi = 0; bi < batches; ++bi) {
    line_batch b;
    for (int i = 0; i < per_batch; ++i) {
      record r;
      r.name = "meter";
      r.set_tag("id", "m1");
      int seq = bi * per_batch + i;
      r.set_field("seq", int64_t{seq});
      r.set_field("p", seq * 0.5);
      r.time_ns = 1'700'000'000'000'000'000 + int64_t{seq} * 1'000'000;
      b.append_record(enc, r);
    }
    if (bi == 6)
      db.stop(); // graceful stop mid-stream
    if (bi == 13)
      db.kill(); // crash mid-stream
    int attempts = 0;
    for (;;) {
      auto out = w.write(b);
      ASSERT_TRUE(out.rejected.empty()) << out.message;
      if (out.status == write_status::ok)
        break;
      ASSERT_EQ(out.status, write_status::retry) << out.message;
      EXPECT_EQ(out.http_status, 0);
      EXPECT_NE(out.message.find(db.url()), std::string::npos) << out.message;
      EXPECT_EQ(b.size(), static_cast<size_t>(per_batch)); // nothing dropped from the batch
      ++retries_seen;
      ASSERT_LT(++attempts, 5);
      if (!db.running())
        db.start(); // same ports, same data directory
    }
  }
  EXPECT_GE(retries_seen, 2);
  auto s = db.select("SELECT seq FROM meter ORDER BY time", "outage");
  ASSERT_EQ(s.size(), 1u);
  ASSERT_EQ(s[0].values.size(), static_cast<size_t>(batches * per_batch));
  for (size_t i = 0; i < s[0].values.size(); ++i)
    ASSERT_EQ(s[0].values[i][1].get<int64_t>(), static_cast<int64_t>(i));
  EXPECT_EQ(db.count("outage", "meter", "p"), batches * per_batch);
}

TEST(InfluxdAuth, WrongPasswordIsAClearPermanentErrorWithoutThePassword) {
  test::influxd_options io;
  io.auth_enabled = true;
  io.admin_password = "right-Pa55";
  influxd_server db{io};
  db.create_database("secured");

  const std::string wrong = "wr0ng-Pa55word";
  for (auto mode : {v1_auth_mode::basic, v1_auth_mode::query}) {
    writer_options o;
    o.name = "influx-auth";
    o.url = db.url();
    o.database = "secured";
    o.username = io.admin_user;
    o.password = wrong;
    o.v1_auth = mode;
    o.create_database = true;
    writer w{o};
    line_batch b;
    b.append_line("m f=1 1");
    auto out = w.write(b);
    EXPECT_EQ(out.status, write_status::permanent);
    EXPECT_EQ(out.http_status, 401);
    EXPECT_NE(out.message.find("authentication failed"), std::string::npos) << out.message;
    EXPECT_NE(out.message.find("influx-auth"), std::string::npos) << out.message;
    EXPECT_NE(out.message.find(db.url()), std::string::npos) << out.message;
    EXPECT_EQ(out.message.find(wrong), std::string::npos) << out.message;
    EXPECT_EQ(b.size(), 1u);
    auto setup = w.setup();
    EXPECT_EQ(setup.status, write_status::permanent);
    EXPECT_EQ(setup.message.find(wrong), std::string::npos) << setup.message;

    o.password = io.admin_password;
    writer ok{o};
    EXPECT_EQ(ok.write(b).status, write_status::ok);
  }
  EXPECT_EQ(db.count("secured", "m", "f"), 1);
}

TEST(InfluxdTls, VerifiesCertificatesByDefaultAndTrustsAGivenCaOrSkipsWhenTold) {
  test::influxd_options io;
  io.https = true;
  influxd_server db{io};
  ASSERT_EQ(db.url().rfind("https://127.0.0.1:", 0), 0u);
  db.create_database("tls");
  writer_options o;
  o.name = "influx-tls";
  o.url = db.url();
  o.database = "tls";
  o.connect_timeout = 5s;
  {
    writer w{o}; // verification on: the self-signed certificate is refused
    line_batch b;
    b.append_line("m f=1 1");
    auto out = w.write(b);
    EXPECT_EQ(out.status, write_status::permanent) << out.message;
    EXPECT_EQ(out.http_status, 0);
    EXPECT_NE(out.message.find("certificate"), std::string::npos) << out.message;
    EXPECT_EQ(b.size(), 1u);
  }
  {
    auto with_ca = o;
    with_ca.ca_file = db.ca_file().string();
    writer w{with_ca};
    line_batch b;
    b.append_line("m f=1 1");
    auto out = w.write(b);
    EXPECT_EQ(out.status, write_status::ok) << out.message;
  }
  {
    auto insecure = o;
    insecure.insecure_skip_verify = true;
    writer w{insecure};
    line_batch b;
    b.append_line("m f=2 2");
    auto out = w.write(b);
    EXPECT_EQ(out.status, write_status::ok) << out.message;
  }
  EXPECT_EQ(db.count("tls", "m", "f"), 2);
}
