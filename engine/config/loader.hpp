#pragma once

// Loads pipeline files into a checked pipeline_spec: YAML parsing, `${...}` substitution,
// schema-driven option validation against the component registry, then the planner. Every
// problem is reported to a `diagnostics` collector; nothing throws.
//
// File format (Vector style), any number of files merged into one graph:
//
//   engine:                      # optional; each key may be set by at most one file
//     log_level: info            # trace | debug | info | warning | error
//     status_address: 127.0.0.1:8686   # host:port, "" or off disables the endpoint
//     data_dir: /var/lib/wattline
//     shutdown_timeout_secs: 10
//   sources:
//     <id>: { type: <source type>, <options>..., supervision: {...} }
//   transforms:
//     <id>: { type: <transform type>, inputs: [<id>, ...], <options>... }
//   sinks:
//     <id>: { type: <sink type>, inputs: <id> | [<id>, ...], <options>... }
//
// Per node `supervision:` keys: initial_backoff_ms, max_backoff_ms, max_restarts, window_secs,
// on_failure (restart | stop | shutdown).
//
// Ids are letters, digits, '_' and '-', unique across all files. Every scalar value (not keys)
// may hold `${VAR}`, `${VAR:-fallback}`, `${file:PATH}` (relative to the file's directory) and
// `$${` for a literal `${` (see substitute.hpp). Option values follow the YAML 1.2 core schema:
// booleans are true/false only; integers are decimal, 0x hex or 0o octal; numbers also accept
// integers. Quoted scalars convert like plain ones, so `"${PORT}"` works for an integer. An
// `any` option is stored as its canonical YAML text; components read it from options::raw().

#include "engine/component.hpp"
#include "engine/config/substitute.hpp"
#include "engine/diagnostic.hpp"
#include "engine/pipeline_spec.hpp"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace wattline {

/// Exit code of the CLI for configuration errors (EX_CONFIG from sysexits.h, as Vector uses).
inline constexpr int exit_config_error = 78;

/// Loads, validates and plans the pipelines in `paths` (files, or directories whose *.yaml and
/// *.yml files are loaded in name order). Returns nothing when any error was reported; warnings
/// alone (e.g. an unused source) still give a spec. Node order of the result is topological.
std::optional<pipeline_spec>
load_pipelines(const std::vector<std::string>& paths, diagnostics& diags,
               const env_lookup& env = process_env(),
               const component_registry& registry = component_registry::instance());

/// One in-memory pipeline file, for tests and embedding.
struct pipeline_text {
  /// Name used in diagnostics; its directory is the base of relative `${file:...}` paths.
  std::string name;
  std::string yaml;
};

/// Like load_pipelines() for in-memory files.
std::optional<pipeline_spec>
load_pipeline_texts(const std::vector<pipeline_text>& files, diagnostics& diags,
                    const env_lookup& env = process_env(),
                    const component_registry& registry = component_registry::instance());

/// The declared keys of a node's `supervision:` map (used by the loader and the schema).
const std::vector<option_spec>& supervision_options();

/// The declared keys of the `engine:` section (used by the loader and the schema).
const std::vector<option_spec>& engine_options();

} // namespace wattline
