// `influxdb` sink: writes records to InfluxDB over HTTP (v1 `/write` or v2 `/api/v2/write`)
// through a per-sink buffer (bounded memory, or a durable disk write-ahead log).
//
// Flow: on_batch appends the records to the buffer (or refuses the batch when the buffer is full
// with `when_full: block`). Records are read from the buffer in batches of up to max_lines /
// max_bytes (or after interval_ms), encoded as line protocol and handed to a delivery thread of
// the sink's own, which runs the blocking HTTP write and posts the outcome back through the
// node's mailbox. Only then are the records acknowledged (removed from the buffer): after the
// server stored them (204) or after lines it will never accept were written to the dead-letter
// file. Network errors, 429 and 5xx are retried with capped exponential backoff and jitter
// (Retry-After honoured); 413 splits the request; a batch is never retried forever for a poison
// line. At end of input (shutdown) the sink flushes for up to drain_timeout_secs; a disk buffer
// keeps the rest for the next start, a memory buffer counts it as dropped.

#include "engine/component.hpp"
#include "engine/node_api.hpp"
#include "engine/pipeline_spec.hpp"
#include "engine/yaml_location.hpp"
#include "sinks/buffer/buffer_config.hpp"
#include "sinks/buffer/sink_buffer.hpp"
#include "sinks/influxdb/backoff.hpp"
#include "sinks/influxdb/batch.hpp"
#include "sinks/influxdb/dead_letter.hpp"
#include "sinks/influxdb/line_protocol.hpp"
#include "sinks/influxdb/writer.hpp"

#include <algorithm>
#include <array>
#include <condition_variable>
#include <deque>
#include <filesystem>
#include <mutex>
#include <optional>
#include <thread>

namespace wattline::sinks {
namespace {

namespace ib = wattline::influxdb;
namespace sb = wattline::sink_buffer;
using namespace std::chrono_literals;

enum timer_token : uint64_t { interval_token = 0, retry_token = 1, drain_token = 2, timer_count };

/// Longest single timer step (see influxdb_sink::arm).
constexpr std::chrono::milliseconds max_timer_step{250};

/// One logical timer: due time, whether it is wanted, whether a step is scheduled.
struct timer_slot {
  std::chrono::steady_clock::time_point due{};
  bool wanted = false;
  bool armed = false;
};

ib::writer_options writer_options_from(const node_spec& spec) {
  const auto& o = spec.opts;
  ib::writer_options w;
  w.name = spec.id;
  w.url = o.str("url");
  w.api = o.str("api", "v1") == "v2" ? ib::api_version::v2 : ib::api_version::v1;
  w.database = o.str("database");
  w.retention_policy = o.str("retention_policy");
  w.time_precision = ib::parse_precision(o.str("precision", "ns")).value_or(ib::precision::ns);
  w.username = o.str("username");
  w.password = o.str("password");
  w.org = o.str("org");
  w.bucket = o.str("bucket");
  w.token = o.str("token");
  w.gzip = o.boolean("gzip");
  w.timeout = std::chrono::seconds(o.integer("timeout_secs", 10));
  w.connect_timeout = std::min<std::chrono::milliseconds>(w.timeout, 5s);
  w.insecure_skip_verify = o.boolean("insecure_skip_verify");
  w.ca_file = o.str("ca_file");
  w.create_database = o.boolean("create_database");
  w.retention_duration = o.str("retention_duration");
  return w;
}

/// What the delivery thread reports for one request batch.
struct delivery_result {
  /// Lines still to write (retry, or a held permanent error); empty when the batch is done.
  ib::line_batch remaining;
  ib::write_status status = ib::write_status::ok;
  int http_status = 0;
  std::chrono::milliseconds retry_after{0};
  /// Credential-free description naming the sink; empty when everything was stored.
  std::string message;
  std::size_t written = 0;
  /// Lines written to the dead-letter file, and one reason as an example.
  std::size_t rejected = 0;
  std::string first_reason;
  /// Lines that could not even be dead-lettered (dead-letter file unwritable).
  std::size_t lost = 0;
  std::string dead_letter_error;
};

/// The delivery thread: runs blocking HTTP writes off the actor, one request batch at a time.
/// Detached: it owns its state through a shared_ptr, so stopping a sink never waits for a
/// request to time out; a write finishing after the sink stopped is discarded (its records are
/// still in a disk buffer and are sent again).
class delivery_thread {
public:
  using report_fn = std::function<void(delivery_result&&)>;

