// `mqtt` sink: publishes records to an MQTT broker (Paho C async API, MQTT 3.1.1 or 5) through a
// per-sink buffer (bounded memory, or a durable disk write-ahead log), with optional Home
// Assistant discovery and a retained availability topic with last will.
//
// Flow: on_batch appends the records to the buffer (or refuses the batch when the buffer is full
// with `when_full: block`). Records are read from the buffer while fewer than
// `max_pending_messages` messages wait for the broker, encoded (smdc / json / value, topic
// template) into messages tagged with the record's sequence number, and handed to an at-least-
// once outbox that publishes them through the client's bounded in-flight window. A record is
// acknowledged to the buffer (removed for good) only when the broker has confirmed every message
// it produced (PUBACK / PUBCOMP; written to the socket for QoS 0), in order. Messages whose
// connection dropped before the confirmation are published again after the reconnect: possible
// duplicates, counted as error kind `resent`. Paho's callbacks only queue their reports and post
// to the node's mailbox; all bookkeeping runs on the node's actor.

#include "engine/component.hpp"
#include "engine/node_api.hpp"
#include "engine/pipeline_spec.hpp"
#include "engine/yaml_location.hpp"
#include "sinks/buffer/buffer_config.hpp"
#include "sinks/buffer/sink_buffer.hpp"
#include "sinks/mqtt/client.hpp"
#include "sinks/mqtt/discovery.hpp"
#include "sinks/mqtt/format.hpp"
#include "sinks/mqtt/node_options.hpp"
#include "sinks/mqtt/outbox.hpp"

#include <algorithm>
#include <deque>
#include <filesystem>
#include <limits>
#include <mutex>
#include <optional>

namespace wattline::sinks {
namespace {

namespace mq = wattline::mqtt;
namespace sb = wattline::sink_buffer;
using namespace std::chrono_literals;

constexpr uint64_t drain_token = 1;
/// Longest single timer step: a pending delayed message keeps the node's actor alive, and a long
/// one would delay the process exit after the graph has drained.
constexpr std::chrono::milliseconds max_timer_step{250};

/// Delivery reports queued by Paho threads for the node's actor. One post per non-empty queue,
/// so a burst of acknowledgements costs one actor message.
struct report_queue {
  std::mutex m;
  std::vector<mq::delivery_report> reports;
  bool posted = false;
};

std::string availability_topic_of(const node_spec& spec) {
  if (!spec.opts.boolean("availability", true))
    return {};
  auto t = spec.opts.str("availability_topic");
  return t.empty() ? "wattline/" + spec.id + "/availability" : t;
}

class mqtt_sink final : public component_instance {
public:
  explicit mqtt_sink(const node_spec& spec) : spec_(spec) {
    const auto& o = spec.opts;
    format_ = mq::format_from(o, mq::payload_format::smdc);
    topic_ = *mq::topic_template::parse(mq::topic_text_from(o, format_)); // checked at load
    max_pending_ = static_cast<std::size_t>(o.integer("max_pending_messages", 1000));
    drain_timeout_ = std::chrono::seconds(o.integer("drain_timeout_secs", 5));
    if (o.boolean("discovery")) {
      mq::discovery_options d;
      d.prefix = o.str("discovery_prefix", "homeassistant");
      d.device_tag = o.str("discovery_device_tag", "meter");
      d.availability_topic = availability_topic_of(spec);
      d.payload_online = o.str("payload_online", "online");
      d.payload_offline = o.str("payload_offline", "offline");
      d.format = format_;
      d.state_topic_template = topic_.text();
      discovery_.emplace(std::move(d));
    }
  }

  ~mqtt_sink() override {
    if (client_)
      client_->stop(std::chrono::milliseconds(1000)); // offline, graceful disconnect
  }

  mqtt_sink(const mqtt_sink&) = delete;
  mqtt_sink& operator=(const mqtt_sink&) = delete;

