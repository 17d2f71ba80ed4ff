// The status HTTP server against real loopback sockets: /health, /metrics, 404, port 0, a port in
// use, IPv6 loopback, listen address parsing. The client is a plain socket (HTTP/1.1, close).

#include "engine/status/status_server.hpp"
#include "tests/support/support.hpp"

#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

using namespace wattline::status;

namespace {

struct http_reply {
  int status = 0;
  std::string headers;
  std::string body;
};

/// GET `path` from host:port (an IPv4 or IPv6 literal) with a plain socket; status 0 on failure.
http_reply http_get(const std::string& host, int port, const std::string& path) {
  http_reply reply;
  sockaddr_storage addr{};
  socklen_t len = 0;
  int family = host.find(':') != std::string::npos ? AF_INET6 : AF_INET;
  if (family == AF_INET6) {
    auto* a = reinterpret_cast<sockaddr_in6*>(&addr);
    a->sin6_family = AF_INET6;
    a->sin6_port = htons(static_cast<uint16_t>(port));
    ::inet_pton(AF_INET6, host.c_str(), &a->sin6_addr);
    len = sizeof(sockaddr_in6);
  } else {
    auto* a = reinterpret_cast<sockaddr_in*>(&addr);
    a->sin_family = AF_INET;
    a->sin_port = htons(static_cast<uint16_t>(port));
    ::inet_pton(AF_INET, host.c_str(), &a->sin_addr);
    len = sizeof(sockaddr_in);
  }
  int fd = ::socket(family, SOCK_STREAM, 0);
  if (fd < 0)
    return reply;
  timeval tv{5, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), len) != 0) {
    ::close(fd);
    return reply;
  }
  std::string request =
      "GET " + path + " HTTP/1.1\r\nHost: " + host + "\r\nConnection: close\r\n\r\n";
  if (::send(fd, request.data(), request.size(), MSG_NOSIGNAL) !=
      static_cast<ssize_t>(request.size())) {
    ::close(fd);
    return reply;
  }
  std::string raw;
  char buf[4096];
  for (ssize_t n; (n = ::recv(fd, buf, sizeof(buf), 0)) > 0;)
    raw.append(buf, static_cast<size_t>(n));
  ::close(fd);
  auto head_end = raw.find("\r\n\r\n");
  if (raw.rfind("HTTP/1.1 ", 0) != 0 || head_end == std::string::npos)
    return reply;
  reply.status = std::stoi(raw.substr(9, 3));
  reply.headers = raw.substr(0, head_end);
  reply.body = raw.substr(head_end + 4);
  return reply;
}

/// True when a socket can be bound to [::1] (IPv6 loopback configured).
bool ipv6_loopback_available() {
  int fd = ::socket(AF_INET6, SOCK_STREAM, 0);
  if (fd < 0)
    return false;
  sockaddr_in6 a{};
  a.sin6_family = AF_INET6;
  a.sin6_addr = in6addr_loopback;
  bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) == 0;
  ::close(fd);
  return ok;
}

std::shared_ptr<metrics_registry> make_registry() {
  auto reg = std::make_shared<metrics_registry>(build_info{"0.1.0", "", ""});
  auto n = reg->add_node("meter", "file", "source");
  n->set_state(node_state::running);
  n->records_out.inc(42);
  return reg;
}

} // namespace

TEST(StatusServer, ServesHealthAndMetricsOnAFreeLoopbackPort) {
  auto reg = make_registry();
  int port = wattline::test::free_tcp_port();
  status_server server(reg, "127.0.0.1:" + std::to_string(port));
  auto err = server.start();
  ASSERT_FALSE(err) << *err;
  EXPECT_EQ(server.port(), port);
  EXPECT_EQ(server.endpoint(), "127.0.0.1:" + std::to_string(port));

  auto health = http_get("127.0.0.1", port, "/health");
  EXPECT_EQ(health.status, 200);
  EXPECT_NE(health.headers.find("Content-Type: application/json"), std::string::npos)
      << health.headers;
  EXPECT_EQ(health.body.rfind(R"({"status":"ok",)", 0), 0u) << health.body;

  auto metrics = http_get("127.0.0.1", port, "/metrics");
  EXPECT_EQ(metrics.status, 200);
  EXPECT_NE(metrics.headers.find("Content-Type: text/plain; version=0.0.4"), std::string::npos)
      << metrics.headers;
  EXPECT_NE(metrics.body.find("wattline_node_records_out_total{node=\"meter\",type=\"file\","
                              "role=\"source\"} 42\n"),
            std::string::npos)
      << metrics.body;

  EXPECT_EQ(http_get("127.0.0.1", port, "/nope").status, 404);
  server.stop();
  EXPECT_FALSE(server.running());
  EXPECT_FALSE(wattline::test::tcp_port_open(port));
  server.stop(); // idempotent
}

