#include "sinks/influxdb/server_error.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <charconv>
#include <unordered_map>

namespace wattline::influxdb {

namespace {

bool contains(std::string_view text, std::string_view what) {
  return text.find(what) != std::string_view::npos;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() &&
         (s.front() == ' ' || s.front() == '\n' || s.front() == '\r' || s.front() == '\t'))
    s.remove_prefix(1);
  while (!s.empty() &&
         (s.back() == ' ' || s.back() == '\n' || s.back() == '\r' || s.back() == '\t'))
    s.remove_suffix(1);
  return s;
}

} // namespace

std::string extract_error_message(std::string_view body, size_t max_size) {
  std::string msg;
  auto json = nlohmann::json::parse(body, nullptr, false);
  if (json.is_object()) {
    for (const char* key : {"error", "message"}) {
      auto it = json.find(key);
      if (it != json.end() && it->is_string()) {
        msg = it->get<std::string>();
        break;
      }
    }
  }
  if (msg.empty())
    msg = std::string{trim(body)};
  if (msg.size() > max_size) {
    msg.resize(max_size);
    msg += "...";
  }
  return msg;
}

bool is_partial_write(std::string_view m) {
  return contains(m, "partial write");
}

bool is_content_error(std::string_view m) {
  static constexpr std::string_view markers[] = {
      "partial write",
      "unable to parse",
      "field type conflict",
      "points beyond retention policy",
      "invalid field name",
      "invalid tag key",
      "max-values-per-tag limit exceeded",
      "max-series-per-database limit exceeded",
      "failed to parse line protocol",
      "errors encountered on line",
      "invalid field format",
      "invalid number",
  };
  return std::any_of(std::begin(markers), std::end(markers),
                     [&](std::string_view k) { return contains(m, k); });
}

std::optional<uint64_t> parse_dropped(std::string_view m) {
  auto pos = m.rfind("dropped=");
  if (pos == std::string_view::npos)
    return std::nullopt;
  uint64_t n = 0;
  auto s = m.substr(pos + 8);
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), n);
  if (ec != std::errc{} || p == s.data())
    return std::nullopt;
  return n;
}

std::optional<type_conflict> parse_type_conflict(std::string_view m) {
  static constexpr std::string_view a = "field type conflict: input field \"";
  static constexpr std::string_view b = "\" on measurement \"";
  static constexpr std::string_view c = "\" is type ";
  auto p = m.find(a);
  if (p == std::string_view::npos)
    return std::nullopt;
  p += a.size();
  auto q = m.find(b, p);
  if (q == std::string_view::npos)
    return std::nullopt;
  auto r = m.find(c, q + b.size());
  if (r == std::string_view::npos)
    return std::nullopt;
  type_conflict tc;
  tc.field = std::string{m.substr(p, q - p)};
  tc.measurement = std::string{m.substr(q + b.size(), r - q - b.size())};
  auto t = r + c.size();
  auto e = t;
  while (e < m.size() && m[e] >= 'a' && m[e] <= 'z')
    ++e;
  tc.input_type = std::string{m.substr(t, e - t)};
  if (tc.input_type.empty())
    return std::nullopt;
  return tc;
}

attribution attribute_error(std::string_view m, const line_batch& request) {
  attribution out;
  out.partial = is_partial_write(m);
  out.dropped = parse_dropped(m);

  // "unable to parse '<line>': <why>" -- the line is quoted verbatim; it may itself contain "': ",
  // so every candidate end is looked up among the request's lines.
  static constexpr std::string_view marker = "unable to parse '";
  if (contains(m, marker)) {
    std::unordered_multimap<std::string_view, size_t> by_text;
    by_text.reserve(request.size());
    for (size_t i = 0; i < request.size(); ++i)
      by_text.emplace(request.line(i), i);
    std::vector<bool> taken(request.size(), false);
    for (auto p = m.find(marker); p != std::string_view::npos; p = m.find(marker, p + 1)) {
      auto start = p + marker.size();
      for (auto q = m.find("': ", start); q != std::string_view::npos; q = m.find("': ", q + 1)) {
        auto [lo, hi] = by_text.equal_range(m.substr(start, q - start));
        bool found = false;
        for (auto it = lo; it != hi; ++it) {
          if (!taken[it->second]) {
            taken[it->second] = true;
            auto end = m.find('\n', q);
            auto why = m.substr(p, end == std::string_view::npos ? m.size() - p : end - p);
            if (auto d = why.rfind(" dropped="); d != std::string_view::npos)
              why = why.substr(0, d);
            out.unparsable.emplace_back(it->second, std::string{why});
            found = true;
            break;
          }
        }
        if (found)
          break;
      }
    }
  }

  // InfluxDB 2.x: "line N: <why>" with 1-based physical line numbers. Only usable when no line
  // holds a raw newline (inside a string field).
  if (out.unparsable.empty() && contains(m, "line ")) {
    bool simple = request.payload().size() > 0 &&
                  static_cast<size_t>(std::count(request.payload().begin(), request.payload().end(),
                                                 '\n')) == request.size();
    for (size_t p = m.find("line "); simple && p != std::string_view::npos;
         p = m.find("line ", p + 1)) {
      if (p > 0 && m[p - 1] != '\n' && m[p - 1] != ' ' && m[p - 1] != ':')
        continue;
      size_t n = 0;
      auto s = m.substr(p + 5);
      auto [e, ec] = std::from_chars(s.data(), s.data() + s.size(), n);
      if (ec != std::errc{} || e == s.data() || *e != ':' || n == 0 || n > request.size())
        continue;
      bool dup = std::any_of(out.unparsable.begin(), out.unparsable.end(),
                             [&](const auto& x) { return x.first == n - 1; });
      if (dup)
        continue;
      auto end = m.find('\n', p);
      out.unparsable.emplace_back(
          n - 1, std::string{m.substr(p, end == std::string_view::npos ? m.size() - p : end - p)});
    }
  }

  out.conflict = parse_type_conflict(m);
  if (out.conflict) {
    for (size_t i = 0; i < request.size(); ++i) {
      auto line = scan_line(request.line(i));
      if (!line || line->measurement != out.conflict->measurement)
        continue;
      for (const auto& f : line->fields)
        if (f.key == out.conflict->field && to_string(f.type) == out.conflict->input_type) {
          out.conflicting.push_back(i);
          break;
        }
    }
  }
  return out;
}

} // namespace wattline::influxdb
