// The `influxdb` sink through the real `wattline` binary against a real influxd 1.6.7 on
// 127.0.0.1: exact values, types and timestamps; an influxd outage mid-stream without loss or
// duplicates; kill -9 of the engine with a disk buffer; a type-conflict line dead-lettered while
// the rest is written; wrong password and unreachable server reported without secrets; a down
// InfluxDB never stalling a file sink fed by the same source; the shipped pipeline validates.
// Every wait is a condition with a deadline.

#include "tests/influxdb/fake_http_server.hpp"
#include "tests/influxdb/influxd_server.hpp"
#include "tests/support/support.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <csignal>
#include <fstream>
#include <iomanip>
#include <regex>
#include <set>
#include <sstream>

namespace wattline::test {
namespace {

const std::string wattline_bin = std::string(WATTLINE_BINARY_DIR) + "/wattline";
constexpr int64_t base_ns = 1'772'323'200'000'000'000; // 2026-03-01T00:00:00Z

/// Writes `n` jsonl records of measurement `power` with distinct nanosecond timestamps and one
/// field of each type: seq (integer), watts (float, seq + 0.25), on (bool), state (string).
void write_records(const std::filesystem::path& p, int n) {
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  for (int i = 0; i < n; ++i)
    out << R"({"name":"power","time":)" << (base_ns + int64_t{i} * 1000 + 7)
        << R"(,"tags":{"meter":"m1"},"fields":{"seq":)" << i << R"(,"watts":)" << i << ".25"
        << R"(,"on":)" << (i % 2 == 0 ? "true" : "false") << R"(,"state":"s)" << i << "\"}}\n";
}

/// Total size of the files below `dir` (0 when missing).
uint64_t dir_bytes(const std::filesystem::path& dir) {
  std::error_code ec;
  uint64_t n = 0;
  for (auto it = std::filesystem::recursive_directory_iterator(dir, ec);
       !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec))
    if (it->is_regular_file())
      n += it->file_size();
  return n;
}

class InfluxdbSink : public ::testing::Test, protected pipeline_fixture {
protected:
  /// An influxdb sink named `isink` fed by `in`; `extra` lines are indented options.
  static std::string influx_sink(const influxd_server& db, const std::string& extra = {},
                                 bool create_database = true) {
    return "  isink:\n    type: influxdb\n    inputs: [in]\n    url: " + db.url() +
           "\n    database: meters\n    max_lines: 500\n    interval_ms: 50\n"
           "    retry_initial_ms: 50\n    retry_max_ms: 500\n    timeout_secs: 5\n" +
           (create_database ? "    create_database: true\n" : "") + extra;
  }
};

TEST_F(InfluxdbSink, RecordsFromFileSourceArriveWithExactValuesTypesAndTimestamps) {
  influxd_server db;
  constexpr int n = 20000;
  write_records(dir / "in.jsonl", n);
  auto proc = run(source(dir / "in.jsonl") + "sinks:\n" + influx_sink(db));
  ASSERT_EQ(proc->wait(std::chrono::seconds(60)), 0) << proc->log();
  ASSERT_EQ(db.count("meters", "power", "seq"), n) << proc->log();

  auto types = db.query("SHOW FIELD KEYS FROM power", "meters");
  std::map<std::string, std::string> field_types;
  for (const auto& row : types["results"][0]["series"][0]["values"])
    field_types[row[0].get<std::string>()] = row[1].get<std::string>();
  EXPECT_EQ(field_types["seq"], "integer");
  EXPECT_EQ(field_types["watts"], "float");
  EXPECT_EQ(field_types["on"], "boolean");
  EXPECT_EQ(field_types["state"], "string");

  auto series = db.select("SELECT seq, watts, \"on\", state, meter FROM power", "meters");
  ASSERT_EQ(series.size(), 1u);
  const auto& s = series[0];
  ASSERT_EQ(s.values.size(), static_cast<std::size_t>(n));
  int ct = s.column("time"), cseq = s.column("seq"), cw = s.column("watts"), con = s.column("on"),
      cs = s.column("state"), cm = s.column("meter");
  for (int i = 0; i < n; ++i) {
    const auto& row = s.values[static_cast<std::size_t>(i)];
    ASSERT_EQ(row[ct].get<int64_t>(), base_ns + int64_t{i} * 1000 + 7) << "row " << i;
    ASSERT_EQ(row[cseq].get<int64_t>(), i);
    ASSERT_EQ(row[cw].get<double>(), i + 0.25);
    ASSERT_EQ(row[con].get<bool>(), i % 2 == 0);
    ASSERT_EQ(row[cs].get<std::string>(), "s" + std::to_string(i));
    ASSERT_EQ(row[cm].get<std::string>(), "m1");
  }
}