TEST(StatusServer, HealthIs503WhenANodeFailed) {
  auto reg = make_registry();
  reg->add_node("db", "influxdb", "sink")->set_state(node_state::failed);
  status_server server(reg, "127.0.0.1:0");
  ASSERT_FALSE(server.start());
  auto health = http_get("127.0.0.1", server.port(), "/health");
  EXPECT_EQ(health.status, 503);
  EXPECT_EQ(health.body.rfind(R"({"status":"failed",)", 0), 0u) << health.body;
}

TEST(StatusServer, PortZeroPicksAFreePortAndReportsIt) {
  status_server server(make_registry(), "127.0.0.1:0");
  ASSERT_FALSE(server.start());
  EXPECT_GT(server.port(), 0);
  EXPECT_TRUE(wattline::test::tcp_port_open(server.port()));
  EXPECT_EQ(http_get("127.0.0.1", server.port(), "/health").status, 200);
}

TEST(StatusServer, PortInUseIsAnErrorMessageNotAnException) {
  status_server first(make_registry(), "127.0.0.1:0");
  ASSERT_FALSE(first.start());
  const auto address = "127.0.0.1:" + std::to_string(first.port());
  status_server second(make_registry(), address);
  std::optional<std::string> err;
  EXPECT_NO_THROW(err = second.start());
  ASSERT_TRUE(err);
  EXPECT_EQ(*err, "cannot listen on " + address + ": Address already in use");
  EXPECT_FALSE(second.running());
  // The first one is unaffected.
  EXPECT_EQ(http_get("127.0.0.1", first.port(), "/health").status, 200);
}

TEST(StatusServer, ServesOnIpv6LoopbackWhenConfigured) {
  if (!ipv6_loopback_available())
    GTEST_SKIP() << "::1 is not configured on this machine";
  status_server server(make_registry(), "[::1]:0");
  auto err = server.start();
  ASSERT_FALSE(err) << *err;
  EXPECT_EQ(server.host(), "::1");
  EXPECT_EQ(server.endpoint(), "[::1]:" + std::to_string(server.port()));
  auto health = http_get("::1", server.port(), "/health");
  EXPECT_EQ(health.status, 200);
}

TEST(StatusServer, StopIsPromptWhileAClientKeepsItsConnectionOpen) {
  status_server server(make_registry(), "127.0.0.1:0");
  ASSERT_FALSE(server.start());
  // A client that asks for keep-alive and then just holds the connection.
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(server.port()));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)), 0);
  std::string request = "GET /health HTTP/1.1\r\nHost: x\r\n\r\n";
  ASSERT_EQ(::send(fd, request.data(), request.size(), MSG_NOSIGNAL),
            static_cast<ssize_t>(request.size()));
  char buf[512];
  ASSERT_GT(::recv(fd, buf, sizeof(buf), 0), 0);
  auto start = std::chrono::steady_clock::now();
  server.stop();
  auto took = std::chrono::steady_clock::now() - start;
  ::close(fd);
  EXPECT_LT(took, std::chrono::milliseconds(1000));
  EXPECT_FALSE(wattline::test::tcp_port_open(server.port()));
}

TEST(StatusServer, InvalidListenAddressIsAnErrorMessage) {
  status_server server(make_registry(), "localhost");
  auto err = server.start();
  ASSERT_TRUE(err);
  EXPECT_EQ(*err, "invalid listen address 'localhost': missing ':port' (expected host:port or "
                  "[ipv6]:port)");
}

TEST(StatusListenAddress, ParsesHostPortAndBracketedIpv6) {
  using addr = listen_address;
  EXPECT_EQ(std::get<addr>(parse_listen_address("127.0.0.1:8686")), (addr{"127.0.0.1", 8686}));
  EXPECT_EQ(std::get<addr>(parse_listen_address("[::1]:0")), (addr{"::1", 0}));
  EXPECT_EQ(std::get<addr>(parse_listen_address("localhost:65535")), (addr{"localhost", 65535}));
  EXPECT_EQ(std::get<addr>(parse_listen_address(default_listen)), (addr{"127.0.0.1", 8686}));
  for (const char* bad : {"", "8686", ":8686", "::1:8686", "[::1]8686", "[::1", "host:65536",
                          "host:-1", "host:80x", "host:"})
    EXPECT_TRUE(std::holds_alternative<std::string>(parse_listen_address(bad))) << bad;
}
