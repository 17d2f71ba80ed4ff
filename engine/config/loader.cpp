#include "engine/config/loader.hpp"

#include "engine/config/planner.hpp"
#include "engine/yaml_location.hpp"

#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/parser.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string_view>
#include <tuple>

namespace wattline {

namespace {

namespace fs = std::filesystem;

using mark_key = std::pair<int, int>;

mark_key key_of(const YAML::Node& n) {
  auto m = n.Mark();
  return {m.line, m.column};
}

std::string location_key(const source_location& l) {
  return l.file + ':' + std::to_string(l.line) + ':' + std::to_string(l.column);
}

/// One map entry, the first occurrence of its key.
struct entry {
  YAML::Node key;
  YAML::Node value;
  [[nodiscard]] const std::string& name() const { return key.Scalar(); }
};

/// What one file's checks share.
struct file_context {
  std::string file;
  fs::path dir;
  /// Original text of every scalar changed by substitution, by mark.
  std::map<mark_key, std::string> substituted;
  /// Scalars whose substitution failed (already reported).
  std::set<mark_key> failed;
};

/// How a group of keys is named in messages ("option", "supervision setting", ...).
struct section {
  std::string kind;
  std::string kinds;
  /// Appended to "unknown <kind> 'x'", e.g. " for sink type 'mqtt'".
  std::string owner;
  /// Appended to "missing required <kind> 'x'", e.g. " for sink 'out' (type 'mqtt')".
  std::string missing_owner;
  /// Keys besides the declared ones that hints may name ("type", "inputs", ...).
  std::vector<std::string> common = {};
};

using value_map = std::map<std::string, option_value, std::less<>>;

/// The outcome of reading one group of keys.
struct read_result {
  value_map values;
  /// Keys written in the file, with their locations.
  std::map<std::string, std::pair<source_location, std::size_t>> written;
  bool ok = true;
};

diagnostic make_note(std::string message, source_location where, std::size_t length = 1) {
  diagnostic d;
  d.level = severity::note;
  d.message = std::move(message);
  d.where = std::move(where);
  d.length = length ? length : 1;
  return d;
}

std::size_t count_errors(const diagnostics& diags) {
  return static_cast<std::size_t>(
      std::count_if(diags.items().begin(), diags.items().end(),
                    [](auto& d) { return d.level == severity::error; }));
}

std::string clip(const std::string& s) {
  constexpr std::size_t limit = 60;
  std::string out = s.size() > limit ? s.substr(0, limit) + "..." : s;
  std::replace(out.begin(), out.end(), '\n', ' ');
  return out;
}

std::string format_number(double v) {
  if (std::floor(v) == v && std::fabs(v) < 1e15)
    return std::to_string(static_cast<int64_t>(v));
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%g", v);
  return buf;
}

/// YAML 1.2 core integers: [-+]?[0-9]+, 0x[0-9a-fA-F]+, 0o[0-7]+.
enum class int_parse { ok, not_integer, overflow };

int_parse parse_integer(const std::string& text, int64_t& out) {
  std::string_view s = text;
  int base = 10;
  bool negative = false;
  if (s.size() > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'o')) {
    base = s[1] == 'x' ? 16 : 8;
    s.remove_prefix(2);
  } else if (!s.empty() && (s[0] == '+' || s[0] == '-')) {
    negative = s[0] == '-';
    s.remove_prefix(1);
  }
  if (s.empty() || s[0] == '+' || s[0] == '-')
    return int_parse::not_integer;
  uint64_t magnitude = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), magnitude, base);
  if (end != s.data() + s.size())
    return ec == std::errc::result_out_of_range ? int_parse::overflow : int_parse::not_integer;
  if (ec == std::errc::result_out_of_range)
    return int_parse::overflow;
  if (negative) {
    if (magnitude > static_cast<uint64_t>(INT64_MAX) + 1)
      return int_parse::overflow;
    out = static_cast<int64_t>(0 - magnitude);
  } else {
    if (magnitude > static_cast<uint64_t>(INT64_MAX))
      return int_parse::overflow;
    out = static_cast<int64_t>(magnitude);
  }
  return int_parse::ok;
}

/// YAML 1.2 core floats, without .inf/.nan: [-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?
bool parse_number(const std::string& text, double& out) {
  if (text.empty())
    return false;
  bool digit = false;
  for (char c : text) {
    if (c >= '0' && c <= '9')
      digit = true;
    else if (c != '+' && c != '-' && c != '.' && c != 'e' && c != 'E')
      return false;
  }
  if (!digit)
    return false;
  errno = 0;
  char* end = nullptr;
  out = std::strtod(text.c_str(), &end);
  return end == text.c_str() + text.size() && errno == 0 && std::isfinite(out);
}

/// YAML 1.2 core booleans.
std::optional<bool> parse_boolean(const std::string& t) {
  if (t == "true" || t == "True" || t == "TRUE")
    return true;
  if (t == "false" || t == "False" || t == "FALSE")
    return false;
  return std::nullopt;
}

bool yaml11_boolean(std::string t) {
  std::transform(t.begin(), t.end(), t.begin(), [](unsigned char c) { return std::tolower(c); });
  return t == "yes" || t == "no" || t == "on" || t == "off" || t == "y" || t == "n";
}

