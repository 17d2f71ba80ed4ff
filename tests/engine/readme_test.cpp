// The README's component reference is generated from the registry: it must match what the
// binary describes, so docs never drift from the options that are actually validated.

#include "tests/support/support.hpp"

#include <gtest/gtest.h>

#include <cstdio>

namespace wattline::test {
namespace {

std::string run_capture(const std::string& command) {
  std::string out;
  FILE* pipe = ::popen(command.c_str(), "r");
  if (!pipe)
    return out;
  char buf[4096];
  for (std::size_t n; (n = std::fread(buf, 1, sizeof(buf), pipe)) > 0;)
    out.append(buf, n);
  ::pclose(pipe);
  return out;
}

TEST(Readme, ComponentReferenceMatchesDescribeOutput) {
  auto readme = read_file(std::filesystem::path(WATTLINE_SOURCE_DIR) / "README.md");
  const std::string begin = "<!-- BEGIN COMPONENT REFERENCE -->\n";
  const std::string end = "<!-- END COMPONENT REFERENCE -->";
  auto a = readme.find(begin);
  auto b = readme.find(end);
  ASSERT_NE(a, std::string::npos);
  ASSERT_NE(b, std::string::npos);
  auto section = readme.substr(a + begin.size(), b - a - begin.size());
  auto generated = run_capture(std::string(WATTLINE_BINARY_DIR) + "/wattline describe --markdown");
  ASSERT_FALSE(generated.empty());
  while (!generated.empty() && generated.back() == '\n')
    generated.pop_back();
  EXPECT_EQ(section, generated + "\n")
      << "README component reference is stale: run scripts/update-readme-reference.sh";
}

TEST(Readme, DescribeHidesTestOnlyComponentsAndSecretsAreMarked) {
  auto text = run_capture(std::string(WATTLINE_BINARY_DIR) + "/wattline describe");
  EXPECT_EQ(text.find("fail_every_batches"), std::string::npos);
  EXPECT_NE(text.find("dlms"), std::string::npos);
}

} // namespace
} // namespace wattline::test
