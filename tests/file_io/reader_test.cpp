// File source core: chunking, hex parsing and its error locations, jsonl replay (round trip with
// the sink's writer), pacing delays, loops and progress.

#include "actors/file/reader.hpp"
#include "actors/file/writer.hpp"
#include "tests/file_io/sample_records.hpp"
#include "tests/support/support.hpp"

#include <gtest/gtest.h>

#include <fstream>

using namespace wattline;
using namespace wattline::file_io;
using namespace std::chrono_literals;
using kind = read_result::kind;

namespace {

void write_text(const std::filesystem::path& p, const std::string& text) {
  std::ofstream out(p, std::ios::binary);
  out << text;
}

std::vector<uint8_t> bytes_of(std::initializer_list<int> v) {
  std::vector<uint8_t> out;
  for (int b : v)
    out.push_back(static_cast<uint8_t>(b));
  return out;
}

} // namespace

TEST(FileSourceBinary, ChunksHaveExactlyChunkSizeBytesAndTheLastTheRest) {
  wattline::test::temp_dir dir;
  write_text(dir / "cap.bin", std::string("\x00\x01\x02\x03\x04\x05\x06\x07\x08\x09", 10));
  file_reader reader(
      {.path = dir / "cap.bin", .format = input_format::binary, .chunk_size_bytes = 4, .clock = [] {
         return int64_t{42};
       }});
  auto size = reader.open();
  ASSERT_TRUE(size) << size.error().message;
  EXPECT_EQ(*size, 10u);
  auto a = reader.next();
  ASSERT_EQ(a.what, kind::bytes);
  EXPECT_EQ(a.bytes.bytes, bytes_of({0, 1, 2, 3}));
  EXPECT_EQ(a.bytes.time_ns, 42);
  EXPECT_EQ(a.bytes.origin, (dir / "cap.bin").string());
  EXPECT_EQ(a.delay, 0ns);
  EXPECT_EQ(reader.next().bytes.bytes, bytes_of({4, 5, 6, 7}));
  EXPECT_DOUBLE_EQ(reader.progress(), 0.8);
  EXPECT_EQ(reader.next().bytes.bytes, bytes_of({8, 9}));
  EXPECT_EQ(reader.next().what, kind::end);
  EXPECT_EQ(reader.next().what, kind::end);
  EXPECT_DOUBLE_EQ(reader.progress(), 1.0);
}

TEST(FileSourceHex, IgnoresWhitespaceAndComments) {
  file_reader reader({.path = wattline::test::data_path("file_io/frames.hex"),
                      .format = input_format::hex,
                      .chunk_size_bytes = 4});
  std::vector<uint8_t> all;
  std::vector<size_t> sizes;
  for (;;) {
    auto r = reader.next();
    if (r.what == kind::end)
      break;
    ASSERT_EQ(r.what, kind::bytes) << r.error.message;
    sizes.push_back(r.bytes.bytes.size());
    all.insert(all.end(), r.bytes.bytes.begin(), r.bytes.bytes.end());
  }
  EXPECT_EQ(all, bytes_of({0x7E, 0xA0, 0x0A, 0xCE, 0xFF, 0x03, 0x01, 0x02, 0x03, 0x04, 0x7E}));
  EXPECT_EQ(sizes, (std::vector<size_t>{4, 4, 3}));
  EXPECT_EQ(reader.errors(), 0u);
}

TEST(FileSourceHex, OddDigitCountIsAnErrorAtTheTokenStart) {
  file_reader reader(
      {.path = wattline::test::data_path("file_io/odd_digits.hex"), .format = input_format::hex});
  auto first = reader.next(); // the bytes before the error still arrive
  ASSERT_EQ(first.what, kind::bytes);
  EXPECT_EQ(first.bytes.bytes, bytes_of({0x7E, 0xA0, 0x0A}));
  auto err = reader.next();
  ASSERT_EQ(err.what, kind::error);
  EXPECT_EQ(err.error.line, 2u);
  EXPECT_EQ(err.error.column, 6u);
  EXPECT_TRUE(err.error.fatal);
  EXPECT_EQ(err.error.message.rfind("odd_digits.hex:2:6: odd number of hex digits (1)", 0), 0u)
      << err.error.message;
  EXPECT_EQ(reader.next().what, kind::end);
  EXPECT_EQ(reader.errors(), 1u);
}

