#include "sinks/influxdb/line_protocol.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <limits>

namespace wattline::influxdb {

namespace {

// Character classes for the unquoted parts of a line.
enum : uint8_t {
  esc_measurement = 1, // needs attention in a measurement
  esc_key = 2,         // needs attention in a tag key, tag value or field key
};

constexpr std::array<uint8_t, 256> make_table() {
  std::array<uint8_t, 256> t{};
  for (unsigned char c : {',', ' ', '\\', '\n', '\r', '\t', '\f'})
    t[c] = esc_measurement | esc_key;
  t[static_cast<unsigned char>('=')] = esc_key;
  return t;
}

constexpr auto special = make_table();

// True when `c` is written with a backslash in front in this context; a raw backslash before it
// would pair with that escape and corrupt the line.
template <uint8_t Class>
constexpr bool escaped_with_backslash(char c) {
  if (c == ',' || c == ' ')
    return true;
  if constexpr (Class == esc_key)
    return c == '=';
  return false;
}

template <uint8_t Class>
void append_escaped(std::string& out, std::string_view s) {
  const char* p = s.data();
  const size_t n = s.size();
  size_t i = 0;
  while (i < n && (special[static_cast<unsigned char>(p[i])] & Class) == 0)
    ++i;
  out.append(p, i);
  for (; i < n; ++i) {
    char c = p[i];
    if ((special[static_cast<unsigned char>(c)] & Class) == 0) {
      out.push_back(c);
      continue;
    }
    switch (c) {
    case '\n':
      out.append("\\n", 2);
      break;
    case '\r':
      out.append("\\r", 2);
      break;
    case '\t':
      out.append("\\t", 2);
      break;
    case '\f':
      out.append("\\f", 2);
      break;
    case '\\':
      if (i + 1 < n && !escaped_with_backslash<Class>(p[i + 1]))
        out.push_back('\\');
      break; // dropped at the end or before an escaped character
    default: // ',' ' ' '='
      out.push_back('\\');
      out.push_back(c);
    }
  }
}

template <class Int>
void append_int(std::string& out, Int v) {
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), v);
  (void)ec;
  out.append(buf, end);
}

} // namespace

std::string_view to_string(precision p) {
  switch (p) {
  case precision::ns:
    return "ns";
  case precision::us:
    return "us";
  case precision::ms:
    return "ms";
  case precision::s:
    return "s";
  }
  return "ns";
}

std::optional<precision> parse_precision(std::string_view text) {
  if (text == "ns" || text == "n")
    return precision::ns;
  if (text == "us" || text == "u")
    return precision::us;
  if (text == "ms")
    return precision::ms;
  if (text == "s")
    return precision::s;
  return std::nullopt;
}

int64_t convert_timestamp(int64_t time_ns, precision p) {
  int64_t div = 1;
  switch (p) {
  case precision::ns:
    return time_ns;
  case precision::us:
    div = 1'000;
    break;
  case precision::ms:
    div = 1'000'000;
    break;
  case precision::s:
    div = 1'000'000'000;
    break;
  }
  int64_t q = time_ns / div;
  if (time_ns % div < 0)
    --q;
  return q;
}

void append_escaped_measurement(std::string& out, std::string_view text) {
  append_escaped<esc_measurement>(out, text);
}

void append_escaped_key(std::string& out, std::string_view text) {
  append_escaped<esc_key>(out, text);
}

void append_quoted_string(std::string& out, std::string_view s) {
  out.push_back('"');
  const char* p = s.data();
  const size_t n = s.size();
  size_t start = 0;
  for (size_t i = 0; i < n; ++i) {
    if (p[i] == '"' || p[i] == '\\') {
      out.append(p + start, i - start);
      out.push_back('\\');
      start = i; // the character itself is appended with the next run
    }
  }
  out.append(p + start, n - start);
  out.push_back('"');
}

void append_float(std::string& out, double v) {
  char buf[32];
  auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), v);
  (void)ec;
  out.append(buf, end);
}