TEST_F(InfluxdbSink, InfluxdStoppedMidStreamLosesAndDuplicatesNothing) {
  influxd_server db;
  constexpr int n = 3000;
  write_records(dir / "in.jsonl", n);
  // ~150 bytes a record at 100 kB/s: about 4.5 s of input, so the outage hits mid-stream.
  auto proc = run(source(dir / "in.jsonl", "    pacing: 1000000 baud\n    batch_size: 50\n") +
                  "sinks:\n" + influx_sink(db, "    drain_timeout_secs: 60\n"));
  ASSERT_TRUE(wait_until(
      [&] {
        try {
          return db.count("meters", "power", "seq") > 300;
        } catch (const std::exception&) {
          return false;
        }
      },
      std::chrono::seconds(30), std::chrono::milliseconds(50)))
      << proc->log();
  db.stop();
  ASSERT_TRUE(wait_until([&] { return proc->log().find("retry in") != std::string::npos; },
                         std::chrono::seconds(20)))
      << proc->log();
  db.start();
  ASSERT_EQ(proc->wait(std::chrono::seconds(90)), 0) << proc->log();
  EXPECT_EQ(db.count("meters", "power", "seq"), n) << proc->log();
  // Every seq exactly once: the sum of 0..n-1, and the count above.
  auto sum = db.query("SELECT SUM(seq) FROM power", "meters");
  EXPECT_EQ(sum["results"][0]["series"][0]["values"][0][1].get<int64_t>(),
            int64_t{n} * (n - 1) / 2);
  EXPECT_NE(proc->log().find("writing again"), std::string::npos) << proc->log();
}

TEST_F(InfluxdbSink, SigkillWithDiskBufferDeliversEverythingAfterRestart) {
  influxd_server db;
  db.create_database("meters");
  db.stop();
  constexpr int n = 5000;
  write_records(dir / "in.jsonl", n);
  const std::string sink =
      influx_sink(db, "    drain_timeout_secs: 60\n    buffer: { type: disk }\n");
  auto first = run(source(dir / "in.jsonl") + "sinks:\n" + sink);
  // The sink has every record in its disk buffer once its input ended.
  ASSERT_TRUE(wait_until([&] { return first->log().find("end of input") != std::string::npos; },
                         std::chrono::seconds(30)))
      << first->log();
  EXPECT_GT(dir_bytes(dir / "data" / "buffers" / "isink"), uint64_t{n} * 50);
  first->signal(SIGKILL);
  first->wait(std::chrono::seconds(10));

  db.start();
  write_file(dir / "empty.jsonl", "");
  auto second = run(source(dir / "empty.jsonl") + "sinks:\n" + sink);
  ASSERT_EQ(second->wait(std::chrono::seconds(60)), 0) << second->log();
  EXPECT_NE(second->log().find(std::to_string(n) + " records from before the last stop"),
            std::string::npos)
      << second->log();
  EXPECT_EQ(db.count("meters", "power", "seq"), n) << second->log();
  auto sum = db.query("SELECT SUM(seq) FROM power", "meters");
  EXPECT_EQ(sum["results"][0]["series"][0]["values"][0][1].get<int64_t>(),
            int64_t{n} * (n - 1) / 2);
}

