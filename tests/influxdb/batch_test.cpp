#include "sinks/influxdb/backoff.hpp"
#include "sinks/influxdb/batch.hpp"
#include "sinks/influxdb/dead_letter.hpp"
#include "sinks/influxdb/writer.hpp"

#include "tests/support/support.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <sstream>
#include <thread>

using namespace std::chrono_literals;
using namespace wattline;
using namespace wattline::influxdb;

namespace {

struct fake_clock {
  batcher::clock::time_point now{};
  batcher::clock_fn fn() {
    return [this] { return now; };
  }
};

} // namespace

TEST(InfluxLineBatch, KeepsLineBoundariesEvenWithNewlinesInsideStrings) {
  line_batch b;
  b.append_line("m s=\"a\nb\" 1");
  b.append_line("m f=2 2\n");
  ASSERT_EQ(b.size(), 2u);
  EXPECT_EQ(b.line(0), "m s=\"a\nb\" 1");
  EXPECT_EQ(b.line(1), "m f=2 2");
  EXPECT_EQ(b.payload(), "m s=\"a\nb\" 1\nm f=2 2\n");
  EXPECT_EQ(b.bytes(), b.payload().size());
}

TEST(InfluxLineBatch, SplitsIntoHalvesAndSelectsLines) {
  line_batch b;
  for (int i = 0; i < 5; ++i)
    b.append_line("m f=" + std::to_string(i) + " " + std::to_string(i));
  auto [a, c] = b.split();
  EXPECT_EQ(a.size(), 3u);
  EXPECT_EQ(c.size(), 2u);
  EXPECT_EQ(c.line(0), "m f=3 3");
  auto s = b.select({4, 0});
  EXPECT_EQ(s.payload(), "m f=4 4\nm f=0 0\n");
}

TEST(InfluxBatcher, CompletesBatchAtMaxLines) {
  fake_clock clk;
  batcher bt{{.max_lines = 3, .max_bytes = 1 << 20, .interval = 1s}, clk.fn()};
  EXPECT_FALSE(bt.add_line("m f=1 1"));
  EXPECT_FALSE(bt.add_line("m f=2 2"));
  EXPECT_TRUE(bt.add_line("m f=3 3"));
  auto b = bt.take();
  EXPECT_EQ(b.size(), 3u);
  EXPECT_FALSE(bt.ready());
  EXPECT_EQ(bt.pending_lines(), 0u);
}

TEST(InfluxBatcher, NeverExceedsMaxBytesExceptForASingleLongLine) {
  fake_clock clk;
  batcher bt{{.max_lines = 100, .max_bytes = 20, .interval = 1s}, clk.fn()};
  EXPECT_FALSE(bt.add_line("m f=1 1")); // 8 bytes
  EXPECT_FALSE(bt.add_line("m f=2 2")); // 16 bytes
  EXPECT_TRUE(bt.add_line("m f=3 3"));  // would be 24: first two complete
  auto b = bt.take();
  EXPECT_EQ(b.size(), 2u);
  EXPECT_EQ(bt.pending_lines(), 1u);
  EXPECT_TRUE(bt.add_line("m,long=tag_value_longer f=1 1"));
  EXPECT_EQ(bt.take().size(), 1u); // "m f=3 3"
  EXPECT_EQ(bt.take().size(), 1u); // the long line alone
}

TEST(InfluxBatcher, CompletesPartialBatchWhenIntervalElapses) {
  fake_clock clk;
  batcher bt{{.max_lines = 5000, .max_bytes = 1 << 20, .interval = 1s}, clk.fn()};
  EXPECT_FALSE(bt.next_deadline());
  EXPECT_FALSE(bt.poll());
  bt.add_line("m f=1 1");
  ASSERT_TRUE(bt.next_deadline());
  EXPECT_EQ(*bt.next_deadline(), clk.now + 1s);
  clk.now += 999ms;
  bt.add_line("m f=2 2");
  EXPECT_FALSE(bt.poll());
  clk.now += 1ms;
  EXPECT_TRUE(bt.poll());
  EXPECT_EQ(bt.ready_lines(), 2u);
  EXPECT_EQ(bt.take().size(), 2u);
  EXPECT_FALSE(bt.next_deadline());
}

TEST(InfluxBatcher, EncodesRecordsAndFlushesOnDemand) {
  fake_clock clk;
  batcher bt{{}, clk.fn()};
  line_encoder enc;
  record r;
  r.name = "m";
  r.set_field("f", 1.5);
  r.time_ns = 7;
  EXPECT_FALSE(bt.add(enc, r));
  record empty;
  empty.name = "m";
  EXPECT_FALSE(bt.add(enc, empty));
  EXPECT_EQ(bt.pending_lines(), 1u);
  bt.flush();
  ASSERT_TRUE(bt.ready());
  EXPECT_EQ(bt.take().payload(), "m f=1.5 7\n");
}

