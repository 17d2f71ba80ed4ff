// The graph checks and the topological order of the planner.

#include "engine/config/loader.hpp"
#include "engine/config/planner.hpp"
#include "tests/config/config_test_support.hpp"

#include <gtest/gtest.h>

namespace wattline {
namespace {

using test::count;
using test::fixed_env;
using test::render_all;

std::optional<pipeline_spec> load(const std::string& yaml, diagnostics& diags) {
  return load_pipeline_texts({{"mem.yaml", yaml}}, diags, fixed_env({}));
}

std::vector<std::string> ids(const pipeline_spec& spec) {
  std::vector<std::string> out;
  for (const auto& n : spec.nodes)
    out.push_back(n.id);
  return out;
}

TEST(ConfigPlanner, OrdersProducersBeforeConsumers) {
  diagnostics diags;
  // Declared consumers first on purpose.
  auto spec = load(R"(
sinks:
  out: { type: file, inputs: [only], path: p }
transforms:
  only: { type: filter, inputs: [decoded], field: kind }
  decoded: { type: dlms, inputs: [meter] }
sources:
  meter: { type: serial, device: d }
)",
                   diags);
  ASSERT_TRUE(spec) << render_all(diags);
  EXPECT_EQ(ids(*spec), (std::vector<std::string>{"meter", "decoded", "only", "out"}));
}

TEST(ConfigPlanner, KeepsDeclarationOrderAmongIndependentNodes) {
  diagnostics diags;
  auto spec = load(R"(
sources:
  b: { type: generator }
  a: { type: generator }
sinks:
  y: { type: file, inputs: b, path: p }
  x: { type: file, inputs: a, path: p }
)",
                   diags);
  ASSERT_TRUE(spec) << render_all(diags);
  EXPECT_EQ(ids(*spec), (std::vector<std::string>{"b", "a", "y", "x"}));
}

TEST(ConfigPlanner, SupportsFanInAndFanOut) {
  diagnostics diags;
  auto spec = load(R"(
sources:
  meter1: { type: generator }
  meter2: { type: generator }
transforms:
  merged: { type: filter, inputs: [meter1, meter2], field: kind }
sinks:
  broker: { type: mqtt, inputs: merged, broker: b, topic: t }
  db: { type: influxdb, inputs: [merged, meter2], url: u, bucket: b }
)",
                   diags);
  ASSERT_TRUE(spec) << render_all(diags);
  EXPECT_TRUE(diags.empty()) << render_all(diags);
  EXPECT_EQ(ids(*spec), (std::vector<std::string>{"meter1", "meter2", "merged", "broker", "db"}));
  EXPECT_EQ(spec->find("merged")->inputs, (std::vector<std::string>{"meter1", "meter2"}));
  EXPECT_EQ(spec->find("db")->inputs, (std::vector<std::string>{"merged", "meter2"}));
}

TEST(ConfigPlanner, ResolvesEdgesAcrossFiles) {
  diagnostics diags;
  auto spec =
      load_pipeline_texts({{"sinks.yaml", "sinks:\n  out: { type: file, inputs: dec, path: p }\n"},
                           {"decode.yaml", "transforms:\n  dec: { type: dlms, inputs: meter }\n"},
                           {"meters.yaml", "sources:\n  meter: { type: serial, device: d }\n"}},
                          diags, fixed_env({}));
  ASSERT_TRUE(spec) << render_all(diags);
  EXPECT_EQ(ids(*spec), (std::vector<std::string>{"meter", "dec", "out"}));
  EXPECT_EQ(spec->find("out")->input_locations[0].file, "sinks.yaml");
}

TEST(ConfigPlanner, UnusedOutputIsAWarningNotAnError) {
  diagnostics diags;
  auto spec = load(R"(
sources:
  g: { type: generator }
  spare: { type: generator }
transforms:
  dangling: { type: filter, inputs: g, field: f }
sinks:
  f: { type: file, inputs: g, path: p }
)",
                   diags);
  ASSERT_TRUE(spec) << render_all(diags);
  ASSERT_EQ(count(diags, severity::warning), 2u) << render_all(diags);
  EXPECT_EQ(diags.items()[0].message, "output of source 'spare' is not used");
  EXPECT_EQ(diags.items()[1].message, "output of transform 'dangling' is not used");
}

