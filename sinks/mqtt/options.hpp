#pragma once

// Options of the MQTT client, and broker URL parsing. Plain data; no Paho or CAF include.

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace wattline::mqtt {

/// MQTT protocol version spoken to the broker.
enum class protocol_version {
  /// MQTT 3.1.1 (default).
  v3_1_1,
  /// MQTT 5.0.
  v5,
};

/// TLS settings, used when the URL scheme is `ssl://` or `mqtts://`.
struct tls_options {
  /// CA certificate file (PEM) trusted for the broker certificate; empty = system trust store.
  std::string ca_file;
  /// Directory of CA certificates (PEM, c_rehash layout); empty = none.
  std::string ca_dir;
  /// Client certificate chain (PEM) for mutual TLS; empty = no client certificate.
  std::string cert_file;
  /// Private key (PEM) of the client certificate; empty = the key is in `cert_file`.
  std::string key_file;
  /// Password of an encrypted private key; never logged.
  std::string key_password;
  /// Check that the broker certificate matches the host name of the URL (on by default).
  bool verify_hostname = true;
  /// Disables certificate and host name verification entirely. The client logs a warning and
  /// lists it in `client::warnings()`. Only for tests and lab setups.
  bool insecure = false;
};

/// Reconnect policy: capped exponential backoff with jitter; the client never gives up.
struct reconnect_options {
  /// Delay before the first reconnect attempt after a failure or a lost connection.
  std::chrono::milliseconds initial_delay{500};
  /// Upper bound of the delay (before jitter).
  std::chrono::milliseconds max_delay{30'000};
  /// Factor applied to the delay after each failed attempt (>= 1).
  double multiplier = 2.0;
  /// Relative jitter: each delay is multiplied by a random factor in [1 - jitter, 1 + jitter].
  double jitter = 0.2;
};

/// Everything the client needs to connect, publish and subscribe.
struct client_options {
  /// Broker URL: `tcp://host:port`, `mqtt://host:port`, `ssl://host:port` or `mqtts://host:port`
  /// (default ports 1883 / 8883). `user:password@` in the URL is accepted and used when
  /// `username`/`password` are empty; it never appears in messages.
  std::string url = "tcp://127.0.0.1:1883";
  /// MQTT protocol version.
  protocol_version version = protocol_version::v3_1_1;
  /// Client identifier; empty = `default_client_id()` (`wattline-<hostname>-<pid>-<random>`).
  /// Must be unique per broker: two clients with one id disconnect each other forever.
  std::string client_id;
  /// User name; empty = anonymous.
  std::string username;
  /// Password; never logged and never part of an error message.
  std::string password;
  /// Keepalive interval (0 disables pings; mosquitto >= 2.0.12 wants it non-zero).
  std::chrono::seconds keepalive{30};
  /// Clean session (3.1.1) / clean start with session expiry 0 (5). With `false` the broker
  /// keeps subscriptions and queued QoS 1/2 messages across reconnects (needs a stable id).
  bool clean_session = true;
  /// Default QoS of publishes (0, 1 or 2) and subscriptions.
  int qos = 1;
  /// Default retain flag of publishes.
  bool retain = false;
  /// TLS settings (used for ssl:// and mqtts:// URLs).
  tls_options tls;
  /// Reconnect policy.
  reconnect_options reconnect;
  /// Time allowed for one connect attempt (TCP + TLS + CONNACK).
  std::chrono::seconds connect_timeout{10};
  /// Maximum number of publishes handed to the broker and not yet completed; `publish` refuses
  /// more with `publish_error::window_full`. Also used as Paho's maxInflight. Keep it at or below
  /// the broker's receive limit (mosquitto `max_inflight_messages`, default 20): with MQTT 3.1.1
  /// and QoS 2 a larger window makes the broker stall reading and Paho 1.3.x then drops the
  /// connection (a PUBREL meets a pending partial write).
  size_t max_inflight = 20;
  /// Availability topic; empty = none. When set, the client registers a retained last will
  /// `payload_offline` (QoS 1) and publishes a retained `payload_online` after every connect,
  /// and a retained `payload_offline` on `stop()`.
  std::string availability_topic;
  /// Payload announcing the client online.
  std::string payload_online = "online";
  /// Payload announcing the client offline (also the last will).
  std::string payload_offline = "offline";
};

/// A parsed broker URL.
struct broker_url {
  /// `tcp` or `ssl` (mqtt and mqtts are mapped to these).
  std::string scheme;
  /// Host name or IP address (IPv6 without brackets).
  std::string host;
  /// TCP port.
  int port = 0;
  /// User name from the URL, if any.
  std::string username;
  /// Password from the URL, if any; never printed.
  std::string password;

  /// True for `ssl`.
  [[nodiscard]] bool tls() const { return scheme == "ssl"; }
  /// The URI Paho expects, e.g. `ssl://host:8883` (no credentials).
  [[nodiscard]] std::string paho_uri() const;
  /// The URL for messages: as `paho_uri()`, without credentials.
  [[nodiscard]] std::string redacted() const { return paho_uri(); }
};

/// Parses a broker URL. Returns nullopt and sets `error` (which never contains the URL's
/// password) on an unknown scheme, a missing host or a bad port.
std::optional<broker_url> parse_broker_url(std::string_view url, std::string* error = nullptr);

/// Returns the URL with any `user:password@` part removed, for messages.
std::string redact_url(std::string_view url);

/// `wattline-<hostname>-<pid>-<6 random hex digits>`.
std::string default_client_id();

} // namespace wattline::mqtt