/// A copy of `n` with map keys sorted, for canonical dumps (the first of duplicate keys wins).
YAML::Node canonical_copy(const YAML::Node& n) {
  if (n.IsMap()) {
    std::map<std::string, YAML::Node> sorted;
    for (auto it = n.begin(); it != n.end(); ++it)
      if (it->first.IsScalar())
        sorted.emplace(it->first.Scalar(), it->second);
    YAML::Node out(YAML::NodeType::Map);
    for (auto& [k, v] : sorted)
      out[k] = canonical_copy(v);
    return out;
  }
  if (n.IsSequence()) {
    YAML::Node out(YAML::NodeType::Sequence);
    for (auto it = n.begin(); it != n.end(); ++it)
      out.push_back(canonical_copy(*it));
    return out;
  }
  if (n.IsScalar())
    return YAML::Node(n.Scalar());
  return YAML::Node();
}

std::string canonical_text(const YAML::Node& n) {
  YAML::Emitter e;
  e.SetMapFormat(YAML::Flow);
  e.SetSeqFormat(YAML::Flow);
  e << canonical_copy(n);
  return e.c_str();
}

bool valid_id(const std::string& id) {
  if (id.empty())
    return false;
  return std::all_of(id.begin(), id.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '-';
  });
}

/// "host:port" with a port in 1..65535.
bool valid_address(const std::string& s) {
  auto colon = s.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == s.size())
    return false;
  int64_t port = 0;
  return parse_integer(s.substr(colon + 1), port) == int_parse::ok && port >= 1 && port <= 65535 &&
         s[colon + 1] != '+' && s[colon + 1] != '-';
}

const char* role_plural(component_role r) {
  switch (r) {
  case component_role::source:
    return "sources";
  case component_role::transform:
    return "transforms";
  case component_role::sink:
    return "sinks";
  }
  return "sources";
}

option_spec make_option(std::string name, option_type type, std::string doc,
                        std::string default_value, std::optional<double> min = std::nullopt,
                        std::vector<std::string> allowed = {}) {
  option_spec o;
  o.name = std::move(name);
  o.type = type;
  o.doc = std::move(doc);
  o.default_value = std::move(default_value);
  o.min = min;
  o.allowed = std::move(allowed);
  return o;
}

/// Loads files one by one into one spec, then plans it.
class loader {
public:
  loader(diagnostics& out, const env_lookup& env, const component_registry& registry)
      : out_(out), env_(env), registry_(registry) {}

  void add_path(const std::string& path) {
    std::error_code ec;
    auto status = fs::status(path, ec);
    if (ec || !fs::exists(status)) {
      diags_.error("no such pipeline file or directory", {path, 0, 0},
                   "give the path of a pipeline file (*.yaml) or of a directory of them");
      return;
    }
    if (fs::is_directory(status)) {
      std::vector<std::string> names;
      for (const auto& e : fs::directory_iterator(path, ec)) {
        auto ext = e.path().extension().string();
        if ((ext == ".yaml" || ext == ".yml") && e.is_regular_file(ec))
          names.push_back(e.path().filename().string());
      }
      std::sort(names.begin(), names.end());
      if (names.empty())
        diags_.error("no *.yaml or *.yml pipeline files in directory", {path, 0, 0},
                     "only files ending in .yaml or .yml are read from a directory");
      for (const auto& n : names)
        add_file((fs::path(path) / n).string());
      return;
    }
    add_file(path);
  }

  void add_file(const std::string& path) {
    std::error_code ec;
    auto canonical = fs::weakly_canonical(path, ec).string();
    if (!seen_files_.insert(ec ? path : canonical).second)
      return;
    std::ifstream in(path, std::ios::binary);
    if (!in) {
      diags_.error(std::string("cannot read pipeline file: ") + std::strerror(errno), {path, 0, 0},
                   "check that the user wattline runs as may read it");
      return;
    }
    std::ostringstream ss;
    ss << in.rdbuf();
    add_text(path, ss.str());
  }

  /// A hint for a YAML syntax error at `mark`: tabs in the indentation of that line are the
  /// usual cause; otherwise the usual quoting rules.
  static std::string syntax_hint(const std::string& text, const YAML::Mark& mark,
                                 const std::string& message) {
    if (mark.pos >= 0 && static_cast<size_t>(mark.pos) <= text.size()) {
      const auto pos = static_cast<size_t>(mark.pos);
      // The line holding `pos` (npos + 1 is 0: no newline before it).
      const size_t begin = pos == 0 ? 0 : text.rfind('\n', pos - 1) + 1;
      const auto line = std::string_view(text).substr(begin, text.find('\n', begin) - begin);
      if (line.substr(0, line.find_first_not_of(" \t")).find('\t') != std::string_view::npos)
        return "this line is indented with a tab: YAML indents with spaces only";
    }
    if (message.find("flow") != std::string::npos)
      return "check that every '{' and '[' is closed by a matching '}' or ']', and quote values "
             "that contain ',' inside them";
    return "YAML indents with spaces only; quote values that contain ': ' or ' #', or that "
           "start with one of { } [ ] & * ! % @ `";
  }

