// File sink core: golden output per format, size and time rotation with max_files, repair of a
// partial last line after a crash, csv column changes, interval flushing, and I/O errors as values.

#include "actors/file/jsonl.hpp"
#include "actors/file/time_format.hpp"
#include "actors/file/writer.hpp"
#include "tests/file_io/sample_records.hpp"
#include "tests/support/support.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <sys/stat.h>
#include <unistd.h>

using namespace wattline;
using namespace wattline::file_io;
namespace fs = std::filesystem;

namespace {

using wattline::test::read_file;

void write_text(const fs::path& p, const std::string& text) {
  std::ofstream out(p, std::ios::binary);
  out << text;
}

/// Compares `actual` with tests/data/file_io/<name>; WATTLINE_UPDATE_GOLDEN=1 rewrites the file.
void expect_golden(const std::string& name, const std::string& actual) {
  auto path = wattline::test::data_path("file_io/" + name);
  if (const char* update = std::getenv("WATTLINE_UPDATE_GOLDEN"); update && *update == '1')
    write_text(path, actual);
  EXPECT_EQ(actual, read_file(path)) << "golden " << path;
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);)
    out.push_back(line);
  return out;
}

record numbered(int i) {
  record r;
  r.name = "m";
  r.time_ns = 1763740222000000000 + i;
  r.set_field("i", int64_t{i});
  return r;
}

/// A clock the test moves by hand.
struct fake_clock {
  int64_t now = 1763740222000000000;
  std::function<int64_t()> fn() {
    return [this] { return now; };
  }
};

} // namespace

TEST(FileSinkFormats, JsonlMatchesGolden) {
  wattline::test::temp_dir dir;
  file_writer w({.path = dir / "out.jsonl"});
  auto r = w.write(file_io::test::sample_records());
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->records_written, 3u);
  EXPECT_EQ(r->records_buffered, 0u);
  ASSERT_TRUE(w.close());
  expect_golden("sample.golden.jsonl", read_file(dir / "out.jsonl"));
}

TEST(FileSinkFormats, CsvMatchesGoldenWithQuoting) {
  wattline::test::temp_dir dir;
  auto recs = file_io::test::sample_records();
  record partial; // fits the first record's columns: empty cells for the rest
  partial.name = "smart,meter";
  partial.time_ns = 1763740224000001000;
  partial.set_tag("site", " padded");
  partial.set_field("fw", std::string("multi\nline \"quoted\""));
  partial.set_field("power_w", std::numeric_limits<double>::infinity());
  std::vector<record> batch{recs[0], partial};
  file_writer w({.path = dir / "out.csv", .format = output_format::csv});
  ASSERT_TRUE(w.write(batch));
  ASSERT_TRUE(w.close());
  EXPECT_TRUE(w.rotated_files().empty());
  expect_golden("sample.golden.csv", read_file(dir / "out.csv"));
  // Quoted line breaks are not mistaken for a partial record on reopen.
  file_writer again({.path = dir / "out.csv", .format = output_format::csv});
  EXPECT_EQ(again.open()->truncated_bytes, 0u);
}

TEST(FileSinkFormats, InfluxMatchesGoldenAndSkipsRecordsWithoutFields) {
  wattline::test::temp_dir dir;
  auto recs = file_io::test::sample_records();
  record empty;
  empty.name = "nothing";
  recs.push_back(empty);
  file_writer w({.path = dir / "out.lp", .format = output_format::influx});
  auto r = w.write(recs);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->records_written, 3u);
  EXPECT_EQ(r->records_skipped, 1u);
  ASSERT_TRUE(w.close());
  expect_golden("sample.golden.lp", read_file(dir / "out.lp"));
  file_writer again({.path = dir / "out.lp", .format = output_format::influx});
  EXPECT_EQ(again.open()->truncated_bytes, 0u);
}

