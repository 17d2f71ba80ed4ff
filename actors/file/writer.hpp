#pragma once

// File sink core: appends records to a file as jsonl, csv or InfluxDB line protocol, with size and
// time rotation, a flush policy and an fsync policy. Crash rules:
// - only whole lines reach the file: each flush is one write() of complete lines (a short write
//   is completed; if the write fails the file is cut back to its size before the write);
// - on open, a partial last line left by a crash is truncated away (reported in open_info); for
//   csv and influx, whose quoted values may hold line breaks, the cut is at the last record
//   boundary outside quotes (found by a scan of the file from its start);
// - rotation closes the file, renames it to `<stem>-<UTC stamp><ext>` (rename(2) is atomic),
//   opens a new file and fsyncs the directory; the oldest rotated files beyond `max_files` are
//   deleted.
// Errors are returned as values (io_error) with a readable message; the core never throws for
// I/O and never retries by itself: the actor decides (typically: call flush() again later).
// The core owns no thread and never sleeps: the actor calls tick() from a timer.

#include "actors/file/csv.hpp"
#include "actors/file/error.hpp"
#include "engine/record.hpp"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace wattline::influxdb {
class line_encoder;
}

namespace wattline::file_io {

enum class output_format {
  /// One JSON object per line, see actors/file/jsonl.hpp.
  jsonl,
  /// RFC 4180 CSV with a header, see actors/file/csv.hpp for the new-columns rule.
  csv,
  /// InfluxDB line protocol with nanosecond timestamps, encoded by the InfluxDB sink's encoder
  /// (sinks/influxdb/line_protocol.hpp: sorted tags, NaN/Inf fields skipped, raw line breaks kept
  /// inside quoted string values).
  influx,
};

/// When buffered lines are handed to the OS.
enum class flush_policy {
  /// At the end of every write() call.
  every_batch,
  /// When `flush_interval` has passed since the last flush (checked by write() and tick()), and
  /// always before a rotation and on close().
  interval,
};

/// When data is forced to the disk.
enum class fsync_policy {
  /// Never: the OS writes back when it likes. Rotation still renames atomically and fsyncs the
  /// directory.
  never,
  /// fsync() the file before it is closed by a rotation or close().
  rotate,
  /// fdatasync() after every flush, plus what `rotate` does.
  every_batch,
};

[[nodiscard]] std::optional<output_format> parse_output_format(std::string_view name);
[[nodiscard]] std::optional<flush_policy> parse_flush_policy(std::string_view name);
[[nodiscard]] std::optional<fsync_policy> parse_fsync_policy(std::string_view name);
[[nodiscard]] const char* to_string(output_format f);

struct writer_options {
  /// The active file, e.g. /var/lib/wattline/meter.jsonl. Missing parent folders are created.
  std::filesystem::path path;
  output_format format = output_format::jsonl;
  /// Rotate before a line would make the file larger than this; 0 = no size rotation. A single
  /// line larger than max_bytes still goes into a file of its own.
  uint64_t max_bytes = 0;
  /// Rotate a non-empty file once it has been open this long; 0 = no time rotation. Checked by
  /// write() and tick().
  int64_t rotate_interval_secs = 0;
  /// Rotated files to keep (the active file not counted); older ones are deleted. 0 = keep all.
  std::size_t max_files = 0;
  flush_policy flush = flush_policy::every_batch;
  /// For flush_policy::interval.
  std::chrono::milliseconds flush_interval{1000};
  fsync_policy fsync = fsync_policy::never;
  /// Most bytes held unwritten (interval buffering, or after a failed flush); beyond it write()
  /// refuses new records with an error (data_kept = false) until a flush succeeds.
  std::size_t max_buffer_bytes = 64 * 1024 * 1024;
  /// influx: write uint64 fields with the `u` suffix (InfluxDB 2.x, 1.8+); false writes them as
  /// `i` clamped to INT64_MAX, for InfluxDB 1.x servers without unsigned support.
  bool influx_unsigned = true;
  /// Clock in nanoseconds since the epoch (rotation stamps, intervals); empty = system clock.
  std::function<int64_t()> clock;
};

/// What open() found.
struct open_info {
  /// The active file.
  std::filesystem::path path;
  /// Bytes of the existing file that are kept (appended to).
  uint64_t existing_bytes = 0;
  /// Bytes of a partial last line (no '\n', left by a crash) that were truncated away.
  uint64_t truncated_bytes = 0;
  /// csv only: an existing non-empty file is rotated away at open (its header is not reused);
  /// this is its new name.
  std::optional<std::filesystem::path> rotated_existing;
  /// A line for the log when something was repaired or moved, else empty, e.g.
  /// "truncated 17 bytes of a partial last line in /data/out.jsonl (left by an earlier crash)".
  std::string message;
};

/// What a write(), flush(), tick(), rotate() or close() did.
struct write_info {
  /// Records whose lines reached the file (handed to the OS) in this call.
  uint64_t records_written = 0;
  /// Bytes handed to the OS in this call.
  uint64_t bytes_written = 0;
  /// Records that cannot be written in this format (influx: no representable field) and were
  /// dropped, in this call.
  uint64_t records_skipped = 0;
  /// Records held in the buffer after this call (interval flushing).
  uint64_t records_buffered = 0;
  /// New names of files closed by rotation in this call.
  std::vector<std::filesystem::path> rotated_files;
  /// Rotated files deleted because of max_files in this call.
  std::vector<std::filesystem::path> removed_files;
};

/// Writes records to one rotating file. Not thread-safe: one owner (the sink actor).
///
/// On an io_error from write()/flush()/tick(): `records_written` tells what reached the file;
/// when `data_kept` is true the rest is buffered in order and the next flush() retries it (do not
/// send those records again); when false the records of that write() call were not accepted.
class file_writer {
public:
  explicit file_writer(writer_options opts);
  /// Flushes and closes, ignoring errors; call close() first to see them.
  ~file_writer();
  file_writer(const file_writer&) = delete;
  file_writer& operator=(const file_writer&) = delete;

