// libFuzzer entry point for the JSON Lines record reader (the `file` source's jsonl format). Also
// compiled into file_io_test (g++), which replays it over the golden file and seeded mutations.
//
// Input: one line. Checked invariants: nothing throws or crashes, and a line that reads as a
// record is written back by `to_json` into a line that reads as the same record.

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>
#include <variant>

#include "actors/file/jsonl.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace wattline;
  const std::string_view line(reinterpret_cast<const char*>(data), size);
  try {
    const auto first = file_io::parse_jsonl(line);
    const auto* r = std::get_if<record>(&first);
    if (r == nullptr)
      return 0;
    const auto again = file_io::parse_jsonl(file_io::to_json(*r));
    const auto* r2 = std::get_if<record>(&again);
    if (r2 == nullptr || file_io::to_json(*r2) != file_io::to_json(*r))
      std::abort();
  } catch (...) {
    std::abort(); // bad lines are reported as text, never thrown
  }
  return 0;
}