bool line_encoder::encode(const record& rec, std::string& out) {
  if (rec.name.empty()) {
    ++stats_.skipped_records;
    return false;
  }
  const size_t start = out.size();
  append_escaped_measurement(out, rec.name);

  // Tags in key order; most producers insert them sorted already, so check before sorting.
  const auto& tags = rec.tags;
  bool sorted = true;
  for (size_t i = 1; i < tags.size() && sorted; ++i)
    sorted = !(tags[i].first < tags[i - 1].first);
  auto append_tag = [&](const std::pair<field_text, field_text>& t) {
    if (t.first.empty() || t.second.empty() || t.first == "time") {
      ++stats_.skipped_tags;
      return;
    }
    out.push_back(',');
    append_escaped_key(out, t.first);
    out.push_back('=');
    append_escaped_key(out, t.second);
  };
  if (sorted) {
    for (const auto& t : tags)
      append_tag(t);
  } else {
    tag_order_.clear();
    for (uint32_t i = 0; i < tags.size(); ++i)
      tag_order_.push_back(i);
    std::sort(tag_order_.begin(), tag_order_.end(),
              [&](uint32_t a, uint32_t b) { return tags[a].first < tags[b].first; });
    for (uint32_t i : tag_order_)
      append_tag(tags[i]);
  }

  char sep = ' ';
  for (const auto& f : rec.fields) {
    if (f.key.empty() || f.key == "time") {
      ++stats_.skipped_fields;
      continue;
    }
    if (f.value.index() == 0 && !std::isfinite(std::get<double>(f.value))) {
      ++stats_.skipped_nonfinite_fields;
      continue;
    }
    out.push_back(sep);
    sep = ',';
    append_escaped_key(out, f.key);
    out.push_back('=');
    switch (f.value.index()) {
    case 0:
      append_float(out, std::get<double>(f.value));
      break;
    case 1:
      append_int(out, std::get<int64_t>(f.value));
      out.push_back('i');
      break;
    case 2: {
      uint64_t u = std::get<uint64_t>(f.value);
      if (opts_.uints == uint_encoding::unsigned_suffix) {
        append_int(out, u);
        out.push_back('u');
      } else {
        if (u > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
          u = static_cast<uint64_t>(std::numeric_limits<int64_t>::max());
          ++stats_.clamped_uints;
        }
        append_int(out, u);
        out.push_back('i');
      }
      break;
    }
    case 3:
      out.append(std::get<bool>(f.value) ? "true" : "false");
      break;
    default:
      append_quoted_string(out, std::get<std::string>(f.value));
      break;
    }
  }
  if (sep == ' ') { // no field written
    out.resize(start);
    ++stats_.skipped_records;
    return false;
  }
  out.push_back(' ');
  append_int(out, convert_timestamp(rec.time_ns, opts_.time_precision));
  out.push_back('\n');
  ++stats_.lines;
  return true;
}

std::string_view to_string(lp_type t) {
  switch (t) {
  case lp_type::float_:
    return "float";
  case lp_type::integer:
    return "integer";
  case lp_type::unsigned_:
    return "unsigned";
  case lp_type::string:
    return "string";
  case lp_type::boolean:
    return "boolean";
  }
  return "float";
}

namespace {

// Reads an unquoted token up to one of the unescaped `stops`, unescaping `\x` for x in `stops`
// (and '='). Advances `pos`.
std::string read_token(std::string_view line, size_t& pos, std::string_view stops) {
  std::string out;
  while (pos < line.size()) {
    char c = line[pos];
    if (c == '\\' && pos + 1 < line.size()) {
      char next = line[pos + 1];
      if (next == ',' || next == ' ' || next == '=')
        out.push_back(next);
      else {
        out.push_back('\\');
        out.push_back(next);
      }
      pos += 2;
      continue;
    }
    if (stops.find(c) != std::string_view::npos)
      break;
    out.push_back(c);
    ++pos;
  }
  return out;
}

} // namespace

std::optional<lp_line> scan_line(std::string_view line) {
  lp_line result;
  size_t pos = 0;
  while (pos < line.size() && (line[pos] == ' ' || line[pos] == '\t'))
    ++pos;
  if (pos < line.size() && line[pos] == '#')
    return std::nullopt;
  result.measurement = read_token(line, pos, ", ");
  if (result.measurement.empty())
    return std::nullopt;
  while (pos < line.size() && line[pos] == ',') { // tags
    ++pos;
    read_token(line, pos, "=, ");
    if (pos >= line.size() || line[pos] != '=')
      return std::nullopt;
    ++pos;
    read_token(line, pos, ", ");
  }
  if (pos >= line.size() || line[pos] != ' ')
    return std::nullopt;
  ++pos;
  for (;;) { // fields
    lp_field f;
    f.key = read_token(line, pos, "=, ");
    if (f.key.empty() || pos >= line.size() || line[pos] != '=')
      return std::nullopt;
    ++pos;
    if (pos >= line.size())
      return std::nullopt;
    if (line[pos] == '"') {
      f.type = lp_type::string;
      ++pos;
      while (pos < line.size() && line[pos] != '"')
        pos += line[pos] == '\\' ? 2 : 1;
      if (pos >= line.size())
        return std::nullopt;
      ++pos;
    } else {
      size_t begin = pos;
      while (pos < line.size() && line[pos] != ',' && line[pos] != ' ')
        ++pos;
      std::string_view v = line.substr(begin, pos - begin);
      if (v.empty())
        return std::nullopt;
      char last = v.back();
      if (v == "t" || v == "T" || v == "true" || v == "True" || v == "TRUE" || v == "f" ||
          v == "F" || v == "false" || v == "False" || v == "FALSE")
        f.type = lp_type::boolean;
      else if (last == 'i')
        f.type = lp_type::integer;
      else if (last == 'u')
        f.type = lp_type::unsigned_;
      else
        f.type = lp_type::float_;
    }
    result.fields.push_back(std::move(f));
    if (pos < line.size() && line[pos] == ',') {
      ++pos;
      continue;
    }
    break;
  }
  if (pos < line.size() && line[pos] == ' ') {
    ++pos;
    size_t begin = pos;
    if (pos < line.size() && line[pos] == '-')
      ++pos;
    while (pos < line.size() && line[pos] >= '0' && line[pos] <= '9')
      ++pos;
    result.has_timestamp = pos > begin && line[pos - 1] != '-';
  }
  while (pos < line.size() && (line[pos] == ' ' || line[pos] == '\r'))
    ++pos;
  if (pos != line.size())
    return std::nullopt;
  return result;
}

} // namespace wattline::influxdb
