#include "tests/mqtt/mosquitto_server.hpp"

#include <csignal>
#include <cstring>
#include <fstream>
#include <random>
#include <stdexcept>

#include <arpa/inet.h>
#include <cerrno>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>
#include <unordered_map>

namespace wattline::test {

namespace fs = std::filesystem;

std::string require_program(const std::string& name) {
  std::string p = find_program(name);
  if (p.empty())
    throw std::runtime_error("'" + name +
                             "' is not installed: run scripts/install-deps.sh (MQTT tests need "
                             "mosquitto, mosquitto-clients and openssl)");
  return p;
}

namespace {

void run_checked(const std::vector<std::string>& argv, const fs::path& log) {
  child_process p(argv, log);
  int rc = p.wait(std::chrono::seconds(30));
  if (rc != 0) {
    std::string cmd;
    for (const auto& a : argv)
      cmd += a + " ";
    throw std::runtime_error("command failed (exit " + std::to_string(rc) + "): " + cmd + "\n" +
                             read_file(log));
  }
}

void write_text(const fs::path& p, const std::string& text) {
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out << text;
  if (!out)
    throw std::runtime_error("cannot write " + p.string());
}

std::string random_id(const std::string& prefix) {
  std::random_device rd;
  return prefix + std::to_string(::getpid()) + "-" + std::to_string(rd() % 1000000);
}

} // namespace

tls_files make_tls_files(const fs::path& dir) {
  const std::string openssl = require_program("openssl");
  const fs::path log = dir / "openssl.log";
  tls_files t;
  t.ca_cert = dir / "ca.crt";
  t.ca_key = dir / "ca.key";
  t.server_cert = dir / "server.crt";
  t.server_key = dir / "server.key";
  t.wrong_name_cert = dir / "wrong.crt";
  t.wrong_name_key = dir / "wrong.key";
  t.client_cert = dir / "client.crt";
  t.client_key = dir / "client.key";
  t.other_ca_cert = dir / "other-ca.crt";
  const fs::path other_ca_key = dir / "other-ca.key";

  auto make_ca = [&](const fs::path& crt, const fs::path& key, const std::string& cn) {
    run_checked({openssl,
                 "req",
                 "-x509",
                 "-newkey",
                 "ec",
                 "-pkeyopt",
                 "ec_paramgen_curve:prime256v1",
                 "-nodes",
                 "-keyout",
                 key.string(),
                 "-out",
                 crt.string(),
                 "-days",
                 "2",
                 "-subj",
                 "/CN=" + cn,
                 "-addext",
                 "basicConstraints=critical,CA:TRUE",
                 "-addext",
                 "keyUsage=critical,keyCertSign,cRLSign"},
                log);
  };
  auto make_leaf = [&](const fs::path& crt, const fs::path& key, const std::string& cn,
                       const std::string& ext) {
    fs::path csr = crt;
    csr.replace_extension(".csr");
    fs::path extfile = crt;
    extfile.replace_extension(".ext");
    write_text(extfile, ext);
    run_checked({openssl, "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                 "-nodes", "-keyout", key.string(), "-out", csr.string(), "-subj", "/CN=" + cn},
                log);
    run_checked({openssl, "x509", "-req", "-in", csr.string(), "-CA", t.ca_cert.string(), "-CAkey",
                 t.ca_key.string(), "-CAcreateserial", "-out", crt.string(), "-days", "2",
                 "-extfile", extfile.string()},
                log);
  };
  make_ca(t.ca_cert, t.ca_key, "wattline test CA");
  make_ca(t.other_ca_cert, other_ca_key, "unrelated test CA");
  make_leaf(t.server_cert, t.server_key, "127.0.0.1",
            "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n");
  make_leaf(t.wrong_name_cert, t.wrong_name_key, "wrong.example",
            "subjectAltName=DNS:wrong.example\nextendedKeyUsage=serverAuth\n");
  make_leaf(t.client_cert, t.client_key, "wattline-test-client", "extendedKeyUsage=clientAuth\n");
  return t;
}

// ---- mosquitto_server -------------------------------------------------------------------

mosquitto_server::mosquitto_server(mosquitto_options opts) : opts_(std::move(opts)) {
  program_ = require_program("mosquitto");
  port_ = free_tcp_port();
  if (opts_.tls) {
    tls_port_ = free_tcp_port();
    while (tls_port_ == port_)
      tls_port_ = free_tcp_port();
    tls_ = make_tls_files(dir_.path());
  }
  // Another test process may take a port between free_tcp_port() and the broker's bind: on a
  // failed first start, try fresh ports (a few times) before giving up.
  for (int attempt = 1;; ++attempt) {
    write_config();
    try {
      start();
      return;
    } catch (const std::runtime_error&) {
      if (attempt == 5 || log().find("Address already in use") == std::string::npos)
        throw;
    }
    port_ = free_tcp_port();
    if (opts_.tls)
      do
        tls_port_ = free_tcp_port();
      while (tls_port_ == port_);
  }
}

mosquitto_server::~mosquitto_server() {
  proc_.reset();
}

void mosquitto_server::write_config() {
  std::string c;
  c += "per_listener_settings false\n";
  c += "log_dest file " + (dir_ / "broker.log").string() + "\n";
  c += "log_type error\nlog_type warning\nlog_type notice\nlog_type information\n";
  c += "connection_messages true\n";
  c += "log_timestamp_format %H:%M:%S\n";
  c += "max_queued_messages 0\n";
  if (::geteuid() == 0)
    c += "user root\n";
  if (opts_.persistence) {
    fs::create_directories(dir_ / "data");
    c += "persistence true\n";
    c += "persistence_location " + (dir_ / "data").string() + "/\n";
  }
  if (!opts_.users.empty()) {
    const std::string passwd_prog = require_program("mosquitto_passwd");
    const fs::path pw = dir_ / "passwd";
    bool first = true;
    for (const auto& [user, pass] : opts_.users) {
      std::vector<std::string> argv{passwd_prog, "-b"};
      if (first)
        argv.push_back("-c");
      argv.insert(argv.end(), {pw.string(), user, pass});
      run_checked(argv, dir_ / "mosquitto_passwd.log");
      first = false;
    }
    c += "allow_anonymous false\n";
    c += "password_file " + pw.string() + "\n";
  } else {
    c += "allow_anonymous true\n";
  }
  c += "listener " + std::to_string(port_) + " 127.0.0.1\n";
  if (opts_.tls) {
    c += "listener " + std::to_string(tls_port_) + " 127.0.0.1\n";
    c += "cafile " + tls_.ca_cert.string() + "\n";
    c += "certfile " + (opts_.tls_wrong_name ? tls_.wrong_name_cert : tls_.server_cert).string() +
         "\n";
    c +=
        "keyfile " + (opts_.tls_wrong_name ? tls_.wrong_name_key : tls_.server_key).string() + "\n";
    c +=
        std::string("require_certificate ") + (opts_.require_client_cert ? "true" : "false") + "\n";
  }
  c += opts_.extra_config;
  write_text(dir_ / "mosquitto.conf", c);
}

void mosquitto_server::start() {
  if (proc_ && proc_->running())
    return;
  proc_ = std::make_unique<child_process>(
      std::vector<std::string>{program_, "-c", (dir_ / "mosquitto.conf").string()},
      dir_ / "mosquitto.log");
  bool up = wait_until(
      [&] {
        if (!proc_->running())
          return true;
        return tcp_port_open(port_) && (tls_port_ == 0 || tcp_port_open(tls_port_));
      },
      std::chrono::seconds(10), std::chrono::milliseconds(5));
  if (!up || !proc_->running())
    throw std::runtime_error("mosquitto did not start on 127.0.0.1:" + std::to_string(port_) +
                             "; log:\n" + log());
}

void mosquitto_server::stop() {
  if (!proc_)
    return;
  if (proc_->running()) {
    proc_->signal(SIGTERM);
    if (proc_->wait(std::chrono::seconds(5)) < 0) {
      proc_->signal(SIGKILL);
      proc_->wait(std::chrono::seconds(5));
    }
  }
  proc_.reset();
}

void mosquitto_server::kill() {
  if (proc_ && proc_->running()) {
    proc_->signal(SIGKILL);
    proc_->wait(std::chrono::seconds(5));
  }
  proc_.reset();
}

void mosquitto_server::restart() {
  stop();
  start();
}

bool mosquitto_server::running() {
  return proc_ && proc_->running();
}

int mosquitto_server::exit_status() {
  return proc_ ? proc_->wait(std::chrono::milliseconds(0)) : -1;
}

std::string mosquitto_server::url() const {
  return "tcp://127.0.0.1:" + std::to_string(port_);
}

std::string mosquitto_server::tls_url() const {
  return "ssl://127.0.0.1:" + std::to_string(tls_port_);
}

std::string mosquitto_server::log() const {
  return read_file(dir_ / "mosquitto.log") + read_file(dir_ / "broker.log");
}

// ---- test_subscriber (raw MQTT 3.1.1 on a socket) -----------------------------------------

namespace {

void put_u16(std::string& out, size_t v) {
  out += static_cast<char>((v >> 8) & 0xFF);
  out += static_cast<char>(v & 0xFF);
}

void put_str(std::string& out, const std::string& s) {
  put_u16(out, s.size());
  out += s;
}

std::string packet(uint8_t type_flags, const std::string& body) {
  std::string out(1, static_cast<char>(type_flags));
  size_t len = body.size();
  do {
    uint8_t b = len % 128;
    len /= 128;
    if (len > 0)
      b |= 0x80;
    out += static_cast<char>(b);
  } while (len > 0);
  return out + body;
}

bool write_all(int fd, const std::string& data) {
  size_t off = 0;
  while (off < data.size()) {
    ssize_t n = ::send(fd, data.data() + off, data.size() - off, MSG_NOSIGNAL);
    if (n <= 0) {
      if (n < 0 && errno == EINTR)
        continue;
      return false;
    }
    off += static_cast<size_t>(n);
  }
  return true;
}

bool read_all(int fd, char* buf, size_t n) {
  size_t off = 0;
  while (off < n) {
    ssize_t r = ::recv(fd, buf + off, n - off, 0);
    if (r <= 0) {
      if (r < 0 && errno == EINTR)
        continue;
      return false;
    }
    off += static_cast<size_t>(r);
  }
  return true;
}

/// Reads one packet; false on EOF/error.
bool read_packet(int fd, uint8_t& header, std::string& body) {
  char h;
  if (!read_all(fd, &h, 1))
    return false;
  header = static_cast<uint8_t>(h);
  size_t len = 0, mult = 1;
  for (int i = 0; i < 4; ++i) {
    char b;
    if (!read_all(fd, &b, 1))
      return false;
    len += (static_cast<uint8_t>(b) & 0x7F) * mult;
    mult *= 128;
    if ((static_cast<uint8_t>(b) & 0x80) == 0)
      break;
  }
  body.resize(len);
  return len == 0 || read_all(fd, body.data(), len);
}

size_t get_u16(const std::string& s, size_t pos) {
  return (static_cast<size_t>(static_cast<uint8_t>(s[pos])) << 8) |
         static_cast<uint8_t>(s[pos + 1]);
}

int port_of(const std::string& url) {
  auto colon = url.rfind(':');
  if (url.rfind("tcp://127.0.0.1:", 0) != 0 || colon == std::string::npos)
    throw std::runtime_error("test_subscriber supports tcp://127.0.0.1:<port> only, got " + url);
  return std::stoi(url.substr(colon + 1));
}

} // namespace

struct test_subscriber::state {
  options opts;
  std::string client_id;
  int port = 0;
  mutable std::mutex mu;
  std::condition_variable cv;
  std::vector<received_message> msgs;
  bool connected = false;
  bool stopping = false;
  int connects = 0;
  int fd = -1;
  std::string error;
  std::thread worker;

  /// Connects, sends CONNECT and SUBSCRIBE; returns the socket or -1 (sets `error`).
  int open_session() {
    int s = ::socket(AF_INET, SOCK_STREAM, 0);
    if (s < 0)
      return -1;
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(static_cast<uint16_t>(port));
    int one = 1;
    ::setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    if (::connect(s, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
      ::close(s);
      error = "connect: " + std::string(std::strerror(errno));
      return -1;
    }
    std::string body;
    put_str(body, "MQTT");
    body += static_cast<char>(4);
    uint8_t flags = opts.clean_session ? 0x02 : 0x00;
    if (!opts.username.empty())
      flags |= 0x80;
    if (!opts.password.empty())
      flags |= 0x40;
    body += static_cast<char>(flags);
    put_u16(body, 0); // no keepalive
    put_str(body, client_id);
    if (!opts.username.empty())
      put_str(body, opts.username);
    if (!opts.password.empty())
      put_str(body, opts.password);
    uint8_t h = 0;
    std::string resp;
    if (!write_all(s, packet(0x10, body)) || !read_packet(s, h, resp) || h != 0x20 ||
        resp.size() < 2 || resp[1] != 0) {
      error = "CONNACK refused (rc " + std::to_string(resp.size() >= 2 ? resp[1] : -1) + ")";
      ::close(s);
      return -1;
    }
    std::string sub;
    put_u16(sub, 1);
    for (const auto& t : opts.topics) {
      put_str(sub, t);
      sub += static_cast<char>(opts.qos);
    }
    if (!write_all(s, packet(0x82, sub))) {
      ::close(s);
      return -1;
    }
    return s;
  }

  void run() {
    std::unordered_map<size_t, bool> qos2_pending;
    int s = -1;
    for (;;) {
      {
        std::unique_lock lk(mu);
        if (stopping)
          break;
      }
      if (s < 0) {
        s = open_session();
        if (s < 0) {
          std::unique_lock lk(mu);
          cv.wait_for(lk, std::chrono::milliseconds(50), [&] { return stopping; });
          continue;
        }
        std::lock_guard lk(mu);
        fd = s;
        if (stopping) {
          ::shutdown(s, SHUT_RDWR);
        }
      }
      uint8_t h = 0;
      std::string body;
      if (!read_packet(s, h, body)) {
        std::lock_guard lk(mu);
        connected = false;
        fd = -1;
        ::close(s);
        s = -1;
        cv.notify_all();
        continue;
      }
      const uint8_t type = h >> 4;
      if (type == 9) { // SUBACK
        std::lock_guard lk(mu);
        connected = true;
        ++connects;
        cv.notify_all();
      } else if (type == 3) { // PUBLISH
        const int qos = (h >> 1) & 0x03;
        size_t tlen = get_u16(body, 0);
        received_message m;
        m.topic = body.substr(2, tlen);
        size_t pos = 2 + tlen;
        size_t id = 0;
        if (qos > 0) {
          id = get_u16(body, pos);
          pos += 2;
        }
        m.payload = body.substr(pos);
        m.qos = qos;
        m.retained = (h & 0x01) != 0;
        m.duplicate = (h & 0x08) != 0;
        bool deliver = true;
        if (qos == 2) {
          deliver = !qos2_pending[id];
          qos2_pending[id] = true;
        }
        if (deliver) {
          std::lock_guard lk(mu);
          msgs.push_back(std::move(m));
          cv.notify_all();
        }
        std::string ack;
        put_u16(ack, id);
        if (qos == 1)
          write_all(s, packet(0x40, ack));
        else if (qos == 2)
          write_all(s, packet(0x50, ack));
      } else if (type == 6) { // PUBREL
        size_t id = get_u16(body, 0);
        qos2_pending.erase(id);
        std::string ack;
        put_u16(ack, id);
        write_all(s, packet(0x70, ack));
      }
    }
    if (s >= 0) {
      write_all(s, packet(0xE0, {}));
      ::close(s);
    }
  }
};

test_subscriber::test_subscriber(options opts) : st_(std::make_shared<state>()) {
  st_->opts = std::move(opts);
  st_->port = port_of(st_->opts.url);
  st_->client_id = st_->opts.client_id.empty() ? random_id("test-sub-") : st_->opts.client_id;
  st_->worker = std::thread([s = st_.get()] { s->run(); });
  std::unique_lock lk(st_->mu);
  if (!st_->cv.wait_for(lk, std::chrono::seconds(10), [&] { return st_->connected; })) {
    std::string e = st_->error.empty() ? "no SUBACK within 10 s" : st_->error;
    st_->stopping = true;
    if (st_->fd >= 0)
      ::shutdown(st_->fd, SHUT_RDWR);
    lk.unlock();
    st_->cv.notify_all();
    st_->worker.join();
    throw std::runtime_error("test_subscriber: " + st_->opts.url + ": " + e);
  }
}

test_subscriber::~test_subscriber() {
  {
    std::lock_guard lk(st_->mu);
    st_->stopping = true;
    if (st_->fd >= 0)
      ::shutdown(st_->fd, SHUT_RD);
  }
  st_->cv.notify_all();
  st_->worker.join();
}

std::vector<received_message> test_subscriber::messages() const {
  std::lock_guard lk(st_->mu);
  return st_->msgs;
}

size_t test_subscriber::count() const {
  std::lock_guard lk(st_->mu);
  return st_->msgs.size();
}

bool test_subscriber::wait_for(size_t n, std::chrono::milliseconds timeout) {
  std::unique_lock lk(st_->mu);
  return st_->cv.wait_for(lk, timeout, [&] { return st_->msgs.size() >= n; });
}

bool test_subscriber::wait_until(
    const std::function<bool(const std::vector<received_message>&)>& pred,
    std::chrono::milliseconds timeout) {
  std::unique_lock lk(st_->mu);
  return st_->cv.wait_for(lk, timeout, [&] { return pred(st_->msgs); });
}

void test_subscriber::clear() {
  std::lock_guard lk(st_->mu);
  st_->msgs.clear();
}

bool test_subscriber::connected() const {
  std::lock_guard lk(st_->mu);
  return st_->connected;
}

int test_subscriber::connects() const {
  std::lock_guard lk(st_->mu);
  return st_->connects;
}

} // namespace wattline::test
