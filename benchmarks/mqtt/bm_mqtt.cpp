// Publish throughput of wattline::mqtt::client against a bare Paho C MQTTAsync publish loop, on
// the same mosquitto (started by the test harness), QoS, payload size and in-flight window.
// Also the cost of encoding records into smdc/json payloads, and the `mqtt` sink running in the
// real `wattline` binary (file source -> mqtt sink) against the bare loop, timed at a subscriber.

#include "sinks/mqtt/client.hpp"
#include "sinks/mqtt/format.hpp"
#include "tests/mqtt/mosquitto_server.hpp"

#include <benchmark/benchmark.h>

#include <MQTTAsync.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <thread>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#ifndef WATTLINE_EXECUTABLE
#error "WATTLINE_EXECUTABLE (path of the wattline binary) must be defined by CMake"
#endif

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

/// A counting MQTT 3.1.1 subscriber on a plain socket (independent of Paho and of wattline),
/// built to stay ahead of the publishers: it reads 64 KiB at a time, parses packets in place and
/// keeps only the number of PUBLISH packets, the arrival time of the first and of the last one,
/// and the first message (for a sanity check). Subscribes at QoS 0, so it sends nothing back.
class counting_subscriber {
public:
  using clock = std::chrono::steady_clock;

  counting_subscriber(int port, const std::string& filter) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    if (fd_ < 0)
      throw std::runtime_error("socket failed");
    int one = 1;
    ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    int rcvbuf = 4 << 20;
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(static_cast<uint16_t>(port));
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
      ::close(fd_);
      throw std::runtime_error("counting_subscriber: connect failed");
    }
    std::string connect_body;
    put_str(connect_body, "MQTT");
    connect_body += '\x04';               // 3.1.1
    connect_body += '\x02';               // clean session
    connect_body += std::string(2, '\0'); // no keepalive
    put_str(connect_body, "bm-counting-subscriber");
    std::string sub_body = std::string("\x00\x01", 2); // packet id 1
    put_str(sub_body, filter);
    sub_body += '\x00'; // QoS 0
    send_all(packet(0x10, connect_body) + packet(0x82, sub_body));
    worker_ = std::thread([this] { read_loop(); });
    bool ok = false;
    {
      std::unique_lock lk(mu_);
      ok = cv_.wait_for(lk, 10s, [&] { return subscribed_ || closed_; }) && subscribed_;
    }
    if (!ok) {
      close(); // members are destroyed during unwinding, the destructor does not run
      throw std::runtime_error("counting_subscriber: no CONNACK/SUBACK within 10 s");
    }
  }

  ~counting_subscriber() { close(); }
  counting_subscriber(const counting_subscriber&) = delete;
  counting_subscriber& operator=(const counting_subscriber&) = delete;

  /// Forgets what was counted.
  void reset() {
    std::lock_guard lk(mu_);
    count_ = 0;
    first_topic_.clear();
    first_payload_.clear();
  }

  /// What arrived since the last reset.
  struct result {
    size_t count = 0;
    /// First to last arrival, seconds.
    double seconds = 0;
    std::string first_topic;
    std::string first_payload;
  };

  /// Waits until `n` messages arrived, or `idle` passed without a new one (lost messages), or
  /// 60 s without any.
  result wait(size_t n, std::chrono::milliseconds idle = 1000ms) {
    std::unique_lock lk(mu_);
    target_ = n;
    const auto start = clock::now();
    while (count_ < n && !closed_) {
      cv_.wait_for(lk, 50ms);
      const auto now = clock::now();
      if (count_ == 0 ? now - start > 60s : now - last_ > idle)
        break;
    }
    target_ = 0;
    return {count_, std::chrono::duration<double>(last_ - first_).count(), first_topic_,
            first_payload_};
  }

