// Fake component descriptors for the config tests. The real components live in actors/ and
// sinks/ and are not linked into this binary, so these stand in for them: a file-like source
// whose output kind depends on an option, a bytes source, a decoder, a filter, and sinks with
// required, enum, range and secret options.

#include "engine/component.hpp"
#include "engine/yaml_location.hpp"

namespace wattline::test {
namespace {

component_descriptor file_source() {
  return {
      .type = "file",
      .role = component_role::source,
      .summary = "Reads records or raw bytes from a file.",
      .output = data_kind::records,
      .output_for =
          [](const options& o) {
            return o.str("format") == "raw" ? data_kind::bytes : data_kind::records;
          },
      .options =
          {
              {.name = "path", .doc = "File to read.", .required = true},
              {.name = "format",
               .doc = "How the file is read.",
               .default_value = "jsonl",
               .allowed = {"jsonl", "raw"}},
              {.name = "poll_interval_ms",
               .type = option_type::integer,
               .doc = "How often to look for new data, in milliseconds.",
               .default_value = "1000",
               .min = 1},
          },
  };
}

component_descriptor serial_source() {
  return {
      .type = "serial",
      .role = component_role::source,
      .summary = "Reads raw bytes from a serial port.",
      .output = data_kind::bytes,
      .options =
          {
              {.name = "device", .doc = "Serial device.", .required = true},
              {.name = "baud",
               .type = option_type::integer,
               .doc = "Line speed.",
               .default_value = "2400",
               .min = 300,
               .max = 115200},
          },
  };
}

component_descriptor generator_source() {
  return {
      .type = "generator",
      .role = component_role::source,
      .summary = "Emits synthetic records.",
      .output = data_kind::records,
      .options =
          {
              {.name = "interval_ms",
               .type = option_type::integer,
               .doc = "Delay between records, in milliseconds.",
               .default_value = "1000",
               .min = 1},
              {.name = "count",
               .type = option_type::integer,
               .doc = "Stop after this many records.",
               .min = 0},
              {.name = "fields",
               .type = option_type::string_list,
               .doc = "Fields to emit.",
               .default_value = "[power, energy]",
               .allowed = {"power", "energy", "voltage"}},
          },
  };
}

component_descriptor dlms_transform() {
  return {
      .type = "dlms",
      .role = component_role::transform,
      .summary = "Decodes DLMS frames into records.",
      .input = data_kind::bytes,
      .output = data_kind::records,
      .options =
          {
              {.name = "key", .doc = "AES-128 key in hex.", .secret = true},
              {.name = "strict",
               .type = option_type::boolean,
               .doc = "Reject frames with bad checksums.",
               .default_value = "true"},
          },
  };
}

component_descriptor filter_transform() {
  return {
      .type = "filter",
      .role = component_role::transform,
      .summary = "Keeps records whose field equals a value.",
      .input = data_kind::records,
      .output = data_kind::records,
      .options =
          {
              {.name = "field", .doc = "Field to compare.", .required = true},
              {.name = "equals", .doc = "Value the field must have."},
          },
  };
}

component_descriptor mqtt_sink() {
  return {
      .type = "mqtt",
      .role = component_role::sink,
      .summary = "Publishes records to an MQTT broker.",
      .input = data_kind::records,
      .options =
          {
              {.name = "broker", .doc = "Broker URL, tcp://host:port.", .required = true},
              {.name = "topic", .doc = "Topic to publish to.", .required = true},
              {.name = "qos",
               .type = option_type::integer,
               .doc = "MQTT quality of service.",
               .default_value = "0",
               .min = 0,
               .max = 2},
              {.name = "retain",
               .type = option_type::boolean,
               .doc = "Publish retained messages.",
               .default_value = "false"},
              {.name = "password", .doc = "Broker password.", .secret = true},
              {.name = "format",
               .doc = "Payload encoding.",
               .default_value = "json",
               .allowed = {"json", "influx"}},
          },
  };
}

component_descriptor influxdb_sink() {
  return {
      .type = "influxdb",
      .role = component_role::sink,
      .summary = "Writes records to InfluxDB 2.",
      .input = data_kind::records,
      .options =
          {
              {.name = "url", .doc = "Server URL.", .required = true},
              {.name = "bucket", .doc = "Bucket to write to.", .required = true},
              {.name = "token", .doc = "API token.", .secret = true},
              {.name = "batch_size",
               .type = option_type::integer,
               .doc = "Records per write.",
               .default_value = "5000",
               .min = 1,
               .max = 100000},
              {.name = "timeout_secs",
               .type = option_type::number,
               .doc = "Request timeout, in seconds.",
               .default_value = "5",
               .min = 0.1},
              {.name = "tags",
               .type = option_type::any,
               .doc = "Extra tags: a map of tag name to value."},
          },
      // Nested map checked by the component itself, at exact locations.
      .check =
          [](const YAML::Node& node, const options&, const std::string& file, diagnostics& diags) {
            auto tags = node["tags"];
            if (!tags)
              return;
            if (!tags.IsMap()) {
              diags.error("'tags' must be a map of tag name to value", location_of(tags, file));
              return;
            }
            for (auto it = tags.begin(); it != tags.end(); ++it)
              if (!it->second.IsScalar())
                diags.error("tag '" + it->first.Scalar() + "' must have a plain value",
                            location_of(it->second, file));
          },
  };
}

component_descriptor file_sink() {
  return {
      .type = "file",
      .role = component_role::sink,
      .summary = "Appends records to a file as JSON lines.",
      .input = data_kind::records,
      .options = {{.name = "path", .doc = "File to append to.", .required = true}},
  };
}

component_descriptor capture_sink() {
  return {
      .type = "capture",
      .role = component_role::sink,
      .summary = "Keeps records in memory (tests only).",
      .input = data_kind::records,
      .hidden = true,
  };
}

[[maybe_unused]] const bool registered = [] {
  auto& r = component_registry::instance();
  for (auto d : {file_source(), serial_source(), generator_source(), dlms_transform(),
                 filter_transform(), mqtt_sink(), influxdb_sink(), file_sink(), capture_sink()})
    r.add(std::move(d));
  return true;
}();

} // namespace
} // namespace wattline::test
