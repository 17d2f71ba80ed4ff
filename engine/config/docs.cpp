#include "engine/config/docs.hpp"

#include "engine/config/loader.hpp"

#include <nlohmann/json.hpp>

#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstdlib>

namespace wattline {

namespace {

using json = nlohmann::ordered_json;

std::string format_number(double v) {
  if (std::floor(v) == v && std::fabs(v) < 1e15)
    return std::to_string(static_cast<int64_t>(v));
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%g", v);
  return buf;
}

std::string range_text(const option_spec& o) {
  if (o.min && o.max)
    return format_number(*o.min) + " to " + format_number(*o.max);
  if (o.min)
    return "at least " + format_number(*o.min);
  if (o.max)
    return "at most " + format_number(*o.max);
  return {};
}

std::string output_text(const component_descriptor& d) {
  if (d.output_for)
    return "depends on options";
  return to_string(d.output);
}

const char* role_title(component_role r) {
  switch (r) {
  case component_role::source:
    return "Sources";
  case component_role::transform:
    return "Transforms";
  case component_role::sink:
    return "Sinks";
  }
  return "Sources";
}

/// The settings every node accepts besides its options.
std::vector<std::string> common_keys(component_role r) {
  if (r == component_role::source)
    return {"type", "supervision"};
  return {"type", "inputs", "supervision"};
}

std::vector<std::string> quoted_keys(component_role r) {
  auto keys = common_keys(r);
  for (auto& k : keys)
    k = "`" + k + "`";
  return keys;
}

void describe_one(const component_descriptor& d, std::string& out) {
  out += std::string(to_string(d.role)) + " " + d.type + "\n";
  if (!d.summary.empty())
    out += "  " + d.summary + "\n";
  out += std::string("  input: ") + to_string(d.input) + ", output: " + output_text(d) + "\n";
  out += "  common settings: " + join(common_keys(d.role)) + "\n";
  if (d.options.empty()) {
    out += "  options: none\n";
    return;
  }
  out += "  options:\n";
  std::size_t width = 0;
  for (const auto& o : d.options)
    width = std::max(width, o.name.size());
  for (const auto& o : d.options) {
    std::vector<std::string> facts{to_string(o.type)};
    if (o.required)
      facts.push_back("required");
    else if (!o.default_value.empty())
      facts.push_back("default " + o.default_value);
    else
      facts.push_back("optional");
    if (!o.allowed.empty())
      facts.push_back("one of: " + join(o.allowed, " | "));
    if (auto r = range_text(o); !r.empty())
      facts.push_back(o.min && o.max ? "range " + r : r);
    if (o.secret)
      facts.push_back("secret");
    std::string pad(width - o.name.size() + 2, ' ');
    out += "    " + o.name + pad + join(facts) + "\n";
    if (!o.doc.empty())
      out += "    " + std::string(width + 2, ' ') + o.doc + "\n";
  }
}

std::string md_escape(std::string s) {
  std::string out;
  for (char c : s) {
    if (c == '|')
      out += "\\|";
    else if (c == '\n')
      out += ' ';
    else
      out += c;
  }
  return out;
}

/// The JSON value of a default given as YAML text.
json default_json(const option_spec& o) {
  const auto& t = o.default_value;
  switch (o.type) {
  case option_type::integer: {
    char* end = nullptr;
    long long v = std::strtoll(t.c_str(), &end, 0);
    if (end && *end == '\0')
      return v;
    return t;
  }
  case option_type::number: {
    char* end = nullptr;
    double v = std::strtod(t.c_str(), &end);
    if (end && *end == '\0')
      return v;
    return t;
  }
  case option_type::boolean:
    return t == "true" || t == "True" || t == "TRUE";
  case option_type::string_list: {
    // "[a, b]" or "a".
    std::string s = t;
    json arr = json::array();
    if (!s.empty() && s.front() == '[' && s.back() == ']')
      s = s.substr(1, s.size() - 2);
    std::size_t start = 0;
    while (start <= s.size()) {
      auto comma = s.find(',', start);
      auto item = s.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
      auto b = item.find_first_not_of(" \t");
      auto e = item.find_last_not_of(" \t");
      if (b != std::string::npos)
        arr.push_back(item.substr(b, e - b + 1));
      if (comma == std::string::npos)
        break;
      start = comma + 1;
    }
    return arr;
  }
  default:
    return t;
  }
}

/// Schema of one option. Non-string values and enums also accept a `${...}` reference, which
/// is a string in the file until the loader substitutes it.
json option_schema(const option_spec& o) {
  json core;
  switch (o.type) {
  case option_type::string:
    core["type"] = "string";
    if (!o.allowed.empty())
      core["enum"] = o.allowed;
    break;
  case option_type::integer:
  case option_type::number:
    core["type"] = o.type == option_type::integer ? "integer" : "number";
    if (o.min)
      core["minimum"] = *o.min;
    if (o.max)
      core["maximum"] = *o.max;
    break;
  case option_type::boolean:
    core["type"] = "boolean";
    break;
  case option_type::string_list: {
    json item{{"type", "string"}};
    if (!o.allowed.empty())
      item["enum"] = o.allowed;
    json list{{"type", "array"}, {"items", item}};
    core["anyOf"] = json::array({item, list});
    break;
  }
  case option_type::any:
    break;
  }
  json s;
  std::string doc = o.doc;
  if (o.secret)
    doc += doc.empty() ? "Secret." : " Secret: never logged.";
  if (!doc.empty())
    s["description"] = doc;
  if (!o.default_value.empty())
    s["default"] = default_json(o);
  if (o.secret)
    s["writeOnly"] = true;
  bool plain_string = o.type == option_type::string && o.allowed.empty();
  if (plain_string || o.type == option_type::any) {
    for (auto& [k, v] : core.items())
      s[k] = v;
  } else {
    s["anyOf"] = json::array({core, json{{"$ref", "#/definitions/substitution"}}});
  }
  return s;
}

json options_object(const std::vector<option_spec>& specs, std::string description) {
  json s{{"type", "object"}, {"description", std::move(description)}};
  json props = json::object();
  json required = json::array();
  for (const auto& o : specs) {
    props[o.name] = option_schema(o);
    if (o.required)
      required.push_back(o.name);
  }
  s["properties"] = props;
  if (!required.empty())
    s["required"] = required;
  s["additionalProperties"] = false;
  return s;
}

std::string definition_name(const component_descriptor& d) {
  return std::string(to_string(d.role)) + "_" + d.type;
}

json component_schema(const component_descriptor& d) {
  json s{{"type", "object"}};
  std::string desc = d.summary;
  if (!desc.empty())
    desc += " ";
  desc += std::string("Input: ") + to_string(d.input) + ", output: " + output_text(d) + ".";
  s["description"] = desc;
  json props = json::object();
  props["type"] = json{{"const", d.type}};
  if (d.role != component_role::source)
    props["inputs"] = json{{"$ref", "#/definitions/inputs"}};
  props["supervision"] = json{{"$ref", "#/definitions/supervision"}};
  json required = json::array({"type"});
  if (d.role != component_role::source)
    required.push_back("inputs");
  for (const auto& o : d.options) {
    props[o.name] = option_schema(o);
    if (o.required)
      required.push_back(o.name);
  }
  s["properties"] = props;
  s["required"] = required;
  s["additionalProperties"] = false;
  return s;
}

json role_schema(const component_registry& registry, component_role role) {
  std::vector<std::string> types;
  json branches = json::array();
  for (const auto* d : registry.all())
    if (d->role == role) {
      types.push_back(d->type);
      branches.push_back(
          json{{"if", {{"properties", {{"type", {{"const", d->type}}}}}, {"required", {"type"}}}},
               {"then", {{"$ref", "#/definitions/" + definition_name(*d)}}}});
    }
  json s{{"type", "object"},
         {"description", std::string("A ") + to_string(role) +
                             " node: 'type' selects the "
                             "component, the other keys are "
                             "its options."},
         {"required", {"type"}},
         {"properties", {{"type", {{"type", "string"}, {"enum", types}}}}}};
  if (!branches.empty())
    s["allOf"] = branches;
  return s;
}

std::string dot_escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '"' || c == '\\')
      out += '\\';
    out += c;
  }
  return out;
}

