#include "actors/serial/devices.hpp"

#include "tests/serial/collector.hpp"
#include "tests/serial/pty_pair.hpp"
#include "tests/support/support.hpp"

#include <ctime>
#include <gtest/gtest.h>

using namespace std::chrono_literals;
using namespace wattline::serial;
using wattline::test::collector;
using wattline::test::pty_pair;
using wattline::test::random_bytes;
using wattline::test::temp_dir;

namespace {

std::string by_id(const temp_dir& dir) {
  return (dir / "serial/by-id/usb-Fake_Meter_Converter_0001-if00-port0").string();
}

serial_device_options device_at(const std::string& path) {
  serial_device_options d;
  d.path = path;
  d.settings = find_profile("lge450")->settings;
  return d;
}

bool has_state(collector& c, source_state s, size_t at_least = 1) {
  return c.count_locked(s) >= at_least;
}

double process_cpu_seconds() {
  timespec ts{};
  ::clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

} // namespace

TEST(SerialReader, RandomChunksArriveCompleteAndInOrder) {
  temp_dir dir;
  pty_pair pty(by_id(dir));
  collector c;
  auto reader = make_serial_reader(device_at(pty.path()), {}, c.callbacks());
  reader->start();
  ASSERT_TRUE(c.wait([&] { return has_state(c, source_state::open); }));

  auto data = random_bytes(20000, 7);
  ASSERT_TRUE(pty.write_paced(data, 97, 100us, 3));
  ASSERT_TRUE(c.wait([&] { return c.bytes.size() >= data.size(); }, 10s))
      << c.byte_count() << " of " << data.size();
  reader->stop();
  reader->join();

  std::lock_guard<std::mutex> guard(c.mutex);
  EXPECT_EQ(c.bytes, data);
  ASSERT_FALSE(c.chunks.empty());
  auto now_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                    std::chrono::system_clock::now().time_since_epoch())
                    .count();
  int64_t previous = 0;
  for (const auto& ch : c.chunks) {
    EXPECT_EQ(ch.origin, pty.path());
    EXPECT_FALSE(ch.bytes.empty());
    EXPECT_GE(ch.time_ns, previous);
    EXPECT_LE(ch.time_ns, now_ns);
    EXPECT_GT(ch.time_ns, now_ns - int64_t{60'000'000'000});
    previous = ch.time_ns;
  }
  // Reports: connecting, open(endpoint = the real pts node), stopped.
  ASSERT_GE(c.statuses.size(), 3u);
  EXPECT_EQ(c.statuses.front().state, source_state::connecting);
  EXPECT_EQ(c.statuses[1].state, source_state::open);
  EXPECT_EQ(c.statuses[1].endpoint, pty.slave_path());
  EXPECT_EQ(c.statuses.back().state, source_state::stopped);
  EXPECT_EQ(c.statuses.back().bytes, data.size());
}

TEST(SerialReader, UnplugReportsWaitingForDeviceAndReplugRecoversWithinTwoSeconds) {
  temp_dir dir;
  pty_pair pty(by_id(dir));
  collector c;
  auto reader = make_serial_reader(device_at(pty.path()), {}, c.callbacks());
  reader->start();
  ASSERT_TRUE(c.wait([&] { return has_state(c, source_state::open); }));
  ASSERT_TRUE(pty.write("first"));
  ASSERT_TRUE(c.wait([&] { return c.bytes.size() >= 5; }));

  pty.unplug();
  ASSERT_TRUE(c.wait([&] { return has_state(c, source_state::waiting_for_device); }));
  {
    auto s = c.last_status();
    EXPECT_EQ(s.state, source_state::waiting_for_device);
    EXPECT_EQ(s.error.kind, error_kind::disconnected) << s.error.message;
    EXPECT_NE(s.error.message.find(pty.path()), std::string::npos) << s.error.message;
    EXPECT_EQ(s.attempt, 1u);
    EXPECT_GT(s.retry_in.count(), 0);
    EXPECT_LE(s.retry_in, 5000ms);
  }
  EXPECT_EQ(reader->status().state, source_state::waiting_for_device);

  auto replugged_at = std::chrono::steady_clock::now();
  pty.replug();
  ASSERT_TRUE(c.wait([&] { return has_state(c, source_state::open, 2); }, 2s))
      << "not reopened within 2 s; last: " << c.last_status().error.message;
  EXPECT_LT(std::chrono::steady_clock::now() - replugged_at, 2s);
  EXPECT_EQ(c.last_status().endpoint, pty.slave_path());
  EXPECT_FALSE(c.last_status().error);

  ASSERT_TRUE(pty.write("second"));
  ASSERT_TRUE(c.wait([&] { return c.bytes.size() >= 11; }));
  std::lock_guard<std::mutex> guard(c.mutex);
  EXPECT_EQ(std::string(c.bytes.begin(), c.bytes.end()), "firstsecond");
}

TEST(SerialReader, MissingDeviceAtStartKeepsRetryingUntilItAppears) {
  temp_dir dir;
  reader_options options;
  options.backoff.initial = 20ms;
  options.backoff.max = 200ms;
  collector c;
  auto reader = make_serial_reader(device_at(by_id(dir)), options, c.callbacks());
  reader->start();
  ASSERT_TRUE(c.wait([&] { return has_state(c, source_state::waiting_for_device, 3); }));
  {
    auto statuses = c.status_copy();
    EXPECT_EQ(statuses.front().state, source_state::connecting);
    uint32_t attempt = 0;
    for (const auto& s : statuses) {
      if (s.state != source_state::waiting_for_device)
        continue;
      EXPECT_EQ(s.error.kind, error_kind::not_found) << s.error.message;
      EXPECT_NE(s.error.message.find("plugged in"), std::string::npos);
      EXPECT_EQ(s.attempt, attempt + 1);
      EXPECT_LE(s.retry_in, 200ms);
      attempt = s.attempt;
    }
  }

  pty_pair pty(by_id(dir));
  ASSERT_TRUE(c.wait([&] { return has_state(c, source_state::open); }, 2s));
  ASSERT_TRUE(pty.write("hello meter"));
  ASSERT_TRUE(c.wait([&] { return c.bytes.size() >= 11; }));
  EXPECT_EQ(c.last_status().attempt, 0u);
}

TEST(SerialReader, StopEndsABlockedReaderPromptly) {
  pty_pair pty;
  reader_options options;
  options.read_timeout = 60s; // the read would block for a minute without the wake-up
  collector c;
  auto reader = make_serial_reader(device_at(pty.path()), options, c.callbacks());
  reader->start();
  ASSERT_TRUE(c.wait([&] { return has_state(c, source_state::open); }));
  auto t0 = std::chrono::steady_clock::now();
  reader->stop();
  reader->join();
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 500ms);
  EXPECT_EQ(c.last_status().state, source_state::stopped);
  EXPECT_EQ(reader->status().state, source_state::stopped);
}

TEST(SerialReader, StopInterruptsTheBackoffWait) {
  temp_dir dir;
  reader_options options;
  options.backoff.initial = 30s;
  options.backoff.max = 60s;
  collector c;
  auto reader = make_serial_reader(device_at(by_id(dir)), options, c.callbacks());
  reader->start();
  ASSERT_TRUE(c.wait([&] { return has_state(c, source_state::waiting_for_device); }));
  auto t0 = std::chrono::steady_clock::now();
  reader->stop();
  reader->join();
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 500ms);
  auto last = c.last_status();
  EXPECT_EQ(last.state, source_state::stopped);
  EXPECT_EQ(last.error.kind, error_kind::not_found); // the last error is kept
}