  /// Where yaml-cpp 0.7's document loop stops advancing, if it does. On a token that no node
  /// starts with (a ',' outside [ ] and { }, for one) `YAML::LoadAll` yields an empty document
  /// without consuming it, forever, allocating as it goes (jbeder/yaml-cpp#1040, fixed upstream
  /// after 0.7). Parsing the documents with an event handler that keeps only the last position
  /// shows it: two documents in a row at the same position mean the parser is stuck.
  static std::optional<YAML::Mark> stalled_at(const std::string& text) {
    struct last_mark final : YAML::EventHandler {
      YAML::Mark mark = YAML::Mark::null_mark();
      void OnDocumentStart(const YAML::Mark& m) override { mark = m; }
      void OnDocumentEnd() override {}
      void OnNull(const YAML::Mark& m, YAML::anchor_t) override { mark = m; }
      void OnAlias(const YAML::Mark& m, YAML::anchor_t) override { mark = m; }
      void OnScalar(const YAML::Mark& m, const std::string&, YAML::anchor_t,
                    const std::string&) override {
        mark = m;
      }
      void OnSequenceStart(const YAML::Mark& m, const std::string&, YAML::anchor_t,
                           YAML::EmitterStyle::value) override {
        mark = m;
      }
      void OnSequenceEnd() override {}
      void OnMapStart(const YAML::Mark& m, const std::string&, YAML::anchor_t,
                      YAML::EmitterStyle::value) override {
        mark = m;
      }
      void OnMapEnd() override {}
    };
    std::istringstream in(text);
    YAML::Parser parser(in);
    last_mark handler;
    // A real document moves the parser on; the stuck one yields its empty document at the same
    // place again and again.
    int last_pos = -1;
    while (parser.HandleNextDocument(handler)) {
      if (handler.mark.pos == last_pos)
        return handler.mark;
      last_pos = handler.mark.pos;
    }
    return std::nullopt;
  }

  void add_text(const std::string& name, const std::string& text) {
    spec_.files.push_back(name);
    file_context fc;
    fc.file = name;
    fc.dir = fs::path(name).parent_path();
    std::vector<YAML::Node> docs;
    try {
      if (const auto stuck = stalled_at(text)) {
        const auto at = static_cast<size_t>(std::max(stuck->pos, 0));
        const char c = at < text.size() ? text[at] : ' ';
        diags_.error(c > ' ' && c < 0x7F ? std::string("YAML syntax error: unexpected '") + c + "'"
                                         : std::string("YAML syntax error: unexpected content"),
                     location_of(*stuck, name),
                     "',', ']' and '}' belong inside [ ] or { }; quote a value that starts "
                     "with one of them");
        return;
      }
      docs = YAML::LoadAll(text);
    } catch (const YAML::ParserException& e) {
      diags_.error("YAML syntax error: " + e.msg, location_of(e.mark, name),
                   syntax_hint(text, e.mark, e.msg));
      return;
    } catch (const YAML::Exception& e) {
      diags_.error("cannot parse YAML: " + e.msg, location_of(e.mark, name));
      return;
    } catch (const std::exception& e) {
      diags_.error(std::string("cannot parse YAML: ") + e.what(), {name, 0, 0});
      return;
    }
    if (docs.empty())
      return;
    if (docs.size() > 1)
      diags_.error("only one YAML document per pipeline file is supported",
                   location_of(docs[1], name), "split the documents into separate files");
    try {
      load_document(docs[0], fc);
    } catch (const YAML::Exception& e) {
      // Safety net: every access above is checked, so this means a bug, not a bad file.
      diags_.error("internal error while reading YAML: " + e.msg, location_of(e.mark, name));
    }
  }

  std::optional<pipeline_spec> finish() {
    if (spec_.files.empty() && count_errors(diags_) == 0)
      diags_.error("no pipeline files given", {},
                   "give one or more pipeline files (*.yaml) or directories of them");
    else if (spec_.nodes.empty() && count_errors(diags_) == 0)
      diags_.error("no sources, transforms or sinks defined",
                   {spec_.files.empty() ? std::string() : spec_.files.front(), 0, 0},
                   "define components under 'sources:', 'transforms:' and 'sinks:'; 'wattline "
                   "describe' lists their types");
    finish_engine();
    plan_options po;
    po.is_substituted = [this](const source_location& l) {
      return substituted_inputs_.count(location_key(l)) > 0;
    };
    plan_pipelines(spec_, diags_, registry_, po);
    flush();
    if (count_errors(diags_) != 0)
      return std::nullopt;
    return std::move(spec_);
  }

private:
  /// Copies the diagnostics to the caller's collector in file order, then line and column, so
  /// that loader and planner findings read top to bottom like a compiler's.
  void flush() {
    auto rank = [this](const source_location& l) {
      auto it = std::find(spec_.files.begin(), spec_.files.end(), l.file);
      return std::tuple{it == spec_.files.end() ? -1 : static_cast<int>(it - spec_.files.begin()),
                        l.line, l.column};
    };
    std::vector<const diagnostic*> items;
    for (const auto& d : diags_.items())
      items.push_back(&d);
    std::stable_sort(items.begin(), items.end(), [&](const diagnostic* a, const diagnostic* b) {
      return rank(a->where) < rank(b->where);
    });
    for (const auto* d : items) {
      auto& copy = out_.error(d->message, d->where, d->hint, d->length);
      copy.level = d->level;
      copy.notes = d->notes;
    }
  }

  // -- generic helpers ------------------------------------------------------------------------

  /// Length of a node's source text for the caret underline.
  std::size_t length_of(const YAML::Node& n, const file_context& fc) const {
    if (!n.IsScalar())
      return 1;
    auto it = fc.substituted.find(key_of(n));
    const std::string& text = it != fc.substituted.end() ? it->second : n.Scalar();
    if (text.find('\n') != std::string::npos)
      return 1;
    return text.size() + (n.Tag() == "!" ? 2 : 0);
  }