TEST(FileSinkRotation, SizeRotationKeepsMaxFilesOfWholeLines) {
  wattline::test::temp_dir dir;
  fake_clock clock;
  const auto line_size = to_json(numbered(10)).size() + 1;
  file_writer w({.path = dir / "meter.jsonl",
                 .max_bytes = 3 * line_size, // three lines per file
                 .max_files = 2,
                 .clock = clock.fn()});
  ASSERT_TRUE(w.open());
  std::vector<fs::path> rotated, removed;
  for (int i = 10; i < 30; ++i) {
    clock.now += 1'000'000;
    std::vector<record> one{numbered(i)};
    auto r = w.write(one);
    ASSERT_TRUE(r) << r.error().message;
    rotated.insert(rotated.end(), r->rotated_files.begin(), r->rotated_files.end());
    removed.insert(removed.end(), r->removed_files.begin(), r->removed_files.end());
    EXPECT_LE(w.file_size(), 3 * line_size);
  }
  ASSERT_TRUE(w.close());
  // 20 records, 3 per file: 6 rotations, 2 kept, 4 removed (the oldest).
  EXPECT_EQ(rotated.size(), 6u);
  ASSERT_EQ(removed.size(), 4u);
  auto kept = w.rotated_files();
  ASSERT_EQ(kept.size(), 2u);
  EXPECT_EQ(kept[0], rotated[4]);
  EXPECT_EQ(kept[1], rotated[5]);
  EXPECT_EQ(removed[0], rotated[0]);
  // Kept files plus the active file hold the newest 8 records, in order, as whole lines.
  std::vector<int> seen;
  for (const auto& p : {kept[0], kept[1], dir / "meter.jsonl"})
    for (const auto& line : lines_of(read_file(p))) {
      auto rec = parse_jsonl(line);
      ASSERT_TRUE(std::holds_alternative<record>(rec)) << line;
      seen.push_back(static_cast<int>(std::get<int64_t>(std::get<record>(rec).fields[0].value)));
    }
  EXPECT_EQ(seen, (std::vector<int>{22, 23, 24, 25, 26, 27, 28, 29}));
  // Names are <stem>-<UTC stamp><ext>.
  auto name = kept[0].filename().string();
  EXPECT_EQ(name.rfind("meter-2025", 0), 0u) << name;
  EXPECT_TRUE(is_file_stamp(name.substr(6, 26))) << name;
  EXPECT_EQ(name.substr(32), ".jsonl");
}

TEST(FileSinkRotation, TimeRotationHappensOnTickAndUsesTheClockForTheName) {
  wattline::test::temp_dir dir;
  fake_clock clock;
  file_writer w({.path = dir / "t.jsonl", .rotate_interval_secs = 60, .clock = clock.fn()});
  ASSERT_TRUE(w.open());
  ASSERT_TRUE(w.write(std::vector<record>{numbered(1)}));
  clock.now += 59'000'000'000;
  auto early = w.tick();
  ASSERT_TRUE(early);
  EXPECT_TRUE(early->rotated_files.empty());
  clock.now += 1'000'000'000;
  auto due = w.tick();
  ASSERT_TRUE(due);
  ASSERT_EQ(due->rotated_files.size(), 1u);
  EXPECT_EQ(due->rotated_files[0], dir / ("t-" + format_file_stamp(clock.now) + ".jsonl"));
  EXPECT_EQ(read_file(due->rotated_files[0]), to_json(numbered(1)) + "\n");
  EXPECT_EQ(read_file(dir / "t.jsonl"), "");
  // An empty file is not rotated.
  clock.now += 120'000'000'000;
  EXPECT_TRUE(w.tick()->rotated_files.empty());
}

