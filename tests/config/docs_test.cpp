// Generated documentation: describe text, Markdown reference, JSON Schema, DOT and Mermaid.

#include "engine/config/docs.hpp"
#include "engine/config/loader.hpp"
#include "tests/config/config_test_support.hpp"
#include "tests/support/support.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cstdlib>
#include <fstream>
#include <sys/wait.h>

namespace wattline {
namespace {

using test::fixed_env;
using test::render_all;

const component_registry& registry() {
  return component_registry::instance();
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

TEST(ConfigDocs, DescribeTextShowsEveryOptionFact) {
  auto text = describe_text(registry(), "mqtt");
  EXPECT_TRUE(contains(text, "sink mqtt\n  Publishes records to an MQTT broker.\n")) << text;
  EXPECT_TRUE(contains(text, "input: records, output: none")) << text;
  EXPECT_TRUE(contains(text, "broker    string, required\n")) << text;
  EXPECT_TRUE(contains(text, "qos       integer, default 0, range 0 to 2\n")) << text;
  EXPECT_TRUE(contains(text, "          MQTT quality of service.\n")) << text;
  EXPECT_TRUE(contains(text, "format    string, default json, one of: json | influx\n")) << text;
  EXPECT_TRUE(contains(text, "password  string, optional, secret\n")) << text;
  EXPECT_TRUE(contains(text, "common settings: type, inputs, supervision")) << text;
}

TEST(ConfigDocs, DescribeTextCoversAllRolesOfATypeName) {
  auto text = describe_text(registry(), "file");
  EXPECT_TRUE(contains(text, "source file\n")) << text;
  EXPECT_TRUE(contains(text, "sink file\n")) << text;
  EXPECT_TRUE(contains(text, "output: depends on options")) << text;
  EXPECT_EQ(describe_text(registry(), "no-such-type"), "");
}

TEST(ConfigDocs, DescribeOmitsHiddenComponents) {
  EXPECT_FALSE(contains(describe_text(registry()), "capture"));
  EXPECT_EQ(describe_text(registry(), "capture"), "");
  EXPECT_FALSE(contains(describe_markdown(registry()), "capture"));
  auto all = describe_text(registry());
  EXPECT_TRUE(contains(all, "source generator\n"));
  EXPECT_TRUE(contains(all, "transform dlms\n"));
  EXPECT_TRUE(contains(all, "sink influxdb\n"));
}

TEST(ConfigDocs, MarkdownHasOneTablePerComponent) {
  auto md = describe_markdown(registry());
  EXPECT_TRUE(contains(md, "## Sources\n\n### `file` (source)\n")) << md;
  EXPECT_TRUE(contains(md, "## Transforms\n")) << md;
  EXPECT_TRUE(contains(md, "## Sinks\n")) << md;
  EXPECT_LT(md.find("## Sources"), md.find("## Transforms"));
  EXPECT_LT(md.find("## Transforms"), md.find("## Sinks"));
  EXPECT_TRUE(contains(md, "| `qos` | integer | `0` | MQTT quality of service. Range: 0 to 2. |"))
      << md;
  EXPECT_TRUE(contains(md, "| `broker` | string | required | Broker URL, tcp://host:port. |"))
      << md;
  EXPECT_TRUE(contains(md, "| `token` | string |  | API token. **Secret**: never logged. |")) << md;
  EXPECT_TRUE(contains(md, "One of `json`, `influx`.")) << md;
}

TEST(ConfigDocs, JsonSchemaDescribesComponentsPerType) {
  auto schema = nlohmann::json::parse(json_schema(registry()));
  EXPECT_EQ(schema["$schema"], "http://json-schema.org/draft-07/schema#");
  EXPECT_EQ(schema["additionalProperties"], false);
  const auto& defs = schema["definitions"];
  // The sink map dispatches on `type` with if/then.
  auto sink = defs["sink"];
  EXPECT_EQ(sink["properties"]["type"]["enum"], (nlohmann::json{"file", "influxdb", "mqtt"}));
  bool found = false;
  for (const auto& branch : sink["allOf"])
    if (branch["if"]["properties"]["type"]["const"] == "mqtt") {
      EXPECT_EQ(branch["then"]["$ref"], "#/definitions/sink_mqtt");
      found = true;
    }
  EXPECT_TRUE(found);
  const auto& mqtt = defs["sink_mqtt"];
  EXPECT_EQ(mqtt["additionalProperties"], false);
  EXPECT_EQ(mqtt["required"], (nlohmann::json{"type", "inputs", "broker", "topic"}));
  const auto& props = mqtt["properties"];
  EXPECT_EQ(props["type"]["const"], "mqtt");
  EXPECT_EQ(props["inputs"]["$ref"], "#/definitions/inputs");
  EXPECT_EQ(props["supervision"]["$ref"], "#/definitions/supervision");
  EXPECT_EQ(props["broker"]["type"], "string");
  EXPECT_EQ(props["broker"]["description"], "Broker URL, tcp://host:port.");
  // Typed options also accept a ${...} reference.
  EXPECT_EQ(props["qos"]["default"], 0);
  EXPECT_EQ(props["qos"]["anyOf"][0]["type"], "integer");
  EXPECT_EQ(props["qos"]["anyOf"][0]["minimum"], 0);
  EXPECT_EQ(props["qos"]["anyOf"][0]["maximum"], 2);
  EXPECT_EQ(props["qos"]["anyOf"][1]["$ref"], "#/definitions/substitution");
  EXPECT_EQ(props["format"]["anyOf"][0]["enum"], (nlohmann::json{"json", "influx"}));
  EXPECT_EQ(props["format"]["default"], "json");
  EXPECT_EQ(props["retain"]["default"], false);
  EXPECT_EQ(props["password"]["writeOnly"], true);
  // Sources take no inputs.
  EXPECT_FALSE(defs["source_file"]["properties"].contains("inputs"));
  EXPECT_EQ(defs["source_generator"]["properties"]["fields"]["default"],
            (nlohmann::json{"power", "energy"}));
  EXPECT_EQ(defs["sink_influxdb"]["properties"]["timeout_secs"]["default"], 5.0);
}

TEST(ConfigDocs, JsonSchemaCoversEngineSupervisionAndTopLevel) {
  auto schema = nlohmann::json::parse(json_schema(registry()));
  const auto& props = schema["properties"];
  for (const char* k : {"engine", "sources", "transforms", "sinks"})
    EXPECT_TRUE(props.contains(k)) << k;
  EXPECT_EQ(props["sinks"]["additionalProperties"]["$ref"], "#/definitions/sink");
  const auto& defs = schema["definitions"];
  EXPECT_EQ(defs["engine"]["properties"]["log_level"]["anyOf"][0]["enum"],
            (nlohmann::json{"trace", "debug", "info", "warning", "error"}));
  EXPECT_EQ(defs["engine"]["additionalProperties"], false);
  EXPECT_EQ(defs["supervision"]["properties"]["on_failure"]["default"], "restart");
  EXPECT_EQ(defs["supervision"]["properties"]["max_restarts"]["default"], 5);
  EXPECT_EQ(defs["inputs"]["anyOf"][1]["type"], "array");
}

TEST(ConfigDocs, JsonSchemaOmitsHiddenComponents) {
  auto text = json_schema(registry());
  EXPECT_FALSE(contains(text, "capture"));
  auto schema = nlohmann::json::parse(text);
  EXPECT_FALSE(schema["definitions"].contains("sink_capture"));
}

TEST(ConfigDocs, JsonSchemaWorksWithAStandardValidator) {
  // Cross-check with python3-jsonschema, the reference draft-07 implementation, when present.
  auto python = test::find_program("python3");
  if (python.empty())
    GTEST_SKIP() << "python3 not found";
  test::temp_dir dir;
  std::ofstream(dir / "schema.json") << json_schema(registry());
  std::ofstream(dir / "valid.yaml") << R"(
engine: { log_level: debug, status_address: "off", shutdown_timeout_secs: 5 }
sources:
  meter: { type: serial, device: /dev/ttyUSB0, baud: 9600, supervision: { on_failure: stop } }
  gen: { type: generator, fields: power, count: "${COUNT}" }
transforms:
  decode: { type: dlms, inputs: meter, key: "${file:key.txt}", strict: false }
sinks:
  broker: { type: mqtt, inputs: [decode, gen], broker: tcp://b, topic: t, qos: 1, format: influx }
  db: { type: influxdb, inputs: decode, url: u, bucket: b, timeout_secs: 0.5, tags: { a: b } }
)";
  std::ofstream(dir / "invalid.yaml") << R"(
sources:
  unknown_option: { type: serial, device: d, devic: x }
  missing_required: { type: serial }
  out_of_range: { type: serial, device: d, baud: 1 }
  unknown_type: { type: nope }
  hidden_type: { type: capture }
  with_inputs: { type: generator, inputs: [x] }
  bad_list: { type: generator, fields: [current] }
sinks:
  no_inputs: { type: file, path: p }
  bad_enum: { type: mqtt, inputs: x, broker: b, topic: t, format: xml }
  bad_bool: { type: mqtt, inputs: x, broker: b, topic: t, retain: "maybe" }
  bad_supervision: { type: file, inputs: x, path: p, supervision: { on_failure: explode } }
)";
  auto cmd = python + " " + std::string(WATTLINE_SOURCE_DIR) + "/tests/config/check_schema.py " +
             (dir / "schema.json").string() + " " + (dir / "valid.yaml").string() + " " +
             (dir / "invalid.yaml").string();
  int status = std::system(cmd.c_str());
  ASSERT_TRUE(WIFEXITED(status));
  if (WEXITSTATUS(status) == 77)
    GTEST_SKIP() << "python3-jsonschema or python3-yaml not installed";
  EXPECT_EQ(WEXITSTATUS(status), 0) << "see the output above";
}

pipeline_spec sample() {
  diagnostics diags;
  auto spec = load_pipeline_texts({{"mem.yaml", R"(
sources:
  meter: { type: serial, device: d }
transforms:
  decode: { type: dlms, inputs: meter }
sinks:
  broker: { type: mqtt, inputs: decode, broker: b, topic: t }
  db: { type: influxdb, inputs: decode, url: u, bucket: b }
)"}},
                                  diags, fixed_env({}));
  EXPECT_TRUE(spec) << render_all(diags);
  return spec ? *spec : pipeline_spec{};
}

TEST(ConfigDocs, DotGraphLabelsNodesShapesRolesAndEdgeKinds) {
  EXPECT_EQ(graph_dot(sample()), R"(digraph wattline {
  rankdir=LR;
  node [fontname="sans-serif"];
  "meter" [label="meter\nserial", shape=invhouse];
  "decode" [label="decode\ndlms", shape=box];
  "broker" [label="broker\nmqtt", shape=house];
  "db" [label="db\ninfluxdb", shape=house];
  "meter" -> "decode" [label="bytes"];
  "decode" -> "broker" [label="records"];
  "decode" -> "db" [label="records"];
}
)");
}

TEST(ConfigDocs, MermaidGraphShapesRolesAndLabelsEdges) {
  EXPECT_EQ(graph_mermaid(sample()), R"(flowchart LR
  n0(["meter<br/>serial"])
  n1["decode<br/>dlms"]
  n2[("broker<br/>mqtt")]
  n3[("db<br/>influxdb")]
  n0 -->|bytes| n1
  n1 -->|records| n2
  n1 -->|records| n3
)");
}

} // namespace
} // namespace wattline
