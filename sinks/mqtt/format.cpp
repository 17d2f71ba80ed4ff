#include "sinks/mqtt/format.hpp"

#include <charconv>
#include <chrono>
#include <cmath>
#include <limits>

#include <nlohmann/json.hpp>

namespace wattline::mqtt {

namespace {

using ojson = nlohmann::ordered_json;

void set_error(std::string* error, std::string text) {
  if (error != nullptr)
    *error = std::move(text);
}

bool valid_placeholder(std::string_view p) {
  if (p == "name" || p == "field")
    return true;
  return p.size() > 5 && p.substr(0, 5) == "tags.";
}

std::string sanitize_level(std::string_view v) {
  std::string out(v);
  for (auto& c : out)
    if (c == '/' || c == '+' || c == '#' || c == '\0')
      c = '_';
  return out;
}

std::optional<std::string> lookup(const record& r, std::string_view field_key,
                                  std::string_view placeholder) {
  if (placeholder == "name")
    return r.name.empty() ? std::nullopt : std::optional<std::string>(r.name);
  if (placeholder == "field")
    return field_key.empty() ? std::nullopt : std::optional<std::string>(field_key);
  if (const auto* t = r.tag(placeholder.substr(5)); t != nullptr && !t->empty())
    return t->str();
  return std::nullopt;
}

int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

ojson value_to_json(const field_value& v) {
  switch (v.index()) {
  case 0: {
    double d = std::get<double>(v);
    return std::isfinite(d) ? ojson(d) : ojson(nullptr);
  }
  case 1:
    return std::get<int64_t>(v);
  case 2:
    return std::get<uint64_t>(v);
  case 3:
    return std::get<bool>(v);
  default:
    return std::get<std::string>(v);
  }
}

std::optional<field_value> value_from_json(const ojson& j) {
  switch (j.type()) {
  case ojson::value_t::number_float:
    return field_value(j.get<double>());
  case ojson::value_t::number_integer:
    return field_value(j.get<int64_t>());
  case ojson::value_t::number_unsigned: {
    auto u = j.get<uint64_t>();
    if (u <= static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
      return field_value(static_cast<int64_t>(u));
    return field_value(u);
  }
  case ojson::value_t::boolean:
    return field_value(j.get<bool>());
  case ojson::value_t::string:
    return field_value(j.get<std::string>());
  case ojson::value_t::null:
    return field_value(std::numeric_limits<double>::quiet_NaN());
  default:
    return std::nullopt;
  }
}

// Appends `s` as a JSON string literal (escaping like json.dumps with ensure_ascii=False).
void append_json_string(std::string& out, std::string_view s) {
  out += ojson(std::string(s)).dump();
}

bool apply_topic_captures(record& r, const std::vector<std::pair<std::string, std::string>>& caps,
                          std::string& field_key) {
  for (const auto& [ph, val] : caps) {
    if (ph == "name")
      r.name = val;
    else if (ph == "field")
      field_key = val;
    else
      r.set_tag(ph.substr(5), val);
  }
  return true;
}

} // namespace

std::optional<payload_format> parse_payload_format(std::string_view text) {
  if (text == "smdc")
    return payload_format::smdc;
  if (text == "json")
    return payload_format::json;
  if (text == "value")
    return payload_format::value;
  return std::nullopt;
}

std::string_view to_string(payload_format f) {
  switch (f) {
  case payload_format::smdc:
    return "smdc";
  case payload_format::json:
    return "json";
  default:
    return "value";
  }
}

std::string_view default_topic_template(payload_format f) {
  switch (f) {
  case payload_format::smdc:
    return "smartmeter/{tags.meter}/{field}";
  case payload_format::json:
    return "wattline/{tags.meter}/{name}";
  default:
    return "wattline/{tags.meter}/{field}";
  }
}

// ---- topic_template ------------------------------------------------------------------------

std::optional<topic_template> topic_template::parse(std::string_view text, std::string* error) {
  topic_template t;
  t.text_ = std::string(text);
  if (text.empty()) {
    set_error(error, "topic template is empty");
    return std::nullopt;
  }
  t.levels_.emplace_back();
  std::string literal;
  auto flush = [&] {
    if (!literal.empty()) {
      t.levels_.back().push_back(part{std::move(literal), {}});
      literal.clear();
    }
  };
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '{') {
      auto close = text.find('}', i);
      if (close == std::string_view::npos) {
        set_error(error, "topic template '" + t.text_ + "': unclosed '{'");
        return std::nullopt;
      }
      std::string_view inner = text.substr(i + 1, close - i - 1);
      part p;
      size_t start = 0;
      for (;;) {
        auto bar = inner.find('|', start);
        std::string_view alt =
            inner.substr(start, bar == std::string_view::npos ? inner.npos : bar - start);
        if (!valid_placeholder(alt)) {
          set_error(error, "topic template '" + t.text_ + "': unknown placeholder '{" +
                               std::string(inner) +
                               "}' (use {name}, {field} or {tags.KEY}, alternatives with '|')");
          return std::nullopt;
        }
        if (alt == "field")
          t.has_field_ = true;
        p.alternatives.emplace_back(alt);
        if (bar == std::string_view::npos)
          break;
        start = bar + 1;
      }
      flush();
      t.levels_.back().push_back(std::move(p));
      i = close;
    } else if (c == '}') {
      set_error(error, "topic template '" + t.text_ + "': unmatched '}'");
      return std::nullopt;
    } else if (c == '+' || c == '#') {
      set_error(error, "topic template '" + t.text_ + "': wildcards '+' and '#' are not allowed");
      return std::nullopt;
    } else if (c == '/') {
      flush();
      t.levels_.emplace_back();
    } else {
      literal += c;
    }
  }
  flush();
  return t;
}

