#include "sinks/mqtt/node_options.hpp"

#include "engine/yaml_location.hpp"

#include <filesystem>

namespace wattline::mqtt {

std::vector<option_spec> connection_option_specs() {
  return {
      {.name = "url",
       .doc = "Broker URL: tcp://host:1883 or mqtt://, ssl://host:8883 or mqtts:// for TLS (no "
              "credentials in it: use username and password).",
       .required = true},
      {.name = "protocol",
       .doc = "MQTT protocol version spoken to the broker.",
       .default_value = "3.1.1",
       .allowed = {"3.1.1", "5"}},
      {.name = "client_id",
       .doc = "Client identifier, unique per broker (default: wattline-<host>-<pid>-<random>). "
              "Set a stable one with clean_session false."},
      {.name = "username", .doc = "User name (empty: anonymous)."},
      {.name = "password",
       .doc = "Password, usually ${VAR} or ${file:...}; never logged.",
       .secret = true},
      {.name = "keepalive_secs",
       .type = option_type::integer,
       .doc = "Keepalive interval (PINGREQ when idle).",
       .default_value = "30",
       .min = 1,
       .max = 65535},
      {.name = "clean_session",
       .type = option_type::boolean,
       .doc = "Start a clean session on every connect (false: the broker keeps subscriptions and "
              "queued QoS 1/2 messages across reconnects; needs a stable client_id).",
       .default_value = "true"},
      {.name = "qos",
       .type = option_type::integer,
       .doc = "QoS of publishes (sink) or subscriptions (source): 0 at most once, 1 at least "
              "once, 2 exactly once.",
       .default_value = "1",
       .min = 0,
       .max = 2},
      {.name = "ca_file",
       .doc = "TLS: CA certificate file (PEM) trusted for the broker (empty: the system's)."},
      {.name = "ca_dir", .doc = "TLS: directory of CA certificates (c_rehash layout)."},
      {.name = "cert_file", .doc = "TLS: client certificate chain (PEM) for mutual TLS."},
      {.name = "key_file",
       .doc = "TLS: private key (PEM) of cert_file (empty: the key is in cert_file)."},
      {.name = "key_password",
       .doc = "TLS: password of an encrypted key_file; never logged.",
       .secret = true},
      {.name = "verify_hostname",
       .type = option_type::boolean,
       .doc = "TLS: check that the broker certificate names the URL's host.",
       .default_value = "true"},
      {.name = "insecure_skip_verify",
       .type = option_type::boolean,
       .doc = "TLS: do not verify the broker certificate at all (insecure; warns).",
       .default_value = "false"},
      {.name = "reconnect_initial_ms",
       .type = option_type::integer,
       .doc = "Delay before the first reconnect attempt (then doubled, with 20 % jitter).",
       .default_value = "500",
       .min = 1,
       .max = 3600000},
      {.name = "reconnect_max_ms",
       .type = option_type::integer,
       .doc = "Cap of the reconnect delay; the client never gives up.",
       .default_value = "30000",
       .min = 1,
       .max = 3600000},
      {.name = "connect_timeout_secs",
       .type = option_type::integer,
       .doc = "Time allowed for one connect attempt (TCP, TLS and CONNACK).",
       .default_value = "10",
       .min = 1,
       .max = 600},
  };
}

std::vector<option_spec> format_option_specs(payload_format default_format, bool for_sink) {
  return {
      {.name = "format",
       .doc = for_sink
                  ? "Payload format: smdc (one message per field on smartmeter/<meter>/<FIELD> "
                    "with {\"value\",\"timestamp\",\"obis\"}, as smartmeter-datacollector), json "
                    "(one message per record), value (the bare value per field)."
                  : "Payload format of received messages: smdc, json (as the mqtt sink writes "
                    "it) or value (bare value; field and tags from the topic).",
       .default_value = std::string{to_string(default_format)},
       .allowed = {"smdc", "json", "value"}},
      {.name = "topic",
       .doc = for_sink ? "Topic template: {name}, {field}, {tags.X}, alternatives "
                         "{tags.meter|name}. Default: smartmeter/{tags.meter}/{field} (smdc), "
                         "wattline/{tags.meter}/{name} (json), wattline/{tags.meter}/{field} "
                         "(value)."
                       : "Topic template that received topics are matched against to recover "
                         "{field}, {tags.X} and {name} (smdc and value). Default as the sink's."},
  };
}

void check_connection_options(const YAML::Node& node, const options& opts, const std::string& file,
                              diagnostics& diags) {
  auto at = [&](const char* key) { return location_of(node[key] ? node[key] : node, file); };
  auto url = opts.str("url");
  std::optional<broker_url> parsed;
  if (!url.empty()) {
    std::string err;
    parsed = parse_broker_url(url, &err);
    if (!parsed)
      diags.error(err, at("url"), "e.g. url: tcp://127.0.0.1:1883 or mqtts://broker.lan:8883");
    else if (!parsed->username.empty() || !parsed->password.empty())
      diags.error("'url' must not contain credentials; use username and password", at("url"));
  }
  const bool tls = parsed && parsed->tls();
  for (const char* key : {"ca_file", "ca_dir", "cert_file", "key_file"}) {
    if (opts.str(key).empty())
      continue;
    if (parsed && !tls)
      diags.warning(std::string{"'"} + key + "' is ignored: the url is not ssl:// or mqtts://",
                    at(key));
  }
  for (const char* key : {"ca_file", "cert_file", "key_file"}) {
    auto path = opts.str(key);
    std::error_code ec;
    if (!path.empty() && tls && !std::filesystem::is_regular_file(path, ec))
      diags.error(std::string{"'"} + key + "' " + path + " is not a readable file", at(key),
                  "paths are relative to the working directory");
  }
  if (auto d = opts.str("ca_dir"); !d.empty() && tls && !std::filesystem::is_directory(d))
    diags.error("'ca_dir' " + d + " is not a directory", at("ca_dir"));
  if (!opts.str("key_file").empty() && opts.str("cert_file").empty())
    diags.error("'key_file' needs a 'cert_file'", at("key_file"));
  if (opts.boolean("insecure_skip_verify"))
    diags.warning("insecure_skip_verify: the broker certificate is not verified",
                  at("insecure_skip_verify"));
  if (opts.integer("reconnect_max_ms", 30000) < opts.integer("reconnect_initial_ms", 500))
    diags.error("'reconnect_max_ms' must not be below 'reconnect_initial_ms'",
                at("reconnect_max_ms"));
  if (!opts.boolean("clean_session", true) && opts.str("client_id").empty())
    diags.warning("clean_session false without a client_id: the default id changes at every "
                  "start, so the broker's stored session is never resumed",
                  at("clean_session"), "set client_id: wattline-<something stable>");
}

void check_format_options(const YAML::Node& node, const options& opts, const std::string& file,
                          diagnostics& diags, bool need_field) {
  auto at = [&](const char* key) { return location_of(node[key] ? node[key] : node, file); };
  auto format = format_from(opts, payload_format::smdc);
  auto text = topic_text_from(opts, format);
  std::string err;
  auto tmpl = topic_template::parse(text, &err);
  if (!tmpl) {
    diags.error("topic template: " + err, at("topic"),
                "placeholders: {name}, {field}, {tags.X}; e.g. wattline/{tags.meter}/{field}");
    return;
  }
  if (format != payload_format::json && need_field && !tmpl->has_field())
    diags.error("format '" + std::string{to_string(format)} +
                    "' publishes one message per field: the topic needs a {field} placeholder",
                at("topic"), "e.g. topic: wattline/{tags.meter}/{field}");
}

client_options client_options_from(const options& opts) {
  client_options c;
  c.url = opts.str("url");
  c.version =
      opts.str("protocol", "3.1.1") == "5" ? protocol_version::v5 : protocol_version::v3_1_1;
  c.client_id = opts.str("client_id");
  c.username = opts.str("username");
  c.password = opts.str("password");
  c.keepalive = std::chrono::seconds(opts.integer("keepalive_secs", 30));
  c.clean_session = opts.boolean("clean_session", true);
  c.qos = static_cast<int>(opts.integer("qos", 1));
  c.tls.ca_file = opts.str("ca_file");
  c.tls.ca_dir = opts.str("ca_dir");
  c.tls.cert_file = opts.str("cert_file");
  c.tls.key_file = opts.str("key_file");
  c.tls.key_password = opts.str("key_password");
  c.tls.verify_hostname = opts.boolean("verify_hostname", true);
  c.tls.insecure = opts.boolean("insecure_skip_verify", false);
  c.reconnect.initial_delay = std::chrono::milliseconds(opts.integer("reconnect_initial_ms", 500));
  c.reconnect.max_delay = std::chrono::milliseconds(opts.integer("reconnect_max_ms", 30000));
  c.connect_timeout = std::chrono::seconds(opts.integer("connect_timeout_secs", 10));
  return c;
}

payload_format format_from(const options& opts, payload_format fallback) {
  return parse_payload_format(opts.str("format")).value_or(fallback);
}

std::string topic_text_from(const options& opts, payload_format format) {
  auto t = opts.str("topic");
  return t.empty() ? std::string{default_topic_template(format)} : t;
}

void forward_logs_and_subscriptions(client_callbacks& cb,
                                    const std::shared_ptr<node_mailbox>& mailbox) {
  cb.on_subscription = [mailbox](const subscription_report& r) {
    mailbox->post([r](node_context& c) {
      if (r.ok)
        c.log(wattline::log_level::info,
              "subscribed to " + r.filter + " (QoS " + std::to_string(r.granted_qos) + ")");
      else
        c.error("subscribe", "subscription to " + r.filter + " refused: " + r.error);
    });
  };
  cb.on_log = [mailbox](log_level level, const std::string& text) {
    if (level == log_level::debug)
      return;
    mailbox->post([level, text](node_context& c) {
      c.log(level == log_level::error     ? wattline::log_level::error
            : level == log_level::warning ? wattline::log_level::warning
                                          : wattline::log_level::info,
            text);
    });
  };
}

void report_connection_problem(const connection_event& ev, const std::string& extra,
                               node_context& ctx) {
  const bool lost = ev.what == connection_event::kind::connection_lost;
  auto text = ev.detail + extra; // the detail names the broker and the retry delay
  ctx.error(lost ? "connection_lost" : "connect", text);
  ctx.set_detail((lost ? "connection lost: " : "cannot connect: ") + text);
}

} // namespace wattline::mqtt
