#pragma once

// Records shared by the file_io tests: every field type, extreme integers, unicode, metadata.

#include "engine/record.hpp"

#include <cstdint>
#include <limits>
#include <vector>

namespace wattline::file_io::test {

inline std::vector<record> sample_records() {
  record a;
  a.name = "smartmeter";
  a.time_ns = 1763740222123456789; // 2025-11-21T15:50:22.123456789Z
  a.tags = {{"meter", "m1"}, {"site", "Zürich, HQ"}};
  a.set_field("power_w", 1520.5).unit = "W";
  a.fields.back().obis = "1-0:1.7.0*255";
  a.set_field("energy_wh", int64_t{123456789}).unit = "Wh";
  a.set_field("counter", std::numeric_limits<uint64_t>::max());
  a.set_field("ok", true);
  a.set_field("fw", std::string("1.2 \"beta\"\n→ ünïcødé"));

  record b;
  b.name = "smartmeter";
  b.time_ns = 1763740223000000000; // whole second
  b.tags = {{"meter", "m2"}};
  b.set_field("energy_wh", std::numeric_limits<int64_t>::min());
  b.set_field("small_u", uint64_t{7});
  b.set_field("ratio", 0.1);
  b.set_field("whole", 2.0);
  b.set_field("off", false);

  record c;
  c.name = "plc";
  c.time_ns = 1763740223500000000; // .5 s
  c.tags = {};
  c.set_field("rate", 1e21);
  c.set_field("neg", -3.25e-7);
  return {a, b, c};
}

} // namespace wattline::file_io::test
