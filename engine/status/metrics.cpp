#include "engine/status/metrics.hpp"

#include <chrono>

namespace wattline::status {

namespace {

int64_t system_now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

int64_t steady_now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

} // namespace

const char* to_string(node_state s) {
  switch (s) {
  case node_state::starting:
    return "starting";
  case node_state::running:
    return "running";
  case node_state::restarting:
    return "restarting";
  case node_state::stopped:
    return "stopped";
  default:
    return "failed";
  }
}

node_metrics::node_metrics(std::string id, std::string type, std::string role)
    : id_(std::move(id)), type_(std::move(type)), role_(std::move(role)) {
  error_names_[max_error_kinds - 1] = std::string(other_kind);
}

std::size_t node_metrics::error_slot(std::string_view kind) {
  constexpr std::size_t other = max_error_kinds - 1;
  if (kind == other_kind) {
    other_used_.store(true, std::memory_order_release);
    return other;
  }
  std::size_t n = kinds_.load(std::memory_order_acquire);
  for (std::size_t i = 0; i < n; ++i)
    if (error_names_[i] == kind)
      return i;
  std::lock_guard<std::mutex> guard(register_mutex_);
  n = kinds_.load(std::memory_order_relaxed);
  for (std::size_t i = 0; i < n; ++i)
    if (error_names_[i] == kind)
      return i;
  if (n < other) {
    error_names_[n] = std::string(kind);
    kinds_.store(n + 1, std::memory_order_release);
    return n;
  }
  other_used_.store(true, std::memory_order_release);
  return other;
}

void node_metrics::add_error(std::size_t slot, uint64_t n) {
  if (slot >= max_error_kinds)
    slot = max_error_kinds - 1;
  error_counts_[slot].inc(n);
}

uint64_t node_metrics::errors(std::string_view kind) const {
  if (kind == other_kind)
    return error_counts_[max_error_kinds - 1].value();
  std::size_t n = kinds_.load(std::memory_order_acquire);
  for (std::size_t i = 0; i < n; ++i)
    if (error_names_[i] == kind)
      return error_counts_[i].value();
  return 0;
}

uint64_t node_metrics::errors_total() const {
  uint64_t sum = 0;
  for (const auto& c : error_counts_)
    sum += c.value();
  return sum;
}

std::vector<std::pair<std::string, uint64_t>> node_metrics::errors_by_kind() const {
  std::vector<std::pair<std::string, uint64_t>> out;
  std::size_t n = kinds_.load(std::memory_order_acquire);
  for (std::size_t i = 0; i < n; ++i)
    out.emplace_back(error_names_[i], error_counts_[i].value());
  if (other_used_.load(std::memory_order_acquire))
    out.emplace_back(std::string(other_kind), error_counts_[max_error_kinds - 1].value());
  return out;
}

void node_metrics::set_last_error(std::string message) {
  std::lock_guard<std::mutex> guard(last_error_mutex_);
  last_error_ = std::move(message);
}

std::string node_metrics::last_error() const {
  std::lock_guard<std::mutex> guard(last_error_mutex_);
  return last_error_;
}

void node_metrics::mark_success(int64_t time_ns) {
  last_success_ns_.store(time_ns, std::memory_order_relaxed);
  has_success_.store(true, std::memory_order_release);
}

void node_metrics::mark_success() {
  mark_success(system_now_ns());
}

std::optional<int64_t> node_metrics::last_success_ns() const {
  if (!has_success_.load(std::memory_order_acquire))
    return std::nullopt;
  return last_success_ns_.load(std::memory_order_relaxed);
}

metrics_registry::metrics_registry(build_info info, std::function<int64_t()> clock)
    : build_(std::move(info)), clock_(std::move(clock)) {
  start_ns_ = now_ns();
  steady_start_ns_ = steady_now_ns();
}

int64_t metrics_registry::now_ns() const {
  return clock_ ? clock_() : system_now_ns();
}

int64_t metrics_registry::uptime_ns() const {
  return clock_ ? clock_() - start_ns_ : steady_now_ns() - steady_start_ns_;
}

std::shared_ptr<node_metrics> metrics_registry::add_node(const std::string& id,
                                                         const std::string& type,
                                                         const std::string& role) {
  std::lock_guard<std::mutex> guard(mutex_);
  auto& slot = nodes_[id];
  if (!slot || slot->type() != type || slot->role() != role)
    slot = std::make_shared<node_metrics>(id, type, role);
  return slot;
}

bool metrics_registry::remove_node(std::string_view id) {
  std::lock_guard<std::mutex> guard(mutex_);
  auto it = nodes_.find(id);
  if (it == nodes_.end())
    return false;
  nodes_.erase(it);
  return true;
}

std::shared_ptr<node_metrics> metrics_registry::find(std::string_view id) const {
  std::lock_guard<std::mutex> guard(mutex_);
  auto it = nodes_.find(id);
  return it == nodes_.end() ? nullptr : it->second;
}

std::vector<std::shared_ptr<node_metrics>> metrics_registry::nodes() const {
  std::lock_guard<std::mutex> guard(mutex_);
  std::vector<std::shared_ptr<node_metrics>> out;
  out.reserve(nodes_.size());
  for (const auto& [id, node] : nodes_)
    out.push_back(node);
  return out;
}

} // namespace wattline::status
