#pragma once

// Synchronous InfluxDB HTTP writer (v1 `/write` and v2 `/api/v2/write`) on one reused libcurl easy
// handle. It reads the response body to tell transient failures (retry later) from poison lines
// (give up on exactly those lines) and configuration errors. No CAF: the actor wrapper calls
// `write()` from a detached actor / worker thread and schedules retries itself.
//
// Typical use by an actor:
//
//   influxdb::writer w{opts};
//   auto setup = w.setup();                      // optional: CREATE DATABASE / RETENTION POLICY
//   influxdb::write_outcome out = w.write(batch); // batch: influxdb::line_batch, modified in place
//   dead_letter.append(out.rejected, w.display_url());
//   switch (out.status) {
//     case write_status::ok: case write_status::partial: backoff.reset(); break;   // batch empty
//     case write_status::retry: schedule(backoff.next(out.retry_after), batch); break;
//     case write_status::split: { auto [a, b] = batch.split(); queue a, b; break; }
//     case write_status::permanent: report out.message; dead-letter or hold batch; break;
//   }

#include "sinks/influxdb/batch.hpp"
#include "sinks/influxdb/line_protocol.hpp"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace wattline::influxdb {

/// InfluxDB HTTP API flavour.
enum class api_version {
  /// `POST /write?db=&rp=&precision=`, InfluxDB 1.x; user/password auth.
  v1,
  /// `POST /api/v2/write?org=&bucket=&precision=`, `Authorization: Token`, InfluxDB 2.x / 1.8+.
  v2,
};

/// How v1 credentials are sent.
enum class v1_auth_mode {
  /// HTTP basic authentication (`Authorization: Basic`).
  basic,
  /// `u=` and `p=` query parameters.
  query,
};