  delivery_thread(std::unique_ptr<ib::writer> w, std::unique_ptr<ib::dead_letter_file> dl,
                  report_fn report)
      : state_(std::make_shared<state>()) {
    state_->writer = std::move(w);
    state_->dead_letter = std::move(dl);
    state_->report = std::move(report);
    state_->setup_needed = state_->writer->options().create_database ||
                           !state_->writer->options().retention_duration.empty();
    std::thread([s = state_] { run(*s); }).detach();
  }

  ~delivery_thread() {
    std::lock_guard lock(state_->m);
    state_->stop = true;
    state_->cv.notify_all();
  }

  delivery_thread(const delivery_thread&) = delete;
  delivery_thread& operator=(const delivery_thread&) = delete;

  /// Queues one request batch; the previous one must have been reported.
  void submit(ib::line_batch b) {
    std::lock_guard lock(state_->m);
    state_->job = std::move(b);
    state_->cv.notify_all();
  }

  /// Runs the database / retention policy setup again before the next write (after a 404).
  void redo_setup() {
    std::lock_guard lock(state_->m);
    auto& o = state_->writer->options();
    state_->setup_needed = o.create_database || !o.retention_duration.empty();
  }

private:
  struct state {
    std::mutex m;
    std::condition_variable cv;
    bool stop = false;
    bool setup_needed = false;
    std::optional<ib::line_batch> job;
    std::unique_ptr<ib::writer> writer;
    std::unique_ptr<ib::dead_letter_file> dead_letter;
    report_fn report;
  };

  static void reject(state& s, std::vector<ib::rejected_line>& lines, delivery_result& res) {
    if (lines.empty())
      return;
    if (res.first_reason.empty())
      res.first_reason = lines.front().reason;
    try {
      s.dead_letter->append(lines, s.writer->display_url());
      res.rejected += lines.size();
    } catch (const std::exception& e) {
      res.lost += lines.size();
      res.dead_letter_error = e.what();
    }
    lines.clear();
  }

  static delivery_result deliver(state& s, ib::line_batch batch, bool& setup_needed) {
    delivery_result res;
    auto& w = *s.writer;
    if (setup_needed) {
      auto out = w.setup();
      if (out.status != ib::write_status::ok) {
        res.status = ib::write_status::retry;
        res.http_status = out.http_status;
        res.message = out.message;
        res.remaining = std::move(batch);
        return res;
      }
      setup_needed = false;
    }
    std::deque<ib::line_batch> parts;
    parts.push_back(std::move(batch));
    while (!parts.empty()) {
      ib::line_batch b = std::move(parts.front());
      parts.pop_front();
      auto out = w.write(b);
      res.written += out.written;
      reject(s, out.rejected, res);
      switch (out.status) {
      case ib::write_status::ok:
      case ib::write_status::partial:
        continue;
      case ib::write_status::split: {
        auto [a, c] = b.split();
        parts.push_front(std::move(c));
        parts.push_front(std::move(a));
        continue;
      }
      case ib::write_status::retry:
      case ib::write_status::permanent:
        break;
      }
      res.status = out.status;
      res.http_status = out.http_status;
      res.retry_after = out.retry_after;
      res.message = out.message;
      // Authentication, missing database and TLS errors are the configuration's fault, not the
      // data's: the lines are kept and retried (at the maximum backoff) until it is fixed. Any
      // other permanent error means these lines can never be written: dead-letter them.
      bool config_error = out.http_status == 0 || out.http_status == 401 ||
                          out.http_status == 403 || out.http_status == 404;
      if (out.status == ib::write_status::permanent && !config_error) {
        std::vector<ib::rejected_line> lines;
        for (std::size_t i = 0; i < b.size(); ++i)
          lines.push_back({std::string{b.line(i)},
                           "HTTP " + std::to_string(out.http_status) + ": " + out.message});
        reject(s, lines, res);
        b.clear();
      }
      for (auto& p : parts)
        for (std::size_t i = 0; i < p.size(); ++i)
          b.append_line(p.line(i));
      parts.clear();
      if (b.empty())
        res.status = ib::write_status::partial;
      res.remaining = std::move(b);
      return res;
    }
    if (res.rejected > 0 || res.lost > 0)
      res.status = ib::write_status::partial;
    return res;
  }

