#pragma once

// The graph actor (spawns and supervises the node actors of one configuration) and the status
// endpoint that exposes their counters.

#include "engine/pipeline_spec.hpp"
#include "engine/runtime/node_stats.hpp"

#include <caf/all.hpp>

#include <functional>
#include <memory>
#include <vector>

namespace wattline::runtime {

/// One counter set per node of `spec`, in the same order, registered in `registry`.
std::vector<std::shared_ptr<node_stats>> make_stats(status::metrics_registry& registry,
                                                    const pipeline_spec& spec);

/// Spawns the graph actor; it sends (finished_atom, exit code) to `owner` when every node has
/// drained, and accepts stop_atom to begin a graceful shutdown.
caf::actor spawn_graph(caf::actor_system& sys, const pipeline_spec& spec, caf::actor owner,
                       std::vector<std::shared_ptr<node_stats>> stats);

/// Serves /health and /metrics for the current graph's counters. Survives reloads: update()
/// swaps the counters and rebinds only when the address changed.
class status_endpoint {
public:
  status_endpoint();
  ~status_endpoint();
  /// (Re)binds when the address changed; an empty address stops the endpoint. Returns false
  /// (and logs) when the address cannot be bound.
  bool update(const engine_settings& engine, const std::function<void(int)>& on_listening);
  /// The counters served; the runtime registers its nodes here.
  [[nodiscard]] status::metrics_registry& registry();
  void stop();

private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

} // namespace wattline::runtime