  /// Creates missing folders, opens (or creates) the file for appending and repairs a partial
  /// last line. write() opens on first use when open() was not called.
  expected<open_info> open();

  /// Encodes `records`, rotating as needed, and flushes per the flush policy.
  expected<write_info> write(std::span<const record> records);

  /// For a timer: flushes when the flush interval is due and rotates when the rotation interval
  /// is due. Cheap when there is nothing to do.
  expected<write_info> tick();

  /// Writes everything buffered now.
  expected<write_info> flush();

  /// Rotates now (a non-empty file only).
  expected<write_info> rotate();

  /// Flushes, fsyncs (policy rotate or every_batch) and closes. open() or write() reopen.
  expected<write_info> close();

  /// Drops the buffered, unwritten lines (e.g. after the actor gave up retrying); returns how
  /// many records they held.
  uint64_t discard_buffer();

  [[nodiscard]] const std::filesystem::path& path() const { return opts_.path; }
  /// Size of the active file as written so far (without the buffer).
  [[nodiscard]] uint64_t file_size() const { return file_size_; }
  [[nodiscard]] std::size_t buffered_bytes() const { return buffered_bytes_; }
  [[nodiscard]] uint64_t buffered_records() const { return buffered_records_; }
  [[nodiscard]] const writer_options& options() const { return opts_; }

  /// The rotated files of this sink (matching `<stem>-<stamp><ext>` next to the active file),
  /// oldest first.
  [[nodiscard]] std::vector<std::filesystem::path> rotated_files() const;

private:
  /// Lines for one file; `rotate_before` closes the current file first.
  struct segment {
    bool rotate_before = false;
    std::string data;
    uint64_t records = 0;
  };

  int64_t now() const;
  std::optional<io_error> ensure_open(open_info* info);
  std::optional<io_error> rotate_file(write_info& info);
  std::optional<io_error> write_segment(segment& seg, write_info& info);
  std::optional<io_error> flush_all(write_info& info);
  void start_new_projected_file();
  bool time_rotation_due() const;
  segment& current_segment();
  void finish(write_info& info) const { info.records_buffered = buffered_records_; }

  writer_options opts_;
  int fd_ = -1;
  uint64_t file_size_ = 0;
  /// Size the active file will have once the buffer is flushed (for size rotation); of the
  /// future file when a rotation is pending in the buffer.
  uint64_t projected_size_ = 0;
  /// When the (projected) active file was started, for time rotation.
  int64_t opened_at_ns_ = 0;
  int64_t last_flush_ns_ = 0;
  csv_schema schema_;
  std::deque<segment> pending_;
  std::size_t buffered_bytes_ = 0;
  uint64_t buffered_records_ = 0;
  int64_t last_stamp_ns_ = 0;
  std::unique_ptr<influxdb::line_encoder> influx_;
};

} // namespace wattline::file_io
