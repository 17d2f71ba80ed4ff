#pragma once

// Per-node counters, written by the node's actor and read by the status endpoint from other
// threads. Plain C++ (atomics and a mutex), no CAF.

#include <atomic>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>

namespace wattline::runtime {

enum class node_state { starting, running, restarting, draining, stopped, failed };

[[nodiscard]] const char* to_string(node_state s);

class node_stats {
public:
  node_stats(std::string id, std::string type, std::string role)
      : id_(std::move(id)), type_(std::move(type)), role_(std::move(role)) {}

  std::atomic<uint64_t> records_in{0};
  std::atomic<uint64_t> records_out{0};
  std::atomic<uint64_t> bytes_in{0};
  std::atomic<uint64_t> bytes_out{0};
  std::atomic<uint64_t> dropped{0};
  std::atomic<uint64_t> restarts{0};
  std::atomic<uint64_t> queue_depth{0};

  void count_error(const std::string& kind, uint64_t n = 1) {
    std::lock_guard guard{mutex_};
    errors_[kind] += n;
  }
  /// Message must not contain secrets (callers never put option values into it).
  void set_last_error(std::string message) {
    std::lock_guard guard{mutex_};
    last_error_ = std::move(message);
  }
  void set_state(node_state s, std::string detail = {}) {
    std::lock_guard guard{mutex_};
    state_ = s;
    detail_ = std::move(detail);
  }
  void set_detail(std::string detail) {
    std::lock_guard guard{mutex_};
    detail_ = std::move(detail);
  }

  struct snapshot {
    node_state state;
    std::string detail;
    std::string last_error;
    std::map<std::string, uint64_t> errors;
  };
  [[nodiscard]] snapshot read() const {
    std::lock_guard guard{mutex_};
    return {state_, detail_, last_error_, errors_};
  }
  [[nodiscard]] const std::string& id() const { return id_; }
  [[nodiscard]] const std::string& type() const { return type_; }
  [[nodiscard]] const std::string& role() const { return role_; }

private:
  std::string id_, type_, role_;
  mutable std::mutex mutex_;
  node_state state_ = node_state::starting;
  std::string detail_;
  std::string last_error_;
  std::map<std::string, uint64_t> errors_;
};

} // namespace wattline::runtime
