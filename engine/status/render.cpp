#include "engine/status/render.hpp"

#include <nlohmann/json.hpp>

#include <charconv>
#include <cstdio>
#include <ctime>

namespace wattline::status {

namespace {

constexpr node_state all_states[] = {node_state::starting, node_state::running,
                                     node_state::restarting, node_state::stopped,
                                     node_state::failed};

void append_number(std::string& out, uint64_t v) {
  char buf[32];
  auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), v);
  out.append(buf, end);
}

void append_number(std::string& out, int64_t v) {
  char buf[32];
  auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), v);
  out.append(buf, end);
}

/// Nanoseconds as exact decimal seconds: "1763740221.25", "2".
void append_seconds(std::string& out, int64_t ns) {
  int64_t secs = ns / 1'000'000'000;
  int64_t frac = ns % 1'000'000'000;
  if (frac < 0) {
    frac += 1'000'000'000;
    --secs;
  }
  append_number(out, secs);
  if (frac != 0) {
    char buf[16];
    std::snprintf(buf, sizeof(buf), ".%09lld", static_cast<long long>(frac));
    std::string_view text(buf);
    while (text.back() == '0')
      text.remove_suffix(1);
    out += text;
  }
}

void family(std::string& out, std::string_view name, std::string_view type, std::string_view help) {
  out += "# HELP ";
  out += name;
  out += ' ';
  out += help; // fixed texts without `\` or line feeds
  out += "\n# TYPE ";
  out += name;
  out += ' ';
  out += type;
  out += '\n';
}

void node_labels(std::string& out, const node_metrics& n) {
  out += "{node=\"";
  out += escape_label_value(n.id());
  out += "\",type=\"";
  out += escape_label_value(n.type());
  out += "\",role=\"";
  out += escape_label_value(n.role());
  out += '"';
}

/// RFC 3339 UTC with milliseconds.
std::string format_time_ms(int64_t time_ns) {
  int64_t ms = time_ns / 1'000'000;
  if (time_ns % 1'000'000 < 0)
    --ms;
  std::time_t secs = static_cast<std::time_t>(ms / 1000);
  int frac = static_cast<int>(ms % 1000);
  if (frac < 0) {
    frac += 1000;
    --secs;
  }
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, frac);
  return buf;
}

} // namespace

const char* to_string(health h) {
  switch (h) {
  case health::ok:
    return "ok";
  case health::degraded:
    return "degraded";
  default:
    return "failed";
  }
}

health overall_health(const metrics_registry& registry) {
  health h = health::ok;
  for (const auto& n : registry.nodes()) {
    switch (n->state()) {
    case node_state::failed:
      return health::failed;
    case node_state::starting:
    case node_state::restarting:
      h = health::degraded;
      break;
    default:
      break;
    }
  }
  return h;
}

std::string escape_label_value(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (char c : value) {
    switch (c) {
    case '\\':
      out += "\\\\";
      break;
    case '"':
      out += "\\\"";
      break;
    case '\n':
      out += "\\n";
      break;
    default:
      out += c;
    }
  }
  return out;
}