TEST(SerialReader, RunsOnTheCallersThreadUntilStopped) {
  pty_pair pty;
  collector c;
  auto reader = make_serial_reader(device_at(pty.path()), {}, c.callbacks());
  std::thread::id callback_thread;
  std::thread runner([&] {
    callback_thread = std::this_thread::get_id();
    reader->run();
  });
  ASSERT_TRUE(c.wait([&] { return has_state(c, source_state::open); }));
  ASSERT_TRUE(pty.write("x"));
  ASSERT_TRUE(c.wait([&] { return c.bytes.size() == 1; }));
  reader->stop();
  runner.join();
  EXPECT_EQ(c.last_status().state, source_state::stopped);
  // A second run() does nothing but report stopped.
  reader->run();
  EXPECT_EQ(c.last_status().state, source_state::stopped);
}

TEST(SerialReader, DeadDeviceIsRetriedWithCappedBackoffWithoutSpinning) {
  temp_dir dir;
  reader_options options;
  options.backoff.initial = 5ms;
  options.backoff.max = 40ms;
  options.backoff.jitter = 0.25;
  collector c;
  auto reader = make_serial_reader(device_at(by_id(dir)), options, c.callbacks());
  double cpu0 = process_cpu_seconds();
  auto t0 = std::chrono::steady_clock::now();
  reader->start();
  ASSERT_TRUE(c.wait([&] { return has_state(c, source_state::waiting_for_device, 12); }));
  auto elapsed = std::chrono::steady_clock::now() - t0;
  reader->stop();
  reader->join();
  double cpu = process_cpu_seconds() - cpu0;
  auto statuses = c.status_copy();
  std::vector<std::chrono::milliseconds> delays;
  for (const auto& s : statuses)
    if (s.state == source_state::waiting_for_device)
      delays.push_back(s.retry_in);
  ASSERT_GE(delays.size(), 12u);
  EXPECT_LE(delays.front(), 5ms);
  for (auto d : delays)
    EXPECT_LE(d, 40ms);
  EXPECT_GE(delays.back(), 30ms); // reached the cap (minus jitter)
  // 12 attempts take at least the sum of the waits (5+10+20+9*30 ms), not a busy loop.
  EXPECT_GE(elapsed, 250ms);
  double wall = std::chrono::duration<double>(elapsed).count();
  EXPECT_LT(cpu, 0.5 * wall) << "cpu " << cpu << " s in " << wall << " s";
}