std::string mermaid_escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '"')
      out += "#quot;";
    else if (c == '<')
      out += "#lt;";
    else if (c == '>')
      out += "#gt;";
    else
      out += c;
  }
  return out;
}

const char* edge_label(const pipeline_spec& spec, const std::string& producer) {
  if (const auto* p = spec.find(producer); p && p->output_kind != data_kind::none)
    return to_string(p->output_kind);
  return "?";
}

} // namespace

std::string describe_text(const component_registry& registry, std::string_view type) {
  std::string out;
  for (const auto* d : registry.all()) {
    if (!type.empty() && d->type != type)
      continue;
    if (!out.empty())
      out += '\n';
    describe_one(*d, out);
  }
  return out;
}

std::string describe_markdown(const component_registry& registry) {
  std::string out;
  auto all = registry.all();
  for (auto role : {component_role::source, component_role::transform, component_role::sink}) {
    bool any = false;
    for (const auto* d : all) {
      if (d->role != role)
        continue;
      if (!any) {
        out += std::string("## ") + role_title(role) + "\n\n";
        any = true;
      }
      out += "### `" + d->type + "` (" + to_string(role) + ")\n\n";
      if (!d->summary.empty())
        out += md_escape(d->summary) + "\n\n";
      out += std::string("Input: ") + to_string(d->input) + ". Output: " + output_text(*d) +
             ". Common settings: " + join(quoted_keys(role)) + ".\n\n";
      if (d->options.empty()) {
        out += "No options.\n\n";
        continue;
      }
      out += "| Option | Type | Default | Description |\n";
      out += "|---|---|---|---|\n";
      for (const auto& o : d->options) {
        std::string def = o.required                ? "required"
                          : o.default_value.empty() ? ""
                                                    : "`" + o.default_value + "`";
        std::string doc = md_escape(o.doc);
        if (!o.allowed.empty()) {
          std::vector<std::string> quoted;
          for (const auto& a : o.allowed)
            quoted.push_back("`" + a + "`");
          doc += (doc.empty() ? "" : " ") + std::string("One of ") + join(quoted) + ".";
        }
        if (auto r = range_text(o); !r.empty()) {
          auto text = o.min && o.max ? "Range: " + r : r;
          text[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(text[0])));
          doc += (doc.empty() ? "" : " ") + text + ".";
        }
        if (o.secret)
          doc += (doc.empty() ? "" : " ") + std::string("**Secret**: never logged.");
        out += "| `" + o.name + "` | " + md_escape(to_string(o.type)) + " | " + def + " | " + doc +
               " |\n";
      }
      out += '\n';
    }
  }
  return out;
}