  /// Location of an entry's value; a null value has no useful mark, so its key is used.
  source_location value_location(const entry& e, const file_context& fc) const {
    return e.value.IsNull() ? location_of(e.key, fc.file) : location_of(e.value, fc.file);
  }
  std::size_t value_length(const entry& e, const file_context& fc) const {
    return e.value.IsNull() ? length_of(e.key, fc) : length_of(e.value, fc);
  }

  /// How a value is shown in a message: never the text of a substituted or secret value.
  static std::string shown(const YAML::Node& n, const file_context& fc, bool secret = false) {
    if (n.IsScalar()) {
      if (auto it = fc.substituted.find(key_of(n)); it != fc.substituted.end())
        return "the value substituted for '" + clip(it->second) + "'";
      if (secret)
        return "a secret value";
      return "'" + clip(n.Scalar()) + "'";
    }
    if (n.IsMap())
      return "a map";
    if (n.IsSequence())
      return "a list";
    return "null";
  }

  bool failed_substitution(const YAML::Node& n, const file_context& fc) const {
    return n.IsScalar() && fc.failed.count(key_of(n)) > 0;
  }

  /// Expands `${...}` in every scalar value below `n` (not in keys), in place.
  void substitute_tree(YAML::Node n, file_context& fc, std::set<mark_key>& visited) {
    if (n.IsScalar()) {
      auto k = key_of(n);
      // Aliases share their anchor's node: expand once.
      if (!visited.insert(k).second)
        return;
      const std::string text = n.Scalar();
      if (text.find('$') == std::string::npos)
        return;
      auto r = substitute(text, env_, fc.dir);
      if (!r.error.empty()) {
        diags_.error(r.error, location_of(n, fc.file), r.hint, length_of(n, fc));
        fc.failed.insert(k);
        return;
      }
      if (r.substituted)
        fc.substituted.emplace(k, text);
      if (r.value != text)
        n = r.value;
      return;
    }
    if (n.IsMap()) {
      for (auto it = n.begin(); it != n.end(); ++it)
        substitute_tree(it->second, fc, visited);
    } else if (n.IsSequence()) {
      for (auto it = n.begin(); it != n.end(); ++it)
        substitute_tree(*it, fc, visited);
    }
  }

  /// The entries of map `m` in order; a repeated key is reported and skipped.
  std::vector<entry> entries_of(const YAML::Node& m, const file_context& fc) {
    std::vector<entry> out;
    for (auto it = m.begin(); it != m.end(); ++it) {
      YAML::Node k = it->first;
      if (!k.IsScalar()) {
        diags_.error("expected a plain key, got " + shown(k, fc), location_of(k, fc.file));
        continue;
      }
      auto dup = std::find_if(out.begin(), out.end(),
                              [&](const entry& e) { return e.key.Scalar() == k.Scalar(); });
      if (dup != out.end()) {
        auto& d = diags_.error("duplicate key '" + k.Scalar() + "'", location_of(k, fc.file), {},
                               length_of(k, fc));
        d.notes.push_back(make_note("'" + k.Scalar() + "' first defined here",
                                    location_of(dup->key, fc.file), length_of(dup->key, fc)));
        continue;
      }
      out.push_back({k, it->second});
    }
    return out;
  }

  static const entry* find_entry(const std::vector<entry>& entries, std::string_view name) {
    for (const auto& e : entries)
      if (e.name() == name)
        return &e;
    return nullptr;
  }

  static std::string range_hint(const option_spec& spec) {
    if (spec.min && spec.max)
      return "allowed range: " + format_number(*spec.min) + " to " + format_number(*spec.max);
    if (spec.min)
      return "must be at least " + format_number(*spec.min);
    if (spec.max)
      return "must be at most " + format_number(*spec.max);
    return {};
  }

  /// Checks a string against spec.allowed; reports at `n`.
  bool check_allowed(const std::string& value, const YAML::Node& n, const option_spec& spec,
                     const section& s, const file_context& fc, const source_location& where,
                     std::size_t length) {
    if (spec.allowed.empty() ||
        std::find(spec.allowed.begin(), spec.allowed.end(), value) != spec.allowed.end())
      return true;
    bool hidden = spec.secret || fc.substituted.count(key_of(n)) > 0;
    std::string hint;
    if (!hidden)
      if (auto best = closest_match(value, spec.allowed); !best.empty())
        hint = "did you mean '" + best + "'? ";
    hint += "allowed values: " + join(spec.allowed);
    diags_.error("invalid value for " + s.kind + " '" + spec.name + "': got " +
                     shown(n, fc, spec.secret),
                 where, std::move(hint), length);
    return false;
  }

