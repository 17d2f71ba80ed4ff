#pragma once

// The `buffer:` option every buffered sink (influxdb, mqtt) declares: its option_spec with the
// doc string, the load-time check of the nested map (located diagnostics), and conversion into
// `buffer_options`. Declared once here so that the sinks stay identical. No CAF include.

#include "engine/component.hpp"
#include "sinks/buffer/sink_buffer.hpp"

#include <filesystem>
#include <string>

namespace wattline::sink_buffer {

/// The `buffer` option of a sink (type any: a nested map).
[[nodiscard]] option_spec buffer_option_spec();

/// Checks the node's `buffer:` map (types, allowed values, unknown keys) into `diags`.
void check_buffer_option(const YAML::Node& node, const std::string& file, diagnostics& diags);

/// The buffer settings of a node (defaults for missing keys); `dir` is set for disk buffers to
/// `<data_dir>/buffers/<node id>`.
[[nodiscard]] buffer_options buffer_options_from(const YAML::Node& node,
                                                 const std::filesystem::path& data_dir,
                                                 const std::string& node_id);

} // namespace wattline::sink_buffer