private:
  /// Ends the reader thread and closes the socket.
  void close() {
    if (fd_ < 0)
      return;
    ::shutdown(fd_, SHUT_RDWR);
    if (worker_.joinable())
      worker_.join();
    ::close(fd_);
    fd_ = -1;
  }

  static void put_str(std::string& out, const std::string& s) {
    out += static_cast<char>(s.size() >> 8);
    out += static_cast<char>(s.size() & 0xff);
    out += s;
  }
  static std::string packet(uint8_t header, const std::string& body) {
    std::string out(1, static_cast<char>(header));
    size_t len = body.size();
    do {
      uint8_t b = len % 128;
      len /= 128;
      out += static_cast<char>(len > 0 ? b | 0x80 : b);
    } while (len > 0);
    return out + body;
  }
  void send_all(const std::string& data) {
    size_t off = 0;
    while (off < data.size()) {
      ssize_t r = ::send(fd_, data.data() + off, data.size() - off, MSG_NOSIGNAL);
      if (r <= 0)
        throw std::runtime_error("counting_subscriber: send failed");
      off += static_cast<size_t>(r);
    }
  }

  void read_loop() {
    std::vector<char> buf(1 << 16);
    size_t have = 0;
    for (;;) {
      if (have == buf.size())
        buf.resize(buf.size() * 2); // a packet larger than the buffer
      ssize_t r = ::recv(fd_, buf.data() + have, buf.size() - have, 0);
      if (r <= 0) {
        if (r < 0 && errno == EINTR)
          continue;
        break;
      }
      have += static_cast<size_t>(r);
      const auto now = clock::now();
      size_t pos = 0, publishes = 0;
      const char* first_publish = nullptr;
      size_t first_len = 0;
      bool suback = false;
      for (;;) { // complete packets in buf[pos, have)
        if (have - pos < 2)
          break;
        size_t len = 0, mult = 1, i = pos + 1;
        bool complete_length = false;
        while (i < have && i < pos + 5) {
          const auto b = static_cast<uint8_t>(buf[i++]);
          len += (b & 0x7F) * mult;
          mult *= 128;
          if ((b & 0x80) == 0) {
            complete_length = true;
            break;
          }
        }
        if (!complete_length || have - i < len)
          break;
        const uint8_t type = static_cast<uint8_t>(buf[pos]) >> 4;
        if (type == 3) {
          if (publishes++ == 0) {
            first_publish = buf.data() + i;
            first_len = len;
          }
        } else if (type == 9) {
          suback = true;
        }
        pos = i + len;
      }
      {
        std::lock_guard lk(mu_);
        if (suback)
          subscribed_ = true;
        if (publishes > 0) {
          if (count_ == 0) {
            first_ = now;
            const size_t tlen = (static_cast<uint8_t>(first_publish[0]) << 8) |
                                static_cast<uint8_t>(first_publish[1]);
            first_topic_.assign(first_publish + 2, tlen);
            first_payload_.assign(first_publish + 2 + tlen, first_len - 2 - tlen); // QoS 0
          }
          count_ += publishes;
          last_ = now;
        }
        if (suback || (target_ > 0 && count_ >= target_))
          cv_.notify_all();
      }
      std::memmove(buf.data(), buf.data() + pos, have - pos);
      have -= pos;
    }
    std::lock_guard lk(mu_);
    closed_ = true;
    cv_.notify_all();
  }

  int fd_ = -1;
  std::mutex mu_;
  std::condition_variable cv_;
  bool subscribed_ = false;
  bool closed_ = false;
  size_t target_ = 0;
  size_t count_ = 0;
  clock::time_point first_{};
  clock::time_point last_{};
  std::string first_topic_;
  std::string first_payload_;
  std::thread worker_;
};

