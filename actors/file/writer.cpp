#include "actors/file/writer.hpp"

#include "actors/file/jsonl.hpp"
#include "actors/file/time_format.hpp"
#include "sinks/influxdb/line_protocol.hpp"

#include <algorithm>
#include <cerrno>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace wattline::file_io {

namespace {

namespace fs = std::filesystem;

/// Best effort: some file systems refuse fsync on a directory.
void fsync_directory(const fs::path& dir) {
  int fd = ::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0)
    return;
  (void)::fsync(fd);
  ::close(fd);
}

/// Cuts a partial last line (bytes after the last '\n') from the open file `fd` of `size` bytes;
/// returns the new size, or -1 with errno set.
int64_t truncate_partial_line(int fd, uint64_t size) {
  if (size == 0)
    return 0;
  char buf[64 * 1024];
  uint64_t end = size;
  while (end > 0) {
    uint64_t start = end > sizeof(buf) ? end - sizeof(buf) : 0;
    auto len = static_cast<size_t>(end - start);
    ssize_t n = ::pread(fd, buf, len, static_cast<off_t>(start));
    if (n < 0)
      return -1;
    if (static_cast<size_t>(n) != len) {
      errno = EIO;
      return -1;
    }
    if (end == size && buf[len - 1] == '\n')
      return static_cast<int64_t>(size); // ends with a whole line
    for (size_t i = len; i-- > 0;) {
      if (buf[i] == '\n') {
        uint64_t keep = start + i + 1;
        if (::ftruncate(fd, static_cast<off_t>(keep)) != 0)
          return -1;
        return static_cast<int64_t>(keep);
      }
    }
    end = start;
  }
  if (::ftruncate(fd, 0) != 0)
    return -1;
  return 0;
}

/// Finds the end of the last complete record by scanning the whole file from its start with
/// `step(c)`, which returns true when `c` ends a record; cuts the rest. Used for formats whose
/// quoted values may hold raw line breaks. Returns the new size, or -1 with errno set.
template <class Step>
int64_t truncate_after_last_record(int fd, uint64_t size, Step step) {
  char buf[64 * 1024];
  uint64_t boundary = 0;
  for (uint64_t pos = 0; pos < size;) {
    auto len = static_cast<size_t>(std::min<uint64_t>(sizeof(buf), size - pos));
    ssize_t n = ::pread(fd, buf, len, static_cast<off_t>(pos));
    if (n <= 0) {
      if (n == 0)
        errno = EIO;
      return -1;
    }
    for (ssize_t i = 0; i < n; ++i)
      if (step(buf[i]))
        boundary = pos + static_cast<uint64_t>(i) + 1;
    pos += static_cast<uint64_t>(n);
  }
  if (boundary != size && ::ftruncate(fd, static_cast<off_t>(boundary)) != 0)
    return -1;
  return static_cast<int64_t>(boundary);
}

/// CSV (RFC 4180): a record ends at a '\n' outside quotes; `""` toggles twice.
int64_t truncate_partial_csv_record(int fd, uint64_t size) {
  bool in_quotes = false;
  return truncate_after_last_record(fd, size, [&](char c) {
    if (c == '"')
      in_quotes = !in_quotes;
    return c == '\n' && !in_quotes;
  });
}

/// Line protocol: measurement and tags (backslash escapes) up to an unescaped space, then fields
/// where `="` opens a string value (backslash escapes, ends at an unescaped `"`), then the
/// timestamp; a record ends at a '\n' outside a string value.
int64_t truncate_partial_lp_record(int fd, uint64_t size) {
  enum class part { series, fields, string, timestamp } state = part::series;
  bool escaped = false;
  char prev = 0;
  return truncate_after_last_record(fd, size, [&](char c) {
    char before = prev;
    prev = c;
    if (escaped) {
      escaped = false;
      prev = 0; // an escaped character never opens or closes anything
      return false;
    }
    if (state == part::string) {
      if (c == '\\')
        escaped = true;
      else if (c == '"')
        state = part::fields;
      return false;
    }
    if (c == '\n') {
      state = part::series;
      prev = 0;
      return true;
    }
    switch (state) {
    case part::series:
      if (c == '\\')
        escaped = true;
      else if (c == ' ')
        state = part::fields;
      break;
    case part::fields:
      if (c == '\\')
        escaped = true;
      else if (c == '"' && before == '=')
        state = part::string;
      else if (c == ' ')
        state = part::timestamp;
      break;
    default:
      break;
    }
    return false;
  });
}

} // namespace

