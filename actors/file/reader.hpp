#pragma once

// File source core: replays a capture file as byte chunks (binary, hex) or record batches
// (jsonl), with the pacing delay each result should wait before it is emitted. The core never
// sleeps and owns no thread: the actor calls next(), waits `delay` with a timer, emits, repeats.

#include "actors/file/error.hpp"
#include "actors/file/pacing.hpp"
#include "engine/record.hpp"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace wattline::file_io {

/// What the file holds.
enum class input_format {
  /// Raw bytes, emitted as chunks of `chunk_size_bytes`.
  binary,
  /// Hex text: pairs of hex digits, any case; whitespace separates tokens and `#` starts a comment
  /// to the end of the line. Every token must have an even number of digits ("7EA0 1F" is fine,
  /// "7 E" is an error). The decoded bytes are emitted like binary.
  hex,
  /// One record per line in the file sink's JSON form (actors/file/jsonl.hpp); blank lines are
  /// skipped.
  jsonl,
};

/// "binary", "hex", "jsonl" -> the format; nothing for other names.
[[nodiscard]] std::optional<input_format> parse_input_format(std::string_view name);
[[nodiscard]] const char* to_string(input_format f);

struct reader_options {
  std::filesystem::path path;
  input_format format = input_format::binary;
  /// binary and hex: bytes per chunk (the last chunk of a pass may be shorter). At least 1.
  std::size_t chunk_size_bytes = 4096;
  /// Replay speed; `realtime` applies to jsonl only (other formats treat it as no delay).
  pacing pace;
  /// Passes over the file; 0 = forever (a file without any data ends anyway).
  uint64_t loops = 1;
  /// jsonl: most records per batch. At least 1.
  std::size_t max_batch = 1000;
  /// Clock for chunk receive times, nanoseconds since the epoch; empty = system clock.
  std::function<int64_t()> clock;
};

/// A problem in the file's content.
struct read_error {
  /// Located message: "capture.hex:3:7: invalid hex character 'g'" or
  /// "meter.jsonl:12: invalid JSON: ...". Lines and columns are 1-based, columns in bytes.
  std::string message;
  uint64_t line = 0;
  /// 0 when the error is about a whole line (jsonl).
  uint64_t column = 0;
  /// True when the replay stops here (hex errors, I/O errors); false for a bad jsonl line: the
  /// line is skipped, counted, and the next call goes on with the following line.
  bool fatal = false;
};

/// One result of file_reader::next().
struct read_result {
  enum class kind {
    /// `bytes` holds the next chunk (binary, hex).
    bytes,
    /// `records` holds the next batch (jsonl), never empty.
    records,
    /// No more data: all passes done, or stopped after a fatal error. Repeats on further calls.
    end,
    /// `error` says what went wrong; see read_error::fatal.
    error,
  };
  kind what = kind::end;
  /// How long to wait before emitting this result (pacing); zero for end and error.
  std::chrono::nanoseconds delay{0};
  chunk bytes;
  std::vector<record> records;
  read_error error;
};

/// Replays one capture file. Not thread-safe: one owner (the source actor).
class file_reader {
public:
  explicit file_reader(reader_options opts);
  ~file_reader();
  file_reader(const file_reader&) = delete;
  file_reader& operator=(const file_reader&) = delete;

  /// Opens the file; returns its size in bytes, or why it cannot be read. next() opens it on
  /// first use when open() was not called (an open failure is then a fatal read error).
  expected<uint64_t> open();

  /// The next chunk or batch with its pacing delay, the end, or an error.
  read_result next();

  /// Bytes read / total: total is file size x loops for a finite loop count, the file size for
  /// loops = 0 (then it is the progress of the current pass). 1 once the end was reached.
  [[nodiscard]] double progress() const;
  /// Bytes consumed in the current pass.
  [[nodiscard]] uint64_t position() const { return pass_pos_; }
  /// File size in bytes (0 before open).
  [[nodiscard]] uint64_t size() const { return size_; }
  /// Zero-based index of the current pass.
  [[nodiscard]] uint64_t pass() const { return pass_; }
  /// Content errors so far (bad jsonl lines, hex errors), all passes.
  [[nodiscard]] uint64_t errors() const { return errors_; }
  [[nodiscard]] const reader_options& options() const { return opts_; }

private:
  int next_byte(); // -1 at end of pass; -2 on I/O error (io_error_ set)
  bool rewind_for_next_pass();
  read_result next_bytes();
  read_result next_hex();
  read_result next_records();
  read_result make_error(std::string message, uint64_t line, uint64_t column, bool fatal);
  read_result finish_pass_or_end();
  int64_t now() const;

  reader_options opts_;
  std::string name_; // file name for messages
  int fd_ = -1;
  uint64_t size_ = 0;
  uint64_t pass_ = 0;
  uint64_t pass_pos_ = 0;
  bool pass_had_data_ = false;
  bool done_ = false;
  uint64_t errors_ = 0;
  std::string io_error_;
  std::vector<uint8_t> buf_;
  std::size_t buf_pos_ = 0;
  std::size_t buf_len_ = 0;
  // Parser state of the current pass.
  uint64_t line_ = 1;
  uint64_t column_ = 0;
  // hex
  bool in_comment_ = false;
  int nibble_ = -1;
  uint64_t token_digits_ = 0;
  uint64_t token_line_ = 0;
  uint64_t token_column_ = 0;
  // A result held back until the data before it was emitted.
  std::optional<read_result> held_;
  // jsonl realtime
  std::optional<record> lookahead_;
  uint64_t lookahead_bytes_ = 0;
  std::optional<int64_t> last_time_;
};

} // namespace wattline::file_io
