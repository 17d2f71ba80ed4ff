// `mqtt` source: subscribes to topic filters on an MQTT broker (wildcards, MQTT 5 shared
// subscriptions `$share/group/...`) and turns received messages into records: `json` payloads as
// the mqtt sink writes them, or `smdc` / `value` payloads whose field and tags come from the
// topic template. Links wattline processes through a broker and carries commands to other nodes.
//
// Paho's message callback only appends to a bounded queue and posts one "drain" to the node's
// mailbox per non-empty queue; the actor decodes and emits the queue as one batch when its
// outputs have credit. When the outputs stay without credit and the queue is full, further
// messages are counted as dropped (MQTT offers no way to refuse a message once received).

#include "engine/component.hpp"
#include "engine/node_api.hpp"
#include "engine/pipeline_spec.hpp"
#include "engine/yaml_location.hpp"
#include "sinks/mqtt/client.hpp"
#include "sinks/mqtt/format.hpp"
#include "sinks/mqtt/node_options.hpp"

#include <chrono>
#include <deque>
#include <mutex>

namespace wattline::sources {
namespace {

namespace mq = wattline::mqtt;

/// Messages received by Paho threads, waiting for the node's actor.
struct inbox {
  std::mutex m;
  std::deque<mq::incoming_message> messages;
  std::size_t capacity = 10'000;
  uint64_t overflow = 0;
  bool posted = false;
};

int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

class mqtt_source final : public component_instance {
public:
  explicit mqtt_source(const node_spec& spec) : spec_(spec) {
    const auto& o = spec.opts;
    format_ = mq::format_from(o, mq::payload_format::json);
    topic_ = *mq::topic_template::parse(mq::topic_text_from(o, format_)); // checked at load
    decode_.default_name = o.str("name");
    if (decode_.default_name.empty())
      decode_.default_name = format_ == mq::payload_format::smdc ? "smartmeter" : "mqtt";
    box_->capacity = static_cast<std::size_t>(o.integer("max_queued_messages", 10000));
    batch_size_ = static_cast<std::size_t>(o.integer("batch_size", 500));
  }

  ~mqtt_source() override {
    if (client_)
      client_->stop(std::chrono::milliseconds(500));
  }

  mqtt_source(const mqtt_source&) = delete;
  mqtt_source& operator=(const mqtt_source&) = delete;

  void start(node_context& ctx) override {
    auto copts = mq::client_options_from(spec_.opts);
    auto mailbox = ctx.mailbox();
    auto box = box_;
    mq::client_callbacks cb;
    cb.on_connection = [this, mailbox](const mq::connection_event& ev) {
      mailbox->post([this, ev](node_context& c) { connection_changed(ev, c); });
    };
    cb.on_message = [this, mailbox, box](mq::incoming_message&& m) {
      std::lock_guard lock(box->m);
      if (box->messages.size() >= box->capacity) {
        ++box->overflow;
      } else {
        box->messages.push_back(std::move(m));
      }
      if (box->posted)
        return;
      box->posted = true;
      mailbox->post([this](node_context& c) {
        {
          std::lock_guard l(box_->m);
          box_->posted = false;
        }
        drain(c);
      });
    };
    mq::forward_logs_and_subscriptions(cb, mailbox);
    std::string err;
    client_ = mq::client::create(std::move(copts), std::move(cb), &err);
    if (!client_) {
      ctx.fail("config", "cannot create the MQTT client: " + err);
      return;
    }
    url_ = client_->url();
    for (const auto& filter : spec_.opts.strings("topics"))
      client_->subscribe(filter);
    ctx.set_detail("connecting to " + url_);
    client_->start();
  }

  void on_credit(node_context& ctx) override { drain(ctx); }

  void on_stop(node_context& ctx) override {
    stopping_ = true;
    if (client_)
      client_->stop(std::chrono::milliseconds(500)); // no more messages arrive
    drain(ctx);
    finish_if_done(ctx);
  }

private:
  /// Decodes and emits queued messages while the outputs have credit.
  void drain(node_context& ctx) {
    for (;;) {
      if (!ctx.can_emit())
        return;
      std::deque<mq::incoming_message> taken;
      uint64_t overflow = 0;
      {
        std::lock_guard lock(box_->m);
        overflow = std::exchange(box_->overflow, 0);
        auto n = std::min(batch_size_, box_->messages.size());
        for (std::size_t i = 0; i < n; ++i) {
          taken.push_back(std::move(box_->messages.front()));
          box_->messages.pop_front();
        }
      }
      if (overflow > 0)
        ctx.dropped(overflow, "receive queue full (outputs too slow; max_queued_messages)");
      if (taken.empty())
        break;
      batch b;
      b.records.reserve(taken.size());
      for (auto& m : taken) {
        std::string err;
        decode_.default_time_ns = now_ns(); // receive time, for payloads without one
        auto r = mq::decode(m.topic, m.payload, format_, topic_, decode_, &err);
        if (!r) {
          ctx.error("bad_message", "message on " + m.topic + " ignored: " + err);
          continue;
        }
        b.records.push_back(std::move(*r));
      }
      if (!b.records.empty())
        ctx.emit(std::move(b));
    }
    finish_if_done(ctx);
  }

