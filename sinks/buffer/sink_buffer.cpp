#include "sinks/buffer/sink_buffer.hpp"

#include "sinks/buffer/record_codec.hpp"

#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <deque>
#include <fcntl.h>
#include <fstream>
#include <map>
#include <sstream>
#include <stdexcept>
#include <system_error>
#include <unistd.h>

namespace wattline::sink_buffer {

std::optional<buffer_type> parse_buffer_type(std::string_view text) {
  if (text == "memory")
    return buffer_type::memory;
  if (text == "disk")
    return buffer_type::disk;
  return std::nullopt;
}

std::optional<full_policy> parse_full_policy(std::string_view text) {
  if (text == "block")
    return full_policy::block;
  if (text == "drop_oldest")
    return full_policy::drop_oldest;
  return std::nullopt;
}

namespace {

constexpr std::size_t header_size = 8;
/// Entries longer than this are taken for a corrupt length field.
constexpr uint32_t max_entry = 256u << 20;

uint32_t crc_of(std::string_view data) {
  return static_cast<uint32_t>(
      ::crc32(0L, reinterpret_cast<const Bytef*>(data.data()), static_cast<uInt>(data.size())));
}

uint32_t load_u32(const char* p) {
  uint32_t v;
  std::memcpy(&v, p, 4);
  return v;
}

[[noreturn]] void throw_errno(const std::string& what, const std::filesystem::path& p) {
  throw std::system_error(errno, std::generic_category(), what + " " + p.string());
}

// -- memory ------------------------------------------------------------------------------------

class memory_buffer final : public record_buffer {
public:
  explicit memory_buffer(const buffer_options& o) : opts_(o) {}

  append_result append(std::vector<record>& records) override {
    append_result res;
    std::size_t incoming = 0;
    for (const auto& r : records)
      incoming += record_footprint(r);
    if (bytes_ + incoming > opts_.max_bytes && size() > 0) {
      if (opts_.when_full == full_policy::block) {
        res.accepted = false;
        return res;
      }
      while (bytes_ + incoming > opts_.max_bytes && !queue_.empty()) {
        bytes_ -= sizes_.front();
        queue_.pop_front();
        sizes_.pop_front();
        ++res.dropped;
      }
    }
    for (auto& r : records) {
      auto n = record_footprint(r);
      bytes_ += n;
      sizes_.push_back(n);
      queue_.push_back(std::move(r));
    }
    records.clear();
    dropped_total_ += res.dropped;
    return res;
  }

  std::size_t read(std::size_t max_records, std::vector<record>& out) override {
    std::size_t n = std::min(max_records, queue_.size());
    for (std::size_t i = 0; i < n; ++i) {
      out.push_back(std::move(queue_.front()));
      queue_.pop_front();
      flight_sizes_.push_back(sizes_.front());
      sizes_.pop_front();
    }
    return n;
  }

  void ack(std::size_t n) override {
    n = std::min(n, flight_sizes_.size());
    for (std::size_t i = 0; i < n; ++i) {
      bytes_ -= flight_sizes_.front();
      flight_sizes_.pop_front();
    }
  }

  std::size_t size() const override { return queue_.size() + flight_sizes_.size(); }
  std::size_t unread() const override { return queue_.size(); }
  uint64_t bytes() const override { return bytes_; }

private:
  buffer_options opts_;
  std::deque<record> queue_;
  std::deque<std::size_t> sizes_;
  std::deque<std::size_t> flight_sizes_;
  uint64_t bytes_ = 0;
};

// -- disk --------------------------------------------------------------------------------------

/// Position and size of one live log entry.
struct entry_ref {
  uint64_t segment = 0;
  uint64_t offset = 0;
  uint32_t length = 0; // payload length
};

class disk_buffer final : public record_buffer {
public:
  explicit disk_buffer(const buffer_options& o) : opts_(o) {
    std::error_code ec;
    std::filesystem::create_directories(opts_.dir, ec);
    if (ec)
      throw std::system_error(ec, "cannot create buffer directory " + opts_.dir.string());
    replay();
    open_write_segment(last_segment_ + 1);
    write_ack();
  }

  ~disk_buffer() override {
    if (write_fd_ >= 0)
      ::close(write_fd_);
    for (auto& [id, fd] : read_fds_)
      ::close(fd);
  }

