#pragma once

// Documentation generated from the component descriptors and from a loaded pipeline: the text of
// `wattline describe`, the README component reference, the JSON Schema for editors, and graphs.

#include "engine/component.hpp"
#include "engine/pipeline_spec.hpp"

#include <string>
#include <string_view>

namespace wattline {

/// Plain-text reference of every visible component, or only of those whose type is `type`
/// (a source and a sink may share a type name). Empty when `type` matches nothing.
std::string describe_text(const component_registry& registry, std::string_view type = {});

/// Markdown reference of every visible component, grouped by role, one option table each.
std::string describe_markdown(const component_registry& registry);

/// JSON Schema (draft-07) of the whole pipeline file format, for editors such as VS Code YAML.
std::string json_schema(const component_registry& registry);

/// Graphviz DOT of a loaded pipeline: nodes labelled id and type, shaped by role, edges labelled
/// with the data kind they carry.
std::string graph_dot(const pipeline_spec& spec);

/// The same graph as a Mermaid flowchart.
std::string graph_mermaid(const pipeline_spec& spec);

} // namespace wattline
