#pragma once

// The `buffer:` option every buffered sink (influxdb, mqtt) declares: its option_spec with the
// doc string, the load-time check of the nested map (located diagnostics), and conversion into
// `buffer_options`. Declared once here so that the sinks stay identical. No CAF include.

#include "engine/component.hpp"
#include "engine/node_api.hpp"
#include "sinks/buffer/sink_buffer.hpp"

#include <filesystem>
#include <string>

namespace wattline::sink_buffer {

/// The `buffer` option of a sink (type any: a nested map).
[[nodiscard]] option_spec buffer_option_spec();

/// The `drain_timeout_secs` option of a buffered sink (default 5 s).
[[nodiscard]] option_spec drain_timeout_option_spec();

/// Checks the node's `buffer:` map (types, allowed values, unknown keys) into `diags`.
void check_buffer_option(const YAML::Node& node, const std::string& file, diagnostics& diags);

/// The buffer settings of a node (defaults for missing keys); `dir` is set for disk buffers to
/// `<data_dir>/buffers/<node id>`.
[[nodiscard]] buffer_options buffer_options_from(const YAML::Node& node,
                                                 const std::filesystem::path& data_dir,
                                                 const std::string& node_id);

/// Opens the buffer of `opts` for a sink and reports what a disk buffer recovered from before
/// the last stop (an info line) or had to cut (a `buffer_corrupt` error). Throws as open_buffer.
[[nodiscard]] std::unique_ptr<record_buffer> open_and_report(const buffer_options& opts,
                                                             node_context& ctx);

/// Appends a sink's input batch to its buffer. Returns false when the `block` policy has no room
/// (the sink returns false from on_batch and calls ctx.ready() after acknowledgements made
/// room): `blocked` is set and the node's state detail says so. Records dropped by
/// `drop_oldest` are counted.
bool append_or_hold(record_buffer& buffer, std::vector<record>& records, bool& blocked,
                    node_context& ctx);

/// At the drain deadline: reports the records `buffer` still holds, kept for the next start
/// (disk, a warning) or lost (memory, an error and counted as dropped).
void report_undelivered(const record_buffer& buffer, buffer_type type, node_context& ctx);

} // namespace wattline::sink_buffer
