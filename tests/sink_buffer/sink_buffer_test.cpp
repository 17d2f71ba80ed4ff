// The per-sink buffer core: record serialisation, memory bounds, and the disk write-ahead log
// (append / read / ack / replay after reopen, torn tail, corrupt entry, full with block vs
// drop_oldest).

#include "sinks/buffer/record_codec.hpp"
#include "sinks/buffer/sink_buffer.hpp"
#include "tests/support/support.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <limits>

namespace wattline::sink_buffer {
namespace {

record make_record(int i) {
  record r;
  r.name = "meter";
  r.tags = {{"meter", "m1"}, {"phase", "L" + std::to_string(i % 3)}};
  r.fields.push_back(field{"seq", int64_t{i}, "", ""});
  r.fields.push_back(field{"power", i * 0.5, "W", "1-0:16.7.0*255"});
  r.time_ns = 1'772'323'200'000'000'000 + i;
  return r;
}

std::vector<record> make_records(int from, int n) {
  std::vector<record> out;
  for (int i = from; i < from + n; ++i)
    out.push_back(make_record(i));
  return out;
}

/// The `seq` values of records.
std::vector<int64_t> seqs(const std::vector<record>& rs) {
  std::vector<int64_t> out;
  for (const auto& r : rs)
    out.push_back(std::get<int64_t>(r.find_field("seq")->value));
  return out;
}

std::vector<int64_t> range(int from, int n) {
  std::vector<int64_t> out;
  for (int i = from; i < from + n; ++i)
    out.push_back(i);
  return out;
}

/// Reads everything unread.
std::vector<record> read_all(record_buffer& b) {
  std::vector<record> out;
  b.read(std::numeric_limits<std::size_t>::max(), out);
  return out;
}

std::vector<std::filesystem::path> segments(const std::filesystem::path& dir) {
  std::vector<std::filesystem::path> out;
  for (const auto& e : std::filesystem::directory_iterator(dir))
    if (e.path().extension() == ".wal")
      out.push_back(e.path());
  std::sort(out.begin(), out.end());
  return out;
}

TEST(SinkBufferCodec, EveryFieldTypeRoundTripsExactly) {
  record r;
  r.name = "m,eas ure";
  r.tags = {{"a", "1"}, {"", "empty key"}};
  r.fields = {field{"f", 0.1, "kWh", "1-0:1.8.0*255"}, field{"i", int64_t{-42}, "", ""},
              field{"u", std::numeric_limits<uint64_t>::max(), "", ""}, field{"b", true, "", ""},
              field{"s", std::string("line\nbreak \"q\""), "", ""}};
  r.time_ns = -5;
  std::string bytes;
  encode_record(r, bytes);
  record back;
  ASSERT_TRUE(decode_record(bytes, back));
  EXPECT_EQ(back, r);
}

TEST(SinkBufferCodec, TruncatedOrAlteredBytesAreRejected) {
  std::string bytes;
  encode_record(make_record(7), bytes);
  record back;
  EXPECT_FALSE(decode_record(std::string_view(bytes).substr(0, bytes.size() - 1), back));
  std::string longer = bytes + "x";
  EXPECT_FALSE(decode_record(longer, back));
  std::string bad_type = bytes;
  // The type byte of the first field follows name, tags and the field key.
  auto pos = bad_type.find("seq") + 3;
  bad_type[pos] = 9;
  EXPECT_FALSE(decode_record(bad_type, back));
}

TEST(SinkBufferMemory, ReadAckKeepsOrderAndFreesRoom) {
  auto b = open_buffer({});
  auto in = make_records(0, 10);
  ASSERT_TRUE(b->append(in).accepted);
  EXPECT_EQ(b->size(), 10u);
  std::vector<record> out;
  EXPECT_EQ(b->read(4, out), 4u);
  EXPECT_EQ(seqs(out), range(0, 4));
  EXPECT_EQ(b->unread(), 6u);
  EXPECT_EQ(b->size(), 10u);
  auto before = b->bytes();
  b->ack(4);
  EXPECT_EQ(b->size(), 6u);
  EXPECT_LT(b->bytes(), before);
  EXPECT_EQ(seqs(read_all(*b)), range(4, 6));
}

TEST(SinkBufferMemory, FullWithBlockRefusesWholeBatchUntilAcked) {
  buffer_options o;
  o.max_bytes = 4096;
  o.when_full = full_policy::block;
  auto b = open_buffer(o);
  int next = 0;
  for (;;) {
    auto in = make_records(next, 5);
    if (!b->append(in).accepted) {
      EXPECT_EQ(in.size(), 5u) << "a refused batch is left untouched";
      break;
    }
    next += 5;
    ASSERT_LT(next, 10000);
  }
  EXPECT_LE(b->bytes(), o.max_bytes);
  std::vector<record> out;
  b->read(10, out);
  b->ack(10);
  auto in = make_records(next, 5);
  EXPECT_TRUE(b->append(in).accepted);
  EXPECT_EQ(b->dropped_total(), 0u);
}

TEST(SinkBufferMemory, FullWithDropOldestDropsOldestUnreadAndCountsThem) {
  buffer_options o;
  o.max_bytes = 4096;
  o.when_full = full_policy::drop_oldest;
  auto b = open_buffer(o);
  std::vector<record> flight;
  auto first = make_records(0, 2);
  b->append(first);
  b->read(2, flight); // in flight: never dropped
  uint64_t dropped = 0;
  for (int i = 2; i < 500; i += 2) {
    auto in = make_records(i, 2);
    auto r = b->append(in);
    EXPECT_TRUE(r.accepted);
    dropped += r.dropped;
  }
  EXPECT_GT(dropped, 0u);
  EXPECT_EQ(dropped, b->dropped_total());
  EXPECT_LE(b->bytes(), o.max_bytes);
  auto rest = seqs(read_all(*b));
  ASSERT_FALSE(rest.empty());
  EXPECT_EQ(rest.back(), 499) << "the newest records are kept";
  EXPECT_EQ(rest.size() + dropped + 2, 500u);
  for (std::size_t i = 1; i < rest.size(); ++i)
    EXPECT_EQ(rest[i], rest[i - 1] + 1);
}

TEST(SinkBufferMemory, EmptyBufferTakesAnOversizedBatch) {
  buffer_options o;
  o.max_bytes = 1024;
  auto b = open_buffer(o);
  auto in = make_records(0, 100);
  EXPECT_TRUE(b->append(in).accepted);
  EXPECT_EQ(b->size(), 100u);
}

class SinkBufferDisk : public ::testing::Test {
protected:
  test::temp_dir tmp;
  buffer_options opts() {
    buffer_options o;
    o.type = buffer_type::disk;
    o.dir = tmp / "buf";
    return o;
  }
};

TEST_F(SinkBufferDisk, UnackedRecordsAreReplayedAfterReopen) {
  {
    auto b = open_buffer(opts());
    auto in = make_records(0, 100);
    ASSERT_TRUE(b->append(in).accepted);
    std::vector<record> out;
    b->read(30, out);
    EXPECT_EQ(seqs(out), range(0, 30));
    b->ack(30);
    b->read(20, out); // read, never acknowledged: delivered again
  }
  auto b = open_buffer(opts());
  EXPECT_EQ(b->recovered().records, 70u);
  EXPECT_EQ(b->recovered().truncated_bytes, 0u);
  EXPECT_EQ(b->recovered().corrupt_entries, 0u);
  auto all = read_all(*b);
  EXPECT_EQ(seqs(all), range(30, 70));
  EXPECT_EQ(all.front(), make_record(30)) << "records come back exactly";
  b->ack(70);
  auto more = make_records(100, 5);
  b->append(more);
  b.reset();
  auto c = open_buffer(opts());
  EXPECT_EQ(seqs(read_all(*c)), range(100, 5));
}

TEST_F(SinkBufferDisk, AckedSegmentsAreDeletedAndReplayCrossesSegments) {
  auto o = opts();
  o.segment_bytes = 2048;
  {
    auto b = open_buffer(o);
    for (int i = 0; i < 200; i += 10) {
      auto in = make_records(i, 10);
      b->append(in);
    }
    EXPECT_GT(segments(o.dir).size(), 3u);
    std::vector<record> out;
    b->read(150, out);
    b->ack(150);
    EXPECT_LT(segments(o.dir).size(), 4u) << "delivered segments are removed";
  }
  auto b = open_buffer(o);
  EXPECT_EQ(seqs(read_all(*b)), range(150, 50));
}

TEST_F(SinkBufferDisk, TornTailIsCutToLastGoodEntryAndCounted) {
  {
    auto b = open_buffer(opts());
    auto in = make_records(0, 10);
    b->append(in);
  }
  auto seg = segments(opts().dir).back();
  auto size = std::filesystem::file_size(seg);
  std::filesystem::resize_file(seg, size - 5); // a crash in the middle of the last entry
  {
    auto b = open_buffer(opts());
    EXPECT_EQ(b->recovered().records, 9u);
    EXPECT_GT(b->recovered().truncated_bytes, 0u);
    EXPECT_EQ(seqs(read_all(*b)), range(0, 9));
    auto more = make_records(10, 3); // appends after the cut are readable
    b->append(more);
  }
  auto b = open_buffer(opts());
  EXPECT_EQ(b->recovered().truncated_bytes, 0u);
  EXPECT_EQ(seqs(read_all(*b)), (std::vector<int64_t>{0, 1, 2, 3, 4, 5, 6, 7, 8, 10, 11, 12}));
}

TEST_F(SinkBufferDisk, CorruptEntryIsSkippedAndCountedOthersSurvive) {
  {
    auto b = open_buffer(opts());
    auto in = make_records(0, 10);
    b->append(in);
  }
  auto seg = segments(opts().dir).back();
  std::string bytes = test::read_file(seg);
  // Flip a byte inside the payload of the fourth entry (entries have equal sizes here, ±1).
  std::size_t entry = bytes.size() / 10;
  bytes[3 * entry + entry / 2] ^= 0x5a;
  {
    std::ofstream out(seg, std::ios::binary | std::ios::trunc);
    out << bytes;
  }
  auto b = open_buffer(opts());
  EXPECT_EQ(b->recovered().corrupt_entries, 1u);
  auto got = seqs(read_all(*b));
  EXPECT_EQ(got.size(), 9u);
  EXPECT_EQ(std::count(got.begin(), got.end(), 3), 0);
}

TEST_F(SinkBufferDisk, GarbageFileOrAckNeverWedgesTheBuffer) {
  std::filesystem::create_directories(opts().dir);
  {
    std::ofstream(opts().dir / "0000000000000001.wal", std::ios::binary) << "\xff\xff\xff\x7fjunk";
    std::ofstream(opts().dir / "ack") << "not an ack";
  }
  auto b = open_buffer(opts());
  EXPECT_EQ(b->recovered().records, 0u);
  EXPECT_GT(b->recovered().truncated_bytes, 0u);
  auto in = make_records(0, 3);
  b->append(in);
  b.reset();
  auto c = open_buffer(opts());
  EXPECT_EQ(seqs(read_all(*c)), range(0, 3));
}

TEST_F(SinkBufferDisk, FullWithBlockRefusesAndWithDropOldestDropsAcrossRestart) {
  auto o = opts();
  o.max_bytes = 4096;
  {
    auto b = open_buffer(o);
    int next = 0;
    while (true) {
      auto in = make_records(next, 4);
      if (!b->append(in).accepted)
        break;
      next += 4;
      ASSERT_LT(next, 10000);
    }
    EXPECT_LE(b->bytes(), o.max_bytes);
  }
  std::filesystem::remove_all(o.dir);
  o.when_full = full_policy::drop_oldest;
  uint64_t dropped = 0;
  {
    auto b = open_buffer(o);
    for (int i = 0; i < 400; i += 4) {
      auto in = make_records(i, 4);
      auto r = b->append(in);
      ASSERT_TRUE(r.accepted);
      dropped += r.dropped;
    }
    EXPECT_GT(dropped, 0u);
  }
  auto b = open_buffer(o);
  auto got = seqs(read_all(*b));
  EXPECT_EQ(got.size() + dropped, 400u) << "dropped records do not come back after a restart";
  EXPECT_EQ(got.back(), 399);
}

} // namespace
} // namespace wattline::sink_buffer
