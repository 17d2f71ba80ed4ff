#include "actors/serial/devices.hpp"

#include "tests/serial/collector.hpp"
#include "tests/support/support.hpp"

#include <arpa/inet.h>
#include <atomic>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdexcept>
#include <sys/socket.h>
#include <unistd.h>

using namespace std::chrono_literals;
using namespace wattline::serial;
using wattline::test::collector;

namespace {

/// A one-client-at-a-time TCP server on 127.0.0.1, driven from the test thread.
class loopback_server {
public:
  explicit loopback_server(int port = 0) {
    listener_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1;
    ::setsockopt(listener_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(static_cast<uint16_t>(port));
    if (::bind(listener_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
        ::listen(listener_, 4) != 0)
      throw std::runtime_error("loopback_server: bind/listen failed");
    socklen_t len = sizeof(addr);
    ::getsockname(listener_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
  }
  ~loopback_server() {
    close_client();
    ::close(listener_);
  }
  [[nodiscard]] uint16_t port() const { return port_; }

  /// Waits for the next client; false after the timeout.
  bool accept(std::chrono::milliseconds timeout = 5s) {
    close_client();
    pollfd p{listener_, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(timeout.count())) <= 0)
      return false;
    client_ = ::accept4(listener_, nullptr, nullptr, SOCK_CLOEXEC);
    return client_ >= 0;
  }
  bool send(std::string_view text) {
    return client_ >= 0 && ::send(client_, text.data(), text.size(), MSG_NOSIGNAL) ==
                               static_cast<ssize_t>(text.size());
  }
  void close_client() {
    if (client_ >= 0)
      ::close(client_);
    client_ = -1;
  }

private:
  int listener_ = -1;
  int client_ = -1;
  uint16_t port_ = 0;
};

tcp_options to(uint16_t port) {
  tcp_options o;
  o.host = "127.0.0.1";
  o.port = port;
  o.connect_timeout = 2s;
  return o;
}

bool has_state(collector& c, source_state s, size_t at_least = 1) {
  return c.count_locked(s) >= at_least;
}

} // namespace

TEST(SerialTcpSource, DataArrivesAndReconnectsAfterTheServerCloses) {
  loopback_server server;
  reader_options options;
  options.backoff.initial = 20ms;
  options.backoff.max = 200ms;
  collector c;
  auto reader = make_tcp_reader(to(server.port()), options, c.callbacks());
  reader->start();
  ASSERT_TRUE(server.accept());
  ASSERT_TRUE(c.wait([&] { return has_state(c, source_state::open); }));
  EXPECT_EQ(c.last_status().endpoint, "127.0.0.1:" + std::to_string(server.port()));
  ASSERT_TRUE(server.send("\x7e\xa0\x1e first frame"));
  ASSERT_TRUE(c.wait([&] { return c.bytes.size() >= 15; }));

  server.close_client();
  ASSERT_TRUE(c.wait([&] { return has_state(c, source_state::waiting_for_device); }));
  EXPECT_EQ(c.last_status().error.kind, error_kind::disconnected);
  EXPECT_NE(c.last_status().error.message.find("closed by the peer"), std::string::npos);

  ASSERT_TRUE(server.accept(2s));
  ASSERT_TRUE(c.wait([&] { return has_state(c, source_state::open, 2); }, 2s));
  ASSERT_TRUE(server.send(" second"));
  ASSERT_TRUE(c.wait([&] { return c.bytes.size() >= 22; }));
  reader->stop();
  reader->join();
  std::lock_guard<std::mutex> guard(c.mutex);
  EXPECT_EQ(std::string(c.bytes.begin(), c.bytes.end()), "\x7e\xa0\x1e first frame second");
  EXPECT_EQ(c.chunks.front().origin, "tcp://127.0.0.1:" + std::to_string(server.port()));
}

TEST(SerialTcpSource, RefusedConnectionIsRetriedUntilTheServerListens) {
  int port = wattline::test::free_tcp_port();
  reader_options options;
  options.backoff.initial = 20ms;
  options.backoff.max = 100ms;
  collector c;
  auto reader = make_tcp_reader(to(static_cast<uint16_t>(port)), options, c.callbacks());
  reader->start();
  ASSERT_TRUE(c.wait([&] { return has_state(c, source_state::waiting_for_device, 2); }));
  EXPECT_EQ(c.last_status().error.kind, error_kind::connection_refused)
      << c.last_status().error.message;
  EXPECT_NE(c.last_status().error.message.find("ser2net"), std::string::npos);

  loopback_server server(port);
  ASSERT_TRUE(server.accept(2s));
  ASSERT_TRUE(c.wait([&] { return has_state(c, source_state::open); }));
  ASSERT_TRUE(server.send("late"));
  ASSERT_TRUE(c.wait([&] { return c.bytes.size() >= 4; }));
}

TEST(SerialTcpSource, StopEndsABlockedReadPromptly) {
  loopback_server server;
  reader_options options;
  options.read_timeout = 60s;
  collector c;
  auto reader = make_tcp_reader(to(server.port()), options, c.callbacks());
  reader->start();
  ASSERT_TRUE(server.accept());
  ASSERT_TRUE(c.wait([&] { return has_state(c, source_state::open); }));
  auto t0 = std::chrono::steady_clock::now();
  reader->stop();
  reader->join();
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 500ms);
  EXPECT_EQ(c.last_status().state, source_state::stopped);
}

TEST(SerialTcpSource, ConnectionUsesKeepaliveSettings) {
  loopback_server server;
  tcp_options o = to(server.port());
  o.keepalive_idle = 42s;
  o.keepalive_interval = 7s;
  o.keepalive_count = 5;
  tcp_connection conn;
  auto err = conn.connect(o);
  ASSERT_FALSE(err) << err.message;
  ASSERT_TRUE(server.accept());
  int value = 0;
  socklen_t len = sizeof(value);
  ASSERT_EQ(::getsockopt(conn.native_handle(), SOL_SOCKET, SO_KEEPALIVE, &value, &len), 0);
  EXPECT_EQ(value, 1);
  ::getsockopt(conn.native_handle(), IPPROTO_TCP, TCP_KEEPIDLE, &value, &len);
  EXPECT_EQ(value, 42);
  ::getsockopt(conn.native_handle(), IPPROTO_TCP, TCP_KEEPINTVL, &value, &len);
  EXPECT_EQ(value, 7);
  ::getsockopt(conn.native_handle(), IPPROTO_TCP, TCP_KEEPCNT, &value, &len);
  EXPECT_EQ(value, 5);
  uint8_t buf[16];
  EXPECT_EQ(conn.read_some(buf, 20ms).status, read_status::timeout);
}

TEST(SerialTcpSource, InvalidOptionsAreReportedNotThrown) {
  tcp_options o;
  o.host = "";
  o.port = 0;
  auto problems = validate(o);
  EXPECT_EQ(problems.size(), 2u);
  tcp_connection conn;
  auto err = conn.connect(o);
  EXPECT_TRUE(err);
  EXPECT_FALSE(conn.is_open());
}
