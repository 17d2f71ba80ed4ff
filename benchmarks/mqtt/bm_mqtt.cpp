// Publish throughput of wattline::mqtt::client against a bare Paho C MQTTAsync publish loop, on
// the same mosquitto (started by the test harness), QoS, payload size and in-flight window.
// Also the cost of encoding records into smdc/json payloads.

#include "sinks/mqtt/client.hpp"
#include "sinks/mqtt/format.hpp"
#include "tests/mqtt/mosquitto_server.hpp"

#include <benchmark/benchmark.h>

#include <MQTTAsync.h>

#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <stdexcept>

namespace {

using namespace std::chrono_literals;

/// One broker for the whole run.
wattline::test::mosquitto_server& broker() {
  static wattline::test::mosquitto_options o = [] {
    wattline::test::mosquitto_options m;
    m.persistence = false;
    return m;
  }();
  static wattline::test::mosquitto_server server(o);
  return server;
}

constexpr int window = 20; // mosquitto's default max_inflight_messages

/// A bare Paho publisher: MQTTAsync_sendMessage with an onSuccess callback and a counting window.
class bare_paho {
public:
  explicit bare_paho(const std::string& url) {
    MQTTAsync_createOptions co = MQTTAsync_createOptions_initializer;
    co.MQTTVersion = MQTTVERSION_3_1_1;
    co.maxBufferedMessages = 1000;
    if (MQTTAsync_createWithOptions(&h_, url.c_str(), "bm-bare-paho", MQTTCLIENT_PERSISTENCE_NONE,
                                    nullptr, &co) != MQTTASYNC_SUCCESS)
      throw std::runtime_error("create failed");
    MQTTAsync_connectOptions c = MQTTAsync_connectOptions_initializer;
    c.MQTTVersion = MQTTVERSION_3_1_1;
    c.maxInflight = window;
    c.keepAliveInterval = 30;
    c.context = this;
    c.onSuccess = [](void* ctx, MQTTAsync_successData*) {
      auto* self = static_cast<bare_paho*>(ctx);
      std::lock_guard lk(self->mu_);
      self->connected_ = true;
      self->cv_.notify_all();
    };
    if (MQTTAsync_connect(h_, &c) != MQTTASYNC_SUCCESS)
      throw std::runtime_error("connect failed");
    std::unique_lock lk(mu_);
    if (!cv_.wait_for(lk, 10s, [&] { return connected_; }))
      throw std::runtime_error("bare paho: not connected");
  }
  ~bare_paho() {
    MQTTAsync_disconnectOptions d = MQTTAsync_disconnectOptions_initializer;
    d.timeout = 1000;
    MQTTAsync_disconnect(h_, &d);
    MQTTAsync_destroy(&h_);
  }

  void publish(const std::string& topic, const std::string& payload, int qos) {
    {
      std::unique_lock lk(mu_);
      cv_.wait(lk, [&] { return inflight_ < window; });
      ++inflight_;
    }
    MQTTAsync_message m = MQTTAsync_message_initializer;
    m.payload = const_cast<char*>(payload.data());
    m.payloadlen = static_cast<int>(payload.size());
    m.qos = qos;
    MQTTAsync_responseOptions ro = MQTTAsync_responseOptions_initializer;
    ro.context = this;
    ro.onSuccess = [](void* ctx, MQTTAsync_successData*) { static_cast<bare_paho*>(ctx)->done(); };
    ro.onFailure = [](void* ctx, MQTTAsync_failureData*) { static_cast<bare_paho*>(ctx)->done(); };
    if (MQTTAsync_sendMessage(h_, topic.c_str(), &m, &ro) != MQTTASYNC_SUCCESS)
      throw std::runtime_error("bare paho: send refused");
  }

  void drain() {
    std::unique_lock lk(mu_);
    cv_.wait(lk, [&] { return inflight_ == 0; });
  }

private:
  void done() {
    std::lock_guard lk(mu_);
    --inflight_;
    cv_.notify_all();
  }

  MQTTAsync h_ = nullptr;
  std::mutex mu_;
  std::condition_variable cv_;
  bool connected_ = false;
  int inflight_ = 0;
};

/// The wattline client, used the way a non-actor caller would: publish, wait for window room.
class wattline_publisher {
public:
  explicit wattline_publisher(const std::string& url) {
    wattline::mqtt::client_options o;
    o.url = url;
    o.client_id = "bm-wattline";
    o.max_inflight = window;
    std::string err;
    c_ = wattline::mqtt::client::create(o, {}, &err);
    if (!c_)
      throw std::runtime_error(err);
    c_->start();
    if (!c_->wait_connected(10s))
      throw std::runtime_error("wattline client: not connected: " + c_->last_error());
  }

  void publish(const std::string& topic, const std::string& payload, int qos) {
    for (;;) {
      auto r = c_->publish(wattline::mqtt::message{topic, payload, qos});
      if (r)
        return;
      if (r.error != wattline::mqtt::publish_error::window_full)
        throw std::runtime_error("wattline publish refused: " + r.detail);
      c_->wait_for_window(10s);
    }
  }

