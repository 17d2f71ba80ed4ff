#pragma once

// Collects what a wattline::mqtt::client reports through its callbacks (which run on Paho
// threads) so that tests can wait on conditions with deadlines.

#include "sinks/mqtt/client.hpp"

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <vector>

namespace wattline::test {

/// Thread-safe sink of client callbacks.
struct client_events {
  /// Guards everything below.
  mutable std::mutex mu;
  /// Notified on every recorded callback.
  std::condition_variable cv;
  /// Connection events in order.
  std::vector<mqtt::connection_event> connection;
  /// Delivery reports in order.
  std::vector<mqtt::delivery_report> deliveries;
  /// Received messages in order.
  std::vector<mqtt::incoming_message> messages;
  /// Subscription reports in order.
  std::vector<mqtt::subscription_report> subscriptions;
  /// Log lines in order.
  std::vector<std::string> logs;

  /// Callbacks that record into this object.
  mqtt::client_callbacks callbacks() {
    mqtt::client_callbacks cb;
    cb.on_connection = [this](const mqtt::connection_event& e) { add(connection, e); };
    cb.on_delivery = [this](const mqtt::delivery_report& r) { add(deliveries, r); };
    cb.on_message = [this](mqtt::incoming_message&& m) { add(messages, std::move(m)); };
    cb.on_subscription = [this](const mqtt::subscription_report& r) { add(subscriptions, r); };
    cb.on_log = [this](mqtt::log_level, const std::string& s) { add(logs, s); };
    return cb;
  }

  /// Appends `x` to `v` under the lock and wakes waiters.
  template <class V, class T>
  void add(V& v, T&& x) {
    {
      std::lock_guard lk(mu);
      v.push_back(std::forward<T>(x));
    }
    cv.notify_all();
  }

  /// Waits until `pred()` (evaluated under the lock) holds; false on timeout.
  bool wait(const std::function<bool()>& pred,
            std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
    std::unique_lock lk(mu);
    return cv.wait_for(lk, timeout, pred);
  }

  /// Number of connection events of one kind.
  size_t count(mqtt::connection_event::kind k) const {
    size_t n = 0;
    for (const auto& e : connection)
      n += e.what == k ? 1 : 0;
    return n;
  }

  /// Every text the client produced: event details, delivery errors, logs.
  std::string all_text() const {
    std::lock_guard lk(mu);
    std::string out;
    for (const auto& e : connection)
      out += e.detail + "\n" + e.url + "\n";
    for (const auto& d : deliveries)
      out += d.error + "\n";
    for (const auto& s : subscriptions)
      out += s.error + "\n";
    for (const auto& l : logs)
      out += l + "\n";
    return out;
  }
};

} // namespace wattline::test
