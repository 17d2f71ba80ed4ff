#pragma once

// Test harness: a real mosquitto broker on a free 127.0.0.1 port with a generated config
// (optional password file, optional TLS listener with generated certificates, persistence), and a
// raw Paho subscriber that collects messages. Reused by the MQTT tests, the MQTT sink tests and
// the MQTT benchmarks. Fails (throws) clearly when mosquitto, mosquitto_passwd or openssl is
// missing; never skips.

#include "tests/support/support.hpp"

#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace wattline::test {

/// Certificates generated with the `openssl` command (EC P-256, valid 2 days).
struct tls_files {
  /// The test CA certificate (PEM) that signed server and client certificates.
  std::filesystem::path ca_cert;
  /// Key of the test CA.
  std::filesystem::path ca_key;
  /// Server certificate with subjectAltName IP:127.0.0.1 and DNS:localhost.
  std::filesystem::path server_cert;
  /// Key of `server_cert`.
  std::filesystem::path server_key;
  /// Server certificate signed by the test CA for DNS:wrong.example only (host name mismatch).
  std::filesystem::path wrong_name_cert;
  /// Key of `wrong_name_cert`.
  std::filesystem::path wrong_name_key;
  /// Client certificate (CN=wattline-test-client) signed by the test CA.
  std::filesystem::path client_cert;
  /// Key of `client_cert`.
  std::filesystem::path client_key;
  /// A second, unrelated CA certificate (for "wrong CA" tests).
  std::filesystem::path other_ca_cert;
};

/// Generates the TLS material into `dir`; throws std::runtime_error with openssl's output on
/// failure.
tls_files make_tls_files(const std::filesystem::path& dir);

/// How to configure the broker.
struct mosquitto_options {
  /// Users (name, password) for a password file; non-empty disables anonymous access.
  std::vector<std::pair<std::string, std::string>> users;
  /// Adds a TLS listener (on `tls_port()`) with generated certificates.
  bool tls = false;
  /// TLS listener requires a client certificate signed by the test CA.
  bool require_client_cert = false;
  /// TLS listener presents `wrong_name_cert` (host name mismatch) instead of `server_cert`.
  bool tls_wrong_name = false;
  /// Persistence on disk (kept across stop/restart), so that queued messages for persistent
  /// sessions survive a restart.
  bool persistence = true;
  /// Extra lines appended to the generated config.
  std::string extra_config;
};

/// A mosquitto process on 127.0.0.1. Started by the constructor. Call the constructor, `start()`
/// and `restart()` from a thread that outlives the broker: the test support library starts
/// children with PR_SET_PDEATHSIG, so the broker is killed when the thread that forked it ends.
class mosquitto_server {
public:
  /// Generates config (and certificates) and starts the broker; throws std::runtime_error with
  /// the broker log when it does not accept connections within 10 s.
  explicit mosquitto_server(mosquitto_options opts = {});
  /// Kills the broker.
  ~mosquitto_server();
  mosquitto_server(const mosquitto_server&) = delete;
  mosquitto_server& operator=(const mosquitto_server&) = delete;

  /// Starts the broker (same ports) and waits until it accepts connections.
  void start();
  /// Stops gracefully (SIGTERM; persistence is written), SIGKILL after 5 s.
  void stop();
  /// Kills the broker (SIGKILL) without saving.
  void kill();
  /// stop() then start() on the same ports.
  void restart();
  /// True while the process runs.
  bool running();
  /// Exit status of the last run (128+signal when killed); -1 while running or never started.
  int exit_status();

  /// Plain listener port.
  [[nodiscard]] int port() const { return port_; }
  /// TLS listener port (0 without TLS).
  [[nodiscard]] int tls_port() const { return tls_port_; }
  /// `tcp://127.0.0.1:<port>`.
  [[nodiscard]] std::string url() const;
  /// `ssl://127.0.0.1:<tls_port>`.
  [[nodiscard]] std::string tls_url() const;
  /// The generated TLS material (valid when `tls` was requested).
  [[nodiscard]] const tls_files& tls() const { return tls_; }
  /// Broker log so far (all runs).
  [[nodiscard]] std::string log() const;
  /// The broker's working directory (config, log, persistence).
  [[nodiscard]] const std::filesystem::path& dir() const { return dir_.path(); }

private:
  void write_config();

  mosquitto_options opts_;
  temp_dir dir_;
  int port_ = 0;
  int tls_port_ = 0;
  tls_files tls_;
  std::string program_;
  std::unique_ptr<child_process> proc_;
};

/// A message collected by `test_subscriber`.
struct received_message {
  /// Topic.
  std::string topic;
  /// Payload.
  std::string payload;
  /// Delivered QoS.
  int qos = 0;
  /// Retained flag.
  bool retained = false;
  /// DUP flag: the broker delivers this message again (its earlier delivery was not
  /// acknowledged, e.g. the connection dropped), so it may be a duplicate.
  bool duplicate = false;
};

/// A minimal MQTT 3.1.1 subscriber written on plain sockets (independent of Paho and of
/// wattline::mqtt::client): connects, subscribes and collects every message (QoS 0/1/2 handled,
/// QoS 2 delivered once). When the connection drops it reconnects by itself (every 50 ms) and
/// subscribes again.
class test_subscriber {
public:
  /// Connection settings.
  struct options {
    /// Broker URL (tcp://127.0.0.1:port).
    std::string url;
    /// Topic filters to subscribe to.
    std::vector<std::string> topics;
    /// Subscription QoS.
    int qos = 1;
    /// With false, a persistent session (stable `client_id` needed) keeps queued messages while
    /// the subscriber or the broker is down.
    bool clean_session = true;
    /// Client id; empty = random.
    std::string client_id;
    /// User name (optional).
    std::string username;
    /// Password (optional).
    std::string password;
  };

  /// Connects and subscribes; throws std::runtime_error when that does not succeed in 10 s.
  explicit test_subscriber(options opts);
  /// Disconnects.
  ~test_subscriber();
  test_subscriber(const test_subscriber&) = delete;
  test_subscriber& operator=(const test_subscriber&) = delete;

  /// Messages so far, in arrival order.
  [[nodiscard]] std::vector<received_message> messages() const;
  /// Number of messages so far.
  [[nodiscard]] size_t count() const;
  /// Waits until at least `n` messages arrived; false on timeout.
  bool wait_for(size_t n, std::chrono::milliseconds timeout = std::chrono::seconds(10));
  /// Waits until `pred(messages)` holds; false on timeout.
  bool wait_until(const std::function<bool(const std::vector<received_message>&)>& pred,
                  std::chrono::milliseconds timeout = std::chrono::seconds(10));
  /// Forgets the messages collected so far.
  void clear();
  /// True while connected (and subscribed).
  [[nodiscard]] bool connected() const;
  /// Number of successful connects (1 + reconnects).
  [[nodiscard]] int connects() const;

  /// Connection, reader thread and collected messages; defined in mosquitto_server.cpp.
  struct state;

private:
  std::shared_ptr<state> st_;
};

/// Throws std::runtime_error naming scripts/install-deps.sh when `name` is not installed.
std::string require_program(const std::string& name);

} // namespace wattline::test