/// Writer configuration; plain data, e.g. filled from the YAML sink section.
struct writer_options {
  /// Sink name used in error messages and dead-letter entries.
  std::string name = "influxdb";
  /// Server base URL, `http://host:8086` or `https://...`, optionally with a path prefix. Must not
  /// contain credentials (use username/password/token).
  std::string url = "http://127.0.0.1:8086";
  /// API flavour.
  api_version api = api_version::v1;
  /// v1: database name.
  std::string database;
  /// v1: retention policy; empty for the database's default policy.
  std::string retention_policy;
  /// Precision of the timestamps in the lines (must match the encoder's precision).
  influxdb::precision time_precision = precision::ns;
  /// v1: user name; empty for no authentication.
  std::string username;
  /// v1: password. Never appears in any message.
  std::string password;
  /// v1: how username/password are sent.
  v1_auth_mode v1_auth = v1_auth_mode::basic;
  /// v2: organisation name (or id); may stay empty for InfluxDB 1.8's v2 compatibility API.
  std::string org;
  /// v2: bucket name (or id); "db/rp" on InfluxDB 1.8. Required for v2.
  std::string bucket;
  /// v2: API token (`Authorization: Token ...`). Never appears in any message.
  std::string token;
  /// Compress request bodies with gzip (`Content-Encoding: gzip`).
  bool gzip = false;
  /// zlib compression level 1 (fast) .. 9 (small).
  int gzip_level = 1;
  /// Whole-request timeout.
  std::chrono::milliseconds timeout{10'000};
  /// TCP (and TLS) connect timeout.
  std::chrono::milliseconds connect_timeout{5'000};
  /// https: skip certificate and host name verification (verification is on by default).
  bool insecure_skip_verify = false;
  /// https: CA bundle file; empty for the system default.
  std::string ca_file;
  /// A batch that meets this many unrecognised server errors (5xx other than 502/503/504 and
  /// timeouts) is given up: its lines are rejected with the last message. Guards against poison
  /// batches whose error text is not recognised.
  uint32_t max_server_errors = 10;
  /// Extra requests allowed per write() to isolate lines a server rejected without naming them
  /// (e.g. "points beyond retention policy"): the lines are re-sent in halves. Lines still not
  /// isolated when this runs out are rejected together.
  size_t max_isolation_requests = 64;

  /// setup(), v1: `CREATE DATABASE` when true.
  bool create_database = false;
  /// setup(), v1: when set (e.g. "7d"), create (or alter) `retention_policy` with this duration.
  std::string retention_duration;
  /// setup(), v1: replication factor of the created retention policy.
  int retention_replication = 1;
  /// setup(), v1: make the created retention policy the database's default.
  bool retention_default = false;
};

/// What `writer::write` achieved.
enum class write_status {
  /// Every line of the batch is stored; the batch is now empty.
  ok,
  /// Every line is stored except those in `rejected` (poison: type conflicts, unparsable lines,
  /// outside retention...), which the server will never accept; the batch is now empty.
  partial,
  /// Transient failure (network error, timeout, 429, 5xx): send the lines left in the batch again
  /// after `retry_after` (when non-zero) or a backoff delay. `rejected` may hold lines identified
  /// before the failure.
  retry,
  /// 413: the body is too large for the server; split the batch (`line_batch::split`) and write
  /// the halves. The batch is unchanged.
  split,
  /// Retrying the same request cannot succeed: authentication failed (401/403), database or
  /// bucket not found (404), an unattributable 4xx, TLS verification failure, or a batch that met
  /// `max_server_errors`. Lines given up are in `rejected`; lines left in the batch were not
  /// written and are intact (the caller may dead-letter them or keep them until reconfigured).
  permanent,
};

/// Returns "ok", "partial", "retry", "split" or "permanent".
[[nodiscard]] std::string_view to_string(write_status s);

/// A line the server will not accept, with its reason (for the dead-letter file).
struct rejected_line {
  /// The line, without '\n'.
  std::string line;
  /// Server's message about it, prefixed with the HTTP status, e.g. "HTTP 400: partial write:
  /// field type conflict: ...". Free of credentials.
  std::string reason;
};

/// Result of `writer::write` (and `writer::setup`).
struct write_outcome {
  /// What happened; see write_status.
  write_status status = write_status::ok;
  /// HTTP status of the last response; 0 when none was received (network error).
  int http_status = 0;
  /// status retry: the server's Retry-After (429/503), zero when it gave none.
  std::chrono::milliseconds retry_after{0};
  /// Human-readable description naming the sink and the URL, never credentials; empty when ok.
  std::string message;
  /// Lines given up, each with its reason; append them to the dead-letter file.
  std::vector<rejected_line> rejected;
  /// Lines the server stored during this call.
  size_t written = 0;
  /// HTTP requests made during this call.
  size_t requests = 0;
};

/// Writes line-protocol batches to one InfluxDB server. Holds one libcurl easy handle, so TCP/TLS
/// connections are reused between calls. Not thread-safe: one writer per actor/thread.
class writer {
public:
  /// Validates the options (throws std::invalid_argument with a credential-free message) and
  /// prepares the handle. No network activity.
  explicit writer(writer_options opts);
  ~writer();
  writer(const writer&) = delete;
  writer& operator=(const writer&) = delete;

  /// Posts `batch`. On return the batch holds exactly the lines that still need writing: empty for
  /// ok/partial, the remaining lines for retry, unchanged for split and for permanent errors that
  /// gave up nothing. Lines the server rejects for good are moved to `rejected`; a poison batch is
  /// never left to be retried forever (see write_status). Never throws for server or network
  /// errors.
  write_outcome write(line_batch& batch);

  /// v1: runs the configured CREATE DATABASE / CREATE RETENTION POLICY statements (ALTER when the
  /// policy exists with other settings) via `/query`. status ok, retry (server unreachable) or
  /// permanent (e.g. not authorised). Does nothing (ok) for v2 or when nothing is configured.
  write_outcome setup();

  /// Runs one InfluxQL statement via `POST /query` (v1 auth applies) and returns the HTTP status
  /// (0 when unreachable) and the body in `body`. For tooling and tests.
  int query(std::string_view statement, std::string& body);

  /// The server URL without credentials, as used in messages.
  [[nodiscard]] const std::string& display_url() const { return display_url_; }

  /// The options.
  [[nodiscard]] const writer_options& options() const { return opts_; }

  /// Replaces every credential (password, token, their URL/base64 encodings) in `text` by "***".
  [[nodiscard]] std::string redact(std::string text) const;

  /// Encoder options matching this writer (precision; `u` suffix for v2, clamped `i` for v1).
  [[nodiscard]] encoder_options matching_encoder_options() const;

private:
  struct impl;
  std::unique_ptr<impl> impl_;
  writer_options opts_;
  std::string display_url_;
};

} // namespace wattline::influxdb
