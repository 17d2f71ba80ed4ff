// End-to-end tests of the client against a real mosquitto on 127.0.0.1.

#include "sinks/mqtt/client.hpp"
#include "sinks/mqtt/format.hpp"
#include "sinks/mqtt/outbox.hpp"
#include "tests/mqtt/client_events.hpp"
#include "tests/mqtt/mosquitto_server.hpp"

#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <atomic>
#include <csignal>
#include <deque>
#include <map>
#include <netinet/in.h>
#include <set>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>

using namespace std::chrono_literals;
using namespace wattline;
using namespace wattline::mqtt;
using wattline::test::client_events;
using wattline::test::mosquitto_options;
using wattline::test::mosquitto_server;
using wattline::test::test_subscriber;

namespace {

std::unique_ptr<client> make_client(client_options o, client_events& ev) {
  std::string err;
  auto c = client::create(std::move(o), ev.callbacks(), &err);
  EXPECT_NE(c, nullptr) << err;
  return c;
}

client_options fast_options(const std::string& url) {
  client_options o;
  o.url = url;
  o.reconnect.initial_delay = 50ms;
  o.reconnect.max_delay = 400ms;
  o.connect_timeout = 5s;
  return o;
}

std::vector<record> make_records(size_t n) {
  std::vector<record> out;
  for (size_t i = 0; i < n; ++i) {
    record r;
    r.name = "smartmeter";
    r.tags = {{"meter", i % 2 ? "LGZ1" : "LGZ2"}};
    r.time_ns = static_cast<int64_t>(1'700'000'000 + i) * 1'000'000'000;
    r.fields = {field{"ACTIVE_POWER_P", 100.0 + static_cast<double>(i) / 4, "W", "1-0:1.7.0*255"},
                field{"ACTIVE_ENERGY_P", 5000.5 + static_cast<double>(i), "Wh", "1-0:1.8.0*255"},
                field{"CURRENT_L1", 0.01 * static_cast<double>(i), "A", "1-0:31.7.0*255"}};
    out.push_back(std::move(r));
  }
  return out;
}

/// Publishes all messages in order, waiting (with deadlines) for window room or connection.
void publish_all(client& c, const std::vector<encoded_message>& msgs, int qos) {
  for (const auto& m : msgs) {
    for (;;) {
      auto r = c.publish(message{m.topic, m.payload, qos, std::nullopt, 0});
      if (r)
        break;
      ASSERT_EQ(r.error, publish_error::window_full) << r.detail;
      ASSERT_TRUE(c.wait_for_window(5s));
    }
  }
}

} // namespace

class MqttClientQos : public ::testing::TestWithParam<int> {};

TEST_P(MqttClientQos, PublishedRecordsArriveWithExactPayloads) {
  const int qos = GetParam();
  mosquitto_server broker;
  test_subscriber sub({broker.url(), {"smartmeter/#"}, 2});
  client_events ev;
  auto o = fast_options(broker.url());
  auto c = make_client(o, ev);
  c->start();
  ASSERT_TRUE(c->wait_connected(10s)) << c->last_error();

  auto records = make_records(100);
  std::vector<encoded_message> msgs;
  auto tmpl = *topic_template::parse("smartmeter/{tags.meter}/{field}");
  for (const auto& r : records)
    encode(r, payload_format::smdc, tmpl, msgs);
  ASSERT_EQ(msgs.size(), 300u);
  publish_all(*c, msgs, qos);

  ASSERT_TRUE(sub.wait_for(msgs.size(), 10s)) << sub.count() << "\n" << broker.log();
  ASSERT_TRUE(ev.wait([&] { return ev.deliveries.size() == msgs.size(); }));
  auto got = sub.messages();
  ASSERT_EQ(got.size(), msgs.size());
  for (size_t i = 0; i < msgs.size(); ++i) {
    EXPECT_EQ(got[i].topic, msgs[i].topic) << i;
    EXPECT_EQ(got[i].payload, msgs[i].payload) << i;
    EXPECT_EQ(got[i].qos, qos);
    EXPECT_FALSE(got[i].retained);
  }
  EXPECT_EQ(got[0].payload, R"({"value": 100.0, "timestamp": 1700000000, "obis": "1.7.0"})");
  for (const auto& d : ev.deliveries) {
    EXPECT_TRUE(d.delivered) << d.error;
    EXPECT_EQ(d.qos, qos);
  }
  auto s = c->stats();
  EXPECT_EQ(s.published, msgs.size());
  EXPECT_EQ(s.delivered, msgs.size());
  EXPECT_EQ(s.failed, 0u);
  EXPECT_EQ(c->in_flight(), 0u);
}

INSTANTIATE_TEST_SUITE_P(Qos, MqttClientQos, ::testing::Values(0, 1, 2),
                         [](const auto& info) { return "Qos" + std::to_string(info.param); });

TEST(MqttClient, Mqtt5PublishesAndReportsDelivery) {
  mosquitto_server broker;
  test_subscriber sub({broker.url(), {"v5/#"}, 1});
  client_events ev;
  auto o = fast_options(broker.url());
  o.version = protocol_version::v5;
  auto c = make_client(o, ev);
  c->start();
  ASSERT_TRUE(c->wait_connected(10s)) << c->last_error();
  for (int i = 0; i < 20; ++i)
    ASSERT_TRUE(c->publish(message{"v5/t", "m" + std::to_string(i)}));
  ASSERT_TRUE(sub.wait_for(20));
  ASSERT_TRUE(ev.wait([&] { return ev.deliveries.size() == 20; }));
  for (const auto& d : ev.deliveries)
    EXPECT_TRUE(d.delivered) << d.error;
  EXPECT_EQ(sub.messages()[19].payload, "m19");
}

TEST(MqttClient, RetainedMessageReachesLateSubscriber) {
  mosquitto_server broker;
  client_events ev;
  auto c = make_client(fast_options(broker.url()), ev);
  c->start();
  ASSERT_TRUE(c->wait_connected(10s));
  ASSERT_TRUE(c->publish(message{"state/meter1", "42.0", 1, true}));
  ASSERT_TRUE(c->publish(message{"state/meter2", "7.0", 1, false}));
  ASSERT_TRUE(ev.wait([&] { return ev.deliveries.size() == 2; }));
  test_subscriber late({broker.url(), {"state/#"}, 1});
  ASSERT_TRUE(late.wait_for(1));
  auto got = late.messages();
  EXPECT_EQ(got[0].topic, "state/meter1");
  EXPECT_EQ(got[0].payload, "42.0");
  EXPECT_TRUE(got[0].retained);
  // The non-retained message is not replayed: publish a marker and check order.
  ASSERT_TRUE(c->publish(message{"state/marker", "x", 1, false}));
  ASSERT_TRUE(late.wait_for(2));
  EXPECT_EQ(late.messages().size(), 2u);
  EXPECT_EQ(late.messages()[1].topic, "state/marker");
}

TEST(MqttClient, AvailabilityOnlineAfterConnectAndOfflineOnStop) {
  mosquitto_server broker;
  test_subscriber sub({broker.url(), {"wattline/+/availability"}, 1});
  client_events ev;
  auto o = fast_options(broker.url());
  o.availability_topic = "wattline/test/availability";
  auto c = make_client(o, ev);
  c->start();
  ASSERT_TRUE(
      sub.wait_until([](const auto& m) { return !m.empty() && m.back().payload == "online"; }));
  c->stop();
  ASSERT_TRUE(
      sub.wait_until([](const auto& m) { return !m.empty() && m.back().payload == "offline"; }));
  EXPECT_EQ(sub.messages().back().topic, "wattline/test/availability");
  // Retained: a new subscriber sees "offline" at once.
  test_subscriber late({broker.url(), {"wattline/test/availability"}, 1});
  ASSERT_TRUE(late.wait_for(1));
  EXPECT_EQ(late.messages()[0].payload, "offline");
  EXPECT_TRUE(late.messages()[0].retained);
}

TEST(MqttClient, LastWillOfflineWhenProcessIsKilled) {
  mosquitto_server broker;
  test_subscriber sub({broker.url(), {"lwt/availability"}, 1});
  wattline::test::temp_dir tmp;
  wattline::test::child_process helper({MQTT_LWT_HELPER, broker.url(), "lwt/availability"},
                                       tmp / "helper.log");
  ASSERT_TRUE(sub.wait_until([](const auto& m) {
    return !m.empty() && m.back().payload == "online";
  })) << helper.log();
  helper.signal(SIGKILL);
  EXPECT_EQ(helper.wait(5s), 128 + SIGKILL);
  ASSERT_TRUE(sub.wait_until([](const auto& m) {
    return !m.empty() && m.back().payload == "offline";
  })) << broker.log();
  test_subscriber late({broker.url(), {"lwt/availability"}, 1});
  ASSERT_TRUE(late.wait_for(1));
  EXPECT_EQ(late.messages()[0].payload, "offline");
  EXPECT_TRUE(late.messages()[0].retained);
}

TEST(MqttClient, InFlightWindowIsBounded) {
  mosquitto_server broker;
  client_events ev;
  auto o = fast_options(broker.url());
  o.max_inflight = 4;
  auto c = make_client(o, ev);
  c->start();
  ASSERT_TRUE(c->wait_connected(10s));
  size_t accepted = 0, refused = 0;
  while (accepted < 200) {
    auto r = c->publish(message{"window/t", std::string(2000, 'x')});
    EXPECT_LE(c->in_flight(), 4u);
    if (r) {
      ++accepted;
    } else {
      ASSERT_EQ(r.error, publish_error::window_full) << r.detail;
      ++refused;
      ASSERT_TRUE(c->wait_for_window(5s));
    }
  }
  EXPECT_GT(refused, 0u);
  ASSERT_TRUE(c->wait_idle(10s));
  EXPECT_EQ(c->stats().delivered, 200u);
}

TEST(MqttClient, PublishWhileDisconnectedIsRefusedNotLost) {
  client_events ev;
  auto o = fast_options("tcp://127.0.0.1:" + std::to_string(wattline::test::free_tcp_port()));
  auto c = make_client(o, ev);
  auto r = c->publish(message{"a/b", "x"});
  EXPECT_EQ(r.error, publish_error::not_connected);
  EXPECT_EQ(c->publish(message{"a/+", "x"}).error, publish_error::invalid);
  EXPECT_EQ(c->publish(message{"a/b", "x", 3}).error, publish_error::invalid);
  c->stop();
  EXPECT_EQ(c->publish(message{"a/b", "x"}).error, publish_error::stopped);
}

TEST(MqttClient, WrongPasswordGivesClearErrorWithoutPassword) {
  const std::string secret = "Sup3r-Secret-Pw!";
  mosquitto_options mo;
  mo.users = {{"alice", "correct-horse"}};
  mosquitto_server broker(mo);
  client_events ev;
  auto o = fast_options(broker.url());
  o.username = "alice";
  o.password = secret;
  auto c = make_client(o, ev);
  c->start();
  ASSERT_TRUE(ev.wait([&] { return ev.count(connection_event::kind::connect_failed) >= 2; }));
  c->stop();
  std::string detail;
  {
    std::lock_guard lk(ev.mu);
    detail = ev.connection.front().detail;
  }
  EXPECT_NE(detail.find(broker.url()), std::string::npos) << detail;
  EXPECT_TRUE(detail.find("not authorized") != std::string::npos ||
              detail.find("bad user name or password") != std::string::npos)
      << detail;
  EXPECT_EQ(ev.all_text().find(secret), std::string::npos) << ev.all_text();
  EXPECT_EQ(c->last_error().find(secret), std::string::npos);
  EXPECT_FALSE(c->connected());

  // The right password connects.
  client_events ok_ev;
  o.password = "correct-horse";
  auto ok = make_client(o, ok_ev);
  ok->start();
  EXPECT_TRUE(ok->wait_connected(10s)) << ok->last_error();
}

TEST(MqttClient, CredentialsInTheUrlAreUsedButNeverShown) {
  mosquitto_options mo;
  mo.users = {{"bob", "url-pass-123"}};
  mosquitto_server broker(mo);
  client_events ev;
  auto o = fast_options("tcp://bob:url-pass-123@127.0.0.1:" + std::to_string(broker.port()));
  auto c = make_client(o, ev);
  EXPECT_EQ(c->url(), broker.url());
  c->start();
  ASSERT_TRUE(c->wait_connected(10s)) << c->last_error();
  c->stop();
  EXPECT_EQ(ev.all_text().find("url-pass-123"), std::string::npos) << ev.all_text();
}

TEST(MqttClient, UnreachableBrokerGivesClearErrorAndKeepsRetrying) {
  const int port = wattline::test::free_tcp_port();
  const std::string url = "tcp://127.0.0.1:" + std::to_string(port);
  client_events ev;
  auto o = fast_options("tcp://carol:Unreachable-Pw-9@127.0.0.1:" + std::to_string(port));
  o.reconnect.initial_delay = 20ms;
  o.reconnect.max_delay = 80ms;
  auto c = make_client(o, ev);
  c->start();
  ASSERT_TRUE(ev.wait([&] { return ev.count(connection_event::kind::connect_failed) >= 4; }));
  {
    std::lock_guard lk(ev.mu);
    const auto& e = ev.connection.front();
    EXPECT_NE(e.detail.find(url), std::string::npos) << e.detail;
    EXPECT_NE(e.detail.find("connect failed"), std::string::npos) << e.detail;
    EXPECT_NE(e.detail.find("retrying in"), std::string::npos) << e.detail;
    // Backoff grows up to the cap (with +-20% jitter).
    for (const auto& x : ev.connection)
      EXPECT_LE(x.retry_in.count(), 80 * 1.2 + 1);
  }
  EXPECT_EQ(ev.all_text().find("Unreachable-Pw-9"), std::string::npos) << ev.all_text();
  // The broker comes up on that port: the client connects by itself.
  mosquitto_options mo;
  mo.users = {{"carol", "Unreachable-Pw-9"}};
  auto broker = std::make_unique<mosquitto_server>(mo);
  // (the harness picked its own port; reconnect is proven in MqttOutage)
  EXPECT_FALSE(c->connected());
  c->stop();
  EXPECT_EQ(c->state(), connection_state::stopped);
}

TEST(MqttOutage, BrokerRestartLosesNothingWhenCallerResendsFailures) {
  constexpr size_t total = 1000;
  mosquitto_server broker;
  test_subscriber::options so{broker.url(), {"outage/#"}, 1};
  so.clean_session = false;
  so.client_id = "outage-sub-" + std::to_string(::getpid());
  test_subscriber sub(so);

  // The caller works like an actor: callbacks only enqueue events; one thread owns the outbox
  // and applies them in order.
  std::mutex qmu;
  std::condition_variable qcv;
  std::deque<delivery_report> reports;
  bool connection_changed = false;
  client_events ev;
  auto cb = ev.callbacks();
  cb.on_delivery = [&](const delivery_report& r) {
    std::lock_guard lk(qmu);
    reports.push_back(r);
    qcv.notify_all();
  };
  auto on_conn = cb.on_connection;
  cb.on_connection = [&, on_conn](const connection_event& e) {
    on_conn(e);
    std::lock_guard lk(qmu);
    connection_changed = true;
    qcv.notify_all();
  };
  auto o = fast_options(broker.url());
  o.reconnect.initial_delay = 50ms;
  o.reconnect.max_delay = 300ms;
  std::string err;
  auto c = client::create(o, cb, &err);
  ASSERT_NE(c, nullptr) << err;
  c->start();
  ASSERT_TRUE(c->wait_connected(10s));

  outbox box;
  for (size_t i = 0; i < total; ++i) {
    message m{"outage/seq", std::to_string(i), 1};
    m.tag = i;
    ASSERT_TRUE(box.push(std::move(m)));
  }
  std::set<uint64_t> delivered_tags;
  bool restarted = false;
  std::thread outage;
  bool outage_ok = false;
  std::atomic<bool> restart_due{false};
  auto deadline = std::chrono::steady_clock::now() + 30s;
  while (!box.empty()) {
    ASSERT_LT(std::chrono::steady_clock::now(), deadline)
        << "stuck: " << box.pending() << " pending, " << box.in_flight() << " in flight; state "
        << static_cast<int>(c->state()) << "; broker exit status " << broker.exit_status()
        << "; last error: " << c->last_error() << "\n"
        << ev.all_text() << broker.log();
    box.pump(*c);
    std::deque<delivery_report> batch;
    {
      std::unique_lock lk(qmu);
      qcv.wait_for(lk, 1s, [&] { return !reports.empty() || connection_changed; });
      batch.swap(reports);
      connection_changed = false;
    }
    for (const auto& r : batch) {
      auto a = box.apply(r);
      ASSERT_TRUE(a.known);
      if (a.delivered) {
        EXPECT_TRUE(delivered_tags.insert(a.tag).second) << "tag delivered twice: " << a.tag;
      }
    }
    if (!restarted && box.stats().delivered >= 300) {
      // Stop the broker from another thread while this one keeps publishing; it stays down
      // until the client failed to reconnect three times (about a second), then comes back.
      restarted = true;
      // (start() stays on this thread: the broker process dies with the thread that forked it.)
      outage = std::thread([&] {
        broker.stop();
        outage_ok =
            ev.wait([&] { return ev.count(connection_event::kind::connect_failed) >= 3; }, 10s);
        restart_due = true;
      });
    }
    if (restart_due.exchange(false)) {
      outage.join();
      broker.start();
    }
  }
  if (outage.joinable())
    outage.join();
  EXPECT_TRUE(outage_ok);
  ASSERT_TRUE(restarted);
  EXPECT_EQ(delivered_tags.size(), total);
  EXPECT_GE(ev.count(connection_event::kind::connection_lost), 1u);
  EXPECT_GE(c->stats().connects, 2u);

  ASSERT_TRUE(sub.wait_until(
      [&](const auto& msgs) {
        std::set<std::string> seen;
        for (const auto& m : msgs)
          seen.insert(m.payload);
        return seen.size() == total;
      },
      15s))
      << "subscriber has " << sub.count() << " messages";
  auto msgs = sub.messages();
  std::set<std::string> seen;
  for (const auto& m : msgs)
    seen.insert(m.payload);
  EXPECT_EQ(seen.size(), total) << "zero records lost";
  const size_t duplicates = msgs.size() - seen.size();
  const auto s = c->stats();
  // Duplicates come from resends of messages whose acknowledgement was lost (QoS 1), and from
  // the broker redelivering unacknowledged messages to the persistent subscriber.
  RecordProperty("duplicates", static_cast<int>(duplicates));
  RecordProperty("resent", static_cast<int>(box.stats().resent));
  // Whether messages were in flight at the moment the broker stopped depends on timing (the
  // resend path itself is proven deterministically by UnacknowledgedMessagesAreReportedFailed...).
  EXPECT_EQ(box.stats().resent, s.resent);
  EXPECT_EQ(s.delivered, total);
  std::printf("outage: %zu received, %zu duplicates at the subscriber, %llu resent, %llu reported "
              "failed\n",
              msgs.size(), duplicates, static_cast<unsigned long long>(box.stats().resent),
              static_cast<unsigned long long>(s.failed));
}

namespace {

/// A fake broker on 127.0.0.1 that accepts one MQTT connection, answers CONNACK, reads `n`
/// PUBLISH packets without acknowledging any, then closes the connection.
class silent_broker {
public:
  explicit silent_broker(int n) : n_(n) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int one = 1;
    ::setsockopt(fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    ::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof(a));
    socklen_t len = sizeof(a);
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
    ::listen(fd_, 4);
    thread_ = std::thread([this] { run(); });
  }
  ~silent_broker() {
    ::shutdown(fd_, SHUT_RDWR);
    ::close(fd_);
    thread_.join();
  }
  int port() const { return port_; }
  int received() const { return received_.load(); }

private:
  static bool read_packet(int c, uint8_t& type) {
    uint8_t h;
    if (::recv(c, &h, 1, MSG_WAITALL) != 1)
      return false;
    size_t len = 0, mult = 1;
    uint8_t b;
    do {
      if (::recv(c, &b, 1, MSG_WAITALL) != 1)
        return false;
      len += (b & 0x7F) * mult;
      mult *= 128;
    } while (b & 0x80);
    std::string body(len, '\0');
    if (len > 0 && ::recv(c, body.data(), len, MSG_WAITALL) != static_cast<ssize_t>(len))
      return false;
    type = h >> 4;
    return true;
  }
  void run() {
    int c = ::accept(fd_, nullptr, nullptr);
    if (c < 0)
      return;
    uint8_t type = 0;
    if (read_packet(c, type) && type == 1) {
      const char connack[] = {0x20, 0x02, 0x00, 0x00};
      ::send(c, connack, sizeof(connack), MSG_NOSIGNAL);
      while (received_ < n_ && read_packet(c, type))
        if (type == 3)
          ++received_;
    }
    ::close(c); // connection lost with every publish unacknowledged
  }