  /// Converts one value per its spec; reports and returns nothing when it does not fit.
  std::optional<option_value> convert(const entry& e, const option_spec& spec, const section& s,
                                      const file_context& fc) {
    const YAML::Node& v = e.value;
    auto where = value_location(e, fc);
    auto length = value_length(e, fc);
    auto wrong_type = [&](std::string expected, std::string hint = {}) {
      diags_.error("invalid value for " + s.kind + " '" + spec.name + "': expected " + expected +
                       ", got " + shown(v, fc, spec.secret),
                   where, std::move(hint), length);
      return std::nullopt;
    };
    auto in_range = [&](double x) {
      if ((spec.min && x < *spec.min) || (spec.max && x > *spec.max)) {
        diags_.error(s.kind + " '" + spec.name + "' is out of range: got " +
                         (spec.secret || fc.substituted.count(key_of(v)) ? shown(v, fc, spec.secret)
                                                                         : v.Scalar()),
                     where, range_hint(spec), length);
        return false;
      }
      return true;
    };
    switch (spec.type) {
    case option_type::string: {
      if (!v.IsScalar())
        return wrong_type("string");
      if (!check_allowed(v.Scalar(), v, spec, s, fc, where, length))
        return std::nullopt;
      return option_value{v.Scalar()};
    }
    case option_type::integer: {
      if (!v.IsScalar())
        return wrong_type("integer");
      int64_t x = 0;
      switch (parse_integer(v.Scalar(), x)) {
      case int_parse::not_integer:
        return wrong_type("integer");
      case int_parse::overflow:
        return wrong_type("integer", "the value does not fit in a 64-bit integer");
      case int_parse::ok:
        break;
      }
      if (!in_range(static_cast<double>(x)))
        return std::nullopt;
      return option_value{x};
    }
    case option_type::number: {
      double x = 0;
      if (!v.IsScalar() || !parse_number(v.Scalar(), x))
        return wrong_type("number");
      if (!in_range(x))
        return std::nullopt;
      return option_value{x};
    }
    case option_type::boolean: {
      if (!v.IsScalar())
        return wrong_type("boolean (true or false)");
      if (auto b = parse_boolean(v.Scalar()))
        return option_value{*b};
      return wrong_type("boolean (true or false)",
                        yaml11_boolean(v.Scalar())
                            ? "wattline reads YAML 1.2: booleans are true or false only"
                            : std::string{});
    }
    case option_type::string_list: {
      std::vector<std::string> out;
      if (v.IsScalar()) {
        if (!check_allowed(v.Scalar(), v, spec, s, fc, where, length))
          return std::nullopt;
        out.push_back(v.Scalar());
        return option_value{std::move(out)};
      }
      if (!v.IsSequence())
        return wrong_type("list of strings");
      bool ok = true;
      for (auto it = v.begin(); it != v.end(); ++it) {
        YAML::Node item = *it;
        if (failed_substitution(item, fc)) {
          ok = false;
          continue;
        }
        if (!item.IsScalar()) {
          diags_.error("invalid value for " + s.kind + " '" + spec.name +
                           "': expected a list of strings, got " + shown(item, fc) +
                           " as an element",
                       location_of(item, fc.file));
          ok = false;
          continue;
        }
        if (!check_allowed(item.Scalar(), item, spec, s, fc, location_of(item, fc.file),
                           length_of(item, fc))) {
          ok = false;
          continue;
        }
        out.push_back(item.Scalar());
      }
      if (!ok)
        return std::nullopt;
      return option_value{std::move(out)};
    }
    case option_type::any:
      return option_value{canonical_text(v)};
    }
    return std::nullopt;
  }

  /// Converts a spec's default text; nothing when empty or unparsable (a descriptor bug).
  static std::optional<option_value> default_of(const option_spec& spec) {
    if (spec.default_value.empty())
      return std::nullopt;
    const std::string& t = spec.default_value;
    switch (spec.type) {
    case option_type::string:
      return option_value{t};
    case option_type::integer: {
      int64_t x = 0;
      if (parse_integer(t, x) == int_parse::ok)
        return option_value{x};
      return std::nullopt;
    }
    case option_type::number: {
      double x = 0;
      if (parse_number(t, x))
        return option_value{x};
      return std::nullopt;
    }
    case option_type::boolean:
      if (auto b = parse_boolean(t))
        return option_value{*b};
      return std::nullopt;
    case option_type::string_list:
      try {
        auto n = YAML::Load(t);
        std::vector<std::string> out;
        if (n.IsScalar())
          out.push_back(n.Scalar());
        else if (n.IsSequence())
          for (auto it = n.begin(); it != n.end(); ++it)
            if (it->IsScalar())
              out.push_back(it->Scalar());
        return option_value{std::move(out)};
      } catch (const YAML::Exception&) {
        return std::nullopt;
      }
    case option_type::any:
      return option_value{t};
    }
    return std::nullopt;
  }

  /// Reads the keys of one map against `specs`; keys in `reserved` are the caller's.
  read_result read_section(const std::vector<entry>& entries, const std::vector<option_spec>& specs,
                           const std::vector<std::string>& reserved, const section& s,
                           const source_location& owner_where, std::size_t owner_length,
                           const file_context& fc, bool fill_defaults = true) {
    read_result r;
    for (const auto& e : entries) {
      if (std::find(reserved.begin(), reserved.end(), e.name()) != reserved.end())
        continue;
      const option_spec* spec = nullptr;
      for (const auto& o : specs)
        if (o.name == e.name())
          spec = &o;
      if (!spec) {
        std::vector<std::string> names;
        for (const auto& o : specs)
          names.push_back(o.name);
        names.insert(names.end(), s.common.begin(), s.common.end());
        std::string hint;
        if (auto best = closest_match(e.name(), names); !best.empty())
          hint = "did you mean '" + best + "'?";
        else
          hint = "allowed " + s.kinds + ": " + join(names);
        diags_.error("unknown " + s.kind + " '" + e.name() + "'" + s.owner,
                     location_of(e.key, fc.file), std::move(hint), length_of(e.key, fc));
        r.ok = false;
        continue;
      }
      r.written.emplace(e.name(), std::pair{location_of(e.key, fc.file), length_of(e.key, fc)});
      if (failed_substitution(e.value, fc)) {
        r.ok = false;
        continue;
      }
      if (auto v = convert(e, *spec, s, fc))
        r.values.emplace(e.name(), std::move(*v));
      else
        r.ok = false;
    }
    for (const auto& o : specs) {
      if (r.written.count(o.name))
        continue;
      if (o.required) {
        std::string hint = o.name + ": " + o.doc;
        diags_.error("missing required " + s.kind + " '" + o.name + "'" + s.missing_owner,
                     owner_where, std::move(hint), owner_length);
        r.ok = false;
      } else if (fill_defaults) {
        if (auto d = default_of(o))
          r.values.emplace(o.name, std::move(*d));
      }
    }
    return r;
  }

