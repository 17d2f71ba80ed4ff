#pragma once

// The checked description of the pipelines to run: plain data, produced by the loader and the
// planner, consumed by the runtime. No actors here.

#include "engine/component.hpp"
#include "engine/diagnostic.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace wattline {

/// What the supervisor does once a node has used up its restart budget.
enum class failure_policy {
  /// Keep restarting at the maximum backoff.
  restart,
  /// Stop this node; the rest of the graph keeps running.
  stop,
  /// Shut the whole process down (exit code 70).
  shutdown,
};

/// Per-node `supervision:` settings.
struct supervision_policy {
  int64_t initial_backoff_ms = 100;
  int64_t max_backoff_ms = 30000;
  /// At most this many restarts within `window_secs`, then `on_failure` applies.
  int64_t max_restarts = 5;
  int64_t window_secs = 60;
  failure_policy on_failure = failure_policy::restart;
};

/// One node of the graph.
struct node_spec {
  /// Unique id across all loaded files (the YAML key).
  std::string id;
  component_role role = component_role::source;
  std::string type;
  const component_descriptor* descriptor = nullptr;
  options opts;
  /// Ids of the producing nodes, with where each was written.
  std::vector<std::string> inputs;
  std::vector<source_location> input_locations;
  supervision_policy supervision;
  /// Where the node's key is written.
  source_location where;
  data_kind input_kind = data_kind::none;
  data_kind output_kind = data_kind::none;
  /// Canonical text of the node's YAML (after substitution) for reload diffs. May hold secrets:
  /// never print it.
  std::string config_text;
};

/// The optional `engine:` section.
struct engine_settings {
  /// trace, debug, info, warning, error.
  std::string log_level = "info";
  /// host:port of the status HTTP endpoint; empty disables it.
  std::string status_address = "127.0.0.1:8686";
  /// Where durable state lives (disk buffers, tariff totals).
  std::string data_dir = "/var/lib/wattline";
  /// Deadline for flushing in-flight data on SIGINT/SIGTERM.
  int64_t shutdown_timeout_secs = 10;
  source_location where;
};

/// All nodes of all loaded files, in topological order (producers before consumers).
struct pipeline_spec {
  std::vector<node_spec> nodes;
  engine_settings engine;
  std::vector<std::string> files;

  [[nodiscard]] const node_spec* find(std::string_view id) const {
    for (const auto& n : nodes)
      if (n.id == id)
        return &n;
    return nullptr;
  }
};

} // namespace wattline
