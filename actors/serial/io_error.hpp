#pragma once

// Error and read-result types shared by the serial-port and TCP byte sources.

#include <cstddef>
#include <string>
#include <string_view>

namespace wattline::serial {

/// What went wrong, coarse enough to decide on a reaction (retry, hint to the user).
enum class error_kind {
  /// No error.
  none,
  /// The device path does not exist (converter unplugged, wrong path).
  not_found,
  /// No permission to open the device (user not in the `dialout` group?).
  permission_denied,
  /// Another reader holds the device (TIOCEXCL or flock).
  busy,
  /// The path is not a terminal device.
  not_a_tty,
  /// The driver refused the line settings (e.g. a non-standard baud rate).
  unsupported_setting,
  /// The device went away while open: EIO, ENXIO, ENODEV, hang-up (POLLHUP/POLLERR), peer
  /// closed the TCP connection or reset it.
  disconnected,
  /// TCP: nobody listens on the port.
  connection_refused,
  /// TCP: the connect timed out.
  timed_out,
  /// TCP: network or host unreachable.
  unreachable,
  /// TCP: the host name could not be resolved.
  resolve_failed,
  /// No bytes arrived for longer than the configured idle timeout.
  idle_timeout,
  /// Anything else; see the message and errno.
  other,
};

/// Returns the snake_case name of `k`, e.g. "not_found".
[[nodiscard]] std::string_view to_string(error_kind k);

/// An error with its classification, errno (0 when none applies) and a readable message that
/// names the device, e.g. "/dev/ttyUSB0: device disconnected (EIO: Input/output error); the
/// converter was unplugged?".
struct source_error {
  /// Classification.
  error_kind kind = error_kind::none;
  /// errno value, 0 when not from a system call.
  int code = 0;
  /// Readable, self-contained message.
  std::string message;

  /// True when this holds an error.
  explicit operator bool() const { return kind != error_kind::none; }
};

/// Outcome of one read_some call.
enum class read_status {
  /// `size` bytes were read.
  data,
  /// Nothing arrived within the timeout; the device is still fine.
  timeout,
  /// stop() was called; the caller should shut down.
  stopped,
  /// The device failed (see `error`); close it and reopen later.
  error,
};

/// Result of read_some.
struct read_result {
  /// What happened.
  read_status status = read_status::timeout;
  /// Bytes stored in the buffer when status is data.
  size_t size = 0;
  /// The error when status is error.
  source_error error;
};

/// Returns the symbolic errno name ("EIO", "ENOENT" ...) or "errno N".
[[nodiscard]] std::string errno_name(int code);

/// Classifies an errno value from open/ioctl/read on a device.
[[nodiscard]] error_kind classify_errno(int code);

} // namespace wattline::serial
