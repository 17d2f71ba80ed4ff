// Golden tests of the rendered diagnostics: every case under tests/data/config/invalid/ is a
// pipeline file `<case>.yaml` (or a directory `<case>/` of files) with the exact expected output
// in `<case>.expected`. Paths are relative to the repository root, where the tests run.
// WATTLINE_UPDATE_GOLDEN=1 rewrites the .expected files from the current output.

#include "engine/config/loader.hpp"
#include "tests/config/config_test_support.hpp"
#include "tests/support/support.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>

namespace wattline {
namespace {

namespace fs = std::filesystem;

const char* cases_dir = "tests/data/config/invalid";

/// Case names: `<case>.yaml` files and `<case>/` directories.
std::vector<std::string> case_names() {
  std::vector<std::string> out;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(fs::path(WATTLINE_SOURCE_DIR) / cases_dir, ec)) {
    auto p = e.path();
    if (e.is_directory())
      out.push_back(p.filename().string());
    else if (p.extension() == ".yaml")
      out.push_back(p.stem().string());
  }
  std::sort(out.begin(), out.end());
  return out;
}

/// `unknown_option` -> `UnknownOption`, as test names have no underscores.
std::string camel(const std::string& s) {
  std::string out;
  bool upper = true;
  for (char c : s) {
    if (c == '_' || c == '-') {
      upper = true;
      continue;
    }
    out += upper ? static_cast<char>(std::toupper(static_cast<unsigned char>(c))) : c;
    upper = false;
  }
  return out;
}

class ConfigGolden : public testing::TestWithParam<std::string> {
protected:
  void SetUp() override {
    // Paths in the expected output are relative to the repository root.
    fs::current_path(WATTLINE_SOURCE_DIR);
  }
};

TEST_P(ConfigGolden, RendersExpectedDiagnostics) {
  const std::string name = GetParam();
  const std::string base = std::string(cases_dir) + "/" + name;
  const std::string input = fs::is_directory(base) ? base : base + ".yaml";
  // A fixed environment: the cases must not depend on the machine.
  auto env = test::fixed_env({{"WATTLINE_TEST_BROKER", "tcp://localhost:1883"},
                              {"WATTLINE_TEST_PASSWORD", "golden-secret-value"}});
  diagnostics diags;
  auto spec = load_pipelines({input}, diags, env);
  auto actual = test::render_all(diags);
  EXPECT_EQ(spec.has_value(), !diags.has_errors());
  EXPECT_EQ(actual.find("golden-secret-value"), std::string::npos);
  const std::string expected_path = base + ".expected";
  if (const char* update = std::getenv("WATTLINE_UPDATE_GOLDEN"); update && *update == '1') {
    std::ofstream(expected_path, std::ios::binary) << actual;
    GTEST_SKIP() << "updated " << expected_path;
  }
  ASSERT_TRUE(fs::exists(expected_path))
      << expected_path << " is missing; run with WATTLINE_UPDATE_GOLDEN=1. Output:\n"
      << actual;
  EXPECT_EQ(actual, test::read_file(expected_path)) << "case " << name;
}

INSTANTIATE_TEST_SUITE_P(Invalid, ConfigGolden, testing::ValuesIn(case_names()),
                         [](const testing::TestParamInfo<std::string>& info) {
                           return camel(info.param);
                         });

TEST(ConfigGoldenCases, CoverTheRequiredKinds) {
  auto names = case_names();
  for (const char* required :
       {"unknown_option", "unknown_type", "missing_required", "wrong_type", "out_of_range",
        "enum_violation", "duplicate_key", "duplicate_id", "unknown_input", "cycle",
        "kind_mismatch", "source_with_inputs", "sink_without_inputs", "missing_env", "missing_file",
        "syntax_error", "several_errors"})
    EXPECT_NE(std::find(names.begin(), names.end(), required), names.end()) << required;
}

} // namespace
} // namespace wattline
