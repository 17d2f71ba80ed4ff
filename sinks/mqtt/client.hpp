#pragma once

// An MQTT client on the Paho C asynchronous API (MQTTAsync): connects and reconnects forever with
// capped exponential backoff and jitter, publishes with per-message delivery reports and a bounded
// in-flight window, subscribes (wildcards, `$share/group/...`) and hands received messages out.
// No CAF include: an actor wraps it by forwarding the callbacks as messages.
//
// Threads. Every public member function is thread-safe. Callbacks run on threads the client does
// not control:
//  - `on_connection`: a Paho thread (connect result, connection lost) or the client's connector
//    thread (when a connect attempt fails before reaching Paho).
//  - `on_delivery`: a Paho thread (send/PUBACK/PUBCOMP/failure), the thread whose callback
//    reported a lost connection (the then unacknowledged messages), or the thread calling `stop()`.
//  - `on_message`, `on_subscription`: a Paho thread.
//  - `on_log`: any of the above, or the thread calling `create()` (configuration warnings).
// Callbacks must be quick and must not block (forward them to an actor's mailbox or a queue). They
// may call `publish`, `subscribe` and the observers, but never `stop()` or the destructor. No lock
// of this client is held while a callback runs, but Paho runs most callbacks while holding its
// own global lock: a callback must never wait for a lock that another thread of yours holds
// while it calls `publish`/`subscribe` (deadlock). Match reports by `message::tag` instead of
// registering tokens under such a lock.
//
// Delivery semantics. With `clean_session` (default) Paho forgets unacknowledged QoS 1/2 messages
// when the connection drops; the client reports each of them as not delivered, and the caller
// publishes them again after the next `connected` event (see `outbox`), which gives
// at-least-once delivery. With `clean_session = false` Paho also retransmits them itself after
// the reconnect; the reports still say "not delivered" and a resend may add a duplicate.
//
// Paho 1.3 notices a new connection only when its receive thread's select() returns, which takes
// up to one second while other connections of the process are idle: a connect may take 1-2 s when
// another MQTT client of the process is already connected.

