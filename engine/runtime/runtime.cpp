#include "engine/runtime/runtime.hpp"

#include "engine/config/loader.hpp"
#include "engine/log.hpp"
#include "engine/runtime/graph.hpp"
#include "engine/runtime/node_actor.hpp"

#include <atomic>
#include <csignal>
#include <iostream>
#include <map>
#include <pthread.h>
#include <thread>

namespace wattline::runtime {

namespace {

using signal_atom = caf::atom_constant<caf::atom("wlsignal")>;

struct graph_state {
  pipeline_spec spec;
  caf::actor owner;
  std::map<std::string, caf::actor> nodes;
  std::size_t remaining = 0;
  bool stopping = false;
  int code = exit_ok;
  std::vector<std::shared_ptr<node_stats>> stats;
};

caf::behavior graph_behavior(caf::stateful_actor<graph_state>* self, pipeline_spec spec,
                             caf::actor owner, std::vector<std::shared_ptr<node_stats>> stats) {
  auto& st = self->state;
  st.spec = std::move(spec);
  st.owner = std::move(owner);
  st.stats = std::move(stats);
  // Consumers first, so that every node is spawned knowing the handles of its outputs.
  std::map<std::string, std::size_t> input_counts;
  for (const auto& n : st.spec.nodes)
    input_counts[n.id] = n.inputs.size();
  for (auto it = st.spec.nodes.rbegin(); it != st.spec.nodes.rend(); ++it) {
    node_setup setup;
    setup.spec = *it;
    setup.input_count = input_counts[it->id];
    setup.data_dir = st.spec.engine.data_dir;
    for (const auto& consumer : st.spec.nodes)
      for (const auto& in : consumer.inputs)
        if (in == it->id)
          setup.outputs.push_back(st.nodes.at(consumer.id));
    auto index = static_cast<std::size_t>(std::distance(it, st.spec.nodes.rend()) - 1);
    auto hdl = spawn_node(self->system(), std::move(setup), self, st.stats[index]);
    self->monitor(hdl);
    st.nodes.emplace(it->id, hdl);
  }
  st.remaining = st.nodes.size();
  self->set_down_handler([self](caf::down_msg& dm) {
    auto& st = self->state;
    for (auto& [id, hdl] : st.nodes)
      if (hdl.address() == dm.source && dm.reason) {
        log::error("engine",
                   "node '" + id + "' actor ended abnormally: " + self->system().render(dm.reason));
        st.code = exit_software;
      }
  });
  auto begin_shutdown = [self](int code) {
    auto& st = self->state;
    if (st.code == exit_ok)
      st.code = code;
    if (st.stopping)
      return;
    st.stopping = true;
    for (const auto& n : st.spec.nodes)
      if (n.role == component_role::source)
        self->send(st.nodes.at(n.id), stop_atom::value);
    self->delayed_send(self, std::chrono::seconds(st.spec.engine.shutdown_timeout_secs),
                       timer_atom::value, uint64_t{0}, uint64_t{0});
  };
  return {
      [self](done_atom, const std::string& id) {
        auto& st = self->state;
        log::debug("engine", "node '" + id + "' drained");
        if (--st.remaining == 0) {
          self->send(st.owner, finished_atom::value, st.code);
          self->quit();
        }
      },
      [begin_shutdown](fatal_atom, const std::string&, const std::string&) {
        begin_shutdown(exit_software);
      },
      [begin_shutdown](stop_atom) { begin_shutdown(exit_ok); },
      [self](timer_atom, uint64_t, uint64_t) {
        auto& st = self->state;
        std::string pending;
        for (const auto& s : st.stats)
          if (s->state() != node_state::stopped && s->state() != node_state::failed)
            pending += (pending.empty() ? "" : ", ") + s->id();
        log::error("engine", "shutdown deadline of " +
                                 std::to_string(st.spec.engine.shutdown_timeout_secs) +
                                 " s passed; nodes not drained: " + pending);
        for (auto& [id, hdl] : st.nodes)
          self->send_exit(hdl, caf::exit_reason::user_shutdown);
        self->send(st.owner, finished_atom::value, static_cast<int>(exit_failure));
        self->quit();
      },
  };
}

std::atomic<bool> signal_thread_stop{false};

/// The signals the run loop handles: blocked in every thread, taken by the signal thread.
sigset_t handled_signals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGHUP);
  return set;
}

void block_signals() {
  auto set = handled_signals();
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
}

} // namespace

