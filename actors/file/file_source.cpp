// `file` source: replays a capture file as raw byte chunks (binary, hex) for decoders or as
// records (jsonl), as fast as possible, at a serial line's byte rate, or at the records' own
// pace. The reading core (actors/file/reader.hpp) never sleeps; this actor waits with timers.

#include "actors/file/reader.hpp"
#include "engine/component.hpp"
#include "engine/node_api.hpp"
#include "engine/pipeline_spec.hpp"
#include "engine/yaml_location.hpp"

#include <cmath>
#include <cstdio>
#include <unistd.h>

namespace wattline::sources {
namespace {

using clock_type = std::chrono::steady_clock;

file_io::reader_options reader_options_from(const options& o) {
  file_io::reader_options r;
  r.path = o.str("path");
  r.format = file_io::parse_input_format(o.str("format")).value_or(file_io::input_format::binary);
  r.chunk_size_bytes = static_cast<std::size_t>(o.integer("chunk_size_bytes", 4096));
  if (auto p = file_io::parse_pacing(o.str("pacing")); std::holds_alternative<file_io::pacing>(p))
    r.pace = std::get<file_io::pacing>(p);
  r.loops = static_cast<uint64_t>(o.integer("loops", 1));
  r.max_batch = static_cast<std::size_t>(o.integer("batch_size", 1000));
  return r;
}

class file_source final : public component_instance {
public:
  explicit file_source(const node_spec& spec)
      : reader_(reader_options_from(spec.opts)),
        progress_(spec.opts.boolean("progress", true) && ::isatty(2)) {}

  void start(node_context& ctx) override {
    auto size = reader_.open();
    if (!size) {
      ctx.fail("open", size.error().message);
      return;
    }
    next_due_ = clock_type::now();
    ctx.set_detail("replaying " + reader_.options().path.string());
  }

  void on_credit(node_context& ctx) override { pump(ctx); }

  void on_timer(uint64_t, node_context& ctx) override {
    waiting_ = false;
    if (held_) {
      emit(std::move(*held_), ctx);
      held_.reset();
    }
    pump(ctx);
  }

  void on_stop(node_context& ctx) override {
    stopped_ = true;
    held_.reset();
    finish(ctx);
  }

private:
  void emit(file_io::read_result&& r, node_context& ctx) {
    batch b;
    if (r.what == file_io::read_result::kind::bytes)
      b.chunks.push_back(std::move(r.bytes));
    else
      b.records = std::move(r.records);
    ctx.emit(std::move(b));
    draw_progress();
  }

  // Reads and emits while there is credit and nothing to wait for.
  void pump(node_context& ctx) {
    while (!waiting_ && !stopped_ && !done_ && ctx.can_emit()) {
      auto r = reader_.next();
      switch (r.what) {
      case file_io::read_result::kind::end:
        finish(ctx);
        return;
      case file_io::read_result::kind::error:
        if (r.error.fatal) {
          ctx.error("read", r.error.message);
          finish(ctx);
          return;
        }
        ctx.error("bad_line", r.error.message);
        continue;
      default:
        break;
      }
      // Pace by absolute deadlines so that rounding never accumulates into drift.
      next_due_ += std::chrono::duration_cast<clock_type::duration>(r.delay);
      auto now = clock_type::now();
      if (next_due_ > now + std::chrono::milliseconds(1)) {
        held_ = std::move(r);
        waiting_ = true;
        ctx.schedule(std::chrono::ceil<std::chrono::milliseconds>(next_due_ - now), 0);
        return;
      }
      if (next_due_ < now - std::chrono::seconds(1))
        next_due_ = now; // fell behind (backpressure): do not burst to catch up
      emit(std::move(r), ctx);
    }
  }

  void finish(node_context& ctx) {
    if (done_)
      return;
    done_ = true;
    if (progress_) {
      std::fputs((file_io::progress_bar(reader_.progress(), 40) + "\n").c_str(), stderr);
    }
    ctx.finished();
  }

  void draw_progress() {
    if (!progress_)
      return;
    auto permille = static_cast<int>(reader_.progress() * 1000);
    if (permille == last_permille_)
      return;
    last_permille_ = permille;
    std::fputs(file_io::progress_bar(reader_.progress(), 40).c_str(), stderr);
    std::fflush(stderr);
  }

  file_io::file_reader reader_;
  bool progress_;
  bool waiting_ = false;
  bool stopped_ = false;
  bool done_ = false;
  int last_permille_ = -1;
  std::optional<file_io::read_result> held_;
  clock_type::time_point next_due_;
};

component_descriptor describe_file_source() {
  component_descriptor d;
  d.type = "file";
  d.role = component_role::source;
  d.summary = "Replays a capture file: raw bytes (binary, hex) for decoders, or records (jsonl).";
  d.output_for = [](const options& o) {
    return o.str("format") == "jsonl" ? data_kind::records : data_kind::bytes;
  };
  d.output = data_kind::bytes;
  d.blocking_io = true;
  d.options = {
      {.name = "path", .doc = "The capture file to replay.", .required = true},
      {.name = "format",
       .doc = "binary: raw bytes; hex: hex text (whitespace and # comments ignored); jsonl: "
              "records as the file sink writes them.",
       .default_value = "binary",
       .allowed = {"binary", "hex", "jsonl"}},
      {.name = "chunk_size_bytes",
       .type = option_type::integer,
       .doc = "Bytes per emitted chunk (binary, hex).",
       .default_value = "4096",
       .min = 1,
       .max = 16777216},
      {.name = "batch_size",
       .type = option_type::integer,
       .doc = "Most records per emitted batch (jsonl).",
       .default_value = "1000",
       .min = 1,
       .max = 1000000},
      {.name = "pacing",
       .doc = "as_fast_as_possible, realtime (jsonl: the records' own spacing), or a serial "
              "line speed such as '2400 baud' (8N1: 10 bits per byte).",
       .default_value = "as_fast_as_possible"},
      {.name = "loops",
       .type = option_type::integer,
       .doc = "Passes over the file; 0 repeats forever.",
       .default_value = "1",
       .min = 0},
      {.name = "progress",
       .type = option_type::boolean,
       .doc = "Draw a progress bar on stderr when it is a terminal.",
       .default_value = "true"},
  };
  d.check = [](const YAML::Node& node, const options& o, const std::string& file,
               diagnostics& diags) {
    if (auto p = file_io::parse_pacing(o.str("pacing")); std::holds_alternative<std::string>(p))
      diags.error("invalid pacing: " + std::get<std::string>(p),
                  location_of(node["pacing"] ? node["pacing"] : node, file),
                  "use as_fast_as_possible, realtime, or a line speed such as '2400 baud'");
  };
  d.make = [](const node_spec& s) { return std::make_unique<file_source>(s); };
  return d;
}

} // namespace
} // namespace wattline::sources

WATTLINE_REGISTER_COMPONENT(wattline::sources::describe_file_source)
