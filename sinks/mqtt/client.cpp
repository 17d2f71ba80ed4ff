#include "sinks/mqtt/client.hpp"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <condition_variable>
#include <cstring>
#include <filesystem>
#include <mutex>
#include <random>
#include <shared_mutex>
#include <thread>
#include <unordered_map>

#include <MQTTAsync.h>

namespace wattline::mqtt {

namespace {

using clock = std::chrono::steady_clock;

std::string connack_text(int code) {
  switch (code) {
  case 1:
    return "connection refused: unacceptable protocol version";
  case 2:
    return "connection refused: client identifier rejected";
  case 3:
    return "connection refused: server unavailable";
  case 4:
    return "connection refused: bad user name or password";
  case 5:
    return "connection refused: not authorized (check user name, password and ACL)";
  default:
    return "connection refused (code " + std::to_string(code) + ")";
  }
}

bool valid_topic_name(const std::string& t) {
  return !t.empty() && t.find_first_of("+#") == std::string::npos &&
         t.find('\0') == std::string::npos;
}

} // namespace

class client::impl {
public:
  enum class op_kind { publish, subscribe, unsubscribe };

  /// Context of one Paho request; its address is Paho's callback context.
  struct op {
    impl* self = nullptr;
    uint64_t key = 0;
    op_kind kind = op_kind::publish;
    token user_token = 0;
    uint64_t tag = 0;
    int qos = 0;
    bool abandoned = false;
    std::string filter;
  };

  struct subscription {
    std::string filter;
    int qos = 1;
    token id = 0;
  };

  impl(client_options o, client_callbacks c, broker_url u)
      : opts(std::move(o)), cbs(std::move(c)), url(std::move(u)), url_text(url.redacted()),
        v5(opts.version == protocol_version::v5), rng(std::random_device{}()) {
    client_id = opts.client_id.empty() ? default_client_id() : opts.client_id;
    if (opts.username.empty() && !url.username.empty()) {
      opts.username = url.username;
      if (opts.password.empty())
        opts.password = url.password;
    }
  }

  // ---- configuration (immutable after create) ----
  client_options opts;
  client_callbacks cbs;
  broker_url url;
  std::string url_text;
  std::string client_id;
  bool v5 = false;
  MQTTAsync handle = nullptr;

  // ---- state, guarded by mu ----
  mutable std::mutex mu;
  /// Wakes callers blocked in wait_connected / wait_for_window / wait_idle / stop.
  std::condition_variable cv;
  /// Wakes the connector thread (state changes and stop only).
  std::condition_variable connector_cv;
  /// Number of callers blocked on `cv` (completions notify only when someone waits).
  std::atomic<int> waiters{0};
  /// Set first thing in stop(); checked before touching `handle_mu`.
  std::atomic<bool> stop_requested{false};
  /// Shared (try-locked) by user-thread calls into Paho, exclusive around MQTTAsync_destroy, so
  /// that no publish/subscribe races with the destruction of the handle. Never blocks a callback.
  std::shared_mutex handle_mu;
  connection_state st = connection_state::idle;
  bool stopping = false;
  bool disconnect_done = false;
  clock::time_point next_attempt{};
  uint32_t failures = 0;
  std::string last_error;
  std::string ssl_errors;
  std::vector<std::string> warnings;
  client_stats stats;
  uint64_t next_key = 1;
  std::unordered_map<uint64_t, std::unique_ptr<op>> ops;
  size_t inflight = 0;
  std::vector<subscription> subscriptions;
  std::mt19937_64 rng;
  std::thread connector;
  std::atomic<int> active_callbacks{0};

  struct callback_guard {
    impl* s;
    explicit callback_guard(impl* p) : s(p) { s->active_callbacks.fetch_add(1); }
    ~callback_guard() { s->active_callbacks.fetch_sub(1); }
  };

  // ---- helpers ----

  /// Logs a connection change unless the owner receives the events (it reports them itself).
  void log_event(log_level lvl, const std::string& text) const {
    if (!cbs.on_connection)
      log(lvl, text);
  }

  void log(log_level lvl, const std::string& text) const {
    if (cbs.on_log)
      cbs.on_log(lvl, text);
  }

  std::chrono::milliseconds backoff_locked() {
    const auto& r = opts.reconnect;
    double base = static_cast<double>(r.initial_delay.count());
    double mult = std::max(1.0, r.multiplier);
    uint32_t n = failures > 0 ? failures - 1 : 0;
    double d = base * std::pow(mult, static_cast<double>(std::min<uint32_t>(n, 60)));
    d = std::min(d, static_cast<double>(r.max_delay.count()));
    double j = std::clamp(r.jitter, 0.0, 1.0);
    std::uniform_real_distribution<double> dist(1.0 - j, 1.0 + j);
    d *= dist(rng);
    return std::chrono::milliseconds(static_cast<int64_t>(std::max(d, 1.0)));
  }

