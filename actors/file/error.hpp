#pragma once

// Errors of the file cores, returned as values: the actor wrappers decide about retries, logging
// and restarts. Plain C++, no CAF.

#include <cstdint>
#include <string>
#include <utility>
#include <variant>

namespace wattline::file_io {

/// A failed file operation: a readable message naming the file and the OS reason, e.g.
/// "cannot open /var/lib/wattline/out.jsonl: Permission denied".
struct io_error {
  std::string message;
  /// errno of the failing call; 0 when the error is not from the OS (e.g. a parse error).
  int code = 0;
  /// Records of the failing call that did reach the file (whole lines) before the error.
  uint64_t records_written = 0;
  /// True when the records of the failing call are kept in the writer's buffer and will be
  /// written by the next flush: the caller must not send them again.
  bool data_kept = false;
};

/// Builds an io_error from errno: "<what> <path>: <strerror(code)>".
[[nodiscard]] io_error make_os_error(std::string what, const std::string& path, int code);

/// A value or an io_error (a small stand-in for C++23 std::expected).
template <class T>
class expected {
public:
  expected(T value) : v_(std::move(value)) {}
  expected(io_error err) : v_(std::move(err)) {}

  [[nodiscard]] bool has_value() const { return v_.index() == 0; }
  explicit operator bool() const { return has_value(); }
  [[nodiscard]] T& value() { return std::get<0>(v_); }
  [[nodiscard]] const T& value() const { return std::get<0>(v_); }
  T& operator*() { return value(); }
  const T& operator*() const { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  [[nodiscard]] const io_error& error() const { return std::get<1>(v_); }

private:
  std::variant<T, io_error> v_;
};

} // namespace wattline::file_io