  void start(node_context& ctx) override {
    auto bo = sb::buffer_options_from(spec_.opts.raw(), ctx.data_dir(), spec_.id);
    buffer_type_ = bo.type;
    buffer_ = sb::open_and_report(bo, ctx);

    auto copts = mq::client_options_from(spec_.opts);
    copts.max_inflight = static_cast<std::size_t>(spec_.opts.integer("max_inflight", 20));
    copts.retain = spec_.opts.boolean("retain");
    copts.availability_topic = availability_topic_of(spec_);
    copts.payload_online = spec_.opts.str("payload_online", "online");
    copts.payload_offline = spec_.opts.str("payload_offline", "offline");

    auto mailbox = ctx.mailbox();
    auto queue = reports_;
    // Capturing `this` in posted functions is safe: a post runs only while this instance is the
    // node's current one. The callbacks themselves touch only the mailbox and the queue.
    mq::client_callbacks cb;
    cb.on_connection = [this, mailbox](const mq::connection_event& ev) {
      mailbox->post([this, ev](node_context& c) { connection_changed(ev, c); });
    };
    cb.on_delivery = [this, mailbox, queue](const mq::delivery_report& r) {
      std::lock_guard lock(queue->m);
      queue->reports.push_back(r);
      if (queue->posted)
        return;
      queue->posted = true;
      mailbox->post([this](node_context& c) { take_reports(c); });
    };
    cb.on_message = [this, mailbox](mq::incoming_message&& m) {
      mailbox->post([this, m = std::move(m)](node_context& c) { received(m, c); });
    };
    mq::forward_logs_and_subscriptions(cb, mailbox);
    std::string err;
    client_ = mq::client::create(std::move(copts), std::move(cb), &err);
    if (!client_) {
      ctx.fail("config", "cannot create the MQTT client: " + err);
      return;
    }
    url_ = client_->url();
    if (discovery_)
      client_->subscribe(mq::ha_status_topic(discovery_->options()), 1);
    ctx.set_detail("connecting to " + url_);
    client_->start();
    fill(ctx);
  }

  bool on_batch(batch& b, node_context& ctx) override {
    if (b.records.empty())
      return true;
    if (!sb::append_or_hold(*buffer_, b.records, blocked_, ctx))
      return false;
    fill(ctx);
    return true;
  }

  void on_timer(uint64_t token, node_context& ctx) override {
    if (token != drain_token || drained_ || !draining_)
      return;
    if (std::chrono::steady_clock::now() < drain_deadline_) {
      arm_drain(ctx);
      return;
    }
    finish_drain(ctx);
  }

  bool on_eof(node_context& ctx) override {
    draining_ = true;
    drain_deadline_ = std::chrono::steady_clock::now() + drain_timeout_;
    if (all_delivered()) {
      drained_ = true;
      log_totals(ctx);
      return true;
    }
    ctx.log(log_level::info, "end of input: delivering " + std::to_string(buffer_->size()) +
                                 " buffered records to " + url_ + " (drain_timeout_secs " +
                                 std::to_string(drain_timeout_.count() / 1000) + ")");
    ctx.set_detail("draining " + std::to_string(buffer_->size()) + " records to " + url_);
    arm_drain(ctx);
    fill(ctx);
    return false;
  }

private:
  [[nodiscard]] bool all_delivered() const {
    return buffer_ && buffer_->empty() && outbox_.empty();
  }

  void log_totals(node_context& ctx) {
    if (auto resent = outbox_.stats().resent; resent > 0)
      ctx.log(log_level::info, std::to_string(resent) +
                                   " messages published again after a lost connection (possible "
                                   "duplicates at the broker; error kind resent)");
  }

  void arm_drain(node_context& ctx) {
    auto wait = std::chrono::ceil<std::chrono::milliseconds>(drain_deadline_ -
                                                             std::chrono::steady_clock::now());
    ctx.schedule(std::clamp<std::chrono::milliseconds>(wait, 0ms, max_timer_step), drain_token);
  }

  /// Moves records from the buffer into the outbox while it has room, then publishes.
  void fill(node_context& ctx) {
    if (!client_ || drained_)
      return;
    std::vector<record> recs;
    std::vector<mq::encoded_message> msgs;
    while (outbox_.size() < max_pending_ && buffer_->unread() > 0) {
      recs.clear();
      if (buffer_->read(std::min<std::size_t>(100, max_pending_), recs) == 0)
        break; // unread entries were corrupt and skipped
      for (const auto& r : recs)
        enqueue(r, msgs, ctx);
    }
    publish(ctx);
  }

  /// Encodes one record into the outbox; its sequence number tags its messages.
  void enqueue(const record& r, std::vector<mq::encoded_message>& msgs, node_context& ctx) {
    const uint64_t seq = next_seq_++;
    if (discovery_) {
      std::string derr;
      for (auto& m : discovery_->announce(r, &derr))
        push(std::move(m), 0, 1, true);
      if (!derr.empty())
        ctx.error("discovery", "Home Assistant discovery: " + derr);
    }
    msgs.clear();
    std::string err;
    std::size_t n = mq::encode(r, format_, topic_, msgs, &err);
    if (n == 0 && !err.empty())
      ctx.dropped(1, "cannot publish record: " + err);
    for (auto& m : msgs)
      push(std::move(m), seq, std::nullopt, std::nullopt);
    unacked_.push_back(msgs.size());
  }

