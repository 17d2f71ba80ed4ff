#pragma once

// Dead-letter file: lines the server will never accept, with the reason, one JSON object per line:
//   {"time":"2026-11-21T15:49:32.123456789Z","sink":"influx","url":"http://host:8086",
//    "reason":"partial write: field type conflict: ...","line":"m,a=1 f=4i 4000"}
// Each entry is written with a single write(2) on a file opened with O_APPEND, so concurrent
// writers (threads or processes) never interleave inside an entry.

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace wattline::influxdb {

struct rejected_line;

/// Dead-letter file options.
struct dead_letter_options {
  /// File to append to; created (with parent directories) when missing.
  std::filesystem::path path;
  /// Sink name written into each entry.
  std::string sink;
  /// fsync after each append call (slower; survives power loss).
  bool fsync = false;
};

/// Appends rejected lines to a JSON-lines file. Not thread-safe per instance (use one per actor);
/// safe across instances and processes.
class dead_letter_file {
public:
  /// Opens (creates) the file; throws std::system_error naming the path on failure.
  explicit dead_letter_file(dead_letter_options opts);
  ~dead_letter_file();
  dead_letter_file(const dead_letter_file&) = delete;
  dead_letter_file& operator=(const dead_letter_file&) = delete;

  /// Appends one entry per line in `lines` (each with its own reason). `url` is the credential-free
  /// server URL. Throws std::system_error on I/O errors.
  void append(const std::vector<rejected_line>& lines, std::string_view url = {});

  /// Appends one entry.
  void append(std::string_view line, std::string_view reason, std::string_view url = {});

  /// Entries written by this instance.
  [[nodiscard]] uint64_t entries() const { return entries_; }

  /// The file path.
  [[nodiscard]] const std::filesystem::path& path() const { return opts_.path; }

private:
  void add_entry(std::string_view line, std::string_view reason, std::string_view url);
  void write_buffer();

  dead_letter_options opts_;
  int fd_ = -1;
  uint64_t entries_ = 0;
  std::string buf_;
};

/// Appends `text` as a JSON string literal (with quotes) to `out`. Control characters are escaped;
/// invalid UTF-8 bytes are replaced by U+FFFD so the output is always valid JSON.
void append_json_string(std::string& out, std::string_view text);

/// Formats a UTC time as RFC 3339 with nanoseconds, e.g. "2026-11-21T15:49:32.123456789Z".
[[nodiscard]] std::string format_rfc3339(std::chrono::system_clock::time_point t);

} // namespace wattline::influxdb
