#pragma once

// Graph checks over loaded nodes: inputs resolve, roles fit (sources take no inputs, transforms
// and sinks need some), no cycles, the data kind on every edge matches, unused outputs. Orders
// the nodes topologically (producers before consumers, declaration order otherwise).

#include "engine/component.hpp"
#include "engine/diagnostic.hpp"
#include "engine/pipeline_spec.hpp"

#include <functional>
#include <string>

namespace wattline {

/// Optional knobs of plan_pipelines().
struct plan_options {
  /// True for an input whose id came from `${...}` substitution: its text is never printed.
  std::function<bool(const source_location&)> is_substituted;
};

/// Checks the graph of `spec` and reorders `spec.nodes` topologically (left as is when the graph
/// has a cycle). `registry` is used for hints (which decoders exist). Returns false when an error
/// was reported; unused outputs are only warnings.
bool plan_pipelines(pipeline_spec& spec, diagnostics& diags,
                    const component_registry& registry = component_registry::instance(),
                    const plan_options& opts = {});

} // namespace wattline