  append_result append(std::vector<record>& records) override {
    append_result res;
    if (records.empty())
      return res;
    scratch_.clear();
    payload_.clear();
    std::vector<uint32_t> lengths;
    lengths.reserve(records.size());
    for (const auto& r : records) {
      payload_.clear();
      encode_record(r, payload_);
      lengths.push_back(static_cast<uint32_t>(payload_.size()));
      frame_entry(payload_, scratch_);
    }
    const uint64_t incoming = scratch_.size();
    if (bytes_ + incoming > opts_.max_bytes && size() > 0) {
      if (opts_.when_full == full_policy::block) {
        res.accepted = false;
        return res;
      }
      while (bytes_ + incoming > opts_.max_bytes && !queued_.empty()) {
        bytes_ -= queued_.front().length + header_size;
        queued_.pop_front();
        ++res.dropped;
      }
      dropped_total_ += res.dropped;
    }
    if (write_size_ >= opts_.segment_bytes)
      open_write_segment(write_segment_ + 1);
    write_all(scratch_);
    uint64_t off = write_size_;
    for (auto len : lengths) {
      queued_.push_back({write_segment_, off, len});
      off += header_size + len;
    }
    write_size_ = off;
    bytes_ += incoming;
    if (res.dropped > 0 && inflight_.empty())
      write_ack(); // dropped records must not come back after a restart
    records.clear();
    return res;
  }

  std::size_t read(std::size_t max_records, std::vector<record>& out) override {
    std::size_t n = 0;
    while (n < max_records && !queued_.empty()) {
      auto e = queued_.front();
      queued_.pop_front();
      record r;
      if (!load(e, r)) {
        // Corrupted after it was written (disk fault): skip it, count it.
        bytes_ -= e.length + header_size;
        ++corrupt_on_read_;
        continue;
      }
      inflight_.push_back(e);
      out.push_back(std::move(r));
      ++n;
    }
    return n;
  }

  void ack(std::size_t n) override {
    for (; n > 0 && !inflight_.empty(); --n) {
      bytes_ -= inflight_.front().length + header_size;
      inflight_.pop_front();
    }
    write_ack();
  }

  std::size_t size() const override { return inflight_.size() + queued_.size(); }
  std::size_t unread() const override { return queued_.size(); }
  uint64_t bytes() const override { return bytes_; }

private:
  std::filesystem::path segment_path(uint64_t id) const {
    char name[32];
    std::snprintf(name, sizeof(name), "%016llu.wal", static_cast<unsigned long long>(id));
    return opts_.dir / name;
  }

  /// Reads the ack file; (0, 0) when missing or unreadable.
  std::pair<uint64_t, uint64_t> read_ack() const {
    std::ifstream in(opts_.dir / "ack");
    uint64_t seg = 0, off = 0;
    if (!(in >> seg >> off))
      return {0, 0};
    return {seg, off};
  }

  void replay() {
    std::vector<uint64_t> ids;
    for (const auto& de : std::filesystem::directory_iterator(opts_.dir)) {
      auto name = de.path().filename().string();
      if (name.size() != 20 || de.path().extension() != ".wal")
        continue;
      uint64_t id = 0;
      auto [p, ec] = std::from_chars(name.data(), name.data() + 16, id);
      if (ec == std::errc{} && p == name.data() + 16)
        ids.push_back(id);
    }
    std::sort(ids.begin(), ids.end());
    auto [ack_seg, ack_off] = read_ack();
    for (std::size_t i = 0; i < ids.size(); ++i) {
      uint64_t id = ids[i];
      last_segment_ = std::max(last_segment_, id);
      auto path = segment_path(id);
      if (id < ack_seg) {
        std::filesystem::remove(path);
        continue;
      }
      std::string data;
      {
        std::ifstream in(path, std::ios::binary);
        std::ostringstream ss;
        ss << in.rdbuf();
        data = std::move(ss).str();
      }
      uint64_t pos = id == ack_seg ? std::min<uint64_t>(ack_off, data.size()) : 0;
      while (pos < data.size()) {
        if (data.size() - pos < header_size)
          break;
        uint32_t len = load_u32(data.data() + pos);
        uint32_t crc = load_u32(data.data() + pos + 4);
        if (len > max_entry || data.size() - pos - header_size < len)
          break;
        std::string_view payload{data.data() + pos + header_size, len};
        record probe;
        if (crc_of(payload) != crc || !decode_record(payload, probe)) {
          ++recovered_.corrupt_entries;
        } else {
          queued_.push_back({id, pos, len});
          bytes_ += header_size + len;
        }
        pos += header_size + len;
      }
      if (pos < data.size()) {
        // Torn or corrupt tail: cut it so later appends never follow garbage.
        recovered_.truncated_bytes += data.size() - pos;
        if (::truncate(path.c_str(), static_cast<off_t>(pos)) != 0)
          throw_errno("cannot truncate", path);
      }
    }
    recovered_.records = queued_.size();
    first_live_segment_ = ack_seg;
  }