TEST_F(InfluxdbSink, SigtermWithInfluxdDownKeepsDiskBufferForNextStart) {
  influxd_server db;
  db.create_database("meters");
  db.stop();
  write_records(dir / "in.jsonl", 100000);
  const std::string sink =
      influx_sink(db, "    drain_timeout_secs: 1\n    buffer: { type: disk }\n", false);
  auto first = run(source(dir / "in.jsonl", "    pacing: 1000000 baud\n    batch_size: 50\n") +
                   "sinks:\n" + sink);
  ASSERT_TRUE(wait_until([&] { return first->log().find("retry in") != std::string::npos; },
                         std::chrono::seconds(20)))
      << first->log();
  first->signal(SIGTERM);
  ASSERT_EQ(first->wait(std::chrono::seconds(20)), 0) << first->log();
  auto log = first->log();
  EXPECT_NE(log.find("kept in the disk buffer for the next start"), std::string::npos) << log;
  std::smatch m;
  ASSERT_TRUE(std::regex_search(log, m, std::regex(R"(summary: node=in .*records_out=(\d+))")))
      << log;
  const long emitted = std::stol(m[1]);
  ASSERT_GT(emitted, 0);
  ASSERT_LT(emitted, 100000);

  db.start();
  write_file(dir / "empty.jsonl", "");
  auto second = run(source(dir / "empty.jsonl") + "sinks:\n" + sink);
  ASSERT_EQ(second->wait(std::chrono::seconds(30)), 0) << second->log();
  EXPECT_EQ(db.count("meters", "power", "seq"), emitted) << second->log();
}

TEST_F(InfluxdbSink, FieldTypeConflictLineIsDeadLetteredOthersWritten) {
  influxd_server db;
  db.create_database("meters");
  // `state` is an integer field in this shard before the sink writes strings... for one record.
  auto pre = http_post(db.url() + "/write?db=meters&precision=n",
                       "power,meter=m1 level=1i " + std::to_string(base_ns - 1000));
  ASSERT_EQ(pre.status, 204) << pre.body;
  std::ofstream out(dir / "in.jsonl");
  for (int i = 0; i < 10; ++i) {
    out << R"({"name":"power","time":)" << (base_ns + i) << R"(,"tags":{"meter":"m1"},)"
        << R"("fields":{"seq":)" << i;
    if (i == 5)
      out << R"(,"level":"high")";
    out << "}}\n";
  }
  out.close();
  auto dl = dir / "dead.jsonl";
  auto proc = run(source(dir / "in.jsonl") + "sinks:\n" +
                  influx_sink(db, "    dead_letter_path: " + dl.string() + "\n"));
  ASSERT_EQ(proc->wait(std::chrono::seconds(60)), 0) << proc->log();
  EXPECT_EQ(db.count("meters", "power", "seq"), 9);
  auto dead = read_file(dl);
  EXPECT_EQ(count_lines(dl), 1u) << dead;
  EXPECT_NE(dead.find("field type conflict"), std::string::npos) << dead;
  EXPECT_NE(dead.find("seq=5i"), std::string::npos) << dead;
  EXPECT_NE(dead.find(R"("sink":"isink")"), std::string::npos) << dead;
  EXPECT_NE(proc->log().find("dead-letter"), std::string::npos) << proc->log();
}

TEST_F(InfluxdbSink, WrongPasswordIsReportedNamingTheSinkWithoutThePassword) {
  influxd_options o;
  o.auth_enabled = true;
  influxd_server db{o};
  db.create_database("meters");
  write_records(dir / "in.jsonl", 10);
  const std::string secret = "Wr0ng-S3cret-pw";
  auto proc = run(source(dir / "in.jsonl") + "sinks:\n" +
                      influx_sink(db,
                                  "    username: admin\n    password: ${INFLUX_PW}\n"
                                  "    drain_timeout_secs: 2\n",
                                  false),
                  {"INFLUX_PW=" + secret});
  ASSERT_EQ(proc->wait(std::chrono::seconds(30)), 0) << proc->log();
  auto log = proc->log();
  EXPECT_NE(log.find("influxdb sink \"isink\""), std::string::npos) << log;
  EXPECT_NE(log.find("authentication failed"), std::string::npos) << log;
  EXPECT_EQ(log.find(secret), std::string::npos) << log;
  EXPECT_NE(log.find("dropped 10 records"), std::string::npos) << log;
}

