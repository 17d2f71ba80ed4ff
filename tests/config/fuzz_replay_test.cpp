// Runs the pipeline loader's libFuzzer entry point (tests/fuzz/config_fuzz.cpp, compiled in with
// g++) over the pipeline files of the repository and over bounded, seeded mutations of them. The
// entry point aborts on a broken invariant, so passing means: no crash or exception, a pipeline
// exactly when no error was reported, and no substituted value in any message.

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

namespace wattline {
namespace {

namespace fs = std::filesystem;

int run(const std::string& text) {
  return LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t*>(text.data()), text.size());
}

/// Every pipeline file of the repository: the shipped pipelines and the config test cases.
std::vector<std::string> corpus() {
  std::vector<fs::path> paths;
  for (const char* dir : {"pipelines", "tests/data/config"})
    for (const auto& e : fs::recursive_directory_iterator(dir))
      if (e.is_regular_file() &&
          (e.path().extension() == ".yaml" || e.path().extension() == ".yml"))
        paths.push_back(e.path());
  std::sort(paths.begin(), paths.end());
  std::vector<std::string> texts;
  for (const auto& p : paths) {
    std::ifstream in(p, std::ios::binary);
    std::ostringstream ss;
    ss << in.rdbuf();
    texts.push_back(ss.str());
  }
  return texts;
}

TEST(ConfigFuzzReplay, RepositoryPipelineFiles) {
  const auto texts = corpus();
  ASSERT_GE(texts.size(), 20u) << "run from the repository root";
  for (const auto& t : texts)
    EXPECT_EQ(run(t), 0);
}

TEST(ConfigFuzzReplay, SeededMutationsOfThePipelineFiles) {
  const auto texts = corpus();
  ASSERT_FALSE(texts.empty());
  // Bytes that matter to YAML and to substitution, besides random ones.
  static constexpr std::string_view specials = "{}[],:#&*!|>'\"%@`-?\t\n ${}\\";
  static const std::string_view snippets[] = {"${SECRET}", "${S:-x}", "${file:}", "${",
                                              "$${",       "${PORT}", "&a ",      "*a",
                                              "<<: *a\n",  "---\n",   "[[[[",     "{{"};
  std::mt19937 rng(20261121);
  size_t runs = 0;
  for (int round = 0; round < 400; ++round)
    for (const auto& original : texts) {
      if (original.empty())
        continue;
      std::string t = original;
      const int edits = 1 + static_cast<int>(rng() % 4);
      for (int k = 0; k < edits && !t.empty(); ++k) {
        const size_t at = rng() % t.size();
        switch (rng() % 5) {
        case 0:
          t[at] = static_cast<char>(rng());
          break;
        case 1:
          t[at] = specials[rng() % specials.size()];
          break;
        case 2:
          t.insert(at, snippets[rng() % std::size(snippets)]);
          break;
        case 3:
          t.erase(at, 1 + rng() % 8);
          break;
        default:
          t.resize(at);
          break;
        }
      }
      ASSERT_EQ(run(t), 0);
      ++runs;
    }
  EXPECT_GT(runs, 1000u);
}

} // namespace
} // namespace wattline