std::optional<std::string> topic_template::render(const record& r, std::string_view field_key,
                                                  std::string* error) const {
  std::string out;
  for (size_t l = 0; l < levels_.size(); ++l) {
    if (l > 0)
      out += '/';
    for (const auto& p : levels_[l]) {
      if (p.alternatives.empty()) {
        out += p.literal;
        continue;
      }
      std::optional<std::string> v;
      for (const auto& alt : p.alternatives)
        if ((v = lookup(r, field_key, alt)))
          break;
      if (!v) {
        std::string names;
        for (const auto& alt : p.alternatives)
          names += (names.empty() ? "" : "|") + alt;
        set_error(error, "topic template '" + text_ + "': record '" + r.name +
                             "' has no value for {" + names + "}");
        return std::nullopt;
      }
      out += sanitize_level(*v);
    }
  }
  return out;
}

std::string topic_template::subscription_filter() const {
  std::string out;
  for (size_t l = 0; l < levels_.size(); ++l) {
    if (l > 0)
      out += '/';
    bool placeholder = false;
    for (const auto& p : levels_[l])
      placeholder |= !p.alternatives.empty();
    if (placeholder) {
      out += '+';
    } else {
      for (const auto& p : levels_[l])
        out += p.literal;
    }
  }
  return out;
}

std::optional<std::vector<std::pair<std::string, std::string>>>
topic_template::match(std::string_view topic) const {
  std::vector<std::pair<std::string, std::string>> caps;
  size_t pos = 0;
  for (size_t l = 0; l < levels_.size(); ++l) {
    if (pos > topic.size())
      return std::nullopt;
    auto slash = topic.find('/', pos);
    bool last = l + 1 == levels_.size();
    if (last != (slash == std::string_view::npos))
      return std::nullopt;
    std::string_view level = topic.substr(pos, last ? topic.npos : slash - pos);
    pos = last ? topic.size() + 1 : slash + 1;
    const auto& parts = levels_[l];
    size_t n_ph = 0;
    size_t ph_index = 0;
    for (size_t i = 0; i < parts.size(); ++i)
      if (!parts[i].alternatives.empty()) {
        ++n_ph;
        ph_index = i;
      }
    if (n_ph == 0) {
      std::string lit;
      for (const auto& p : parts)
        lit += p.literal;
      if (lit != level)
        return std::nullopt;
      continue;
    }
    if (n_ph > 1)
      return std::nullopt;
    std::string prefix, suffix;
    for (size_t i = 0; i < ph_index; ++i)
      prefix += parts[i].literal;
    for (size_t i = ph_index + 1; i < parts.size(); ++i)
      suffix += parts[i].literal;
    if (level.size() <= prefix.size() + suffix.size() || level.substr(0, prefix.size()) != prefix ||
        level.substr(level.size() - suffix.size()) != suffix)
      return std::nullopt;
    caps.emplace_back(
        parts[ph_index].alternatives.front(),
        std::string(level.substr(prefix.size(), level.size() - prefix.size() - suffix.size())));
  }
  return caps;
}

// ---- value rendering -----------------------------------------------------------------------