TEST_F(InfluxdbSink, UnreachableServerIsReportedNamingTheSinkWithoutCrashing) {
  write_records(dir / "in.jsonl", 10);
  const int port = free_tcp_port();
  auto proc = run(source(dir / "in.jsonl") +
                      "sinks:\n  isink:\n    type: influxdb\n    inputs: [in]\n"
                      "    url: http://127.0.0.1:" +
                      std::to_string(port) +
                      "\n    database: meters\n    username: u\n    password: ${INFLUX_PW}\n"
                      "    retry_max_ms: 200\n    drain_timeout_secs: 2\n",
                  {"INFLUX_PW=pw-not-in-logs"});
  ASSERT_EQ(proc->wait(std::chrono::seconds(30)), 0) << proc->log();
  auto log = proc->log();
  EXPECT_NE(log.find("influxdb sink \"isink\" (http://127.0.0.1:" + std::to_string(port) +
                     "): request failed"),
            std::string::npos)
      << log;
  EXPECT_EQ(log.find("pw-not-in-logs"), std::string::npos) << log;
}

TEST_F(InfluxdbSink, DownSinkWithDropOldestOrDiskBufferNeverStallsFileSink) {
  influxd_server db;
  db.stop();
  constexpr int n = 30000;
  write_records(dir / "in.jsonl", n);
  int runs = 0;
  for (std::string buffer :
       {"{ type: memory, max_bytes: 65536, when_full: drop_oldest }",
        "{ type: disk, max_bytes: 1048576, when_full: drop_oldest }", "{ type: disk }"}) {
    SCOPED_TRACE(buffer);
    auto out = dir / ("out" + std::to_string(++runs) + ".jsonl");
    auto proc =
        run(source(dir / "in.jsonl") + "sinks:\n" +
            influx_sink(db, "    drain_timeout_secs: 1\n    buffer: " + buffer + "\n") +
            "  archive:\n    type: file\n    inputs: [in]\n    path: " + out.string() + "\n");
    EXPECT_TRUE(wait_until([&] { return count_lines(out) == static_cast<std::size_t>(n); },
                           std::chrono::seconds(30)))
        << count_lines(out) << " lines\n"
        << proc->log();
    EXPECT_EQ(proc->wait(std::chrono::seconds(30)), 0) << proc->log();
    // At the end the memory buffer counts what it could not deliver; the disk buffer keeps it.
    if (buffer.find("memory") != std::string::npos)
      EXPECT_NE(proc->log().find("not delivered within drain_timeout_secs are lost"),
                std::string::npos)
          << proc->log();
    else
      EXPECT_NE(proc->log().find("kept in the disk buffer for the next start"), std::string::npos)
          << proc->log();
    std::filesystem::remove_all(dir / "data");
  }
}

TEST_F(InfluxdbSink, BlockPolicyHoldsInputWhileDownThenDeliversEverything) {
  influxd_server db;
  db.create_database("meters");
  db.stop();
  constexpr int n = 5000;
  write_records(dir / "in.jsonl", n);
  // 64 KiB of buffer holds a few hundred records: the rest waits upstream, nothing is dropped.
  auto proc = run(source(dir / "in.jsonl", "    batch_size: 100\n") + "sinks:\n" +
                  influx_sink(db,
                              "    drain_timeout_secs: 60\n"
                              "    buffer: { type: memory, max_bytes: 65536, when_full: block }\n",
                              false));
  ASSERT_TRUE(wait_until([&] { return proc->log().find("retry in") != std::string::npos; },
                         std::chrono::seconds(20)))
      << proc->log();
  EXPECT_TRUE(proc->running());
  db.start();
  ASSERT_EQ(proc->wait(std::chrono::seconds(60)), 0) << proc->log();
  EXPECT_EQ(db.count("meters", "power", "seq"), n) << proc->log();
  std::smatch m;
  auto log = proc->log();
  ASSERT_TRUE(std::regex_search(
      log, m, std::regex(R"(summary: node=isink records_in=(\d+) .* dropped=(\d+))")))
      << log;
  EXPECT_EQ(m[1].str(), std::to_string(n));
  EXPECT_EQ(m[2].str(), "0");
}

