#include "engine/status/status_server.hpp"

#include "engine/status/render.hpp"

#include <httplib.h>

#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstring>
#include <netdb.h>
#include <sys/socket.h>
#include <unistd.h>

namespace wattline::status {

namespace {

/// After the library refused to bind, finds the OS reason by trying the same bind once.
std::string bind_failure_reason(const listen_address& addr) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE;
  addrinfo* result = nullptr;
  auto service = std::to_string(addr.port);
  if (int rc = ::getaddrinfo(addr.host.c_str(), service.c_str(), &hints, &result); rc != 0)
    return ::gai_strerror(rc);
  std::string reason = "bind failed";
  for (auto* ai = result; ai != nullptr; ai = ai->ai_next) {
    int fd = ::socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
    if (fd < 0) {
      reason = std::strerror(errno);
      continue;
    }
    int yes = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
    if (::bind(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
      reason = std::strerror(errno);
    } else if (::listen(fd, 1) != 0) {
      reason = std::strerror(errno);
    }
    ::close(fd);
  }
  ::freeaddrinfo(result);
  return reason;
}

} // namespace

std::variant<listen_address, std::string> parse_listen_address(std::string_view text) {
  auto fail = [&](std::string why) {
    return "invalid listen address '" + std::string(text) + "': " + why +
           " (expected host:port or [ipv6]:port)";
  };
  listen_address out;
  std::string_view port_text;
  if (!text.empty() && text.front() == '[') {
    auto close = text.find(']');
    if (close == std::string_view::npos)
      return fail("missing ']'");
    out.host = std::string(text.substr(1, close - 1));
    if (close + 1 >= text.size() || text[close + 1] != ':')
      return fail("missing ':port'");
    port_text = text.substr(close + 2);
  } else {
    auto colon = text.rfind(':');
    if (colon == std::string_view::npos)
      return fail("missing ':port'");
    out.host = std::string(text.substr(0, colon));
    if (out.host.find(':') != std::string::npos)
      return fail("an IPv6 address needs brackets");
    port_text = text.substr(colon + 1);
  }
  if (out.host.empty())
    return fail("missing host");
  int port = -1;
  auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (port_text.empty() || ec != std::errc{} || end != port_text.data() + port_text.size() ||
      port < 0 || port > 65535)
    return fail("port must be a number from 0 to 65535");
  out.port = port;
  return out;
}

status_server::status_server(std::shared_ptr<const metrics_registry> registry, std::string listen)
    : registry_(std::move(registry)), listen_(std::move(listen)) {}

status_server::~status_server() {
  stop();
}

std::string status_server::endpoint() const {
  int port = port_ != 0 ? port_ : address_.port;
  if (address_.host.find(':') != std::string::npos)
    return "[" + address_.host + "]:" + std::to_string(port);
  return address_.host + ":" + std::to_string(port);
}

std::optional<std::string> status_server::start() {
  if (running_)
    return std::nullopt;
  auto parsed = parse_listen_address(listen_);
  if (auto* err = std::get_if<std::string>(&parsed))
    return *err;
  address_ = std::get<listen_address>(parsed);
  if (!registry_)
    return std::string("status server without a metrics registry");

  auto server = std::make_unique<httplib::Server>();
  server->new_task_queue = [] { return new httplib::ThreadPool(2); };
  // For a prompt stop(): no keep-alive (httplib waits out an idle keep-alive connection before
  // its listen loop returns), and short socket timeouts, which bound how long a client that
  // connected but sends nothing can delay stop(). Scrapers send the whole request at once.
  server->set_keep_alive_max_count(1);
  server->set_read_timeout(0, 500'000);
  server->set_write_timeout(1, 0);
  // SO_REUSEADDR only: httplib's default adds SO_REUSEPORT, which would let a second engine bind
  // the same port silently instead of failing with "Address already in use".
  server->set_socket_options([](socket_t sock) {
    int yes = 1;
    ::setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
  });
  auto registry = registry_;
  server->Get("/health", [registry](const httplib::Request&, httplib::Response& res) {
    res.status = overall_health(*registry) == health::failed ? 503 : 200;
    res.set_content(render_health_json(*registry), "application/json");
  });
  server->Get("/metrics", [registry](const httplib::Request&, httplib::Response& res) {
    res.set_content(render_prometheus(*registry), "text/plain; version=0.0.4; charset=utf-8");
  });
  server->set_error_handler([](const httplib::Request&, httplib::Response& res) {
    if (res.status == 404)
      res.set_content("not found: try /health or /metrics\n", "text/plain; charset=utf-8");
  });

  int port = address_.port;
  if (port == 0) {
    port = server->bind_to_any_port(address_.host);
    if (port < 0)
      return "cannot listen on " + endpoint() + ": " + bind_failure_reason(address_);
  } else if (!server->bind_to_port(address_.host, port)) {
    return "cannot listen on " + endpoint() + ": " + bind_failure_reason(address_);
  }
  port_ = port;
  server_ = std::move(server);
  listen_returned_ = false;
  thread_ = std::thread([this] {
    server_->listen_after_bind();
    listen_returned_ = true;
  });
  // httplib's stop() only acts once the listen loop runs: wait for it (microseconds).
  while (!server_->is_running() && !listen_returned_)
    std::this_thread::sleep_for(std::chrono::microseconds(100));
  running_ = true;
  return std::nullopt;
}

void status_server::stop() {
  if (!server_)
    return;
  while (!server_->is_running() && !listen_returned_)
    std::this_thread::sleep_for(std::chrono::microseconds(100));
  server_->stop();
  if (thread_.joinable())
    thread_.join();
  server_.reset();
  running_ = false;
}

} // namespace wattline::status
