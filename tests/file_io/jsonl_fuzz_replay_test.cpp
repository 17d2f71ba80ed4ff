// Runs the JSON Lines reader's libFuzzer entry point (tests/fuzz/jsonl_fuzz.cpp, compiled in with
// g++) over the golden file's lines and bounded, seeded mutations of them. The entry point aborts
// on a broken invariant, so passing means: no crash or exception, and every line that reads as a
// record survives a write and a second read unchanged.

#include <fstream>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

namespace wattline {
namespace {

int run(const std::string& line) {
  return LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t*>(line.data()), line.size());
}

std::vector<std::string> golden_lines() {
  std::ifstream in("tests/data/file_io/sample.golden.jsonl", std::ios::binary);
  std::vector<std::string> lines;
  for (std::string l; std::getline(in, l);)
    lines.push_back(l);
  return lines;
}

TEST(JsonlFuzzReplay, GoldenLinesAndSeededMutations) {
  const auto lines = golden_lines();
  ASSERT_EQ(lines.size(), 3u) << "run from the repository root";
  for (const auto& l : lines)
    ASSERT_EQ(run(l), 0);
  // Bytes and snippets that matter to JSON and to the record mapping.
  static constexpr std::string_view specials = "{}[],:\"\\-+.eE0123456789 nulltruefalse\x01\xC3";
  static const std::string_view snippets[] = {"null",        "1e999",
                                              "-0",          "18446744073709551616",
                                              "\"\\u0000\"", "\"\\ud800\"",
                                              "{}",          "[]",
                                              ",",           "\"time\":\"2025-13-01T00:00:00Z\"",
                                              "\"meta\":{}"};
  std::mt19937 rng(20261122);
  for (int round = 0; round < 3000; ++round)
    for (const auto& original : lines) {
      std::string t = original;
      const int edits = 1 + static_cast<int>(rng() % 3);
      for (int k = 0; k < edits && !t.empty(); ++k) {
        const size_t at = rng() % t.size();
        switch (rng() % 4) {
        case 0:
          t[at] = specials[rng() % specials.size()];
          break;
        case 1:
          t.insert(at, snippets[rng() % std::size(snippets)]);
          break;
        case 2:
          t.erase(at, 1 + rng() % 6);
          break;
        default:
          t[at] = static_cast<char>(rng());
          break;
        }
      }
      ASSERT_EQ(run(t), 0);
    }
}

} // namespace
} // namespace wattline