std::string python_float_repr(double v) {
  if (std::isnan(v))
    return "NaN";
  if (std::isinf(v))
    return v > 0 ? "Infinity" : "-Infinity";
  if (v == 0.0)
    return std::signbit(v) ? "-0.0" : "0.0";
  char buf[64];
  auto res = std::to_chars(buf, buf + sizeof(buf), v, std::chars_format::scientific);
  std::string_view sci(buf, static_cast<size_t>(res.ptr - buf));
  // sci = [-]d[.ddd]e[+-]XX
  bool neg = sci.front() == '-';
  if (neg)
    sci.remove_prefix(1);
  auto e = sci.find('e');
  std::string digits;
  for (char c : sci.substr(0, e))
    if (c != '.')
      digits += c;
  int exp = 0;
  std::from_chars(sci.data() + e + 1 + (sci[e + 1] == '+' ? 1 : 0), sci.data() + sci.size(), exp);
  std::string out = neg ? "-" : "";
  if (exp >= -4 && exp < 16) {
    int point = exp + 1; // digits before the decimal point
    if (point <= 0) {
      out += "0.";
      out.append(static_cast<size_t>(-point), '0');
      out += digits;
    } else if (static_cast<size_t>(point) >= digits.size()) {
      out += digits;
      out.append(static_cast<size_t>(point) - digits.size(), '0');
      out += ".0";
    } else {
      out += digits.substr(0, static_cast<size_t>(point));
      out += '.';
      out += digits.substr(static_cast<size_t>(point));
    }
  } else {
    out += digits.substr(0, 1);
    if (digits.size() > 1) {
      out += '.';
      out += digits.substr(1);
    }
    out += 'e';
    out += exp < 0 ? '-' : '+';
    int a = exp < 0 ? -exp : exp;
    if (a < 10)
      out += '0';
    out += std::to_string(a);
  }
  return out;
}

std::string short_obis(std::string_view obis) {
  auto colon = obis.find(':');
  if (colon != std::string_view::npos)
    obis.remove_prefix(colon + 1);
  auto star = obis.find('*');
  if (star != std::string_view::npos)
    obis = obis.substr(0, star);
  return std::string(obis);
}

std::string value_to_text(const field_value& v) {
  switch (v.index()) {
  case 0:
    return python_float_repr(std::get<double>(v));
  case 1:
    return std::to_string(std::get<int64_t>(v));
  case 2:
    return std::to_string(std::get<uint64_t>(v));
  case 3:
    return std::get<bool>(v) ? "true" : "false";
  default:
    return std::get<std::string>(v);
  }
}

field_value value_from_text(std::string_view text) {
  if (text == "true")
    return true;
  if (text == "false")
    return false;
  if (text == "NaN")
    return std::numeric_limits<double>::quiet_NaN();
  if (text == "Infinity")
    return std::numeric_limits<double>::infinity();
  if (text == "-Infinity")
    return -std::numeric_limits<double>::infinity();
  const char* b = text.data();
  const char* e = text.data() + text.size();
  if (!text.empty() && text.find_first_of(".eE") == std::string_view::npos) {
    int64_t i = 0;
    auto r = std::from_chars(b, e, i);
    if (r.ec == std::errc() && r.ptr == e)
      return i;
    uint64_t u = 0;
    r = std::from_chars(b, e, u);
    if (r.ec == std::errc() && r.ptr == e)
      return u;
  } else if (!text.empty()) {
    double d = 0;
    auto r = std::from_chars(b, e, d);
    if (r.ec == std::errc() && r.ptr == e)
      return d;
  }
  return std::string(text);
}

// ---- encode --------------------------------------------------------------------------------

