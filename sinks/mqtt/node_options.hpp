#pragma once

// The broker connection options shared by the `mqtt` sink and the `mqtt` source: declared once
// (name, type, doc, default), checked at load time with located diagnostics, and converted into
// `client_options`. No CAF include.

#include "engine/component.hpp"
#include "engine/node_api.hpp"
#include "sinks/mqtt/client.hpp"
#include "sinks/mqtt/format.hpp"
#include "sinks/mqtt/options.hpp"

#include <string>
#include <vector>

namespace wattline::mqtt {

/// The connection options: url, protocol, client_id, username, password, keepalive_secs,
/// clean_session, qos, TLS files, verify_hostname, insecure_skip_verify, reconnect and connect
/// timing, max_inflight.
[[nodiscard]] std::vector<option_spec> connection_option_specs();

/// The `format` option (smdc, json, value) with `default_format`, and the `topic` template
/// option documented for a sink (`for_sink`) or a source.
[[nodiscard]] std::vector<option_spec> format_option_specs(payload_format default_format,
                                                           bool for_sink);

/// Checks the connection options beyond their declared types: the URL (scheme, host, port, no
/// credentials), TLS file combinations, TLS options on a plain URL, insecure_skip_verify.
void check_connection_options(const YAML::Node& node, const options& opts, const std::string& file,
                              diagnostics& diags);

/// Checks `format` and `topic` (the template parses; per-field formats need `{field}` when
/// `need_field`).
void check_format_options(const YAML::Node& node, const options& opts, const std::string& file,
                          diagnostics& diags, bool need_field);

/// The client options of a node.
[[nodiscard]] client_options client_options_from(const options& opts);

/// The payload format of a node (`fallback` when missing or unknown).
[[nodiscard]] payload_format format_from(const options& opts, payload_format fallback);

/// The topic template of a node: the `topic` option, or the format's default.
[[nodiscard]] std::string topic_text_from(const options& opts, payload_format format);

/// Sets `cb.on_log` and `cb.on_subscription` to forward to the node through `mailbox`: client
/// log lines (debug dropped) to the node's log, refused subscriptions as errors of kind
/// `subscribe`, granted ones as info lines "subscribed to <filter> (QoS n)".
void forward_logs_and_subscriptions(client_callbacks& cb,
                                    const std::shared_ptr<node_mailbox>& mailbox);

/// Reports a failed connect attempt or a lost connection: an error of kind `connect` or
/// `connection_lost` (the client's sentence naming the broker and the retry delay, then `extra`)
/// and the node's state detail.
void report_connection_problem(const connection_event& ev, const std::string& extra,
                               node_context& ctx);

} // namespace wattline::mqtt
