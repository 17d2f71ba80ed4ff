#pragma once

// The per-sink record buffer: what a sink has accepted but not yet delivered. Plain C++ (no CAF),
// one instance per sink instance, not thread-safe.
//
// * memory: a bounded queue; lost on restart.
// * disk: a write-ahead log in `dir`: append-only segment files `<16-digit id>.wal` of framed
//   entries `u32 length | u32 CRC-32 of the payload | payload` (payload: record_codec), and an
//   `ack` file ("<segment> <offset>\n", replaced atomically by rename) naming the first entry not
//   yet delivered. Every append reaches the file with write(2) before append() returns, so a
//   kill -9 loses nothing; with `fsync` it is also fsync'ed (power loss). On open, the entries
//   after the ack position are replayed; a torn or corrupt tail is truncated to the last good
//   entry, an entry with a bad CRC is skipped, and both are counted; the log never wedges.
//
// Records move through three states: unread (queued) -> read (in flight, handed to the sink's
// delivery) -> acknowledged (removed). A delivery confirms the oldest read records with ack(n).
//
// When an append does not fit in `max_bytes`:
// * block: nothing is taken (append returns accepted=false); the sink refuses its input batch
//   until acknowledgements make room. An empty buffer always takes a batch, however large.
// * drop_oldest: the oldest unread records are dropped (counted) until the new ones fit; records
//   in flight are never dropped.

#include "engine/record.hpp"

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace wattline::sink_buffer {

/// Where buffered records live.
enum class buffer_type { memory, disk };

/// What an append does when the buffer is full.
enum class full_policy { block, drop_oldest };

/// Parses "memory" / "disk".
[[nodiscard]] std::optional<buffer_type> parse_buffer_type(std::string_view text);
/// Parses "block" / "drop_oldest".
[[nodiscard]] std::optional<full_policy> parse_full_policy(std::string_view text);

/// Buffer settings (the sink's `buffer:` map).
struct buffer_options {
  buffer_type type = buffer_type::memory;
  /// Bound of the buffered records: approximate memory footprint (memory) or bytes of live log
  /// entries (disk).
  uint64_t max_bytes = 64ull << 20;
  full_policy when_full = full_policy::block;
  /// disk: the directory holding the log (created when missing).
  std::filesystem::path dir;
  /// disk: a new segment file is started once the current one reaches this size.
  uint64_t segment_bytes = 8ull << 20;
  /// disk: fsync after each append and ack (survives power loss, slower).
  bool fsync = false;
};

/// What opening a disk buffer found.
struct recovery_info {
  /// Records replayed from the log (not yet delivered before the last stop).
  uint64_t records = 0;
  /// Bytes of torn or corrupt tail cut from segment files.
  uint64_t truncated_bytes = 0;
  /// Entries skipped because their checksum or contents were wrong.
  uint64_t corrupt_entries = 0;
};

/// Result of an append.
struct append_result {
  /// False: block policy and no room; nothing was taken.
  bool accepted = true;
  /// Records dropped to make room (drop_oldest).
  uint64_t dropped = 0;
};

/// A bounded buffer of records awaiting delivery.
class record_buffer {
public:
  virtual ~record_buffer() = default;

  /// Adds `records` (moved from when accepted) at the end, honouring the full policy.
  virtual append_result append(std::vector<record>& records) = 0;
  /// Moves up to `max_records` of the oldest unread records into `out` (appended) and marks
  /// them in flight. Returns how many were read.
  virtual std::size_t read(std::size_t max_records, std::vector<record>& out) = 0;
  /// The oldest `n` in-flight records are delivered: removes them for good.
  virtual void ack(std::size_t n) = 0;

  /// Records not yet acknowledged (unread plus in flight).
  [[nodiscard]] virtual std::size_t size() const = 0;
  /// Records not yet read.
  [[nodiscard]] virtual std::size_t unread() const = 0;
  /// Bytes counted against max_bytes.
  [[nodiscard]] virtual uint64_t bytes() const = 0;
  /// True when nothing is buffered.
  [[nodiscard]] bool empty() const { return size() == 0; }
  /// What opening found (disk); zeros for memory.
  [[nodiscard]] const recovery_info& recovered() const { return recovered_; }
  /// Records dropped by the full policy since creation.
  [[nodiscard]] uint64_t dropped_total() const { return dropped_total_; }
  /// Records skipped while reading because their entry turned out corrupt (disk).
  [[nodiscard]] uint64_t corrupt_on_read() const { return corrupt_on_read_; }

protected:
  recovery_info recovered_;
  uint64_t dropped_total_ = 0;
  uint64_t corrupt_on_read_ = 0;
};

/// Creates a memory buffer, or opens (and replays) a disk buffer. Throws std::system_error or
/// std::runtime_error naming the path when the directory or a file cannot be used.
[[nodiscard]] std::unique_ptr<record_buffer> open_buffer(const buffer_options& opts);

/// Frames `payload` as one log entry (length, CRC-32, payload), appended to `out`.
void frame_entry(std::string_view payload, std::string& out);

} // namespace wattline::sink_buffer