  static void run(state& s) {
    for (;;) {
      ib::line_batch job;
      bool setup_needed = false;
      {
        std::unique_lock lock(s.m);
        s.cv.wait(lock, [&] { return s.stop || s.job.has_value(); });
        if (s.stop)
          return;
        job = std::move(*s.job);
        s.job.reset();
        setup_needed = s.setup_needed;
      }
      auto res = deliver(s, std::move(job), setup_needed);
      std::lock_guard lock(s.m);
      if (s.stop)
        return;
      s.setup_needed = setup_needed;
      s.report(std::move(res));
    }
  }

  std::shared_ptr<state> state_;
};

class influxdb_sink final : public component_instance {
public:
  explicit influxdb_sink(const node_spec& spec) : spec_(spec) {
    const auto& o = spec.opts;
    batch_lines_ = static_cast<std::size_t>(o.integer("max_lines", 5000));
    batch_bytes_ = static_cast<std::size_t>(o.integer("max_bytes", 10'000'000));
    interval_ = std::chrono::milliseconds(o.integer("interval_ms", 1000));
    drain_timeout_ = std::chrono::seconds(o.integer("drain_timeout_secs", 5));
    ib::backoff_options bo;
    bo.initial = std::chrono::milliseconds(o.integer("retry_initial_ms", 100));
    bo.max = std::chrono::milliseconds(o.integer("retry_max_ms", 30000));
    backoff_ = ib::backoff(bo);
  }

  void start(node_context& ctx) override {
    auto wopts = writer_options_from(spec_);
    auto w = std::make_unique<ib::writer>(wopts);
    encoder_ = ib::line_encoder(w->matching_encoder_options());
    url_ = w->display_url();
    if (wopts.insecure_skip_verify)
      ctx.log(log_level::warning,
              "insecure_skip_verify: TLS certificates of " + url_ + " are not verified");
    std::filesystem::path dl_path = spec_.opts.str("dead_letter_path");
    if (dl_path.empty())
      dl_path = std::filesystem::path(ctx.data_dir()) / "dead-letter" / (spec_.id + ".jsonl");
    dead_letter_path_ = dl_path.string();
    auto dl = std::make_unique<ib::dead_letter_file>(ib::dead_letter_options{dl_path, spec_.id});

    auto bo = sb::buffer_options_from(spec_.opts.raw(), ctx.data_dir(), spec_.id);
    buffer_type_ = bo.type;
    buffer_ = sb::open_and_report(bo, ctx);

    auto mailbox = ctx.mailbox();
    // Capturing `this` is safe: a post runs only while this instance is the node's current one.
    delivery_ = std::make_unique<delivery_thread>(
        std::move(w), std::move(dl), [this, mailbox](delivery_result&& r) {
          mailbox->post(
              [this, r = std::move(r)](node_context& c) mutable { delivered(std::move(r), c); });
        });
    ctx.set_detail("writing to " + url_);
    if (!buffer_->empty()) {
      oldest_unread_ = std::chrono::steady_clock::now() - interval_;
      send(ctx);
    }
  }

  bool on_batch(batch& b, node_context& ctx) override {
    if (b.records.empty())
      return true;
    bool was_empty = buffer_->unread() == 0;
    if (!sb::append_or_hold(*buffer_, b.records, blocked_, ctx))
      return false;
    if (was_empty)
      oldest_unread_ = std::chrono::steady_clock::now();
    send(ctx);
    return true;
  }

