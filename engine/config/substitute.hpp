#pragma once

// `${VAR}` and `${file:PATH}` substitution inside pipeline scalars. Pure string functions: the
// loader applies them to every scalar of a parsed file and keeps track of which ones changed, so
// that no substituted value (a password, a token) ever reaches a diagnostic.

#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace wattline {

/// Looks up an environment variable; nothing when unset.
using env_lookup = std::function<std::optional<std::string>(const std::string& name)>;

/// The lookup of the running process (getenv).
env_lookup process_env();

/// The outcome of expanding one scalar.
struct substitution {
  /// The expanded text; only meaningful when `error` is empty.
  std::string value;
  /// True when at least one `${...}` was replaced (the value may be a secret).
  bool substituted = false;
  /// Why expansion failed, e.g. "environment variable 'TOKEN' is not set". Names variables and
  /// files only, never a value.
  std::string error;
  /// How to fix it, for the diagnostic's hint line; names variables, files and directories only.
  std::string hint;
};

/// Expands `text`:
/// - `${NAME}`: the environment variable NAME (letters, digits, '_', not starting with a digit);
///   an unset variable is an error;
/// - `${NAME:-fallback}`: NAME, or `fallback` (taken literally) when NAME is unset or empty;
/// - `${file:PATH}`: the contents of PATH, relative to `base_dir` unless absolute, with one
///   trailing newline removed; an unreadable file is an error;
/// - `$${` is a literal `${`.
/// Any other `$` is kept as is.
[[nodiscard]] substitution substitute(std::string_view text, const env_lookup& env,
                                      const std::filesystem::path& base_dir);

} // namespace wattline
