// Prometheus text and health JSON renderings: exact goldens, label escaping, health rules.

#include "engine/status/render.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

using namespace wattline::status;

namespace {

struct fixture {
  int64_t now = 1763740222000000000;
  metrics_registry reg{{"0.1.0", "e17fb03", "g++ 12.2.0"}, [this] { return now; }};
};

} // namespace

TEST(StatusPrometheus, EscapesBackslashQuoteAndLineFeedInLabelValues) {
  EXPECT_EQ(escape_label_value("plain"), "plain");
  EXPECT_EQ(escape_label_value("a\\b"), "a\\\\b");
  EXPECT_EQ(escape_label_value("say \"hi\""), "say \\\"hi\\\"");
  EXPECT_EQ(escape_label_value("two\nlines"), "two\\nlines");
  EXPECT_EQ(escape_label_value("Zürich"), "Zürich");
}

TEST(StatusPrometheus, EmptyRegistryMatchesGolden) {
  fixture f;
  f.now += 1'500'000'000;
  EXPECT_EQ(render_prometheus(f.reg),
            "# HELP wattline_build_info Build of the running engine; the value is always 1.\n"
            "# TYPE wattline_build_info gauge\n"
            "wattline_build_info{version=\"0.1.0\",commit=\"e17fb03\",compiler=\"g++ 12.2.0\"} 1\n"
            "# HELP wattline_start_time_seconds Start time of the engine in seconds since the "
            "Unix epoch.\n"
            "# TYPE wattline_start_time_seconds gauge\n"
            "wattline_start_time_seconds 1763740222\n"
            "# HELP wattline_uptime_seconds Seconds since the engine started.\n"
            "# TYPE wattline_uptime_seconds gauge\n"
            "wattline_uptime_seconds 1.5\n"
            "# HELP wattline_node_records_in_total Records received by the node.\n"
            "# TYPE wattline_node_records_in_total counter\n"
            "# HELP wattline_node_records_out_total Records emitted by the node.\n"
            "# TYPE wattline_node_records_out_total counter\n"
            "# HELP wattline_node_bytes_in_total Bytes received by the node.\n"
            "# TYPE wattline_node_bytes_in_total counter\n"
            "# HELP wattline_node_bytes_out_total Bytes sent or written by the node.\n"
            "# TYPE wattline_node_bytes_out_total counter\n"
            "# HELP wattline_node_dropped_total Records dropped by the node.\n"
            "# TYPE wattline_node_dropped_total counter\n"
            "# HELP wattline_node_restarts_total Restarts of the node by its supervisor.\n"
            "# TYPE wattline_node_restarts_total counter\n"
            "# HELP wattline_node_errors_total Errors of the node by kind.\n"
            "# TYPE wattline_node_errors_total counter\n"
            "# HELP wattline_node_queue_depth Records waiting in the node's queue or buffer.\n"
            "# TYPE wattline_node_queue_depth gauge\n"
            "# HELP wattline_node_state State of the node: 1 for the current state, 0 for the "
            "others.\n"
            "# TYPE wattline_node_state gauge\n"
            "# HELP wattline_node_last_success_timestamp_seconds Time of the node's last "
            "successful operation in seconds since the Unix epoch.\n"
            "# TYPE wattline_node_last_success_timestamp_seconds gauge\n");
}

