// node_metrics and metrics_registry: counters, error kinds with their overflow slot, thread-safe
// registration, last error and success, node identity across restarts.

#include "engine/status/metrics.hpp"

#include <gtest/gtest.h>

#include <thread>

using namespace wattline::status;

TEST(StatusMetrics, CountersAndGaugesStartAtZeroAndAccumulate) {
  node_metrics m("meter", "dlms", "source");
  EXPECT_EQ(m.records_in.value(), 0u);
  m.records_in.inc();
  m.records_in.inc(4);
  m.bytes_in.inc(100);
  m.queue_depth.set(7);
  m.queue_depth.sub(2);
  m.queue_depth.add(1);
  EXPECT_EQ(m.records_in.value(), 5u);
  EXPECT_EQ(m.bytes_in.value(), 100u);
  EXPECT_EQ(m.queue_depth.value(), 6);
  EXPECT_EQ(m.state(), node_state::starting);
  m.set_state(node_state::running);
  EXPECT_STREQ(to_string(m.state()), "running");
}

TEST(StatusMetrics, ErrorKindsAreRegisteredOnFirstUseAndCountedSeparately) {
  node_metrics m("meter", "dlms", "source");
  auto crc = m.error_slot("crc");
  m.add_error(crc);
  m.add_error(crc, 2);
  m.add_error("timeout");
  EXPECT_EQ(m.error_slot("crc"), crc);
  EXPECT_EQ(m.errors("crc"), 3u);
  EXPECT_EQ(m.errors("timeout"), 1u);
  EXPECT_EQ(m.errors("never"), 0u);
  EXPECT_EQ(m.errors_total(), 4u);
  auto kinds = m.errors_by_kind();
  ASSERT_EQ(kinds.size(), 2u);
  EXPECT_EQ(kinds[0], (std::pair<std::string, uint64_t>{"crc", 3}));
  EXPECT_EQ(kinds[1], (std::pair<std::string, uint64_t>{"timeout", 1}));
}

TEST(StatusMetrics, KindsBeyondTheFixedSlotsAreCountedAsOther) {
  node_metrics m("n", "t", "sink");
  for (std::size_t i = 0; i < node_metrics::max_error_kinds + 5; ++i)
    m.add_error("kind" + std::to_string(i));
  auto kinds = m.errors_by_kind();
  ASSERT_EQ(kinds.size(), node_metrics::max_error_kinds);
  EXPECT_EQ(kinds.back().first, "other");
  EXPECT_EQ(kinds.back().second, 6u); // kinds 15..20
  EXPECT_EQ(m.errors("other"), 6u);
  EXPECT_EQ(m.errors_total(), node_metrics::max_error_kinds + 5);
}

TEST(StatusMetrics, ConcurrentRegistrationAndCountingLosesNothing) {
  node_metrics m("n", "t", "sink");
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t)
    threads.emplace_back([&m, t] {
      for (int i = 0; i < 1000; ++i) {
        m.add_error(i % 2 == 0 ? "even" : "kind" + std::to_string(t % 4));
        m.records_out.inc();
      }
    });
  for (auto& th : threads)
    th.join();
  EXPECT_EQ(m.records_out.value(), 8000u);
  EXPECT_EQ(m.errors("even"), 4000u);
  EXPECT_EQ(m.errors("kind0"), 1000u);
  EXPECT_EQ(m.errors_by_kind().size(), 5u);
  EXPECT_EQ(m.errors_total(), 8000u);
}

TEST(StatusMetrics, LastErrorAndLastSuccessAreKept) {
  node_metrics m("n", "t", "sink");
  EXPECT_EQ(m.last_error(), "");
  EXPECT_FALSE(m.last_success_ns());
  m.set_last_error("connect failed: connection refused");
  m.mark_success(1763740222000000000);
  EXPECT_EQ(m.last_error(), "connect failed: connection refused");
  EXPECT_EQ(m.last_success_ns(), int64_t{1763740222000000000});
}

TEST(StatusRegistry, SameIdTypeAndRoleGiveTheSameMetricsSoRestartsKeepCounting) {
  metrics_registry reg;
  auto a = reg.add_node("meter", "dlms", "source");
  a->records_in.inc(3);
  auto again = reg.add_node("meter", "dlms", "source");
  EXPECT_EQ(a, again);
  auto changed = reg.add_node("meter", "file", "source"); // reload changed the type
  EXPECT_NE(a, changed);
  EXPECT_EQ(changed->records_in.value(), 0u);
  EXPECT_EQ(reg.find("meter"), changed);
  reg.add_node("b", "mqtt", "sink");
  auto all = reg.nodes();
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0]->id(), "b"); // sorted by id
  EXPECT_TRUE(reg.remove_node("b"));
  EXPECT_FALSE(reg.remove_node("b"));
  EXPECT_EQ(reg.find("b"), nullptr);
}

TEST(StatusRegistry, UptimeFollowsTheClock) {
  int64_t now = 1763740222000000000;
  metrics_registry reg({"0.1.0", "abc", "g++"}, [&now] { return now; });
  EXPECT_EQ(reg.uptime_seconds(), 0.0);
  now += 2'500'000'000;
  EXPECT_EQ(reg.uptime_seconds(), 2.5);
  EXPECT_EQ(reg.start_time_ns(), 1763740222000000000);
}