#include "sinks/mqtt/options.hpp"

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace wattline::mqtt {

/// Identifies one publish or subscribe request; unique per client, never 0.
using token = uint64_t;

/// One message to publish.
struct message {
  /// Topic (no wildcards).
  std::string topic;
  /// Payload bytes.
  std::string payload;
  /// QoS 0, 1 or 2; nullopt = `client_options::qos`.
  std::optional<int> qos;
  /// Retain flag; nullopt = `client_options::retain`.
  std::optional<bool> retain;
  /// 0 for a first send; >0 when the caller resends a message that was reported failed. Resends
  /// are counted in `client_stats::resent` (each one is a possible duplicate at the broker).
  uint32_t attempt = 0;
  /// Opaque caller value echoed in the `delivery_report` (e.g. a record sequence number), so
  /// that a report arriving before `publish` returns can still be matched.
  uint64_t tag = 0;
};

/// Why `publish` refused a message.
enum class publish_error {
  /// Accepted; a `delivery_report` follows.
  none,
  /// Not connected (yet, or connection lost); keep the message and publish after reconnect.
  not_connected,
  /// `max_inflight` messages are outstanding; retry after a delivery report.
  window_full,
  /// Invalid topic (empty, wildcard, not UTF-8) or QoS.
  invalid,
  /// `stop()` was called.
  stopped,
  /// Paho refused for another reason (see `publish_result::detail`).
  other,
};

/// Result of `publish`.
struct publish_result {
  /// The token of the accepted message (0 when refused).
  token id = 0;
  /// `none` when accepted.
  publish_error error = publish_error::none;
  /// Human-readable reason when refused.
  std::string detail;
  /// True when accepted.
  explicit operator bool() const { return error == publish_error::none; }
};

/// Completion of one accepted publish. Exactly one report per accepted token.
struct delivery_report {
  /// The token `publish` returned.
  token id = 0;
  /// `message::tag` of the published message.
  uint64_t tag = 0;
  /// True when the broker has the message: PUBACK (QoS 1), PUBCOMP (QoS 2) or written to the
  /// socket (QoS 0). False when it is unknown whether the broker has it (connection lost before
  /// the acknowledgement, client stopped): the caller should resend it (with `attempt + 1`).
  bool delivered = false;
  /// QoS the message was sent with.
  int qos = 0;
  /// Why it failed; empty when delivered.
  std::string error;
};

/// A change of the connection.
struct connection_event {
  /// What happened.
  enum class kind {
    /// Connected (CONNACK accepted); availability `online` and subscriptions were sent.
    connected,
    /// A connect attempt failed; the next one follows after `retry_in`.
    connect_failed,
    /// An established connection was lost; reconnecting after `retry_in`.
    connection_lost,
  };
  /// What happened.
  kind what = kind::connected;
  /// A clear sentence naming the broker URL (without credentials), e.g.
  /// "MQTT broker tcp://127.0.0.1:1883: connection refused: bad user name or password".
  std::string detail;
  /// Broker URL without credentials.
  std::string url;
  /// Session present flag from the CONNACK (connected only).
  bool session_present = false;
  /// Consecutive failed attempts so far (connect_failed) ; 0 otherwise.
  uint32_t failures = 0;
  /// Delay until the next attempt (connect_failed, connection_lost).
  std::chrono::milliseconds retry_in{0};
};

/// A received message.
struct incoming_message {
  /// Topic it was published on.
  std::string topic;
  /// Payload bytes.
  std::string payload;
  /// QoS it was delivered with.
  int qos = 0;
  /// Retained flag (a stored message delivered on subscribe).
  bool retained = false;
  /// Duplicate flag (redelivery).
  bool duplicate = false;
};

/// Completion of a subscribe request (also after an automatic re-subscribe on reconnect).
struct subscription_report {
  /// Token returned by `subscribe`.
  token id = 0;
  /// The topic filter.
  std::string filter;
  /// True when the broker granted it.
  bool ok = false;
  /// Granted QoS when ok.
  int granted_qos = 0;
  /// Why it failed; empty when ok.
  std::string error;
};

/// Severity of a log line.
enum class log_level { debug, info, warning, error };

/// The callbacks; any may be empty. See the thread notes at the top of this header.
struct client_callbacks {
  /// Connection changes.
  std::function<void(const connection_event&)> on_connection;
  /// Delivery reports of accepted publishes.
  std::function<void(const delivery_report&)> on_delivery;
  /// Received messages.
  std::function<void(incoming_message&&)> on_message;
  /// Subscribe results.
  std::function<void(const subscription_report&)> on_subscription;
  /// Log lines (never containing a password). Connection changes are logged here only when
  /// `on_connection` is empty: an owner handling the events reports them itself, once.
  std::function<void(log_level, const std::string&)> on_log;
};

/// Counters, read with `client::stats()`.
struct client_stats {
  /// Publishes accepted.
  uint64_t published = 0;
  /// Publishes with `attempt > 0` accepted (possible duplicates at the broker).
  uint64_t resent = 0;
  /// Delivery reports with `delivered == true`.
  uint64_t delivered = 0;
  /// Delivery reports with `delivered == false`.
  uint64_t failed = 0;
  /// Successful connects.
  uint64_t connects = 0;
  /// Failed connect attempts.
  uint64_t connect_failures = 0;
  /// Established connections lost.
  uint64_t connections_lost = 0;
  /// Messages received.
  uint64_t received = 0;
};

/// Connection state.
enum class connection_state { idle, connecting, connected, waiting, stopped };

/// The MQTT client. Create with `client::create`, then `start()`.
class client {
public:
  /// Validates the options and creates the Paho handle; no network activity yet. Returns
  /// nullptr and sets `error` on invalid options (bad URL, QoS, TLS files missing).
  static std::unique_ptr<client> create(client_options opts, client_callbacks callbacks,
                                        std::string* error = nullptr);

  /// Stops (as `stop()`) and releases the Paho handle.
  ~client();
  client(const client&) = delete;
  client& operator=(const client&) = delete;

  /// Starts connecting in the background; returns at once. Reconnects until `stop()`.
  void start();

  /// Publishes `offline` on the availability topic (when connected), disconnects gracefully
  /// (waiting up to `drain` for outstanding acknowledgements), and reports every still
  /// outstanding publish as failed. Blocks; idempotent; never call from a callback.
  void stop(std::chrono::milliseconds drain = std::chrono::milliseconds(1000));

  /// Hands one message to Paho (which copies it); never blocks on the network. On success a
  /// `delivery_report` with the returned token and `msg.tag` follows (possibly before this
  /// returns). The caller keeps `msg` for a resend if the report says not delivered.
  publish_result publish(const message& msg);

  /// Subscribes to a filter (wildcards `+`/`#`, shared `$share/group/filter`). Remembered and
  /// re-sent after every reconnect; each attempt is reported through `on_subscription`.
  /// `qos` nullopt = `client_options::qos`.
  token subscribe(std::string filter, std::optional<int> qos = std::nullopt);

  /// Forgets and unsubscribes a filter.
  void unsubscribe(const std::string& filter);

  /// Current state.
  [[nodiscard]] connection_state state() const;
  /// True when connected.
  [[nodiscard]] bool connected() const { return state() == connection_state::connected; }
  /// Publishes accepted and not yet reported.
  [[nodiscard]] size_t in_flight() const;
  /// Counter snapshot.
  [[nodiscard]] client_stats stats() const;
  /// Configuration warnings (e.g. TLS `insecure`).
  [[nodiscard]] std::vector<std::string> warnings() const;
  /// The last connection error sentence (empty when none yet).
  [[nodiscard]] std::string last_error() const;
  /// The client id in use.
  [[nodiscard]] const std::string& client_id() const;
  /// The broker URL without credentials.
  [[nodiscard]] const std::string& url() const;

  /// Blocks until connected or `timeout` passes; true when connected. For tests, benchmarks
  /// and non-actor callers; an actor reacts to `on_connection` instead.
  bool wait_connected(std::chrono::milliseconds timeout);
  /// Blocks until `in_flight() < max_inflight` (or stop) or `timeout` passes; true when there
  /// is room. For non-actor callers.
  bool wait_for_window(std::chrono::milliseconds timeout);
  /// Blocks until nothing is in flight or `timeout` passes; true when drained.
  bool wait_idle(std::chrono::milliseconds timeout);

  /// Implementation (Paho handle, state, connector thread); defined in client.cpp.
  class impl;

private:
  explicit client(std::unique_ptr<impl> p);
  std::unique_ptr<impl> impl_;
};

} // namespace wattline::mqtt