/// The sink side of BM_SinkPaired: a jsonl file of `n` one-field records and pipeline files for
/// each QoS, in a temporary directory.
class sink_fixture {
public:
  /// `payload_bytes` 0: the field is the number 1.5 (payload `1.5`); otherwise a string field of
  /// that many characters (the value format publishes it verbatim).
  sink_fixture(int n, int payload_bytes)
      : payload_(payload_bytes == 0 ? std::string("1.5")
                                    : std::string(static_cast<size_t>(payload_bytes), 'x')),
        n_(n) {
    std::ofstream out(dir_ / "records.jsonl", std::ios::binary);
    const std::string value = payload_bytes == 0 ? payload_ : "\"" + payload_ + "\"";
    constexpr int64_t t0 = 1'772'323'200'000'000'000;
    for (int i = 0; i < n; ++i)
      out << R"({"name":"power","time":)" << t0 + int64_t{i} * 1'000'000'000
          << R"(,"tags":{"meter":"m1"},"fields":{"P":)" << value << "}}\n";
    if (!out)
      throw std::runtime_error("cannot write " + (dir_ / "records.jsonl").string());
  }

  /// The payload each message carries.
  [[nodiscard]] const std::string& payload() const { return payload_; }

  /// Writes the pipeline for `qos` (once) and returns its path.
  std::filesystem::path pipeline(int qos, int port) {
    auto p = dir_ / ("pipeline-qos" + std::to_string(qos) + ".yaml");
    std::ofstream out(p, std::ios::binary);
    out << "sources:\n"
        << "  in:\n"
        << "    type: file\n"
        << "    path: " << (dir_ / "records.jsonl").string() << "\n"
        << "    format: jsonl\n"
        << "    progress: false\n"
        << "sinks:\n"
        << "  m:\n"
        << "    type: mqtt\n"
        << "    inputs: [in]\n"
        << "    url: tcp://127.0.0.1:" << port << "\n"
        << "    format: value\n"
        << "    topic: \"bench/sink/{tags.meter}/{field}\"\n"
        << "    qos: " << qos << "\n"
        << "    max_inflight: " << window << "\n"
        << "    availability: false\n"
        << "    drain_timeout_secs: 300\n";
    if (!out)
      throw std::runtime_error("cannot write " + p.string());
    return p;
  }

  /// Runs `wattline run` over `pipeline` once; returns the wall time from spawn to exit in
  /// seconds, or throws with the log when it fails or takes more than 5 minutes.
  double run(const std::filesystem::path& pipeline) {
    ++runs_;
    const auto log = dir_ / ("run-" + std::to_string(runs_) + ".log");
    const auto data = dir_ / ("data-" + std::to_string(runs_));
    const auto t0 = std::chrono::steady_clock::now();
    wattline::test::child_process proc({WATTLINE_EXECUTABLE, "run", "--status-address", "off",
                                        "--data-dir", data.string(), pipeline.string()},
                                       log);
    const auto deadline = t0 + 300s;
    while (proc.running()) {
      if (std::chrono::steady_clock::now() > deadline)
        throw std::runtime_error("wattline did not exit within 300 s: " + proc.log());
      std::this_thread::sleep_for(500us);
    }
    const double wall =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    const int rc = proc.wait(0ms);
    std::filesystem::remove_all(data);
    if (rc != 0)
      throw std::runtime_error("wattline exited with " + std::to_string(rc) + ": " + proc.log());
    std::filesystem::remove(log);
    return wall;
  }

  [[nodiscard]] int records() const { return n_; }

private:
  wattline::test::temp_dir dir_;
  std::string payload_;
  int n_;
  int runs_ = 0;
};

