#include "actors/file/influx_fallback.hpp"

#include "actors/file/text.hpp"

#include <charconv>
#include <cmath>
#include <string_view>

namespace wattline::file_io {

namespace {

void append_escaped(std::string& out, std::string_view s, std::string_view specials) {
  for (char c : s) {
    switch (c) {
    case '\n':
      out += "\\n";
      continue;
    case '\t':
      out += "\\t";
      continue;
    case '\r':
      out += "\\r";
      continue;
    case '\f':
      out += "\\f";
      continue;
    default:
      break;
    }
    if (specials.find(c) != std::string_view::npos)
      out += '\\';
    out += c;
  }
}

template <class Int>
void append_int(std::string& out, Int v) {
  char buf[32];
  auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), v);
  out.append(buf, end);
}

bool representable(const field& f) {
  if (const auto* d = std::get_if<double>(&f.value))
    return std::isfinite(*d);
  return !f.key.empty();
}

} // namespace

bool append_influx_line_fallback(std::string& out, const record& r) {
  bool any = false;
  for (const auto& f : r.fields)
    if (!f.key.empty() && representable(f))
      any = true;
  if (!any || r.name.empty())
    return false;
  append_escaped(out, r.name, ", ");
  for (const auto& [k, v] : r.tags) {
    if (k.empty() || v.empty())
      continue;
    out += ',';
    append_escaped(out, k, ",= ");
    out += '=';
    append_escaped(out, v, ",= ");
  }
  char sep = ' ';
  for (const auto& f : r.fields) {
    if (f.key.empty() || !representable(f))
      continue;
    out += sep;
    sep = ',';
    append_escaped(out, f.key, ",= ");
    out += '=';
    switch (f.value.index()) {
    case 0: {
      // Line protocol floats need no ".0": "1" is a float there, "1i" an integer.
      std::string d;
      append_double(d, std::get<double>(f.value));
      out += d;
      break;
    }
    case 1:
      append_int(out, std::get<int64_t>(f.value));
      out += 'i';
      break;
    case 2:
      append_int(out, std::get<uint64_t>(f.value));
      out += 'u';
      break;
    case 3:
      out += std::get<bool>(f.value) ? "true" : "false";
      break;
    default:
      // Line breaks are escaped too: a line of the file must never contain one.
      out += '"';
      append_escaped(out, std::get<std::string>(f.value), "\"\\");
      out += '"';
    }
  }
  out += ' ';
  append_int(out, r.time_ns);
  out += '\n';
  return true;
}

} // namespace wattline::file_io
