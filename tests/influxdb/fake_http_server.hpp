#pragma once

// A scripted HTTP/1.1 server on 127.0.0.1 for tests: one thread accepts connections, one thread
// per connection serves it (keep-alive); the server records every request and answers through a
// handler. Used to test what a real InfluxDB 1.6.7 cannot show: the v2 API, 413, 429 with
// Retry-After, 5xx.

#include <atomic>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace wattline::test {

/// A request as received.
struct fake_request {
  /// "POST", "GET", ...
  std::string method;
  /// Path without the query, e.g. "/api/v2/write".
  std::string path;
  /// Decoded query parameters.
  std::map<std::string, std::string> query;
  /// Headers, names lower-cased.
  std::map<std::string, std::string> headers;
  /// Body as received (still compressed when Content-Encoding is gzip).
  std::string body;
  /// The body, gunzipped when Content-Encoding is gzip.
  [[nodiscard]] std::string decoded_body() const;
};

/// The answer to a request.
struct fake_response {
  /// HTTP status.
  int status = 204;
  /// Extra headers.
  std::vector<std::pair<std::string, std::string>> headers;
  /// Body.
  std::string body;
};

/// The server; stops and joins its thread on destruction.
class fake_http_server {
public:
  /// Answers each request.
  using handler = std::function<fake_response(const fake_request&)>;

  /// Binds a free 127.0.0.1 port and starts serving. With `keep_requests` false, requests are
  /// only counted, not stored (for benchmarks).
  explicit fake_http_server(handler h, bool keep_requests = true);
  ~fake_http_server();
  fake_http_server(const fake_http_server&) = delete;
  fake_http_server& operator=(const fake_http_server&) = delete;

  /// The port.
  [[nodiscard]] int port() const { return port_; }
  /// "http://127.0.0.1:<port>".
  [[nodiscard]] std::string url() const;
  /// Requests received so far.
  [[nodiscard]] std::vector<fake_request> requests() const;
  /// Number of requests received so far.
  [[nodiscard]] size_t request_count() const;
  /// Number of TCP connections accepted so far.
  [[nodiscard]] size_t connection_count() const { return connections_; }

private:
  void run();
  void serve(int fd);

  handler handler_;
  bool keep_requests_ = true;
  size_t request_count_ = 0;
  int listen_fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::vector<int> conn_fds_; // guarded by mutex_
  std::atomic<size_t> connections_{0};
  mutable std::mutex mutex_;
  std::vector<fake_request> requests_;
  std::thread thread_;
};

} // namespace wattline::test