TEST(FileSinkCrash, PartialLastLineIsTruncatedOnReopen) {
  wattline::test::temp_dir dir;
  auto path = dir / "crash.jsonl";
  std::string good = to_json(numbered(1)) + "\n" + to_json(numbered(2)) + "\n";
  std::string partial = R"({"name":"m","time":"2025-11-21T15:5)";
  write_text(path, good + partial);
  file_writer w({.path = path});
  auto info = w.open();
  ASSERT_TRUE(info) << info.error().message;
  EXPECT_EQ(info->existing_bytes, good.size());
  EXPECT_EQ(info->truncated_bytes, partial.size());
  EXPECT_NE(info->message.find("truncated " + std::to_string(partial.size()) + " bytes"),
            std::string::npos)
      << info->message;
  ASSERT_TRUE(w.write(std::vector<record>{numbered(3)}));
  ASSERT_TRUE(w.close());
  auto lines = lines_of(read_file(path));
  ASSERT_EQ(lines.size(), 3u);
  for (const auto& line : lines)
    EXPECT_TRUE(std::holds_alternative<record>(parse_jsonl(line))) << line;
}

TEST(FileSinkCrash, FileWithoutAnyCompleteLineIsEmptiedAndCleanFileKept) {
  wattline::test::temp_dir dir;
  write_text(dir / "a.jsonl", "{\"name\":");
  file_writer a({.path = dir / "a.jsonl"});
  EXPECT_EQ(a.open()->truncated_bytes, 8u);
  EXPECT_EQ(a.file_size(), 0u);
  write_text(dir / "b.jsonl", "x\n");
  file_writer b({.path = dir / "b.jsonl"});
  auto info = b.open();
  EXPECT_EQ(info->truncated_bytes, 0u);
  EXPECT_EQ(info->existing_bytes, 2u);
  EXPECT_TRUE(info->message.empty());
}

TEST(FileSinkCrash, CsvRecordCutInsideAQuotedLineBreakIsTruncatedAsAWhole) {
  wattline::test::temp_dir dir;
  write_text(dir / "c.csv", "time,name,x\n1,m,\"a\nb\"\n2,m,\"c\n");
  file_writer w({.path = dir / "c.csv", .format = output_format::csv});
  auto info = w.open();
  ASSERT_TRUE(info) << info.error().message;
  EXPECT_EQ(info->truncated_bytes, 7u);
  ASSERT_TRUE(info->rotated_existing);
  EXPECT_EQ(read_file(*info->rotated_existing), "time,name,x\n1,m,\"a\nb\"\n");
}

TEST(FileSinkCrash, InfluxRecordCutAfterALineBreakInsideAStringIsTruncatedAsAWhole) {
  wattline::test::temp_dir dir;
  // Line protocol keeps raw line breaks inside quoted string values.
  const std::string good = "m,t=a f=\"x\ny\" 1\n"
                           "m f=\"a\\\"b\nc\",g=1i 2\n";
  const std::string partial = "m\\ x f=\"p\n";
  write_text(dir / "p.lp", good + partial);
  file_writer w({.path = dir / "p.lp", .format = output_format::influx});
  auto info = w.open();
  ASSERT_TRUE(info) << info.error().message;
  EXPECT_EQ(info->truncated_bytes, partial.size());
  EXPECT_EQ(read_file(dir / "p.lp"), good);
}

TEST(FileSinkCsv, NewColumnsStartANewFileWithItsOwnHeader) {
  wattline::test::temp_dir dir;
  fake_clock clock;
  record a = numbered(1);
  record b = numbered(2);
  b.set_field("extra", true);
  file_writer w({.path = dir / "x.csv", .format = output_format::csv, .clock = clock.fn()});
  auto r = w.write(std::vector<record>{a, a, b, a});
  ASSERT_TRUE(r) << r.error().message;
  ASSERT_EQ(r->rotated_files.size(), 1u);
  EXPECT_EQ(read_file(r->rotated_files[0]), "time,name,i\n"
                                            "2025-11-21T15:50:22.000000001Z,m,1\n"
                                            "2025-11-21T15:50:22.000000001Z,m,1\n");
  // `a` fits b's columns: it stays in the new file with an empty cell.
  EXPECT_EQ(read_file(dir / "x.csv"), "time,name,i,extra\n"
                                      "2025-11-21T15:50:22.000000002Z,m,2,true\n"
                                      "2025-11-21T15:50:22.000000001Z,m,1,\n");
}

