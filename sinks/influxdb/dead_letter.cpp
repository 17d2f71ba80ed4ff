#include "sinks/influxdb/dead_letter.hpp"

#include "sinks/influxdb/writer.hpp"

#include <cerrno>
#include <ctime>
#include <fcntl.h>
#include <system_error>
#include <unistd.h>

namespace wattline::influxdb {

namespace {

// Length of the valid UTF-8 sequence starting at s[i], or 0 when invalid.
size_t utf8_length(std::string_view s, size_t i) {
  auto b = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  unsigned char c = b(i);
  size_t n = 0;
  uint32_t min = 0;
  if (c < 0x80)
    return 1;
  if ((c & 0xE0) == 0xC0) {
    n = 2;
    min = 0x80;
  } else if ((c & 0xF0) == 0xE0) {
    n = 3;
    min = 0x800;
  } else if ((c & 0xF8) == 0xF0) {
    n = 4;
    min = 0x10000;
  } else
    return 0;
  if (i + n > s.size())
    return 0;
  uint32_t cp = c & (0x7F >> n);
  for (size_t k = 1; k < n; ++k) {
    if ((b(i + k) & 0xC0) != 0x80)
      return 0;
    cp = (cp << 6) | (b(i + k) & 0x3F);
  }
  if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
    return 0;
  return n;
}

} // namespace

void append_json_string(std::string& out, std::string_view s) {
  static constexpr char hex[] = "0123456789abcdef";
  out.push_back('"');
  for (size_t i = 0; i < s.size();) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c >= 0x80) {
      size_t n = utf8_length(s, i);
      if (n == 0) {
        out.append("\xEF\xBF\xBD"); // U+FFFD
        ++i;
      } else {
        out.append(s.substr(i, n));
        i += n;
      }
      continue;
    }
    switch (c) {
    case '"':
      out.append("\\\"");
      break;
    case '\\':
      out.append("\\\\");
      break;
    case '\n':
      out.append("\\n");
      break;
    case '\r':
      out.append("\\r");
      break;
    case '\t':
      out.append("\\t");
      break;
    default:
      if (c < 0x20) {
        out.append("\\u00");
        out.push_back(hex[c >> 4]);
        out.push_back(hex[c & 0xF]);
      } else
        out.push_back(static_cast<char>(c));
    }
    ++i;
  }
  out.push_back('"');
}

std::string format_rfc3339(std::chrono::system_clock::time_point t) {
  auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
  time_t secs = static_cast<time_t>(ns / 1'000'000'000);
  long frac = static_cast<long>(ns % 1'000'000'000);
  if (frac < 0) {
    frac += 1'000'000'000;
    --secs;
  }
  std::tm tm{};
  ::gmtime_r(&secs, &tm);
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02d.%09ldZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, frac);
  return buf;
}

dead_letter_file::dead_letter_file(dead_letter_options opts) : opts_(std::move(opts)) {
  std::error_code ec;
  if (opts_.path.has_parent_path())
    std::filesystem::create_directories(opts_.path.parent_path(), ec);
  fd_ = ::open(opts_.path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd_ < 0)
    throw std::system_error(errno, std::generic_category(),
                            "influxdb sink \"" + opts_.sink + "\": cannot open dead-letter file " +
                                opts_.path.string());
}

dead_letter_file::~dead_letter_file() {
  if (fd_ >= 0)
    ::close(fd_);
}

void dead_letter_file::add_entry(std::string_view line, std::string_view reason,
                                 std::string_view url) {
  buf_.append("{\"time\":\"");
  buf_.append(format_rfc3339(std::chrono::system_clock::now()));
  buf_.append("\",\"sink\":");
  append_json_string(buf_, opts_.sink);
  if (!url.empty()) {
    buf_.append(",\"url\":");
    append_json_string(buf_, url);
  }
  buf_.append(",\"reason\":");
  append_json_string(buf_, reason);
  buf_.append(",\"line\":");
  append_json_string(buf_, line);
  buf_.append("}\n");
}

void dead_letter_file::write_buffer() {
  size_t off = 0;
  while (off < buf_.size()) {
    ssize_t n = ::write(fd_, buf_.data() + off, buf_.size() - off);
    if (n < 0) {
      if (errno == EINTR)
        continue;
      int err = errno;
      buf_.clear();
      throw std::system_error(err, std::generic_category(),
                              "influxdb sink \"" + opts_.sink +
                                  "\": cannot append to dead-letter file " + opts_.path.string());
    }
    off += static_cast<size_t>(n);
  }
  buf_.clear();
  if (opts_.fsync)
    ::fsync(fd_);
}

void dead_letter_file::append(const std::vector<rejected_line>& lines, std::string_view url) {
  if (lines.empty())
    return;
  buf_.clear();
  for (const auto& r : lines)
    add_entry(r.line, r.reason, url);
  write_buffer();
  entries_ += lines.size();
}

void dead_letter_file::append(std::string_view line, std::string_view reason,
                              std::string_view url) {
  buf_.clear();
  add_entry(line, reason, url);
  write_buffer();
  ++entries_;
}

} // namespace wattline::influxdb