TEST(FileSourceHex, InvalidCharacterIsAnErrorWithLineAndColumn) {
  file_reader reader({.path = wattline::test::data_path("file_io/bad_char.hex"),
                      .format = input_format::hex,
                      .chunk_size_bytes = 2});
  EXPECT_EQ(reader.next().bytes.bytes, bytes_of({0x7E, 0xA0}));
  EXPECT_EQ(reader.next().bytes.bytes, bytes_of({0x0A}));
  auto err = reader.next();
  ASSERT_EQ(err.what, kind::error);
  EXPECT_EQ(err.error.message, "bad_char.hex:2:4: invalid hex character 'z'");
  EXPECT_EQ(reader.next().what, kind::end);
}

TEST(FileSourceJsonl, RoundTripsRecordsWrittenByTheFileSink) {
  wattline::test::temp_dir dir;
  auto recs = file_io::test::sample_records();
  {
    file_writer writer({.path = dir / "out.jsonl"});
    ASSERT_TRUE(writer.open());
    auto w = writer.write(recs);
    ASSERT_TRUE(w) << w.error().message;
    ASSERT_TRUE(writer.close());
  }
  file_reader reader({.path = dir / "out.jsonl", .format = input_format::jsonl, .max_batch = 2});
  auto a = reader.next();
  ASSERT_EQ(a.what, kind::records) << a.error.message;
  ASSERT_EQ(a.records.size(), 2u);
  auto b = reader.next();
  ASSERT_EQ(b.what, kind::records);
  ASSERT_EQ(b.records.size(), 1u);
  EXPECT_EQ(reader.next().what, kind::end);
  std::vector<record> back = a.records;
  back.push_back(b.records[0]);
  EXPECT_EQ(back, recs);
  // uint64 max and int64 min survive exactly, not through a double.
  EXPECT_EQ(std::get<uint64_t>(back[0].find_field("counter")->value), UINT64_MAX);
  EXPECT_EQ(std::get<int64_t>(back[1].find_field("energy_wh")->value), INT64_MIN);
  EXPECT_EQ(back[0].time_ns, 1763740222123456789);
}

TEST(FileSourceJsonl, BadLineIsReportedWithItsNumberCountedAndSkipped) {
  wattline::test::temp_dir dir;
  write_text(dir / "in.jsonl", "{\"name\":\"a\",\"time\":1,\"fields\":{\"x\":1}}\n"
                               "\n"
                               "{\"name\":\"b\",\"time\":\n"
                               "{\"name\":\"c\",\"time\":2,\"fields\":{\"x\":2}}\r\n");
  file_reader reader({.path = dir / "in.jsonl", .format = input_format::jsonl});
  auto a = reader.next();
  ASSERT_EQ(a.what, kind::records);
  ASSERT_EQ(a.records.size(), 1u);
  EXPECT_EQ(a.records[0].name, "a");
  auto err = reader.next();
  ASSERT_EQ(err.what, kind::error);
  EXPECT_FALSE(err.error.fatal);
  EXPECT_EQ(err.error.line, 3u);
  EXPECT_EQ(err.error.message.rfind("in.jsonl:3: invalid JSON", 0), 0u) << err.error.message;
  auto c = reader.next();
  ASSERT_EQ(c.what, kind::records);
  EXPECT_EQ(c.records.at(0).name, "c");
  EXPECT_EQ(reader.next().what, kind::end);
  EXPECT_EQ(reader.errors(), 1u);
}

TEST(FileSourcePacing, BinaryChunksAt2400BaudWaitTenBitsPerByte) {
  wattline::test::temp_dir dir;
  write_text(dir / "cap.bin", std::string(480, 'x'));
  file_reader reader({.path = dir / "cap.bin",
                      .chunk_size_bytes = 240,
                      .pace = std::get<pacing>(parse_pacing("2400 baud"))});
  auto a = reader.next();
  EXPECT_EQ(a.delay, 1s); // 240 bytes * 10 bits / 2400 bit/s
  auto b = reader.next();
  EXPECT_EQ(b.delay, 1s);
  EXPECT_EQ(reader.next().delay, 0ns); // end
}

