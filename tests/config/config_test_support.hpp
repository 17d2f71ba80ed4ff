#pragma once

// Shared helpers of the config tests: a fixed environment and rendering of all diagnostics.

#include "engine/config/substitute.hpp"
#include "engine/diagnostic.hpp"

#include <map>
#include <string>

namespace wattline::test {

/// An env_lookup over a fixed map, so that tests never depend on the real environment.
inline env_lookup fixed_env(std::map<std::string, std::string> vars) {
  return [vars = std::move(vars)](const std::string& name) -> std::optional<std::string> {
    if (auto it = vars.find(name); it != vars.end())
      return it->second;
    return std::nullopt;
  };
}

/// All diagnostics rendered one after the other, as the CLI prints them.
inline std::string render_all(const diagnostics& diags) {
  std::string out;
  for (const auto& d : diags.items())
    out += render(d);
  return out;
}

/// Number of diagnostics of one severity.
inline std::size_t count(const diagnostics& diags, severity s) {
  std::size_t n = 0;
  for (const auto& d : diags.items())
    n += d.level == s;
  return n;
}

} // namespace wattline::test
