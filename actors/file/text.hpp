#pragma once

// Text helpers shared by the file encoders: shortest round-trip doubles, JSON string escaping
// with UTF-8 repair.

#include <string>
#include <string_view>

namespace wattline::file_io {

/// Appends the shortest text that parses back to exactly `value` (std::to_chars), with ".0"
/// added when the text would otherwise read as an integer ("1" -> "1.0"; "1e+20" stays).
/// NaN and infinities are written as "NaN", "+Inf", "-Inf" (callers decide whether to use it).
void append_double(std::string& out, double value);

/// Appends `text` as a quoted JSON string: `"` and `\` escaped, control characters as \n, \t...
/// or \u00XX; UTF-8 passes through unchanged, invalid UTF-8 bytes become U+FFFD.
void append_json_string(std::string& out, std::string_view text);

} // namespace wattline::file_io
