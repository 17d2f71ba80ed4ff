// libFuzzer entry point for the pipeline loader (YAML parsing, `${...}` substitution, option
// checks, planning) over the config tests' fake components. Also compiled into config_test (g++),
// which replays it over the pipeline files of the repository and bounded seeded mutations.
//
// Input: the text of one pipeline file. Checked invariants: nothing throws or crashes; the loader
// returns a pipeline exactly when it reported no error; every diagnostic has a message and renders;
// and no message or hint contains the value of a substituted variable unless the input itself
// spells it out.

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <string>

#include "engine/config/loader.hpp"
#include "engine/diagnostic.hpp"

namespace {

constexpr const char* secret = "s3cr3t-Fuzz-Value-Q7";

std::optional<std::string> fuzz_env(const std::string& name) {
  if (name == "SECRET" || name == "S" || name == "PASSWORD")
    return std::string(secret);
  if (name == "PORT")
    return std::string("1883");
  if (name == "EMPTY")
    return std::string();
  return std::nullopt;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace wattline;
  const std::string text(reinterpret_cast<const char*>(data), size);
  diagnostics diags;
  std::optional<pipeline_spec> spec;
  try {
    spec = load_pipeline_texts({{"fuzz.yaml", text}}, diags, fuzz_env);
  } catch (...) {
    std::abort(); // the loader reports, it never throws
  }
  size_t errors = 0;
  for (const auto& d : diags.items())
    errors += d.level == severity::error;
  if (spec.has_value() == (errors > 0))
    std::abort();
  const bool spelled_out = text.find(secret) != std::string::npos;
  for (const auto& d : diags.items()) {
    if (d.message.empty() || render(d).empty())
      std::abort();
    if (!spelled_out &&
        (d.message.find(secret) != std::string::npos || d.hint.find(secret) != std::string::npos))
      std::abort();
  }
  return 0;
}
