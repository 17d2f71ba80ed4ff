#include "tests/influxdb/fake_http_server.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdexcept>
#include <sys/socket.h>
#include <unistd.h>
#include <zlib.h>

namespace wattline::test {

namespace {

std::string lower(std::string s) {
  for (auto& c : s)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string percent_decode(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size()) {
      out.push_back(static_cast<char>(std::stoi(std::string{s.substr(i + 1, 2)}, nullptr, 16)));
      i += 2;
    } else if (s[i] == '+') {
      out.push_back(' ');
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

const char* reason_phrase(int status) {
  switch (status) {
  case 200:
    return "OK";
  case 204:
    return "No Content";
  case 400:
    return "Bad Request";
  case 401:
    return "Unauthorized";
  case 404:
    return "Not Found";
  case 413:
    return "Request Entity Too Large";
  case 429:
    return "Too Many Requests";
  case 500:
    return "Internal Server Error";
  case 503:
    return "Service Unavailable";
  default:
    return "Status";
  }
}

bool send_all(int fd, const std::string& data) {
  size_t off = 0;
  while (off < data.size()) {
    ssize_t n = ::send(fd, data.data() + off, data.size() - off, MSG_NOSIGNAL);
    if (n <= 0)
      return false;
    off += static_cast<size_t>(n);
  }
  return true;
}

} // namespace

std::string fake_request::decoded_body() const {
  auto it = headers.find("content-encoding");
  if (it == headers.end() || it->second != "gzip")
    return body;
  z_stream zs{};
  if (inflateInit2(&zs, 15 + 16) != Z_OK)
    throw std::runtime_error("inflateInit2 failed");
  std::string out;
  char buf[65536];
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(body.data()));
  zs.avail_in = static_cast<uInt>(body.size());
  int rc = Z_OK;
  while (rc != Z_STREAM_END) {
    zs.next_out = reinterpret_cast<Bytef*>(buf);
    zs.avail_out = sizeof(buf);
    rc = inflate(&zs, Z_NO_FLUSH);
    if (rc != Z_OK && rc != Z_STREAM_END) {
      inflateEnd(&zs);
      throw std::runtime_error("bad gzip body");
    }
    out.append(buf, sizeof(buf) - zs.avail_out);
  }
  inflateEnd(&zs);
  return out;
}

fake_http_server::fake_http_server(handler h, bool keep_requests)
    : handler_(std::move(h)), keep_requests_(keep_requests) {
  listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (listen_fd_ < 0)
    throw std::runtime_error("socket failed");
  int one = 1;
  ::setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
      ::listen(listen_fd_, 16) != 0)
    throw std::runtime_error("bind/listen failed");
  socklen_t len = sizeof(addr);
  ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
  port_ = ntohs(addr.sin_port);
  thread_ = std::thread([this] { run(); });
}

fake_http_server::~fake_http_server() {
  stop_ = true;
  ::shutdown(listen_fd_, SHUT_RDWR);
  thread_.join();
  ::close(listen_fd_);
}

std::string fake_http_server::url() const {
  return "http://127.0.0.1:" + std::to_string(port_);
}

std::vector<fake_request> fake_http_server::requests() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return requests_;
}

size_t fake_http_server::request_count() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return request_count_;
}

void fake_http_server::run() {
  std::vector<std::thread> workers;
  while (!stop_) {
    pollfd p{listen_fd_, POLLIN, 0};
    if (::poll(&p, 1, 100) <= 0)
      continue;
    int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0)
      continue;
    ++connections_;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      conn_fds_.push_back(fd);
    }
    if (stop_)
      ::shutdown(fd, SHUT_RDWR);
    workers.emplace_back([this, fd] { serve(fd); }); // closed at destruction
  }
  {
    std::lock_guard<std::mutex> lock(mutex_);
    for (int fd : conn_fds_)
      ::shutdown(fd, SHUT_RDWR);
  }
  for (auto& w : workers)
    w.join();
  for (int fd : conn_fds_)
    ::close(fd);
}

void fake_http_server::serve(int fd) {
  std::string buf;
  char tmp[65536];
  auto fill = [&]() {
    ssize_t n = ::recv(fd, tmp, sizeof(tmp), 0);
    if (n <= 0)
      return false;
    buf.append(tmp, static_cast<size_t>(n));
    return true;
  };
  while (!stop_) {
    size_t head_end;
    while ((head_end = buf.find("\r\n\r\n")) == std::string::npos)
      if (!fill())
        return;
    fake_request req;
    std::string head = buf.substr(0, head_end);
    buf.erase(0, head_end + 4);
    size_t line_end = head.find("\r\n");
    std::string request_line = head.substr(0, line_end);
    auto sp1 = request_line.find(' ');
    auto sp2 = request_line.find(' ', sp1 + 1);
    req.method = request_line.substr(0, sp1);
    std::string target = request_line.substr(sp1 + 1, sp2 - sp1 - 1);
    auto qpos = target.find('?');
    req.path = target.substr(0, qpos);
    if (qpos != std::string::npos) {
      std::string_view q{target};
      q.remove_prefix(qpos + 1);
      while (!q.empty()) {
        auto amp = q.find('&');
        auto kv = q.substr(0, amp);
        auto eq = kv.find('=');
        req.query[percent_decode(kv.substr(0, eq))] =
            eq == std::string_view::npos ? "" : percent_decode(kv.substr(eq + 1));
        if (amp == std::string_view::npos)
          break;
        q.remove_prefix(amp + 1);
      }
    }
    size_t pos = line_end == std::string::npos ? head.size() : line_end + 2;
    while (pos < head.size()) {
      size_t e = head.find("\r\n", pos);
      if (e == std::string::npos)
        e = head.size();
      std::string h = head.substr(pos, e - pos);
      auto colon = h.find(':');
      if (colon != std::string::npos) {
        std::string v = h.substr(colon + 1);
        while (!v.empty() && v.front() == ' ')
          v.erase(0, 1);
        req.headers[lower(h.substr(0, colon))] = v;
      }
      pos = e + 2;
    }
    size_t content_length = 0;
    if (auto it = req.headers.find("content-length"); it != req.headers.end())
      content_length = std::stoul(it->second);
    while (buf.size() < content_length)
      if (!fill())
        return;
    req.body = buf.substr(0, content_length);
    buf.erase(0, content_length);

    fake_response resp = handler_(req);
    {
      std::lock_guard<std::mutex> lock(mutex_);
      ++request_count_;
      if (keep_requests_)
        requests_.push_back(std::move(req));
    }
    std::string out =
        "HTTP/1.1 " + std::to_string(resp.status) + " " + reason_phrase(resp.status) + "\r\n";
    bool has_type = false;
    for (const auto& [k, v] : resp.headers) {
      out += k + ": " + v + "\r\n";
      has_type = has_type || lower(k) == "content-type";
    }
    if (!has_type)
      out += "Content-Type: application/json\r\n";
    out += "Content-Length: " + std::to_string(resp.body.size()) + "\r\n\r\n" + resp.body;
    if (!send_all(fd, out))
      return;
  }
}

} // namespace wattline::test
