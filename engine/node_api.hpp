#pragma once

// The interface between a component and the runtime. A component is a plain C++ object
// (`component_instance`); the runtime hosts each one in a CAF actor that owns its mailbox,
// timers, flow control and supervision. Components never include CAF: they talk to the runtime
// through `node_context`, and threads they own talk back through `node_mailbox`.

#include "engine/record.hpp"

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace wattline {

struct node_spec;

/// What a node hands to its outputs: records, or raw byte chunks (exactly one is used).
struct batch {
  std::vector<record> records;
  std::vector<chunk> chunks;

  [[nodiscard]] bool empty() const { return records.empty() && chunks.empty(); }
  [[nodiscard]] std::size_t size() const { return records.size() + chunks.size(); }
  /// Approximate payload size in bytes, for byte counters.
  [[nodiscard]] std::size_t byte_size() const;
};

class node_context;

/// A thread-safe handle for threads owned by a component (serial reader, HTTP client, Paho
/// callbacks): `post` runs a function on the node's actor, in order, with the node's context.
/// Posting after the node stopped is a no-op.
class node_mailbox {
public:
  virtual ~node_mailbox() = default;
  virtual void post(std::function<void(node_context&)> fn) = 0;
};

enum class log_level { trace, debug, info, warning, error };

/// The runtime services available to a component while it runs on its node's actor. Not
/// thread-safe: call only from the component's callbacks; from other threads use mailbox().
class node_context {
public:
  virtual ~node_context() = default;

  /// The node's id from the pipeline file.
  [[nodiscard]] virtual const std::string& id() const = 0;
  /// The engine's data directory (for durable state), created on demand.
  [[nodiscard]] virtual std::string data_dir() const = 0;

  /// Sends a batch to every output. Sources should check can_emit() first; a source that emits
  /// without credit has its batch queued (bounded) or, past the bound, dropped and counted.
  virtual void emit(batch b) = 0;
  /// True when every output has credit for another batch.
  [[nodiscard]] virtual bool can_emit() const = 0;

  /// Calls on_timer(token) after `delay`.
  virtual void schedule(std::chrono::milliseconds delay, uint64_t token) = 0;

  /// Reports a failure: the node's instance is destroyed and, per its supervision policy,
  /// recreated after a backoff. `kind` is a snake_case error class for metrics.
  virtual void fail(std::string_view kind, std::string reason) = 0;
  /// Counts an error of `kind` without failing (bad frame, rejected point...), logs it at a
  /// bounded rate.
  virtual void error(std::string_view kind, std::string message) = 0;
  /// Counts `n` events of `kind` in the node's per-kind error metrics without logging, for
  /// events that are not failures but must be visible (e.g. resends that may duplicate).
  virtual void count(std::string_view kind, uint64_t n) = 0;
  /// Counts `n` records dropped (with a reason logged at a bounded rate).
  virtual void dropped(uint64_t n, std::string_view reason) = 0;
  /// Logs with the node id as prefix; repeated messages are rate-limited.
  virtual void log(log_level level, std::string message) = 0;

  /// A source says it has no more data: everything emitted is drained, then the node ends.
  virtual void finished() = 0;
  /// A sink or transform that deferred drain in on_eof() says it is drained now.
  virtual void drained() = 0;
  /// A sink that returned false from on_batch() says it can take batches again.
  virtual void ready() = 0;

  /// The handle for threads owned by the component.
  [[nodiscard]] virtual std::shared_ptr<node_mailbox> mailbox() = 0;
  /// Sets a state detail shown in /health, e.g. "waiting for device /dev/ttyUSB0".
  virtual void set_detail(std::string detail) = 0;
};

/// One running instance of a component. The runtime calls these on the node's actor, one at a
/// time. An exception thrown out of a callback counts as a failure (like ctx.fail()).
class component_instance {
public:
  virtual ~component_instance() = default;

  /// Called once after construction (and after each restart).
  virtual void start(node_context&) {}
  /// Sources: output credit became available; emit more if there is data.
  virtual void on_credit(node_context&) {}
  /// Transforms and sinks: a batch arrived. Return false when it cannot be taken now (sink
  /// buffer full with the `block` policy); the runtime holds it and offers it again after
  /// ctx.ready(). Return true once the batch is owned (written, buffered or forwarded).
  virtual bool on_batch(batch&, node_context&) { return true; }
  /// A timer set with ctx.schedule() fired.
  virtual void on_timer(uint64_t, node_context&) {}
  /// All inputs ended (or shutdown): flush. Return true when drained now, false to call
  /// ctx.drained() later (e.g. after pending deliveries are confirmed).
  virtual bool on_eof(node_context&) { return true; }
  /// Sources: stop producing (shutdown or reload); call ctx.finished() when done.
  virtual void on_stop(node_context& ctx) { ctx.finished(); }
};

/// Creates a component instance from its checked node description.
using component_factory = std::function<std::unique_ptr<component_instance>(const node_spec&)>;

} // namespace wattline
