#include "engine/runtime/node_actor.hpp"

#include "engine/log.hpp"

#include <deque>
#include <filesystem>
#include <random>

namespace wattline::runtime {

namespace {

struct node_runtime;

/// Posts functions from a component's threads to the node actor. Holds a weak handle: posting to
/// a node that ended does nothing.
class mailbox_impl final : public node_mailbox {
public:
  mailbox_impl(caf::actor_addr addr, uint64_t generation)
      : addr_(std::move(addr)), generation_(generation) {}
  void post(std::function<void(node_context&)> fn) override {
    if (auto hdl = caf::actor_cast<caf::actor>(addr_))
      caf::anon_send(hdl, post_msg{generation_, std::move(fn)});
  }

private:
  caf::actor_addr addr_;
  uint64_t generation_;
};

/// Pending input: a batch and the producer to acknowledge it to.
struct pending_input {
  caf::actor from;
  std::shared_ptr<batch> data;
  int failures = 0;
};

/// The node_context a component sees; implemented over the actor's state.
struct node_runtime final : node_context {
  caf::event_based_actor* self = nullptr;
  node_setup setup;
  caf::actor graph;
  std::shared_ptr<node_stats> stats;
  std::unique_ptr<component_instance> instance;
  /// Incremented at each (re)start: stale timers and posts of an old instance are ignored.
  uint64_t generation = 0;
  std::vector<std::size_t> in_flight;
  std::deque<std::shared_ptr<batch>> out_queue;
  std::deque<pending_input> inputs;
  std::size_t eofs = 0;
  bool failed_now = false;
  std::string fail_kind;
  std::string fail_reason;
  bool restarting = false;
  bool stopped_for_good = false;
  bool blocked = false;
  bool source_finished = false;
  bool eof_seen = false;
  bool drained_flag = false;
  bool eof_sent = false;
  bool stopping = false;
  std::deque<std::chrono::steady_clock::time_point> restart_times;
  int consecutive_failures = 0;
  std::minstd_rand rng{std::random_device{}()};

  // -- node_context --------------------------------------------------------------------------

  const std::string& id() const override { return setup.spec.id; }

  std::string data_dir() const override {
    std::error_code ec;
    std::filesystem::create_directories(setup.data_dir, ec);
    return setup.data_dir;
  }

  void emit(batch b) override {
    if (b.empty())
      return;
    stats->records_out.inc(b.records.size());
    stats->bytes_out.inc(b.byte_size());
    if (setup.outputs.empty())
      return;
    auto ptr = std::make_shared<batch>(std::move(b));
    if (out_queue.empty() && can_emit()) {
      send_to_outputs(std::move(ptr));
      return;
    }
    out_queue.push_back(std::move(ptr));
    if (out_queue.size() > setup.max_queued) {
      auto n = out_queue.front()->size();
      out_queue.pop_front();
      dropped(n, "output queue full");
    }
    stats->queue_depth.set(static_cast<int64_t>(out_queue.size()));
  }

  bool can_emit() const override {
    for (auto n : in_flight)
      if (n >= setup.window)
        return false;
    return true;
  }

  void schedule(std::chrono::milliseconds delay, uint64_t token) override {
    self->delayed_send(self, delay, timer_atom::value, generation, token);
  }

  void fail(std::string_view kind, std::string reason) override {
    failed_now = true;
    fail_kind = kind;
    fail_reason = std::move(reason);
  }

  void error(std::string_view kind, std::string message) override {
    stats->add_error(kind);
    stats->set_last_error(message);
    log::write_limited(log_level::warning, id(), kind, message);
  }

  void count(std::string_view kind, uint64_t n) override { stats->add_error(kind, n); }

  void dropped(uint64_t n, std::string_view reason) override {
    stats->dropped.inc(n);
    log::write_limited(log_level::error, id(), "dropped:" + std::string{reason.substr(0, 24)},
                       "dropped " + std::to_string(n) + " records: " + std::string{reason});
  }

  void log(log_level level, std::string message) override {
    log::write_limited(level, id(), message.substr(0, 32), message);
  }

  void finished() override { source_finished = true; }

