#pragma once

// The component instance shared by the `serial` and `tcp` sources: runs a reconnecting
// reader_loop on its own thread and hands chunks and state changes to the node's actor as
// messages. A meter cannot be paused, so while outputs have no credit chunks wait in a bounded
// buffer; past it the oldest are dropped and counted.

#include "actors/serial/reader_loop.hpp"
#include "engine/component.hpp"
#include "engine/node_api.hpp"

#include <deque>
#include <memory>

namespace wattline::serial {

class byte_source_instance final : public component_instance {
public:
  byte_source_instance(std::unique_ptr<byte_device> device, reader_options options,
                       std::size_t max_buffered_bytes)
      : device_(std::move(device)), options_(options), max_buffered_(max_buffered_bytes) {}

  ~byte_source_instance() override {
    if (loop_)
      loop_->stop();
  }

  void start(node_context& ctx) override {
    auto mailbox = ctx.mailbox();
    reader_callbacks cb;
    // Capturing `this` is safe: the runtime runs a post only while the instance that made the
    // mailbox is the node's current one (posts of a destroyed instance are discarded), and the
    // destructor stops the reader thread.
    cb.on_chunk = [this, mailbox](chunk&& c) {
      mailbox->post(
          [this, c = std::move(c)](node_context& ctx) mutable { accept(std::move(c), ctx); });
    };
    cb.on_status = [this, mailbox](const source_status& s) {
      mailbox->post([this, s](node_context& ctx) { status(s, ctx); });
    };
    loop_ = std::make_unique<reader_loop>(std::move(device_), options_, std::move(cb));
    loop_->start();
  }

  void on_credit(node_context& ctx) override { flush(ctx); }

  void on_stop(node_context& ctx) override {
    if (loop_)
      loop_->stop();
    flush(ctx, true);
    ctx.finished();
  }

private:
  void accept(chunk&& c, node_context& ctx) {
    buffered_ += c.bytes.size();
    pending_.push_back(std::move(c));
    while (buffered_ > max_buffered_ && pending_.size() > 1) {
      buffered_ -= pending_.front().bytes.size();
      pending_.pop_front();
      ctx.dropped(1, "outputs too slow, receive buffer full (oldest chunk dropped)");
    }
    flush(ctx);
  }

  void flush(node_context& ctx, bool force = false) {
    if (pending_.empty() || (!force && !ctx.can_emit()))
      return;
    batch b;
    b.chunks.assign(std::make_move_iterator(pending_.begin()),
                    std::make_move_iterator(pending_.end()));
    pending_.clear();
    buffered_ = 0;
    ctx.emit(std::move(b));
  }

  void status(const source_status& s, node_context& ctx) {
    std::string detail{to_string(s.state)};
    detail += ' ';
    detail += s.endpoint.empty() ? s.origin : s.endpoint;
    if (s.error) {
      detail += ": " + s.error.message;
      if (s.state == source_state::waiting_for_device)
        detail += " (retry in " + std::to_string(s.retry_in.count()) + " ms)";
    }
    ctx.set_detail(detail);
    if (s.state == source_state::waiting_for_device && s.error)
      ctx.error("device", s.error.message);
    else if (s.state == source_state::open)
      ctx.log(log_level::info, "reading " + (s.endpoint.empty() ? s.origin : s.endpoint));
  }

  std::unique_ptr<byte_device> device_;
  reader_options options_;
  std::size_t max_buffered_;
  std::unique_ptr<reader_loop> loop_;
  std::deque<chunk> pending_;
  std::size_t buffered_ = 0;
};

/// The options every byte source has beside its device options: idle reopen and receive buffer.
inline std::vector<option_spec> byte_source_options() {
  return {
      {.name = "idle_timeout_secs",
       .type = option_type::integer,
       .doc = "Reopen the device when no byte arrived for this long (0: never).",
       .default_value = "0",
       .min = 0},
      {.name = "max_buffered_bytes",
       .type = option_type::integer,
       .doc = "Bytes held while outputs are busy; beyond it the oldest are dropped (counted).",
       .default_value = "1048576",
       .min = 1024},
  };
}

/// A byte source instance reading `device`, tuned by the common options of `opts`.
inline std::unique_ptr<component_instance>
make_byte_source(std::unique_ptr<byte_device> device, const options& opts, reader_options r = {}) {
  r.idle_timeout = std::chrono::seconds(opts.integer("idle_timeout_secs", 0));
  return std::make_unique<byte_source_instance>(
      std::move(device), r, static_cast<std::size_t>(opts.integer("max_buffered_bytes", 1 << 20)));
}

} // namespace wattline::serial
