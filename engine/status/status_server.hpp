#pragma once

// The status HTTP endpoint: GET /health (JSON; 200 when ok or degraded, 503 when failed) and
// GET /metrics (Prometheus text 0.0.4); 404 for anything else. Runs cpp-httplib on its own
// threads (one listener, a small worker pool); start() and stop() are called by the engine.

#include "engine/status/metrics.hpp"

#include <atomic>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <variant>

namespace httplib {
class Server;
}

namespace wattline::status {

/// A parsed listen address.
struct listen_address {
  /// Host name or IP literal, without brackets ("127.0.0.1", "::1", "localhost").
  std::string host;
  /// 0 = let the OS pick a free port.
  int port = 0;

  friend bool operator==(const listen_address&, const listen_address&) = default;
};

/// Parses `host:port` or `[ipv6]:port` (e.g. "127.0.0.1:8686", "[::1]:0", "localhost:9000").
/// Returns the address or an error message.
[[nodiscard]] std::variant<listen_address, std::string> parse_listen_address(std::string_view text);

/// Default listen address: loopback only.
inline constexpr std::string_view default_listen = "127.0.0.1:8686";

class status_server {
public:
  /// Serves `registry` on `listen` (see parse_listen_address) once started.
  explicit status_server(std::shared_ptr<const metrics_registry> registry,
                         std::string listen = std::string(default_listen));
  /// Stops the server.
  ~status_server();
  status_server(const status_server&) = delete;
  status_server& operator=(const status_server&) = delete;

  /// Binds and starts serving on a background thread. Returns an error message instead of
  /// throwing when the address is invalid or the bind fails, e.g.
  /// "cannot listen on 127.0.0.1:8686: Address already in use". Returns once the server accepts
  /// connections.
  [[nodiscard]] std::optional<std::string> start();

  /// Stops accepting, finishes the requests in progress and joins the threads. Idempotent.
  /// Returns at once when no request is in progress; a client that connected but has not sent
  /// its request yet can delay it by up to the 0.5 s read timeout.
  void stop();

  [[nodiscard]] bool running() const { return running_.load(); }
  /// The port actually bound (the picked one when configured as 0); 0 before start().
  [[nodiscard]] int port() const { return port_; }
  /// The host it listens on, e.g. "::1".
  [[nodiscard]] const std::string& host() const { return address_.host; }
  /// "host:port" or "[v6]:port" with the actual port, for logs.
  [[nodiscard]] std::string endpoint() const;

private:
  std::shared_ptr<const metrics_registry> registry_;
  std::string listen_;
  listen_address address_;
  int port_ = 0;
  std::unique_ptr<httplib::Server> server_;
  std::thread thread_;
  std::atomic<bool> running_{false};
  std::atomic<bool> listen_returned_{false};
};

} // namespace wattline::status
