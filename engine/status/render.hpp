#pragma once

// Text renderings of a metrics_registry: Prometheus exposition format 0.0.4 for /metrics and a
// JSON summary for /health.

#include "engine/status/metrics.hpp"

#include <string>
#include <string_view>

namespace wattline::status {

/// Overall health, derived from the node states:
/// `failed` when any node is failed; else `degraded` when any node is starting or restarting;
/// else `ok` (running and stopped nodes, or no nodes at all).
enum class health { ok, degraded, failed };

[[nodiscard]] const char* to_string(health h);
[[nodiscard]] health overall_health(const metrics_registry& registry);

/// Escapes a Prometheus label value: `\` -> `\\`, `"` -> `\"`, line feed -> `\n`.
[[nodiscard]] std::string escape_label_value(std::string_view value);

/// The Prometheus text exposition (format 0.0.4) of `registry`, every family with `# HELP` and
/// `# TYPE` lines:
/// - `wattline_build_info{version,commit,compiler}` gauge 1, `wattline_start_time_seconds`,
///   `wattline_uptime_seconds`;
/// - per node, labels `node`, `type`, `role`: counters `wattline_node_records_in_total`,
///   `_records_out_total`, `_bytes_in_total`, `_bytes_out_total`, `_dropped_total`,
///   `_restarts_total`, `wattline_node_errors_total` (extra label `kind`, one series per
///   registered kind), gauges `wattline_node_queue_depth`, `wattline_node_state` (extra label
///   `state`, one series per state, 1 for the current one) and
///   `wattline_node_last_success_timestamp_seconds` (nodes with a success only).
/// Nodes appear sorted by id. Content type: `text/plain; version=0.0.4; charset=utf-8`.
[[nodiscard]] std::string render_prometheus(const metrics_registry& registry);

/// The /health document:
/// `{"status":"ok|degraded|failed","uptime_seconds":12.5,"version":"0.1.0",
///   "nodes":{"<id>":{"type":..,"role":..,"state":..,"restarts":..,"errors":..,
///   "last_error":<string or null>,"records_in":..,"records_out":..,"dropped":..,
///   "queue_depth":..,"last_success":<RFC 3339 UTC with milliseconds, or null>}}}`
/// Nodes sorted by id; strings are valid UTF-8 (invalid bytes become U+FFFD).
[[nodiscard]] std::string render_health_json(const metrics_registry& registry);

} // namespace wattline::status