  std::string describe_failure(int code, const char* message) {
    std::string what;
    if (code > 0 && code < 128)
      what = connack_text(code);
    else if (code >= 128)
      what = std::string("connection refused: ") +
             MQTTReasonCode_toString(static_cast<MQTTReasonCodes>(code));
    else {
      what = "connect failed";
      if (message != nullptr && *message != '\0')
        what += std::string(": ") + message;
      else if (const char* s = MQTTAsync_strerror(code); s != nullptr)
        what += std::string(": ") + s;
      if (!url.tls())
        what += " (connection refused, host unreachable or timed out)";
    }
    std::string tls;
    {
      std::lock_guard lk(mu);
      tls.swap(ssl_errors);
    }
    if (!tls.empty())
      what += " (TLS: " + tls + ")";
    else if (url.tls() && code < 0)
      what +=
          opts.tls.verify_hostname && !opts.tls.insecure
              ? " (TCP connect or TLS handshake failed, or the broker certificate does not match "
                "host '" +
                    url.host + "'; check the CA, certificates and host name)"
              : " (TCP connect or TLS handshake failed; check the CA and certificates)";
    return "MQTT broker " + url_text + ": " + what;
  }

  void emit_connection(const connection_event& ev) {
    if (cbs.on_connection)
      cbs.on_connection(ev);
  }

  void emit_delivery(const delivery_report& r) {
    if (cbs.on_delivery)
      cbs.on_delivery(r);
  }

  // ---- connect ----

  int do_connect() {
    MQTTAsync_connectOptions co = MQTTAsync_connectOptions_initializer;
    if (v5) {
      MQTTAsync_connectOptions co5 = MQTTAsync_connectOptions_initializer5;
      co = co5;
    }
    MQTTAsync_willOptions will = MQTTAsync_willOptions_initializer;
    MQTTAsync_SSLOptions ssl = MQTTAsync_SSLOptions_initializer;
    MQTTProperties props = MQTTProperties_initializer;
    co.keepAliveInterval = static_cast<int>(opts.keepalive.count());
    if (v5) {
      co.cleansession = 0;
      co.cleanstart = opts.clean_session ? 1 : 0;
      if (!opts.clean_session) {
        MQTTProperty p;
        p.identifier = MQTTPROPERTY_CODE_SESSION_EXPIRY_INTERVAL;
        p.value.integer4 = 7 * 24 * 3600;
        MQTTProperties_add(&props, &p);
        co.connectProperties = &props;
      }
      co.onSuccess5 = &impl::on_connect_success5;
      co.onFailure5 = &impl::on_connect_failure5;
      co.MQTTVersion = MQTTVERSION_5;
    } else {
      co.cleansession = opts.clean_session ? 1 : 0;
      co.onSuccess = &impl::on_connect_success;
      co.onFailure = &impl::on_connect_failure;
      co.MQTTVersion = MQTTVERSION_3_1_1;
    }
    co.context = this;
    co.maxInflight = static_cast<int>(std::clamp<size_t>(opts.max_inflight, 1, 65535));
    co.connectTimeout = static_cast<int>(std::max<int64_t>(1, opts.connect_timeout.count()));
    co.retryInterval = 0;
    co.automaticReconnect = 0;
    if (!opts.username.empty())
      co.username = opts.username.c_str();
    if (!opts.password.empty())
      co.password = opts.password.c_str();
    if (!opts.availability_topic.empty()) {
      will.topicName = opts.availability_topic.c_str();
      will.message = opts.payload_offline.c_str();
      will.retained = 1;
      will.qos = 1;
      co.will = &will;
    }
    if (url.tls()) {
      const auto& t = opts.tls;
      ssl.trustStore = t.ca_file.empty() ? nullptr : t.ca_file.c_str();
      ssl.CApath = t.ca_dir.empty() ? nullptr : t.ca_dir.c_str();
      ssl.keyStore = t.cert_file.empty() ? nullptr : t.cert_file.c_str();
      ssl.privateKey = t.key_file.empty() ? nullptr : t.key_file.c_str();
      ssl.privateKeyPassword = t.key_password.empty() ? nullptr : t.key_password.c_str();
      ssl.enableServerCertAuth = t.insecure ? 0 : 1;
      ssl.verify = (!t.insecure && t.verify_hostname) ? 1 : 0;
      ssl.ssl_error_cb = &impl::on_ssl_error;
      ssl.ssl_error_context = this;
      co.ssl = &ssl;
    }
    int rc = MQTTAsync_connect(handle, &co);
    MQTTProperties_free(&props);
    return rc;
  }