  void drained() override {
    drained_flag = true;
    self->send(self, drain_atom::value, generation);
  }

  void ready() override {
    blocked = false;
    self->send(self, drain_atom::value, generation);
  }

  std::shared_ptr<node_mailbox> mailbox() override {
    return std::make_shared<mailbox_impl>(self->address(), generation);
  }

  void set_detail(std::string detail) override { stats->set_detail(std::move(detail)); }

  // -- runtime ---------------------------------------------------------------------------------

  void send_to_outputs(std::shared_ptr<batch> ptr) {
    for (std::size_t i = 0; i < setup.outputs.size(); ++i) {
      ++in_flight[i];
      self->send(setup.outputs[i], batch_msg{ptr});
    }
  }

  void flush_out_queue() {
    while (!out_queue.empty() && can_emit()) {
      auto ptr = std::move(out_queue.front());
      out_queue.pop_front();
      send_to_outputs(std::move(ptr));
    }
    stats->queue_depth.set(static_cast<int64_t>(out_queue.size()));
  }

  /// Runs one call into the component, turning exceptions and ctx.fail() into a restart.
  template <class F>
  bool guarded(F&& f) {
    if (!instance)
      return false;
    try {
      f();
    } catch (const std::exception& e) {
      fail("exception", e.what());
    } catch (...) {
      fail("exception", "unknown exception");
    }
    if (failed_now) {
      handle_failure();
      return false;
    }
    return true;
  }

  bool create_instance() {
    ++generation;
    failed_now = false;
    try {
      instance = setup.spec.descriptor->make(setup.spec);
    } catch (const std::exception& e) {
      fail("start", e.what());
    }
    if (!failed_now && !instance)
      fail("start", "component factory returned nothing");
    if (failed_now) {
      handle_failure();
      return false;
    }
    stats->set_state(node_state::running);
    if (!guarded([&] { instance->start(*this); }))
      return false;
    return true;
  }

  std::chrono::milliseconds next_backoff() {
    const auto& sup = setup.spec.supervision;
    double base = static_cast<double>(sup.initial_backoff_ms);
    for (int i = 1; i < consecutive_failures && base < static_cast<double>(sup.max_backoff_ms); ++i)
      base *= 2;
    base = std::min(base, static_cast<double>(sup.max_backoff_ms));
    // Jitter: up to +25% so that nodes failing together do not restart in lockstep.
    std::uniform_real_distribution<double> jitter(0.0, 0.25);
    return std::chrono::milliseconds(static_cast<int64_t>(base * (1.0 + jitter(rng))));
  }

  void handle_failure() {
    failed_now = false;
    instance.reset();
    ++generation;
    ++consecutive_failures;
    stats->restarts.inc();
    stats->add_error(fail_kind);
    stats->set_last_error(fail_reason);
    // The input being processed when the node failed is retried once after the restart, then
    // dropped as poison (counted and logged).
    if (!inputs.empty() && ++inputs.front().failures >= 2) {
      auto p = std::move(inputs.front());
      inputs.pop_front();
      dropped(p.data->size(), "batch failed twice (poison): " + fail_reason);
      self->send(p.from, ack_atom::value);
    }
    const auto& sup = setup.spec.supervision;
    auto now = std::chrono::steady_clock::now();
    restart_times.push_back(now);
    while (!restart_times.empty() &&
           now - restart_times.front() > std::chrono::seconds(sup.window_secs))
      restart_times.pop_front();
    bool budget_exceeded = static_cast<int64_t>(restart_times.size()) > sup.max_restarts;
    if (budget_exceeded && sup.on_failure == failure_policy::stop) {
      log::error(id(), "failed (" + fail_kind + "): " + fail_reason + "; restart budget of " +
                           std::to_string(sup.max_restarts) + " in " +
                           std::to_string(sup.window_secs) +
                           " s used up, node stopped (on_failure: stop)");
      stats->set_state(node_state::failed);
      stats->set_detail("stopped after repeated failures");
      stopped_for_good = true;
      // A stopped source is finished; a stopped consumer acknowledges and counts what reaches it.
      source_finished = true;
      discard_inputs();
      progress();
      return;
    }
    if (budget_exceeded && sup.on_failure == failure_policy::shutdown) {
      log::error(id(), "failed (" + fail_kind + "): " + fail_reason +
                           "; restart budget used up, shutting down (on_failure: shutdown)");
      stats->set_state(node_state::failed);
      stats->set_detail("shutdown requested");
      self->send(graph, fatal_atom::value, id(), fail_reason);
      stopped_for_good = true;
      source_finished = true;
      discard_inputs();
      progress();
      return;
    }
    if (budget_exceeded)
      consecutive_failures = 64; // keep restarting at the maximum backoff
    auto delay = next_backoff();
    log::error(id(), "failed (" + fail_kind + "): " + fail_reason + "; restarting in " +
                         std::to_string(delay.count()) + " ms (restart " +
                         std::to_string(stats->restarts.value()) + ")");
    stats->set_state(node_state::restarting);
    stats->set_detail("restart in " + std::to_string(delay.count()) + " ms");
    restarting = true;
    self->delayed_send(self, delay, restart_atom::value, generation);
  }

