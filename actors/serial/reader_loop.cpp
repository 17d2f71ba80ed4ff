#include "actors/serial/reader_loop.hpp"

#include <vector>

namespace wattline::serial {

std::string_view to_string(source_state s) {
  switch (s) {
  case source_state::connecting:
    return "connecting";
  case source_state::open:
    return "open";
  case source_state::waiting_for_device:
    return "waiting_for_device";
  case source_state::stopped:
    return "stopped";
  }
  return "stopped";
}

reader_loop::reader_loop(std::unique_ptr<byte_device> device, reader_options options,
                         reader_callbacks callbacks)
    : device_(std::move(device)), options_(options), callbacks_(std::move(callbacks)) {
  if (options_.buffer_size == 0)
    options_.buffer_size = 4096;
  if (options_.read_timeout.count() <= 0)
    options_.read_timeout = std::chrono::milliseconds(250);
  status_.origin = device_->origin();
}

reader_loop::~reader_loop() {
  stop();
  join();
}

void reader_loop::start() {
  std::lock_guard<std::mutex> guard(start_mutex_);
  if (thread_.joinable() || ran_.load())
    return;
  thread_ = std::thread([this] { run(); });
}

void reader_loop::stop() noexcept {
  stopping_.store(true, std::memory_order_release);
  wake_.notify();
  device_->stop();
}

void reader_loop::join() {
  std::thread t;
  {
    std::lock_guard<std::mutex> guard(start_mutex_);
    t = std::move(thread_);
  }
  if (t.joinable() && t.get_id() != std::this_thread::get_id())
    t.join();
  else if (t.joinable())
    t.detach(); // join() from a callback: the loop ends by itself after stop()
}

source_status reader_loop::status() const {
  std::lock_guard<std::mutex> guard(status_mutex_);
  return status_;
}

void reader_loop::report(source_status s) {
  {
    std::lock_guard<std::mutex> guard(status_mutex_);
    s.chunks = status_.chunks;
    s.bytes = status_.bytes;
    status_ = s;
  }
  if (callbacks_.on_status)
    callbacks_.on_status(s);
}

void reader_loop::run() {
  if (ran_.exchange(true)) {
    report({source_state::stopped, device_->origin()});
    return;
  }
  loop();
  device_->close();
  source_status s = status();
  s.state = source_state::stopped;
  s.endpoint.clear();
  s.retry_in = std::chrono::milliseconds(0);
  report(s);
}

void reader_loop::loop() {
  using clock = std::chrono::steady_clock;
  backoff delays(options_.backoff, options_.seed);
  std::vector<uint8_t> buffer(options_.buffer_size);
  const std::string origin = device_->origin();
  uint32_t attempt = 0;
  report({source_state::connecting, origin});

  // Waits before the next attempt; false when stop() ended the wait.
  auto wait_after = [&](source_error error) {
    ++attempt;
    auto delay = delays.next();
    source_status s{source_state::waiting_for_device, origin};
    s.error = std::move(error);
    s.attempt = attempt;
    s.retry_in = delay;
    report(std::move(s));
    return !wake_.wait_for(delay) && !stop_requested();
  };

  while (!stop_requested()) {
    source_error error = device_->open();
    if (stop_requested())
      return;
    if (error) {
      device_->close();
      if (!wait_after(std::move(error)))
        return;
      continue;
    }
    attempt = 0;
    source_status opened{source_state::open, origin};
    opened.endpoint = device_->endpoint();
    report(std::move(opened));
    auto opened_at = clock::now();
    auto last_data = opened_at;
    bool healthy = false;
    for (;;) {
      read_result r = device_->read_some(std::span<uint8_t>(buffer.data(), buffer.size()),
                                         options_.read_timeout);
      if (r.status == read_status::stopped || stop_requested())
        return;
      auto now = clock::now();
      if (r.status == read_status::data) {
        last_data = now;
        if (!healthy) {
          healthy = true;
          delays.reset();
        }
        chunk c;
        c.bytes.assign(buffer.begin(), buffer.begin() + static_cast<std::ptrdiff_t>(r.size));
        c.time_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                        std::chrono::system_clock::now().time_since_epoch())
                        .count();
        c.origin = origin;
        {
          std::lock_guard<std::mutex> guard(status_mutex_);
          status_.chunks += 1;
          status_.bytes += r.size;
        }
        if (callbacks_.on_chunk)
          callbacks_.on_chunk(std::move(c));
        continue;
      }
      if (r.status == read_status::timeout) {
        if (!healthy && now - opened_at >= delays.policy().max) {
          healthy = true;
          delays.reset();
        }
        if (options_.idle_timeout.count() > 0 && now - last_data >= options_.idle_timeout) {
          error.kind = error_kind::idle_timeout;
          error.code = 0;
          error.message =
              origin + ": no data for " +
              std::to_string(
                  std::chrono::duration_cast<std::chrono::milliseconds>(now - last_data).count()) +
              " ms, reopening";
          break;
        }
        continue;
      }
      error = std::move(r.error);
      break;
    }
    device_->close();
    if (!wait_after(std::move(error)))
      return;
  }
}

} // namespace wattline::serial
