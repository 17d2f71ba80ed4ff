// Unit tests of the decoder's layers: CRC, HDLC, M-Bus, A-XDR, COSEM date-time, GBT reassembly,
// ciphering (wrong key vs missing key vs auth failure), options, payload shapes, id and time rules.

#include <cstring>
#include <limits>
#include <random>
#include <set>

#include <date/tz.h>

#include <gtest/gtest.h>

#include "actors/dlms/axdr.hpp"
#include "actors/dlms/cosem.hpp"
#include "actors/dlms/crc.hpp"
#include "actors/dlms/encoder.hpp"
#include "actors/dlms/hdlc.hpp"
#include "actors/dlms/mbus.hpp"
#include "actors/dlms/obis_map.hpp"
#include "tests/dlms/test_util.hpp"

namespace wattline::dlms::test {
namespace {

std::span<const uint8_t> as_bytes(std::string_view s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

cosem_datetime dt(int y, int mo, int d, int h, int mi, int s, int16_t dev, uint8_t status = 0) {
  cosem_datetime t;
  t.year = static_cast<uint16_t>(y);
  t.month = static_cast<uint8_t>(mo);
  t.day = static_cast<uint8_t>(d);
  t.weekday = 0xFF;
  t.hour = static_cast<uint8_t>(h);
  t.minute = static_cast<uint8_t>(mi);
  t.second = static_cast<uint8_t>(s);
  t.hundredths = 0;
  t.deviation = dev;
  t.status = status;
  return t;
}

int64_t utc_ns(int y, int mo, int d, int h, int mi, int s) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d", y, mo, d, h, mi, s);
  return parse_iso(buf);
}

constexpr uint8_t system_title[8] = {'L', 'G', 'Z', 0x67, 0x73, 0x00, 0x00, 0x01};

aes_key key_of(std::string_view hex) {
  std::optional<aes_key> k;
  EXPECT_EQ(parse_key(hex, k), "");
  return *k;
}

/// A flat (shape B) body: clock, then OBIS/uint32 pairs.
std::vector<uint8_t> flat_body(const std::vector<std::pair<obis_code, uint32_t>>& values,
                               std::optional<std::string> id = std::nullopt) {
  axdr_writer w;
  w.structure(values.size() * 2 + (id ? 2 : 0));
  if (id) {
    w.obis({0, 0, 96, 1, 0, 255});
    w.visible_string(*id);
  }
  for (const auto& [o, v] : values) {
    w.obis(o);
    w.uint32(v);
  }
  return w.take();
}

/// One unencrypted message in one HDLC frame.
std::vector<uint8_t> hdlc_message(std::span<const uint8_t> apdu) {
  return encode_hdlc_push({std::vector<uint8_t>(apdu.begin(), apdu.end())});
}

// ------------------------------------------------------------------------------------- CRC/HDLC

TEST(DlmsCrc16X25, CheckValueOf123456789Is906E) {
  EXPECT_EQ(crc16_x25(as_bytes("123456789")), 0x906E);
}

TEST(DlmsCrc16X25, RealE360HeaderChecksumMatches) {
  const uint8_t header[] = {0xA1, 0x60, 0xCF, 0x03, 0x13};
  EXPECT_EQ(crc16_x25(header), 0xFF3C);
}

TEST(DlmsCrc16X25, EveryLengthAndOffsetMatchesTheBitwiseDefinition) {
  // The carry-less-multiply folding (long inputs, when the CPU has it) and the table paths
  // against the plain bitwise CRC, over every length up to 700 and unaligned starts.
  std::mt19937 rng(42);
  std::vector<uint8_t> data(720);
  for (auto& b : data)
    b = static_cast<uint8_t>(rng());
  for (size_t offset = 0; offset < 16; offset += 5)
    for (size_t n = 0; offset + n <= 700; ++n) {
      uint32_t crc = 0xFFFF;
      for (size_t i = 0; i < n; ++i) {
        crc ^= data[offset + i];
        for (int bit = 0; bit < 8; ++bit)
          crc = (crc & 1U) ? (crc >> 1) ^ 0x8408U : crc >> 1;
      }
      ASSERT_EQ(crc16_x25(std::span<const uint8_t>(data).subspan(offset, n)), crc ^ 0xFFFFU)
          << "length " << n << " offset " << offset;
    }
}

TEST(DlmsHdlc, EncodedFrameParsesBackWithInfoAndSegmentationBit) {
  const uint8_t dest[] = {0x00, 0x02, 0x00, 0x23}; // 4-byte address
  const uint8_t src[] = {0x41};
  const uint8_t info[] = {1, 2, 3, 4, 5};
  const auto f = encode_hdlc(dest, src, 0x03, true, info);
  hdlc_frame out;
  ASSERT_EQ(parse_hdlc(f, out), hdlc_status::ok);
  EXPECT_TRUE(out.segmented);
  EXPECT_EQ(out.control, 0x03);
  EXPECT_EQ(std::vector<uint8_t>(out.info.begin(), out.info.end()),
            std::vector<uint8_t>(std::begin(info), std::end(info)));
  EXPECT_EQ(out.size, f.size() - 1);
}

TEST(DlmsHdlc, EveryPrefixNeedsMoreAndChecksumsAreVerified) {
  const uint8_t dest[] = {0xCE, 0xFF};
  const uint8_t src[] = {0x03};
  std::vector<uint8_t> info(40, 0x5A);
  const auto f = encode_hdlc(dest, src, 0x13, false, info);
  hdlc_frame out;
  for (size_t n = 1; n < f.size(); ++n)
    EXPECT_EQ(parse_hdlc(std::span<const uint8_t>(f).first(n), out), hdlc_status::need_more) << n;
  auto bad = f;
  bad[5] ^= 0x01; // control
  EXPECT_EQ(parse_hdlc(bad, out), hdlc_status::bad_hcs);
  bad = f;
  bad[20] ^= 0x80; // info
  EXPECT_EQ(parse_hdlc(bad, out), hdlc_status::bad_fcs);
  bad = f;
  bad.back() = 0x00;
  EXPECT_EQ(parse_hdlc(bad, out), hdlc_status::bad_flag);
  bad = f;
  bad[1] = 0x50; // not frame type 3
  EXPECT_EQ(parse_hdlc(bad, out), hdlc_status::not_a_frame);
}

TEST(DlmsHdlc, ControlFieldsCarryingDataAreUiAndIFrames) {
  EXPECT_TRUE(hdlc_carries_data(0x13));
  EXPECT_TRUE(hdlc_carries_data(0x03));
  EXPECT_TRUE(hdlc_carries_data(0x10));
  EXPECT_FALSE(hdlc_carries_data(0x93)); // SNRM
  EXPECT_FALSE(hdlc_carries_data(0x11)); // RR
}

TEST(DlmsMBus, LongFrameRoundTripsAndChecksumIsVerified) {
  const uint8_t data[] = {0x01, 0x67, 0x0F, 0x00};
  const auto f = encode_mbus(0x53, 0xFF, 0x10, data);
  mbus_frame out;
  ASSERT_EQ(parse_mbus(f, out), mbus_status::ok);
  EXPECT_EQ(out.ci, 0x10);
  EXPECT_EQ(out.data.size(), 4U);
  auto bad = f;
  bad[8] ^= 0x04;
  EXPECT_EQ(parse_mbus(bad, out), mbus_status::bad_checksum);
  bad = f;
  bad.back() = 0x17;
  EXPECT_EQ(parse_mbus(bad, out), mbus_status::bad_stop);
  EXPECT_EQ(parse_mbus(std::span<const uint8_t>(f).first(5), out), mbus_status::need_more);
}

// ------------------------------------------------------------------------------------- A-XDR

TEST(DlmsAxdr, DecodesEveryScalarType) {
  const auto in = from_hex("02 13"
                           "00 03 01 04 0C A5 50 05 FF FF FF FE 06 00 01 00 00"
                           "09 02 AB CD 0A 03 61 62 63 0C 02 C3 A9 0D 42 0F 80 10 FF 00"
                           "11 FF 12 12 34 14 FF FF FF FF FF FF FF FF 15 00 00 00 00 00 00 01 00"
                           "16 21 17 3F C0 00 00 18 40 09 21 FB 54 44 2D 18"
                           "19 07 E5 07 06 02 0E 3A 12 FF 80 00 81");
  std::vector<data_node> nodes;
  size_t pos = 0;
  ASSERT_EQ(parse_axdr(in, pos, nodes), axdr_status::ok);
  EXPECT_EQ(pos, in.size());
  ASSERT_EQ(nodes.size(), 20U);
  EXPECT_EQ(nodes[0].subtree, 20U);
  EXPECT_EQ(nodes[1].type, data_type::null_data);
  EXPECT_EQ(nodes[2].u, 1U);                         // boolean
  EXPECT_EQ(nodes[3].u, 12U);                        // bit-string: 12 bits
  EXPECT_EQ(nodes[3].count, 2U);                     //   in 2 bytes
  EXPECT_EQ(nodes[4].i, -2);                         // int32
  EXPECT_EQ(nodes[5].u, 65536U);                     // uint32
  EXPECT_EQ(node_bytes(in, nodes[6]).size(), 2U);    // octet-string
  EXPECT_EQ(nodes[7].count, 3U);                     // visible-string
  EXPECT_EQ(nodes[8].type, data_type::utf8_string);  // utf8-string
  EXPECT_EQ(nodes[9].u, 0x42U);                      // bcd
  EXPECT_EQ(nodes[10].i, -128);                      // int8
  EXPECT_EQ(nodes[11].i, -256);                      // int16
  EXPECT_EQ(nodes[12].u, 255U);                      // uint8
  EXPECT_EQ(nodes[13].u, 0x1234U);                   // uint16
  EXPECT_EQ(nodes[14].i, -1);                        // int64
  EXPECT_EQ(nodes[15].u, 256U);                      // uint64
  EXPECT_EQ(nodes[16].u, 33U);                       // enum
  EXPECT_DOUBLE_EQ(nodes[17].f, 1.5);                // float32
  EXPECT_NEAR(nodes[18].f, 3.14159265358979, 1e-12); // float64
  EXPECT_EQ(nodes[19].type, data_type::date_time);   // date-time (12 bytes)
  EXPECT_EQ(nodes[19].count, 12U);
  EXPECT_TRUE(is_numeric(nodes[14]));
  EXPECT_DOUBLE_EQ(numeric_value(nodes[14]), -1.0);
}

TEST(DlmsAxdr, DecodesDateTimeAndBerLengths) {
  auto in = from_hex("01 81 80");
  for (int k = 0; k < 128; ++k)
    in.push_back(0x00);
  std::vector<data_node> nodes;
  size_t pos = 0;
  ASSERT_EQ(parse_axdr(in, pos, nodes), axdr_status::ok);
  EXPECT_EQ(nodes[0].count, 128U);
  auto os = from_hex("09 82 01 00");
  os.resize(4 + 256, 0x11);
  nodes.clear();
  pos = 0;
  ASSERT_EQ(parse_axdr(os, pos, nodes), axdr_status::ok);
  EXPECT_EQ(nodes[0].count, 256U);
  const auto d = from_hex("1A 07 E5 07 06 02 1B 0E 3A 12 FF");
  nodes.clear();
  pos = 0;
  ASSERT_EQ(parse_axdr(d, pos, nodes), axdr_status::ok);
  ASSERT_EQ(parse_axdr(d, pos, nodes), axdr_status::ok);
  EXPECT_EQ(pos, d.size());
  EXPECT_EQ(nodes[0].type, data_type::date);
  EXPECT_EQ(nodes[1].type, data_type::time);
}

TEST(DlmsAxdr, DecodesCompactArrayOfStructures) {
  // compact-array of structure {uint16, int8} with 3 elements.
  const auto in = from_hex("13 02 02 12 0F 09 00 01 FF 00 02 FE 00 03 FD");
  std::vector<data_node> nodes;
  size_t pos = 0;
  ASSERT_EQ(parse_axdr(in, pos, nodes), axdr_status::ok);
  EXPECT_EQ(pos, in.size());
  EXPECT_EQ(nodes[0].type, data_type::compact_array);
  EXPECT_EQ(nodes[0].count, 3U);
  EXPECT_EQ(nodes[1].type, data_type::structure);
  EXPECT_EQ(nodes[2].u, 1U);
  EXPECT_EQ(nodes[3].i, -1);
  EXPECT_EQ(nodes[9].i, -3);
}

TEST(DlmsAxdr, ReportsTruncatedAndMalformedInput) {
  std::vector<data_node> nodes;
  size_t pos = 0;
  EXPECT_EQ(parse_axdr(from_hex("06 00 00"), pos, nodes), axdr_status::truncated);
  pos = 0;
  EXPECT_EQ(parse_axdr(from_hex("02 03 11 01"), pos, nodes), axdr_status::truncated);
  pos = 0;
  EXPECT_EQ(parse_axdr(from_hex("07 00"), pos, nodes), axdr_status::malformed);
  pos = 0;
  EXPECT_EQ(parse_axdr(from_hex("09 85 00 00 00 00 01"), pos, nodes), axdr_status::malformed);
  pos = 0;
  EXPECT_EQ(parse_axdr(from_hex("13 00 05 00 00 00 00 00"), pos, nodes), axdr_status::malformed);
  std::vector<uint8_t> deep;
  for (int k = 0; k < 100; ++k) {
    deep.push_back(0x02);
    deep.push_back(0x01);
  }
  deep.push_back(0x00);
  pos = 0;
  EXPECT_EQ(parse_axdr(deep, pos, nodes), axdr_status::malformed);
}

// ------------------------------------------------------------------------------------- OBIS

TEST(DlmsObis, FormatsAndParsesAllNotations) {
  const obis_code o{1, 1, 32, 7, 0, 255};
  EXPECT_EQ(o.to_string(), "1-1:32.7.0*255");
  EXPECT_EQ(o.short_string(), "32.7.0");
  EXPECT_EQ(obis_code::parse("1-1:32.7.0*255"), o);
  EXPECT_EQ(obis_code::parse("1.1.32.7.0.255"), o);
  EXPECT_EQ(obis_code::parse("1-1:32.7.0"), o);
  EXPECT_EQ(obis_code::parse("32.7.0"), (obis_code{1, 0, 32, 7, 0, 255}));
  EXPECT_FALSE(obis_code::parse("1-1:32.7"));
  EXPECT_FALSE(obis_code::parse("1-1:32.7.0*256"));
}

TEST(DlmsObisMap, FindRegisterAgreesWithAScanOfTheMap) {
  // The hashed lookup against the first map entry with the same C.D.E.
  const auto map = register_map();
  for (unsigned c = 0; c < 256; ++c)
    for (unsigned d = 0; d < 256; ++d)
      for (unsigned e : {0U, 1U, 2U, 3U, 4U, 5U, 6U, 7U, 8U, 9U, 10U, 128U, 255U}) {
        const register_info* expected = nullptr;
        for (const auto& r : map)
          if (r.c == c && r.d == d && r.e == e) {
            expected = &r;
            break;
          }
        ASSERT_EQ(find_register(static_cast<uint8_t>(c), static_cast<uint8_t>(d),
                                static_cast<uint8_t>(e)),
                  expected)
            << c << "." << d << "." << e;
      }
  for (const auto& r : map)
    EXPECT_NE(find_register(r.c, r.d, r.e), nullptr);
}

TEST(DlmsObisMap, ReactiveQuantitiesUseVarAndVarh) {
  EXPECT_EQ(find_register(3, 7, 0)->unit, "var");
  EXPECT_EQ(find_register(8, 8, 2)->unit, "varh");
  EXPECT_EQ(find_register(8, 8, 2)->identifier, "REACTIVE_ENERGY_Q4_T2");
  EXPECT_DOUBLE_EQ(find_register(71, 7, 0)->factor, 0.01);
  EXPECT_EQ(find_register(96, 1, 0), nullptr);
  EXPECT_EQ(unit_name(29), "var");
  EXPECT_EQ(unit_name(32), "varh");
  EXPECT_EQ(unit_name(255), "");
}

// ------------------------------------------------------------------------------------- time

TEST(DlmsCosemDateTime, UtcConvertibleAgreesWithToUtcNs) {
  size_t convertible = 0;
  for (unsigned year :
       {1969U, 1970U, 1971U, 1900U, 2000U, 2023U, 2024U, 2100U, 2200U, 2201U, 0xFFFFU})
    for (unsigned month : {0U, 1U, 2U, 3U, 4U, 6U, 9U, 11U, 12U, 13U, 0xFDU, 0xFEU, 0xFFU})
      for (unsigned day = 0; day < 34; ++day)
        for (unsigned hour : {0U, 23U, 24U, 0xFFU})
          for (unsigned minute : {0U, 59U, 60U})
            for (unsigned second : {0U, 59U, 60U, 0xFFU})
              for (unsigned hundredths : {0U, 99U, 100U, 0xFFU})
                for (int deviation : {-32768, -901, -900, 0, 60, 900, 901, 32767}) {
                  cosem_datetime dt;
                  dt.year = static_cast<uint16_t>(year);
                  dt.month = static_cast<uint8_t>(month);
                  dt.day = static_cast<uint8_t>(day == 33 ? 0xFF : day);
                  dt.hour = static_cast<uint8_t>(hour);
                  dt.minute = static_cast<uint8_t>(minute);
                  dt.second = static_cast<uint8_t>(second);
                  dt.hundredths = static_cast<uint8_t>(hundredths);
                  dt.deviation = static_cast<int16_t>(deviation);
                  const bool expected = to_utc_ns(dt, nullptr).has_value();
                  convertible += expected ? 1 : 0;
                  ASSERT_EQ(utc_convertible(dt), expected)
                      << year << "-" << month << "-" << day << " " << hour << ":" << minute << ":"
                      << second << "." << hundredths << " dev " << deviation;
                }
  EXPECT_GT(convertible, 0U);
}

TEST(DlmsCosemDateTime, SpecifiedDeviationGivesUtcAsLocalPlusDeviation) {
  // Iskra: local 06:19:45 with deviation -120 (CEST) is 04:19:45 UTC.
  EXPECT_EQ(to_utc_ns(dt(2020, 8, 15, 6, 19, 45, -120, 0x80), nullptr),
            utc_ns(2020, 8, 15, 4, 19, 45));
  // Kaifa: -60 in winter.
  EXPECT_EQ(to_utc_ns(dt(2022, 11, 12, 16, 54, 0, -60), nullptr), utc_ns(2022, 11, 12, 15, 54, 0));
}

TEST(DlmsCosemDateTime, UnspecifiedDeviationUsesConfiguredZoneSummerAndWinter) {
  const auto* zurich = date::locate_zone("Europe/Zurich");
  const int16_t none = cosem_datetime::unspecified_deviation;
  EXPECT_EQ(to_utc_ns(dt(2021, 7, 6, 14, 58, 18, none), zurich), utc_ns(2021, 7, 6, 12, 58, 18));
  EXPECT_EQ(to_utc_ns(dt(2022, 2, 23, 21, 36, 0, none), zurich), utc_ns(2022, 2, 23, 20, 36, 0));
  EXPECT_EQ(to_utc_ns(dt(2022, 2, 23, 21, 36, 0, none), nullptr), utc_ns(2022, 2, 23, 21, 36, 0));
}

TEST(DlmsCosemDateTime, AmbiguousWallTimeAtDstEndResolvesWithStatusBit) {
  const auto* zurich = date::locate_zone("Europe/Zurich");
  const int16_t none = cosem_datetime::unspecified_deviation;
  // 2023-10-29 02:30 happens twice: 00:30Z (CEST, DST bit) and 01:30Z (CET).
  EXPECT_EQ(to_utc_ns(dt(2023, 10, 29, 2, 30, 0, none, 0x80), zurich),
            utc_ns(2023, 10, 29, 0, 30, 0));
  EXPECT_EQ(to_utc_ns(dt(2023, 10, 29, 2, 30, 0, none, 0x00), zurich),
            utc_ns(2023, 10, 29, 1, 30, 0));
}

TEST(DlmsCosemDateTime, NonexistentWallTimeAtDstStartMapsToTransition) {
  const auto* zurich = date::locate_zone("Europe/Zurich");
  // 2023-03-26 02:30 does not exist in Zurich; clocks jump 02:00 -> 03:00 (01:00Z).
  EXPECT_EQ(to_utc_ns(dt(2023, 3, 26, 2, 30, 0, cosem_datetime::unspecified_deviation), zurich),
            utc_ns(2023, 3, 26, 1, 0, 0));
}

TEST(DlmsCosemDateTime, ZoneOffsetCacheGivesTheSameTimesAcrossDstChanges) {
  // Every 10 minutes through both 2023 DST changes in Zurich and Lord Howe (30-minute DST),
  // forwards and backwards (so that each period is cached when its neighbour's edge is asked for),
  // with both DST status bits: the cached conversion equals the uncached one.
  const int16_t none = cosem_datetime::unspecified_deviation;
  constexpr int span = 3 * 24 * 60;
  for (const char* name : {"Europe/Zurich", "Australia/Lord_Howe"}) {
    const auto* zone = date::locate_zone(name);
    zone_offset_cache cache;
    for (const auto& [month, day] :
         {std::pair{3, 25}, std::pair{10, 28}, std::pair{4, 1}, std::pair{10, 1}}) {
      for (int step = 0; step < 2 * span; step += 10) {
        const int minute = step < span ? step : 2 * span - 10 - step;
        for (uint8_t status : {uint8_t{0x00}, uint8_t{0x80}}) {
          const int d = day + minute / (24 * 60);
          const auto t = dt(2023, month, d, minute / 60 % 24, minute % 60, 0, none, status);
          EXPECT_EQ(to_utc_ns(t, zone, cache), to_utc_ns(t, zone))
              << name << " " << month << "-" << d << " minute " << minute % (24 * 60);
        }
      }
    }
  }
}

TEST(DlmsCosemDateTime, DayCacheGivesTheSameTimesOnEveryDateAndRejectsInvalidOnes) {
  // One cache through every day number 1 .. 31 of every month of 1999 .. 2101 (invalid dates
  // such as 2023-02-29 or 2100-02-29 among them), each date followed by the same day in another
  // month, another year and another century's year (a cache keyed on less than the whole date
  // would hit), then by itself (a hit), also with a specified deviation: the cached conversion
  // equals the uncached one.
  const auto* zurich = date::locate_zone("Europe/Zurich");
  const int16_t none = cosem_datetime::unspecified_deviation;
  zone_offset_cache cache;
  int valid = 0;
  auto check = [&](int year, int month, int day, int16_t deviation) {
    const auto t = dt(year, month, day, 12, 0, 1, deviation);
    const auto expected = to_utc_ns(t, zurich);
    EXPECT_EQ(to_utc_ns(t, zurich, cache), expected) << year << "-" << month << "-" << day;
    return expected.has_value();
  };
  for (int year = 1999; year <= 2101; ++year)
    for (int month = 1; month <= 12; ++month)
      for (int day = 1; day <= 31; ++day) {
        valid += check(year, month, day, none);
        check(year, month % 12 + 1, day, none);
        check(year, month, day, none);
        check(year + 1, month, day, none);
        check(year, month, day, -60);
        check(year < 2100 ? year + 100 : year - 100, month, day, none);
        check(year, month, day, none);
      }
  EXPECT_EQ(valid, 37620); // days from 1999-01-01 to 2101-12-31
}

TEST(DlmsCosemDateTime, WildcardsAndInvalidFieldsGiveNoTime) {
  auto t = dt(2023, 1, 1, 0, 0, 0, 0);
  t.year = 0xFFFF;
  EXPECT_FALSE(to_utc_ns(t, nullptr));
  t = dt(2023, 2, 30, 0, 0, 0, 0);
  EXPECT_FALSE(to_utc_ns(t, nullptr));
  t = dt(2023, 0xFE, 1, 0, 0, 0, 0); // DST begin marker
  EXPECT_FALSE(to_utc_ns(t, nullptr));
  t = dt(2023, 1, 1, 24, 0, 0, 0);
  EXPECT_FALSE(to_utc_ns(t, nullptr));
  t = dt(2023, 6, 6, 17, 31, 20, -120);
  t.hundredths = 18;
  EXPECT_EQ(to_utc_ns(t, nullptr), utc_ns(2023, 6, 6, 15, 31, 20) + 180000000);
}

TEST(DlmsCosemDateTime, EncodesAndParsesBack) {
  const auto t = dt(2026, 3, 12, 15, 24, 30, -60, 0x80);
  const auto b = encode_datetime(t);
  EXPECT_EQ(parse_datetime(b), t);
}

TEST(DlmsDataNotification, EveryDateTimeEncodingInTheHeaderIsUnderstood) {
  const auto body = flat_body({{{1, 0, 1, 7, 0, 255}, 100}});
  const std::string dt_bytes = "07E7060602111F1400FF8880"; // 2023-06-06 17:31:20 dev -120
  options o;
  o.timezone = "UTC";
  for (const std::string prefix : {"0C", "090C", "19"}) {
    auto apdu = from_hex("0F 00000001" + prefix + dt_bytes);
    apdu.insert(apdu.end(), body.begin(), body.end());
    decoder dec(o);
    const auto r = dec.feed(hdlc_message(apdu), receive_ns);
    ASSERT_EQ(r.records.size(), 1U) << prefix;
    EXPECT_EQ(r.records[0].time_ns, utc_ns(2023, 6, 6, 15, 31, 20)) << prefix;
  }
  auto apdu = from_hex("0F 40000000 00");
  apdu.insert(apdu.end(), body.begin(), body.end());
  decoder dec(o);
  const auto r = dec.feed(hdlc_message(apdu), receive_ns);
  ASSERT_EQ(r.records.size(), 1U);
  EXPECT_EQ(r.records[0].time_ns, receive_ns);
}

// ------------------------------------------------------------------------------------- GBT

std::vector<std::vector<uint8_t>> gbt_frames(uint32_t invoke_id, uint32_t energy) {
  const auto body = flat_body(
      {{{1, 0, 1, 8, 0, 255}, energy}, {{1, 0, 1, 7, 0, 255}, 500}, {{1, 0, 2, 7, 0, 255}, 0}},
      "LGZ1");
  const auto apdu = encode_data_notification(invoke_id, dt(2024, 1, 1, 12, 0, 0, 0), body);
  auto blocks = encode_gbt(apdu, 16);
  std::vector<std::vector<uint8_t>> frames;
  bool first = true;
  for (auto& b : blocks) {
    std::vector<uint8_t> info;
    if (first)
      info = {0xE6, 0xE7, 0x00};
    info.insert(info.end(), b.begin(), b.end());
    static constexpr uint8_t dest[] = {0xCE, 0xFF};
    static constexpr uint8_t src[] = {0x03};
    frames.push_back(encode_hdlc(dest, src, 0x13, false, info));
    first = false;
  }
  return frames;
}

decode_result feed_frames(decoder& dec, const std::vector<std::vector<uint8_t>>& frames,
                          const std::vector<size_t>& order) {
  decode_result r;
  for (size_t k : order)
    dec.feed(frames[k], receive_ns, r);
  return r;
}

options utc_options() {
  options o;
  o.timezone = "UTC";
  return o;
}

TEST(DlmsGeneralBlockTransfer, ReassemblesBlocksInOrder) {
  const auto f = gbt_frames(1, 1000);
  ASSERT_GE(f.size(), 4U);
  decoder dec(utc_options());
  std::vector<size_t> order(f.size());
  for (size_t k = 0; k < f.size(); ++k)
    order[k] = k;
  const auto r = feed_frames(dec, f, order);
  ASSERT_EQ(r.records.size(), 1U);
  EXPECT_EQ(std::get<double>(r.records[0].find_field("ACTIVE_ENERGY_P")->value), 1000.0);
  EXPECT_TRUE(r.errors.empty());
}

TEST(DlmsGeneralBlockTransfer, GapDropsMessageAndNextBlockOneStartsAgain) {
  const auto a = gbt_frames(1, 1000);
  const auto b = gbt_frames(2, 2000);
  decoder dec(utc_options());
  std::vector<size_t> skip_second;
  for (size_t k = 0; k < a.size(); ++k)
    if (k != 1)
      skip_second.push_back(k);
  auto r = feed_frames(dec, a, skip_second);
  EXPECT_TRUE(r.records.empty());
  EXPECT_TRUE(has_error(r, error_kind::gbt_gap));
  std::vector<size_t> all(b.size());
  for (size_t k = 0; k < b.size(); ++k)
    all[k] = k;
  r = feed_frames(dec, b, all);
  ASSERT_EQ(r.records.size(), 1U);
  EXPECT_EQ(std::get<double>(r.records[0].find_field("ACTIVE_ENERGY_P")->value), 2000.0);
  EXPECT_EQ(dec.stats().count(error_kind::gbt_gap), 1U);
}

TEST(DlmsGeneralBlockTransfer, DuplicateDropsMessageAndNextMessageDecodes) {
  const auto a = gbt_frames(1, 1000);
  const auto b = gbt_frames(2, 2000);
  decoder dec(utc_options());
  std::vector<size_t> dup{0, 1, 1};
  for (size_t k = 2; k < a.size(); ++k)
    dup.push_back(k);
  auto r = feed_frames(dec, a, dup);
  EXPECT_TRUE(r.records.empty());
  EXPECT_TRUE(has_error(r, error_kind::gbt_duplicate));
  EXPECT_FALSE(has_error(r, error_kind::gbt_gap)); // the rest of the message is discarded quietly
  std::vector<size_t> all(b.size());
  for (size_t k = 0; k < b.size(); ++k)
    all[k] = k;
  r = feed_frames(dec, b, all);
  ASSERT_EQ(r.records.size(), 1U);
  EXPECT_EQ(dec.stats().count(error_kind::gbt_duplicate), 1U);
}

TEST(DlmsGeneralBlockTransfer, BlockOneBeforeLastBlockReportsIncomplete) {
  const auto a = gbt_frames(1, 1000);
  decoder dec(utc_options());
  std::vector<size_t> order{0, 1};
  for (size_t k = 0; k < a.size(); ++k)
    order.push_back(k);
  const auto r = feed_frames(dec, a, order);
  ASSERT_EQ(r.records.size(), 1U);
  EXPECT_TRUE(has_error(r, error_kind::gbt_incomplete));
}

// ------------------------------------------------------------------------------------- crypto

TEST(DlmsCiphering, GreenBookVectorEncryptsToPublishedCiphertextAndTag) {
  const auto ek = key_of("000102030405060708090A0B0C0D0E0F");
  const auto ak = key_of("D0D1D2D3D4D5D6D7D8D9DADBDCDDDEDF");
  const auto st = from_hex("4D4D4D0000BC614E");
  const auto plain = from_hex("C0010000080000010000FF0200");
  const auto apdu = encode_ciphered(0xDB, std::span<const uint8_t, 8>(st.data(), 8), 0x30,
                                    0x01234567, plain, ek, ak);
  ASSERT_FALSE(apdu.empty());
  const auto expected = from_hex("411312FF935A47566827C467BC7D825C3BE4A77C3FCC056B6B");
  ASSERT_GE(apdu.size(), expected.size());
  EXPECT_EQ(std::vector<uint8_t>(apdu.end() - static_cast<ptrdiff_t>(expected.size()), apdu.end()),
            expected);
  // And the decrypting side verifies the tag and recovers the plaintext.
  ciphered_apdu c;
  ASSERT_EQ(parse_ciphered(apdu, c), apdu_status::ok);
  aes_gcm gcm(ek);
  std::vector<uint8_t> out(c.payload.size());
  std::vector<uint8_t> aad{0x30};
  aad.insert(aad.end(), ak.begin(), ak.end());
  ASSERT_TRUE(gcm.decrypt_verify(make_iv(c.system_title, c.invocation_counter), aad, c.payload,
                                 c.auth_tag, out.data()));
  EXPECT_EQ(out, plain);
  std::vector<uint8_t> ctr(c.payload.size());
  ASSERT_TRUE(
      gcm.decrypt_ctr(make_iv(c.system_title, c.invocation_counter), c.payload, ctr.data()));
  EXPECT_EQ(ctr, plain);
}

TEST(DlmsCiphering, LibraryVectorDecryptsToDataNotificationWithVerifiedTag) {
  const auto& e = frames().at(23);
  const auto apdu = frame_bytes(23);
  ciphered_apdu c;
  ASSERT_EQ(parse_ciphered(apdu, c), apdu_status::ok);
  EXPECT_EQ(from_hex("2F19229199164103"),
            std::vector<uint8_t>(c.system_title.begin(), c.system_title.end()));
  const auto k = key_of(e.at("key").get<std::string>());
  aes_gcm gcm(k);
  std::vector<uint8_t> out(c.payload.size());
  std::vector<uint8_t> aad{c.security_control};
  aad.insert(aad.end(), k.begin(), k.end());
  ASSERT_TRUE(gcm.decrypt_verify(make_iv(c.system_title, c.invocation_counter), aad, c.payload,
                                 c.auth_tag, out.data()));
  EXPECT_EQ(out, from_hex(e.at("expected").at("derived").at("plaintext").get<std::string>()));
}

TEST(DlmsCiphering, MissingKeyIsReportedAsNoKey) {
  auto o = frame_options(14);
  o.key.reset();
  o.auth_key.reset();
  decoder dec(o);
  const auto r = feed_all(dec, frame_bytes(14), chunking::whole);
  EXPECT_TRUE(r.records.empty());
  ASSERT_TRUE(has_error(r, error_kind::no_key));
  EXPECT_NE(r.errors.back().message.find("encrypted, no key configured"), std::string::npos);
  EXPECT_EQ(dec.stats().count(error_kind::no_key), 1U);
}

TEST(DlmsCiphering, WrongKeyIsReportedAsWrongKeyWithAndWithoutAuthKey) {
  for (bool with_ak : {false, true}) {
    auto o = frame_options(14);
    o.key = key_of("000102030405060708090A0B0C0D0E0F");
    if (!with_ak)
      o.auth_key.reset();
    decoder dec(o);
    const auto r = feed_all(dec, frame_bytes(14), chunking::whole);
    EXPECT_TRUE(r.records.empty());
    ASSERT_TRUE(has_error(r, error_kind::wrong_key)) << with_ak;
    EXPECT_NE(r.errors.back().message.find("wrong key"), std::string::npos);
    EXPECT_FALSE(has_error(r, error_kind::auth_failed));
  }
}

TEST(DlmsCiphering, WrongAuthKeyIsAuthFailureNotData) {
  auto o = frame_options(14);
  o.auth_key = key_of("D0D1D2D3D4D5D6D7D8D9DADBDCDDDEDF");
  decoder dec(o);
  const auto r = feed_all(dec, frame_bytes(14), chunking::whole);
  EXPECT_TRUE(r.records.empty());
  EXPECT_TRUE(has_error(r, error_kind::auth_failed));
  EXPECT_FALSE(has_error(r, error_kind::wrong_key));
}

TEST(DlmsCiphering, RightKeyWithoutAuthKeyDecryptsWithoutTagCheck) {
  auto o = frame_options(14);
  o.auth_key.reset();
  decoder dec(o);
  const auto r = feed_all(dec, frame_bytes(14), chunking::whole);
  ASSERT_EQ(r.records.size(), 1U);
  EXPECT_TRUE(r.errors.empty());
}

TEST(DlmsCiphering, ErrorMessagesNeverContainKeyMaterial) {
  const std::string ek = "000102030405060708090A0B0C0D0E0F";
  const std::string ak = "D0D1D2D3D4D5D6D7D8D9DADBDCDDDEDF";
  auto o = frame_options(14);
  o.key = key_of(ek);
  o.auth_key = key_of(ak);
  decoder dec(o);
  auto r = feed_all(dec, frame_bytes(14), chunking::whole);
  auto o2 = frame_options(14);
  o2.auth_key = key_of(ak);
  decoder dec2(o2);
  auto r2 = feed_all(dec2, frame_bytes(14), chunking::whole);
  r.errors.insert(r.errors.end(), r2.errors.begin(), r2.errors.end());
  ASSERT_FALSE(r.errors.empty());
  const std::string real_ek = frames().at(14).at("key").get<std::string>();
  const std::string real_ak = frames().at(14).at("auth_key").get<std::string>();
  for (const auto& e : r.errors)
    for (const auto& secret : {ek, ak, real_ek, real_ak}) {
      std::string lower = secret;
      for (auto& ch : lower)
        ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
      EXPECT_EQ(e.message.find(secret), std::string::npos);
      EXPECT_EQ(e.message.find(lower), std::string::npos);
      EXPECT_EQ(e.message.find(secret.substr(0, 8)), std::string::npos);
    }
}

std::vector<uint8_t> encrypted_message(uint8_t tag, uint8_t sc, const aes_key& ek,
                                       const std::optional<aes_key>& ak, uint32_t energy) {
  const auto body = flat_body({{{1, 0, 1, 8, 0, 255}, energy}}, "KFM1");
  const auto apdu = encode_data_notification(7, dt(2024, 1, 1, 12, 0, 0, 0), body);
  return encode_ciphered(tag, system_title, sc, 42, apdu, ek, ak);
}

TEST(DlmsCiphering, SecurityControlVariantsAndDedicatedCipheringDecode) {
  const auto ek = key_of("101112131415161718191A1B1C1D1E1F");
  const auto ak = key_of("202122232425262728292A2B2C2D2E2F");
  struct variant {
    uint8_t tag, sc;
  };
  for (const auto v : {variant{0xDB, 0x30}, variant{0xDB, 0x20}, variant{0xDB, 0x21},
                       variant{0xDB, 0x10}, variant{0xDC, 0x30}}) {
    const auto apdu = encrypted_message(v.tag, v.sc, ek, ak, 4711);
    ASSERT_FALSE(apdu.empty());
    for (bool with_ak : {false, true}) {
      options o = utc_options();
      o.key = ek;
      if (with_ak)
        o.auth_key = ak;
      decoder dec(o);
      const auto r = dec.feed(hdlc_message(apdu), receive_ns);
      ASSERT_EQ(r.records.size(), 1U) << int(v.tag) << " " << int(v.sc) << " " << with_ak;
      EXPECT_EQ(std::get<double>(r.records[0].find_field("ACTIVE_ENERGY_P")->value), 4711.0);
    }
  }
}

TEST(DlmsCiphering, TamperedCiphertextFailsTagCheckWhenAuthKeyIsSet) {
  const auto ek = key_of("101112131415161718191A1B1C1D1E1F");
  const auto ak = key_of("202122232425262728292A2B2C2D2E2F");
  for (uint8_t sc : {uint8_t{0x30}, uint8_t{0x10}}) {
    auto apdu = encrypted_message(0xDB, sc, ek, ak, 4711);
    apdu[apdu.size() - 20] ^= 0x01; // inside the payload; HDLC CRCs are computed afterwards
    options o = utc_options();
    o.key = ek;
    o.auth_key = ak;
    decoder dec(o);
    const auto r = dec.feed(hdlc_message(apdu), receive_ns);
    EXPECT_TRUE(r.records.empty());
    EXPECT_TRUE(has_error(r, error_kind::auth_failed)) << int(sc);
  }
}

TEST(DlmsCiphering, UnsupportedSuiteIsReported) {
  const auto ek = key_of("101112131415161718191A1B1C1D1E1F");
  auto apdu = encrypted_message(0xDB, 0x20, ek, std::nullopt, 1);
  apdu[11] = 0x22; // suite 2
  options o = utc_options();
  o.key = ek;
  decoder dec(o);
  const auto r = dec.feed(hdlc_message(apdu), receive_ns);
  EXPECT_TRUE(has_error(r, error_kind::unsupported_security));
}

// ------------------------------------------------------------------------------------- options

TEST(DlmsOptions, ParseKeyAcceptsHexAndRejectsBadLengthAndDigitsWithoutEchoingInput) {
  std::optional<aes_key> k;
  EXPECT_EQ(parse_key(" 101112131415161718191a1b1c1d1e1f\n", k), "");
  ASSERT_TRUE(k);
  EXPECT_EQ((*k)[0], 0x10);
  EXPECT_EQ((*k)[15], 0x1F);
  EXPECT_EQ(parse_key("", k), "");
  EXPECT_FALSE(k);
  const auto short_err = parse_key("1011121314", k);
  EXPECT_NE(short_err.find("32 hex digits"), std::string::npos);
  EXPECT_EQ(short_err.find("1011121314"), std::string::npos);
  const auto bad = parse_key("1011121314151617181920212223242Z", k);
  EXPECT_NE(bad.find("not a hex digit"), std::string::npos);
  EXPECT_EQ(bad.find("10111213"), std::string::npos);
}

TEST(DlmsOptions, ValidateRejectsUnknownProfileZoneAndFieldSpec) {
  options o;
  EXPECT_EQ(validate(o), "");
  o.profile = "lge999";
  EXPECT_NE(validate(o).find("unknown profile"), std::string::npos);
  o.profile = "lge450";
  o.timezone = "Mars/Olympus";
  EXPECT_NE(validate(o).find("unknown time zone"), std::string::npos);
  EXPECT_THROW(decoder{o}, std::invalid_argument);
  o.timezone = "Europe/Zurich";
  o.fields = {"timestamp", "NOT_A_FIELD"};
  EXPECT_NE(validate(o).find("NOT_A_FIELD"), std::string::npos);
  o.fields = {"timestamp", "VOLTAGE_L1@-1", "1-0:96.14.0*255", "skip", "meter_id"};
  EXPECT_EQ(validate(o), "");
}

TEST(DlmsOptions, EveryErrorKindHasAStableSnakeCaseName) {
  std::set<std::string> names;
  for (size_t k = 0; k < error_kind_count; ++k) {
    const auto n = std::string(error_name(static_cast<error_kind>(k)));
    EXPECT_FALSE(n.empty());
    for (char c : n)
      EXPECT_TRUE((c >= 'a' && c <= 'z') || c == '_') << n;
    names.insert(n);
  }
  EXPECT_EQ(names.size(), error_kind_count);
  EXPECT_EQ(error_name(error_kind::wrong_key), "wrong_key");
  EXPECT_EQ(error_name(error_kind::gbt_gap), "gbt_gap");
  EXPECT_EQ(error_name(error_kind::no_key), "no_key");
}

TEST(DlmsOptions, ProfileOverridesChangeScaleFactors) {
  auto o = frame_options(9); // E570 currents in A
  decoder e570(o);
  const auto a = feed_all(e570, frame_bytes(9), chunking::whole);
  o.profile = "generic";
  decoder generic(o);
  const auto b = feed_all(generic, frame_bytes(9), chunking::whole);
  ASSERT_EQ(a.records.size(), 1U);
  ASSERT_EQ(b.records.size(), 1U);
  EXPECT_EQ(std::get<double>(a.records[0].find_field("CURRENT_L1")->value), 400.0);
  EXPECT_EQ(std::get<double>(b.records[0].find_field("CURRENT_L1")->value), 4.0);
}

// ------------------------------------------------------------------------------------- shapes

TEST(DlmsShapes, ValueOnlyPayloadUsesConfiguredFieldList) {
  axdr_writer w;
  w.structure(4)
      .date_time(dt(2024, 5, 1, 8, 0, 0, -120))
      .uint32(1234)
      .uint16(2301)
      .visible_string("ABC123");
  const auto apdu = encode_data_notification(1, std::nullopt, w.bytes());
  options o = utc_options();
  decoder none(o);
  auto r = none.feed(hdlc_message(apdu), receive_ns);
  EXPECT_TRUE(r.records.empty());
  EXPECT_TRUE(has_error(r, error_kind::unknown_shape));
  o.fields = {"timestamp", "ACTIVE_ENERGY_P", "1-0:32.7.0*255@-1", "meter_id"};
  decoder dec(o);
  r = dec.feed(hdlc_message(apdu), receive_ns);
  ASSERT_EQ(r.records.size(), 1U);
  const auto& rec = r.records[0];
  EXPECT_EQ(*rec.tag("meter"), "ABC123");
  EXPECT_EQ(rec.time_ns, utc_ns(2024, 5, 1, 6, 0, 0));
  EXPECT_EQ(std::get<double>(rec.find_field("ACTIVE_ENERGY_P")->value), 1234.0);
  EXPECT_DOUBLE_EQ(std::get<double>(rec.find_field("VOLTAGE_L1")->value), 230.1);
  EXPECT_EQ(rec.find_field("VOLTAGE_L1")->obis, "1-0:32.7.0*255");
}

TEST(DlmsShapes, UnknownRegisterKeptUnderFullObisWithMetersScaler) {
  axdr_writer w;
  w.structure(6);
  w.obis({1, 0, 1, 7, 0, 255}).uint32(1500).scaler_unit(0, 27);
  w.obis({1, 0, 16, 7, 0, 255}).int32(-4200).scaler_unit(-1, 27);
  const auto apdu = encode_data_notification(1, dt(2024, 1, 1, 0, 0, 0, 0), w.bytes());
  decoder dec(utc_options());
  const auto r = dec.feed(hdlc_message(apdu), receive_ns);
  ASSERT_EQ(r.records.size(), 1U);
  const auto* f = r.records[0].find_field("1-0:16.7.0*255");
  ASSERT_NE(f, nullptr);
  EXPECT_DOUBLE_EQ(std::get<double>(f->value), -420.0);
  EXPECT_EQ(f->unit, "W");
  EXPECT_EQ(f->obis, "1-0:16.7.0*255");
}

TEST(DlmsShapes, PushListWithScalerAttributeAppliesIt) {
  const push_entry entries[] = {{40, {0, 0, 25, 9, 0, 255}, 2},
                                {1, {0, 0, 42, 0, 0, 255}, 2},
                                {3, {1, 0, 32, 7, 0, 255}, 2},
                                {3, {1, 0, 32, 7, 0, 255}, 3}};
  std::vector<std::vector<uint8_t>> values(4);
  values[1] = axdr_writer().visible_string("LGZ42").take();
  values[2] = axdr_writer().uint16(2317).take();
  values[3] = axdr_writer().scaler_unit(-1, 35).take();
  const auto apdu =
      encode_data_notification(1, dt(2024, 1, 1, 0, 0, 0, 0), encode_push_body(entries, values));
  decoder dec(utc_options());
  const auto r = dec.feed(hdlc_message(apdu), receive_ns);
  ASSERT_EQ(r.records.size(), 1U);
  EXPECT_EQ(*r.records[0].tag("meter"), "LGZ42");
  EXPECT_DOUBLE_EQ(std::get<double>(r.records[0].find_field("VOLTAGE_L1")->value), 231.7);
}

TEST(DlmsShapes, SeveralNotificationsInOneHdlcFrameAllDecode) {
  const auto a = encode_data_notification(1, dt(2024, 1, 1, 0, 0, 0, 0),
                                          flat_body({{{1, 0, 1, 8, 0, 255}, 1}}));
  const auto b = encode_data_notification(2, dt(2024, 1, 1, 0, 0, 5, 0),
                                          flat_body({{{1, 0, 1, 8, 0, 255}, 2}}));
  std::vector<uint8_t> info(a);
  info.insert(info.end(), {0xE6, 0xE7, 0x00});
  info.insert(info.end(), b.begin(), b.end());
  decoder dec(utc_options());
  const auto r = dec.feed(hdlc_message(info), receive_ns);
  ASSERT_EQ(r.records.size(), 2U);
  EXPECT_EQ(std::get<double>(r.records[1].find_field("ACTIVE_ENERGY_P")->value), 2.0);
}

TEST(DlmsShapes, NonFiniteFloatRegistersAreSkipped) {
  axdr_writer w;
  w.structure(6);
  w.obis({1, 0, 1, 7, 0, 255}).float32(std::numeric_limits<float>::quiet_NaN());
  w.obis({1, 0, 2, 7, 0, 255}).float64(std::numeric_limits<double>::infinity());
  w.obis({1, 0, 1, 8, 0, 255}).float32(1234.5F);
  const auto apdu = encode_data_notification(1, dt(2024, 1, 1, 0, 0, 0, 0), w.bytes());
  decoder dec(utc_options());
  const auto r = dec.feed(hdlc_message(apdu), receive_ns);
  ASSERT_EQ(r.records.size(), 1U);
  EXPECT_EQ(r.records[0].fields.size(), 1U);
  EXPECT_DOUBLE_EQ(std::get<double>(r.records[0].find_field("ACTIVE_ENERGY_P")->value), 1234.5);
}

TEST(DlmsShapes, NotificationWithoutRegistersIsNoValues) {
  const auto apdu = encode_data_notification(1, std::nullopt, flat_body({}, std::string("LGZ9")));
  decoder dec(utc_options());
  const auto r = dec.feed(hdlc_message(apdu), receive_ns);
  EXPECT_TRUE(r.records.empty());
  EXPECT_TRUE(has_error(r, error_kind::no_values));
}

// ------------------------------------------------------------------------------------- id/time

TEST(DlmsMeterIdentity, IdIsCachedAndFallbackIsNotPermanent) {
  options o = utc_options();
  o.fallback_id = "/dev/ttyUSB0";
  decoder dec(o);
  const auto no_id = hdlc_message(encode_data_notification(1, dt(2024, 1, 1, 0, 0, 0, 0),
                                                           flat_body({{{1, 0, 1, 8, 0, 255}, 1}})));
  const auto with_id = hdlc_message(encode_data_notification(
      2, dt(2024, 1, 1, 0, 0, 5, 0), flat_body({{{1, 0, 1, 8, 0, 255}, 2}}, "LGZ77")));
  // Five messages without id: fallback each time; then an id appears and is used from then on.
  for (int k = 0; k < 5; ++k) {
    const auto r = dec.feed(no_id, receive_ns);
    ASSERT_EQ(r.records.size(), 1U);
    EXPECT_EQ(*r.records[0].tag("meter"), "/dev/ttyUSB0");
  }
  auto r = dec.feed(with_id, receive_ns);
  EXPECT_EQ(*r.records[0].tag("meter"), "LGZ77");
  r = dec.feed(no_id, receive_ns);
  EXPECT_EQ(*r.records[0].tag("meter"), "LGZ77");
}

TEST(DlmsMessageTime, ReceiveTimeFallbackIsNotPermanent) {
  decoder dec(utc_options());
  const auto no_time = hdlc_message(
      encode_data_notification(1, std::nullopt, flat_body({{{1, 0, 1, 8, 0, 255}, 1}})));
  const auto with_time = hdlc_message(encode_data_notification(
      2, dt(2024, 3, 1, 10, 0, 0, 0), flat_body({{{1, 0, 1, 8, 0, 255}, 2}})));
  for (int k = 0; k < 3; ++k)
    EXPECT_EQ(dec.feed(no_time, receive_ns + k).records.at(0).time_ns, receive_ns + k);
  EXPECT_EQ(dec.feed(with_time, receive_ns).records.at(0).time_ns, utc_ns(2024, 3, 1, 10, 0, 0));
}

TEST(DlmsMessageTime, ClockObjectWinsOverHeaderAndSystemTimeOptionWinsOverBoth) {
  // Entry 0: header says 14:58:16, the clock object 14:58:18.
  decoder dec(frame_options(0));
  auto r = feed_all(dec, frame_bytes(0), chunking::whole);
  EXPECT_EQ(r.records.at(0).time_ns, utc_ns(2021, 7, 6, 14, 58, 18));
  auto o = frame_options(0);
  o.system_time = true;
  decoder sys(o);
  r = feed_all(sys, frame_bytes(0), chunking::whole);
  EXPECT_EQ(r.records.at(0).time_ns, receive_ns);
  o = frame_options(0);
  o.timezone = "Europe/Zurich"; // unspecified deviation -> local wall time
  decoder zurich(o);
  r = feed_all(zurich, frame_bytes(0), chunking::whole);
  EXPECT_EQ(r.records.at(0).time_ns, utc_ns(2021, 7, 6, 12, 58, 18));
}

// ------------------------------------------------------------------------------------- stream

TEST(DlmsStream, MBusSegmentOutOfSequenceIsReported) {
  const auto apdu = encode_data_notification(1, dt(2024, 1, 1, 0, 0, 0, 0),
                                             flat_body({{{1, 0, 1, 8, 0, 255}, 9}}));
  const auto stream = encode_mbus_push(apdu, 20);
  mbus_frame f;
  ASSERT_EQ(parse_mbus(stream, f), mbus_status::ok);
  const auto second = std::span<const uint8_t>(stream).subspan(f.size);
  decoder dec(utc_options());
  auto r = dec.feed(second, receive_ns); // starts with segment 1
  EXPECT_TRUE(has_error(r, error_kind::segment_sequence));
  r = dec.feed(stream, receive_ns);
  ASSERT_EQ(r.records.size(), 1U);
  EXPECT_EQ(std::get<double>(r.records[0].find_field("ACTIVE_ENERGY_P")->value), 9.0);
}

TEST(DlmsStream, HdlcSegmentedMessageFromEncoderDecodes) {
  const auto apdu = encode_data_notification(1, dt(2024, 1, 1, 0, 0, 0, 0),
                                             flat_body({{{1, 0, 1, 8, 0, 255}, 9}}, "ISK1"));
  decoder dec(utc_options());
  const auto r = feed_all(dec, encode_hdlc_segmented(apdu, 10), chunking::bytewise);
  ASSERT_EQ(r.records.size(), 1U);
  EXPECT_EQ(*r.records[0].tag("meter"), "ISK1");
}

TEST(DlmsStream, GarbageIsReportedOncePerRunAndCounted) {
  const auto msg = frame_bytes(22);
  std::vector<uint8_t> stream{0x01, 0x02, 0x03, 0x04};
  stream.insert(stream.end(), msg.begin(), msg.end());
  decoder dec(frame_options(22));
  const auto r = feed_all(dec, stream, chunking::bytewise);
  ASSERT_EQ(r.records.size(), 1U);
  ASSERT_EQ(r.errors.size(), 1U);
  EXPECT_EQ(r.errors[0].kind, error_kind::garbage);
  EXPECT_EQ(dec.stats().count(error_kind::garbage), 1U);
  EXPECT_EQ(dec.stats().bytes, stream.size());
}

TEST(DlmsStream, RawApdusWithGarbageBetweenDecode) {
  const auto apdu = frame_bytes(21);
  std::vector<uint8_t> stream(apdu);
  stream.insert(stream.end(), {0x55, 0x55, 0x00});
  stream.insert(stream.end(), apdu.begin(), apdu.end());
  decoder dec(frame_options(21));
  const auto r = feed_all(dec, stream, chunking::random, 3);
  ASSERT_EQ(r.records.size(), 2U);
  EXPECT_EQ(r.records[0], r.records[1]);
}

TEST(DlmsStream, ResetDropsPartialMessage) {
  const auto msg = frame_bytes(2);
  decoder dec(frame_options(2));
  auto r = dec.feed(std::span<const uint8_t>(msg).first(msg.size() / 2), receive_ns);
  dec.reset();
  r = dec.feed(std::span<const uint8_t>(msg).subspan(msg.size() / 2), receive_ns);
  EXPECT_TRUE(r.records.empty());
  r = dec.feed(msg, receive_ns);
  EXPECT_EQ(r.records.size(), 1U);
}

} // namespace
} // namespace wattline::dlms::test
