#pragma once

// Batches of encoded lines and the size/time-based batching policy. Pure logic with an injectable
// clock; no I/O, no CAF.

#include "engine/record.hpp"
#include "sinks/influxdb/line_protocol.hpp"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace wattline::influxdb {

/// A sequence of line-protocol lines stored contiguously ("line\nline\n..."), ready to be posted
/// as one request body. Lines may contain raw newlines inside quoted string fields, so line
/// boundaries are kept as offsets, never found by searching for '\n'.
class line_batch {
public:
  /// Appends one line; a trailing '\n' is added when missing.
  void append_line(std::string_view line);

  /// Encodes `rec` with `enc` directly into the batch. Returns false when the record produced no
  /// line.
  bool append_record(line_encoder& enc, const record& rec);

  /// Number of lines.
  [[nodiscard]] size_t size() const { return ends_.size(); }

  /// True when the batch holds no line.
  [[nodiscard]] bool empty() const { return ends_.empty(); }

  /// Size of the request body in bytes.
  [[nodiscard]] size_t bytes() const { return data_.size(); }

  /// Line `i` without its trailing '\n'.
  [[nodiscard]] std::string_view line(size_t i) const;

  /// All lines, each terminated by '\n': the request body.
  [[nodiscard]] std::string_view payload() const { return data_; }

  /// A new batch holding the lines at `indices` (in the given order). `server_errors` is copied.
  [[nodiscard]] line_batch select(const std::vector<size_t>& indices) const;

  /// Splits into two halves by line count (first half gets the extra line); for 413 handling.
  [[nodiscard]] std::pair<line_batch, line_batch> split() const;

  /// Removes all lines and resets the error counter; keeps the allocated capacity.
  void clear();

  /// Reserves room for `bytes` of lines and `lines` lines.
  void reserve(size_t bytes, size_t lines);

  /// Number of server errors (5xx without a recognised cause) this batch has met so far. The
  /// writer increments it and gives up on the batch at `writer_options::max_server_errors`, so a
  /// poison batch whose error the writer does not recognise is never retried forever.
  uint32_t server_errors = 0;

private:
  std::string data_;
  std::vector<uint32_t> ends_; // offset one past each line's '\n'
};

/// Batching limits.
struct batch_options {
  /// A batch is complete at this many lines (InfluxDB's recommended 5000).
  size_t max_lines = 5000;
  /// A batch is complete before it would exceed this many bytes (InfluxDB 1.x rejects bodies over
  /// 25,000,000 bytes by default). A single longer line still forms a batch on its own.
  size_t max_bytes = 10'000'000;
  /// A non-empty batch is complete this long after its first line arrived.
  std::chrono::milliseconds interval{1000};
};

/// Accumulates lines into batches by count, size and age. Completed batches queue up in order
/// until taken. The clock is injectable for tests; the caller drives time through `poll()`, e.g.
/// from a timer set to `next_deadline()`.
class batcher {
public:
  /// Clock type for deadlines.
  using clock = std::chrono::steady_clock;
  /// Returns the current time; injectable.
  using clock_fn = std::function<clock::time_point()>;

  /// Creates a batcher; `now` defaults to steady_clock::now.
  explicit batcher(batch_options opts = {}, clock_fn now = {});

  /// Encodes and adds a record. Returns true when a batch is ready afterwards.
  bool add(line_encoder& enc, const record& rec);

  /// Adds an already encoded line (without or with its '\n'). Returns true when a batch is ready
  /// afterwards.
  bool add_line(std::string_view line);

  /// Completes the open batch when its interval has passed. Returns true when a batch is ready.
  bool poll();

  /// Completes the open batch now (e.g. at shutdown) if it holds lines.
  void flush();

  /// True when a completed batch waits to be taken.
  [[nodiscard]] bool ready() const { return !ready_.empty(); }

  /// Takes the oldest completed batch; precondition: ready().
  line_batch take();

  /// When the open batch becomes due; nullopt when it is empty.
  [[nodiscard]] std::optional<clock::time_point> next_deadline() const;

  /// Lines in the open batch.
  [[nodiscard]] size_t pending_lines() const { return open_.size(); }

  /// Lines in completed batches not yet taken.
  [[nodiscard]] size_t ready_lines() const { return ready_lines_; }

  /// The options.
  [[nodiscard]] const batch_options& options() const { return opts_; }

private:
  void complete();
  bool after_append();

  batch_options opts_;
  clock_fn now_;
  line_batch open_;
  clock::time_point opened_at_{};
  std::deque<line_batch> ready_;
  size_t ready_lines_ = 0;
  std::string scratch_;
};

} // namespace wattline::influxdb