TEST(InfluxBackoff, GrowsExponentiallyUpToTheCapWithFullJitter) {
  double r = 1.0;
  backoff b{{.initial = 100ms, .max = 1000ms, .multiplier = 2.0}, [&] { return r; }};
  EXPECT_EQ(b.next(), 100ms);
  EXPECT_EQ(b.next(), 200ms);
  EXPECT_EQ(b.next(), 400ms);
  EXPECT_EQ(b.next(), 800ms);
  EXPECT_EQ(b.next(), 1000ms);
  EXPECT_EQ(b.next(), 1000ms);
  r = 0.5;
  EXPECT_EQ(b.next(), 500ms);
  r = 0.0;
  EXPECT_EQ(b.next(), 0ms);
  b.reset();
  r = 0.5;
  EXPECT_EQ(b.next(), 50ms);
  EXPECT_EQ(b.attempts(), 1u);
}

TEST(InfluxBackoff, HonoursRetryAfterUpToItsLimit) {
  backoff b{{.initial = 100ms, .max = 1000ms, .multiplier = 2.0, .max_retry_after = 60s},
            [] { return 0.5; }};
  EXPECT_EQ(b.next(5s), 5s);
  EXPECT_EQ(b.next(3600s), 60s);
  EXPECT_EQ(b.next(1ms), 200ms);
}

TEST(InfluxBackoff, DefaultRandomSourceStaysWithinBounds) {
  backoff b{{.initial = 10ms, .max = 80ms}};
  for (int i = 0; i < 100; ++i) {
    auto bound = b.ceiling();
    auto d = b.next();
    EXPECT_GE(d, 0ms);
    EXPECT_LE(d, bound);
  }
}

TEST(InfluxDeadLetter, AppendsOneJsonObjectPerRejectedLine) {
  test::temp_dir dir;
  auto path = dir / "sub" / "dead.jsonl";
  {
    dead_letter_file f{{.path = path, .sink = "influx"}};
    f.append({{"m f=1i 1", "HTTP 400: partial write: field type conflict"},
              {"m s=\"a\nb\" 2", "why \"quoted\""}},
             "http://127.0.0.1:8086");
    EXPECT_EQ(f.entries(), 2u);
  }
  {
    dead_letter_file f{{.path = path, .sink = "influx"}};
    f.append(std::string{"bad \xff byte"}, "reason");
  }
  std::istringstream in(test::read_file(path));
  std::vector<nlohmann::json> entries;
  for (std::string line; std::getline(in, line);)
    entries.push_back(nlohmann::json::parse(line));
  ASSERT_EQ(entries.size(), 3u);
  EXPECT_EQ(entries[0]["line"], "m f=1i 1");
  EXPECT_EQ(entries[0]["reason"], "HTTP 400: partial write: field type conflict");
  EXPECT_EQ(entries[0]["sink"], "influx");
  EXPECT_EQ(entries[0]["url"], "http://127.0.0.1:8086");
  EXPECT_EQ(entries[1]["line"], "m s=\"a\nb\" 2");
  EXPECT_EQ(entries[1]["reason"], "why \"quoted\"");
  EXPECT_EQ(entries[2]["line"], "bad \xEF\xBF\xBD byte");
  std::string t = entries[0]["time"];
  EXPECT_EQ(t.size(), 30u);
  EXPECT_EQ(t.back(), 'Z');
}

TEST(InfluxDeadLetter, ConcurrentWritersNeverInterleaveEntries) {
  test::temp_dir dir;
  auto path = dir / "dead.jsonl";
  const std::string big(3000, 'x');
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&, t] {
      dead_letter_file f{{.path = path, .sink = "s" + std::to_string(t)}};
      for (int i = 0; i < 200; ++i)
        f.append(big + std::to_string(i), "r");
    });
  for (auto& th : threads)
    th.join();
  std::istringstream in(test::read_file(path));
  int n = 0;
  for (std::string line; std::getline(in, line); ++n)
    ASSERT_TRUE(nlohmann::json::accept(line)) << line.substr(0, 80);
  EXPECT_EQ(n, 800);
}

TEST(InfluxDeadLetter, ReportsUnwritablePathWithSinkName) {
  try {
    dead_letter_file f{{.path = "/proc/no/such/dir/dead.jsonl", .sink = "influx"}};
    FAIL() << "expected an error";
  } catch (const std::system_error& e) {
    EXPECT_NE(std::string{e.what()}.find("influx"), std::string::npos);
    EXPECT_NE(std::string{e.what()}.find("/proc/no/such/dir/dead.jsonl"), std::string::npos);
  }
}