TEST_F(InfluxdbSink, V2ApiSendsTokenAndGzipRetries503AndSplits413) {
  // influxd 1.6.7 has no v2 API: a scripted server answers 503, then 413, then 204.
  std::atomic<int> calls{0};
  fake_http_server server([&](const fake_request&) {
    int i = calls++;
    if (i == 0)
      return fake_response{503, {}, R"({"message":"unavailable"})"};
    if (i == 1)
      return fake_response{413, {}, R"({"message":"request too large"})"};
    return fake_response{204, {}, ""};
  });
  constexpr int n = 10;
  write_records(dir / "in.jsonl", n);
  auto proc =
      run(source(dir / "in.jsonl") +
              "sinks:\n  isink:\n    type: influxdb\n    inputs: [in]\n    url: " + server.url() +
              "\n    api: v2\n    org: home\n    bucket: meters\n    token: ${TOKEN}\n"
              "    gzip: true\n    retry_initial_ms: 50\n    retry_max_ms: 200\n",
          {"TOKEN=tok-Secret-123"});
  ASSERT_EQ(proc->wait(std::chrono::seconds(30)), 0) << proc->log();
  auto reqs = server.requests();
  ASSERT_EQ(reqs.size(), 4u) << proc->log(); // 503, 413, then the two halves
  std::multiset<std::string> stored;
  for (std::size_t i = 0; i < reqs.size(); ++i) {
    const auto& r = reqs[i];
    EXPECT_EQ(r.path, "/api/v2/write");
    EXPECT_EQ(r.query.at("org"), "home");
    EXPECT_EQ(r.query.at("bucket"), "meters");
    EXPECT_EQ(r.query.at("precision"), "ns");
    EXPECT_EQ(r.headers.at("authorization"), "Token tok-Secret-123");
    EXPECT_EQ(r.headers.at("content-encoding"), "gzip");
    if (i >= 2) {
      std::istringstream body(r.decoded_body());
      for (std::string line; std::getline(body, line);)
        stored.insert(line);
    }
  }
  EXPECT_EQ(stored.size(), static_cast<std::size_t>(n));
  EXPECT_EQ(std::set<std::string>(stored.begin(), stored.end()).size(), stored.size());
  EXPECT_EQ(proc->log().find("tok-Secret-123"), std::string::npos) << proc->log();
}

TEST_F(InfluxdbSink, ShippedPipelineValidatesWithVariablesSet) {
  auto key =
      read_file(std::filesystem::path(WATTLINE_SOURCE_DIR) / "examples/captures/demo-lge450.key");
  auto auth = read_file(std::filesystem::path(WATTLINE_SOURCE_DIR) /
                        "examples/captures/demo-lge450.auth_key");
  auto trim = [](std::string s) {
    while (!s.empty() && (s.back() == '\n' || s.back() == ' '))
      s.pop_back();
    return s;
  };
  child_process proc({wattline_bin, "validate",
                      std::string(WATTLINE_SOURCE_DIR) + "/pipelines/smartmeter-influxdb.yaml"},
                     dir / "validate.log",
                     {"METER_DEVICE=/dev/ttyUSB0", "METER_KEY=" + trim(key),
                      "METER_AUTH_KEY=" + trim(auth), "INFLUX_URL=http://127.0.0.1:8086",
                      "INFLUX_PASSWORD=secret"});
  EXPECT_EQ(proc.wait(std::chrono::seconds(30)), 0) << proc.log();
  child_process missing({wattline_bin, "validate",
                         std::string(WATTLINE_SOURCE_DIR) + "/pipelines/smartmeter-influxdb.yaml"},
                        dir / "missing.log");
  EXPECT_EQ(missing.wait(std::chrono::seconds(30)), 78) << missing.log();
  EXPECT_NE(missing.log().find("INFLUX_PASSWORD"), std::string::npos) << missing.log();
}

} // namespace
} // namespace wattline::test