  void on_timer(uint64_t token, node_context& ctx) override {
    if (token >= timer_count)
      return;
    auto& t = timers_[token];
    t.armed = false;
    if (!t.wanted || drained_)
      return; // nothing awaited: let the chain end
    if (std::chrono::steady_clock::now() < t.due) {
      arm(ctx, static_cast<timer_token>(token), t.due);
      return;
    }
    t.wanted = false;
    switch (token) {
    case interval_token:
      send(ctx);
      break;
    case retry_token:
      if (retry_pending_ && pending_) {
        retry_pending_ = false;
        in_flight_ = true;
        delivery_->submit(std::move(*pending_));
        pending_.reset();
      }
      break;
    case drain_token:
      if (draining_ && !drained_)
        finish_drain(ctx);
      break;
    default:
      break;
    }
  }

  bool on_eof(node_context& ctx) override {
    draining_ = true;
    drain_deadline_ = std::chrono::steady_clock::now() + drain_timeout_;
    if (buffer_->empty() && !in_flight_ && !retry_pending_) {
      drained_ = true;
      return true;
    }
    ctx.log(log_level::info, "end of input: delivering " + std::to_string(buffer_->size()) +
                                 " buffered records to " + url_ + " (drain_timeout_secs " +
                                 std::to_string(drain_timeout_.count() / 1000) + ")");
    ctx.set_detail("draining " + std::to_string(buffer_->size()) + " records to " + url_);
    arm(ctx, drain_token, drain_deadline_);
    send(ctx);
    return false;
  }

private:
  /// Calls on_timer(token) at `due`. Timers are chained in steps of at most max_timer_step:
  /// a pending delayed message keeps the node's actor alive, and a long one would delay the
  /// process exit after the graph has drained.
  void arm(node_context& ctx, timer_token token, std::chrono::steady_clock::time_point due) {
    auto& t = timers_[token];
    t.due = due;
    t.wanted = true;
    if (t.armed)
      return;
    t.armed = true;
    auto wait =
        std::chrono::ceil<std::chrono::milliseconds>(due - std::chrono::steady_clock::now());
    ctx.schedule(std::clamp<std::chrono::milliseconds>(wait, 0ms, max_timer_step), token);
  }

  /// Starts the next request when none is in flight and a batch is due.
  void send(node_context& ctx) {
    while (!in_flight_ && !retry_pending_ && buffer_->unread() > 0) {
      auto now = std::chrono::steady_clock::now();
      bool due =
          draining_ || buffer_->unread() >= batch_lines_ || now - oldest_unread_ >= interval_;
      if (!due) {
        if (!timers_[interval_token].wanted)
          arm(ctx, interval_token, oldest_unread_ + interval_);
        return;
      }
      ib::line_batch lines;
      std::vector<record> recs;
      std::size_t taken = 0;
      while (taken < batch_lines_ && lines.bytes() < batch_bytes_) {
        recs.clear();
        if (buffer_->read(1, recs) == 0)
          break;
        ++taken;
        lines.append_record(encoder_, recs.front());
      }
      if (taken == 0)
        return; // unread entries were corrupt and skipped
      oldest_unread_ = now;
      job_records_ = taken;
      if (lines.empty()) { // no record produced a line (no writable field)
        buffer_->ack(taken);
        unblock(ctx);
        continue;
      }
      in_flight_ = true;
      delivery_->submit(std::move(lines));
    }
  }