  /// Queues one message; the outbox itself is unbounded, `max_pending_` bounds it in fill().
  void push(mq::encoded_message&& m, uint64_t tag, std::optional<int> qos,
            std::optional<bool> retain) {
    mq::message msg;
    msg.topic = std::move(m.topic);
    msg.payload = std::move(m.payload);
    msg.qos = qos;
    msg.retain = retain;
    msg.tag = tag;
    outbox_.push(std::move(msg));
  }

  /// Hands pending messages to the client (as far as the connection and window allow).
  void publish(node_context& ctx) {
    invalid_.clear();
    outbox_.pump(*client_, &invalid_);
    for (auto tag : invalid_) {
      ctx.error("invalid_topic", "the broker client refused a topic as invalid; message dropped");
      complete(tag);
    }
    if (!invalid_.empty())
      ctx.dropped(invalid_.size(), "invalid topic");
    if (auto resent = outbox_.stats().resent; resent > resent_reported_) {
      ctx.count("resent", resent - resent_reported_); // possible duplicates at the broker
      resent_reported_ = resent;
    }
    acknowledge(ctx);
  }

  /// One message of record `tag` left the outbox for good.
  void complete(uint64_t tag) {
    if (tag == 0 || tag < front_seq_)
      return; // discovery message
    auto i = static_cast<std::size_t>(tag - front_seq_);
    if (i < unacked_.size() && unacked_[i] > 0)
      --unacked_[i];
  }

  /// Acknowledges the leading records whose messages were all confirmed.
  void acknowledge(node_context& ctx) {
    std::size_t n = 0;
    while (!unacked_.empty() && unacked_.front() == 0) {
      unacked_.pop_front();
      ++front_seq_;
      ++n;
    }
    if (n == 0)
      return;
    buffer_->ack(n);
    if (blocked_) {
      blocked_ = false;
      ctx.ready();
    }
  }

  void take_reports(node_context& ctx) {
    std::vector<mq::delivery_report> rs;
    {
      std::lock_guard lock(reports_->m);
      rs.swap(reports_->reports);
      reports_->posted = false;
    }
    for (const auto& r : rs) {
      auto a = outbox_.apply(r);
      if (a.known && a.delivered)
        complete(a.tag);
    }
    fill(ctx); // publishes again what was not delivered, and new records
    if (draining_ && !drained_ && all_delivered()) {
      drained_ = true;
      log_totals(ctx);
      ctx.drained();
    }
  }

  void connection_changed(const mq::connection_event& ev, node_context& ctx) {
    switch (ev.what) {
    case mq::connection_event::kind::connected:
      if (failing_)
        ctx.log(log_level::info, "publishing again to " + url_);
      else
        ctx.log(log_level::info, "connected to " + url_);
      failing_ = false;
      ctx.set_detail("publishing to " + url_);
      if (discovery_ && connects_ > 0)
        republish_discovery(); // a broker restarted without persistence lost the configs
      ++connects_;
      fill(ctx);
      break;
    case mq::connection_event::kind::connect_failed:
    case mq::connection_event::kind::connection_lost:
      failing_ = true;
      mq::report_connection_problem(
          ev, "; " + std::to_string(outbox_.size()) + " messages held for delivery", ctx);
      break;
    }
  }

  void republish_discovery() {
    for (auto& m : discovery_->all())
      push(std::move(m), 0, 1, true);
  }

  void received(const mq::incoming_message& m, node_context& ctx) {
    if (discovery_ && discovery_->is_ha_birth(m.topic, m.payload) && !m.retained) {
      ctx.log(log_level::info, "Home Assistant came online: announcing " +
                                   std::to_string(discovery_->size()) + " entities again");
      republish_discovery();
      publish(ctx);
    }
  }

  void finish_drain(node_context& ctx) {
    drained_ = true;
    log_totals(ctx);
    if (buffer_)
      sb::report_undelivered(*buffer_, buffer_type_, ctx);
    ctx.drained();
  }

