#pragma once

// Bridges yaml-cpp marks (0-based) to wattline source locations (1-based).

#include "engine/diagnostic.hpp"

#include <yaml-cpp/yaml.h>

namespace wattline {

/// The 1-based location of `node` in `file`; line 0 when the node has no mark.
inline source_location location_of(const YAML::Node& node, const std::string& file) {
  auto m = node.Mark();
  if (m.line < 0)
    return {file, 0, 0};
  return {file, m.line + 1, m.column + 1};
}

/// The 1-based location of a yaml-cpp mark.
inline source_location location_of(const YAML::Mark& m, const std::string& file) {
  if (m.line < 0)
    return {file, 0, 0};
  return {file, m.line + 1, m.column + 1};
}

} // namespace wattline
