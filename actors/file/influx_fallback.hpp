#pragma once

// TODO(file_io): duplicate of the InfluxDB sink's encoder (sinks/influxdb/line_protocol.hpp,
// library wattline_influxdb), which was not in git yet when this was written. Replace
// append_influx_line_fallback with that encoder once it is committed, and delete this file.

#include "engine/record.hpp"

#include <string>

namespace wattline::file_io {

/// Appends `r` as one InfluxDB line protocol line with a nanosecond timestamp and '\n':
/// `measurement[,tag=v...] field=v[,field=v...] time_ns`. Escaping: measurement `,` and space;
/// tag keys, tag values and field keys `,` `=` and space; string field values `"` and `\` (InfluxDB
/// reads other escapes in strings literally, but a line of the file must never contain a line
/// break); newlines, tabs, CR and FF in any name as `\n` `\t` `\r` `\f`. Integers get `i`, unsigned
/// `u`. Tags with an empty key or value are left out, as are NaN and infinite doubles (line
/// protocol cannot carry them). Returns false and appends nothing when no field is left.
bool append_influx_line_fallback(std::string& out, const record& r);

} // namespace wattline::file_io