  node_spec spec_;
  mq::payload_format format_ = mq::payload_format::smdc;
  mq::topic_template topic_;
  std::size_t max_pending_ = 1000;
  std::chrono::milliseconds drain_timeout_{5000};
  std::optional<mq::discovery_tracker> discovery_;
  sb::buffer_type buffer_type_ = sb::buffer_type::memory;
  std::unique_ptr<sb::record_buffer> buffer_;
  std::shared_ptr<report_queue> reports_ = std::make_shared<report_queue>();
  mq::outbox outbox_{std::numeric_limits<std::size_t>::max()};
  /// Messages not yet confirmed, per record read from the buffer, from `front_seq_` on.
  std::deque<std::size_t> unacked_;
  uint64_t front_seq_ = 1;
  uint64_t next_seq_ = 1;
  std::vector<uint64_t> invalid_;
  std::string url_;
  std::chrono::steady_clock::time_point drain_deadline_{};
  bool blocked_ = false;
  bool failing_ = false;
  bool draining_ = false;
  bool drained_ = false;
  uint64_t connects_ = 0;
  uint64_t resent_reported_ = 0;
  // Last member: destroyed first, so no callback outlives what it posts to.
  std::unique_ptr<mq::client> client_;
};

void check_mqtt_sink(const YAML::Node& node, const options& opts, const std::string& file,
                     diagnostics& diags) {
  mq::check_connection_options(node, opts, file, diags);
  mq::check_format_options(node, opts, file, diags, true);
  auto at = [&](const char* key) { return location_of(node[key] ? node[key] : node, file); };
  auto topic = opts.str("availability_topic");
  if (topic.find_first_of("+#") != std::string::npos)
    diags.error("'availability_topic' must not contain wildcards", at("availability_topic"));
  if (opts.boolean("discovery") && !opts.boolean("availability", true))
    diags.warning("discovery without availability: Home Assistant cannot show the sink offline",
                  at("availability"));
  sb::check_buffer_option(node, file, diags);
}

component_descriptor describe_mqtt_sink() {
  component_descriptor d;
  d.type = "mqtt";
  d.role = component_role::sink;
  d.summary = "Publishes records to an MQTT broker (smdc, json or value payloads, Home Assistant "
              "discovery, availability) through a memory or disk buffer, at least once.";
  d.input = data_kind::records;
  d.options = mq::connection_option_specs();
  for (auto& o : mq::format_option_specs(mq::payload_format::smdc, true))
    d.options.push_back(std::move(o));
  std::vector<option_spec> own = {
      {.name = "retain",
       .type = option_type::boolean,
       .doc = "Publish data messages retained (the broker keeps the last one per topic).",
       .default_value = "false"},
      {.name = "max_inflight",
       .type = option_type::integer,
       .doc = "Messages handed to the broker and not yet acknowledged (keep at or below the "
              "broker's max_inflight_messages, mosquitto: 20).",
       .default_value = "20",
       .min = 1,
       .max = 65535},
      {.name = "max_pending_messages",
       .type = option_type::integer,
       .doc = "Messages read from the buffer and waiting for the broker; more records stay in "
              "the buffer.",
       .default_value = "1000",
       .min = 1,
       .max = 1000000},
      {.name = "availability",
       .type = option_type::boolean,
       .doc = "Publish a retained online/offline status, with offline as the last will.",
       .default_value = "true"},
      {.name = "availability_topic",
       .doc = "Topic of the status (default: wattline/<sink id>/availability)."},
      {.name = "payload_online",
       .doc = "Status payload when connected.",
       .default_value = "online"},
      {.name = "payload_offline",
       .doc = "Status payload on stop and as last will.",
       .default_value = "offline"},
      {.name = "discovery",
       .type = option_type::boolean,
       .doc = "Home Assistant MQTT discovery: announce each new field of each new meter or device "
              "with a retained config (device info, unit, device_class, state_class), and again "
              "when Home Assistant restarts.",
       .default_value = "false"},
      {.name = "discovery_prefix",
       .doc = "Discovery prefix of Home Assistant.",
       .default_value = "homeassistant"},
      {.name = "discovery_device_tag",
       .doc = "Tag whose value identifies a device (one Home Assistant device per value).",
       .default_value = "meter"},
      sb::drain_timeout_option_spec(),
      sb::buffer_option_spec(),
  };
  for (auto& o : own)
    d.options.push_back(std::move(o));
  d.check = check_mqtt_sink;
  d.blocking_io = true; // stopping the client waits (up to 1 s) for the graceful disconnect
  d.make = [](const node_spec& s) { return std::make_unique<mqtt_sink>(s); };
  return d;
}

} // namespace
} // namespace wattline::sinks

WATTLINE_REGISTER_COMPONENT(wattline::sinks::describe_mqtt_sink)
