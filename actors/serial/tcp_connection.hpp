#pragma once

// A TCP client byte stream for network serial converters (ser2net, Moxa/USR "TCP server" mode):
// connect with a timeout, TCP keepalive, bounded reads, cross-thread stop(). No CAF.

#include "actors/serial/io_error.hpp"
#include "actors/serial/wakeup.hpp"

#include <chrono>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace wattline::serial {

/// Where and how to connect.
struct tcp_options {
  /// Host name or numeric address (IPv4 or IPv6). Name resolution uses getaddrinfo, which cannot
  /// be interrupted by stop(); use numeric addresses where a prompt stop matters.
  std::string host = "127.0.0.1";
  /// TCP port, 1-65535.
  uint16_t port = 0;
  /// Upper bound of one connect attempt (all resolved addresses together).
  std::chrono::milliseconds connect_timeout{5000};
  /// Enable SO_KEEPALIVE so a silently dead peer (converter lost power) is noticed.
  bool keepalive = true;
  /// Idle time before the first keepalive probe (TCP_KEEPIDLE).
  std::chrono::seconds keepalive_idle{30};
  /// Time between probes (TCP_KEEPINTVL).
  std::chrono::seconds keepalive_interval{10};
  /// Unanswered probes before the connection is declared dead (TCP_KEEPCNT).
  int keepalive_count = 3;
};

/// Returns the problems of `o` (empty host, port 0, non-positive timeout), one message each.
[[nodiscard]] std::vector<std::string> validate(const tcp_options& o);

/// One TCP client connection. Threads: connect, read_some and close belong to one thread;
/// stop() may be called from any thread and makes a pending or later connect/read_some return
/// promptly (sticky until clear_stop()).
class tcp_connection {
public:
  /// A closed connection.
  tcp_connection();
  /// Closes.
  ~tcp_connection();
  tcp_connection(const tcp_connection&) = delete;
  tcp_connection& operator=(const tcp_connection&) = delete;

  /// Resolves and connects (non-blocking connect bounded by options.connect_timeout), then sets
  /// keepalive and TCP_NODELAY. Returns an empty error on success; error_kind::other with
  /// ECANCELED after stop().
  source_error connect(const tcp_options& options);
  /// Like serial_port::read_some. The peer closing (end of stream) or resetting the connection
  /// gives read_status::error with error_kind::disconnected.
  read_result read_some(std::span<uint8_t> buffer, std::chrono::milliseconds timeout);
  /// Closes the socket; safe when closed.
  void close();

  /// Wakes connect/read_some from any thread; sticky. Thread-safe.
  void stop() noexcept { stop_.notify(); }
  /// True after stop() until clear_stop(). Thread-safe.
  [[nodiscard]] bool stop_requested() const noexcept { return stop_.notified(); }
  /// Clears a previous stop(). Reader thread only.
  void clear_stop() noexcept { stop_.reset(); }

  /// True while connected.
  [[nodiscard]] bool is_open() const { return fd_ >= 0; }
  /// "tcp://host:port" as configured.
  [[nodiscard]] const std::string& origin() const { return origin_; }
  /// The connected peer address, e.g. "127.0.0.1:5000"; empty when closed.
  [[nodiscard]] const std::string& peer() const { return peer_; }
  /// The socket, -1 when closed (diagnostics only).
  [[nodiscard]] int native_handle() const { return fd_; }

private:
  int fd_ = -1;
  std::string origin_;
  std::string peer_;
  wakeup stop_;
};

} // namespace wattline::serial
