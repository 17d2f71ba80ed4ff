#pragma once

// Test harness: a real InfluxDB 1.x server (`influxd`, Debian's 1.6.7) in a temporary directory,
// listening only on free 127.0.0.1 ports. Shared by the InfluxDB sink tests and benchmarks
// (CMake target `wattline_influxd_harness`).
//
//   wattline::test::influxd_server db;                // starts, waits until /ping answers
//   db.create_database("meters");
//   ... write to db.url() ...
//   auto rows = db.select("SELECT * FROM power", "meters");   // data back, epoch=ns
//   db.stop(); db.start();                            // same ports, same data directory
//
// A missing `influxd` is an error (never a skip): scripts/install-deps.sh installs it.

#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace wattline::test {

class child_process;
class temp_dir;

/// Options of an influxd instance.
struct influxd_options {
  /// Enable HTTP authentication; an admin user `admin_user`/`admin_password` is created at the
  /// first start and the harness's own queries use it.
  bool auth_enabled = false;
  /// Admin user name (auth_enabled).
  std::string admin_user = "admin";
  /// Admin password (auth_enabled).
  std::string admin_password = "harness-admin-pw";
  /// `[http] max-body-size` in bytes (InfluxDB's default 25,000,000).
  int64_t max_body_size = 25'000'000;
  /// How long start() waits for /ping to answer.
  std::chrono::milliseconds start_timeout{30'000};
  /// influxd log level: "error", "warn", "info", "debug".
  std::string log_level = "warn";
  /// Log every HTTP request (`[http] log-enabled`).
  bool http_log = false;
  /// Serve HTTPS with a self-signed certificate for 127.0.0.1 (made with the openssl CLI);
  /// `url()` then starts with https:// and `ca_file()` is the certificate to trust.
  bool https = false;
};

/// One series of a query result.
struct influx_series {
  /// Measurement name.
  std::string name;
  /// Tags of a GROUP BY query; empty otherwise.
  std::map<std::string, std::string> tags;
  /// Column names; the first one is "time".
  std::vector<std::string> columns;
  /// Rows; values as JSON (time as integer nanoseconds, null for missing fields).
  std::vector<std::vector<nlohmann::json>> values;

  /// Index of `column`, or -1.
  [[nodiscard]] int column(std::string_view name) const;
};

/// A running influxd. Starts in the constructor; stops (SIGTERM, then SIGKILL after a deadline)
/// in the destructor and removes its directory.
class influxd_server {
public:
  /// Writes the config into a new temporary directory, picks free ports and starts the server.
  /// Throws std::runtime_error (with the server log) when influxd is missing or does not answer
  /// /ping within `start_timeout`.
  explicit influxd_server(influxd_options opts = {});
  ~influxd_server();
  influxd_server(const influxd_server&) = delete;
  influxd_server& operator=(const influxd_server&) = delete;

  /// Path of the influxd executable; throws std::runtime_error naming scripts/install-deps.sh
  /// when it is not installed.
  static std::string binary();

  /// Starts the server (again) on the same ports and data directory and waits until /ping
  /// answers. No-op when already running.
  void start();
  /// Stops gracefully (SIGTERM) and waits for the exit; SIGKILL after 15 s.
  void stop();
  /// Kills the server (SIGKILL) without a graceful shutdown, like a crash.
  void kill();
  /// True while the process runs.
  [[nodiscard]] bool running();

  /// HTTP port on 127.0.0.1.
  [[nodiscard]] int http_port() const { return http_port_; }
  /// RPC (backup/restore) port on 127.0.0.1.
  [[nodiscard]] int rpc_port() const { return rpc_port_; }
  /// Base URL, "http://127.0.0.1:<port>".
  [[nodiscard]] std::string url() const;
  /// The temporary directory holding config, meta, data, wal and the log.
  [[nodiscard]] const std::filesystem::path& dir() const;
  /// https: the self-signed certificate (PEM) to use as CA bundle; empty otherwise.
  [[nodiscard]] std::filesystem::path ca_file() const;
  /// The server's log so far.
  [[nodiscard]] std::string log() const;
  /// The options.
  [[nodiscard]] const influxd_options& options() const { return opts_; }

  /// Runs InfluxQL via POST /query (db optional, epoch=ns) and returns the parsed response.
  /// Throws std::runtime_error on HTTP errors or when a statement reports an error.
  nlohmann::json query(std::string_view q, std::string_view db = {});
  /// `CREATE DATABASE "<name>"`.
  void create_database(std::string_view name);
  /// Runs a SELECT and returns the series of its first statement (empty when no data).
  std::vector<influx_series> select(std::string_view q, std::string_view db);
  /// Number of points of `measurement` in `db` (counting `field`).
  int64_t count(std::string_view db, std::string_view measurement, std::string_view field);

private:
  void write_config();
  void make_certificate();

  influxd_options opts_;
  std::unique_ptr<temp_dir> dir_;
  std::unique_ptr<child_process> proc_;
  int http_port_ = 0;
  int rpc_port_ = 0;
  bool admin_created_ = false;
};

/// Minimal blocking HTTP client for tests (libcurl): POST `body` to `url`, optional basic auth.
struct http_reply {
  /// HTTP status; 0 when no response.
  long status = 0;
  /// Response body (or curl's error text when status is 0).
  std::string body;
};
/// Performs a POST with `body`; basic auth when `user` is not empty; `ca_file` is trusted for
/// https when given.
http_reply http_post(const std::string& url, std::string_view body,
                     std::string_view content_type = "application/x-www-form-urlencoded",
                     std::string_view user = {}, std::string_view password = {},
                     const std::string& ca_file = {});
/// Performs a GET; `ca_file` is trusted for https when given.
http_reply http_get(const std::string& url, const std::string& ca_file = {});

} // namespace wattline::test