  // -- the file structure ---------------------------------------------------------------------

  void load_document(YAML::Node root, file_context& fc) {
    if (root.IsNull())
      return;
    if (!root.IsMap()) {
      diags_.error("expected a map with 'sources', 'transforms', 'sinks' or 'engine', got " +
                       shown(root, fc),
                   location_of(root, fc.file));
      return;
    }
    std::set<mark_key> visited;
    substitute_tree(root, fc, visited);
    static const std::vector<std::string> sections = {"engine", "sources", "transforms", "sinks"};
    for (const auto& e : entries_of(root, fc)) {
      const auto& name = e.name();
      if (name == "engine") {
        load_engine(e, fc);
        continue;
      }
      std::optional<component_role> role;
      if (name == "sources")
        role = component_role::source;
      else if (name == "transforms")
        role = component_role::transform;
      else if (name == "sinks")
        role = component_role::sink;
      if (!role) {
        auto best = closest_match(name, sections);
        diags_.error("unknown section '" + name + "'", location_of(e.key, fc.file),
                     best.empty() ? "allowed sections: " + join(sections)
                                  : "did you mean '" + best + "'?",
                     length_of(e.key, fc));
        continue;
      }
      if (e.value.IsNull())
        continue;
      if (!e.value.IsMap()) {
        diags_.error("expected a map of " + std::string(to_string(*role)) +
                         " ids to settings in '" + name + "', got " + shown(e.value, fc),
                     value_location(e, fc), {}, value_length(e, fc));
        continue;
      }
      for (const auto& n : entries_of(e.value, fc))
        load_node(*role, n, fc);
    }
  }

  void load_node(component_role role, const entry& e, file_context& fc) {
    const std::string& id = e.name();
    const std::string role_name = to_string(role);
    auto where = location_of(e.key, fc.file);
    auto where_length = length_of(e.key, fc);
    if (!valid_id(id)) {
      diags_.error("invalid " + role_name + " id '" + id + "'", where,
                   "ids use letters, digits, '_' and '-'", where_length);
      return;
    }
    for (const auto& other : spec_.nodes)
      if (other.id == id) {
        auto& d = diags_.error("duplicate component id '" + id + "'", where,
                               "ids must be unique across all pipeline files", where_length);
        d.notes.push_back(make_note("'" + id + "' first defined here as a " + to_string(other.role),
                                    other.where, id.size()));
        return;
      }
    node_spec n;
    n.id = id;
    n.role = role;
    n.where = where;
    auto owner = role_name + " '" + id + "'";
    if (!e.value.IsMap()) {
      if (e.value.IsNull())
        diags_.error(owner + " has no settings", where,
                     "add at least 'type:'; " + role_name +
                         " types: " + join(registry_.types(role)),
                     where_length);
      else
        diags_.error("expected a map of settings for " + owner + ", got " + shown(e.value, fc),
                     value_location(e, fc), {}, value_length(e, fc));
      spec_.nodes.push_back(std::move(n));
      return;
    }
    auto entries = entries_of(e.value, fc);
    auto errors_before = count_errors(diags_);

    // -- type
    const component_descriptor* desc = nullptr;
    if (const entry* t = find_entry(entries, "type"); !t) {
      diags_.error("missing 'type' for " + owner, where,
                   role_name + " types: " + join(registry_.types(role)), where_length);
    } else if (failed_substitution(t->value, fc)) {
      // Already reported.
    } else if (!t->value.IsScalar()) {
      diags_.error("invalid value for 'type' of " + owner + ": expected string, got " +
                       shown(t->value, fc),
                   value_location(*t, fc), {}, value_length(*t, fc));
    } else {
      n.type = t->value.Scalar();
      desc = registry_.find(role, n.type);
      if (!desc)
        report_unknown_type(role, *t, fc);
    }

    // -- inputs and supervision
    if (const entry* in = find_entry(entries, "inputs"))
      load_inputs(*in, n, owner, fc);
    if (const entry* sup = find_entry(entries, "supervision"))
      load_supervision(*sup, n, owner, fc);

    // -- options
    if (desc) {
      n.descriptor = desc;
      section s{"option", "options", " for " + role_name + " type '" + n.type + "'",
                " for " + owner + " (type '" + n.type + "')",
                role == component_role::source
                    ? std::vector<std::string>{"type", "supervision"}
                    : std::vector<std::string>{"type", "inputs", "supervision"}};
      const std::size_t items_before = diags_.items().size();
      auto r = read_section(entries, desc->options, {"type", "inputs", "supervision"}, s, where,
                            where_length, fc);
      n.opts = options(std::move(r.values), e.value, fc.file);
      n.input_kind = desc->input;
      bool clean = count_errors(diags_) == errors_before;
      if (desc->check) {
        // The check runs even when some options were rejected, so that every error is reported
        // in one go; what it says about an already reported place is left out.
        std::vector<source_location> reported;
        for (std::size_t i = 0; i < diags_.items().size(); ++i)
          if (i >= items_before)
            reported.push_back(diags_.items()[i].where);
        diagnostics own;
        std::swap(own, diags_);
        run_check(*desc, e.value, n.opts, fc, where);
        std::swap(own, diags_);
        for (auto& d : own.items_mutable())
          if (clean || std::find(reported.begin(), reported.end(), d.where) == reported.end())
            diags_.items_mutable().push_back(std::move(d));
      }
      if (clean || !desc->output_for)
        n.output_kind = desc->output_kind(n.opts);
    }
    n.config_text = canonical_text(e.value);
    spec_.nodes.push_back(std::move(n));
  }