  void run_connector() {
    std::unique_lock lk(mu);
    while (!stopping) {
      bool due = st == connection_state::idle ||
                 (st == connection_state::waiting && clock::now() >= next_attempt);
      if (due) {
        st = connection_state::connecting;
        ssl_errors.clear();
        lk.unlock();
        log(log_level::debug, "MQTT broker " + url_text + ": connecting as " + client_id);
        int rc = do_connect();
        if (rc != MQTTASYNC_SUCCESS)
          connect_failed(rc, nullptr);
        lk.lock();
        continue;
      }
      if (st == connection_state::waiting)
        connector_cv.wait_until(lk, next_attempt);
      else
        connector_cv.wait(lk);
    }
  }

  void connect_failed(int code, const char* message) {
    std::string detail = describe_failure(code, message);
    connection_event ev;
    ev.what = connection_event::kind::connect_failed;
    ev.url = url_text;
    {
      std::lock_guard lk(mu);
      if (stopping || st != connection_state::connecting)
        return;
      ++failures;
      ++stats.connect_failures;
      ev.retry_in = backoff_locked();
      ev.failures = failures;
      next_attempt = clock::now() + ev.retry_in;
      st = connection_state::waiting;
      last_error = detail;
    }
    notify_state();
    ev.detail = detail + "; retrying in " + std::to_string(ev.retry_in.count()) + " ms";
    log_event(log_level::warning, ev.detail);
    emit_connection(ev);
  }

  void connected(bool session_present) {
    std::vector<subscription> subs;
    {
      std::lock_guard lk(mu);
      if (stopping || st != connection_state::connecting)
        return;
      st = connection_state::connected;
      failures = 0;
      ++stats.connects;
      subs = subscriptions;
    }
    notify_state();
    if (!opts.availability_topic.empty())
      send_untracked(opts.availability_topic, opts.payload_online, 1, true);
    for (const auto& s : subs)
      send_subscribe(s);
    connection_event ev;
    ev.what = connection_event::kind::connected;
    ev.url = url_text;
    ev.session_present = session_present;
    ev.detail = "MQTT broker " + url_text + ": connected as " + client_id;
    log_event(log_level::info, ev.detail);
    emit_connection(ev);
  }

  void connection_lost(const char* cause) {
    std::vector<delivery_report> failed;
    connection_event ev;
    ev.what = connection_event::kind::connection_lost;
    ev.url = url_text;
    {
      std::lock_guard lk(mu);
      if (stopping || st != connection_state::connected)
        return;
      ++stats.connections_lost;
      failures = 0;
      ev.retry_in = backoff_locked();
      next_attempt = clock::now() + ev.retry_in;
      st = connection_state::waiting;
      for (auto& [key, o] : ops) {
        if (o->abandoned)
          continue;
        o->abandoned = true;
        if (o->kind == op_kind::publish) {
          --inflight;
          ++stats.failed;
          failed.push_back(delivery_report{o->user_token, o->tag, false, o->qos,
                                           "connection to MQTT broker " + url_text +
                                               " lost before acknowledgement"});
        }
      }
      ev.detail = "MQTT broker " + url_text + ": connection lost" +
                  (cause != nullptr && *cause != '\0' ? std::string(" (") + cause + ")" : "") +
                  "; reconnecting in " + std::to_string(ev.retry_in.count()) + " ms";
      last_error = ev.detail;
    }
    notify_state();
    log_event(log_level::warning, ev.detail);
    for (const auto& r : failed)
      emit_delivery(r);
    emit_connection(ev);
  }

  // ---- requests ----

  void send_untracked(const std::string& topic, const std::string& payload, int qos, bool retain) {
    MQTTAsync_message pm = MQTTAsync_message_initializer;
    pm.payload = const_cast<char*>(payload.data());
    pm.payloadlen = static_cast<int>(payload.size());
    pm.qos = qos;
    pm.retained = retain ? 1 : 0;
    MQTTAsync_responseOptions ro = MQTTAsync_responseOptions_initializer;
    MQTTAsync_sendMessage(handle, topic.c_str(), &pm, &ro);
  }

  op* new_op_locked(op_kind kind, int qos) {
    auto o = std::make_unique<op>();
    o->self = this;
    o->key = next_key++;
    o->kind = kind;
    o->qos = qos;
    o->user_token = o->key;
    op* raw = o.get();
    ops.emplace(raw->key, std::move(o));
    return raw;
  }

