#include "actors/serial/tcp_connection.hpp"

#include <algorithm>
#include <arpa/inet.h>
#include <cerrno>
#include <climits>
#include <cstring>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

namespace wattline::serial {

namespace {

std::string describe(int code) {
  return errno_name(code) + ": " + std::strerror(code);
}

std::string address_string(const sockaddr* sa) {
  char host[INET6_ADDRSTRLEN] = {};
  uint16_t port = 0;
  if (sa->sa_family == AF_INET) {
    auto* in = reinterpret_cast<const sockaddr_in*>(sa);
    ::inet_ntop(AF_INET, &in->sin_addr, host, sizeof(host));
    port = ntohs(in->sin_port);
    return std::string(host) + ":" + std::to_string(port);
  }
  if (sa->sa_family == AF_INET6) {
    auto* in6 = reinterpret_cast<const sockaddr_in6*>(sa);
    ::inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof(host));
    port = ntohs(in6->sin6_port);
    return "[" + std::string(host) + "]:" + std::to_string(port);
  }
  return "?";
}

int ms_left(std::chrono::steady_clock::time_point deadline) {
  auto left =
      std::chrono::ceil<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now())
          .count();
  return static_cast<int>(std::clamp<int64_t>(left, 0, INT_MAX));
}

} // namespace

std::vector<std::string> validate(const tcp_options& o) {
  std::vector<std::string> out;
  if (o.host.empty())
    out.emplace_back("host must not be empty");
  if (o.port == 0)
    out.emplace_back("port must be from 1 to 65535");
  if (o.connect_timeout.count() <= 0)
    out.emplace_back("connect_timeout must be positive");
  if (o.keepalive && (o.keepalive_idle.count() <= 0 || o.keepalive_interval.count() <= 0 ||
                      o.keepalive_count <= 0))
    out.emplace_back("keepalive idle, interval and count must be positive");
  return out;
}

tcp_connection::tcp_connection() = default;

tcp_connection::~tcp_connection() {
  close();
}

source_error tcp_connection::connect(const tcp_options& o) {
  close();
  bool v6 = o.host.find(':') != std::string::npos;
  origin_ = "tcp://" + (v6 ? "[" + o.host + "]" : o.host) + ":" + std::to_string(o.port);
  auto fail = [&](error_kind kind, int code, const std::string& what) {
    source_error e{kind, code, origin_ + ": " + what};
    if (code != 0)
      e.message += " (" + describe(code) + ")";
    if (kind == error_kind::connection_refused)
      e.message += "; is the converter (ser2net) running and listening on that port?";
    return e;
  };
  if (auto problems = validate(o); !problems.empty())
    return fail(error_kind::other, EINVAL, problems.front());
  if (stop_.notified())
    return fail(error_kind::other, ECANCELED, "stopped");

  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICSERV;
  addrinfo* list = nullptr;
  std::string service = std::to_string(o.port);
  if (int rc = ::getaddrinfo(o.host.c_str(), service.c_str(), &hints, &list); rc != 0) {
    source_error e{error_kind::resolve_failed, 0,
                   origin_ + ": cannot resolve host '" + o.host + "': " + ::gai_strerror(rc)};
    return e;
  }
  auto deadline = std::chrono::steady_clock::now() + o.connect_timeout;
  source_error last = fail(error_kind::other, 0, "no address to connect to");
  for (addrinfo* ai = list; ai != nullptr; ai = ai->ai_next) {
    int fd =
        ::socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
    if (fd < 0) {
      last = fail(error_kind::other, errno, "socket failed");
      continue;
    }
    int rc = ::connect(fd, ai->ai_addr, ai->ai_addrlen);
    int code = rc == 0 ? 0 : errno;
    if (rc != 0 && code == EINPROGRESS) {
      for (;;) {
        pollfd fds[2] = {{fd, POLLOUT, 0}, {stop_.fd(), POLLIN, 0}};
        int prc = ::poll(fds, 2, ms_left(deadline));
        if (prc < 0 && errno == EINTR)
          continue;
        if (prc < 0) {
          code = errno;
          break;
        }
        if (fds[1].revents != 0) {
          ::close(fd);
          ::freeaddrinfo(list);
          return fail(error_kind::other, ECANCELED, "stopped");
        }
        if (prc == 0) {
          code = ETIMEDOUT;
          break;
        }
        socklen_t len = sizeof(code);
        if (::getsockopt(fd, SOL_SOCKET, SO_ERROR, &code, &len) != 0)
          code = errno;
        break;
      }
    }
    if (code != 0) {
      ::close(fd);
      last = fail(classify_errno(code), code, "cannot connect to " + address_string(ai->ai_addr));
      if (ms_left(deadline) == 0)
        break;
      continue;
    }
    int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    if (o.keepalive) {
      int idle = static_cast<int>(o.keepalive_idle.count());
      int interval = static_cast<int>(o.keepalive_interval.count());
      int count = o.keepalive_count;
      ::setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one));
      ::setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof(idle));
      ::setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &interval, sizeof(interval));
      ::setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &count, sizeof(count));
    }
    fd_ = fd;
    peer_ = address_string(ai->ai_addr);
    ::freeaddrinfo(list);
    return {};
  }
  ::freeaddrinfo(list);
  return last;
}

read_result tcp_connection::read_some(std::span<uint8_t> buffer,
                                      std::chrono::milliseconds timeout) {
  read_result r;
  if (stop_.notified()) {
    r.status = read_status::stopped;
    return r;
  }
  auto error = [&](error_kind kind, int code, const std::string& what) {
    r.status = read_status::error;
    r.error = {kind, code, origin_ + ": " + what};
    if (code != 0)
      r.error.message += " (" + describe(code) + ")";
    return r;
  };
  if (fd_ < 0)
    return error(error_kind::other, EBADF, "not connected");
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    pollfd fds[2] = {{fd_, POLLIN, 0}, {stop_.fd(), POLLIN, 0}};
    int rc = ::poll(fds, 2, ms_left(deadline));
    if (rc < 0) {
      if (errno == EINTR)
        continue;
      return error(error_kind::other, errno, "poll failed");
    }
    if (fds[1].revents != 0 || stop_.notified()) {
      r.status = read_status::stopped;
      return r;
    }
    if (rc == 0) {
      r.status = read_status::timeout;
      return r;
    }
    short re = fds[0].revents;
    if (re & (POLLIN | POLLHUP | POLLERR)) {
      ssize_t n = ::recv(fd_, buffer.data(), buffer.size(), 0);
      if (n > 0) {
        r.status = read_status::data;
        r.size = static_cast<size_t>(n);
        return r;
      }
      if (n == 0)
        return error(error_kind::disconnected, 0, "connection closed by the peer");
      int code = errno;
      if (code == EAGAIN || code == EINTR)
        continue;
      error_kind kind = classify_errno(code);
      return error(kind == error_kind::other ? error_kind::disconnected : kind, code,
                   "receive failed");
    }
    if (re & POLLNVAL)
      return error(error_kind::other, EBADF, "invalid descriptor");
  }
}

void tcp_connection::close() {
  if (fd_ >= 0)
    ::close(fd_);
  fd_ = -1;
  peer_.clear();
}

} // namespace wattline::serial
