#pragma once

// A raw, exclusive, non-blocking serial port with bounded reads and a cross-thread stop().
// POSIX/Linux only; no CAF.

#include "actors/serial/io_error.hpp"
#include "actors/serial/line_settings.hpp"
#include "actors/serial/wakeup.hpp"

#include <chrono>
#include <cstdint>
#include <span>
#include <string>

namespace wattline::serial {

/// How serial_port::open treats the device.
struct open_options {
  /// Set TIOCEXCL so that further open() calls by non-root processes fail with EBUSY.
  bool exclusive = true;
  /// Take flock(LOCK_EX | LOCK_NB) so that two wattline readers (even as root) never share a
  /// device; the second gets error_kind::busy.
  bool lock = true;
  /// Discard bytes the driver buffered before the open (tcflush TCIFLUSH).
  bool flush_input = true;
};

/// One open serial device. open() configures a raw line: no echo, no canonical mode, no signals,
/// no CR/LF translation, no software or hardware flow control, CLOCAL | CREAD, VMIN = VTIME = 0,
/// and the requested baud rate, data bits, parity and stop bits.
///
/// Threads: open, read_some and close belong to one thread (the reader); stop() may be called
/// from any thread at any time and makes a pending or later read_some return
/// read_status::stopped promptly (it is sticky until clear_stop()).
class serial_port {
public:
  /// A closed port.
  serial_port();
  /// Closes the device.
  ~serial_port();
  serial_port(const serial_port&) = delete;
  serial_port& operator=(const serial_port&) = delete;

  /// Opens `path` (symlinks such as /dev/serial/by-id/... are followed) with
  /// O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC and applies `settings`. Closes a previously open
  /// device first. Returns an empty error on success; on failure the port stays closed and the
  /// error names the path, the errno and a hint (e.g. the dialout group for EACCES).
  source_error open(const std::string& path, const line_settings& settings,
                    const open_options& options = {});

  /// Waits up to `timeout` for bytes (poll on the device and the stop signal) and reads at most
  /// buffer.size() of them. Never blocks longer than `timeout` (plus scheduling). A vanished
  /// device (EIO, ENXIO, ENODEV, POLLHUP, POLLERR, end of file after a hang-up, device node
  /// removed) gives read_status::error with error_kind::disconnected; the port is then unusable
  /// and should be closed. Reading a closed port gives read_status::error.
  read_result read_some(std::span<uint8_t> buffer, std::chrono::milliseconds timeout);

  /// Closes the device (releases the lock). Safe to call when closed.
  void close();

  /// Wakes a reader blocked in read_some from any thread; sticky. Thread-safe.
  void stop() noexcept { stop_.notify(); }
  /// True after stop() until clear_stop(). Thread-safe.
  [[nodiscard]] bool stop_requested() const noexcept { return stop_.notified(); }
  /// Clears a previous stop() so the port can be read again. Reader thread only.
  void clear_stop() noexcept { stop_.reset(); }

  /// True while a device is open.
  [[nodiscard]] bool is_open() const { return fd_ >= 0; }
  /// The path given to open().
  [[nodiscard]] const std::string& path() const { return path_; }
  /// The device the path resolved to at open time (e.g. /dev/ttyUSB0 for a by-id link).
  [[nodiscard]] const std::string& device() const { return device_; }
  /// The settings applied by the last successful open().
  [[nodiscard]] const line_settings& settings() const { return settings_; }
  /// The file descriptor, -1 when closed (for tests and diagnostics; do not close it).
  [[nodiscard]] int native_handle() const { return fd_; }

private:
  source_error fail(error_kind kind, int code, const std::string& what);
  source_error apply(const line_settings& settings);
  bool node_vanished() const;

  int fd_ = -1;
  std::string path_;
  std::string device_;
  line_settings settings_;
  uint64_t rdev_ = 0;
  wakeup stop_;
};

/// Reads the actual baud rate of an open terminal (termios2 on Linux, so non-standard rates are
/// reported exactly); 0 when it cannot be read. For tests and diagnostics.
[[nodiscard]] uint32_t read_baud_rate(int fd);

} // namespace wattline::serial