TEST(SerialReader, SilentDeviceIsReopenedAfterTheIdleTimeout) {
  temp_dir dir;
  pty_pair pty(by_id(dir));
  reader_options options;
  options.read_timeout = 20ms;
  options.idle_timeout = 150ms;
  options.backoff.initial = 10ms;
  collector c;
  auto reader = make_serial_reader(device_at(pty.path()), options, c.callbacks());
  reader->start();
  ASSERT_TRUE(c.wait([&] { return has_state(c, source_state::waiting_for_device); }));
  EXPECT_EQ(c.last_status().error.kind, error_kind::idle_timeout);
  ASSERT_TRUE(c.wait([&] { return has_state(c, source_state::open, 2); })) << [&] {
    std::string all;
    for (const auto& s : c.status_copy())
      all += std::string(to_string(s.state)) + ": " + s.error.message + "\n";
    return all;
  }();
  ASSERT_TRUE(pty.write("alive"));
  ASSERT_TRUE(c.wait([&] { return c.bytes.size() >= 5; }));
}

TEST(SerialReader, TwoReadersOfOneDeviceDoNotFight) {
  temp_dir dir;
  pty_pair pty(by_id(dir));
  collector first, second;
  auto a = make_serial_reader(device_at(pty.path()), {}, first.callbacks());
  a->start();
  ASSERT_TRUE(first.wait([&] { return has_state(first, source_state::open); }));
  auto b = make_serial_reader(device_at(pty.slave_path()), {}, second.callbacks());
  b->start();
  ASSERT_TRUE(second.wait([&] { return has_state(second, source_state::waiting_for_device); }));
  EXPECT_EQ(second.last_status().error.kind, error_kind::busy);
  ASSERT_TRUE(pty.write("only-one"));
  ASSERT_TRUE(first.wait([&] { return first.bytes.size() >= 8; }));
  EXPECT_EQ(second.byte_count(), 0u);
}