  void report_unknown_type(component_role role, const entry& t, const file_context& fc) {
    const std::string role_name = to_string(role);
    const std::string& type = t.value.Scalar();
    bool hidden = fc.substituted.count(key_of(t.value)) > 0;
    std::string hint;
    for (auto other : {component_role::source, component_role::transform, component_role::sink})
      if (other != role && registry_.find(other, type) && !hidden)
        hint = "'" + type + "' is a " + to_string(other) + " type; put it under '" +
               role_plural(other) + "'";
    if (hint.empty()) {
      auto types = registry_.types(role);
      auto best = hidden ? std::string{} : closest_match(type, types);
      hint = best.empty() ? role_name + " types: " + join(types) : "did you mean '" + best + "'?";
    }
    diags_.error("unknown " + role_name + " type " + shown(t.value, fc), value_location(t, fc),
                 std::move(hint), value_length(t, fc));
  }

  void run_check(const component_descriptor& desc, const YAML::Node& node, const options& opts,
                 const file_context& fc, const source_location& where) {
    try {
      desc.check(node, opts, fc.file, diags_);
    } catch (const YAML::Exception& e) {
      diags_.error("invalid settings for " + std::string(to_string(desc.role)) + " type '" +
                       desc.type + "': " + e.msg,
                   e.mark.line >= 0 ? location_of(e.mark, fc.file) : where);
    } catch (const std::exception& e) {
      diags_.error("internal error while checking " + std::string(to_string(desc.role)) +
                       " type '" + desc.type + "': " + e.what(),
                   where);
    }
  }

  void load_inputs(const entry& e, node_spec& n, const std::string& owner, file_context& fc) {
    auto add = [&](const YAML::Node& item) {
      if (failed_substitution(item, fc))
        return;
      auto loc = location_of(item, fc.file);
      if (!item.IsScalar()) {
        diags_.error("invalid value in 'inputs' of " + owner + ": expected a component id, got " +
                         shown(item, fc),
                     loc);
        return;
      }
      for (std::size_t i = 0; i < n.inputs.size(); ++i)
        if (n.inputs[i] == item.Scalar()) {
          auto& d = diags_.error("input " + shown(item, fc) + " is listed twice in " + owner, loc,
                                 {}, length_of(item, fc));
          d.notes.push_back(make_note("first listed here", n.input_locations[i]));
          return;
        }
      if (fc.substituted.count(key_of(item)))
        substituted_inputs_.insert(location_key(loc));
      n.inputs.push_back(item.Scalar());
      n.input_locations.push_back(loc);
    };
    const YAML::Node& v = e.value;
    if (v.IsNull())
      return;
    if (v.IsScalar()) {
      add(v);
    } else if (v.IsSequence()) {
      for (auto it = v.begin(); it != v.end(); ++it)
        add(*it);
    } else {
      diags_.error("invalid value for 'inputs' of " + owner +
                       ": expected a component id or a list of ids, got " + shown(v, fc),
                   value_location(e, fc), {}, value_length(e, fc));
    }
  }

  void load_supervision(const entry& e, node_spec& n, const std::string& owner, file_context& fc) {
    if (e.value.IsNull())
      return;
    if (!e.value.IsMap()) {
      diags_.error("invalid value for 'supervision' of " + owner + ": expected a map, got " +
                       shown(e.value, fc),
                   value_location(e, fc), {}, value_length(e, fc));
      return;
    }
    section s{"supervision setting", "settings", {}, {}};
    auto r = read_section(entries_of(e.value, fc), supervision_options(), {}, s,
                          location_of(e.key, fc.file), length_of(e.key, fc), fc);
    auto get = [&](const char* k, int64_t fallback) {
      auto it = r.values.find(k);
      return it != r.values.end() ? std::get<int64_t>(it->second) : fallback;
    };
    auto& p = n.supervision;
    p.initial_backoff_ms = get("initial_backoff_ms", p.initial_backoff_ms);
    p.max_backoff_ms = get("max_backoff_ms", p.max_backoff_ms);
    p.max_restarts = get("max_restarts", p.max_restarts);
    p.window_secs = get("window_secs", p.window_secs);
    if (auto it = r.values.find("on_failure"); it != r.values.end()) {
      const auto& f = std::get<std::string>(it->second);
      p.on_failure = f == "stop"       ? failure_policy::stop
                     : f == "shutdown" ? failure_policy::shutdown
                                       : failure_policy::restart;
    }
    // Compare the effective values: either side may be a default.
    bool initial_set = r.values.count("initial_backoff_ms") > 0;
    if ((initial_set || r.values.count("max_backoff_ms")) &&
        p.initial_backoff_ms > p.max_backoff_ms) {
      auto& w = r.written[initial_set ? "initial_backoff_ms" : "max_backoff_ms"];
      diags_.error(
          "supervision setting 'initial_backoff_ms' (" + std::to_string(p.initial_backoff_ms) +
              ") is larger than 'max_backoff_ms' (" + std::to_string(p.max_backoff_ms) + ")",
          w.first, {}, w.second);
    }
  }

