#include "engine/config/substitute.hpp"

#include <cstdlib>
#include <fstream>

namespace wattline {

namespace {

bool valid_name(std::string_view name) {
  if (name.empty() || (name[0] >= '0' && name[0] <= '9'))
    return false;
  for (char c : name)
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_'))
      return false;
  return true;
}

/// The most a `${file:...}` reads: it holds a secret or a short value, and a device such as
/// /dev/zero must not stall the loader.
constexpr std::size_t max_file_bytes = 1 << 20;

enum class read_status { ok, unreadable, too_large };

// Reads `path` whole, up to `max_file_bytes`.
read_status read_whole(const std::filesystem::path& path, std::string& out) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec))
    return read_status::unreadable;
  std::ifstream in(path, std::ios::binary);
  if (!in)
    return read_status::unreadable;
  out.clear();
  char chunk[4096];
  while (in.read(chunk, sizeof chunk) || in.gcount() > 0) {
    out.append(chunk, static_cast<std::size_t>(in.gcount()));
    if (out.size() > max_file_bytes)
      return read_status::too_large;
  }
  return in.bad() ? read_status::unreadable : read_status::ok;
}

} // namespace

env_lookup process_env() {
  return [](const std::string& name) -> std::optional<std::string> {
    if (const char* v = std::getenv(name.c_str()))
      return std::string(v);
    return std::nullopt;
  };
}

substitution substitute(std::string_view text, const env_lookup& env,
                        const std::filesystem::path& base_dir) {
  substitution r;
  std::string& out = r.value;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size();) {
    // Escape: `$${` stands for a literal `${`.
    if (text.compare(i, 3, "$${") == 0) {
      out += "${";
      i += 3;
      continue;
    }
    if (text.compare(i, 2, "${") != 0) {
      out += text[i++];
      continue;
    }
    auto close = text.find('}', i + 2);
    if (close == std::string_view::npos) {
      r.error = "unterminated '${'";
      r.hint = "close it with '}', or write '$${' for a literal '${'";
      return r;
    }
    auto inner = text.substr(i + 2, close - i - 2);
    i = close + 1;
    if (inner.substr(0, 5) == "file:") {
      auto name = inner.substr(5);
      if (name.empty()) {
        r.error = "empty file name in '${file:}'";
        r.hint = "write '${file:PATH}', PATH relative to the pipeline file's directory";
        return r;
      }
      std::filesystem::path p(name);
      if (p.is_relative())
        p = base_dir / p;
      std::string content;
      const auto status = read_whole(p, content);
      if (status == read_status::too_large) {
        r.error = "file '" + std::string(name) + "' for '${file:" + std::string(name) +
                  "}' is larger than 1 MiB";
        r.hint = "'${file:...}' is meant for a secret or a short value kept in a file of its own";
        return r;
      }
      if (status != read_status::ok) {
        r.error =
            "cannot read file '" + std::string(name) + "' for '${file:" + std::string(name) + "}'";
        r.hint = std::filesystem::path(name).is_relative()
                     ? "relative paths are read from the pipeline file's directory, here '" +
                           (base_dir.empty() ? std::string(".") : base_dir.string()) + "'"
                     : "check that the file exists and that wattline may read it";
        return r;
      }
      if (!content.empty() && content.back() == '\n') {
        content.pop_back();
        if (!content.empty() && content.back() == '\r')
          content.pop_back();
      }
      out += content;
      r.substituted = true;
      continue;
    }
    std::string_view name = inner;
    std::optional<std::string_view> fallback;
    if (auto sep = inner.find(":-"); sep != std::string_view::npos) {
      name = inner.substr(0, sep);
      fallback = inner.substr(sep + 2);
    }
    if (!valid_name(name)) {
      r.error = name.empty() ? std::string("empty variable name in '${}'")
                             : "invalid variable name '" + std::string(name) + "' in '${...}'";
      r.hint = "names are letters, digits and '_', not starting with a digit; write '$${' for a "
               "literal '${'";
      return r;
    }
    auto value = env ? env(std::string(name)) : std::nullopt;
    if (fallback && (!value || value->empty()))
      value = std::string(*fallback);
    if (!value) {
      const std::string var(name);
      r.error = "environment variable '" + var + "' is not set";
      r.hint = "set " + var + " in wattline's environment (export " + var +
               "=..., or Environment= in a systemd unit), or give a default: ${" + var + ":-value}";
      return r;
    }
    out += *value;
    r.substituted = true;
  }
  return r;
}

} // namespace wattline
