#pragma once

// Logging to stderr: `2026-11-21T10:00:00.123Z warning [node_id] message`. Thread-safe. Repeated
// messages with the same key are rate-limited: at most `burst` per `window`, then one line saying
// how many were suppressed.

#include "engine/node_api.hpp"

#include <string>
#include <string_view>

namespace wattline::log {

/// Sets the minimum level printed; returns false for an unknown name.
bool set_level(std::string_view name);
void set_level(log_level level);
[[nodiscard]] log_level level();
[[nodiscard]] bool enabled(log_level level);
[[nodiscard]] const char* to_string(log_level level);

/// Writes one line; `scope` is the node id or subsystem ("engine", "config").
void write(log_level level, std::string_view scope, std::string_view message);

/// Like write(), but lines with the same (scope, key) are rate-limited to 5 per 10 s.
void write_limited(log_level level, std::string_view scope, std::string_view key,
                   std::string_view message);

inline void info(std::string_view scope, std::string_view m) {
  write(log_level::info, scope, m);
}
inline void warn(std::string_view scope, std::string_view m) {
  write(log_level::warning, scope, m);
}
inline void error(std::string_view scope, std::string_view m) {
  write(log_level::error, scope, m);
}
inline void debug(std::string_view scope, std::string_view m) {
  write(log_level::debug, scope, m);
}

} // namespace wattline::log
