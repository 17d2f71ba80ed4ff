#pragma once

// Runs checked pipelines: spawns one actor per node, supervises them, serves status, handles
// SIGINT/SIGTERM (drain and exit) and SIGHUP (reload; an invalid new config keeps the old graph).

#include "engine/pipeline_spec.hpp"

#include <functional>
#include <string>
#include <vector>

namespace wattline::runtime {

/// Exit codes (sysexits-style where one fits).
enum exit_code : int {
  exit_ok = 0,
  exit_failure = 1,
  exit_usage = 64,
  exit_software = 70,
  exit_config = 78,
};

struct run_options {
  /// Pipeline files or directories; reloaded from the same paths on SIGHUP.
  std::vector<std::string> paths;
  /// Overrides engine.status_address when set ("" or "off" disables).
  std::optional<std::string> status_address;
  /// Overrides engine.data_dir when set.
  std::optional<std::string> data_dir;
  /// Called with the actual status port once the endpoint listens (tests use port 0).
  std::function<void(int port)> on_status_listening;
};

/// Loads, checks and runs the pipelines until they end by themselves (all sources finite and
/// drained) or a signal stops them. Returns the process exit code.
int run(const run_options& opts);

} // namespace wattline::runtime
