// Corrupted input: every single-bit flip and every truncation of several messages, each followed
// by the intact message. No crash, never a record that differs from the intact decode, and the
// intact message that follows still decodes.

#include <gtest/gtest.h>

#include "tests/dlms/test_util.hpp"

namespace wattline::dlms::test {
namespace {

// E450 GBT, E570 encrypted GBT (SC 0x20), AM550 HDLC segmentation, Kamstrup single frame with tag,
// E450 encrypted GBT with tag, Netz NOE M-Bus (SC 0x20), Kamstrup NO, Kaifa I-frame.
const size_t corrupted_entries[] = {2, 7, 11, 13, 14, 16, 20, 22};

record reference(size_t i) {
  decoder dec(frame_options(i));
  auto r = feed_all(dec, frame_bytes(i), chunking::whole);
  EXPECT_EQ(r.records.size(), 1U);
  return r.records.empty() ? record{} : r.records[0];
}

class DlmsCorruption : public ::testing::TestWithParam<size_t> {};

TEST_P(DlmsCorruption, EveryBitFlipYieldsNoWrongRecordAndNextMessageDecodes) {
  const size_t i = GetParam();
  const auto msg = frame_bytes(i);
  const auto ref = reference(i);
  const auto opts = frame_options(i);
  std::vector<uint8_t> stream(msg);
  stream.insert(stream.end(), msg.begin(), msg.end());
  size_t rejected = 0;
  for (size_t bit = 0; bit < msg.size() * 8; ++bit) {
    stream[bit / 8] ^= static_cast<uint8_t>(1U << (bit % 8));
    decoder dec(opts);
    const auto r = feed_all(dec, stream, chunking::whole);
    stream[bit / 8] ^= static_cast<uint8_t>(1U << (bit % 8));
    ASSERT_GE(r.records.size(), 1U) << "bit " << bit << ": intact copy not decoded";
    ASSERT_LE(r.records.size(), 2U) << "bit " << bit;
    for (const auto& rec : r.records)
      ASSERT_EQ(rec, ref) << "bit " << bit << ": wrong record";
    if (r.records.size() == 1)
      ++rejected;
  }
  // Checksums cover every byte but the flags: nearly every flip must drop the corrupted copy.
  EXPECT_GE(rejected, msg.size() * 8 * 9 / 10);
}

TEST_P(DlmsCorruption, EveryTruncationYieldsNoWrongRecordAndNextMessageDecodes) {
  const size_t i = GetParam();
  const auto msg = frame_bytes(i);
  const auto ref = reference(i);
  const auto opts = frame_options(i);
  for (size_t cut = 0; cut < msg.size(); ++cut) {
    std::vector<uint8_t> stream(msg.begin(), msg.begin() + static_cast<ptrdiff_t>(cut));
    stream.insert(stream.end(), msg.begin(), msg.end());
    decoder dec(opts);
    const auto r = feed_all(dec, stream, chunking::whole);
    ASSERT_GE(r.records.size(), 1U) << "cut " << cut << ": intact copy not decoded";
    ASSERT_LE(r.records.size(), 2U) << "cut " << cut;
    for (const auto& rec : r.records)
      ASSERT_EQ(rec, ref) << "cut " << cut << ": wrong record";
  }
}

TEST_P(DlmsCorruption, TruncatedMessageFedBytewiseThenIntactMessageDecodes) {
  const size_t i = GetParam();
  const auto msg = frame_bytes(i);
  const auto ref = reference(i);
  std::vector<uint8_t> stream(msg.begin(), msg.begin() + static_cast<ptrdiff_t>(msg.size() / 2));
  stream.insert(stream.end(), msg.begin(), msg.end());
  decoder dec(frame_options(i));
  const auto r = feed_all(dec, stream, chunking::bytewise);
  ASSERT_EQ(r.records.size(), 1U);
  EXPECT_EQ(r.records[0], ref);
}

INSTANTIATE_TEST_SUITE_P(FramesJson, DlmsCorruption, ::testing::ValuesIn(corrupted_entries),
                         [](const auto& info) { return "Entry" + std::to_string(info.param); });

} // namespace
} // namespace wattline::dlms::test