/// The `mqtt` sink inside the real `wattline` binary (a `file` source over a jsonl file of N
/// one-field records -> `mqtt` sink, format value, the same QoS and window of 20) against the
/// bare Paho loop publishing N messages of the same payload and topic length. Both are timed the
/// same way, at an independent plain-socket subscriber (QoS 0 subscription, so that it is not the
/// bottleneck): from the first to the last message arrival. Each iteration is one paired round,
/// alternating which goes first. Counters: bare_msgs_per_s, sink_msgs_per_s, ratio (sink / bare
/// over all rounds), ratio_min / ratio_median / ratio_max (per round; WATTLINE_BM_ROUNDS=1 in the
/// environment prints every round to stderr), and, for information, the sink process's
/// wall time from spawn to exit (sink_wall_s per round, sink_wall_msgs_per_s), which includes
/// start-up, connecting, reading the file and the drain until every message is acknowledged.
void BM_SinkPaired(benchmark::State& state) {
  const int qos = static_cast<int>(state.range(0));
  const int payload_bytes = static_cast<int>(state.range(1));
  constexpr int n = 20000;
  static std::unique_ptr<bare_paho> bare;
  if (!bare)
    bare = std::make_unique<bare_paho>(broker().url());
  sink_fixture sink(n, payload_bytes);
  const auto pipeline = sink.pipeline(qos, broker().port());
  counting_subscriber sub(broker().port(), "bench/#");
  const std::string bare_topic = "bench/bare/m1/P"; // as long as bench/sink/m1/P
  const auto& payload = sink.payload();

  double bare_s = 0, sink_s = 0, wall_s = 0;
  std::vector<double> ratios; // per round
  const bool verbose = std::getenv("WATTLINE_BM_ROUNDS") != nullptr;
  int64_t rounds = 0, lost = 0;
  auto check = [&](const counting_subscriber::result& r, const std::string& topic) {
    if (r.count == 0 || r.first_topic != topic || r.first_payload != payload)
      throw std::runtime_error("unexpected first message on " + topic + ": " +
                               (r.count == 0 ? "none" : r.first_topic + " " + r.first_payload));
    lost += n - static_cast<int64_t>(r.count);
    return r.seconds;
  };
  auto bare_round = [&] {
    sub.reset();
    for (int i = 0; i < n; ++i)
      bare->publish(bare_topic, payload, qos);
    bare->drain();
    return check(sub.wait(n), bare_topic);
  };
  auto sink_round = [&] {
    sub.reset();
    wall_s += sink.run(pipeline);
    return check(sub.wait(n), "bench/sink/m1/P");
  };
  try {
    for (auto _ : state) {
      double b = 0, s = 0;
      if (rounds % 2 == 0) {
        b = bare_round();
        s = sink_round();
      } else {
        s = sink_round();
        b = bare_round();
      }
      bare_s += b;
      sink_s += s;
      ratios.push_back(b / s);
      if (verbose)
        std::fprintf(stderr, "SinkPaired qos %d round %lld: bare %.1fk/s sink %.1fk/s ratio %.2f\n",
                     qos, static_cast<long long>(rounds), n / b / 1000, n / s / 1000, b / s);
      ++rounds;
    }
  } catch (const std::exception& e) {
    state.SkipWithError(e.what());
    return;
  }
  const double msgs = static_cast<double>(rounds) * n;
  state.counters["bare_msgs_per_s"] = msgs / bare_s;
  state.counters["sink_msgs_per_s"] = msgs / sink_s;
  state.counters["ratio"] = bare_s / sink_s;
  std::sort(ratios.begin(), ratios.end());
  state.counters["ratio_min"] = ratios.front();
  state.counters["ratio_median"] = ratios[ratios.size() / 2];
  state.counters["ratio_max"] = ratios.back();
  state.counters["sink_wall_s"] = wall_s / static_cast<double>(rounds);
  state.counters["sink_wall_msgs_per_s"] = msgs / wall_s;
  state.counters["lost"] = static_cast<double>(lost);
  state.SetLabel("payload " + std::to_string(payload.size()) + " B");
  state.SetItemsProcessed(2 * rounds * n);
}
// Args: {qos, payload}: payload 0 = the number 1.5 (3 bytes), else a string of that many bytes.
BENCHMARK(BM_SinkPaired)
    ->Args({0, 64})
    ->Iterations(10)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);
BENCHMARK(BM_SinkPaired)
    ->Args({1, 64})
    ->Iterations(10)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);
BENCHMARK(BM_SinkPaired)
    ->Args({1, 0})
    ->Iterations(10)
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