TEST(FileSourcePacing, JsonlAt2400BaudWaitsForTheLineBytes) {
  wattline::test::temp_dir dir;
  std::string line = "{\"name\":\"a\",\"time\":1,\"fields\":{\"x\":1}}\n";
  const auto n = static_cast<int64_t>(line.size());
  write_text(dir / "in.jsonl", line + line + line);
  file_reader reader({.path = dir / "in.jsonl",
                      .format = input_format::jsonl,
                      .pace = {pacing::mode::byte_rate, 2400},
                      .max_batch = 2});
  EXPECT_EQ(reader.next().delay, std::chrono::nanoseconds(2 * n * 10 * 1'000'000'000LL / 2400));
  EXPECT_EQ(reader.next().delay, std::chrono::nanoseconds(n * 10 * 1'000'000'000LL / 2400));
}

TEST(FileSourcePacing, RealtimeReplaysTheRecordsOwnSpacing) {
  wattline::test::temp_dir dir;
  write_text(dir / "in.jsonl", "{\"name\":\"a\",\"time\":\"2025-11-21T15:50:20Z\"}\n"
                               "{\"name\":\"b\",\"time\":\"2025-11-21T15:50:20Z\"}\n"
                               "{\"name\":\"c\",\"time\":\"2025-11-21T15:50:21.5Z\"}\n"
                               "{\"name\":\"d\",\"time\":\"2025-11-21T15:50:21Z\"}\n");
  file_reader reader({.path = dir / "in.jsonl",
                      .format = input_format::jsonl,
                      .pace = std::get<pacing>(parse_pacing("realtime"))});
  auto first = reader.next(); // records of the same instant travel together
  ASSERT_EQ(first.records.size(), 2u);
  EXPECT_EQ(first.delay, 0ns);
  auto second = reader.next();
  ASSERT_EQ(second.records.size(), 1u);
  EXPECT_EQ(second.records[0].name, "c");
  EXPECT_EQ(second.delay, 1500ms);
  auto third = reader.next(); // going back in time: due at once
  EXPECT_EQ(third.records.at(0).name, "d");
  EXPECT_EQ(third.delay, 0ns);
  EXPECT_EQ(reader.next().what, kind::end);
}

TEST(FileSourceLoop, LoopCountReplaysTheFileThatManyTimes) {
  wattline::test::temp_dir dir;
  write_text(dir / "cap.bin", "abc");
  file_reader reader({.path = dir / "cap.bin", .loops = 3});
  std::string seen;
  for (int i = 0; i < 3; ++i) {
    auto r = reader.next();
    ASSERT_EQ(r.what, kind::bytes);
    seen.append(r.bytes.bytes.begin(), r.bytes.bytes.end());
    EXPECT_NEAR(reader.progress(), (i + 1) / 3.0, 1e-9);
  }
  EXPECT_EQ(seen, "abcabcabc");
  EXPECT_EQ(reader.next().what, kind::end);
}

TEST(FileSourceLoop, ZeroLoopsRepeatsForeverButAnEmptyFileEnds) {
  wattline::test::temp_dir dir;
  write_text(dir / "cap.hex", "01 02");
  file_reader reader({.path = dir / "cap.hex", .format = input_format::hex, .loops = 0});
  for (int i = 0; i < 100; ++i) {
    auto r = reader.next();
    ASSERT_EQ(r.what, kind::bytes);
    EXPECT_EQ(r.bytes.bytes, bytes_of({1, 2}));
  }
  EXPECT_EQ(reader.pass(), 99u);
  write_text(dir / "empty.jsonl", "\n\n");
  file_reader empty({.path = dir / "empty.jsonl", .format = input_format::jsonl, .loops = 0});
  EXPECT_EQ(empty.next().what, kind::end);
}

TEST(FileSourceErrors, MissingFileIsAFatalErrorWithTheReason) {
  wattline::test::temp_dir dir;
  file_reader reader({.path = dir / "nope.bin"});
  auto r = reader.next();
  ASSERT_EQ(r.what, kind::error);
  EXPECT_TRUE(r.error.fatal);
  EXPECT_EQ(r.error.message,
            "cannot open " + (dir / "nope.bin").string() + ": No such file or directory");
  EXPECT_EQ(reader.next().what, kind::end);
}
