#pragma once

// Load-time diagnostics: located, compiler-style messages. Everything found while loading and
// checking pipeline files is collected and reported together before any actor starts.

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace wattline {

/// A position in a pipeline file; line and column are 1-based, 0 when unknown.
struct source_location {
  std::string file;
  int line = 0;
  int column = 0;

  [[nodiscard]] bool known() const { return line > 0; }
  friend bool operator==(const source_location&, const source_location&) = default;
};

enum class severity { error, warning, note };

/// One message about a pipeline file, e.g.
///   pipelines/x.yaml:12:5: error: unknown option 'topc' for sink type 'mqtt'
///   hint: did you mean 'topic'?
struct diagnostic {
  severity level = severity::error;
  std::string message;
  source_location where;
  /// Length of the offending token, for the caret underline; 1 when unknown.
  std::size_t length = 1;
  /// Optional hint line ("did you mean 'topic'?", the list of allowed options, ...).
  std::string hint;
  /// Optional secondary location, e.g. the first occurrence of a duplicate key.
  std::vector<diagnostic> notes;
};

/// Collects diagnostics; components and loaders append to it, the CLI prints it.
class diagnostics {
public:
  diagnostic& error(std::string message, source_location where, std::string hint = {},
                    std::size_t length = 1) {
    return add(severity::error, std::move(message), std::move(where), std::move(hint), length);
  }
  diagnostic& warning(std::string message, source_location where, std::string hint = {},
                      std::size_t length = 1) {
    return add(severity::warning, std::move(message), std::move(where), std::move(hint), length);
  }
  [[nodiscard]] bool has_errors() const {
    for (const auto& d : items_)
      if (d.level == severity::error)
        return true;
    return false;
  }
  [[nodiscard]] const std::vector<diagnostic>& items() const { return items_; }
  [[nodiscard]] bool empty() const { return items_.empty(); }
  /// For forwarding diagnostics collected elsewhere unchanged (notes included).
  std::vector<diagnostic>& items_mutable() { return items_; }
  void append(const diagnostics& other) {
    items_.insert(items_.end(), other.items_.begin(), other.items_.end());
  }

private:
  diagnostic& add(severity s, std::string message, source_location where, std::string hint,
                  std::size_t length) {
    items_.push_back(diagnostic{
        s, std::move(message), std::move(where), length ? length : 1, std::move(hint), {}});
    return items_.back();
  }
  std::vector<diagnostic> items_;
};

/// Renders one diagnostic compiler-style: the location line, the source line with a caret
/// underline when the file can be read, then hint and notes.
std::string render(const diagnostic& d);

/// Closest candidate to `word` by edit distance, or empty when none is close enough.
std::string closest_match(std::string_view word, const std::vector<std::string>& candidates);

/// "a, b, c" for hints listing allowed values.
std::string join(const std::vector<std::string>& items, std::string_view sep = ", ");

} // namespace wattline