  void delivered(delivery_result&& r, node_context& ctx) {
    in_flight_ = false;
    if (r.rejected > 0)
      ctx.error("rejected", std::to_string(r.rejected) +
                                " lines the server will never accept written to the dead-letter "
                                "file " +
                                dead_letter_path_ + "; first: " + r.first_reason);
    if (r.lost > 0)
      ctx.dropped(r.lost,
                  "rejected by the server and the dead-letter file failed: " + r.dead_letter_error);
    if (drained_)
      return;
    if (!r.remaining.empty()) {
      // Retry the lines left after a backoff; the records stay in the buffer meanwhile.
      if (r.http_status == 404)
        delivery_->redo_setup();
      auto delay = backoff_.next(r.retry_after);
      if (r.status == ib::write_status::permanent)
        delay = std::max(delay, backoff_.ceiling()); // configuration errors: do not hammer
      if (draining_)
        delay = std::min(delay, std::chrono::duration_cast<std::chrono::milliseconds>(
                                    std::max(drain_deadline_ - std::chrono::steady_clock::now(),
                                             std::chrono::steady_clock::duration{0})) +
                                    10ms);
      failing_ = true;
      ctx.error(r.status == ib::write_status::permanent ? "config" : "write",
                r.message + "; " + std::to_string(r.remaining.size()) + " lines kept, retry in " +
                    std::to_string(delay.count()) + " ms");
      ctx.set_detail("write failing, retry in " + std::to_string(delay.count()) +
                     " ms: " + r.message);
      pending_ = std::move(r.remaining);
      retry_pending_ = true;
      arm(ctx, retry_token, std::chrono::steady_clock::now() + delay);
      return;
    }
    buffer_->ack(job_records_);
    job_records_ = 0;
    backoff_.reset();
    if (failing_) {
      failing_ = false;
      ctx.log(log_level::info, "writing again to " + url_);
      ctx.set_detail("writing to " + url_);
    }
    unblock(ctx);
    send(ctx);
    if (draining_ && buffer_->empty() && !in_flight_ && !retry_pending_) {
      drained_ = true;
      ctx.drained();
    }
  }

  /// After an ack: a batch refused for lack of room is offered again.
  void unblock(node_context& ctx) {
    if (!blocked_)
      return;
    blocked_ = false;
    ctx.set_detail("writing to " + url_);
    ctx.ready();
  }

  /// The drain deadline passed with records left.
  void finish_drain(node_context& ctx) {
    drained_ = true;
    sb::report_undelivered(*buffer_, buffer_type_, ctx);
    ctx.drained();
  }

