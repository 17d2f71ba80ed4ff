#pragma once

// Message types exchanged by the runtime's actors. Local only: batches are shared, immutable
// where fanned out, and never serialised, hence the "unsafe" (not inspectable) registrations.

#include "engine/node_api.hpp"
#include "engine/pipeline_spec.hpp"

#include <caf/all.hpp>

#include <functional>
#include <memory>

namespace wattline::runtime {

/// A batch in flight. Shared between the consumers of a fan-out; a consumer that holds the only
/// reference may move out of it.
struct batch_msg {
  std::shared_ptr<batch> data;
};

/// A function posted from a component's own thread, run on the node's actor.
struct post_msg {
  uint64_t generation = 0;
  std::function<void(node_context&)> fn;
};

/// Configuration handed to a node actor at spawn.
struct node_setup {
  node_spec spec;
  /// Consumers of this node's output, in spec order.
  std::vector<caf::actor> outputs;
  /// How many producers feed this node.
  std::size_t input_count = 0;
  std::string data_dir;
  /// Batches a producer may have unacknowledged per consumer.
  std::size_t window = 4;
  /// Batches a node queues for its outputs beyond the window before dropping the oldest.
  std::size_t max_queued = 64;
};

// Atoms: at most 10 characters.
using ack_atom = caf::atom_constant<caf::atom("wlack")>;
using eof_atom = caf::atom_constant<caf::atom("wleof")>;
using timer_atom = caf::atom_constant<caf::atom("wltimer")>;
using restart_atom = caf::atom_constant<caf::atom("wlrestart")>;
using stop_atom = caf::atom_constant<caf::atom("wlstop")>;
using done_atom = caf::atom_constant<caf::atom("wldone")>;
using fatal_atom = caf::atom_constant<caf::atom("wlfatal")>;
using drain_atom = caf::atom_constant<caf::atom("wldrain")>;
using finished_atom = caf::atom_constant<caf::atom("wlfinished")>;

} // namespace wattline::runtime

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(wattline::runtime::batch_msg)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(wattline::runtime::post_msg)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(wattline::runtime::node_setup)
