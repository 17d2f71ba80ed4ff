#include "sinks/buffer/buffer_config.hpp"

#include "engine/yaml_location.hpp"

namespace wattline::sink_buffer {

option_spec buffer_option_spec() {
  return {.name = "buffer",
          .type = option_type::any,
          .doc = "Per-sink buffer: { type: memory | disk, max_bytes: 67108864, when_full: block | "
                 "drop_oldest, fsync: false }. disk is a write-ahead log in "
                 "<data_dir>/buffers/<sink id>/ that survives restarts and kill -9. block holds "
                 "the input (and so slows the sources and every sink they feed); drop_oldest or "
                 "disk keep other sinks flowing while this one is down."};
}

option_spec drain_timeout_option_spec() {
  return {.name = "drain_timeout_secs",
          .type = option_type::integer,
          .doc = "At shutdown, keep delivering buffered records this long (keep it below "
                 "engine.shutdown_timeout_secs); a disk buffer keeps the rest for the next start.",
          .default_value = "5",
          .min = 0,
          .max = 3600};
}

void check_buffer_option(const YAML::Node& node, const std::string& file, diagnostics& diags) {
  auto b = node["buffer"];
  if (!b)
    return;
  if (!b.IsMap()) {
    diags.error("option 'buffer' must be a map", location_of(b, file),
                "e.g. buffer: { type: disk, max_bytes: 104857600, when_full: drop_oldest }");
    return;
  }
  for (const auto& kv : b) {
    const auto key = kv.first.Scalar();
    const auto& v = kv.second;
    auto where = location_of(kv.first, file);
    if (!v.IsScalar()) {
      diags.error("buffer option '" + key + "' must be a scalar", location_of(v, file));
      continue;
    }
    if (key == "type") {
      if (!parse_buffer_type(v.Scalar()))
        diags.error("buffer type must be 'memory' or 'disk', not '" + v.Scalar() + "'",
                    location_of(v, file));
    } else if (key == "when_full") {
      if (!parse_full_policy(v.Scalar()))
        diags.error("buffer when_full must be 'block' or 'drop_oldest', not '" + v.Scalar() + "'",
                    location_of(v, file));
    } else if (key == "max_bytes") {
      int64_t n = 0;
      if (!YAML::convert<int64_t>::decode(v, n) || n < 1024)
        diags.error("buffer max_bytes must be an integer of at least 1024", location_of(v, file));
    } else if (key == "fsync") {
      bool f = false;
      if (!YAML::convert<bool>::decode(v, f))
        diags.error("buffer fsync must be true or false", location_of(v, file));
    } else {
      diags.error("unknown buffer option '" + key + "'", where,
                  "valid: type, max_bytes, when_full, fsync");
    }
  }
}

buffer_options buffer_options_from(const YAML::Node& node, const std::filesystem::path& data_dir,
                                   const std::string& node_id) {
  buffer_options s;
  auto b = node["buffer"];
  if (b && b.IsMap()) {
    if (auto t = b["type"]; t && t.IsScalar())
      s.type = parse_buffer_type(t.Scalar()).value_or(s.type);
    if (auto m = b["max_bytes"]; m && m.IsScalar())
      s.max_bytes = m.as<uint64_t>(s.max_bytes);
    if (auto w = b["when_full"]; w && w.IsScalar())
      s.when_full = parse_full_policy(w.Scalar()).value_or(s.when_full);
    if (auto f = b["fsync"]; f && f.IsScalar())
      s.fsync = f.as<bool>(false);
  }
  if (s.type == buffer_type::disk)
    s.dir = data_dir / "buffers" / node_id;
  return s;
}

std::unique_ptr<record_buffer> open_and_report(const buffer_options& opts, node_context& ctx) {
  auto buffer = open_buffer(opts);
  const auto& rec = buffer->recovered();
  if (rec.records > 0)
    ctx.log(log_level::info, "disk buffer " + opts.dir.string() + ": " +
                                 std::to_string(rec.records) +
                                 " records from before the last stop will be delivered");
  if (rec.truncated_bytes > 0 || rec.corrupt_entries > 0)
    ctx.error("buffer_corrupt", "disk buffer " + opts.dir.string() + ": cut " +
                                    std::to_string(rec.truncated_bytes) +
                                    " bytes of a torn or corrupt tail, skipped " +
                                    std::to_string(rec.corrupt_entries) + " corrupt entries");
  return buffer;
}

bool append_or_hold(record_buffer& buffer, std::vector<record>& records, bool& blocked,
                    node_context& ctx) {
  auto res = buffer.append(records);
  if (!res.accepted) {
    if (!blocked)
      ctx.set_detail("buffer full (" + std::to_string(buffer.size()) + " records), holding input");
    blocked = true;
    return false;
  }
  if (res.dropped > 0)
    ctx.dropped(res.dropped, "buffer full, oldest records dropped (when_full: drop_oldest)");
  return true;
}

void report_undelivered(const record_buffer& buffer, buffer_type type, node_context& ctx) {
  auto left = buffer.size();
  if (left == 0)
    return;
  if (type == buffer_type::disk) {
    ctx.log(log_level::warning, std::to_string(left) +
                                    " records not delivered within drain_timeout_secs; kept in "
                                    "the disk buffer for the next start");
    return;
  }
  ctx.log(log_level::error, std::to_string(left) +
                                " records not delivered within drain_timeout_secs are lost "
                                "(memory buffer; use buffer type disk to keep them)");
  ctx.dropped(left, "not delivered within drain_timeout_secs (memory buffer)");
}

} // namespace wattline::sink_buffer
