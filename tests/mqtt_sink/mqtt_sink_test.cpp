// The `mqtt` sink and source through the real `wattline` binary against a real mosquitto on
// 127.0.0.1: exact smdc payloads, a json round trip sink -> broker -> source, a 10 s broker outage
// without loss, kill -9 with a disk buffer, TLS with the right and a wrong CA, Home Assistant
// discovery configs (and their re-announcement on HA's birth message), wrong password and
// unreachable broker reported without the password, a down broker never stalling a file sink,
// the shipped smart meter -> MQTT pipeline. Every wait is a condition with a deadline.

#include "sinks/mqtt/client.hpp"
#include "tests/mqtt/mosquitto_server.hpp"
#include "tests/support/support.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <csignal>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <thread>

namespace wattline::test {
namespace {

using namespace std::chrono_literals;
using json = nlohmann::json;

const std::string wattline_bin = std::string(WATTLINE_BINARY_DIR) + "/wattline";
constexpr int64_t base_ns = 1'772'323'200'000'000'000; // 2026-03-01T00:00:00Z

/// `n` jsonl records `power` of meter `m1`, one per second: seq (integer) and P (float, W, with
/// an OBIS code).
void write_records(const std::filesystem::path& p, int n) {
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  for (int i = 0; i < n; ++i)
    out << R"({"name":"power","time":)" << (base_ns + int64_t{i} * 1'000'000'000)
        << R"(,"tags":{"meter":"m1"},"fields":{"seq":)" << i << R"(,"P":)" << i << ".5"
        << R"(},"meta":{"P":{"unit":"W","obis":"1-0:1.7.0*255"}}})"
        << "\n";
}

/// The seq values of smdc messages on smartmeter/m1/seq.
std::multiset<int> seqs(const std::vector<received_message>& msgs) {
  std::multiset<int> out;
  for (const auto& m : msgs)
    if (m.topic == "smartmeter/m1/seq")
      out.insert(static_cast<int>(json::parse(m.payload)["value"].get<double>()));
  return out;
}

class MqttSink : public ::testing::Test, protected pipeline_fixture {
protected:
  /// An mqtt sink named `msink` fed by `in`; `extra` lines are indented options.
  static std::string mqtt_sink(const std::string& url, const std::string& extra = {}) {
    return "  msink:\n    type: mqtt\n    inputs: [in]\n    url: " + url +
           "\n    reconnect_initial_ms: 100\n    reconnect_max_ms: 500\n" + extra;
  }

  static test_subscriber::options sub(const mosquitto_server& b, std::vector<std::string> topics) {
    test_subscriber::options o;
    o.url = b.url();
    o.topics = std::move(topics);
    o.qos = 1;
    return o;
  }
};

TEST_F(MqttSink, RecordsArriveAsSmdcMessagesWithExactPayloads) {
  mosquitto_server broker;
  test_subscriber subscriber(sub(broker, {"smartmeter/#"}));
  constexpr int n = 2000;
  write_records(dir / "in.jsonl", n);
  auto proc = run(source(dir / "in.jsonl") + "sinks:\n" + mqtt_sink(broker.url()));
  ASSERT_EQ(proc->wait(60s), 0) << proc->log();
  ASSERT_TRUE(subscriber.wait_for(2 * n, 20s)) << subscriber.count() << "\n" << proc->log();
  auto msgs = subscriber.messages();
  std::map<std::string, std::string> last;
  for (const auto& m : msgs)
    last[m.topic] = m.payload;
  EXPECT_EQ(msgs.size(), 2u * n);
  // Exactly as smartmeter-datacollector publishes (Python json.dumps spacing, float values).
  EXPECT_EQ(last["smartmeter/m1/P"],
            R"({"value": 1999.5, "timestamp": 1772325199, "obis": "1.7.0"})");
  EXPECT_EQ(last["smartmeter/m1/seq"], R"({"value": 1999.0, "timestamp": 1772325199, "obis": ""})");
  auto s = seqs(msgs);
  EXPECT_EQ(s.size(), static_cast<std::size_t>(n));
  EXPECT_EQ(std::set<int>(s.begin(), s.end()).size(), static_cast<std::size_t>(n));
}

TEST_F(MqttSink, JsonRecordsRoundTripThroughBrokerIntoMqttSource) {
  mosquitto_server broker;
  // Receiver: mqtt source -> file sink, started first (and subscribed) so that nothing is missed.
  auto out = dir / "received.jsonl";
  auto receiver = run("sources:\n  sub:\n    type: mqtt\n    url: " + broker.url() +
                      "\n    format: json\n    topics: [\"wattline/#\"]\n"
                      "sinks:\n  out:\n    type: file\n    inputs: [sub]\n    path: " +
                      out.string() + "\n    format: jsonl\n");
  ASSERT_TRUE(wait_until(
      [&] { return receiver->log().find("subscribed to wattline/#") != std::string::npos; }, 20s))
      << receiver->log();
  constexpr int n = 500;
  write_records(dir / "in.jsonl", n);
  auto sender =
      run(source(dir / "in.jsonl") + "sinks:\n" + mqtt_sink(broker.url(), "    format: json\n"));
  ASSERT_EQ(sender->wait(60s), 0) << sender->log();
  ASSERT_TRUE(wait_until([&] { return count_lines(out) >= static_cast<std::size_t>(n); }, 20s))
      << count_lines(out) << "\n"
      << receiver->log();
  receiver->signal(SIGTERM);
  ASSERT_EQ(receiver->wait(20s), 0) << receiver->log();
  // Same records, values, types, units, OBIS codes and nanosecond times as the input.
  std::ifstream a(dir / "in.jsonl"), b(out);
  std::map<int64_t, json> sent, got;
  for (std::string line; std::getline(a, line);) {
    auto j = json::parse(line);
    sent[j["fields"]["seq"].get<int64_t>()] = j;
  }
  for (std::string line; std::getline(b, line);) {
    auto j = json::parse(line);
    got[j["fields"]["seq"].get<int64_t>()] = j;
  }
  ASSERT_EQ(got.size(), sent.size());
  for (const auto& [seq, j] : sent) {
    const auto& g = got[seq];
    EXPECT_EQ(g["name"], "power");
    EXPECT_EQ(g["tags"], j["tags"]);
    EXPECT_EQ(g["fields"], j["fields"]);
    EXPECT_EQ(g["meta"], j["meta"]);
    // The file sink writes RFC 3339; the input had integer nanoseconds.
    EXPECT_EQ(g["time"].get<std::string>().substr(0, 10), "2026-03-01");
  }
  EXPECT_EQ(got[499]["time"], "2026-03-01T00:08:19Z");
}

TEST_F(MqttSink, Mqtt5SharedSubscriptionSpreadsQos2MessagesOverTwoSourceProcesses) {
  mosquitto_server broker;
  auto receiver = [&](const std::filesystem::path& out) {
    return run("sources:\n  sub:\n    type: mqtt\n    protocol: \"5\"\n    url: " + broker.url() +
               "\n    qos: 2\n    format: json\n    topics: [\"$share/workers/wattline/#\"]\n"
               "sinks:\n  out:\n    type: file\n    inputs: [sub]\n    path: " +
               out.string() + "\n    format: jsonl\n");
  };
  auto out1 = dir / "r1.jsonl", out2 = dir / "r2.jsonl";
  auto r1 = receiver(out1);
  auto r2 = receiver(out2);
  for (auto* r : {r1.get(), r2.get()})
    ASSERT_TRUE(wait_until(
        [&] {
          return r->log().find("subscribed to $share/workers/wattline/#") != std::string::npos;
        },
        20s))
        << r->log();
  constexpr int n = 400;
  write_records(dir / "in.jsonl", n);
  auto sender = run(source(dir / "in.jsonl") + "sinks:\n" +
                    mqtt_sink(broker.url(), "    protocol: \"5\"\n    qos: 2\n    format: json\n"));
  ASSERT_EQ(sender->wait(60s), 0) << sender->log();
  ASSERT_TRUE(wait_until([&] { return count_lines(out1) + count_lines(out2) >= n; }, 20s))
      << count_lines(out1) << " + " << count_lines(out2) << "\n"
      << r1->log() << r2->log();
  for (auto* r : {r1.get(), r2.get()}) {
    r->signal(SIGTERM);
    EXPECT_EQ(r->wait(20s), 0) << r->log();
  }
  // Each record reached exactly one of the two processes, and both got a share.
  std::multiset<int64_t> seen;
  for (const auto& f : {out1, out2}) {
    std::ifstream in(f);
    for (std::string line; std::getline(in, line);)
      seen.insert(json::parse(line)["fields"]["seq"].get<int64_t>());
  }
  EXPECT_EQ(seen.size(), static_cast<std::size_t>(n));
  EXPECT_EQ(std::set<int64_t>(seen.begin(), seen.end()).size(), static_cast<std::size_t>(n));
  EXPECT_GT(count_lines(out1), 0u);
  EXPECT_GT(count_lines(out2), 0u);
}

TEST_F(MqttSink, MqttSourceCountsMalformedMessagesAndKeepsDecoding) {
  mosquitto_server broker;
  auto out = dir / "received.jsonl";
  auto receiver = run("sources:\n  sub:\n    type: mqtt\n    url: " + broker.url() +
                      "\n    format: value\n    topic: home/{tags.room}/{field}\n"
                      "    name: climate\n    topics: [\"home/#\"]\n"
                      "sinks:\n  out:\n    type: file\n    inputs: [sub]\n    path: " +
                      out.string() + "\n    format: jsonl\n");
  ASSERT_TRUE(wait_until(
      [&] { return receiver->log().find("subscribed to home/#") != std::string::npos; }, 20s))
      << receiver->log();
  mqtt::client_options co;
  co.url = broker.url();
  auto pub = mqtt::client::create(co, {});
  ASSERT_TRUE(pub);
  pub->start();
  ASSERT_TRUE(pub->wait_connected(10s));
  for (auto [topic, payload] :
       std::vector<std::pair<std::string, std::string>>{{"home/too/many/levels", "1"},
                                                        {"home/kitchen/temperature", "21.5"},
                                                        {"home/kitchen/occupied", "true"}}) {
    mqtt::message m;
    m.topic = topic;
    m.payload = payload;
    ASSERT_TRUE(pub->publish(m));
  }
  ASSERT_TRUE(pub->wait_idle(10s));
  pub->stop();
  ASSERT_TRUE(wait_until([&] { return count_lines(out) >= 2; }, 20s)) << receiver->log();
  receiver->signal(SIGTERM);
  ASSERT_EQ(receiver->wait(20s), 0) << receiver->log();
  std::ifstream in(out);
  std::string l1, l2;
  std::getline(in, l1);
  std::getline(in, l2);
  auto a = json::parse(l1), b = json::parse(l2);
  EXPECT_EQ(a["name"], "climate");
  EXPECT_EQ(a["tags"]["room"], "kitchen");
  EXPECT_EQ(a["fields"]["temperature"], 21.5);
  EXPECT_EQ(b["fields"]["occupied"], true);
  auto log = receiver->log();
  EXPECT_NE(log.find("home/too/many/levels ignored"), std::string::npos) << log;
  EXPECT_NE(log.find("errors=1 "), std::string::npos) << log;
}

TEST_F(MqttSink, BrokerStoppedTenSecondsMidStreamLosesNothing) {
  mosquitto_server broker; // persistence on: the subscriber's session survives the restart
  auto o = sub(broker, {"smartmeter/m1/seq"});
  o.clean_session = false;
  o.client_id = "outage-subscriber";
  test_subscriber subscriber(o);
  constexpr int n = 1500;
  write_records(dir / "in.jsonl", n);
  // ~170 bytes a record at 20 kB/s: about 13 s of input, so the outage hits mid-stream.
  auto proc =
      run(source(dir / "in.jsonl", "    pacing: 200000 baud\n    batch_size: 10\n") + "sinks:\n" +
          mqtt_sink(broker.url(), "    drain_timeout_secs: 60\n"
                                  "    buffer: { type: memory, when_full: block }\n"));
  ASSERT_TRUE(subscriber.wait_for(100, 30s)) << proc->log();
  broker.stop();
  const auto stopped_at = std::chrono::steady_clock::now();
  // The outage lasts 10 s; meanwhile the sink must notice it and keep retrying.
  ASSERT_TRUE(wait_until(
      [&] {
        return std::chrono::steady_clock::now() - stopped_at >= 10s &&
               proc->log().find("retrying in") != std::string::npos;
      },
      30s))
      << proc->log();
  broker.start();
  ASSERT_EQ(proc->wait(120s), 0) << proc->log();
  ASSERT_TRUE(subscriber.wait_until(
      [&](const std::vector<received_message>& msgs) {
        auto s = seqs(msgs);
        return std::set<int>(s.begin(), s.end()).size() == static_cast<std::size_t>(n);
      },
      30s))
      << seqs(subscriber.messages()).size() << "\n"
      << proc->log();
  auto s = seqs(subscriber.messages());
  std::set<int> unique(s.begin(), s.end());
  EXPECT_EQ(*unique.begin(), 0);
  EXPECT_EQ(*unique.rbegin(), n - 1);
  // Duplicates only as QoS 1 allows, and counted: no more than the messages sent again.
  const auto log = proc->log();
  EXPECT_NE(log.find("publishing again"), std::string::npos) << log;
  std::smatch m;
  uint64_t resent = 0;
  if (std::regex_search(log, m, std::regex(R"((\d+) messages published again)")))
    resent = std::stoull(m[1]);
  // Extra copies come from the sink's resends or from the broker redelivering to the
  // subscriber after the restart (DUP flag); nothing else may duplicate.
  std::size_t redelivered = 0;
  for (const auto& msg : subscriber.messages())
    if (msg.topic == "smartmeter/m1/seq" && msg.duplicate)
      ++redelivered;
  EXPECT_LE(s.size() - unique.size(), redelivered + resent) << log;
}

TEST_F(MqttSink, SigkillWithDiskBufferDeliversEverythingAfterRestart) {
  mosquitto_server broker;
  broker.stop();
  constexpr int n = 3000;
  write_records(dir / "in.jsonl", n);
  const std::string sink =
      mqtt_sink(broker.url(), "    drain_timeout_secs: 60\n    buffer: { type: disk }\n");
  auto first = run(source(dir / "in.jsonl") + "sinks:\n" + sink);
  ASSERT_TRUE(
      wait_until([&] { return first->log().find("end of input") != std::string::npos; }, 30s))
      << first->log();
  first->signal(SIGKILL);
  first->wait(10s);

  broker.start();
  test_subscriber subscriber(sub(broker, {"smartmeter/m1/seq"}));
  write_file(dir / "empty.jsonl", "");
  auto second = run(source(dir / "empty.jsonl") + "sinks:\n" + sink);
  ASSERT_EQ(second->wait(60s), 0) << second->log();
  EXPECT_NE(second->log().find(std::to_string(n) + " records from before the last stop"),
            std::string::npos)
      << second->log();
  ASSERT_TRUE(subscriber.wait_for(n, 20s)) << subscriber.count();
  auto s = seqs(subscriber.messages());
  EXPECT_EQ(std::set<int>(s.begin(), s.end()).size(), static_cast<std::size_t>(n));
}

TEST_F(MqttSink, TlsWithTestCaDeliversAndWrongCaIsRefusedClearly) {
  mosquitto_options bo;
  bo.tls = true;
  mosquitto_server broker(bo);
  auto o = sub(broker, {"smartmeter/#"});
  test_subscriber subscriber(o);
  write_records(dir / "in.jsonl", 10);
  auto good =
      run(source(dir / "in.jsonl") + "sinks:\n" +
          mqtt_sink(broker.tls_url(), "    ca_file: " + broker.tls().ca_cert.string() + "\n"));
  ASSERT_EQ(good->wait(30s), 0) << good->log();
  ASSERT_TRUE(subscriber.wait_for(20, 10s)) << good->log();

  auto bad = run(source(dir / "in.jsonl") + "sinks:\n" +
                 mqtt_sink(broker.tls_url(), "    ca_file: " + broker.tls().other_ca_cert.string() +
                                                 "\n    drain_timeout_secs: 1\n"));
  ASSERT_TRUE(wait_until(
      [&] { return bad->log().find("certificate verify failed") != std::string::npos; }, 20s))
      << bad->log();
  bad->signal(SIGTERM);
  EXPECT_EQ(bad->wait(20s), 0) << bad->log();
  auto log = bad->log();
  EXPECT_NE(log.find("msink"), std::string::npos) << log;
  EXPECT_NE(log.find(broker.tls_url()), std::string::npos) << log;
  EXPECT_NE(log.find("dropped 10 records"), std::string::npos) << log; // memory buffer, counted
  EXPECT_EQ(subscriber.count(), 20u);
}

TEST_F(MqttSink, HomeAssistantDiscoveryAnnouncesEachFieldWithDocumentedSchema) {
  mosquitto_server broker;
  test_subscriber subscriber(sub(broker, {"homeassistant/#", "smartmeter/#"}));
  std::ofstream(dir / "in.jsonl")
      << R"({"name":"smartmeter","time":1772323200000000000,"tags":{"meter":"LGZ1030655933512"},)"
      << R"("fields":{"ACTIVE_ENERGY_P":12345.678,"ACTIVE_POWER_P":1520.0,"price":0.312,)"
      << R"("cost_import":12.5},"meta":{"ACTIVE_ENERGY_P":{"unit":"kWh","obis":"1-0:1.8.0*255"},)"
      << R"("ACTIVE_POWER_P":{"unit":"W","obis":"1-0:1.7.0*255"},"price":{"unit":"CHF/kWh"},)"
      << R"("cost_import":{"unit":"CHF"}}})"
      << "\n";
  // The source keeps replaying slowly so that the node still runs for HA's birth message.
  auto proc = run(source(dir / "in.jsonl", "    loops: 0\n    pacing: 1200 baud\n") + "sinks:\n" +
                  mqtt_sink(broker.url(), "    discovery: true\n    availability_topic: "
                                          "wattline/test/availability\n"));
  auto config_of = [&](const std::string& object) -> std::optional<json> {
    for (const auto& m : subscriber.messages())
      if (m.topic.find("homeassistant/sensor/") == 0 &&
          m.topic.find("/" + object + "/config") != std::string::npos)
        return json::parse(m.payload);
    return std::nullopt;
  };
  ASSERT_TRUE(wait_until([&] { return subscriber.count() >= 8; }, 20s)) << proc->log();
  for (const auto* f : {"ACTIVE_ENERGY_P", "ACTIVE_POWER_P", "price", "cost_import"}) {
    auto c = config_of(f);
    ASSERT_TRUE(c) << f;
    // Fields Home Assistant's MQTT sensor schema requires or uses for a device entity.
    for (const auto* key : {"name", "unique_id", "state_topic", "device", "availability_topic"})
      EXPECT_TRUE(c->contains(key)) << f << " lacks " << key << ": " << c->dump();
    EXPECT_EQ((*c)["state_topic"], std::string("smartmeter/LGZ1030655933512/") + f);
    EXPECT_EQ((*c)["availability_topic"], "wattline/test/availability");
    EXPECT_TRUE((*c)["device"].contains("identifiers")) << c->dump();
    EXPECT_EQ((*c)["value_template"], "{{ value_json.value }}") << c->dump();
  }
  auto energy = *config_of("ACTIVE_ENERGY_P");
  EXPECT_EQ(energy["device_class"], "energy");
  EXPECT_EQ(energy["state_class"], "total_increasing");
  EXPECT_EQ(energy["unit_of_measurement"], "kWh");
  auto power = *config_of("ACTIVE_POWER_P");
  EXPECT_EQ(power["device_class"], "power");
  EXPECT_EQ(power["state_class"], "measurement");
  EXPECT_EQ(power["unit_of_measurement"], "W");
  EXPECT_EQ((*config_of("cost_import"))["device_class"], "monetary");
  EXPECT_EQ((*config_of("price"))["device_class"], "monetary");
  // Retained, so that Home Assistant finds them whenever it connects.
  test_subscriber late(sub(broker, {"homeassistant/sensor/#", "wattline/test/availability"}));
  ASSERT_TRUE(late.wait_for(5, 10s));
  for (const auto& m : late.messages())
    EXPECT_TRUE(m.retained) << m.topic;

  // Home Assistant restarts: on its birth message every config is announced again.
  subscriber.clear();
  mqtt::client_options co;
  co.url = broker.url();
  auto ha = mqtt::client::create(co, {});
  ASSERT_TRUE(ha);
  ha->start();
  ASSERT_TRUE(ha->wait_connected(10s));
  mqtt::message birth;
  birth.topic = "homeassistant/status";
  birth.payload = "online";
  ASSERT_TRUE(ha->publish(birth));
  ASSERT_TRUE(wait_until([&] { return config_of("ACTIVE_ENERGY_P").has_value(); }, 10s))
      << proc->log();
  ha->stop();
  proc->signal(SIGTERM);
  EXPECT_EQ(proc->wait(20s), 0) << proc->log();
  // The retained availability says offline after the stop.
  test_subscriber after(sub(broker, {"wattline/test/availability"}));
  ASSERT_TRUE(after.wait_for(1, 10s));
  EXPECT_EQ(after.messages().front().payload, "offline");
}

TEST_F(MqttSink, WrongPasswordAndUnreachableBrokerAreClearErrorsWithoutThePassword) {
  mosquitto_options bo;
  bo.users = {{"wattline", "right-password"}};
  mosquitto_server broker(bo);
  write_records(dir / "in.jsonl", 5);
  const std::string secret = "Wr0ng-Mqtt-S3cret";
  auto wrong = run(source(dir / "in.jsonl") + "sinks:\n" +
                       mqtt_sink(broker.url(), "    username: wattline\n    password: ${MQTT_PW}\n"
                                               "    drain_timeout_secs: 1\n"),
                   {"MQTT_PW=" + secret});
  ASSERT_TRUE(
      wait_until([&] { return wrong->log().find("retrying in") != std::string::npos; }, 20s))
      << wrong->log();
  wrong->signal(SIGTERM);
  EXPECT_EQ(wrong->wait(20s), 0) << wrong->log();
  auto log = wrong->log();
  EXPECT_TRUE(log.find("bad user name or password") != std::string::npos ||
              log.find("not authorized") != std::string::npos)
      << log;
  EXPECT_NE(log.find("msink"), std::string::npos) << log;
  EXPECT_EQ(log.find(secret), std::string::npos) << log;

  const int closed = free_tcp_port();
  auto unreachable =
      run(source(dir / "in.jsonl") + "sinks:\n" +
              mqtt_sink("tcp://127.0.0.1:" + std::to_string(closed),
                        "    password: ${MQTT_PW}\n    username: u\n    drain_timeout_secs: 1\n"),
          {"MQTT_PW=" + secret});
  ASSERT_TRUE(
      wait_until([&] { return unreachable->log().find("retrying in") != std::string::npos; }, 20s))
      << unreachable->log();
  unreachable->signal(SIGTERM);
  EXPECT_EQ(unreachable->wait(20s), 0) << unreachable->log();
  log = unreachable->log();
  EXPECT_NE(log.find("tcp://127.0.0.1:" + std::to_string(closed)), std::string::npos) << log;
  EXPECT_EQ(log.find(secret), std::string::npos) << log;
}

TEST_F(MqttSink, DownBrokerNeverStallsFileSinkFedBySameSource) {
  constexpr int n = 20000;
  write_records(dir / "in.jsonl", n);
  const int closed = free_tcp_port();
  auto out = dir / "out.jsonl";
  auto proc = run(source(dir / "in.jsonl") + "sinks:\n" +
                  mqtt_sink("tcp://127.0.0.1:" + std::to_string(closed),
                            "    drain_timeout_secs: 1\n"
                            "    buffer: { type: memory, max_bytes: 65536, when_full: "
                            "drop_oldest }\n") +
                  "  out:\n    type: file\n    inputs: [in]\n    path: " + out.string() +
                  "\n    format: jsonl\n");
  ASSERT_EQ(proc->wait(60s), 0) << proc->log();
  EXPECT_EQ(count_lines(out), static_cast<std::size_t>(n));
  // What the MQTT sink could not hold is counted as dropped, not lost silently.
  std::smatch m;
  auto log = proc->log();
  ASSERT_TRUE(std::regex_search(log, m, std::regex(R"(summary: node=msink .*dropped=(\d+))")))
      << log;
  EXPECT_EQ(std::stol(m[1]), n) << log;
}

TEST_F(MqttSink, ShippedSmartmeterPipelinePublishesDecodedMeterAsSmdc) {
  mosquitto_options bo;
  bo.users = {{"wattline", "pw-for-test"}};
  mosquitto_server broker(bo);
  test_subscriber::options so = sub(broker, {"smartmeter/#", "homeassistant/#"});
  so.username = "wattline";
  so.password = "pw-for-test";
  test_subscriber subscriber(so);
  // The shipped pipeline with the serial source swapped for the bundled capture.
  auto text =
      read_file(std::filesystem::path(WATTLINE_SOURCE_DIR) / "pipelines/smartmeter-mqtt.yaml");
  const std::string serial = "    type: serial\n    device: ${METER_DEVICE}\n    profile: lge450\n";
  auto pos = text.find(serial);
  ASSERT_NE(pos, std::string::npos);
  text.replace(pos, serial.size(),
               "    type: file\n    format: hex\n    path: " + std::string(WATTLINE_SOURCE_DIR) +
                   "/examples/captures/demo-lge450.hdlc.hex\n    progress: false\n");
  pos = text.find("data_dir: /var/lib/wattline");
  ASSERT_NE(pos, std::string::npos);
  text.replace(pos, std::string("data_dir: /var/lib/wattline").size(),
               "data_dir: " + (dir / "data").string());
  write_file(dir / "smartmeter-mqtt.yaml", text);
  auto trim = [](std::string s) {
    while (!s.empty() && (s.back() == '\n' || s.back() == ' '))
      s.pop_back();
    return s;
  };
  auto key = trim(
      read_file(std::filesystem::path(WATTLINE_SOURCE_DIR) / "examples/captures/demo-lge450.key"));
  auto auth = trim(read_file(std::filesystem::path(WATTLINE_SOURCE_DIR) /
                             "examples/captures/demo-lge450.auth_key"));
  child_process proc(
      {wattline_bin, "run", "--status-address", "off", (dir / "smartmeter-mqtt.yaml").string()},
      dir / "pipeline.log",
      {"METER_KEY=" + key, "METER_AUTH_KEY=" + auth, "MQTT_URL=" + broker.url(),
       "MQTT_PASSWORD=pw-for-test"});
  ASSERT_EQ(proc.wait(60s), 0) << proc.log();
  // Every message of the capture (see demo.sh: 60 records) reaches the broker per field.
  ASSERT_TRUE(subscriber.wait_until(
      [](const std::vector<received_message>& msgs) {
        std::size_t power = 0;
        for (const auto& m : msgs)
          if (m.topic.size() > 15 && m.topic.rfind("/ACTIVE_POWER_P") == m.topic.size() - 15 &&
              m.topic.rfind("smartmeter/", 0) == 0)
            ++power;
        return power >= 60;
      },
      20s))
      << subscriber.count() << "\n"
      << proc.log();
  bool discovery = false;
  for (const auto& m : subscriber.messages()) {
    if (m.topic.rfind("homeassistant/sensor/", 0) == 0)
      discovery = true;
    if (m.topic.rfind("smartmeter/", 0) == 0) {
      auto j = json::parse(m.payload);
      ASSERT_TRUE(j.contains("value") && j.contains("timestamp") && j.contains("obis"))
          << m.payload;
      ASSERT_TRUE(j["value"].is_number()) << m.payload;
    }
  }
  EXPECT_TRUE(discovery);
  EXPECT_EQ(proc.log().find(key), std::string::npos);
  EXPECT_EQ(proc.log().find("pw-for-test"), std::string::npos);
}

TEST_F(MqttSink, ShippedPipelineValidatesAndNamesMissingVariables) {
  child_process missing({wattline_bin, "validate",
                         std::string(WATTLINE_SOURCE_DIR) + "/pipelines/smartmeter-mqtt.yaml"},
                        dir / "missing.log");
  EXPECT_EQ(missing.wait(30s), 78) << missing.log();
  EXPECT_NE(missing.log().find("MQTT_PASSWORD"), std::string::npos) << missing.log();
}

TEST_F(MqttSink, ConfigErrorsAreLocatedWithHints) {
  write_file(dir / "bad.yaml", "sources:\n  in:\n    type: file\n    path: x.jsonl\n"
                               "    format: jsonl\nsinks:\n  m:\n    type: mqtt\n"
                               "    inputs: [in]\n    url: http://127.0.0.1:1883\n"
                               "    format: value\n    topic: wattline/{tags.meter}\n"
                               "    buffer: { type: tape }\n");
  child_process proc({wattline_bin, "validate", (dir / "bad.yaml").string()}, dir / "bad.log");
  EXPECT_EQ(proc.wait(30s), 78) << proc.log();
  auto log = proc.log();
  EXPECT_NE(log.find("bad.yaml:10:10: error: invalid MQTT broker URL"), std::string::npos) << log;
  EXPECT_NE(log.find("bad.yaml:12:12: error: format 'value' publishes one message per field"),
            std::string::npos)
      << log;
  EXPECT_NE(log.find("bad.yaml:13:21: error: buffer type must be"), std::string::npos) << log;
}

} // namespace
} // namespace wattline::test