TEST(StatusPrometheus, NodeSeriesMatchGoldenWithEscapedLabels) {
  fixture f;
  auto src = f.reg.add_node("meter \"A\"\\1", "dlms", "source");
  src->records_in.inc(10);
  src->records_out.inc(9);
  src->bytes_in.inc(2048);
  src->add_error("crc", 3);
  src->add_error("line\nbreak");
  src->set_state(node_state::running);
  src->mark_success(1763740221250000000);
  auto sink = f.reg.add_node("db", "influxdb", "sink");
  sink->records_in.inc(9);
  sink->dropped.inc(1);
  sink->restarts.inc(2);
  sink->queue_depth.set(5);
  sink->set_state(node_state::restarting);
  auto text = render_prometheus(f.reg);
  // Only the node part (after the process gauges) is compared.
  auto body = text.substr(text.find("# HELP wattline_node_records_in_total"));
  const std::string src_labels = "{node=\"meter \\\"A\\\"\\\\1\",type=\"dlms\",role=\"source\"";
  const std::string sink_labels = "{node=\"db\",type=\"influxdb\",role=\"sink\"";
  auto help = [](const std::string& name, const std::string& type, const std::string& text) {
    return "# HELP " + name + " " + text + "\n# TYPE " + name + " " + type + "\n";
  };
  std::string expected =
      help("wattline_node_records_in_total", "counter", "Records received by the node.") +
      "wattline_node_records_in_total" + sink_labels + "} 9\n" + "wattline_node_records_in_total" +
      src_labels + "} 10\n" +
      help("wattline_node_records_out_total", "counter", "Records emitted by the node.") +
      "wattline_node_records_out_total" + sink_labels + "} 0\n" +
      "wattline_node_records_out_total" + src_labels + "} 9\n" +
      help("wattline_node_bytes_in_total", "counter", "Bytes received by the node.") +
      "wattline_node_bytes_in_total" + sink_labels + "} 0\n" + "wattline_node_bytes_in_total" +
      src_labels + "} 2048\n" +
      help("wattline_node_bytes_out_total", "counter", "Bytes sent or written by the node.") +
      "wattline_node_bytes_out_total" + sink_labels + "} 0\n" + "wattline_node_bytes_out_total" +
      src_labels + "} 0\n" +
      help("wattline_node_dropped_total", "counter", "Records dropped by the node.") +
      "wattline_node_dropped_total" + sink_labels + "} 1\n" + "wattline_node_dropped_total" +
      src_labels + "} 0\n" +
      help("wattline_node_restarts_total", "counter", "Restarts of the node by its supervisor.") +
      "wattline_node_restarts_total" + sink_labels + "} 2\n" + "wattline_node_restarts_total" +
      src_labels + "} 0\n" +
      help("wattline_node_errors_total", "counter", "Errors of the node by kind.") +
      "wattline_node_errors_total" + src_labels + ",kind=\"crc\"} 3\n" +
      "wattline_node_errors_total" + src_labels + ",kind=\"line\\nbreak\"} 1\n" +
      help("wattline_node_queue_depth", "gauge", "Records waiting in the node's queue or buffer.") +
      "wattline_node_queue_depth" + sink_labels + "} 5\n" + "wattline_node_queue_depth" +
      src_labels + "} 0\n" +
      help("wattline_node_state", "gauge",
           "State of the node: 1 for the current state, 0 for the others.") +
      "wattline_node_state" + sink_labels + ",state=\"starting\"} 0\n" + "wattline_node_state" +
      sink_labels + ",state=\"running\"} 0\n" + "wattline_node_state" + sink_labels +
      ",state=\"restarting\"} 1\n" + "wattline_node_state" + sink_labels +
      ",state=\"stopped\"} 0\n" + "wattline_node_state" + sink_labels + ",state=\"failed\"} 0\n" +
      "wattline_node_state" + src_labels + ",state=\"starting\"} 0\n" + "wattline_node_state" +
      src_labels + ",state=\"running\"} 1\n" + "wattline_node_state" + src_labels +
      ",state=\"restarting\"} 0\n" + "wattline_node_state" + src_labels +
      ",state=\"stopped\"} 0\n" + "wattline_node_state" + src_labels + ",state=\"failed\"} 0\n" +
      help("wattline_node_last_success_timestamp_seconds", "gauge",
           "Time of the node's last successful operation in seconds since the Unix epoch.") +
      "wattline_node_last_success_timestamp_seconds" + src_labels + "} 1763740221.25\n";
  EXPECT_EQ(body, expected);
}

TEST(StatusHealth, StatusIsFailedIfAnyNodeFailedDegradedIfRestartingElseOk) {
  fixture f;
  EXPECT_EQ(overall_health(f.reg), health::ok); // no nodes
  auto a = f.reg.add_node("a", "file", "source");
  auto b = f.reg.add_node("b", "mqtt", "sink");
  EXPECT_EQ(overall_health(f.reg), health::degraded); // both starting
  a->set_state(node_state::running);
  b->set_state(node_state::stopped);
  EXPECT_EQ(overall_health(f.reg), health::ok);
  b->set_state(node_state::restarting);
  EXPECT_EQ(overall_health(f.reg), health::degraded);
  a->set_state(node_state::failed);
  EXPECT_EQ(overall_health(f.reg), health::failed);
}

TEST(StatusHealth, JsonMatchesGolden) {
  fixture f;
  auto a = f.reg.add_node("meter", "dlms", "source");
  a->set_state(node_state::running);
  a->records_in.inc(12);
  a->records_out.inc(12);
  a->mark_success(1763740222123456789);
  auto b = f.reg.add_node("db", "influxdb", "sink");
  b->set_state(node_state::restarting);
  b->restarts.inc(3);
  b->add_error("timeout", 2);
  b->dropped.inc(4);
  b->queue_depth.set(100);
  b->set_last_error("write failed: HTTP 503 \"unavailable\"\nretrying \xff");
  f.now += 2'000'000'000;
  EXPECT_EQ(render_health_json(f.reg),
            R"({"status":"degraded","uptime_seconds":2.0,"version":"0.1.0","nodes":{)"
            R"("db":{"type":"influxdb","role":"sink","state":"restarting","restarts":3,"errors":2,)"
            R"("last_error":"write failed: HTTP 503 \"unavailable\"\nretrying )"
            "\xEF\xBF\xBD"
            R"(","records_in":0,"records_out":0,"dropped":4,"queue_depth":100,)"
            R"("last_success":null},)"
            R"("meter":{"type":"dlms","role":"source","state":"running","restarts":0,"errors":0,)"
            R"("last_error":null,"records_in":12,"records_out":12,"dropped":0,"queue_depth":0,)"
            R"("last_success":"2025-11-21T15:50:22.123Z"}}})");
  // And it is valid JSON.
  EXPECT_TRUE(nlohmann::json::accept(render_health_json(f.reg)));
}