std::optional<output_format> parse_output_format(std::string_view name) {
  if (name == "jsonl")
    return output_format::jsonl;
  if (name == "csv")
    return output_format::csv;
  if (name == "influx")
    return output_format::influx;
  return std::nullopt;
}

std::optional<flush_policy> parse_flush_policy(std::string_view name) {
  if (name == "every_batch")
    return flush_policy::every_batch;
  if (name == "interval")
    return flush_policy::interval;
  return std::nullopt;
}

std::optional<fsync_policy> parse_fsync_policy(std::string_view name) {
  if (name == "never")
    return fsync_policy::never;
  if (name == "rotate")
    return fsync_policy::rotate;
  if (name == "every_batch")
    return fsync_policy::every_batch;
  return std::nullopt;
}

const char* to_string(output_format f) {
  switch (f) {
  case output_format::jsonl:
    return "jsonl";
  case output_format::csv:
    return "csv";
  default:
    return "influx";
  }
}

file_writer::file_writer(writer_options opts) : opts_(std::move(opts)) {
  if (opts_.format == output_format::influx)
    influx_ = std::make_unique<influxdb::line_encoder>(influxdb::encoder_options{
        influxdb::precision::ns, opts_.influx_unsigned ? influxdb::uint_encoding::unsigned_suffix
                                                       : influxdb::uint_encoding::integer_clamped});
}

file_writer::~file_writer() {
  (void)close();
}

int64_t file_writer::now() const {
  if (opts_.clock)
    return opts_.clock();
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::optional<io_error> file_writer::ensure_open(open_info* info) {
  if (fd_ >= 0)
    return std::nullopt;
  const std::string path = opts_.path.string();
  if (auto parent = opts_.path.parent_path(); !parent.empty()) {
    std::error_code ec;
    fs::create_directories(parent, ec);
    if (ec)
      return make_os_error("cannot create folder", parent.string(), ec.value());
  }
  // Read-write so that a partial last line can be found and cut; O_APPEND for the writes.
  int fd = ::open(opts_.path.c_str(), O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0)
    return make_os_error("cannot open", path, errno);
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    int err = errno;
    ::close(fd);
    return make_os_error("cannot stat", path, err);
  }
  uint64_t size = static_cast<uint64_t>(st.st_size);
  uint64_t kept = size;
  if (S_ISREG(st.st_mode) && size > 0) {
    int64_t r = opts_.format == output_format::csv      ? truncate_partial_csv_record(fd, size)
                : opts_.format == output_format::influx ? truncate_partial_lp_record(fd, size)
                                                        : truncate_partial_line(fd, size);
    if (r < 0) {
      int err = errno;
      ::close(fd);
      return make_os_error("cannot repair the last line of", path, err);
    }
    kept = static_cast<uint64_t>(r);
  }
  fd_ = fd;
  file_size_ = kept;
  if (info != nullptr) {
    info->existing_bytes = kept;
    info->truncated_bytes = size - kept;
    if (kept != size)
      info->message = "truncated " + std::to_string(size - kept) +
                      " bytes of a partial last line in " + path + " (left by an earlier crash)";
  }
  return std::nullopt;
}

expected<open_info> file_writer::open() {
  open_info info;
  info.path = opts_.path;
  if (fd_ >= 0) {
    info.existing_bytes = file_size_;
    return info;
  }
  if (auto err = ensure_open(&info))
    return *err;
  opened_at_ns_ = last_flush_ns_ = now();
  if (pending_.empty()) {
    projected_size_ = file_size_;
    if (opts_.format == output_format::csv && file_size_ > 0) {
      // The existing header is not trusted for appending: start a new file.
      write_info wi;
      if (auto err = rotate_file(wi))
        return *err;
      if (!wi.rotated_files.empty()) {
        info.rotated_existing = wi.rotated_files.front();
        if (!info.message.empty())
          info.message += "; ";
        info.message += "moved the existing csv file to " + wi.rotated_files.front().string();
      }
      projected_size_ = file_size_;
      schema_ = {};
    }
  }
  return info;
}