  void discard_inputs() {
    while (!inputs.empty()) {
      auto p = std::move(inputs.front());
      inputs.pop_front();
      dropped(p.data->size(), "node stopped");
      self->send(p.from, ack_atom::value);
    }
  }

  /// Moves work forward: pending inputs through the instance, queued output, end of stream.
  void progress() {
    flush_out_queue();
    // Inputs: only while our own output has room, so backpressure propagates upstream.
    while (!inputs.empty() && !restarting && !blocked && out_queue.empty()) {
      if (stopped_for_good) {
        discard_inputs();
        break;
      }
      auto& front = inputs.front();
      std::shared_ptr<batch> data = front.data;
      batch local;
      // Move when we hold the only reference, copy when the batch is shared by a fan-out.
      if (data.use_count() <= 2)
        local = std::move(*data);
      else
        local = *data;
      bool accepted = false;
      if (!guarded([&] { accepted = instance->on_batch(local, *this); })) {
        // Failed: restore the batch for the retry after restart (if not dropped as poison).
        if (!inputs.empty() && inputs.front().data == data && data.use_count() <= 2)
          *data = std::move(local);
        return;
      }
      if (!accepted) {
        *data = std::move(local);
        blocked = true;
        break;
      }
      if (setup.spec.role == component_role::sink)
        stats->mark_success();
      auto from = front.from;
      inputs.pop_front();
      self->send(from, ack_atom::value);
      flush_out_queue();
    }
    stats->queue_depth.set(static_cast<int64_t>(out_queue.size() + inputs.size()));
    maybe_end();
  }

