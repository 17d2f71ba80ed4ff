#include "engine/log.hpp"
#include "engine/runtime/graph.hpp"

#include <mutex>

namespace wattline::runtime {

// TODO(runtime): serve /health and /metrics through engine/status once it lands.
struct status_endpoint::impl {
  std::mutex mutex;
  std::vector<std::shared_ptr<node_stats>> stats;
};

status_endpoint::status_endpoint() : impl_(std::make_unique<impl>()) {}
status_endpoint::~status_endpoint() {
  stop();
}

bool status_endpoint::update(const engine_settings&, std::vector<std::shared_ptr<node_stats>> stats,
                             const std::function<void(int)>&) {
  std::lock_guard guard{impl_->mutex};
  impl_->stats = std::move(stats);
  return true;
}

void status_endpoint::stop() {}

} // namespace wattline::runtime