  void open_write_segment(uint64_t id) {
    if (write_fd_ >= 0) {
      if (opts_.fsync)
        ::fdatasync(write_fd_);
      ::close(write_fd_);
    }
    write_segment_ = id;
    last_segment_ = std::max(last_segment_, id);
    auto path = segment_path(id);
    write_fd_ = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (write_fd_ < 0)
      throw_errno("cannot open", path);
    write_size_ = static_cast<uint64_t>(::lseek(write_fd_, 0, SEEK_END));
  }

  void write_all(std::string_view data) {
    while (!data.empty()) {
      auto n = ::write(write_fd_, data.data(), data.size());
      if (n < 0) {
        if (errno == EINTR)
          continue;
        auto saved = errno;
        // Cut what was half-written so the next entry starts at a frame boundary.
        if (::ftruncate(write_fd_, static_cast<off_t>(write_size_)) != 0) {
        }
        errno = saved;
        throw_errno("cannot write", segment_path(write_segment_));
      }
      data.remove_prefix(static_cast<std::size_t>(n));
    }
    if (opts_.fsync && ::fdatasync(write_fd_) != 0)
      throw_errno("cannot fsync", segment_path(write_segment_));
  }

  int read_fd(uint64_t segment) {
    if (auto it = read_fds_.find(segment); it != read_fds_.end())
      return it->second;
    auto path = segment_path(segment);
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0)
      throw_errno("cannot open", path);
    read_fds_[segment] = fd;
    return fd;
  }

  bool load(const entry_ref& e, record& out) {
    buf_.resize(header_size + e.length);
    int fd = read_fd(e.segment);
    std::size_t got = 0;
    while (got < buf_.size()) {
      auto n =
          ::pread(fd, buf_.data() + got, buf_.size() - got, static_cast<off_t>(e.offset + got));
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        return false;
      got += static_cast<std::size_t>(n);
    }
    std::string_view payload{buf_.data() + header_size, e.length};
    return load_u32(buf_.data()) == e.length && load_u32(buf_.data() + 4) == crc_of(payload) &&
           decode_record(payload, out);
  }

  /// Persists the position of the oldest entry not yet delivered and removes older segments.
  void write_ack() {
    entry_ref head{write_segment_, write_size_, 0};
    if (!inflight_.empty())
      head = inflight_.front();
    else if (!queued_.empty())
      head = queued_.front();
    if (head.segment == acked_.segment && head.offset == acked_.offset && ack_written_)
      return;
    auto tmp = opts_.dir / "ack.tmp";
    std::string text = std::to_string(head.segment) + " " + std::to_string(head.offset) + "\n";
    int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
      throw_errno("cannot open", tmp);
    bool ok = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
    if (ok && opts_.fsync)
      ok = ::fsync(fd) == 0;
    ::close(fd);
    if (!ok)
      throw_errno("cannot write", tmp);
    if (::rename(tmp.c_str(), (opts_.dir / "ack").c_str()) != 0)
      throw_errno("cannot rename", tmp);
    acked_ = head;
    ack_written_ = true;
    // Segments wholly before the ack position are delivered.
    for (auto it = read_fds_.begin(); it != read_fds_.end();) {
      if (it->first < head.segment) {
        ::close(it->second);
        it = read_fds_.erase(it);
      } else {
        ++it;
      }
    }
    while (first_live_segment_ < head.segment) {
      std::error_code ec;
      std::filesystem::remove(segment_path(first_live_segment_), ec);
      ++first_live_segment_;
    }
  }

  buffer_options opts_;
  std::deque<entry_ref> queued_;
  std::deque<entry_ref> inflight_;
  uint64_t bytes_ = 0;
  uint64_t last_segment_ = 0;
  uint64_t first_live_segment_ = 0;
  uint64_t write_segment_ = 0;
  uint64_t write_size_ = 0;
  int write_fd_ = -1;
  std::map<uint64_t, int> read_fds_;
  entry_ref acked_;
  bool ack_written_ = false;
  std::string scratch_;
  std::string payload_;
  std::string buf_;
};

} // namespace

void frame_entry(std::string_view payload, std::string& out) {
  uint32_t len = static_cast<uint32_t>(payload.size());
  uint32_t crc = crc_of(payload);
  char h[header_size];
  std::memcpy(h, &len, 4);
  std::memcpy(h + 4, &crc, 4);
  out.append(h, header_size);
  out.append(payload);
}

std::unique_ptr<record_buffer> open_buffer(const buffer_options& opts) {
  if (opts.type == buffer_type::disk)
    return std::make_unique<disk_buffer>(opts);
  return std::make_unique<memory_buffer>(opts);
}

} // namespace wattline::sink_buffer