std::string render_prometheus(const metrics_registry& registry) {
  std::string out;
  const auto& b = registry.build();
  family(out, "wattline_build_info", "gauge",
         "Build of the running engine; the value is always 1.");
  out += "wattline_build_info{version=\"" + escape_label_value(b.version) + "\",commit=\"" +
         escape_label_value(b.commit) + "\",compiler=\"" + escape_label_value(b.compiler) +
         "\"} 1\n";
  family(out, "wattline_start_time_seconds", "gauge",
         "Start time of the engine in seconds since the Unix epoch.");
  out += "wattline_start_time_seconds ";
  append_seconds(out, registry.start_time_ns());
  out += '\n';
  family(out, "wattline_uptime_seconds", "gauge", "Seconds since the engine started.");
  out += "wattline_uptime_seconds ";
  append_seconds(out, registry.uptime_ns());
  out += '\n';

  const auto nodes = registry.nodes();
  struct counter_family {
    const char* name;
    const char* help;
    const counter node_metrics::*member;
  };
  static constexpr counter_family counters[] = {
      {"wattline_node_records_in_total", "Records received by the node.",
       &node_metrics::records_in},
      {"wattline_node_records_out_total", "Records emitted by the node.",
       &node_metrics::records_out},
      {"wattline_node_bytes_in_total", "Bytes received by the node.", &node_metrics::bytes_in},
      {"wattline_node_bytes_out_total", "Bytes sent or written by the node.",
       &node_metrics::bytes_out},
      {"wattline_node_dropped_total", "Records dropped by the node.", &node_metrics::dropped},
      {"wattline_node_restarts_total", "Restarts of the node by its supervisor.",
       &node_metrics::restarts},
  };
  for (const auto& f : counters) {
    family(out, f.name, "counter", f.help);
    for (const auto& n : nodes) {
      out += f.name;
      node_labels(out, *n);
      out += "} ";
      append_number(out, ((*n).*(f.member)).value());
      out += '\n';
    }
  }
  family(out, "wattline_node_errors_total", "counter", "Errors of the node by kind.");
  for (const auto& n : nodes) {
    for (const auto& [kind, count] : n->errors_by_kind()) {
      out += "wattline_node_errors_total";
      node_labels(out, *n);
      out += ",kind=\"" + escape_label_value(kind) + "\"} ";
      append_number(out, count);
      out += '\n';
    }
  }
  family(out, "wattline_node_queue_depth", "gauge",
         "Records waiting in the node's queue or buffer.");
  for (const auto& n : nodes) {
    out += "wattline_node_queue_depth";
    node_labels(out, *n);
    out += "} ";
    append_number(out, n->queue_depth.value());
    out += '\n';
  }
  family(out, "wattline_node_state", "gauge",
         "State of the node: 1 for the current state, 0 for the others.");
  for (const auto& n : nodes) {
    auto current = n->state();
    for (auto s : all_states) {
      out += "wattline_node_state";
      node_labels(out, *n);
      out += ",state=\"";
      out += to_string(s);
      out += s == current ? "\"} 1\n" : "\"} 0\n";
    }
  }
  family(out, "wattline_node_last_success_timestamp_seconds", "gauge",
         "Time of the node's last successful operation in seconds since the Unix epoch.");
  for (const auto& n : nodes) {
    if (auto t = n->last_success_ns()) {
      out += "wattline_node_last_success_timestamp_seconds";
      node_labels(out, *n);
      out += "} ";
      append_seconds(out, *t);
      out += '\n';
    }
  }
  return out;
}

std::string render_health_json(const metrics_registry& registry) {
  using json = nlohmann::ordered_json;
  json doc;
  doc["status"] = to_string(overall_health(registry));
  doc["uptime_seconds"] = registry.uptime_seconds();
  doc["version"] = registry.build().version;
  json nodes = json::object();
  for (const auto& n : registry.nodes()) {
    json j;
    j["type"] = n->type();
    j["role"] = n->role();
    j["state"] = to_string(n->state());
    j["restarts"] = n->restarts.value();
    j["errors"] = n->errors_total();
    auto last_error = n->last_error();
    j["last_error"] = last_error.empty() ? json(nullptr) : json(last_error);
    if (auto detail = n->detail(); !detail.empty())
      j["detail"] = detail;
    j["records_in"] = n->records_in.value();
    j["records_out"] = n->records_out.value();
    j["dropped"] = n->dropped.value();
    j["queue_depth"] = n->queue_depth.value();
    auto success = n->last_success_ns();
    j["last_success"] = success ? json(format_time_ms(*success)) : json(nullptr);
    nodes[n->id()] = std::move(j);
  }
  doc["nodes"] = std::move(nodes);
  return doc.dump(-1, ' ', false, json::error_handler_t::replace);
}

} // namespace wattline::status