std::vector<fs::path> file_writer::rotated_files() const {
  std::vector<fs::path> out;
  const fs::path dir = opts_.path.parent_path().empty() ? fs::path(".") : opts_.path.parent_path();
  const std::string prefix = opts_.path.stem().string() + "-";
  const std::string ext = opts_.path.extension().string();
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    std::string name = it->path().filename().string();
    if (name.size() != prefix.size() + 26 + ext.size() ||
        name.compare(0, prefix.size(), prefix) != 0 ||
        name.compare(name.size() - ext.size(), ext.size(), ext) != 0)
      continue;
    if (!is_file_stamp(std::string_view(name).substr(prefix.size(), 26)))
      continue;
    out.push_back(opts_.path.parent_path() / name);
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::optional<io_error> file_writer::rotate_file(write_info& info) {
  const std::string path = opts_.path.string();
  if (fd_ >= 0) {
    if (opts_.fsync != fsync_policy::never && ::fsync(fd_) != 0) {
      // Keep the file open: nothing was renamed, the caller may retry.
      return make_os_error("cannot fsync", path, errno);
    }
    ::close(fd_);
    fd_ = -1;
  }
  struct stat st {};
  const fs::path dir = opts_.path.parent_path();
  if (::stat(opts_.path.c_str(), &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0) {
    int64_t stamp = std::max(now(), last_stamp_ns_ + 1);
    fs::path target;
    for (;; ++stamp) {
      target = dir / (opts_.path.stem().string() + "-" + format_file_stamp(stamp) +
                      opts_.path.extension().string());
      struct stat existing {};
      if (::lstat(target.c_str(), &existing) != 0)
        break;
    }
    if (::rename(opts_.path.c_str(), target.c_str()) != 0)
      return make_os_error("cannot rotate (rename to " + target.string() + ")", path, errno);
    last_stamp_ns_ = stamp;
    info.rotated_files.push_back(target);
  }
  file_size_ = 0;
  auto err = ensure_open(nullptr);
  fsync_directory(dir);
  if (err)
    return err;
  if (opts_.max_files > 0) {
    auto files = rotated_files();
    for (std::size_t i = 0; i + opts_.max_files < files.size(); ++i) {
      std::error_code ec;
      if (fs::remove(files[i], ec))
        info.removed_files.push_back(files[i]);
    }
  }
  return std::nullopt;
}

std::optional<io_error> file_writer::write_segment(segment& seg, write_info& info) {
  if (seg.rotate_before) {
    if (auto err = rotate_file(info))
      return err;
    seg.rotate_before = false;
  }
  if (seg.data.empty())
    return std::nullopt;
  if (auto err = ensure_open(nullptr))
    return err;
  const char* data = seg.data.data();
  std::size_t left = seg.data.size();
  while (left > 0) {
    ssize_t n = ::write(fd_, data, left);
    if (n < 0) {
      if (errno == EINTR)
        continue;
      int err = errno;
      // Never leave a partial line: cut the file back to its size before this write.
      if (left != seg.data.size())
        (void)::ftruncate(fd_, static_cast<off_t>(file_size_));
      return make_os_error("cannot write", opts_.path.string(), err);
    }
    data += n;
    left -= static_cast<std::size_t>(n);
  }
  file_size_ += seg.data.size();
  info.bytes_written += seg.data.size();
  info.records_written += seg.records;
  buffered_bytes_ -= seg.data.size();
  buffered_records_ -= seg.records;
  seg.data.clear();
  seg.records = 0;
  if (opts_.fsync == fsync_policy::every_batch && ::fdatasync(fd_) != 0)
    return make_os_error("cannot fsync", opts_.path.string(), errno);
  return std::nullopt;
}

std::optional<io_error> file_writer::flush_all(write_info& info) {
  if (pending_.empty())
    return std::nullopt;
  while (!pending_.empty()) {
    if (auto err = write_segment(pending_.front(), info)) {
      err->records_written = info.records_written;
      err->data_kept = buffered_records_ > 0;
      if (pending_.front().data.empty() && !pending_.front().rotate_before)
        pending_.pop_front(); // written; only its fdatasync failed
      return err;
    }
    pending_.pop_front();
  }
  last_flush_ns_ = now();
  return std::nullopt;
}

void file_writer::start_new_projected_file() {
  pending_.push_back(segment{true, {}, 0});
  projected_size_ = 0;
  schema_ = {};
  opened_at_ns_ = now();
}

bool file_writer::time_rotation_due() const {
  return opts_.rotate_interval_secs > 0 && projected_size_ > 0 &&
         now() - opened_at_ns_ >= opts_.rotate_interval_secs * 1'000'000'000;
}

file_writer::segment& file_writer::current_segment() {
  if (pending_.empty())
    pending_.emplace_back();
  return pending_.back();
}

expected<write_info> file_writer::write(std::span<const record> records) {
  write_info info;
  if (fd_ < 0 && pending_.empty()) {
    auto opened = open();
    if (!opened)
      return opened.error();
  }
  if (buffered_bytes_ > opts_.max_buffer_bytes) {
    if (auto err = flush_all(info)) {
      err->message = "buffer full (" + std::to_string(buffered_bytes_) +
                     " bytes not written), records refused: " + err->message;
      err->data_kept = false;
      return *err;
    }
  }
  if (time_rotation_due())
    start_new_projected_file();
  auto size_exceeded = [&](std::size_t n) {
    return opts_.max_bytes > 0 && projected_size_ > 0 && projected_size_ + n > opts_.max_bytes;
  };
  std::string line;
  for (const auto& r : records) {
    line.clear();
    switch (opts_.format) {
    case output_format::jsonl:
      append_jsonl(line, r);
      if (size_exceeded(line.size()))
        start_new_projected_file();
      break;
    case output_format::influx:
      if (!influx_->encode(r, line)) {
        ++info.records_skipped;
        continue;
      }
      if (size_exceeded(line.size()))
        start_new_projected_file();
      break;
    case output_format::csv: {
      auto encode = [&] {
        line.clear();
        if (projected_size_ == 0) {
          schema_ = csv_schema(r);
          schema_.append_header(line);
        }
        schema_.append_row(line, r);
      };
      if (projected_size_ > 0 && !schema_.fits(r))
        start_new_projected_file();
      encode();
      if (size_exceeded(line.size())) {
        start_new_projected_file();
        encode();
      }
      break;
    }
    }
    auto& seg = current_segment();
    seg.data += line;
    ++seg.records;
    projected_size_ += line.size();
    buffered_bytes_ += line.size();
    ++buffered_records_;
  }
  bool due = opts_.flush == flush_policy::every_batch ||
             now() - last_flush_ns_ >=
                 std::chrono::duration_cast<std::chrono::nanoseconds>(opts_.flush_interval).count();
  if (due) {
    if (auto err = flush_all(info))
      return *err;
  }
  finish(info);
  return info;
}

expected<write_info> file_writer::tick() {
  write_info info;
  if (fd_ < 0 && pending_.empty())
    return info; // closed (or never opened): nothing to flush or rotate
  bool rotate_now = time_rotation_due();
  if (rotate_now)
    start_new_projected_file();
  bool due = rotate_now || opts_.flush == flush_policy::every_batch ||
             now() - last_flush_ns_ >=
                 std::chrono::duration_cast<std::chrono::nanoseconds>(opts_.flush_interval).count();
  if (due && !pending_.empty()) {
    if (auto err = flush_all(info))
      return *err;
  }
  finish(info);
  return info;
}

expected<write_info> file_writer::flush() {
  write_info info;
  if (auto err = flush_all(info))
    return *err;
  finish(info);
  return info;
}

expected<write_info> file_writer::rotate() {
  write_info info;
  if (fd_ < 0 && pending_.empty()) {
    auto opened = open();
    if (!opened)
      return opened.error();
  }
  if (projected_size_ > 0)
    start_new_projected_file();
  if (auto err = flush_all(info))
    return *err;
  finish(info);
  return info;
}

expected<write_info> file_writer::close() {
  write_info info;
  if (auto err = flush_all(info))
    return *err;
  if (fd_ >= 0) {
    int rc = opts_.fsync != fsync_policy::never ? ::fsync(fd_) : 0;
    int err = errno;
    ::close(fd_);
    fd_ = -1;
    if (rc != 0)
      return make_os_error("cannot fsync", opts_.path.string(), err);
  }
  finish(info);
  return info;
}

uint64_t file_writer::discard_buffer() {
  uint64_t n = buffered_records_;
  pending_.clear();
  buffered_bytes_ = 0;
  buffered_records_ = 0;
  projected_size_ = file_size_;
  schema_ = {};
  return n;
}

} // namespace wattline::file_io