TEST(FileSinkCsv, ExistingCsvFileIsMovedAsideOnOpen) {
  wattline::test::temp_dir dir;
  write_text(dir / "x.csv", "time,name,old\n1,2,3\n");
  file_writer w({.path = dir / "x.csv", .format = output_format::csv});
  auto info = w.open();
  ASSERT_TRUE(info) << info.error().message;
  ASSERT_TRUE(info->rotated_existing);
  EXPECT_EQ(read_file(*info->rotated_existing), "time,name,old\n1,2,3\n");
  ASSERT_TRUE(w.write(std::vector<record>{numbered(1)}));
  EXPECT_EQ(lines_of(read_file(dir / "x.csv")).at(0), "time,name,i");
}

TEST(FileSinkFlush, IntervalPolicyBuffersUntilTheIntervalPasses) {
  wattline::test::temp_dir dir;
  fake_clock clock;
  file_writer w({.path = dir / "i.jsonl",
                 .flush = flush_policy::interval,
                 .flush_interval = std::chrono::milliseconds(1000),
                 .fsync = fsync_policy::every_batch,
                 .clock = clock.fn()});
  ASSERT_TRUE(w.open());
  auto r = w.write(std::vector<record>{numbered(1), numbered(2)});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->records_written, 0u);
  EXPECT_EQ(r->records_buffered, 2u);
  EXPECT_EQ(read_file(dir / "i.jsonl"), "");
  clock.now += 999'000'000;
  EXPECT_EQ(w.tick()->records_written, 0u);
  clock.now += 1'000'000;
  auto t = w.tick();
  ASSERT_TRUE(t);
  EXPECT_EQ(t->records_written, 2u);
  EXPECT_EQ(t->records_buffered, 0u);
  EXPECT_EQ(lines_of(read_file(dir / "i.jsonl")).size(), 2u);
}

TEST(FileSinkErrors, UnwritableFolderIsACleanError) {
  wattline::test::temp_dir dir;
  fs::path target;
  if (::geteuid() != 0) {
    fs::create_directory(dir / "ro");
    ::chmod((dir / "ro").c_str(), 0555);
    target = dir / "ro" / "out.jsonl";
  } else {
    // Root ignores permission bits; sysfs refuses new files even to root.
    target = "/sys/wattline-file-io-test.jsonl";
    if (fs::exists(target) || ::access("/sys", F_OK) != 0)
      GTEST_SKIP() << "no read-only folder for root on this machine";
  }
  file_writer w({.path = target});
  auto r = w.write(std::vector<record>{numbered(1)});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message, "cannot open " + target.string() + ": Permission denied");
  EXPECT_EQ(r.error().code, EACCES);
}

TEST(FileSinkErrors, PathBelowARegularFileIsACleanError) {
  wattline::test::temp_dir dir;
  write_text(dir / "plain", "x");
  file_writer w({.path = dir / "plain" / "sub" / "out.jsonl"});
  auto r = w.open();
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message.rfind("cannot create folder " + (dir / "plain" / "sub").string(), 0),
            0u)
      << r.error().message;
}

TEST(FileSinkErrors, DiskFullKeepsTheBatchBufferedForARetry) {
  if (::access("/dev/full", W_OK) != 0)
    GTEST_SKIP() << "/dev/full not available";
  file_writer w({.path = "/dev/full"});
  ASSERT_TRUE(w.open());
  auto r = w.write(std::vector<record>{numbered(1), numbered(2)});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message, "cannot write /dev/full: No space left on device");
  EXPECT_EQ(r.error().code, ENOSPC);
  EXPECT_EQ(r.error().records_written, 0u);
  EXPECT_TRUE(r.error().data_kept);
  EXPECT_EQ(w.buffered_records(), 2u);
  EXPECT_FALSE(w.flush()); // retry fails the same way
  EXPECT_EQ(w.discard_buffer(), 2u);
  EXPECT_TRUE(w.close());
}