  void finish_if_done(node_context& ctx) {
    if (!stopping_ || finished_)
      return;
    std::lock_guard lock(box_->m);
    if (!box_->messages.empty())
      return;
    finished_ = true;
    ctx.finished();
  }

  void connection_changed(const mq::connection_event& ev, node_context& ctx) {
    switch (ev.what) {
    case mq::connection_event::kind::connected:
      ctx.log(log_level::info, (failing_ ? "connected again to " : "connected to ") + url_);
      failing_ = false;
      ctx.set_detail("subscribed at " + url_);
      break;
    case mq::connection_event::kind::connect_failed:
    case mq::connection_event::kind::connection_lost:
      failing_ = true;
      mq::report_connection_problem(ev, {}, ctx);
      break;
    }
  }

  node_spec spec_;
  mq::payload_format format_ = mq::payload_format::json;
  mq::topic_template topic_;
  mq::decode_options decode_;
  std::size_t batch_size_ = 500;
  std::shared_ptr<inbox> box_ = std::make_shared<inbox>();
  std::string url_;
  bool failing_ = false;
  bool stopping_ = false;
  bool finished_ = false;
  // Last member: destroyed first, so no callback outlives what it posts to.
  std::unique_ptr<mq::client> client_;
};

void check_mqtt_source(const YAML::Node& node, const options& opts, const std::string& file,
                       diagnostics& diags) {
  mq::check_connection_options(node, opts, file, diags);
  mq::check_format_options(node, opts, file, diags, true);
  auto at = location_of(node["topics"] ? node["topics"] : node, file);
  for (const auto& filter : opts.strings("topics")) {
    if (filter.empty()) {
      diags.error("an empty topic filter", at, "e.g. topics: [smartmeter/#]");
      continue;
    }
    auto body = std::string_view{filter};
    if (body.rfind("$share/", 0) == 0) {
      auto slash = body.find('/', 7);
      if (slash == std::string_view::npos || slash == 7 || slash + 1 >= body.size()) {
        diags.error("shared subscription '" + filter + "' needs $share/<group>/<filter>", at,
                    "e.g. $share/wattline/smartmeter/#");
        continue;
      }
      body = body.substr(slash + 1);
    }
    for (std::size_t i = 0; i < body.size(); ++i) {
      bool level_start = i == 0 || body[i - 1] == '/';
      bool level_end = i + 1 == body.size() || body[i + 1] == '/';
      if (body[i] == '+' && !(level_start && level_end))
        diags.error("'+' must fill a whole topic level in '" + filter + "'", at);
      if (body[i] == '#' && !(level_start && i + 1 == body.size()))
        diags.error("'#' must be the last topic level in '" + filter + "'", at);
    }
  }
}

component_descriptor describe_mqtt_source() {
  component_descriptor d;
  d.type = "mqtt";
  d.role = component_role::source;
  d.summary = "Subscribes to MQTT topics (wildcards, $share/group/... shared subscriptions) and "
              "turns json, smdc or value payloads into records.";
  d.output = data_kind::records;
  d.options = mq::connection_option_specs();
  for (auto& o : mq::format_option_specs(mq::payload_format::json, false))
    d.options.push_back(std::move(o));
  std::vector<option_spec> own = {
      {.name = "topics",
       .type = option_type::string_list,
       .doc = "Topic filters to subscribe to: + and # wildcards, $share/<group>/<filter> to "
              "spread messages over several subscribers (MQTT 5 shared subscriptions).",
       .required = true},
      {.name = "name",
       .doc = "Record name when the topic template has no {name} (default: smartmeter for smdc, "
              "mqtt for value)."},
      {.name = "batch_size",
       .type = option_type::integer,
       .doc = "At most this many records per emitted batch.",
       .default_value = "500",
       .min = 1,
       .max = 100000},
      {.name = "max_queued_messages",
       .type = option_type::integer,
       .doc = "Received messages held while the outputs have no credit; beyond, messages are "
              "counted as dropped.",
       .default_value = "10000",
       .min = 1,
       .max = 10000000},
  };
  for (auto& o : own)
    d.options.push_back(std::move(o));
  d.check = check_mqtt_source;
  d.blocking_io = true; // stopping the client waits for the graceful disconnect
  d.make = [](const node_spec& s) { return std::make_unique<mqtt_source>(s); };
  return d;
}

} // namespace
} // namespace wattline::sources

WATTLINE_REGISTER_COMPONENT(wattline::sources::describe_mqtt_source)
