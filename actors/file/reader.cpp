#include "actors/file/reader.hpp"

#include "actors/file/jsonl.hpp"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace wattline::file_io {

namespace {

constexpr std::size_t read_buffer_size = 64 * 1024;

int hex_value(int c) {
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

std::string describe_char(int c) {
  if (c >= 0x21 && c < 0x7f)
    return std::string("'") + static_cast<char>(c) + "'";
  char buf[16];
  std::snprintf(buf, sizeof(buf), "0x%02X", c);
  return buf;
}

} // namespace

std::optional<input_format> parse_input_format(std::string_view name) {
  if (name == "binary")
    return input_format::binary;
  if (name == "hex")
    return input_format::hex;
  if (name == "jsonl")
    return input_format::jsonl;
  return std::nullopt;
}

const char* to_string(input_format f) {
  switch (f) {
  case input_format::binary:
    return "binary";
  case input_format::hex:
    return "hex";
  default:
    return "jsonl";
  }
}

file_reader::file_reader(reader_options opts) : opts_(std::move(opts)) {
  if (opts_.chunk_size_bytes == 0)
    opts_.chunk_size_bytes = 1;
  if (opts_.max_batch == 0)
    opts_.max_batch = 1;
  name_ = opts_.path.filename().string();
}

file_reader::~file_reader() {
  if (fd_ >= 0)
    ::close(fd_);
}

int64_t file_reader::now() const {
  if (opts_.clock)
    return opts_.clock();
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

expected<uint64_t> file_reader::open() {
  if (fd_ >= 0)
    return size_;
  int fd = ::open(opts_.path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return make_os_error("cannot open", opts_.path.string(), errno);
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    int err = errno;
    ::close(fd);
    return make_os_error("cannot stat", opts_.path.string(), err);
  }
  if (S_ISDIR(st.st_mode)) {
    ::close(fd);
    return make_os_error("cannot read", opts_.path.string(), EISDIR);
  }
  fd_ = fd;
  size_ = static_cast<uint64_t>(st.st_size);
  buf_.resize(read_buffer_size);
  return size_;
}

int file_reader::next_byte() {
  if (buf_pos_ == buf_len_) {
    ssize_t n;
    do {
      n = ::read(fd_, buf_.data(), buf_.size());
    } while (n < 0 && errno == EINTR);
    if (n < 0) {
      io_error_ = make_os_error("cannot read", opts_.path.string(), errno).message;
      return -2;
    }
    if (n == 0)
      return -1;
    buf_pos_ = 0;
    buf_len_ = static_cast<std::size_t>(n);
  }
  int c = buf_[buf_pos_++];
  ++pass_pos_;
  if (c == '\n') {
    ++line_;
    column_ = 0;
  } else {
    ++column_;
  }
  return c;
}

bool file_reader::rewind_for_next_pass() {
  bool more = opts_.loops == 0 || pass_ + 1 < opts_.loops;
  if (!more || !pass_had_data_)
    return false;
  if (::lseek(fd_, 0, SEEK_SET) != 0)
    return false;
  ++pass_;
  pass_pos_ = 0;
  pass_had_data_ = false;
  buf_pos_ = buf_len_ = 0;
  line_ = 1;
  column_ = 0;
  in_comment_ = false;
  nibble_ = -1;
  token_digits_ = 0;
  lookahead_.reset();
  last_time_.reset();
  return true;
}

read_result file_reader::make_error(std::string message, uint64_t line, uint64_t column,
                                    bool fatal) {
  ++errors_;
  read_result r;
  r.what = read_result::kind::error;
  r.error.line = line;
  r.error.column = column;
  r.error.fatal = fatal;
  if (line > 0) {
    r.error.message = name_ + ":" + std::to_string(line);
    if (column > 0)
      r.error.message += ":" + std::to_string(column);
    r.error.message += ": " + message;
  } else {
    r.error.message = std::move(message);
  }
  return r;
}

read_result file_reader::finish_pass_or_end() {
  done_ = true;
  return read_result{};
}

read_result file_reader::next() {
  if (held_) {
    read_result r = std::move(*held_);
    held_.reset();
    if (r.what == read_result::kind::error && r.error.fatal)
      done_ = true;
    return r;
  }
  if (done_)
    return read_result{};
  if (fd_ < 0) {
    auto opened = open();
    if (!opened) {
      done_ = true;
      return make_error(opened.error().message, 0, 0, true);
    }
  }
  read_result r;
  switch (opts_.format) {
  case input_format::binary:
    r = next_bytes();
    break;
  case input_format::hex:
    r = next_hex();
    break;
  default:
    r = next_records();
  }
  if (r.what == read_result::kind::error && r.error.fatal)
    done_ = true;
  return r;
}

read_result file_reader::next_bytes() {
  chunk out;
  out.bytes.reserve(opts_.chunk_size_bytes);
  for (;;) {
    while (out.bytes.size() < opts_.chunk_size_bytes) {
      int c = next_byte();
      if (c == -2)
        return make_error(io_error_, 0, 0, true);
      if (c < 0)
        break;
      out.bytes.push_back(static_cast<uint8_t>(c));
    }
    if (!out.bytes.empty())
      break;
    if (!rewind_for_next_pass())
      return finish_pass_or_end();
  }
  pass_had_data_ = true;
  read_result r;
  r.what = read_result::kind::bytes;
  r.delay = opts_.pace.delay_for_bytes(out.bytes.size());
  out.time_ns = now();
  out.origin = opts_.path.string();
  r.bytes = std::move(out);
  return r;
}

read_result file_reader::next_hex() {
  chunk out;
  std::optional<read_result> error;
  auto end_token = [&] {
    if (token_digits_ % 2 != 0)
      error = make_error("odd number of hex digits (" + std::to_string(token_digits_) +
                             ") in a token: every byte needs two digits",
                         token_line_, token_column_, true);
    token_digits_ = 0;
    nibble_ = -1;
  };
  for (;;) {
    while (!error && out.bytes.size() < opts_.chunk_size_bytes) {
      int c = next_byte();
      if (c == -2) {
        error = make_error(io_error_, 0, 0, true);
        break;
      }
      if (c < 0) {
        end_token();
        break;
      }
      if (in_comment_) {
        if (c == '\n')
          in_comment_ = false;
        continue;
      }
      if (c == '#') {
        end_token();
        in_comment_ = true;
        continue;
      }
      if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f') {
        end_token();
        continue;
      }
      int v = hex_value(c);
      if (v < 0) {
        error = make_error("invalid hex character " + describe_char(c), line_, column_, true);
        break;
      }
      if (token_digits_++ == 0) {
        token_line_ = line_;
        token_column_ = column_;
      }
      if (nibble_ < 0) {
        nibble_ = v;
      } else {
        out.bytes.push_back(static_cast<uint8_t>(nibble_ << 4 | v));
        nibble_ = -1;
      }
    }
    if (!out.bytes.empty() || error)
      break;
    if (!rewind_for_next_pass())
      return finish_pass_or_end();
  }
  if (out.bytes.empty())
    return std::move(*error);
  if (error)
    held_ = std::move(error);
  pass_had_data_ = true;
  read_result r;
  r.what = read_result::kind::bytes;
  r.delay = opts_.pace.delay_for_bytes(out.bytes.size());
  out.time_ns = now();
  out.origin = opts_.path.string();
  r.bytes = std::move(out);
  return r;
}

read_result file_reader::next_records() {
  const bool realtime = opts_.pace.kind == pacing::mode::realtime;
  std::vector<record> batch;
  uint64_t batch_bytes = 0;
  std::string line;
  for (;;) {
    if (lookahead_) {
      batch.push_back(std::move(*lookahead_));
      batch_bytes += lookahead_bytes_;
      lookahead_.reset();
    }
    bool at_end = false;
    while (batch.size() < opts_.max_batch) {
      uint64_t line_no = line_;
      uint64_t consumed = 0;
      line.clear();
      int c;
      while ((c = next_byte()) >= 0) {
        ++consumed;
        if (c == '\n')
          break;
        line.push_back(static_cast<char>(c));
      }
      if (c == -2) {
        auto err = make_error(io_error_, 0, 0, true);
        if (batch.empty())
          return err;
        held_ = std::move(err);
        break;
      }
      if (consumed == 0) {
        at_end = true;
        break;
      }
      if (line.find_first_not_of(" \t\r") == std::string::npos) {
        batch_bytes += consumed;
        continue;
      }
      auto parsed = parse_jsonl(line);
      if (auto* msg = std::get_if<std::string>(&parsed)) {
        batch_bytes += consumed;
        auto err = make_error(*msg, line_no, 0, false);
        if (batch.empty())
          return err;
        held_ = std::move(err);
        break;
      }
      auto& rec = std::get<record>(parsed);
      if (realtime && !batch.empty() && rec.time_ns != batch.front().time_ns) {
        lookahead_ = std::move(rec);
        lookahead_bytes_ = consumed;
        break;
      }
      batch_bytes += consumed;
      batch.push_back(std::move(rec));
    }
    if (!batch.empty())
      break;
    if (at_end && !rewind_for_next_pass())
      return finish_pass_or_end();
  }
  pass_had_data_ = true;
  read_result r;
  r.what = read_result::kind::records;
  if (realtime) {
    int64_t first = batch.front().time_ns;
    if (last_time_ && first > *last_time_)
      r.delay = std::chrono::nanoseconds{first - *last_time_};
    last_time_ = batch.back().time_ns;
  } else {
    r.delay = opts_.pace.delay_for_bytes(batch_bytes);
  }
  r.records = std::move(batch);
  return r;
}

double file_reader::progress() const {
  if (done_)
    return 1.0;
  if (size_ == 0)
    return 0.0;
  if (opts_.loops == 0)
    return static_cast<double>(pass_pos_) / static_cast<double>(size_);
  double total = static_cast<double>(size_) * static_cast<double>(opts_.loops);
  return (static_cast<double>(pass_) * static_cast<double>(size_) +
          static_cast<double>(pass_pos_)) /
         total;
}

} // namespace wattline::file_io
