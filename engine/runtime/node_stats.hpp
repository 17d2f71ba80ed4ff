#pragma once

// The runtime counts into the status core's per-node metrics (engine/status/metrics.hpp).

#include "engine/status/metrics.hpp"

namespace wattline::runtime {

using node_stats = status::node_metrics;
using node_state = status::node_state;

} // namespace wattline::runtime