  void fill_response(MQTTAsync_responseOptions& ro, op* o) {
    if (v5) {
      ro.onSuccess5 = &impl::on_op_success5;
      ro.onFailure5 = &impl::on_op_failure5;
    } else {
      ro.onSuccess = &impl::on_op_success;
      ro.onFailure = &impl::on_op_failure;
    }
    ro.context = o;
  }

  /// Removes a request whose Paho call failed; true when it had been abandoned meanwhile.
  bool drop_op(op* o) {
    std::lock_guard lk(mu);
    bool abandoned = o->abandoned;
    if (!abandoned && o->kind == op_kind::publish)
      --inflight;
    ops.erase(o->key);
    return abandoned;
  }

  void send_subscribe(const subscription& s) {
    op* o = nullptr;
    {
      std::lock_guard lk(mu);
      o = new_op_locked(op_kind::subscribe, s.qos);
      o->user_token = s.id;
      o->filter = s.filter;
    }
    MQTTAsync_responseOptions ro = MQTTAsync_responseOptions_initializer;
    fill_response(ro, o);
    int rc = MQTTAsync_subscribe(handle, s.filter.c_str(), s.qos, &ro);
    if (rc != MQTTASYNC_SUCCESS) {
      if (!drop_op(o) && cbs.on_subscription)
        cbs.on_subscription(subscription_report{s.id, s.filter, false, 0,
                                                "MQTT broker " + url_text + ": subscribe to '" +
                                                    s.filter +
                                                    "' refused: " + MQTTAsync_strerror(rc)});
    }
  }

  void complete(op* o, bool ok, int granted, std::string error) {
    op_kind kind;
    token id;
    uint64_t tag;
    int qos;
    bool abandoned;
    std::string filter;
    {
      std::lock_guard lk(mu);
      kind = o->kind;
      id = o->user_token;
      tag = o->tag;
      qos = o->qos;
      abandoned = o->abandoned;
      filter = std::move(o->filter);
      if (!abandoned && kind == op_kind::publish) {
        --inflight;
        ok ? ++stats.delivered : ++stats.failed;
      }
      ops.erase(o->key); // destroys *o
    }
    if (abandoned)
      return;
    if (kind == op_kind::publish) {
      notify_waiters();
      emit_delivery(delivery_report{id, tag, ok, qos, std::move(error)});
    } else if (kind == op_kind::subscribe) {
      if (!ok)
        log(log_level::error, error);
      if (cbs.on_subscription)
        cbs.on_subscription(subscription_report{id, std::move(filter), ok, granted, error});
    }
  }

  std::string op_error(op* o, int code, const char* message) {
    std::string what = o->kind == op_kind::publish ? "publish" : "subscribe to '" + o->filter + "'";
    std::string why = message != nullptr && *message != '\0' ? message : "";
    if (why.empty()) {
      if (code == MQTTASYNC_OPERATION_INCOMPLETE)
        why = "interrupted by disconnect before acknowledgement";
      else if (code >= 128)
        why = MQTTReasonCode_toString(static_cast<MQTTReasonCodes>(code));
      else if (const char* s = MQTTAsync_strerror(code); s != nullptr)
        why = s;
    }
    return "MQTT broker " + url_text + ": " + what + " failed: " + why;
  }

  // ---- Paho trampolines (Paho threads) ----

