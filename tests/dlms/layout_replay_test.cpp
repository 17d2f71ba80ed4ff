// Layout replay: a decoder that has decoded a notification body remembers its layout and decodes
// the next body with the same layout by comparing bytes and reading only the values. These tests
// prove that replay happens where it should and that its records are exactly the walk's: for
// real frames decoded twice, for changed values, for value-dependent decisions (non-finite
// numbers, invalid date-times) and for every single-byte change of a remembered body.

#include <cmath>
#include <limits>

#include <gtest/gtest.h>

#include "actors/dlms/cosem.hpp"
#include "actors/dlms/encoder.hpp"
#include "tests/dlms/test_util.hpp"

namespace wattline::dlms::test {
namespace {

constexpr obis_code code(uint8_t a, uint8_t b, uint8_t c, uint8_t d, uint8_t e) {
  return obis_code{a, b, c, d, e, 255};
}

cosem_datetime clock_at(uint8_t hour, uint8_t minute) {
  return cosem_datetime{2024, 3, 31, 7, hour, minute, 0, 0, cosem_datetime::unspecified_deviation,
                        0};
}

/// What a message's body varies in.
struct reading {
  cosem_datetime clock = clock_at(10, 15);
  uint32_t energy = 123456;
  int16_t power = -250;
  float current = 1.25F;
  uint16_t voltage = 2301;
  uint64_t counter = 77;
};

const std::vector<uint8_t> meter_id{'L', 'G', 'Z', '1', '0', '3', '0', '0',
                                    '0', '0', '0', '0', '4', '2', '4', '2'};

/// Shape B (flat OBIS / value / scaler-unit pairs with a bare date-time and id), as L+G meters
/// push it; `extra` appends one more register (another layout, same meter).
std::vector<uint8_t> shape_b(const reading& r, bool extra = false) {
  axdr_writer w;
  w.structure(extra ? 18 : 16);
  w.date_time(r.clock);
  w.obis(code(0, 0, 96, 1, 0)).octet_string(meter_id);
  w.obis(code(1, 0, 1, 8, 0)).uint32(r.energy).scaler_unit(0, 30);
  w.obis(code(1, 0, 16, 7, 0)).int16(r.power).scaler_unit(0, 27);
  w.obis(code(1, 0, 31, 7, 0)).float32(r.current);
  w.obis(code(1, 0, 32, 7, 0)).uint16(r.voltage).scaler_unit(-1, 35);
  w.obis(code(1, 0, 99, 1, 0)).uint64(r.counter);
  if (extra)
    w.obis(code(1, 0, 52, 7, 0)).uint16(2299);
  return encode_data_notification(7, std::nullopt, w.bytes());
}

/// Shape A (push-object list, then the values), as Iskra and L+G push setups send it.
std::vector<uint8_t> shape_a(const reading& r, bool extra = false) {
  axdr_writer w;
  const size_t n = extra ? 8 : 7;
  w.structure(n);
  w.array(n);
  w.structure(4).uint16(40).obis(code(0, 0, 25, 9, 0)).int8(2).uint16(0);
  w.structure(4).uint16(1).obis(code(0, 0, 96, 1, 0)).int8(2).uint16(0);
  w.structure(4).uint16(8).obis(code(0, 0, 1, 0, 0)).int8(2).uint16(0);
  w.structure(4).uint16(3).obis(code(1, 0, 1, 8, 0)).int8(2).uint16(0);
  w.structure(4).uint16(3).obis(code(1, 0, 16, 7, 0)).int8(2).uint16(0);
  w.structure(4).uint16(3).obis(code(1, 0, 31, 7, 0)).int8(2).uint16(0);
  w.structure(4).uint16(3).obis(code(1, 0, 32, 7, 0)).int8(2).uint16(0);
  if (extra)
    w.structure(4).uint16(3).obis(code(1, 0, 52, 7, 0)).int8(2).uint16(0);
  w.octet_string(meter_id);
  w.date_time(r.clock);
  w.uint32(r.energy);
  w.int16(r.power);
  w.float32(r.current);
  w.uint16(r.voltage);
  if (extra)
    w.uint16(2299);
  return encode_data_notification(9, std::nullopt, w.bytes());
}

options raw_options(bool replay = true) {
  options o;
  o.profile = "lge450";
  o.timezone = "Europe/Zurich";
  o.framing = transport::raw;
  o.replay_layouts = replay;
  return o;
}

/// Everything a decode produced, errors included, as comparable text.
std::string describe(const decode_result& r) {
  std::string s;
  for (const auto& rec : r.records) {
    s += "R " + rec.name + " " + std::to_string(rec.time_ns);
    for (const auto& [k, v] : rec.tags)
      s += " " + k.str() + "=" + v.str();
    s += "\n";
    for (const auto& f : rec.fields) {
      char value[64];
      std::snprintf(value, sizeof value, "%.17g", std::get<double>(f.value));
      s += "  " + f.key.str() + "|" + value + "|" + f.unit.str() + "|" + f.obis.str() + "\n";
    }
  }
  for (const auto& e : r.errors)
    s += "E " + std::string(error_name(e.kind)) + " " + e.message + "\n";
  return s;
}

TEST(DlmsLayoutReplay, EveryFrameDecodedTwiceGivesTheFirstRecordAgain) {
  uint64_t replayed = 0;
  for (size_t i = 0; i < frames().size(); ++i) {
    decoder dec(frame_options(i));
    const auto first = feed_all(dec, frame_bytes(i), chunking::whole);
    const auto second = feed_all(dec, frame_bytes(i), chunking::random, 5);
    ASSERT_EQ(describe(first), describe(second)) << "entry " << i;
    replayed += dec.stats().replayed;
    auto walk_opts = frame_options(i);
    walk_opts.replay_layouts = false;
    decoder walker(walk_opts);
    (void)feed_all(walker, frame_bytes(i), chunking::whole);
    ASSERT_EQ(describe(second), describe(feed_all(walker, frame_bytes(i), chunking::whole)))
        << "entry " << i;
    EXPECT_EQ(walker.stats().replayed, 0U);
  }
  EXPECT_GE(replayed, 5U);
}

TEST(DlmsLayoutReplay, EncryptedE450AndAm550PushesAreReplayed) {
  // Entry 14: L+G E450, GBT + general-glo-ciphering with tag (shape B); entry 11: Iskra AM550
  // over five HDLC segments (shape A).
  for (size_t i : {size_t{14}, size_t{11}}) {
    decoder dec(frame_options(i));
    const auto first = feed_all(dec, frame_bytes(i), chunking::whole);
    EXPECT_EQ(dec.stats().replayed, 0U);
    const auto second = feed_all(dec, frame_bytes(i), chunking::bytewise);
    EXPECT_EQ(dec.stats().replayed, 1U) << "entry " << i;
    ASSERT_EQ(first.records.size(), 1U);
    EXPECT_EQ(first.records, second.records);
  }
}

TEST(DlmsLayoutReplay, ChangedValuesAndClockAreReadFromTheNewBody) {
  for (auto make : {&shape_a, &shape_b}) {
    reading later;
    later.clock = clock_at(10, 30);
    later.energy = 123999;
    later.power = 1234;
    later.current = 0.5F;
    later.voltage = 2288;
    later.counter = 1ULL << 60;
    decoder dec(raw_options());
    (void)dec.feed(make(reading{}, false), receive_ns);
    const auto replayed = dec.feed(make(later, false), receive_ns + 1);
    EXPECT_EQ(dec.stats().replayed, 1U);
    decoder fresh(raw_options());
    const auto walked = fresh.feed(make(later, false), receive_ns + 1);
    EXPECT_EQ(fresh.stats().replayed, 0U);
    ASSERT_EQ(walked.records.size(), 1U);
    EXPECT_EQ(replayed.records, walked.records);
    // And the values are the new ones, not the remembered ones.
    const auto* energy = walked.records[0].find_field("ACTIVE_ENERGY_P");
    ASSERT_NE(energy, nullptr);
    EXPECT_EQ(std::get<double>(energy->value), 123999.0);
  }
}

TEST(DlmsLayoutReplay, AnotherLayoutIsWalkedAndRemembered) {
  decoder dec(raw_options());
  (void)dec.feed(shape_b(reading{}), receive_ns);
  const auto other = dec.feed(shape_b(reading{}, true), receive_ns);
  EXPECT_EQ(dec.stats().replayed, 0U);
  ASSERT_EQ(other.records.size(), 1U);
  EXPECT_NE(other.records[0].find_field("VOLTAGE_L2"), nullptr);
  (void)dec.feed(shape_b(reading{}, true), receive_ns);
  EXPECT_EQ(dec.stats().replayed, 1U);
}

TEST(DlmsLayoutReplay, ValueDependentDecisionsAreTakenAgain) {
  reading nan_current;
  nan_current.current = std::numeric_limits<float>::quiet_NaN();
  reading infinite_current;
  infinite_current.current = std::numeric_limits<float>::infinity();
  reading bad_clock;
  bad_clock.clock.month = 13;
  reading unspecified_clock;
  unspecified_clock.clock = cosem_datetime{};
  struct odd_case {
    reading r;
    bool walked; // whether the walk must decide (else replaying it is the same decision)
  };
  for (auto make : {&shape_a, &shape_b})
    for (const auto& [r, walked] :
         {odd_case{nan_current, true}, odd_case{infinite_current, true},
          odd_case{bad_clock, make == &shape_b}, odd_case{unspecified_clock, make == &shape_b}}) {
      // A clock value is taken as it is (its conversion comes later, as in the walk); a bare
      // date-time of shape B must convert to be one, so the walk decides.
      decoder dec(raw_options());
      (void)dec.feed(make(reading{}, false), receive_ns);
      const auto got = dec.feed(make(r, false), receive_ns);
      EXPECT_EQ(dec.stats().replayed, walked ? 0U : 1U);
      decoder walker(raw_options(false));
      (void)walker.feed(make(reading{}, false), receive_ns);
      const auto want = walker.feed(make(r, false), receive_ns);
      EXPECT_EQ(walker.stats().replayed, 0U);
      EXPECT_EQ(describe(got), describe(want));
      // A layout remembered again serves the next ordinary bodies.
      const auto before = dec.stats().replayed;
      (void)dec.feed(make(reading{}, false), receive_ns);
      (void)dec.feed(make(reading{}, false), receive_ns);
      EXPECT_GE(dec.stats().replayed - before, 1U);
    }
}

TEST(DlmsLayoutReplay, EveryIntegerTypeReplaysTheWalksValueAtItsExtremes) {
  // Shape B with one register of each integer type (scaled, so that the sign also reaches the
  // scaling), the last one a 1-byte value ending the body (fewer than 4 bytes after its tag).
  struct values {
    int8_t i8;
    uint8_t u8;
    int16_t i16;
    uint16_t u16;
    int32_t i32;
    uint32_t u32;
    uint8_t e8;
    int8_t last;
  };
  auto body = [](const values& v) {
    axdr_writer w;
    w.structure(25);
    w.date_time(clock_at(10, 15));
    w.obis(code(0, 0, 96, 1, 0)).octet_string(meter_id);
    w.obis(code(1, 0, 81, 7, 0)).int8(v.i8).scaler_unit(0, 8);
    w.obis(code(1, 0, 13, 7, 0)).uint8(v.u8).scaler_unit(-2, 255);
    w.obis(code(1, 0, 16, 7, 0)).int16(v.i16).scaler_unit(-1, 27);
    w.obis(code(1, 0, 32, 7, 0)).uint16(v.u16).scaler_unit(-1, 35);
    w.obis(code(1, 0, 36, 7, 0)).int32(v.i32).scaler_unit(-3, 27);
    w.obis(code(1, 0, 1, 8, 0)).uint32(v.u32).scaler_unit(0, 30);
    w.obis(code(0, 0, 96, 14, 0)).enumeration(v.e8);
    w.obis(code(1, 0, 56, 7, 0)).int8(v.last);
    return encode_data_notification(7, std::nullopt, w.bytes());
  };
  const values first{1, 2, 3, 4, 5, 6, 7, 8};
  size_t replayed = 0;
  for (const values& v : {values{-128, 255, -32768, 65535, INT32_MIN, UINT32_MAX, 255, -128},
                          values{127, 0, 32767, 0, INT32_MAX, 0, 0, 127},
                          values{-1, 128, -1, 32768, -1, 2147483648U, 1, -1},
                          values{-100, 17, -250, 2301, -123456789, 4408736, 3, -7}}) {
    decoder dec(raw_options());
    (void)dec.feed(body(first), receive_ns);
    const auto got = dec.feed(body(v), receive_ns);
    replayed += dec.stats().replayed;
    decoder walker(raw_options(false));
    (void)walker.feed(body(first), receive_ns);
    const auto want = walker.feed(body(v), receive_ns);
    ASSERT_EQ(got.records.size(), 1U) << describe(got);
    ASSERT_EQ(got.records[0].fields.size(), 8U) << describe(got);
    EXPECT_EQ(describe(got), describe(want));
  }
  EXPECT_EQ(replayed, 4U);
}

TEST(DlmsLayoutReplay, EveryByteChangeOfARememberedBodyDecodesAsTheWalkDoes) {
  size_t replays = 0;
  size_t walks = 0;
  for (auto make : {&shape_a, &shape_b}) {
    const auto good = make(reading{}, false);
    for (size_t at = 6; at < good.size(); ++at)
      for (uint8_t how : {0x01, 0x10, 0x80, 0xFF, 0x00, 0x7F}) {
        auto changed = good;
        changed[at] = how == 0x00 || how == 0x7F ? how : static_cast<uint8_t>(changed[at] ^ how);
        decoder dec(raw_options());
        (void)dec.feed(good, receive_ns);
        const auto got = dec.feed(changed, receive_ns);
        // The reference has seen the same message but walks every body.
        decoder walker(raw_options(false));
        (void)walker.feed(good, receive_ns);
        const auto want = walker.feed(changed, receive_ns);
        ASSERT_EQ(walker.stats().replayed, 0U);
        ASSERT_EQ(describe(got), describe(want)) << "byte " << at << " changed to " << int(how);
        (dec.stats().replayed == 1 ? replays : walks)++;
      }
  }
  // Value and clock bytes replay; OBIS codes, types, lengths, ids and scaler-units do not.
  EXPECT_GT(replays, 100U);
  EXPECT_GT(walks, 500U);
}

} // namespace
} // namespace wattline::dlms::test
