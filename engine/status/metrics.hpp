#pragma once

// Per-node counters and process-wide facts for the status endpoints. Plain C++, no CAF: actors
// keep a std::shared_ptr<node_metrics> and bump its atomics from their own threads; the status
// server reads them concurrently. All counters use relaxed atomics: each value is exact, but a
// snapshot of several values is not taken at one instant.

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace wattline::status {

/// A monotonically increasing count.
class counter {
public:
  void inc(uint64_t n = 1) { v_.fetch_add(n, std::memory_order_relaxed); }
  [[nodiscard]] uint64_t value() const { return v_.load(std::memory_order_relaxed); }

private:
  std::atomic<uint64_t> v_{0};
};

/// A value that goes up and down.
class gauge {
public:
  void set(int64_t v) { v_.store(v, std::memory_order_relaxed); }
  void add(int64_t n) { v_.fetch_add(n, std::memory_order_relaxed); }
  void sub(int64_t n) { v_.fetch_sub(n, std::memory_order_relaxed); }
  [[nodiscard]] int64_t value() const { return v_.load(std::memory_order_relaxed); }

private:
  std::atomic<int64_t> v_{0};
};

/// Life cycle of a node as its supervisor sees it.
enum class node_state : uint8_t {
  /// Spawned, not yet ready (connecting, opening).
  starting,
  /// Working.
  running,
  /// Failed and waiting for its restart backoff.
  restarting,
  /// Ended on purpose (shutdown, or a finished source).
  stopped,
  /// Gave up: restart limit reached or an unrecoverable error.
  failed,
};

/// "starting", "running", "restarting", "stopped", "failed".
[[nodiscard]] const char* to_string(node_state s);

/// The metrics of one node (source, transform or sink instance). Thread-safe.
class node_metrics {
public:
  /// Error kind slots per node. The last slot is reserved for kind "other", which also takes the
  /// counts of kinds registered after the other slots are used up.
  static constexpr std::size_t max_error_kinds = 16;
  /// Name of the overflow kind.
  static constexpr std::string_view other_kind = "other";

  /// `id` is the node's name in the pipeline, `type` its component type ("file", "mqtt"),
  /// `role` "source", "transform" or "sink".
  node_metrics(std::string id, std::string type, std::string role);

  [[nodiscard]] const std::string& id() const { return id_; }
  [[nodiscard]] const std::string& type() const { return type_; }
  [[nodiscard]] const std::string& role() const { return role_; }

  counter records_in;
  counter records_out;
  counter bytes_in;
  counter bytes_out;
  /// Records dropped on purpose (full buffer, permanent sink error, filter overflow).
  counter dropped;
  /// Restarts by the supervisor.
  counter restarts;
  /// Records waiting in the node's queue or buffer.
  gauge queue_depth;

  /// The slot of error kind `kind` (e.g. "crc", "timeout", "io"), registering it when new.
  /// Thread-safe; keep the slot to count errors on a hot path without the name lookup.
  std::size_t error_slot(std::string_view kind);
  /// Counts `n` errors of the kind in `slot` (from error_slot()).
  void add_error(std::size_t slot, uint64_t n = 1);
  /// Counts `n` errors of kind `kind` (registering it when new).
  void add_error(std::string_view kind, uint64_t n = 1) { add_error(error_slot(kind), n); }
  /// Errors of one kind so far; 0 for a kind never counted.
  [[nodiscard]] uint64_t errors(std::string_view kind) const;
  /// Errors of all kinds.
  [[nodiscard]] uint64_t errors_total() const;
  /// (kind, count) of every registered kind, in registration order ("other" last).
  [[nodiscard]] std::vector<std::pair<std::string, uint64_t>> errors_by_kind() const;

  void set_state(node_state s) { state_.store(s, std::memory_order_relaxed); }
  [[nodiscard]] node_state state() const { return state_.load(std::memory_order_relaxed); }

  /// Sets the last error message shown by /health. It must never contain secrets (passwords,
  /// keys, tokens, credentials in URLs): redacting them is the caller's responsibility, since
  /// this class cannot tell a secret from other text. Newlines are kept; the renderers escape.
  /// What the node is doing now, shown in /health ("waiting for device /dev/ttyUSB0: ...").
  /// Same rule as last_error: never a secret.
  void set_detail(std::string detail) {
    std::lock_guard guard{last_error_mutex_};
    detail_ = std::move(detail);
  }
  [[nodiscard]] std::string detail() const {
    std::lock_guard guard{last_error_mutex_};
    return detail_;
  }
  void set_last_error(std::string message);
  [[nodiscard]] std::string last_error() const;

  /// Records a successful operation (a read, a write acknowledged) at `time_ns` since the Unix
  /// epoch; without argument at the current system time.
  void mark_success(int64_t time_ns);
  void mark_success();
  /// Time of the last success in nanoseconds since the epoch, or nothing yet.
  [[nodiscard]] std::optional<int64_t> last_success_ns() const;

private:
  std::string id_;
  std::string type_;
  std::string role_;
  std::atomic<node_state> state_{node_state::starting};
  std::array<counter, max_error_kinds> error_counts_;
  /// Names of slots [0, kinds_) are immutable once published through kinds_ (release/acquire);
  /// the reserved last slot is published through other_used_.
  std::array<std::string, max_error_kinds> error_names_;
  std::atomic<std::size_t> kinds_{0};
  std::atomic<bool> other_used_{false};
  std::mutex register_mutex_;
  mutable std::mutex last_error_mutex_;
  std::string last_error_;
  std::string detail_;
  std::atomic<int64_t> last_success_ns_{0};
  std::atomic<bool> has_success_{false};
};

/// Facts about the running binary, exported as the labels of `wattline_build_info`.
struct build_info {
  std::string version;
  /// Git commit, or empty when unknown.
  std::string commit;
  /// e.g. "g++ 12.2.0".
  std::string compiler;
};

/// All nodes of the running engine by id, plus process-wide facts. Thread-safe.
class metrics_registry {
public:
  /// `clock` returns the system time in nanoseconds since the epoch (empty = system clock); the
  /// uptime is measured from construction with it.
  explicit metrics_registry(build_info info = {}, std::function<int64_t()> clock = {});

  /// The metrics of node `id`. Returns the existing object when the id is known with the same
  /// type and role (so a restarted actor keeps counting); otherwise creates (or replaces) it.
  std::shared_ptr<node_metrics> add_node(const std::string& id, const std::string& type,
                                         const std::string& role);
  /// Removes a node (it is no longer exported; holders of the pointer may keep using it).
  bool remove_node(std::string_view id);
  /// The node `id`, or nullptr.
  [[nodiscard]] std::shared_ptr<node_metrics> find(std::string_view id) const;
  /// All nodes, sorted by id.
  [[nodiscard]] std::vector<std::shared_ptr<node_metrics>> nodes() const;

  [[nodiscard]] const build_info& build() const { return build_; }
  /// System time in nanoseconds since the epoch, from the registry's clock.
  [[nodiscard]] int64_t now_ns() const;
  [[nodiscard]] int64_t start_time_ns() const { return start_ns_; }
  [[nodiscard]] int64_t uptime_ns() const;
  [[nodiscard]] double uptime_seconds() const { return static_cast<double>(uptime_ns()) / 1e9; }

private:
  build_info build_;
  std::function<int64_t()> clock_;
  int64_t start_ns_ = 0;
  int64_t steady_start_ns_ = 0;
  mutable std::mutex mutex_;
  std::map<std::string, std::shared_ptr<node_metrics>, std::less<>> nodes_;
};

} // namespace wattline::status
