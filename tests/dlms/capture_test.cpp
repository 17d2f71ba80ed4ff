// The committed demo capture examples/captures/demo-lge450.hdlc.hex decodes with the published
// demo keys into 60 plausible records across the 07:00 tariff switch.

#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

#include "tests/dlms/test_util.hpp"

namespace wattline::dlms::test {
namespace {

std::vector<uint8_t> read_capture() {
  std::ifstream in(std::string(WATTLINE_SOURCE_DIR) + "/examples/captures/demo-lge450.hdlc.hex");
  EXPECT_TRUE(in.good());
  std::string line, hex;
  while (std::getline(in, line))
    hex += line.substr(0, line.find('#')) + " ";
  return from_hex(hex);
}

double value(const record& r, const char* key) {
  const auto* f = r.find_field(key);
  EXPECT_NE(f, nullptr) << key;
  double d = 0;
  if (f != nullptr)
    (void)as_double(f->value, d);
  return d;
}

TEST(DlmsDemoCapture, DecodesSixtyEncryptedMessagesAcrossTheTariffSwitch) {
  const auto bytes = read_capture();
  ASSERT_FALSE(bytes.empty());
  options o;
  o.profile = "lge450";
  ASSERT_EQ(parse_key("000102030405060708090A0B0C0D0E0F", o.key), "");
  ASSERT_EQ(parse_key("D0D1D2D3D4D5D6D7D8D9DADBDCDDDEDF", o.auth_key), "");
  o.timezone = "Europe/Zurich";
  decoder dec(o);
  const auto r = feed_all(dec, bytes, chunking::random, 5);
  EXPECT_TRUE(r.errors.empty());
  ASSERT_EQ(r.records.size(), 60U);
  EXPECT_EQ(*r.records[0].tag("meter"), "LGZ1030000004242");
  // 16 characters, stored in the tag itself (a std::string would have allocated).
  EXPECT_TRUE(r.records[0].tag("meter")->is_inline());
  // 05:45:00 CET is 04:45:00 UTC.
  EXPECT_EQ(r.records[0].time_ns, parse_iso("2026-01-19T04:45:00"));
  EXPECT_EQ(r.records[1].time_ns - r.records[0].time_ns, 5'000'000'000LL);
  const int64_t seven = parse_iso("2026-01-19T06:00:00");
  for (size_t k = 1; k < r.records.size(); ++k) {
    const auto& a = r.records[k - 1];
    const auto& b = r.records[k];
    EXPECT_GT(b.time_ns, a.time_ns);
    EXPECT_GE(value(b, "ACTIVE_ENERGY_P"), value(a, "ACTIVE_ENERGY_P"));
    EXPECT_DOUBLE_EQ(value(b, "ACTIVE_ENERGY_P"),
                     value(b, "ACTIVE_ENERGY_P_T1") + value(b, "ACTIVE_ENERGY_P_T2"));
    // Only the low tariff register moves before 07:00 local, only the high one after.
    if (b.time_ns < seven) {
      EXPECT_EQ(value(b, "ACTIVE_ENERGY_P_T1"), value(a, "ACTIVE_ENERGY_P_T1"));
    } else if (a.time_ns >= seven) {
      EXPECT_EQ(value(b, "ACTIVE_ENERGY_P_T2"), value(a, "ACTIVE_ENERGY_P_T2"));
    }
  }
  EXPECT_GT(value(r.records.back(), "ACTIVE_ENERGY_P"), value(r.records[0], "ACTIVE_ENERGY_P"));
  EXPECT_GT(value(r.records.back(), "ACTIVE_ENERGY_P_T1"),
            value(r.records[0], "ACTIVE_ENERGY_P_T1"));
  EXPECT_GT(r.records.back().time_ns - r.records[0].time_ns, 2LL * 3600 * 1'000'000'000LL);
}

} // namespace
} // namespace wattline::dlms::test