  node_spec spec_;
  sb::buffer_type buffer_type_ = sb::buffer_type::memory;
  std::size_t batch_lines_ = 5000;
  std::size_t batch_bytes_ = 10'000'000;
  std::chrono::milliseconds interval_{1000};
  std::chrono::milliseconds drain_timeout_{5000};
  ib::backoff backoff_;
  ib::line_encoder encoder_;
  std::string url_;
  std::string dead_letter_path_;
  std::unique_ptr<sb::record_buffer> buffer_;
  std::unique_ptr<delivery_thread> delivery_;
  std::optional<ib::line_batch> pending_;
  std::size_t job_records_ = 0;
  std::chrono::steady_clock::time_point oldest_unread_{};
  std::chrono::steady_clock::time_point drain_deadline_{};
  bool in_flight_ = false;
  bool retry_pending_ = false;
  std::array<timer_slot, timer_count> timers_{};
  bool blocked_ = false;
  bool failing_ = false;
  bool draining_ = false;
  bool drained_ = false;
};

void check_influxdb(const YAML::Node& node, const options& opts, const std::string& file,
                    diagnostics& diags) {
  auto at = [&](const char* key) { return location_of(node[key] ? node[key] : node, file); };
  const bool v2 = opts.str("api", "v1") == "v2";
  if (!v2 && opts.str("database").empty())
    diags.error("the v1 API needs a 'database'", location_of(node, file),
                "e.g. database: smartmeter");
  if (v2 && opts.str("bucket").empty())
    diags.error("the v2 API needs a 'bucket'", location_of(node, file), "e.g. bucket: smartmeter");
  auto url = opts.str("url");
  // An empty url is reported by the loader (required option or unset variable).
  const auto scheme_end = url.find("://");
  const auto at_sign = scheme_end == std::string::npos ? url.npos : url.find('@', scheme_end);
  if (!url.empty() && url.rfind("http://", 0) != 0 && url.rfind("https://", 0) != 0)
    diags.error("'url' must start with http:// or https://", at("url"),
                "e.g. url: http://127.0.0.1:8086");
  else if (at_sign != std::string::npos && at_sign < url.find('/', scheme_end + 3))
    diags.error("'url' must not contain credentials; use username/password or token", at("url"));
  if (opts.boolean("insecure_skip_verify"))
    diags.warning("insecure_skip_verify: TLS certificates are not verified",
                  at("insecure_skip_verify"));
  if (!opts.str("retention_duration").empty() && opts.str("retention_policy").empty())
    diags.error("'retention_duration' needs a 'retention_policy' to create",
                at("retention_duration"));

  sb::check_buffer_option(node, file, diags);
}

component_descriptor describe_influxdb_sink() {
  component_descriptor d;
  d.type = "influxdb";
  d.role = component_role::sink;
  d.summary = "Writes records to InfluxDB (v1 /write or v2 API) through a memory or disk buffer, "
              "with retries and a dead-letter file.";
  d.input = data_kind::records;
  d.options = {
      {.name = "url",
       .doc = "Server base URL, e.g. http://127.0.0.1:8086 (no credentials in it).",
       .required = true},
      {.name = "api",
       .doc = "v1: POST /write with database and user/password; v2: POST /api/v2/write with org, "
              "bucket and token (InfluxDB 2.x, or 1.8+ with bucket db/rp).",
       .default_value = "v1",
       .allowed = {"v1", "v2"}},
      {.name = "database", .doc = "v1: the database to write to."},
      {.name = "retention_policy", .doc = "v1: the retention policy (empty: the default one)."},
      {.name = "precision",
       .doc = "Timestamp precision written (coarser loses sub-units of time).",
       .default_value = "ns",
       .allowed = {"ns", "us", "ms", "s"}},
      {.name = "username", .doc = "v1: user name (empty: no authentication)."},
      {.name = "password", .doc = "v1: password.", .secret = true},
      {.name = "org", .doc = "v2: organisation name or id."},
      {.name = "bucket", .doc = "v2: bucket name or id (\"db/rp\" on InfluxDB 1.8)."},
      {.name = "token", .doc = "v2: API token.", .secret = true},
      {.name = "gzip",
       .type = option_type::boolean,
       .doc = "Compress request bodies with gzip.",
       .default_value = "false"},
      {.name = "max_lines",
       .type = option_type::integer,
       .doc = "A request holds at most this many lines.",
       .default_value = "5000",
       .min = 1,
       .max = 1000000},
      {.name = "max_bytes",
       .type = option_type::integer,
       .doc = "A request body stops growing once it reaches this many bytes.",
       .default_value = "10000000",
       .min = 1024},
      {.name = "interval_ms",
       .type = option_type::integer,
       .doc = "A partial batch is sent this long after its first record arrived.",
       .default_value = "1000",
       .min = 1,
       .max = 3600000},
      {.name = "timeout_secs",
       .type = option_type::integer,
       .doc = "Timeout of one HTTP request.",
       .default_value = "10",
       .min = 1,
       .max = 600},
      {.name = "retry_initial_ms",
       .type = option_type::integer,
       .doc = "Upper bound of the first retry delay (exponential backoff with full jitter).",
       .default_value = "100",
       .min = 1},
      {.name = "retry_max_ms",
       .type = option_type::integer,
       .doc = "Cap of the retry delay (a server's Retry-After may exceed it).",
       .default_value = "30000",
       .min = 1},
      {.name = "insecure_skip_verify",
       .type = option_type::boolean,
       .doc = "https: do not verify the server certificate (insecure; warns).",
       .default_value = "false"},
      {.name = "ca_file", .doc = "https: CA bundle to trust (empty: the system's)."},
      {.name = "dead_letter_path",
       .doc = "JSON-lines file for lines the server will never accept, with its reason (default: "
              "<data_dir>/dead-letter/<sink id>.jsonl)."},
      {.name = "create_database",
       .type = option_type::boolean,
       .doc = "v1: run CREATE DATABASE before the first write (and after a 404).",
       .default_value = "false"},
      {.name = "retention_duration",
       .doc = "v1: create (or alter) retention_policy with this duration, e.g. 30d."},
      sb::drain_timeout_option_spec(),
      sb::buffer_option_spec(),
  };
  d.check = check_influxdb;
  d.make = [](const node_spec& s) { return std::make_unique<influxdb_sink>(s); };
  return d;
}

} // namespace
} // namespace wattline::sinks

WATTLINE_REGISTER_COMPONENT(wattline::sinks::describe_influxdb_sink)
