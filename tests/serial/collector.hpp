#pragma once

// Test helper: collects what a reader_loop reports (on its thread) and lets the test thread wait
// for a condition with a deadline (condition variable, no sleeps).

#include "actors/serial/reader_loop.hpp"

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <vector>

namespace wattline::test {

struct collector {
  std::mutex mutex;
  std::condition_variable changed;
  std::vector<uint8_t> bytes;
  std::vector<chunk> chunks;
  std::vector<serial::source_status> statuses;

  serial::reader_callbacks callbacks() {
    return {[this](chunk&& c) {
              std::lock_guard<std::mutex> guard(mutex);
              bytes.insert(bytes.end(), c.bytes.begin(), c.bytes.end());
              chunks.push_back(std::move(c));
              changed.notify_all();
            },
            [this](const serial::source_status& s) {
              std::lock_guard<std::mutex> guard(mutex);
              statuses.push_back(s);
              changed.notify_all();
            }};
  }

  /// Waits until pred() (called under the lock) holds or the timeout passes.
  bool wait(const std::function<bool()>& pred,
            std::chrono::milliseconds timeout = std::chrono::seconds(5)) {
    std::unique_lock<std::mutex> lock(mutex);
    return changed.wait_for(lock, timeout, pred);
  }

  size_t byte_count() {
    std::lock_guard<std::mutex> guard(mutex);
    return bytes.size();
  }

  /// Number of reports with state `s` so far (call under the lock, i.e. inside wait()).
  size_t count_locked(serial::source_state s) const {
    size_t n = 0;
    for (const auto& st : statuses)
      n += st.state == s ? 1 : 0;
    return n;
  }

  serial::source_status last_status() {
    std::lock_guard<std::mutex> guard(mutex);
    return statuses.empty() ? serial::source_status{} : statuses.back();
  }

  std::vector<serial::source_status> status_copy() {
    std::lock_guard<std::mutex> guard(mutex);
    return statuses;
  }
};

} // namespace wattline::test