TEST(ConfigPlanner, ReportsCyclePath) {
  diagnostics diags;
  EXPECT_FALSE(load(R"(
sources:
  g: { type: generator }
transforms:
  a: { type: filter, inputs: [g, c], field: f }
  b: { type: filter, inputs: a, field: f }
  c: { type: filter, inputs: b, field: f }
sinks:
  out: { type: file, inputs: c, path: p }
)",
                    diags));
  ASSERT_EQ(count(diags, severity::error), 1u) << render_all(diags);
  EXPECT_EQ(diags.items()[0].message, "cycle in the pipeline graph: a -> b -> c -> a");
  EXPECT_EQ(diags.items()[0].where, (source_location{"mem.yaml", 5, 34}));
}

TEST(ConfigPlanner, ReportsSelfLoop) {
  diagnostics diags;
  EXPECT_FALSE(load("sources:\n  g: { type: generator }\ntransforms:\n  a: { type: filter, "
                    "inputs: [g, a], field: f }\nsinks:\n  o: { type: file, inputs: a, path: p }\n",
                    diags));
  ASSERT_EQ(count(diags, severity::error), 1u) << render_all(diags);
  EXPECT_EQ(diags.items()[0].message, "transform 'a' lists itself as an input");
}

TEST(ConfigPlanner, InputNamingASinkIsAnError) {
  diagnostics diags;
  EXPECT_FALSE(load("sources:\n  g: { type: generator }\nsinks:\n  a: { type: file, inputs: g, "
                    "path: p }\n  b: { type: file, inputs: a, path: p }\n",
                    diags));
  EXPECT_NE(render_all(diags).find("input 'a' of sink 'b' is a sink; sinks have no output"),
            std::string::npos)
      << render_all(diags);
}

TEST(ConfigPlanner, KindMismatchSuggestsARegisteredDecoder) {
  diagnostics diags;
  EXPECT_FALSE(load("sources:\n  meter: { type: serial, device: d }\nsinks:\n  out: { type: "
                    "mqtt, inputs: meter, broker: b, topic: t }\n",
                    diags));
  ASSERT_EQ(diags.items().size(), 1u) << render_all(diags);
  const auto& d = diags.items()[0];
  EXPECT_EQ(d.message, "sink 'out' (type 'mqtt') takes records, but its input 'meter' (source "
                       "type 'serial') produces bytes");
  EXPECT_NE(d.hint.find("'dlms' transform with 'inputs: [meter]'"), std::string::npos) << d.hint;
}

TEST(ConfigPlanner, RecordsIntoABytesConsumerIsAMismatch) {
  diagnostics diags;
  EXPECT_FALSE(load("sources:\n  g: { type: generator }\ntransforms:\n  d: { type: dlms, inputs: "
                    "g }\nsinks:\n  o: { type: file, inputs: d, path: p }\n",
                    diags));
  ASSERT_EQ(diags.items().size(), 1u) << render_all(diags);
  EXPECT_EQ(diags.items()[0].hint, "connect 'd' to a component that produces bytes");
}

TEST(ConfigPlanner, RunsOnAHandBuiltSpec) {
  pipeline_spec spec;
  node_spec src;
  src.id = "s";
  src.role = component_role::source;
  src.output_kind = data_kind::records;
  node_spec sink;
  sink.id = "k";
  sink.role = component_role::sink;
  sink.input_kind = data_kind::records;
  sink.inputs = {"s"};
  spec.nodes = {sink, src};
  diagnostics diags;
  EXPECT_TRUE(plan_pipelines(spec, diags));
  EXPECT_EQ(ids(spec), (std::vector<std::string>{"s", "k"}));
  // Without locations, errors point at the node.
  spec.nodes[1].inputs = {"x"};
  spec.nodes[1].where = {"f.yaml", 3, 3};
  EXPECT_FALSE(plan_pipelines(spec, diags));
  EXPECT_EQ(diags.items().back().where, (source_location{"f.yaml", 3, 3}));
}

TEST(ConfigPlanner, LeavesOrderAloneWhenCyclic) {
  diagnostics diags;
  pipeline_spec spec;
  for (const char* id : {"b", "a"}) {
    node_spec n;
    n.id = id;
    n.role = component_role::transform;
    n.inputs = {std::string(id) == "a" ? "b" : "a"};
    spec.nodes.push_back(n);
  }
  EXPECT_FALSE(plan_pipelines(spec, diags));
  EXPECT_EQ(ids(spec), (std::vector<std::string>{"b", "a"}));
  EXPECT_EQ(diags.items()[0].message, "cycle in the pipeline graph: b -> a -> b");
}

} // namespace
} // namespace wattline
