#include "actors/file/csv.hpp"

#include "actors/file/text.hpp"
#include "actors/file/time_format.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>

namespace wattline::file_io {

void append_csv_cell(std::string& out, std::string_view cell) {
  bool quote = cell.find_first_of(",\"\r\n") != std::string_view::npos ||
               (!cell.empty() && (cell.front() == ' ' || cell.back() == ' '));
  if (!quote) {
    out += cell;
    return;
  }
  out += '"';
  for (char c : cell) {
    if (c == '"')
      out += '"';
    out += c;
  }
  out += '"';
}

csv_schema::csv_schema(const record& r) : set_(true) {
  for (const auto& [k, v] : r.tags)
    tags_.push_back(k.str());
  for (const auto& f : r.fields)
    fields_.push_back(f.key.str());
}

bool csv_schema::fits(const record& r) const {
  if (!set_)
    return false;
  for (const auto& [k, v] : r.tags)
    if (std::find(tags_.begin(), tags_.end(), k) == tags_.end())
      return false;
  for (const auto& f : r.fields)
    if (std::find(fields_.begin(), fields_.end(), f.key) == fields_.end())
      return false;
  return true;
}

void csv_schema::append_header(std::string& out) const {
  out += "time,name";
  for (const auto& t : tags_) {
    out += ',';
    append_csv_cell(out, t);
  }
  for (const auto& f : fields_) {
    out += ',';
    append_csv_cell(out, f);
  }
  out += '\n';
}

void csv_schema::append_row(std::string& out, const record& r) const {
  out += format_rfc3339(r.time_ns);
  out += ',';
  append_csv_cell(out, r.name);
  for (const auto& t : tags_) {
    out += ',';
    if (const auto* v = r.tag(t))
      append_csv_cell(out, *v);
  }
  for (const auto& key : fields_) {
    out += ',';
    const auto* f = r.find_field(key);
    if (f == nullptr)
      continue;
    char buf[32];
    switch (f->value.index()) {
    case 0: {
      double d = std::get<double>(f->value);
      if (std::isfinite(d))
        append_double(out, d);
      break;
    }
    case 1: {
      auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), std::get<int64_t>(f->value));
      out.append(buf, end);
      break;
    }
    case 2: {
      auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), std::get<uint64_t>(f->value));
      out.append(buf, end);
      break;
    }
    case 3:
      out += std::get<bool>(f->value) ? "true" : "false";
      break;
    default:
      append_csv_cell(out, std::get<std::string>(f->value));
    }
  }
  out += '\n';
}

} // namespace wattline::file_io
