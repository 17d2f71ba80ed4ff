#pragma once

// byte_device adapters for the reader_loop: a serial port by path, a TCP connection by host/port,
// and factories for ready-to-run reconnecting readers.

#include "actors/serial/line_settings.hpp"
#include "actors/serial/reader_loop.hpp"
#include "actors/serial/serial_port.hpp"
#include "actors/serial/tcp_connection.hpp"

#include <memory>
#include <string>

namespace wattline::serial {

/// What a serial reader opens.
struct serial_device_options {
  /// Device path; prefer /dev/serial/by-id/... (stable across re-enumeration).
  std::string path;
  /// Line settings, usually resolve(profile, overrides).settings.
  line_settings settings;
  /// Exclusivity, locking and input flush at open.
  open_options open;
};

/// A serial_port opened at `options.path` on every open().
class serial_device final : public byte_device {
public:
  /// Remembers the options; opens nothing yet.
  explicit serial_device(serial_device_options options) : options_(std::move(options)) {}
  source_error open() override {
    return port_.open(options_.path, options_.settings, options_.open);
  }
  read_result read_some(std::span<uint8_t> buffer, std::chrono::milliseconds timeout) override {
    return port_.read_some(buffer, timeout);
  }
  void close() override { port_.close(); }
  void stop() noexcept override { port_.stop(); }
  [[nodiscard]] std::string origin() const override { return options_.path; }
  [[nodiscard]] std::string endpoint() const override {
    return port_.is_open() ? port_.device() : std::string{};
  }
  /// The underlying port (diagnostics; reader thread only).
  [[nodiscard]] const serial_port& port() const { return port_; }

private:
  serial_device_options options_;
  serial_port port_;
};

/// A tcp_connection made on every open().
class tcp_device final : public byte_device {
public:
  /// Remembers the options; connects nothing yet.
  explicit tcp_device(tcp_options options);
  source_error open() override { return connection_.connect(options_); }
  read_result read_some(std::span<uint8_t> buffer, std::chrono::milliseconds timeout) override {
    return connection_.read_some(buffer, timeout);
  }
  void close() override { connection_.close(); }
  void stop() noexcept override { connection_.stop(); }
  [[nodiscard]] std::string origin() const override { return origin_; }
  [[nodiscard]] std::string endpoint() const override { return connection_.peer(); }

private:
  tcp_options options_;
  std::string origin_;
  tcp_connection connection_;
};

/// A reconnecting serial reader; call run() on a thread of your own or start().
[[nodiscard]] std::unique_ptr<reader_loop> make_serial_reader(serial_device_options device,
                                                              reader_options options,
                                                              reader_callbacks callbacks);

/// A reconnecting TCP reader; call run() on a thread of your own or start().
[[nodiscard]] std::unique_ptr<reader_loop>
make_tcp_reader(tcp_options device, reader_options options, reader_callbacks callbacks);

} // namespace wattline::serial