  static void on_connect_success(void* ctx, MQTTAsync_successData* d) {
    auto* self = static_cast<impl*>(ctx);
    callback_guard g(self);
    self->connected(d != nullptr && d->alt.connect.sessionPresent != 0);
  }
  static void on_connect_success5(void* ctx, MQTTAsync_successData5* d) {
    auto* self = static_cast<impl*>(ctx);
    callback_guard g(self);
    self->connected(d != nullptr && d->alt.connect.sessionPresent != 0);
  }
  static void on_connect_failure(void* ctx, MQTTAsync_failureData* d) {
    auto* self = static_cast<impl*>(ctx);
    callback_guard g(self);
    self->connect_failed(d != nullptr ? d->code : MQTTASYNC_FAILURE,
                         d != nullptr ? d->message : nullptr);
  }
  static void on_connect_failure5(void* ctx, MQTTAsync_failureData5* d) {
    auto* self = static_cast<impl*>(ctx);
    callback_guard g(self);
    int code = MQTTASYNC_FAILURE;
    if (d != nullptr)
      code = d->reasonCode >= 128 ? static_cast<int>(d->reasonCode) : d->code;
    self->connect_failed(code, d != nullptr ? d->message : nullptr);
  }
  static void on_connection_lost(void* ctx, char* cause) {
    auto* self = static_cast<impl*>(ctx);
    callback_guard g(self);
    self->connection_lost(cause);
  }
  static int on_message_arrived(void* ctx, char* topic, int len, MQTTAsync_message* m) {
    auto* self = static_cast<impl*>(ctx);
    callback_guard g(self);
    incoming_message im;
    im.topic.assign(topic, len > 0 ? static_cast<size_t>(len) : std::strlen(topic));
    im.payload.assign(static_cast<const char*>(m->payload), static_cast<size_t>(m->payloadlen));
    im.qos = m->qos;
    im.retained = m->retained != 0;
    im.duplicate = m->dup != 0;
    MQTTAsync_freeMessage(&m);
    MQTTAsync_free(topic);
    {
      std::lock_guard lk(self->mu);
      ++self->stats.received;
    }
    if (self->cbs.on_message)
      self->cbs.on_message(std::move(im));
    return 1;
  }
  static void on_op_success(void* ctx, MQTTAsync_successData* d) {
    auto* o = static_cast<op*>(ctx);
    impl* self = o->self;
    callback_guard g(self);
    if (o->kind == op_kind::subscribe) {
      int granted = d != nullptr ? d->alt.qos : 0;
      if (granted >= 0x80) {
        self->complete(o, false, 0,
                       "MQTT broker " + self->url_text + ": subscribe to '" + o->filter +
                           "' refused by the broker");
        return;
      }
      self->complete(o, true, granted, {});
      return;
    }
    self->complete(o, true, o->qos, {});
  }
  static void on_op_success5(void* ctx, MQTTAsync_successData5* d) {
    auto* o = static_cast<op*>(ctx);
    impl* self = o->self;
    callback_guard g(self);
    // For a single subscription Paho puts the granted QoS / reason code in `reasonCode` (the
    // `alt.sub.reasonCodes` array is only set for several filters).
    int rc = d != nullptr ? static_cast<int>(d->reasonCode) : 0;
    if (rc >= 0x80) {
      self->complete(o, false, 0, self->op_error(o, rc, nullptr));
      return;
    }
    self->complete(o, true, o->kind == op_kind::subscribe ? rc : o->qos, {});
  }
  static void on_op_failure(void* ctx, MQTTAsync_failureData* d) {
    auto* o = static_cast<op*>(ctx);
    impl* self = o->self;
    callback_guard g(self);
    self->complete(o, false, 0,
                   self->op_error(o, d != nullptr ? d->code : MQTTASYNC_FAILURE,
                                  d != nullptr ? d->message : nullptr));
  }
  static void on_op_failure5(void* ctx, MQTTAsync_failureData5* d) {
    auto* o = static_cast<op*>(ctx);
    impl* self = o->self;
    callback_guard g(self);
    int code = MQTTASYNC_FAILURE;
    if (d != nullptr)
      code = d->reasonCode >= 128 ? static_cast<int>(d->reasonCode) : d->code;
    self->complete(o, false, 0, self->op_error(o, code, d != nullptr ? d->message : nullptr));
  }
  static void on_disconnected(void* ctx, MQTTAsync_successData*) {
    static_cast<impl*>(ctx)->disconnected();
  }
  static void on_disconnected5(void* ctx, MQTTAsync_successData5*) {
    static_cast<impl*>(ctx)->disconnected();
  }
  static void on_disconnect_failed(void* ctx, MQTTAsync_failureData*) {
    static_cast<impl*>(ctx)->disconnected();
  }
  static void on_disconnect_failed5(void* ctx, MQTTAsync_failureData5*) {
    static_cast<impl*>(ctx)->disconnected();
  }
  static int on_ssl_error(const char* str, size_t len, void* ctx) {
    auto* self = static_cast<impl*>(ctx);
    std::string line(str, len);
    while (!line.empty() && (line.back() == '\n' || line.back() == '\r'))
      line.pop_back();
    // OpenSSL lines look like "<thread id>:error:0A000086:SSL routines:<function>:<reason>:
    // <file>:<line>:<data>": keep "error:...:<reason>".
    if (auto p = line.find("error:"); p != std::string::npos)
      line = line.substr(p);
    if (auto p = line.find(":../"); p != std::string::npos)
      line = line.substr(0, p);
    else if (auto q = line.find(".c:"); q != std::string::npos && line.rfind(':', q) != 0)
      line = line.substr(0, line.rfind(':', q));
    std::lock_guard lk(self->mu);
    if (self->ssl_errors.find(line) == std::string::npos) {
      if (!self->ssl_errors.empty())
        self->ssl_errors += "; ";
      self->ssl_errors += line;
    }
    return 0;
  }