  void drain() { c_->wait_idle(30s); }

private:
  std::unique_ptr<wattline::mqtt::client> c_;
};

template <class Publisher>
void run_publish(benchmark::State& state) {
  const int qos = static_cast<int>(state.range(0));
  const std::string payload(static_cast<size_t>(state.range(1)), 'x');
  static std::unique_ptr<Publisher> pub; // one connection per publisher type for the whole run
  if (!pub)
    pub = std::make_unique<Publisher>(broker().url());
  const std::string topic = "bm/publish";
  for (auto _ : state)
    pub->publish(topic, payload, qos);
  pub->drain();
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(payload.size()));
}

void BM_BarePahoPublish(benchmark::State& state) {
  run_publish<bare_paho>(state);
}
void BM_WattlinePublish(benchmark::State& state) {
  run_publish<wattline_publisher>(state);
}

// Args: {qos, payload bytes}. Interleaved so that both run under the same broker conditions.
BENCHMARK(BM_BarePahoPublish)->Args({0, 64})->MinTime(2.0)->UseRealTime();
BENCHMARK(BM_WattlinePublish)->Args({0, 64})->MinTime(2.0)->UseRealTime();
BENCHMARK(BM_BarePahoPublish)->Args({1, 64})->MinTime(2.0)->UseRealTime();
BENCHMARK(BM_WattlinePublish)->Args({1, 64})->MinTime(2.0)->UseRealTime();
BENCHMARK(BM_BarePahoPublish)->Args({1, 1024})->MinTime(2.0)->UseRealTime();
BENCHMARK(BM_WattlinePublish)->Args({1, 1024})->MinTime(2.0)->UseRealTime();

/// Paired comparison, robust against a machine whose load changes during the run: each
/// benchmark iteration publishes a round of messages with the bare Paho loop and then the same
/// round with the wattline client (alternating which goes first), and sums the wall time of each.
/// Counters: bare_msgs_per_s, wattline_msgs_per_s and ratio (wattline / bare).
void BM_PairedRatio(benchmark::State& state) {
  const int qos = static_cast<int>(state.range(0));
  const std::string payload(static_cast<size_t>(state.range(1)), 'x');
  constexpr int round = 2000;
  static std::unique_ptr<bare_paho> bare;
  static std::unique_ptr<wattline_publisher> ours;
  if (!bare)
    bare = std::make_unique<bare_paho>(broker().url());
  if (!ours)
    ours = std::make_unique<wattline_publisher>(broker().url());
  const std::string topic = "bm/paired";
  double bare_s = 0, ours_s = 0;
  int64_t n = 0;
  auto timed = [&](auto& pub) {
    auto t0 = std::chrono::steady_clock::now();
    for (int i = 0; i < round; ++i)
      pub.publish(topic, payload, qos);
    pub.drain();
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  };
  for (auto _ : state) {
    if (n % 2 == 0) {
      bare_s += timed(*bare);
      ours_s += timed(*ours);
    } else {
      ours_s += timed(*ours);
      bare_s += timed(*bare);
    }
    ++n;
  }
  const double msgs = static_cast<double>(n) * round;
  state.counters["bare_msgs_per_s"] = msgs / bare_s;
  state.counters["wattline_msgs_per_s"] = msgs / ours_s;
  state.counters["ratio"] = bare_s / ours_s;
  state.SetItemsProcessed(2 * n * round);
}
BENCHMARK(BM_PairedRatio)
    ->Args({0, 64})
    ->Iterations(20)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);
BENCHMARK(BM_PairedRatio)
    ->Args({1, 64})
    ->Iterations(20)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);
BENCHMARK(BM_PairedRatio)
    ->Args({1, 1024})
    ->Iterations(20)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

wattline::record sample_record() {
  wattline::record r;
  r.name = "smartmeter";
  r.tags = {{"meter", "LGZ1030655933512"}};
  r.time_ns = 1'625'583'498'000'000'000;
  const char* keys[] = {"ACTIVE_POWER_P", "ACTIVE_POWER_N", "ACTIVE_ENERGY_P", "ACTIVE_ENERGY_N",
                        "CURRENT_L1",     "CURRENT_L2",     "CURRENT_L3",      "VOLTAGE_L1",
                        "VOLTAGE_L2",     "VOLTAGE_L3"};
  double v = 1.5;
  for (const char* k : keys)
    r.fields.push_back(wattline::field{k, v *= 3.7, "W", "1-0:1.7.0*255"});
  return r;
}

void BM_EncodeRecord(benchmark::State& state) {
  const auto fmt = static_cast<wattline::mqtt::payload_format>(state.range(0));
  const auto tmpl =
      *wattline::mqtt::topic_template::parse(wattline::mqtt::default_topic_template(fmt));
  const auto r = sample_record();
  std::vector<wattline::mqtt::encoded_message> out;
  for (auto _ : state) {
    out.clear();
    wattline::mqtt::encode(r, fmt, tmpl, out);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(state.iterations()); // records (10 fields each)
  state.SetLabel(std::string(wattline::mqtt::to_string(fmt)));
}
BENCHMARK(BM_EncodeRecord)
    ->Arg(static_cast<int>(wattline::mqtt::payload_format::smdc))
    ->Arg(static_cast<int>(wattline::mqtt::payload_format::json))
    ->Arg(static_cast<int>(wattline::mqtt::payload_format::value));

} // namespace

BENCHMARK_MAIN();
