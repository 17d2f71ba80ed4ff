// `file` sink: writes records as jsonl, csv or InfluxDB line protocol, with rotation by size and
// time, and flush and fsync policies. Only whole lines reach the file; a partial last line left
// by a crash is cut on open. A write error (disk full, permissions) holds the batch and retries
// with backoff: records wait, they are not lost.

#include "actors/file/writer.hpp"
#include "engine/component.hpp"
#include "engine/node_api.hpp"
#include "engine/pipeline_spec.hpp"

#include <algorithm>

namespace wattline::sinks {
namespace {

enum timer_token : uint64_t { tick_token = 1, retry_token = 2 };

file_io::writer_options writer_options_from(const options& o) {
  file_io::writer_options w;
  w.path = o.str("path");
  w.format = file_io::parse_output_format(o.str("format")).value_or(file_io::output_format::jsonl);
  w.max_bytes = static_cast<uint64_t>(o.integer("max_bytes"));
  w.rotate_interval_secs = o.integer("rotate_interval_secs");
  w.max_files = static_cast<std::size_t>(o.integer("max_files"));
  w.flush =
      file_io::parse_flush_policy(o.str("flush")).value_or(file_io::flush_policy::every_batch);
  w.flush_interval = std::chrono::milliseconds(o.integer("flush_interval_ms", 1000));
  w.fsync = file_io::parse_fsync_policy(o.str("fsync")).value_or(file_io::fsync_policy::never);
  return w;
}

class file_sink final : public component_instance {
public:
  explicit file_sink(const node_spec& spec) : writer_(writer_options_from(spec.opts)) {}

  void start(node_context& ctx) override {
    auto info = writer_.open();
    if (!info) {
      ctx.fail("open", info.error().message);
      return;
    }
    if (info->truncated_bytes > 0)
      ctx.log(log_level::warning, "cut " + std::to_string(info->truncated_bytes) +
                                      " bytes of a partial last line left by a crash in " +
                                      info->path.string());
    ctx.set_detail("writing " + info->path.string());
    arm_tick(ctx);
  }

  bool on_batch(batch& b, node_context& ctx) override {
    if (retrying_)
      return false;
    auto r = writer_.write(b.records);
    if (r)
      return true;
    failed(r.error(), ctx);
    // Records the writer kept are owned by it now; otherwise hold the batch for the retry.
    return r.error().data_kept;
  }

  void on_timer(uint64_t token, node_context& ctx) override {
    if (token == retry_token) {
      auto r = writer_.flush();
      if (!r) {
        failed(r.error(), ctx);
        return;
      }
      retrying_ = false;
      backoff_ms_ = 0;
      ctx.log(log_level::info, "writing again to " + writer_.path().string());
      ctx.ready();
      return;
    }
    if (auto r = writer_.tick(); !r)
      failed(r.error(), ctx);
    arm_tick(ctx);
  }

  bool on_eof(node_context& ctx) override {
    if (auto r = writer_.close(); !r) {
      ctx.error("write", r.error().message);
      auto lost = writer_.discard_buffer();
      if (lost > 0)
        ctx.dropped(lost, "could not be written before shutdown: " + r.error().message);
    }
    return true;
  }

private:
  void failed(const file_io::io_error& e, node_context& ctx) {
    ctx.error("write", e.message);
    retrying_ = true;
    backoff_ms_ = std::clamp<int64_t>(backoff_ms_ * 2, 100, 30000);
    ctx.set_detail("write failing, retry in " + std::to_string(backoff_ms_) + " ms");
    ctx.schedule(std::chrono::milliseconds(backoff_ms_), retry_token);
  }

  void arm_tick(node_context& ctx) {
    const auto& o = writer_.options();
    if (o.flush == file_io::flush_policy::interval || o.rotate_interval_secs > 0)
      ctx.schedule(std::min<std::chrono::milliseconds>(o.flush_interval, std::chrono::seconds(1)),
                   tick_token);
  }

  file_io::file_writer writer_;
  bool retrying_ = false;
  int64_t backoff_ms_ = 0;
};

component_descriptor describe_file_sink() {
  component_descriptor d;
  d.type = "file";
  d.role = component_role::sink;
  d.summary = "Writes records to a file as jsonl, csv or InfluxDB line protocol, with rotation.";
  d.input = data_kind::records;
  d.blocking_io = true;
  d.options = {
      {.name = "path",
       .doc = "The file to write; rotated files get a UTC timestamp suffix.",
       .required = true},
      {.name = "format",
       .doc = "jsonl: one JSON object per record; csv: header plus rows; influx: line protocol.",
       .default_value = "jsonl",
       .allowed = {"jsonl", "csv", "influx"}},
      {.name = "max_bytes",
       .type = option_type::integer,
       .doc = "Rotate when the file would grow past this size (0: never).",
       .default_value = "0",
       .min = 0},
      {.name = "rotate_interval_secs",
       .type = option_type::integer,
       .doc = "Rotate when the file is this old (0: never).",
       .default_value = "0",
       .min = 0},
      {.name = "max_files",
       .type = option_type::integer,
       .doc = "Rotated files to keep, oldest removed first (0: keep all).",
       .default_value = "0",
       .min = 0},
      {.name = "flush",
       .doc = "every_batch: hand lines to the OS after each batch; interval: every "
              "flush_interval_ms.",
       .default_value = "every_batch",
       .allowed = {"every_batch", "interval"}},
      {.name = "flush_interval_ms",
       .type = option_type::integer,
       .doc = "Flush period for flush: interval.",
       .default_value = "1000",
       .min = 1,
       .max = 3600000},
      {.name = "fsync",
       .doc = "never; rotate: fsync a file before it is closed; every_batch: fsync after each "
              "batch (durable, slower).",
       .default_value = "never",
       .allowed = {"never", "rotate", "every_batch"}},
  };
  d.make = [](const node_spec& s) { return std::make_unique<file_sink>(s); };
  return d;
}

} // namespace
} // namespace wattline::sinks

WATTLINE_REGISTER_COMPONENT(wattline::sinks::describe_file_sink)