  int n_;
  int fd_ = -1;
  int port_ = 0;
  std::atomic<int> received_{0};
  std::thread thread_;
};

} // namespace

TEST(MqttOutage, UnacknowledgedMessagesAreReportedFailedAndResentByTheOutbox) {
  silent_broker fake(10);
  client_events ev;
  auto o = fast_options("tcp://127.0.0.1:" + std::to_string(fake.port()));
  o.reconnect.initial_delay = 5s; // no reconnect during the test
  auto c = make_client(o, ev);
  c->start();
  ASSERT_TRUE(c->wait_connected(10s));
  outbox box;
  for (uint64_t i = 0; i < 10; ++i) {
    message m{"silent/t", std::to_string(i), 1};
    m.tag = i;
    box.push(std::move(m));
  }
  EXPECT_EQ(box.pump(*c), 10u);
  EXPECT_EQ(box.in_flight(), 10u);
  // The fake broker reads all ten, acknowledges none and drops the connection.
  ASSERT_TRUE(ev.wait([&] { return ev.deliveries.size() == 10; }));
  std::vector<delivery_report> reports;
  {
    std::lock_guard lk(ev.mu);
    reports = ev.deliveries;
  }
  for (const auto& r : reports) {
    EXPECT_FALSE(r.delivered);
    EXPECT_NE(r.error.find("before acknowledgement"), std::string::npos) << r.error;
    auto a = box.apply(r);
    EXPECT_TRUE(a.known);
    EXPECT_FALSE(a.delivered);
  }
  EXPECT_EQ(box.pending(), 10u);
  EXPECT_EQ(box.in_flight(), 0u);
  // Paho may report the interrupted publishes before the connection_lost event: wait for it.
  ASSERT_TRUE(ev.wait([&] { return ev.count(connection_event::kind::connection_lost) == 1; }));
  EXPECT_EQ(c->stats().failed, 10u);
  EXPECT_EQ(c->in_flight(), 0u);
  // Not connected: the outbox keeps them; nothing is lost and nothing counted as resent yet.
  EXPECT_EQ(box.pump(*c), 0u);
  EXPECT_EQ(box.pending(), 10u);
  EXPECT_EQ(box.stats().resent, 0u);
}
