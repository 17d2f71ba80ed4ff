#pragma once

// The reconnecting reader loop shared by the serial and TCP byte sources: open the device, read
// chunks, report state changes, and on failure retry with capped exponential backoff and jitter
// until stop(). No CAF: an actor drives it from a detached thread.

#include "actors/serial/backoff.hpp"
#include "actors/serial/io_error.hpp"
#include "actors/serial/wakeup.hpp"
#include "engine/record.hpp"

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <thread>

namespace wattline::serial {

/// Something that can be opened, read with a timeout, closed, and woken from another thread.
/// serial_device and tcp_device implement it; tests may add fakes.
class byte_device {
public:
  virtual ~byte_device() = default;
  /// Opens (connects); an empty error on success. May block up to a device-specific timeout but
  /// must return promptly after stop().
  virtual source_error open() = 0;
  /// Reads what is available, waiting at most `timeout` (see serial_port::read_some).
  virtual read_result read_some(std::span<uint8_t> buffer, std::chrono::milliseconds timeout) = 0;
  /// Closes; safe when not open.
  virtual void close() = 0;
  /// Wakes open() and read_some() from any thread; sticky. Thread-safe.
  virtual void stop() noexcept = 0;
  /// Where bytes come from, used as chunk::origin: the configured path or "tcp://host:port".
  [[nodiscard]] virtual std::string origin() const = 0;
  /// What is actually open, e.g. "/dev/ttyUSB0" for a by-id path or the peer address; empty when
  /// closed.
  [[nodiscard]] virtual std::string endpoint() const = 0;
};

/// The life cycle of a byte source.
enum class source_state {
  /// The first open attempt is running.
  connecting,
  /// The device is open and being read.
  open,
  /// The device is missing or failed; the next attempt comes after status::retry_in.
  waiting_for_device,
  /// stop() was called; the loop has ended (final report).
  stopped,
};

/// Returns "connecting", "open", "waiting_for_device" or "stopped".
[[nodiscard]] std::string_view to_string(source_state s);

/// A state report.
struct source_status {
  /// Current state.
  source_state state = source_state::connecting;
  /// byte_device::origin(), e.g. "/dev/serial/by-id/usb-FTDI_...-port0".
  std::string origin;
  /// byte_device::endpoint() while open (e.g. "/dev/ttyUSB0"), else empty.
  std::string endpoint;
  /// The most recent error: set in waiting_for_device, kept in stopped, cleared when open.
  source_error error;
  /// Consecutive failed attempts since the device was last healthy (0 when open).
  uint32_t attempt = 0;
  /// In waiting_for_device: the delay before the next attempt.
  std::chrono::milliseconds retry_in{0};
  /// Chunks and bytes delivered since the loop started.
  uint64_t chunks = 0;
  /// See chunks.
  uint64_t bytes = 0;
};

/// Tuning of a reader_loop.
struct reader_options {
  /// Upper bound of one read_some wait; it bounds how often idle checks run. stop() does not wait
  /// for it.
  std::chrono::milliseconds read_timeout{250};
  /// Largest chunk; one read returns at most this many bytes.
  std::size_t buffer_size = 4096;
  /// Reconnect delays. The backoff restarts after the first bytes of a connection, or after it
  /// stayed open for backoff.max without an error.
  backoff_policy backoff;
  /// When > 0: no bytes for this long while open counts as a failure (error_kind::idle_timeout)
  /// and the device is reopened. Smart meters push every 1-10 s, so e.g. 60 s catches a hung
  /// converter. 0 disables it.
  std::chrono::milliseconds idle_timeout{0};
  /// Seed of the backoff jitter; 0 = random.
  uint64_t seed = 0;
};

/// Callbacks of a reader_loop. Both are called on the thread that runs the loop (run()'s caller
/// or the thread made by start()), never concurrently, and must not block for long. Either may
/// be empty.
struct reader_callbacks {
  /// Receives every chunk: the bytes of one read, the UTC receive time and the origin.
  std::function<void(chunk&&)> on_chunk;
  /// Receives every state change, and each failed retry while waiting_for_device.
  std::function<void(const source_status&)> on_status;
};

/// Runs open → read → (failure → wait with backoff → open again) until stop(). It never throws
/// out of run() for device errors, never exits the process, and never busy-waits: a missing or
/// failing device is retried at most every backoff.max.
///
/// Reports, in order: connecting; then open or waiting_for_device (repeated for every failed
/// retry, with attempt and retry_in); open again when the device returns; finally stopped.
class reader_loop {
public:
  /// Takes ownership of `device`.
  reader_loop(std::unique_ptr<byte_device> device, reader_options options,
              reader_callbacks callbacks);
  /// Calls stop() and join().
  ~reader_loop();
  reader_loop(const reader_loop&) = delete;
  reader_loop& operator=(const reader_loop&) = delete;

  /// Runs the loop on the calling thread until stop(); returns after reporting stopped. Runs
  /// once: a second call (or a call after stop()) reports stopped and returns.
  void run();
  /// Runs the loop on a new std::thread; no-op when already started.
  void start();
  /// Ends the loop promptly from any thread: wakes a pending read, connect or backoff wait.
  /// Idempotent, does not wait (use join()).
  void stop() noexcept;
  /// Waits for the thread made by start(); no-op otherwise.
  void join();
  /// A snapshot of the last reported status. Thread-safe.
  [[nodiscard]] source_status status() const;
  /// True after stop().
  [[nodiscard]] bool stop_requested() const noexcept {
    return stopping_.load(std::memory_order_acquire);
  }

private:
  void report(source_status s);
  void loop();

  std::unique_ptr<byte_device> device_;
  reader_options options_;
  reader_callbacks callbacks_;
  wakeup wake_;
  std::atomic<bool> stopping_{false};
  std::atomic<bool> ran_{false};
  std::thread thread_;
  std::mutex start_mutex_;
  mutable std::mutex status_mutex_;
  source_status status_;
};

} // namespace wattline::serial