std::string json_schema(const component_registry& registry) {
  json defs = json::object();
  defs["substitution"] = json{{"type", "string"},
                              {"pattern", "\\$\\{[^}]+\\}"},
                              {"description", "A ${VAR} or ${file:PATH} reference, replaced "
                                              "when the pipeline is loaded."}};
  defs["inputs"] =
      json{{"description", "Ids of the sources or transforms whose output this node consumes."},
           {"anyOf", json::array({json{{"type", "string"}}, json{{"type", "array"},
                                                                 {"items", {{"type", "string"}}},
                                                                 {"minItems", 1},
                                                                 {"uniqueItems", true}}})}};
  defs["supervision"] =
      options_object(supervision_options(), "How the supervisor restarts this node on failure.");
  defs["engine"] = options_object(engine_options(), "Process-wide settings.");
  for (auto role : {component_role::source, component_role::transform, component_role::sink})
    defs[to_string(role)] = role_schema(registry, role);
  for (const auto* d : registry.all())
    defs[definition_name(*d)] = component_schema(*d);

  auto role_map = [](component_role role, const char* what) {
    return json{
        {"type", "object"},
        {"description", what},
        {"propertyNames", {{"pattern", "^[A-Za-z0-9_-]+$"}}},
        {"additionalProperties", {{"$ref", std::string("#/definitions/") + to_string(role)}}}};
  };
  json schema{
      {"$schema", "http://json-schema.org/draft-07/schema#"},
      {"title", "wattline pipeline"},
      {"description", "A wattline pipeline file: sources, transforms and sinks keyed by id."},
      {"type", "object"},
      {"properties",
       {{"engine", {{"$ref", "#/definitions/engine"}}},
        {"sources", role_map(component_role::source, "Sources by id.")},
        {"transforms", role_map(component_role::transform, "Transforms by id.")},
        {"sinks", role_map(component_role::sink, "Sinks by id.")}}},
      {"additionalProperties", false},
      {"definitions", defs}};
  return schema.dump(2) + "\n";
}

std::string graph_dot(const pipeline_spec& spec) {
  std::string out = "digraph wattline {\n  rankdir=LR;\n  node [fontname=\"sans-serif\"];\n";
  for (const auto& n : spec.nodes) {
    const char* shape = n.role == component_role::source      ? "invhouse"
                        : n.role == component_role::transform ? "box"
                                                              : "house";
    out += "  \"" + dot_escape(n.id) + "\" [label=\"" + dot_escape(n.id) + "\\n" +
           dot_escape(n.type) + "\", shape=" + shape + "];\n";
  }
  for (const auto& n : spec.nodes)
    for (const auto& in : n.inputs)
      out += "  \"" + dot_escape(in) + "\" -> \"" + dot_escape(n.id) + "\" [label=\"" +
             edge_label(spec, in) + "\"];\n";
  out += "}\n";
  return out;
}

std::string graph_mermaid(const pipeline_spec& spec) {
  // Mermaid ids are positional (n0, n1, ...) so that any component id is safe as a label.
  std::string out = "flowchart LR\n";
  auto mid = [&](const std::string& id) -> std::string {
    for (std::size_t i = 0; i < spec.nodes.size(); ++i)
      if (spec.nodes[i].id == id)
        return "n" + std::to_string(i);
    return "missing_" + id;
  };
  for (std::size_t i = 0; i < spec.nodes.size(); ++i) {
    const auto& n = spec.nodes[i];
    std::string label = "\"" + mermaid_escape(n.id) + "<br/>" + mermaid_escape(n.type) + "\"";
    std::string shaped = n.role == component_role::source      ? "([" + label + "])"
                         : n.role == component_role::transform ? "[" + label + "]"
                                                               : "[(" + label + ")]";
    out += "  n" + std::to_string(i) + shaped + "\n";
  }
  for (const auto& n : spec.nodes)
    for (const auto& in : n.inputs)
      out += "  " + mid(in) + " -->|" + edge_label(spec, in) + "| " + mid(n.id) + "\n";
  return out;
}

} // namespace wattline