  /// Wakes the connector thread and every blocked caller after a state change.
  void notify_state() {
    connector_cv.notify_all();
    cv.notify_all();
  }

  /// Wakes blocked callers after a completion, only when there are any (keeps the hot path
  /// free of futex calls).
  void notify_waiters() {
    if (waiters.load(std::memory_order_acquire) > 0)
      cv.notify_all();
  }

  void disconnected() {
    {
      std::lock_guard lk(mu);
      disconnect_done = true;
    }
    cv.notify_all();
  }

  // ---- public operations ----

  void start() {
    std::lock_guard lk(mu);
    if (stopping || connector.joinable())
      return;
    connector = std::thread([this] { run_connector(); });
  }

  void stop(std::chrono::milliseconds drain) {
    bool was_connected = false;
    stop_requested.store(true, std::memory_order_release);
    {
      std::lock_guard lk(mu);
      if (st == connection_state::stopped || handle == nullptr)
        return;
      stopping = true;
      was_connected = st == connection_state::connected;
    }
    notify_state();
    if (connector.joinable())
      connector.join();
    if (was_connected) {
      if (!opts.availability_topic.empty())
        send_untracked(opts.availability_topic, opts.payload_offline, 1, true);
      MQTTAsync_disconnectOptions d = MQTTAsync_disconnectOptions_initializer;
      if (v5) {
        MQTTAsync_disconnectOptions d5 = MQTTAsync_disconnectOptions_initializer5;
        d = d5;
        d.onSuccess5 = &impl::on_disconnected5;
        d.onFailure5 = &impl::on_disconnect_failed5;
      } else {
        d.onSuccess = &impl::on_disconnected;
        d.onFailure = &impl::on_disconnect_failed;
      }
      d.timeout = static_cast<int>(std::max<int64_t>(drain.count(), 100));
      d.context = this;
      if (MQTTAsync_disconnect(handle, &d) == MQTTASYNC_SUCCESS) {
        std::unique_lock lk(mu);
        cv.wait_for(lk, drain + std::chrono::seconds(2), [&] { return disconnect_done; });
      }
    }
    {
      // Waits for user-thread calls into Paho to return; later ones see stop_requested.
      std::unique_lock hl(handle_mu);
      MQTTAsync_destroy(&handle); // may call failure callbacks on this thread
      handle = nullptr;
    }
    while (active_callbacks.load() > 0)
      std::this_thread::yield();
    std::vector<delivery_report> failed;
    {
      std::lock_guard lk(mu);
      for (auto& [key, o] : ops)
        if (!o->abandoned && o->kind == op_kind::publish) {
          ++stats.failed;
          failed.push_back(
              delivery_report{o->user_token, o->tag, false, o->qos,
                              "MQTT client for " + url_text + " stopped before acknowledgement"});
        }
      ops.clear();
      inflight = 0;
      st = connection_state::stopped;
    }
    cv.notify_all();
    for (const auto& r : failed)
      emit_delivery(r);
  }

