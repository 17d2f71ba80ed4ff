#include "engine/config/planner.hpp"

#include <algorithm>
#include <functional>
#include <map>
#include <set>

namespace wattline {

namespace {

std::size_t count_errors(const diagnostics& diags) {
  return static_cast<std::size_t>(
      std::count_if(diags.items().begin(), diags.items().end(),
                    [](auto& d) { return d.level == severity::error; }));
}

std::string describe(const node_spec& n) {
  return std::string(to_string(n.role)) + " '" + n.id + "'";
}

std::string describe_typed(const node_spec& n) {
  if (n.type.empty())
    return describe(n);
  return describe(n) + " (type '" + n.type + "')";
}

/// Checks one graph; members keep the per-call state small and named.
class planner {
public:
  planner(pipeline_spec& spec, diagnostics& diags, const component_registry& registry,
          const plan_options& opts)
      : nodes_(spec.nodes), diags_(diags), registry_(registry), opts_(opts),
        consumers_(nodes_.size()), producers_(nodes_.size()) {
    for (std::size_t i = 0; i < nodes_.size(); ++i)
      index_.emplace(nodes_[i].id, i);
  }

  void run() {
    for (std::size_t i = 0; i < nodes_.size(); ++i)
      check_inputs(i);
    bool cyclic = find_cycles();
    warn_unused();
    if (!cyclic)
      sort_topologically();
  }

private:
  source_location input_location(const node_spec& n, std::size_t j) const {
    return j < n.input_locations.size() ? n.input_locations[j] : n.where;
  }

  bool hidden(const node_spec& n, std::size_t j) const {
    return opts_.is_substituted && j < n.input_locations.size() &&
           opts_.is_substituted(n.input_locations[j]);
  }

  std::string input_name(const node_spec& n, std::size_t j) const {
    return hidden(n, j) ? std::string("(a substituted id)") : "'" + n.inputs[j] + "'";
  }

  std::size_t input_length(const node_spec& n, std::size_t j) const {
    return hidden(n, j) ? 1 : n.inputs[j].size();
  }

  /// Ids that can feed other nodes, for hints.
  std::vector<std::string> producer_ids(const std::string& except) const {
    std::vector<std::string> out;
    for (const auto& n : nodes_)
      if (n.role != component_role::sink && n.id != except)
        out.push_back(n.id);
    return out;
  }

  void check_inputs(std::size_t ci) {
    const node_spec& c = nodes_[ci];
    if (c.role == component_role::source) {
      if (!c.inputs.empty())
        diags_.error(describe(c) + " cannot have inputs", input_location(c, 0),
                     "sources read from outside the pipeline; remove 'inputs' or declare '" + c.id +
                         "' under 'transforms'",
                     input_length(c, 0));
      return;
    }
    if (c.inputs.empty() && c.descriptor) {
      auto producers = producer_ids(c.id);
      std::string hint = "add 'inputs: [<id>]' naming a source or transform";
      if (!producers.empty())
        hint += ", e.g. one of: " + join(producers);
      diags_.error(describe(c) + " has no inputs", c.where, std::move(hint), c.id.size());
      return;
    }
    for (std::size_t j = 0; j < c.inputs.size(); ++j) {
      const auto& id = c.inputs[j];
      auto where = input_location(c, j);
      auto length = input_length(c, j);
      if (id == c.id) {
        diags_.error(describe(c) + " lists itself as an input", where,
                     "a node cannot consume its own output", length);
        continue;
      }
      auto it = index_.find(id);
      if (it == index_.end()) {
        auto producers = producer_ids(c.id);
        auto best = hidden(c, j) ? std::string{} : closest_match(id, producers);
        std::string hint;
        if (!best.empty())
          hint = "did you mean '" + best + "'?";
        else if (!producers.empty())
          hint = "known sources and transforms: " + join(producers);
        else
          hint = "no sources or transforms are defined";
        diags_.error("unknown input " + input_name(c, j) + " for " + describe(c), where,
                     std::move(hint), length);
        continue;
      }
      std::size_t pi = it->second;
      const node_spec& p = nodes_[pi];
      if (p.role == component_role::sink) {
        diags_.error(
            "input " + input_name(c, j) + " of " + describe(c) + " is a sink; sinks have no output",
            where, "take the input from the source or transform that feeds '" + p.id + "'", length);
        continue;
      }
      consumers_[pi].push_back(ci);
      producers_[ci].push_back({pi, j});
      check_kinds(p, c, j);
    }
  }

