#pragma once

// The actor that hosts one node: it owns the component instance, restarts it with backoff when
// it fails, moves batches to its outputs under credit-based flow control, and reports to the
// graph actor when it has drained.

#include "engine/runtime/messages.hpp"
#include "engine/runtime/node_stats.hpp"

#include <caf/all.hpp>

namespace wattline::runtime {

/// Spawns the actor for one node. `graph` receives (done_atom, id) once the node has drained and
/// (fatal_atom, id, reason) when its failure policy is `shutdown`.
caf::actor spawn_node(caf::actor_system& sys, node_setup setup, caf::actor graph,
                      std::shared_ptr<node_stats> stats);

} // namespace wattline::runtime