  publish_result publish(const message& msg) {
    int qos = msg.qos.value_or(opts.qos);
    bool retain = msg.retain.value_or(opts.retain);
    if (qos < 0 || qos > 2)
      return {0, publish_error::invalid, "QoS must be 0, 1 or 2"};
    if (!valid_topic_name(msg.topic))
      return {0, publish_error::invalid, "invalid topic '" + msg.topic + "'"};
    if (stop_requested.load(std::memory_order_acquire))
      return {0, publish_error::stopped, "client stopped"};
    std::shared_lock hl(handle_mu, std::try_to_lock);
    if (!hl.owns_lock())
      return {0, publish_error::stopped, "client stopped"};
    op* o = nullptr;
    {
      std::lock_guard lk(mu);
      if (stopping || st == connection_state::stopped)
        return {0, publish_error::stopped, "client stopped"};
      if (st != connection_state::connected)
        return {0, publish_error::not_connected, "not connected to MQTT broker " + url_text};
      if (inflight >= opts.max_inflight)
        return {0, publish_error::window_full, "in-flight window full"};
      o = new_op_locked(op_kind::publish, qos);
      o->tag = msg.tag;
      ++inflight;
      ++stats.published;
      if (msg.attempt > 0)
        ++stats.resent;
    }
    token id = o->user_token;
    MQTTAsync_message pm = MQTTAsync_message_initializer;
    pm.payload = const_cast<char*>(msg.payload.data());
    pm.payloadlen = static_cast<int>(msg.payload.size());
    pm.qos = qos;
    pm.retained = retain ? 1 : 0;
    MQTTAsync_responseOptions ro = MQTTAsync_responseOptions_initializer;
    fill_response(ro, o);
    int rc = MQTTAsync_sendMessage(handle, msg.topic.c_str(), &pm, &ro);
    if (rc == MQTTASYNC_SUCCESS)
      return {id, publish_error::none, {}};
    // Paho did not take it: undo (unless a connection loss already reported it failed).
    {
      std::lock_guard lk(mu);
      --stats.published;
      if (msg.attempt > 0)
        --stats.resent;
    }
    bool abandoned = drop_op(o);
    notify_waiters();
    if (abandoned) {
      // Already reported as failed by connection_lost; keep the token accepted for consistency,
      // counted as the accepted publish it was (the caller counts a resend on success too).
      std::lock_guard lk(mu);
      ++stats.published;
      if (msg.attempt > 0)
        ++stats.resent;
      return {id, publish_error::none, {}};
    }
    switch (rc) {
    case MQTTASYNC_DISCONNECTED:
      return {0, publish_error::not_connected, "not connected to MQTT broker " + url_text};
    case MQTTASYNC_BAD_UTF8_STRING:
    case MQTTASYNC_BAD_QOS:
    case MQTTASYNC_BAD_STRUCTURE:
      return {0, publish_error::invalid, MQTTAsync_strerror(rc)};
    case MQTTASYNC_MAX_BUFFERED_MESSAGES:
    case MQTTASYNC_NO_MORE_MSGIDS:
      return {0, publish_error::window_full, MQTTAsync_strerror(rc)};
    default: {
      const char* s = MQTTAsync_strerror(rc);
      return {0, publish_error::other, s != nullptr ? s : "publish refused"};
    }
    }
  }

  token subscribe(std::string filter, std::optional<int> qos) {
    subscription s;
    bool now = false;
    {
      std::lock_guard lk(mu);
      s.filter = std::move(filter);
      s.qos = std::clamp(qos.value_or(opts.qos), 0, 2);
      s.id = next_key++;
      auto it = std::find_if(subscriptions.begin(), subscriptions.end(),
                             [&](const subscription& x) { return x.filter == s.filter; });
      if (it != subscriptions.end())
        *it = s;
      else
        subscriptions.push_back(s);
      now = st == connection_state::connected;
    }
    if (now && !stop_requested.load(std::memory_order_acquire)) {
      std::shared_lock hl(handle_mu, std::try_to_lock);
      if (hl.owns_lock())
        send_subscribe(s);
    }
    return s.id;
  }