  void check_kinds(const node_spec& p, const node_spec& c, std::size_t j) {
    if (p.output_kind == data_kind::none || c.input_kind == data_kind::none ||
        p.output_kind == c.input_kind)
      return;
    std::string hint;
    if (p.output_kind == data_kind::bytes && c.input_kind == data_kind::records) {
      std::vector<std::string> decoders;
      for (const auto* d : registry_.all())
        if (d->role == component_role::transform && d->input == data_kind::bytes &&
            d->output == data_kind::records)
          decoders.push_back("'" + d->type + "'");
      hint = "put a decoder between them, e.g. a " +
             (decoders.empty() ? std::string("'dlms'") : join(decoders, " or ")) +
             " transform with 'inputs: [" + p.id + "]', and use it as the input of '" + c.id + "'";
    } else {
      hint = "connect '" + c.id + "' to a component that produces " + to_string(c.input_kind);
    }
    if (p.descriptor && p.descriptor->output_for)
      hint += std::string("; or change the options of '") + p.id + "' so that it produces " +
              to_string(c.input_kind);
    diags_.error(describe_typed(c) + " takes " + to_string(c.input_kind) + ", but its input " +
                     input_name(c, j) + " (" + std::string(to_string(p.role)) + " type '" + p.type +
                     "') produces " + to_string(p.output_kind),
                 input_location(c, j), std::move(hint), input_length(c, j));
  }

  /// Reports every cycle found by depth-first search along the data flow; true when any.
  bool find_cycles() {
    enum class color { white, grey, black };
    std::vector<color> colors(nodes_.size(), color::white);
    std::vector<std::size_t> path;
    bool found = false;
    std::function<void(std::size_t)> visit = [&](std::size_t u) {
      colors[u] = color::grey;
      path.push_back(u);
      for (std::size_t v : consumers_[u]) {
        if (colors[v] == color::grey) {
          found = true;
          report_cycle(path, u, v);
        } else if (colors[v] == color::white) {
          visit(v);
        }
      }
      path.pop_back();
      colors[u] = color::black;
    };
    for (std::size_t i = 0; i < nodes_.size(); ++i)
      if (colors[i] == color::white)
        visit(i);
    return found;
  }

  /// `path` ends in u; v (on the path) consumes u's output, closing the cycle.
  void report_cycle(const std::vector<std::size_t>& path, std::size_t u, std::size_t v) {
    auto start = std::find(path.begin(), path.end(), v);
    std::vector<std::string> ids;
    for (auto it = start; it != path.end(); ++it)
      ids.push_back(nodes_[*it].id);
    ids.push_back(nodes_[v].id);
    // Point at the input of v that names u.
    const node_spec& c = nodes_[v];
    std::size_t j = 0;
    for (const auto& [pi, input] : producers_[v])
      if (pi == u)
        j = input;
    diags_.error("cycle in the pipeline graph: " + join(ids, " -> "), input_location(c, j),
                 "data must flow from sources through transforms to sinks without loops",
                 input_length(c, j));
  }

  void warn_unused() {
    for (std::size_t i = 0; i < nodes_.size(); ++i) {
      const node_spec& n = nodes_[i];
      if (n.role == component_role::sink || !n.descriptor || !consumers_[i].empty())
        continue;
      diags_.warning("output of " + describe(n) + " is not used", n.where,
                     "list '" + n.id + "' in the 'inputs' of a transform or sink", n.id.size());
    }
  }

  /// Kahn's algorithm, taking the earliest declared ready node first.
  void sort_topologically() {
    std::vector<std::size_t> pending(nodes_.size());
    std::set<std::size_t> ready;
    for (std::size_t i = 0; i < nodes_.size(); ++i) {
      pending[i] = producers_[i].size();
      if (pending[i] == 0)
        ready.insert(i);
    }
    std::vector<std::size_t> order;
    while (!ready.empty()) {
      std::size_t u = *ready.begin();
      ready.erase(ready.begin());
      order.push_back(u);
      for (std::size_t v : consumers_[u])
        if (--pending[v] == 0)
          ready.insert(v);
    }
    if (order.size() != nodes_.size())
      return;
    std::vector<node_spec> sorted;
    sorted.reserve(nodes_.size());
    for (std::size_t i : order)
      sorted.push_back(std::move(nodes_[i]));
    nodes_ = std::move(sorted);
  }

  std::vector<node_spec>& nodes_;
  diagnostics& diags_;
  const component_registry& registry_;
  const plan_options& opts_;
  std::map<std::string, std::size_t, std::less<>> index_;
  /// Edges producer -> consumers, and per consumer (producer, input index).
  std::vector<std::vector<std::size_t>> consumers_;
  std::vector<std::vector<std::pair<std::size_t, std::size_t>>> producers_;
};

} // namespace

bool plan_pipelines(pipeline_spec& spec, diagnostics& diags, const component_registry& registry,
                    const plan_options& opts) {
  auto before = count_errors(diags);
  planner(spec, diags, registry, opts).run();
  return count_errors(diags) == before;
}

} // namespace wattline