std::vector<std::shared_ptr<node_stats>> make_stats(status::metrics_registry& registry,
                                                    const pipeline_spec& spec) {
  // Nodes that are gone after a reload leave the registry; kept ones keep counting.
  for (const auto& n : registry.nodes())
    if (!spec.find(n->id()))
      registry.remove_node(n->id());
  std::vector<std::shared_ptr<node_stats>> out;
  for (const auto& n : spec.nodes) {
    auto m = registry.add_node(n.id, n.type, to_string(n.role));
    if (!m) {
      registry.remove_node(n.id);
      m = registry.add_node(n.id, n.type, to_string(n.role));
    }
    m->set_state(node_state::starting);
    out.push_back(std::move(m));
  }
  return out;
}

caf::actor spawn_graph(caf::actor_system& sys, const pipeline_spec& spec, caf::actor owner,
                       std::vector<std::shared_ptr<node_stats>> stats) {
  return sys.spawn(graph_behavior, spec, std::move(owner), std::move(stats));
}

namespace {

std::optional<pipeline_spec> load(const run_options& opts) {
  diagnostics diags;
  auto spec = load_pipelines(opts.paths, diags);
  for (const auto& d : diags.items())
    std::cerr << render(d);
  if (!spec || diags.has_errors())
    return std::nullopt;
  if (opts.status_address)
    spec->engine.status_address = *opts.status_address;
  if (opts.data_dir)
    spec->engine.data_dir = *opts.data_dir;
  return spec;
}

} // namespace

int run(const run_options& opts) {
  auto spec = load(opts);
  if (!spec)
    return exit_config;
  log::set_level(spec->engine.log_level);
  block_signals();
  caf::actor_system_config cfg;
  cfg.set("scheduler.max-threads", std::max(2u, std::thread::hardware_concurrency()));
  cfg.set("scheduler.max-throughput", 300);
  caf::actor_system sys{cfg};
  caf::scoped_actor self{sys};
  // Signals arrive on this thread (blocked everywhere else) and become messages.
  signal_thread_stop = false;
  std::thread signals([&sys, owner = caf::actor{self}] {
    auto set = handled_signals();
    timespec tick{0, 200'000'000};
    while (!signal_thread_stop) {
      int sig = sigtimedwait(&set, nullptr, &tick);
      if (sig > 0)
        caf::anon_send(owner, signal_atom::value, sig);
    }
    (void)sys;
  });
  status_endpoint status;
  int code = exit_ok;
  for (;;) {
    auto stats = make_stats(status.registry(), *spec);
    if (!status.update(spec->engine, opts.on_status_listening)) {
      code = exit_failure;
      break;
    }
    log::info("engine", "running " + std::to_string(spec->nodes.size()) + " nodes from " +
                            std::to_string(spec->files.size()) + " file(s)");
    auto graph = spawn_graph(sys, *spec, self, stats);
    bool running = true;
    std::optional<pipeline_spec> next;
    bool stop_requested = false;
    while (running) {
      self->receive(
          [&](finished_atom, int result) {
            running = false;
            code = result;
          },
          [&](signal_atom, int sig) {
            if (sig == SIGHUP) {
              log::info("engine", "SIGHUP: reloading configuration");
              auto candidate = load(opts);
              if (!candidate) {
                log::error("engine", "new configuration is invalid; keeping the running graph");
                return;
              }
              next = std::move(candidate);
              self->send(graph, stop_atom::value);
              return;
            }
            log::info("engine", std::string{sig == SIGINT ? "SIGINT" : "SIGTERM"} +
                                    ": stopping sources and draining");
            stop_requested = true;
            next.reset();
            self->send(graph, stop_atom::value);
          });
    }
    for (const auto& s : stats)
      log::info("engine", "summary: node=" + s->id() +
                              " records_in=" + std::to_string(s->records_in.value()) +
                              " records_out=" + std::to_string(s->records_out.value()) +
                              " bytes_in=" + std::to_string(s->bytes_in.value()) +
                              " dropped=" + std::to_string(s->dropped.value()) +
                              " errors=" + std::to_string(s->errors_total()) +
                              " restarts=" + std::to_string(s->restarts.value()));
    if (next && !stop_requested) {
      spec = std::move(next);
      log::set_level(spec->engine.log_level);
      log::info("engine", "configuration reloaded");
      continue;
    }
    break;
  }
  status.stop();
  signal_thread_stop = true;
  signals.join();
  log::info("engine", code == exit_ok ? "all pipelines drained, exiting"
                                      : "exiting with code " + std::to_string(code));
  return code;
}

} // namespace wattline::runtime