  void unsubscribe(const std::string& filter) {
    bool now = false;
    {
      std::lock_guard lk(mu);
      std::erase_if(subscriptions, [&](const subscription& x) { return x.filter == filter; });
      now = st == connection_state::connected;
    }
    if (now && !stop_requested.load(std::memory_order_acquire)) {
      std::shared_lock hl(handle_mu, std::try_to_lock);
      if (hl.owns_lock()) {
        MQTTAsync_responseOptions ro = MQTTAsync_responseOptions_initializer;
        MQTTAsync_unsubscribe(handle, filter.c_str(), &ro);
      }
    }
  }
};

// ---- client ------------------------------------------------------------------------------

client::client(std::unique_ptr<impl> p) : impl_(std::move(p)) {}

client::~client() {
  if (impl_)
    impl_->stop(std::chrono::milliseconds(500));
}

std::unique_ptr<client> client::create(client_options opts, client_callbacks callbacks,
                                       std::string* error) {
  auto fail = [&](const std::string& why) -> std::unique_ptr<client> {
    if (error != nullptr)
      *error = why;
    return nullptr;
  };
  std::string err;
  auto url = parse_broker_url(opts.url, &err);
  if (!url)
    return fail(err);
  const std::string shown = url->redacted();
  if (opts.qos < 0 || opts.qos > 2)
    return fail("MQTT broker " + shown + ": qos must be 0, 1 or 2");
  if (opts.max_inflight == 0)
    return fail("MQTT broker " + shown + ": max_inflight must be at least 1");
  std::vector<std::string> warnings;
  if (url->tls()) {
    namespace fs = std::filesystem;
    std::error_code ec;
    auto check = [&](const std::string& path, const char* what) {
      if (!path.empty() && !fs::exists(path, ec))
        err = "MQTT broker " + shown + ": TLS " + what + " '" + path + "' not found";
    };
    check(opts.tls.ca_file, "CA file");
    check(opts.tls.ca_dir, "CA directory");
    check(opts.tls.cert_file, "client certificate");
    check(opts.tls.key_file, "client key");
    if (!err.empty())
      return fail(err);
    if (opts.tls.insecure)
      warnings.push_back("MQTT broker " + shown +
                         ": TLS insecure mode: the broker certificate and host name are NOT "
                         "verified");
  } else if (!opts.tls.ca_file.empty() || !opts.tls.cert_file.empty() || opts.tls.insecure) {
    warnings.push_back("MQTT broker " + shown +
                       ": TLS options are ignored for a plain tcp:// URL (use ssl:// or mqtts://)");
  }

  auto p = std::make_unique<impl>(std::move(opts), std::move(callbacks), std::move(*url));
  p->warnings = warnings;
  MQTTAsync_createOptions co = MQTTAsync_createOptions_initializer;
  co.sendWhileDisconnected = 0;
  co.maxBufferedMessages = static_cast<int>(std::max<size_t>(1000, 4 * p->opts.max_inflight + 16));
  co.MQTTVersion = p->v5 ? MQTTVERSION_5 : MQTTVERSION_3_1_1;
  co.deleteOldestMessages = 0;
  co.restoreMessages = 0;
  co.persistQoS0 = 0;
  int rc = MQTTAsync_createWithOptions(&p->handle, p->url.paho_uri().c_str(), p->client_id.c_str(),
                                       MQTTCLIENT_PERSISTENCE_NONE, nullptr, &co);
  if (rc != MQTTASYNC_SUCCESS)
    return fail("MQTT broker " + shown + ": cannot create client: " + MQTTAsync_strerror(rc));
  rc = MQTTAsync_setCallbacks(p->handle, p.get(), &impl::on_connection_lost,
                              &impl::on_message_arrived, nullptr);
  if (rc != MQTTASYNC_SUCCESS) {
    MQTTAsync_destroy(&p->handle);
    return fail("MQTT broker " + shown + ": cannot set callbacks: " + MQTTAsync_strerror(rc));
  }
  for (const auto& w : warnings)
    p->log(log_level::warning, w);
  return std::unique_ptr<client>(new client(std::move(p)));
}

void client::start() {
  impl_->start();
}

void client::stop(std::chrono::milliseconds drain) {
  impl_->stop(drain);
}

publish_result client::publish(const message& msg) {
  return impl_->publish(msg);
}

token client::subscribe(std::string filter, std::optional<int> qos) {
  return impl_->subscribe(std::move(filter), qos);
}

void client::unsubscribe(const std::string& filter) {
  impl_->unsubscribe(filter);
}

connection_state client::state() const {
  std::lock_guard lk(impl_->mu);
  return impl_->st;
}

size_t client::in_flight() const {
  std::lock_guard lk(impl_->mu);
  return impl_->inflight;
}

client_stats client::stats() const {
  std::lock_guard lk(impl_->mu);
  return impl_->stats;
}

std::vector<std::string> client::warnings() const {
  std::lock_guard lk(impl_->mu);
  return impl_->warnings;
}

std::string client::last_error() const {
  std::lock_guard lk(impl_->mu);
  return impl_->last_error;
}

const std::string& client::client_id() const {
  return impl_->client_id;
}

const std::string& client::url() const {
  return impl_->url_text;
}

namespace {
struct waiter_count {
  std::atomic<int>& n;
  explicit waiter_count(std::atomic<int>& x) : n(x) { n.fetch_add(1, std::memory_order_acq_rel); }
  ~waiter_count() { n.fetch_sub(1, std::memory_order_acq_rel); }
};
} // namespace

bool client::wait_connected(std::chrono::milliseconds timeout) {
  std::unique_lock lk(impl_->mu);
  waiter_count w(impl_->waiters);
  return impl_->cv.wait_for(lk, timeout, [&] {
    return impl_->st == connection_state::connected || impl_->st == connection_state::stopped;
  }) && impl_->st == connection_state::connected;
}

bool client::wait_for_window(std::chrono::milliseconds timeout) {
  std::unique_lock lk(impl_->mu);
  waiter_count w(impl_->waiters);
  return impl_->cv.wait_for(lk, timeout, [&] {
    return impl_->stopping || impl_->inflight < impl_->opts.max_inflight;
  }) && !impl_->stopping;
}

bool client::wait_idle(std::chrono::milliseconds timeout) {
  std::unique_lock lk(impl_->mu);
  waiter_count w(impl_->waiters);
  return impl_->cv.wait_for(lk, timeout, [&] { return impl_->inflight == 0; });
}

} // namespace wattline::mqtt