  void load_engine(const entry& e, file_context& fc) {
    if (e.value.IsNull())
      return;
    if (!e.value.IsMap()) {
      diags_.error("invalid value for 'engine': expected a map, got " + shown(e.value, fc),
                   value_location(e, fc), {}, value_length(e, fc));
      return;
    }
    if (!spec_.engine.where.known())
      spec_.engine.where = location_of(e.key, fc.file);
    // A key set by an earlier file is a conflict: report it and leave it out of this read.
    std::vector<entry> entries;
    for (auto& item : entries_of(e.value, fc)) {
      if (auto it = engine_written_.find(item.name()); it != engine_written_.end()) {
        auto& d = diags_.error("engine setting '" + item.name() + "' is set in more than one file",
                               location_of(item.key, fc.file),
                               "set each engine setting in one file only", length_of(item.key, fc));
        d.notes.push_back(make_note("first set here", it->second.first, it->second.second));
        continue;
      }
      entries.push_back(item);
    }
    section s{"engine setting", "settings", {}, {}};
    auto r = read_section(entries, engine_options(), {}, s, location_of(e.key, fc.file),
                          length_of(e.key, fc), fc, false);
    for (auto& [k, w] : r.written)
      engine_written_.emplace(k, w);
    if (auto it = r.values.find("status_address"); it != r.values.end()) {
      auto& a = std::get<std::string>(it->second);
      if (a == "off")
        a.clear();
      if (!a.empty() && !valid_address(a)) {
        const entry* item = find_entry(entries, "status_address");
        diags_.error("invalid value for engine setting 'status_address': expected host:port, got " +
                         shown(item->value, fc),
                     value_location(*item, fc), "use \"\" or off to disable the status endpoint",
                     value_length(*item, fc));
      }
    }
    for (auto& [k, v] : r.values)
      engine_values_.insert_or_assign(k, v);
  }

  void finish_engine() {
    auto& en = spec_.engine;
    for (const auto& [k, v] : engine_values_) {
      if (k == "log_level")
        en.log_level = std::get<std::string>(v);
      else if (k == "status_address")
        en.status_address = std::get<std::string>(v);
      else if (k == "data_dir")
        en.data_dir = std::get<std::string>(v);
      else if (k == "shutdown_timeout_secs")
        en.shutdown_timeout_secs = std::get<int64_t>(v);
    }
  }

  /// The caller's collector, and this load's own until flush().
  diagnostics& out_;
  diagnostics diags_;
  const env_lookup& env_;
  const component_registry& registry_;
  pipeline_spec spec_;
  std::set<std::string> seen_files_;
  std::set<std::string> substituted_inputs_;
  std::map<std::string, std::pair<source_location, std::size_t>> engine_written_;
  value_map engine_values_;
};

} // namespace

const std::vector<option_spec>& supervision_options() {
  static const std::vector<option_spec> specs = [] {
    supervision_policy d;
    return std::vector<option_spec>{
        make_option("initial_backoff_ms", option_type::integer,
                    "Delay before the first restart after a failure, in milliseconds; doubles on "
                    "each further restart.",
                    std::to_string(d.initial_backoff_ms), 1),
        make_option("max_backoff_ms", option_type::integer,
                    "Upper bound of the restart delay, in milliseconds.",
                    std::to_string(d.max_backoff_ms), 1),
        make_option("max_restarts", option_type::integer,
                    "Restarts allowed within window_secs before on_failure applies.",
                    std::to_string(d.max_restarts), 0),
        make_option("window_secs", option_type::integer,
                    "Length of the window in which restarts are counted, in seconds.",
                    std::to_string(d.window_secs), 1),
        make_option("on_failure", option_type::string,
                    "What happens once the restart budget is used up: keep restarting at the "
                    "maximum backoff, stop this node, or shut the process down.",
                    "restart", std::nullopt, {"restart", "stop", "shutdown"}),
    };
  }();
  return specs;
}

const std::vector<option_spec>& engine_options() {
  static const std::vector<option_spec> specs = [] {
    engine_settings d;
    return std::vector<option_spec>{
        make_option("log_level", option_type::string, "Minimum level of log messages.", d.log_level,
                    std::nullopt, {"trace", "debug", "info", "warning", "error"}),
        make_option("status_address", option_type::string,
                    "host:port of the status HTTP endpoint; \"\" or off disables it.",
                    d.status_address),
        make_option("data_dir", option_type::string,
                    "Directory for durable state (disk buffers, tariff totals).", d.data_dir),
        make_option("shutdown_timeout_secs", option_type::integer,
                    "Deadline for flushing in-flight data on SIGINT or SIGTERM, in seconds.",
                    std::to_string(d.shutdown_timeout_secs), 1),
    };
  }();
  return specs;
}

std::optional<pipeline_spec> load_pipelines(const std::vector<std::string>& paths,
                                            diagnostics& diags, const env_lookup& env,
                                            const component_registry& registry) {
  loader l(diags, env, registry);
  for (const auto& p : paths)
    l.add_path(p);
  return l.finish();
}

std::optional<pipeline_spec> load_pipeline_texts(const std::vector<pipeline_text>& files,
                                                 diagnostics& diags, const env_lookup& env,
                                                 const component_registry& registry) {
  loader l(diags, env, registry);
  for (const auto& f : files)
    l.add_text(f.name, f.yaml);
  return l.finish();
}

} // namespace wattline
