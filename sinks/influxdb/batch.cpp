#include "sinks/influxdb/batch.hpp"

#include <stdexcept>

namespace wattline::influxdb {

void line_batch::append_line(std::string_view line) {
  data_.append(line);
  if (line.empty() || line.back() != '\n')
    data_.push_back('\n');
  ends_.push_back(static_cast<uint32_t>(data_.size()));
}

bool line_batch::append_record(line_encoder& enc, const record& rec) {
  if (!enc.encode(rec, data_))
    return false;
  ends_.push_back(static_cast<uint32_t>(data_.size()));
  return true;
}

std::string_view line_batch::line(size_t i) const {
  size_t begin = i == 0 ? 0 : ends_[i - 1];
  size_t end = ends_[i] - 1; // drop '\n'
  return std::string_view{data_}.substr(begin, end - begin);
}

line_batch line_batch::select(const std::vector<size_t>& indices) const {
  line_batch out;
  size_t bytes = 0;
  for (size_t i : indices)
    bytes += line(i).size() + 1;
  out.reserve(bytes, indices.size());
  for (size_t i : indices)
    out.append_line(line(i));
  out.server_errors = server_errors;
  return out;
}

std::pair<line_batch, line_batch> line_batch::split() const {
  std::vector<size_t> a, b;
  size_t half = (size() + 1) / 2;
  for (size_t i = 0; i < size(); ++i)
    (i < half ? a : b).push_back(i);
  auto first = select(a);
  auto second = select(b);
  first.server_errors = second.server_errors = 0;
  return {std::move(first), std::move(second)};
}

void line_batch::clear() {
  data_.clear();
  ends_.clear();
  server_errors = 0;
}

void line_batch::reserve(size_t bytes, size_t lines) {
  data_.reserve(bytes);
  ends_.reserve(lines);
}

batcher::batcher(batch_options opts, clock_fn now) : opts_(opts), now_(std::move(now)) {
  if (!now_)
    now_ = [] { return clock::now(); };
  if (opts_.max_lines == 0)
    opts_.max_lines = 1;
}

bool batcher::after_append() {
  if (open_.size() == 1)
    opened_at_ = now_();
  if (open_.size() >= opts_.max_lines || open_.bytes() >= opts_.max_bytes)
    complete();
  return ready();
}

bool batcher::add(line_encoder& enc, const record& rec) {
  scratch_.clear();
  if (!enc.encode(rec, scratch_))
    return ready();
  return add_line(scratch_);
}

bool batcher::add_line(std::string_view line) {
  size_t len = line.size() + (line.empty() || line.back() != '\n' ? 1 : 0);
  // Complete the open batch first when this line would push it over the byte limit.
  if (!open_.empty() && open_.bytes() + len > opts_.max_bytes)
    complete();
  open_.append_line(line);
  return after_append();
}

bool batcher::poll() {
  if (!open_.empty() && now_() - opened_at_ >= opts_.interval)
    complete();
  return ready();
}

void batcher::flush() {
  if (!open_.empty())
    complete();
}

line_batch batcher::take() {
  if (ready_.empty())
    throw std::logic_error("batcher::take without a ready batch");
  line_batch b = std::move(ready_.front());
  ready_.pop_front();
  ready_lines_ -= b.size();
  return b;
}

std::optional<batcher::clock::time_point> batcher::next_deadline() const {
  if (open_.empty())
    return std::nullopt;
  return opened_at_ + opts_.interval;
}

void batcher::complete() {
  ready_lines_ += open_.size();
  ready_.push_back(std::move(open_));
  open_ = line_batch{};
  open_.reserve(opts_.max_bytes < (1u << 20) ? opts_.max_bytes : (1u << 20),
                opts_.max_lines < 8192 ? opts_.max_lines : 8192);
}

} // namespace wattline::influxdb
