#pragma once

// Component descriptors: what a source, transform or sink is called, what data it consumes and
// produces, and its options, each declared once with a doc string. The declaration drives
// validation, `wattline describe`, `wattline schema` and the README reference. Plain C++: the
// actor side of a component registers separately (engine/runtime/node.hpp) in the same file.

#include "engine/diagnostic.hpp"

#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace wattline {

struct node_spec;
class component_instance;

/// What flows on an edge: raw bytes (chunks) for decoders, or records.
enum class data_kind { none, bytes, records };

enum class component_role { source, transform, sink };

/// The YAML type an option accepts.
enum class option_type {
  string,
  integer,
  number,
  boolean,
  /// A sequence of strings (a lone string is accepted as a one-element list).
  string_list,
  /// A nested map or any YAML value, checked by the component's own `check` hook.
  any,
};

[[nodiscard]] const char* to_string(data_kind k);
[[nodiscard]] const char* to_string(component_role r);
[[nodiscard]] const char* to_string(option_type t);

/// One option of a component.
struct option_spec {
  std::string name;
  option_type type = option_type::string;
  /// One-sentence documentation shown by `describe` and in the JSON schema.
  std::string doc;
  bool required = false;
  /// Default as YAML text ("1000", "true", "jsonl"); empty when none.
  std::string default_value;
  /// For strings: the allowed values (empty: any string).
  std::vector<std::string> allowed;
  /// For integers and numbers: inclusive range.
  std::optional<double> min;
  std::optional<double> max;
  /// A secret (key, password, token): never printed in logs, status or errors.
  bool secret = false;
};

/// A converted option value.
using option_value = std::variant<std::string, int64_t, double, bool, std::vector<std::string>>;

/// The validated options of one node: declared options converted to their types, defaults filled
/// in. `raw()` gives the node's YAML map for components with nested options.
class options {
public:
  options() = default;
  options(std::map<std::string, option_value, std::less<>> values, YAML::Node raw, std::string file)
      : values_(std::move(values)), raw_(std::move(raw)), file_(std::move(file)) {}

  [[nodiscard]] bool has(std::string_view name) const {
    return values_.find(name) != values_.end();
  }
  [[nodiscard]] std::string str(std::string_view name, std::string fallback = {}) const {
    return get<std::string>(name, std::move(fallback));
  }
  [[nodiscard]] int64_t integer(std::string_view name, int64_t fallback = 0) const {
    return get<int64_t>(name, fallback);
  }
  [[nodiscard]] double number(std::string_view name, double fallback = 0) const {
    if (auto it = values_.find(name); it != values_.end()) {
      if (auto* i = std::get_if<int64_t>(&it->second))
        return static_cast<double>(*i);
      if (auto* d = std::get_if<double>(&it->second))
        return *d;
    }
    return fallback;
  }
  [[nodiscard]] bool boolean(std::string_view name, bool fallback = false) const {
    return get<bool>(name, fallback);
  }
  [[nodiscard]] std::vector<std::string> strings(std::string_view name) const {
    return get<std::vector<std::string>>(name, {});
  }
  [[nodiscard]] const YAML::Node& raw() const { return raw_; }
  [[nodiscard]] const std::string& file() const { return file_; }
  [[nodiscard]] const std::map<std::string, option_value, std::less<>>& values() const {
    return values_;
  }

private:
  template <class T>
  T get(std::string_view name, T fallback) const {
    if (auto it = values_.find(name); it != values_.end())
      if (auto* v = std::get_if<T>(&it->second))
        return *v;
    return fallback;
  }
  std::map<std::string, option_value, std::less<>> values_;
  YAML::Node raw_;
  std::string file_;
};

/// Describes one component type.
struct component_descriptor {
  /// The YAML `type:`; nouns for sources and sinks, verbs for transforms.
  std::string type;
  component_role role = component_role::source;
  /// One line for `describe`.
  std::string summary;
  /// What the component consumes (none for sources).
  data_kind input = data_kind::none;
  /// What the component produces (none for sinks).
  data_kind output = data_kind::none;
  /// When set, computes the output kind from the options (e.g. a file source's format).
  std::function<data_kind(const wattline::options&)> output_for;
  std::vector<option_spec> options;
  /// Checks beyond the declared option types: cross-option rules, nested maps. `node` is the
  /// node's YAML map; report at exact locations via location_of().
  std::function<void(const YAML::Node& node, const wattline::options& opts, const std::string& file,
                     diagnostics& diags)>
      check;
  /// Creates a running instance; the actor side of the component.
  std::function<std::unique_ptr<component_instance>(const node_spec&)> make;
  /// Test-only components are hidden from describe, schema and docs.
  bool hidden = false;
  /// The component does blocking I/O in its callbacks (local files, fsync): its node actor gets
  /// a thread of its own (CAF `detached`) instead of running on the scheduler's workers.
  bool blocking_io = false;

  [[nodiscard]] data_kind output_kind(const wattline::options& o) const {
    return output_for ? output_for(o) : output;
  }
  [[nodiscard]] const option_spec* find_option(std::string_view name) const {
    for (const auto& o : options)
      if (o.name == name)
        return &o;
    return nullptr;
  }
};

/// All component descriptors, filled by the registration lines of the component files before
/// main() runs. Construct-on-first-use to avoid the static initialisation order problem.
class component_registry {
public:
  static component_registry& instance();
  /// Adds a descriptor; returns true so it can initialise a static.
  bool add(component_descriptor d);
  [[nodiscard]] const component_descriptor* find(component_role role, std::string_view type) const;
  /// All descriptors, sorted by role then type.
  [[nodiscard]] std::vector<const component_descriptor*> all(bool include_hidden = false) const;
  /// The type names registered for a role (visible ones), for hints.
  [[nodiscard]] std::vector<std::string> types(component_role role) const;

private:
  std::deque<component_descriptor> items_;
};

} // namespace wattline

#define WATTLINE_PP_CAT_IMPL(a, b) a##b
#define WATTLINE_PP_CAT(a, b) WATTLINE_PP_CAT_IMPL(a, b)

/// The one registration line of a component file: `WATTLINE_REGISTER_COMPONENT(describe_x)` where
/// `describe_x()` returns the component's descriptor (with its `make` factory).
#define WATTLINE_REGISTER_COMPONENT(describe_fn)                                                   \
  namespace {                                                                                      \
  [[maybe_unused]] const bool WATTLINE_PP_CAT(wattline_registered_, __LINE__) =                    \
      ::wattline::component_registry::instance().add(describe_fn());                               \
  }
