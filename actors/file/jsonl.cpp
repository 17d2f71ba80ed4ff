#include "actors/file/jsonl.hpp"

#include "actors/file/text.hpp"
#include "actors/file/time_format.hpp"

#include <nlohmann/json.hpp>

#include <charconv>
#include <cmath>
#include <limits>

namespace wattline::file_io {

namespace {

template <class Int>
void append_int(std::string& out, Int v) {
  char buf[32];
  auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), v);
  out.append(buf, end);
}

void append_value(std::string& out, const field_value& v) {
  switch (v.index()) {
  case 0: {
    double d = std::get<double>(v);
    if (std::isfinite(d))
      append_double(out, d);
    else
      out += "null";
    break;
  }
  case 1:
    append_int(out, std::get<int64_t>(v));
    break;
  case 2:
    append_int(out, std::get<uint64_t>(v));
    break;
  case 3:
    out += std::get<bool>(v) ? "true" : "false";
    break;
  default:
    append_json_string(out, std::get<std::string>(v));
  }
}

bool has_meta(const field& f) {
  return !f.unit.empty() || !f.obis.empty() || std::holds_alternative<uint64_t>(f.value);
}

} // namespace

void append_jsonl(std::string& out, const record& r) {
  out += "{\"name\":";
  append_json_string(out, r.name);
  out += ",\"time\":\"";
  out += format_rfc3339(r.time_ns);
  out += "\",\"tags\":{";
  bool first = true;
  for (const auto& [k, v] : r.tags) {
    if (!first)
      out += ',';
    first = false;
    append_json_string(out, k);
    out += ':';
    append_json_string(out, v);
  }
  out += "},\"fields\":{";
  first = true;
  bool any_meta = false;
  for (const auto& f : r.fields) {
    if (!first)
      out += ',';
    first = false;
    append_json_string(out, f.key);
    out += ':';
    append_value(out, f.value);
    any_meta = any_meta || has_meta(f);
  }
  out += '}';
  if (any_meta) {
    out += ",\"meta\":{";
    first = true;
    for (const auto& f : r.fields) {
      if (!has_meta(f))
        continue;
      if (!first)
        out += ',';
      first = false;
      append_json_string(out, f.key);
      out += ":{";
      bool inner_first = true;
      auto item = [&](const char* key, std::string_view value) {
        if (!inner_first)
          out += ',';
        inner_first = false;
        out += '"';
        out += key;
        out += "\":";
        append_json_string(out, value);
      };
      if (!f.unit.empty())
        item("unit", f.unit);
      if (!f.obis.empty())
        item("obis", f.obis);
      if (std::holds_alternative<uint64_t>(f.value))
        item("type", "uint64");
      out += '}';
    }
    out += '}';
  }
  out += "}\n";
}

std::string to_json(const record& r) {
  std::string out;
  append_jsonl(out, r);
  out.pop_back();
  return out;
}

std::variant<record, std::string> parse_jsonl(std::string_view line) {
  using json = nlohmann::ordered_json;
  while (!line.empty() && (line.back() == '\n' || line.back() == '\r'))
    line.remove_suffix(1);
  json doc;
  try {
    doc = json::parse(line.begin(), line.end());
  } catch (const json::exception& e) {
    std::string what = e.what();
    // "[json.exception.parse_error.101] parse error at line 1, column 5: ..." -> keep the tail.
    if (auto pos = what.find("column"); pos != std::string::npos)
      what = what.substr(pos);
    return "invalid JSON: " + what;
  }
  if (!doc.is_object())
    return std::string("a record must be a JSON object");
  record r;
  auto name = doc.find("name");
  if (name == doc.end() || !name->is_string())
    return std::string("missing string \"name\"");
  r.name = name->get<std::string>();
  auto time = doc.find("time");
  if (time == doc.end())
    return std::string("missing \"time\"");
  if (time->is_string()) {
    const auto& text = time->get_ref<const std::string&>();
    auto ns = parse_rfc3339(text);
    if (!ns)
      return "invalid RFC 3339 time '" + text + "'";
    r.time_ns = *ns;
  } else if (time->is_number_integer()) {
    if (time->is_number_unsigned() &&
        time->get<uint64_t>() > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
      return std::string("\"time\" out of range");
    r.time_ns = time->get<int64_t>();
  } else {
    return std::string("\"time\" must be an RFC 3339 string or integer nanoseconds");
  }
  if (auto tags = doc.find("tags"); tags != doc.end() && !tags->is_null()) {
    if (!tags->is_object())
      return std::string("\"tags\" must be an object");
    for (const auto& [k, v] : tags->items()) {
      if (!v.is_string())
        return "tag '" + k + "' must be a string";
      r.tags.emplace_back(k, v.get<std::string>());
    }
  }
  const json* meta = nullptr;
  if (auto m = doc.find("meta"); m != doc.end() && !m->is_null()) {
    if (!m->is_object())
      return std::string("\"meta\" must be an object");
    meta = &*m;
  }
  if (auto fields = doc.find("fields"); fields != doc.end() && !fields->is_null()) {
    if (!fields->is_object())
      return std::string("\"fields\" must be an object");
    for (const auto& [k, v] : fields->items()) {
      const json* fm = nullptr;
      if (meta != nullptr) {
        if (auto it = meta->find(k); it != meta->end() && it->is_object())
          fm = &*it;
      }
      auto meta_str = [&](const char* key) -> std::string {
        if (fm == nullptr)
          return {};
        auto it = fm->find(key);
        return it != fm->end() && it->is_string() ? it->get<std::string>() : std::string{};
      };
      bool want_unsigned = meta_str("type") == "uint64";
      field f;
      f.key = k;
      switch (v.type()) {
      case json::value_t::number_unsigned: {
        auto u = v.get<uint64_t>();
        if (want_unsigned || u > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
          f.value = u;
        else
          f.value = static_cast<int64_t>(u);
        break;
      }
      case json::value_t::number_integer:
        f.value = v.get<int64_t>();
        break;
      case json::value_t::number_float:
        f.value = v.get<double>();
        break;
      case json::value_t::boolean:
        f.value = v.get<bool>();
        break;
      case json::value_t::string:
        f.value = v.get<std::string>();
        break;
      case json::value_t::null:
        f.value = std::numeric_limits<double>::quiet_NaN();
        break;
      default:
        return "field '" + k + "' has unsupported JSON type " + std::string(v.type_name());
      }
      f.unit = meta_str("unit");
      f.obis = meta_str("obis");
      r.fields.push_back(std::move(f));
    }
  }
  return r;
}

} // namespace wattline::file_io