size_t encode(const record& r, payload_format format, const topic_template& topic,
              std::vector<encoded_message>& out, std::string* error) {
  const size_t before = out.size();
  if (format == payload_format::json) {
    auto t = topic.render(r, {}, error);
    if (!t)
      return 0;
    ojson j;
    j["name"] = r.name;
    j["time"] = r.time_ns;
    ojson tags = ojson::object();
    for (const auto& [k, v] : r.tags)
      tags[k] = v;
    j["tags"] = std::move(tags);
    ojson fields = ojson::object();
    ojson units = ojson::object();
    ojson obis = ojson::object();
    for (const auto& f : r.fields) {
      fields[f.key] = value_to_json(f.value);
      if (!f.unit.empty())
        units[f.key] = f.unit;
      if (!f.obis.empty())
        obis[f.key] = f.obis;
    }
    j["fields"] = std::move(fields);
    if (!units.empty())
      j["units"] = std::move(units);
    if (!obis.empty())
      j["obis"] = std::move(obis);
    out.push_back(encoded_message{std::move(*t), j.dump(), {}});
    return 1;
  }
  if (!topic.has_field()) {
    set_error(error, "topic template '" + topic.text() + "' needs a {field} placeholder for the " +
                         std::string(to_string(format)) + " format");
    return 0;
  }
  for (const auto& f : r.fields) {
    std::string payload;
    if (format == payload_format::smdc) {
      double d = 0;
      if (!as_double(f.value, d))
        continue;
      payload.reserve(64);
      payload += "{\"value\": ";
      payload += python_float_repr(d);
      payload += ", \"timestamp\": ";
      payload += std::to_string(r.time_ns / 1'000'000'000);
      payload += ", \"obis\": ";
      append_json_string(payload, short_obis(f.obis));
      payload += '}';
    } else {
      payload = value_to_text(f.value);
    }
    auto t = topic.render(r, f.key, error);
    if (!t) {
      out.resize(before);
      return 0;
    }
    out.push_back(encoded_message{std::move(*t), std::move(payload), f.key.str()});
  }
  return out.size() - before;
}

// ---- decode --------------------------------------------------------------------------------

std::optional<record> decode(std::string_view topic, std::string_view payload,
                             payload_format format, const topic_template& topic_tmpl,
                             const decode_options& opts, std::string* error) {
  record r;
  if (format == payload_format::json) {
    ojson j = ojson::parse(payload.begin(), payload.end(), nullptr, false);
    if (j.is_discarded() || !j.is_object()) {
      set_error(error, "topic '" + std::string(topic) + "': payload is not a JSON object");
      return std::nullopt;
    }
    if (auto it = j.find("name"); it != j.end() && it->is_string())
      r.name = it->get<std::string>();
    else
      r.name = opts.default_name;
    if (auto it = j.find("time"); it != j.end() && it->is_number_integer())
      r.time_ns = it->get<int64_t>();
    else
      r.time_ns = opts.default_time_ns != 0 ? opts.default_time_ns : now_ns();
    if (auto it = j.find("tags"); it != j.end() && it->is_object())
      for (const auto& [k, v] : it->items())
        if (v.is_string())
          r.tags.emplace_back(k, v.get<std::string>());
    auto fit = j.find("fields");
    if (fit == j.end() || !fit->is_object() || fit->empty()) {
      set_error(error, "topic '" + std::string(topic) + "': JSON payload has no \"fields\" object");
      return std::nullopt;
    }
    const ojson* units = nullptr;
    const ojson* obis = nullptr;
    if (auto it = j.find("units"); it != j.end() && it->is_object())
      units = &*it;
    if (auto it = j.find("obis"); it != j.end() && it->is_object())
      obis = &*it;
    for (const auto& [k, v] : fit->items()) {
      auto fv = value_from_json(v);
      if (!fv) {
        set_error(error, "topic '" + std::string(topic) + "': field '" + k +
                             "' is neither number, bool nor string");
        return std::nullopt;
      }
      field f{k, std::move(*fv), {}, {}};
      if (units != nullptr)
        if (auto u = units->find(k); u != units->end() && u->is_string())
          f.unit = u->get<std::string>();
      if (obis != nullptr)
        if (auto o = obis->find(k); o != obis->end() && o->is_string())
          f.obis = o->get<std::string>();
      r.fields.push_back(std::move(f));
    }
    return r;
  }

  auto caps = topic_tmpl.match(topic);
  if (!caps) {
    set_error(error, "topic '" + std::string(topic) + "' does not match the template '" +
                         topic_tmpl.text() + "'");
    return std::nullopt;
  }
  r.name = opts.default_name;
  std::string key;
  apply_topic_captures(r, *caps, key);
  if (key.empty()) {
    set_error(error, "topic template '" + topic_tmpl.text() + "' has no {field} placeholder");
    return std::nullopt;
  }
  if (format == payload_format::value) {
    r.time_ns = opts.default_time_ns != 0 ? opts.default_time_ns : now_ns();
    r.fields.push_back(field{std::move(key), value_from_text(payload), {}, {}});
    return r;
  }
  // smdc
  ojson j = ojson::parse(payload.begin(), payload.end(), nullptr, false);
  if (j.is_discarded() || !j.is_object() || !j.contains("value")) {
    set_error(error, "topic '" + std::string(topic) +
                         "': smdc payload is not a JSON object with a \"value\"");
    return std::nullopt;
  }
  const auto& v = j["value"];
  double d = 0;
  if (v.is_number())
    d = v.get<double>();
  else if (v.is_null())
    d = std::numeric_limits<double>::quiet_NaN();
  else {
    set_error(error, "topic '" + std::string(topic) + "': smdc \"value\" is not a number");
    return std::nullopt;
  }
  if (auto it = j.find("timestamp"); it != j.end() && it->is_number()) {
    const double t = it->get<double>();
    if (!(std::fabs(t) < 9.2e9)) { // beyond int64 nanoseconds (year 2261)
      set_error(error, "topic '" + std::string(topic) + "': smdc \"timestamp\" out of range");
      return std::nullopt;
    }
    r.time_ns = static_cast<int64_t>(t) * 1'000'000'000;
  } else
    r.time_ns = opts.default_time_ns != 0 ? opts.default_time_ns : now_ns();
  field f{std::move(key), d, {}, {}};
  if (auto it = j.find("obis"); it != j.end() && it->is_string())
    f.obis = it->get<std::string>();
  r.fields.push_back(std::move(f));
  return r;
}

} // namespace wattline::mqtt