  void maybe_end() {
    if (eof_sent || restarting)
      return;
    bool is_source = setup.spec.role == component_role::source;
    if (is_source) {
      if (!source_finished || !out_queue.empty())
        return;
    } else {
      if (eofs < setup.input_count || !inputs.empty())
        return;
      if (!eof_seen) {
        eof_seen = true;
        stats->set_detail("draining");
        if (instance && !stopped_for_good) {
          bool now = true;
          if (!guarded([&] { now = instance->on_eof(*this); }))
            return;
          if (now)
            drained_flag = true;
        } else {
          drained_flag = true;
        }
        flush_out_queue();
      }
      if (!drained_flag || !out_queue.empty())
        return;
    }
    eof_sent = true;
    for (auto& out : setup.outputs)
      self->send(out, eof_atom::value);
    if (!stopped_for_good) {
      stats->set_state(node_state::stopped);
      stats->set_detail({});
    }
    self->send(graph, done_atom::value, id());
    // Done: quit now, so that pending timers of the component cannot hold the process open.
    instance.reset();
    self->quit();
  }
};

struct node_state_data {
  node_runtime rt;
};
using node_self = caf::stateful_actor<node_state_data>;

caf::behavior node_behavior(node_self* self, node_setup setup, caf::actor graph,
                            std::shared_ptr<node_stats> stats) {
  auto& rt = self->state.rt;
  rt.self = self;
  rt.graph = std::move(graph);
  rt.stats = std::move(stats);
  rt.setup = std::move(setup);
  rt.in_flight.assign(rt.setup.outputs.size(), 0);
  // Exceptions escaping the guarded calls (runtime bugs) restart the component, not the process.
  self->set_exception_handler(
      [](caf::scheduled_actor* ptr, std::exception_ptr& eptr) -> caf::error {
        auto* me = static_cast<node_self*>(ptr);
        std::string what = "unknown exception";
        try {
          std::rethrow_exception(eptr);
        } catch (const std::exception& e) {
          what = e.what();
        } catch (...) {
        }
        me->state.rt.fail("exception", what);
        me->state.rt.handle_failure();
        return caf::none;
      });
  if (rt.create_instance() && rt.setup.spec.role == component_role::source)
    rt.guarded([&] { rt.instance->on_credit(rt); });
  rt.progress();
  return {
      [self](batch_msg& m) {
        auto& rt = self->state.rt;
        rt.stats->records_in.inc(m.data->records.size());
        rt.stats->bytes_in.inc(m.data->byte_size());
        rt.inputs.push_back(pending_input{caf::actor_cast<caf::actor>(self->current_sender()),
                                          std::move(m.data), 0});
        rt.progress();
      },
      [self](ack_atom) {
        auto& rt = self->state.rt;
        auto sender = self->current_sender();
        for (std::size_t i = 0; i < rt.setup.outputs.size(); ++i)
          if (caf::actor_cast<caf::strong_actor_ptr>(rt.setup.outputs[i]) == sender &&
              rt.in_flight[i] > 0) {
            --rt.in_flight[i];
            break;
          }
        rt.flush_out_queue();
        if (rt.setup.spec.role == component_role::source && rt.instance && !rt.source_finished &&
            rt.out_queue.empty() && rt.can_emit())
          rt.guarded([&] { rt.instance->on_credit(rt); });
        rt.progress();
      },
      [self](eof_atom) {
        auto& rt = self->state.rt;
        ++rt.eofs;
        rt.progress();
      },
      [self](timer_atom, uint64_t generation, uint64_t token) {
        auto& rt = self->state.rt;
        if (generation != rt.generation || !rt.instance)
          return;
        rt.guarded([&] { rt.instance->on_timer(token, rt); });
        rt.progress();
      },
      [self](post_msg& m) {
        auto& rt = self->state.rt;
        if (m.generation != rt.generation || !rt.instance)
          return;
        rt.guarded([&] { m.fn(rt); });
        rt.progress();
      },
      [self](drain_atom, uint64_t) { self->state.rt.progress(); },
      [self](restart_atom, uint64_t generation) {
        auto& rt = self->state.rt;
        if (generation != rt.generation || !rt.restarting)
          return;
        rt.restarting = false;
        log::info(rt.id(), "restarting");
        if (!rt.create_instance())
          return;
        if (rt.stopping && rt.setup.spec.role == component_role::source)
          rt.guarded([&] { rt.instance->on_stop(rt); });
        else if (rt.setup.spec.role == component_role::source)
          rt.guarded([&] { rt.instance->on_credit(rt); });
        rt.progress();
      },
      [self](stop_atom) {
        auto& rt = self->state.rt;
        rt.stopping = true;
        if (rt.setup.spec.role != component_role::source || rt.source_finished)
          return;
        if (rt.instance)
          rt.guarded([&] { rt.instance->on_stop(rt); });
        else
          rt.source_finished = true; // restarting: nothing more will come
        if (rt.restarting) {
          rt.restarting = false;
          rt.source_finished = true;
        }
        rt.progress();
      },
  };
}

} // namespace

caf::actor spawn_node(caf::actor_system& sys, node_setup setup, caf::actor graph,
                      std::shared_ptr<node_stats> stats) {
  // Nodes that block on disk I/O get their own thread, so they never stall scheduler workers.
  if (setup.spec.descriptor && setup.spec.descriptor->blocking_io)
    return sys.spawn<caf::detached>(node_behavior, std::move(setup), std::move(graph),
                                    std::move(stats));
  return sys.spawn(node_behavior, std::move(setup), std::move(graph), std::move(stats));
}

} // namespace wattline::runtime
