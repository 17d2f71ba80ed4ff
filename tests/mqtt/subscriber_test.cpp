// Subscribing with the client: wildcards, shared subscriptions, re-subscribe after a broker
// restart, and decoding the three payload formats back into records end to end.

#include "sinks/mqtt/client.hpp"
#include "sinks/mqtt/discovery.hpp"
#include "sinks/mqtt/format.hpp"
#include "tests/mqtt/client_events.hpp"
#include "tests/mqtt/mosquitto_server.hpp"

#include <gtest/gtest.h>

using namespace std::chrono_literals;
using namespace wattline;
using namespace wattline::mqtt;
using wattline::test::client_events;
using wattline::test::mosquitto_server;
using wattline::test::test_subscriber;

namespace {

client_options opts(const std::string& url, protocol_version v = protocol_version::v3_1_1) {
  client_options o;
  o.url = url;
  o.version = v;
  o.reconnect.initial_delay = 50ms;
  o.reconnect.max_delay = 300ms;
  return o;
}

std::unique_ptr<client> make(const client_options& o, client_events& ev) {
  std::string err;
  auto c = client::create(o, ev.callbacks(), &err);
  EXPECT_NE(c, nullptr) << err;
  return c;
}

bool subscribed(client_events& ev, size_t n) {
  return ev.wait([&] {
    size_t ok = 0;
    for (const auto& s : ev.subscriptions)
      ok += s.ok ? 1 : 0;
    return ok >= n;
  });
}

record sample(int i) {
  record r;
  r.name = "smartmeter";
  r.tags = {{"meter", "M" + std::to_string(i % 3)}};
  r.time_ns = static_cast<int64_t>(1'700'000'000 + i) * 1'000'000'000;
  r.fields = {field{"ACTIVE_POWER_P", 10.5 * i, "W", "1-0:1.7.0*255"},
              field{"ACTIVE_ENERGY_P", 1000.0 + i, "Wh", "1-0:1.8.0*255"}};
  return r;
}

} // namespace

TEST(MqttSubscriber, WildcardSubscriptionReceivesMatchingTopicsOnly) {
  mosquitto_server broker;
  client_events pub_ev, sub_ev;
  auto pub = make(opts(broker.url()), pub_ev);
  auto sub = make(opts(broker.url()), sub_ev);
  sub->subscribe("meters/+/power");
  sub->subscribe("status/#", 0);
  sub->start();
  pub->start();
  ASSERT_TRUE(subscribed(sub_ev, 2));
  ASSERT_TRUE(pub->wait_connected(10s));
  for (const char* t :
       {"meters/a/power", "meters/b/power", "meters/a/energy", "status/x/y", "other"})
    ASSERT_TRUE(pub->publish(message{t, std::string("p:") + t}));
  ASSERT_TRUE(sub_ev.wait([&] { return sub_ev.messages.size() >= 3; }));
  // A marker after the others proves nothing else is coming.
  ASSERT_TRUE(pub->publish(message{"status/done", "end"}));
  ASSERT_TRUE(sub_ev.wait([&] { return sub_ev.messages.size() >= 4; }));
  std::lock_guard lk(sub_ev.mu);
  std::vector<std::string> topics;
  for (const auto& m : sub_ev.messages)
    topics.push_back(m.topic);
  EXPECT_EQ(topics, (std::vector<std::string>{"meters/a/power", "meters/b/power", "status/x/y",
                                              "status/done"}));
  EXPECT_EQ(sub_ev.messages[0].payload, "p:meters/a/power");
  EXPECT_EQ(sub->stats().received, 4u);
}

TEST(MqttSubscriber, SharedSubscriptionSplitsMessagesBetweenGroupMembers) {
  mosquitto_server broker;
  client_events a_ev, b_ev, pub_ev;
  auto a = make(opts(broker.url(), protocol_version::v5), a_ev);
  auto b = make(opts(broker.url(), protocol_version::v5), b_ev);
  auto pub = make(opts(broker.url()), pub_ev);
  a->subscribe("$share/wattline/shared/#");
  b->subscribe("$share/wattline/shared/#");
  a->start();
  b->start();
  pub->start();
  ASSERT_TRUE(subscribed(a_ev, 1));
  ASSERT_TRUE(subscribed(b_ev, 1));
  ASSERT_TRUE(pub->wait_connected(10s));
  constexpr int n = 40;
  for (int i = 0; i < n; ++i) {
    while (!pub->publish(message{"shared/t", std::to_string(i)}))
      ASSERT_TRUE(pub->wait_for_window(5s));
  }
  auto total = [&] {
    std::scoped_lock lk(a_ev.mu, b_ev.mu);
    return a_ev.messages.size() + b_ev.messages.size();
  };
  ASSERT_TRUE(wattline::test::wait_until([&] { return total() >= static_cast<size_t>(n); }));
  std::scoped_lock lk(a_ev.mu, b_ev.mu);
  EXPECT_EQ(a_ev.messages.size() + b_ev.messages.size(), static_cast<size_t>(n))
      << "each message goes to exactly one member of the group";
  EXPECT_GT(a_ev.messages.size(), 0u);
  EXPECT_GT(b_ev.messages.size(), 0u);
}

TEST(MqttSubscriber, ResubscribesAfterBrokerRestart) {
  mosquitto_server broker;
  client_events ev, pub_ev;
  auto sub = make(opts(broker.url()), ev);
  auto pub = make(opts(broker.url()), pub_ev);
  sub->subscribe("again/#");
  sub->start();
  pub->start();
  ASSERT_TRUE(subscribed(ev, 1));
  ASSERT_TRUE(pub->wait_connected(10s));
  broker.restart();
  ASSERT_TRUE(ev.wait([&] { return ev.count(connection_event::kind::connected) >= 2; }, 15s));
  ASSERT_TRUE(subscribed(ev, 2));
  ASSERT_TRUE(pub_ev.wait([&] { return pub_ev.count(connection_event::kind::connected) >= 2; }));
  ASSERT_TRUE(pub->publish(message{"again/x", "after restart"}));
  ASSERT_TRUE(ev.wait([&] { return !ev.messages.empty(); }));
  std::lock_guard lk(ev.mu);
  EXPECT_EQ(ev.messages[0].payload, "after restart");
}

class MqttSubscriberFormats : public ::testing::TestWithParam<payload_format> {};

TEST_P(MqttSubscriberFormats, PublishedRecordsDecodeBackIntoRecords) {
  const payload_format fmt = GetParam();
  mosquitto_server broker;
  auto tmpl = *topic_template::parse(default_topic_template(fmt));
  client_events pub_ev, sub_ev;
  auto sub = make(opts(broker.url()), sub_ev);
  auto pub = make(opts(broker.url()), pub_ev);
  sub->subscribe(tmpl.subscription_filter());
  // Start both at once: Paho 1.3 notices a new socket only when its receive thread's select()
  // returns (up to 1 s while other connections are idle).
  sub->start();
  pub->start();
  ASSERT_TRUE(subscribed(sub_ev, 1));
  ASSERT_TRUE(pub->wait_connected(10s));
  std::vector<record> sent;
  std::vector<encoded_message> msgs;
  for (int i = 0; i < 10; ++i) {
    sent.push_back(sample(i));
    encode(sent.back(), fmt, tmpl, msgs);
  }
  for (const auto& m : msgs)
    while (!pub->publish(message{m.topic, m.payload}))
      ASSERT_TRUE(pub->wait_for_window(5s));
  ASSERT_TRUE(sub_ev.wait([&] { return sub_ev.messages.size() >= msgs.size(); }));
  std::lock_guard lk(sub_ev.mu);
  ASSERT_EQ(sub_ev.messages.size(), msgs.size());
  decode_options dopt;
  dopt.default_time_ns = 1;
  for (size_t i = 0; i < msgs.size(); ++i) {
    const auto& in = sub_ev.messages[i];
    std::string err;
    auto r = decode(in.topic, in.payload, fmt, tmpl, dopt, &err);
    ASSERT_TRUE(r) << err;
    if (fmt == payload_format::json) {
      EXPECT_EQ(*r, sent[i]);
      continue;
    }
    // Per-field formats: message i carries field i % 2 of record i / 2.
    const record& orig = sent[i / 2];
    const field& f = orig.fields[i % 2];
    ASSERT_EQ(r->fields.size(), 1u);
    EXPECT_EQ(r->fields[0].key, f.key);
    EXPECT_EQ(r->fields[0].value, f.value);
    EXPECT_EQ(*r->tag("meter"), *orig.tag("meter"));
    if (fmt == payload_format::smdc) {
      EXPECT_EQ(r->time_ns, orig.time_ns);
      EXPECT_EQ(r->fields[0].obis, short_obis(f.obis));
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Formats, MqttSubscriberFormats,
                         ::testing::Values(payload_format::smdc, payload_format::json,
                                           payload_format::value),
                         [](const auto& info) { return std::string(to_string(info.param)); });

TEST(MqttDiscoveryBroker, RetainedConfigsReachHomeAssistantAndBirthReannounces) {
  mosquitto_server broker;
  client_events ev;
  auto o = opts(broker.url());
  o.availability_topic = "wattline/test/availability";
  auto c = make(o, ev);
  client_events ha_ev;
  auto ha_pub = make(opts(broker.url()), ha_ev);
  c->subscribe("homeassistant/status");
  c->start();
  ha_pub->start();
  ASSERT_TRUE(subscribed(ev, 1));
  ASSERT_TRUE(ha_pub->wait_connected(10s));
  discovery_options d;
  d.availability_topic = o.availability_topic;
  discovery_tracker tracker(d);
  auto first = tracker.announce(sample(1));
  ASSERT_EQ(first.size(), 2u);
  for (const auto& m : first)
    ASSERT_TRUE(c->publish(message{m.topic, m.payload, 1, true}));
  ASSERT_TRUE(c->wait_idle(5s));
  // Home Assistant (simulated) subscribes later: the retained configs are there.
  test_subscriber ha({broker.url(), {"homeassistant/sensor/+/+/config"}, 1});
  ASSERT_TRUE(ha.wait_for(2));
  for (const auto& m : ha.messages())
    EXPECT_TRUE(m.retained);
  EXPECT_EQ(ha.messages()[0].topic, "homeassistant/sensor/M1/ACTIVE_POWER_P/config");
  // HA restarts and publishes its birth message: the sink re-announces everything.
  ha.clear();
  ASSERT_TRUE(ha_pub->publish(message{"homeassistant/status", "online"}));
  ASSERT_TRUE(ev.wait([&] {
    for (const auto& m : ev.messages)
      if (tracker.is_ha_birth(m.topic, m.payload))
        return true;
    return false;
  }));
  for (const auto& m : tracker.all())
    ASSERT_TRUE(c->publish(message{m.topic, m.payload, 1, true}));
  ASSERT_TRUE(ha.wait_for(2));
}
